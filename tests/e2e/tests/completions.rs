//! The committed completions (`completions/`, made by `uis-gen`) loaded by
//! a real zsh, fish and bash, the way each shell loads them once installed,
//! and asked what `uis db <TAB>`, `uis db creds --<TAB>` and
//! `uis-db-creds --<TAB>` offer: exactly the commands `uis help` lists under
//! `uis db`, and exactly the long flags `uis-db-creds --help` lists (issue
//! 26: on a Mac the shell is zsh). Each shell missing fails under CI
//! (`.ci/run` installs them) and skips loudly elsewhere. That the files are
//! current is `generated.rs`'s job, not this file's.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use uis_e2e::{Out, bin};

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The words after `uis db` in `uis help`'s list of commands.
fn db_commands() -> BTreeSet<String> {
    let out = uis_e2e::output(Command::new(bin("uis")).arg("help"));
    out.ok();
    let words: BTreeSet<String> = out
        .stdout
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("uis db "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .collect();
    assert!(words.contains("creds"), "{}", out.stdout);
    words
}

/// The long flags `uis-db-creds --help` lists (an option line is indented
/// at most 6 columns; its description further).
fn creds_flags() -> BTreeSet<String> {
    let out = uis_e2e::output(Command::new(bin("uis-db-creds")).arg("--help"));
    out.ok();
    let flags: BTreeSet<String> = out
        .stdout
        .lines()
        .filter(|l| {
            let indent = l.len() - l.trim_start().len();
            (1..=6).contains(&indent) && l.trim_start().starts_with('-')
        })
        .flat_map(|l| l.split_whitespace())
        .map(|w| w.trim_end_matches(','))
        .filter(|w| w.starts_with("--"))
        .map(str::to_string)
        .collect();
    assert!(
        flags.contains("--format") && flags.contains("--help"),
        "{}",
        out.stdout
    );
    flags
}

/// Runs `cmd` in an empty directory (so no file name is ever offered) with
/// HOME there too and the suite's binaries first on PATH; kills it (by its
/// PID) after 30 s.
fn run_shell(cmd: &mut Command, dir: &Path) -> Out {
    let path = std::env::join_paths(std::iter::once(uis_harness::bin_dir()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let mut child = cmd
        .current_dir(dir)
        .env("HOME", dir)
        .env("PATH", path)
        .env("TERM", "dumb")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let o = child.wait_with_output().expect("wait");
            panic!("{cmd:?} hung:\n{}", String::from_utf8_lossy(&o.stdout));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Out::from(child.wait_with_output().expect("wait"))
}

/// Loads the completions in an interactive zsh (its `fpath` and `compinit`,
/// as an installed `_uis` is found) and captures every word its completion
/// functions add, by wrapping `compadd`.
const ZSH_SETUP: &str = r#"
PROMPT=
RPROMPT=
fpath=("$UIS_COMPLETIONS" $fpath)
autoload -Uz compinit && compinit -u -D
bindkey '^M' undefined
bindkey '^J' undefined
bindkey '^I' complete-word
uis_capture_mark() { print -r -- "<<uis-capture>>" }
compprefuncs=( uis_capture_mark )
comppostfuncs=( uis_capture_mark exit )
zstyle ':completion:*' list-grouped false
zstyle ':completion:*' insert-tab false
compadd() {
  # Calls that only collect or filter (-O, -A, -D) go to the real compadd.
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
    builtin compadd "$@"
    return $?
  fi
  local -a __hits
  builtin compadd -A __hits "$@"
  local h
  for h in $__hits; do print -r -- "match:$h"; done
}
print -r -- "<<uis-ready>>"
"#;

/// Drives that zsh on a pseudo-terminal (zsh/zpty): types `$2` then TAB and
/// prints what was captured between the two marks.
const ZSH_CAPTURE: &str = r#"
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "source ${(q)1}"
local line
integer ready=0
repeat 100; do
  zpty -r z line || break
  if [[ $line == *'<<uis-ready>>'* ]]; then ready=1; break; fi
done
(( ready )) || { print -u2 "zsh did not load the completions"; exit 2 }
zpty -w -n z "$2"$'\t'
integer marks=0
while zpty -r z line; do
  line=${line//[$'\r\n']/}
  if [[ $line == *'<<uis-capture>>'* ]]; then
    (( ++marks == 2 )) && exit 0
    continue
  fi
  (( marks == 1 )) && print -r -- "$line"
done
exit 3
"#;

/// What `fish`, with the completions on its `fish_complete_path` (where
/// they are autoloaded from once installed), offers for `line`.
fn fish(line: &str) -> Option<BTreeSet<String>> {
    let fish = uis_e2e::need_tool("fish")?;
    let dir = tempfile::tempdir().unwrap();
    let script = format!(
        "set -p fish_complete_path {}; complete -C {}",
        fish_quote(&root().join("completions/fish").display().to_string()),
        fish_quote(line)
    );
    let out = run_shell(
        Command::new(fish).args(["--no-config", "-c", &script]),
        dir.path(),
    );
    out.ok();
    Some(
        out.stdout
            .lines()
            .filter_map(|l| l.split('\t').next())
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

fn fish_quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// What zsh offers for `line` followed by TAB.
fn zsh(line: &str) -> Option<BTreeSet<String>> {
    let zsh = uis_e2e::need_tool("zsh")?;
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let setup = dir.path().join("setup.zsh");
    let capture = dir.path().join("capture.zsh");
    std::fs::write(&setup, ZSH_SETUP).unwrap();
    std::fs::write(&capture, ZSH_CAPTURE).unwrap();
    let out = run_shell(
        Command::new(zsh)
            .arg("-f")
            .arg(&capture)
            .arg(&setup)
            .arg(line)
            .env("UIS_COMPLETIONS", root().join("completions/zsh")),
        work.path(),
    );
    out.ok();
    Some(
        out.stdout
            .lines()
            .filter_map(|l| l.trim().strip_prefix("match:"))
            .map(str::to_string)
            .collect(),
    )
}

/// Sources the bash completion file `$1` and calls the function `complete
/// -p` names for the command, with the words `$2...` (the last one being
/// completed), as bash does on TAB.
const BASH_CAPTURE: &str = r#"
source "$1"; shift
COMP_WORDS=("$@")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
spec=$(complete -p "$1") || exit 2
fn=${spec##* -F }; fn=${fn%% *}
"$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"#;

/// What bash offers for `words` (the last one being completed).
fn bash(words: &[&str]) -> Option<BTreeSet<String>> {
    let bash = uis_e2e::need_tool("bash")?;
    let dir = tempfile::tempdir().unwrap();
    let file = root().join("completions/bash").join(words[0]);
    let out = run_shell(
        Command::new(bash)
            .args(["--norc", "--noprofile", "-c", BASH_CAPTURE, "capture"])
            .arg(file)
            .args(words),
        dir.path(),
    );
    out.ok();
    Some(
        out.stdout
            .lines()
            .map(|w| w.trim().to_string())
            .filter(|w| !w.is_empty())
            .collect(),
    )
}

#[track_caller]
fn same(shell: &str, line: &str, offered: BTreeSet<String>, wanted: &BTreeSet<String>) {
    assert_eq!(
        &offered, wanted,
        "{shell}: `{line}<TAB>` offers {offered:?}, wanted {wanted:?}"
    );
}

#[test]
fn zsh_completes_uis_db_commands() {
    let Some(offered) = zsh("uis db ") else {
        return;
    };
    same("zsh", "uis db ", offered, &db_commands());
}

#[test]
fn zsh_completes_creds_flags() {
    let wanted = creds_flags();
    for line in ["uis-db-creds --", "uis db creds --"] {
        let Some(offered) = zsh(line) else {
            return;
        };
        same("zsh", line, offered, &wanted);
    }
    let Some(offered) = zsh("uis-db-creds --for") else {
        return;
    };
    same(
        "zsh",
        "uis-db-creds --for",
        offered,
        &["--format".to_string()].into(),
    );
}

#[test]
fn fish_completes_uis_db_commands() {
    let Some(offered) = fish("uis db ") else {
        return;
    };
    same("fish", "uis db ", offered, &db_commands());
}

#[test]
fn fish_completes_creds_flags() {
    let wanted = creds_flags();
    for line in ["uis-db-creds --", "uis db creds --"] {
        let Some(offered) = fish(line) else {
            return;
        };
        same("fish", line, offered, &wanted);
    }
}

#[test]
fn bash_completes_uis_db_commands() {
    let Some(offered) = bash(&["uis", "db", ""]) else {
        return;
    };
    same("bash", "uis db ", offered, &db_commands());
}

#[test]
fn bash_completes_creds_flags() {
    let wanted = creds_flags();
    for words in [&["uis-db-creds", "--"][..], &["uis", "db", "creds", "--"]] {
        let Some(offered) = bash(words) else {
            return;
        };
        same("bash", &words.join(" "), offered, &wanted);
    }
}
