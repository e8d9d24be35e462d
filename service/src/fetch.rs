//! Outgoing HTTP from untrusted URLs (status lists, issuer metadata,
//! webhook deliveries), with SSRF checks, a time limit, a size cap and no
//! redirects; shared by both services.
//!
//! A URL from a credential or an attestation is untrusted input: outside
//! development mode it must be https and must lead only to public
//! addresses ([`Reach::Public`]). The rule is enforced twice, with one
//! classification ([`reach`]):
//!
//! - when a URL is checked ([`Fetcher::check_url`], on every request and
//!   when a webhook is registered): an address literal, or `localhost` and
//!   `*.localhost`, must be allowed;
//! - when a host name is connected to: the client's resolver drops every
//!   address that is not allowed and fails the lookup if none remains, so
//!   a name that resolves (or rebinds) to a private address is never
//!   reached. No proxy is used: a proxy would resolve the name itself.
//!
//! In development, http and https to loopback are allowed too.
//! [`Fetcher::dangerous_allow_private_addresses`] also allows private
//! networks and loopback over https, never link-local or other special
//! addresses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Where an address leads, for the SSRF rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Globally reachable unicast: the only addresses fetched outside
    /// development mode.
    Public,
    /// This host: 127.0.0.0/8 and `::1` (IPv4-mapped too).
    Loopback,
    /// A private network: RFC 1918, shared address space (CGNAT,
    /// 100.64.0.0/10), unique-local `fc00::/7`; their IPv4-mapped, 6to4 and
    /// NAT64 forms.
    Private,
    /// Never fetched: unspecified, 0.0.0.0/8, link-local (cloud metadata
    /// at 169.254.169.254, `fe80::/10`), broadcast, multicast,
    /// documentation, benchmarking, reserved and protocol ranges,
    /// IPv4-compatible IPv6, Teredo, and loopback reached through a
    /// translator.
    Special,
}

/// Classifies `ip`; an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as its
/// IPv4 address.
pub fn reach(ip: IpAddr) -> Reach {
    match ip {
        IpAddr::V4(v4) => reach_v4(v4),
        IpAddr::V6(v6) => reach_v6(v6),
    }
}

fn reach_v4(ip: Ipv4Addr) -> Reach {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback() {
        Reach::Loopback
    } else if ip.is_private() || (a == 100 && (b & 0xc0) == 64) {
        Reach::Private
    } else if ip.is_link_local()
        || ip.is_multicast()
        || ip.is_documentation()
        || matches!(
            (a, b, c),
            (0, _, _) // "this network", 0.0.0.0 among it
                | (240.., _, _) // reserved, 255.255.255.255 among it
                | (192, 0, 0) // IETF protocol assignments
                | (192, 88, 99) // 6to4 relay anycast
                | (198, 18..=19, _) // benchmarking
        )
    {
        Reach::Special
    } else {
        Reach::Public
    }
}

fn reach_v6(ip: Ipv6Addr) -> Reach {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return reach_v4(v4);
    }
    let s = ip.segments();
    // An IPv4 address behind a translator (6to4, NAT64): public or
    // private as that address; its loopback is not ours, and no use.
    let translated = |high: u16, low: u16| match reach_v4(Ipv4Addr::from(
        (u32::from(high) << 16) | u32::from(low),
    )) {
        Reach::Public => Reach::Public,
        Reach::Private => Reach::Private,
        Reach::Loopback | Reach::Special => Reach::Special,
    };
    if ip.is_loopback() {
        Reach::Loopback
    } else if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        translated(s[6], s[7]) // NAT64 well-known prefix, 64:ff9b::/96
    } else if (s[0] & 0xfe00) == 0xfc00 {
        Reach::Private // unique-local
    } else if (s[0] & 0xe000) != 0x2000 {
        // Outside global unicast 2000::/3: unspecified, IPv4-compatible,
        // local-use NAT64, discard-only, link-local, site-local, multicast.
        Reach::Special
    } else if s[0] == 0x2002 {
        translated(s[1], s[2]) // 6to4
    } else if matches!(
        (s[0], s[1]),
        (0x2001, 0..0x0200) // IETF protocol assignments, Teredo among them
            | (0x2001, 0x0db8) // documentation
            | (0x3fff, 0..0x1000) // documentation, RFC 9637
    ) {
        Reach::Special
    } else {
        Reach::Public
    }
}

/// Which [`Reach`]es a fetcher connects to besides public addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Allowed {
    loopback: bool,
    private: bool,
}

impl Allowed {
    fn admits(self, reach: Reach) -> bool {
        match reach {
            Reach::Public => true,
            Reach::Loopback => self.loopback,
            Reach::Private => self.private,
            Reach::Special => false,
        }
    }
}

/// The resolver every fetcher connects through: the system's lookup
/// (`getaddrinfo`), less the addresses the rules refuse.
#[derive(Debug)]
struct Resolver(Allowed);

/// A host name with no address the rules allow.
#[derive(Debug, thiserror::Error)]
#[error("{0} resolves to no address the SSRF rules allow")]
struct Refused(String);

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allowed = self.0;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let kept: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|address| allowed.admits(reach(address.ip())))
                .collect();
            if kept.is_empty() {
                return Err(Box::new(Refused(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// `error` and its sources, joined by ": " (reqwest's own message leaves
/// out why a connection failed).
fn with_sources(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The URL is not one we fetch (scheme, private address).
    #[error("refusing to fetch {0}")]
    Url(String),
    /// The request failed or timed out (or the host name resolves to no
    /// address the rules allow).
    #[error("fetching {url}: {}", with_sources(source))]
    Http {
        /// The URL.
        url: String,
        /// What reqwest said.
        source: reqwest::Error,
    },
    /// The server answered with an error status.
    #[error("{url} answered {status}")]
    Status {
        /// The URL.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The body is larger than the limit.
    #[error("{0} sent more than the size limit")]
    TooLarge(String),
}

/// A small HTTP client with the limits above.
#[derive(Debug, Clone)]
pub struct Fetcher {
    http: reqwest::Client,
    timeout_ms: u64,
    max_bytes: usize,
    dev: bool,
    allowed: Allowed,
}

impl Fetcher {
    /// A client that never follows redirects, gives up after `timeout_ms`
    /// and reads at most `max_bytes`; `dev` allows http and https to
    /// loopback.
    pub fn new(timeout_ms: u64, max_bytes: usize, dev: bool) -> Result<Self, FetchError> {
        let allowed = Allowed {
            loopback: dev,
            private: false,
        };
        Ok(Self {
            http: client(timeout_ms, allowed)?,
            timeout_ms,
            max_bytes,
            dev,
            allowed,
        })
    }

    /// Also allows https to private networks and loopback ([`Reach::Private`],
    /// [`Reach::Loopback`]), literal or resolved: for a deployment whose
    /// own systems (a webhook receiver on the internal network) live
    /// there. Never for URLs from credentials.
    pub fn dangerous_allow_private_addresses(mut self) -> Result<Self, FetchError> {
        self.allowed = Allowed {
            loopback: true,
            private: true,
        };
        self.http = client(self.timeout_ms, self.allowed)?;
        Ok(self)
    }

    /// Checks a URL against the SSRF rules: its scheme, and its host when
    /// that is an address literal or a `localhost` name (other names are
    /// checked by the resolver when connected to).
    pub fn check_url(&self, url: &str) -> Result<url::Url, FetchError> {
        let refused = || FetchError::Url(url.to_owned());
        let parsed = url::Url::parse(url).map_err(|_| refused())?;
        let known = match parsed.host() {
            Some(url::Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                (name == "localhost" || name.ends_with(".localhost")).then_some(Reach::Loopback)
            }
            Some(url::Host::Ipv4(ip)) => Some(reach_v4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(reach_v6(ip)),
            None => return Err(refused()),
        };
        let admitted = known.is_none_or(|reach| self.allowed.admits(reach));
        match parsed.scheme() {
            "https" if admitted => Ok(parsed),
            "http" if self.dev && known == Some(Reach::Loopback) => Ok(parsed),
            _ => Err(refused()),
        }
    }

    /// GETs `url` with `accept`, reading at most the size limit.
    pub async fn get(&self, url: &str, accept: &str) -> Result<Vec<u8>, FetchError> {
        let parsed = self.check_url(url)?;
        let http = |source| FetchError::Http {
            url: url.to_owned(),
            source,
        };
        let mut response = self
            .http
            .get(parsed)
            .header(reqwest::header::ACCEPT, accept)
            .send()
            .await
            .map_err(http)?;
        if !response.status().is_success() {
            return Err(FetchError::Status {
                url: url.to_owned(),
                status: response.status().as_u16(),
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(http)? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(FetchError::TooLarge(url.to_owned()));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

impl Fetcher {
    /// POSTs `body` as JSON to `url` with `headers`, following the same
    /// rules; returns the answer's status (a 2xx) or a [`FetchError`]. The
    /// answer's body is not read.
    pub async fn post_json(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<u16, FetchError> {
        let parsed = self.check_url(url)?;
        let mut request = self
            .http
            .post(parsed)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.map_err(|source| FetchError::Http {
            url: url.to_owned(),
            source,
        })?;
        let status = response.status().as_u16();
        if !response.status().is_success() {
            return Err(FetchError::Status {
                url: url.to_owned(),
                status,
            });
        }
        Ok(status)
    }
}

/// The HTTP client of a fetcher: no redirects, no proxy, the time limit,
/// and the resolver that enforces `allowed`.
fn client(timeout_ms: u64, allowed: Allowed) -> Result<reqwest::Client, FetchError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(Resolver(allowed)))
        .timeout(std::time::Duration::from_millis(timeout_ms))
        .build()
        .map_err(|source| FetchError::Http {
            url: String::new(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::dns::Resolve;

    #[test]
    fn every_address_range_is_classified() {
        use Reach::{Loopback, Private, Public, Special};
        for (address, expected) in [
            // IPv4
            ("8.8.8.8", Public),
            ("1.1.1.1", Public),
            ("100.63.255.255", Public),
            ("100.128.0.0", Public),
            ("172.32.0.1", Public),
            ("192.0.1.1", Public),
            ("198.17.255.255", Public),
            ("198.20.0.0", Public),
            ("223.255.255.255", Public),
            ("127.0.0.1", Loopback),
            ("127.255.255.254", Loopback),
            ("10.0.0.1", Private),
            ("10.255.255.255", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.168.1.2", Private),
            ("100.64.0.1", Private),
            ("100.127.255.255", Private),
            ("0.0.0.0", Special),
            ("0.1.2.3", Special),
            ("169.254.169.254", Special),
            ("169.254.0.1", Special),
            ("224.0.0.1", Special),
            ("239.255.255.250", Special),
            ("240.0.0.1", Special),
            ("255.255.255.255", Special),
            ("192.0.2.1", Special),
            ("198.51.100.7", Special),
            ("203.0.113.9", Special),
            ("192.0.0.8", Special),
            ("192.88.99.1", Special),
            ("198.18.0.1", Special),
            ("198.19.255.255", Special),
            // IPv6
            ("2606:4700:4700::1111", Public),
            ("2a00:1450:4001::200e", Public),
            ("2001:4860:4860::8888", Public),
            ("3fff:1000::1", Public),
            ("::1", Loopback),
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:8.8.8.8", Public),
            ("::ffff:10.0.0.1", Private),
            ("::ffff:100.64.0.1", Private),
            ("::ffff:169.254.169.254", Special),
            ("::ffff:0.0.0.0", Special),
            ("fc00::1", Private),
            ("fd12:3456:789a::1", Private),
            ("::", Special),
            ("::127.0.0.1", Special),
            ("::8.8.8.8", Special),
            ("::10.0.0.1", Special),
            ("fe80::1", Special),
            ("febf::1", Special),
            ("fec0::1", Special),
            ("ff02::1", Special),
            ("ff0e::1", Special),
            ("100::1", Special),
            ("64:ff9b:1::a00:1", Special),
            ("2001:db8::1", Special),
            ("3fff::1", Special),
            ("3fff:fff::1", Special),
            ("2001::1", Special),
            ("2001:2::1", Special),
            ("2001:10::1", Special),
            ("2002:808:808::1", Public),
            ("2002:a00:1::1", Private),
            ("2002:7f00:1::1", Special),
            ("2002:a9fe:a9fe::1", Special),
            ("64:ff9b::808:808", Public),
            ("64:ff9b::c0a8:102", Private),
            ("64:ff9b::7f00:1", Special),
            ("64:ff9b::a9fe:a9fe", Special),
            ("4000::1", Special),
        ] {
            let ip: IpAddr = address.parse().unwrap();
            assert_eq!(reach(ip), expected, "{address}");
        }
    }

    #[test]
    fn ssrf_rules() {
        let prod = Fetcher::new(1000, 1000, false).unwrap();
        let dev = Fetcher::new(1000, 1000, true).unwrap();
        assert!(prod.check_url("https://provider.example/status/1").is_ok());
        assert!(prod.check_url("https://8.8.8.8/x").is_ok());
        assert!(prod.check_url("https://[2606:4700:4700::1111]/x").is_ok());
        for refused in [
            "http://provider.example/",
            "https://127.0.0.1/",
            "https://10.1.2.3/",
            "https://169.254.169.254/",
            "https://[::1]/",
            "http://127.0.0.1:9/",
            "file:///etc/passwd",
            "https://localhost/x",
            "https://LocalHost./x",
            "https://api.localhost/x",
            "https://[::ffff:127.0.0.1]/x",
            "http://[::ffff:127.0.0.1]/x",
            "https://[::ffff:a00:1]/x",
            "https://[fe80::1]/x",
            "https://[fd00::1]/x",
            "https://100.64.0.1/x",
            "https://0.0.0.0/x",
            "https://2130706433/x",
            "https://0x7f.1/x",
            "https://[64:ff9b::7f00:1]/x",
            "https://[2002:a00:1::1]/x",
            "https://224.0.0.1/x",
            "https://192.0.2.1/x",
        ] {
            assert!(prod.check_url(refused).is_err(), "{refused}");
        }
        assert!(dev.check_url("http://127.0.0.1:9/x").is_ok());
        assert!(dev.check_url("https://127.0.0.1:9/x").is_ok());
        assert!(dev.check_url("http://localhost:9/x").is_ok());
        assert!(dev.check_url("http://[::ffff:127.0.0.1]:9/x").is_ok());
        assert!(dev.check_url("http://10.1.2.3/").is_err());
        assert!(dev.check_url("https://10.1.2.3/").is_err());
        assert!(dev.check_url("https://169.254.169.254/").is_err());
        assert!(dev.check_url("http://provider.example/").is_err());
        let private = Fetcher::new(1000, 1000, false)
            .unwrap()
            .dangerous_allow_private_addresses()
            .unwrap();
        assert!(private.check_url("https://10.1.2.3/hook").is_ok());
        assert!(private.check_url("https://[fd00::1]/hook").is_ok());
        assert!(private.check_url("https://localhost/hook").is_ok());
        assert!(private.check_url("http://10.1.2.3/hook").is_err());
        assert!(private.check_url("https://169.254.169.254/").is_err());
        assert!(private.check_url("https://[fe80::1]/hook").is_err());
    }

    async fn resolved(allowed: Allowed, host: &str) -> Result<Vec<IpAddr>, String> {
        let name: reqwest::dns::Name = host.parse().unwrap();
        match Resolver(allowed).resolve(name).await {
            Ok(addresses) => Ok(addresses.map(|a| a.ip()).collect()),
            Err(error) => Err(error.to_string()),
        }
    }

    /// The resolver is what a name reaches: `localhost` (from the hosts
    /// file, no DNS needed) is refused unless loopback is allowed.
    #[tokio::test]
    async fn the_resolver_drops_addresses_the_rules_refuse() {
        let public_only = Allowed {
            loopback: false,
            private: false,
        };
        let refused = resolved(public_only, "localhost").await.unwrap_err();
        assert_eq!(
            refused,
            "localhost resolves to no address the SSRF rules allow"
        );
        let dev = Allowed {
            loopback: true,
            private: false,
        };
        let found = resolved(dev, "localhost").await.unwrap();
        assert!(!found.is_empty());
        assert!(found.iter().all(|ip| reach(*ip) == Reach::Loopback));
    }

    /// Through a real request: a name that resolves to loopback is not
    /// connected to outside development mode, even when the URL passed
    /// the check (`localhost` itself is refused earlier, by name).
    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_not_connected_to() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let served = axum::Router::new().fallback(|| async { "reached" });
        tokio::spawn(async move { axum::serve(listener, served).await });
        let prod = Fetcher::new(2000, 1000, false).unwrap();
        let error = prod
            .http
            .get(format!("http://localhost:{port}/"))
            .send()
            .await
            .unwrap_err();
        let error = FetchError::Http {
            url: "http://localhost/".into(),
            source: error,
        };
        assert!(
            error
                .to_string()
                .contains("localhost resolves to no address the SSRF rules allow"),
            "{error}"
        );
        let dev = Fetcher::new(2000, 1000, true).unwrap();
        let body = dev
            .get(&format!("http://localhost:{port}/"), "text/plain")
            .await
            .unwrap();
        assert_eq!(body, b"reached");
    }
}
