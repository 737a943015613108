//! `uis-db-creds`: the credentials of an app's role or of the PostgreSQL
//! superuser, in the format a tool wants (frictions F2, F6, C.1). It only
//! reads: the admin Secret chain and the app's credential-store Secret.
//!
//! Printing passwords is this binary's job, so they go to stdout; never to
//! stderr.

use clap::Parser;
use shared::Failure;
use shared::creds::{Creds, Format};
use shared::error::Phase;
use uis_cli::{ClusterArgs, LocatorArgs};

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
use shared::output;
use shared::session::Session;
use std::process::ExitCode;

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
    let args = Args::parse();
    let json_mode = args.json || !output::stdout_is_terminal();
    uis_cli::run_main(json_mode, || run(args))
}

fn run(args: Args) -> anyhow::Result<i32> {
    let mut session = Session::new(args.cluster_args.config(), args.locator.locator()?)?;
    if args.list {
        let cluster = session.cluster()?;
        let ns = session.locator.namespace.clone();
        let apps = session.block_on(shared::store::list(&cluster, &ns))?;
        if output::stdout_is_terminal() && !args.json {
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
        shared::app::validate_app(a)?;
    }
    let loc = session.locator.clone();
    let local = loc.local.clone();
    let in_cluster = (loc.cluster_host(), loc.port);
    let creds = if args.admin {
        let database = match &app {
            Some(a) => session.app(a)?.database,
            None => "postgres".to_string(),
        };
        let admin = session.admin()?;
        Creds {
            app: app.clone(),
            role: "admin".into(),
            username: admin.user,
            password: admin.password,
            database,
            local,
            cluster: in_cluster,
            source: admin.source,
        }
    } else {
        let Some(app) = app else {
            return Err(Failure::usage(
                "give APP (e.g. `uis-db-creds railway`), or --admin for the superuser",
            )
            .into());
        };
        let rec = session.app(&app)?;
        let kind = args.role.clone().unwrap_or_else(|| "owner".into());
        let username = rec.resolve_role(&kind);
        let Some(password) = rec.passwords.get(&username).cloned() else {
            let known: Vec<&str> = rec.passwords.keys().map(String::as_str).collect();
            return Err(Failure::new(
                Phase::Store,
                format!(
                    "no stored password for role {username:?} of app {app:?} (stored: {})",
                    known.join(", ")
                ),
            )
            .hint(format!(
                "roles get stored passwords when the suite creates them: `uis db configure {app} --with-roles postgrest` or `uis postgrest deploy {app}`"
            ))
            .into());
        };
        Creds {
            app: Some(app.clone()),
            role: kind,
            username,
            password,
            database: rec.database.clone(),
            local,
            cluster: in_cluster,
            source: format!(
                "Secret {}/{} key password.{}",
                loc.namespace,
                shared::store::secret_name(&app),
                rec.resolve_role(args.role.as_deref().unwrap_or("owner"))
            ),
        }
    };
    let format = args.format.map(Format::from).unwrap_or(Format::Json);
    let text = if format == Format::Json && output::stdout_is_terminal() && !args.json {
        format!("{:#}\n", creds.to_json())
    } else {
        creds.render(format, args.cluster)
    };
    output::print(&text)?;
    Ok(0)
}
