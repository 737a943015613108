//! `uis-db-seed`: apply a directory of `*.sql` files to an app's database in
//! byte order of their names, each exactly once, each in its own transaction,
//! recorded with its SHA-256 in a ledger, under a lock (seed item B.2).
//!
//! A file changed after it was applied stops the run before anything is
//! applied, unless it is marked `-- uis:repeatable` or named with
//! `--reapply`. `--status` and `--dry-run` change nothing.

use clap::Parser;
use shared::Failure;
use shared::app::validate_app;
use shared::cli::{ClusterArgs, LocatorArgs};
use shared::output::{self, note, warn};
use shared::script::{Options, PgConnector, Runner, Source};
use shared::seed::{self, Mode};
use shared::session::Session;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

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
    #[arg(long = "as", value_name = "owner|admin|ROLE", value_parser = shared::cli::role_name, default_value = "owner")]
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
    let args = Args::parse();
    let json_mode = args.json || !output::stdout_is_terminal();
    output::run_main(json_mode, || run(args, json_mode))
}

fn run(mut args: Args, json_mode: bool) -> anyhow::Result<i32> {
    let started = Instant::now();
    if args.app.is_none() {
        args.app = output::default_str(&output::stdin_defaults()?, "app");
    }
    let Some(app) = args.app.clone() else {
        return Err(Failure::usage("give APP, e.g. `uis-db-seed railway db/`").into());
    };
    validate_app(&app)?;
    let (files, warnings) = seed::scan(&args.dir)?;
    for w in &warnings {
        warn(w);
    }
    for r in &args.reapply {
        if !files.iter().any(|f| &f.name == r) {
            return Err(Failure::usage(format!(
                "--reapply {r:?}: no such file in {}",
                args.dir.display()
            ))
            .hint(format!(
                "give the name of a *.sql file in that directory; `uis db seed {app} {} --status` lists them",
                args.dir.display()
            ))
            .into());
        }
    }
    let set = args
        .dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| args.dir.display().to_string());

    let mut session = Session::new(&args.cluster_args, &args.locator)?;
    let rec = session.app(&app)?;
    let login = session.login_as(Some(&app), &args.as_role, None)?;
    let admin = session.admin()?;
    let mut control = session.connect_admin(&rec.database, "uis-db-seed")?;

    // One seed run per app at a time, for the whole run.
    if !(args.status || args.dry_run) {
        let key = seed::lock_key(&app);
        let got: bool = control
            .query_one("select pg_try_advisory_lock(hashtext($1))", &[&key])?
            .get(0);
        if !got {
            if args.no_wait {
                return Err(Failure::new(
                    "lock",
                    format!("another seed run of {app:?} is in progress"),
                )
                .hint("wait for it, or run again without --no-wait to queue behind it")
                .into());
            }
            note(format!(
                "uis: another seed run of {app} is in progress; waiting for it to finish"
            ));
            control.execute("select pg_advisory_lock(hashtext($1))", &[&key])?;
        }
    }

    let ledger = seed::read_ledger(&mut control, &set)?;
    let plan = seed::plan(&files, &ledger, &args.reapply);
    let drift: Vec<&(String, String, String, bool)> =
        plan.changed.iter().filter(|c| !c.3).collect();
    let changed_json: Vec<serde_json::Value> = plan
        .changed
        .iter()
        .map(|(n, old, new, again)| serde_json::json!({"file": n, "old_sha256": old, "new_sha256": new, "reapply": again}))
        .collect();
    let pending: Vec<&str> = plan.pending.iter().map(|f| f.name.as_str()).collect();
    if args.status || args.dry_run {
        output::print_json(&serde_json::json!({
            "status": if args.dry_run { "dry_run" } else { "status" },
            "app": app, "dir": args.dir.display().to_string(), "seed_set": set,
            "applied": plan.applied, "pending": pending, "changed": changed_json,
        }))?;
        return Ok(0);
    }
    if !drift.is_empty() {
        let lines: Vec<String> = drift
            .iter()
            .map(|(n, old, new, _)| {
                let when = ledger
                    .get(n)
                    .map(|a| format!(" (applied {} by {})", a.applied_at, a.applied_by))
                    .unwrap_or_default();
                format!(
                    "{n} changed after it was applied{when}: sha256 {} -> {}",
                    &old[..12.min(old.len())],
                    &new[..12.min(new.len())]
                )
            })
            .collect();
        return Err(Failure::new("drift", format!("{} (nothing was applied)", lines.join("; ")))
            .hint(format!(
                "put the change in a new file, or re-apply: `uis db seed {app} {} --reapply {}`, or mark the file `-- uis:repeatable` on its first line",
                args.dir.display(),
                drift[0].0
            ))
            .into());
    }
    if plan.pending.is_empty() {
        note(format!(
            "uis: nothing to apply: all {} file{} of {} are applied",
            files.len(),
            if files.len() == 1 { "" } else { "s" },
            args.dir.display()
        ));
        output::print_json(&serde_json::json!({
            "status": "ok", "app": app, "applied": [], "skipped": plan.applied, "failed": null,
            "duration_ms": started.elapsed().as_millis() as u64,
        }))?;
        return Ok(0);
    }

    // The ledger exists and the running role may write it.
    let mut grantees: Vec<&str> = Vec::new();
    if login.user != rec.owner && login.user != admin.user {
        grantees.push(&login.user);
    }
    for sql in seed::ledger_ddl(&rec.owner, &grantees) {
        control.batch_execute(&sql)?;
    }

    let ep = session.endpoint()?;
    let config = shared::pg::config(&ep, &login, "uis-db-seed");
    // A runner on a fresh connection to the app's database.
    let connect = |session: &mut Session| -> anyhow::Result<Runner> {
        let mut config = config.clone();
        let notices = shared::script::notice_channel(&mut config);
        let client = session.connect_config(&config, &login)?;
        Ok(Runner::new(
            client,
            Box::new(PgConnector::new(config)),
            Options::default(),
        )
        .with_notices(notices))
    };
    let mut runner = connect(&mut session)?;
    let stdout = std::io::stdout();
    let mut applied = Vec::new();
    let mut failed: Option<String> = None;
    let mut exit = 0;
    let n = plan.pending.len();
    for (i, f) in plan.pending.iter().enumerate() {
        if output::stderr_is_terminal() {
            note(format!("[{}/{n}] {} ({} bytes)", i + 1, f.name, f.bytes));
        }
        let t = Instant::now();
        let in_tx = f.mode != Mode::NoTransaction;
        // Inside the file's own transaction the engine may batch statements.
        runner = runner.caller_transaction(in_tx);
        let result = (|| -> Result<(), FileError> {
            if in_tx {
                runner
                    .client()
                    .batch_execute("BEGIN")
                    .map_err(FileError::Pg)?;
            }
            let mut out = stdout.lock();
            runner
                .run(
                    vec![Source::File(f.path.clone())],
                    &mut out,
                    &mut std::io::stderr(),
                )
                .map_err(|e| FileError::Script(Box::new(e)))?;
            let _ = out.flush();
            // A file may `\connect` to another database (`pg_dump -C`
            // output creates its database and connects to it). The ledger
            // is in the app's database: record there, on a fresh connection.
            let now: String = runner
                .client()
                .query_one("select current_database()", &[])
                .map_err(FileError::Pg)?
                .get(0);
            if now != rec.database {
                if in_tx {
                    return Err(FileError::Connected(now));
                }
                runner = connect(&mut session).map_err(FileError::Reconnect)?;
            }
            seed::record(runner.client(), &set, f, t.elapsed().as_millis() as i64)
                .map_err(FileError::Pg)?;
            if in_tx {
                runner
                    .client()
                    .batch_execute("COMMIT")
                    .map_err(FileError::Pg)?;
            }
            Ok(())
        })();
        match result {
            Ok(()) => {
                note(format!(
                    "uis: applied {} in {} ms",
                    f.name,
                    t.elapsed().as_millis()
                ));
                applied.push(f.name.clone());
            }
            Err(e) => {
                if in_tx {
                    let _ = runner.client().batch_execute("ROLLBACK");
                }
                let (text, code) = match e {
                    FileError::Script(se) => {
                        let mut t = format!("error: {se}");
                        if let Some(st) = &se.statement {
                            t.push_str(&format!("\nSTATEMENT:  {st}"));
                        }
                        (t, se.exit_code())
                    }
                    FileError::Connected(db) => (
                        format!(
                            "error: {}: `\\connect {db}` inside the file's transaction: what ran before it was rolled back, what ran after it stays in {db}\n  hint: put `-- uis:no-transaction` on its first line to run it as psql would",
                            f.name
                        ),
                        3,
                    ),
                    FileError::Reconnect(e) => (
                        format!("error: {}: reconnecting to {}: {e:#}", f.name, rec.database),
                        2,
                    ),
                    FileError::Pg(pe) => {
                        let f2 = Failure::from(pe);
                        (
                            format!("error: {}: {}", f.name, f2.detail),
                            if f2.code == 2 { 2 } else { 3 },
                        )
                    }
                };
                note(text);
                note(format!(
                    "uis: {} was rolled back and not recorded; {} file{} not attempted; fix it and run again: `uis db seed {app} {}`",
                    f.name,
                    n - i - 1,
                    if n - i - 1 == 1 { "" } else { "s" },
                    args.dir.display()
                ));
                failed = Some(f.name.clone());
                exit = code;
                break;
            }
        }
    }
    let summary = serde_json::json!({
        "status": if failed.is_some() { "error" } else { "ok" },
        "app": app, "applied": applied, "skipped": plan.applied, "failed": failed,
        "duration_ms": started.elapsed().as_millis() as u64,
    });
    if json_mode || failed.is_none() {
        output::print_json(&summary)?;
    }
    Ok(exit)
}

enum FileError {
    Script(Box<shared::script::ScriptError>),
    Pg(postgres::Error),
    /// The file `\connect`ed to this database inside its transaction.
    Connected(String),
    /// The fresh connection to the app's database after a `\connect`.
    Reconnect(anyhow::Error),
}
