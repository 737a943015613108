//! `uis-jwt-mint`: HS256 tokens signed with the app's deployed PostgREST
//! secret (friction F11, seed item B.4): the anonymous role, the
//! authenticated "staff" role with its capabilities read from the app's
//! `capabilities` table, or any role; `--verify` checks a token exactly as
//! PostgREST would; `--write-env` wires an app's `.env` in one step.
//!
//! The secret is read from the cluster (or `--secret-file`), never from
//! argv, and never reaches stderr.

use clap::{Parser, ValueEnum};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use uis_cli::{ClusterArgs, LocatorArgs};
use uis_ops::Failure;
use uis_ops::app::{quote_ident, validate_app};
use uis_ops::error::Phase;
use uis_ops::jwt::{self, MintSpec};
use uis_ops::output::{self, note};
use uis_ops::postgrest as pgrst;
use uis_ops::session::Session;

/// Mint a PostgREST JWT for an app's role, verify one, or write an app's .env.
///
/// Signs HS256 with PGRST_JWT_SECRET from Secret APP-postgrest in namespace
/// postgrest. `--role anon` and `--role authenticated` mean the app's
/// configured anonymous and authenticated roles (e.g. railway_web_anon, or
/// anon when the customer chose that); any other role is taken literally.
/// Tokens for the authenticated role carry a `capabilities` array: every row
/// of `<schema>.capabilities` (for each exposed schema), then
/// `auth.capabilities`, unless --capabilities picks some.
#[derive(Parser, Debug)]
#[command(name = "uis-jwt-mint", version, after_help = EXAMPLES)]
pub struct Args {
    /// The app; read from piped JSON when left out
    pub app: Option<String>,
    /// The role claim: anon, authenticated, or a role name
    #[arg(long, value_name = "ROLE", value_parser = uis_cli::role_name, required_unless_present_any = ["write_env", "verify"])]
    pub role: Option<String>,
    /// Only these capabilities (checked against the capabilities table)
    #[arg(
        long,
        value_name = "A,B",
        value_delimiter = ',',
        conflicts_with = "no_capabilities"
    )]
    pub capabilities: Vec<String>,
    /// No capabilities claim, even for the authenticated role
    #[arg(long)]
    pub no_capabilities: bool,
    /// Where capabilities live: SCHEMA.TABLE or SCHEMA.TABLE.COLUMN
    #[arg(long, value_name = "SCHEMA.TABLE[.COLUMN]")]
    pub capabilities_from: Option<String>,
    /// An extra claim, its value as JSON (`--claim 'tenant="acme"'`, `--claim level=3`)
    #[arg(long, value_name = "KEY=JSON")]
    pub claim: Vec<String>,
    /// Lifetime: 15m, 12h, 30d, 10y or never (default: 10y for anon, 1d for other roles, 30d for the staff token of --write-env)
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub exp: Option<String>,
    /// The aud claim (default: the deployment's PGRST_JWT_AUD, when set)
    #[arg(long, value_name = "AUD")]
    pub aud: Option<String>,
    /// The sub claim
    #[arg(long, value_name = "SUB")]
    pub sub: Option<String>,
    /// Output: the token alone, JSON with token and claims, or NAME=token
    #[arg(long, value_enum, default_value = "token")]
    pub format: Format,
    /// Variable name for --format env (default: POSTGREST_ANON_JWT, POSTGREST_STAFF_JWT, POSTGREST_<ROLE>_JWT)
    #[arg(long, value_name = "NAME")]
    pub env_name: Option<String>,
    /// Sign with the secret in this file instead of the cluster's (offline; no role checks)
    #[arg(long, value_name = "PATH")]
    pub secret_file: Option<PathBuf>,
    /// Set POSTGREST_URL, JWT_SECRET, POSTGREST_ANON_JWT and POSTGREST_STAFF_JWT in this .env file, keeping every other line
    #[arg(long, value_name = "PATH", conflicts_with_all = ["role", "verify", "format"])]
    pub write_env: Option<PathBuf>,
    /// Verify a token (argument, or - / nothing for stdin) as PostgREST would; print its claims
    #[arg(long, value_name = "TOKEN", num_args = 0..=1, default_missing_value = "-", conflicts_with = "role")]
    pub verify: Option<String>,
    #[command(flatten)]
    pub cluster_args: ClusterArgs,
    #[command(flatten)]
    pub locator: LocatorArgs,
}

/// `--format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Token,
    Json,
    Env,
}

const EXAMPLES: &str = "Examples:
  uis-jwt-mint railway --role anon
  uis-jwt-mint railway --role authenticated                          # all capabilities
  uis-jwt-mint railway --role authenticated --capabilities registrations:read --exp 12h
  uis-jwt-mint railway --write-env .env
  uis-jwt-mint railway --verify \"$TOKEN\"";

/// The clap definition, for completions, man pages and the CLI reference.
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

/// Parses the process arguments and runs.
pub fn main() -> ExitCode {
    let args = Args::parse();
    let json_mode = args.format == Format::Json
        || args.verify.is_some()
        || args.write_env.is_some()
        || !output::stdout_is_terminal();
    uis_cli::run_main(json_mode, || run(args))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The deployed configuration, or the offline stand-in from --secret-file.
struct Target {
    app: String,
    config: Option<pgrst::Config>,
    secret: String,
    authenticated: String,
}

fn run(mut args: Args) -> anyhow::Result<i32> {
    if args.app.is_none() {
        // `--verify -` reads the token from stdin: then stdin carries no defaults.
        let defaults = if args.verify.as_deref() == Some("-") {
            None
        } else {
            uis_cli::stdin_defaults()?
        };
        args.app = uis_cli::default_str(&defaults, "app");
    }
    let Some(app) = args.app.clone() else {
        return Err(Failure::usage("give APP, e.g. `uis-jwt-mint railway --role anon`").into());
    };
    validate_app(&app)?;
    let exp = match &args.exp {
        Some(e) => Some(
            uis_cli::jwt_flags::parse_duration(e)
                .map_err(|m| Failure::usage(format!("invalid --exp: {m}")))?,
        ),
        None => None,
    };
    let mut extra = Vec::new();
    for c in &args.claim {
        extra.push(
            uis_cli::jwt_flags::parse_claim_arg(c)
                .map_err(|m| Failure::usage(format!("invalid --claim: {m}")))?,
        );
    }
    if let Some(aud) = &args.aud
        && aud.is_empty()
    {
        return Err(Failure::usage("--aud is empty")
            .hint("give the audience PostgREST expects (its PGRST_JWT_AUD), or leave --aud out")
            .into());
    }
    // Claims that fight the flags are refused before the cluster is asked
    // anything (checked again below, once the deployed audience is known).
    jwt::validate_extra(&MintSpec {
        aud: args.aud.clone(),
        sub: args.sub.clone(),
        capabilities: (!args.capabilities.is_empty()).then(|| args.capabilities.clone()),
        extra: extra.clone(),
        ..MintSpec::default()
    })
    .map_err(|c| uis_cli::jwt_flags::claim_conflict(&c))?;

    let mut session = Session::new(args.cluster_args.config(), args.locator.locator()?)?;
    let target = if let Some(path) = &args.secret_file {
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
        Target {
            app: app.clone(),
            config: None,
            secret,
            authenticated: "authenticated".into(),
        }
    } else {
        let cluster = session.cluster()?;
        let config = session.block_on(uis_ops::postgrest_state::require_config(&cluster, &app))?;
        let rec = session.app_opt(&app)?;
        let authenticated = uis_ops::store::pick_role(&None, rec.as_ref(), &app, "authenticated");
        Target {
            app: app.clone(),
            secret: config.jwt_secret.clone(),
            config: Some(config),
            authenticated,
        }
    };
    jwt::check_secret(&target.secret).map_err(|e| {
        Failure::new(
            Phase::Jwt,
            format!("the JWT secret of {app:?} is refused: {}", e.message),
        )
        .hint(format!(
            "issue a new one: `uis postgrest deploy {app} --rotate-jwt-secret`"
        ))
    })?;

    if let Some(token) = &args.verify {
        return verify(&mut session, &target, token);
    }
    if let Some(path) = &args.write_env {
        return write_env(&mut session, &target, path, exp, &args, extra);
    }
    let role_arg = args.role.clone().expect("clap requires --role here");
    let (minted, claims, role) =
        mint_for(&mut session, &target, &role_arg, exp, &args, extra, None)?;
    let env_name = args
        .env_name
        .clone()
        .unwrap_or_else(|| default_env_name(&role_arg, &role, &target));
    let text = match args.format {
        Format::Token => format!("{minted}\n"),
        Format::Json => format!(
            "{}\n",
            serde_json::json!({"token": minted, "claims": claims, "app": app, "role": role})
        ),
        Format::Env => format!("{env_name}={minted}\n"),
    };
    output::print(&text)?;
    Ok(0)
}

fn default_env_name(role_arg: &str, role: &str, target: &Target) -> String {
    let anon = target
        .config
        .as_ref()
        .map(|c| c.anon_role.as_str())
        .unwrap_or("anon");
    if role_arg == "anon" || role == anon {
        "POSTGREST_ANON_JWT".into()
    } else if role_arg == "authenticated" || role == target.authenticated {
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

/// Mints one token; returns (token, claims, resolved role).
fn mint_for(
    session: &mut Session,
    target: &Target,
    role_arg: &str,
    exp: Option<Option<Duration>>,
    args: &Args,
    extra: Vec<(String, serde_json::Value)>,
    default_exp: Option<Duration>,
) -> Result<(String, serde_json::Value, String), Failure> {
    let role = match (role_arg, &target.config) {
        ("anon", Some(c)) => c.anon_role.clone(),
        ("authenticated", Some(_)) => target.authenticated.clone(),
        (r, _) => r.to_string(),
    };
    let is_anon = target.config.as_ref().is_some_and(|c| c.anon_role == role) || role_arg == "anon";
    let is_staff = role == target.authenticated;
    let mut capabilities = None;
    if let Some(config) = &target.config {
        let mut pg = admin_db(session, config)?;
        check_role(&mut pg, &config.authenticator, &role, &target.app)?;
        if is_staff && !args.no_capabilities {
            let table = find_capabilities(&mut pg, config, args.capabilities_from.as_deref())?;
            capabilities = match (table, args.capabilities.is_empty()) {
                (Some((qualified, all)), true) => {
                    note(format!(
                        "uis: capabilities from {qualified}: {}",
                        all.join(", ")
                    ));
                    Some(all)
                }
                (Some((qualified, all)), false) => {
                    let unknown: Vec<&String> = args
                        .capabilities
                        .iter()
                        .filter(|c| !all.contains(c))
                        .collect();
                    if !unknown.is_empty() {
                        return Err(Failure::usage(format!(
                            "unknown capabilit{} {} (not in {qualified}); valid: {}",
                            if unknown.len() == 1 { "y" } else { "ies" },
                            unknown
                                .iter()
                                .map(|u| format!("{u:?}"))
                                .collect::<Vec<_>>()
                                .join(", "),
                            all.join(", ")
                        )));
                    }
                    Some(args.capabilities.clone())
                }
                (None, true) => {
                    note(format!(
                        "uis: no capabilities table ({}auth.capabilities): the token has no capabilities claim",
                        config
                            .schemas
                            .iter()
                            .map(|s| format!("{s}.capabilities, "))
                            .collect::<String>()
                    ));
                    None
                }
                (None, false) => {
                    note(
                        "uis: no capabilities table to check --capabilities against; using them as given",
                    );
                    Some(args.capabilities.clone())
                }
            };
        }
    } else if !args.capabilities.is_empty() {
        capabilities = Some(args.capabilities.clone());
    }
    let exp = exp.unwrap_or_else(|| {
        default_exp.or(Some(if is_anon {
            Duration::from_secs(10 * 365 * 86_400)
        } else {
            Duration::from_secs(86_400)
        }))
    });
    let spec = MintSpec {
        role: role.clone(),
        exp,
        aud: args
            .aud
            .clone()
            .or_else(|| target.config.as_ref().and_then(|c| c.jwt_aud.clone())),
        sub: args.sub.clone(),
        capabilities,
        extra,
    };
    jwt::validate_extra(&spec).map_err(|c| uis_cli::jwt_flags::claim_conflict(&c))?;
    let claims = jwt::claims(&spec, now());
    let token =
        jwt::mint(&target.secret, &claims).map_err(|e| Failure::new(Phase::Jwt, e.to_string()))?;
    Ok((token, claims, role))
}

fn admin_db(session: &mut Session, config: &pgrst::Config) -> Result<postgres::Client, Failure> {
    session.connect_admin(&config.database, "uis-jwt-mint")
}

/// PostgREST runs `SET ROLE` as the authenticator: the role must exist and
/// be granted to it.
fn check_role(
    pg: &mut postgres::Client,
    authenticator: &str,
    role: &str,
    app: &str,
) -> Result<(), Failure> {
    let exists = pg
        .query_opt("select 1 from pg_roles where rolname = $1", &[&role])?
        .is_some();
    if !exists {
        return Err(Failure::new(Phase::Role, format!("role {role:?} does not exist: PostgREST would answer 401 (SQLSTATE 22023)"))
            .hint(format!("create it in your DDL, or deploy with its name: `uis postgrest deploy {app} --anon-role ... --authenticated-role ...`")));
    }
    let granted: bool = pg
        .query_one(
            "select coalesce(pg_has_role($1, $2, 'MEMBER'), false)",
            &[&authenticator, &role],
        )?
        .get(0);
    if !granted {
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

/// The capabilities table and all its names: `--capabilities-from`, else
/// `<schema>.capabilities` for each exposed schema, then `auth.capabilities`.
/// The column is the one named, else `name`, else the single text primary key.
fn find_capabilities(
    pg: &mut postgres::Client,
    config: &pgrst::Config,
    from: Option<&str>,
) -> Result<Option<(String, Vec<String>)>, Failure> {
    let candidates: Vec<(String, String, Option<String>)> = match from {
        Some(f) => {
            let parts: Vec<&str> = f.split('.').collect();
            match parts.as_slice() {
                [s, t] => vec![(s.to_string(), t.to_string(), None)],
                [s, t, c] => vec![(s.to_string(), t.to_string(), Some(c.to_string()))],
                _ => {
                    return Err(Failure::usage(format!(
                        "invalid --capabilities-from {f:?}: expected SCHEMA.TABLE or SCHEMA.TABLE.COLUMN, e.g. auth.capabilities.name"
                    )));
                }
            }
        }
        None => {
            let mut v: Vec<(String, String, Option<String>)> = config
                .schemas
                .iter()
                .map(|s| (s.clone(), "capabilities".to_string(), None))
                .collect();
            if !config.schemas.iter().any(|s| s == "auth") {
                v.push(("auth".into(), "capabilities".into(), None));
            }
            v
        }
    };
    for (schema, table, column) in candidates {
        let oid: Option<u32> = pg
            .query_opt(
                "select c.oid from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2 and c.relkind in ('r','v','m','p','f')",
                &[&schema, &table],
            )?
            .map(|r| r.get(0));
        let Some(oid) = oid else {
            if from.is_some() {
                return Err(Failure::new(
                    Phase::Capabilities,
                    format!("table {schema}.{table} does not exist"),
                ));
            }
            continue;
        };
        let column = match column {
            Some(c) => c,
            None => {
                let has_name = pg
                    .query_opt("select 1 from pg_attribute where attrelid = $1 and attname = 'name' and not attisdropped", &[&oid])?
                    .is_some();
                if has_name {
                    "name".to_string()
                } else {
                    let pk: Vec<String> = pg
                        .query(
                            "select a.attname::text from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
                              where i.indrelid = $1 and i.indisprimary
                                and format_type(a.atttypid, null) in ('text', 'character varying', 'citext')",
                            &[&oid],
                        )?
                        .iter()
                        .map(|r| r.get(0))
                        .collect();
                    match pk.as_slice() {
                        [one] => one.clone(),
                        _ => return Err(Failure::new(
                            Phase::Capabilities,
                            format!("{schema}.{table} has no column `name` and no single text primary key"),
                        )
                        .hint(format!("name the column: --capabilities-from {schema}.{table}.COLUMN"))),
                    }
                }
            }
        };
        let sql = format!(
            "select {c}::text from {s}.{t} where {c} is not null order by 1",
            c = quote_ident(&column),
            s = quote_ident(&schema),
            t = quote_ident(&table)
        );
        let names: Vec<String> = pg
            .query(sql.as_str(), &[])?
            .iter()
            .map(|r| r.get(0))
            .collect();
        return Ok(Some((format!("{schema}.{table}.{column}"), names)));
    }
    Ok(None)
}

fn verify(session: &mut Session, target: &Target, token_arg: &str) -> anyhow::Result<i32> {
    let token = if token_arg == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        s.trim().to_string()
    } else {
        token_arg.trim().to_string()
    };
    let aud = target.config.as_ref().and_then(|c| c.jwt_aud.clone());
    let claims = jwt::verify(&target.secret, &token, aud.as_deref(), now()).map_err(|e| {
        Failure::new(Phase::Verify, format!("{} ({})", e.message, e.code))
            .hint("mint a new token: `uis jwt mint APP --role ROLE`")
    })?;
    if let Some(config) = &target.config {
        let role = claims
            .get("role")
            .and_then(|r| r.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| config.anon_role.clone());
        let mut pg = admin_db(session, config)?;
        check_role(&mut pg, &config.authenticator, &role, &target.app)?;
    }
    output::print_json(
        &serde_json::json!({"status": "valid", "app": target.app, "claims": claims}),
    )?;
    Ok(0)
}

fn write_env(
    session: &mut Session,
    target: &Target,
    path: &std::path::Path,
    exp: Option<Option<Duration>>,
    args: &Args,
    extra: Vec<(String, serde_json::Value)>,
) -> anyhow::Result<i32> {
    let Some(config) = &target.config else {
        return Err(Failure::usage("--write-env needs the cluster (it reads the API URL and the roles): leave out --secret-file").into());
    };
    let (anon, _, _) = mint_for(session, target, "anon", exp, args, extra.clone(), None)?;
    let (staff, _, _) = mint_for(
        session,
        target,
        "authenticated",
        exp,
        args,
        extra,
        Some(Duration::from_secs(30 * 86_400)),
    )?;
    let url =
        public_url(session, &target.app)?.unwrap_or_else(|| pgrst::in_cluster_url(&target.app));
    let pairs = [
        ("POSTGREST_URL", url.as_str()),
        ("JWT_SECRET", config.jwt_secret.as_str()),
        ("POSTGREST_ANON_JWT", anon.as_str()),
        ("POSTGREST_STAFF_JWT", staff.as_str()),
    ];
    let changed = uis_ops::dotenv::set_keys(path, &pairs).map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::InvalidData {
            format!("close the quote in {}, then run again", path.display())
        } else {
            "give a file in an existing directory, e.g. `--write-env .env`".to_string()
        };
        Failure::new(
            Phase::Write,
            format!("cannot write {}: {e}", path.display()),
        )
        .hint(hint)
    })?;
    note(format!(
        "uis: {}: {}",
        path.display(),
        if changed.is_empty() {
            "nothing changed".to_string()
        } else {
            format!("set {}", changed.join(", "))
        }
    ));
    output::print_json(&serde_json::json!({
        "status": "ok", "app": target.app, "file": path.display().to_string(),
        "changed": changed, "keys": pairs.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
    }))?;
    Ok(0)
}

/// `http://<prefix>.localhost` from the app's IngressRoute rule, when there is one.
fn public_url(session: &mut Session, app: &str) -> Result<Option<String>, Failure> {
    use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
    let cluster = session.cluster()?;
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("traefik.io", "v1alpha1", "IngressRoute"),
        "ingressroutes",
    );
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
                    format!(" ({})", uis_ops::error::one_line(&e)),
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
    let rule = obj.and_then(|o| {
        o.data["spec"]["routes"][0]["match"]
            .as_str()
            .map(str::to_string)
    });
    Ok(rule.and_then(|r| {
        let start = r.find('`')? + 1;
        let rest = &r[start..];
        let end = rest.find("\\.")?;
        Some(format!("http://{}.localhost", &rest[..end]))
    }))
}
