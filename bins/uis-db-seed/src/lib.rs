//! `uis-db-seed`'s flags: they become [`uis_ops::seed::Options`], and
//! `uis_ops::seed` applies the files (each once, in its own transaction,
//! with a checksummed ledger, under a lock).

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use uis_cli::{ClusterArgs, LocatorArgs};
use uis_ops::Failure;
use uis_ops::app::validate_existing_app;
use uis_ops::output;
use uis_ops::seed;
use uis_ops::session::Session;

/// Apply DIR/*.sql in name order, each exactly once, with a ledger.
///
/// Each file runs through the psql-compatible engine (\ir, COPY data and
/// variables work) in its own transaction; a first line `-- uis:no-transaction`
/// runs it outside one (CREATE INDEX CONCURRENTLY, VACUUM), `-- uis:repeatable`
/// re-applies it whenever it changes. The ledger is table uis.seed_ledger in
/// the app's database: directory name, file name, SHA-256, applied_at,
/// applied_by, duration. An advisory lock makes concurrent runs wait.
#[derive(Parser, Debug)]
#[command(name = "uis-db-seed", version, after_help = EXAMPLES)]
pub struct Args {
    /// The app; read from piped JSON when left out
    pub app: Option<String>,
    /// The directory of *.sql files
    #[arg(default_value = "db")]
    pub dir: PathBuf,
    /// Who runs the files: owner (default), admin (the superuser), or a stored role
    #[arg(long = "as", value_name = "owner|admin|ROLE", value_parser = uis_cli::role_name, default_value = "owner")]
    pub as_role: String,
    /// Print what would be applied; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Print what is applied, pending and changed; change nothing
    #[arg(long, conflicts_with = "dry_run")]
    pub status: bool,
    /// Apply this file again even if applied or changed (repeatable)
    #[arg(long, value_name = "FILE")]
    pub reapply: Vec<String>,
    /// Fail at once when another seed run of the app holds the lock
    #[arg(long)]
    pub no_wait: bool,
    /// Print JSON even on a terminal
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub cluster_args: ClusterArgs,
    #[command(flatten)]
    pub locator: LocatorArgs,
}

const EXAMPLES: &str = "Examples:
  uis-db-seed railway db/ --as admin        # 01-roles.sql .. 05-rls.sql, each once
  uis-db-seed railway db/seeds/             # data, as the owner
  uis-db-seed railway db/ --status
  uis-db-seed railway db/ --reapply 04-functions.sql";

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
        args.app = uis_cli::default_str(&uis_cli::stdin_defaults()?, "app");
    }
    let Some(app) = args.app.clone() else {
        return Err(Failure::usage("give APP, e.g. `uis-db-seed railway db/`").into());
    };
    validate_existing_app(&app)?;
    let opts = seed::Options {
        app,
        dir: args.dir,
        as_role: args.as_role,
        dry_run: args.dry_run,
        status: args.status,
        reapply: args.reapply,
        no_wait: args.no_wait,
        output_to_stderr: false,
    };
    let mut session = Session::new(args.cluster_args.config(), args.locator.locator()?)?;
    match seed::run(&mut session, &opts)? {
        seed::Report::Status(status) => {
            output::print_json(&serde_json::to_value(&status)?)?;
            Ok(0)
        }
        seed::Report::Run { report, exit } => {
            if json_mode || report.failed.is_none() {
                output::print_json(&serde_json::to_value(&report)?)?;
            }
            Ok(exit)
        }
    }
}
