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
    let socks = SocksV5::new(bare, http).with_auth(user, pass);
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
