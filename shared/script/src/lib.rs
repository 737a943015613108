//! The psql-compatible script engine: runs SQL files the way
//! `psql -q -v ON_ERROR_STOP=1 -f FILE` does, without psql, over the sync
//! `postgres` client. Used by `uis-db-psql` and the seed tool.
//!
//! - [`split`] turns any `BufRead` into statements, meta-commands and COPY
//!   data without a server (dry runs, checksums, tests).
//! - [`Runner`] executes [`Source`]s on a connection and reports a
//!   [`ScriptError`] at file:line:column with psql's exit code.
//!
//! Not for interactive use (no prompts, no history, no `\d` family), and not
//! a SQL parser: it splits exactly as psql's lexer does and lets the server
//! judge the SQL. Input is streamed: one statement (or one 64 KiB chunk of
//! COPY data) is held at a time, or, inside a transaction, one batch of
//! statements sent in one round trip (at most 2,000 statements or 1 MiB; see
//! `Runner::batching`).
//!
//! Known differences from psql 15, on purpose or by limitation (the user's
//! list, with reasons: docs/reference/psql-differences.md):
//! - An unterminated quote, dollar quote or `/* */` comment at end of input
//!   is an error where it opened, and nothing of it is sent (psql sends the
//!   half statement).
//! - When a COPY itself fails, its data lines are skipped (psql 15 runs
//!   them as SQL). The session goes on as psql's (settings and temporary
//!   tables kept; the workspace patches tokio-postgres for that, see
//!   `vendor/tokio-postgres`).
//! - `-c` strings are split and sent statement by statement (psql sends
//!   one `-c` string as one query, printing only the last result).
//! - Inline COPY data ends as in psql 15 (at a `\.` line, whatever the
//!   format or quoting, or at the end of input), but the `\.` line itself
//!   is not sent (psql 15 sends it; psql 18 does not, and PostgreSQL 18
//!   would take it as CSV data).
//! - `standard_conforming_strings`: psql reads the server's report after
//!   every statement; the runner asks (`SHOW`) only where the value changes
//!   how the input splits (an odd run of backslashes before a quote in a
//!   plain string), after sending what waits. In a failed transaction
//!   block the server refuses `SHOW`, and the last known value is used.
//! - Backquoted shell commands in meta-command arguments are refused.
//! - `\connect` takes only DBNAME and USER (`-` keeps); no host, port or
//!   connection strings. A failed `\connect` keeps the old connection.
//! - Notices are printed as `NOTICE:  text` with DETAIL, HINT and QUERY
//!   as psql prints them (psql adds `psql:file:line:` before the first
//!   line); errors add QUERY and CONTEXT after DETAIL and HINT, as psql.
//! - Client encodings: the wire stays UTF-8 and the script's bytes are
//!   converted from the encoding the script sets (`SET client_encoding`,
//!   `SET NAMES`, `\encoding`, `PGCLIENTENCODING`), so the server stores
//!   what psql's would. Only UTF8, SQL_ASCII and the single-byte encodings
//!   (LATIN1-10, ISO_8859_5-8, WIN866, WIN874, WIN1250-1258, KOI8R/U) are
//!   supported; the others are refused. `SHOW client_encoding` in the
//!   script says UTF8; server messages on stderr and COPY TO STDOUT data
//!   stay UTF-8 (psql prints them in the client encoding; query results
//!   and `\echo` are converted). A `SET client_encoding` that a later
//!   ROLLBACK undoes in psql stays in effect, and `RESET ALL` goes back
//!   to UTF8 even under `PGCLIENTENCODING`.
//! - Command tags (verbose) are derived from the statement's first words
//!   plus the row count, since the client does not expose the server's tag.
//! - Tables and JSON: column types come from describing the statement
//!   first (one extra round trip, only for a single row-returning
//!   statement); results of `\;`-joined statements are untyped text
//!   (left-aligned). Widths count characters, not display columns (East
//!   Asian wide characters misalign); no wrapping to the terminal.
//! - The meta-commands: `\set \unset \echo \qecho \warn \i \ir \if \elif
//!   \else \endif \c \connect \g \gx \gset \gexec \x \t \a \pset \o
//!   \timing \getenv \setenv \restrict \unrestrict \copy \q`, as psql
//!   runs them, except: `\g`/`\o` to a pipe and `\g (OPTIONS)` are refused;
//!   `\pset` knows format (aligned, unaligned, csv), null, tuples_only,
//!   footer, expanded and pager; `\x auto` never expands (no terminal).
//!   Any other psql meta-command is a script error with its reason.

mod encoding;
mod error;
mod lexer;
mod output;
mod runner;
mod vars;

pub use encoding::ClientEncoding;
pub use error::{ErrorKind, ScriptError};
pub use lexer::{CopyKind, Item, LexError, Lexer, Meta, Pos, Split, Statement, split};
pub use output::Format;
pub use runner::{Connector, Options, PgConnector, Runner, Source, Summary, notice_channel};
pub use vars::{Variables, parse_bool, quote_ident, quote_literal, valid_name};
