//! What keeps web pages away from a server without a token. A page on any
//! site can make the browser send requests to 127.0.0.1, either by
//! rebinding its own name to that address (DNS rebinding) or by posting to
//! it directly, but it cannot choose the `Host` the browser sends in the
//! first case, nor the `Origin` in the second. So without a token the server
//! answers only requests whose `Host` names it (a loopback name, its bound
//! address, or a name given with `--allow-host`), and refuses
//! state-changing requests whose `Origin` is another site.
//!
//! With a token none of this applies: a page cannot attach a bearer token it
//! does not know.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::header::{HOST, ORIGIN};
use axum::http::{HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::IntoResponse;

use super::error::ApiError;
use crate::sanitize;

/// The names a token-less server answers to, and its own origin's port.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostPolicy {
    /// Lower-case names beyond the loopback ones (`--allow-host`).
    names: Vec<String>,
    /// The address the server listens on: its IP is one more name it answers
    /// to, and its port is its own origin's. `None` accepts any port.
    address: Option<SocketAddr>,
}

impl HostPolicy {
    pub fn new(address: Option<SocketAddr>, names: &[String]) -> Self {
        HostPolicy {
            names: names.iter().map(|name| normalize(name)).collect(),
            address,
        }
    }

    /// Whether `host` (without a port; IPv6 literals without brackets) is a
    /// name this server answers to.
    pub fn allows_host(&self, host: &str) -> bool {
        let host = normalize(host);
        if host == "localhost" {
            return true;
        }
        if let Ok(ip) = host.parse::<IpAddr>() {
            let ip = ip.to_canonical();
            return ip.is_loopback() || self.address.is_some_and(|a| a.ip().to_canonical() == ip);
        }
        self.names.contains(&host)
    }

    /// Whether a request with this `Host` header value is answered: a name
    /// it allows, with or without a port.
    fn allows_host_header(&self, value: &str) -> bool {
        split_host_port(value).is_some_and(|(host, _)| self.allows_host(host))
    }

    /// Whether `origin` is the server's own: `http://`, a name it answers
    /// to, and its port.
    fn allows_origin(&self, origin: &str) -> bool {
        let Ok(url) = url::Url::parse(origin) else {
            return false; // "null" (sandboxed pages, files) included
        };
        let Some(host) = url.host_str() else {
            return false;
        };
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        url.scheme() == "http"
            && url.username().is_empty()
            && self.allows_host(host)
            && self
                .address
                .is_none_or(|a| url.port_or_known_default() == Some(a.port()))
    }

    /// How the server's own origin looks, for messages.
    fn own_origin(&self) -> String {
        match self.address {
            Some(address) => format!("http://localhost:{}", address.port()),
            None => "http://localhost:PORT".to_owned(),
        }
    }
}

/// Lower case, without the one trailing dot a fully qualified name may have.
fn normalize(name: &str) -> String {
    let name = name.trim();
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// `localhost:8001` -> (`localhost`, 8001); `[::1]` -> (`::1`, none).
/// `None` when it is not a host with an optional port.
fn split_host_port(value: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = match value.strip_prefix('[') {
        Some(rest) => {
            let (host, after) = rest.split_once(']')?;
            if after.is_empty() {
                (host, None)
            } else {
                (host, Some(after.strip_prefix(':')?))
            }
        }
        None => match value.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (value, None),
        },
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        None | Some("") => None,
        Some(port) => Some(port.parse::<u16>().ok()?),
    };
    Some((host, port))
}

/// Methods that change something: these must not come from another site.
fn changes_state(method: &Method) -> bool {
    [Method::POST, Method::PATCH, Method::PUT, Method::DELETE].contains(method)
}

/// A header value shown in a message: printable, and not too long.
fn shown(value: &HeaderValue) -> String {
    let text = String::from_utf8_lossy(value.as_bytes());
    let text: String = text.chars().take(100).collect();
    sanitize::line(&text).into_owned()
}

/// Why a request is refused, if it is.
fn refusal(policy: &HostPolicy, request: &Request) -> Option<String> {
    // Browsers always send a Host; a request without one (and without a
    // name in an absolute-form target) is no browser's.
    let host = match request.headers().get(HOST) {
        Some(value) => Some((
            value.to_str().is_ok_and(|v| policy.allows_host_header(v)),
            shown(value),
        )),
        None => request.uri().authority().map(|a| {
            (
                policy.allows_host_header(a.as_str()),
                sanitize::line(a.as_str()).into_owned(),
            )
        }),
    };
    if let Some((false, host)) = host {
        return Some(format!(
            "Host `{host}` is not a name this server answers to: without --token, snag serve \
             answers only localhost, loopback addresses (127.0.0.1, [::1]) and names given with \
             --allow-host"
        ));
    }
    if changes_state(request.method())
        && let Some(origin) = request.headers().get(ORIGIN)
    {
        let allowed = origin.to_str().is_ok_and(|o| policy.allows_origin(o));
        if !allowed {
            return Some(format!(
                "cross-site request refused: Origin `{}` is not this server's own ({}); \
                 pages of other sites cannot change anything here",
                shown(origin),
                policy.own_origin()
            ));
        }
    }
    None
}

/// Wraps the routes in the Host and Origin checks.
pub fn apply(routes: Router, policy: HostPolicy) -> Router {
    let policy = Arc::new(policy);
    routes.layer(middleware::from_fn(move |request: Request, next: Next| {
        let policy = Arc::clone(&policy);
        async move {
            match refusal(&policy, &request) {
                None => next.run(request).await,
                Some(why) => ApiError::Forbidden(why).into_response(),
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> HostPolicy {
        HostPolicy::new(
            Some("127.0.0.1:8001".parse().unwrap()),
            &["Snag.Internal".to_owned()],
        )
    }

    #[test]
    fn loopback_names_bound_address_and_allowed_names() {
        let policy = policy();
        for host in [
            "localhost",
            "LOCALHOST:8001",
            "localhost.",
            "127.0.0.1",
            "127.0.0.1:8001",
            "127.3.2.1:80",
            "[::1]",
            "[::1]:8001",
            "[::ffff:127.0.0.1]:8001",
            "snag.internal",
            "snag.internal:8001",
        ] {
            assert!(policy.allows_host_header(host), "{host} was refused");
        }
        for host in [
            "evil.example",
            "evil.example:8001",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "10.0.0.1",
            "[::2]:8001",
            "::1",
            "[::1",
            "localhost:port",
            ":8001",
            "",
        ] {
            assert!(!policy.allows_host_header(host), "{host} was allowed");
        }
    }

    #[test]
    fn only_the_servers_own_origin_may_change_state() {
        let policy = policy();
        for origin in [
            "http://localhost:8001",
            "http://127.0.0.1:8001",
            "http://[::1]:8001",
            "http://snag.internal:8001",
        ] {
            assert!(policy.allows_origin(origin), "{origin} was refused");
        }
        for origin in [
            "http://evil.example",
            "http://localhost:8002",
            "http://localhost",
            "https://localhost:8001",
            "null",
            "file://",
        ] {
            assert!(!policy.allows_origin(origin), "{origin} was allowed");
        }
        // Without a known address, the port is not checked.
        assert!(HostPolicy::new(None, &[]).allows_origin("http://localhost:9"));
    }
}
