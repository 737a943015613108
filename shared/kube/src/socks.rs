//! A kube client for a `socks5://USER:PASSWORD@host:port` proxy: kube's
//! own builder drops the user and password of a SOCKS5 proxy URL (it never
//! calls hyper-util's `SocksV5::with_auth`), so every request fails with
//! "server does not support user/pass authentication" where kubectl logs
//! in. This builds the same client as kube's (`ClientBuilder::try_from`:
//! rustls over the SOCKS connector, connect/read/write timeouts, the base
//! URI, the retry, credential and header layers) with the login set.
//!
//! Not for any other proxy: kube's builder handles those (http and https
//! proxies send `Proxy-Authorization` themselves). The user and password
//! are percent-decoded, as Go's `url.UserPassword` gives them to
//! client-go's SOCKS dialer, and sent only to the proxy.

use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::proxy::SocksV5;
use kube::client::ConfigExt;
use tower::ServiceBuilder;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The user and password of a proxy URL's authority, percent-decoded, and
/// the URL without them. `None` without a `user[:password]@` part.
pub fn split_login(url: &http::Uri) -> Option<((String, String), http::Uri)> {
    let authority = url.authority()?.as_str();
    let (userinfo, hostport) = authority.rsplit_once('@')?;
    let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let scheme = url.scheme_str().unwrap_or("socks5");
    let bare = format!("{scheme}://{hostport}").parse().ok()?;
    Some(((decode(user), decode(pass)), bare))
}

/// A SOCKS5 connector that logs in, and, when the proxy accepts no
/// user/password login, connects again offering none: Go's SOCKS dialer
/// (client-go's) offers both methods in one greeting and the proxy picks,
/// so a proxy that wants no login lets kubectl in with a login in its URL.
/// hyper-util offers one method per greeting, hence the second attempt.
#[derive(Clone)]
struct LoginOrNone {
    with_login: SocksV5<HttpConnector>,
    without: SocksV5<HttpConnector>,
}

impl tower::Service<http::Uri> for LoginOrNone {
    type Response = hyper_util::rt::TokioIo<tokio::net::TcpStream>;
    type Error = BoxError;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, BoxError>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), BoxError>> {
        self.with_login.poll_ready(cx).map_err(BoxError::from)
    }

    fn call(&mut self, dst: http::Uri) -> Self::Future {
        use tower::ServiceExt as _;
        let first = self.with_login.call(dst.clone());
        let without = self.without.clone();
        Box::pin(async move {
            match first.await {
                Ok(conn) => Ok(conn),
                // hyper-util's words for "no acceptable methods" (0xFF).
                Err(e) if e.to_string().contains("does not support user/pass") => {
                    without.oneshot(dst).await.map_err(BoxError::from)
                }
                Err(e) => Err(BoxError::from(e)),
            }
        })
    }
}

/// kube's client for `config`, with the SOCKS5 proxy's login when its
/// `proxy_url` is `socks5://USER[:PASSWORD]@...`; `Ok(None)` for any other
/// configuration (build it with `kube::Client::try_from`).
///
/// Errors: kube's, as `kube::Client::try_from` gives them (TLS data,
/// credentials, headers).
pub fn client_with_socks_login(config: &kube::Config) -> Result<Option<kube::Client>, kube::Error> {
    let Some(url) = config.proxy_url.as_ref() else {
        return Ok(None);
    };
    if url.scheme_str() != Some("socks5") {
        return Ok(None);
    }
    let Some(((user, pass), bare)) = split_login(url) else {
        return Ok(None);
    };
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    let socks = LoginOrNone {
        with_login: SocksV5::new(bare.clone(), http.clone()).with_auth(user, pass),
        without: SocksV5::new(bare, http),
    };
    let https = config.rustls_https_connector_with_connector(socks)?;
    let mut connector = hyper_timeout::TimeoutConnector::new(https);
    connector.set_connect_timeout(config.connect_timeout);
    connector.set_read_timeout(config.read_timeout);
    connector.set_write_timeout(config.write_timeout);
    let client: hyper_util::client::legacy::Client<_, kube::client::Body> =
        hyper_util::client::legacy::Builder::new(hyper_util::rt::TokioExecutor::new())
            .build(connector);
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(
            config
                .default_retry
                .then_some(tower::retry::RetryLayer::new(
                    kube::client::retry::RetryPolicy::server_retry(),
                )),
        )
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .map_err(BoxError::from)
        .service(client);
    Ok(Some(kube::Client::new(
        service,
        config.default_namespace.clone(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_is_percent_decoded_and_taken_out_of_the_url() {
        let url: http::Uri = "socks5://bob:p%40ss%3Aw%2Frd@127.0.0.1:1080"
            .parse()
            .unwrap();
        let ((user, pass), bare) = split_login(&url).unwrap();
        assert_eq!((user.as_str(), pass.as_str()), ("bob", "p@ss:w/rd"));
        assert_eq!(bare.to_string(), "socks5://127.0.0.1:1080/");
        let plain: http::Uri = "socks5://127.0.0.1:1080".parse().unwrap();
        assert!(split_login(&plain).is_none());
    }
}
