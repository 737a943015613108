//! The `kube-standin` binary: starts the Kubernetes API stand-in for the
//! sandbox script, optionally seeds the UIS objects, writes the kubeconfig
//! and a ready file (or prints `ready <url>`), and runs until SIGTERM/SIGINT.
//! Faults can be set at run time through `POST /standin/faults`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use kube_standin::{StandIn, StandInOptions};

const USAGE: &str = "usage: kube-standin --kubeconfig-out PATH [--port N] [--token TOKEN] \
[--seed-uis --pg-addr 127.0.0.1:PORT --pg-password-file FILE [--topology incluster|proxied] \
[--provider bitnami|uis-proxied|cnpg|zalando|pgo|stackgres|external --replica-addr 127.0.0.1:PORT]] [--ready-file PATH]";

struct Args {
    kubeconfig_out: PathBuf,
    port: Option<u16>,
    token: Option<String>,
    seed_uis: bool,
    /// `--topology proxied`: seed UIS's proxied topology (the Deployment
    /// whose pod forwards to `--pg-addr`, where socat listens).
    proxied: bool,
    pg_addr: Option<SocketAddr>,
    pg_password_file: Option<PathBuf>,
    ready_file: Option<PathBuf>,
    provider: Option<String>,
    replica_addr: Option<SocketAddr>,
}

fn parse_args() -> Result<Args> {
    let mut it = std::env::args().skip(1);
    let mut kubeconfig_out = None;
    let mut a = Args {
        kubeconfig_out: PathBuf::new(),
        port: None,
        token: None,
        seed_uis: false,
        proxied: false,
        pg_addr: None,
        pg_password_file: None,
        ready_file: None,
        provider: None,
        replica_addr: None,
    };
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => it
                    .next()
                    .with_context(|| format!("{name} needs a value\n{USAGE}")),
            }
        };
        match flag.as_str() {
            "--kubeconfig-out" => kubeconfig_out = Some(PathBuf::from(value("--kubeconfig-out")?)),
            "--port" => {
                a.port = Some(
                    value("--port")?
                        .parse()
                        .context("--port must be a number")?,
                )
            }
            "--token" => a.token = Some(value("--token")?),
            "--seed-uis" => a.seed_uis = true,
            "--topology" => match value("--topology")?.as_str() {
                "incluster" | "in-cluster" => a.proxied = false,
                "proxied" => a.proxied = true,
                other => bail!("--topology must be incluster or proxied, not {other:?}\n{USAGE}"),
            },
            "--pg-addr" => {
                a.pg_addr = Some(
                    value("--pg-addr")?
                        .parse()
                        .context("--pg-addr must be IP:PORT")?,
                )
            }
            "--pg-password-file" => {
                a.pg_password_file = Some(PathBuf::from(value("--pg-password-file")?))
            }
            "--ready-file" => a.ready_file = Some(PathBuf::from(value("--ready-file")?)),
            "--provider" => a.provider = Some(value("--provider")?),
            "--replica-addr" => {
                a.replica_addr = Some(
                    value("--replica-addr")?
                        .parse()
                        .context("--replica-addr must be IP:PORT")?,
                )
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    a.kubeconfig_out =
        kubeconfig_out.with_context(|| format!("--kubeconfig-out is required\n{USAGE}"))?;
    if let Some(p) = &a.provider
        && !kube_standin::providers::PROVIDERS.contains(&p.as_str())
    {
        bail!("unknown --provider {p:?}\n{USAGE}");
    }
    if a.seed_uis && (a.pg_addr.is_none() || a.pg_password_file.is_none()) {
        bail!("--seed-uis needs --pg-addr and --pg-password-file\n{USAGE}");
    }
    Ok(a)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("kube-standin: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args = parse_args()?;
    let standin = StandIn::start(StandInOptions {
        port: args.port,
        token: args.token.clone(),
    })?;
    if args.seed_uis {
        let file = args
            .pg_password_file
            .as_ref()
            .context("--pg-password-file")?;
        let pw =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let addr = args.pg_addr.context("--pg-addr")?;
        let pw = pw.trim_end_matches(['\n', '\r']);
        match args.provider.as_deref() {
            None if args.proxied => {
                standin.seed_uis_proxied(addr, pw);
            }
            None => standin.seed_uis(addr, pw),
            Some(p) => {
                let replica = args.replica_addr.unwrap_or(addr);
                let names =
                    standin.seed_provider(&kube_standin::ProviderSeed::new(p, addr, replica, pw));
                eprintln!(
                    "kube-standin: seeded provider {p}: pods {}",
                    names.join(", ")
                );
            }
        }
    }
    standin.write_kubeconfig(&args.kubeconfig_out)?;
    match &args.ready_file {
        Some(p) => std::fs::write(p, format!("{}\n", standin.url()))
            .with_context(|| format!("writing {}", p.display()))?,
        None => {
            use std::io::Write;
            println!("ready {}", standin.url());
            let _ = std::io::stdout().flush();
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        anyhow::Ok(())
    })?;
    drop(standin);
    Ok(())
}
