//! Flags every binary shares, defined once so `--help`, completions and man
//! pages agree: cluster access (kubectl's `--kubeconfig` and `--context`),
//! where the shared PostgreSQL lives (UIS defaults, each overridable by a flag
//! and a `UIS_*` variable), and `--json`; and the one place where flags
//! become the plain settings the library takes ([`ClusterArgs::config`],
//! [`LocatorArgs::locator`]), as ripgrep's `hiargs.rs` does.
//!
//! The only crate of the suite that knows clap, besides the binaries.

use clap::Args;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;
use uis_core::Failure;
use uis_core::app::parse_host_port;
use uis_ops::kube::ClusterConfig;
use uis_ops::kube::locate::Locator;

pub mod io;
pub mod jwt_flags;
pub mod uis_forms;
pub use io::{
    default_database_and_schemas, default_list, default_nested_str, default_str, parse_and_run,
    run_main, stdin_defaults,
};

/// How to reach the Kubernetes API, following kubectl's rules.
#[derive(Args, Debug, Clone, Default)]
pub struct ClusterArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: its current-context)
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        env = "UIS_CONTEXT",
        hide_env_values = true
    )]
    pub context: Option<String>,
    /// Seconds to wait for any one Kubernetes API call
    #[arg(
        long,
        global = true,
        value_name = "SECONDS",
        default_value_t = 10,
        value_parser = seconds,
        allow_hyphen_values = true,
        env = "UIS_REQUEST_TIMEOUT",
        hide_env_values = true
    )]
    pub request_timeout: u64,
}

/// Where the shared PostgreSQL runs and how its superuser is found.
#[derive(Args, Debug, Clone)]
pub struct LocatorArgs {
    /// Namespace of the PostgreSQL pod, service, admin Secrets and the credential store
    #[arg(
        long,
        global = true,
        value_name = "NS",
        default_value = "default",
        value_parser = dns_label,
        env = "UIS_PG_NAMESPACE",
        hide_env_values = true
    )]
    pub pg_namespace: String,
    /// Label selector of the PostgreSQL pod
    #[arg(
        long,
        global = true,
        value_name = "SELECTOR",
        default_value = "app.kubernetes.io/name=postgresql",
        env = "UIS_PG_SELECTOR",
        hide_env_values = true
    )]
    pub pg_selector: String,
    /// Name of the PostgreSQL Service (for in-cluster URLs)
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        default_value = "postgresql",
        value_parser = dns_label,
        env = "UIS_PG_SERVICE",
        hide_env_values = true
    )]
    pub pg_service: String,
    /// PostgreSQL port in the pod and on the Service
    #[arg(
        long,
        global = true,
        value_name = "PORT",
        default_value_t = 5432,
        value_parser = port,
        allow_hyphen_values = true,
        env = "UIS_PG_PORT",
        hide_env_values = true
    )]
    pub pg_port: u16,
    /// Name of the PostgreSQL superuser
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        default_value = "postgres",
        env = "UIS_PG_SUPERUSER",
        hide_env_values = true
    )]
    pub pg_superuser: String,
    /// Secrets holding the superuser password, tried in order, as SECRET/KEY[,SECRET/KEY...]
    #[arg(
        long,
        global = true,
        value_name = "SECRET/KEY,...",
        default_value = "urbalurba-secrets/PGPASSWORD,postgresql/postgres-password",
        env = "UIS_ADMIN_SECRETS",
        hide_env_values = true
    )]
    pub admin_secrets: String,
    /// The address where the service is exposed to the host (`./uis expose postgresql`), used in `local` URLs
    #[arg(
        long,
        global = true,
        value_name = "HOST:PORT",
        default_value = "localhost:35432",
        env = "UIS_PG_LOCAL",
        hide_env_values = true
    )]
    pub local_address: String,
    /// Connect straight to HOST:PORT instead of through a port-forward (e.g. localhost:35432)
    #[arg(
        long,
        global = true,
        value_name = "HOST:PORT",
        env = "UIS_PG_DIRECT",
        hide_env_values = true
    )]
    pub direct: Option<String>,
    /// Where PostgreSQL lives: auto (detected from the pods of the namespace), bitnami (UIS in-cluster), uis-proxied, cnpg, zalando, pgo, stackgres, or external (--direct HOST:PORT with --admin-secrets)
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        default_value = "auto",
        value_parser = clap::builder::PossibleValuesParser::new(PROVIDERS),
        env = "UIS_PROVIDER",
        hide_env_values = true
    )]
    pub provider: String,
    #[command(flatten)]
    pub tls: TlsArgs,
}

/// TLS to PostgreSQL, with libpq's names, values and variables (libpq docs
/// 34.1.2 "Parameter Key Words" and 34.19 "SSL Support"): `--sslmode`
/// (`PGSSLMODE`), `--sslrootcert` (`PGSSLROOTCERT`), `--sslcert`
/// (`PGSSLCERT`), `--sslkey` (`PGSSLKEY`); plus where the CA may come from
/// in the cluster and the name to check through the port-forward.
#[derive(Args, Debug, Clone, Default)]
pub struct TlsArgs {
    /// TLS to PostgreSQL as libpq's sslmode: disable, allow, prefer (default), require, verify-ca, verify-full
    #[arg(
        long,
        global = true,
        value_name = "MODE",
        value_parser = ssl_mode_parser(),
        env = "PGSSLMODE",
        hide_env_values = true
    )]
    pub sslmode: Option<uis_core::tls::SslMode>,
    /// PEM file of the CA certificate(s) that signed the server's, or `system` for the system's trusted roots (default: ~/.postgresql/root.crt if it exists)
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        env = "PGSSLROOTCERT",
        hide_env_values = true,
        conflicts_with = "sslrootcert_secret"
    )]
    pub sslrootcert: Option<String>,
    /// Read the CA certificate from a Secret: [NS/]NAME[/KEY], key ca.crt by default (CloudNativePG: CLUSTER-ca)
    #[arg(
        long,
        global = true,
        value_name = "[NS/]NAME[/KEY]",
        value_parser = secret_ref,
        env = "UIS_SSLROOTCERT_SECRET",
        hide_env_values = true
    )]
    pub sslrootcert_secret: Option<uis_core::tls::SecretRef>,
    /// PEM client certificate to send (default: ~/.postgresql/postgresql.crt if it exists)
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        env = "PGSSLCERT",
        hide_env_values = true
    )]
    pub sslcert: Option<PathBuf>,
    /// PEM private key of --sslcert (default: ~/.postgresql/postgresql.key)
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        env = "PGSSLKEY",
        hide_env_values = true
    )]
    pub sslkey: Option<PathBuf>,
    /// The name the server certificate must carry for verify-full, and the SNI (default: the --direct host; through the port-forward SERVICE.NAMESPACE.svc.cluster.local)
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        env = "UIS_TLS_SERVER_NAME",
        hide_env_values = true
    )]
    pub tls_server_name: Option<String>,
}

impl TlsArgs {
    /// The settings these flags describe.
    pub fn options(&self) -> uis_core::tls::TlsOptions {
        uis_core::tls::TlsOptions {
            mode: self.sslmode,
            root_cert: self
                .sslrootcert
                .as_deref()
                .map(uis_core::tls::RootCert::parse),
            root_cert_secret: self.sslrootcert_secret.clone(),
            client_cert: self.sslcert.clone(),
            client_key: self.sslkey.clone(),
            server_name: self.tls_server_name.clone(),
        }
    }
}

/// A clap value parser for libpq's sslmode values, listing them for help
/// and completions.
pub fn ssl_mode_parser() -> impl clap::builder::TypedValueParser<Value = uis_core::tls::SslMode> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(uis_core::tls::SslMode::ALL.map(|m| m.as_str()))
        .map(|s| uis_core::tls::SslMode::parse(&s).expect("one of the possible values"))
}

/// A clap value parser for `[NS/]NAME[/KEY]`.
///
/// Errors: the accepted shapes with an example, for clap to show.
pub fn secret_ref(s: &str) -> Result<uis_core::tls::SecretRef, String> {
    uis_core::tls::SecretRef::parse(s)
}

/// What `--provider` takes: `auto` and each
/// [`uis_ops::kube::provider::Provider`]'s name (a test checks they agree).
pub const PROVIDERS: [&str; 8] = [
    "auto",
    "bitnami",
    "uis-proxied",
    "cnpg",
    "zalando",
    "pgo",
    "stackgres",
    "external",
];

#[cfg(test)]
mod provider_names {
    #[test]
    fn every_provider_is_a_choice() {
        let names: Vec<&str> = uis_ops::kube::provider::Provider::ALL
            .iter()
            .map(|p| p.name())
            .collect();
        assert_eq!(&super::PROVIDERS[1..], names.as_slice());
    }
}

impl ClusterArgs {
    /// The [`ClusterConfig`] these flags describe.
    pub fn config(&self) -> ClusterConfig {
        ClusterConfig {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            request_timeout: Duration::from_secs(self.request_timeout),
        }
    }
}

impl LocatorArgs {
    /// The [`Locator`] these flags describe.
    ///
    /// Errors: a usage [`Failure`] (exit 2) naming `--admin-secrets`,
    /// `--local-address` or `--direct` when one is malformed.
    pub fn locator(&self) -> Result<Locator, Failure> {
        let a = self;
        let mut admin_secrets = Vec::new();
        for item in a
            .admin_secrets
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let (name, key) = item.split_once('/').ok_or_else(|| {
                Failure::usage(format!(
                    "invalid --admin-secrets entry {item:?}: expected SECRET/KEY, e.g. urbalurba-secrets/PGPASSWORD"
                ))
            })?;
            admin_secrets.push((name.to_string(), key.to_string()));
        }
        if admin_secrets.is_empty() {
            return Err(Failure::usage(
                "--admin-secrets is empty: name at least one SECRET/KEY, e.g. urbalurba-secrets/PGPASSWORD",
            ));
        }
        Ok(Locator {
            namespace: a.pg_namespace.clone(),
            selector: a.pg_selector.clone(),
            service: a.pg_service.clone(),
            port: a.pg_port,
            superuser: a.pg_superuser.clone(),
            admin_secrets,
            local: parse_host_port("--local-address", &a.local_address)?,
            direct: a
                .direct
                .as_deref()
                .map(|d| parse_host_port("--direct", d))
                .transpose()?,
            tls: a.tls.options(),
            provider: uis_ops::kube::provider::Provider::parse(&a.provider),
            ..Locator::uis_default()
        })
    }
}

impl Default for LocatorArgs {
    fn default() -> Self {
        LocatorArgs {
            pg_namespace: "default".into(),
            pg_selector: "app.kubernetes.io/name=postgresql".into(),
            pg_service: "postgresql".into(),
            pg_port: 5432,
            pg_superuser: "postgres".into(),
            admin_secrets: "urbalurba-secrets/PGPASSWORD,postgresql/postgres-password".into(),
            local_address: "localhost:35432".into(),
            direct: None,
            tls: TlsArgs::default(),
            provider: "auto".into(),
        }
    }
}

/// A clap value parser for namespace and Service names (RFC 1123 labels:
/// lowercase letters, digits and '-', 1-63, letter or digit at both ends),
/// so a name can never change which API path is called.
///
/// Errors: the rule with an example, for clap to show.
pub fn dns_label(s: &str) -> Result<String, String> {
    let ok = uis_core::app::fits(
        s,
        63,
        |c| c.is_ascii_lowercase() || c.is_ascii_digit(),
        |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-',
    ) && !s.ends_with('-');
    if ok {
        Ok(s.to_string())
    } else {
        Err("must be a Kubernetes name: 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit, e.g. `default`".into())
    }
}

/// A whole number in `range`, or `expected` (which says the range and gives
/// an example) as the error: the shape of the numeric value parsers.
///
/// Errors: `expected`.
pub fn number_in<T>(s: &str, range: RangeInclusive<T>, expected: &str) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd,
{
    match s.trim().parse::<T>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(expected.to_string()),
    }
}

/// A clap value parser for whole seconds, 1 to 86400 (a day).
///
/// Errors: the range with an example, for clap to show.
pub fn seconds(s: &str) -> Result<u64, String> {
    number_in(
        s,
        1..=86_400,
        "expected whole seconds from 1 to 86400, e.g. 10",
    )
}

/// A clap value parser for a TCP port, 1 to 65535.
///
/// Errors: the range with an example, for clap to show.
pub fn port(s: &str) -> Result<u16, String> {
    number_in(
        s,
        1..=u16::MAX,
        "expected a port from 1 to 65535, e.g. 5432",
    )
}

/// A clap value parser for a local port to listen on: 0 (any free one) to
/// 65535.
///
/// Errors: the range with an example, for clap to show.
pub fn listen_port(s: &str) -> Result<u16, String> {
    number_in(
        s,
        0..=u16::MAX,
        "expected a port from 0 (any free one) to 65535, e.g. 15432",
    )
}

/// A clap value parser for a role name given to log in as or to put in a
/// token: 1-63 bytes, no control character (it is always quoted in SQL).
///
/// Errors: the rule with an example, for clap to show.
pub fn role_name(s: &str) -> Result<String, String> {
    uis_core::app::validate_ident("role", s)
        .map(|()| s.to_string())
        .map_err(|_| "must be 1-63 bytes with no control character, e.g. `authenticator`".into())
}

/// The PostgREST role names, shared by `uis-db-configure --with-roles
/// postgrest` and `uis-postgrest-deploy` so both mean the same thing.
#[derive(Args, Debug, Clone, Default)]
pub struct PostgrestRoleArgs {
    /// The login role PostgREST connects as (default: the app's, else APP_authenticator)
    #[arg(long, value_name = "NAME")]
    pub authenticator: Option<String>,
    /// The role for requests without a token (default: the app's, else APP_web_anon)
    #[arg(long, value_name = "NAME")]
    pub anon_role: Option<String>,
    /// The role for requests with a token (default: the app's, else APP_authenticated)
    #[arg(long, value_name = "NAME")]
    pub authenticated_role: Option<String>,
}

impl PostgrestRoleArgs {
    /// Each given name is a valid identifier; errors name the flag.
    pub fn validate(&self) -> Result<(), Failure> {
        self.roles().validate()
    }

    /// The flags as the operations take them.
    pub fn roles(&self) -> uis_ops::roles::PostgrestRoles {
        uis_ops::roles::PostgrestRoles {
            authenticator: self.authenticator.clone(),
            anon: self.anon_role.clone(),
            authenticated: self.authenticated_role.clone(),
        }
    }
}
