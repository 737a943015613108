//! `uis-db-psql`'s flags: they become [`uis_ops::psql::Options`], and
//! `uis_ops::psql` does the work (psql-compatible SQL through the
//! port-forward, `--jwt` as PostgREST would run it, interactive psql).

use clap::{ArgMatches, FromArgMatches, Parser, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use uis_cli::{ClusterArgs, LocatorArgs};
use uis_ops::Failure;
use uis_ops::app::validate_existing_app;
use uis_ops::psql;
use uis_ops::script::{Format, Source, Variables, valid_name};
use uis_ops::session::Session;

/// Run SQL files, commands or stdin on an app's database, psql-compatible.
///
/// Connects through a port-forward to the database pod (or --direct) as the
/// app's owner (default), the superuser (--as admin) or a role whose password
/// the suite stores. Stops at the first error (exit 3) and reports
/// file:line:column, SQLSTATE, message, detail and hint. Supports psql's
/// meta-commands that scripts use (\set \if \i \ir \connect \g \gset
/// \gexec \copy \pset \x \o ...; the rest, and why, in
/// docs/reference/psql-differences.md) and inline COPY data. Exit codes
/// follow psql: 0 ok, 1 fatal, 2 connection lost, 3 script error.
#[derive(Parser, Debug)]
#[command(name = "uis-db-psql", version, after_help = EXAMPLES)]
pub struct Args {
    /// The app (optional with --as admin)
    pub app: Option<String>,
    /// Who to connect as: owner, admin (the superuser), or a role stored for the app
    #[arg(long = "as", value_name = "owner|admin|ROLE", value_parser = uis_cli::role_name, default_value = "owner")]
    pub as_role: String,
    /// Database (default: the app's; `postgres` for --as admin without APP)
    #[arg(long, short = 'd', value_name = "DB")]
    pub database: Option<String>,
    /// Run this file (repeatable; `-` is stdin); runs with the -c commands in the order given
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Vec<String>,
    /// Run this SQL (repeatable)
    #[arg(short = 'c', long = "command", value_name = "SQL")]
    pub command: Vec<String>,
    /// Set a psql variable (`-v schema=app`, used as :schema, :'schema', :"schema")
    #[arg(short = 'v', long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Run everything in one transaction (BEGIN first, COMMIT last, ROLLBACK on error)
    #[arg(short = '1', long)]
    pub single_transaction: bool,
    /// Report errors and go on (psql's default without ON_ERROR_STOP)
    #[arg(long)]
    pub continue_on_error: bool,
    /// How results are printed
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutFormat,
    /// Print each statement to stderr before running it
    #[arg(short = 'e', long)]
    pub echo: bool,
    /// Print a command tag per statement to stderr
    #[arg(long)]
    pub verbose: bool,
    /// Run as PostgREST would for this token (`-` reads it from the first line of stdin)
    #[arg(long, value_name = "TOKEN", conflicts_with_all = ["as_role", "single_transaction"])]
    pub jwt: Option<String>,
    /// With --jwt: commit instead of rolling back at the end
    #[arg(long, requires = "jwt")]
    pub commit: bool,
    #[command(flatten)]
    pub cluster_args: ClusterArgs,
    #[command(flatten)]
    pub locator: LocatorArgs,
}

/// `--format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutFormat {
    /// psql's aligned table
    Table,
    /// One JSON object per row per line (NDJSON)
    Json,
    /// CSV with a header line
    Csv,
}

const EXAMPLES: &str = "Examples:
  uis-db-psql railway --as admin -f db/01-roles.sql
  kubectl uis-db-psql railway --as admin < db/01-roles.sql
  uis-db-psql railway -c 'select count(*) from railway.events' --format json
  uis-db-psql --as admin -c 'select datname from pg_database'
  uis-db-psql railway --jwt \"$(uis-jwt-mint railway --role anon)\" -c 'select count(*) from events'
  uis-db-psql railway                       # interactive psql (local psql through the tunnel)";

/// The clap definition, for completions, man pages and the CLI reference.
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

/// Parses the process arguments and runs.
pub fn main() -> ExitCode {
    let matches = command().get_matches_from(uis_cli::uis_forms::rewrite(std::env::args_os()));
    let args = match Args::from_arg_matches(&matches) {
        Ok(a) => a,
        Err(e) => e.exit(),
    };
    let sources = ordered_sources(&matches);
    uis_cli::run_main(false, || run(args, sources))
}

/// The -f and -c arguments in the order they were given.
fn ordered_sources(m: &ArgMatches) -> Vec<(usize, bool, String)> {
    let mut v = Vec::new();
    for (id, is_file) in [("file", true), ("command", false)] {
        if let (Some(idx), Some(vals)) = (m.indices_of(id), m.get_many::<String>(id)) {
            for (i, val) in idx.zip(vals) {
                v.push((i, is_file, val.clone()));
            }
        }
    }
    v.sort_by_key(|(i, _, _)| *i);
    v
}

fn run(args: Args, given: Vec<(usize, bool, String)>) -> anyhow::Result<i32> {
    if let Some(app) = &args.app {
        validate_existing_app(app)?;
    }
    let mut variables = Variables::new();
    for s in &args.set {
        let (k, v) = s.split_once('=').ok_or_else(|| {
            Failure::usage(format!(
                "invalid -v {s:?}: expected NAME=VALUE, e.g. -v schema=railway"
            ))
        })?;
        // psql refuses names with anything but letters, digits, `_` and
        // non-ASCII bytes, and the empty name, with exit 1 (psql's
        // `valid_variable_name`, src/bin/psql/variables.c).
        if !valid_name(k) {
            return Err(Failure::usage(format!("invalid variable name: {k:?}"))
                .hint("psql variable names take letters, digits and _, e.g. -v schema=railway")
                .code(1)
                .into());
        }
        variables.set(k, v);
    }
    let stdin_is_terminal = std::io::stdin().is_terminal();
    let interactive = given.is_empty() && stdin_is_terminal && args.jwt.is_none();
    // An interactive session is psql's own: the flags that shape how a
    // script runs have no script to apply to, and are refused rather than
    // ignored; `-v` is handed to psql, as `psql -v` sets it at its prompt.
    if interactive {
        let script_only = [
            (
                args.single_transaction,
                "-1/--single-transaction",
                "BEGIN; ... COMMIT;",
            ),
            (
                args.continue_on_error,
                "--continue-on-error",
                "\\set ON_ERROR_STOP off",
            ),
            (
                args.format != OutFormat::Table,
                "--format",
                "\\pset format csv (or \\x)",
            ),
            (args.echo, "-e/--echo", "\\set ECHO queries"),
            (args.verbose, "--verbose", "\\set ECHO queries"),
        ];
        if let Some((_, flag, instead)) = script_only.iter().find(|(given, _, _)| *given) {
            return Err(Failure::usage(format!(
                "{flag} applies to SQL given with -c, -f or on standard input; this is an interactive psql session (stdin is a terminal and no SQL was given)"
            ))
            .hint(format!(
                "leave {flag} out and type `{instead}` at psql's prompt, or give the SQL: `uis db psql APP {flag} -f FILE`"
            ))
            .into());
        }
    }
    let psql_variables: Vec<(String, String)> = args
        .set
        .iter()
        .filter_map(|s| s.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut sources: Vec<Source> = given
        .into_iter()
        .map(|(_, is_file, v)| match (is_file, v.as_str()) {
            (true, "-") => Source::Stdin,
            (true, _) => Source::File(PathBuf::from(v)),
            (false, _) => Source::Command(v),
        })
        .collect();
    // Files that cannot be read are a one-line fatal error before connecting.
    for s in &sources {
        if let Source::File(p) = s {
            psql::check_readable(p)?;
        }
    }
    let mut jwt = args.jwt.clone();
    if jwt.as_deref() == Some("-") {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        jwt = Some(line.trim().to_string());
    }
    if sources.is_empty() && !interactive {
        sources.push(Source::Stdin);
    }
    let mut session = Session::new(args.cluster_args.config(), args.locator.locator()?)?;
    let opts = psql::Options {
        app: args.app,
        as_role: args.as_role,
        database: args.database,
        sources,
        variables,
        on_error_stop: !args.continue_on_error,
        single_transaction: args.single_transaction,
        format: match args.format {
            OutFormat::Table => Format::Table,
            OutFormat::Json => Format::Json,
            OutFormat::Csv => Format::Csv,
        },
        echo: args.echo,
        verbose: args.verbose,
        jwt,
        commit: args.commit,
        interactive,
        psql_variables,
    };
    Ok(psql::run(&mut session, opts)?)
}
