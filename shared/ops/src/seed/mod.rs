//! `uis-db-seed`: apply a directory of `*.sql` files to an app's database in
//! byte order of their names, each exactly once, each in its own transaction,
//! recorded with its SHA-256 in a ledger ([`ledger`]), under a lock (seed
//! item B.2).
//!
//! A file changed after it was applied stops the run before anything is
//! applied, unless it is marked `-- uis:repeatable` or named in
//! `reapply`. Status and dry runs change nothing.

pub mod ledger;

pub use ledger::{
    Applied, Changed, Mode, Plan, SeedFile, ledger_ddl, plan, read_ledger, record, scan,
};

use crate::pg::hint;
use crate::pg::lock::{self, LockKey};
use crate::session::{Session, Who};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;
use uis_core::Failure;
use uis_core::error::{Phase, exit};
use uis_core::output::{note, stderr_is_terminal, warn};
use uis_script::{Options as ScriptOptions, Runner, ScriptError, Source};

/// What `uis-db-seed` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub app: String,
    /// The directory of `*.sql` files.
    pub dir: PathBuf,
    /// `--as`: `owner`, `admin` or a stored role.
    pub as_role: String,
    /// What would be applied; change nothing.
    pub dry_run: bool,
    /// What is applied, pending and changed; change nothing.
    pub status: bool,
    /// Files to apply again even if applied or changed.
    pub reapply: Vec<String>,
    /// Fail at once when another run holds the lock.
    pub no_wait: bool,
    /// Where the files' query output goes: stdout (`uis db seed`, as
    /// psql), or stderr when stdout carries another report (`uis onboard`).
    pub output_to_stderr: bool,
}

/// `--status` and `--dry-run`: what is applied, pending and changed.
#[derive(Debug, Serialize)]
pub struct StatusReport {
    /// `status` or `dry_run`.
    pub status: &'static str,
    pub app: String,
    pub dir: String,
    /// The ledger's name for the directory (its last component).
    pub seed_set: String,
    pub applied: Vec<String>,
    pub pending: Vec<String>,
    pub changed: Vec<Changed>,
}

/// A run's result.
#[derive(Debug, Serialize)]
pub struct RunReport {
    /// `ok`, or `error` when a file failed.
    pub status: &'static str,
    pub app: String,
    /// Files applied by this run, in order.
    pub applied: Vec<String>,
    /// Files already applied with the same checksum.
    pub skipped: Vec<String>,
    /// The file that failed (rolled back, not recorded).
    pub failed: Option<String>,
    pub duration_ms: u64,
}

/// What a seed call returns.
#[derive(Debug)]
pub enum Report {
    Status(StatusReport),
    Run {
        report: RunReport,
        /// psql's exit code for the failed file (2 connection lost, 3
        /// script error), 0 when every file applied.
        exit: i32,
    },
}

/// Scans, checks and plans, then (unless a status or dry run) applies the
/// pending files, each in its own transaction with its ledger row.
///
/// Errors: phase `usage` (a `reapply` name that is not a file of the
/// directory); `input` (unreadable directory or file); `store`, `locate`,
/// `cluster` for the logins; `lock` (`no_wait` and another run holds the
/// lock); `drift` (a file changed after it was applied, nothing applied);
/// `sql`/`connect` for the ledger. A failing FILE is not an error here: it
/// is the `Report::Run` with `failed` and `exit` set, its message already
/// on stderr.
pub fn run(session: &mut Session, opts: &Options) -> Result<Report, Failure> {
    let started = Instant::now();
    let app = &opts.app;
    let (files, warnings) = scan(&opts.dir)?;
    for w in &warnings {
        warn(w);
    }
    for r in &opts.reapply {
        if !files.iter().any(|f| &f.name == r) {
            return Err(Failure::usage(format!(
                "--reapply {r:?}: no such file in {}",
                opts.dir.display()
            ))
            .hint(format!(
                "give the name of a *.sql file in that directory; `uis db seed {app} {} --status` lists them",
                opts.dir.display()
            )));
        }
    }
    let set = opts
        .dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| opts.dir.display().to_string());

    let rec = session.app(app)?;
    let login = session
        .login_for(Some(app), &Who::parse(&opts.as_role), None)?
        .login;
    // The control connection (the lock, the ledger) is the superuser's; as
    // the owner when no Secret holds the superuser's password (CloudNativePG
    // without superuser access) and the run is the owner's: the ledger's
    // schema is the owner's anyway.
    let (mut control, control_user) = match session.admin() {
        Ok(admin) => (
            session.connect_admin(&rec.database, "uis-db-seed")?,
            admin.user,
        ),
        Err(f) if f.phase == Phase::Locate && login.user == rec.owner => {
            note(format!(
                "uis: {}; the seed ledger is read and written as the owner {}",
                f.detail, rec.owner
            ));
            (session.connect(&login, "uis-db-seed")?, login.user.clone())
        }
        Err(f) => return Err(f),
    };

    // One seed run per app at a time, for the whole run.
    if !(opts.status || opts.dry_run) {
        let key = LockKey::Seed(app.clone());
        if !lock::try_lock(&mut control, &key)? {
            if opts.no_wait {
                return Err(Failure::new(
                    Phase::Lock,
                    format!("another seed run of {app:?} is in progress"),
                )
                .hint("wait for it, or run again without --no-wait to queue behind it"));
            }
            note(format!(
                "uis: another seed run of {app} is in progress; waiting for it to finish"
            ));
            lock::lock(&mut control, &key)?;
        }
    }

    let ledger = read_ledger(&mut control, &set)?;
    let plan = plan(&files, &ledger, &opts.reapply);
    if opts.status || opts.dry_run {
        return Ok(Report::Status(StatusReport {
            status: if opts.dry_run { "dry_run" } else { "status" },
            app: app.clone(),
            dir: opts.dir.display().to_string(),
            seed_set: set,
            applied: plan.applied,
            pending: plan.pending.iter().map(|f| f.name.clone()).collect(),
            changed: plan.changed,
        }));
    }
    let drift: Vec<&Changed> = plan.changed.iter().filter(|c| !c.reapply).collect();
    if !drift.is_empty() {
        let lines: Vec<String> = drift
            .iter()
            .map(|c| {
                let when = ledger
                    .get(&c.file)
                    .map(|a| format!(" (applied {} by {})", a.applied_at, a.applied_by))
                    .unwrap_or_default();
                format!(
                    "{} changed after it was applied{when}: sha256 {} -> {}",
                    c.file,
                    &c.old_sha256[..12.min(c.old_sha256.len())],
                    &c.new_sha256[..12.min(c.new_sha256.len())]
                )
            })
            .collect();
        return Err(Failure::new(Phase::Drift, format!("{} (nothing was applied)", lines.join("; ")))
            .hint(format!(
                "put the change in a new file, or re-apply: `uis db seed {app} {} --reapply {}`, or mark the file `-- uis:repeatable` on its first line",
                opts.dir.display(),
                drift[0].file
            )));
    }
    if plan.pending.is_empty() {
        note(format!(
            "uis: nothing to apply: all {} file{} of {} are applied",
            files.len(),
            if files.len() == 1 { "" } else { "s" },
            opts.dir.display()
        ));
        return Ok(Report::Run {
            report: RunReport {
                status: "ok",
                app: app.clone(),
                applied: vec![],
                skipped: plan.applied,
                failed: None,
                duration_ms: started.elapsed().as_millis() as u64,
            },
            exit: exit::OK,
        });
    }

    // The ledger exists and the running role may write it.
    let mut grantees: Vec<&str> = Vec::new();
    if login.user != rec.owner && login.user != control_user {
        grantees.push(&login.user);
    }
    for sql in ledger_ddl(&rec.owner, &grantees) {
        control.batch_execute(&sql)?;
    }

    let ep = session.endpoint()?;
    let config = crate::pg::config(&ep, &login, "uis-db-seed");
    // A runner on a fresh connection to the app's database.
    let connect = |session: &mut Session| -> Result<Runner, Failure> {
        let mut config = config.clone();
        let notices = uis_script::notice_channel(&mut config);
        let client = session.connect_config(&config, &login)?;
        let options = ScriptOptions {
            // As libpq: each file's bytes are in this encoding.
            client_encoding: std::env::var("PGCLIENTENCODING")
                .ok()
                .filter(|e| !e.is_empty()),
            ..ScriptOptions::default()
        };
        Ok(
            Runner::new(client, Box::new(session.script_connector(config)?), options)
                .with_notices(notices),
        )
    };
    let mut runner = connect(session)?;
    let mut applied = Vec::new();
    let mut failed: Option<String> = None;
    let mut code = exit::OK;
    let n = plan.pending.len();
    for (i, f) in plan.pending.iter().enumerate() {
        if stderr_is_terminal() {
            note(format!("[{}/{n}] {} ({} bytes)", i + 1, f.name, f.bytes));
        }
        let t = Instant::now();
        let in_tx = f.mode != Mode::NoTransaction;
        // Inside the file's own transaction the engine may batch statements.
        runner = runner.caller_transaction(in_tx);
        // Each file starts as psql run on it alone would: no variables,
        // encoding or settings left by the previous file (the session's
        // were reset when that file was recorded, see `record`).
        runner.reset_script_state();
        let result = apply_file(&mut runner, f, in_tx, opts.output_to_stderr).and_then(|()| {
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
                runner = connect(session).map_err(FileError::Reconnect)?;
            }
            record(
                runner.client(),
                &set,
                f,
                t.elapsed().as_millis() as i64,
                &login.user,
            )
            .map_err(FileError::Pg)?;
            if in_tx {
                runner
                    .client()
                    .batch_execute("COMMIT")
                    .map_err(FileError::Pg)?;
            }
            Ok(())
        });
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
                let (text, file_code) = match e {
                    FileError::Script(se) => {
                        let mut t = format!("error: {se}");
                        if let Some(st) = &se.statement {
                            t.push_str(&format!("\nSTATEMENT:  {st}"));
                        }
                        // Role or database DDL refused to the app's own role.
                        if Who::parse(&opts.as_role) != Who::Admin
                            && let Some(what) = hint::refused(
                                se.sqlstate.as_deref(),
                                &se.message,
                                se.statement.as_deref(),
                            )
                        {
                            let command = format!("uis db seed {app} {}", opts.dir.display());
                            let h = hint::as_admin(what, app, &command, Some(runner.client()));
                            t.push_str(&format!("\n  hint: {h}"));
                        }
                        (t, se.exit_code())
                    }
                    FileError::Connected(db) => (
                        format!(
                            "error: {}: `\\connect {db}` inside the file's transaction: what ran before it was rolled back, what ran after it stays in {db}\n  hint: put `-- uis:no-transaction` on its first line to run it as psql would",
                            f.name
                        ),
                        exit::SCRIPT,
                    ),
                    FileError::Reconnect(e) => (
                        format!("error: {}: reconnecting to {}: {e}", f.name, rec.database),
                        exit::CONNECTION_LOST,
                    ),
                    FileError::Pg(pe) => {
                        let f2 = Failure::from(pe);
                        (
                            format!("error: {}: {}", f.name, f2.detail),
                            if f2.code == exit::CONNECTION_LOST {
                                exit::CONNECTION_LOST
                            } else {
                                exit::SCRIPT
                            },
                        )
                    }
                };
                note(text);
                note(format!(
                    "uis: {} was rolled back and not recorded; {} file{} not attempted; fix it and run again: `uis db seed {app} {}`",
                    f.name,
                    n - i - 1,
                    if n - i - 1 == 1 { "" } else { "s" },
                    opts.dir.display()
                ));
                failed = Some(f.name.clone());
                code = file_code;
                break;
            }
        }
    }
    Ok(Report::Run {
        report: RunReport {
            status: if failed.is_some() { "error" } else { "ok" },
            app: app.clone(),
            applied,
            skipped: plan.applied,
            failed,
            duration_ms: started.elapsed().as_millis() as u64,
        },
        exit: code,
    })
}

/// One file, in its own transaction unless `-- uis:no-transaction` (the
/// caller records it in the ledger and commits).
fn apply_file(
    runner: &mut Runner,
    f: &SeedFile,
    in_tx: bool,
    to_stderr: bool,
) -> Result<(), FileError> {
    if in_tx {
        runner
            .client()
            .batch_execute("BEGIN")
            .map_err(FileError::Pg)?;
    }
    let mut out: Box<dyn Write> = if to_stderr {
        Box::new(uis_core::output::StderrLines::default())
    } else {
        Box::new(std::io::stdout().lock())
    };
    runner
        .run(
            vec![Source::File(f.path.clone())],
            &mut out,
            &mut uis_core::output::StderrLines::default(),
        )
        .map_err(|e| FileError::Script(Box::new(e)))?;
    let _ = out.flush();
    Ok(())
}

enum FileError {
    Script(Box<ScriptError>),
    Pg(postgres::Error),
    /// The file `\connect`ed to this database inside its transaction.
    Connected(String),
    /// The fresh connection to the app's database after a `\connect`.
    Reconnect(Failure),
}
