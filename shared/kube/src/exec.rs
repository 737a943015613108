//! `pods/exec` into the database pod, for the users who have no local
//! psql (friction F3): psql in the pod, on a terminal.

use crate::cluster::Cluster;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uis_core::Failure;
use uis_core::error::Phase;

/// Runs an interactive psql in pod `ns/pod` through `pods/exec` with a
/// terminal, as `user` on `database`, wired to this process's stdin and
/// stdout, and returns psql's exit code.
///
/// The password travels as the first line of stdin, never in argv, and
/// only after the pod's shell has turned its terminal's echo off.
///
/// Errors: phase `cluster` when exec is refused; `exec` when the stream
/// lacks stdin/stdout, the shell does not start within 30 s, or a write
/// fails.
pub async fn psql_in_pod(
    cluster: &Cluster,
    ns: &str,
    pod: &str,
    user: &str,
    database: &str,
    password: &str,
) -> Result<i32, Failure> {
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), ns);
    // The password travels as the first line of stdin, never in argv. The
    // pod's terminal would echo it: the script turns echo off first and
    // says so with a marker line, and only then is the password sent.
    let script = "stty -echo 2>/dev/null; echo UIS-READY; IFS= read -r PGPASSWORD; stty echo 2>/dev/null; export PGPASSWORD; exec psql -h 127.0.0.1 -U \"$1\" -d \"$2\"";
    let cmd = vec!["sh", "-c", script, "sh", user, database];
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
        .write_all(format!("{password}\n").as_bytes())
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
