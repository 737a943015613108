//! A pod's own network, as far as commands run through exec see it. The
//! stand-in runs exec on this host, where 127.0.0.1 is the host's; in a
//! pod it is the pod's, and `psql -h 127.0.0.1 -p 5433` reaches what
//! listens on the pod's port 5433. So every exec gets, first on its PATH, a
//! `psql` wrapper ([`PSQL_SHIM`]) that sends a connection to the pod's
//! loopback on port P where the pod's port P forwards (the port-forward
//! table, [`crate::StandIn::set_pod_forward`]), and a port the pod has no
//! forward for goes on as given (the exec environments of older seeds point
//! `PGPORT` at the real server).
//!
//! Also the stand-in for StackGres' PgBouncer ([`pgbouncer`]): what a
//! StackGres pod's port 5432 reaches, where PostgreSQL itself is on 5433.
//!
//! Not a network namespace: only psql is redirected, and only by its `-h`,
//! `-p` (long forms too), `PGHOST` and `PGPORT`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The `psql` wrapper (POSIX sh). `STANDIN_POD_PORTS` is
/// `PORT=HOST:PORT ...` (the pod's ports and where they forward),
/// `STANDIN_PSQL` the real psql.
pub const PSQL_SHIM: &str = r#"#!/bin/sh
# kube-standin: psql as run inside a pod (see pod_net.rs). The pod's
# loopback (host 127.0.0.1, localhost, ::1, or none: its socket) on port P
# is where the pod's port P forwards (STANDIN_POD_PORTS="P=HOST:PORT ...");
# any other host or port goes on as given, to the real psql (STANDIN_PSQL).
if [ -z "${STANDIN_PSQL-}" ]; then
    echo "sh: 1: psql: not found" >&2
    exit 127
fi
host=${PGHOST-}
port=${PGPORT:-5432}
n=$#
while [ "$n" -gt 0 ]; do
    a=$1
    shift
    n=$((n - 1))
    case $a in
    -h | --host | -p | --port)
        v=${1-}
        if [ "$n" -gt 0 ]; then
            shift
            n=$((n - 1))
        fi
        case $a in
        -h | --host) host=$v ;;
        *) port=$v ;;
        esac
        ;;
    --host=*) host=${a#--host=} ;;
    --port=*) port=${a#--port=} ;;
    -h?*) host=${a#-h} ;;
    -p?*) port=${a#-p} ;;
    -c | -d | -f | -U | -v | -o | -F | -R | -P | -T | -L)
        if [ "$n" -gt 0 ]; then
            set -- "$@" "$a" "$1"
            shift
            n=$((n - 1))
        else
            set -- "$@" "$a"
        fi
        ;;
    *) set -- "$@" "$a" ;;
    esac
done
case $host in
'' | 127.0.0.1 | localhost | ::1)
    for m in ${STANDIN_POD_PORTS-}; do
        if [ "${m%%=*}" = "$port" ]; then
            to=${m#*=}
            unset PGHOST PGHOSTADDR PGPORT
            exec "$STANDIN_PSQL" -h "${to%:*}" -p "${to##*:}" "$@"
        fi
    done
    ;;
esac
if [ -n "$host" ]; then
    set -- -h "$host" "$@"
fi
exec "$STANDIN_PSQL" -p "$port" "$@"
"#;

/// Makes `dir` and writes [`PSQL_SHIM`] there as `psql` (mode 0755).
pub fn write_shim(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("psql");
    std::fs::write(&path, PSQL_SHIM)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

/// The first `psql` on this process's PATH outside `shim_dir`.
fn real_psql(shim_dir: &Path) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|d| d != shim_dir)
        .map(|d| d.join("psql"))
        .find(|p| p.is_file())
}

/// What an exec into a pod whose ports forward as `ports` adds to its
/// environment: PATH with `shim_dir` first, `STANDIN_POD_PORTS` and
/// `STANDIN_PSQL`.
pub fn exec_env(shim_dir: &Path, ports: &[(u16, SocketAddr)]) -> Vec<(String, String)> {
    let path = std::env::var("PATH").unwrap_or_default();
    let table: Vec<String> = ports.iter().map(|(p, to)| format!("{p}={to}")).collect();
    vec![
        ("PATH".into(), format!("{}:{path}", shim_dir.display())),
        ("STANDIN_POD_PORTS".into(), table.join(" ")),
        (
            "STANDIN_PSQL".into(),
            real_psql(shim_dir)
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        ),
    ]
}

/// What the stand-in's PgBouncer tells every client: it is the pooler, not
/// PostgreSQL.
pub const PGBOUNCER_REFUSAL: &str = "the stand-in's PgBouncer: this port of the StackGres pod is its connection pooler (PgBouncer), not PostgreSQL, which listens on 5433";

/// Serves `listener` as StackGres' PgBouncer stands in front of PostgreSQL,
/// enough for a client to tell it did not reach PostgreSQL: it declines
/// SSL and GSSAPI encryption (`N`, as a PgBouncer without TLS does), reads
/// the startup message and answers an ErrorResponse (FATAL, SQLSTATE
/// 08P01, [`PGBOUNCER_REFUSAL`]), then closes. Until `stop` turns true.
pub async fn pgbouncer(
    listener: tokio::net::TcpListener,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            accepted = listener.accept() => {
                if let Ok((sock, _)) = accepted {
                    tokio::spawn(refuse(sock));
                }
            }
        }
    }
}

async fn refuse(mut sock: tokio::net::TcpStream) {
    const SSL_REQUEST: u32 = 80877103;
    const GSSENC_REQUEST: u32 = 80877104;
    const CANCEL_REQUEST: u32 = 80877102;
    let read = async {
        loop {
            let len = sock.read_u32().await? as usize;
            let code = sock.read_u32().await?;
            let mut rest = vec![0u8; len.saturating_sub(8).min(10_000)];
            sock.read_exact(&mut rest).await?;
            match code {
                SSL_REQUEST | GSSENC_REQUEST => sock.write_all(b"N").await?,
                CANCEL_REQUEST => return Ok(false),
                _ => return Ok::<bool, std::io::Error>(true),
            }
        }
    };
    let Ok(Ok(true)) = tokio::time::timeout(std::time::Duration::from_secs(10), read).await else {
        return;
    };
    let mut fields = Vec::new();
    for (tag, value) in [
        (b'S', "FATAL"),
        (b'V', "FATAL"),
        (b'C', "08P01"),
        (b'M', PGBOUNCER_REFUSAL),
    ] {
        fields.push(tag);
        fields.extend_from_slice(value.as_bytes());
        fields.push(0);
    }
    fields.push(0);
    let mut msg = vec![b'E'];
    msg.extend_from_slice(&((fields.len() + 4) as u32).to_be_bytes());
    msg.extend_from_slice(&fields);
    let _ = sock.write_all(&msg).await;
    let _ = sock.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the shim runs for `args` and `env`, with `echo` as the real
    /// psql: the arguments it passes on.
    fn shim(args: &[&str], env: &[(&str, &str)]) -> String {
        let dir = std::env::temp_dir().join(format!("pod-net-test-{}", crate::util::uuid()));
        write_shim(&dir).expect("write the shim");
        let out = std::process::Command::new(dir.join("psql"))
            .args(args)
            .env_remove("PGHOST")
            .env_remove("PGPORT")
            .env("STANDIN_PSQL", "echo")
            .env(
                "STANDIN_POD_PORTS",
                "5432=127.0.0.1:41001 5433=127.0.0.1:41002",
            )
            .envs(env.iter().copied())
            .output()
            .expect("run the shim");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    #[test]
    fn the_pods_loopback_ports_go_where_they_forward() {
        assert_eq!(
            shim(
                &["-h", "127.0.0.1", "-p", "5433", "-U", "u", "-d", "d"],
                &[]
            ),
            "-h 127.0.0.1 -p 41002 -U u -d d"
        );
        // psql's default port, and the socket (no host), are the pod's 5432.
        assert_eq!(shim(&["-c", "-p 1"], &[]), "-h 127.0.0.1 -p 41001 -c -p 1");
        assert_eq!(
            shim(&["--host=localhost", "--port=5433"], &[]),
            "-h 127.0.0.1 -p 41002"
        );
        assert_eq!(
            shim(&["-Atc", "select 1"], &[("PGPORT", "5433")]),
            "-h 127.0.0.1 -p 41002 -Atc select 1"
        );
        // Another host, or a port the pod does not forward, as given.
        assert_eq!(
            shim(&["-h", "db.example", "-p", "5433"], &[]),
            "-p 5433 -h db.example"
        );
        assert_eq!(
            shim(&["-h127.0.0.1", "-p", "45000"], &[]),
            "-p 45000 -h 127.0.0.1"
        );
    }

    #[test]
    fn pgbouncer_refuses_every_client_as_the_pooler() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            let (_stop, stop_rx) = tokio::sync::watch::channel(false);
            tokio::spawn(pgbouncer(listener, stop_rx));
            let mut c = tokio::net::TcpStream::connect(addr).await.expect("connect");
            // SSLRequest, declined.
            c.write_all(&[0, 0, 0, 8, 4, 210, 22, 47])
                .await
                .expect("ssl");
            assert_eq!(c.read_u8().await.expect("answer"), b'N');
            // StartupMessage 3.0, user u.
            let body = b"\x00\x03\x00\x00user\x00u\x00\x00";
            let mut startup = ((body.len() + 4) as u32).to_be_bytes().to_vec();
            startup.extend_from_slice(body);
            c.write_all(&startup).await.expect("startup");
            let mut reply = Vec::new();
            c.read_to_end(&mut reply).await.expect("reply");
            assert_eq!(reply[0], b'E');
            let text = String::from_utf8_lossy(&reply);
            assert!(text.contains("FATAL") && text.contains("08P01"), "{text}");
            assert!(text.contains(PGBOUNCER_REFUSAL), "{text}");
        });
    }
}
