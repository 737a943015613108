//! `uis-db-tunnel`: a local port that reaches the shared PostgreSQL through a
//! port-forward over the Kubernetes API, for psql, GUI clients and local
//! tools (frictions F3, C.2). Prints one JSON line with the local URL for the
//! chosen role, then forwards until interrupted.

use clap::Parser;
use std::net::SocketAddr;
use std::process::ExitCode;
use uis_cli::{ClusterArgs, LocatorArgs};
use uis_ops::Failure;
use uis_ops::error::Phase;
use uis_ops::output;
use uis_ops::session::Session;

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
    let args = Args::parse();
    uis_cli::run_main(true, || run(args))
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
        uis_ops::app::validate_app(a)?;
    }
    let (role, user, password, database) = match (&app, args.admin) {
        (None, true) => {
            let a = session.admin()?;
            (
                "admin".to_string(),
                a.user,
                a.password,
                "postgres".to_string(),
            )
        }
        (Some(app), true) => {
            let rec = session.app(app)?;
            let a = session.admin()?;
            ("admin".to_string(), a.user, a.password, rec.database)
        }
        (Some(app), false) => {
            let rec = session.app(app)?;
            let kind = args.role.clone().unwrap_or_else(|| "owner".into());
            let user = rec.resolve_role(&kind);
            let password = rec.passwords.get(&user).cloned().ok_or_else(|| {
                Failure::new(
                    Phase::Store,
                    format!("no stored password for role {user:?} of app {app:?}"),
                )
                .hint(format!(
                    "see the stored roles with `uis db creds {app} --role ROLE`"
                ))
            })?;
            (kind, user, password, rec.database)
        }
        (None, false) => {
            return Err(
                Failure::usage("give APP (e.g. `uis-db-tunnel railway`), or --admin").into(),
            );
        }
    };
    let ep = session.endpoint_on(SocketAddr::from(([127, 0, 0, 1], args.port)))?;
    let url = uis_ops::core::creds::url(&user, &password, &ep.host, ep.port, &database);
    output::print_json(&serde_json::json!({
        "app": app,
        "role": role,
        "username": user,
        "database": database,
        "host": ep.host,
        "port": ep.port,
        "database_url": url,
        "via": session.via(),
    }))?;
    output::note(format!(
        "uis: forwarding {}:{} {}; press Ctrl-C to stop",
        ep.host,
        ep.port,
        session.via()
    ));
    session.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("install SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = term.recv() => {},
        }
    });
    Ok(0)
}
