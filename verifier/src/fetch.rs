//! Outgoing HTTP: status lists and issuer metadata, over
//! `intyg_service::fetch::Fetcher` (SSRF checks, a time limit, a size cap
//! and no redirects).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use intyg_core::jose::CompactJws;
use intyg_core::status_list::{
    DecodeLimits, StatusListReference, StatusListToken, StatusType, ValidationError,
};
use intyg_core::trust::{IssuerJwks, TrustError, TrustList, TrustedIssuer};
use serde::Deserialize;

use crate::config::FetchLimits;

pub use intyg_service::fetch::Fetcher;

/// Why a fetch or a status check failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The request itself failed (URL refused, network, status, size).
    #[error(transparent)]
    Fetch(#[from] intyg_service::fetch::FetchError),
    /// The body is not what was expected.
    #[error("{url}: {reason}")]
    Invalid {
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The status list token's signer is not trusted.
    #[error("status list signer: {0}")]
    Untrusted(#[from] TrustError),
    /// The status list token failed validation.
    #[error("status list token: {0}")]
    Token(#[from] ValidationError),
    /// The credential's index lies outside the list.
    #[error("status index out of range: {0}")]
    Lookup(#[from] intyg_core::status_list::LookupError),
    /// A fetch this request shared with others failed.
    #[error(transparent)]
    Shared(Arc<FetchError>),
}

/// Fetches an issuer's `/.well-known/jwt-vc-issuer` metadata
/// (draft-ietf-oauth-sd-jwt-vc §5) and returns it as a trusted issuer.
/// The metadata's `issuer` must equal `issuer_url`.
pub async fn issuer_metadata(
    fetcher: &Fetcher,
    issuer_url: &str,
) -> Result<TrustedIssuer, FetchError> {
    {
        #[derive(Deserialize)]
        struct Metadata {
            issuer: String,
            jwks: IssuerJwks,
        }
        let issuer_url = issuer_url.trim_end_matches('/');
        let mut url = fetcher.check_url(issuer_url)?;
        let path = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("/.well-known/jwt-vc-issuer{path}"));
        let body = fetcher.get(url.as_str(), "application/json").await?;
        let invalid = |reason: String| FetchError::Invalid {
            url: url.to_string(),
            reason,
        };
        let metadata: Metadata =
            serde_json::from_slice(&body).map_err(|e| invalid(e.to_string()))?;
        if metadata.issuer.trim_end_matches('/') != issuer_url {
            return Err(invalid(format!(
                "metadata names issuer {}, not {issuer_url}",
                metadata.issuer
            )));
        }
        Ok(TrustedIssuer::with_keys(
            metadata.issuer,
            metadata.jwks.keys,
        ))
    }
}

/// Issuers' display names (`display` of their credential issuer metadata,
/// OpenID4VCI 1.0 §12.2.4), fetched once per issuer and kept for the
/// verifier's lifetime: an employer sees "Arbetsförmedlingen", not a host.
#[derive(Debug)]
pub struct IssuerNames {
    fetcher: Fetcher,
    names: Mutex<HashMap<String, Known>>,
}

/// How long an issuer whose metadata could not be had goes without
/// another attempt: a verified presentation must not cost an outgoing
/// request to an issuer that serves no metadata, or is down.
pub const ISSUER_NAMES_RETRY: std::time::Duration = std::time::Duration::from_secs(300);

#[derive(Debug, Clone)]
enum Known {
    Names(Arc<BTreeMap<String, String>>),
    /// The last attempt failed; none before this instant.
    Unavailable(std::time::Instant),
}

impl IssuerNames {
    /// Names fetched with `fetcher`.
    pub fn new(fetcher: Fetcher) -> Self {
        Self {
            fetcher,
            names: Mutex::new(HashMap::new()),
        }
    }

    /// The display names of `issuer` by locale; empty when its metadata
    /// names none or cannot be had (then logged, and asked again after
    /// [`ISSUER_NAMES_RETRY`]).
    pub async fn of(&self, issuer: &str) -> Arc<BTreeMap<String, String>> {
        let known = self
            .names
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(issuer)
            .cloned();
        match known {
            Some(Known::Names(names)) => return names,
            Some(Known::Unavailable(until)) if std::time::Instant::now() < until => {
                return Arc::default();
            }
            _ => {}
        }
        let (known, names) = match self.fetch(issuer).await {
            Ok(names) => {
                let names = Arc::new(names);
                (Known::Names(names.clone()), names)
            }
            Err(error) => {
                tracing::info!(issuer, %error, "issuer display name not available");
                let until = std::time::Instant::now() + ISSUER_NAMES_RETRY;
                (Known::Unavailable(until), Arc::default())
            }
        };
        self.names
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(issuer.to_owned(), known);
        names
    }

    async fn fetch(&self, issuer: &str) -> Result<BTreeMap<String, String>, FetchError> {
        #[derive(Deserialize)]
        struct Display {
            name: Option<String>,
            locale: Option<String>,
        }
        #[derive(Deserialize)]
        struct Metadata {
            credential_issuer: String,
            #[serde(default)]
            display: Vec<Display>,
        }
        let issuer = issuer.trim_end_matches('/');
        let mut url = self.fetcher.check_url(issuer)?;
        let path = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("/.well-known/openid-credential-issuer{path}"));
        let body = self.fetcher.get(url.as_str(), "application/json").await?;
        let invalid = |reason: String| FetchError::Invalid {
            url: url.to_string(),
            reason,
        };
        let metadata: Metadata =
            serde_json::from_slice(&body).map_err(|e| invalid(e.to_string()))?;
        if metadata.credential_issuer.trim_end_matches('/') != issuer {
            return Err(invalid(format!(
                "metadata names issuer {}, not {issuer}",
                metadata.credential_issuer
            )));
        }
        Ok(metadata
            .display
            .into_iter()
            .filter_map(|d| {
                let name = d.name?;
                // Shown as text: no control characters.
                intyg_core::text::check(&name, intyg_core::text::Lines::Single).ok()?;
                Some((d.locale.unwrap_or_default(), name))
            })
            .collect())
    }
}

/// A verified status list token, when it was fetched and until when it
/// may be used.
#[derive(Debug)]
struct Cached {
    token: Arc<StatusListToken>,
    fetched_at: i64,
    until: i64,
}

/// A fetch of one status list that requests arriving meanwhile share.
type InFlight = Arc<tokio::sync::OnceCell<Result<Fetched, Arc<FetchError>>>>;

/// A verified status list token and when it was fetched.
#[derive(Debug, Clone)]
struct Fetched {
    token: Arc<StatusListToken>,
    fetched_at: i64,
}

/// The status of one credential, and how fresh the list behind it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusCheck {
    /// The entry's status.
    pub status: StatusType,
    /// When the list used was fetched, seconds since the epoch.
    pub fetched_at: i64,
    /// When the issuer signed that list (its `iat`).
    pub issued_at: i64,
}

/// Status lists, fetched on demand and cached for their `ttl`, or for at
/// most a request's `max_status_age`. Requests that need the same list at
/// the same time share one fetch, so a burst with `max_status_age = 0`
/// makes one request.
#[derive(Debug)]
pub struct StatusLists {
    fetcher: Fetcher,
    limits: FetchLimits,
    cache: Mutex<HashMap<String, Cached>>,
    in_flight: Mutex<HashMap<String, InFlight>>,
}

impl StatusLists {
    /// An empty cache over `fetcher`.
    pub fn new(fetcher: Fetcher, limits: FetchLimits) -> Self {
        Self {
            fetcher,
            limits,
            cache: Mutex::new(HashMap::new()),
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    /// The status of a credential of type `vct` from `iss`: the token at
    /// `reference.uri` (cached while its `ttl` lasts and it was fetched at
    /// most `max_age` seconds ago, else fetched, or joined if a fetch is
    /// under way, and verified with the issuer's trusted key), entry
    /// `reference.idx`. `max_age = Some(0)` never uses the cache.
    pub async fn status(
        &self,
        reference: &StatusListReference,
        trust: &TrustList,
        vct: &str,
        iss: Option<&str>,
        now: i64,
        max_age: Option<u64>,
    ) -> Result<StatusCheck, FetchError> {
        let fetched = match self.cached(&reference.uri, now, max_age) {
            Some(fetched) => fetched,
            None => self.shared_fetch(reference, trust, vct, iss, now).await?,
        };
        Ok(StatusCheck {
            status: fetched.token.status(reference.idx)?,
            fetched_at: fetched.fetched_at,
            issued_at: fetched.token.claims().iat,
        })
    }

    fn cached(&self, uri: &str, now: i64, max_age: Option<u64>) -> Option<Fetched> {
        if max_age == Some(0) {
            return None;
        }
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .get(uri)
            .filter(|entry| entry.until > now)
            .filter(|entry| {
                max_age.is_none_or(|max| u64::try_from(now - entry.fetched_at).unwrap_or(0) <= max)
            })
            .map(|entry| Fetched {
                token: entry.token.clone(),
                fetched_at: entry.fetched_at,
            })
    }

    /// Joins the fetch of `reference.uri` under way, or starts one that
    /// others may join until it ends.
    async fn shared_fetch(
        &self,
        reference: &StatusListReference,
        trust: &TrustList,
        vct: &str,
        iss: Option<&str>,
        now: i64,
    ) -> Result<Fetched, FetchError> {
        let cell = self
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(reference.uri.clone())
            .or_default()
            .clone();
        let result = cell
            .get_or_init(|| async {
                let result = self.fetch(reference, trust, vct, iss, now).await;
                // Later requests start a fresh fetch.
                let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
                if in_flight
                    .get(&reference.uri)
                    .is_some_and(|current| Arc::ptr_eq(current, &cell))
                {
                    in_flight.remove(&reference.uri);
                }
                result.map_err(Arc::new)
            })
            .await;
        result.clone().map_err(FetchError::Shared)
    }

    async fn fetch(
        &self,
        reference: &StatusListReference,
        trust: &TrustList,
        vct: &str,
        iss: Option<&str>,
        now: i64,
    ) -> Result<Fetched, FetchError> {
        let body = self
            .fetcher
            .get(&reference.uri, StatusListToken::MEDIA_TYPE)
            .await?;
        let invalid = |reason: String| FetchError::Invalid {
            url: reference.uri.clone(),
            reason,
        };
        let text = std::str::from_utf8(&body).map_err(|e| invalid(e.to_string()))?;
        let jws = CompactJws::parse(text.trim()).map_err(|e| invalid(e.to_string()))?;
        let key = trust.issuer_key(vct, iss, &jws.header, now)?;
        jws.verify_with(&key).map_err(|e| invalid(e.to_string()))?;
        let token = StatusListToken::validate(
            jws.header.typ.as_deref(),
            &jws.payload,
            &reference.uri,
            now,
            DecodeLimits::default(),
        )?;
        let ttl = token
            .claims()
            .ttl
            .map_or(self.limits.default_ttl_seconds, |ttl| ttl.get())
            .min(self.limits.max_ttl_seconds);
        let mut until = now.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX));
        if let Some(exp) = token.claims().exp {
            until = until.min(exp);
        }
        let token = Arc::new(token);
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.retain(|_, entry| entry.until > now);
        cache.insert(
            reference.uri.clone(),
            Cached {
                token: token.clone(),
                fetched_at: now,
                until,
            },
        );
        Ok(Fetched {
            token,
            fetched_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// An issuer on loopback that serves no metadata, counting requests.
    async fn issuer_without_metadata() -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let asked = Arc::new(AtomicUsize::new(0));
        let counter = asked.clone();
        let router = axum::Router::new().fallback(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async { axum::http::StatusCode::NOT_FOUND }
        });
        tokio::spawn(async move { axum::serve(listener, router).await });
        (url, asked)
    }

    #[tokio::test]
    async fn an_issuer_without_metadata_is_not_asked_again_for_each_presentation() {
        let (issuer, asked) = issuer_without_metadata().await;
        let names = IssuerNames::new(Fetcher::new(2_000, 64 * 1024, true).unwrap());
        for _ in 0..5 {
            assert!(names.of(&issuer).await.is_empty());
        }
        assert_eq!(asked.load(Ordering::SeqCst), 1);
        // Once the wait is over, it is asked again.
        names.names.lock().unwrap().insert(
            issuer.clone(),
            Known::Unavailable(std::time::Instant::now()),
        );
        assert!(names.of(&issuer).await.is_empty());
        assert_eq!(asked.load(Ordering::SeqCst), 2);
    }
}
