//! `tls-server-name` as the name the TLS handshake asks for (SNI), as
//! client-go sends it.
//!
//! reqwest takes the SNI of a connection from the host of the request's URL
//! and has no setting to send another. So when a cluster names a
//! `tls-server-name` that differs from the host of its URL, requests are
//! addressed to that name, and [`ServerNameRoute`] resolves the name to the
//! cluster URL's host: connections still go where the cluster URL says, while
//! the handshake asks for the configured name (and the requests' `Host` names
//! it too, as it is the server they are meant for). The certificate is checked
//! against the name either way.
//!
//! Through a proxy the name would reach the proxy as the host to connect to,
//! which it need not know; there the URL's host is kept (and so the SNI), and
//! only the certificate check uses the name.

use std::{net::IpAddr, sync::Arc};

use http::Uri;

use crate::Config;

/// The environment variables through which reqwest finds a proxy for HTTPS.
const PROXY_VARIABLES: [&str; 4] = ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"];

/// Sends requests for the cluster's host to its `tls-server-name`, and
/// resolves that name to the cluster's host.
#[derive(Debug)]
pub(super) struct ServerNameRoute {
    /// The configured `tls-server-name`.
    name: String,
    /// The host of the cluster URL, without IPv6 brackets.
    cluster_host: String,
}

impl ServerNameRoute {
    /// The route for `config`'s `tls-server-name`, when it is a DNS name that
    /// differs from the cluster URL's host and requests go straight to the
    /// cluster (`env_proxy_applies`: the environment's proxy settings are in
    /// force for it).
    pub(super) fn for_config(config: &Config, env_proxy_applies: bool) -> Option<Arc<Self>> {
        let name = config.tls_server_name.as_deref()?.trim();
        let cluster_host = host_of(&config.cluster_url)?;
        let usable = config.cluster_url.scheme_str() == Some("https")
            && !name.is_empty()
            // SNI carries DNS names only.
            && name.parse::<IpAddr>().is_err()
            && !name.eq_ignore_ascii_case(cluster_host);
        if !usable {
            return None;
        }
        let proxied = config.proxy_url.is_some()
            || (env_proxy_applies
                && PROXY_VARIABLES
                    .iter()
                    .any(|v| std::env::var_os(v).is_some_and(|value| !value.is_empty())));
        if proxied {
            tracing::debug!(
                tls_server_name = name,
                "requests go through a proxy: tls-server-name is checked against the certificate but not sent as SNI"
            );
            return None;
        }
        Some(Arc::new(Self {
            name: name.to_string(),
            cluster_host: cluster_host.to_string(),
        }))
    }

    /// Addresses `uri` to the configured name when it is for the cluster's
    /// host, keeping its port.
    pub(super) fn route(&self, uri: &mut Uri) {
        let for_cluster = uri.scheme_str() == Some("https")
            && host_of(uri).is_some_and(|host| host.eq_ignore_ascii_case(&self.cluster_host));
        if !for_cluster {
            return;
        }
        let authority = match uri.port_u16() {
            Some(port) => format!("{}:{port}", self.name),
            None => self.name.clone(),
        };
        let Ok(authority) = http::uri::Authority::try_from(authority) else {
            return;
        };
        let mut parts = std::mem::take(uri).into_parts();
        parts.authority = Some(authority);
        // A valid URI with another valid authority is a valid URI.
        *uri = Uri::from_parts(parts).unwrap_or_default();
    }
}

impl reqwest::dns::Resolve for ServerNameRoute {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = if name.as_str().eq_ignore_ascii_case(&self.name) {
            self.cluster_host.clone()
        } else {
            name.as_str().to_string()
        };
        Box::pin(async move {
            // The port is the URL's; resolution gives addresses only.
            let addresses: Vec<_> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let addresses: reqwest::dns::Addrs = Box::new(addresses.into_iter());
            Ok(addresses)
        })
    }
}

/// The host of a URI, without the brackets of an IPv6 address.
fn host_of(uri: &Uri) -> Option<&str> {
    let host = uri.host()?;
    Some(
        host.strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str, name: Option<&str>) -> Config {
        let mut config = crate::client::test_config(url);
        config.tls_server_name = name.map(str::to_string);
        config
    }

    #[test]
    fn only_a_dns_name_other_than_the_host_is_routed() {
        let route = |url: &str, name: Option<&str>| {
            ServerNameRoute::for_config(&config(url, name), false).is_some()
        };
        assert!(route(
            "https://10.0.0.1:6443",
            Some("kubernetes.default.svc")
        ));
        assert!(route("https://[::1]:6443", Some("api.internal")));
        assert!(!route("https://10.0.0.1:6443", None));
        assert!(!route("https://10.0.0.1:6443", Some("")));
        assert!(!route("https://10.0.0.1:6443", Some("10.0.0.2")));
        assert!(!route("https://API.example.com", Some("api.example.com")));
        assert!(!route("http://10.0.0.1:8080", Some("api.internal")));
        let mut proxied = config("https://10.0.0.1", Some("api.internal"));
        proxied.proxy_url = Some("http://127.0.0.1:3128".parse().expect("uri"));
        assert!(ServerNameRoute::for_config(&proxied, false).is_none());
    }

    #[test]
    fn requests_for_the_cluster_host_are_addressed_to_the_name() {
        let route =
            ServerNameRoute::for_config(&config("https://[::1]:6443", Some("api.internal")), false)
                .expect("routed");
        let mut uri: Uri = "https://[::1]:6443/api/v1/pods?watch=1"
            .parse()
            .expect("uri");
        route.route(&mut uri);
        assert_eq!(uri, "https://api.internal:6443/api/v1/pods?watch=1");
        let mut elsewhere: Uri = "https://other.example.com/x".parse().expect("uri");
        route.route(&mut elsewhere);
        assert_eq!(elsewhere, "https://other.example.com/x");
    }

    #[tokio::test]
    async fn the_name_resolves_to_the_cluster_host() {
        use reqwest::dns::Resolve;
        let route = ServerNameRoute::for_config(
            &config("https://127.0.0.1:6443", Some("api.internal")),
            false,
        )
        .expect("routed");
        let name = "API.internal".parse().expect("a name");
        let addresses: Vec<_> = route.resolve(name).await.expect("resolved").collect();
        assert_eq!(addresses, ["127.0.0.1:0".parse().expect("address")]);
    }
}
