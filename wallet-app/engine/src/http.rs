//! Every request the wallet makes to a URL taken from an offer, a request
//! or metadata goes through [`Http`]: https only (http to loopback only in
//! dev mode), no private, loopback or link-local destination outside dev
//! mode (checked on the literal host and on every address DNS gives, by
//! the resolver reqwest connects with, so a rebinding answer cannot slip
//! through), no redirects, a time limit and a response size limit.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use intyg_core::oid4vci::UrlRules;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Network limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetLimits {
    /// Whole-request time limit.
    pub timeout: Duration,
    /// Connection time limit.
    pub connect_timeout: Duration,
    /// Largest response body accepted, in bytes.
    pub max_response_bytes: usize,
}

impl Default for NetLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(5),
            max_response_bytes: 1024 * 1024,
        }
    }
}

/// Why a fetch was refused or failed. Nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The URL is not https (or, in dev mode, http to a loopback host).
    #[error(
        "refused to fetch `{0}`: only https URLs are allowed (http only to loopback in dev mode)"
    )]
    NotHttps(String),
    /// The URL does not parse or has no host.
    #[error("`{0}` is not a valid URL")]
    InvalidUrl(String),
    /// The host is, or resolves to, a private, loopback, link-local or
    /// otherwise non-public address, outside dev mode.
    #[error("refused to fetch `{url}`: {host} is a non-public address")]
    PrivateAddress {
        /// The URL.
        url: String,
        /// The host or address.
        host: String,
    },
    /// The response is larger than the limit.
    #[error("the response from `{url}` exceeds {limit} bytes")]
    TooLarge {
        /// The URL.
        url: String,
        /// The limit.
        limit: usize,
    },
    /// The server did not answer in time.
    #[error("`{0}` did not answer in time")]
    Timeout(String),
    /// The server answered with a redirect, which the wallet never follows.
    #[error("`{url}` redirected (HTTP {status}); redirects are not followed")]
    Redirect {
        /// The URL.
        url: String,
        /// The status.
        status: u16,
    },
    /// Connecting or reading failed.
    #[error("fetching `{url}`: {source}")]
    Transport {
        /// The URL.
        url: String,
        /// The error.
        #[source]
        source: reqwest::Error,
    },
    /// The HTTP client could not be built.
    #[error("building the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
}

/// A response: status, content type, the headers a protocol step reads
/// and the (bounded) body.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`, if any.
    pub content_type: Option<String>,
    /// `DPoP-Nonce` (RFC 9449 §8), if any.
    pub dpop_nonce: Option<String>,
    /// `WWW-Authenticate`, if any.
    pub www_authenticate: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as text (lossy), for parsers that take `&str`.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The policy-checked HTTP client.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    dev: bool,
    limits: NetLimits,
}

impl Http {
    /// A client for production (`dev == false`) or dev mode.
    pub fn new(dev: bool, limits: NetLimits) -> Result<Self, FetchError> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(limits.timeout)
            .connect_timeout(limits.connect_timeout)
            .user_agent(concat!("intyg-wallet/", env!("CARGO_PKG_VERSION")))
            .https_only(!dev);
        if !dev {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        Ok(Self {
            client: builder.build().map_err(FetchError::Client)?,
            dev,
            limits,
        })
    }

    /// The URL rules in force.
    pub fn rules(&self) -> UrlRules {
        if self.dev {
            UrlRules::DangerousAllowHttpLoopback
        } else {
            UrlRules::HttpsOnly
        }
    }

    /// Whether this client runs in dev mode.
    pub fn is_dev(&self) -> bool {
        self.dev
    }

    /// Checks a URL against the policy without fetching it.
    pub fn check(&self, url: &str) -> Result<(), FetchError> {
        if !self.rules().allows(url) {
            return Err(FetchError::NotHttps(url.to_owned()));
        }
        let parsed = url::Url::parse(url).map_err(|_| FetchError::InvalidUrl(url.to_owned()))?;
        let host = parsed
            .host()
            .ok_or_else(|| FetchError::InvalidUrl(url.to_owned()))?;
        if self.dev {
            return Ok(());
        }
        let literal = match host {
            url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
            url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
            url::Host::Domain(name) if name.eq_ignore_ascii_case("localhost") => {
                Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
            }
            url::Host::Domain(_) => None,
        };
        if let Some(ip) = literal.filter(|ip| !is_public(*ip)) {
            return Err(FetchError::PrivateAddress {
                url: url.to_owned(),
                host: ip.to_string(),
            });
        }
        Ok(())
    }

    /// `GET url`.
    pub async fn get(&self, url: &str, accept: &str) -> Result<Reply, FetchError> {
        self.check(url)?;
        self.send(url, self.client.get(url).header("accept", accept))
            .await
    }

    /// `POST url` with a form body and an optional bearer token.
    pub async fn post_form(
        &self,
        url: &str,
        form: String,
        bearer: Option<&str>,
    ) -> Result<Reply, FetchError> {
        let authorization = bearer.map(|token| format!("Bearer {token}"));
        let headers: Vec<(&str, &str)> = authorization
            .as_deref()
            .map(|value| ("authorization", value))
            .into_iter()
            .collect();
        self.post_form_with(url, form, &headers).await
    }

    /// `POST url` with a form body and these extra headers (`accept`,
    /// `authorization`, `dpop`...).
    pub async fn post_form_with(
        &self,
        url: &str,
        form: String,
        headers: &[(&str, &str)],
    ) -> Result<Reply, FetchError> {
        self.check(url)?;
        let mut request = self
            .client
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(url, request).await
    }

    /// `POST url` with a JSON body (or none) and an optional bearer token.
    pub async fn post_json(
        &self,
        url: &str,
        body: Option<&serde_json::Value>,
        bearer: Option<&str>,
    ) -> Result<Reply, FetchError> {
        let authorization = bearer.map(|token| format!("Bearer {token}"));
        let headers: Vec<(&str, &str)> = authorization
            .as_deref()
            .map(|value| ("authorization", value))
            .into_iter()
            .collect();
        self.post_json_with(url, body, &headers).await
    }

    /// `POST url` with a JSON body (or none) and these extra headers.
    pub async fn post_json_with(
        &self,
        url: &str,
        body: Option<&serde_json::Value>,
        headers: &[(&str, &str)],
    ) -> Result<Reply, FetchError> {
        self.check(url)?;
        let mut request = self.client.post(url);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(url, request).await
    }

    async fn send(&self, url: &str, request: reqwest::RequestBuilder) -> Result<Reply, FetchError> {
        let mut response = request.send().await.map_err(|e| self.classify(url, e))?;
        let status = response.status().as_u16();
        if (300..400).contains(&status) {
            return Err(FetchError::Redirect {
                url: url.to_owned(),
                status,
            });
        }
        let limit = self.limits.max_response_bytes;
        let too_large = || FetchError::TooLarge {
            url: url.to_owned(),
            limit,
        };
        if response
            .content_length()
            .is_some_and(|length| length > limit as u64)
        {
            return Err(too_large());
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header("content-type");
        let dpop_nonce = header("dpop-nonce");
        let www_authenticate = header("www-authenticate");
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.classify(url, e))? {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Reply {
            status,
            content_type,
            dpop_nonce,
            www_authenticate,
            body,
        })
    }

    fn classify(&self, url: &str, error: reqwest::Error) -> FetchError {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
        while let Some(current) = source {
            if let Some(refused) = current.downcast_ref::<NonPublic>() {
                return FetchError::PrivateAddress {
                    url: url.to_owned(),
                    host: refused.0.clone(),
                };
            }
            source = current.source();
        }
        if error.is_timeout() {
            return FetchError::Timeout(url.to_owned());
        }
        FetchError::Transport {
            url: url.to_owned(),
            source: error,
        }
    }
}

/// The resolver outside dev mode: refuses a name if any of its addresses
/// is not public.
#[derive(Debug)]
struct PublicOnly;

#[derive(Debug, thiserror::Error)]
#[error("{0} resolves to a non-public address")]
struct NonPublic(String);

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
                return Err(Box::new(NonPublic(format!("{host} ({})", bad.ip())))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Whether an address is globally routable: not loopback, private,
/// link-local, shared (CGNAT), documentation, benchmarking, multicast,
/// broadcast, reserved or unspecified; IPv4-mapped IPv6 by its IPv4.
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || first == 0x2001 && ip.segments()[1] == 0x0db8
        || (first == 0x0064 && ip.segments()[1] == 0xff9b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_public_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "1.1.1.1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn policy_outside_dev_mode() {
        let http = Http::new(false, NetLimits::default()).unwrap();
        assert!(matches!(
            http.check("http://issuer.example/"),
            Err(FetchError::NotHttps(_))
        ));
        assert!(matches!(
            http.check("https://10.0.0.5/offer"),
            Err(FetchError::PrivateAddress { .. })
        ));
        assert!(matches!(
            http.check("https://localhost:8443/offer"),
            Err(FetchError::PrivateAddress { .. })
        ));
        assert!(matches!(
            http.check("https://[::1]/x"),
            Err(FetchError::PrivateAddress { .. })
        ));
        assert!(http.check("https://issuer.example/x").is_ok());
        let dev = Http::new(true, NetLimits::default()).unwrap();
        assert!(dev.check("http://127.0.0.1:9/x").is_ok());
        assert!(matches!(
            dev.check("http://issuer.example/"),
            Err(FetchError::NotHttps(_))
        ));
    }
}
