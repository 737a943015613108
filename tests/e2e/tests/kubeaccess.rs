//! Cluster access as kubectl does it (issue 20): bearer-token files with
//! line breaks, the in-cluster fallback, exec credential plugins, proxies
//! (a real tinyproxy and microsocks on loopback), Secret values with a
//! trailing line break, and errors that point the right way. Where the
//! behaviour is kubectl's, the real kubectl runs on the same kubeconfig in
//! the same test.

use std::io::BufRead;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use uis_e2e::{Env, Out, base64_encode, need_tool, output};

/// A kubeconfig for `env`'s stand-in with `user` as the user's YAML body
/// (indented under `user:`) and `cluster_extra` lines under `cluster:`.
fn kubeconfig(env: &Env, name: &str, user: &str, cluster_extra: &str) -> PathBuf {
    let path = env.path(name);
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: standin\n  cluster:\n    server: {}\n    certificate-authority-data: {}\n{cluster_extra}users:\n- name: standin\n  user:\n{user}contexts:\n- name: standin\n  context:\n    cluster: standin\n    user: standin\n    namespace: default\ncurrent-context: standin\n",
        env.standin.url(),
        base64_encode(env.standin.ca_pem().as_bytes()),
    );
    std::fs::write(&path, text).expect("write kubeconfig");
    path
}

/// A suite binary on `kc` (no proxy variables from the caller).
fn suite(env: &Env, name: &str, kc: &Path) -> Command {
    let mut c = env.cmd(name);
    c.env("KUBECONFIG", kc);
    for v in proxy_vars() {
        c.env_remove(v);
    }
    c
}

fn proxy_vars() -> [&'static str; 6] {
    [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "NO_PROXY",
        "no_proxy",
    ]
}

/// The real kubectl on `kc` (None, with a note, when not installed; a
/// failure under CI).
fn kubectl(env: &Env, kc: &Path, args: &[&str], envs: &[(&str, &str)]) -> Option<Out> {
    let path = need_tool("kubectl")?;
    let home = env.path("kubectl-home");
    std::fs::create_dir_all(&home).ok();
    let mut c = Command::new(path);
    c.arg("--kubeconfig")
        .arg(kc)
        .arg("--cache-dir")
        .arg(home.join("cache"))
        .args(args)
        .env("HOME", &home)
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null());
    for v in proxy_vars() {
        c.env_remove(v);
    }
    for (k, v) in envs {
        c.env(k, v);
    }
    Some(output(&mut c))
}

const GET_SECRET: [&str; 5] = ["get", "secret", "urbalurba-secrets", "-n", "default"];

// ---------------------------------------------------------------------------
// Bearer tokens.

#[test]
fn token_files_ending_in_a_line_break_work_as_in_kubectl() {
    let env = Env::new();
    for (name, body) in [("lf", "\n"), ("crlf", "\r\n")] {
        let file = env.path(&format!("token-{name}"));
        std::fs::write(&file, format!("{}{body}", env.standin.token())).unwrap();
        let kc = kubeconfig(
            &env,
            &format!("kc-{name}"),
            &format!("    tokenFile: {}\n", file.display()),
            "",
        );
        let out = output(suite(&env, "uis-db-creds", &kc).args(["--admin", "--json"]));
        out.ok();
        assert_eq!(out.json()["password"], env.admin_password());
        assert!(!out.stderr.contains(&env.standin.token()));
        if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
            k.ok();
        }
    }
}

#[test]
fn a_pod_whose_kubeconfig_is_missing_uses_its_service_account() {
    let env = Env::new();
    let sa = env.path("serviceaccount");
    std::fs::create_dir_all(&sa).unwrap();
    std::fs::write(sa.join("token"), format!("{}\r\n", env.standin.token())).unwrap();
    std::fs::write(sa.join("ca.crt"), env.standin.ca_pem()).unwrap();
    std::fs::write(sa.join("namespace"), "default").unwrap();
    let port = env.standin.port().to_string();
    let run = |kubeconfig: &str| {
        output(
            env.cmd("uis-db-creds")
                .args(["--admin", "--json"])
                .env("KUBECONFIG", kubeconfig)
                .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
                .env("KUBERNETES_SERVICE_PORT", &port)
                .env("UIS_SERVICE_ACCOUNT_DIR", &sa),
        )
    };
    let missing = env.path("no-such-kubeconfig");
    let out = run(missing.to_str().unwrap());
    out.ok();
    assert_eq!(out.json()["password"], env.admin_password());
    // Without the mounted token it is not a pod: the old message stays.
    std::fs::remove_file(sa.join("token")).unwrap();
    let out = run(missing.to_str().unwrap());
    out.expect_code(1);
    assert!(
        out.stderr.contains("KUBECONFIG names no existing file"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_refused_token_says_so_and_not_that_the_cluster_is_down() {
    let env = Env::new();
    let kc = kubeconfig(&env, "kc-bad", "    token: not-the-right-token\n", "");
    let out = output(suite(&env, "uis-db-creds", &kc).args(["--admin"]));
    out.expect_code(1);
    assert!(out.stderr.contains("Unauthorized"), "{}", out.stderr);
    assert!(
        out.stderr.contains("refused the credentials"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("is the cluster running"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("not-the-right-token"),
        "{}",
        out.stderr
    );
    if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
        assert_ne!(k.code, 0);
        assert!(
            k.stderr.contains("You must be logged in to the server"),
            "{}",
            k.stderr
        );
    }
}

// ---------------------------------------------------------------------------
// Exec credential plugins.

/// A plugin that counts its runs, keeps its KUBERNETES_EXEC_INFO, prompts
/// on stderr, waits, then prints the stand-in's token.
fn plugin(env: &Env) -> (PathBuf, PathBuf, PathBuf) {
    let script = env.path("fake-kubelogin");
    let count = env.path("plugin-runs");
    let info = env.path("plugin-info");
    std::fs::write(
        &script,
        "#!/bin/sh\necho run >> \"$COUNT\"\nprintf '%s\\n' \"$KUBERNETES_EXEC_INFO\" > \"$INFO\"\necho 'To sign in, open https://login.example/device and enter the code ABCD-EFGH' >&2\nsleep 1.5\nprintf '{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"status\":{\"token\":\"%s\",\"expirationTimestamp\":\"2099-01-01T00:00:00Z\"}}\\n' \"$TOKEN\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, count, info)
}

fn exec_user(command: &str, args: &[&str], env: &[(&str, &str)], extra: &str) -> String {
    let mut s = format!(
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: {command}\n      interactiveMode: IfAvailable\n"
    );
    if !args.is_empty() {
        s.push_str("      args:\n");
        for a in args {
            s.push_str(&format!("      - {a:?}\n"));
        }
    }
    if !env.is_empty() {
        s.push_str("      env:\n");
        for (n, v) in env {
            s.push_str(&format!("      - name: {n}\n        value: {v:?}\n"));
        }
    }
    s.push_str(extra);
    s
}

#[test]
fn an_exec_plugin_runs_once_and_its_prompt_shows_at_once() {
    let env = Env::new();
    let (script, count, info) = plugin(&env);
    let token = env.standin.token();
    let user = exec_user(
        script.to_str().unwrap(),
        &["get-token", "--server-id", "abc"],
        &[
            ("COUNT", count.to_str().unwrap()),
            ("INFO", info.to_str().unwrap()),
            ("TOKEN", &token),
        ],
        "",
    );
    let kc = kubeconfig(&env, "kc-exec", &user, "");
    // The prompt reaches stderr while the plugin still runs (it waits
    // 1.5 s after writing it).
    let start = Instant::now();
    let mut child = suite(&env, "uis-db-creds", &kc)
        .args(["--admin", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in std::io::BufReader::new(stderr).lines() {
            lines.push((start.elapsed(), line.unwrap_or_default()));
        }
        lines
    });
    let o = child.wait_with_output().expect("wait");
    let ended = start.elapsed();
    let lines = reader.join().unwrap();
    let text: Vec<&str> = lines.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(o.status.code(), Some(0), "{}", text.join("\n"));
    let (at, _) = lines
        .iter()
        .find(|(_, l)| l.contains("ABCD-EFGH"))
        .unwrap_or_else(|| panic!("no prompt on stderr: {text:?}"));
    assert!(
        ended - *at >= Duration::from_millis(1000),
        "the prompt came {at:?} after the start, the command ended at {ended:?}: not streamed"
    );
    // Once per command, though the command makes several API calls.
    let runs = std::fs::read_to_string(&count).unwrap();
    assert_eq!(runs.lines().count(), 1, "plugin runs: {runs:?}");
    assert!(!text.join("\n").contains(&token));
    // stdin is not a terminal: interactive false, as kubectl says it.
    let ours: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&info).unwrap()).unwrap();
    assert_eq!(ours["spec"]["interactive"], false, "{ours}");
    assert_eq!(ours["kind"], "ExecCredential");
    if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
        k.ok();
        let theirs: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&info).unwrap()).unwrap();
        assert_eq!(theirs["spec"]["interactive"], ours["spec"]["interactive"]);
    }
    // On a terminal (util-linux `script` gives it one) it says true.
    if need_tool("script").is_some() {
        std::fs::remove_file(&info).ok();
        let bin = uis_e2e::bin("uis-db-creds");
        let line = format!(
            "KUBECONFIG={} {} --admin --json >/dev/null 2>&1",
            kc.display(),
            bin.display()
        );
        let o = output(
            Command::new("script")
                .args(["-qec", &line, "/dev/null"])
                .env("HOME", env.dir.path())
                .env_remove("UIS_SERVICE_ACCOUNT_DIR"),
        );
        assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
        let tty: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&info).unwrap()).unwrap();
        assert_eq!(tty["spec"]["interactive"], true, "{tty}");
    }
}

#[test]
fn a_missing_plugin_says_what_kubectl_says_with_the_install_hint() {
    let env = Env::new();
    let user = exec_user(
        "kubelogin-not-installed",
        &["get-token", "--client-secret", "PLUGIN-ARG-SECRET"],
        &[],
        "      installHint: \"kubelogin is required: https://aka.ms/aks/kubelogin\"\n",
    );
    let kc = kubeconfig(&env, "kc-missing", &user, "");
    let out = output(suite(&env, "uis-db-creds", &kc).args(["--admin"]));
    out.expect_code(1);
    for want in [
        "exec: executable kubelogin-not-installed not found",
        "It looks like you are trying to use a client-go credential plugin that is not installed.",
        "kubelogin is required: https://aka.ms/aks/kubelogin",
    ] {
        assert!(
            out.stderr.contains(want),
            "{want:?} not in:\n{}",
            out.stderr
        );
        if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
            assert!(k.stderr.contains(want), "kubectl: {}", k.stderr);
        }
    }
    assert!(!out.stderr.contains("PLUGIN-ARG-SECRET"), "{}", out.stderr);
    assert!(!out.stderr.contains("certificate data"), "{}", out.stderr);
}

#[test]
fn a_failing_plugin_is_reported_without_its_arguments_or_environment() {
    let env = Env::new();
    let script = env.path("failing-plugin");
    std::fs::write(
        &script,
        "#!/bin/sh\necho 'AADSTS70043: the refresh token has expired' >&2\nexit 3\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let user = exec_user(
        script.to_str().unwrap(),
        &["--client-secret", "PLUGIN-ARG-SECRET"],
        &[("AZURE_CLIENT_SECRET", "PLUGIN-ENV-SECRET")],
        "",
    );
    let kc = kubeconfig(&env, "kc-failing", &user, "");
    let want = format!(
        "exec: executable {} failed with exit code 3",
        script.display()
    );
    for json in [false, true] {
        let mut c = suite(&env, "uis-db-creds", &kc);
        c.arg("--admin");
        if json {
            c.arg("--json");
        }
        let out = output(&mut c);
        out.expect_code(1);
        assert!(out.stderr.contains(&want), "{}", out.stderr);
        // The plugin's own words reach the terminal.
        assert!(out.stderr.contains("AADSTS70043"), "{}", out.stderr);
        for secret in ["PLUGIN-ARG-SECRET", "PLUGIN-ENV-SECRET"] {
            assert!(!out.stderr.contains(secret), "{}", out.stderr);
            assert!(!out.stdout.contains(secret), "{}", out.stdout);
        }
        assert!(!out.stderr.contains("certificate data"), "{}", out.stderr);
        if json {
            assert_eq!(out.json()["status"], "error");
        }
    }
    if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
        assert!(k.stderr.contains(&want), "kubectl: {}", k.stderr);
    }
}

// ---------------------------------------------------------------------------
// Proxies.

/// Logins in proxy URLs, Go's reading of proxy URLs and NO_PROXY.
mod proxies;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A proxy process of the test's own, stopped by its PID.
struct ProxyProc {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Drop for ProxyProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_listening(port: u16) {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(10) {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the proxy did not listen on 127.0.0.1:{port}");
}

fn tinyproxy(env: &Env) -> Option<ProxyProc> {
    tinyproxy_with(env, "tinyproxy", "")
}

/// tinyproxy on loopback (HTTP CONNECT), its configuration and log named
/// `NAME.conf`/`NAME.log` in the test's directory, with `extra` lines of
/// configuration (e.g. `BasicAuth user password`); `None` when it is not
/// installed (a failure under CI).
fn tinyproxy_with(env: &Env, name: &str, extra: &str) -> Option<ProxyProc> {
    let bin = need_tool("tinyproxy")?;
    let port = free_port();
    let conf = env.path(&format!("{name}.conf"));
    let log = env.path(&format!("{name}.log"));
    std::fs::write(
        &conf,
        format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 120\nLogFile \"{}\"\nLogLevel Connect\nMaxClients 100\nAllow 127.0.0.1\n{extra}",
            log.display()
        ),
    )
    .unwrap();
    let child = Command::new(bin)
        .args(["-d", "-c"])
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tinyproxy");
    wait_listening(port);
    Some(ProxyProc { child, port, log })
}

fn microsocks(env: &Env) -> Option<ProxyProc> {
    let bin = need_tool("microsocks")?;
    let port = free_port();
    let log = env.path("microsocks.log");
    let child = Command::new(bin)
        .args(["-i", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("start microsocks");
    wait_listening(port);
    Some(ProxyProc { child, port, log })
}

fn cert_user(env: &Env) -> String {
    // The stand-in's own kubeconfig's user block (client certificate).
    let kc = env.standin.kubeconfig();
    let start = kc.find("  user:\n").unwrap() + "  user:\n".len();
    let end = kc.find("contexts:").unwrap();
    kc[start..end].to_string()
}

fn connects(log: &Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("CONNECT"))
        .count()
}

/// A kubeconfig `name` whose cluster is reached through `proxy` (its
/// `proxy-url`), with the stand-in's client certificate.
fn proxied_kubeconfig(env: &Env, name: &str, proxy: &str) -> PathBuf {
    kubeconfig(
        env,
        name,
        &cert_user(env),
        &format!("    proxy-url: {proxy}\n"),
    )
}

/// `uis-db-creds --admin --json` on `kc` gives the server's password.
fn admin_creds_on(env: &Env, kc: &Path) {
    let out = output(suite(env, "uis-db-creds", kc).args(["--admin", "--json"]));
    out.ok();
    assert_eq!(out.json()["password"], env.admin_password());
}

/// `select 40 + 2` as the admin through the port-forward on `kc` gives 42.
fn admin_query_on(env: &Env, kc: &Path) {
    let out = output(suite(env, "uis-db-psql", kc).args(["--as", "admin", "-c", "select 40 + 2"]));
    out.ok();
    assert!(out.stdout.contains("42"), "{}", out.stdout);
}

/// `uis-db-creds --admin` on `kc` with `envs` fails (exit 1) with each of
/// `says` in its error, and so does kubectl, whose output is returned
/// (`None` without kubectl).
fn both_fail_on(env: &Env, kc: &Path, envs: &[(&str, &str)], says: &[&str]) -> Option<Out> {
    let mut c = suite(env, "uis-db-creds", kc);
    c.arg("--admin");
    for (k, v) in envs {
        c.env(k, v);
    }
    let out = output(&mut c);
    out.expect_code(1);
    for s in says {
        assert!(out.stderr.contains(s), "{s:?} not in: {}", out.stderr);
    }
    let k = kubectl(env, kc, &GET_SECRET, envs)?;
    assert_ne!(
        k.code, 0,
        "kubectl worked where the suite failed: {}",
        k.stdout
    );
    Some(k)
}

#[test]
fn kubeconfig_proxy_url_goes_through_a_real_http_proxy_also_for_the_port_forward() {
    let env = Env::new();
    let Some(proxy) = tinyproxy(&env) else {
        return;
    };
    let kc = proxied_kubeconfig(
        &env,
        "kc-http-proxy",
        &format!("http://127.0.0.1:{}", proxy.port),
    );
    admin_creds_on(&env, &kc);
    let after_api = connects(&proxy.log);
    assert!(after_api >= 1, "no CONNECT in the proxy's log");
    // The port-forward's WebSocket takes the same way.
    admin_query_on(&env, &kc);
    assert!(
        connects(&proxy.log) > after_api,
        "the port-forward bypassed the proxy"
    );
    if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
        k.ok();
    }
    // A proxy-url that does not answer fails both, naming the proxy.
    drop(proxy);
    let dead = format!("http://127.0.0.1:{}", free_port());
    let kc = proxied_kubeconfig(&env, "kc-dead-proxy", &dead);
    both_fail_on(&env, &kc, &[], &[&format!("proxy {dead}")]);
}

#[test]
fn kubeconfig_proxy_url_socks5_goes_through_a_real_socks_proxy() {
    let env = Env::new();
    let Some(proxy) = microsocks(&env) else {
        return;
    };
    let kc = proxied_kubeconfig(
        &env,
        "kc-socks",
        &format!("socks5://127.0.0.1:{}", proxy.port),
    );
    admin_creds_on(&env, &kc);
    admin_query_on(&env, &kc);
    if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
        k.ok();
    }
    // Without the proxy the same kubeconfig fails for both: it was used.
    drop(proxy);
    both_fail_on(&env, &kc, &[], &["socks5://127.0.0.1"]);
}

/// Runs `cmd` to the end, panicking with its stderr when it fails.
fn run_ok(cmd: &mut Command, what: &str) {
    let out = output(cmd);
    assert_eq!(out.code, 0, "{what}: {}", out.stderr);
}

/// An https:// proxy: a TLS front (socat `OPENSSL-LISTEN`) on loopback
/// before `inner` (tinyproxy), with a certificate for 127.0.0.1 signed by a
/// CA made here with the openssl command. Returns the front and the CA's
/// PEM. `None` (a failure under CI) when socat or openssl is missing.
fn tls_front(env: &Env, inner: u16) -> Option<(ProxyProc, String)> {
    let openssl = need_tool("openssl")?;
    let socat = need_tool("socat")?;
    let dir = env.path("tls-proxy");
    std::fs::create_dir_all(&dir).unwrap();
    let p = |f: &str| dir.join(f).display().to_string();
    std::fs::write(
        p("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    run_ok(
        Command::new(&openssl)
            .args(["req", "-x509"])
            .args(ec)
            .args(["-keyout", &p("ca.key"), "-out", &p("ca.pem"), "-days", "2"])
            .args(["-subj", "/CN=uis-test-proxy-ca"])
            .args(["-addext", "basicConstraints=critical,CA:TRUE"])
            .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]),
        "openssl: the proxy's CA",
    );
    run_ok(
        Command::new(&openssl)
            .arg("req")
            .args(ec)
            .args(["-keyout", &p("proxy.key"), "-out", &p("proxy.csr")])
            .args(["-subj", "/CN=uis-test-proxy"]),
        "openssl: the proxy's key",
    );
    run_ok(
        Command::new(&openssl)
            .args(["x509", "-req", "-in", &p("proxy.csr"), "-CA", &p("ca.pem")])
            .args(["-CAkey", &p("ca.key"), "-CAcreateserial", "-days", "2"])
            .args(["-out", &p("proxy.pem"), "-extfile", &p("ext.cnf")]),
        "openssl: the proxy's certificate",
    );
    let port = free_port();
    let log = env.path("socat.log");
    let child = Command::new(socat)
        .arg(format!(
            "OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,cert={},key={},verify=0",
            p("proxy.pem"),
            p("proxy.key")
        ))
        .arg(format!("TCP:127.0.0.1:{inner}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start socat");
    wait_listening(port);
    let ca = std::fs::read_to_string(p("ca.pem")).unwrap();
    Some((ProxyProc { child, port, log }, ca))
}

#[test]
fn kubeconfig_proxy_url_https_goes_through_a_tls_proxy_trusted_as_kubectl_trusts_it() {
    let env = Env::new();
    let Some(proxy) = tinyproxy(&env) else {
        return;
    };
    let Some((front, proxy_ca)) = tls_front(&env, proxy.port) else {
        return;
    };
    let front_url = format!("https://127.0.0.1:{}", front.port);
    // client-go checks an https proxy's certificate with the cluster's TLS
    // settings (Go's Transport.TLSClientConfig): the kubeconfig's CA, so
    // the proxy's CA joins the cluster's in certificate-authority-data.
    let kc = proxied_kubeconfig(&env, "kc-https-proxy", &front_url);
    let cluster_ca = base64_encode(env.standin.ca_pem().as_bytes());
    let bundle = base64_encode(format!("{}{proxy_ca}", env.standin.ca_pem()).as_bytes());
    let text = std::fs::read_to_string(&kc).unwrap();
    std::fs::write(&kc, text.replace(&cluster_ca, &bundle)).unwrap();
    let before = connects(&proxy.log);
    admin_creds_on(&env, &kc);
    let after_api = connects(&proxy.log);
    assert!(after_api > before, "no CONNECT through the TLS front");
    admin_query_on(&env, &kc);
    assert!(
        connects(&proxy.log) > after_api,
        "the port-forward bypassed the proxy"
    );
    let before_kubectl = connects(&proxy.log);
    if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
        k.ok();
        assert!(connects(&proxy.log) > before_kubectl, "kubectl went around");
    }
    // Without the proxy's CA both refuse the proxy's certificate.
    let kc = proxied_kubeconfig(&env, "kc-https-proxy-untrusted", &front_url);
    let said = format!("the certificate of the proxy {front_url}");
    if let Some(k) = both_fail_on(&env, &kc, &[], &[&said, "certificate-authority-data"]) {
        assert!(
            k.stderr.contains("certificate signed by unknown authority"),
            "{}",
            k.stderr
        );
    }
}

#[test]
fn proxy_variables_are_used_for_a_cluster_host_and_no_proxy_bypasses_them() {
    let env = Env::new();
    let Some(proxy) = tinyproxy(&env) else {
        return;
    };
    // kubectl (Go's http.ProxyFromEnvironment) and the suite never proxy
    // localhost or a loopback address, so the cluster is named 0.0.0.0: not
    // loopback by that rule, yet on Linux a connection to it reaches the
    // local host, where the stand-in listens (on 127.0.0.1 only). Its
    // certificate names 127.0.0.1: tls-server-name says so.
    let kc = kubeconfig(
        &env,
        "kc-env-proxy",
        &cert_user(&env),
        "    tls-server-name: 127.0.0.1\n",
    );
    let text = std::fs::read_to_string(&kc).unwrap();
    std::fs::write(
        &kc,
        text.replace("server: https://127.0.0.1:", "server: https://0.0.0.0:"),
    )
    .unwrap();
    let url = format!("http://127.0.0.1:{}", proxy.port);
    let no_scheme = format!("127.0.0.1:{}", proxy.port);
    let cases: Vec<(Vec<(&str, &str)>, bool)> = vec![
        (vec![("HTTPS_PROXY", url.as_str())], true),
        (vec![("https_proxy", no_scheme.as_str())], true),
        (
            vec![("HTTPS_PROXY", url.as_str()), ("NO_PROXY", "0.0.0.0")],
            false,
        ),
        (
            vec![
                ("https_proxy", url.as_str()),
                ("no_proxy", "10.0.0.0/8, 0.0.0.0/8"),
            ],
            false,
        ),
        (
            vec![("HTTPS_PROXY", url.as_str()), ("no_proxy", "*")],
            false,
        ),
        // HTTP_PROXY is for http:// servers only.
        (vec![("HTTP_PROXY", url.as_str())], false),
    ];
    for (vars, proxied) in cases {
        let before = connects(&proxy.log);
        let mut c = suite(&env, "uis-db-psql", &kc);
        c.args(["--as", "admin", "-c", "select 40 + 2"]);
        for (k, v) in &vars {
            c.env(k, v);
        }
        let out = output(&mut c);
        assert_eq!(out.code, 0, "{vars:?}: {}", out.stderr);
        assert!(out.stdout.contains("42"), "{}", out.stdout);
        assert_eq!(
            connects(&proxy.log) > before,
            proxied,
            "{vars:?}: the suite {} the proxy",
            if proxied { "bypassed" } else { "went through" }
        );
        let before = connects(&proxy.log);
        if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &vars) {
            assert_eq!(k.code, 0, "{vars:?}: kubectl: {}", k.stderr);
            assert_eq!(
                connects(&proxy.log) > before,
                proxied,
                "{vars:?}: kubectl {} the proxy",
                if proxied { "bypassed" } else { "went through" }
            );
        }
    }
    // A proxy variable naming a dead proxy fails both: it was used.
    let dead = format!("http://127.0.0.1:{}", free_port());
    both_fail_on(&env, &kc, &[("HTTPS_PROXY", &dead)], &[&dead]);
}

#[test]
fn https_proxy_in_the_shell_leaves_a_loopback_cluster_alone() {
    let env = Env::new();
    let dead = format!("http://127.0.0.1:{}", free_port());
    let kc = env.kubeconfig.clone();
    for vars in [
        vec![("HTTPS_PROXY", dead.as_str())],
        vec![
            ("https_proxy", dead.as_str()),
            ("NO_PROXY", "127.0.0.1,localhost"),
        ],
        vec![("HTTPS_PROXY", dead.as_str()), ("no_proxy", "10.0.0.0/8,,")],
        vec![
            ("HTTP_PROXY", dead.as_str()),
            ("HTTPS_PROXY", "proxy.invalid:3128"),
        ],
    ] {
        let mut c = suite(&env, "uis-db-psql", &kc);
        c.args(["--as", "admin", "-c", "select 1"]);
        for (k, v) in &vars {
            c.env(k, v);
        }
        output(&mut c).ok();
        if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &vars) {
            k.ok();
        }
    }
}

// ---------------------------------------------------------------------------
// Secret values with a trailing line break.

#[test]
fn a_superuser_password_with_a_trailing_line_break_is_trimmed_with_a_warning() {
    let env = Env::new();
    for end in ["\n", "\r\n"] {
        env.standin.put(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "urbalurba-secrets", "namespace": "default"},
            "type": "Opaque",
            "data": {"PGPASSWORD": base64_encode(format!("{}{end}", env.admin_password()).as_bytes())},
        }));
        let out = env.run("uis-db-creds", &["--admin", "--format", "pgpass"]);
        out.ok();
        assert_eq!(out.stdout.lines().count(), 1, "{:?}", out.stdout);
        assert!(
            out.stdout
                .trim_end()
                .ends_with(&format!(":{}", env.admin_password())),
            "{:?}",
            out.stdout
        );
        assert!(!out.stdout.contains('\r'));
        assert!(
            out.stderr
                .contains("Secret default/urbalurba-secrets key PGPASSWORD ends with a line break"),
            "{}",
            out.stderr
        );
        // The superuser logs in with it.
        let out = env.run("uis-db-psql", &["--as", "admin", "-c", "select 7 * 6"]);
        out.ok();
        assert!(out.stdout.contains("42"), "{}", out.stdout);
    }
}

#[test]
fn a_stored_role_password_with_a_trailing_line_break_never_reaches_the_role_or_output() {
    let env = Env::new();
    let app = "nl-app";
    let (owner, db, password) = env.configure_app_by_hand(app);
    // Put the stored password back with a line break, as `kubectl create
    // secret --from-file` would.
    let mut secret = env
        .standin
        .get("v1", "Secret", Some("default"), &format!("uis-db-{app}"))
        .expect("store Secret");
    secret["data"][format!("password.{owner}")] =
        base64_encode(format!("{password}\r\n").as_bytes()).into();
    env.standin.put(secret);
    for format in ["pgpass", "libpq", "env", "url"] {
        let out = env.run("uis-db-creds", &[app, "--format", format]);
        out.ok();
        assert!(!out.stdout.contains('\r'), "{format}: {:?}", out.stdout);
        if format != "env" {
            assert_eq!(out.stdout.lines().count(), 1, "{format}: {:?}", out.stdout);
        }
        assert!(out.stdout.contains(&password), "{format}: {:?}", out.stdout);
        assert!(
            out.stderr
                .contains(&format!("key password.{owner} ends with a line break")),
            "{}",
            out.stderr
        );
    }
    // A configure re-run keeps the role's password without the line break.
    env.run("uis-db-configure", &[app, "--database", &db, "--json"])
        .ok();
    let url = format!(
        "postgresql://{owner}:{password}@{}:{}/{db}",
        env.pg.addr().ip(),
        env.pg.addr().port()
    );
    let out = env.psql(&[&url, "-Atc", "select current_user"]);
    out.ok();
    assert_eq!(out.stdout.trim(), owner);
}

// ---------------------------------------------------------------------------
// A tunnel that survives its pod.

/// Replaces the database pod `from` and returns the new pod's name:
/// in-cluster a pod `to` with the same labels; on proxied the one the
/// proxy's Deployment makes when `from` is deleted (a name of its own).
/// `forward` says whether the new pod's port 5432 reaches the PostgreSQL.
fn replace_pod(env: &Env, from: &str, to: &str, forward: bool) -> String {
    if env.topology == uis_e2e::Topology::Proxied {
        assert!(env.standin.delete("v1", "Pod", Some("default"), from));
        let new = env
            .standin
            .list("v1", "Pod", Some("default"))
            .into_iter()
            .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_string))
            .find(|n| n.starts_with("postgresql-") && n != from)
            .expect("the Deployment's new pod");
        if forward {
            env.standin
                .set_pod_forward("default", &new, 5432, env.pg.addr());
        }
        return new;
    }
    let mut pod = env
        .standin
        .get("v1", "Pod", Some("default"), from)
        .expect("the pod");
    assert!(env.standin.delete("v1", "Pod", Some("default"), from));
    pod["metadata"]["name"] = to.into();
    pod["metadata"]
        .as_object_mut()
        .unwrap()
        .retain(|k, _| k == "name" || k == "namespace" || k == "labels");
    pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] = to.into();
    env.standin.put(pod);
    if forward {
        env.standin
            .set_pod_forward("default", to, 5432, env.pg.addr());
    }
    to.to_string()
}

fn select_one(env: &Env, url: &str) -> Out {
    env.psql(&[url, "-Atc", "select 1"])
}

#[test]
fn the_tunnel_follows_a_replaced_pod_reports_failures_and_exits_when_no_pod_is_left() {
    let env = Env::new();
    let log = env.path("tunnel.log");
    let mut child = env
        .cmd("uis-db-tunnel")
        .args(["--admin"])
        .env("UIS_TUNNEL_NO_POD_TIMEOUT", "4")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("spawn uis-db-tunnel");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("the JSON line");
    let info: serde_json::Value = serde_json::from_str(&line).expect("JSON");
    let url = info["database_url"].as_str().unwrap().to_string();
    let stop = |mut c: Child| {
        let _ = c.kill();
        let _ = c.wait();
    };
    let first = select_one(&env, &url);
    if first.code != 0 {
        stop(child);
        panic!("{first:?}");
    }
    // The pod is deleted and replaced under a new name: the next
    // connection reaches the new pod, without restarting the tunnel.
    let pod1 = replace_pod(&env, &env.pg_pod, "postgresql-1", true);
    let out = select_one(&env, &url);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    if out.code != 0 || !text.contains(&format!("default/{pod1}")) {
        stop(child);
        panic!("after the pod was replaced: {out:?}\ntunnel stderr:\n{text}");
    }
    // A replacement whose port does not answer: the failure is on stderr
    // at once, naming the pod.
    let pod2 = replace_pod(&env, &pod1, "postgresql-2", false);
    let out = select_one(&env, &url);
    assert_ne!(out.code, 0);
    let t = Instant::now();
    let mut text = String::new();
    while t.elapsed() < Duration::from_secs(5) {
        text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains(&format!("port-forward to pod default/{pod2}")) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if !text.contains(&format!("port-forward to pod default/{pod2}")) {
        stop(child);
        panic!("no forward failure on stderr:\n{text}");
    }
    // No pod at all: a connection is refused with the reason, and after
    // the timeout (4 s here) the tunnel exits 1 saying why. (A Deployment
    // replaces a deleted pod: the proxy's is scaled to zero.)
    if env.topology == uis_e2e::Topology::Proxied {
        let mut d = env
            .standin
            .get("apps/v1", "Deployment", Some("default"), "postgresql")
            .expect("the proxy's Deployment");
        d["spec"]["replicas"] = 0.into();
        env.standin.put(d);
    } else {
        assert!(env.standin.delete("v1", "Pod", Some("default"), &pod2));
    }
    let gone = Instant::now();
    assert_ne!(select_one(&env, &url).code, 0);
    let mut status = None;
    while gone.elapsed() < Duration::from_secs(20) {
        if let Some(s) = child.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let Some(status) = status else {
        stop(child);
        panic!("the tunnel kept running with no pod:\n{text}");
    };
    assert_eq!(status.code(), Some(1), "{text}");
    assert!(
        gone.elapsed() >= Duration::from_secs(4),
        "{:?}",
        gone.elapsed()
    );
    assert!(
        text.contains("no pod to forward a new connection to"),
        "{text}"
    );
    assert!(
        text.contains(
            "no pod in namespace default has labels app.kubernetes.io/name=postgresql for 4 s"
        ),
        "{text}"
    );
    uis_e2e::assert_no_known_secret("the tunnel's stderr", &text);
}

#[test]
fn the_tunnel_fetches_an_expiring_exec_credential_again() {
    let env = Env::new();
    let script = env.path("short-lived-plugin");
    let count = env.path("short-lived-runs");
    std::fs::write(
        &script,
        "#!/bin/sh\necho run >> \"$COUNT\"\nexp=$(date -u -d \"@$(( $(date +%s) + 12 ))\" +%Y-%m-%dT%H:%M:%SZ)\nprintf '{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"status\":{\"token\":\"%s\",\"expirationTimestamp\":\"%s\"}}\\n' \"$TOKEN\" \"$exp\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let token = env.standin.token();
    let user = exec_user(
        script.to_str().unwrap(),
        &[],
        &[("COUNT", count.to_str().unwrap()), ("TOKEN", &token)],
        "",
    );
    let kc = kubeconfig(&env, "kc-short", &user, "");
    let log = env.path("tunnel-short.log");
    let mut child = suite(&env, "uis-db-tunnel", &kc)
        .args(["--admin"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("spawn uis-db-tunnel");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("the JSON line");
    let url = serde_json::from_str::<serde_json::Value>(&line).expect("JSON")["database_url"]
        .as_str()
        .unwrap()
        .to_string();
    let runs = || {
        std::fs::read_to_string(&count)
            .unwrap_or_default()
            .lines()
            .count()
    };
    let before = runs();
    let first = select_one(&env, &url);
    // The credential is fetched again 10 s before it expires (12 s).
    std::thread::sleep(Duration::from_secs(3));
    let second = select_one(&env, &url);
    let after = runs();
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(first.code, 0, "{first:?}\n{text}");
    assert_eq!(second.code, 0, "{second:?}\n{text}");
    assert_eq!(before, 1, "one run to start the tunnel");
    assert!(
        after > before,
        "the expiring credential was not fetched again"
    );
}

// Items 1, 3 and 8 of issue 20 in more kinds of input.
mod auth;

// ---------------------------------------------------------------------------
// Secret values as `kubectl create secret --from-file` makes them, every
// kind of line ending and the Secrets beyond the superuser's.

/// Runs `line` in `sh -c` with this env's kubeconfig and the real kubectl
/// on PATH; `None` when kubectl is missing (a failure under CI).
fn shell(env: &Env, line: &str) -> Option<Out> {
    env.kubectl(&["version", "--client"])?.ok();
    let home = env.path("shell-home");
    std::fs::create_dir_all(&home).unwrap();
    Some(output(
        Command::new("sh")
            .args(["-c", line])
            .env("KUBECONFIG", &env.kubeconfig)
            .env("HOME", &home)
            .stdin(Stdio::null()),
    ))
}

/// (Re)creates Secret `ns/name` with one key from a file holding `value`,
/// as a kubectl user does: `kubectl create secret generic NAME
/// --from-file=KEY=FILE` (which keeps every byte of the file). The
/// stand-in takes JSON bodies only, so kubectl builds the object
/// (`--dry-run=client -o json`) and a second kubectl creates it. Without
/// kubectl the same bytes go in through the stand-in.
fn secret_from_file(env: &Env, ns: &str, name: &str, key: &str, value: &[u8]) {
    let file = env.path(&format!("value-{}", uis_harness::pg::random_alnum(6)));
    std::fs::write(&file, value).unwrap();
    let line = format!(
        "kubectl delete secret {name} -n {ns} --ignore-not-found >/dev/null && kubectl create secret generic {name} -n {ns} --from-file={key}={} --dry-run=client -o json | kubectl create --validate=false -f -",
        file.display()
    );
    match shell(env, &line) {
        Some(out) => {
            out.ok();
        }
        None => {
            env.standin.put(serde_json::json!({
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": name, "namespace": ns},
                "type": "Opaque",
                "data": {key: base64_encode(value)},
            }));
        }
    }
    let stored = env
        .standin
        .get("v1", "Secret", Some(ns), name)
        .expect("the Secret kubectl made");
    assert_eq!(
        stored["data"][key],
        base64_encode(value),
        "kubectl kept the bytes"
    );
}

#[test]
fn every_line_ending_kubectl_keeps_is_trimmed_and_spaces_are_kept() {
    let env = Env::new();
    let password = env.admin_password().to_string();
    for end in ["\n", "\r\n", "\r", "\n\n\n", "\r\n\r\n", "\n\r"] {
        secret_from_file(
            &env,
            "default",
            "urbalurba-secrets",
            "PGPASSWORD",
            format!("{password}{end}").as_bytes(),
        );
        for format in ["pgpass", "libpq", "url", "env", "json"] {
            let out = env.run("uis-db-creds", &["--admin", "--format", format]);
            out.ok();
            assert!(
                !out.stdout.contains('\r'),
                "{end:?} {format}: {:?}",
                out.stdout
            );
            assert!(
                !out.stdout.trim_end().contains(&format!("{password}\n")),
                "{end:?} {format}: {:?}",
                out.stdout
            );
            assert!(out.stdout.contains(&password), "{end:?} {format}");
            assert!(
                out.stderr.contains(
                    "Secret default/urbalurba-secrets key PGPASSWORD ends with a line break"
                ),
                "{end:?}: {}",
                out.stderr
            );
        }
        let out = env.run("uis-db-psql", &["--as", "admin", "-c", "select 6 * 7"]);
        out.ok();
        assert!(out.stdout.contains("42"), "{end:?}: {}", out.stdout);
    }
    // A space is a password character: kept (before the line break too),
    // so this login fails, and the hint names the admin Secret, not an
    // app's rotation.
    secret_from_file(
        &env,
        "default",
        "urbalurba-secrets",
        "PGPASSWORD",
        format!("{password} \n").as_bytes(),
    );
    let out = env.run("uis-db-creds", &["--admin", "--format", "json"]);
    out.ok();
    assert_eq!(out.json()["password"], format!("{password} "));
    let out = env.run("uis-db-psql", &["--as", "admin", "-c", "select 1"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains(
            "the superuser password in Secret default/urbalurba-secrets key PGPASSWORD does not match role \"postgres\""
        ) && out.stderr.contains("--admin-secrets"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("uis db configure APP --rotate"),
        "{}",
        out.stderr
    );
}

#[test]
fn postgrest_settings_with_a_line_break_are_read_as_postgrest_reads_them() {
    let env = Env::new();
    env.run("uis-db-configure", &["nlp", "--json"]).ok();
    env.run("uis-postgrest-deploy", &["nlp", "--no-wait", "--json"])
        .ok();
    let mut secret = env
        .standin
        .get("v1", "Secret", Some("postgrest"), "nlp-postgrest")
        .expect("the PostgREST Secret");
    let value = |s: &serde_json::Value, k: &str| -> Vec<u8> {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(s["data"][k].as_str().unwrap())
            .unwrap()
    };
    let uri = value(&secret, "PGRST_DB_URI");
    let jwt = value(&secret, "PGRST_JWT_SECRET");
    let mut uri_nl = uri.clone();
    uri_nl.extend(b"\r\n");
    let mut jwt_nl = jwt.clone();
    jwt_nl.extend(b"\n");
    secret["data"]["PGRST_DB_URI"] = base64_encode(&uri_nl).into();
    secret["data"]["PGRST_JWT_SECRET"] = base64_encode(&jwt_nl).into();
    let anon = value(&secret, "PGRST_DB_ANON_ROLE");
    let mut anon_nl = anon.clone();
    anon_nl.extend(b"\n");
    secret["data"]["PGRST_DB_ANON_ROLE"] = base64_encode(&anon_nl).into();
    env.standin.put(secret);

    // PostgREST's libpq would take the line break into the database name:
    // doctor says so and its fix is a plain re-run.
    let out = env.run("uis-db-doctor", &["nlp", "--json"]);
    let checks = out.json()["checks"].clone();
    let db_uri = checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "db-uri")
        .expect("db-uri check")
        .clone();
    assert_eq!(db_uri["status"], "fail", "{db_uri}");
    assert!(
        db_uri["message"]
            .as_str()
            .unwrap()
            .contains("Secret postgrest/nlp-postgrest key PGRST_DB_URI ends with a line break"),
        "{db_uri}"
    );
    assert_eq!(db_uri["fix"], "uis postgrest deploy nlp");
    let anon_check = checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "anon-role")
        .expect("anon-role check")
        .clone();
    assert_eq!(anon_check["status"], "fail", "{anon_check}");
    assert!(
        anon_check["message"].as_str().unwrap().contains(
            "Secret postgrest/nlp-postgrest key PGRST_DB_ANON_ROLE ends with a line break"
        ),
        "{anon_check}"
    );
    assert_eq!(anon_check["fix"], "uis postgrest deploy nlp");

    // The suite itself reads the URI without it (warning, naming the key)
    // and signs with the JWT secret as PostgREST checks it, line break
    // included, saying so.
    let out = env.run("uis-jwt-mint", &["nlp", "--role", "nlp_web_anon"]);
    out.ok();
    assert!(
        out.stderr
            .contains("Secret postgrest/nlp-postgrest key PGRST_DB_URI ends with a line break"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("Secret postgrest/nlp-postgrest key PGRST_JWT_SECRET ends with a line break")
            && out
                .stderr
                .contains("uis postgrest deploy nlp --rotate-jwt-secret"),
        "{}",
        out.stderr
    );
    let token = out.stdout.trim().to_string();
    let (signing_input, sig) = token.rsplit_once('.').unwrap();
    let checks = |secret: &[u8]| {
        let keys =
            uis_postgrest::jwt::keys::parse_secret(std::str::from_utf8(secret).unwrap(), false)
                .unwrap();
        let key = keys.symmetric().expect("a symmetric key");
        uis_postgrest::jwt::keys::check_signature(key, "HS256", signing_input.as_bytes(), sig)
            .unwrap()
    };
    assert!(checks(&jwt_nl), "signed with the secret PostgREST reads");
    assert!(!checks(&jwt), "not with the secret trimmed");
    let out = env.run(
        "uis-db-psql",
        &["nlp", "--jwt", &token, "-c", "select current_user"],
    );
    out.ok();
    assert!(out.stdout.contains("nlp_web_anon"), "{}", out.stdout);

    // The printed fix writes the URI again without the line break.
    env.run("uis-postgrest-deploy", &["nlp", "--no-wait", "--json"])
        .ok();
    let secret = env
        .standin
        .get("v1", "Secret", Some("postgrest"), "nlp-postgrest")
        .unwrap();
    assert_eq!(value(&secret, "PGRST_DB_URI"), uri);
    assert_eq!(value(&secret, "PGRST_DB_ANON_ROLE"), anon);
    let out = env.run("uis-db-doctor", &["nlp", "--json"]);
    let j = out.json();
    for id in ["db-uri", "anon-role"] {
        let check = j["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap();
        assert_eq!(check["status"], "pass", "{check}");
    }
}

#[test]
fn a_uis_database_url_made_from_a_file_is_adopted_without_a_new_password() {
    let env = Env::new();
    let password = uis_harness::pg::random_alnum(24);
    let mut c = env.pg.connect("postgres");
    c.batch_execute(&format!("CREATE ROLE adoptnl LOGIN PASSWORD '{password}'"))
        .unwrap();
    c.batch_execute("CREATE DATABASE adoptnl OWNER adoptnl")
        .unwrap();
    env.standin.put(
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}),
    );
    let url = format!(
        "postgresql://adoptnl:{password}@postgresql.default.svc.cluster.local:5432/adoptnl"
    );
    secret_from_file(
        &env,
        "apps",
        "adoptnl-db",
        "DATABASE_URL",
        format!("{url}\r\n").as_bytes(),
    );
    let mut s = env
        .standin
        .get("v1", "Secret", Some("apps"), "adoptnl-db")
        .unwrap();
    s["metadata"]["labels"] = serde_json::json!({"app.kubernetes.io/managed-by": "uis"});
    env.standin.put(s);
    let out = env.run(
        "uis-db-configure",
        &[
            "adoptnl",
            "--database",
            "adoptnl",
            "--namespace",
            "apps",
            "--secret-name-prefix",
            "adoptnl",
            "--json",
        ],
    );
    out.ok();
    assert!(!out.stderr.contains("NEW password"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("Secret apps/adoptnl-db key DATABASE_URL ends with a line break"),
        "{}",
        out.stderr
    );
    // The app's own password still logs in, and is the stored one.
    let local = format!(
        "postgresql://adoptnl:{password}@{}:{}/adoptnl",
        env.pg.addr().ip(),
        env.pg.addr().port()
    );
    env.psql(&[&local, "-Atc", "select 1"]).ok();
    let out = env.run("uis-db-creds", &["adoptnl", "--format", "json"]);
    out.ok();
    assert_eq!(out.json()["password"], password.as_str());
}

/// Starts `uis-db-tunnel --admin` with a no-pod timeout of `timeout` s;
/// returns the child, its database URL and its stderr log.
fn start_tunnel(env: &Env, timeout: &str) -> (Child, String, PathBuf) {
    let log = env.path(&format!("tunnel-{}.log", uis_harness::pg::random_alnum(6)));
    let mut child = env
        .cmd("uis-db-tunnel")
        .args(["--admin"])
        .env("UIS_TUNNEL_NO_POD_TIMEOUT", timeout)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("spawn uis-db-tunnel");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("the JSON line");
    let info: serde_json::Value = serde_json::from_str(&line).expect("JSON");
    let url = info["database_url"].as_str().unwrap().to_string();
    (child, url, log)
}

#[test]
fn the_tunnel_skips_a_terminating_pod_for_its_ready_replacement() {
    let env = Env::new();
    let (mut child, url, log) = start_tunnel(&env, "60");
    // A rolling replacement: the old pod is terminating (its grace period
    // running, still Running and Ready, still forwarding), the new one is
    // ready. The old one's name sorts first, so only the deletion mark can
    // keep it out.
    let mut old = env
        .standin
        .get("v1", "Pod", Some("default"), &env.pg_pod)
        .expect("the pod");
    let mut new = old.clone();
    new["metadata"]["name"] = "postgresql-zz-new".into();
    new["metadata"]
        .as_object_mut()
        .unwrap()
        .retain(|k, _| k == "name" || k == "namespace" || k == "labels");
    if let Some(l) = new["metadata"]["labels"].as_object_mut() {
        l.remove("statefulset.kubernetes.io/pod-name");
    }
    old["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z".into();
    old["metadata"]["deletionGracePeriodSeconds"] = 30.into();
    env.standin.put(old);
    env.standin.put(new);
    env.standin
        .set_pod_forward("default", "postgresql-zz-new", 5432, env.pg.addr());
    let out = select_one(&env, &url);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(out.code, 0, "{out:?}\n{text}");
    assert!(
        text.contains("forwarding new connections to pod default/postgresql-zz-new"),
        "{text}"
    );
}

#[test]
fn the_tunnel_exits_when_an_operator_cluster_has_no_primary_for_its_timeout() {
    let env = Env::with_provider("cnpg", |_| {});
    let (mut child, url, log) = start_tunnel(&env, "3");
    select_one(&env, &url).ok();
    // The operator demotes the primary and promotes none.
    let mut pod = env
        .standin
        .get("v1", "Pod", Some("default"), &env.pods[0])
        .expect("primary");
    for (k, v) in pod["metadata"]["labels"].clone().as_object().unwrap() {
        if v == "primary" {
            pod["metadata"]["labels"][k] = "replica".into();
        }
    }
    env.standin.put(pod);
    let gone = Instant::now();
    let out = select_one(&env, &url);
    assert_ne!(out.code, 0, "never a replica");
    let mut status = None;
    while gone.elapsed() < Duration::from_secs(20) {
        if let Some(s) = child.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the tunnel kept running with no primary:\n{text}");
    };
    assert_eq!(status.code(), Some(1), "{text}");
    assert!(gone.elapsed() >= Duration::from_secs(3));
    assert!(
        text.contains("no primary among the cnpg pods")
            && text.contains("has been the primary for 3 s"),
        "{text}"
    );
    uis_e2e::assert_no_known_secret("the tunnel's stderr", &text);
}

#[test]
fn a_stored_password_with_a_line_break_inside_is_never_set_on_a_role() {
    let env = Env::new();
    let app = "nlin";
    env.run(
        "uis-db-configure",
        &[app, "--with-roles", "postgrest", "--json"],
    )
    .ok();
    env.run("uis-postgrest-deploy", &[app, "--no-wait", "--json"])
        .ok();
    let owner = "nlin";
    let auth = "nlin_authenticator";
    // A stored password gets a line break inside (a hand-made Secret) and
    // the role another password, so it logs in no more: configure for the
    // owner, then deploy for the authenticator.
    let break_password = |role: &str, bad: &str| {
        let mut secret = env
            .standin
            .get("v1", "Secret", Some("default"), &format!("uis-db-{app}"))
            .expect("store Secret");
        secret["data"][format!("password.{role}")] = base64_encode(bad.as_bytes()).into();
        env.standin.put(secret);
        env.pg
            .connect("postgres")
            .batch_execute(&format!("ALTER ROLE {role} PASSWORD 'elsewhere1'"))
            .unwrap();
    };
    let login = |user: &str, password: &str| {
        let mut cfg = postgres::Config::new();
        cfg.host(&env.pg.addr().ip().to_string())
            .port(env.pg.addr().port())
            .user(user)
            .password(password)
            .dbname("postgres");
        cfg.connect(postgres::NoTls).is_ok()
    };
    break_password(owner, "abcdefgh\nijklmnop");
    let out = env.run("uis-db-configure", &[app, "--json"]);
    out.ok();
    assert!(
        out.stderr.contains(&format!(
            "the stored password of role {owner} (Secret key password.{owner}) no longer worked and holds a line break"
        )),
        "{}",
        out.stderr
    );
    break_password(auth, "abcdefgh\r\nijklmnop");
    let out = env.run("uis-postgrest-deploy", &[app, "--no-wait", "--json"]);
    out.ok();
    assert!(
        out.stderr.contains(&format!(
            "the stored password of {auth} (Secret key password.{auth}) no longer worked and holds a line break"
        )),
        "{}",
        out.stderr
    );
    // The roles' passwords (SCRAM logins, pg_authid) are the new stored
    // ones, printed on one line in every format; never the broken ones.
    for (role, bad) in [
        (owner, "abcdefgh\nijklmnop"),
        (auth, "abcdefgh\r\nijklmnop"),
    ] {
        let out = env.run("uis-db-creds", &[app, "--role", role, "--format", "json"]);
        out.ok();
        let pw = out.json()["password"].as_str().unwrap().to_string();
        assert!(!pw.chars().any(char::is_control), "{role}");
        assert!(
            login(role, &pw),
            "{role} logs in with the new stored password"
        );
        assert!(!login(role, bad), "{role}: never the broken one");
        for format in ["pgpass", "libpq", "url", "env"] {
            let out = env.run("uis-db-creds", &[app, "--role", role, "--format", format]);
            out.ok();
            assert!(!out.stdout.contains('\r'), "{format}");
            assert!(
                !out.stdout.contains("%0A") && !out.stdout.contains("%0D"),
                "{format}"
            );
        }
    }
    let uri = env
        .standin
        .get(
            "v1",
            "Secret",
            Some("postgrest"),
            &format!("{app}-postgrest"),
        )
        .unwrap()["data"]["PGRST_DB_URI"]
        .as_str()
        .unwrap()
        .to_string();
    let uri = {
        use base64::Engine;
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(uri)
                .unwrap(),
        )
        .unwrap()
    };
    assert!(!uri.contains("%0A") && !uri.contains('\n'), "PGRST_DB_URI");
}
