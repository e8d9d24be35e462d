//! Status lists (draft-ietf-oauth-status-list §5, §8): indices for new
//! credentials, and the signed Status List Tokens published at
//! `/status/{list}`. A token is re-signed on the first request after a
//! change; unchanged lists are served from memory.

use std::collections::HashMap;
use std::num::NonZeroU64;
use std::sync::{Arc, Mutex};

use intyg_core::status_list::{
    Bits, StatusIndex, StatusList, StatusListClaim, StatusListReference, StatusListToken,
    StatusListTokenClaims, StatusType,
};
use sha2::Digest as _;

use crate::keys::IssuerKey;
use crate::store::{StatusStore, StoreError};

/// A signed Status List Token and its entity tag.
#[derive(Debug)]
pub struct Published {
    /// The compact JWS.
    pub jwt: String,
    /// A strong ETag of the JWS.
    pub etag: String,
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

    /// Sets the status of a global index and drops the cached token of its list.
    pub async fn set(
        &self,
        store: &dyn StatusStore,
        index: u64,
        status: StatusType,
    ) -> Result<(), StoreError> {
        store.set(index, status.value()).await?;
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(&(index / self.size));
        Ok(())
    }

    /// The current token of list `number`, signed now if it changed.
    pub async fn published(
        &self,
        number: u64,
        store: &dyn StatusStore,
        key: &IssuerKey,
        now: i64,
    ) -> Result<Arc<Published>, PublishError> {
        if let Some(cached) = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&number)
        {
            return Ok(cached.clone());
        }
        if number.saturating_mul(self.size) >= store.allocated().await? {
            return Err(PublishError::Unknown(number));
        }
        let len = usize::try_from(self.size).unwrap_or(usize::MAX);
        let mut list = StatusList::new(Bits::Two, len);
        let range = number * self.size..(number + 1) * self.size;
        for (index, status) in store.non_valid().await? {
            if range.contains(&index) {
                list.set(
                    StatusIndex::from(index - range.start),
                    StatusType::from(status),
                )
                .map_err(|_| PublishError::BadEntry(index))?;
            }
        }
        let mut claims = StatusListTokenClaims::new(
            format!("{}/{number}", self.base_url),
            now,
            StatusListClaim::from(&list),
        );
        claims.exp = Some(now + 24 * 3600);
        claims.ttl = Some(self.ttl);
        let jwt = StatusListToken::sign(&claims, &key.key, Some(&key.kid))?;
        let etag = format!(
            "\"{}\"",
            intyg_core::jose::b64url_encode(sha2::Sha256::digest(jwt.as_bytes()))
        );
        let published = Arc::new(Published { jwt, etag });
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(number, published.clone());
        Ok(published)
    }

    /// `ttl`, for the Cache-Control header.
    pub fn ttl(&self) -> u64 {
        self.ttl.get()
    }
}
