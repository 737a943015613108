//! `uis-db-creds`: the credentials of an app's role or of the PostgreSQL
//! superuser, in the format a tool wants (frictions F2, F6, C.1). It only
//! reads: the admin Secret chain and the app's credential-store Secret.
//!
//! Printing passwords is this binary's job, so they go to stdout; never to
//! stderr.

use clap::Parser;
use uis_cli::{ClusterArgs, LocatorArgs};
use uis_ops::creds::{self, Format};

/// The formats `--format` accepts (each one [`Format`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FormatArg {
    Json,
    Env,
    Url,
    Libpq,
    Pgpass,
    Jdbc,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Json => Format::Json,
            FormatArg::Env => Format::Env,
            FormatArg::Url => Format::Url,
            FormatArg::Libpq => Format::Libpq,
            FormatArg::Pgpass => Format::Pgpass,
            FormatArg::Jdbc => Format::Jdbc,
        }
    }
}
use std::process::ExitCode;
use uis_ops::output;
use uis_ops::session::Session;

/// Print the credentials of an app's role, or of the PostgreSQL superuser.
///
/// Reads the app's credential store (Secret uis-db-APP in the database
/// namespace) and, for --admin, the superuser password from Secret
/// urbalurba-secrets key PGPASSWORD, falling back to Secret postgresql key
/// postgres-password. Prints JSON when stdout is not a terminal.
#[derive(Parser, Debug)]
#[command(name = "uis-db-creds", version, after_help = EXAMPLES)]
pub struct Args {
    /// The app (as given to `uis db configure`); read from piped JSON when left out
    app: Option<String>,
    /// The PostgreSQL superuser instead of an app role
    #[arg(long, conflicts_with = "role")]
    admin: bool,
    /// The role: owner (default), authenticator, readonly, or a role name in the app's store
    #[arg(long, value_name = "ROLE", value_parser = uis_cli::role_name)]
    role: Option<String>,
    /// Output format (default: json)
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Option<FormatArg>,
    /// Use the in-cluster address (SERVICE.NAMESPACE.svc.cluster.local:5432) in url, env, libpq, pgpass and jdbc output
    #[arg(long)]
    cluster: bool,
    /// List the configured apps instead
    #[arg(long, conflicts_with_all = ["admin", "role", "format", "cluster"])]
    list: bool,
    /// Print JSON even on a terminal
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    cluster_args: ClusterArgs,
    #[command(flatten)]
    locator: LocatorArgs,
}

const EXAMPLES: &str = "Examples:
  uis-db-creds railway                       # the owner's login, as JSON
  uis-db-creds railway --format url          # postgresql://railway:...@localhost:35432/railway_db
  uis-db-creds --admin | jq -r .password     # the superuser password
  uis-db-creds railway --role authenticator --format env --cluster
  uis-db-creds --list";

/// The clap definition, for completions, man pages and the CLI reference.
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

/// Parses the process arguments and runs.
pub fn main() -> ExitCode {
    uis_cli::parse_and_run(|args: &Args| args.json, |args, _| run(args))
}

fn run(args: Args) -> anyhow::Result<i32> {
    let mut session = Session::new(args.cluster_args.config(), args.locator.locator()?)?;
    let tty = output::stdout_is_terminal() && !args.json;
    if args.list {
        let apps = creds::list(&mut session)?;
        if tty {
            if apps.is_empty() {
                output::note("no app is configured yet; create one with `uis db configure APP`");
            }
            output::print(&apps.iter().map(|a| format!("{a}\n")).collect::<String>())?;
        } else {
            output::print_json(&serde_json::json!({ "apps": apps }))?;
        }
        return Ok(0);
    }
    let app = match args.app.clone() {
        Some(a) => Some(a),
        None if args.admin => None,
        None => uis_cli::default_str(&uis_cli::stdin_defaults()?, "app"),
    };
    if let Some(a) = &app {
        uis_ops::app::validate_existing_app(a)?;
    }
    let opts = creds::Options {
        app,
        admin: args.admin,
        role: args.role.clone(),
    };
    let found = creds::run(&mut session, &opts)?;
    let format = args.format.map(Format::from).unwrap_or(Format::Json);
    if format == Format::Pgpass && !found.tls.entries().is_empty() {
        // A pgpass line has host:port:database:user:password only.
        let vars: Vec<String> = found
            .tls
            .entries()
            .iter()
            .map(|(_, env, v)| format!("{env}={}", uis_ops::creds::shell_quote(v)))
            .collect();
        output::note(format!(
            "uis: a pgpass line cannot carry TLS settings; set them for libpq with {}",
            vars.join(" ")
        ));
    }
    if format == Format::Json && !tty {
        // One line, with the provider field every JSON output carries.
        output::print_json(&found.to_json())?;
        return Ok(0);
    }
    let text = if format == Format::Json && tty {
        format!("{:#}\n", found.to_json())
    } else {
        found.render(format, args.cluster)?
    };
    output::print(&text)?;
    Ok(0)
}
