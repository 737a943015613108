//! Proxies beyond the plain cases of the parent module (issue 20, item 2):
//! a login in the proxy URL (tinyproxy's BasicAuth, microsocks' `-u -P`),
//! refused and missing logins, proxy URLs as Go reads them (scheme case,
//! no port, a path, socks5h), and NO_PROXY/no_proxy as Go's httpproxy
//! applies them (domain entries never match an IP host, `localhost` exactly,
//! the upper-case variable first unless empty). Each case runs the real
//! kubectl on the same kubeconfig and environment, each proxy is a real
//! process on loopback started and stopped (by PID) here, and no password
//! of a proxy URL may appear on stderr or stdout (the `--json` error).

use super::{
    GET_SECRET, ProxyProc, admin_creds_on, admin_query_on, both_fail_on, cert_user, connects,
    free_port, kubeconfig, kubectl, proxied_kubeconfig, suite, wait_listening,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use uis_e2e::{Env, need_tool, output};

/// tinyproxy on loopback that asks for `user`/`password` (BasicAuth takes
/// only `[A-Za-z0-9_.-]`).
fn tinyproxy_with_login(env: &Env, user: &str, password: &str) -> Option<ProxyProc> {
    super::tinyproxy_with(
        env,
        "tinyproxy-login",
        &format!("BasicAuth {user} {password}\n"),
    )
}

/// microsocks on loopback that asks for `user`/`password`.
fn microsocks_with_login(env: &Env, user: &str, password: &str) -> Option<ProxyProc> {
    let bin = need_tool("microsocks")?;
    let port = free_port();
    let log = env.path("microsocks-login.log");
    let child = Command::new(bin)
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-u",
            user,
            "-P",
            password,
        ])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("start microsocks");
    wait_listening(port);
    Some(ProxyProc { child, port, log })
}

/// `uis-db-creds --admin --json` on `kc` fails (exit 1) saying each of
/// `says` on stderr, and neither stderr nor stdout (the JSON error) holds
/// `secret`; kubectl fails too and its output is returned.
fn both_fail_quietly(
    env: &Env,
    kc: &Path,
    envs: &[(&str, &str)],
    says: &[&str],
    secret: &str,
) -> Option<uis_e2e::Out> {
    let mut c = suite(env, "uis-db-creds", kc);
    c.args(["--admin", "--json"]);
    for (k, v) in envs {
        c.env(k, v);
    }
    let out = output(&mut c);
    out.expect_code(1);
    for s in says {
        assert!(out.stderr.contains(s), "{s:?} not in: {}", out.stderr);
    }
    assert!(
        out.stdout.contains("\"status\":\"error\""),
        "no JSON error: {}",
        out.stdout
    );
    for text in [&out.stderr, &out.stdout] {
        assert!(
            !text.contains(secret),
            "the proxy password was printed: {text}"
        );
    }
    both_fail_on(env, kc, envs, &[])
}

#[test]
fn a_socks5_proxy_login_in_the_url_is_used_for_requests_and_the_port_forward() {
    let env = Env::new();
    // Characters a password may hold, percent-encoded in the URL as Go
    // (and so kubectl) decodes them.
    let password = "p@ss:w/rd%1";
    let Some(proxy) = microsocks_with_login(&env, "bob", password) else {
        return;
    };
    let port = proxy.port;
    let url = |login: &str| format!("socks5://{login}127.0.0.1:{port}");
    let kc = proxied_kubeconfig(&env, "kc-socks-login", &url("bob:p%40ss%3Aw%2Frd%251@"));
    admin_creds_on(&env, &kc);
    admin_query_on(&env, &kc);
    if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
        k.ok();
    }
    // A bearer token (a token file) through the same proxy: the login and
    // the API credential are separate layers.
    let token = env.path("socks-token");
    std::fs::write(&token, format!("{}\n", env.standin.token())).unwrap();
    let kc = kubeconfig(
        &env,
        "kc-socks-login-token",
        &format!("    tokenFile: {}\n", token.display()),
        &format!("    proxy-url: {}\n", url("bob:p%40ss%3Aw%2Frd%251@")),
    );
    admin_creds_on(&env, &kc);
    if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
        k.ok();
    }
    // A wrong password: both fail; the suite names the proxy and the fix,
    // never the password.
    let kc = proxied_kubeconfig(&env, "kc-socks-bad-login", &url("bob:Wr0ngPassw0rd@"));
    let shown = format!("socks5://127.0.0.1:{}", proxy.port);
    if let Some(k) = both_fail_quietly(
        &env,
        &kc,
        &[],
        &[&shown, "refused the user and password", "USER:PASSWORD"],
        "Wr0ngPassw0rd",
    ) {
        assert!(k.stderr.contains("authentication failed"), "{}", k.stderr);
    }
    // A login for a SOCKS5 proxy that wants none: kubectl (Go offers both
    // methods) gets in, and so does the suite.
    if let Some(open) = super::microsocks(&env) {
        let kc = proxied_kubeconfig(
            &env,
            "kc-socks-login-open",
            &format!("socks5://bob:unused@127.0.0.1:{}", open.port),
        );
        admin_query_on(&env, &kc);
        if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
            k.ok();
        }
    }
    // No login at all: the proxy accepts no method offered.
    let kc = proxied_kubeconfig(&env, "kc-socks-no-login", &url(""));
    if let Some(k) = both_fail_on(&env, &kc, &[], &[&shown, "none of the login methods"]) {
        assert!(
            k.stderr.contains("no acceptable authentication"),
            "{}",
            k.stderr
        );
    }
}

#[test]
fn an_http_proxy_login_is_sent_and_a_refused_or_missing_one_says_what_to_do() {
    let env = Env::new();
    let Some(proxy) = tinyproxy_with_login(&env, "alice", "s3_cr-3t.x") else {
        return;
    };
    let port = proxy.port;
    let url = |login: &str| format!("http://{login}127.0.0.1:{port}");
    // The user percent-encoded (`%65` is `e`): decoded as Go decodes it.
    let kc = proxied_kubeconfig(&env, "kc-http-login", &url("alic%65:s3_cr-3t.x@"));
    admin_creds_on(&env, &kc);
    let after_api = connects(&proxy.log);
    admin_query_on(&env, &kc);
    assert!(
        connects(&proxy.log) > after_api,
        "the port-forward bypassed the proxy"
    );
    if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
        k.ok();
    }
    let shown = format!("http://127.0.0.1:{}", proxy.port);
    // A wrong password (tinyproxy answers 401 to the CONNECT).
    let kc = proxied_kubeconfig(&env, "kc-http-bad-login", &url("alice:Wr0ngPassw0rd@"));
    if let Some(k) = both_fail_quietly(
        &env,
        &kc,
        &[],
        &[&shown, "refused to open a tunnel", "user and password"],
        "Wr0ngPassw0rd",
    ) {
        assert!(k.stderr.contains("Unauthorized"), "{}", k.stderr);
    }
    // The same through HTTPS_PROXY (the cluster named 0.0.0.0, which Go
    // does not count as loopback).
    let kc = env_kubeconfig(&env, "kc-http-bad-login-env");
    both_fail_quietly(
        &env,
        &kc,
        &[("HTTPS_PROXY", &url("alice:Wr0ngPassw0rd@"))],
        &[&shown, "refused to open a tunnel"],
        "Wr0ngPassw0rd",
    );
    // A password holding an unencoded # or /: Go reads the login as the
    // host and kubectl fails printing the whole URL; the suite fails
    // saying what to encode, printing nothing of it.
    for bad in ["alice:pa#Wr0ngPassw0rd@", "alice:pa/Wr0ngPassw0rd@"] {
        let kc = proxied_kubeconfig(&env, "kc-http-unencoded", &url(bad));
        both_fail_quietly(&env, &kc, &[], &["percent-encoded"], "Wr0ngPassw0rd");
    }
    // No login: 407.
    let kc = proxied_kubeconfig(&env, "kc-http-no-login", &url(""));
    if let Some(k) = both_fail_on(
        &env,
        &kc,
        &[],
        &[&shown, "asks for a login", "USER:PASSWORD@"],
    ) {
        assert!(
            k.stderr.contains("Proxy Authentication Required"),
            "{}",
            k.stderr
        );
    }
    // Nothing at the proxy's address.
    drop(proxy);
    let kc = proxied_kubeconfig(&env, "kc-http-login-dead", &url("alice:s3_cr-3t.x@"));
    both_fail_quietly(
        &env,
        &kc,
        &[],
        &["nothing answers at the proxy"],
        "s3_cr-3t.x",
    );
}

/// A kubeconfig whose cluster is named 0.0.0.0 (not loopback by Go's rule,
/// so the proxy variables apply; on Linux it reaches the stand-in), its
/// certificate checked for 127.0.0.1.
fn env_kubeconfig(env: &Env, name: &str) -> PathBuf {
    host_kubeconfig(env, name, "0.0.0.0")
}

fn host_kubeconfig(env: &Env, name: &str, host: &str) -> PathBuf {
    let kc = kubeconfig(
        env,
        name,
        &cert_user(env),
        "    tls-server-name: 127.0.0.1\n",
    );
    let text = std::fs::read_to_string(&kc).unwrap();
    std::fs::write(
        &kc,
        text.replace(
            "server: https://127.0.0.1:",
            &format!("server: https://{host}:"),
        ),
    )
    .unwrap();
    kc
}

#[test]
fn proxy_urls_are_read_as_go_reads_them() {
    let env = Env::new();
    let Some(proxy) = super::tinyproxy(&env) else {
        return;
    };
    let Some(socks) = super::microsocks(&env) else {
        return;
    };
    // Go lower-cases the scheme and dials only host:port (a path is
    // ignored), in proxy-url and in the variables.
    for (name, url) in [
        (
            "kc-upper-scheme",
            format!("HTTP://127.0.0.1:{}", proxy.port),
        ),
        (
            "kc-path",
            format!("http://127.0.0.1:{}/some/path", proxy.port),
        ),
        (
            "kc-upper-socks",
            format!("SOCKS5://127.0.0.1:{}", socks.port),
        ),
    ] {
        let kc = proxied_kubeconfig(&env, name, &url);
        let before = connects(&proxy.log);
        admin_query_on(&env, &kc);
        if url.starts_with("HTTP") || url.contains("/some/path") {
            assert!(connects(&proxy.log) > before, "{url}: bypassed the proxy");
        }
        if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
            assert_eq!(k.code, 0, "{url}: kubectl: {}", k.stderr);
        }
    }
    let kc = env_kubeconfig(&env, "kc-env-upper");
    let upper = format!("HTTP://127.0.0.1:{}", proxy.port);
    let before = connects(&proxy.log);
    let mut c = suite(&env, "uis-db-creds", &kc);
    output(c.args(["--admin", "--json"]).env("HTTPS_PROXY", &upper)).ok();
    assert!(connects(&proxy.log) > before, "HTTPS_PROXY={upper} unused");
    // socks5h: client-go refuses it in proxy-url; Go's transport takes it
    // from the environment (the proxy resolves names, as the suite's SOCKS
    // client always lets it).
    let kc_h = proxied_kubeconfig(
        &env,
        "kc-socks5h",
        &format!("socks5h://127.0.0.1:{}", socks.port),
    );
    if let Some(k) = both_fail_on(&env, &kc_h, &[], &["\"socks5h\" is not supported"]) {
        assert!(k.stderr.contains("socks5h"), "{}", k.stderr);
    }
    let h = format!("socks5h://127.0.0.1:{}", socks.port);
    let mut c = suite(&env, "uis-db-creds", &kc);
    output(c.args(["--admin", "--json"]).env("HTTPS_PROXY", &h)).ok();
    if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[("HTTPS_PROXY", &h)]) {
        k.ok();
    }
    // A proxy that speaks another protocol than its scheme says: an
    // http:// URL at the SOCKS proxy is refused at once (kubectl:
    // "malformed HTTP response"); a socks5:// URL at the HTTP proxy waits
    // (kubectl too, until killed): the timeout names the proxy.
    let kc_wrong = proxied_kubeconfig(
        &env,
        "kc-http-at-socks",
        &format!("http://127.0.0.1:{}", socks.port),
    );
    if let Some(k) = both_fail_on(&env, &kc_wrong, &[], &["or it is no HTTP proxy"]) {
        assert!(k.stderr.contains("malformed HTTP response"), "{}", k.stderr);
    }
    let socks_at_http = format!("socks5://127.0.0.1:{}", proxy.port);
    let kc_wrong = proxied_kubeconfig(&env, "kc-socks-at-http", &socks_at_http);
    let out =
        output(suite(&env, "uis-db-creds", &kc_wrong).args(["--admin", "--request-timeout", "2"]));
    out.expect_code(1);
    assert!(
        out.stderr.contains(&format!(
            "through the proxy {socks_at_http}/ did not answer"
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("speak what its scheme says"),
        "{}",
        out.stderr
    );
    // ... and it was used: without the proxy both fail.
    drop(socks);
    both_fail_on(&env, &kc, &[("HTTPS_PROXY", &h)], &["socks5://127.0.0.1"]);
    // No port: Go's default for the scheme (socks5 1080, http 80), named
    // in the message.
    let kc = proxied_kubeconfig(&env, "kc-no-port", "socks5://127.0.0.1");
    both_fail_on(&env, &kc, &[], &["socks5://127.0.0.1:1080"]);
}

/// A kubeconfig, the variables set, and whether the proxy is used.
type Case<'a> = (&'a Path, Vec<(&'a str, &'a str)>, bool);

#[test]
fn no_proxy_and_the_variables_follow_go_httpproxy() {
    let env = Env::new();
    let Some(proxy) = super::tinyproxy(&env) else {
        return;
    };
    let url = format!("http://127.0.0.1:{}", proxy.port);
    let dead = format!("http://127.0.0.1:{}", free_port());
    let kc = env_kubeconfig(&env, "kc-no-proxy-go");
    let kc_upper_localhost = host_kubeconfig(&env, "kc-upper-localhost", "LOCALHOST");
    let cases: Vec<Case> = vec![
        // Domain entries never match an IP host, whatever its text ends with.
        (&kc, vec![("HTTPS_PROXY", &url), ("NO_PROXY", ".0.0")], true),
        (&kc, vec![("HTTPS_PROXY", &url), ("NO_PROXY", "0.0")], true),
        (
            &kc,
            vec![("HTTPS_PROXY", &url), ("NO_PROXY", "*.0.0")],
            true,
        ),
        // An IP entry with another port does not match; with the port it
        // does; spaces around entries are trimmed.
        (
            &kc,
            vec![("HTTPS_PROXY", &url), ("NO_PROXY", "0.0.0.0:443")],
            true,
        ),
        (
            &kc,
            vec![
                ("HTTPS_PROXY", &url),
                ("NO_PROXY", " foo.example , 0.0.0.0/32 "),
            ],
            false,
        ),
        // The upper-case variable wins unless empty.
        (&kc, vec![("HTTPS_PROXY", ""), ("https_proxy", &url)], true),
        (
            &kc,
            vec![
                ("HTTPS_PROXY", &url),
                ("NO_PROXY", ""),
                ("no_proxy", "0.0.0.0"),
            ],
            false,
        ),
        (
            &kc,
            vec![
                ("HTTPS_PROXY", &url),
                ("NO_PROXY", "example.com"),
                ("no_proxy", "0.0.0.0"),
            ],
            true,
        ),
        // Go never proxies "localhost", compared before lower-casing: a
        // cluster at LOCALHOST goes through the proxy.
        (&kc_upper_localhost, vec![("HTTPS_PROXY", &url)], true),
    ];
    for (kc, vars, proxied) in cases {
        let before = connects(&proxy.log);
        let mut c = suite(&env, "uis-db-creds", kc);
        c.args(["--admin", "--json"]);
        for (k, v) in &vars {
            c.env(k, v);
        }
        let out = output(&mut c);
        assert_eq!(out.code, 0, "{vars:?}: {}", out.stderr);
        assert_eq!(
            connects(&proxy.log) > before,
            proxied,
            "{vars:?}: the suite {} the proxy",
            if proxied { "bypassed" } else { "went through" }
        );
        let before = connects(&proxy.log);
        if let Some(k) = kubectl(&env, kc, &GET_SECRET, &vars) {
            assert_eq!(k.code, 0, "{vars:?}: kubectl: {}", k.stderr);
            assert_eq!(
                connects(&proxy.log) > before,
                proxied,
                "{vars:?}: kubectl {} the proxy",
                if proxied { "bypassed" } else { "went through" }
            );
        }
    }
    // HTTPS_PROXY (dead) wins over https_proxy (alive): both fail.
    both_fail_on(
        &env,
        &kc,
        &[("HTTPS_PROXY", &dead), ("https_proxy", &url)],
        &[&dead],
    );
}
