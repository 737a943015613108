//! `uis-onboard`: the whole onboarding of an app declared in `uis.yaml`
//! (database, owner, schemas, extensions, role names, DDL as the
//! superuser, seeds as the owner, PostgREST, tokens, `.env`) converged by
//! one command that is safe to run again at any time. The five commands it
//! replaces run in-process as library calls ([`uis_ops::onboard`]); this
//! file holds the flags, the progress display and the printing.

pub mod init;
pub mod spec;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use uis_cli::{ClusterArgs, LocatorArgs};
use uis_ops::Failure;
use uis_ops::onboard::{self, Event, Report};
use uis_ops::output::{self, note, stderr_is_terminal};
use uis_ops::session::Session;

/// Converge an app declared in uis.yaml: database, roles, DDL, seeds, PostgREST, tokens, .env.
///
/// Reads uis.yaml (or -f FILE; docs/reference/uis-yaml.md has every key)
/// and, step by step, plans what differs from it and applies only that:
/// `uis db configure` (database, owner, schemas, extensions), `uis db seed
/// DDL --as admin`, `uis db seed SEEDS` (each file once, with the ledger),
/// `uis postgrest deploy` (roles, grants, Secret APP-postgrest, Deployment,
/// Service, IngressRoute in namespace postgrest), then the tokens and the
/// .env (`uis jwt mint --write-env`). A token already in the .env is kept
/// while it verifies with the deployed secret, carries the declared role,
/// capabilities and lifetime, and has half its lifetime left. A second run
/// changes nothing and says "no changes"; a run interrupted anywhere is
/// finished by the next. Paths in uis.yaml are relative to its directory.
#[derive(Parser, Debug)]
#[command(name = "uis-onboard", version, after_help = EXAMPLES)]
pub struct Args {
    /// The app: must match uis.yaml's `app`; with --init, the app to write (default: the directory's name); with --down or --purge and no uis.yaml, the app to take down
    pub app: Option<String>,
    /// The declaration to converge
    #[arg(short = 'f', long, value_name = "FILE", default_value = spec::DEFAULT_FILE)]
    pub file: PathBuf,
    /// Write a commented uis.yaml (-f FILE: that file) from the db/ files beside it and the defaults (never overwrites)
    #[arg(long, conflicts_with_all = ["down", "purge", "dry_run"])]
    pub init: bool,
    /// Print the plan: what each step would change; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Remove the app's PostgREST (Deployment, Service, IngressRoute); keep the database, roles, Secret
    #[arg(long)]
    pub down: bool,
    /// Also drop PostgREST's roles and Secret, the database, the roles the suite created and the stored credentials
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

const EXAMPLES: &str = "Examples:
  uis-onboard --init             # writes ./uis.yaml from ./db and the defaults
  uis-onboard --dry-run          # the plan
  uis-onboard                    # converge (again: \"no changes\")
  uis-onboard -f apps/railway/uis.yaml
  uis-onboard --down             # PostgREST off, data kept
  uis-onboard --purge --yes      # everything the onboarding made, gone";

/// The clap definition, for completions, man pages and the CLI reference.
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

/// Parses the process arguments and runs.
pub fn main() -> ExitCode {
    uis_cli::parse_and_run(|args: &Args| args.json, run)
}

/// Reads and checks the declaration.
///
/// Errors: phase `usage` (exit 2) when the file is missing, a directory or
/// not UTF-8 (with the line and column of the first bad byte), and for what
/// [`spec::load`] refuses.
pub fn load(file: &Path) -> Result<onboard::Desired, Failure> {
    let shown = file.display().to_string();
    let bytes = std::fs::read(file).map_err(|e| {
        let f = if file.is_dir() {
            Failure::usage(format!("{shown} is a directory: -f takes the uis.yaml file"))
                .hint(format!("`uis onboard -f {}`", file.join(spec::DEFAULT_FILE).display()))
        } else {
            Failure::usage(format!("cannot read {shown}: {e}"))
        };
        if e.kind() == std::io::ErrorKind::NotFound {
            f.hint("write one: `uis onboard --init` (from ./db and the defaults), or give its path with -f FILE")
        } else {
            f
        }
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = good.iter().filter(|b| **b == b'\n').count() + 1;
        let start = good.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let col = String::from_utf8_lossy(&good[start..]).chars().count() + 1;
        Failure::usage(format!(
            "{shown}:{line}:{col}: not UTF-8 text: YAML files are UTF-8 (convert it, e.g. `iconv -f latin1 -t utf-8`)"
        ))
    })?;
    let base = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Ok(spec::load(&shown, &text, base)?.1)
}

fn run(args: Args, json_mode: bool) -> anyhow::Result<i32> {
    if args.init {
        let (app, found) = init::write(&args.file, args.app.as_deref())?;
        note(format!(
            "uis: wrote {} for app {app} (ddl: {}, seeds: {}); check it, then run `uis onboard --dry-run`",
            args.file.display(),
            found.ddl.as_deref().unwrap_or("none"),
            if found.seeds.is_empty() {
                "none".to_string()
            } else {
                found.seeds.join(", ")
            }
        ));
        output::print_json(&serde_json::json!({
            "status": "written", "app": app, "file": args.file.display().to_string(),
        }))?;
        return Ok(0);
    }
    if args.purge && !args.yes {
        return Err(Failure::usage(
            "--purge drops the app's database, roles, PostgREST and stored credentials for good; nothing was changed",
        )
        .hint(format!(
            "add --yes to confirm: `uis onboard{}{} --purge --yes`",
            args.app
                .as_deref()
                .map(|a| format!(" {a}"))
                .unwrap_or_default(),
            if args.file == Path::new(spec::DEFAULT_FILE) {
                String::new()
            } else {
                format!(" -f {}", args.file.display())
            }
        ))
        .into());
    }
    // Taking an app down needs only its name: APP when there is no file.
    if (args.down || args.purge)
        && let Some(app) = &args.app
        && !args.file.exists()
    {
        uis_ops::app::validate_app(app)?;
        let mut session = Session::new(args.cluster_args.config(), args.locator.locator()?)?;
        let down = onboard::down(&mut session, app, args.purge, args.dry_run)?;
        print_down(&down, json_mode)?;
        return Ok(0);
    }
    if (args.down || args.purge) && args.app.is_none() && !args.file.exists() {
        return Err(Failure::usage(format!(
            "{} taking an app down needs its uis.yaml or its name; {} does not exist",
            if args.purge { "--purge:" } else { "--down:" },
            args.file.display()
        ))
        .hint(format!(
            "name the app: `uis onboard {} APP`, or give its uis.yaml with -f FILE",
            if args.purge {
                "--purge --yes"
            } else {
                "--down"
            }
        ))
        .into());
    }
    let desired = load(&args.file)?;
    if let Some(a) = &args.app
        && a != &desired.app
    {
        return Err(Failure::usage(format!(
            "APP {a:?} is not the app of {} ({:?})",
            args.file.display(),
            desired.app
        ))
        .hint("leave APP out, or give the uis.yaml of that app with -f FILE")
        .into());
    }
    let mut session = Session::new(args.cluster_args.config(), args.locator.locator()?)?;
    if args.down || args.purge {
        let down = onboard::down(&mut session, &desired.app, args.purge, args.dry_run)?;
        print_down(&down, json_mode)?;
        return Ok(0);
    }
    let mut display = Progress::new();
    let report = onboard::run(&mut session, &desired, args.dry_run, &mut |e| {
        display.event(e)
    });
    display.finish();
    let report = report?;
    if report.status == "unchanged" {
        note("uis: no changes");
    }
    if json_mode {
        output::print_json(&serde_json::to_value(&report)?)?;
    } else {
        output::print(&text(&report))?;
    }
    Ok(0)
}

fn print_down(down: &onboard::Down, json_mode: bool) -> anyhow::Result<()> {
    if json_mode {
        output::print_json(&serde_json::to_value(down)?)?;
        return Ok(());
    }
    let mut t = format!("{}: {}\n", down.status, down.app);
    for d in &down.deleted {
        t.push_str(&format!("  deleted  {d}\n"));
    }
    for r in &down.dropped_roles {
        t.push_str(&format!("  dropped  role {r}\n"));
    }
    if let Some(db) = &down.database {
        t.push_str(&format!("  dropped  database {db}\n"));
    }
    output::print(&t)?;
    Ok(())
}

/// The report for people.
fn text(r: &Report) -> String {
    let mut t = match r.status {
        "unchanged" => format!("{}: no changes ({} ms)\n", r.app, r.duration_ms),
        "dry_run" => format!("{}: plan (--dry-run: nothing was changed)\n", r.app),
        _ => format!("{}: onboarded ({} ms)\n", r.app, r.duration_ms),
    };
    for s in &r.steps {
        t.push_str(&format!(
            "  {:<10} {:<9} {}\n",
            s.step.as_str(),
            s.status,
            s.target
        ));
        for c in &s.changes {
            t.push_str(&format!("      {c}\n"));
        }
    }
    if let Some(u) = &r.api_url {
        t.push_str(&format!("  api: {u}\n"));
    }
    if let Some(e) = &r.env_file {
        t.push_str(&format!("  env: {e}\n"));
    }
    t
}

/// Progress on stderr: a spinner per step while it runs and a line when it
/// is done, on a terminal only (a pipe or a log gets the operations' own
/// notes and nothing else).
struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            bar: stderr_is_terminal().then(|| {
                let b = ProgressBar::new_spinner();
                b.set_style(
                    ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                b.enable_steady_tick(Duration::from_millis(120));
                // The operations' lines print above the spinner, not through it.
                let above = b.clone();
                output::set_line_sink(Some(Box::new(move |l| above.println(l))));
                b
            }),
        }
    }

    fn event(&mut self, e: Event) {
        let Some(bar) = &self.bar else {
            return;
        };
        match e {
            Event::Start {
                index,
                total,
                step,
                target,
            } => {
                bar.reset_elapsed();
                bar.set_message(format!("[{index}/{total}] {} ({target})", step.describe()));
            }
            Event::Done(r) => {
                let what = if r.changes.is_empty() {
                    "unchanged".to_string()
                } else {
                    format!(
                        "{} ({} change{})",
                        r.status,
                        r.changes.len(),
                        if r.changes.len() == 1 { "" } else { "s" }
                    )
                };
                bar.println(format!(
                    "  {} ({}): {what}, {} ms",
                    r.step.describe(),
                    r.target,
                    r.duration_ms
                ));
            }
        }
    }

    fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            output::set_line_sink(None);
            b.finish_and_clear();
        }
    }
}
