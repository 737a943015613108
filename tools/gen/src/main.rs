//! `uis-gen [--check] [DIR]`: writes completions/, man/ and
//! docs/reference/cli.md under DIR (default: the workspace root) from the
//! binaries' clap definitions; `--check` writes nothing and exits 1 listing
//! the stale files.

use clap::{Arg, ArgAction, Command};
use std::path::PathBuf;
use std::process::ExitCode;

fn command() -> Command {
    Command::new("uis-gen")
        .about("Generate the completions, man pages and CLI reference of the uis binaries")
        .arg(
            Arg::new("check")
                .long("check")
                .action(ArgAction::SetTrue)
                .help("Write nothing; exit 1 listing the files that are stale"),
        )
        .arg(
            Arg::new("dir")
                .value_name("DIR")
                .value_parser(clap::value_parser!(PathBuf))
                .help("Where completions/, man/ and docs/ go (default: the workspace root)"),
        )
}

fn main() -> ExitCode {
    let m = command().get_matches();
    let root = m
        .get_one::<PathBuf>("dir")
        .cloned()
        .unwrap_or_else(uis_gen::workspace_root);
    let files = uis_gen::generate();
    if m.get_flag("check") {
        return match uis_gen::stale(&root, &files) {
            Ok(stale) if stale.is_empty() => {
                eprintln!("uis-gen: {} generated files are up to date", files.len());
                ExitCode::SUCCESS
            }
            Ok(stale) => {
                eprintln!("error: {} generated files are stale:", stale.len());
                for s in &stale {
                    eprintln!("  {s}");
                }
                eprintln!("  hint: run cargo run -p uis-gen");
                ExitCode::FAILURE
            }
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", root.display());
                ExitCode::FAILURE
            }
        };
    }
    match uis_gen::write(&root, &files) {
        Ok(changed) => {
            for c in &changed {
                eprintln!("updated {c}");
            }
            eprintln!(
                "uis-gen: {} files generated under {}, {} changed",
                files.len(),
                root.display(),
                changed.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "error: cannot write under {}: {e}\n  hint: give a writable DIR: cargo run -p uis-gen -- DIR",
                root.display()
            );
            ExitCode::FAILURE
        }
    }
}
