//! `uis-postgrest-deploy`: PostgREST for one app, with its roles, JWT secret,
//! Secret, Deployment, Service and IngressRoute, and a rollout wait that
//! reports causes (frictions F5, F8, F9, F10; seed items B.5, B.6).
//!
//! The flags become [`deploy::Options`]; the behaviour is
//! [`uis_ops::deploy`]; this file prints its report.

use clap::{Parser, ValueEnum};
use std::process::ExitCode;
use std::time::Duration;
use uis_cli::{ClusterArgs, LocatorArgs, PostgrestRoleArgs};
use uis_ops::Failure;
use uis_ops::deploy::{self, Report};
use uis_ops::output;
use uis_ops::session::Session;

/// Deploy PostgREST for an app: roles, JWT secret, Secret, Deployment, Service, IngressRoute.
///
/// Writes, in namespace postgrest, Secret APP-postgrest (PGRST_DB_URI,
/// PGRST_DB_SCHEMAS, PGRST_DB_ANON_ROLE, PGRST_JWT_SECRET, PGRST_JWT_AUD...)
/// and a Deployment, Service and Traefik IngressRoute named APP-postgrest
/// whose every PGRST_* setting is a secretKeyRef into it. Creates the
/// authenticator (LOGIN NOINHERIT, stored password), anon and authenticated
/// roles when missing and reuses existing ones (never a privileged one: a
/// superuser, the app's or database's owner, a role with BYPASSRLS,
/// CREATEROLE, CREATEDB or REPLICATION, an owner of objects in the schemas,
/// or a member of any of these). Waits for Available.
///
/// Records what it was given on the Secret: a re-run keeps every choice
/// whose flag it is not given.
#[derive(Parser, Debug)]
#[command(name = "uis-postgrest-deploy", version, after_help = EXAMPLES)]
pub struct Args {
    /// The app (as given to `uis db configure`); read from piped JSON when left out
    pub app: Option<String>,
    /// The database (default: the app's, from the credential store)
    #[arg(long, value_name = "DB")]
    pub database: Option<String>,
    /// Schemas PostgREST exposes (default: the recorded ones, else the app's schemas, else public)
    #[arg(long, value_name = "S1,S2", value_delimiter = ',')]
    pub schemas: Vec<String>,
    #[command(flatten)]
    pub roles: PostgrestRoleArgs,
    /// Grants for the anon role: USAGE and SELECT on the schemas (UIS parity), or none (your DDL grants) [default: the recorded choice, else anon-select]
    #[arg(long, value_enum)]
    pub grants: Option<Grants>,
    /// Host prefix of the public URL http://PREFIX.localhost (default: the recorded one, else api-APP)
    #[arg(long, value_name = "P")]
    pub url_prefix: Option<String>,
    /// PostgREST image (default: the recorded one, else the suite's)
    #[arg(long, value_name = "IMG")]
    pub image: Option<String>,
    /// Number of PostgREST pods (default: the recorded number, else 2)
    #[arg(long, value_name = "N", value_parser = replicas, allow_hyphen_values = true)]
    pub replicas: Option<i32>,
    /// The audience tokens must carry (PGRST_JWT_AUD): a string, or an RFC 3986 URI when it has ':' (default: the recorded one)
    #[arg(long, value_name = "AUD")]
    pub jwt_aud: Option<String>,
    /// Only these browser origins may call the API (PGRST_SERVER_CORS_ALLOWED_ORIGINS, e.g. https://app.example.com); default: any origin
    #[arg(long, value_name = "ORIGIN,...", value_delimiter = ',')]
    pub cors_origins: Option<Vec<String>>,
    /// Print the SQL and manifests; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Do not wait for the Deployment to become Available
    #[arg(long)]
    pub no_wait: bool,
    /// Seconds to wait for Available
    #[arg(long, value_name = "SECONDS", default_value_t = 120, value_parser = uis_cli::seconds, allow_hyphen_values = true)]
    pub timeout: u64,
    /// Issue a new JWT secret (every token minted before stops working)
    #[arg(long)]
    pub rotate_jwt_secret: bool,
    /// Issue a new authenticator password
    #[arg(long)]
    pub rotate_password: bool,
    /// Only wait for the existing Deployment and report its state; change nothing
    #[arg(long, conflicts_with_all = ["dry_run", "undeploy", "purge", "rotate_jwt_secret", "rotate_password"])]
    pub status: bool,
    /// Remove Deployment, Service and IngressRoute (keep the Secret and the roles)
    #[arg(long)]
    pub undeploy: bool,
    /// Roles, JWT secret and Secret only: no Deployment, Service or IngressRoute (`./uis configure postgrest`)
    #[arg(long, conflicts_with_all = ["undeploy", "purge", "status"])]
    pub secret_only: bool,
    /// Also drop the roles this tool created and delete the Secret
    #[arg(long)]
    pub purge: bool,
    /// Confirm --purge
    #[arg(long, requires = "purge")]
    pub yes: bool,
    /// Print JSON even on a terminal
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub cluster_args: ClusterArgs,
    #[command(flatten)]
    pub locator: LocatorArgs,
}

/// What the anon role is granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Grants {
    /// USAGE on the schemas, SELECT on their tables, default privileges for new tables
    AnonSelect,
    /// Nothing: the customer's DDL grants what it wants
    None,
}

const EXAMPLES: &str = "Examples:
  uis-postgrest-deploy railway --schemas railway
  uis-postgrest-deploy railway --schemas railway --authenticator authenticator --anon-role anon --authenticated-role authenticated --grants none
  uis-postgrest-deploy railway --rotate-jwt-secret   (keeps every other choice)
  uis-postgrest-deploy railway --status
  uis-postgrest-deploy railway --undeploy";

/// The clap definition, for completions, man pages and the CLI reference.
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

/// Parses the process arguments and runs.
pub fn main() -> ExitCode {
    uis_cli::parse_and_run(|args: &Args| args.json, run)
}

fn run(mut args: Args, json_mode: bool) -> anyhow::Result<i32> {
    if args.app.is_none() {
        let defaults = uis_cli::stdin_defaults()?;
        args.app = uis_cli::default_str(&defaults, "app");
        uis_cli::default_database_and_schemas(&defaults, &mut args.database, &mut args.schemas);
        // Role names printed by `uis-db-configure --with-roles postgrest --json`.
        for (flag, kind) in [
            (&mut args.roles.authenticator, "authenticator"),
            (&mut args.roles.anon_role, "anon"),
            (&mut args.roles.authenticated_role, "authenticated"),
        ] {
            if flag.is_none() {
                *flag = uis_cli::default_nested_str(&defaults, "roles", kind);
            }
        }
    }
    let Some(app) = args.app.clone() else {
        return Err(Failure::usage("give APP, e.g. `uis-postgrest-deploy railway`").into());
    };
    let opts = deploy::Options {
        app,
        database: args.database.clone(),
        schemas: args.schemas.clone(),
        roles: args.roles.roles(),
        grants: args.grants.map(|g| match g {
            Grants::AnonSelect => deploy::Grants::AnonSelect,
            Grants::None => deploy::Grants::None,
        }),
        url_prefix: args.url_prefix.clone(),
        image: args.image.clone(),
        replicas: args.replicas,
        jwt_aud: args.jwt_aud.clone(),
        cors_origins: args.cors_origins.clone(),
        dry_run: args.dry_run,
        wait: !args.no_wait,
        timeout: Duration::from_secs(args.timeout),
        rotate_jwt_secret: args.rotate_jwt_secret,
        rotate_password: args.rotate_password,
        status: args.status,
        undeploy: args.undeploy,
        secret_only: args.secret_only,
        purge: args.purge,
        yes: args.yes,
    };
    deploy::validate(&opts)?;
    let mut session = Session::new(args.cluster_args.config(), args.locator.locator()?)?;
    let report = deploy::run(&mut session, &opts)?;
    print(&report, json_mode)?;
    Ok(0)
}

fn print(report: &Report, json_mode: bool) -> anyhow::Result<()> {
    match report {
        // Printed as JSON on a terminal too.
        Report::Available(a) => output::print_json(&serde_json::to_value(a)?)?,
        Report::DryRun(d) => output::print_json(&serde_json::to_value(d)?)?,
        Report::UndeployDryRun(d) => output::print_json(&serde_json::to_value(d)?)?,
        Report::Deployed(d) if json_mode => output::print_json(&serde_json::to_value(d)?)?,
        Report::Deployed(d) => output::print(&format!(
            "{}: PostgREST for {} in namespace {}\n  roles:   authenticator {}, anon {}, authenticated {}\n  api:     {}{}\nnext:\n  {}\n",
            d.status,
            d.app,
            d.namespace,
            d.roles.authenticator,
            d.roles.anon,
            d.roles.authenticated,
            d.in_cluster_url,
            match &d.public_url {
                Some(u) => format!(" (public: {u})"),
                None => String::new(),
            },
            d.next_steps.join("\n  ")
        ))?,
        Report::Undeployed(u) if json_mode => output::print_json(&serde_json::to_value(u)?)?,
        Report::Undeployed(u) => output::print(&format!(
            "{}: {}\n",
            u.status,
            if u.deleted.is_empty() {
                "nothing was deployed".to_string()
            } else {
                u.deleted.join(", ")
            }
        ))?,
    }
    Ok(())
}

/// `--replicas`: 1 to 100.
fn replicas(s: &str) -> Result<i32, String> {
    uis_cli::number_in(
        s,
        1..=100,
        "expected a number of pods from 1 to 100, e.g. 2",
    )
}
