//! `uis-onboard`: an app declared in `uis.yaml` converged to its database,
//! roles, DDL and seeds, PostgREST, tokens and `.env`, by the operations of
//! the five commands it replaces (`configure`, `seed` twice, `deploy`,
//! `mint`), called in-process.
//!
//! Plan, then converge: each [`StepKind`] first computes what differs from
//! the declaration with the operation's own dry run (configure's plan, the
//! seed ledger, deploy's SQL plan and server-side-apply dry run, the tokens
//! in the `.env` verified as PostgREST would, the `.env` values), and only a
//! step with differences is applied. A step is planned right before it is
//! applied, so it sees what the steps before it did; a run that is
//! interrupted anywhere leaves state the next run's plans find and finish.
//! A run with nothing to do changes nothing: no statement, no write to the
//! store, no apply, no token minted, no byte of the `.env`.
//!
//! Tokens are kept while they still stand for the declaration ([`keep_token`]):
//! they verify with the deployed secret and audience, carry the declared
//! role and capabilities and lifetime, and have at least half of that
//! lifetime left. Otherwise a new one is minted.
//!
//! Not for: reading `uis.yaml` (the binary does, into [`Desired`]), or
//! printing.

use crate::configure;
use crate::deploy::{self, Grants};
use crate::mint::{self, CapabilityChoice, Lifetime, RoleClaim, SecretSource, TokenOptions};
use crate::roles::PostgrestRoles;
use crate::seed;
use crate::session::Session;
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use uis_core::Failure;
use uis_core::error::Phase;
use uis_core::output::unix_now;
use uis_kube::store;
use uis_postgrest as pgrst;

/// The app as `uis.yaml` declares it, checked (the binary's `spec` module
/// makes it; every `None` or empty value means "the operation's default").
#[derive(Debug, Clone)]
pub struct Desired {
    pub app: String,
    pub database: Option<String>,
    pub owner: Option<String>,
    pub schemas: Vec<String>,
    pub extensions: Vec<String>,
    /// `with_roles: [postgrest]`: configure creates PostgREST's roles.
    pub postgrest_roles_pattern: bool,
    /// `with_roles: [readonly]`.
    pub readonly: bool,
    pub owner_createrole: Option<bool>,
    pub roles: PostgrestRoles,
    /// The DDL directory, applied as the superuser.
    pub ddl: Option<PathBuf>,
    /// Data directories, applied as the owner, in order.
    pub seeds: Vec<PathBuf>,
    pub postgrest: PostgrestSpec,
    pub tokens: Vec<TokenSpec>,
    pub env: EnvSpec,
}

/// `postgrest:` of `uis.yaml`: `uis postgrest deploy`'s choices.
#[derive(Debug, Clone)]
pub struct PostgrestSpec {
    pub schemas: Vec<String>,
    pub grants: Option<Grants>,
    pub url_prefix: Option<String>,
    pub jwt_aud: Option<String>,
    pub replicas: Option<i32>,
    pub image: Option<String>,
    pub cors_origins: Option<Vec<String>>,
    /// How long to wait for Available.
    pub timeout: Duration,
}

/// One token of `tokens:`.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenSpec {
    /// Its `.env` variable.
    pub name: String,
    /// `anon`, `authenticated`, or a role name.
    pub role: String,
    /// `None`: no `exp` (`never`).
    pub exp: Option<Duration>,
    pub capabilities: Capabilities,
}

/// Which capabilities a token carries (only a token of the app's
/// authenticated role carries any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capabilities {
    /// Every row of the capabilities table.
    All,
    Only(Vec<String>),
    /// No `capabilities` claim.
    Omit,
}

/// `env:` of `uis.yaml`.
#[derive(Debug, Clone)]
pub struct EnvSpec {
    /// `None`: no `.env` (then `tokens` must be empty).
    pub path: Option<PathBuf>,
    /// Variable names; `None` leaves the value out.
    pub url: Option<String>,
    pub jwt_secret: Option<String>,
    pub database_url: Option<String>,
}

/// The steps of an onboarding, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Database, owner, schemas, extensions, role patterns (`uis db configure`).
    Database,
    /// The DDL directory as the superuser (`uis db seed APP DIR --as admin`).
    Ddl,
    /// One data directory as the owner (`uis db seed APP DIR`).
    Seed,
    /// PostgREST's roles, grants, Secret and objects (`uis postgrest deploy`).
    Postgrest,
    /// Tokens and the `.env` (`uis jwt mint --write-env`).
    Env,
}

impl StepKind {
    /// Its name in the JSON report: `database`, `ddl`, `seed`, `postgrest`, `env`.
    pub fn as_str(&self) -> &'static str {
        match self {
            StepKind::Database => "database",
            StepKind::Ddl => "ddl",
            StepKind::Seed => "seed",
            StepKind::Postgrest => "postgrest",
            StepKind::Env => "env",
        }
    }

    /// What the step does, for progress lines.
    pub fn describe(&self) -> &'static str {
        match self {
            StepKind::Database => "database, owner, schemas, extensions",
            StepKind::Ddl => "DDL as the superuser",
            StepKind::Seed => "seed data as the owner",
            StepKind::Postgrest => "PostgREST",
            StepKind::Env => "tokens and .env",
        }
    }
}

/// One step's plan or outcome.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub step: StepKind,
    /// What it acts on: the database, a directory, the Deployment, the file.
    pub target: String,
    /// `unchanged`, `planned` (dry run), `changed`.
    pub status: &'static str,
    /// What differs (planned) or what was done (changed), one line each;
    /// never a secret.
    pub changes: Vec<String>,
    pub duration_ms: u64,
}

/// The JSON of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `ok` (changes applied), `unchanged` (no changes), `dry_run`.
    pub status: &'static str,
    pub app: String,
    pub steps: Vec<StepReport>,
    /// The API's URL (public when there is an IngressRoute).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    /// The `.env` written (or that would be).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env_file: Option<String>,
    pub duration_ms: u64,
}

impl Report {
    /// Whether any step has (or would have) changes.
    pub fn changed(&self) -> bool {
        self.steps.iter().any(|s| !s.changes.is_empty())
    }
}

/// What the binary shows while a run goes on.
pub enum Event<'a> {
    /// Step `index` of `total` (from 1) starts.
    Start {
        index: usize,
        total: usize,
        step: StepKind,
        target: &'a str,
    },
    /// A step is planned and, unless a dry run, applied.
    Done(&'a StepReport),
}

/// Checks what the operations cannot: tokens need a `.env` to live in.
///
/// Errors: phase `usage` (exit 2).
pub fn validate(d: &Desired) -> Result<(), Failure> {
    uis_core::app::validate_app(&d.app)?;
    if d.env.path.is_none() && !d.tokens.is_empty() {
        return Err(Failure::usage(
            "tokens: tokens are kept in the .env file, and env.path is null",
        )
        .hint("give env.path (default .env), or `tokens: []` for no tokens"));
    }
    Ok(())
}

fn configure_options(d: &Desired, dry_run: bool) -> configure::Options {
    configure::Options {
        app: d.app.clone(),
        database: d.database.clone(),
        owner: d.owner.clone(),
        schemas: d.schemas.clone(),
        extensions: d.extensions.clone(),
        postgrest: d.postgrest_roles_pattern,
        roles: if d.postgrest_roles_pattern {
            d.roles.clone()
        } else {
            PostgrestRoles::default()
        },
        readonly: d.readonly,
        role_spec: None,
        url_secret: None,
        owner_createrole: d.owner_createrole,
        rotate: false,
        purge: false,
        yes: false,
        dry_run,
        after_undeploy: false,
        init: None,
    }
}

fn deploy_options(d: &Desired, dry_run: bool) -> deploy::Options {
    let p = &d.postgrest;
    deploy::Options {
        app: d.app.clone(),
        database: None,
        schemas: p.schemas.clone(),
        roles: d.roles.clone(),
        grants: p.grants,
        url_prefix: p.url_prefix.clone(),
        image: p.image.clone(),
        replicas: p.replicas,
        jwt_aud: p.jwt_aud.clone(),
        cors_origins: p.cors_origins.clone(),
        dry_run,
        wait: true,
        timeout: p.timeout,
        rotate_jwt_secret: false,
        rotate_password: false,
        status: false,
        undeploy: false,
        purge: false,
        yes: false,
        secret_only: false,
    }
}

/// Plans every step and, unless `dry_run`, applies each one that differs,
/// in order; `progress` hears of each step.
///
/// Errors: the failing operation's [`Failure`] (its phase, detail, hint and
/// exit code: a seed file's error exits 3 as `uis db seed`), with what the
/// earlier steps did already said in the detail.
pub fn run(
    session: &mut Session,
    d: &Desired,
    dry_run: bool,
    progress: &mut dyn FnMut(Event),
) -> Result<Report, Failure> {
    validate(d)?;
    configure::validate(&configure_options(d, true))?;
    deploy::validate(&deploy_options(d, true))?;
    let started = Instant::now();
    let mut steps: Vec<(StepKind, String)> = vec![(StepKind::Database, d.app.clone())];
    if let Some(ddl) = &d.ddl {
        steps.push((StepKind::Ddl, ddl.display().to_string()));
    }
    for s in &d.seeds {
        steps.push((StepKind::Seed, s.display().to_string()));
    }
    steps.push((StepKind::Postgrest, pgrst::name(&d.app)));
    if let Some(p) = &d.env.path {
        steps.push((StepKind::Env, p.display().to_string()));
    }
    let total = steps.len();
    let mut reports: Vec<StepReport> = Vec::new();
    let mut api_url = None;
    for (i, (kind, target)) in steps.iter().enumerate() {
        progress(Event::Start {
            index: i + 1,
            total,
            step: *kind,
            target,
        });
        let t = Instant::now();
        // In a dry run, a step after one with changes may act on what does
        // not exist yet (no PostgREST to plan against): if its own plan
        // fails then, it is planned as a whole.
        let earlier_pending = dry_run && reports.iter().any(|r| !r.changes.is_empty());
        let result = match kind {
            StepKind::Database => database(session, d, dry_run),
            StepKind::Ddl | StepKind::Seed => {
                let as_admin = *kind == StepKind::Ddl;
                let dir = if as_admin {
                    d.ddl.clone().unwrap_or_default()
                } else {
                    PathBuf::from(target)
                };
                seed_step(session, d, &dir, as_admin, dry_run)
            }
            StepKind::Postgrest => postgrest(session, d, dry_run, earlier_pending),
            StepKind::Env => env(session, d, dry_run, earlier_pending).map(|(c, url)| {
                api_url = url;
                c
            }),
        };
        let changes = match result {
            Ok(c) => c,
            Err(f) => {
                let done: Vec<&str> = reports
                    .iter()
                    .filter(|r| !r.changes.is_empty())
                    .map(|r| r.step.as_str())
                    .collect();
                let f = in_yaml_words(f).context(format!("{} ({})", kind.describe(), target));
                return Err(if done.is_empty() || dry_run {
                    f
                } else {
                    let mut f = f;
                    // A refusal or a failing file comes back on a re-run
                    // until it is fixed; a cut connection or an API error
                    // does not.
                    let fix = if matches!(
                        f.phase,
                        Phase::Usage | Phase::Validate | Phase::Role | Phase::Drift | Phase::Sql
                    ) {
                        "fix it, then "
                    } else {
                        ""
                    };
                    f.detail.push_str(&format!(
                        " (done before it: {}; {fix}run `uis onboard` again to finish)",
                        done.join(", ")
                    ));
                    f
                });
            }
        };
        let report = StepReport {
            step: *kind,
            target: target.clone(),
            status: match (changes.is_empty(), dry_run) {
                (true, _) => "unchanged",
                (false, true) => "planned",
                (false, false) => "changed",
            },
            changes,
            duration_ms: t.elapsed().as_millis() as u64,
        };
        progress(Event::Done(&report));
        reports.push(report);
    }
    let mut report = Report {
        status: "unchanged",
        app: d.app.clone(),
        steps: reports,
        api_url,
        env_file: d.env.path.as_ref().map(|p| p.display().to_string()),
        duration_ms: started.elapsed().as_millis() as u64,
    };
    report.status = match (report.changed(), dry_run) {
        (_, true) => "dry_run",
        (true, false) => "ok",
        (false, false) => "unchanged",
    };
    Ok(report)
}

/// The flags the operations' messages name, as the `uis.yaml` keys that
/// stand for them (docs/reference/uis-yaml.md), so an error in a step says
/// what to change in the file.
const YAML_KEYS: &[(&str, &str)] = &[
    ("--authenticated-role", "roles.authenticated"),
    ("--authenticator", "roles.authenticator"),
    ("--anon-role", "roles.anon"),
    ("--owner-createrole", "owner_createrole"),
    ("--with-roles", "with_roles"),
    ("--extensions", "extensions"),
    ("--url-prefix", "postgrest.url_prefix"),
    ("--cors-origins", "postgrest.cors_origins"),
    ("--replicas", "postgrest.replicas"),
    ("--jwt-aud", "postgrest.audience"),
    ("--grants", "postgrest.grants"),
    ("--image", "postgrest.image"),
    ("--database", "database"),
    ("--owner", "owner"),
];

/// `f` with each flag of [`YAML_KEYS`] in its detail and hint said as its
/// key (`--authenticator` as `roles.authenticator`), outside `code` spans
/// (a command to run keeps its flags).
fn in_yaml_words(mut f: Failure) -> Failure {
    let say = |t: &str| {
        t.split('`')
            .enumerate()
            .map(|(i, part)| {
                if i % 2 == 0 {
                    keys(part)
                } else {
                    part.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("`")
    };
    fn keys(t: &str) -> String {
        let mut t = t.to_string();
        for (flag, key) in YAML_KEYS {
            // Whole flags only: `--authenticator` is not `--authenticated-role`.
            let mut out = String::new();
            let mut rest = t.as_str();
            while let Some(i) = rest.find(flag) {
                let after = &rest[i + flag.len()..];
                let whole = !after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-');
                out.push_str(&rest[..i]);
                out.push_str(if whole { key } else { flag });
                rest = after;
            }
            out.push_str(rest);
            t = out;
        }
        t
    }
    f.detail = say(&f.detail);
    f.hint = f.hint.as_deref().map(say);
    f
}

/// `uis db configure`: its plan; applied when it has statements or a store
/// change.
fn database(session: &mut Session, d: &Desired, dry_run: bool) -> Result<Vec<String>, Failure> {
    let plan = configure::run(session, &configure_options(d, true))?;
    let configure::Report::DryRun(p) = plan else {
        return Err(Failure::new(
            Phase::Internal,
            "configure's dry run returned no plan",
        ));
    };
    let mut changes = p.sql.clone();
    if p.store.would_change {
        // A new app's passwords, or an existing app's record (its schemas,
        // extensions and roles) brought up to date.
        changes.push(if session.app_opt(&d.app)?.is_some() {
            format!(
                "record the app's schemas, extensions and roles in Secret {}",
                p.store.secret
            )
        } else {
            format!("store the credentials in Secret {}", p.store.secret)
        });
    }
    postgrest_secret_takes_new_password(session, d, &p.sql)?;
    if changes.is_empty() || dry_run {
        return Ok(changes);
    }
    configure::run(session, &configure_options(d, false))?;
    Ok(changes)
}

/// Refuses a plan that sets a new password on the role PostgREST logs in
/// as (the user of `PGRST_DB_URI` in Secret `postgrest/<app>-postgrest`)
/// while that Secret is immutable: the PostgREST step could not write the
/// new URI, and PostgREST would be left with a password that no longer
/// works (docs/security.md, "Rotation"). Checked before the database step
/// changes anything, in the plan and the real run alike.
///
/// Errors: phase `cluster`, naming the Secret and the command that
/// recreates it without the mark; the API call's own.
fn postgrest_secret_takes_new_password(
    session: &mut Session,
    d: &Desired,
    sql: &[String],
) -> Result<(), Failure> {
    let reissued: Vec<&str> = sql
        .iter()
        .filter_map(|l| l.strip_prefix("ALTER ROLE \""))
        .filter_map(|l| l.split_once("\" PASSWORD "))
        .map(|(role, _)| role)
        .collect();
    if reissued.is_empty() {
        return Ok(());
    }
    let cluster = session.cluster()?;
    let name = pgrst::name(&d.app);
    let Some(secret) = session
        .block_on(cluster.get_opt::<k8s_openapi::api::core::v1::Secret>(pgrst::NAMESPACE, &name))?
    else {
        return Ok(());
    };
    if secret.immutable != Some(true) {
        return Ok(());
    }
    let user = secret
        .data
        .as_ref()
        .and_then(|m| m.get("PGRST_DB_URI"))
        .map(|v| String::from_utf8_lossy(&v.0).into_owned())
        .and_then(|uri| {
            let rest = uri.split_once("://")?.1.to_string();
            let auth = rest.split_once('@')?.0.to_string();
            Some(auth.split(':').next().unwrap_or_default().to_string())
        });
    let Some(role) = reissued.into_iter().find(|r| user.as_deref() == Some(*r)) else {
        return Ok(());
    };
    Err(Failure::new(
        Phase::Cluster,
        format!(
            "role {role} would get a new password, which PostgREST's Secret {}/{name} (key PGRST_DB_URI) must then hold, but that Secret is immutable (`immutable: true`) and the API server refuses any change to it; nothing was changed: {role} keeps the password PostgREST has",
            pgrst::NAMESPACE
        ),
    )
    .hint(format!(
        "recreate it without the mark, keeping its values: `{}`; then run `uis onboard` again",
        uis_kube::cluster::recreate_secret_command(pgrst::NAMESPACE, &name)
    )))
}

/// The seed set name `uis db seed` records for `dir`: its last component.
fn seed_set(dir: &Path) -> String {
    dir.canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| dir.display().to_string())
}

/// The database the app uses (or will): the store's, else the declared,
/// else configure's default.
fn database_name(session: &mut Session, d: &Desired) -> Result<String, Failure> {
    if let Some(rec) = session.app_opt(&d.app)? {
        return Ok(rec.database);
    }
    Ok(d.database
        .clone()
        .unwrap_or_else(|| format!("{}_db", uis_core::app::sql_name(&d.app))))
}

/// `uis db seed`: the files pending or changed against the ledger; applied
/// when there are any.
fn seed_step(
    session: &mut Session,
    d: &Desired,
    dir: &Path,
    as_admin: bool,
    dry_run: bool,
) -> Result<Vec<String>, Failure> {
    let (files, _warnings) = seed::scan(dir)?;
    let set = seed_set(dir);
    let db = database_name(session, d)?;
    // One connection: a database that does not exist yet has no ledger.
    let ledger = match session.connect_admin(&db, "uis-onboard") {
        Ok(mut c) => seed::read_ledger(&mut c, &set)?,
        Err(_) if !database_exists(session, &db)? => Default::default(),
        Err(f) => return Err(f),
    };
    let plan = seed::plan(&files, &ledger, &[]);
    let mut changes: Vec<String> = plan
        .pending
        .iter()
        .map(|f| format!("apply {}", f.name))
        .collect();
    for c in &plan.changed {
        if c.reapply {
            changes.push(format!("apply {} again (repeatable, changed)", c.file));
        } else {
            changes.push(format!(
                "{} changed after it was applied: a run stops here with nothing applied (put the change in a new file, or mark the file `-- uis:repeatable`)",
                c.file
            ));
        }
    }
    if changes.is_empty() || dry_run {
        return Ok(changes);
    }
    let opts = seed::Options {
        app: d.app.clone(),
        dir: dir.to_path_buf(),
        as_role: if as_admin { "admin" } else { "owner" }.into(),
        dry_run: false,
        status: false,
        reapply: Vec::new(),
        no_wait: false,
        output_to_stderr: true,
    };
    match seed::run(session, &opts)? {
        seed::Report::Run { report, exit } => {
            if let Some(failed) = report.failed {
                return Err(Failure::new(
                    Phase::Sql,
                    format!(
                        "{failed} failed and was rolled back (its error is above); applied before it: {}",
                        if report.applied.is_empty() {
                            "none".to_string()
                        } else {
                            report.applied.join(", ")
                        }
                    ),
                )
                .hint("fix the file and run `uis onboard` again: applied files are not run twice")
                .code(exit));
            }
            Ok(report
                .applied
                .iter()
                .map(|f| format!("applied {f}"))
                .collect())
        }
        seed::Report::Status(_) => Ok(changes),
    }
}

fn database_exists(session: &mut Session, db: &str) -> Result<bool, Failure> {
    let mut pg = session.connect_admin("postgres", "uis-onboard")?;
    Ok(crate::pg::provision::database_owner(&mut pg, db)?.is_some())
}

/// `uis postgrest deploy`: its SQL plan and whether its objects would
/// change (a server-side-apply dry run), and whether the Deployment is
/// Available; applied when any differs.
fn postgrest(
    session: &mut Session,
    d: &Desired,
    dry_run: bool,
    earlier_pending: bool,
) -> Result<Vec<String>, Failure> {
    let whole = || {
        vec![format!(
            "deploy PostgREST {} (roles, grants, Secret, Deployment, Service, IngressRoute) once the steps above are done",
            pgrst::name(&d.app)
        )]
    };
    // The plan's lines (what anon may read, warnings) are said once: by the
    // deploy that follows it, else by the plan.
    let (plan, lines) =
        uis_core::output::capture(|| deploy::run(session, &deploy_options(d, true)));
    let plan = match plan {
        Ok(p) => p,
        // What it acts on is made by the steps above: planned as a whole.
        Err(_) if earlier_pending => return Ok(whole()),
        Err(f) => {
            uis_core::output::replay(lines);
            return Err(f);
        }
    };
    let deploy::Report::DryRun(p) = plan else {
        return Err(Failure::new(
            Phase::Internal,
            "deploy's dry run returned no plan",
        ));
    };
    let mut changes = p.sql.clone();
    let cluster = session.cluster()?;
    let name = pgrst::name(&d.app);
    if p.objects_would_change {
        // Each object created and each field changed, by name (a Secret's
        // keys without their values).
        changes.extend(p.object_changes.iter().cloned());
    } else {
        let dep = session.block_on(
            cluster.get_opt::<k8s_openapi::api::apps::v1::Deployment>(pgrst::NAMESPACE, &name),
        )?;
        if !dep.as_ref().is_some_and(uis_kube::rollout::is_available) {
            changes.push(format!(
                "wait for deployment/{name} in {} to become Available",
                pgrst::NAMESPACE
            ));
        }
    }
    if changes.is_empty() || dry_run {
        uis_core::output::replay(lines);
        return Ok(changes);
    }
    deploy::run(session, &deploy_options(d, false))?;
    Ok(changes)
}

/// Why a token in the `.env` cannot stand for its declaration, or `None`
/// when it can (the caller verified it with the deployed keys): its role,
/// audience (`aud`: the deployed one) and capabilities are the declared ones, its lifetime (`exp - iat`) is the
/// declared one (no `exp` for `never`), and at least half of it is left.
pub fn keep_token(
    claims: &Value,
    role: &str,
    aud: Option<&str>,
    capabilities: Option<&[String]>,
    exp: Option<Duration>,
    now: u64,
) -> Option<&'static str> {
    if claims.get("role").and_then(Value::as_str) != Some(role) {
        return Some("another role");
    }
    if claims.get("aud").and_then(Value::as_str) != aud {
        return Some("another audience");
    }
    let have: Option<Vec<&str>> = claims
        .get("capabilities")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect());
    let want: Option<Vec<&str>> = capabilities.map(|c| c.iter().map(String::as_str).collect());
    if have != want {
        return Some("other capabilities");
    }
    let iat = claims.get("iat").and_then(Value::as_u64);
    let texp = claims.get("exp").and_then(Value::as_u64);
    match (exp, iat, texp) {
        (None, _, None) => None,
        (Some(d), Some(iat), Some(texp)) => {
            let life = d.as_secs();
            if texp.saturating_sub(iat) != life {
                Some("another lifetime")
            } else if texp.saturating_sub(now) < life / 2 {
                Some("less than half its lifetime left")
            } else {
                None
            }
        }
        _ => Some("another lifetime"),
    }
}

/// The tokens and the `.env`: each token kept ([`keep_token`]) or minted,
/// then the keys whose value differs set in place (every other line kept).
fn env(
    session: &mut Session,
    d: &Desired,
    dry_run: bool,
    earlier_pending: bool,
) -> Result<(Vec<String>, Option<String>), Failure> {
    let Some(path) = &d.env.path else {
        return Ok((Vec::new(), None));
    };
    let whole = || {
        let mut c: Vec<String> = d
            .tokens
            .iter()
            .map(|t| format!("mint {} (role {})", t.name, t.role))
            .collect();
        c.push(format!("write {}", path.display()));
        c
    };
    let target = match mint::target(session, &d.app, &SecretSource::Cluster, None) {
        Ok(t) => t,
        // PostgREST is deployed by the steps above: planned as a whole.
        Err(_) if earlier_pending => return Ok((whole(), None)),
        Err(f) => return Err(f),
    };
    let config = target
        .config
        .clone()
        .ok_or_else(|| Failure::new(Phase::Internal, "no deployed configuration"))?;
    let mut public = mint::public_url(session, &d.app)?;
    // A dry run sees the cluster before the postgrest step's changes: what
    // the declaration changes there (the public URL's prefix, the audience)
    // is planned from the declaration, so the plan names the `.env` keys and
    // the tokens a run would change with it.
    if dry_run
        && public.is_some()
        && let Some(prefix) = &d.postgrest.url_prefix
    {
        public =
            pgrst::PublicRoute::of_ingress_route(&d.app, &pgrst::ingress_route(&d.app, prefix))
                .map(|r| r.url())
                .or(public);
    }
    let audience = match (&d.postgrest.jwt_aud, dry_run) {
        (Some(a), true) => Some(a.clone()),
        _ => target.jwt.aud.clone(),
    };
    let url = public.unwrap_or_else(|| pgrst::in_cluster_url(&d.app));
    let mut changes = Vec::new();
    let mut pairs: Vec<(String, String)> = Vec::new();
    if let Some(k) = &d.env.url {
        pairs.push((k.clone(), url.clone()));
    }
    if let Some(k) = &d.env.jwt_secret {
        let secret = target
            .jwt
            .secret
            .clone()
            .unwrap_or_else(|| config.jwt_secret.clone());
        pairs.push((k.clone(), secret));
    }
    if let Some(k) = &d.env.database_url {
        let rec = session.app(&d.app)?;
        let pw = rec.passwords.get(&rec.owner).cloned().unwrap_or_default();
        let loc = session.locator.clone();
        pairs.push((
            k.clone(),
            uis_core::creds::url(&rec.owner, &pw, &loc.local.0, loc.local.1, &rec.database),
        ));
    }
    let now = unix_now();
    // One connection for the capabilities of every staff token.
    let mut caps_pg: Option<postgres::Client> = None;
    for t in &d.tokens {
        let asked = RoleClaim::parse(&t.role);
        let deployed = target.role(&asked);
        // A dry run plans with the role names declared (the postgrest step
        // would deploy them), as it does with the audience.
        let role = match (&asked, dry_run) {
            (RoleClaim::Anon, true) => d.roles.anon.clone().unwrap_or(deployed),
            (RoleClaim::Authenticated, true) => d.roles.authenticated.clone().unwrap_or(deployed),
            _ => deployed,
        };
        let staff = asked == RoleClaim::Authenticated || role == target.authenticated;
        let caps = if staff {
            let choice = match &t.capabilities {
                Capabilities::All => CapabilityChoice::All,
                Capabilities::Only(c) => CapabilityChoice::Only(c.clone()),
                Capabilities::Omit => CapabilityChoice::Omit,
            };
            let pg = match &mut caps_pg {
                Some(pg) => pg,
                None => caps_pg.insert(session.connect_admin(&config.database, "uis-onboard")?),
            };
            mint::capabilities::choose(pg, &config, None, &choice)?
        } else if let Capabilities::Only(c) = &t.capabilities
            && !c.is_empty()
        {
            return Err(Failure::usage(format!(
                "{}: role {role} is not the authenticated role ({}): only its tokens carry capabilities, so {c:?} would be left out",
                t.name, target.authenticated
            ))
            .hint("leave capabilities out of this token, or give it role: authenticated"));
        } else {
            None
        };
        let existing = agreed_value(path, &t.name);
        let why = match &existing {
            Err(()) => Some("set more than once in the file, with different values"),
            Ok(None) => Some("new"),
            // The role exists and is granted: checked when it was minted,
            // and PostgREST's roles are the deploy step's business.
            Ok(Some(tok)) => match mint::verify_token(&target, tok) {
                Err(_) => Some("does not verify with the deployed secret and audience"),
                Ok((claims, _)) => keep_token(
                    &claims,
                    &role,
                    audience.as_deref(),
                    caps.as_deref(),
                    t.exp,
                    now,
                ),
            },
        };
        match (why, existing) {
            (None, Ok(Some(tok))) => pairs.push((t.name.clone(), tok)),
            (Some(why), _) => {
                changes.push(format!("mint {} (role {role}): {why}", t.name));
                let opts = TokenOptions {
                    lifetime: match t.exp {
                        Some(d) => Lifetime::For(d),
                        None => Lifetime::Never,
                    },
                    capabilities: match &caps {
                        Some(c) => CapabilityChoice::Only(c.clone()),
                        None => CapabilityChoice::Omit,
                    },
                    ..TokenOptions::default()
                };
                let minted = if dry_run {
                    // What the mint would refuse, the plan refuses: the
                    // role exists, is granted, is no privileged role. Against
                    // the deployed roles only when nothing before changes them.
                    if !earlier_pending {
                        let pg = match &mut caps_pg {
                            Some(pg) => pg,
                            None => caps_pg
                                .insert(session.connect_admin(&config.database, "uis-onboard")?),
                        };
                        mint::check_role(pg, &config.authenticator, &role, &d.app)?;
                    }
                    None
                } else {
                    Some(
                        mint::mint(session, &target, &asked, &opts).map_err(|e| match e {
                            mint::MintError::Failure(f) => f,
                            mint::MintError::Claim(c) => Failure::usage(format!("{c:?}")),
                        })?,
                    )
                };
                pairs.push((t.name.clone(), minted.map(|m| m.token).unwrap_or_default()));
            }
            (None, _) => unreachable!("a missing or disputed token is minted"),
        }
    }
    for (k, v) in &pairs {
        let minted = changes.iter().any(|c| c.starts_with(&format!("mint {k} ")));
        if !minted && agreed_value(path, k) != Ok(Some(v.clone())) {
            changes.push(format!("set {k}"));
        }
    }
    if changes.is_empty() || dry_run {
        return Ok((changes, Some(url)));
    }
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    uis_core::dotenv::set_keys(path, &refs).map_err(|e| {
        // As `uis jwt mint --write-env` says it: a value no .env can carry
        // is the JWT secret's (tokens are base64url), a quote left open is
        // the file's, anything else is the path's.
        let hint = match e.kind() {
            std::io::ErrorKind::InvalidData => {
                format!("close the quote in {}, then run again", path.display())
            }
            std::io::ErrorKind::InvalidInput => format!(
                "issue a secret without that character: `uis postgrest deploy {} --rotate-jwt-secret`",
                d.app
            ),
            _ => "give env.path a file in an existing directory, e.g. `.env`".to_string(),
        };
        Failure::new(
            Phase::Write,
            format!("cannot write {}: {e}", path.display()),
        )
        .hint(hint)
    })?;
    Ok((changes, Some(url)))
}

/// The value every `.env` reader sees for `key`: `Ok(None)` when it is not
/// set, `Err(())` when it is set more than once with different values
/// (readers disagree on which wins, so the file is rewritten with one).
fn agreed_value(path: &Path, key: &str) -> Result<Option<String>, ()> {
    let values = uis_core::dotenv::read_values(path, key);
    if values.windows(2).all(|w| w[0] == w[1]) {
        Ok(values.into_iter().next())
    } else {
        Err(())
    }
}

/// What `--down` or `--purge` did.
#[derive(Debug, Clone, Serialize)]
pub struct Down {
    /// `down`, `purged`, or `dry_run`.
    pub status: &'static str,
    pub app: String,
    /// `KIND/NAME` deleted, or to delete.
    pub deleted: Vec<String>,
    pub dropped_roles: Vec<String>,
    /// The database dropped (`--purge`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    pub sql: Vec<String>,
}

/// `--down`: removes the app's PostgREST Deployment, Service and
/// IngressRoute (`uis postgrest deploy --undeploy`). With `purge` (confirmed
/// by the caller) also PostgREST's roles and Secret, then the database, the
/// roles the suite created and the stored credentials (`uis db configure
/// --purge`).
///
/// Errors: the operations' (phase `store` for an app never configured,
/// `sql`, `cluster`).
pub fn down(session: &mut Session, app: &str, purge: bool, dry_run: bool) -> Result<Down, Failure> {
    // Read before the purge forgets it: the logins the suite gave a role it
    // did not create (an authenticator made by the app's DDL).
    let before = if purge { session.app_opt(app)? } else { None };
    let mut out = Down {
        status: if dry_run {
            "dry_run"
        } else if purge {
            "purged"
        } else {
            "down"
        },
        app: app.to_string(),
        deleted: Vec::new(),
        dropped_roles: Vec::new(),
        database: None,
        sql: Vec::new(),
    };
    match deploy::undeploy::run(session, app, purge, dry_run)? {
        deploy::Report::UndeployDryRun(u) => {
            out.deleted = u.delete;
            out.sql = u.sql;
        }
        deploy::Report::Undeployed(u) => {
            out.deleted = u.deleted;
            out.dropped_roles = u.dropped_roles;
        }
        _ => {}
    }
    if !purge {
        return Ok(out);
    }
    let cluster = session.cluster()?;
    let ns = session.locator.namespace.clone();
    if session.block_on(store::read(&cluster, &ns, app))?.is_none() {
        return Ok(out);
    }
    let opts = configure::Options {
        app: app.to_string(),
        purge: true,
        yes: true,
        dry_run,
        after_undeploy: true,
        ..configure::Options::default()
    };
    match configure::run(session, &opts)? {
        configure::Report::PurgeDryRun(p) => {
            out.sql.extend(p.sql);
            out.deleted
                .extend(p.delete_secrets.iter().map(|s| format!("secret/{s}")));
        }
        configure::Report::Purged(p) => {
            out.database = Some(p.database);
            out.dropped_roles.extend(p.dropped_roles);
            out.deleted
                .extend(p.deleted_secrets.iter().map(|s| format!("secret/{s}")));
            out.sql.extend(p.changes);
        }
        _ => {}
    }
    // A role the suite did not create stays, but the password the suite
    // issued it goes with the stored copy: kept, nobody could retrieve it,
    // and the next onboarding would refuse to replace a password it did not
    // issue.
    if let Some(rec) = before {
        let mut pg = session.connect_admin("postgres", "uis-onboard")?;
        for role in rec.passwords.keys() {
            // The owner's password may be one `./uis configure` set (adopted).
            if *role == rec.owner
                || rec.created_roles.contains(role)
                || out.dropped_roles.contains(role)
                || crate::pg::provision::role(&mut pg, role)?.is_none()
            {
                continue;
            }
            let sql = format!(
                "ALTER ROLE {} PASSWORD NULL",
                uis_core::app::quote_ident(role)
            );
            if !dry_run {
                pg.batch_execute(&sql)?;
                uis_core::output::note(format!(
                    "uis: {sql} (the role was not created by the suite: it stays, without the password the suite issued)"
                ));
            }
            out.sql.push(sql);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn step_errors_name_the_yaml_keys_not_the_flags() {
        let f = in_yaml_words(
            Failure::usage("--authenticator authenticator: refused; --authenticated-role x")
                .hint("leave --authenticator out, or `uis postgrest deploy a --authenticator b`"),
        );
        assert_eq!(
            f.detail,
            "roles.authenticator authenticator: refused; roles.authenticated x"
        );
        assert_eq!(
            f.hint.as_deref(),
            Some("leave roles.authenticator out, or `uis postgrest deploy a --authenticator b`")
        );
    }

    #[test]
    fn tokens_kept_only_while_they_stand_for_the_declaration() {
        let day = Duration::from_secs(86_400);
        let t = json!({"role": "anon", "iat": 1000, "exp": 1000 + 86_400});
        assert_eq!(keep_token(&t, "anon", None, None, Some(day), 1000), None);
        assert_eq!(
            keep_token(&t, "anon", None, None, Some(day), 1000 + 50_000),
            Some("less than half its lifetime left")
        );
        assert_eq!(
            keep_token(&t, "x", None, None, Some(day), 1000),
            Some("another role")
        );
        assert_eq!(
            keep_token(&t, "anon", None, None, Some(2 * day), 1000),
            Some("another lifetime")
        );
        assert_eq!(
            keep_token(&t, "anon", None, None, None, 1000),
            Some("another lifetime")
        );
        let caps = vec!["a".to_string()];
        assert_eq!(
            keep_token(&t, "anon", None, Some(&caps), Some(day), 1000),
            Some("other capabilities")
        );
        assert_eq!(
            keep_token(&t, "anon", Some("https://x"), None, Some(day), 1000),
            Some("another audience")
        );
        let s = json!({"role": "s", "iat": 1, "capabilities": ["a"]});
        assert_eq!(keep_token(&s, "s", None, Some(&caps), None, 10), None);
    }
}
