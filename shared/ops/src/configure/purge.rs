//! `uis-db-configure --purge`: drops the app's database and the roles the
//! suite created (members first), and deletes its stored credentials and
//! URL Secrets. Refused while its PostgREST Deployment still runs.

use super::{APPLICATION, Report};
use crate::pg::provision::{self, Step};
use crate::session::Session;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use postgres::Client;
use serde::Serialize;
use uis_core::Failure;
use uis_core::app::quote_ident;
use uis_core::error::Phase;
use uis_kube::store::{self, AppRecord};

/// The JSON of `--purge --dry-run`.
#[derive(Debug, Clone, Serialize)]
pub struct PurgeDryRun {
    pub status: &'static str,
    pub app: String,
    /// The statements that would run.
    pub sql: Vec<String>,
    /// `NS/NAME` of the Secrets that would be deleted.
    pub delete_secrets: Vec<String>,
}

/// The JSON of `--purge`.
#[derive(Debug, Clone, Serialize)]
pub struct Purged {
    pub status: &'static str,
    pub app: String,
    pub database: String,
    pub dropped_roles: Vec<String>,
    pub deleted_secrets: Vec<String>,
    pub changes: Vec<String>,
}

/// Plans and (unless `dry_run`) runs the purge over `pg` (the maintenance
/// database, the configure lock held). `planned_undeploy`: the plan follows
/// PostgREST's planned removal, so its Deployment does not stop it.
///
/// Errors: phase `store` when the app is not configured; `validate` while
/// PostgREST is deployed for it; `sql` for a failed statement; `cluster`
/// for the API.
pub fn run(
    session: &mut Session,
    pg: &mut Client,
    app: &str,
    existing: Option<AppRecord>,
    dry_run: bool,
    planned_undeploy: bool,
) -> Result<Report, Failure> {
    let Some(rec) = existing else {
        return Err(Failure::new(
            Phase::Store,
            format!("app {app:?} is not configured; nothing to purge"),
        ));
    };
    let cluster = session.cluster()?;
    let pgrst_ns = uis_postgrest::NAMESPACE;
    let deploy = uis_postgrest::name(app);
    if !planned_undeploy
        && session
            .block_on(cluster.get_opt::<Deployment>(pgrst_ns, &deploy))?
            .is_some()
    {
        return Err(Failure::new(
            Phase::Validate,
            format!("PostgREST Deployment {pgrst_ns}/{deploy} still uses the database (nothing was changed)"),
        )
        .hint(format!("remove it first: `uis postgrest deploy {app} --purge --yes`")));
    }
    let mut steps = Vec::new();
    if provision::database_owner(pg, &rec.database)?.is_some() {
        steps.push(Step::new(
            None,
            format!("DROP DATABASE {} WITH (FORCE)", quote_ident(&rec.database)),
        ));
    }
    let mut roles: Vec<String> = rec.created_roles.clone();
    if !roles.contains(&rec.owner) {
        roles.insert(0, rec.owner.clone());
    }
    // Members first, so a role is never dropped while granted to another.
    roles.reverse();
    for r in &roles {
        if provision::role(pg, r)?.is_some() {
            steps.push(provision::grant_to_drop_owned(None, r));
            steps.push(Step::new(None, format!("DROP OWNED BY {}", quote_ident(r))));
            steps.push(Step::new(None, format!("DROP ROLE {}", quote_ident(r))));
        }
    }
    let secrets: Vec<String> = std::iter::once(format!(
        "{}/{}",
        session.locator.namespace,
        store::secret_name(app)
    ))
    .chain(rec.url_secrets.iter().cloned())
    .collect();
    if dry_run {
        return Ok(Report::PurgeDryRun(PurgeDryRun {
            status: "dry_run",
            app: app.to_string(),
            sql: steps.iter().map(|s| s.shown.clone()).collect(),
            delete_secrets: secrets,
        }));
    }
    let mut connect = |d: &str| session.connect_admin(d, APPLICATION);
    provision::run(&steps, pg, &mut connect)?;
    for id in &secrets {
        if let Some((n, s)) = id.split_once('/') {
            session.block_on(cluster.delete::<Secret>(n, s))?;
        }
    }
    Ok(Report::Purged(Purged {
        status: "purged",
        app: app.to_string(),
        database: rec.database,
        dropped_roles: roles,
        deleted_secrets: secrets,
        changes: steps.iter().map(|s| s.shown.clone()).collect(),
    }))
}
