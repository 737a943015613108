//! `uis-db-doctor`: checks an onboarded app for every failure the customer
//! investigation met (F1-F11), each as pass / warn / fail with the command or
//! SQL that fixes it. It only reads (and mints one throwaway anon token to
//! verify it); it changes nothing.
//!
//! Checks that depend on an earlier one (no database, no PostgREST) are
//! reported as `skip`, so one cause gives one failure. The catalog is read
//! through [`crate::pg::provision`]'s queries where they exist.

mod postgrest;
pub mod topology;

use crate::pg::provision;
use crate::session::Session;
use serde::Serialize;
use uis_core::Failure;
use uis_core::app::quote_ident;
use uis_core::error::Phase;
use uis_kube::store::{self, AppRecord};

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
/// or `-` for none), the verdict, what was found, and the fix.
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

const POSTGREST_CHECKS: [(&str, &str); 10] = [
    ("db-uri", "F9"),
    ("jwt-binding", "F10"),
    ("anon-role", "F8"),
    ("api-roles", "-"),
    ("rls-roles", "F8"),
    ("shared-roles", "F8"),
    ("jwt-secret", "F10"),
    ("jwt-db-config", "F10"),
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

fn diagnose(session: &mut Session, app: &str, r: &mut Report) -> Result<(), Failure> {
    // Cluster.
    let cluster = match session.cluster() {
        Ok(c) => c,
        // The API answered, but which PostgreSQL is unclear (two found,
        // or `--provider NAME` not there).
        Err(f) if matches!(f.phase, Phase::Locate | Phase::Usage) => {
            r.pass("cluster", "-", "the Kubernetes API answers".to_string());
            r.fail("provider", "-", f.detail, f.hint.unwrap_or_default());
            return Ok(());
        }
        Err(f) => {
            r.fail("cluster", "-", f.detail, f.hint.unwrap_or_default());
            return Ok(());
        }
    };
    let ns = session.locator.namespace.clone();
    // An app `./uis configure postgresql` made and the suite never stored
    // is read from the Secret UIS wrote (`Session::app_opt`).
    let rec = match session.app_opt(app) {
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
    let Some(Pod { primary, topology }) = pod_and_admin_checks(session, &cluster, r) else {
        return Ok(());
    };
    if !provider_checks(session, primary.as_ref(), r) {
        return Ok(());
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
    tls_check(session, r);
    admin_role(&mut pg, topology.as_ref(), r)?;

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
    if let Some(from) = &rec.adopted_from {
        r.add(
            "credential-store",
            "F6",
            Status::Warn,
            format!(
                "app {app} is not in the suite's store: its login is read from Secret {from} {}{}",
                match &rec.adopted_key {
                    Some(key) => format!("(key {key}), as the operator wrote it"),
                    None => "(DATABASE_URL), as ./uis configure wrote it".to_string(),
                },
                if problems.is_empty() { "" } else { "; " }
            ) + &problems.join("; "),
            Some(format!(
                "uis db configure {app}  (adopts the password: checks it logs in and stores it)"
            )),
        );
    } else if problems.is_empty() {
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
        // A missing password is written into the store: an immutable store
        // Secret refuses that, so the fix recreates it first.
        let store_name = store::secret_name(app);
        let must_write = login_roles.iter().any(|r| !rec.passwords.contains_key(r));
        let immutable = must_write
            && session
                .block_on(cluster.get_opt::<k8s_openapi::api::core::v1::Secret>(&ns, &store_name))?
                .and_then(|s| s.immutable)
                .unwrap_or(false);
        let mut message = problems.join("; ");
        if immutable {
            message.push_str(&format!(
                "; Secret {ns}/{store_name} is immutable (`immutable: true`), so storing a password must recreate it first"
            ));
        }
        r.fail(
            "credential-store",
            "F6",
            message,
            format!(
                "{}  (re-issues and stores missing or stale passwords)",
                postgrest::writing_secret(
                    immutable,
                    &ns,
                    &store_name,
                    format!("uis db configure {app}")
                )
            ),
        );
    }

    owner_writes(session, &rec, r)?;
    postgrest::checks(session, app, &rec, &mut pg, r)?;
    Ok(())
}

/// The database pod as [`pod_and_admin_checks`] found it.
struct Pod {
    /// See [`primary_pod`].
    primary: Option<Result<uis_kube::locate::Chosen, Failure>>,
    topology: Option<topology::Topology>,
}

/// The checks every doctor run makes after the cluster's: `topology` (from
/// the primary pod, read once here and kept for the `primary` check) and
/// F2's `admin-secret`; `None` when no Secret holds the superuser's
/// password (the checks that need it are then left out).
fn pod_and_admin_checks(
    session: &mut Session,
    cluster: &uis_kube::Cluster,
    r: &mut Report,
) -> Option<Pod> {
    let primary = primary_pod(session, cluster);
    let topology = topology_check(session, primary.as_ref(), r);
    match session.admin() {
        Ok(a) => r.pass(
            "admin-secret",
            "F2",
            format!("superuser password found in {}", a.source),
        ),
        Err(f) => {
            r.fail("admin-secret", "F2", f.detail, f.hint.unwrap_or_default());
            return None;
        }
    }
    Some(Pod { primary, topology })
}

/// The pod connections go to, as the resolved provider labels the primary
/// ([`uis_kube::locate::Locator::primary`]), read once for the `topology` and
/// `primary` checks; `None` with `--direct` (no pod).
fn primary_pod(
    session: &mut Session,
    cluster: &uis_kube::Cluster,
) -> Option<Result<uis_kube::locate::Chosen, Failure>> {
    if session.locator.direct.is_some() {
        return None;
    }
    let loc = session.locator.clone();
    Some(session.block_on(loc.primary(cluster)))
}

/// The provider and topology (docs/providers.md), and the primary pod the
/// connection goes to (`primary`, [`primary_pod`]); false when there is
/// none (the checks that need the database are then left out).
fn provider_checks(
    session: &Session,
    primary: Option<&Result<uis_kube::locate::Chosen, Failure>>,
    r: &mut Report,
) -> bool {
    use uis_kube::provider::Provider;
    let loc = session.locator.clone();
    let Some(provider) = loc.provider else {
        return true;
    };
    let topology = match (provider, &loc.cluster_name, &loc.direct) {
        (Provider::External, _, Some((h, p))) => {
            format!("an external server at {h}:{p} (--direct), no pod")
        }
        (_, _, Some((h, p))) => format!("reached at {h}:{p} (--direct)"),
        (Provider::Bitnami, ..) => "UIS in-cluster: the Bitnami StatefulSet".to_string(),
        (Provider::UisProxied, ..) => "UIS proxied: a Deployment pod forwards with socat to an external server (its admin need not be a superuser)".to_string(),
        (p, Some(c), None) => format!("operator cluster {c} ({})", p.custom_resource().map(|(g, v, k, _)| format!("{k} {g}/{v}")).unwrap_or_default()),
        (_, None, None) => "in-cluster".to_string(),
    };
    r.pass(
        "provider",
        "-",
        format!(
            "provider {provider}: {topology}; Service {}:{}, pods {} in {}",
            loc.service, loc.port, loc.selector, loc.namespace
        ),
    );
    let Some(primary) = primary.filter(|_| loc.direct.is_none()) else {
        r.skip("primary", "-", "--direct: no pod is forwarded to");
        return true;
    };
    match primary {
        Ok(c) => {
            r.pass(
                "primary",
                "-",
                format!(
                    "connections go to pod {}/{} ({}; {} pods with {})",
                    loc.namespace, c.name, c.role, c.pods, loc.selector
                ),
            );
            true
        }
        Err(f) => {
            r.fail(
                "primary",
                "-",
                f.detail.clone(),
                f.hint.clone().unwrap_or_default(),
            );
            false
        }
    }
}

/// Whether the admin is a superuser; a non-superuser admin (managed
/// PostgreSQL, CloudNativePG without superuser access) needs CREATEROLE and
/// CREATEDB for configure and `postgrest deploy`.
fn admin_role(
    pg: &mut postgres::Client,
    topology: Option<&topology::Topology>,
    r: &mut Report,
) -> Result<(), Failure> {
    let row = pg.query_one(
        "select current_user::text, rolsuper, rolcreaterole, rolcreatedb,
                current_setting('server_version')
           from pg_roles where rolname = current_user",
        &[],
    )?;
    let (user, superuser, createrole, createdb, version): (String, bool, bool, bool, String) =
        (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
    if superuser {
        r.pass(
            "admin",
            "-",
            format!("admin {user} is a superuser (PostgreSQL {version})"),
        );
    } else if createrole && createdb {
        r.pass(
            "admin",
            "-",
            format!("admin {user} is not a superuser, with CREATEROLE and CREATEDB as managed services give (PostgreSQL {version}): configure makes it a member of each app's owner; untrusted extensions need the provider's allow-list{}",
                if matches!(topology, Some(topology::Topology::Proxied { .. })) {
                    "; expected on the proxied topology: the external server keeps its superuser to itself, and this is fine"
                } else {
                    ""
                }),
        );
    } else {
        let missing: Vec<&str> = [(createrole, "CREATEROLE"), (createdb, "CREATEDB")]
            .into_iter()
            .filter(|(has, _)| !has)
            .map(|(_, a)| a)
            .collect();
        r.add(
            "admin",
            "-",
            Status::Warn,
            format!(
                "admin {user} is not a superuser and lacks {} (PostgreSQL {version}): configure cannot create the app's roles or database",
                missing.join(" and ")
            ),
            Some(format!(
                "as the server's superuser: ALTER ROLE {} {}; or name another admin with --pg-superuser NAME --admin-secrets SECRET/KEY",
                quote_ident(&user),
                missing.join(" ")
            )),
        );
    }
    Ok(())
}
/// Warns about tables in the app's schemas (every schema of its database
/// but the system ones) its owner cannot write: made by the superuser (a
/// schema file run `--as admin`) in a database configured before `uis db
/// configure` set the admin's default privileges, or revoked since.
fn owner_writes(session: &mut Session, rec: &AppRecord, r: &mut Report) -> Result<(), Failure> {
    let mut c = session.connect_admin(&rec.database, "uis-db-doctor")?;
    let rows = c.query(
        "select format('%I.%I', n.nspname, t.relname)
           from pg_class t join pg_namespace n on n.oid = t.relnamespace
          where t.relkind in ('r', 'p')
            and n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
            and n.nspname not like 'pg\\_%'
            and n.nspname <> 'uis'
            and exists (select 1 from pg_roles where rolname = $1)
            and not has_table_privilege($1::text, t.oid, 'INSERT, UPDATE, DELETE')
          order by 1",
        &[&rec.owner],
    )?;
    let tables: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
    if tables.is_empty() {
        r.pass(
            "owner-writes",
            "F1",
            format!("{} can write every table in the app's schemas", rec.owner),
        );
        return Ok(());
    }
    let shown: Vec<&str> = tables.iter().take(5).map(String::as_str).collect();
    let more = if tables.len() > 5 {
        format!(" and {} more", tables.len() - 5)
    } else {
        String::new()
    };
    r.add(
        "owner-writes",
        "F1",
        Status::Warn,
        format!(
            "{} cannot write {} table(s) in the app's schemas: {}{more}; seeds run as the owner fail there",
            rec.owner,
            tables.len(),
            shown.join(", ")
        ),
        Some(format!(
            "uis db psql {} --as admin -c 'GRANT ALL ON ALL TABLES IN SCHEMA <schema> TO {}'  (uis db configure sets default privileges so this does not recur)",
            rec.app,
            quote_ident(&rec.owner)
        )),
    );
    Ok(())
}

/// `uis db doctor --server` (`uis postgresql verify`): the checks that need
/// no app: the cluster answers, the superuser's Secret is found (F2), and
/// the superuser logs in.
pub fn run_server(session: &mut Session) -> Report {
    let mut r = Report::default();
    let cluster = match session.cluster() {
        Ok(c) => c,
        Err(f) => {
            r.fail("cluster", "-", f.detail, f.hint.unwrap_or_default());
            return r;
        }
    };
    r.pass(
        "cluster",
        "-",
        format!("the Kubernetes API answers ({})", cluster.origin),
    );
    if pod_and_admin_checks(session, &cluster, &mut r).is_none() {
        return r;
    }
    match session
        .connect_admin("postgres", "uis-db-doctor")
        .and_then(|mut c| Ok(c.query_one("select version()", &[])?.get::<_, String>(0)))
    {
        Ok(v) => {
            let via = session.via();
            r.pass("server", "F3", format!("the superuser logs in {via}: {v}"));
            tls_check(session, &mut r);
        }
        Err(f) => r.fail("server", "F3", f.detail, f.hint.unwrap_or_default()),
    }
    r
}

/// `tls`: whether the last connection is encrypted, with which sslmode and
/// whether the server's certificate was checked. Through the port-forward
/// the bytes already travel inside the Kubernetes API's TLS, so a plain or
/// unchecked connection there passes (saying how to check it); with
/// `--direct` to an address other than loopback it is a warning with the
/// fix (libpq docs 34.19.1: only verify-full protects against a server
/// that is not the one named).
fn tls_check(session: &Session, r: &mut Report) {
    use crate::pg::tls::Verified;
    let Some(t) = session.tls_state() else {
        return;
    };
    let exposed = session.locator.direct.as_ref().is_some_and(|(h, _)| {
        !(h == "localhost"
            || h.parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback()))
    });
    let path_note = if session.locator.direct.is_some() {
        "a loopback address"
    } else {
        "the port-forward runs inside the Kubernetes API's TLS"
    };
    let verify_fix = format!(
        "check the server's certificate: --sslmode verify-full --sslrootcert CA.crt (or --sslrootcert-secret NAME[/KEY]); the certificate must name {}",
        t.server_name
    );
    match (t.in_use, t.verified) {
        (true, Verified::ChainAndName) => r.pass(
            "tls",
            "-",
            format!(
                "TLS in use ({}, sslmode {}): the server's certificate is verified, chain and name {}",
                t.protocol.as_deref().unwrap_or("?"),
                t.sslmode,
                t.server_name
            ),
        ),
        (true, v) => {
            let what = if v == Verified::Chain {
                "its chain is verified, its name is not"
            } else {
                "its certificate is not verified"
            };
            let msg = format!(
                "TLS in use ({}, sslmode {}): {what}",
                t.protocol.as_deref().unwrap_or("?"),
                t.sslmode
            );
            if exposed {
                r.add("tls", "-", Status::Warn, msg, Some(verify_fix));
            } else {
                r.pass("tls", "-", format!("{msg} ({path_note})"));
            }
        }
        (false, _) => {
            let msg = format!(
                "no TLS to PostgreSQL (sslmode {}{})",
                t.sslmode,
                if t.sslmode == uis_core::tls::SslMode::Disable {
                    ""
                } else {
                    "; the server offers none or refused it"
                }
            );
            if exposed {
                r.add(
                    "tls",
                    "-",
                    Status::Warn,
                    msg,
                    Some(format!(
                        "turn on ssl in the server and connect with --sslmode require, or better {verify_fix}"
                    )),
                );
            } else {
                r.pass(
                    "tls",
                    "-",
                    format!("{msg}; {path_note}"),
                );
            }
        }
    }
}

/// The `topology` check: which of UIS's topologies serves the database
/// (pass), and what differs there, from `primary` ([`primary_pod`], no read
/// of its own); a warning when the pod cannot be read. Returns the topology
/// for the checks that word themselves by it.
fn topology_check(
    session: &Session,
    primary: Option<&Result<uis_kube::locate::Chosen, Failure>>,
    r: &mut Report,
) -> Option<topology::Topology> {
    use topology::Topology;
    match topology::detect(&session.locator, primary) {
        Ok(t) => {
            let message = match &t {
                Topology::InCluster { pod, statefulset } => format!(
                    "{}: PostgreSQL runs in the cluster, pod {pod} of StatefulSet {statefulset}",
                    t.name()
                ),
                Topology::Proxied { pod, deployment } => format!(
                    "{}: pod {pod} of Deployment {deployment} forwards port 5432 to a PostgreSQL outside the cluster (UIS external-services.yaml); its first container has psql but no server, and the admin need not be a superuser there",
                    t.name()
                ),
                Topology::Direct { address } => {
                    format!("{}: {address} (--direct), no pod involved", t.name())
                }
                Topology::Other { pod, owner } => format!(
                    "{}: pod {pod} ({owner}) is neither UIS's StatefulSet nor its proxy Deployment",
                    t.name()
                ),
            };
            r.pass("topology", "-", message);
            Some(t)
        }
        Err(f) => {
            r.add(
                "topology",
                "-",
                Status::Warn,
                format!("cannot tell the topology: {}", f.detail),
                f.hint,
            );
            None
        }
    }
}
