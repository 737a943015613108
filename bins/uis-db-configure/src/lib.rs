//! `uis-db-configure`: an app's database, owner role, schemas, extensions
//! and optional role patterns, with every password stored in the credential
//! store (frictions F1, F6, F9; seed items B.3, B.6, C.1, C.3). A drop-in for
//! `./uis configure postgresql --json`: the same JSON fields, plus `admin`,
//! `roles` and `next_steps`.
//!
//! The flags become [`configure::Options`]; the behaviour is
//! [`uis_ops::configure`]; this file prints its report.

use clap::Parser;
use std::process::ExitCode;
use uis_cli::{ClusterArgs, LocatorArgs, PostgrestRoleArgs};
use uis_ops::Failure;
use uis_ops::configure::{self, Report};
use uis_ops::output;
use uis_ops::session::Session;

/// Create an app's database, owner role, schemas and extensions, with stored credentials.
///
/// Creates, when missing: the owner role (LOGIN; no SUPERUSER, CREATEROLE or
/// CREATEDB; CREATEROLE with --owner-createrole on PostgreSQL 16+), the database owned by it (so the owner can create schemas and
/// trusted extensions itself), the schemas owned by it, and the extensions
/// (created by the superuser, so untrusted ones work too). CONNECT on the
/// database is revoked from PUBLIC and granted to the app's roles only.
/// Passwords are 32 characters of [A-Za-z0-9], kept in Secret uis-db-APP in
/// the database namespace and never reset by a re-run. An owner role that
/// exists without a stored password (an app `./uis configure postgresql`
/// made) keeps the password found in the Secret UIS wrote (PREFIX-db, or any
/// Secret labelled app.kubernetes.io/managed-by=uis whose DATABASE_URL names
/// the role and database) when it logs in; a new one is issued only with
/// --rotate or when none works, said on stderr, with the Secrets updated and
/// the workloads to restart.
#[derive(Parser, Debug)]
#[command(name = "uis-db-configure", version, after_help = EXAMPLES)]
pub struct Args {
    /// The app (^[a-z][a-z0-9-]{0,40}$ for a new one; one UIS made keeps its name, ^[A-Za-z0-9_-]{1,63}$); read from piped JSON when left out
    pub app: Option<String>,
    /// Database name (default: APP with '-' as '_', then `_db`)
    #[arg(long, value_name = "DB")]
    pub database: Option<String>,
    /// Owner role name (default: APP with '-' as '_')
    #[arg(long, value_name = "NAME")]
    pub owner: Option<String>,
    /// Schemas to create, owned by the owner
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub schemas: Vec<String>,
    /// Extensions to create (by the superuser)
    #[arg(long, value_name = "E1,E2", value_delimiter = ',')]
    pub extensions: Vec<String>,
    /// Roles to create too: postgrest, readonly (or read-only), or FILE.sql, a role spec run as the admin
    ///
    /// postgrest: APP_authenticator (LOGIN NOINHERIT), APP_web_anon and APP_authenticated
    /// (NOLOGIN, granted to it). readonly: APP_readonly (LOGIN) with SELECT on the schemas'
    /// tables, now and later. FILE.sql (a path ending in .sql): run as the admin in the app's
    /// database, in one transaction, once per content (its SHA-256 is stored; a changed file
    /// runs again); every LOGIN role it creates gets an issued password, stored (`uis db creds
    /// APP --role ROLE`); roles that existed before it ran are never touched.
    #[arg(long, value_name = "PATTERN|FILE.sql", value_delimiter = ',', value_parser = parse_role_pattern)]
    pub with_roles: Vec<RolePattern>,
    #[command(flatten)]
    pub roles: PostgrestRoleArgs,
    /// Also write Secret PREFIX-db with DATABASE_URL in this namespace, created when missing (UIS compatibility)
    #[arg(long, value_name = "NS", requires = "secret_name_prefix", value_parser = uis_cli::dns_label)]
    pub namespace: Option<String>,
    /// Prefix of that Secret's name
    #[arg(long, value_name = "P", requires = "namespace")]
    pub secret_name_prefix: Option<String>,
    /// Give the owner CREATEROLE, so role DDL (db/01-roles.sql) runs as the owner; PostgreSQL 16+ only
    ///
    /// From 16, a CREATEROLE role manages only the roles it creates and cannot hand out
    /// attributes or memberships it lacks; before 16 it could grant itself any non-superuser
    /// role, so the flag is refused there. Kept by re-runs; --no-owner-createrole removes it.
    #[arg(long, conflicts_with_all = ["purge", "no_owner_createrole"])]
    pub owner_createrole: bool,
    /// Remove the owner's CREATEROLE (given by --owner-createrole)
    #[arg(long, conflicts_with = "purge")]
    pub no_owner_createrole: bool,
    /// Issue a new owner password and update every Secret that holds it
    #[arg(long, conflicts_with = "purge")]
    pub rotate: bool,
    /// Drop the database, the roles the suite created and the stored credentials
    #[arg(long)]
    pub purge: bool,
    /// Confirm --purge
    #[arg(long, requires = "purge")]
    pub yes: bool,
    /// Print the SQL that would run; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// SQL applied as the owner after creation, on every run (`-`: stdin); on a failure a database and roles this run created are removed
    #[arg(long, value_name = "PATH|-", conflicts_with = "purge")]
    pub init_file: Option<String>,
    /// Print JSON even on a terminal
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub cluster_args: ClusterArgs,
    #[command(flatten)]
    pub locator: LocatorArgs,
}

/// What `--with-roles` takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolePattern {
    /// APP_authenticator (LOGIN NOINHERIT), APP_web_anon and APP_authenticated (NOLOGIN, granted to it)
    Postgrest,
    /// APP_readonly (LOGIN) with SELECT on the schemas' tables, now and later (also `read-only`, the investigation's spelling)
    Readonly,
    /// A role spec file (a path ending in `.sql`), run as the admin.
    File(String),
}

/// `postgrest`, `readonly`/`read-only`, or a path ending in `.sql`.
fn parse_role_pattern(s: &str) -> Result<RolePattern, String> {
    match s {
        "postgrest" => Ok(RolePattern::Postgrest),
        "readonly" | "read-only" => Ok(RolePattern::Readonly),
        f if f.len() > 4 && f.to_ascii_lowercase().ends_with(".sql") => {
            Ok(RolePattern::File(f.to_string()))
        }
        _ => Err(
            "expected postgrest, readonly (or read-only), or a role spec file ending in .sql, e.g. `--with-roles db/01-roles.sql`"
                .to_string(),
        ),
    }
}

const EXAMPLES: &str = "Examples:
  uis-db-configure railway --database railway --schemas railway,auth --extensions citext
  uis-db-configure railway --with-roles postgrest --anon-role anon --authenticated-role authenticated --authenticator authenticator
  uis-db-configure railway --with-roles db/01-roles.sql   # its LOGIN roles get stored passwords
  uis-db-configure railway --owner-createrole     # PostgreSQL 16+: the owner runs db/01-roles.sql
  uis-db-configure railway --rotate
  uis-db-configure railway --dry-run
  uis-db-configure railway --purge --yes";

/// The clap definition, for completions, man pages and the CLI reference.
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

/// Parses the process arguments and runs.
pub fn main() -> ExitCode {
    uis_cli::parse_and_run(|args: &Args| args.json, run)
}

fn run(mut args: Args, json_mode: bool) -> anyhow::Result<i32> {
    if args.app.is_none() && args.init_file.as_deref() == Some("-") {
        return Err(Failure::usage(
            "--init-file - reads SQL from stdin, so APP cannot come from piped JSON: give APP (or --app)",
        )
        .into());
    }
    if args.app.is_none() {
        let defaults = uis_cli::stdin_defaults()?;
        args.app = uis_cli::default_str(&defaults, "app");
        uis_cli::default_database_and_schemas(&defaults, &mut args.database, &mut args.schemas);
    }
    let Some(app) = args.app.clone() else {
        return Err(Failure::usage("give APP, e.g. `uis-db-configure railway`").into());
    };
    let init = match args.init_file.as_deref() {
        None => None,
        Some("-") => {
            let mut sql = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut sql)
                .map_err(|e| Failure::usage(format!("--init-file -: cannot read stdin: {e}")))?;
            Some(configure::InitSql {
                name: "<stdin>".into(),
                sql,
            })
        }
        Some(path) => Some(configure::InitSql {
            name: path.to_string(),
            sql: std::fs::read_to_string(path)
                .map_err(|e| Failure::usage(format!("--init-file {path}: {e}")))?,
        }),
    };
    let role_spec = match args
        .with_roles
        .iter()
        .filter_map(|r| match r {
            RolePattern::File(f) => Some(f),
            _ => None,
        })
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => None,
        [path] => Some(configure::role_spec::RoleSpec {
            name: path.to_string(),
            sql: std::fs::read_to_string(path)
                .map_err(|e| Failure::usage(format!("--with-roles {path}: {e}")))?,
        }),
        _ => {
            return Err(Failure::usage(
                "--with-roles takes one role spec file; put the roles in one file, or run configure once per file",
            )
            .into());
        }
    };
    let roles = args.roles.roles();
    let opts = configure::Options {
        app,
        database: args.database.clone(),
        owner: args.owner.clone(),
        schemas: args.schemas.clone(),
        extensions: args.extensions.clone(),
        postgrest: roles.any() || args.with_roles.contains(&RolePattern::Postgrest),
        roles,
        readonly: args.with_roles.contains(&RolePattern::Readonly),
        role_spec,
        url_secret: match (&args.namespace, &args.secret_name_prefix) {
            (Some(n), Some(p)) => Some(configure::UrlSecret {
                namespace: n.clone(),
                prefix: p.clone(),
            }),
            _ => None,
        },
        owner_createrole: match (args.owner_createrole, args.no_owner_createrole) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        rotate: args.rotate,
        purge: args.purge,
        yes: args.yes,
        dry_run: args.dry_run,
        after_undeploy: false,
        init,
    };
    configure::validate(&opts)?;
    let mut session = Session::new(args.cluster_args.config(), args.locator.locator()?)?;
    let report = configure::run(&mut session, &opts)?;
    print(&report, json_mode)?;
    Ok(0)
}

fn print(report: &Report, json_mode: bool) -> anyhow::Result<()> {
    match report {
        Report::DryRun(d) if json_mode => output::print_json(&serde_json::to_value(d)?)?,
        Report::DryRun(d) => {
            let mut text = format!(
                "-- uis-db-configure {} --dry-run: nothing was changed\n",
                d.app
            );
            for s in &d.steps {
                // A meta-command (`\i FILE`) takes no `;`.
                let end = if s.sql.starts_with('\\') { "" } else { ";" };
                text.push_str(&format!("\\connect {}\n{}{end}\n", s.database, s.sql));
            }
            if d.steps.is_empty() {
                text.push_str("-- nothing to do: already configured\n");
            }
            output::print(&text)?;
        }
        Report::Configured(c) if json_mode => output::print_json(&serde_json::to_value(c)?)?,
        Report::Configured(c) => {
            let pw = &c.password;
            let n = c.changes.len();
            let mut t = format!(
                "{}: database {} owned by {} ({n} change{})\n  password: {} (stored; `uis db creds {}` prints it)\n  local:    {}\n  cluster:  {}\n",
                c.status,
                c.database,
                c.username,
                if n == 1 { "" } else { "s" },
                output::mask(pw),
                c.app,
                c.localhost.database_url.replace(pw, &output::mask(pw)),
                c.cluster.database_url.replace(pw, &output::mask(pw)),
            );
            if !c.restart.is_empty() {
                t.push_str(&format!(
                    "  restart:  {} (they read the old password)\n",
                    c.restart.join(", ")
                ));
            }
            if let Some(spec) = &c.role_spec {
                t.push_str(&format!(
                    "  roles:    {} ({}): {}\n",
                    spec.file,
                    if spec.applied {
                        "applied"
                    } else {
                        "applied before, not run again"
                    },
                    spec.roles
                        .iter()
                        .map(|r| format!("{} ({})", r.role, r.password.as_str()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            t.push_str("next:\n");
            for s in &c.next_steps {
                t.push_str(&format!("  {s}\n"));
            }
            output::print(&t)?;
        }
        // Printed as JSON on a terminal too.
        Report::PurgeDryRun(p) => output::print_json(&serde_json::to_value(p)?)?,
        Report::Purged(p) if json_mode => output::print_json(&serde_json::to_value(p)?)?,
        Report::Purged(p) => output::print(&format!(
            "purged: database {} and roles {} dropped; credentials deleted\n",
            p.database,
            p.dropped_roles.join(", ")
        ))?,
    }
    Ok(())
}
