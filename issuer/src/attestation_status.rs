//! Revocation of wallet and key attestations: the `status` claim's Token
//! Status List (draft-ietf-oauth-status-list §6, §8), fetched from the
//! wallet provider with `intyg_service::fetch` (SSRF rules, time and size
//! limits, no redirects) and cached for its `ttl`.
//!
//! The list token must be signed by a key whose `x5c` chain validates to a
//! configured wallet provider root, as the attestations themselves are.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use intyg_core::jose::CompactJws;
use intyg_core::status_list::{DecodeLimits, StatusClaim, StatusListToken, StatusType};
use intyg_core::trust::{CertificateChain, TrustAnchors};
use intyg_service::fetch::Fetcher;

/// Largest status list token fetched, in bytes.
pub const MAX_BYTES: usize = 1024 * 1024;
/// Time limit of one fetch, in milliseconds.
pub const TIMEOUT_MS: u64 = 5_000;
/// Cache time when a token has no `ttl`, and the longest whatever `ttl` says, in seconds.
const DEFAULT_TTL: i64 = 300;
const MAX_TTL: i64 = 3_600;

/// Why a status could not be established.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// The `status` claim has no `status_list` reference we can follow.
    #[error("the status claim has no status_list reference")]
    NoReference,
    /// The fetch failed.
    #[error(transparent)]
    Fetch(#[from] intyg_service::fetch::FetchError),
    /// The token is not a valid status list token of a trusted provider.
    #[error("status list token: {0}")]
    Invalid(String),
}

/// The outcome for one attestation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttestationStatus {
    /// Valid.
    Valid,
    /// Revoked, suspended, or another non-valid value.
    NotValid(StatusType),
}

#[derive(Debug)]
struct Cached {
    token: Arc<StatusListToken>,
    until: i64,
}

/// Status lists of wallet providers, fetched on demand.
#[derive(Debug)]
pub struct StatusChecker {
    fetcher: Fetcher,
    cache: Mutex<HashMap<String, Cached>>,
}

impl StatusChecker {
    /// A checker over a fetcher with this module's limits.
    pub fn new(dev: bool) -> Result<Self, StatusError> {
        Ok(Self {
            fetcher: Fetcher::new(TIMEOUT_MS, MAX_BYTES, dev)?,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The status of the entry `status` points at.
    pub async fn check(
        &self,
        status: &StatusClaim,
        anchors: &TrustAnchors,
        now: i64,
    ) -> Result<AttestationStatus, StatusError> {
        let reference = status
            .status_list
            .as_ref()
            .ok_or(StatusError::NoReference)?;
        let cached = {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            cache
                .get(&reference.uri)
                .filter(|entry| entry.until > now)
                .map(|entry| entry.token.clone())
        };
        let token = match cached {
            Some(token) => token,
            None => self.fetch(&reference.uri, anchors, now).await?,
        };
        match token
            .status(reference.idx)
            .map_err(|e| StatusError::Invalid(e.to_string()))?
        {
            StatusType::Valid => Ok(AttestationStatus::Valid),
            other => Ok(AttestationStatus::NotValid(other)),
        }
    }

    async fn fetch(
        &self,
        uri: &str,
        anchors: &TrustAnchors,
        now: i64,
    ) -> Result<Arc<StatusListToken>, StatusError> {
        let invalid = |reason: String| StatusError::Invalid(reason);
        let body = self.fetcher.get(uri, StatusListToken::MEDIA_TYPE).await?;
        let text = std::str::from_utf8(&body).map_err(|e| invalid(e.to_string()))?;
        let jws = CompactJws::parse(text.trim()).map_err(|e| invalid(e.to_string()))?;
        let x5c = jws
            .header
            .x5c
            .as_deref()
            .ok_or_else(|| invalid("the token has no x5c".into()))?;
        let leaf = CertificateChain::from_x5c(x5c)
            .and_then(|chain| chain.validate(anchors, now))
            .map_err(|e| invalid(format!("signer: {e}")))?;
        jws.verify_with(&leaf.key)
            .map_err(|e| invalid(e.to_string()))?;
        let token = StatusListToken::validate(
            jws.header.typ.as_deref(),
            &jws.payload,
            uri,
            now,
            DecodeLimits::default(),
        )
        .map_err(|e| invalid(e.to_string()))?;
        let ttl = token
            .claims()
            .ttl
            .map_or(DEFAULT_TTL, |t| i64::try_from(t.get()).unwrap_or(MAX_TTL))
            .min(MAX_TTL);
        let mut until = now.saturating_add(ttl);
        if let Some(exp) = token.claims().exp {
            until = until.min(exp);
        }
        let token = Arc::new(token);
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.retain(|_, entry| entry.until > now);
        cache.insert(
            uri.to_owned(),
            Cached {
                token: token.clone(),
                until,
            },
        );
        Ok(token)
    }
}
