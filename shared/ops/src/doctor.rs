//! `uis-db-doctor`: checks an onboarded app for every failure the customer
//! investigation met (F1-F11), each as pass / warn / fail with the command or
//! SQL that fixes it. It only reads (and mints one throwaway anon token to
//! verify it); it changes nothing.
//!
//! Checks that depend on an earlier one (no database, no PostgREST) are
//! reported as `skip`, so one cause gives one failure. The catalog is read
//! through [`crate::pg::provision`]'s queries where they exist.

use crate::pg::provision;
use crate::session::Session;
use k8s_openapi::api::apps::v1::Deployment;
use serde::Serialize;
use uis_core::Failure;
use uis_core::app::quote_ident;
use uis_core::output::unix_now;
use uis_kube::store::{self, AppRecord};
use uis_postgrest::{self as pgrst, jwt};

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
}

impl Status {
    /// `pass`, `warn`, `fail` or `skip` (the JSON strings).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

/// One check: its id (e.g. `db-uri`), the friction code it guards (F1-F11,
/// docs/reference, or `-`), the verdict, what was found, and the fix.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub id: &'static str,
    pub friction: &'static str,
    pub status: Status,
    pub message: String,
    pub fix: Option<String>,
}

/// Every check in order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub checks: Vec<Check>,
}

impl Report {
    fn add(
        &mut self,
        id: &'static str,
        friction: &'static str,
        status: Status,
        message: impl Into<String>,
        fix: Option<String>,
    ) {
        self.checks.push(Check {
            id,
            friction,
            status,
            message: message.into(),
            fix,
        });
    }
    fn pass(&mut self, id: &'static str, friction: &'static str, message: impl Into<String>) {
        self.add(id, friction, Status::Pass, message, None);
    }
    fn fail(
        &mut self,
        id: &'static str,
        friction: &'static str,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.add(id, friction, Status::Fail, message, Some(fix.into()));
    }
    fn skip(&mut self, id: &'static str, friction: &'static str, why: &str) {
        self.add(id, friction, Status::Skip, why, None);
    }

    /// How many checks have `status`.
    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    /// Whether any check failed (the command then exits 1).
    pub fn failed(&self) -> bool {
        self.count(Status::Fail) > 0
    }

    /// The report for people: a line per check (status, id, message), its
    /// fix below it, then the totals.
    pub fn text(&self) -> String {
        let mut t = String::new();
        for c in &self.checks {
            t.push_str(&format!(
                "{:4}  {:14} {}\n",
                c.status.as_str(),
                c.id,
                c.message
            ));
            if let Some(fix) = &c.fix {
                t.push_str(&format!("      {:14} fix: {fix}\n", ""));
            }
        }
        t.push_str(&format!(
            "{} checks: {} failed, {} warnings\n",
            self.checks.len(),
            self.count(Status::Fail),
            self.count(Status::Warn)
        ));
        t
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

/// Runs every check for `app` (a valid app name). Never fails: a failure
/// outside any check (e.g. the tunnel broke) becomes a failed check
/// `internal`, and an unreachable cluster the failed check `cluster`.
pub fn run(session: &mut Session, app: &str) -> Report {
    let mut r = Report::default();
    if let Err(f) = diagnose(session, app, &mut r) {
        r.fail(
            "internal",
            "-",
            f.detail.clone(),
            f.hint.clone().unwrap_or_default(),
        );
    }
    r
}

/// An RLS policy role PostgREST cannot become.
struct PolicyRole {
    schema: String,
    table: String,
    policy: String,
    role: String,
}

/// The policies in `schemas` naming a role that `authenticator` is not a
/// member of (and that is not the authenticator), by schema, table, policy.
fn foreign_policy_roles(
    c: &mut postgres::Client,
    schemas: &[String],
    authenticator: &str,
) -> Result<Vec<PolicyRole>, postgres::Error> {
    Ok(c.query(
        "select n.nspname::text, c.relname::text, p.polname::text, r.rolname::text
           from pg_policy p join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace
           join pg_roles r on r.oid = any(p.polroles)
          where n.nspname = any($1)
            and not coalesce(pg_has_role($2, r.oid, 'MEMBER'), false)
            and r.rolname <> $2
          order by 1, 2, 3",
        &[&schemas, &authenticator],
    )?
    .iter()
    .map(|row| PolicyRole {
        schema: row.get(0),
        table: row.get(1),
        policy: row.get(2),
        role: row.get(3),
    })
    .collect())
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
    let db_owner = provision::database_owner(&mut pg, &rec.database)?;
    // Whether the owner role is a superuser; `None` when it does not exist.
    let owner_role = provision::role(&mut pg, &rec.owner)?.map(|info| info.superuser);
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
    let Some(config) = session.block_on(crate::postgrest_state::read_config(&cluster, app))? else {
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
    // The password as libpq and PostgREST read it (split at the first `@`
    // and `:`, then percent-decoded): URL-safe means RFC 3986 unreserved
    // characters only, which needs no encoding at all.
    let parsed = uri.parse::<postgres::Config>();
    let password = parsed
        .as_ref()
        .ok()
        .and_then(|c| c.get_password())
        .unwrap_or_default();
    let url_safe = !password.is_empty()
        && password
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(b));
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
    // `None` when the anon role or the authenticator does not exist.
    let anon_ok: Option<bool> = if provision::role(pg, &anon)?.is_some()
        && provision::role(pg, &config.authenticator)?.is_some()
    {
        Some(provision::has_role(pg, &config.authenticator, &anon)?)
    } else {
        None
    };
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
    let rows = foreign_policy_roles(&mut appdb, &config.schemas, &config.authenticator)?;
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
            .map(|p| {
                format!(
                    "{}.{} policy {:?} TO {}",
                    p.schema, p.table, p.policy, p.role
                )
            })
            .collect();
        let roles: std::collections::BTreeSet<&str> =
            rows.iter().map(|p| p.role.as_str()).collect();
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
                roles.iter().next().copied().unwrap_or_default(),
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
    match jwt::check_secret(&config.jwt_secret) {
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
        Some(d) if uis_kube::rollout::is_available(d) => r.pass(
            "deployment",
            "F5",
            format!("Deployment {ns}/{name} is Available"),
        ),
        Some(_) => {
            let why = session
                .block_on(uis_kube::rollout::diagnose(&cluster, ns, &name))
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
    let now = unix_now();
    let spec = jwt::MintSpec {
        role: anon.clone(),
        exp: Some(std::time::Duration::from_secs(60)),
        aud: config.jwt_aud.clone(),
        ..Default::default()
    };
    let verdict = jwt::mint(&config.jwt_secret, &jwt::claims(&spec, now))
        .and_then(|t| jwt::verify(&config.jwt_secret, &t, config.jwt_aud.as_deref(), now));
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
