//! Updating a `.env` file in place: set a few keys (for example a freshly
//! minted token or a database URL) while leaving everything else the user
//! wrote there, comments and formatting included, byte for byte.
//!
//! This is for writing and reading back single values. It is not a loader:
//! it never touches the process environment, expands no `${VAR}`, and knows
//! only the common dotenv forms (`KEY=v`, `export KEY=v`, `'single'` and
//! `"double"` quoting, ` #` comments after unquoted values). What it writes
//! is read back exactly by dotenv, dotenv-expand, Next.js, python-dotenv and
//! bash (docs/reference/credentials.md; tests/e2e/tests/clients.rs);
//! [`disagreements`] finds where those readers already differ on a file.

use std::fs;
use std::io::{self, Write as _};
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Mode of a `.env` this module creates: it usually holds secrets.
const NEW_FILE_MODE: u32 = 0o600;

/// Makes temporary names unique among threads of one process (the pid
/// separates processes), without needing randomness.
static TMP_COUNTER: AtomicU32 = AtomicU32::new(0);

/// Sets each `(key, value)` in the `.env` file at `path` and returns the keys
/// whose value actually changed, in the order given.
///
/// Each value is written in the one form every reader of [`READERS`] reads
/// back byte for byte (bare, else single quotes, else double quotes); a
/// value no form carries is refused before the file is touched
/// ([`check_value`] says why).
///
/// The first line assigning a key (plain or `export KEY=`, the `export `,
/// a byte-order mark before it and an inline `# comment` after the value
/// kept) is rewritten; later lines assigning the same key are removed, so
/// the file has one unambiguous value whatever "first wins"/"last wins" rule
/// its reader uses. Keys not in the file are appended. A line whose value is
/// already right is left exactly as it was, and an unchanged file is not
/// rewritten at all. A key given twice in `pairs` takes its last value.
/// New lines take the file's line ending; in a CRLF file without a final
/// line break they go before its last line, whose value then stays free of
/// a CR for readers that keep one.
///
/// A missing file is created with mode 0600; an existing one keeps its mode
/// (and, where permitted, its owner). The write is atomic: a temporary file
/// in the same directory renamed over the original, so a crash leaves the
/// old file or the new one, never half of one. A symlink is followed and its
/// target replaced.
///
/// Errors: the I/O error reading or writing the file; `InvalidInput` for
/// a key that is not a valid name or a value no quoting carries to every
/// reader (naming the key and the character, never the value);
/// `InvalidData` when the file has an
/// unclosed quote (a key written after it could not be read back).
pub fn set_keys(path: &Path, pairs: &[(&str, &str)]) -> io::Result<Vec<String>> {
    // Deduplicate, keeping first position and last value.
    let mut wanted: Vec<(&str, &str)> = Vec::new();
    for &(k, v) in pairs {
        if !valid_key(k) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "invalid .env key {k:?}: use letters, digits and _, not starting with a digit"
                ),
            ));
        }
        match wanted.iter_mut().find(|(wk, _)| *wk == k) {
            Some(slot) => slot.1 = v,
            None => wanted.push((k, v)),
        }
    }
    // Every value must have a form all readers read back, before the file
    // is touched.
    let mut formatted = Vec::with_capacity(wanted.len());
    for (k, v) in &wanted {
        match format_value(v) {
            Some(f) => formatted.push(f),
            None => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "the value for {k} contains {}{}",
                        unwritable(v).unwrap_or_default(),
                        if v.ends_with('\n') {
                            String::new()
                        } else {
                            format!(
                                ": no quoting carries it unchanged to every .env reader ({READERS})"
                            )
                        }
                    ),
                ));
            }
        }
    }

    let target = resolve(path);
    let original = match fs::read_to_string(&target) {
        Ok(s) => Some(s),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let text = original.as_deref().unwrap_or("");
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };

    let entries = parse(text);
    // A quote left open would swallow every line written after it: refuse
    // rather than write keys no reader would find.
    if let Some(open) = entries
        .iter()
        .find(|e| e.assignment.as_ref().is_some_and(|a| a.unterminated))
    {
        let line = text[..open.range.start].matches('\n').count() + 1;
        let key = open
            .assignment
            .as_ref()
            .map(|a| a.key.as_str())
            .unwrap_or("");
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("line {line}: the value of {key} opens a quote that is never closed"),
        ));
    }
    let mut out = String::with_capacity(text.len() + 64 * wanted.len());
    let mut seen = vec![false; wanted.len()];
    let mut changed = vec![false; wanted.len()];
    // Where the last entry kept in `out` starts.
    let mut last_start = 0;
    for entry in entries {
        let raw = &text[entry.range.clone()];
        let Some((a, idx)) = entry.assignment.as_ref().and_then(|a| {
            let idx = wanted.iter().position(|(k, _)| *k == a.key)?;
            Some((a, idx))
        }) else {
            last_start = out.len();
            out.push_str(raw);
            continue;
        };
        let (key, value) = wanted[idx];
        if a.value != value {
            changed[idx] = true;
        }
        if seen[idx] {
            continue; // a later duplicate: dropped
        }
        seen[idx] = true;
        last_start = out.len();
        if a.value == value {
            out.push_str(raw);
        } else {
            let ending = line_ending(raw);
            out.push_str(&raw[..a.key_start]);
            out.push_str(key);
            out.push('=');
            out.push_str(&formatted[idx]);
            // An inline comment after the value stays.
            out.push_str(&raw[a.tail.clone()]);
            out.push_str(ending);
        }
    }

    let mut appended = String::new();
    for (idx, (key, _)) in wanted.iter().enumerate() {
        if seen[idx] {
            continue;
        }
        changed[idx] = true;
        appended.push_str(key);
        appended.push('=');
        appended.push_str(&formatted[idx]);
        appended.push_str(eol);
    }
    if !appended.is_empty() {
        if out.is_empty() || out.ends_with('\n') {
            out.push_str(&appended);
        } else if eol == "\r\n" {
            // A CRLF file without a final line break: the new lines go before
            // its last line, which keeps its missing line break (a CR after
            // it would end up in its value for readers that keep CRs).
            out.insert_str(last_start, &appended);
        } else {
            out.push_str(eol);
            out.push_str(&appended);
        }
    }

    if original.as_deref() != Some(out.as_str()) {
        write_atomic(&target, out.as_bytes())?;
    }
    Ok(wanted
        .iter()
        .zip(changed)
        .filter(|(_, c)| *c)
        .map(|((k, _), _)| (*k).to_string())
        .collect())
}

/// A place in a `.env` file that the readers of [`READERS`] read
/// differently, found before an edit so the user hears of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    /// 1-based line; 0 for the whole file.
    pub line: usize,
    /// The key of that line, if any.
    pub key: Option<String>,
    /// Which readers disagree and how; never the value.
    pub why: String,
}

impl std::fmt::Display for Disagreement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, &self.key) {
            (0, _) => write!(f, "{}", self.why),
            (n, Some(k)) => write!(f, "line {n} ({k}): {}", self.why),
            (n, None) => write!(f, "line {n}: {}", self.why),
        }
    }
}

/// The places in the `.env` text `text` where the readers of [`READERS`]
/// do not agree on a key or its value (measured with dotenv 18,
/// dotenv-expand 1000, @next/env 16, python-dotenv 1.2 and bash; see
/// docs/reference/credentials.md). Each is one a person can fix.
pub fn disagreements(text: &str) -> Vec<Disagreement> {
    let mut found = Vec::new();
    if text.contains('\r') {
        found.push(Disagreement {
            line: 0,
            key: None,
            why: "the file has CRLF line endings: a shell sourcing it (`set -a; . FILE`) keeps a carriage return at the end of every value; the other readers do not".into(),
        });
    }
    let line_of = |at: usize| text[..at].matches('\n').count() + 1;
    for entry in parse(text) {
        let raw = &text[entry.range.clone()];
        let line = line_of(entry.range.start);
        let Some(a) = &entry.assignment else {
            continue;
        };
        let mut say = |why: &str| {
            found.push(Disagreement {
                line,
                key: Some(a.key.clone()),
                why: why.to_string(),
            })
        };
        if entry.range.start == 0 && raw.starts_with('\u{feff}') {
            say(
                "a byte-order mark precedes the key: python-dotenv reads the key with it (\\ufeff) and a shell fails on the line; dotenv and Next.js skip it (save the file as UTF-8 without BOM)",
            );
        }
        let after_key = raw[a.key_start + a.key.len()..].trim_start_matches([' ', '\t']);
        if raw[a.key_start + a.key.len()..].starts_with([' ', '\t'])
            || after_key[1..].starts_with([' ', '\t'])
        {
            say(
                "blanks around `=`: a shell runs the line as a command; the dotenv readers accept it",
            );
        }
        let value_text = after_key[1..].trim_start_matches([' ', '\t']);
        match value_text.chars().next() {
            Some('\'') => {
                if a.value.contains("\\\\") || a.value.ends_with('\\') {
                    say(
                        "a backslash in single quotes: python-dotenv reads `\\\\` as one backslash and a trailing one as escaping the quote; the others keep them",
                    );
                }
            }
            Some('"') => {
                if value_text.contains('\\') {
                    say(
                        "a backslash escape in double quotes: dotenv and Next.js undo only \\n and \\r, python-dotenv undoes more, a shell others",
                    );
                }
                if a.value.contains('`') {
                    say("a backtick in double quotes: a shell runs it as a command");
                }
            }
            Some('`') => say(
                "a backtick-quoted value: dotenv and Next.js read it as quoted, python-dotenv keeps the backticks, a shell runs it as a command",
            ),
            _ => {
                let v = a.value.as_str();
                if v.contains(|c: char| c.is_whitespace() || ";&|<>()`\\\"'".contains(c))
                    || v.starts_with('~')
                {
                    say(
                        "an unquoted value with blanks or shell characters: a shell sourcing the file reads it differently (quote it)",
                    );
                }
                let hash = value_text
                    .trim_end_matches(['\r', '\n'])
                    .char_indices()
                    .any(|(i, c)| c == '#' && i > 0 && !value_text[..i].ends_with([' ', '\t']));
                if hash {
                    say(
                        "a `#` inside an unquoted value: dotenv and Next.js end the value there, python-dotenv and a shell keep it",
                    );
                }
            }
        }
        let expands = a.value.char_indices().any(|(i, c)| {
            c == '$'
                && a.value[i + 1..]
                    .chars()
                    .next()
                    .is_some_and(|n| n.is_ascii_alphanumeric() || "_{(".contains(n))
        });
        if expands {
            say(
                "a `$` variable: dotenv-expand, Next.js and python-dotenv expand it (each its own way), dotenv keeps it",
            );
        }
    }
    found
}

/// The values of every assignment of `key` in the `.env` file at `path`, in
/// order, unquoted and unescaped (empty when the file or the key is
/// missing). Readers differ on a key given twice (dotenv, python-dotenv and
/// a shell take the last, `set -a`-less tools the first), so a caller that
/// must know what the app reads checks they agree.
pub fn read_values(path: &Path, key: &str) -> Vec<String> {
    let Ok(text) = fs::read_to_string(path) else {
        return Vec::new();
    };
    parse(&text)
        .into_iter()
        .filter_map(|e| e.assignment)
        .filter(|a| a.key == key)
        .map(|a| a.value)
        .collect()
}

/// The value of the first assignment of `key` in the `.env` file at `path`,
/// unquoted and unescaped; `None` when the file or the key is missing or the
/// file cannot be read.
pub fn read_value(path: &Path, key: &str) -> Option<String> {
    let text = fs::read_to_string(path).ok()?;
    parse(&text)
        .into_iter()
        .filter_map(|e| e.assignment)
        .find(|a| a.key == key)
        .map(|a| a.value)
}

fn valid_key(k: &str) -> bool {
    let mut chars = k.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Characters that never need quoting in any dotenv dialect or in `sh`.
fn is_plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_./:@%+=,-".contains(c)
}

/// The readers a value written by [`set_keys`] must reach unchanged; named
/// in its refusals and in [`disagreements`].
pub const READERS: &str =
    "dotenv, dotenv-expand, Next.js (@next/env), python-dotenv and a shell sourcing the file";

/// Why a value cannot be written so that every one of [`READERS`] reads it
/// back byte for byte: names the character, never the value.
fn unwritable(v: &str) -> Option<String> {
    if v.contains('$') {
        return Some("a `$`, which dotenv-expand, Next.js and python-dotenv expand as a variable (and dotenv-expand even runs `$(...)`) whatever the quoting, while dotenv and a shell in single quotes keep it".into());
    }
    if v.contains('\r') {
        return Some("a carriage return, which every reader turns into a line break".into());
    }
    // Quotes would carry it, but a line break at the end is a Secret's
    // trailing newline (`kubectl create secret --from-file` keeps a file's
    // last byte), which no output value carries (docs/security.md, "Secret
    // values with a line break"); one inside (a JWKS in JSON) is part of
    // the value and is written.
    if v.ends_with('\n') {
        return Some("a line break at its end (a Secret's trailing newline), which the suite writes into no output value".into());
    }
    let single = single_quote_blocker(v)?;
    let double = double_quote_blocker(v)?;
    Some(format!(
        "{single} (so it cannot go in single quotes) and {double} (so it cannot go in double quotes)"
    ))
}

/// What keeps `v` out of single quotes, which every reader keeps literally
/// except that python-dotenv undoes `\\` and `\'` there.
fn single_quote_blocker(v: &str) -> Option<&'static str> {
    if v.contains('\'') {
        Some("a `'`")
    } else if v.contains("\\\\") {
        Some("two backslashes in a row, which python-dotenv reads as one")
    } else if v.ends_with('\\') {
        Some("a backslash at the end, which python-dotenv reads as escaping the closing quote")
    } else {
        None
    }
}

/// What keeps `v` out of double quotes, where a shell interprets `\`, `$`
/// and backticks and the dotenv readers each undo different escapes.
fn double_quote_blocker(v: &str) -> Option<&'static str> {
    if v.contains('"') {
        Some("a `\"`")
    } else if v.contains('\\') {
        Some("a backslash")
    } else if v.contains('`') {
        Some("a backtick")
    } else {
        None
    }
}

/// Whether [`set_keys`] can write `v`: `Err` says which character no
/// quoting carries to every one of [`READERS`] (without the value).
pub fn check_value(v: &str) -> Result<(), String> {
    match unwritable(v) {
        Some(why) => Err(why),
        None => Ok(()),
    }
}

/// Writes `v` in the one form every one of [`READERS`] reads back byte for
/// byte: bare when made of characters none interprets, else in single
/// quotes (literal everywhere), else in double quotes when it has a `'` but
/// nothing a double-quoted string interprets. `None` when no form does
/// ([`check_value`] says why).
fn format_value(v: &str) -> Option<String> {
    if v.chars().all(is_plain) {
        return Some(v.to_string());
    }
    if unwritable(v).is_some() {
        return None;
    }
    if single_quote_blocker(v).is_none() {
        Some(format!("'{v}'"))
    } else {
        Some(format!("\"{v}\""))
    }
}

/// One logical line: usually a physical line, more when a quoted value runs
/// over several lines. `range` includes the line ending.
struct Entry {
    range: std::ops::Range<usize>,
    assignment: Option<Assignment>,
}

struct Assignment {
    key: String,
    /// Offset of the key within the entry: what precedes it (indent,
    /// `export `) is kept when the line is rewritten.
    key_start: usize,
    value: String,
    /// Within the entry: what follows the value on its last line, kept when
    /// the value is rewritten (blanks and a `# comment`; empty otherwise).
    tail: std::ops::Range<usize>,
    /// The value opens a quote the file never closes.
    unterminated: bool,
}

fn line_ending(raw: &str) -> &str {
    if raw.ends_with("\r\n") {
        "\r\n"
    } else if raw.ends_with('\n') {
        "\n"
    } else {
        ""
    }
}

/// End (exclusive, after the newline if any) of the line containing `at`.
fn line_end(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i + 1)
}

fn parse(text: &str) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut pos = 0;
    while pos < text.len() {
        let (end, assignment) = match parse_assignment(text, pos) {
            Some((end, a)) => (end, Some(a)),
            None => (line_end(text, pos), None),
        };
        entries.push(Entry {
            range: pos..end,
            assignment,
        });
        pos = end;
    }
    entries
}

/// Parses an assignment starting at line offset `start`; returns the end of
/// the logical line and the assignment, or `None` for any other line.
fn parse_assignment(text: &str, start: usize) -> Option<(usize, Assignment)> {
    let line = &text[start..line_end(text, start)];
    let blank = |c: char| c == ' ' || c == '\t';
    // A byte-order mark before the first line is not part of the key.
    let mut rest = if start == 0 {
        line.strip_prefix('\u{feff}').unwrap_or(line)
    } else {
        line
    };
    rest = rest.trim_start_matches(blank);
    if let Some(after) = rest.strip_prefix("export")
        && after.starts_with(blank)
    {
        rest = after.trim_start_matches(blank);
    }
    let key_start = line.len() - rest.len();
    let key_len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let key = &rest[..key_len];
    if !valid_key(key) {
        return None;
    }
    let after_key = rest[key_len..].trim_start_matches(blank);
    let value_text = after_key.strip_prefix('=')?.trim_start_matches(blank);
    let value_at = start + (line.len() - value_text.len());

    let (end, value, unterminated, tail_at) = match value_text.chars().next() {
        Some(q @ ('"' | '\'')) => match quoted(text, value_at + 1, q) {
            Some((close, v)) => (line_end(text, close), v, false, close + 1),
            // Unterminated: read the rest of the line literally.
            None => {
                let end = start + line.len();
                (end, unquoted(value_text), true, end)
            }
        },
        _ => {
            let v = unquoted(value_text);
            (start + line.len(), v.clone(), false, value_at + v.len())
        }
    };
    // The tail: to the end of the last line, without its line break; kept
    // only when it is blanks and perhaps a comment.
    let body_end = end - line_ending(&text[tail_at.min(end)..end]).len();
    let tail_text = &text[tail_at.min(body_end)..body_end];
    let tail = if tail_text.trim_start_matches(blank).is_empty()
        || (tail_text.starts_with(blank) && tail_text.trim_start_matches(blank).starts_with('#'))
    {
        (tail_at.min(body_end) - start)..(body_end - start)
    } else {
        0..0
    };
    Some((
        end,
        Assignment {
            key: key.to_string(),
            key_start,
            value,
            tail,
            unterminated,
        },
    ))
}

/// An unquoted value: up to the line end or a ` #` comment, trimmed.
fn unquoted(v: &str) -> String {
    let v = v.trim_end_matches(['\r', '\n']);
    let mut cut = v.len();
    let bytes = v.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'#' && (i == 0 || bytes[i - 1] == b' ' || bytes[i - 1] == b'\t') {
            cut = i;
            break;
        }
    }
    v[..cut].trim_end_matches([' ', '\t']).to_string()
}

/// A quoted value whose opening quote `q` ends just before `from`: returns
/// the offset of the closing quote and the value. Double quotes honour the
/// escapes [`format_value`] writes; single quotes are literal.
fn quoted(text: &str, from: usize, q: char) -> Option<(usize, String)> {
    let mut out = String::new();
    let mut chars = text[from..].char_indices();
    while let Some((i, c)) = chars.next() {
        if c == q {
            return Some((from + i, out));
        }
        if q == '"' && c == '\\' {
            match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 'r')) => out.push('\r'),
                Some((_, 't')) => out.push('\t'),
                Some((_, e @ ('"' | '\\' | '$' | '`'))) => out.push(e),
                Some((_, other)) => {
                    out.push('\\');
                    out.push(other);
                }
                None => return None,
            }
        } else {
            out.push(c);
        }
    }
    None
}

/// The file to replace: a symlink's target, so the link survives.
fn resolve(path: &Path) -> PathBuf {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    }
}

fn write_atomic(target: &Path, data: &[u8]) -> io::Result<()> {
    let existing = match fs::metadata(target) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = target
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file path"))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{}",
        name.to_string_lossy(),
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));

    let result = (|| {
        // 0600 from the first byte: the content may be secret even when the
        // final mode is wider.
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(NEW_FILE_MODE)
            .open(&tmp)?;
        f.write_all(data)?;
        let mode = existing
            .as_ref()
            .map_or(NEW_FILE_MODE, |m| m.permissions().mode() & 0o7777);
        // Explicit: `mode()` above is filtered by the umask.
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        if let Some(m) = &existing {
            // Best effort: only root may give a file away; a failure leaves
            // the file ours, which is what a plain write would do too.
            let _ = std::os::unix::fs::fchown(&f, Some(m.uid()), Some(m.gid()));
        }
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, target)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
        return result;
    }
    // Make the rename itself durable; not all filesystems allow this.
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn creates_with_0600() {
        let d = dir();
        let p = d.path().join(".env");
        let changed = set_keys(&p, &[("A", "1"), ("B", "two words")]).unwrap();
        assert_eq!(changed, ["A", "B"]);
        assert_eq!(fs::read_to_string(&p).unwrap(), "A=1\nB='two words'\n");
        assert_eq!(mode(&p), 0o600);
        // No temporary file left behind.
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn preserves_other_lines_byte_for_byte() {
        let d = dir();
        let p = d.path().join(".env");
        let before = "# database\n\nDB_HOST=localhost   # local\n  OTHER='x y'\nTOKEN=old\n#TOKEN=commented\nLAST=1";
        fs::write(&p, before).unwrap();
        let changed = set_keys(&p, &[("TOKEN", "new"), ("ADDED", "a b")]).unwrap();
        assert_eq!(changed, ["TOKEN", "ADDED"]);
        assert_eq!(
            fs::read_to_string(&p).unwrap(),
            "# database\n\nDB_HOST=localhost   # local\n  OTHER='x y'\nTOKEN=new\n#TOKEN=commented\nLAST=1\nADDED='a b'\n"
        );
        assert_eq!(read_value(&p, "DB_HOST").as_deref(), Some("localhost"));
        assert_eq!(read_value(&p, "OTHER").as_deref(), Some("x y"));
        assert_eq!(read_value(&p, "ADDED").as_deref(), Some("a b"));
        assert_eq!(read_value(&p, "MISSING"), None);
    }

    #[test]
    fn second_run_changes_only_changed_keys() {
        let d = dir();
        let p = d.path().join(".env");
        set_keys(&p, &[("A", "1"), ("B", "2")]).unwrap();
        let mtime = fs::metadata(&p).unwrap().modified().unwrap();
        assert!(set_keys(&p, &[("A", "1"), ("B", "2")]).unwrap().is_empty());
        // Untouched file: not rewritten.
        assert_eq!(fs::metadata(&p).unwrap().modified().unwrap(), mtime);
        assert_eq!(set_keys(&p, &[("A", "1"), ("B", "3")]).unwrap(), ["B"]);
        assert_eq!(fs::read_to_string(&p).unwrap(), "A=1\nB=3\n");
    }

    #[test]
    fn same_value_differently_quoted_is_unchanged() {
        let d = dir();
        let p = d.path().join(".env");
        fs::write(&p, "A=\"plain\"\nB='x y'\n").unwrap();
        assert!(
            set_keys(&p, &[("A", "plain"), ("B", "x y")])
                .unwrap()
                .is_empty()
        );
        assert_eq!(fs::read_to_string(&p).unwrap(), "A=\"plain\"\nB='x y'\n");
    }

    #[test]
    fn export_form_kept() {
        let d = dir();
        let p = d.path().join(".env");
        fs::write(&p, "export TOKEN=old\n\texport  URL=x\n").unwrap();
        assert_eq!(
            set_keys(&p, &[("TOKEN", "new"), ("URL", "y")]).unwrap(),
            ["TOKEN", "URL"]
        );
        assert_eq!(
            fs::read_to_string(&p).unwrap(),
            "export TOKEN=new\n\texport  URL=y\n"
        );
        assert_eq!(read_value(&p, "TOKEN").as_deref(), Some("new"));
    }

    #[test]
    fn duplicates_removed() {
        let d = dir();
        let p = d.path().join(".env");
        fs::write(&p, "K=1\nX=keep\nK=2\nexport K=3\n").unwrap();
        assert_eq!(set_keys(&p, &[("K", "1")]).unwrap(), ["K"]);
        assert_eq!(fs::read_to_string(&p).unwrap(), "K=1\nX=keep\n");
        // Identical duplicates are removed but nothing "changed".
        fs::write(&p, "K=1\nK=1\n").unwrap();
        assert!(set_keys(&p, &[("K", "1")]).unwrap().is_empty());
        assert_eq!(fs::read_to_string(&p).unwrap(), "K=1\n");
    }

    #[test]
    fn existing_mode_kept() {
        let d = dir();
        let p = d.path().join(".env");
        fs::write(&p, "A=1\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        set_keys(&p, &[("A", "2")]).unwrap();
        assert_eq!(mode(&p), 0o640);
    }

    #[test]
    fn trailing_newline_and_crlf() {
        let d = dir();
        let p = d.path().join(".env");
        fs::write(&p, "A=1").unwrap();
        set_keys(&p, &[("B", "2")]).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "A=1\nB=2\n");
        fs::write(&p, "A=1\r\nC=3\r\n").unwrap();
        set_keys(&p, &[("A", "9"), ("B", "2")]).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "A=9\r\nC=3\r\nB=2\r\n");
        assert_eq!(read_value(&p, "C").as_deref(), Some("3"));
    }

    #[test]
    fn quoting_round_trips() {
        let d = dir();
        let p = d.path().join(".env");
        let values = [
            "",
            "postgres://u:p@h:5432/db?sslmode=disable",
            "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiciJ9.sig-_",
            "a b",
            "quote\"inside",
            "back\\slash",
            "`cmd`",
            "two\nlines",
            "hash # not comment",
            "#leading",
            "it's",
            "tab\there",
            " both ",
            "é",
        ];
        for v in values {
            set_keys(&p, &[("V", v), ("AFTER", "z")]).unwrap();
            assert_eq!(read_value(&p, "V").as_deref(), Some(v), "{v:?}");
            assert_eq!(read_value(&p, "AFTER").as_deref(), Some("z"), "{v:?}");
            // Idempotent: the same value is not a change.
            assert!(set_keys(&p, &[("V", v)]).unwrap().is_empty(), "{v:?}");
        }
        assert_eq!(
            format_value("abc.DEF_1:/@%+=,-").unwrap(),
            "abc.DEF_1:/@%+=,-"
        );
        assert_eq!(format_value("a\"b\\c`e\nf").unwrap(), "'a\"b\\c`e\nf'");
        assert_eq!(format_value("ef\n"), None);
        assert_eq!(format_value("it's").unwrap(), "\"it's\"");
    }

    #[test]
    fn values_no_form_carries_are_refused_naming_the_character() {
        let d = dir();
        let p = d.path().join(".env");
        fs::write(&p, "A=1\n").unwrap();
        for (v, names) in [
            ("pa$word", "`$`"),
            ("a\rb", "carriage return"),
            ("secret\n", "line break"),
            ("it's \"x\"", "`\"`"),
            ("it's \\", "backslash"),
            ("c:\\dir\\", "backslash at the end"),
            ("a\\\\b`", "two backslashes"),
        ] {
            let e = set_keys(&p, &[("K", v), ("B", "2")]).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{v:?}");
            let msg = e.to_string();
            assert!(msg.contains(names) && msg.contains("for K"), "{v:?}: {msg}");
            assert!(!msg.contains(v), "the value is not in the message");
            assert!(check_value(v).is_err());
        }
        assert_eq!(fs::read_to_string(&p).unwrap(), "A=1\n");
    }

    #[test]
    fn bom_comments_and_crlf_are_kept() {
        let d = dir();
        let p = d.path().join(".env");
        fs::write(&p, "\u{feff}TOKEN=old # the token\nX='y'  # why\n").unwrap();
        assert_eq!(read_value(&p, "TOKEN").as_deref(), Some("old"));
        assert_eq!(
            set_keys(&p, &[("TOKEN", "new"), ("X", "a b")]).unwrap(),
            ["TOKEN", "X"]
        );
        assert_eq!(
            fs::read_to_string(&p).unwrap(),
            "\u{feff}TOKEN=new # the token\nX='a b'  # why\n"
        );
        // CRLF without a final line break: the last line keeps its value
        // for readers that keep CRs; the new keys go before it.
        fs::write(&p, "A=1\r\nB=2").unwrap();
        set_keys(&p, &[("C", "3")]).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "A=1\r\nC=3\r\nB=2");
        set_keys(&p, &[("B", "9"), ("D", "4")]).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "A=1\r\nC=3\r\nD=4\r\nB=9");
    }

    #[test]
    fn disagreements_are_found() {
        let text = "\u{feff}A=1\r\nB = 2\r\nC='x\\\\y'\r\nD=\"a\\tb\"\r\nE=a b\r\nF=x#y\r\nG=$HOME\r\nH=`x`\r\nOK='fine'  # c\r\n";
        let found: Vec<(usize, Option<String>)> = disagreements(text)
            .into_iter()
            .map(|d| (d.line, d.key))
            .collect();
        let key = |s: &str| Some(s.to_string());
        for want in [
            (0, None),
            (1, key("A")),
            (2, key("B")),
            (3, key("C")),
            (4, key("D")),
            (5, key("E")),
            (6, key("F")),
            (7, key("G")),
            (8, key("H")),
        ] {
            assert!(found.contains(&want), "{want:?} in {found:?}");
        }
        assert!(
            !found.iter().any(|(_, k)| k.as_deref() == Some("OK")),
            "{found:?}"
        );
        assert!(disagreements("A=1\nB='x y' # c\nexport C=\"it's\"\n").is_empty());
    }

    #[test]
    fn multi_line_quoted_value_replaced_whole() {
        let d = dir();
        let p = d.path().join(".env");
        fs::write(&p, "KEY=\"-----BEGIN\nabc\n-----END\"\nNEXT=1\n").unwrap();
        assert_eq!(
            read_value(&p, "KEY").as_deref(),
            Some("-----BEGIN\nabc\n-----END")
        );
        set_keys(&p, &[("KEY", "short")]).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "KEY=short\nNEXT=1\n");
    }

    #[test]
    fn spaces_around_equals_and_inline_comments() {
        let d = dir();
        let p = d.path().join(".env");
        fs::write(&p, "A = 1 # one\nB=x#y\n").unwrap();
        assert_eq!(read_value(&p, "A").as_deref(), Some("1"));
        assert_eq!(read_value(&p, "B").as_deref(), Some("x#y"));
        assert!(set_keys(&p, &[("A", "1")]).unwrap().is_empty());
        set_keys(&p, &[("A", "2")]).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "A=2 # one\nB=x#y\n");
    }

    #[test]
    fn bad_keys_and_repeated_pairs() {
        let d = dir();
        let p = d.path().join(".env");
        for k in ["", "1A", "A-B", "A B", "A=B"] {
            let e = set_keys(&p, &[(k, "v")]).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{k:?}");
        }
        assert!(!p.exists());
        assert_eq!(set_keys(&p, &[("A", "1"), ("A", "2")]).unwrap(), ["A"]);
        assert_eq!(fs::read_to_string(&p).unwrap(), "A=2\n");
    }

    #[test]
    fn symlink_followed() {
        let d = dir();
        let real = d.path().join("real.env");
        let link = d.path().join(".env");
        fs::write(&real, "A=1\n").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        set_keys(&link, &[("A", "2")]).unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&real).unwrap(), "A=2\n");
    }

    #[test]
    fn missing_directory_is_an_error() {
        let d = dir();
        let p = d.path().join("nope").join(".env");
        assert!(set_keys(&p, &[("A", "1")]).is_err());
        assert_eq!(read_value(&p, "A"), None);
    }
}
