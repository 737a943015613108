//! How a binary meets the user around its one operation: the wrapper that
//! turns its outcome into an exit code and an error message (with UIS's
//! JSON error object on stdout in JSON mode), and the JSON object piped in
//! as defaults (README.md, "The binaries": the fields the previous binary printed become
//! defaults, flags win).

use std::io::{IsTerminal, Read};
use std::process::ExitCode;
use uis_core::Failure;
use uis_core::error::Phase;
use uis_core::output::{note, print_json, stdout_is_terminal};

/// Runs a binary's body and turns its outcome into an exit code.
///
/// Errors print `error: ...` (and the hint) on stderr; in JSON mode UIS's
/// error object goes to stdout too, so a pipeline's next tool sees it. A
/// [`Failure`] keeps its exit code; any other error exits 1.
pub fn run_main(json_mode: bool, body: impl FnOnce() -> anyhow::Result<i32>) -> ExitCode {
    match body() {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(err) => {
            if let Some(io) = err.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::BrokenPipe
            {
                return ExitCode::SUCCESS;
            }
            let failure = Failure::from_anyhow(err);
            note(format!("error: {failure}"));
            if json_mode {
                let _ = print_json(&failure.to_json());
            }
            ExitCode::from(failure.code.clamp(1, 255) as u8)
        }
    }
}

/// A binary's `main`: parses the process arguments as `A` (after
/// [`crate::uis_forms::rewrite`], so UIS's own argument forms work; clap
/// exits 2 on a usage error) and runs `body(args, json_mode)` through
/// [`run_main`]. JSON mode is on when `json(&args)` says so (`--json`) or
/// stdout is not a terminal (README.md, "The binaries").
///
/// A usage error of clap's (an unknown flag, a bad value, flags that
/// conflict) prints clap's message on stderr and, in JSON mode (`--json`
/// among the arguments, or stdout not a terminal), UIS's error object with
/// phase `usage` on stdout, as every other error: a pipeline reading the
/// report gets one JSON document whatever went wrong. Exit 2.
pub fn parse_and_run<A: clap::Parser>(
    json: impl FnOnce(&A) -> bool,
    body: impl FnOnce(A, bool) -> anyhow::Result<i32>,
) -> ExitCode {
    let argv = crate::uis_forms::rewrite(std::env::args_os());
    let args = match A::try_parse_from(&argv) {
        Ok(a) => a,
        Err(e)
            if !e.use_stderr()
                || e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand =>
        {
            e.exit()
        }
        Err(e) => {
            let _ = e.print();
            let json_asked = argv.iter().skip(1).any(|a| a == "--json");
            if json_asked || !stdout_is_terminal() {
                let rendered = e.render().to_string();
                // The message's lines up to clap's blank line (before its
                // tip or usage), as one line: the missing arguments too.
                let detail = rendered
                    .lines()
                    .take_while(|l| !l.trim().is_empty())
                    .map(|l| l.trim().trim_start_matches("error: "))
                    .collect::<Vec<_>>()
                    .join(" ");
                let failure = Failure::usage(detail).hint("see --help");
                let _ = print_json(&failure.to_json());
            }
            return ExitCode::from(2);
        }
    };
    let json_mode = json(&args) || !stdout_is_terminal();
    run_main(json_mode, || body(args, json_mode))
}

/// The JSON object piped into a binary that reads no SQL or token from stdin
/// (README.md, "The binaries": the fields the previous binary printed become defaults, flags
/// win). Read only when stdin is a pipe or a file, never a terminal or
/// `/dev/null`, and only when the caller asks (binaries ask when their APP
/// argument is missing, so a loop reading a file never loses its input).
///
/// Errors: phase `usage` (exit 2) when stdin is not UTF-8 or holds no JSON object; `input` when the previous command printed UIS's error object; an I/O error reading stdin.
pub fn stdin_defaults() -> anyhow::Result<Option<serde_json::Value>> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() || !stdin_carries_data() {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    stdin.lock().read_to_end(&mut bytes)?;
    let Ok(text) = String::from_utf8(bytes) else {
        return Err(
            Failure::usage("stdin is not a JSON object (not even UTF-8 text)")
                .hint("pipe the --json output of another uis command, or give APP as an argument")
                .into(),
        );
    };
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    // A pipeline may carry several lines; the last JSON object is the result.
    let last = text.lines().rev().find(|l| l.trim_start().starts_with('{'));
    match last.map(serde_json::from_str::<serde_json::Value>) {
        Some(Ok(v)) if v.is_object() => {
            if v.get("status").and_then(|s| s.as_str()) == Some("error") {
                return Err(Failure::new(
                    Phase::Input,
                    format!(
                        "the previous command in the pipeline failed: {}",
                        v.get("detail")
                            .and_then(|d| d.as_str())
                            .unwrap_or("(no detail)")
                    ),
                )
                .into());
            }
            Ok(Some(v))
        }
        _ => Err(Failure::usage("stdin is not a JSON object")
            .hint("pipe the --json output of another uis command, or give APP as an argument")
            .into()),
    }
}

/// True when stdin is a pipe, a regular file or a socket: something another
/// program or the shell handed over, worth reading for defaults. Decided by
/// `fstat` on the open descriptor itself (a `dup` of fd 0), so it works where
/// there is no procfs (macOS, the BSDs). A closed fd 0 or a character device
/// (`/dev/null`, a terminal) is not.
#[cfg(unix)]
fn stdin_carries_data() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::FileTypeExt;
    let Ok(fd) = std::io::stdin().as_fd().try_clone_to_owned() else {
        return false;
    };
    let Ok(meta) = std::fs::File::from(fd).metadata() else {
        return false;
    };
    let ft = meta.file_type();
    ft.is_fifo() || ft.is_file() || ft.is_socket()
}

/// Elsewhere any stdin that is not a console is read: `NUL` and a closed
/// pipe read as empty, and empty input gives no defaults.
#[cfg(not(unix))]
fn stdin_carries_data() -> bool {
    true
}

/// A string field of the stdin defaults.
pub fn default_str(defaults: &Option<serde_json::Value>, key: &str) -> Option<String> {
    defaults.as_ref()?.get(key)?.as_str().map(str::to_string)
}

/// The `database` and `schemas` of the stdin defaults (what
/// `uis-db-configure --json` prints), each where its flag left it out.
pub fn default_database_and_schemas(
    defaults: &Option<serde_json::Value>,
    database: &mut Option<String>,
    schemas: &mut Vec<String>,
) {
    if database.is_none() {
        *database = default_str(defaults, "database");
    }
    if schemas.is_empty() {
        *schemas = default_list(defaults, "schemas");
    }
}

/// A string-array field of the stdin defaults (`schemas`).
pub fn default_list(defaults: &Option<serde_json::Value>, key: &str) -> Vec<String> {
    defaults
        .as_ref()
        .and_then(|d| d.get(key))
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A string inside an object field of the stdin defaults (`roles.anon`).
pub fn default_nested_str(
    defaults: &Option<serde_json::Value>,
    key: &str,
    inner: &str,
) -> Option<String> {
    defaults
        .as_ref()?
        .get(key)?
        .get(inner)?
        .as_str()
        .map(str::to_string)
}
