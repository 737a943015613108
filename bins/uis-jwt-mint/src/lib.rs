//! `uis-jwt-mint`: tokens signed with the app's deployed PostgREST
//! secret (or, for a JWK/JWKS secret, the private key of `--key-file`) (friction F11, seed item B.4): the anonymous role, the
//! authenticated "staff" role with its capabilities read from the app's
//! `capabilities` table, or any role; `--verify` checks a token exactly as
//! PostgREST would; `--write-env` wires an app's `.env` in one step.
//!
//! The secret is read from the cluster (or `--secret-file`), never from
//! argv, and never reaches stderr. The behaviour is [`uis_ops::mint`]; this
//! file turns the flags into its options and prints what it returns.

use clap::{Parser, ValueEnum};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use uis_cli::jwt_flags::{claim_conflict, parse_claim_arg, parse_duration};
use uis_cli::{ClusterArgs, LocatorArgs};
use uis_ops::Failure;
use uis_ops::app::validate_existing_app;
use uis_ops::mint::{
    self, CapabilityChoice, Lifetime, MintError, RoleClaim, SecretSource, TokenOptions,
};
use uis_ops::output::{self, note};
use uis_ops::postgrest::jwt::{self, MintSpec};
use uis_ops::session::Session;

/// Mint a PostgREST JWT for an app's role, verify one, or write an app's .env.
///
/// Signs with the JWT secret PostgREST runs with: PGRST_JWT_SECRET from
/// Secret APP-postgrest in namespace postgrest, unless a pgrst.jwt_secret
/// setting on the authenticator role overrides it (PostgREST's in-database
/// configuration; so do pgrst.jwt_aud, pgrst.jwt_role_claim_key,
/// pgrst.jwt_secret_is_base64 and pgrst.db_anon_role). A plain secret (32+
/// bytes), a base64 one (PGRST_JWT_SECRET_IS_BASE64) or an "oct" JWK signs
/// HS256. A JWK or JWK set of public keys (RSA, EC P-256/P-384, Ed25519)
/// cannot sign: give the private key with --key-file (RS256, ES256, ES384
/// or EdDSA). The role goes where PGRST_JWT_ROLE_CLAIM_KEY reads it.
/// `--role anon` and `--role authenticated` mean the app's
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
    /// Variable name for --format env (default: POSTGREST_ANON_JWT, POSTGREST_STAFF_JWT, POSTGREST_<ROLE>_JWT); not with --write-env, whose names are fixed
    #[arg(long, value_name = "NAME", conflicts_with = "write_env")]
    pub env_name: Option<String>,
    /// Sign with the secret in this file instead of the cluster's (offline; no role checks)
    #[arg(long, value_name = "PATH")]
    pub secret_file: Option<PathBuf>,
    /// The --secret-file holds base64, as PGRST_JWT_SECRET_IS_BASE64=true (the decoded bytes are the key)
    #[arg(long, requires = "secret_file")]
    pub secret_is_base64: bool,
    /// Sign with this private key (PEM or JWK): needed when the secret is a JWK or JWK set of public keys
    #[arg(long, value_name = "PATH")]
    pub key_file: Option<PathBuf>,
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
  uis-jwt-mint railway --verify \"$TOKEN\"
  uis-jwt-mint railway --role authenticated --key-file private.pem   # JWK/JWKS secret";

/// The clap definition, for completions, man pages and the CLI reference.
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

/// Parses the process arguments and runs.
pub fn main() -> ExitCode {
    uis_cli::parse_and_run(
        |args: &Args| {
            args.format == Format::Json || args.verify.is_some() || args.write_env.is_some()
        },
        |args, _| run(args),
    )
}

/// The flag-naming failure for an operation's error.
fn failure(e: MintError) -> Failure {
    match e {
        MintError::Failure(f) => f,
        MintError::Claim(c) => claim_conflict(&c),
    }
}

/// The options every token of this run shares, from the flags.
fn token_options(args: &Args) -> Result<TokenOptions, Failure> {
    let lifetime = match &args.exp {
        None => Lifetime::Default,
        Some(e) => {
            match parse_duration(e).map_err(|m| Failure::usage(format!("invalid --exp: {m}")))? {
                Some(d) => Lifetime::For(d),
                None => Lifetime::Never,
            }
        }
    };
    let mut extra = Vec::new();
    for c in &args.claim {
        extra
            .push(parse_claim_arg(c).map_err(|m| Failure::usage(format!("invalid --claim: {m}")))?);
    }
    let capabilities = if args.no_capabilities {
        CapabilityChoice::Omit
    } else if args.capabilities.is_empty() {
        CapabilityChoice::All
    } else {
        CapabilityChoice::Only(args.capabilities.clone())
    };
    Ok(TokenOptions {
        lifetime,
        capabilities,
        capabilities_from: args.capabilities_from.clone(),
        aud: args.aud.clone(),
        sub: args.sub.clone(),
        extra,
    })
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
    validate_existing_app(&app)?;
    let opts = token_options(&args)?;
    if let Some(aud) = &args.aud
        && aud.is_empty()
    {
        return Err(Failure::usage("--aud is empty")
            .hint("give the audience PostgREST expects (its PGRST_JWT_AUD), or leave --aud out")
            .into());
    }
    // Claims that fight the flags are refused before the cluster is asked
    // anything (checked again once the deployed audience is known).
    jwt::validate_extra(&MintSpec {
        aud: opts.aud.clone(),
        sub: opts.sub.clone(),
        capabilities: (!args.capabilities.is_empty()).then(|| args.capabilities.clone()),
        extra: opts.extra.clone(),
        ..MintSpec::default()
    })
    .map_err(|c| claim_conflict(&c))?;

    let mut session = Session::new(args.cluster_args.config(), args.locator.locator()?)?;
    let source = match &args.secret_file {
        Some(path) => SecretSource::File {
            path: path.clone(),
            base64: args.secret_is_base64,
        },
        None => SecretSource::Cluster,
    };
    let target = mint::target(&mut session, &app, &source, args.key_file.as_deref())?;

    if let Some(token_arg) = &args.verify {
        let token = if token_arg == "-" {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            s.trim().to_string()
        } else {
            token_arg.trim().to_string()
        };
        let claims = mint::verify(&mut session, &target, &token)?;
        output::print_json(
            &serde_json::json!({"status": "valid", "app": target.app, "claims": claims}),
        )?;
        return Ok(0);
    }
    if let Some(path) = &args.write_env {
        let written = mint::write_env(&mut session, &target, path, &opts).map_err(failure)?;
        note(format!(
            "uis: {}: {}",
            path.display(),
            if written.changed.is_empty() {
                "nothing changed".to_string()
            } else {
                format!("set {}", written.changed.join(", "))
            }
        ));
        output::print_json(&serde_json::json!({
            "status": "ok", "app": target.app, "file": path.display().to_string(),
            "changed": written.changed, "keys": written.keys,
        }))?;
        return Ok(0);
    }
    let asked = RoleClaim::parse(args.role.as_deref().expect("clap requires --role here"));
    let minted = mint::mint(&mut session, &target, &asked, &opts).map_err(failure)?;
    let env_name = args
        .env_name
        .clone()
        .unwrap_or_else(|| target.env_name(&asked, &minted.role));
    let text = match args.format {
        Format::Token => format!("{}\n", minted.token),
        Format::Json => format!(
            "{}\n",
            serde_json::json!({"token": minted.token, "claims": minted.claims, "app": app, "role": minted.role})
        ),
        Format::Env => format!("{env_name}={}\n", minted.token),
    };
    output::print(&text)?;
    Ok(0)
}
