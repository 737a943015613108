//! `uis`: the dispatcher. `uis db creds ARGS...` runs the program
//! `uis-db-creds ARGS...`, found the way kubectl and git find plugins: the
//! longest `uis-a-b-c` name wins (`uis-db-creds`, then `uis-db`), looked up
//! first beside this `uis` binary, then on PATH. The program replaces this
//! process (`exec`), so stdin, stdout, stderr, the exit code and signals are
//! the program's own.
//!
//! `uis`, `uis help` and `uis --help` list the programs found, each with the
//! first paragraph of its own `--help` (asked for in parallel, with a time
//! limit, so a description can never drift from the program). This crate
//! knows no command of the suite by name and has no dependency on `shared`:
//! a program dropped on PATH as `uis-foo-bar` is `uis foo bar`.

use clap::{Arg, ArgAction, Command};
use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

/// How long one program may take to print its `--help` for the listing.
const DESCRIBE_TIMEOUT: Duration = Duration::from_secs(3);

const ABOUT: &str =
    "Run the commands of the uis suite: `uis db creds ARGS...` runs the program uis-db-creds";

const LONG_ABOUT: &str = "Run the commands of the uis suite: `uis db creds ARGS...` runs the program uis-db-creds.

A command is any executable named uis-WORD[-WORD...] beside this uis binary or on PATH. `uis A B C ARGS...` runs uis-A-B-C, else uis-A-B, else uis-A (the longest name wins, as with kubectl and git plugins), with the remaining arguments; the program's exit code, output and signals are passed through unchanged. `uis`, `uis help` and `uis --help` list the commands found.

UIS's own command forms work too, through a built-in alias table used when no program fits (the longest alias wins; a program always wins over an alias): `uis configure postgresql` runs `uis db configure`, `uis configure postgrest` runs `uis postgrest deploy --secret-only`, `uis deploy postgrest` runs `uis postgrest deploy`, `uis undeploy postgrest` runs `uis postgrest deploy --undeploy`, `uis db jwt mint` runs `uis jwt mint`, `uis secrets get postgres-admin` runs `uis db creds --admin`, `uis connect postgresql [DB]` runs `uis db psql --as admin [-d DB]`, `uis postgresql verify` runs `uis db doctor --server`, `uis postgrest verify` runs `uis db doctor`. Every program takes `--app NAME` for its APP and ignores a `postgresql` service word before it and `--service WORD`: `uis db psql postgresql --app railway --as admin -f 01-roles.sql`.";

const AFTER_HELP: &str = "Examples:
  uis help                          # the commands found, with their descriptions
  uis db creds railway --format url # runs: uis-db-creds railway --format url
  uis help db creds                 # runs: uis-db-creds --help
  kubectl uis-db-creds railway      # kubectl finds the same programs (install.sh links them)";

/// The clap definition of `uis` itself, for completions, man pages and the
/// CLI reference. The commands it dispatches to are external subcommands.
pub fn command() -> Command {
    Command::new("uis")
        .version(env!("CARGO_PKG_VERSION"))
        .about(ABOUT)
        .long_about(LONG_ABOUT)
        .after_help(AFTER_HELP)
        .override_usage("uis <COMMAND>... [ARGS]...\n       uis help [COMMAND]...")
        .disable_help_flag(true)
        .disable_help_subcommand(true)
        .allow_external_subcommands(true)
        .external_subcommand_value_parser(clap::value_parser!(OsString))
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::SetTrue)
                .help("List the commands found, with their descriptions"),
        )
        .subcommand(
            Command::new("help")
                .about("List the commands found, or run a command's --help (`uis help db creds`)")
                .disable_help_flag(true)
                .arg(
                    Arg::new("command")
                        .value_name("COMMAND")
                        .num_args(0..)
                        .trailing_var_arg(true)
                        .allow_hyphen_values(true)
                        .value_parser(clap::value_parser!(OsString))
                        .help("The command's words, e.g. `db creds`"),
                ),
        )
}

/// Parses the process arguments and dispatches.
pub fn main() -> ExitCode {
    let matches = match command().try_get_matches() {
        Ok(m) => m,
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayVersion => {
            return print_out(&format!("uis {}\n", env!("CARGO_PKG_VERSION")));
        }
        Err(e) => e.exit(),
    };
    let catalog = Catalog::discover();
    if matches.get_flag("help") {
        return print_out(&catalog.listing(&[]));
    }
    match matches.subcommand() {
        None => print_out(&catalog.listing(&[])),
        Some(("help", sub)) => {
            let words: Vec<OsString> = sub
                .get_many::<OsString>("command")
                .map(|v| v.cloned().collect())
                .unwrap_or_default();
            if words.is_empty() || words.iter().all(|w| w == "-h" || w == "--help") {
                return print_out(&catalog.listing(&[]));
            }
            catalog.run(&words, &[OsString::from("--help")], true)
        }
        Some((first, sub)) => {
            let mut args = vec![OsString::from(first)];
            args.extend(
                sub.get_many::<OsString>("")
                    .map(|v| v.cloned().collect::<Vec<_>>())
                    .unwrap_or_default(),
            );
            catalog.run(&args, &[], false)
        }
    }
}

/// Writes to stdout; a closed stdout (`uis help | head -1`) is success.
fn print_out(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write to stdout: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One `uis-*` program found.
#[derive(Debug, Clone)]
pub struct Found {
    /// The words after `uis`: `["db", "creds"]` for `uis-db-creds`.
    pub words: Vec<String>,
    pub path: PathBuf,
}

impl Found {
    /// `uis db creds`.
    pub fn display(&self) -> String {
        format!("uis {}", self.words.join(" "))
    }
}

/// The directories searched, in order, and the programs found in them.
pub struct Catalog {
    pub dirs: Vec<PathBuf>,
    /// By program name; the first directory holding a name wins. Filled on
    /// first use: running a command only needs [`Catalog::resolve`].
    found: OnceCell<BTreeMap<String, Found>>,
}

impl Catalog {
    /// The directory of the running `uis`, then every PATH entry.
    pub fn discover() -> Catalog {
        let own = std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf));
        let path = std::env::var_os("PATH").unwrap_or_default();
        Catalog {
            dirs: search_dirs(own, &path),
            found: OnceCell::new(),
        }
    }

    /// The `uis-*` executables of the directories (first directory wins).
    pub fn found(&self) -> &BTreeMap<String, Found> {
        self.found.get_or_init(|| scan(&self.dirs))
    }

    /// The program for `uis WORDS...`: the longest `uis-a-b-c` prefix of the
    /// leading words that names an executable, and how many words it took.
    pub fn resolve(&self, args: &[OsString]) -> Option<(PathBuf, usize)> {
        let words = leading_words(args);
        (1..=words.len()).rev().find_map(|n| {
            let name = format!("uis-{}", words[..n].join("-"));
            self.dirs
                .iter()
                .map(|d| d.join(&name))
                .find(|p| is_executable(p))
                .map(|p| (p, n))
        })
    }

    /// Runs `uis ARGS...` (with `extra` appended, for `uis help A B`), by exec.
    /// Returns only when there is nothing to run.
    fn run(&self, args: &[OsString], extra: &[OsString], help: bool) -> ExitCode {
        let expanded;
        let args = match self.resolve(args) {
            Some(_) => args,
            None => match expand_alias(ALIASES, args) {
                Some(a) => {
                    expanded = a;
                    &expanded[..]
                }
                None => args,
            },
        };
        if let Some((path, n)) = self.resolve(args) {
            let err = std::process::Command::new(&path)
                .args(&args[n..])
                .args(extra)
                .exec();
            eprintln!("error: cannot run {}: {err}", path.display());
            eprintln!(
                "  hint: check that the file is an executable program for this machine, or reinstall the suite with ./install.sh"
            );
            return ExitCode::from(126);
        }
        let words = leading_words(args);
        // `uis db` or `uis help db`: a group of commands, not a command.
        let group = self.group(&words);
        let rest_is_help = args[words.len()..]
            .iter()
            .all(|a| a == "--help" || a == "-h");
        if !words.is_empty() && !group.is_empty() && group[0].words.len() > words.len() {
            if help || (args.len() > words.len() && rest_is_help) {
                return print_out(&self.listing(&words));
            }
            eprintln!(
                "error: \"{}\" is not a command by itself; the commands under it:",
                words.join(" ")
            );
            eprint!("{}", table(&self.rows(&group)));
            return ExitCode::from(2);
        }
        let (unknown, suggestions) = self.unknown(args);
        eprintln!("error: unknown command \"{unknown}\"");
        if !suggestions.is_empty() {
            let names: Vec<String> = suggestions
                .iter()
                .map(|f| format!("`{}`", f.display()))
                .collect();
            eprintln!("  hint: did you mean {}?", or_list(&names));
        } else if self.found().is_empty() {
            eprintln!(
                "  hint: no uis-* program was found beside uis or on PATH; install the suite with ./install.sh"
            );
        } else {
            let names: Vec<String> = self.found().values().map(Found::display).collect();
            eprintln!("  hint: the commands are: {}", names.join(", "));
        }
        eprintln!("  (`uis help` lists every command with its description)");
        ExitCode::from(2)
    }

    /// The programs whose words start with `prefix`, in name order.
    fn group(&self, prefix: &[String]) -> Vec<&Found> {
        self.found()
            .values()
            .filter(|f| f.words.len() >= prefix.len() && f.words[..prefix.len()] == *prefix)
            .collect()
    }

    /// The unknown command to name in the error (the known group words plus
    /// the first word that fits no program), and the programs nearest to it.
    pub fn unknown(&self, args: &[OsString]) -> (String, Vec<&Found>) {
        let words = leading_words(args);
        if words.is_empty() {
            let shown = args
                .first()
                .map(|a| a.to_string_lossy().into_owned())
                .unwrap_or_default();
            return (shown, Vec::new());
        }
        let mut depth = 0;
        while depth < words.len() && !self.group(&words[..=depth]).is_empty() {
            depth += 1;
        }
        let attempt = &words[..(depth + 1).min(words.len())];
        let typed = attempt.join(" ");
        let mut scored: Vec<(usize, &Found)> = self
            .found()
            .values()
            .filter_map(|f| suggestion_score(attempt, &f.words).map(|s| (s, f)))
            .collect();
        scored.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.words.cmp(&b.1.words)));
        let best = scored.first().map(|s| s.0);
        let suggestions = scored
            .into_iter()
            .take_while(|s| Some(s.0) <= best.map(|b| b + 1))
            .take(4)
            .map(|s| s.1)
            .collect();
        (typed, suggestions)
    }

    /// `uis --help` (for no `prefix`), or the commands under `uis PREFIX`.
    pub fn listing(&self, prefix: &[String]) -> String {
        let mut text = String::new();
        if prefix.is_empty() {
            text.push_str(ABOUT);
            text.push_str(
                "\n\nUsage: uis <COMMAND>... [ARGS]...\n       uis help [COMMAND]...\n\nCommands:\n",
            );
        } else {
            text.push_str(&format!(
                "The commands under `uis {}`:\n\n",
                prefix.join(" ")
            ));
        }
        let group = self.group(prefix);
        if group.is_empty() {
            text.push_str(
                "  (none found: install the suite with ./install.sh, or put its uis-* programs on PATH)\n",
            );
        }
        let mut rows = self.rows(&group);
        if prefix.is_empty() {
            rows.push((HELP_ROW.0.to_string(), HELP_ROW.1.to_string()));
        }
        text.push_str(&table(&rows));
        if prefix.is_empty() {
            text.push_str(
                "\nOptions:\n  -h, --help     This list\n  -V, --version  Print version\n",
            );
        }
        let dirs = match self.dirs.first() {
            Some(own) => format!("beside this uis ({}), then on PATH", own.display()),
            None => "on PATH".to_string(),
        };
        text.push_str(&format!(
            "\nA command is a program named uis-WORD[-WORD...] {dirs}; the longest name wins.\n\
             `uis help db creds` shows a command's own help. kubectl finds the same programs: `kubectl uis-db-creds`.\n"
        ));
        text
    }

    /// `(uis a b, description)` rows, the descriptions read in parallel.
    fn rows(&self, found: &[&Found]) -> Vec<(String, String)> {
        found
            .iter()
            .map(|f| f.display())
            .zip(describe_all(found))
            .collect()
    }
}

/// The alias table (bins/uis/aliases.txt): UIS's command forms as the
/// suite's.
pub const ALIASES: &str = include_str!("../aliases.txt");

/// The aliases of `table`: `(left words, right words and arguments)`.
pub fn aliases(table: &str) -> Vec<(Vec<String>, Vec<String>)> {
    table
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (left, right) = l.split_once('=')?;
            Some((
                left.split_whitespace().map(str::to_string).collect(),
                right.split_whitespace().map(str::to_string).collect(),
            ))
        })
        .collect()
}

/// `args` with the longest alias of `table` that they start with expanded,
/// or `None` when none fits.
pub fn expand_alias(table: &str, args: &[OsString]) -> Option<Vec<OsString>> {
    let (left, right) = aliases(table)
        .into_iter()
        .filter(|(left, _)| {
            left.len() <= args.len() && left.iter().zip(args).all(|(w, a)| a == w.as_str())
        })
        .max_by_key(|(left, _)| left.len())?;
    let mut rest: Vec<OsString> = args[left.len()..].to_vec();
    let mut out: Vec<OsString> = Vec::new();
    for w in &right {
        if let Some(flag) = w.strip_suffix('?') {
            if rest
                .first()
                .is_some_and(|a| !a.to_string_lossy().starts_with('-'))
            {
                let v = rest.remove(0);
                out.push(flag.into());
                out.push(v);
            }
        } else {
            out.push(w.into());
        }
    }
    out.extend(rest);
    Some(out)
}

/// The `help` row of the listing.
const HELP_ROW: (&str, &str) = (
    "uis help [COMMAND]...",
    "This list, or a command's own help (`uis help db creds`)",
);

/// Aligned two-column rows.
fn table(rows: &[(String, String)]) -> String {
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let mut text = String::new();
    for (name, description) in rows {
        let line = format!("  {name:width$}  {description}");
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// The `uis-*` executables of `dirs`, by name (first directory wins).
fn scan(dirs: &[PathBuf]) -> BTreeMap<String, Found> {
    let mut found = BTreeMap::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let Some(words) = program_words(&name) else {
                continue;
            };
            if found.contains_key(&name) || !is_executable(&entry.path()) {
                continue;
            }
            found.insert(
                name,
                Found {
                    words,
                    path: entry.path(),
                },
            );
        }
    }
    found
}

/// The search order: the running `uis`'s own directory, then each PATH
/// entry (empty entries, meaning the current directory, are skipped), once.
pub fn search_dirs(own: Option<PathBuf>, path: &OsStr) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for dir in own.into_iter().chain(std::env::split_paths(path)) {
        if dir.as_os_str().is_empty() || dirs.contains(&dir) {
            continue;
        }
        dirs.push(dir);
    }
    dirs
}

/// `uis-db-creds` -> `["db", "creds"]`; `None` for any other file name.
pub fn program_words(name: &str) -> Option<Vec<String>> {
    let rest = name.strip_prefix("uis-")?;
    let words: Vec<String> = rest.split('-').map(str::to_string).collect();
    words.iter().all(|w| is_word(w)).then_some(words)
}

/// A word that can be part of a program name: `db`, `creds`, `v2`.
fn is_word(w: &str) -> bool {
    !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The leading arguments that can be words of a program name (up to the
/// first flag or the first argument that cannot be part of a file name).
fn leading_words(args: &[OsString]) -> Vec<String> {
    args.iter()
        .map_while(|a| a.to_str().filter(|w| is_word(w)).map(str::to_string))
        .collect()
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// How near `known` is to what was typed (`attempt`), when near enough to
/// suggest: edit distance over the same number of words, a prefix (`uis db
/// c`), or the group left out (`uis creds` for `uis db creds`).
fn suggestion_score(attempt: &[String], known: &[String]) -> Option<usize> {
    let n = attempt.len().min(known.len());
    let typed = attempt[..n].join(" ");
    let target = known[..n].join(" ");
    let full = known.join(" ");
    let threshold = (typed.chars().count() / 3).clamp(1, 3);
    let mut best: Option<usize> = None;
    let mut consider = |score: usize| {
        if best.is_none_or(|b| score < b) {
            best = Some(score);
        }
    };
    let d = levenshtein(&typed, &target);
    if d <= threshold {
        consider(d);
    }
    if typed.len() >= 2 && full.starts_with(&typed) {
        consider(1);
    }
    if let (Some(first), Some(last)) = (attempt.first(), known.last())
        && known.len() > 1
    {
        let d = levenshtein(first, last);
        if d <= (first.chars().count() / 3).clamp(1, 3) {
            consider(d + 1);
        }
    }
    best
}

/// Edit distance (insertions, deletions, substitutions), over chars.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Each program's description, asked for in parallel.
fn describe_all(rows: &[&Found]) -> Vec<String> {
    std::thread::scope(|s| {
        let handles: Vec<_> = rows.iter().map(|f| s.spawn(|| describe(&f.path))).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// The first paragraph of `PROGRAM --help` on one line ("" when the program
/// prints no description, fails, or takes longer than [`DESCRIBE_TIMEOUT`]).
pub fn describe(path: &Path) -> String {
    let child = std::process::Command::new(path)
        .arg("--help")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return String::new();
    };
    let mut stdout = child.stdout.take().expect("piped stdout");
    // Read on a thread of its own: a program that hangs, or leaves a child
    // holding the pipe open, costs at most the time limit, never a hang.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = Vec::new();
        // At most 64 KiB: a description is in the first lines.
        let _ = (&mut stdout).take(64 * 1024).read_to_end(&mut text);
        let _ = tx.send(text);
    });
    let deadline = Instant::now() + DESCRIBE_TIMEOUT;
    let text = rx.recv_timeout(DESCRIBE_TIMEOUT).ok();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if text.is_some() && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    match (status, text) {
        (Some(s), Some(text)) if s.success() => first_paragraph(&String::from_utf8_lossy(&text)),
        _ => String::new(),
    }
}

/// The first paragraph of a help text, unwrapped; "" when it is the usage line.
pub fn first_paragraph(help: &str) -> String {
    let para: Vec<&str> = help
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty())
        .collect();
    let line = para.join(" ");
    if line.starts_with("Usage:") || line.starts_with("usage:") {
        String::new()
    } else {
        line
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn uis_forms_expand_through_the_alias_table() {
        let x = |s: &str| {
            let args: Vec<OsString> = s.split(' ').map(OsString::from).collect();
            expand_alias(ALIASES, &args).map(|v| {
                v.iter()
                    .map(|a| a.to_string_lossy().to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
        };
        let cases = [
            (
                "configure postgresql --app railway --database railway --json",
                "db configure --app railway --database railway --json",
            ),
            (
                "configure postgrest --app railway --schemas railway --url-prefix api-railway",
                "postgrest deploy --secret-only --app railway --schemas railway --url-prefix api-railway",
            ),
            (
                "deploy postgrest --app railway",
                "postgrest deploy --app railway",
            ),
            (
                "undeploy postgrest --app railway",
                "postgrest deploy --undeploy --app railway",
            ),
            (
                "db jwt mint --app railway --role anon --exp 10y",
                "jwt mint --app railway --role anon --exp 10y",
            ),
            (
                "secrets get postgres-admin --service postgresql",
                "db creds --admin --service postgresql",
            ),
            ("connect postgresql", "db psql --as admin"),
            (
                "connect postgresql railway",
                "db psql --as admin -d railway",
            ),
            ("postgresql verify", "db doctor --server"),
            ("postgrest verify --app railway", "db doctor --app railway"),
        ];
        for (from, to) in cases {
            assert_eq!(x(from).as_deref(), Some(to), "{from}");
        }
        assert_eq!(x("db creds railway"), None);
        for (left, right) in aliases(ALIASES) {
            assert!(!left.is_empty() && !right.is_empty());
        }
    }

    use super::*;

    fn catalog(names: &[&str]) -> Catalog {
        let found: BTreeMap<String, Found> = names
            .iter()
            .map(|n| {
                (
                    n.to_string(),
                    Found {
                        words: program_words(n).unwrap(),
                        path: PathBuf::from(format!("/nowhere/{n}")),
                    },
                )
            })
            .collect();
        Catalog {
            dirs: vec![],
            found: OnceCell::from(found),
        }
    }

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    const SUITE: &[&str] = &[
        "uis-db-configure",
        "uis-db-creds",
        "uis-db-tunnel",
        "uis-postgrest-deploy",
    ];

    #[test]
    fn command_definition_is_valid() {
        command().debug_assert();
    }

    #[test]
    fn program_names_split_into_words() {
        assert_eq!(program_words("uis-db-creds").unwrap(), ["db", "creds"]);
        assert!(program_words("uis").is_none());
        assert!(program_words("uis-").is_none());
        assert!(program_words("uis-db--x").is_none());
        assert!(program_words("uisx").is_none());
    }

    #[test]
    fn near_misses_are_suggested() {
        let c = catalog(SUITE);
        let (typed, s) = c.unknown(&os(&["db", "cred", "railway"]));
        assert_eq!(typed, "db cred");
        assert_eq!(s[0].display(), "uis db creds");
        let (_, s) = c.unknown(&os(&["creds"]));
        assert_eq!(s[0].display(), "uis db creds");
        let (_, s) = c.unknown(&os(&["postgres", "deploy"]));
        assert_eq!(s[0].display(), "uis postgrest deploy");
        let (typed, s) = c.unknown(&os(&["nonesuch"]));
        assert_eq!(typed, "nonesuch");
        assert!(s.is_empty());
    }

    #[test]
    fn flags_end_the_command_words() {
        assert_eq!(
            leading_words(&os(&["db", "creds", "--list", "x"])),
            ["db", "creds"]
        );
        assert_eq!(leading_words(&os(&["db", "../x"])), ["db"]);
    }

    #[test]
    fn help_text_first_paragraph() {
        assert_eq!(
            first_paragraph("Print the\ncredentials.\n\nUsage: x\n"),
            "Print the credentials."
        );
        assert_eq!(first_paragraph("Usage: x [OPTIONS]\n"), "");
    }

    #[test]
    fn search_order_is_own_dir_then_path_once() {
        let dirs = search_dirs(Some("/a".into()), OsStr::new("/b::/a:/c"));
        assert_eq!(dirs, [PathBuf::from("/a"), "/b".into(), "/c".into()]);
    }

    #[test]
    fn levenshtein_counts_edits() {
        assert_eq!(levenshtein("cred", "creds"), 1);
        assert_eq!(levenshtein("", "ab"), 2);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }
}
