//! Printing results and errors the way every binary of the suite does:
//! stdout carries the result only (JSON when stdout is not a terminal or
//! `--json` was given), stderr carries progress, warnings and errors for
//! people, and a closed pipe (`| head -c1`) is success, not a panic.
//!
//! This module knows no domain type: it prints `serde_json::Value`s and
//! [`Failure`]s.

use std::io::{IsTerminal, Write};

/// True when stdout is a terminal (a person is reading).
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// True when stderr is a terminal (progress bars are worth drawing).
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// Writes `text` to stdout; a broken pipe is not an error.
///
/// Errors: any write error but a broken pipe.
pub fn print(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// The provider this command resolved (see [`set_provider`]).
static PROVIDER: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Records which PostgreSQL provider the command used (`cnpg`, `bitnami`
/// ...), once it is known: from then on every JSON object [`print_json`]
/// prints carries it as a `provider` field (unless it has one), so each
/// binary's JSON says it without each report type knowing providers.
pub fn set_provider(name: &str) {
    let _ = PROVIDER.set(name.to_string());
}

/// One JSON value on one line of stdout; an object gets the `provider`
/// field of [`set_provider`] when one was set.
///
/// Errors: as [`print`].
pub fn print_json(value: &serde_json::Value) -> std::io::Result<()> {
    if let (Some(p), Some(obj)) = (PROVIDER.get(), value.as_object())
        && !obj.contains_key("provider")
    {
        let mut obj = obj.clone();
        obj.insert("provider".into(), serde_json::Value::String(p.clone()));
        return print(&format!("{}\n", serde_json::Value::Object(obj)));
    }
    print(&format!("{value}\n"))
}

/// What takes the lines for people instead of stderr (see [`set_line_sink`]).
type LineSink = Box<dyn Fn(&str) + Send + Sync>;

static LINE_SINK: std::sync::RwLock<Option<LineSink>> = std::sync::RwLock::new(None);

/// Sends every line [`note`], [`warn`] and [`StderrLines`] write to `sink`
/// instead of stderr (`None`: stderr again). A progress display that owns
/// the terminal's last line sets it, so the lines print above the display
/// instead of through it (`uis onboard`'s spinner: indicatif's `println`).
pub fn set_line_sink(sink: Option<LineSink>) {
    if let Ok(mut s) = LINE_SINK.write() {
        *s = sink;
    }
}

thread_local! {
    /// Lines held back by [`capture`] on this thread.
    static CAPTURED: std::cell::RefCell<Option<Vec<String>>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `f`, holding back the lines for people it writes on this thread
/// ([`note`], [`warn`], [`StderrLines`]) instead of printing them: a plan
/// computed before the same operation runs for real would otherwise say
/// each line twice. Print them with [`replay`] when the real run does not
/// follow.
pub fn capture<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
    let before = CAPTURED.with(|c| c.replace(Some(Vec::new())));
    let out = f();
    let lines = CAPTURED.with(|c| c.replace(before)).unwrap_or_default();
    (out, lines)
}

/// Prints lines [`capture`] held back.
pub fn replay(lines: Vec<String>) {
    for l in lines {
        emit(&l);
    }
}

/// Prints `line` (or holds it back under [`capture`]); true when printed.
fn emit(line: &str) -> bool {
    let held = CAPTURED.with(|c| match c.borrow_mut().as_mut() {
        Some(lines) => {
            lines.push(line.to_string());
            true
        }
        None => false,
    });
    if held {
        return false;
    }
    if let Ok(s) = LINE_SINK.read()
        && let Some(sink) = s.as_ref()
    {
        sink(line);
        return true;
    }
    let _ = writeln!(std::io::stderr(), "{line}");
    true
}

/// A progress or status line for people, on stderr.
pub fn note(msg: impl AsRef<str>) {
    emit(msg.as_ref());
}

/// A warning for people, on stderr.
pub fn warn(msg: impl AsRef<str>) {
    emit(&format!("warning: {}", msg.as_ref()));
}

/// Warnings [`warn_once`] has printed in this process.
static WARNED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// A warning for people, on stderr, said at most once per process: a
/// command that reads the same thing several times (`uis onboard` reads an
/// app's Secret at each step) says what is wrong with it once. A line held
/// back by [`capture`] does not count as said.
pub fn warn_once(msg: impl AsRef<str>) {
    let line = format!("warning: {}", msg.as_ref());
    if WARNED.lock().is_ok_and(|w| w.contains(&line)) {
        return;
    }
    if emit(&line)
        && let Ok(mut w) = WARNED.lock()
    {
        w.push(line);
    }
}

/// stderr for people as a writer: each whole line goes where [`note`]'s
/// go (a line not ended by '\n' when dropped too).
#[derive(Default)]
pub struct StderrLines {
    pending: Vec<u8>,
}

impl Write for StderrLines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        while let Some(i) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=i).collect();
            emit(String::from_utf8_lossy(&line[..i]).as_ref());
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for StderrLines {
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            emit(String::from_utf8_lossy(&self.pending).as_ref());
        }
    }
}

/// Masks a secret for display to people: the first 3 characters then `***`.
pub fn mask(secret: &str) -> String {
    let head: String = secret.chars().take(3).collect();
    format!("{head}***")
}

/// Seconds since the Unix epoch (JWT `iat`/`exp`, the seed ledger's
/// times); 0 if the clock is before 1970.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
