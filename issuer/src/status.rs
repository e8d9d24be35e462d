//! Status lists (draft-ietf-oauth-status-list §5, §8): indices for new
//! credentials, and the signed Status List Tokens published at
//! `/status/{list}`. A token is re-signed on the first request after a
//! change (seen by the list's version in the store, so a change made at
//! another instance counts too) and before half its lifetime has passed.
//! The signed token is kept in the store, so every instance serves the
//! same token and ETag for one version; the newest is also kept in memory.
//! After a key rollover, a token signed by another key than the one in
//! force is signed again on its next request.

use std::collections::HashMap;
use std::num::NonZeroU64;
use std::sync::{Arc, Mutex};

use intyg_core::status_list::{
    Bits, StatusIndex, StatusList, StatusListClaim, StatusListReference, StatusListToken,
    StatusListTokenClaims, StatusType,
};
use sha2::Digest as _;

use crate::signing::KeySet;
use crate::store::{SignedList, StatusStore, StoreError};

/// How long a token is valid (`exp` - `iat`).
const LIFETIME: i64 = 24 * 3600;

/// A signed Status List Token and its entity tag.
#[derive(Debug)]
pub struct Published {
    /// The compact JWS.
    pub jwt: String,
    /// A strong ETag of the JWS.
    pub etag: String,
    /// The list version it shows, and when it was signed.
    version: u64,
    signed_at: i64,
    /// The `kid` it was signed under.
    kid: Option<String>,
}

impl Published {
    fn new(signed: SignedList) -> Self {
        let etag = format!(
            "\"{}\"",
            intyg_core::jose::b64url_encode(sha2::Sha256::digest(signed.jwt.as_bytes()))
        );
        let kid = intyg_core::jose::CompactJws::parse(&signed.jwt)
            .ok()
            .and_then(|jws| jws.header.kid);
        Self {
            jwt: signed.jwt,
            etag,
            version: signed.version,
            signed_at: signed.signed_at,
            kid,
        }
    }

    /// Whether it shows `version` (or newer), has more than half its
    /// lifetime left at `now` and was signed under `kid`.
    fn current(&self, version: u64, now: i64, kid: &str) -> bool {
        self.version >= version
            && now - self.signed_at < LIFETIME / 2
            && self.kid.as_deref() == Some(kid)
    }
}

/// Why a list could not be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Signing failed.
    #[error("signing the status list failed: {0}")]
    Signing(#[from] intyg_core::jose::JoseError),
    /// A stored status does not fit a 2-bit list.
    #[error("stored status of index {0} does not fit the list")]
    BadEntry(u64),
    /// No list with that number has ever had an index.
    #[error("no status list {0}")]
    Unknown(u64),
}

/// The issuer's status lists: 2 bits per entry (valid, invalid, suspended).
#[derive(Debug)]
pub struct StatusLists {
    base_url: String,
    size: u64,
    ttl: NonZeroU64,
    cache: Mutex<HashMap<u64, Arc<Published>>>,
}

impl StatusLists {
    /// Lists of `size` entries published under `<public_url>/status/<n>`.
    pub fn new(public_url: &str, size: u64, ttl_seconds: i64) -> Self {
        Self {
            base_url: format!("{public_url}/status"),
            size: size.max(8),
            ttl: NonZeroU64::new(ttl_seconds.max(1).unsigned_abs()).unwrap_or(NonZeroU64::MIN),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The `status.status_list` reference of a global index.
    pub fn reference(&self, index: u64) -> StatusListReference {
        StatusListReference {
            idx: StatusIndex::from(index % self.size),
            uri: format!("{}/{}", self.base_url, index / self.size),
        }
    }

    /// Sets the status of a global index; its list's version grows, so
    /// every instance re-signs it on the next request.
    pub async fn set(
        &self,
        store: &dyn StatusStore,
        index: u64,
        status: StatusType,
    ) -> Result<(), StoreError> {
        store.set(index, status.value()).await
    }

    /// The current token of list `number`: the one in memory or in the
    /// store if it shows the list's version, else signed now.
    pub async fn published(
        &self,
        number: u64,
        store: &dyn StatusStore,
        keys: &KeySet,
        now: i64,
    ) -> Result<Arc<Published>, PublishError> {
        let start = number.saturating_mul(self.size);
        let range = start..start.saturating_add(self.size);
        let version = store.version(range.clone()).await?;
        let cached = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&number)
            .cloned();
        let signing = keys.current(now);
        if let Some(cached) = cached.filter(|c| c.current(version, now, &signing.kid)) {
            return Ok(cached);
        }
        if let Some(stored) = store.token(number).await? {
            let stored = Published::new(stored);
            if stored.current(version, now, &signing.kid) {
                return Ok(self.remember(number, stored));
            }
        }
        if start >= store.allocated().await? {
            return Err(PublishError::Unknown(number));
        }
        let len = usize::try_from(self.size).unwrap_or(usize::MAX);
        let mut list = StatusList::new(Bits::Two, len);
        for (index, status) in store.non_valid(range.clone()).await? {
            list.set(StatusIndex::from(index - start), StatusType::from(status))
                .map_err(|_| PublishError::BadEntry(index))?;
        }
        let mut claims = StatusListTokenClaims::new(
            format!("{}/{number}", self.base_url),
            now,
            StatusListClaim::from(&list),
        );
        claims.exp = Some(now + LIFETIME);
        claims.ttl = Some(self.ttl);
        let jwt = StatusListToken::sign_with_chain(
            &claims,
            signing.signer.as_ref(),
            Some(&signing.kid),
            signing.x5c(),
        )?;
        let signed = SignedList {
            version,
            signed_at: now,
            jwt,
        };
        // Another instance may have stored a newer one meanwhile: serve
        // the one in force, so all instances agree.
        let in_force = store.put_token(number, &signed).await?;
        Ok(self.remember(number, Published::new(in_force)))
    }

    fn remember(&self, number: u64, published: Published) -> Arc<Published> {
        let published = Arc::new(published);
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(number, published.clone());
        published
    }

    /// `ttl`, for the Cache-Control header.
    pub fn ttl(&self) -> u64 {
        self.ttl.get()
    }
}
