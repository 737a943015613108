//! `uis-db-tunnel`: a local port that reaches the shared PostgreSQL through a
//! port-forward over the Kubernetes API, for psql, GUI clients and local
//! tools (frictions F3, C.2). Prints one JSON line with the local URL for the
//! chosen role, then forwards until interrupted.

use clap::Parser;
use std::process::ExitCode;
use uis_cli::{ClusterArgs, LocatorArgs};
use uis_ops::Failure;
use uis_ops::output;
use uis_ops::session::{Session, Who};
use uis_ops::tunnel;

/// Open a local port to the shared PostgreSQL and keep it open until interrupted.
///
/// Every connection to the local port opens its own port-forward to the
/// database pod (pods/portforward on the pod found with --pg-selector), so no
/// exposed service and no pods/exec permission are needed. Prints one JSON
/// line: host, port and the database_url for the role (password included).
#[derive(Parser, Debug)]
#[command(name = "uis-db-tunnel", version, after_help = EXAMPLES)]
pub struct Args {
    /// The app whose login goes into the printed URL; read from piped JSON when left out
    app: Option<String>,
    /// Print the superuser's URL
    #[arg(long, conflicts_with = "role")]
    admin: bool,
    /// The role whose URL is printed: owner (default), authenticator, readonly or a stored role name
    #[arg(long, value_name = "ROLE", value_parser = uis_cli::role_name)]
    role: Option<String>,
    /// Local port to listen on, on 127.0.0.1 (default: any free port)
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = uis_cli::listen_port, allow_hyphen_values = true)]
    port: u16,
    #[command(flatten)]
    cluster_args: ClusterArgs,
    #[command(flatten)]
    locator: LocatorArgs,
}

const EXAMPLES: &str = "Examples:
  uis-db-tunnel railway --port 15432 &       # then: psql \"$(jq -r .database_url)\"
  uis-db-tunnel --admin | head -1 | jq -r .database_url";

/// The clap definition, for completions, man pages and the CLI reference.
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

/// Parses the process arguments and runs.
pub fn main() -> ExitCode {
    // Always JSON: the URL line is the result, also on a terminal.
    uis_cli::parse_and_run(|_: &Args| true, |args, _| run(args))
}

fn run(args: Args) -> anyhow::Result<i32> {
    if args.locator.direct.is_some() {
        return Err(
            Failure::usage("--direct makes no tunnel: connect to that address yourself").into(),
        );
    }
    let mut session = Session::new(args.cluster_args.config(), args.locator.locator()?)?;
    let app = match args.app.clone() {
        Some(a) => Some(a),
        None if args.admin => None,
        None => uis_cli::default_str(&uis_cli::stdin_defaults()?, "app"),
    };
    if let Some(a) = &app {
        uis_ops::app::validate_existing_app(a)?;
    }
    let who = match (&app, args.admin) {
        (_, true) => Who::Admin,
        (Some(_), false) => Who::Role(args.role.clone().unwrap_or_else(|| "owner".into())),
        (None, false) => {
            return Err(
                Failure::usage("give APP (e.g. `uis-db-tunnel railway`), or --admin").into(),
            );
        }
    };
    session.report_forward_errors = true;
    let report = tunnel::open(&mut session, app.as_deref(), &who, args.port)?;
    output::print_json(&serde_json::to_value(&report)?)?;
    output::note(format!(
        "uis: forwarding {}:{} {}; press Ctrl-C to stop",
        report.host, report.port, report.via
    ));
    tunnel::wait_for_interrupt(&session)?;
    Ok(0)
}
