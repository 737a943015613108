//! Running scripts against a server the way `psql -q -v ON_ERROR_STOP=1 -f`
//! does: statements through the simple query protocol, inline COPY data
//! through `copy_in`, meta-commands, `\if` branches, `-1` transactions,
//! and errors located at file:line:column.
//!
//! The run loop is here; its seams are their own files: `copy.rs` (COPY
//! data and `\copy`), `meta.rs` (meta-commands), `batch.rs` (batching
//! inside transactions) and `errors.rs` (located errors).
//!
//! Not for splitting without a server (use [`super::split`]), nor for
//! choosing where to connect: the caller hands in a `Client` and a
//! [`Connector`] for `\connect`.

// A ScriptError carries the server's whole report (message, detail, hint,
// statement); errors are rare and end or interrupt a run, so its size on the
// Err path costs nothing worth a Box in the public API.
#![allow(clippy::result_large_err)]

use super::encoding::ClientEncoding;
use super::error::{ErrorKind, ScriptError};
use super::lexer::{CopyKind, Item, LexError, Lexer, Meta, Pos, Statement};
use super::output::{self, Format, ResultSet};
use super::vars::{ArgMode, Variables, parse_args, parse_bool, valid_name};
use postgres::error::{DbError, ErrorPosition};
use postgres::{Client, SimpleQueryMessage};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

mod batch;
mod copy;
mod errors;
mod meta;
mod query;

use batch::ends_transaction;
use copy::drain_copy;
use errors::{SUPPORTED_META, lex_error, pg_error};
use query::Sink;

/// Where script text comes from; run in the order given.
pub enum Source {
    /// A file (`-f`); `\ir` inside it is relative to its directory.
    File(PathBuf),
    /// A command string (`-c`). It is split and run statement by
    /// statement like a file (psql sends one `-c` string as one query).
    Command(String),
    /// The process's standard input, named `<stdin>`.
    Stdin,
    /// Any reader, with the name errors use for it (tests, embedding).
    Reader {
        name: String,
        reader: Box<dyn BufRead>,
    },
}

/// Opens the connection `\connect` asks for. `None` means "keep the
/// current one" (psql's `-` or an omitted argument); `connect(None, None)`
/// reopens the current database as the current user (the runner does that
/// after a COPY fails to start, see `Runner::run`).
pub trait Connector {
    fn connect(
        &mut self,
        dbname: Option<&str>,
        user: Option<&str>,
    ) -> Result<Client, postgres::Error>;
}

impl<F> Connector for F
where
    F: FnMut(Option<&str>, Option<&str>) -> Result<Client, postgres::Error>,
{
    fn connect(
        &mut self,
        dbname: Option<&str>,
        user: Option<&str>,
    ) -> Result<Client, postgres::Error> {
        self(dbname, user)
    }
}

/// A [`Connector`] from a `postgres::Config`: `\connect` changes its
/// dbname/user and remembers them for the next `\connect -`. Without TLS
/// ([`PgConnector::new`]) or with the caller's way of connecting
/// ([`PgConnector::with_connect`], how `uis_ops` adds TLS: this crate knows
/// a connection, not how it is secured). Attach a notice callback to the
/// config (or use [`notice_channel`]) before building both the first
/// client and this connector.
pub struct PgConnector {
    config: postgres::Config,
    connect: ConnectFn,
}

type ConnectFn = Box<dyn FnMut(&postgres::Config) -> Result<Client, postgres::Error> + Send>;

impl PgConnector {
    /// Connects without TLS.
    pub fn new(config: postgres::Config) -> Self {
        Self::with_connect(config, |c| c.connect(postgres::NoTls))
    }

    /// Connects with `connect` (given the changed config).
    pub fn with_connect(
        config: postgres::Config,
        connect: impl FnMut(&postgres::Config) -> Result<Client, postgres::Error> + Send + 'static,
    ) -> Self {
        PgConnector {
            config,
            connect: Box::new(connect),
        }
    }
}

impl Connector for PgConnector {
    fn connect(
        &mut self,
        dbname: Option<&str>,
        user: Option<&str>,
    ) -> Result<Client, postgres::Error> {
        let mut config = self.config.clone();
        if let Some(d) = dbname {
            config.dbname(d);
        }
        if let Some(u) = user {
            config.user(u);
        }
        let client = (self.connect)(&config)?;
        self.config = config;
        Ok(client)
    }
}

/// Route a config's notices (NOTICE, WARNING, ...) into a channel; give the
/// receiver to [`Runner::with_notices`] and the runner writes them to its
/// info writer after each statement, as psql prints them to stderr.
pub fn notice_channel(config: &mut postgres::Config) -> mpsc::Receiver<DbError> {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    config.notice_callback(move |n| {
        if let Ok(tx) = tx.lock() {
            let _ = tx.send(n);
        }
    });
    rx
}

/// Run options; the defaults are psql's `-q -v ON_ERROR_STOP=1`.
#[derive(Clone, Debug)]
pub struct Options {
    /// Stop at the first error (exit 3); off: report each error, go on.
    pub on_error_stop: bool,
    /// `-1`: BEGIN first, COMMIT at the end, ROLLBACK on failure.
    pub single_transaction: bool,
    pub format: Format,
    /// Write each statement to the info writer before sending it (`-e`).
    pub echo: bool,
    /// Write a command tag per statement to the info writer. The simple
    /// query API gives only a row count, so the tag is derived from the
    /// statement's first words (`CREATE TABLE`, `INSERT 0 3`).
    pub verbose: bool,
    /// `-v NAME=VALUE`. `ON_ERROR_STOP` here or from `\set` overrides
    /// `on_error_stop`.
    pub variables: Variables,
    /// The client encoding the input starts in (psql's `PGCLIENTENCODING`);
    /// `None`: UTF8.
    pub client_encoding: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            on_error_stop: true,
            single_transaction: false,
            format: Format::Table,
            echo: false,
            verbose: false,
            variables: Variables::new(),
            client_encoding: None,
        }
    }
}

/// What a successful run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Statements sent (each COPY counts once).
    pub statements: u64,
    /// Errors reported and passed over (only with `on_error_stop` off).
    pub errors: u64,
}

/// `\if` state of one nesting level; only `Taking` runs anything.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cond {
    Taking,
    Seeking,
    Done,
    Ignoring,
    ElseTaking,
    ElseSkipping,
}

struct Frame<'a> {
    name: &'a str,
    dir: Option<&'a Path>,
    depth: usize,
}

impl<'a> Frame<'a> {
    /// A top-level input that is no file: `-c`, stdin or a reader (no
    /// directory for `\ir`, no nesting).
    fn top(name: &'a str) -> Frame<'a> {
        Frame {
            name,
            dir: None,
            depth: 0,
        }
    }
}

const MAX_DEPTH: usize = 64;

/// The script engine. See the module docs.
pub struct Runner {
    client: Client,
    connector: Box<dyn Connector + Send>,
    options: Options,
    vars: Variables,
    standard_conforming_strings: bool,
    /// Whether `standard_conforming_strings` is the server's current value
    /// (see [`Lexer::scs_verified`]): off after each statement sent.
    scs_known: bool,
    restricted: Option<String>,
    /// psql's printing settings (`\pset`, `\x`, `\t`, `\a`).
    print: output::Print,
    /// `\o FILE`: where query results and `\qecho` go instead of `out`.
    qout: Option<(String, io::BufWriter<std::fs::File>)>,
    /// `\timing on`.
    timing: bool,
    /// The last query sent, which `\g` with an empty buffer sends again.
    last_query: Option<Statement>,
    /// The script's client encoding (see `encoding.rs`): the wire stays
    /// UTF-8, the script's bytes are converted from this.
    encoding: ClientEncoding,
    /// `Options::on_error_stop` as given (before `-v`/`\set`).
    initial_on_error_stop: bool,
    summary: Summary,
    quit: bool,
    notices: Option<mpsc::Receiver<DbError>>,
    batch: Batch,
}

/// Statements waiting to go to the server as one simple-query message (see
/// [`Runner::batching`]). Only statements that return no rows, inside a
/// transaction block, with ON_ERROR_STOP on, are held here.
#[derive(Default)]
struct Batch {
    /// Batching allowed by the caller ([`Runner::batching`]).
    enabled: bool,
    /// The caller opened a transaction block before handing the client in.
    caller_transaction: bool,
    /// The script ended or left the transaction the run started in (a
    /// transaction-control statement, `\connect`, a reconnect): from then on
    /// every statement goes on its own, as in autocommit.
    left_transaction: bool,
    statements: Vec<Statement>,
    /// The statements' texts joined, each ending in `;` and a newline.
    text: String,
    /// `SAVEPOINT uis_batch` is open (a batch ended with `RELEASE ...;
    /// SAVEPOINT ...` because another batch follows).
    savepoint: bool,
}

/// Cap per batch: memory stays flat, and a failed batch replays at most
/// this much.
const BATCH_MAX_STATEMENTS: usize = 2000;
const BATCH_MAX_BYTES: usize = 1024 * 1024;
const SAVEPOINT: &str = "uis_batch";

impl Runner {
    pub fn new(client: Client, connector: Box<dyn Connector + Send>, options: Options) -> Runner {
        let vars = options.variables.clone();
        let initial_on_error_stop = options.on_error_stop;
        let mut options = options;
        if let Some(v) = vars.get("ON_ERROR_STOP").and_then(parse_bool) {
            options.on_error_stop = v;
        }
        Runner {
            client,
            connector,
            options,
            vars,
            standard_conforming_strings: true,
            scs_known: false,
            restricted: None,
            print: output::Print::default(),
            qout: None,
            timing: false,
            last_query: None,
            encoding: ClientEncoding::UTF8,
            initial_on_error_stop,
            summary: Summary::default(),
            quit: false,
            notices: None,
            batch: Batch {
                enabled: true,
                ..Batch::default()
            },
        }
    }

    /// Whether to send consecutive statements in batches (default on).
    ///
    /// Inside a transaction block (`-1`, or [`Runner::caller_transaction`])
    /// with ON_ERROR_STOP on and neither echo nor verbose, consecutive
    /// statements that return no rows and may run in a transaction block
    /// (INSERT/UPDATE/DELETE without RETURNING, CREATE, ALTER, DROP, GRANT,
    /// COMMENT, SET, DO, ...) go to the server as one simple-query message
    /// of up to 2,000 statements or 1 MiB, inside `SAVEPOINT uis_batch`.
    /// Anything else (COPY, meta-commands, statements whose results are
    /// printed, transaction control, `CONCURRENTLY`, ...) first flushes the
    /// batch and then runs on its own. Output is the same as unbatched:
    /// when a batch fails, the runner rolls back to the savepoint, drops the
    /// batch's notices and replays its statements one by one, so the error
    /// (and the notices before it) come from the failing statement itself.
    /// The sync `postgres` client returns only the error of a failed
    /// multi-statement query, not the completions before it, hence the
    /// replay. Outside a transaction block nothing is batched: autocommit
    /// semantics stay those of one statement per round trip.
    pub fn batching(mut self, on: bool) -> Runner {
        self.batch.enabled = on;
        self
    }

    /// Tell the runner the caller opened a transaction block on the client
    /// (as `-1` does), so statements may be batched (see
    /// [`Runner::batching`]). A script that ends that transaction itself
    /// (COMMIT, ROLLBACK, ...) turns batching off for the rest of the run.
    pub fn caller_transaction(mut self, on: bool) -> Runner {
        self.batch.caller_transaction = on;
        self
    }

    /// Forget what earlier runs' scripts set on the runner's side:
    /// variables (back to [`Options::variables`]), ON_ERROR_STOP, the client
    /// encoding, `\restrict`, and the assumed `standard_conforming_strings`,
    /// so the next run starts as a new psql would. The caller resets the
    /// server session (`RESET ALL`, `RESET SESSION AUTHORIZATION`, ...).
    pub fn reset_script_state(&mut self) {
        self.vars = self.options.variables.clone();
        self.options.on_error_stop = self
            .vars
            .get("ON_ERROR_STOP")
            .and_then(parse_bool)
            .unwrap_or(self.initial_on_error_stop);
        self.encoding = ClientEncoding::UTF8;
        // RESET ALL returns it to the login's default: asked again where it
        // matters.
        self.standard_conforming_strings = true;
        self.scs_known = false;
        self.restricted = None;
        // `\pset`, `\x`, `\t`, `\a`, `\timing` and `\o` end with their file,
        // as with psql run once per file.
        self.print = output::Print::default();
        self.timing = false;
        self.last_query = None;
        if let Some((_, mut f)) = self.qout.take() {
            let _ = f.flush();
        }
    }

    /// See [`notice_channel`].
    pub fn with_notices(mut self, rx: mpsc::Receiver<DbError>) -> Runner {
        self.notices = Some(rx);
        self
    }

    /// The current variables (after `\set`/`\unset` in the scripts).
    pub fn variables(&self) -> &Variables {
        &self.vars
    }

    /// The connection (the one `\connect` opened last, if any).
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    /// Run the sources in order. `out` gets query results, `\echo` and
    /// `COPY TO STDOUT` data; `info` gets notices, echoed statements, tags,
    /// and the errors passed over when `on_error_stop` is off.
    pub fn run(
        &mut self,
        sources: Vec<Source>,
        out: &mut dyn Write,
        info: &mut dyn Write,
    ) -> Result<Summary, ScriptError> {
        self.summary = Summary::default();
        self.quit = false;
        self.batch.left_transaction = false;
        self.batch.savepoint = false;
        self.batch.statements.clear();
        self.batch.text.clear();
        let result = match self.options.client_encoding.clone() {
            Some(enc) => self.set_client_encoding(&enc, "<PGCLIENTENCODING>", Pos::default()),
            None => Ok(()),
        };
        let mut result = result.and_then(|()| self.run_all(sources, out, info));
        if let Some((name, mut f)) = self.qout.take()
            && let Err(e) = f.flush()
            && result.is_ok()
        {
            result = Err(ScriptError::new(
                ErrorKind::Fatal,
                &name,
                0,
                0,
                format!("writing output: {e}"),
            ));
        }
        // A run that stopped early may leave statements behind: drop them.
        self.batch.statements.clear();
        self.batch.text.clear();
        self.batch.savepoint = false;
        match result {
            Ok(()) => Ok(self.summary),
            Err(e) => {
                if self.options.single_transaction && e.kind != ErrorKind::ConnectionLost {
                    let _ = self.client.batch_execute("ROLLBACK");
                }
                Err(e)
            }
        }
    }

    fn run_all(
        &mut self,
        sources: Vec<Source>,
        out: &mut dyn Write,
        info: &mut dyn Write,
    ) -> Result<(), ScriptError> {
        let first = match sources.first() {
            Some(Source::File(p)) => p.display().to_string(),
            Some(Source::Command(_)) => "<command 1>".into(),
            Some(Source::Reader { name, .. }) => name.clone(),
            _ => "<stdin>".into(),
        };
        // Asked for when first needed (the caller may have changed it).
        self.scs_known = false;
        if self.options.single_transaction {
            self.client
                .batch_execute("BEGIN")
                .map_err(|e| pg_error(e, &first, None, Pos::default()))?;
        }
        let mut commands = 0;
        for source in sources {
            if self.quit {
                break;
            }
            match source {
                Source::File(path) => {
                    let name = path.display().to_string();
                    self.run_file(&path, &name, 0, Pos::default(), &name, out, info)?;
                }
                Source::Command(text) => {
                    commands += 1;
                    let name = format!("<command {commands}>");
                    let mut r = io::Cursor::new(text.into_bytes());
                    self.run_stream(&mut r, Frame::top(&name), out, info)?;
                }
                Source::Stdin => {
                    let stdin = io::stdin();
                    let mut r = stdin.lock();
                    self.run_stream(&mut r, Frame::top("<stdin>"), out, info)?;
                }
                Source::Reader { name, mut reader } => {
                    self.run_stream(&mut reader, Frame::top(&name), out, info)?;
                }
            }
        }
        if self.options.single_transaction {
            self.client
                .batch_execute("COMMIT")
                .map_err(|e| pg_error(e, &first, None, Pos::default()))?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn run_file(
        &mut self,
        path: &Path,
        name: &str,
        depth: usize,
        at: Pos,
        from: &str,
        out: &mut dyn Write,
        info: &mut dyn Write,
    ) -> Result<(), ScriptError> {
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) => {
                let msg = if at.line == 0 {
                    e.to_string()
                } else {
                    format!("{name}: {e}")
                };
                // A file named on the command line: psql exits 1; one named
                // by `\\i`: a meta-command error (exit 3 under ON_ERROR_STOP).
                let kind = if at.line == 0 {
                    ErrorKind::Fatal
                } else {
                    ErrorKind::Script
                };
                let mut err = ScriptError::new(kind, from, at.line, at.column, msg);
                if at.line != 0 {
                    err.hint = Some(
                        "\\i paths are relative to the current directory, \\ir paths to the including file".into(),
                    );
                }
                return self.fail(err, info);
            }
        };
        let mut r = BufReader::with_capacity(64 * 1024, file);
        let dir = path.parent();
        self.run_stream(&mut r, Frame { name, dir, depth }, out, info)
    }

    /// Record an error: returned (to stop) when ON_ERROR_STOP is on or the
    /// connection is gone, otherwise written to `info` and counted.
    fn fail(&mut self, err: ScriptError, info: &mut dyn Write) -> Result<(), ScriptError> {
        if self.options.on_error_stop || err.kind == ErrorKind::ConnectionLost {
            return Err(err);
        }
        self.summary.errors += 1;
        let _ = writeln!(info, "{err}");
        Ok(())
    }

    fn run_stream(
        &mut self,
        r: &mut dyn BufRead,
        frame: Frame,
        out: &mut dyn Write,
        info: &mut dyn Write,
    ) -> Result<(), ScriptError> {
        let mut lex = Lexer::new(r);
        lex.encoding = self.encoding;
        // psql drops a byte-order mark on the first line of each file (and
        // stdin) when the client encoding is UTF8; not in `-c` strings.
        if self.encoding.name == "UTF8"
            && !frame.name.starts_with("<command")
            && let Err(e) = lex.skip_bom()
        {
            return self.fail(lex_error(e, &frame), info);
        }
        let mut conds: Vec<(Cond, Pos)> = Vec::new();
        while !self.quit {
            // What the runner knows of the server's setting (an `\i` may
            // have run statements since this lexer last looked).
            lex.standard_conforming_strings = self.standard_conforming_strings;
            lex.scs_verified = self.scs_known;
            let item = match lex.next_item(&self.vars) {
                Ok(Some(item)) => item,
                Ok(None) => break,
                Err(LexError::SettingNeeded { pos }) => {
                    // psql knows the setting after every statement (the
                    // server reports it); here, only where it matters: run
                    // what waits, then ask.
                    self.flush_batch(false, &mut lex, &frame, out, info)?;
                    if let Err(e) = self.sync_standard_conforming_strings() {
                        if e.as_db_error().is_none() {
                            return Err(pg_error(e, frame.name, None, pos));
                        }
                        // In a failed transaction block SHOW is refused;
                        // nothing there can have changed the setting since
                        // the failure.
                        self.scs_known = true;
                    }
                    continue;
                }
                Err(e) => {
                    // What came before the bad input runs first.
                    self.flush_batch(false, &mut lex, &frame, out, info)?;
                    let err = lex_error(e, &frame);
                    self.fail(err, info)?;
                    break;
                }
            };
            let active = conds
                .iter()
                .all(|(c, _)| matches!(c, Cond::Taking | Cond::ElseTaking));
            match item {
                Item::Statement(st) => {
                    if active && self.batchable(&st) {
                        let len = st.text.len() + 3;
                        if !self.batch.statements.is_empty()
                            && (self.batch.statements.len() >= BATCH_MAX_STATEMENTS
                                || self.batch.text.len() + len > BATCH_MAX_BYTES)
                        {
                            self.flush_batch(true, &mut lex, &frame, out, info)?;
                        }
                        self.summary.statements += 1;
                        self.scs_known = false;
                        self.batch.text.push_str(&st.text);
                        if !st.text.trim_end().ends_with(';') {
                            self.batch.text.push_str("\n;");
                        }
                        self.batch.text.push('\n');
                        self.batch.statements.push(st);
                    } else if active {
                        self.flush_batch(false, &mut lex, &frame, out, info)?;
                        if ends_transaction(&st) {
                            self.batch.left_transaction = true;
                        }
                        let r = self.exec(&st, &mut lex, &frame, out, info);
                        self.drain_notices(info);
                        if let Err(e) = r {
                            self.fail(e, info)?;
                        }
                    } else if matches!(st.copy, Some(CopyKind::FromStdin { .. })) {
                        // Skipped branch: its COPY data is not SQL either.
                        if let Err(e) = drain_copy(&mut lex, &self.vars) {
                            let err = lex_error(e, &frame);
                            self.fail(err, info)?;
                        }
                    }
                }
                Item::Meta(m) => {
                    self.flush_batch(false, &mut lex, &frame, out, info)?;
                    if let Err(e) = self.meta(&m, &mut lex, &mut conds, active, &frame, out, info) {
                        self.fail(e, info)?;
                    }
                }
                // Only reachable after a lexer-level COPY the runner did not
                // consume; nothing to send.
                Item::CopyData(_) | Item::CopyEnd => {}
            }
        }
        self.flush_batch(false, &mut lex, &frame, out, info)?;
        if !self.quit
            && let Some((_, pos)) = conds.first()
        {
            // psql reports it at the last line read.
            let end = lex.pos();
            let line = if end.column == 1 && end.line > 1 {
                end.line - 1
            } else {
                end.line
            };
            let mut err = ScriptError::new(
                ErrorKind::Script,
                frame.name,
                line,
                1,
                "reached EOF without finding closing \\endif(s)",
            );
            err.hint = Some(format!("the \\if at line {} is not closed", pos.line));
            self.fail(err, info)?;
        }
        Ok(())
    }

    fn drain_notices(&mut self, info: &mut dyn Write) {
        if let Some(rx) = &self.notices {
            while let Ok(n) = rx.try_recv() {
                // psql's fields for a notice at default verbosity: no
                // CONTEXT (libpq shows it for errors only).
                let _ = writeln!(info, "{}:  {}", n.severity(), n.message());
                if let Some(d) = n.detail() {
                    let _ = writeln!(info, "DETAIL:  {d}");
                }
                if let Some(h) = n.hint() {
                    let _ = writeln!(info, "HINT:  {h}");
                }
                if let Some(ErrorPosition::Internal { query, .. }) = n.position() {
                    let _ = writeln!(info, "QUERY:  {query}");
                }
            }
        }
    }

    /// Ask the server for `standard_conforming_strings` (the sync client
    /// does not expose the ParameterStatus reports psql reads).
    fn sync_standard_conforming_strings(&mut self) -> Result<(), postgres::Error> {
        let rows = self
            .client
            .simple_query("SHOW standard_conforming_strings")?;
        for m in rows {
            if let SimpleQueryMessage::Row(r) = m {
                self.standard_conforming_strings = r.get(0) != Some("off");
            }
        }
        self.scs_known = true;
        Ok(())
    }

    fn exec(
        &mut self,
        st: &Statement,
        lex: &mut Lexer<&mut dyn BufRead>,
        frame: &Frame,
        out: &mut dyn Write,
        info: &mut dyn Write,
    ) -> Result<(), ScriptError> {
        if self.options.echo {
            let _ = writeln!(info, "{}", st.text);
        }
        self.summary.statements += 1;
        self.exec_counted(st, lex, frame, out, info)
    }

    /// [`Runner::exec`] without echo and without counting the statement
    /// (already counted when it joined a batch).
    fn exec_counted(
        &mut self,
        st: &Statement,
        lex: &mut Lexer<&mut dyn BufRead>,
        frame: &Frame,
        out: &mut dyn Write,
        info: &mut dyn Write,
    ) -> Result<(), ScriptError> {
        if let Some(raw) = &st.undecodable {
            return self.reject_undecodable(st, raw, lex, frame);
        }
        // Whatever it is, it may change standard_conforming_strings.
        self.scs_known = false;
        match st.copy {
            Some(CopyKind::FromStdin { .. }) => {
                let n = self.copy_in_from_script(&st.text, lex, frame, st.start, Some(st))?;
                self.tag(st, n, info);
            }
            Some(CopyKind::ToStdout) => {
                // To the `\o` file when there is one, as psql.
                let n = match self.qout.take() {
                    Some((name, mut f)) => {
                        let n = self.copy_out(&st.text, &mut f, frame, st.start, Some(st));
                        self.qout = Some((name, f));
                        n?
                    }
                    None => self.copy_out(&st.text, out, frame, st.start, Some(st))?,
                };
                self.tag(st, n, info);
            }
            None => {
                self.last_query = Some(st.clone());
                self.query(st, Sink::Print(None), frame, out, info)?;
                if self.may_change_client_encoding(st) {
                    self.sync_client_encoding(frame.name, st.start)?;
                    lex.encoding = self.encoding;
                }
            }
        }
        Ok(())
    }

    /// After a COPY that failed before its data started, the session goes
    /// on as psql's does (its settings and temporary tables stay): the
    /// client ended the COPY request with CopyFail and Sync, and the server
    /// is ready again (with the workspace's patched tokio-postgres, see
    /// `vendor/tokio-postgres`). Only a connection that really closed ends the run
    /// (exit 2), said as such.
    fn after_failed_copy_start(&mut self, err: &ScriptError) -> Result<(), ScriptError> {
        if err.kind == ErrorKind::ConnectionLost || self.client.is_closed() {
            let mut lost = err.clone();
            lost.kind = ErrorKind::ConnectionLost;
            if lost.hint.is_none() {
                lost.hint = Some(errors::LOST_HINT.into());
            }
            return Err(lost);
        }
        Ok(())
    }

    /// Whether `st` may have changed the session's `client_encoding`: it
    /// names it (`SET client_encoding`, `set_config(...)`), or is `SET
    /// NAMES`, `RESET ALL` or `DISCARD ALL`.
    pub(super) fn may_change_client_encoding(&self, st: &Statement) -> bool {
        let first = st.first_line().trim_start();
        let word = |w: &str| {
            first.len() >= w.len()
                && first[..w.len()].eq_ignore_ascii_case(w)
                && first[w.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_')
        };
        contains_ci(&st.text, "client_encoding")
            || (word("set") && contains_ci(&st.text, "names"))
            || (word("reset") && contains_ci(&st.text, "all"))
            || (word("discard") && contains_ci(&st.text, "all"))
    }

    /// Follow the session's `client_encoding` after a statement that may
    /// have changed it: the script's bytes are converted from it from now
    /// on, and the session goes back to UTF8 (the client decodes UTF-8).
    /// One extra round trip, only after such statements.
    pub(super) fn sync_client_encoding(&mut self, file: &str, at: Pos) -> Result<(), ScriptError> {
        let rows = self
            .client
            .simple_query("SHOW client_encoding")
            .map_err(|e| pg_error(e, file, None, at))?;
        let name = rows
            .iter()
            .find_map(|m| match m {
                SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
                _ => None,
            })
            .unwrap_or_else(|| "UTF8".into());
        if name == "UTF8" {
            self.encoding = ClientEncoding::UTF8;
            return Ok(());
        }
        let back = self.client.batch_execute("SET client_encoding = 'UTF8'");
        back.map_err(|e| pg_error(e, file, None, at))?;
        match ClientEncoding::from_pg_name(&name) {
            Ok(enc) => {
                self.encoding = enc;
                Ok(())
            }
            Err(msg) => {
                let mut err = ScriptError::new(ErrorKind::Fatal, file, at.line, at.column, msg);
                err.hint = Some(format!(
                    "convert the file to UTF-8 (e.g. `iconv -f {name} -t UTF-8 FILE`) and drop the encoding setting"
                ));
                Err(err)
            }
        }
    }

    /// `\encoding NAME` and `PGCLIENTENCODING`: set it on the session (the
    /// server checks the name), then follow it.
    pub(super) fn set_client_encoding(
        &mut self,
        name: &str,
        file: &str,
        at: Pos,
    ) -> Result<(), ScriptError> {
        let sql = format!(
            "SET client_encoding TO {}",
            super::vars::quote_literal(name)
        );
        self.client.batch_execute(&sql).map_err(|e| {
            let mut err = pg_error(e, file, None, at);
            err.kind = ErrorKind::Fatal;
            err
        })?;
        self.sync_client_encoding(file, at)
    }

    /// A statement whose bytes are not valid in the client encoding: psql
    /// sends it and the server refuses it; ask the server to convert the
    /// same bytes, so the error (its text, SQLSTATE, and an aborted
    /// transaction) is the server's own.
    fn reject_undecodable(
        &mut self,
        st: &Statement,
        raw: &[u8],
        lex: &mut Lexer<&mut dyn BufRead>,
        frame: &Frame,
    ) -> Result<(), ScriptError> {
        if matches!(st.copy, Some(CopyKind::FromStdin { .. })) {
            drain_copy(lex, &self.vars).map_err(|e| lex_error(e, frame))?;
        }
        let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        let probe = format!(
            "SELECT convert_from('\\x{hex}'::bytea, '{}')",
            self.encoding.name
        );
        let mut err = match self.client.simple_query(&probe) {
            Err(e) => pg_error(e, frame.name, None, st.start),
            Ok(_) => ScriptError::new(
                ErrorKind::Script,
                frame.name,
                st.start.line,
                st.start.column,
                format!("statement is not valid {}", self.encoding.name),
            ),
        };
        err.statement = Some(st.first_line().to_owned());
        Err(err)
    }

    fn tag(&self, st: &Statement, n: u64, info: &mut dyn Write) {
        if !self.options.verbose {
            return;
        }
        let words: Vec<String> = st
            .first_line()
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .filter(|w| !w.is_empty())
            .take(2)
            .map(|w| w.to_ascii_uppercase())
            .collect();
        let first = words.first().cloned().unwrap_or_default();
        let tag = match first.as_str() {
            "INSERT" => format!("INSERT 0 {n}"),
            "SELECT" | "UPDATE" | "DELETE" | "COPY" | "MERGE" | "FETCH" | "MOVE" => {
                format!("{first} {n}")
            }
            "CREATE" | "ALTER" | "DROP" | "COMMENT" | "GRANT" | "REVOKE" => words.join(" "),
            _ => first,
        };
        let _ = writeln!(info, "{tag}");
    }
}

/// ASCII case-insensitive substring test without allocating.
fn contains_ci(haystack: &str, needle: &str) -> bool {
    let n = needle.as_bytes();
    haystack
        .as_bytes()
        .windows(n.len())
        .any(|w| w.eq_ignore_ascii_case(n))
}

/// Whether to describe the statement first for column types: a single
/// statement that returns rows.
fn wants_types(st: &Statement) -> bool {
    if st.joined {
        return false;
    }
    let first = st
        .first_line()
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    matches!(
        first.as_str(),
        "select" | "values" | "table" | "with" | "show" | "explain" | "fetch"
    ) || st.text.to_ascii_lowercase().contains("returning")
}
