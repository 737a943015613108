//! `uis-db-psql`: run SQL on an app's database the way
//! `psql -v ON_ERROR_STOP=1` does, without psql, `kubectl exec` or an
//! exposed port (frictions F3, F4; seed items B.1, C.2): files, `-c`
//! commands or stdin, as the app's owner, the superuser or any stored role,
//! through the port-forward. On a terminal with no input it opens an
//! interactive psql: the local one through the tunnel, else psql in the
//! database pod.
//!
//! `--jwt TOKEN` runs the SQL exactly as PostgREST would for that token: as
//! the authenticator, in one transaction with the token's role, claims and
//! the exposed schemas, rolled back at the end unless `--commit`.

use clap::{ArgMatches, FromArgMatches, Parser, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use uis_cli::{ClusterArgs, LocatorArgs};
use uis_ops::Failure;
use uis_ops::app::validate_app;
use uis_ops::error::Phase;
use uis_ops::output::note;
use uis_ops::pg::Login;
use uis_ops::script::{self, Options, PgConnector, Runner, Source, Variables};
use uis_ops::session::Session;

/// Run SQL files, commands or stdin on an app's database, psql-compatible.
///
/// Connects through a port-forward to the database pod (or --direct) as the
/// app's owner (default), the superuser (--as admin) or a role whose password
/// the suite stores. Stops at the first error (exit 3) and reports
/// file:line:column, SQLSTATE, message, detail and hint. Supports psql's
/// \set \unset \echo \i \ir \if \elif \else \endif \connect \restrict
/// \unrestrict \copy \q and inline COPY data. Exit codes follow psql: 0 ok,
/// 1 fatal, 2 connection lost, 3 script error.
#[derive(Parser, Debug)]
#[command(name = "uis-db-psql", version, after_help = EXAMPLES)]
pub struct Args {
    /// The app (optional with --as admin)
    pub app: Option<String>,
    /// Who to connect as: owner, admin (the superuser), or a role stored for the app
    #[arg(long = "as", value_name = "owner|admin|ROLE", value_parser = uis_cli::role_name, default_value = "owner")]
    pub as_role: String,
    /// Database (default: the app's; `postgres` for --as admin without APP)
    #[arg(long, short = 'd', value_name = "DB")]
    pub database: Option<String>,
    /// Run this file (repeatable; `-` is stdin); runs with the -c commands in the order given
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Vec<String>,
    /// Run this SQL (repeatable)
    #[arg(short = 'c', long = "command", value_name = "SQL")]
    pub command: Vec<String>,
    /// Set a psql variable (`-v schema=app`, used as :schema, :'schema', :"schema")
    #[arg(short = 'v', long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Run everything in one transaction (BEGIN first, COMMIT last, ROLLBACK on error)
    #[arg(short = '1', long)]
    pub single_transaction: bool,
    /// Report errors and go on (psql's default without ON_ERROR_STOP)
    #[arg(long)]
    pub continue_on_error: bool,
    /// How results are printed
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutFormat,
    /// Print each statement to stderr before running it
    #[arg(short = 'e', long)]
    pub echo: bool,
    /// Print a command tag per statement to stderr
    #[arg(long)]
    pub verbose: bool,
    /// Run as PostgREST would for this token (`-` reads it from the first line of stdin)
    #[arg(long, value_name = "TOKEN", conflicts_with_all = ["as_role", "single_transaction"])]
    pub jwt: Option<String>,
    /// With --jwt: commit instead of rolling back at the end
    #[arg(long, requires = "jwt")]
    pub commit: bool,
    #[command(flatten)]
    pub cluster_args: ClusterArgs,
    #[command(flatten)]
    pub locator: LocatorArgs,
}

/// `--format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutFormat {
    /// psql's aligned table
    Table,
    /// One JSON object per row per line (NDJSON)
    Json,
    /// CSV with a header line
    Csv,
}

const EXAMPLES: &str = "Examples:
  uis-db-psql railway --as admin -f db/01-roles.sql
  kubectl uis-db-psql railway --as admin < db/01-roles.sql
  uis-db-psql railway -c 'select count(*) from railway.events' --format json
  uis-db-psql --as admin -c 'select datname from pg_database'
  uis-db-psql railway --jwt \"$(uis-jwt-mint railway --role anon)\" -c 'select count(*) from events'
  uis-db-psql railway                       # interactive psql (local psql through the tunnel)";

/// The clap definition, for completions, man pages and the CLI reference.
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

/// Parses the process arguments and runs.
pub fn main() -> ExitCode {
    let matches = command().get_matches();
    let args = match Args::from_arg_matches(&matches) {
        Ok(a) => a,
        Err(e) => e.exit(),
    };
    let sources = ordered_sources(&matches);
    uis_cli::run_main(false, || run(args, sources))
}

/// The -f and -c arguments in the order they were given.
fn ordered_sources(m: &ArgMatches) -> Vec<(usize, bool, String)> {
    let mut v = Vec::new();
    for (id, is_file) in [("file", true), ("command", false)] {
        if let (Some(idx), Some(vals)) = (m.indices_of(id), m.get_many::<String>(id)) {
            for (i, val) in idx.zip(vals) {
                v.push((i, is_file, val.clone()));
            }
        }
    }
    v.sort_by_key(|(i, _, _)| *i);
    v
}

fn run(args: Args, given: Vec<(usize, bool, String)>) -> anyhow::Result<i32> {
    if let Some(app) = &args.app {
        validate_app(app)?;
    }
    let mut variables = Variables::new();
    for s in &args.set {
        let (k, v) = s.split_once('=').ok_or_else(|| {
            Failure::usage(format!(
                "invalid -v {s:?}: expected NAME=VALUE, e.g. -v schema=railway"
            ))
        })?;
        if k.is_empty() {
            return Err(Failure::usage(format!("invalid -v {s:?}: the NAME is empty")).into());
        }
        variables.set(k, v);
    }
    let stdin_is_terminal = std::io::stdin().is_terminal();
    let interactive = given.is_empty() && stdin_is_terminal && args.jwt.is_none();
    let mut sources: Vec<Source> = given
        .into_iter()
        .map(|(_, is_file, v)| match (is_file, v.as_str()) {
            (true, "-") => Source::Stdin,
            (true, _) => Source::File(PathBuf::from(v)),
            (false, _) => Source::Command(v),
        })
        .collect();
    // Files that cannot be read are a one-line fatal error before connecting.
    for s in &sources {
        if let Source::File(p) = s {
            check_readable(p)?;
        }
    }
    let mut jwt_token = args.jwt.clone();
    if jwt_token.as_deref() == Some("-") {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        jwt_token = Some(line.trim().to_string());
    }
    if sources.is_empty() && !interactive {
        sources.push(Source::Stdin);
    }

    let mut session = Session::new(args.cluster_args.config(), args.locator.locator()?)?;
    let (login, context) = match &jwt_token {
        Some(token) => jwt_login(&mut session, &args, token)?,
        None => (resolve_login(&mut session, &args)?, None),
    };
    if interactive {
        return interactive_psql(&mut session, &login);
    }

    let ep = session.endpoint()?;
    let mut config = uis_ops::pg::config(&ep, &login, "uis-db-psql");
    let notices = script::notice_channel(&mut config);
    let mut client = session.connect_config(&config, &login)?;
    if let Some(ctx) = &context {
        // PostgREST's per-request transaction.
        client.batch_execute("BEGIN")?;
        client
            .query(
                "select set_config('search_path', $1, true), set_config('role', $2, true), set_config('request.jwt.claims', $3, true), set_config('request.method', 'GET', true), set_config('request.path', '/', true)",
                &[&ctx.search_path, &ctx.role, &ctx.claims],
            )
            .map_err(|e| jwt_role_error(e, &ctx.role, &login.user))?;
    }
    let options = Options {
        on_error_stop: !args.continue_on_error,
        single_transaction: args.single_transaction,
        format: match args.format {
            OutFormat::Table => script::Format::Table,
            OutFormat::Json => script::Format::Json,
            OutFormat::Csv => script::Format::Csv,
        },
        echo: args.echo,
        verbose: args.verbose,
        variables,
    };
    let mut runner = Runner::new(client, Box::new(PgConnector::new(config)), options)
        .with_notices(notices)
        // --jwt opened PostgREST's transaction: statements may be batched in it.
        .caller_transaction(context.is_some());
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, stdout.lock());
    let mut info = std::io::stderr();
    let result = runner.run(sources, &mut out, &mut info);
    let flushed = out.flush();
    if let Some(ctx) = &context {
        let end = if args.commit && result.is_ok() {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        let _ = runner.client().batch_execute(end);
        if end == "ROLLBACK" && result.is_ok() {
            note(format!(
                "uis: ran as PostgREST would for role {} and rolled back (--commit keeps changes)",
                ctx.role
            ));
        }
    }
    match result {
        Ok(_) => {
            if let Err(e) = flushed
                && e.kind() != std::io::ErrorKind::BrokenPipe
            {
                return Err(e.into());
            }
            Ok(0)
        }
        Err(e) => {
            let mut text = format!("error: {e}");
            if let Some(st) = &e.statement
                && !st.is_empty()
            {
                text.push_str(&format!("\nSTATEMENT:  {st}"));
            }
            note(text);
            Ok(e.exit_code())
        }
    }
}

/// The login for `--as`.
fn resolve_login(session: &mut Session, args: &Args) -> Result<Login, Failure> {
    session.login_as(args.app.as_deref(), &args.as_role, args.database.as_deref())
}

struct JwtContext {
    role: String,
    claims: String,
    search_path: String,
}

/// Verifies the token as PostgREST would and returns the authenticator's
/// login and the per-request settings.
fn jwt_login(
    session: &mut Session,
    args: &Args,
    token: &str,
) -> Result<(Login, Option<JwtContext>), Failure> {
    let Some(app) = &args.app else {
        return Err(Failure::usage(
            "--jwt needs APP: the token is checked against that app's PostgREST",
        )
        .hint("name the app, e.g. `uis db psql railway --jwt TOKEN -c 'select ...'`"));
    };
    let cluster = session.cluster()?;
    let config = session.block_on(uis_ops::postgrest_state::require_config(&cluster, app))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let claims = uis_ops::jwt::verify(&config.jwt_secret, token, config.jwt_aud.as_deref(), now)
        .map_err(|e| {
            Failure::new(
                Phase::Jwt,
                format!(
                    "PostgREST would refuse this token: {} ({})",
                    e.message, e.code
                ),
            )
            .hint(format!(
                "mint a fresh one: `uis jwt mint {app} --role anon`"
            ))
        })?;
    let role = claims
        .get("role")
        .and_then(|r| r.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| config.anon_role.clone());
    let mut path: Vec<String> = config
        .schemas
        .iter()
        .take(1)
        .map(|s| uis_ops::app::quote_ident(s))
        .collect();
    path.push("public".into());
    let login = Login {
        user: config.authenticator.clone(),
        password: config.authenticator_password.clone(),
        database: args.database.clone().unwrap_or(config.database.clone()),
    };
    Ok((
        login,
        Some(JwtContext {
            role,
            claims: claims.to_string(),
            search_path: path.join(", "),
        }),
    ))
}

fn jwt_role_error(e: postgres::Error, role: &str, authenticator: &str) -> Failure {
    match e.as_db_error().map(|d| d.code().code().to_string()).as_deref() {
        Some("22023") => Failure::new(Phase::Jwt, format!("role {role:?} does not exist: PostgREST would answer 401 (SQLSTATE 22023)")),
        Some("42501") => Failure::new(
            Phase::Jwt,
            format!("permission denied to set role {role:?}: PostgREST would answer 401/403 (SQLSTATE 42501)"),
        )
        .hint(format!("GRANT {} TO {};", uis_ops::app::quote_ident(role), uis_ops::app::quote_ident(authenticator))),
        _ => Failure::from(e),
    }
}

/// A person at a terminal with no input: the local psql through the
/// tunnel (password in its environment, never argv), else psql in the pod.
fn interactive_psql(session: &mut Session, login: &Login) -> anyhow::Result<i32> {
    if let Ok(psql) = which::which("psql") {
        let ep = session.endpoint()?;
        note(format!(
            "uis: running {} {} as {}",
            psql.display(),
            session.via(),
            login.user
        ));
        let status = std::process::Command::new(psql)
            .env("PGHOST", &ep.host)
            .env("PGPORT", ep.port.to_string())
            .env("PGUSER", &login.user)
            .env("PGDATABASE", &login.database)
            .env("PGPASSWORD", &login.password)
            .env("PGAPPNAME", "uis-db-psql")
            .status()?;
        return Ok(status.code().unwrap_or(1));
    }
    if session.locator.direct.is_some() {
        return Err(Failure::new(Phase::Psql, "no local psql for an interactive session, and --direct leaves no pod to exec into")
            .hint("install psql (`apt-get install postgresql-client`), or pipe SQL in: `uis db psql APP < file.sql`")
            .into());
    }
    let cluster = session.cluster()?;
    let pod = session.block_on(session.locator.pod(&cluster))?;
    let ns = session.locator.namespace.clone();
    note(format!(
        "uis: no local psql; running psql in pod {ns}/{pod} through exec as {}",
        login.user
    ));
    let code = session.block_on(exec_psql(&cluster, &ns, &pod, login))?;
    Ok(code)
}

async fn exec_psql(
    cluster: &uis_ops::cluster::Cluster,
    ns: &str,
    pod: &str,
    login: &Login,
) -> Result<i32, Failure> {
    use k8s_openapi::api::core::v1::Pod;
    use kube::api::{Api, AttachParams};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), ns);
    // The password travels as the first line of stdin, never in argv. The
    // pod's terminal would echo it: the script turns echo off first and
    // says so with a marker line, and only then is the password sent.
    let script = "stty -echo 2>/dev/null; echo UIS-READY; IFS= read -r PGPASSWORD; stty echo 2>/dev/null; export PGPASSWORD; exec psql -h 127.0.0.1 -U \"$1\" -d \"$2\"";
    let cmd = vec![
        "sh",
        "-c",
        script,
        "sh",
        login.user.as_str(),
        login.database.as_str(),
    ];
    let params = AttachParams::interactive_tty();
    let mut attached = pods
        .exec(pod, cmd, &params)
        .await
        .map_err(|e| cluster.explain(&format!("exec into pod {ns}/{pod}"), e))?;
    let mut stdin = attached
        .stdin()
        .ok_or_else(|| Failure::new(Phase::Exec, "no stdin on the exec stream"))?;
    let mut stdout = attached
        .stdout()
        .ok_or_else(|| Failure::new(Phase::Exec, "no stdout on the exec stream"))?;
    // Wait for the marker (echo is off by then); what follows it is psql's.
    let mut seen = Vec::new();
    let rest = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        let mut buf = [0u8; 4096];
        loop {
            let n = stdout.read(&mut buf).await?;
            if n == 0 {
                return Err(std::io::Error::other(
                    "the pod's shell ended before it was ready",
                ));
            }
            seen.extend_from_slice(&buf[..n]);
            // A terminal ends the line with \r\n, a pipe with \n.
            if let Some(at) = seen.windows(9).position(|w| w == b"UIS-READY")
                && let Some(nl) = seen[at..].iter().position(|b| *b == b'\n')
            {
                return Ok(seen[at + nl + 1..].to_vec());
            }
        }
    })
    .await
    .map_err(|_| {
        Failure::new(
            Phase::Exec,
            format!("the shell in pod {ns}/{pod} did not start within 30 s"),
        )
    })?
    .map_err(|e| Failure::new(Phase::Exec, format!("exec into pod {ns}/{pod}: {e}")))?;
    stdin
        .write_all(format!("{}\n", login.password).as_bytes())
        .await
        .map_err(|e| Failure::new(Phase::Exec, e.to_string()))?;
    {
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = out.write_all(&rest);
        let _ = out.flush();
    }
    let status = attached.take_status();
    let to_pod = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut tokio::io::stdin(), &mut stdin).await;
        let _ = stdin.shutdown().await;
    });
    let _ = tokio::io::copy(&mut stdout, &mut tokio::io::stdout()).await;
    to_pod.abort();
    let code = match status {
        Some(s) => match s.await {
            Some(st) if st.status.as_deref() == Some("Success") => 0,
            Some(st) => st
                .details
                .and_then(|d| d.causes)
                .and_then(|c| {
                    c.into_iter()
                        .find(|c| c.reason.as_deref() == Some("ExitCode"))
                })
                .and_then(|c| c.message)
                .and_then(|m| m.parse().ok())
                .unwrap_or(1),
            None => 0,
        },
        None => 0,
    };
    Ok(code)
}

/// A `-f FILE` that cannot be read is a one-line error before anything
/// connects: missing, a directory, or failing on its first read (a regular
/// file only: reading a pipe would lose what it holds).
fn check_readable(p: &std::path::Path) -> Result<(), Failure> {
    use std::io::Read;
    let fail = |why: String| {
        Failure::new(Phase::Input, format!("{}: {why}", p.display()))
            .hint("give the path of a readable SQL file, or `-f -` for standard input")
    };
    let meta = std::fs::metadata(p).map_err(|e| fail(e.to_string()))?;
    if meta.is_dir() {
        return Err(fail("is a directory, not a file".into()));
    }
    let mut f = std::fs::File::open(p).map_err(|e| fail(e.to_string()))?;
    if meta.is_file() {
        f.read(&mut [0u8; 1]).map_err(|e| fail(e.to_string()))?;
    }
    Ok(())
}
