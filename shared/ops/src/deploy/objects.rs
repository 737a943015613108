//! PostgREST's cluster objects: the Traefik IngressRoute (a CRD that may be
//! missing), the namespace, and whether applying the objects would change
//! them, told by a server-side-apply dry run (`dryRun=All`) compared with
//! what is stored.

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use serde_json::Value;
use uis_core::Failure;
use uis_core::output::note;
use uis_kube::Cluster;

pub use crate::postgrest_state::ingress_resource;

/// Whether the cluster serves IngressRoutes (the Traefik CRD is installed).
///
/// Errors: the discovery call's (phase `cluster`); a timeout is reported
/// as a 504.
pub async fn ingress_crd_exists(cluster: &Cluster) -> Result<bool, Failure> {
    match tokio::time::timeout(
        cluster.timeout,
        cluster
            .client
            .list_api_group_resources("traefik.io/v1alpha1"),
    )
    .await
    {
        Ok(Ok(list)) => Ok(list.resources.iter().any(|r| r.name == "ingressroutes")),
        Ok(Err(kube::Error::Api(s))) if s.code == 404 => Ok(false),
        Ok(Err(e)) => Err(cluster.explain("discovering traefik.io/v1alpha1", e)),
        Err(_) => Err(cluster.explain(
            "discovering traefik.io/v1alpha1",
            kube::Error::Api(Box::new(
                kube::core::Status::failure("timed out", "Timeout").with_code(504),
            )),
        )),
    }
}

/// Creates the namespace (labelled as the suite's) when missing.
///
/// Errors: the API calls' (phase `cluster`).
pub async fn ensure_namespace(cluster: &Cluster, ns: &str) -> Result<(), Failure> {
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(cluster.client.clone());
    if cluster
        .call(&format!("reading Namespace {ns}"), api.get_opt(ns))
        .await?
        .is_none()
    {
        let obj = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {"app.kubernetes.io/managed-by": "uis"}}});
        cluster
            .call(
                &format!("creating Namespace {ns}"),
                api.patch(ns, &PatchParams::apply("uis").force(), &Patch::Apply(obj)),
            )
            .await?;
        note(format!("uis: created namespace {ns}"));
    }
    Ok(())
}

/// Applies the IngressRoute (server-side, field manager `uis`, forced).
///
/// Errors: the API call's (phase `cluster`).
pub async fn apply_ingress(
    cluster: &Cluster,
    ns: &str,
    name: &str,
    ingress: &Value,
) -> Result<(), Failure> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(cluster.client.clone(), ns, &ingress_resource());
    cluster
        .call(
            &format!("applying IngressRoute {ns}/{name}"),
            api.patch(
                name,
                &PatchParams::apply("uis").force(),
                &Patch::Apply(ingress.clone()),
            ),
        )
        .await?;
    Ok(())
}

/// One object to apply, as JSON with `apiVersion` and `kind`.
pub struct Desired {
    pub resource: ApiResource,
    pub name: String,
    pub manifest: Value,
    /// The part that says whether it changed: `data` (Secret) or `spec`.
    pub field: &'static str,
}

impl Desired {
    /// `manifest` of a built-in kind (`v1`/`apps/v1`), compared on `field`.
    pub fn new(
        group: &str,
        version: &str,
        kind: &str,
        plural: &str,
        name: &str,
        mut manifest: Value,
        field: &'static str,
    ) -> Desired {
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let resource = ApiResource::from_gvk_with_plural(&gvk, plural);
        manifest["apiVersion"] = resource.api_version.clone().into();
        manifest["kind"] = kind.into();
        if let Some(meta) = manifest.get_mut("metadata").and_then(|m| m.as_object_mut()) {
            meta.remove("namespace");
        }
        Desired {
            resource,
            name: name.to_string(),
            manifest,
            field,
        }
    }
}

/// What applying `objects` would change, one line per field that differs
/// (`Deployment postgrest/x: spec.replicas 2 -> 3`; a Secret's keys by name
/// only, never a value), or `create KIND NS/NAME`; empty when nothing
/// would. Also whether every one of those writes would be accepted: each
/// is applied with `dryRun=All` (nothing is stored; authorization,
/// admission and validation run as for the real write), a missing one too
/// (it would be created). An existing object is compared with the server's
/// answer on its field and on its annotations; the server fills in its
/// defaults both times, so only real changes differ. Every object is read
/// and tried (no early return), so a run makes the same requests whatever
/// changed (deploy/rbac.yaml grants exactly these). Deploy calls it before
/// any change, in a namespace that exists, so a write the cluster refuses
/// (an immutable Secret, a 403, a webhook) stops the run before a password
/// changes.
///
/// Errors: the API calls' (phase `cluster`); a refused write as
/// [`uis_kube::Cluster::write_refused`] says it.
pub async fn changes(
    cluster: &Cluster,
    ns: &str,
    objects: &[Desired],
) -> Result<Vec<String>, Failure> {
    let mut out = Vec::new();
    for o in objects {
        let api: Api<DynamicObject> = Api::namespaced_with(cluster.client.clone(), ns, &o.resource);
        let kind = &o.resource.kind;
        let current = cluster
            .call(
                &format!("reading {kind} {ns}/{}", o.name),
                api.get_opt(&o.name),
            )
            .await?;
        let what = format!("applying {kind} {ns}/{} (dry run)", o.name);
        let would = match tokio::time::timeout(
            cluster.timeout,
            api.patch(
                &o.name,
                &PatchParams::apply("uis").force().dry_run(),
                &Patch::Apply(o.manifest.clone()),
            ),
        )
        .await
        {
            Ok(Ok(w)) => w,
            Ok(Err(e)) => {
                return Err(cluster.write_refused(kind, &o.resource.plural, ns, &o.name, &what, e));
            }
            Err(_) => return Err(cluster.timed_out(&what)),
        };
        let Some(current) = current else {
            out.push(format!("create {kind} {ns}/{}", o.name));
            continue;
        };
        // The annotations too: the Secret's holds the deploy record.
        let secret = kind == "Secret";
        let mut fields = Vec::new();
        let null = Value::Null;
        diff(
            o.field,
            current.data.get(o.field).unwrap_or(&null),
            would.data.get(o.field).unwrap_or(&null),
            secret,
            &mut fields,
        );
        let (a, b) = (
            serde_json::to_value(&current.metadata.annotations).unwrap_or_default(),
            serde_json::to_value(&would.metadata.annotations).unwrap_or_default(),
        );
        diff("metadata.annotations", &a, &b, true, &mut fields);
        for f in fields {
            out.push(format!("{kind} {ns}/{}: {f}", o.name));
        }
    }
    Ok(out)
}

/// The fields where `new` differs from `old`, as `path old -> new` for
/// short scalars, else `path` alone (always alone when `hide` says the
/// values may be secret). Lists of the same length compare item by item.
fn diff(path: &str, old: &Value, new: &Value, hide: bool, out: &mut Vec<String>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            let null = Value::Null;
            for k in keys {
                let p = format!("{path}.{k}");
                diff(
                    &p,
                    a.get(k).unwrap_or(&null),
                    b.get(k).unwrap_or(&null),
                    hide,
                    out,
                );
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff(&format!("{path}[{i}]"), x, y, hide, out);
            }
        }
        _ => {
            let shown = |v: &Value| match v {
                Value::Null => Some("(none)".to_string()),
                Value::Bool(_) | Value::Number(_) => Some(v.to_string()),
                Value::String(s) if s.len() <= 80 => Some(v.to_string()),
                _ => None,
            };
            match (hide, shown(old), shown(new)) {
                (false, Some(a), Some(b)) => out.push(format!("{path} {a} -> {b}")),
                _ => out.push(path.to_string()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::diff;
    use serde_json::json;

    #[test]
    fn diff_names_each_field_and_hides_secret_values() {
        let mut out = Vec::new();
        diff(
            "spec",
            &json!({"replicas": 2, "template": {"c": [{"image": "a"}, {"image": "b"}]}}),
            &json!({"replicas": 3, "template": {"c": [{"image": "a"}, {"image": "c"}]}}),
            false,
            &mut out,
        );
        assert_eq!(
            out,
            [
                "spec.replicas 2 -> 3",
                "spec.template.c[1].image \"b\" -> \"c\""
            ]
        );
        let mut out = Vec::new();
        diff(
            "data",
            &json!({"K": "c2VjcmV0", "L": "x"}),
            &json!({"K": "b3RoZXI=", "L": "x", "M": "y"}),
            true,
            &mut out,
        );
        assert_eq!(out, ["data.K", "data.M"]);
    }
}
