//! The checks of a deployed PostgREST (F5, F8-F11): its `PGRST_DB_URI`, the
//! Deployment's bindings and rollout, the anon role, no privileged API
//! role ([`crate::roles::privileged`]), RLS policy roles, role
//! names shared with other apps, the JWT secret, and a fresh anon token
//! verified with the secret the pods receive through their env bindings.

use super::{POSTGREST_CHECKS, Report, Status};
use crate::pg::provision;
use crate::session::Session;
use k8s_openapi::api::apps::v1::Deployment;
use uis_core::Failure;
use uis_core::app::quote_ident;
use uis_core::output::unix_now;
use uis_kube::store::{self, AppRecord};
use uis_postgrest::{self as pgrst, jwt};

/// Runs the PostgREST checks after the database checks passed far enough
/// (`pg`: a superuser connection to `postgres`); every one is `skip` when
/// PostgREST is not deployed.
pub(super) fn checks(
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
    // An immutable Secret refuses every change to its values, so a fix
    // that rotates what it holds must recreate it first ([`writing_secret`]).
    let live_secret =
        session.block_on(cluster.get_opt::<k8s_openapi::api::core::v1::Secret>(ns, &name))?;
    let immutable = live_secret
        .as_ref()
        .and_then(|s| s.immutable)
        .unwrap_or(false);
    // The suite reads PGRST_DB_URI without a trailing line break, but
    // PostgREST's libpq takes it into the database name.
    let uri_line_break = live_secret
        .as_ref()
        .and_then(|s| s.data.as_ref()?.get(pgrst::KEY_DB_URI))
        .is_some_and(|v| v.0.ends_with(b"\n") || v.0.ends_with(b"\r"));
    let immutable_note = if immutable {
        format!(
            "; Secret {ns}/{name} is immutable (`immutable: true`), so a rotation must recreate it first"
        )
    } else {
        String::new()
    };
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
    if uri_line_break {
        r.fail(
            "db-uri",
            "F9",
            format!(
                "Secret {ns}/{name} key PGRST_DB_URI ends with a line break: PostgREST's libpq reads it as part of the database name, so PostgREST cannot connect{immutable_note}"
            ),
            writing_secret(immutable, ns, &name, format!("uis postgrest deploy {app}")),
        );
    } else if url_safe && logs_in {
        r.pass(
            "db-uri",
            "F9",
            format!("PGRST_DB_URI parses and {} logs in", config.authenticator),
        );
    } else {
        // A URI that does not parse has no password to judge.
        let why = match (parsed.is_ok(), url_safe, logs_in) {
            (false, _, _) => "PGRST_DB_URI does not parse as a connection URI".to_string(),
            (true, false, _) => "PGRST_DB_URI's password has characters that are not URL-safe (PostgREST misreads + / : @ in a URI)".to_string(),
            _ => format!("{} cannot log in with the password in PGRST_DB_URI", config.authenticator),
        };
        r.fail(
            "db-uri",
            "F9",
            format!("{why}{immutable_note}"),
            writing_secret(
                immutable,
                ns,
                &name,
                format!("uis postgrest deploy {app} --rotate-password"),
            ),
        );
    }
    // F10: every PGRST_* key is bound from the Secret.
    let deployment = session.block_on(cluster.get_opt::<Deployment>(ns, &name))?;
    // The first container's env, read once for this check and anon-token's.
    let pod = deployment.as_ref().map(PodEnv::of);
    match &pod {
        None => r.fail(
            "jwt-binding",
            "F10",
            format!("Deployment {ns}/{name} does not exist"),
            format!("uis postgrest deploy {app}"),
        ),
        Some(pod) => {
            let bound = |key: &str| {
                pod.env.iter().any(|e| {
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
    let anon_trimmed = anon.trim_end_matches(['\n', '\r']);
    match anon_ok {
        // PostgREST takes the value as it is (`SET ROLE "anon\n"`).
        None if anon_trimmed.len() != anon.len() => r.fail(
            "anon-role",
            "F8",
            format!(
                "Secret {ns}/{name} key PGRST_DB_ANON_ROLE ends with a line break: PostgREST looks for a role {anon:?}, which does not exist, and answers anonymous requests with 401{immutable_note}"
            ),
            writing_secret(immutable, ns, &name, format!("uis postgrest deploy {app}")),
        ),
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
    // API roles are never privileged, whoever wired them (docs/security.md).
    let mut appdb = session.connect_admin(&config.database, "uis-db-doctor")?;
    let ctx = crate::roles::ApiContext {
        app_owner: &rec.owner,
        database: &config.database,
        schemas: &config.schemas,
    };
    let authenticated = rec.roles.get("authenticated").cloned();
    let mut findings = Vec::new();
    for (flag, role) in [
        ("--anon-role", Some(&anon)),
        ("--authenticated-role", authenticated.as_ref()),
        ("--authenticator", Some(&config.authenticator)),
    ] {
        let Some(role) = role.filter(|r| !r.is_empty()) else {
            continue;
        };
        for p in crate::roles::privileged(&mut appdb, role, &ctx)? {
            // The authenticator reaches anon's and authenticated's
            // privileges through its grants of them: said once, for them.
            let via_api_role = p.path[1..]
                .iter()
                .any(|r| r == &anon || Some(r) == authenticated.as_ref());
            if !via_api_role {
                findings.push((flag, p));
            }
        }
    }
    if findings.is_empty() {
        r.pass(
            "api-roles",
            "-",
            format!(
                "no PostgREST role ({}, {anon}{}) is privileged or a member of a privileged role",
                config.authenticator,
                authenticated
                    .as_deref()
                    .map(|a| format!(", {a}"))
                    .unwrap_or_default()
            ),
        );
    } else {
        r.fail(
            "api-roles",
            "-",
            format!(
                "PostgREST's roles must never be privileged, and every request runs as one of them: {}",
                findings
                    .iter()
                    .map(|(_, p)| format!("{} ({} rule)", p.describe(), p.rule.name()))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            findings
                .iter()
                .map(|(flag, p)| p.fix(flag, app))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
                .join("; "),
        );
    }
    // F8: RLS policies name roles PostgREST will actually use.
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
    let shared_roles: Vec<String> =
        crate::roles::shared_with(&others, app, &[&config.authenticator, &anon])
            .iter()
            .map(|s| format!("{} (also app {})", s.role, s.other_app))
            .collect();
    if shared_roles.is_empty() {
        r.pass("shared-roles", "F8", "no role is shared with another app");
    } else {
        r.add("shared-roles", "F8", Status::Warn, format!("roles are cluster-wide and shared: {}", shared_roles.join(", ")), Some("give each app its own role names, e.g. the defaults APP_authenticator / APP_web_anon".into()));
    }
    // The JWT settings PostgREST runs with: the Secret's, overridden by
    // `pgrst.*` settings on the authenticator role (in-database config).
    let db_rows = if pgrst::JwtConfig::db_config_enabled(&config.settings) {
        crate::postgrest_state::db_settings(&mut appdb, &config.authenticator)?
    } else {
        Vec::new()
    };
    let jwt_config = pgrst::JwtConfig::resolve(&config.settings, &db_rows);
    match jwt_config.check() {
        Ok((keys, path)) => {
            let what = match (&jwt_config.secret, keys.form) {
                (Some(s), jwt::SecretForm::Plain) => format!("a plain secret of {} bytes (PostgREST needs 32+)", s.len()),
                _ => keys.describe(),
            };
            r.pass(
                "jwt-secret",
                "F10",
                format!("the JWT secret is {what}; role claim key {path}"),
            );
        }
        Err(e) => r.fail(
            "jwt-secret",
            "F10",
            format!("PostgREST refuses to start with these JWT settings: {}{immutable_note}", e.message),
            match e.code {
                "jwt-role-claim-key" => "set PGRST_JWT_ROLE_CLAIM_KEY (or pgrst.jwt_role_claim_key) to a path like .role".to_string(),
                "jwt-aud" => writing_secret(immutable, ns, &name, format!("uis postgrest deploy {app} --jwt-aud VALUE  (a string, or a URI when it has ':')")),
                _ => writing_secret(immutable, ns, &name, format!("uis postgrest deploy {app} --rotate-jwt-secret")),
            },
        ),
    }
    // In-database settings that differ from the Secret: PostgREST uses
    // them; anything that reads the Secret (an app's .env) does not.
    let differ: Vec<&(String, String)> = db_rows
        .iter()
        .filter(|(k, v)| config.settings.get(&format!("PGRST_{}", k.to_uppercase())) != Some(v))
        .collect();
    if differ.is_empty() {
        r.pass(
            "jwt-db-config",
            "F10",
            if db_rows.is_empty() {
                format!(
                    "no pgrst.* setting on role {} overrides Secret {ns}/{name}",
                    config.authenticator
                )
            } else {
                format!(
                    "the pgrst.* settings on role {} equal Secret {ns}/{name}'s",
                    config.authenticator
                )
            },
        );
    } else {
        let names: Vec<String> = differ.iter().map(|(k, _)| format!("pgrst.{k}")).collect();
        let secret_differs = differ.iter().any(|(k, _)| k.starts_with("jwt_secret"));
        let detail = format!(
            "PostgREST takes {} from role {} (ALTER ROLE ... SET), not from Secret {ns}/{name}{}; uis jwt mint, --verify and uis db psql --jwt follow the database",
            names.join(", "),
            config.authenticator,
            if secret_differs {
                ": tokens signed with the Secret's PGRST_JWT_SECRET (e.g. JWT_SECRET in an app's .env) are refused"
            } else {
                ""
            },
        );
        let fix = format!(
            "{} then NOTIFY pgrst, 'reload config';  (or ALTER ROLE ... IN DATABASE {} RESET ...)",
            differ
                .iter()
                .map(|(k, _)| format!(
                    "ALTER ROLE {} RESET pgrst.{k};",
                    quote_ident(&config.authenticator)
                ))
                .collect::<Vec<_>>()
                .join(" "),
            quote_ident(&config.database),
        );
        if secret_differs {
            r.fail("jwt-db-config", "F10", detail, fix);
        } else {
            r.add("jwt-db-config", "F10", Status::Warn, detail, Some(fix));
        }
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
    // A token as `uis jwt mint` signs it (with the Secret's
    // PGRST_JWT_SECRET) verifies with the secret and audience exactly as
    // the Deployment's pods receive them through their env bindings:
    // whatever Secret, key or literal the pod spec names (the jwt-binding
    // check only asks whether the binding is the suite's own).
    let resolved = match &pod {
        None => Err("the Deployment does not exist, so no pod receives a secret".to_string()),
        Some(pod) => {
            let secret = pod.resolve(session, &cluster, ns, pgrst::KEY_JWT_SECRET)?;
            // The other JWT settings as the pods receive them.
            let mut pod_env = std::collections::BTreeMap::new();
            for key in [
                pgrst::KEY_JWT_AUD,
                pgrst::KEY_JWT_SECRET_IS_BASE64,
                pgrst::KEY_JWT_ROLE_CLAIM_KEY,
                pgrst::KEY_DB_ANON_ROLE,
            ] {
                if let Some((v, _)) = pod.resolve(session, &cluster, ns, key)? {
                    pod_env.insert(key.to_string(), v);
                }
            }
            match secret {
                Some((value, from)) => {
                    pod_env.insert(pgrst::KEY_JWT_SECRET.to_string(), value);
                    Ok((pod_env, from))
                }
                None => Err(format!(
                    "the pods of Deployment {ns}/{name} receive no {} (PostgREST answers every token with 500 PGRST300)",
                    pgrst::KEY_JWT_SECRET
                )),
            }
        }
    };
    let now = unix_now();
    let spec = jwt::MintSpec {
        role: jwt_config.anon_role.clone().unwrap_or(anon.clone()),
        exp: Some(std::time::Duration::from_secs(60)),
        aud: jwt_config.aud.clone(),
        ..Default::default()
    };
    let verdict = resolved.and_then(|(pod_env, from)| {
        // What the pods run with: their env, overridden by the database.
        let pod_jwt = pgrst::JwtConfig::resolve(&pod_env, &db_rows);
        let from = if jwt_config.from_db.iter().any(|k| k.starts_with("pgrst.jwt_secret")) {
            format!("pgrst.jwt_secret on role {}", config.authenticator)
        } else {
            from
        };
        let mint = || -> Result<String, jwt::JwtError> {
            let (keys, path) = jwt_config.check()?;
            let mut claims = jwt::claims(&spec, now);
            path.place(&mut claims, &spec.role)
                .map_err(|m| jwt::JwtError { code: "jwt-role-claim-key", message: m })?;
            jwt::mint_with(&keys, None, &claims)
        };
        let token = match mint() {
            Ok(t) => t,
            // A public-key secret: only the holder of the private key mints.
            Err(e) if e.code == jwt::NEEDS_KEY => return Ok(None),
            Err(e) => return Err(format!("cannot mint a token as `uis jwt mint` does: {e}")),
        };
        pod_jwt
            .check()
            .and_then(|(keys, path)| {
                let claims = jwt::verify_with(&keys, &token, pod_jwt.aud.as_deref(), now)?;
                jwt::request_role(&claims, &path, pod_jwt.anon_role.as_deref())
                    .map_err(|e| e.postgrest_error())
            })
            .map(|_| Some(from.clone()))
            .map_err(|e| {
                format!(
                    "a token signed as `uis jwt mint` signs it is refused with the secret the pods receive ({from}): {e}"
                )
            })
    });
    let verdict = match verdict {
        Ok(Some(from)) => Ok(from),
        Ok(None) => {
            r.skip(
                "anon-token",
                "F11",
                "the JWT secret holds public keys only: a test token needs the private key (`uis jwt mint APP --key-file`)",
            );
            return Ok(());
        }
        Err(e) => Err(e),
    };
    match verdict {
        Ok(from) => r.pass(
            "anon-token",
            "F11",
            format!(
                "a freshly minted anon token verifies with the secret the pods receive ({from})"
            ),
        ),
        Err(why) => r.fail(
            "anon-token",
            "F11",
            why,
            format!("uis postgrest deploy {app}"),
        ),
    }
    Ok(())
}

/// The env of a Deployment's first container, as its pods receive it.
struct PodEnv {
    env: Vec<k8s_openapi::api::core::v1::EnvVar>,
    env_from: Vec<k8s_openapi::api::core::v1::EnvFromSource>,
}

impl PodEnv {
    fn of(d: &Deployment) -> PodEnv {
        let c = d
            .spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .and_then(|s| s.containers.first());
        PodEnv {
            env: c.and_then(|c| c.env.clone()).unwrap_or_default(),
            env_from: c.and_then(|c| c.env_from.clone()).unwrap_or_default(),
        }
    }

    /// The value of `var` in the pods and where it comes from, as the
    /// kubelet resolves it (Kubernetes docs, "Define Environment Variables
    /// for a Container"): the last `env` entry of that name (a literal
    /// `value`, or `valueFrom.secretKeyRef`), else the last `envFrom`
    /// Secret (with its prefix) that has the key. `None` when unset.
    ///
    /// Errors: phase `cluster` when a named Secret cannot be read.
    fn resolve(
        &self,
        session: &Session,
        cluster: &uis_kube::Cluster,
        ns: &str,
        var: &str,
    ) -> Result<Option<(String, String)>, Failure> {
        let read = |secret: &str, key: &str| -> Result<Option<String>, Failure> {
            let s = session
                .block_on(cluster.get_opt::<k8s_openapi::api::core::v1::Secret>(ns, secret))?;
            Ok(s.and_then(|s| s.data).and_then(|d| {
                d.get(key)
                    .map(|v| String::from_utf8_lossy(&v.0).into_owned())
            }))
        };
        if let Some(e) = self.env.iter().rev().find(|e| e.name == var) {
            if let Some(v) = &e.value {
                return Ok(Some((v.clone(), format!("a literal value of {var}"))));
            }
            if let Some(r) = e
                .value_from
                .as_ref()
                .and_then(|v| v.secret_key_ref.as_ref())
            {
                return Ok(read(&r.name, &r.key)?
                    .map(|v| (v, format!("Secret {ns}/{} key {}", r.name, r.key))));
            }
            return Ok(None);
        }
        for src in self.env_from.iter().rev() {
            let Some(r) = &src.secret_ref else { continue };
            let prefix = src.prefix.as_deref().unwrap_or("");
            let Some(key) = var.strip_prefix(prefix) else {
                continue;
            };
            if let Some(v) = read(&r.name, key)? {
                return Ok(Some((
                    v,
                    format!("Secret {ns}/{} key {key} (envFrom)", r.name),
                )));
            }
        }
        Ok(None)
    }
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

/// `cmd`, a command that writes new values into Secret `ns/name`, as a fix
/// that works: the API server refuses any change to the values of an
/// immutable Secret (`immutable: true`), and the mark cannot be taken off,
/// so the fix first recreates the Secret without it, keeping its values
/// ([`uis_kube::cluster::recreate_secret_command`]), then runs `cmd`.
pub(super) fn writing_secret(immutable: bool, ns: &str, name: &str, cmd: String) -> String {
    if immutable {
        format!(
            "{} && {cmd}",
            uis_kube::cluster::recreate_secret_command(ns, name)
        )
    } else {
        cmd
    }
}
