//! `uis-jwt-mint`: tokens signed with an app's deployed PostgREST
//! secret (HS256 for a plain or base64 secret or an `oct` JWK; RS256,
//! ES256/ES384 or EdDSA with `--key-file` when the secret is a public JWK
//! or JWK set) (friction F11, seed item B.4): the anonymous role, the
//! authenticated "staff" role with its capabilities read from the app's
//! `capabilities` table ([`capabilities`]), or any role; [`verify`] checks a
//! token exactly as PostgREST would; [`write_env`] wires an app's `.env`.
//!
//! The secret is read from the cluster (or a file the caller names), never
//! from argv, and never reaches stderr. The token rules themselves are
//! [`uis_postgrest::jwt`] (pure); this module finds the secret, the roles and
//! the capabilities, and checks roles as PostgREST's `SET ROLE` would.

pub mod capabilities;

use crate::pg::provision;
use crate::session::Session;
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;
use uis_core::Failure;
use uis_core::app::quote_ident;
use uis_core::error::Phase;
use uis_core::output::{note, unix_now};
use uis_postgrest::jwt::claim_path::ClaimPath;
use uis_postgrest::jwt::{self, ClaimConflict, KeySet, MintSpec, SigningKey};
use uis_postgrest::{self as pgrst, JwtConfig, PublicRoute};

/// Why minting stopped: a [`Failure`], or an extra claim that fights the
/// token's named claims (the caller names its own flags in that message).
#[derive(Debug)]
pub enum MintError {
    Failure(Failure),
    Claim(ClaimConflict),
}

impl From<Failure> for MintError {
    fn from(f: Failure) -> MintError {
        MintError::Failure(f)
    }
}

impl From<postgres::Error> for MintError {
    fn from(e: postgres::Error) -> MintError {
        MintError::Failure(e.into())
    }
}

/// The role claim asked for: the app's configured anonymous or
/// authenticated role, or a role name taken literally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleClaim {
    /// `anon`: the deployment's `PGRST_DB_ANON_ROLE`.
    Anon,
    /// `authenticated`: the app's authenticated ("staff") role.
    Authenticated,
    /// Any other name, as given.
    Named(String),
}

impl RoleClaim {
    /// `anon` and `authenticated` are the app's roles of that kind; any
    /// other word is a role name.
    pub fn parse(role: &str) -> RoleClaim {
        match role {
            "anon" => RoleClaim::Anon,
            "authenticated" => RoleClaim::Authenticated,
            other => RoleClaim::Named(other.to_string()),
        }
    }
}

/// A token's lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lifetime {
    /// 10 years for the anonymous role, 1 day for others (30 days for the
    /// staff token of [`write_env`]).
    #[default]
    Default,
    /// No `exp` claim.
    Never,
    /// This long from now.
    For(Duration),
}

/// Which capabilities a staff token carries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CapabilityChoice {
    /// Every row of the capabilities table (none when there is no table).
    #[default]
    All,
    /// These, each checked against the table when there is one.
    Only(Vec<String>),
    /// No `capabilities` claim at all.
    Omit,
}

/// What every token of one run carries besides its role.
#[derive(Debug, Clone, Default)]
pub struct TokenOptions {
    pub lifetime: Lifetime,
    pub capabilities: CapabilityChoice,
    /// Where capabilities live: `SCHEMA.TABLE` or `SCHEMA.TABLE.COLUMN`
    /// (default: see [`capabilities::find`]).
    pub capabilities_from: Option<String>,
    /// The `aud` claim (default: the deployment's `PGRST_JWT_AUD`).
    pub aud: Option<String>,
    pub sub: Option<String>,
    /// Further claims in order, each a key and its JSON value.
    pub extra: Vec<(String, Value)>,
}

/// Where the signing secret comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// Secret `<app>-postgrest` in namespace `postgrest`, with the deployed
    /// configuration (roles are checked, capabilities read), and the
    /// `pgrst.*` settings on the authenticator role that PostgREST prefers.
    Cluster,
    /// This file (offline; no role checks), its trailing newlines removed;
    /// `base64` as PostgREST's `jwt-secret-is-base64`.
    File { path: PathBuf, base64: bool },
}

/// The deployed configuration, or the offline stand-in from a secret file.
pub struct Target {
    pub app: String,
    /// `None` offline.
    pub config: Option<pgrst::Config>,
    /// The JWT settings PostgREST runs with (Secret and in-database).
    pub jwt: JwtConfig,
    keys: KeySet,
    claim_path: ClaimPath,
    /// `--key-file`: the private key for a JWK/JWKS secret.
    signer: Option<SigningKey>,
    /// The app's authenticated role (`authenticated` offline).
    pub authenticated: String,
}

/// One minted token.
#[derive(Debug, Clone, Serialize)]
pub struct Minted {
    pub token: String,
    pub claims: Value,
    /// The role claim, resolved.
    pub role: String,
}

/// What [`write_env`] did to the file.
#[derive(Debug, Clone, Serialize)]
pub struct EnvWritten {
    /// The keys whose value changed (sorted), empty when none did.
    pub changed: Vec<String>,
    /// Every key written, in order.
    pub keys: Vec<&'static str>,
}

/// The signing keys and, from the cluster, the deployed configuration and
/// the app's authenticated role. `key_file` is the private key (PEM or
/// JWK) to sign with when the secret is a public JWK or JWK set.
///
/// Errors: phase `input` when the secret or key file cannot be read or the
/// key is unusable; `postgrest` when PostgREST is not deployed; `jwt` when
/// PostgREST would refuse the secret, role claim key or audience (rules:
/// [`JwtConfig::check`]); `cluster`/`store`/`connect`/`sql` for the rest.
pub fn target(
    session: &mut Session,
    app: &str,
    source: &SecretSource,
    key_file: Option<&Path>,
) -> Result<Target, Failure> {
    let (config, jwt, authenticated) = match source {
        SecretSource::File { path, base64 } => {
            let secret = std::fs::read_to_string(path)
                .map_err(|e| {
                    Failure::new(
                        Phase::Input,
                        format!("cannot read --secret-file {}: {e}", path.display()),
                    )
                    .hint("give the file that holds the JWT secret, or leave --secret-file out to read it from the cluster")
                })?
                .trim_end_matches(['\n', '\r'])
                .to_string();
            let jwt = JwtConfig {
                // An empty file is a secret that is too short, not none.
                secret: Some(secret),
                secret_is_base64: *base64,
                role_claim_key: ".role".into(),
                anon_role: Some("anon".into()),
                ..JwtConfig::default()
            };
            (None, jwt, "authenticated".to_string())
        }
        SecretSource::Cluster => {
            let cluster = session.cluster()?;
            let config = session.block_on(crate::postgrest_state::require_config(&cluster, app))?;
            let rec = session.app_opt(app)?;
            let authenticated =
                uis_kube::store::pick_role(&None, rec.as_ref(), app, "authenticated");
            let mut appdb = session.connect_admin(&config.database, "uis-jwt-mint")?;
            let jwt = crate::postgrest_state::jwt_config(&mut appdb, &config)?;
            if !jwt.from_db.is_empty() {
                note(format!(
                    "uis: {app}'s PostgREST takes {} from the database (set on role {}), not from its Secret",
                    jwt.from_db.join(", "),
                    config.authenticator
                ));
            }
            (Some(config), jwt, authenticated)
        }
    };
    let (keys, claim_path) = jwt.check().map_err(|e| {
        let fix = match e.code {
            "jwt-role-claim-key" => format!("fix PGRST_JWT_ROLE_CLAIM_KEY (or pgrst.jwt_role_claim_key) of {app}, e.g. `.role`"),
            "jwt-aud" => format!("fix the audience: `uis postgrest deploy {app} --jwt-aud VALUE` (a string, or a URI when it has ':')"),
            _ => format!("issue a new secret: `uis postgrest deploy {app} --rotate-jwt-secret`"),
        };
        Failure::new(
            Phase::Jwt,
            format!("the JWT configuration of {app:?} is refused by PostgREST: {}", e.message),
        )
        .hint(fix)
    })?;
    let signer = match key_file {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Failure::new(
                    Phase::Input,
                    format!("cannot read --key-file {}: {e}", path.display()),
                )
            })?;
            Some(SigningKey::parse(&text).map_err(|why| {
                Failure::new(
                    Phase::Input,
                    format!("--key-file {}: {why}", path.display()),
                )
                .hint("give the private key (PEM: -----BEGIN PRIVATE KEY-----, or a JWK with \"d\") whose public half is in the deployed secret")
            })?)
        }
    };
    Ok(Target {
        app: app.to_string(),
        config,
        jwt,
        keys,
        claim_path,
        signer,
        authenticated,
    })
}

impl Target {
    /// The role claim `asked` resolves to: offline, the word itself.
    pub fn role(&self, asked: &RoleClaim) -> String {
        match (asked, &self.config) {
            (RoleClaim::Anon, Some(c)) => self.jwt.anon_role.clone().unwrap_or(c.anon_role.clone()),
            (RoleClaim::Authenticated, Some(_)) => self.authenticated.clone(),
            (RoleClaim::Anon, None) => "anon".into(),
            (RoleClaim::Authenticated, None) => "authenticated".into(),
            (RoleClaim::Named(r), _) => r.clone(),
        }
    }

    /// The `.env` variable for a token of `role` (asked as `asked`):
    /// `POSTGREST_ANON_JWT`, `POSTGREST_STAFF_JWT`, else
    /// `POSTGREST_<ROLE>_JWT` with every other character than ASCII letters
    /// and digits as `_`.
    pub fn env_name(&self, asked: &RoleClaim, role: &str) -> String {
        let anon = match &self.config {
            Some(_) => self.jwt.anon_role.as_deref().unwrap_or_default(),
            None => "anon",
        };
        if *asked == RoleClaim::Anon || role == anon {
            "POSTGREST_ANON_JWT".into()
        } else if *asked == RoleClaim::Authenticated || role == self.authenticated {
            "POSTGREST_STAFF_JWT".into()
        } else {
            let up: String = role
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_uppercase()
                    } else {
                        '_'
                    }
                })
                .collect();
            format!("POSTGREST_{up}_JWT")
        }
    }
}

/// Mints one token for `asked`. With the cluster's configuration the role
/// must exist and be granted to the authenticator ([`check_role`]), and a
/// staff token gets its capabilities ([`capabilities::find`]); notes on
/// stderr say where they came from.
///
/// Errors: [`MintError::Claim`] for an extra claim that fights the named
/// ones (checked once the deployed audience and the capabilities are
/// known); phase `role`, `capabilities` or `usage` (unknown capabilities,
/// a malformed table name); `connect`/`sql` for the database.
pub fn mint(
    session: &mut Session,
    target: &Target,
    asked: &RoleClaim,
    opts: &TokenOptions,
) -> Result<Minted, MintError> {
    mint_with_default(session, target, asked, opts, None)
}

fn mint_with_default(
    session: &mut Session,
    target: &Target,
    asked: &RoleClaim,
    opts: &TokenOptions,
    default_exp: Option<Duration>,
) -> Result<Minted, MintError> {
    let role = target.role(asked);
    let is_anon = (target.config.is_some() && target.jwt.anon_role.as_deref() == Some(&role))
        || *asked == RoleClaim::Anon;
    let is_staff = role == target.authenticated;
    let mut capabilities = None;
    if let Some(config) = &target.config {
        let mut pg = session.connect_admin(&config.database, "uis-jwt-mint")?;
        check_role(&mut pg, &config.authenticator, &role, &target.app)?;
        if is_staff && opts.capabilities != CapabilityChoice::Omit {
            capabilities = capabilities::choose(
                &mut pg,
                config,
                opts.capabilities_from.as_deref(),
                &opts.capabilities,
            )?;
        }
    } else if let CapabilityChoice::Only(given) = &opts.capabilities {
        capabilities = Some(given.clone());
    }
    let exp = match opts.lifetime {
        Lifetime::Never => None,
        Lifetime::For(d) => Some(d),
        Lifetime::Default => Some(default_exp.unwrap_or(if is_anon {
            Duration::from_secs(10 * 365 * 86_400)
        } else {
            Duration::from_secs(86_400)
        })),
    };
    let spec = MintSpec {
        role: role.clone(),
        exp,
        aud: opts.aud.clone().or_else(|| target.jwt.aud.clone()),
        sub: opts.sub.clone(),
        capabilities,
        extra: opts.extra.clone(),
    };
    jwt::validate_extra(&spec).map_err(MintError::Claim)?;
    let mut claims = jwt::claims(&spec, unix_now());
    // A configured role claim key (e.g. `.realm_access.roles[0]`) is where
    // PostgREST reads the role: put it there too.
    target.claim_path.place(&mut claims, &role).map_err(|why| {
        Failure::new(Phase::Jwt, why).hint(
            "mint with --claim to build the claim yourself, or use a role claim key like .role",
        )
    })?;
    let token = jwt::mint_with(&target.keys, target.signer.as_ref(), &claims).map_err(|e| {
        let f = Failure::new(Phase::Jwt, e.message.clone());
        if e.code == jwt::NEEDS_KEY {
            f.hint(format!(
                "uis jwt mint {} --role ROLE --key-file private.pem",
                target.app
            ))
        } else {
            f
        }
    })?;
    Ok(Minted {
        token,
        claims,
        role,
    })
}

/// PostgREST runs `SET ROLE` as the authenticator: `role` must exist and be
/// granted to `authenticator`.
///
/// Errors: phase `role` (with the GRANT that fixes it); `sql` when the
/// catalog cannot be read.
pub fn check_role(
    pg: &mut postgres::Client,
    authenticator: &str,
    role: &str,
    app: &str,
) -> Result<(), Failure> {
    if provision::role(pg, role)?.is_none() {
        return Err(Failure::new(Phase::Role, format!("role {role:?} does not exist: PostgREST would answer 401 (SQLSTATE 22023)"))
            .hint(format!("create it in your DDL, or deploy with its name: `uis postgrest deploy {app} --anon-role ... --authenticated-role ...`")));
    }
    if !provision::has_role(pg, authenticator, role)? {
        // Granting a privileged role to the authenticator would hand its
        // powers to anyone holding the JWT secret: never the fix to suggest.
        let powers: Vec<&str> = match pg.query_opt(
            "select rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication from pg_roles where rolname = $1",
            &[&role],
        )? {
            Some(r) => ["SUPERUSER", "CREATEROLE", "CREATEDB", "BYPASSRLS", "REPLICATION"]
                .into_iter()
                .enumerate()
                .filter(|(i, _)| r.get::<_, bool>(*i))
                .map(|(_, p)| p)
                .collect(),
            None => Vec::new(),
        };
        if !powers.is_empty() {
            return Err(Failure::new(
                Phase::Role,
                format!(
                    "role {role:?} is {}: a token for it would give anyone with the JWT secret those powers through the API, so the suite never mints one or grants it to the authenticator {authenticator:?}",
                    powers.join(", ")
                ),
            )
            .hint("mint for an API role: anon, authenticated, or a NOLOGIN role your DDL made for the API"));
        }
        let grant = format!(
            "GRANT {} TO {};",
            quote_ident(role),
            quote_ident(authenticator)
        );
        return Err(Failure::new(
            Phase::Role,
            format!("role {role:?} is not granted to the authenticator {authenticator:?}: PostgREST would answer \"permission denied to set role\" (SQLSTATE 42501); fix: {grant}"),
        )
        .hint(format!("uis db psql {app} --as admin -c '{grant}'")));
    }
    Ok(())
}

/// Verifies `token` as PostgREST would, with the settings it runs with
/// (secret in any form, audience, role claim key, anon role), and with the
/// cluster's configuration checks that its role can be become. Returns
/// its claims.
///
/// Errors: phase `verify` (PostgREST's message and code, also for a role
/// claim that is not a string); `role` as [`check_role`];
/// `connect`/`sql` for the database.
pub fn verify(session: &mut Session, target: &Target, token: &str) -> Result<Value, Failure> {
    let (claims, role) = verify_token(target, token)?;
    if let Some(config) = &target.config {
        let mut pg = session.connect_admin(&config.database, "uis-jwt-mint")?;
        check_role(&mut pg, &config.authenticator, &role, &target.app)?;
    }
    Ok(claims)
}

/// [`verify`] without the database: the signature, audience, expiry and
/// role claim as PostgREST checks them before `SET ROLE`. Returns the
/// claims and the role.
///
/// Errors: phase `verify` (PostgREST's message and code).
pub fn verify_token(target: &Target, token: &str) -> Result<(Value, String), Failure> {
    let claims = jwt::verify_with(&target.keys, token, target.jwt.aud.as_deref(), unix_now())
        .map_err(|e| {
            Failure::new(Phase::Verify, format!("{} ({})", e.message, e.code))
                .hint("mint a new token: `uis jwt mint APP --role ROLE`")
        })?;
    let role = jwt::request_role(&claims, &target.claim_path, target.jwt.anon_role.as_deref())
        .map_err(|e| {
            Failure::new(Phase::Verify, e.to_string()).hint(
                "the role claim must be a JSON string naming a role, e.g. {\"role\":\"web_anon\"}",
            )
        })?;
    Ok((claims, role))
}

/// Sets `POSTGREST_URL` (the public URL of the app's IngressRoute, else the
/// in-cluster URL), `JWT_SECRET`, `POSTGREST_ANON_JWT` and
/// `POSTGREST_STAFF_JWT` (30 days by default) in the `.env` file at `path`,
/// keeping every other line ([`uis_core::dotenv::set_keys`]).
///
/// Errors: phase `usage` offline (the URL and roles need the cluster);
/// those of [`mint`]; `write` when the file cannot be written or has an
/// unclosed quote.
pub fn write_env(
    session: &mut Session,
    target: &Target,
    path: &Path,
    opts: &TokenOptions,
) -> Result<EnvWritten, MintError> {
    let Some(config) = &target.config else {
        return Err(Failure::usage("--write-env needs the cluster (it reads the API URL and the roles): leave out --secret-file").into());
    };
    let anon = mint_with_default(session, target, &RoleClaim::Anon, opts, None)?;
    let staff = mint_with_default(
        session,
        target,
        &RoleClaim::Authenticated,
        opts,
        Some(Duration::from_secs(30 * 86_400)),
    )?;
    let url =
        public_url(session, &target.app)?.unwrap_or_else(|| pgrst::in_cluster_url(&target.app));
    let pairs = [
        ("POSTGREST_URL", url.as_str()),
        // The secret PostgREST runs with (pgrst.jwt_secret wins over the Secret's).
        (
            "JWT_SECRET",
            target
                .jwt
                .secret
                .as_deref()
                .unwrap_or(config.jwt_secret.as_str()),
        ),
        ("POSTGREST_ANON_JWT", anon.token.as_str()),
        ("POSTGREST_STAFF_JWT", staff.token.as_str()),
    ];
    // Where the file's readers already disagree, say so before the edit
    // (the edit keeps those lines as they are).
    if let Ok(text) = std::fs::read_to_string(path) {
        for d in uis_core::dotenv::disagreements(&text) {
            note(format!(
                "uis: warning: {}: {d}; the readers ({}) see different things there",
                path.display(),
                uis_core::dotenv::READERS
            ));
        }
    }
    let changed = uis_core::dotenv::set_keys(path, &pairs).map_err(|e| {
        let hint = match e.kind() {
            std::io::ErrorKind::InvalidData => {
                format!("close the quote in {}, then run again", path.display())
            }
            std::io::ErrorKind::InvalidInput => format!(
                "issue a secret without that character: `uis postgrest deploy {} --rotate-jwt-secret`",
                target.app
            ),
            _ => "give a file in an existing directory, e.g. `--write-env .env`".to_string(),
        };
        Failure::new(
            Phase::Write,
            format!("cannot write {}: {e}", path.display()),
        )
        .hint(hint)
    })?;
    Ok(EnvWritten {
        changed,
        keys: pairs.iter().map(|(k, _)| *k).collect(),
    })
}

/// The public URL of the app's IngressRoute ([`PublicRoute::url`]), when
/// there is one the suite wrote. A failed or unanswered read is a warning
/// on stderr, not an error (the in-cluster URL is written instead).
///
/// Errors: the cluster client's [`Failure`] when it cannot be made.
pub fn public_url(session: &mut Session, app: &str) -> Result<Option<String>, Failure> {
    use kube::api::{Api, DynamicObject};
    let cluster = session.cluster()?;
    let ar = crate::postgrest_state::ingress_resource();
    let api: Api<DynamicObject> =
        Api::namespaced_with(cluster.client.clone(), pgrst::NAMESPACE, &ar);
    let obj = match session.block_on(async {
        tokio::time::timeout(cluster.timeout, api.get_opt(&pgrst::name(app))).await
    }) {
        Ok(Ok(o)) => o,
        // No IngressRoute (or no such CRD) is Ok(None); anything else is said.
        failed => {
            let (what, why) = match failed {
                Ok(Err(e)) => (
                    "cannot read",
                    format!(" ({})", uis_core::error::one_line(&e)),
                ),
                _ => (
                    "no answer reading",
                    format!(" within {} s", cluster.timeout.as_secs()),
                ),
            };
            note(format!(
                "uis: warning: {what} IngressRoute {}/{}{why}; writing the in-cluster URL instead",
                pgrst::NAMESPACE,
                pgrst::name(app),
            ));
            None
        }
    };
    Ok(obj
        .and_then(|o| serde_json::to_value(o).ok())
        .and_then(|v| PublicRoute::of_ingress_route(app, &v))
        .map(|r| r.url()))
}
