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

use crate::pg::{Login, hint};
use crate::postgrest_state;
use crate::session::{Session, Who};
use std::io::Write;
use uis_core::Failure;
use uis_core::app::quote_ident;
use uis_core::error::Phase;
use uis_core::output::note;
use uis_script::{self as script, Runner, Source, Variables};

/// What `uis-db-psql` was asked to run, and how.
pub struct Options {
    /// The app (optional for the superuser).
    pub app: Option<String>,
    /// `--as`: `owner`, `admin` or a stored role.
    pub as_role: String,
    /// `-d`: the database (default: the app's).
    pub database: Option<String>,
    /// `-f`/`-c` in the order given; empty reads stdin (or opens an
    /// interactive psql when `interactive`).
    pub sources: Vec<Source>,
    /// `-v NAME=VALUE`.
    pub variables: Variables,
    /// psql's ON_ERROR_STOP (`--continue-on-error` turns it off).
    pub on_error_stop: bool,
    /// `-1`.
    pub single_transaction: bool,
    /// How results are printed.
    pub format: script::Format,
    /// `-e`.
    pub echo: bool,
    /// `--verbose`: command tags on stderr.
    pub verbose: bool,
    /// `--jwt`: run as PostgREST would for this token.
    pub jwt: Option<String>,
    /// With `jwt`: commit instead of rolling back.
    pub commit: bool,
    /// No sources and a person at the terminal: an interactive psql.
    pub interactive: bool,
    /// `-v NAME=VALUE` in the order given, handed to the interactive psql
    /// as its own `-v` (its `:NAME` at the prompt); unused otherwise.
    pub psql_variables: Vec<(String, String)>,
}

/// Runs `opts` and returns the process exit code, as psql's: 0 ok, 1 fatal,
/// 2 connection lost, 3 script error (the script error itself is printed
/// on stderr here, with its STATEMENT). Results go to stdout.
///
/// Errors (before any SQL runs): phase `usage`, `store`, `locate`,
/// `cluster` for the login (see [`Session::login_for`]); `jwt` when
/// PostgREST would refuse the token or its role; `connect`/`tunnel` when
/// PostgreSQL cannot be reached; `psql`/`exec` for the interactive session.
pub fn run(session: &mut Session, mut opts: Options) -> Result<i32, Failure> {
    let (login, context) = match opts.jwt.clone() {
        Some(token) => jwt_login(session, &opts, &token)?,
        None => {
            let who = Who::parse(&opts.as_role);
            let found = session.login_for(opts.app.as_deref(), &who, opts.database.as_deref())?;
            (found.login, None)
        }
    };
    if opts.interactive {
        return interactive_psql(session, &login, &opts.psql_variables);
    }

    let ep = session.endpoint()?;
    let mut config = crate::pg::config(&ep, &login, "uis-db-psql");
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
    let options = script::Options {
        on_error_stop: opts.on_error_stop,
        single_transaction: opts.single_transaction,
        format: opts.format,
        echo: opts.echo,
        verbose: opts.verbose,
        variables: std::mem::take(&mut opts.variables),
        // As libpq: the script's bytes are in this encoding.
        client_encoding: std::env::var("PGCLIENTENCODING")
            .ok()
            .filter(|e| !e.is_empty()),
    };
    let mut runner = Runner::new(client, Box::new(session.script_connector(config)?), options)
        .with_notices(notices)
        // --jwt opened PostgREST's transaction: statements may be batched in it.
        .caller_transaction(context.is_some());
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, stdout.lock());
    let mut info = std::io::stderr();
    let result = runner.run(std::mem::take(&mut opts.sources), &mut out, &mut info);
    let flushed = out.flush();
    if let Some(ctx) = &context {
        let end = if opts.commit && result.is_ok() {
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
                return Err(Failure::new(Phase::Internal, e.to_string()));
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
            if let Some(hint) = uis_hint(&e) {
                text.push_str(&format!("\n  hint: {hint}"));
            }
            // Role or database DDL refused to the app's own role.
            let own_role = context.is_none() && Who::parse(&opts.as_role) != Who::Admin;
            if own_role
                && let Some(what) =
                    hint::refused(e.sqlstate.as_deref(), &e.message, e.statement.as_deref())
            {
                let app = opts.app.as_deref().unwrap_or("APP");
                let command = if e.file.starts_with('<') {
                    format!("uis db psql {app} ...")
                } else {
                    format!("uis db psql {app} -f {}", e.file)
                };
                let h = hint::as_admin(what, app, &command, Some(runner.client()));
                text.push_str(&format!("\n  hint: {h}"));
            }
            note(text);
            Ok(e.exit_code())
        }
    }
}

/// uis's advice for a script error the server's message leaves open
/// (printed after the server's fields, as `  hint:`).
fn uis_hint(e: &script::ScriptError) -> Option<String> {
    match e.sqlstate.as_deref() {
        // invalid byte sequence / no equivalent: the file's encoding.
        Some("22021") | Some("22P05") => Some(format!(
            "{} is not in the client encoding: save it as UTF-8 (e.g. `iconv -f LATIN1 -t UTF-8 FILE > FILE.utf8`), or say its encoding before the text: `SET client_encoding = 'LATIN1';`",
            e.file
        )),
        _ => None,
    }
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
    opts: &Options,
    token: &str,
) -> Result<(Login, Option<JwtContext>), Failure> {
    let Some(app) = &opts.app else {
        return Err(Failure::usage(
            "--jwt needs APP: the token is checked against that app's PostgREST",
        )
        .hint("name the app, e.g. `uis db psql railway --jwt TOKEN -c 'select ...'`"));
    };
    let cluster = session.cluster()?;
    let config = session.block_on(postgrest_state::require_config(&cluster, app))?;
    // The settings PostgREST runs with: the Secret's, overridden by the
    // `pgrst.*` settings on the authenticator role.
    let jwt = {
        let mut appdb = session.connect_admin(&config.database, "uis-db-psql")?;
        postgrest_state::jwt_config(&mut appdb, &config)?
    };
    let refused = |what: String| {
        Failure::new(
            Phase::Jwt,
            format!("PostgREST would refuse this token: {what}"),
        )
        .hint(format!(
            "mint a fresh one: `uis jwt mint {app} --role anon`"
        ))
    };
    let (keys, claim_path) = jwt.check().map_err(|e| {
        Failure::new(
            Phase::Jwt,
            format!(
                "PostgREST would not start with the JWT settings of {app:?}: {}",
                e.message
            ),
        )
        .hint(format!("uis db doctor {app}"))
    })?;
    let now = uis_core::output::unix_now();
    let claims = uis_postgrest::jwt::verify_with(&keys, token, jwt.aud.as_deref(), now)
        .map_err(|e| refused(format!("{} ({})", e.message, e.code)))?;
    // Never the anon role for a role claim that is not a string.
    let role = uis_postgrest::jwt::request_role(&claims, &claim_path, jwt.anon_role.as_deref())
        .map_err(|e| refused(e.to_string()))?;
    // PostgREST puts the role it resolved into the claims it hands over.
    let mut claims = claims;
    claims["role"] = role.clone().into();
    let mut path: Vec<String> = config
        .schemas
        .iter()
        .take(1)
        .map(|s| quote_ident(s))
        .collect();
    path.push("public".into());
    let login = Login {
        user: config.authenticator.clone(),
        password: config.authenticator_password.clone(),
        database: opts.database.clone().unwrap_or(config.database.clone()),
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
        .hint(format!("GRANT {} TO {};", quote_ident(role), quote_ident(authenticator))),
        _ => Failure::from(e),
    }
}

/// A person at a terminal with no input: the local psql through the
/// tunnel (password in its environment, never argv), else psql in the pod.
fn interactive_psql(
    session: &mut Session,
    login: &Login,
    variables: &[(String, String)],
) -> Result<i32, Failure> {
    let psql_args: Vec<String> = variables
        .iter()
        .flat_map(|(k, v)| ["-v".to_string(), format!("{k}={v}")])
        .collect();
    if let Ok(psql) = which::which("psql") {
        let ep = session.endpoint()?;
        note(format!(
            "uis: running {} {} as {}",
            psql.display(),
            session.via(),
            login.user
        ));
        let tls = session.tls()?;
        let opts = session.tls_options()?;
        let libpq = crate::pg::tls::libpq_env(&opts, tls.server_name(), &ep.host)?;
        // Ctrl-C and Ctrl-\ at the terminal signal psql (it cancels the
        // running query on SIGINT) and this process too, which holds the
        // tunnel psql talks through: this process takes them, as system(3)
        // ignores them while its command runs, so the session goes on. A
        // handler is not inherited across exec: psql starts with its own.
        // SIGTERM and SIGHUP sent to this process alone are passed on to
        // psql, which puts the terminal back as it ends; this process
        // waits for it (else psql would stay on the terminal with the
        // shell, its tunnel gone).
        let mut cmd = tokio::process::Command::new(psql);
        cmd.args(&psql_args)
            .env("PGHOST", &ep.host)
            .envs(libpq.vars.iter().map(|(k, v)| (k, v)))
            .env("PGPORT", ep.port.to_string())
            .env("PGUSER", &login.user)
            .env("PGDATABASE", &login.database)
            .env("PGPASSWORD", &login.password)
            .env("PGAPPNAME", "uis-db-psql");
        let status = session
            .block_on(run_on_the_terminal(cmd))
            .map_err(|e| Failure::new(Phase::Internal, e.to_string()))?;
        drop(libpq);
        use std::os::unix::process::ExitStatusExt;
        return Ok(status
            .code()
            .or_else(|| status.signal().map(|s| 128 + s))
            .unwrap_or(1));
    }
    if session.locator.direct.is_some() {
        return Err(Failure::new(Phase::Psql, "no local psql for an interactive session, and --direct leaves no pod to exec into")
            .hint("install psql (`apt-get install postgresql-client`), or pipe SQL in: `uis db psql APP < file.sql`"));
    }
    let cluster = session.cluster()?;
    let pod = session.block_on(session.locator.pod(&cluster))?;
    let ns = session.locator.namespace.clone();
    let port = session.locator.port;
    note(format!(
        "uis: no local psql; running psql in pod {ns}/{pod} (port {port}) through exec as {}",
        login.user
    ));
    let code = session.block_on(uis_kube::exec::psql_in_pod(
        &cluster,
        &ns,
        &pod,
        uis_kube::exec::PodLogin {
            user: &login.user,
            database: &login.database,
            port,
            password: &login.password,
        },
        &psql_args,
    ))?;
    Ok(code)
}

/// Runs `cmd` (psql) on this process's terminal to its end: SIGINT and
/// SIGQUIT are taken here (the terminal sends them to psql as well),
/// SIGTERM and SIGHUP are passed on to it. Returns its exit status.
async fn run_on_the_terminal(
    mut cmd: tokio::process::Command,
) -> std::io::Result<std::process::ExitStatus> {
    use rustix::process::{Pid, Signal, kill_process};
    use tokio::signal::unix::{SignalKind, signal};
    let _taken = (
        signal(SignalKind::interrupt())?,
        signal(SignalKind::quit())?,
    );
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut child = cmd.spawn()?;
    let pid = child
        .id()
        .and_then(|id| Pid::from_raw(i32::try_from(id).ok()?));
    let pass_on = |sig: Signal| {
        if let Some(pid) = pid {
            let _ = kill_process(pid, sig);
        }
    };
    loop {
        tokio::select! {
            status = child.wait() => return status,
            Some(()) = term.recv() => pass_on(Signal::TERM),
            Some(()) = hup.recv() => pass_on(Signal::HUP),
        }
    }
}

/// A `-f FILE` that cannot be read is a one-line error before anything
/// connects: missing, a directory, or failing on its first read (a regular
/// file only: reading a pipe would lose what it holds).
///
/// Errors: phase `input` naming the file, with the fix.
pub fn check_readable(p: &std::path::Path) -> Result<(), Failure> {
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
