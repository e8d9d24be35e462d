//! Outgoing HTTP from untrusted URLs (status lists, issuer metadata), with
//! SSRF checks, a time limit, a size cap and no redirects; shared by both
//! services.
//!
//! A URL from a credential or an attestation is untrusted input: outside
//! development mode it must be https and must not name a loopback, private
//! or link-local address literal. In development, http on loopback is
//! allowed too.

use std::net::IpAddr;

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The URL is not one we fetch (scheme, private address).
    #[error("refusing to fetch {0}")]
    Url(String),
    /// The request failed or timed out.
    #[error("fetching {url}: {source}")]
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
    max_bytes: usize,
    dev: bool,
    private: bool,
}

impl Fetcher {
    /// A client that never follows redirects, gives up after `timeout_ms`
    /// and reads at most `max_bytes`; `dev` allows http to loopback.
    pub fn new(timeout_ms: u64, max_bytes: usize, dev: bool) -> Result<Self, FetchError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_millis(timeout_ms))
            .build()
            .map_err(|source| FetchError::Http {
                url: String::new(),
                source,
            })?;
        Ok(Self {
            http,
            max_bytes,
            dev,
            private: false,
        })
    }

    /// Also allows https to private and loopback address literals: for a
    /// deployment whose own systems (a webhook receiver on the internal
    /// network) live there. Never for URLs from credentials.
    pub fn dangerous_allow_private_addresses(mut self) -> Self {
        self.private = true;
        self
    }

    /// Checks a URL against the SSRF rules.
    pub fn check_url(&self, url: &str) -> Result<url::Url, FetchError> {
        let refused = || FetchError::Url(url.to_owned());
        let parsed = url::Url::parse(url).map_err(|_| refused())?;
        let loopback = match parsed.host() {
            Some(url::Host::Domain(name)) => name == "localhost",
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
            None => return Err(refused()),
        };
        let private_literal = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => {
                ip.is_private() || ip.is_link_local() || ip.is_unspecified() || ip.is_loopback()
            }
            Some(url::Host::Ipv6(ip)) => {
                ip.is_loopback() || ip.is_unspecified() || (ip.segments()[0] & 0xfe00) == 0xfc00
            }
            _ => false,
        };
        match parsed.scheme() {
            "https" if !private_literal || (self.dev && loopback) || self.private => Ok(parsed),
            "http" if self.dev && loopback => Ok(parsed),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssrf_rules() {
        let prod = Fetcher::new(1000, 1000, false).unwrap();
        let dev = Fetcher::new(1000, 1000, true).unwrap();
        assert!(prod.check_url("https://provider.example/status/1").is_ok());
        for refused in [
            "http://provider.example/",
            "https://127.0.0.1/",
            "https://10.1.2.3/",
            "https://169.254.169.254/",
            "https://[::1]/",
            "http://127.0.0.1:9/",
            "file:///etc/passwd",
        ] {
            assert!(prod.check_url(refused).is_err(), "{refused}");
        }
        assert!(dev.check_url("http://127.0.0.1:9/x").is_ok());
        assert!(dev.check_url("http://10.1.2.3/").is_err());
        let private = Fetcher::new(1000, 1000, false)
            .unwrap()
            .dangerous_allow_private_addresses();
        assert!(private.check_url("https://10.1.2.3/hook").is_ok());
        assert!(private.check_url("http://10.1.2.3/hook").is_err());
    }
}
