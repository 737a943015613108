//! `uis-gen`: everything generated from the binaries' clap definitions, so
//! completions, man pages and the CLI reference cannot drift from the flags
//! that parse the arguments:
//!
//! - `completions/bash/<bin>`, `completions/zsh/_<bin>`,
//!   `completions/fish/<bin>.fish` (clap_complete; `uis`'s own completions
//!   know every suite command as `uis db creds --flag`);
//! - `man/<bin>.1` (clap_mangen);
//! - `docs/reference/cli.md`: the full `--help` of every binary, in the
//!   order of [`BINARIES`].
//!
//! Output never depends on the machine: help is rendered at a fixed width,
//! and every `env` value is hidden. Not for anything at run time: no binary
//! depends on this crate.

use clap::Command;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A binary crate's `command()`.
pub type Definition = fn() -> Command;

/// Every binary of the suite: the one place a new binary is added (plus its
/// line in this crate's Cargo.toml). `uis` first, then by name.
pub const BINARIES: &[(&str, Definition)] = &[
    ("uis", uis::command),
    ("uis-db-configure", uis_db_configure::command),
    ("uis-db-creds", uis_db_creds::command),
    ("uis-db-doctor", uis_db_doctor::command),
    ("uis-db-psql", uis_db_psql::command),
    ("uis-db-seed", uis_db_seed::command),
    ("uis-db-tunnel", uis_db_tunnel::command),
    ("uis-jwt-mint", uis_jwt_mint::command),
    ("uis-onboard", uis_onboard::command),
    ("uis-postgrest-deploy", uis_postgrest_deploy::command),
];

/// The width help is rendered at for the reference (a terminal's 100).
pub const HELP_WIDTH: usize = 100;

/// The directories whose every file is generated: a file there that
/// [`generate`] does not produce is stale.
pub const GENERATED_DIRS: &[&str] = &[
    "completions/bash",
    "completions/zsh",
    "completions/fish",
    "man",
];

/// A completion file's name for a binary's name.
type FileName = fn(&str) -> String;

/// The shells completions are written for: (shell, directory, file name).
const SHELLS: &[(clap_complete::Shell, &str, FileName)] = &[
    (clap_complete::Shell::Bash, "completions/bash", |b| {
        b.to_string()
    }),
    (clap_complete::Shell::Zsh, "completions/zsh", |b| {
        format!("_{b}")
    }),
    (clap_complete::Shell::Fish, "completions/fish", |b| {
        format!("{b}.fish")
    }),
];

/// A binary's definition, made independent of the machine: env values
/// hidden, help at [`HELP_WIDTH`] columns, all the way down.
pub fn stable(cmd: Command) -> Command {
    let cmd = cmd
        .term_width(HELP_WIDTH)
        .max_term_width(HELP_WIDTH)
        .mut_args(|a| a.hide_env_values(true));
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    names
        .iter()
        .fold(cmd, |cmd, name| cmd.mut_subcommand(name, stable))
}

/// `uis` as its man page and reference show it: the dispatcher with each
/// suite binary listed as a command, named `sep`-joined (`db creds` for the
/// reference, `db-creds` for the man page, which clap_mangen shows as
/// `uis-db-creds(1)`, the binary's own page).
pub fn uis_listed(sep: &str) -> Command {
    let mut root = stable(uis::command()).mut_subcommand("help", |h| h.hide(true));
    for (name, def) in BINARIES {
        let Some(words) = uis::program_words(name) else {
            continue;
        };
        let about = def().get_about().cloned().unwrap_or_default();
        let listed = Command::new(&*words.join(sep).leak()).about(about);
        root = root.subcommand(listed);
    }
    root
}

/// `uis` as its completions see it: the dispatcher with every suite binary
/// nested under its words (`uis db creds` is `uis-db-creds`'s definition).
pub fn uis_tree() -> Command {
    let mut root = stable(uis::command());
    for (name, def) in BINARIES {
        let Some(words) = uis::program_words(name) else {
            continue;
        };
        let (last, path) = words.split_last().expect("a program has words");
        // A generator runs once: leaking the few names clap needs as 'static is fine.
        let leaf = with_help_flag(stable(def()).name(&*last.clone().leak()));
        root = nest(root, path, leaf, "uis");
    }
    root
}

/// `cmd` with its `-h`/`--help` as an explicit argument. `uis` defines its
/// own `--help` and so disables clap's, a setting clap makes global: nested
/// under `uis`, a binary would lose its `--help` from the completions
/// (`uis db creds --<TAB>`), though `uis db creds --help` runs it.
fn with_help_flag(cmd: Command) -> Command {
    let cmd = if cmd.get_arguments().any(|a| a.get_long() == Some("help")) {
        cmd
    } else {
        cmd.disable_help_flag(true).arg(
            clap::Arg::new("help")
                .short('h')
                .long("help")
                .action(clap::ArgAction::Help)
                .help("Print help"),
        )
    };
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    names
        .iter()
        .fold(cmd, |cmd, name| cmd.mut_subcommand(name, with_help_flag))
}

fn nest(parent: Command, path: &[String], leaf: Command, prefix: &str) -> Command {
    let Some((first, rest)) = path.split_first() else {
        return parent.subcommand(leaf);
    };
    let group = format!("{prefix}-{first}");
    if parent.find_subcommand(first).is_some() {
        parent.mut_subcommand(first, |g| nest(g, rest, leaf, &group))
    } else {
        let g = Command::new(&*first.clone().leak())
            .about(format!("The {group}-* commands"))
            .subcommand_required(true);
        parent.subcommand(nest(g, rest, leaf, &group))
    }
}

/// Every generated file, by path relative to the workspace root.
pub fn generate() -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut reference = String::from(REFERENCE_HEAD);
    for (name, def) in BINARIES {
        let cmd = stable(def()).bin_name(*name);
        let (for_man, for_reference) = if *name == "uis" {
            (
                uis_listed("-").bin_name("uis"),
                uis_listed(" ").bin_name("uis"),
            )
        } else {
            (cmd.clone(), cmd.clone())
        };
        // Completions: `uis` completes the suite's commands under it.
        let for_completion = if *name == "uis" {
            uis_tree().bin_name("uis")
        } else {
            cmd.clone()
        };
        for (shell, dir, file) in SHELLS {
            let mut buf = Vec::new();
            clap_complete::generate(*shell, &mut for_completion.clone(), *name, &mut buf);
            files.insert(Path::new(dir).join(file(name)), buf);
        }
        let mut man = Vec::new();
        clap_mangen::Man::new(for_man)
            .render(&mut man)
            .expect("render a man page into memory");
        files.insert(Path::new("man").join(format!("{name}.1")), man);
        reference.push_str(&reference_section(name, for_reference));
    }
    files.insert(
        PathBuf::from("docs/reference/cli.md"),
        reference.into_bytes(),
    );
    files
}

const REFERENCE_HEAD: &str = "# CLI reference

<!-- Generated by `cargo run -p uis-gen` from the binaries' clap definitions. Do not edit: a test fails when this file is stale. -->

The full `--help` of every binary of the suite. Each binary `uis-a-b` also runs
as `uis a b` (the `uis` dispatcher) and as `kubectl uis-a-b` (the kubectl plugin
link `kubectl-uis_a_b` that `install.sh` makes). The same text is in the man
pages (`man uis-db-creds`); shell completions come from the same definitions.
";

fn reference_section(name: &str, mut cmd: Command) -> String {
    let help = cmd.render_long_help().to_string();
    let body: Vec<&str> = help.lines().map(str::trim_end).collect();
    format!(
        "\n## {name}\n\n```text\n{}\n```\n",
        body.join("\n").trim_end()
    )
}

/// A file that differs from what [`generate`] makes.
#[derive(Debug, PartialEq, Eq)]
pub enum Stale {
    Missing(PathBuf),
    Differs(PathBuf),
    /// In a generated directory but no longer generated.
    Extra(PathBuf),
}

impl std::fmt::Display for Stale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stale::Missing(p) => write!(f, "{} (missing)", p.display()),
            Stale::Differs(p) => write!(f, "{} (differs)", p.display()),
            Stale::Extra(p) => write!(f, "{} (no longer generated)", p.display()),
        }
    }
}

/// The files under `root` that differ from `files`.
pub fn stale(root: &Path, files: &BTreeMap<PathBuf, Vec<u8>>) -> std::io::Result<Vec<Stale>> {
    let mut out = Vec::new();
    for (rel, content) in files {
        match std::fs::read(root.join(rel)) {
            Ok(existing) if existing == *content => {}
            Ok(_) => out.push(Stale::Differs(rel.clone())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                out.push(Stale::Missing(rel.clone()))
            }
            Err(e) => return Err(e),
        }
    }
    for dir in GENERATED_DIRS {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        let mut extra: Vec<PathBuf> = entries
            .flatten()
            .map(|e| Path::new(dir).join(e.file_name()))
            .filter(|rel| !files.contains_key(rel))
            .collect();
        extra.sort();
        out.extend(extra.into_iter().map(Stale::Extra));
    }
    Ok(out)
}

/// Makes `root` match `files`: writes what is missing or differs, removes
/// what is no longer generated. Returns what it changed.
pub fn write(root: &Path, files: &BTreeMap<PathBuf, Vec<u8>>) -> std::io::Result<Vec<Stale>> {
    let changes = stale(root, files)?;
    for change in &changes {
        match change {
            Stale::Missing(rel) | Stale::Differs(rel) => {
                let path = root.join(rel);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(&path, &files[rel])?;
            }
            Stale::Extra(rel) => std::fs::remove_file(root.join(rel))?,
        }
    }
    Ok(changes)
}

/// The workspace root this crate was built in.
pub fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::canonicalize(&root).unwrap_or(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_binary_crate_is_listed() {
        let root = workspace_root();
        let mut crates: Vec<String> = std::fs::read_dir(root.join("bins"))
            .expect("read bins/")
            .flatten()
            .filter(|e| e.path().join("Cargo.toml").exists())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        crates.sort();
        let mut listed: Vec<String> = BINARIES.iter().map(|(n, _)| n.to_string()).collect();
        listed.sort();
        assert_eq!(
            crates, listed,
            "every bins/<name> crate needs its line in BINARIES (tools/gen/src/lib.rs) and tools/gen/Cargo.toml"
        );
    }

    #[test]
    fn generation_is_deterministic_and_complete() {
        let a = generate();
        assert_eq!(a, generate());
        for (name, _) in BINARIES {
            assert!(a.contains_key(Path::new(&format!("man/{name}.1"))));
            assert!(a.contains_key(Path::new(&format!("completions/zsh/_{name}"))));
        }
        let cli = String::from_utf8(a[Path::new("docs/reference/cli.md")].clone()).unwrap();
        assert!(cli.contains("\n## uis-db-creds\n"));
    }

    #[test]
    fn uis_completions_know_the_suite() {
        let mut tree = uis_tree();
        tree.build();
        let db = tree.find_subcommand("db").expect("db group");
        assert!(db.find_subcommand("creds").is_some());
        let mut bash = Vec::new();
        clap_complete::generate(clap_complete::Shell::Bash, &mut tree, "uis", &mut bash);
        assert!(
            String::from_utf8(bash)
                .unwrap()
                .contains("uis__subcmd__db__subcmd__creds")
        );
    }

    #[test]
    fn write_then_check_is_clean_and_extras_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let files = generate();
        std::fs::create_dir_all(dir.path().join("man")).unwrap();
        std::fs::write(dir.path().join("man/uis-gone.1"), "old").unwrap();
        write(dir.path(), &files).unwrap();
        assert_eq!(stale(dir.path(), &files).unwrap(), vec![]);
        assert!(!dir.path().join("man/uis-gone.1").exists());
    }
}
