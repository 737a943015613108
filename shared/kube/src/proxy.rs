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
//! Not for deciding how to connect: kube's `http-proxy` and `socks5`
//! features do that with the URL chosen here (the same connector carries
//! the WebSocket of port-forward and exec). Knows nothing of kube.

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

/// A proxy URL's problem, said in words.
fn check_scheme(url: &str) -> Result<(), String> {
    let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or("");
    match scheme {
        "http" | "https" | "socks5" => Ok(()),
        other => Err(format!(
            "proxy scheme {other:?} is not supported; use http, https or socks5"
        )),
    }
}

/// The proxy for `server` (the API server URL): the kubeconfig's
/// `proxy-url` when set, else the environment's, else none.
///
/// Errors: a `proxy-url` or environment value whose scheme is not http,
/// https or socks5.
pub fn choose(
    server: &str,
    kubeconfig_proxy: Option<&str>,
    env: &ProxyEnv,
) -> Result<Option<Proxy>, String> {
    if let Some(url) = kubeconfig_proxy.filter(|u| !u.is_empty()) {
        check_scheme(url)?;
        return Ok(Some(Proxy {
            url: url.to_string(),
            source: ProxySource::Kubeconfig,
        }));
    }
    let (scheme, rest) = server.split_once("://").unwrap_or(("https", server));
    let chosen = match scheme {
        "https" => env.https_proxy.as_ref(),
        "http" => env.http_proxy.as_ref(),
        _ => None,
    };
    let Some((name, value)) = chosen else {
        return Ok(None);
    };
    let authority = rest.split('/').next().unwrap_or("");
    let authority = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    let (host, port) = split_host_port(authority, if scheme == "https" { "443" } else { "80" });
    if !use_proxy(&host, &port, &env.no_proxy) {
        return Ok(None);
    }
    // Go: a value that does not parse with a known scheme is read as
    // `http://VALUE`.
    let url = if value.contains("://") {
        value.clone()
    } else {
        format!("http://{value}")
    };
    check_scheme(&url).map_err(|e| format!("{name}: {e}"))?;
    Ok(Some(Proxy {
        url,
        source: ProxySource::Env(name.clone()),
    }))
}

/// `host:port`, `[v6]:port`, or a bare host with `default_port`.
fn split_host_port(authority: &str, default_port: &str) -> (String, String) {
    if let Some(rest) = authority.strip_prefix('[')
        && let Some((h, tail)) = rest.split_once(']')
    {
        let port = tail.strip_prefix(':').unwrap_or(default_port);
        return (h.to_lowercase(), port.to_string());
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h.to_lowercase(), p.to_string()),
        _ => (authority.to_lowercase(), default_port.to_string()),
    }
}

/// Go's `httpproxy` `useProxy`: false for localhost, loopback addresses
/// and hosts `no_proxy` matches.
fn use_proxy(host: &str, port: &str, no_proxy: &str) -> bool {
    if host == "localhost" {
        return false;
    }
    let ip: Option<IpAddr> = host.parse().ok();
    if ip.is_some_and(|ip| ip.is_loopback()) {
        return false;
    }
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
        let (phost, pport) = if p.starts_with('[') || p.matches(':').count() == 1 {
            let (h, pp) = split_host_port(&p, "");
            (h, pp)
        } else {
            (p.clone(), String::new())
        };
        if phost.is_empty() {
            continue;
        }
        if let Ok(pip) = phost.parse::<IpAddr>() {
            if ip == Some(pip) && (pport.is_empty() || pport == port) {
                return false;
            }
            continue;
        }
        let phost = phost.strip_prefix('*').unwrap_or(&phost).to_string();
        let (suffix, match_host) = if phost.starts_with('.') {
            (phost.clone(), false)
        } else {
            (format!(".{phost}"), true)
        };
        let matched = host.ends_with(&suffix) || (match_host && host == &suffix[1..]);
        if matched && (pport.is_empty() || pport == port) {
            return false;
        }
    }
    true
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
    fn shown_hides_credentials() {
        let p = Proxy {
            url: "http://user:pa@ss@proxy:3128".into(),
            source: ProxySource::Kubeconfig,
        };
        assert_eq!(p.shown(), "http://proxy:3128");
    }
}
