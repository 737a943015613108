//! `uis-db-doctor`: checks an onboarded app for every failure the customer
//! investigation met (F1-F11), each as pass / warn / fail with the command or
//! SQL that fixes it. It only reads (and mints one throwaway anon token to
//! verify it); it changes nothing.
//!
//! Checks that depend on an earlier one (no database, no PostgREST) are
//! reported as `skip`, so one cause gives one failure.

use clap::Parser;
use k8s_openapi::api::apps::v1::Deployment;
use serde_json::json;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};
use uis_cli::{ClusterArgs, LocatorArgs};
use uis_ops::Failure;
use uis_ops::app::{quote_ident, validate_app};
use uis_ops::output;
use uis_ops::postgrest as pgrst;
use uis_ops::session::Session;
use uis_ops::store::{self, AppRecord};

/// Check an app's database and PostgREST wiring; say how to fix what is wrong.
///
/// Checks: the cluster is reachable; the admin Secret is found (F2); the
/// database and its owner exist; the owner owns the database and is no
/// superuser (F1); the credential store holds a working password for every
/// LOGIN role (F6); PGRST_DB_URI's password is URL-safe and logs in (F9);
/// the Deployment binds every PGRST_* key from the Secret (F10); the anon
/// role exists and is granted to the authenticator; RLS policies name roles
/// PostgREST can become (F8); role names shared with other apps; the JWT
/// secret has 32+ characters; the Deployment is Available; a fresh anon
/// token verifies. Exits 1 when any check fails.
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
    let args = Args::parse();
    let json_mode = args.json || !output::stdout_is_terminal();
    uis_cli::run_main(json_mode, || run(args, json_mode))
}

#[derive(Clone, Copy, PartialEq)]
enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

struct Report {
    checks: Vec<serde_json::Value>,
    failed: bool,
}

impl Report {
    fn add(
        &mut self,
        id: &str,
        friction: &str,
        status: Status,
        message: impl Into<String>,
        fix: Option<String>,
    ) {
        if status == Status::Fail {
            self.failed = true;
        }
        self.checks.push(json!({
            "id": id, "friction": friction, "status": status.as_str(), "message": message.into(), "fix": fix,
        }));
    }
    fn pass(&mut self, id: &str, friction: &str, message: impl Into<String>) {
        self.add(id, friction, Status::Pass, message, None);
    }
    fn fail(
        &mut self,
        id: &str,
        friction: &str,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.add(id, friction, Status::Fail, message, Some(fix.into()));
    }
    fn skip(&mut self, id: &str, friction: &str, why: &str) {
        self.add(id, friction, Status::Skip, why, None);
    }
}

const POSTGREST_CHECKS: [(&str, &str); 8] = [
    ("db-uri", "F9"),
    ("jwt-binding", "F10"),
    ("anon-role", "F8"),
    ("rls-roles", "F8"),
    ("shared-roles", "F8"),
    ("jwt-secret", "F10"),
    ("deployment", "F5"),
    ("anon-token", "F11"),
];

fn run(mut args: Args, json_mode: bool) -> anyhow::Result<i32> {
    if args.app.is_none() {
        args.app = uis_cli::default_str(&uis_cli::stdin_defaults()?, "app");
    }
    let Some(app) = args.app.clone() else {
        return Err(Failure::usage("give APP, e.g. `uis-db-doctor railway`").into());
    };
    validate_app(&app)?;
    let mut r = Report {
        checks: Vec::new(),
        failed: false,
    };
    let mut session = Session::new(args.cluster_args.config(), args.locator.locator()?)?;
    let checks = diagnose(&mut session, &app, &mut r);
    if let Err(f) = checks {
        // A failure outside any check (e.g. the tunnel broke): report it as one.
        r.fail(
            "internal",
            "-",
            f.detail.clone(),
            f.hint.clone().unwrap_or_default(),
        );
    }
    let fails = r.checks.iter().filter(|c| c["status"] == "fail").count();
    let warns = r.checks.iter().filter(|c| c["status"] == "warn").count();
    if json_mode {
        output::print_json(
            &json!({"app": app, "status": if fails > 0 { "fail" } else { "pass" }, "checks": r.checks}),
        )?;
    } else {
        let mut t = String::new();
        for c in &r.checks {
            t.push_str(&format!(
                "{:4}  {:14} {}\n",
                c["status"].as_str().unwrap_or(""),
                c["id"].as_str().unwrap_or(""),
                c["message"].as_str().unwrap_or("")
            ));
            if let Some(fix) = c["fix"].as_str() {
                t.push_str(&format!("      {:14} fix: {fix}\n", ""));
            }
        }
        t.push_str(&format!(
            "{} checks: {} failed, {} warnings\n",
            r.checks.len(),
            fails,
            warns
        ));
        output::print(&t)?;
    }
    Ok(if r.failed { 1 } else { 0 })
}

fn diagnose(session: &mut Session, app: &str, r: &mut Report) -> Result<(), Failure> {
    // Cluster.
    let cluster = match session.cluster() {
        Ok(c) => c,
        Err(f) => {
            r.fail("cluster", "-", f.detail, f.hint.unwrap_or_default());
            return Ok(());
        }
    };
    let ns = session.locator.namespace.clone();
    let rec = match session.block_on(store::read(&cluster, &ns, app)) {
        Ok(rec) => {
            r.pass(
                "cluster",
                "-",
                format!("the Kubernetes API answers ({})", cluster.origin),
            );
            rec
        }
        Err(f) => {
            r.fail("cluster", "-", f.detail, f.hint.unwrap_or_default());
            return Ok(());
        }
    };
    // F2: the superuser password.
    match session.admin() {
        Ok(a) => r.pass(
            "admin-secret",
            "F2",
            format!("superuser password found in {}", a.source),
        ),
        Err(f) => {
            r.fail("admin-secret", "F2", f.detail, f.hint.unwrap_or_default());
            return Ok(());
        }
    }
    let Some(rec) = rec else {
        r.fail(
            "database",
            "F1",
            format!(
                "app {app:?} is not configured (no credential store Secret {ns}/{})",
                store::secret_name(app)
            ),
            format!("uis db configure {app}"),
        );
        for (id, fr) in [("owner-privileges", "F1"), ("credential-store", "F6")]
            .into_iter()
            .chain(POSTGREST_CHECKS)
        {
            r.skip(id, fr, "the app is not configured");
        }
        return Ok(());
    };
    let mut pg = session.connect_admin("postgres", "uis-db-doctor")?;

    // The database and its owner.
    let db_owner: Option<String> = pg
        .query_opt(
            "select pg_get_userbyid(datdba)::text from pg_database where datname = $1",
            &[&rec.database],
        )?
        .map(|row| row.get(0));
    let owner_role = pg
        .query_opt(
            "select rolsuper from pg_roles where rolname = $1",
            &[&rec.owner],
        )?
        .map(|row| row.get::<_, bool>(0));
    match (&db_owner, owner_role) {
        (Some(_), Some(_)) => r.pass(
            "database",
            "F1",
            format!(
                "database {} and owner role {} exist",
                rec.database, rec.owner
            ),
        ),
        (None, _) => {
            r.fail(
                "database",
                "F1",
                format!("database {} does not exist", rec.database),
                format!("uis db configure {app} --database {}", rec.database),
            );
            for (id, fr) in [("owner-privileges", "F1"), ("credential-store", "F6")]
                .into_iter()
                .chain(POSTGREST_CHECKS)
            {
                r.skip(id, fr, "the database does not exist");
            }
            return Ok(());
        }
        (Some(_), None) => r.fail(
            "database",
            "F1",
            format!("owner role {} does not exist", rec.owner),
            format!("uis db configure {app}"),
        ),
    }
    // F1: the owner owns its database (so it can create schemas and trusted extensions) and is no superuser.
    match (&db_owner, owner_role) {
        (Some(o), Some(false)) if o == &rec.owner => r.pass(
            "owner-privileges",
            "F1",
            format!("{} owns database {}: it creates schemas and trusted extensions itself; role DDL runs with --as admin", rec.owner, rec.database),
        ),
        (Some(_), Some(true)) => r.fail(
            "owner-privileges",
            "F1",
            format!("owner {} is a superuser", rec.owner),
            format!("ALTER ROLE {} NOSUPERUSER;", quote_ident(&rec.owner)),
        ),
        (Some(o), _) => r.fail(
            "owner-privileges",
            "F1",
            format!("database {} is owned by {o}, not by the app's owner {}: the owner cannot create schemas or extensions", rec.database, rec.owner),
            format!("ALTER DATABASE {} OWNER TO {};", quote_ident(&rec.database), quote_ident(&rec.owner)),
        ),
        _ => r.skip("owner-privileges", "F1", "the owner role does not exist"),
    }
    // F6: every LOGIN role of the app has a stored, working password.
    let mut login_roles = vec![rec.owner.clone()];
    for kind in ["authenticator", "readonly"] {
        if let Some(role) = rec.roles.get(kind) {
            login_roles.push(role.clone());
        }
    }
    let mut problems = Vec::new();
    for role in &login_roles {
        match rec.passwords.get(role) {
            None => problems.push(format!("no stored password for {role}")),
            // The password alone is checked (in `postgres`); CONNECT on the app's database is the owner check's business.
            Some(pw) if !session.login_works(role, pw, "postgres") => {
                problems.push(format!("the stored password of {role} does not log in"))
            }
            Some(_) => {}
        }
    }
    if problems.is_empty() {
        r.pass(
            "credential-store",
            "F6",
            format!(
                "Secret {ns}/{} holds a working password for {}",
                store::secret_name(app),
                login_roles.join(", ")
            ),
        );
    } else {
        r.fail(
            "credential-store",
            "F6",
            problems.join("; "),
            format!("uis db configure {app}  (re-issues and stores missing or stale passwords)"),
        );
    }

    postgrest_checks(session, app, &rec, &mut pg, r)?;
    Ok(())
}

fn postgrest_checks(
    session: &mut Session,
    app: &str,
    rec: &AppRecord,
    pg: &mut postgres::Client,
    r: &mut Report,
) -> Result<(), Failure> {
    let cluster = session.cluster()?;
    let Some(config) = session.block_on(uis_ops::postgrest_state::read_config(&cluster, app))?
    else {
        for (id, fr) in POSTGREST_CHECKS {
            r.skip(
                id,
                fr,
                "PostgREST is not deployed (`uis postgrest deploy APP`)",
            );
        }
        return Ok(());
    };
    let name = pgrst::name(app);
    let ns = pgrst::NAMESPACE;
    // F9: the URI's password is URL-safe and logs in.
    let uri = config
        .settings
        .get(pgrst::KEY_DB_URI)
        .cloned()
        .unwrap_or_default();
    let raw_password = uri
        .strip_prefix("postgresql://")
        .or_else(|| uri.strip_prefix("postgres://"))
        .and_then(|rest| rest.split_once('@'))
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
        .map(|(_, p)| p.to_string())
        .unwrap_or_default();
    let parsed = uri.parse::<postgres::Config>();
    let url_safe = !raw_password.is_empty()
        && raw_password
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b));
    let logs_in = parsed.is_ok()
        && session.login_works(
            &config.authenticator,
            &config.authenticator_password,
            &config.database,
        );
    if url_safe && logs_in {
        r.pass(
            "db-uri",
            "F9",
            format!("PGRST_DB_URI parses and {} logs in", config.authenticator),
        );
    } else {
        let why = match (url_safe, parsed.is_ok(), logs_in) {
            (false, _, _) => "PGRST_DB_URI's password has characters that are not URL-safe (PostgREST misreads + / : @ in a URI)".to_string(),
            (true, false, _) => "PGRST_DB_URI does not parse as a connection URI".to_string(),
            _ => format!("{} cannot log in with the password in PGRST_DB_URI", config.authenticator),
        };
        r.fail(
            "db-uri",
            "F9",
            why,
            format!("uis postgrest deploy {app} --rotate-password"),
        );
    }
    // F10: every PGRST_* key is bound from the Secret.
    let deployment = session.block_on(cluster.get_opt::<Deployment>(ns, &name))?;
    match &deployment {
        None => r.fail(
            "jwt-binding",
            "F10",
            format!("Deployment {ns}/{name} does not exist"),
            format!("uis postgrest deploy {app}"),
        ),
        Some(d) => {
            let env = d
                .spec
                .as_ref()
                .and_then(|s| s.template.spec.as_ref())
                .and_then(|s| s.containers.first())
                .and_then(|c| c.env.clone())
                .unwrap_or_default();
            let bound = |key: &str| {
                env.iter().any(|e| {
                    e.name == key
                        && e.value_from
                            .as_ref()
                            .and_then(|v| v.secret_key_ref.as_ref())
                            .is_some_and(|s| s.name == name && s.key == key)
                })
            };
            let missing: Vec<&str> = [
                pgrst::KEY_DB_URI,
                pgrst::KEY_DB_SCHEMAS,
                pgrst::KEY_DB_ANON_ROLE,
                pgrst::KEY_JWT_SECRET,
            ]
            .into_iter()
            .filter(|k| !bound(k))
            .collect();
            if missing.is_empty() {
                r.pass("jwt-binding", "F10", format!("Deployment {name} binds PGRST_JWT_SECRET and the other settings from Secret {name}"));
            } else {
                r.fail(
                    "jwt-binding",
                    "F10",
                    format!("Deployment {name} does not bind {} from Secret {name}{}", missing.join(", "), if missing.contains(&pgrst::KEY_JWT_SECRET) { ": every request with a token gets 500 PGRST300 \"Server lacks JWT secret\"" } else { "" }),
                    format!("uis postgrest deploy {app}  (re-applies the Deployment with every key bound)"),
                );
            }
        }
    }
    // The anon role exists and the authenticator can become it.
    let anon = config.anon_role.clone();
    let anon_ok: Option<bool> = pg
        .query_opt("select coalesce(pg_has_role($1, rolname, 'MEMBER'), false) from pg_roles where rolname = $2 and exists(select 1 from pg_roles where rolname = $1)", &[&config.authenticator, &anon])?
        .map(|row| row.get(0));
    match anon_ok {
        Some(true) => r.pass(
            "anon-role",
            "F8",
            format!(
                "anon role {anon} exists and is granted to {}",
                config.authenticator
            ),
        ),
        Some(false) => r.fail(
            "anon-role",
            "F8",
            format!(
                "anon role {anon} is not granted to {}: anonymous requests fail with 401",
                config.authenticator
            ),
            format!(
                "GRANT {} TO {};",
                quote_ident(&anon),
                quote_ident(&config.authenticator)
            ),
        ),
        None => r.fail(
            "anon-role",
            "F8",
            format!("anon role {anon} (PGRST_DB_ANON_ROLE) does not exist"),
            format!("uis postgrest deploy {app} --anon-role NAME  (or create {anon} in your DDL)"),
        ),
    }
    // F8: RLS policies name roles PostgREST will actually use.
    let mut appdb = session.connect_admin(&config.database, "uis-db-doctor")?;
    let rows = appdb.query(
        "select n.nspname::text, c.relname::text, p.polname::text, r.rolname::text
           from pg_policy p join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace
           join pg_roles r on r.oid = any(p.polroles)
          where n.nspname = any($1)
            and not coalesce(pg_has_role($2, r.oid, 'MEMBER'), false)
            and r.rolname <> $2
          order by 1, 2, 3",
        &[&config.schemas, &config.authenticator],
    )?;
    if rows.is_empty() {
        r.pass(
            "rls-roles",
            "F8",
            format!(
                "every RLS policy in {} names roles {} can become",
                config.schemas.join(", "),
                config.authenticator
            ),
        );
    } else {
        let offenders: Vec<String> = rows
            .iter()
            .map(|row| {
                format!(
                    "{}.{} policy {:?} TO {}",
                    row.get::<_, String>(0),
                    row.get::<_, String>(1),
                    row.get::<_, String>(2),
                    row.get::<_, String>(3)
                )
            })
            .collect();
        let roles: std::collections::BTreeSet<String> =
            rows.iter().map(|row| row.get::<_, String>(3)).collect();
        r.fail(
            "rls-roles",
            "F8",
            format!(
                "{} polic{} name roles PostgREST never uses (it runs as {} and {}): {} — requests get 200 OK with empty rows",
                rows.len(),
                if rows.len() == 1 { "y" } else { "ies" },
                anon,
                rec.roles.get("authenticated").cloned().unwrap_or_else(|| "the authenticated role".into()),
                offenders.join("; ")
            ),
            format!(
                "deploy with the roles your policies use: `uis postgrest deploy {app} --anon-role {} ...`, or grant them: {}",
                roles.iter().next().cloned().unwrap_or_default(),
                roles.iter().map(|ro| format!("GRANT {} TO {};", quote_ident(ro), quote_ident(&config.authenticator))).collect::<Vec<_>>().join(" ")
            ),
        );
    }
    // Roles shared with another app (cluster-wide).
    let others = session.block_on(store::read_all(&cluster, &session.locator.namespace))?;
    let mut shared_roles = Vec::new();
    for other in others.iter().filter(|o| o.app != app) {
        for role in [&config.authenticator, &anon] {
            if other.roles.values().any(|x| x == role) || &other.owner == role {
                shared_roles.push(format!("{role} (also app {})", other.app));
            }
        }
    }
    if shared_roles.is_empty() {
        r.pass("shared-roles", "F8", "no role is shared with another app");
    } else {
        r.add("shared-roles", "F8", Status::Warn, format!("roles are cluster-wide and shared: {}", shared_roles.join(", ")), Some("give each app its own role names, e.g. the defaults APP_authenticator / APP_web_anon".into()));
    }
    // JWT secret length.
    match uis_ops::jwt::check_secret(&config.jwt_secret) {
        Ok(()) => r.pass(
            "jwt-secret",
            "F10",
            format!(
                "the JWT secret has {} characters (PostgREST needs 32+)",
                config.jwt_secret.len()
            ),
        ),
        Err(e) => r.fail(
            "jwt-secret",
            "F10",
            e.message,
            format!("uis postgrest deploy {app} --rotate-jwt-secret"),
        ),
    }
    // The rollout.
    match &deployment {
        Some(d) if uis_ops::rollout::is_available(d) => r.pass(
            "deployment",
            "F5",
            format!("Deployment {ns}/{name} is Available"),
        ),
        Some(_) => {
            let why = session
                .block_on(uis_ops::rollout::diagnose(&cluster, ns, &name))
                .unwrap_or_else(|| "no cause reported".into());
            r.fail(
                "deployment",
                "F5",
                format!("Deployment {ns}/{name} is not Available: {why}"),
                format!("uis postgrest deploy {app} --status"),
            );
        }
        None => r.fail(
            "deployment",
            "F5",
            format!("Deployment {ns}/{name} does not exist"),
            format!("uis postgrest deploy {app}"),
        ),
    }
    // A fresh anon token verifies.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let spec = uis_ops::jwt::MintSpec {
        role: anon.clone(),
        exp: Some(std::time::Duration::from_secs(60)),
        aud: config.jwt_aud.clone(),
        ..Default::default()
    };
    let verdict = uis_ops::jwt::mint(&config.jwt_secret, &uis_ops::jwt::claims(&spec, now))
        .and_then(|t| uis_ops::jwt::verify(&config.jwt_secret, &t, config.jwt_aud.as_deref(), now));
    match verdict {
        Ok(_) => r.pass("anon-token", "F11", "a freshly minted anon token verifies"),
        Err(e) => r.fail(
            "anon-token",
            "F11",
            format!("a freshly minted anon token is refused: {e}"),
            format!("uis postgrest deploy {app} --rotate-jwt-secret"),
        ),
    }
    Ok(())
}
