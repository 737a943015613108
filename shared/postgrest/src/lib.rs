//! PostgREST per app, as UIS renders it (docs/services/postgrest.md): the Secret
//! `<app>-postgrest`, and the Deployment, Service and Traefik IngressRoute of
//! the same name in namespace `postgrest`, labelled
//! `app.kubernetes.io/name=postgrest`, `app.kubernetes.io/instance=<app>`,
//! `app.kubernetes.io/managed-by=uis`.
//!
//! Unlike UIS today, EVERY `PGRST_*` setting lives in the Secret and reaches
//! the container through `secretKeyRef` (friction F10: `PGRST_JWT_SECRET`
//! was never bound), and the pod template carries a checksum of the Secret so
//! a changed Secret rolls the pods. Pure: builds objects, talks to nobody;
//! `uis_ops::postgrest_state` reads them back from the cluster.

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EnvVar, EnvVarSource, HTTPGetAction, PodSpec, PodTemplateSpec, Probe,
    ResourceRequirements, Secret, SecretKeySelector, Service, ServicePort, ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub mod jwt;

/// UIS's PostgREST image.
pub const DEFAULT_IMAGE: &str = "postgrest/postgrest:v14.10";
/// The namespace every app's PostgREST runs in.
pub const NAMESPACE: &str = "postgrest";
/// The pod-template annotation holding the Secret's checksum.
pub const CHECKSUM_ANNOTATION: &str = "uis.sovereignsky.no/secret-checksum";

/// The Secret's annotation holding what `uis postgrest deploy` was given
/// (JSON, `uis_ops::postgrest_state::DeployRecord`), so a re-run keeps it.
pub const DEPLOY_RECORD_ANNOTATION: &str = "uis.sovereignsky.no/deploy-options";

/// Keys of the Secret.
pub const KEY_DB_URI: &str = "PGRST_DB_URI";
pub const KEY_DB_SCHEMAS: &str = "PGRST_DB_SCHEMAS";
pub const KEY_DB_ANON_ROLE: &str = "PGRST_DB_ANON_ROLE";
pub const KEY_JWT_SECRET: &str = "PGRST_JWT_SECRET";
pub const KEY_JWT_AUD: &str = "PGRST_JWT_AUD";
pub const KEY_JWT_SECRET_IS_BASE64: &str = "PGRST_JWT_SECRET_IS_BASE64";
pub const KEY_JWT_ROLE_CLAIM_KEY: &str = "PGRST_JWT_ROLE_CLAIM_KEY";
pub const KEY_DB_CONFIG: &str = "PGRST_DB_CONFIG";
/// PostgREST's list of allowed CORS origins. Empty (or unset), any origin
/// is allowed: PostgREST v14.10 reads an empty value as unset (`Config.hs`
/// `optString`, `mfilter (/= "")`) and then hands wai-cors `corsOrigins =
/// Nothing` (`Cors.hs` line 33); a list is matched literally, so `*` in it
/// matches no browser's `Origin`.
pub const KEY_CORS_ORIGINS: &str = "PGRST_SERVER_CORS_ALLOWED_ORIGINS";
/// The public URL PostgREST puts in its OpenAPI output; in the Secret only
/// when [`openapi_server_proxy_uri`] derives one, bound `optional: true`.
pub const KEY_OPENAPI_PROXY_URI: &str = "PGRST_OPENAPI_SERVER_PROXY_URI";

/// The Secret and key where UIS keeps the installation's public domain.
pub const BASE_DOMAIN_SECRET: &str = "urbalurba-secrets";
/// See [`BASE_DOMAIN_SECRET`].
pub const BASE_DOMAIN_KEY: &str = "BASE_DOMAIN_CLOUDFLARE";

/// `https://<url-prefix>.<domain>`, as UIS's configure-postgrest.sh derives
/// `PGRST_OPENAPI_SERVER_PROXY_URI` from `BASE_DOMAIN_CLOUDFLARE`; `None`
/// for no domain, an empty one, UIS's placeholder `your-domain.com`,
/// `localhost` or any `*.localhost`.
pub fn openapi_server_proxy_uri(url_prefix: &str, base_domain: Option<&str>) -> Option<String> {
    let d = base_domain?
        .trim()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    if d.is_empty() || d == "your-domain.com" || d == "localhost" || d.ends_with(".localhost") {
        return None;
    }
    Some(format!("https://{url_prefix}.{d}"))
}

/// The pod-template annotations Prometheus scrapes PostgREST's admin port
/// by, as UIS's template sets them.
pub fn prometheus_annotations() -> [(&'static str, &'static str); 3] {
    [
        ("prometheus.io/scrape", "true"),
        ("prometheus.io/port", "3001"),
        ("prometheus.io/path", "/metrics"),
    ]
}

/// `<app>-postgrest`: the name of the Secret, Deployment, Service and
/// IngressRoute, with the app's Kubernetes form
/// ([`uis_core::app::kube_name`]: `Atlas_T` -> `atlas-t-postgrest`).
pub fn name(app: &str) -> String {
    format!("{}-postgrest", uis_core::app::kube_name(app))
}

/// The longest Kubernetes form of an app name that [`name`] fits a
/// Service name with (a DNS-1123 label: at most 63).
pub const MAX_KUBE_APP: usize = 63 - "-postgrest".len();

/// Checks that the app's objects can be named: the Service
/// `<kube name>-postgrest` is a DNS label of at most 63 characters.
///
/// Errors: phase `usage` (exit 2) naming the name and the limit.
pub fn check_app_name(app: &str) -> Result<(), uis_core::Failure> {
    let kube = uis_core::app::kube_name(app);
    if kube.len() > MAX_KUBE_APP {
        return Err(uis_core::Failure::usage(format!(
            "invalid APP {app:?}: PostgREST's Service would be named {:?}, longer than the 63 characters of a Kubernetes Service name; apps with PostgREST have at most {MAX_KUBE_APP} characters",
            name(app)
        )));
    }
    Ok(())
}

/// The labels of every object: the suite's own ([`uis_core::app::uis_labels`])
/// and `app.kubernetes.io/name: postgrest`; the selector uses name and
/// instance.
pub fn labels(app: &str) -> BTreeMap<String, String> {
    let mut l = uis_core::app::uis_labels(app);
    l.extend(selector(app));
    l
}

fn selector(app: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "app.kubernetes.io/name".to_string(),
            "postgrest".to_string(),
        ),
        (
            "app.kubernetes.io/instance".to_string(),
            uis_core::app::kube_name(app),
        ),
    ])
}

/// In-cluster URL of the API.
pub fn in_cluster_url(app: &str) -> String {
    format!("http://{}.{NAMESPACE}.svc.cluster.local:3000", name(app))
}

/// What goes into the Secret: every PostgREST setting.
pub fn settings(
    db_uri: &str,
    schemas: &[String],
    anon_role: &str,
    jwt_secret: &str,
    jwt_aud: Option<&str>,
) -> BTreeMap<String, String> {
    let mut m = BTreeMap::from([
        (KEY_DB_URI.to_string(), db_uri.to_string()),
        (KEY_DB_SCHEMAS.to_string(), schemas.join(",")),
        (KEY_DB_ANON_ROLE.to_string(), anon_role.to_string()),
        (KEY_JWT_SECRET.to_string(), jwt_secret.to_string()),
        ("PGRST_ADMIN_SERVER_PORT".to_string(), "3001".to_string()),
        ("PGRST_DB_POOL".to_string(), "10".to_string()),
    ]);
    if let Some(aud) = jwt_aud {
        m.insert(KEY_JWT_AUD.to_string(), aud.to_string());
    }
    m
}

/// Restricts CORS to `origins` (`--cors-origins`), or for `None` writes
/// [`KEY_CORS_ORIGINS`] empty, which is how PostgREST allows any origin (a
/// literal `*` would allow none). Written empty rather than left out so a
/// re-run replaces an older value in the Secret.
pub fn set_cors_origins(settings: &mut BTreeMap<String, String>, origins: Option<&[String]>) {
    let value = origins.map(|o| o.join(",")).unwrap_or_default();
    settings.insert(KEY_CORS_ORIGINS.to_string(), value);
}

/// Checks a `--url-prefix`: the first label of the API's host name
/// (`PREFIX.localhost`, the IngressRoute's `HostRegexp`), so a DNS label as
/// RFC 1123 and Kubernetes define it: 1-63 lowercase letters, digits and
/// '-', starting and ending with a letter or digit.
///
/// Errors: the rule, with a valid example derived from the value.
pub fn check_url_prefix(prefix: &str) -> Result<(), String> {
    let b = prefix.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-';
    if ok {
        return Ok(());
    }
    let mut example: String = prefix
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .trim_matches('-')
        .chars()
        .take(63)
        .collect();
    example = example.trim_end_matches('-').to_string();
    if example.is_empty() {
        example = "api-railway".into();
    }
    Err(format!(
        "{prefix:?} is not a DNS label: 1-63 lowercase letters, digits and '-', starting and ending with a letter or digit (RFC 1123), e.g. {example}"
    ))
}

/// Checks an `--image` reference: not empty, no whitespace or control
/// character (a container runtime refuses those; the Deployment would
/// never start).
///
/// Errors: the rule.
pub fn check_image(image: &str) -> Result<(), String> {
    if image.is_empty() || image.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "{image:?} is not an image reference: no spaces, not empty, e.g. {DEFAULT_IMAGE}"
        ));
    }
    Ok(())
}

/// Checks one `--cors-origins` entry: a browser `Origin` value,
/// `scheme://host[:port]`, which PostgREST compares byte for byte (so no
/// path, no trailing `/`, and no `*`: wildcards are not patterns there).
///
/// Errors: why the entry could never match a browser's `Origin` header.
pub fn check_cors_origin(origin: &str) -> Result<(), String> {
    if origin.contains('*') {
        return Err(format!(
            "{origin:?}: PostgREST compares origins literally, so `*` matches no browser; leave --cors-origins out to allow any origin"
        ));
    }
    let Some((scheme, rest)) = origin.split_once("://") else {
        return Err(format!(
            "{origin:?} is not an origin: use scheme://host[:port], e.g. https://app.example.com"
        ));
    };
    let scheme_ok = scheme
        .bytes()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(&c));
    let host_ok = !rest.is_empty()
        && rest
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-.:[]_".contains(&c));
    if !scheme_ok || !host_ok {
        return Err(format!(
            "{origin:?} is not an origin a browser sends: use scheme://host[:port] with no path or trailing '/', e.g. https://app.example.com"
        ));
    }
    Ok(())
}

/// PostgREST's in-database configuration names (v14.10
/// `Config/Database.hs` `dbSettingsNames`), without the `pgrst.` prefix.
pub const DB_SETTING_NAMES: [&str; 23] = [
    "db_aggregates_enabled",
    "db_anon_role",
    "db_pre_config",
    "db_extra_search_path",
    "db_max_rows",
    "db_plan_enabled",
    "db_pre_request",
    "db_prepared_statements",
    "db_root_spec",
    "db_schemas",
    "db_tx_end",
    "db_hoisted_tx_settings",
    "jwt_aud",
    "jwt_role_claim_key",
    "jwt_secret",
    "jwt_secret_is_base64",
    "jwt_cache_max_lifetime",
    "openapi_mode",
    "openapi_security_active",
    "openapi_server_proxy_uri",
    "server_cors_allowed_origins",
    "server_trace_header",
    "server_timing_enabled",
];

/// PostgREST's query for its in-database configuration (`queryDbSettings`,
/// without a `db-pre-config` function): `pgrst.*` settings of the role
/// named `$1` (the authenticator), set for every database (`ALTER ROLE r
/// SET`) or for the current one (`ALTER ROLE r IN DATABASE d SET`), the
/// per-database one winning. A setting on the database alone (`ALTER
/// DATABASE d SET`) is not read. `$2` is the list of `pgrst.` names.
pub const DB_SETTINGS_QUERY: &str = "WITH role_setting AS (
    SELECT setdatabase AS database, unnest(setconfig) AS setting
      FROM pg_catalog.pg_db_role_setting
     WHERE setrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1)
       AND setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = CURRENT_CATALOG))
  ), kv_settings AS (
    SELECT database,
           substr(setting, 1, strpos(setting, '=') - 1) AS k,
           substr(setting, strpos(setting, '=') + 1) AS v
      FROM role_setting
  )
  SELECT DISTINCT ON (key) replace(k, 'pgrst.', '') AS key, v AS value
    FROM kv_settings
   WHERE k = ANY($2) AND v IS NOT NULL
   ORDER BY key, database DESC NULLS LAST";

/// `$2` of [`DB_SETTINGS_QUERY`].
pub fn db_setting_params() -> Vec<String> {
    DB_SETTING_NAMES
        .iter()
        .map(|n| format!("pgrst.{n}"))
        .collect()
}

/// PostgREST's `coerceBool` for a setting's text: `true`/`TRUE`/`"true"`,
/// else a whole number greater than 0; `None` when neither.
pub fn pgrst_bool(text: &str) -> Option<bool> {
    let letters: String = text.chars().filter(|c| c.is_alphabetic()).collect();
    match letters.to_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => text.trim().parse::<i128>().ok().map(|n| n > 0),
    }
}

/// The JWT settings PostgREST runs with: each from the in-database
/// configuration when set there, else from the environment (the Secret),
/// as `overrideFromDbOrEnvironment` in PostgREST's `Config.hs`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JwtConfig {
    /// `jwt-secret` as written (before any base64 decoding).
    pub secret: Option<String>,
    pub secret_is_base64: bool,
    pub aud: Option<String>,
    /// `jwt-role-claim-key` as written (default `.role`).
    pub role_claim_key: String,
    pub anon_role: Option<String>,
    /// The settings that came from the database, as `pgrst.NAME`, sorted.
    pub from_db: Vec<String>,
}

impl JwtConfig {
    /// Resolves `env` (the `PGRST_*` values) and `db` (rows of
    /// [`DB_SETTINGS_QUERY`], names without the prefix). A setting present
    /// in the database wins even when empty (an empty string then counts
    /// as unset, as PostgREST's `optString`).
    pub fn resolve(env: &BTreeMap<String, String>, db: &[(String, String)]) -> JwtConfig {
        let mut from_db = Vec::new();
        let mut get = |name: &str| -> Option<String> {
            if let Some((_, v)) = db.iter().find(|(k, _)| k == name) {
                from_db.push(format!("pgrst.{name}"));
                return Some(v.clone());
            }
            env.get(&format!("PGRST_{}", name.to_uppercase())).cloned()
        };
        let nonempty = |v: Option<String>| v.filter(|s| !s.is_empty());
        let secret = nonempty(get("jwt_secret"));
        let secret_is_base64 = get("jwt_secret_is_base64")
            .and_then(|v| pgrst_bool(&v))
            .unwrap_or(false);
        let aud = nonempty(get("jwt_aud"));
        let role_claim_key = nonempty(get("jwt_role_claim_key")).unwrap_or_else(|| ".role".into());
        let anon_role = nonempty(get("db_anon_role"));
        from_db.sort();
        JwtConfig {
            secret,
            secret_is_base64,
            aud,
            role_claim_key,
            anon_role,
            from_db,
        }
    }

    /// Whether PostgREST reads the in-database configuration at all
    /// (`PGRST_DB_CONFIG`, default true).
    pub fn db_config_enabled(env: &BTreeMap<String, String>) -> bool {
        env.get(KEY_DB_CONFIG)
            .filter(|v| !v.is_empty())
            .and_then(|v| pgrst_bool(v))
            .unwrap_or(true)
    }

    /// The keys tokens are checked with.
    ///
    /// Errors: PostgREST's start-up message (code `jwt-secret`), or
    /// PGRST300 "Server lacks JWT secret" when none is configured.
    pub fn keys(&self) -> Result<jwt::KeySet, jwt::JwtError> {
        match &self.secret {
            Some(s) => jwt::key_set(s, self.secret_is_base64),
            None => Err(jwt::JwtError {
                code: "PGRST300",
                message: "Server lacks JWT secret".into(),
            }),
        }
    }

    /// The role claim key, parsed.
    ///
    /// Errors: PostgREST's start-up message (code `jwt-role-claim-key`).
    pub fn claim_path(&self) -> Result<jwt::claim_path::ClaimPath, jwt::JwtError> {
        jwt::claim_path::ClaimPath::parse(&self.role_claim_key).map_err(|m| jwt::JwtError {
            code: "jwt-role-claim-key",
            message: m,
        })
    }

    /// Every setting PostgREST would refuse to start with: the secret, the
    /// role claim key, the audience.
    ///
    /// Errors: the first such refusal.
    pub fn check(&self) -> Result<(jwt::KeySet, jwt::claim_path::ClaimPath), jwt::JwtError> {
        let keys = self.keys()?;
        let path = self.claim_path()?;
        if let Some(aud) = &self.aud
            && !jwt::uri::valid_jwt_aud(aud)
        {
            return Err(jwt::JwtError {
                code: "jwt-aud",
                message: jwt::uri::MSG_BAD_AUD.into(),
            });
        }
        Ok((keys, path))
    }
}

/// SHA-256 over the sorted settings: changes whenever any value changes.
pub fn checksum(settings: &BTreeMap<String, String>) -> String {
    let mut h = Sha256::new();
    for (k, v) in settings {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
        h.update([0]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The Secret `<app>-postgrest`.
pub fn secret(app: &str, settings: &BTreeMap<String, String>) -> Secret {
    let mut s = Secret {
        string_data: Some(settings.clone()),
        type_: Some("Opaque".into()),
        ..Default::default()
    };
    s.metadata.name = Some(name(app));
    s.metadata.labels = Some(labels(app));
    s
}

/// The Deployment, every env entry a `secretKeyRef` into the Secret.
pub fn deployment(
    app: &str,
    settings: &BTreeMap<String, String>,
    image: &str,
    replicas: i32,
) -> Deployment {
    // Every setting, and the OpenAPI proxy URI as UIS binds it: optional,
    // so the pod starts whether or not the Secret has it.
    let mut keys: Vec<(&str, bool)> = settings.keys().map(|k| (k.as_str(), false)).collect();
    if !settings.contains_key(KEY_OPENAPI_PROXY_URI) {
        keys.push((KEY_OPENAPI_PROXY_URI, true));
        keys.sort();
    }
    let env: Vec<EnvVar> = keys
        .into_iter()
        .map(|(k, optional)| EnvVar {
            name: k.to_string(),
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: name(app),
                    key: k.to_string(),
                    optional: Some(optional || k == KEY_OPENAPI_PROXY_URI),
                }),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    let probe = |path: &str| Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::Int(3001),
            ..Default::default()
        }),
        period_seconds: Some(10),
        ..Default::default()
    };
    let q = |s: &str| Quantity(s.to_string());
    let container = Container {
        name: "postgrest".into(),
        image: Some(image.into()),
        ports: Some(vec![
            ContainerPort {
                name: Some("api".into()),
                container_port: 3000,
                ..Default::default()
            },
            ContainerPort {
                name: Some("admin".into()),
                container_port: 3001,
                ..Default::default()
            },
        ]),
        env: Some(env),
        liveness_probe: Some(probe("/live")),
        readiness_probe: Some(probe("/ready")),
        resources: Some(ResourceRequirements {
            requests: Some(BTreeMap::from([
                ("cpu".into(), q("50m")),
                ("memory".into(), q("64Mi")),
            ])),
            limits: Some(BTreeMap::from([
                ("cpu".into(), q("500m")),
                ("memory".into(), q("256Mi")),
            ])),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut template = PodTemplateSpec {
        spec: Some(PodSpec {
            containers: vec![container],
            ..Default::default()
        }),
        ..Default::default()
    };
    template.metadata = Some(Default::default());
    if let Some(m) = template.metadata.as_mut() {
        m.labels = Some(labels(app));
        let mut a = BTreeMap::from([(CHECKSUM_ANNOTATION.to_string(), checksum(settings))]);
        for (k, v) in prometheus_annotations() {
            a.insert(k.to_string(), v.to_string());
        }
        m.annotations = Some(a);
    }
    let mut d = Deployment {
        spec: Some(DeploymentSpec {
            replicas: Some(replicas),
            selector: LabelSelector {
                match_labels: Some(selector(app)),
                ..Default::default()
            },
            template,
            ..Default::default()
        }),
        ..Default::default()
    };
    d.metadata.name = Some(name(app));
    d.metadata.labels = Some(labels(app));
    d
}

/// The ClusterIP Service: the API on port 3000 and, as UIS publishes it,
/// the admin server (`/live`, `/ready`, `/metrics`) on 3001. The
/// IngressRoute routes 3000 only.
pub fn service(app: &str) -> Service {
    let port = |n: &str, p: i32| ServicePort {
        name: Some(n.into()),
        port: p,
        target_port: Some(IntOrString::Int(p)),
        protocol: Some("TCP".into()),
        ..Default::default()
    };
    let mut s = Service {
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(selector(app)),
            ports: Some(vec![port("api", 3000), port("admin", 3001)]),
            ..Default::default()
        }),
        ..Default::default()
    };
    s.metadata.name = Some(name(app));
    s.metadata.labels = Some(labels(app));
    s
}

/// Traefik's IngressRoute custom resource (uis-conventions.md): API group,
/// version, kind and plural, the one definition every reader and writer of
/// the resource uses (`uis_kube`'s dynamic API is built from these).
pub const INGRESS_ROUTE_GROUP: &str = "traefik.io";
/// See [`INGRESS_ROUTE_GROUP`].
pub const INGRESS_ROUTE_VERSION: &str = "v1alpha1";
/// See [`INGRESS_ROUTE_GROUP`].
pub const INGRESS_ROUTE_KIND: &str = "IngressRoute";
/// See [`INGRESS_ROUTE_GROUP`].
pub const INGRESS_ROUTE_PLURAL: &str = "ingressroutes";

/// The IngressRoute annotation holding the host prefix of the public URL,
/// so readers take the prefix as data instead of parsing the match rule.
pub const URL_PREFIX_ANNOTATION: &str = "uis.sovereignsky.no/url-prefix";

/// The public route of an app's API: `http://<prefix>.localhost` through
/// Traefik, matched by ``HostRegexp(`<prefix>\..+`)``. The prefix is kept as
/// data (in the IngressRoute's [`URL_PREFIX_ANNOTATION`]); the match rule is
/// only ever built from it, never parsed back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicRoute {
    /// The host prefix, e.g. `api-railway` (`--url-prefix`; lowercase
    /// letters, digits and `-` when the suite writes it).
    pub prefix: String,
}

impl PublicRoute {
    /// The route `uis postgrest deploy` makes without `--url-prefix`:
    /// `api-<app>` (uis-conventions.md), with the app's Kubernetes form
    /// (a host name is lowercase: `Atlas_T` -> `api-atlas-t`).
    pub fn default_for(app: &str) -> PublicRoute {
        PublicRoute {
            prefix: format!("api-{}", uis_core::app::kube_name(app)),
        }
    }

    /// Traefik's match rule: any host whose first label is the prefix.
    pub fn match_rule(&self) -> String {
        format!("HostRegexp(`{}\\..+`)", self.prefix.replace('.', "\\."))
    }

    /// The URL on the developer's machine: `http://<prefix>.localhost`.
    pub fn url(&self) -> String {
        format!("http://{}.localhost", self.prefix)
    }

    /// The route of an IngressRoute object (as JSON) that [`ingress_route`]
    /// wrote for `app`: its [`URL_PREFIX_ANNOTATION`]; for an object written
    /// before the annotation existed, the default route when its first match
    /// rule is exactly the default's. `None` otherwise (not the suite's route).
    pub fn of_ingress_route(app: &str, object: &serde_json::Value) -> Option<PublicRoute> {
        if let Some(prefix) = object["metadata"]["annotations"][URL_PREFIX_ANNOTATION].as_str() {
            return Some(PublicRoute {
                prefix: prefix.to_string(),
            });
        }
        let default = PublicRoute::default_for(app);
        (object["spec"]["routes"][0]["match"].as_str() == Some(default.match_rule().as_str()))
            .then_some(default)
    }
}

/// The Traefik IngressRoute ([`INGRESS_ROUTE_GROUP`]/[`INGRESS_ROUTE_VERSION`]),
/// entryPoint `web`, ``HostRegexp(`<prefix>\..+`)`` to the Service's port
/// 3000; the prefix is also kept in the [`URL_PREFIX_ANNOTATION`].
pub fn ingress_route(app: &str, url_prefix: &str) -> serde_json::Value {
    let route = PublicRoute {
        prefix: url_prefix.to_string(),
    };
    serde_json::json!({
        "apiVersion": format!("{INGRESS_ROUTE_GROUP}/{INGRESS_ROUTE_VERSION}"),
        "kind": INGRESS_ROUTE_KIND,
        "metadata": {
            "name": name(app),
            "labels": labels(app),
            "annotations": {URL_PREFIX_ANNOTATION: url_prefix},
        },
        "spec": {
            "entryPoints": ["web"],
            "routes": [{
                "match": route.match_rule(),
                "kind": "Rule",
                "services": [{"name": name(app), "port": 3000}],
            }],
        },
    })
}

/// What a deployed app's PostgREST is configured with, read from its Secret.
#[derive(Debug, Clone)]
pub struct Config {
    pub app: String,
    pub jwt_secret: String,
    pub anon_role: String,
    pub jwt_aud: Option<String>,
    pub schemas: Vec<String>,
    /// The login role of `PGRST_DB_URI`.
    pub authenticator: String,
    pub authenticator_password: String,
    pub database: String,
    /// Every key of the Secret.
    pub settings: BTreeMap<String, String>,
}

impl Config {
    /// The configuration held in the Secret's `settings` (its decoded
    /// `data`): the JWT secret, anon role and audience, the schemas, and
    /// the authenticator's login taken apart from `PGRST_DB_URI`.
    pub fn from_settings(app: &str, settings: BTreeMap<String, String>) -> Config {
        let get = |k: &str| settings.get(k).cloned().unwrap_or_default();
        let uri = get(KEY_DB_URI);
        let parsed: Option<postgres::Config> = uri.parse().ok();
        let authenticator = parsed
            .as_ref()
            .and_then(|c| c.get_user().map(str::to_string))
            .unwrap_or_default();
        let authenticator_password = parsed
            .as_ref()
            .and_then(|c| {
                c.get_password()
                    .map(|p| String::from_utf8_lossy(p).into_owned())
            })
            .unwrap_or_default();
        let database = parsed
            .as_ref()
            .and_then(|c| c.get_dbname().map(str::to_string))
            .unwrap_or_default();
        Config {
            app: app.to_string(),
            jwt_secret: get(KEY_JWT_SECRET),
            anon_role: get(KEY_DB_ANON_ROLE),
            jwt_aud: settings.get(KEY_JWT_AUD).cloned().filter(|a| !a.is_empty()),
            schemas: get(KEY_DB_SCHEMAS)
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            authenticator,
            authenticator_password,
            database,
            settings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_take_the_apps_kubernetes_form() {
        assert_eq!(name("railway"), "railway-postgrest");
        assert_eq!(name("Atlas_T"), "atlas-t-postgrest");
        assert_eq!(PublicRoute::default_for("Atlas_T").prefix, "api-atlas-t");
        assert_eq!(labels("Atlas_T")["app.kubernetes.io/instance"], "atlas-t");
        assert!(check_app_name(&"a".repeat(MAX_KUBE_APP)).is_ok());
        let e = check_app_name(&"A".repeat(MAX_KUBE_APP + 1)).unwrap_err();
        assert_eq!(e.code, 2);
        assert!(e.detail.contains("63"), "{}", e.detail);
    }

    #[test]
    fn every_setting_is_bound_from_the_secret() {
        let s = settings(
            "postgresql://a:b@h:5432/d",
            &["railway".into(), "auth".into()],
            "anon",
            &"x".repeat(64),
            None,
        );
        let d = deployment("railway", &s, DEFAULT_IMAGE, 2);
        let v = serde_json::to_value(&d).unwrap();
        let env = v["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array()
            .unwrap();
        // Every setting, and the optional OpenAPI proxy URI.
        assert_eq!(env.len(), s.len() + 1);
        for e in env {
            assert!(e.get("value").is_none(), "no plain values: {e}");
            assert_eq!(e["valueFrom"]["secretKeyRef"]["name"], "railway-postgrest");
            let optional = e["name"] == KEY_OPENAPI_PROXY_URI;
            assert_eq!(e["valueFrom"]["secretKeyRef"]["optional"], optional, "{e}");
        }
        let a = &v["spec"]["template"]["metadata"]["annotations"];
        assert_eq!(a["prometheus.io/scrape"], "true");
        assert_eq!(a["prometheus.io/port"], "3001");
        assert_eq!(a["prometheus.io/path"], "/metrics");
        let svc = serde_json::to_value(service("railway")).unwrap();
        let ports: Vec<(String, i64)> = svc["spec"]["ports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap().to_string(),
                    p["port"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            ports,
            [("api".to_string(), 3000), ("admin".to_string(), 3001)]
        );
        let names: Vec<&str> = env.iter().map(|e| e["name"].as_str().unwrap()).collect();
        for k in [KEY_DB_URI, KEY_DB_SCHEMAS, KEY_DB_ANON_ROLE, KEY_JWT_SECRET] {
            assert!(names.contains(&k), "{k}");
        }
        assert_eq!(s[KEY_DB_SCHEMAS], "railway,auth");
    }

    #[test]
    fn openapi_proxy_uri_as_uis_derives_it() {
        let u = |d: Option<&str>| openapi_server_proxy_uri("api-railway", d);
        assert_eq!(
            u(Some("example.org")).as_deref(),
            Some("https://api-railway.example.org")
        );
        for none in [
            None,
            Some(""),
            Some("your-domain.com"),
            Some("localhost"),
            Some("dev.localhost"),
        ] {
            assert_eq!(u(none), None, "{none:?}");
        }
    }

    #[test]
    fn checksum_follows_every_value() {
        let a = settings("u", &["s".into()], "anon", "secret-1", None);
        let b = settings("u", &["s".into()], "anon", "secret-2", None);
        assert_ne!(checksum(&a), checksum(&b));
        assert_eq!(checksum(&a), checksum(&a.clone()));
    }

    #[test]
    fn ingress_route_matches_uis() {
        let r = ingress_route("railway", "api-railway");
        assert_eq!(
            r["spec"]["routes"][0]["match"],
            "HostRegexp(`api-railway\\..+`)"
        );
        assert_eq!(r["spec"]["entryPoints"][0], "web");
        assert_eq!(r["apiVersion"], "traefik.io/v1alpha1");
        assert_eq!(r["kind"], "IngressRoute");
    }

    #[test]
    fn the_public_route_is_read_as_data() {
        let custom = ingress_route("railway", "trains");
        assert_eq!(
            PublicRoute::of_ingress_route("railway", &custom).map(|r| r.url()),
            Some("http://trains.localhost".to_string())
        );
        // Written before the annotation: only the default rule is recognised.
        let mut legacy = ingress_route("railway", "api-railway");
        legacy["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("annotations");
        assert_eq!(
            PublicRoute::of_ingress_route("railway", &legacy),
            Some(PublicRoute::default_for("railway"))
        );
        legacy["spec"]["routes"][0]["match"] = "Host(`example.org`)".into();
        assert_eq!(PublicRoute::of_ingress_route("railway", &legacy), None);
    }
}
