//! The streaming statement splitter: turns a SQL script read from any
//! `BufRead` into statements, meta-commands and inline COPY data, the way
//! psql's `psqlscan.l` does. It holds one statement at a time and reads its
//! input in chunks, so memory stays flat whatever the file size.
//!
//! It is not a SQL parser and never talks to a server: executing, `\if`
//! evaluation and meta-command arguments belong to the runner. The only
//! server state it needs (`standard_conforming_strings`) is a public field
//! the runner keeps in sync.

use super::encoding::{ClientEncoding, decode_mapped};
use super::vars::{Variables, quote_ident, quote_literal};
use std::io::{self, BufRead};

/// A place in the input: 1-based line and column (in characters, as
/// PostgreSQL counts error positions) and the 0-based byte offset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pos {
    pub line: u64,
    pub column: u64,
    pub offset: u64,
}

/// What a statement asks of the client beyond sending it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CopyKind {
    /// `COPY ... FROM STDIN`: data lines follow in the input (`csv` tells
    /// whether a quoted `\.` line is data).
    FromStdin { csv: bool },
    /// `COPY ... TO STDOUT`: the data goes to the output writer.
    ToStdout,
}

/// One SQL statement, as psql would send it (interpolated, with its `;`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub text: String,
    /// Where the statement's first token starts (leading `/* */` comments
    /// are sent, but are not where a reader looks for the statement).
    pub start: Pos,
    pub copy: Option<CopyKind>,
    /// Whether `\;` joined several statements into this one request.
    pub joined: bool,
    /// The statement's bytes when they are not valid in the client
    /// encoding (`text` then holds them with `?` for each byte that is not
    /// UTF-8, one for one, for messages and positions):
    /// the server reports that error, as it would to psql.
    pub undecodable: Option<Vec<u8>>,
    /// (byte offset in `text`, source position of that byte): one entry
    /// per source line and per interpolated variable, enough to turn a
    /// server error position back into a file position.
    map: Vec<(usize, Pos)>,
}

impl Statement {
    /// The source line and column of `position`, the 1-based character
    /// index PostgreSQL reports in an error.
    pub fn locate(&self, position: u32) -> (u64, u64) {
        let chars = (position.max(1) - 1) as usize;
        let byte = self
            .text
            .char_indices()
            .nth(chars)
            .map(|(b, _)| b)
            .unwrap_or(self.text.len());
        let idx = match self.map.binary_search_by(|(b, _)| b.cmp(&byte)) {
            Ok(i) => i,
            Err(0) => return (self.start.line, self.start.column),
            Err(i) => i - 1,
        };
        let (seg_byte, pos) = self.map[idx];
        // The characters that start in the segment. A segment may start
        // inside a character: the lead byte before a meta-command line
        // and the rest after it (`\xC2\set a b` then `\x80`) make one
        // valid character; it belongs to the segment of its first byte.
        let from = next_boundary(&self.text, seg_byte).min(byte);
        let extra = self.text[from..byte].chars().count() as u64;
        (pos.line, pos.column + extra)
    }

    /// A statement built by the runner (`\gexec` cells), located at `start`.
    pub fn synthetic(text: String, start: Pos) -> Statement {
        Statement {
            text,
            start,
            copy: None,
            joined: false,
            map: vec![(0, start)],
            undecodable: None,
        }
    }

    /// The text of the statement's first line, from its first token.
    pub fn first_line(&self) -> &str {
        // The segment holding the first token: same line, nearest column.
        let (b, p) = self
            .map
            .iter()
            .rev()
            .find(|(_, p)| p.line == self.start.line && p.column <= self.start.column)
            .copied()
            .unwrap_or((0, self.start));
        let skip = (self.start.column - p.column) as usize;
        let rest = &self.text[next_boundary(&self.text, b)..];
        let from = rest
            .char_indices()
            .nth(skip)
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        rest[from..].lines().next().unwrap_or("").trim_end()
    }
}

/// A backslash command: its name without the backslash, and the raw rest of
/// its line (the runner parses it, because arguments interpolate variables
/// that `\set` may just have changed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meta {
    pub name: String,
    pub args: String,
    pub pos: Pos,
}

/// What the lexer yields, in input order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    Statement(Statement),
    Meta(Meta),
    /// A chunk of inline COPY data (whole lines, up to about 64 KiB).
    CopyData(Vec<u8>),
    /// The `\.` line that ends inline COPY data.
    CopyEnd,
}

#[derive(Debug, thiserror::Error)]
pub enum LexError {
    #[error("reading the input: {0}")]
    Io(#[from] io::Error),
    #[error("unterminated {what} starting here")]
    Unterminated { what: &'static str, pos: Pos },
    /// Not an error: the lexer needs the server's current
    /// `standard_conforming_strings` to split on from `pos` (see
    /// [`Lexer::scs_verified`]). Set the field, turn `scs_verified` on and
    /// call [`Lexer::next_item`] again: it goes on where it stopped.
    #[error("the value of standard_conforming_strings is needed here")]
    SettingNeeded { pos: Pos },
    /// Input the lexer cannot take, with what to do about it.
    #[error("{message}")]
    Invalid {
        message: String,
        hint: &'static str,
        pos: Pos,
    },
}

impl LexError {
    pub fn pos(&self) -> Option<Pos> {
        match self {
            LexError::Io(_) => None,
            LexError::Unterminated { pos, .. }
            | LexError::Invalid { pos, .. }
            | LexError::SettingNeeded { pos } => Some(*pos),
        }
    }
}

const CHUNK: usize = 64 * 1024;

/// What to do about input that is not UTF-8.
const UTF8_HINT: &str = "save the file as UTF-8, e.g. `iconv -f LATIN1 -t UTF-8 FILE > FILE.utf8`";

/// A byte reader with arbitrary lookahead and position tracking.
struct Input<R> {
    r: R,
    buf: Vec<u8>,
    at: usize,
    eof: bool,
    pos: Pos,
    /// Interpolated `:name` values being lexed (innermost last): the
    /// variable's name and where its bytes end in `buf`. Their bytes do not
    /// move the source position, and a variable is not expanded inside its
    /// own value (psql's recursion guard).
    virt: Vec<(String, usize)>,
}

impl<R: BufRead> Input<R> {
    fn fill(&mut self, need: usize) -> io::Result<bool> {
        while self.buf.len() - self.at < need && !self.eof {
            // Drop consumed bytes so the buffer holds only the lookahead.
            if self.at > 0 {
                self.buf.drain(..self.at);
                for (_, end) in &mut self.virt {
                    *end -= self.at;
                }
                self.at = 0;
            }
            let chunk = match self.r.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                self.eof = true;
                break;
            }
            let n = chunk.len();
            self.buf.extend_from_slice(chunk);
            self.r.consume(n);
        }
        Ok(self.buf.len() - self.at >= need)
    }

    fn peek(&mut self, i: usize) -> io::Result<Option<u8>> {
        Ok(if self.fill(i + 1)? {
            Some(self.buf[self.at + i])
        } else {
            None
        })
    }

    /// Whether the next byte comes from an interpolated value.
    fn in_virtual(&mut self) -> bool {
        while let Some((_, end)) = self.virt.last() {
            if *end > self.at {
                return true;
            }
            self.virt.pop();
        }
        false
    }

    fn expanding(&self, name: &str) -> bool {
        self.virt.iter().any(|(n, end)| n == name && *end > self.at)
    }

    /// Lex `value` next, as psql does with a `:name` value.
    fn insert(&mut self, name: &str, value: &[u8]) {
        self.buf.splice(self.at..self.at, value.iter().copied());
        for (_, end) in &mut self.virt {
            *end += value.len();
        }
        self.virt.push((name.to_owned(), self.at + value.len()));
    }

    /// Consume one byte that `peek` has shown to exist.
    fn bump(&mut self) -> u8 {
        let b = self.buf[self.at];
        if self.in_virtual() {
            self.at += 1;
            return b;
        }
        self.at += 1;
        self.pos.offset += 1;
        if b == b'\n' {
            self.pos.line += 1;
            self.pos.column = 1;
        } else if b & 0xC0 != 0x80 {
            // Count characters, not UTF-8 continuation bytes.
            self.pos.column += 1;
        }
        b
    }

    /// Append one line (with its newline, if any) to `out`; false at EOF.
    fn read_line(&mut self, out: &mut Vec<u8>) -> io::Result<bool> {
        let mut any = false;
        while self.fill(1)? {
            any = true;
            // What is left of an interpolated value is part of the line but
            // not of the source: byte by byte, so its end is seen.
            if self.in_virtual() {
                let b = self.bump();
                out.push(b);
                if b == b'\n' {
                    return Ok(true);
                }
                continue;
            }
            let avail = &self.buf[self.at..];
            if let Some(nl) = avail.iter().position(|&b| b == b'\n') {
                out.extend_from_slice(&avail[..=nl]);
                self.at += nl + 1;
                self.pos.offset += nl as u64 + 1;
                self.pos.line += 1;
                self.pos.column = 1;
                return Ok(true);
            }
            out.extend_from_slice(avail);
            let n = avail.len();
            self.at += n;
            self.pos.offset += n as u64;
            self.pos.column += n as u64;
        }
        Ok(any)
    }
}

fn ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn ident_cont(b: u8) -> bool {
    ident_start(b) || b.is_ascii_digit() || b == b'$'
}

fn var_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

enum Mode {
    Sql,
    CopyData { csv: bool, opened: Pos },
    CopyEndPending,
    Done,
}

/// The streaming lexer. Call [`Lexer::next_item`] until it returns `None`.
pub struct Lexer<R> {
    input: Input<R>,
    /// Whether `'...'` strings are standard (no backslash escapes); the
    /// runner updates it from the server after `SET standard_conforming_strings`.
    pub standard_conforming_strings: bool,
    /// Whether `standard_conforming_strings` is known to be the server's
    /// current value. When off, the lexer asks for it
    /// ([`LexError::SettingNeeded`]) before the first place where the
    /// value changes how the input splits. The runner turns it off after
    /// each statement it sends (any statement may change the setting:
    /// `SET`, `RESET`, `COMMIT` after `SET LOCAL`, a function calling
    /// `set_config`, ...).
    pub scs_verified: bool,
    /// Inside a plain string when the lexer stopped for the setting: where
    /// the string opened.
    resume_string: Option<Pos>,
    /// The encoding the input's bytes are in (psql's client encoding); the
    /// runner keeps it in step with `SET client_encoding` and `\encoding`.
    pub encoding: ClientEncoding,
    mode: Mode,
    // The statement being collected.
    buf: Vec<u8>,
    map: Vec<(usize, Pos)>,
    new_segment: bool,
    in_value: bool,
    start: Option<Pos>,
    paren_depth: u32,
    // psql's BEGIN ATOMIC heuristic: the first words of the statement and
    // the BEGIN/CASE ... END depth.
    identifier_count: usize,
    identifiers: [u8; 4],
    begin_depth: u32,
    // COPY detection: the first word, the previous word and what was seen.
    first_word_copy: bool,
    prev_word: String,
    from_stdin: bool,
    to_stdout: bool,
    csv: bool,
    joined: bool,
}

impl<R: BufRead> Lexer<R> {
    pub fn new(reader: R) -> Self {
        Lexer {
            input: Input {
                r: reader,
                buf: Vec::new(),
                at: 0,
                eof: false,
                pos: Pos {
                    line: 1,
                    column: 1,
                    offset: 0,
                },
                virt: Vec::new(),
            },
            standard_conforming_strings: true,
            scs_verified: true,
            resume_string: None,
            encoding: ClientEncoding::UTF8,
            mode: Mode::Sql,
            buf: Vec::new(),
            map: Vec::new(),
            new_segment: true,
            in_value: false,
            start: None,
            paren_depth: 0,
            identifier_count: 0,
            identifiers: [0; 4],
            begin_depth: 0,
            first_word_copy: false,
            prev_word: String::new(),
            from_stdin: false,
            to_stdout: false,
            csv: false,
            joined: false,
        }
    }

    /// The position of the next unread byte.
    pub fn pos(&self) -> Pos {
        self.input.pos
    }

    /// The query buffer so far as a statement (for `\g` and its kin, which
    /// end the statement being collected), or `None` when it is empty.
    pub fn take_statement(&mut self) -> Result<Option<Statement>, LexError> {
        match self.finish_statement()? {
            Some(Item::Statement(st)) => Ok(Some(st)),
            _ => Ok(None),
        }
    }

    /// Skip a UTF-8 byte-order mark at the very start of the input, as psql
    /// does on a file's first line when the client encoding is UTF8; the
    /// position stays line 1, column 1.
    pub fn skip_bom(&mut self) -> Result<(), LexError> {
        if self.input.pos.offset == 0
            && self.peek(0)? == Some(0xEF)
            && self.peek(1)? == Some(0xBB)
            && self.peek(2)? == Some(0xBF)
        {
            self.input.at += 3;
            self.input.pos.offset += 3;
        }
        Ok(())
    }

    /// Treat the lines that follow as COPY data up to `\.` (for
    /// `\copy ... from stdin`, whose data also comes from the script).
    pub fn start_copy_data(&mut self, csv: bool, opened: Pos) {
        self.mode = Mode::CopyData { csv, opened };
    }

    fn reset_statement(&mut self) {
        self.buf.clear();
        self.map.clear();
        self.new_segment = true;
        self.start = None;
        self.paren_depth = 0;
        self.identifier_count = 0;
        self.identifiers = [0; 4];
        self.begin_depth = 0;
        self.first_word_copy = false;
        self.prev_word.clear();
        self.from_stdin = false;
        self.to_stdout = false;
        self.csv = false;
        self.joined = false;
    }

    /// Consume one input byte into the statement buffer.
    fn echo(&mut self) {
        let pos = self.input.pos;
        let virt = self.input.in_virtual();
        if virt != self.in_value {
            // Entering or leaving an interpolated value: columns jump.
            self.in_value = virt;
            self.new_segment = true;
        }
        let b = self.input.bump();
        if self.new_segment {
            self.map.push((self.buf.len(), pos));
            self.new_segment = false;
        }
        self.buf.push(b);
        if b == b'\n' {
            self.new_segment = true;
        }
    }

    /// Mark the start of a token (the statement starts at its first one).
    fn token(&mut self) {
        if self.start.is_none() {
            self.start = Some(self.input.pos);
        }
    }

    fn peek(&mut self, i: usize) -> Result<Option<u8>, LexError> {
        Ok(self.input.peek(i)?)
    }

    fn finish_statement(&mut self) -> Result<Option<Item>, LexError> {
        let Some(start) = self.start else {
            // Only comments and semicolons: nothing worth sending.
            self.reset_statement();
            return Ok(None);
        };
        if self.buf.contains(&0) {
            return Err(LexError::Invalid {
                message: "statement contains a NUL byte, which PostgreSQL cannot take in SQL text (is this a binary file?)".into(),
                hint: "remove the NUL bytes: SQL text cannot hold them",
                pos: start,
            });
        }
        let raw = std::mem::take(&mut self.buf);
        let (text, map, undecodable) = if self.encoding.is_utf8() {
            // The usual case: the bytes become the text, no copy.
            match String::from_utf8(raw) {
                Ok(text) => (text, std::mem::take(&mut self.map), None),
                Err(e) => {
                    let raw = e.into_bytes();
                    (
                        same_length_lossy(&raw),
                        std::mem::take(&mut self.map),
                        Some(raw),
                    )
                }
            }
        } else {
            match decode_mapped(self.encoding, &raw, &self.map) {
                Some((text, map)) => (text, map, None),
                None => (
                    same_length_lossy(&raw),
                    std::mem::take(&mut self.map),
                    Some(raw),
                ),
            }
        };
        self.map.clear();
        let copy = if !self.first_word_copy {
            None
        } else if self.from_stdin {
            Some(CopyKind::FromStdin { csv: self.csv })
        } else if self.to_stdout {
            Some(CopyKind::ToStdout)
        } else {
            None
        };
        let joined = self.joined;
        self.reset_statement();
        if let Some(CopyKind::FromStdin { csv }) = copy {
            self.skip_rest_of_copy_line()?;
            self.mode = Mode::CopyData { csv, opened: start };
        }
        Ok(Some(Item::Statement(Statement {
            text,
            start,
            copy,
            joined,
            undecodable,
            map,
        })))
    }

    /// COPY data starts on the line after the COPY statement; only blanks
    /// and a `--` comment may follow the `;` on its own line.
    fn skip_rest_of_copy_line(&mut self) -> Result<(), LexError> {
        loop {
            match self.peek(0)? {
                None => return Ok(()),
                Some(b'\n') => {
                    self.input.bump();
                    return Ok(());
                }
                Some(b' ' | b'\t' | b'\r') => {
                    self.input.bump();
                }
                Some(b'-') if self.peek(1)? == Some(b'-') => {
                    while let Some(b) = self.peek(0)? {
                        if b == b'\n' {
                            break;
                        }
                        self.input.bump();
                    }
                }
                Some(_) => {
                    return Err(LexError::Invalid {
                        message: "text after COPY ... FROM STDIN on the same line is not supported"
                            .into(),
                        hint: "fix the input at this place",
                        pos: self.input.pos,
                    });
                }
            }
        }
    }

    /// The next statement, meta-command or COPY data chunk; `None` at the
    /// end of the input. After an error the lexer yields nothing more.
    pub fn next_item(&mut self, vars: &Variables) -> Result<Option<Item>, LexError> {
        let r = self.next_inner(vars);
        if r.is_err() && !matches!(r, Err(LexError::SettingNeeded { .. })) {
            self.mode = Mode::Done;
        }
        r
    }

    fn next_inner(&mut self, vars: &Variables) -> Result<Option<Item>, LexError> {
        loop {
            match self.mode {
                Mode::Done => return Ok(None),
                Mode::CopyEndPending => {
                    self.mode = Mode::Sql;
                    return Ok(Some(Item::CopyEnd));
                }
                Mode::CopyData { csv, opened } => return self.copy_chunk(csv, opened).map(Some),
                Mode::Sql => {}
            }
            if let Some(opened) = self.resume_string.take() {
                // Back after LexError::SettingNeeded: the string goes on
                // with the setting now known.
                let escapes = !self.standard_conforming_strings;
                self.quoted_body(b'\'', escapes, true, "quoted string", opened)?;
                continue;
            }
            let Some(b) = self.peek(0)? else {
                self.mode = Mode::Done;
                return self.finish_statement();
            };
            match b {
                b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => {
                    if self.buf.is_empty() {
                        self.input.bump();
                    } else {
                        self.echo();
                    }
                }
                b'-' if self.peek(1)? == Some(b'-') => {
                    // psql treats `--` comments as whitespace: dropped before
                    // the first token, kept inside a statement.
                    let keep = !self.buf.is_empty();
                    while let Some(c) = self.peek(0)? {
                        if c == b'\n' {
                            break;
                        }
                        if keep {
                            self.echo();
                        } else {
                            self.input.bump();
                        }
                    }
                }
                b'/' if self.peek(1)? == Some(b'*') => self.block_comment()?,
                b'\'' => {
                    self.token();
                    self.plain_string()?;
                }
                b'"' => {
                    self.token();
                    self.quoted(b'"', false, "quoted identifier")?;
                }
                b'$' => {
                    self.token();
                    self.dollar()?;
                }
                b'(' => {
                    self.token();
                    self.paren_depth += 1;
                    self.echo();
                }
                b')' => {
                    self.token();
                    self.paren_depth = self.paren_depth.saturating_sub(1);
                    self.echo();
                }
                b';' => {
                    self.echo();
                    if self.paren_depth == 0
                        && self.begin_depth == 0
                        && let Some(item) = self.finish_statement()?
                    {
                        return Ok(Some(item));
                    }
                }
                b'\\' => match self.peek(1)? {
                    Some(c @ (b';' | b':')) => {
                        // `\;` and `\:` put the character in the buffer
                        // without its special meaning.
                        self.token();
                        self.joined |= c == b';';
                        let pos = self.input.pos;
                        self.input.bump();
                        self.input.bump();
                        self.push_generated(&[c], pos);
                    }
                    _ => return self.meta().map(Some),
                },
                b':' => {
                    self.token();
                    self.colon(vars)?;
                }
                c if ident_start(c) => {
                    self.token();
                    self.word()?;
                }
                _ => {
                    self.token();
                    self.echo();
                }
            }
        }
    }

    /// Append bytes that don't come 1:1 from the input (an interpolated
    /// variable), mapped to the source position `pos`.
    fn push_generated(&mut self, bytes: &[u8], pos: Pos) {
        self.map.push((self.buf.len(), pos));
        self.buf.extend_from_slice(bytes);
        self.new_segment = true;
    }

    fn block_comment(&mut self) -> Result<(), LexError> {
        let opened = self.input.pos;
        self.echo();
        self.echo();
        let mut depth = 1u32;
        loop {
            match self.peek(0)? {
                None => {
                    return Err(LexError::Unterminated {
                        what: "/* comment",
                        pos: opened,
                    });
                }
                Some(b'/') if self.peek(1)? == Some(b'*') => {
                    depth += 1;
                    self.echo();
                    self.echo();
                }
                Some(b'*') if self.peek(1)? == Some(b'/') => {
                    self.echo();
                    self.echo();
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                Some(_) => self.echo(),
            }
        }
    }

    /// A quoted string or identifier, from its opening quote.
    fn quoted(&mut self, q: u8, escapes: bool, what: &'static str) -> Result<(), LexError> {
        let opened = self.input.pos;
        self.echo();
        self.quoted_body(q, escapes, false, what, opened)
    }

    /// A `'...'` (or `N'...'`) string, whose backslashes are escapes only
    /// when `standard_conforming_strings` is off.
    fn plain_string(&mut self) -> Result<(), LexError> {
        let opened = self.input.pos;
        self.echo();
        let escapes = !self.standard_conforming_strings;
        self.quoted_body(b'\'', escapes, true, "quoted string", opened)
    }

    /// The rest of a quoted string or identifier. `scs`: a plain string,
    /// whose end depends on `standard_conforming_strings`. The two rules
    /// split differently only at an odd run of backslashes before a `'`;
    /// there, when the setting is not known to be current
    /// (`scs_verified` off), the lexer stops with
    /// [`LexError::SettingNeeded`] before the run, keeping its state, and
    /// the next call goes on from there with the setting then given.
    fn quoted_body(
        &mut self,
        q: u8,
        escapes: bool,
        scs: bool,
        what: &'static str,
        opened: Pos,
    ) -> Result<(), LexError> {
        loop {
            match self.peek(0)? {
                None => return Err(LexError::Unterminated { what, pos: opened }),
                Some(b'\\') if scs && !self.scs_verified => {
                    let mut n = 1;
                    while self.peek(n)? == Some(b'\\') {
                        n += 1;
                    }
                    if n % 2 == 1 && self.peek(n)? == Some(b'\'') {
                        self.resume_string = Some(opened);
                        return Err(LexError::SettingNeeded {
                            pos: self.input.pos,
                        });
                    }
                    // Both rules take the run (and, when odd, the byte after
                    // it, not a quote) the same way.
                    for _ in 0..n {
                        self.echo();
                    }
                    if n % 2 == 1 && escapes && self.peek(0)?.is_some() {
                        self.echo();
                    }
                }
                Some(b'\\') if escapes => {
                    self.echo();
                    if self.peek(0)?.is_some() {
                        self.echo();
                    }
                }
                Some(c) if c == q => {
                    self.echo();
                    if self.peek(0)? == Some(q) {
                        self.echo();
                    } else {
                        return Ok(());
                    }
                }
                Some(_) => self.echo(),
            }
        }
    }

    /// `$`: a dollar quote `$tag$...$tag$`, a parameter `$1`, or a lone `$`.
    fn dollar(&mut self) -> Result<(), LexError> {
        let opened = self.input.pos;
        let mut n = 1;
        if let Some(c) = self.peek(1)?
            && (ident_start(c) || c == b'$')
        {
            while let Some(c) = self.peek(n)? {
                if ident_start(c) || c.is_ascii_digit() {
                    n += 1;
                } else {
                    break;
                }
            }
            if self.peek(n)? == Some(b'$') {
                let tag: Vec<u8> = self.input.buf[self.input.at..self.input.at + n + 1].to_vec();
                for _ in 0..=n {
                    self.echo();
                }
                return self.dollar_body(&tag, opened);
            }
        }
        // A parameter (`$1`), or `$abc` without a closing `$`: plain text.
        self.echo();
        for _ in 1..n {
            self.echo();
        }
        while let Some(c) = self.peek(0)? {
            if c.is_ascii_digit() && n == 1 {
                self.echo();
            } else {
                break;
            }
        }
        Ok(())
    }

    fn dollar_body(&mut self, tag: &[u8], opened: Pos) -> Result<(), LexError> {
        loop {
            match self.peek(0)? {
                None => {
                    return Err(LexError::Unterminated {
                        what: "dollar-quoted string",
                        pos: opened,
                    });
                }
                Some(b'$') => {
                    let mut matches = true;
                    for (i, &t) in tag.iter().enumerate().skip(1) {
                        if self.peek(i)? != Some(t) {
                            matches = false;
                            break;
                        }
                    }
                    if matches {
                        for _ in 0..tag.len() {
                            self.echo();
                        }
                        return Ok(());
                    }
                    self.echo();
                }
                Some(_) => self.echo(),
            }
        }
    }

    /// An identifier or keyword, or the prefix of `E'..'`, `B'..'`,
    /// `X'..'`, `N'..'`, `U&'..'`, `U&".."`.
    fn word(&mut self) -> Result<(), LexError> {
        let first = self.peek(0)?.unwrap_or(0);
        let next = self.peek(1)?;
        if next == Some(b'\'') {
            match first.to_ascii_lowercase() {
                b'e' => {
                    self.echo();
                    self.quoted(b'\'', true, "quoted string")?;
                    return Ok(());
                }
                b'n' => {
                    // psql: `N` then an ordinary string.
                    self.echo();
                    self.plain_string()?;
                    return Ok(());
                }
                b'b' | b'x' => {
                    self.echo();
                    self.quoted(b'\'', false, "quoted string")?;
                    return Ok(());
                }
                _ => {}
            }
        }
        if first.eq_ignore_ascii_case(&b'u') && next == Some(b'&') {
            match self.peek(2)? {
                Some(b'\'') => {
                    self.echo();
                    self.echo();
                    self.quoted(b'\'', false, "quoted string")?;
                    return Ok(());
                }
                Some(b'"') => {
                    self.echo();
                    self.echo();
                    self.quoted(b'"', false, "quoted identifier")?;
                    return Ok(());
                }
                _ => {}
            }
        }
        let mut word = Vec::new();
        while let Some(c) = self.peek(0)? {
            if !ident_cont(c) {
                break;
            }
            if word.len() < 32 {
                word.push(c.to_ascii_lowercase());
            }
            self.echo();
        }
        let word = String::from_utf8_lossy(&word).into_owned();
        self.track_word(&word);
        Ok(())
    }

    fn track_word(&mut self, w: &str) {
        // psqlscan.l's heuristic, verbatim in spirit: only inside
        // CREATE [OR REPLACE] FUNCTION|PROCEDURE do BEGIN/CASE/END nest.
        if self.identifier_count == 0 {
            self.identifiers = [0; 4];
            self.first_word_copy = w == "copy";
        }
        if matches!(w, "create" | "function" | "procedure" | "or" | "replace")
            && self.identifier_count < 4
        {
            self.identifiers[self.identifier_count] = w.as_bytes()[0];
        }
        self.identifier_count += 1;
        let id = self.identifiers;
        if id[0] == b'c'
            && (id[1] == b'f'
                || id[1] == b'p'
                || (id[1] == b'o' && id[2] == b'r' && (id[3] == b'f' || id[3] == b'p')))
            && self.paren_depth == 0
        {
            match w {
                "begin" => self.begin_depth += 1,
                "case" if self.begin_depth >= 1 => self.begin_depth += 1,
                "end" if self.begin_depth > 0 => self.begin_depth -= 1,
                _ => {}
            }
        }
        if self.first_word_copy {
            if self.paren_depth == 0 && self.prev_word == "from" && w == "stdin" {
                self.from_stdin = true;
            }
            if self.paren_depth == 0 && self.prev_word == "to" && w == "stdout" {
                self.to_stdout = true;
            }
            if w == "csv" {
                self.csv = true;
            }
            self.prev_word.clear();
            self.prev_word.push_str(w);
        }
    }

    /// `:name`, `:'name'`, `:"name"`, `:{?name}`, or a plain colon / `::`.
    fn colon(&mut self, vars: &Variables) -> Result<(), LexError> {
        let pos = self.input.pos;
        match self.peek(1)? {
            Some(b':') => {
                self.echo();
                self.echo();
                return Ok(());
            }
            Some(q @ (b'\'' | b'"')) => {
                let mut n = 2;
                while let Some(c) = self.peek(n)? {
                    if var_char(c) {
                        n += 1;
                    } else {
                        break;
                    }
                }
                if n > 2 && self.peek(n)? == Some(q) {
                    let name = self.slice(2, n);
                    if let Some(v) = vars.get(&name) {
                        let text = if q == b'\'' {
                            quote_literal(v)
                        } else {
                            quote_ident(v)
                        };
                        for _ in 0..=n {
                            self.input.bump();
                        }
                        let bytes = self.encoding.encode(&text);
                        self.push_generated(&bytes, pos);
                        return Ok(());
                    }
                    // Unset: psql leaves the text as is.
                    for _ in 0..=n {
                        self.echo();
                    }
                    return Ok(());
                }
            }
            Some(b'{') if self.peek(2)? == Some(b'?') => {
                let mut n = 3;
                while let Some(c) = self.peek(n)? {
                    if var_char(c) {
                        n += 1;
                    } else {
                        break;
                    }
                }
                if n > 3 && self.peek(n)? == Some(b'}') {
                    let name = self.slice(3, n);
                    let text = if vars.get(&name).is_some() {
                        "TRUE"
                    } else {
                        "FALSE"
                    };
                    for _ in 0..=n {
                        self.input.bump();
                    }
                    self.push_generated(text.as_bytes(), pos);
                    return Ok(());
                }
            }
            Some(c) if var_char(c) => {
                let mut n = 1;
                while let Some(c) = self.peek(n)? {
                    if var_char(c) {
                        n += 1;
                    } else {
                        break;
                    }
                }
                let name = self.slice(1, n);
                if let Some(v) = vars.get(&name)
                    && !self.input.expanding(&name)
                {
                    for _ in 0..n {
                        self.input.bump();
                    }
                    // psql lexes a raw value again: its quotes and
                    // semicolons count, as if written in place.
                    let bytes = self.encoding.encode(v);
                    self.input.insert(&name, &bytes);
                } else {
                    for _ in 0..n {
                        self.echo();
                    }
                }
                return Ok(());
            }
            _ => {}
        }
        self.echo();
        Ok(())
    }

    fn slice(&self, from: usize, to: usize) -> String {
        let at = self.input.at;
        String::from_utf8_lossy(&self.input.buf[at + from..at + to]).into_owned()
    }

    /// A backslash command: name up to blank or backslash, then the rest of
    /// the line as raw arguments.
    fn meta(&mut self) -> Result<Item, LexError> {
        let pos = self.input.pos;
        self.input.bump();
        let mut name = Vec::new();
        while let Some(c) = self.peek(0)? {
            if c.is_ascii_whitespace() || (c == b'\\' && !name.is_empty()) {
                break;
            }
            name.push(c);
            self.input.bump();
        }
        let mut args = Vec::new();
        // psql: the arguments end at the end of the line or at an unquoted
        // backslash; `\\` ends them and the rest of the line is SQL, any
        // other backslash starts the next meta-command. `\copy` (and the
        // other OT_WHOLE_LINE commands) take the whole line.
        let whole_line = matches!(
            name.as_slice(),
            b"copy" | b"!" | b"h" | b"help" | b"ef" | b"ev" | b"sf" | b"sv"
        );
        let mut quote: Option<u8> = None;
        let mut at_eol = false;
        while let Some(c) = self.peek(0)? {
            if c == b'\n' {
                self.input.bump();
                at_eol = true;
                break;
            }
            match quote {
                None if c == b'\\' && !whole_line => {
                    if self.peek(1)? == Some(b'\\') {
                        self.input.bump();
                        self.input.bump();
                    }
                    break;
                }
                None if matches!(c, b'\'' | b'"' | b'`') && !whole_line => quote = Some(c),
                Some(b'\'') if c == b'\\' => {
                    // An escape inside '...': the next byte is taken as is.
                    args.push(c);
                    self.input.bump();
                    match self.peek(0)? {
                        Some(b'\n') | None => continue,
                        Some(n) => {
                            args.push(n);
                            self.input.bump();
                            continue;
                        }
                    }
                }
                Some(q) if c == q => quote = None,
                _ => {}
            }
            args.push(c);
            self.input.bump();
        }
        if at_eol && args.last() == Some(&b'\r') {
            args.pop();
        }
        // A statement may go on after a meta-command in its middle: what
        // follows starts a new position segment (the next line).
        self.new_segment = true;
        let encoding = self.encoding;
        let to_string = |v: Vec<u8>| {
            encoding.decode(&v).ok_or_else(|| LexError::Invalid {
                message: format!("meta-command is not valid {}", encoding.name),
                hint: UTF8_HINT,
                pos,
            })
        };
        Ok(Item::Meta(Meta {
            name: to_string(name)?,
            args: to_string(args)?.trim().to_owned(),
            pos,
        }))
    }

    /// Whole lines of COPY data up to `\.`, never lexed nor interpolated.
    ///
    /// As psql 15's `handleCopyIn`: the data ends at a line that is exactly
    /// `\.` (with its newline, `\n` or `\r\n`) or at the end of the input,
    /// whatever the COPY's format: a `\.` line inside a quoted CSV field ends
    /// the data too (psql does not parse CSV; the server then reports the
    /// unterminated field). A last line `\.` without a newline is data, as
    /// in psql (the server judges it). The `\.` line itself is not sent
    /// (psql 15 sends it; PostgreSQL 18 would take it as CSV data).
    fn copy_chunk(&mut self, _csv: bool, opened: Pos) -> Result<Item, LexError> {
        let _ = opened;
        let mut chunk = Vec::with_capacity(CHUNK + 1024);
        loop {
            let line_start = chunk.len();
            if !self.input.read_line(&mut chunk)? {
                // End of input: the data ends here, as in psql.
                if chunk.is_empty() {
                    self.mode = Mode::Sql;
                    return Ok(Item::CopyEnd);
                }
                self.mode = Mode::CopyEndPending;
                return Ok(Item::CopyData(chunk));
            }
            let line = &chunk[line_start..];
            if line == b"\\.\n" || line == b"\\.\r\n" {
                chunk.truncate(line_start);
                if chunk.is_empty() {
                    self.mode = Mode::Sql;
                    return Ok(Item::CopyEnd);
                }
                self.mode = Mode::CopyEndPending;
                return Ok(Item::CopyData(chunk));
            }
            if chunk.len() >= CHUNK {
                return Ok(Item::CopyData(chunk));
            }
        }
    }
}

/// Split a script without a database: statements, meta-commands (not
/// executed) and COPY data, in order. Variables are not interpolated unless
/// given with [`Split::with_variables`].
pub fn split<R: BufRead>(reader: R) -> Split<R> {
    Split {
        lexer: Lexer::new(reader),
        vars: Variables::default(),
    }
}

/// The iterator returned by [`split`].
pub struct Split<R> {
    lexer: Lexer<R>,
    vars: Variables,
}

impl<R: BufRead> Split<R> {
    pub fn with_variables(mut self, vars: Variables) -> Self {
        self.vars = vars;
        self
    }

    /// Lex `'...'` with backslash escapes (`standard_conforming_strings = off`).
    pub fn with_standard_conforming_strings(mut self, on: bool) -> Self {
        self.lexer.standard_conforming_strings = on;
        self
    }
}

impl<R: BufRead> Iterator for Split<R> {
    type Item = Result<Item, LexError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.lexer.next_item(&self.vars).transpose()
    }
}

/// The first character boundary of `text` at or after byte `at` (its
/// length when past the end).
fn next_boundary(text: &str, at: usize) -> usize {
    (at..text.len())
        .find(|&b| text.is_char_boundary(b))
        .unwrap_or(text.len())
}

/// `raw` as text for messages and positions, each byte that is not part of
/// valid UTF-8 written as `?`: one byte for one, so the statement's
/// position map (byte offsets into `raw`) stays valid for the text. The
/// bytes themselves go to the server as they are (`Statement::undecodable`).
fn same_length_lossy(raw: &[u8]) -> String {
    let mut text = String::with_capacity(raw.len());
    for chunk in raw.utf8_chunks() {
        text.push_str(chunk.valid());
        text.extend(std::iter::repeat_n('?', chunk.invalid().len()));
    }
    text
}
