//! Which proxy a request to the API server goes through, by kubectl's
//! (client-go's) rules, so the suite and kubectl agree on the same
//! kubeconfig and shell:
//!
//! - the cluster's `proxy-url` in the kubeconfig (`http`, `https` or
//!   `socks5`) is used for every request, whatever the environment says
//!   (client-go's `http.ProxyURL`);
//! - otherwise the environment, as Go's `http.ProxyFromEnvironment`:
//!   `HTTPS_PROXY` (else `https_proxy`) for an `https://` server,
//!   `HTTP_PROXY` (else `http_proxy`) for an `http://` one; a value without
//!   a scheme means `http://`; never for `localhost` or a loopback address;
//!   not for a host `NO_PROXY` (else `no_proxy`) matches: `*`, an IP, a CIDR
//!   (`10.0.0.0/8`), a domain (`example.com` matches it and its subdomains,
//!   `.example.com` and `*.example.com` only subdomains), each with an
//!   optional `:port`; empty entries are ignored.
//!
//! The URL chosen is read as Go reads it (scheme in any case, Go's default
//! port, no path; `socks5h` from the environment only) and a failure
//! through it is put in words ([`explain`]).
//!
//! Not for deciding how to connect: kube's `http-proxy` and `socks5`
//! features do that with the URL chosen here (the same connector carries
//! the WebSocket of port-forward and exec), and `socks.rs` for a SOCKS5
//! login, which kube's builder drops. Knows nothing of kube.

use std::net::IpAddr;

/// Where a proxy setting came from, to name it in errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxySource {
    /// The kubeconfig cluster's `proxy-url`.
    Kubeconfig,
    /// An environment variable (its name).
    Env(String),
}

impl std::fmt::Display for ProxySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProxySource::Kubeconfig => write!(f, "the kubeconfig's proxy-url"),
            ProxySource::Env(name) => write!(f, "${name}"),
        }
    }
}

/// The proxy chosen for a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    /// `scheme://[user:pass@]host:port`, scheme `http`, `https` or `socks5`.
    pub url: String,
    pub source: ProxySource,
}

impl Proxy {
    /// The URL without any `user:password@` part, for messages.
    pub fn shown(&self) -> String {
        match self.url.split_once("://") {
            Some((scheme, rest)) => {
                let host = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
                format!("{scheme}://{host}")
            }
            None => self.url.clone(),
        }
    }
}

/// What a failed connection through the proxy `shown` (credentials
/// hidden) to `server` means, from the connector's error `text`, as
/// `(what happened, what to do)`; `None` when the text names no proxy
/// failure the suite knows (the caller's generic words apply).
///
/// The kinds: an HTTP proxy asking for a login (407) or refusing the
/// CONNECT (any other status: a login it does not accept, 401/407, or a
/// rule, 403); a SOCKS5 proxy refusing the login, wanting one, or refusing
/// the connection to the server; nothing listening at the proxy's address.
/// kubectl says the same things in Go's words (`Proxy Authentication
/// Required`, `Unauthorized`, `username/password authentication failed`,
/// `no acceptable authentication methods`).
pub fn explain(shown: &str, server: &str, text: &str) -> Option<(String, String)> {
    let kubectl =
        "`kubectl get ns` on the same kubeconfig and environment shows the proxy's own answer";
    let login = "percent-encode @ : / % in them";
    if text.contains("tunnel error: proxy authorization required") {
        return Some((
            format!("the proxy {shown} asks for a login (HTTP 407 Proxy Authentication Required)"),
            format!(
                "put its user and password in the proxy URL, scheme://USER:PASSWORD@host:port ({login}), in the kubeconfig's proxy-url or HTTPS_PROXY; {kubectl}"
            ),
        ));
    }
    if text.contains("tunnel error: unsuccessful") {
        return Some((
            format!(
                "the proxy {shown} refused to open a tunnel (CONNECT) to {server}: it answered other than 200, for a login it does not accept (401, 407) or a rule of its own (403), or it is no HTTP proxy"
            ),
            format!(
                "check the user and password in the proxy URL ({login}), that the proxy allows CONNECT to that host and port, and that it is an HTTP proxy (a SOCKS proxy is socks5://); {kubectl}"
            ),
        ));
    }
    if text.contains("SOCKS error: credentials not accepted") {
        return Some((
            format!("the SOCKS5 proxy {shown} refused the user and password of its URL"),
            format!("fix USER:PASSWORD in socks5://USER:PASSWORD@host:port ({login}); {kubectl}"),
        ));
    }
    if text.contains("SOCKS error: server does not support user/pass authentication")
        || text.contains("SOCKS error: server implements authentication incorrectly")
    {
        return Some((
            format!(
                "the SOCKS5 proxy {shown} accepts none of the login methods offered (none without USER:PASSWORD@ in its URL, user and password with it)"
            ),
            format!(
                "if the proxy wants a login, write socks5://USER:PASSWORD@host:port ({login}); if it takes none, remove USER:PASSWORD@; {kubectl}"
            ),
        ));
    }
    if let Some(rest) = text.split("SOCKS error: ").nth(1)
        && !rest.starts_with("failed to create underlying connection")
        && !rest.starts_with("io error")
    {
        return Some((
            format!("the SOCKS5 proxy {shown} could not open the connection to {server}: {rest}"),
            format!("check that the proxy can reach the API server and allows it; {kubectl}"),
        ));
    }
    if text.contains("failed to create underlying connection")
        && (text.contains("Connection refused")
            || text.ends_with("failed to create underlying connection"))
    {
        return Some((
            format!("nothing answers at the proxy {shown}"),
            "start the proxy, or fix its address and port in the kubeconfig's proxy-url or HTTPS_PROXY/HTTP_PROXY (NO_PROXY lists the hosts reached without it); `kubectl get ns` fails the same way".to_string(),
        ));
    }
    None
}

/// The proxy settings of the environment, read once.
#[derive(Debug, Clone, Default)]
pub struct ProxyEnv {
    pub https_proxy: Option<(String, String)>,
    pub http_proxy: Option<(String, String)>,
    pub no_proxy: String,
}

fn env_any(names: &[&str]) -> Option<(String, String)> {
    names.iter().find_map(|n| {
        std::env::var(n)
            .ok()
            .filter(|v| !v.is_empty())
            .map(|v| (n.to_string(), v))
    })
}

impl ProxyEnv {
    /// `HTTPS_PROXY`/`https_proxy`, `HTTP_PROXY`/`http_proxy`,
    /// `NO_PROXY`/`no_proxy`: the upper-case name wins when both are set
    /// and non-empty (Go's rule).
    pub fn from_env() -> ProxyEnv {
        ProxyEnv {
            https_proxy: env_any(&["HTTPS_PROXY", "https_proxy"]),
            http_proxy: env_any(&["HTTP_PROXY", "http_proxy"]),
            no_proxy: env_any(&["NO_PROXY", "no_proxy"])
                .map(|(_, v)| v)
                .unwrap_or_default(),
        }
    }
}

/// Go's port for a proxy URL without one (`net/http`'s `canonicalAddr`):
/// 80 for http, 443 for https, 1080 for socks5.
fn default_port(scheme: &str) -> &'static str {
    match scheme {
        "https" => "443",
        "socks5" | "socks5h" => "1080",
        _ => "80",
    }
}

/// `url` as the connector takes it: the scheme lower-cased (Go's
/// `url.Parse` does so, so `HTTP://proxy:3128` works in kubectl), the
/// scheme one of `allowed`, the port Go's default when missing, any path
/// dropped (Go dials only the host and port). `socks5h` (accepted by Go in
/// the environment only) becomes `socks5`: the suite's SOCKS client always
/// lets the proxy resolve names, as Go's does for both.
///
/// Errors: an unsupported scheme, in words naming only the scheme.
fn normalize(url: &str, allowed: &[&str]) -> Result<String, String> {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let scheme = scheme.to_ascii_lowercase();
    if !allowed.contains(&scheme.as_str()) {
        return Err(format!(
            "proxy scheme {scheme:?} is not supported; use http, https or socks5"
        ));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    // An `@` after the authority: a user or password holding `/`, `?` or
    // `#` unencoded. Go then reads the login as the host (and kubectl
    // prints the whole URL in its error); the suite says so without it.
    if rest[authority.len()..].contains('@') {
        return Err(
            "the user or password in the proxy URL holds a / ? or # that must be percent-encoded (%2F %3F %23)"
                .to_string(),
        );
    }
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), authority),
    };
    let port = match hostport.rfind(']') {
        Some(end) => hostport[end + 1..].strip_prefix(':'),
        None => hostport.rsplit_once(':').map(|(_, p)| p),
    };
    if let Some(port) = port
        && (port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        // Not echoed: without an `@`, `user:password` reads as host:port.
        return Err(format!(
            "the {scheme} proxy URL's port is not a number (a user and password go before an @: {scheme}://USER:PASSWORD@host:port)"
        ));
    }
    let has_port = match hostport.rfind(']') {
        Some(end) => hostport[end..].contains(':'),
        None => hostport.contains(':'),
    };
    let hostport = if has_port || hostport.is_empty() {
        hostport.to_string()
    } else {
        format!("{hostport}:{}", default_port(&scheme))
    };
    let scheme = if scheme == "socks5h" {
        "socks5".to_string()
    } else {
        scheme
    };
    Ok(format!("{scheme}://{userinfo}{hostport}"))
}

/// The proxy for `server` (the API server URL): the kubeconfig's
/// `proxy-url` when set, else the environment's, else none.
///
/// Errors: a `proxy-url` whose scheme is not http, https or socks5
/// (client-go's `parseProxyURL`), or an environment value whose scheme is
/// not one of those or socks5h (Go's `net/http` transport).
pub fn choose(
    server: &str,
    kubeconfig_proxy: Option<&str>,
    env: &ProxyEnv,
) -> Result<Option<Proxy>, String> {
    if let Some(url) = kubeconfig_proxy.filter(|u| !u.is_empty()) {
        let url = normalize(url, &["http", "https", "socks5"])?;
        return Ok(Some(Proxy {
            url,
            source: ProxySource::Kubeconfig,
        }));
    }
    let (scheme, rest) = server.split_once("://").unwrap_or(("https", server));
    let scheme = scheme.to_ascii_lowercase();
    let chosen = match scheme.as_str() {
        "https" => env.https_proxy.as_ref(),
        "http" => env.http_proxy.as_ref(),
        _ => None,
    };
    let Some((name, value)) = chosen else {
        return Ok(None);
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    let (host, port) = split_host_port(authority, default_port(&scheme));
    if !use_proxy(&host, &port, &env.no_proxy) {
        return Ok(None);
    }
    // Go's parseProxy: a value without a scheme (or a host) is read as
    // `http://VALUE`.
    let url = match value.split_once("://") {
        Some((s, h)) if !s.is_empty() && !h.is_empty() => value.clone(),
        _ => format!("http://{value}"),
    };
    let url = normalize(&url, &["http", "https", "socks5", "socks5h"])
        .map_err(|e| format!("{name}: {e}"))?;
    Ok(Some(Proxy {
        url,
        source: ProxySource::Env(name.clone()),
    }))
}

/// `host:port`, `[v6]:port`, or a bare host with `default_port`; the
/// host as written (case kept: Go compares it with `localhost` before
/// lower-casing).
fn split_host_port(authority: &str, default_port: &str) -> (String, String) {
    if let Some(rest) = authority.strip_prefix('[')
        && let Some((h, tail)) = rest.split_once(']')
    {
        let port = tail.strip_prefix(':').unwrap_or(default_port);
        return (h.to_string(), port.to_string());
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h.to_string(), p.to_string()),
        _ => (authority.to_string(), default_port.to_string()),
    }
}

/// Go's `httpproxy` `useProxy`: false for `localhost` (exactly, as Go
/// compares it before lower-casing), loopback addresses and hosts
/// `no_proxy` matches. Entries: `*`; a CIDR; an IP or `[v6]:port` or
/// `ip:port` (matching only IP hosts); otherwise a domain, optionally
/// `*.`/`.`-prefixed and with `:port`, matching only names, never an IP
/// host (so `.0.1` does not cover `10.0.0.1`).
fn use_proxy(host: &str, port: &str, no_proxy: &str) -> bool {
    if host == "localhost" {
        return false;
    }
    let ip: Option<IpAddr> = host.parse().ok();
    if ip.is_some_and(|ip| ip.is_loopback()) {
        return false;
    }
    let host = host.trim().to_lowercase();
    for entry in no_proxy.split(',') {
        let p = entry.trim().to_lowercase();
        if p.is_empty() {
            continue;
        }
        if p == "*" {
            return false;
        }
        if let Some((net, bits)) = p.split_once('/')
            && let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u8>())
        {
            if let Some(ip) = ip
                && cidr_contains(net, bits, ip)
            {
                return false;
            }
            continue;
        }
        // Go's net.SplitHostPort: `host:port` or `[v6]:port`; anything
        // else (a bare `::1`, a `[v6]` without a port) is the host itself.
        let (phost, pport) = match go_split_host_port(&p) {
            Some((h, pp)) if !h.is_empty() => (h, pp),
            Some(_) => continue,
            None => (p.clone(), String::new()),
        };
        if let Ok(pip) = phost.parse::<IpAddr>() {
            if ip == Some(pip) && (pport.is_empty() || pport == port) {
                return false;
            }
            continue;
        }
        if ip.is_some() {
            continue;
        }
        let phost = match phost.strip_prefix("*.") {
            Some(rest) => format!(".{rest}"),
            None => phost,
        };
        let (suffix, match_host) = if phost.starts_with('.') {
            (phost.clone(), false)
        } else {
            (format!(".{phost}"), true)
        };
        let matched = host.ends_with(&suffix) || (match_host && host == suffix[1..]);
        if matched && (pport.is_empty() || pport == port) {
            return false;
        }
    }
    true
}

/// Go's `net.SplitHostPort` for a NO_PROXY entry: `Some((host, port))`
/// for `host:port` and `[v6]:port` (brackets removed), `None` when the
/// entry has no port or too many colons.
fn go_split_host_port(p: &str) -> Option<(String, String)> {
    if let Some(rest) = p.strip_prefix('[') {
        let (h, tail) = rest.split_once(']')?;
        let port = tail.strip_prefix(':')?;
        return Some((h.to_string(), port.to_string()));
    }
    let (h, port) = p.rsplit_once(':')?;
    if h.contains(':') || h.contains('[') || h.contains(']') {
        return None;
    }
    Some((h.to_string(), port.to_string()))
}

fn cidr_contains(net: IpAddr, bits: u8, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) if bits <= 32 => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) if bits <= 128 => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(https: Option<&str>, no: &str) -> ProxyEnv {
        ProxyEnv {
            https_proxy: https.map(|v| ("HTTPS_PROXY".to_string(), v.to_string())),
            http_proxy: None,
            no_proxy: no.to_string(),
        }
    }

    fn via(server: &str, e: &ProxyEnv) -> Option<String> {
        choose(server, None, e).unwrap().map(|p| p.url)
    }

    #[test]
    fn kubeconfig_proxy_url_wins_over_everything() {
        let e = env(Some("http://envproxy:3128"), "*");
        let p = choose(
            "https://127.0.0.1:6443",
            Some("socks5://127.0.0.1:1080"),
            &e,
        )
        .unwrap()
        .unwrap();
        assert_eq!(p.url, "socks5://127.0.0.1:1080");
        assert_eq!(p.source, ProxySource::Kubeconfig);
        assert!(choose("https://x", Some("ftp://p:1"), &e).is_err());
    }

    #[test]
    fn env_proxy_skips_loopback_and_no_proxy() {
        let e = env(Some("proxy.corp:3128"), "");
        assert_eq!(via("https://127.0.0.1:6443", &e), None);
        assert_eq!(via("https://localhost:6443", &e), None);
        assert_eq!(via("https://[::1]:6443", &e), None);
        assert_eq!(
            via("https://10.1.2.3:6443", &e).as_deref(),
            Some("http://proxy.corp:3128")
        );
        // HTTPS_PROXY is not for http:// servers.
        assert_eq!(via("http://10.1.2.3:8080", &e), None);
        let e = env(
            Some("http://p:1"),
            "10.0.0.0/8, ,example.com,.corp.net:6443,",
        );
        assert_eq!(via("https://10.1.2.3:6443", &e), None);
        assert!(via("https://11.1.2.3:6443", &e).is_some());
        assert_eq!(via("https://example.com", &e), None);
        assert_eq!(via("https://api.example.com:6443", &e), None);
        assert!(via("https://notexample.com", &e).is_some());
        assert!(via("https://corp.net:6443", &e).is_some());
        assert_eq!(via("https://api.corp.net:6443", &e), None);
        assert!(via("https://api.corp.net:443", &e).is_some());
        let e = env(Some("http://p:1"), "192.168.1.5:6443");
        assert_eq!(via("https://192.168.1.5:6443", &e), None);
        assert!(via("https://192.168.1.5:443", &e).is_some());
        assert_eq!(via("https://a.b", &env(Some("http://p:1"), "*")), None);
    }

    #[test]
    fn go_rules_for_schemes_ports_hosts_and_ip_hosts() {
        // Go lower-cases the scheme; a proxy without a port gets Go's.
        let kc = |u: &str| choose("https://10.0.0.1:6443", Some(u), &ProxyEnv::default());
        assert_eq!(kc("HTTP://p:3128").unwrap().unwrap().url, "http://p:3128");
        assert_eq!(
            kc("socks5://u:p@s").unwrap().unwrap().url,
            "socks5://u:p@s:1080"
        );
        assert_eq!(kc("https://p/path").unwrap().unwrap().url, "https://p:443");
        assert_eq!(
            kc("http://[fd00::1]").unwrap().unwrap().url,
            "http://[fd00::1]:80"
        );
        // client-go refuses socks5h in proxy-url; Go's transport takes it
        // from the environment.
        assert!(kc("socks5h://s:1080").is_err());
        // A login holding / ? # unencoded: refused without echoing it.
        for bad in [
            "http://u:pa#SECRET@p:1",
            "http://u:pa/SECRET@p:1",
            "http://u:pa?SECRET@p:1",
        ] {
            let e = kc(bad).unwrap_err();
            assert!(!e.contains("SECRET") && !e.contains("u:pa"), "{e}");
            assert!(e.contains("percent-encoded"), "{e}");
        }
        let e = kc("http://alice:SECRET").unwrap_err();
        assert!(
            e.contains("port is not a number") && !e.contains("SECRET"),
            "{e}"
        );
        let e = env(Some("SOCKS5H://s"), "");
        assert_eq!(
            via("https://10.0.0.1", &e).as_deref(),
            Some("socks5://s:1080")
        );
        // Domain entries never match an IP host; "localhost" is exact.
        let e = env(Some("http://p:1"), ".0.0.1,0.1,*.b.c");
        assert!(via("https://10.0.0.1", &e).is_some());
        assert_eq!(via("https://a.b.c", &e), None);
        assert!(via("https://b.c", &e).is_some());
        assert!(via("https://LOCALHOST:6443", &e).is_some());
        // A bracketed v6 entry needs a port (Go's SplitHostPort); a bare
        // one matches.
        let e = env(Some("http://p:1"), "[fd00::1],fd00::2,[fd00::3]:6443");
        assert!(via("https://[fd00::1]:6443", &e).is_some());
        assert_eq!(via("https://[fd00::2]:6443", &e), None);
        assert_eq!(via("https://[fd00::3]:6443", &e), None);
        assert!(via("https://[fd00::3]:443", &e).is_some());
    }

    #[test]
    fn proxy_failures_are_named_with_what_to_do() {
        let p = "http://p:3128";
        let s = "https://k:6443";
        let (said, hint) = explain(
            p,
            s,
            "client error (Connect): tunnel error: proxy authorization required",
        )
        .unwrap();
        assert!(
            said.contains("407") && hint.contains("USER:PASSWORD@"),
            "{said} {hint}"
        );
        let (said, _) =
            explain(p, s, "client error (Connect): tunnel error: unsuccessful").unwrap();
        assert!(said.contains("refused") && said.contains(s), "{said}");
        let (said, _) = explain(
            p,
            s,
            "client error (Connect): SOCKS error: credentials not accepted",
        )
        .unwrap();
        assert!(said.contains("refused the user and password"), "{said}");
        let (said, _) = explain(
            p,
            s,
            "SOCKS error: server does not support user/pass authentication",
        )
        .unwrap();
        assert!(said.contains("none of the login methods"), "{said}");
        let (said, _) =
            explain(p, s, "SOCKS error: connection refused by destination host").unwrap();
        assert!(said.contains("could not open the connection"), "{said}");
        let (said, _) = explain(p, s, "tunnel error: failed to create underlying connection: tcp connect error: Connection refused (os error 111)").unwrap();
        assert!(said.contains("nothing answers"), "{said}");
        assert!(explain(p, s, "invalid peer certificate").is_none());
    }

    #[test]
    fn shown_hides_credentials() {
        let p = Proxy {
            url: "http://user:pa@ss@proxy:3128".into(),
            source: ProxySource::Kubeconfig,
        };
        assert_eq!(p.shown(), "http://proxy:3128");
    }
}
