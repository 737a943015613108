//! `uis-db-doctor`: checks an onboarded app for every failure the customer
//! investigation met (F1-F11), each as pass / warn / fail with the command or
//! SQL that fixes it. It only reads (and mints one throwaway anon token to
//! verify it); it changes nothing.
//!
//! Checks that depend on an earlier one (no database, no PostgREST) are
//! reported as `skip`, so one cause gives one failure. The checks are
//! [`uis_ops::doctor`]; this file parses the flags and prints the report.

use clap::Parser;
use serde_json::json;
use std::process::ExitCode;
use uis_cli::{ClusterArgs, LocatorArgs};
use uis_ops::Failure;
use uis_ops::app::validate_existing_app;
use uis_ops::doctor::{self, Status};
use uis_ops::output;
use uis_ops::session::Session;

/// Check an app's database and PostgREST wiring; say how to fix what is wrong.
///
/// Checks: the cluster is reachable; the topology (in-cluster: the
/// StatefulSet's pod; proxied: UIS's Deployment forwarding to an external
/// server); the admin Secret is found (F2); the
/// database and its owner exist; the owner owns the database and is no
/// superuser (F1); the credential store holds a working password for every
/// LOGIN role (F6); PGRST_DB_URI's password is URL-safe and logs in (F9);
/// the Deployment binds every PGRST_* key from the Secret (F10); the anon
/// role exists and is granted to the authenticator; RLS policies name roles
/// PostgREST can become (F8); role names shared with other apps; the JWT
/// secret has 32+ characters; the Deployment is Available; an anon token
/// signed as `uis jwt mint` signs it verifies with the secret and audience
/// the pods receive through their env bindings (F11); the owner can write
/// every table in the app's schemas (warn). Exits 1 when any check fails.
#[derive(Parser, Debug)]
#[command(
    name = "uis-db-doctor",
    version,
    after_help = "Examples:\n  uis-db-doctor railway\n  uis-db-doctor railway --json | jq '.checks[] | select(.status == \"fail\")'"
)]
pub struct Args {
    /// The app to check; read from piped JSON when left out
    pub app: Option<String>,
    /// Print JSON even on a terminal
    #[arg(long)]
    pub json: bool,
    /// Check the server only, no app: the cluster, the superuser's Secret and login (`uis postgresql verify`)
    #[arg(long, conflicts_with = "app")]
    pub server: bool,
    #[command(flatten)]
    pub cluster_args: ClusterArgs,
    #[command(flatten)]
    pub locator: LocatorArgs,
}

/// The clap definition, for completions, man pages and the CLI reference.
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

/// Parses the process arguments and runs.
pub fn main() -> ExitCode {
    uis_cli::parse_and_run(|args: &Args| args.json, run)
}

fn run(mut args: Args, json_mode: bool) -> anyhow::Result<i32> {
    if args.server {
        let mut session = Session::new(args.cluster_args.config(), args.locator.locator()?)?;
        let report = doctor::run_server(&mut session);
        if json_mode {
            output::print_json(&json!({
                "status": if report.failed() { Status::Fail } else { Status::Pass },
                "checks": report.checks,
            }))?;
        } else {
            output::print(&report.text())?;
        }
        return Ok(if report.failed() { 1 } else { 0 });
    }
    if args.app.is_none() {
        args.app = uis_cli::default_str(&uis_cli::stdin_defaults()?, "app");
    }
    let Some(app) = args.app.clone() else {
        return Err(Failure::usage("give APP, e.g. `uis-db-doctor railway`").into());
    };
    validate_existing_app(&app)?;
    let mut session = Session::new(args.cluster_args.config(), args.locator.locator()?)?;
    let report = doctor::run(&mut session, &app);
    if json_mode {
        output::print_json(&json!({
            "app": app,
            "status": if report.failed() { Status::Fail } else { Status::Pass },
            "checks": report.checks,
        }))?;
    } else {
        output::print(&report.text())?;
    }
    Ok(if report.failed() { 1 } else { 0 })
}
