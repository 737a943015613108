//! `uis-postgrest-deploy --undeploy` and `--purge`: deletes the Deployment,
//! Service and IngressRoute; `--purge` also the Secret and the roles the
//! suite created for PostgREST (one plan of [`Step`]s, one connection per
//! database), and forgets them in the store.

use super::{APPLICATION, Report};
use crate::pg::provision::{self, Step};
use crate::session::Session;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Secret, Service};
use kube::api::{Api, DynamicObject};
use serde::Serialize;
use uis_core::Failure;
use uis_core::app::{RoleKind, quote_ident};
use uis_kube::store::{self, AppRecord};

/// The JSON of `--undeploy --dry-run` / `--purge --dry-run`.
#[derive(Debug, Clone, Serialize)]
pub struct UndeployDryRun {
    pub status: &'static str,
    pub app: String,
    pub delete: Vec<String>,
    pub delete_secret: bool,
    pub sql: Vec<String>,
}

/// The JSON of `--undeploy` / `--purge`.
#[derive(Debug, Clone, Serialize)]
pub struct Undeployed {
    /// `undeployed` or `purged`.
    pub status: &'static str,
    pub app: String,
    /// `KIND/NAME` of what was deleted.
    pub deleted: Vec<String>,
    pub dropped_roles: Vec<String>,
}

/// Undeploys (and with `purge` drops the suite's PostgREST roles in the
/// app's and the maintenance database, deletes the Secret and updates the
/// store).
///
/// Errors: the API calls' (phase `cluster`); `sql` for a failed statement,
/// naming it; `connect` for PostgreSQL.
pub fn run(
    session: &mut Session,
    app: &str,
    purge: bool,
    dry_run: bool,
) -> Result<Report, Failure> {
    let cluster = session.cluster()?;
    let ns = uis_postgrest::NAMESPACE;
    let name = uis_postgrest::name(app);
    let rec: Option<AppRecord> = session.app_opt(app)?;
    let mut steps: Vec<Step> = Vec::new();
    let mut dropped = Vec::new();
    if purge && let Some(rec) = &rec {
        let ours: Vec<String> = RoleKind::POSTGREST
            .iter()
            .filter_map(|k| rec.roles.get(k.as_str()))
            .filter(|r| rec.created_roles.contains(r) && *r != &rec.owner)
            .cloned()
            .collect();
        for r in &ours {
            steps.push(provision::grant_to_drop_owned(None, r));
            let drop_owned = format!("DROP OWNED BY {}", quote_ident(r));
            steps.push(Step::new(Some(&rec.database), drop_owned.clone()));
            steps.push(Step::new(None, drop_owned));
        }
        for r in &ours {
            steps.push(Step::new(
                None,
                format!("DROP ROLE IF EXISTS {}", quote_ident(r)),
            ));
        }
        dropped = ours;
    }
    if dry_run {
        // Only what is there: a plan names what the run would delete.
        let mut delete = Vec::new();
        session.block_on(async {
            if cluster.get_opt::<Deployment>(ns, &name).await?.is_some() {
                delete.push(format!("deployment/{name}"));
            }
            if cluster.get_opt::<Service>(ns, &name).await?.is_some() {
                delete.push(format!("service/{name}"));
            }
            if super::objects::ingress_crd_exists(&cluster).await? {
                let api: Api<DynamicObject> = Api::namespaced_with(
                    cluster.client.clone(),
                    ns,
                    &super::objects::ingress_resource(),
                );
                if cluster
                    .call("reading the IngressRoute", api.get_opt(&name))
                    .await?
                    .is_some()
                {
                    delete.push(format!("ingressroute/{name}"));
                }
            }
            if purge && cluster.get_opt::<Secret>(ns, &name).await?.is_some() {
                delete.push(format!("secret/{name}"));
            }
            Ok::<(), Failure>(())
        })?;
        return Ok(Report::UndeployDryRun(UndeployDryRun {
            status: "dry_run",
            app: app.to_string(),
            delete,
            delete_secret: purge,
            sql: steps.iter().map(|s| s.shown.clone()).collect(),
        }));
    }
    let mut deleted = Vec::new();
    session.block_on(async {
        if cluster.delete::<Deployment>(ns, &name).await? {
            deleted.push(format!("deployment/{name}"));
        }
        if cluster.delete::<Service>(ns, &name).await? {
            deleted.push(format!("service/{name}"));
        }
        if super::objects::ingress_crd_exists(&cluster).await? {
            let api: Api<DynamicObject> = Api::namespaced_with(
                cluster.client.clone(),
                ns,
                &super::objects::ingress_resource(),
            );
            match api.delete(&name, &Default::default()).await {
                Ok(_) => deleted.push(format!("ingressroute/{name}")),
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(cluster.explain("deleting the IngressRoute", e)),
            }
        }
        if purge && cluster.delete::<Secret>(ns, &name).await? {
            deleted.push(format!("secret/{name}"));
        }
        Ok::<(), Failure>(())
    })?;
    if purge && let Some(mut rec) = rec {
        if !steps.is_empty() {
            let mut pg = session.connect_admin("postgres", APPLICATION)?;
            let mut connect = |d: &str| session.connect_admin(d, APPLICATION);
            provision::run(&steps, &mut pg, &mut connect)?;
        }
        for k in RoleKind::POSTGREST {
            rec.roles.remove(k.as_str());
        }
        rec.created_roles.retain(|r| !dropped.contains(r));
        rec.passwords.retain(|r, _| !dropped.contains(r));
        let ns_store = session.locator.namespace.clone();
        session.block_on(store::write(&cluster, &ns_store, &rec))?;
    }
    Ok(Report::Undeployed(Undeployed {
        status: if purge { "purged" } else { "undeployed" },
        app: app.to_string(),
        deleted,
        dropped_roles: dropped,
    }))
}
