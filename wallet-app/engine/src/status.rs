//! Credential status from the holder's side — Token Status List
//! (draft-ietf-oauth-status-list §8.3, Referenced Token validation).
//!
//! <https://datatracker.ietf.org/doc/html/draft-ietf-oauth-status-list#section-8.3>
//!
//! [`Wallet::refresh_status`]: the `status.status_list` reference of every
//! held credential → one fetch per distinct list URI (through
//! [`crate::http`]: https outside dev mode, no private addresses, size and
//! time limits) → the Status List Token verified with the issuer's key from
//! its JWT VC Issuer Metadata, chosen by `kid` (signature, `typ`, `sub` =
//! the URI, `exp`, decompression within [`DecodeLimits`]) → each
//! credential's [`StatusCheck`] recorded with the time, sealed in the store.
//! A list that cannot be fetched or verified leaves the last known status
//! of its credentials as it was, and says why in the [`StatusRefresh`].
//!
//! [`Wallet::prepare`](crate::Wallet::prepare) refreshes the credentials a
//! request matches the same way, except those whose last answer is still
//! within its list's `ttl` (the Status List Token's claim: how long a
//! consumer may cache it; at most a day here), and offers one whose last known status is
//! invalid (revoked) or suspended only when nothing else satisfies the
//! request, marked so that the person is warned.

use std::collections::BTreeMap;

use intyg_core::jose::{CompactJws, JoseError, Jwk};
use intyg_core::status_list::{
    DecodeLimits, LookupError, StatusClaim, StatusIndex, StatusListToken, VerifyError,
};
use serde::Serialize;

use crate::http::FetchError;
use crate::model::{CredentialStatus, StatusCheck};
use crate::receive::ReceiveError;
use crate::{StoreError, Wallet, now};

/// Why a credential's status could not be refreshed. Its last known
/// status stays.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// The credential's `status` claim is not a status reference.
    #[error("the credential's status claim is malformed: {0}")]
    Claim(#[source] serde_json::Error),
    /// The list could not be fetched (or the network policy refused it).
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The list URI answered with an error status.
    #[error("the status list answered HTTP {0}")]
    Http(u16),
    /// The issuer's keys could not be read.
    #[error("issuer keys: {0}")]
    IssuerKeys(#[source] Box<ReceiveError>),
    /// No key of the issuer has the list token's `kid`.
    #[error("no key of the issuer has the status list's kid {0:?}")]
    UnknownKey(Option<String>),
    /// The list token is not a JWS of our profile.
    #[error("status list token: {0}")]
    Malformed(#[source] JoseError),
    /// The list token failed verification (signature, `typ`, `sub`, `exp`,
    /// decompression limits).
    #[error(transparent)]
    Token(#[from] VerifyError),
    /// The credential's index is outside the list.
    #[error("status list: {0}")]
    Index(#[from] LookupError),
}

impl StatusError {
    /// A stable code for scripts.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Claim(_) => "invalid_status_claim",
            Self::Fetch(e) => crate::present::fetch_code(e),
            Self::Http(_) => "status_list_unavailable",
            Self::IssuerKeys(_) | Self::UnknownKey(_) => "unknown_issuer_key",
            Self::Malformed(_) | Self::Token(_) | Self::Index(_) => "invalid_status_list",
        }
    }
}

/// What a refresh found for one credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusRefresh {
    /// The credential.
    pub credential_id: String,
    /// Its status now: fresh, or the last known one when `failure` is set.
    pub status: CredentialStatus,
    /// When its status list last answered.
    pub checked_at: Option<i64>,
    /// Why this refresh did not reach the list, if it did not.
    pub failure: Option<StatusFailure>,
}

/// A [`StatusError`] as a report carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusFailure {
    /// [`StatusError::code`].
    pub code: &'static str,
    /// What failed.
    pub message: String,
}

impl From<&StatusError> for StatusFailure {
    fn from(error: &StatusError) -> Self {
        Self {
            code: error.code(),
            message: error.to_string(),
        }
    }
}

impl Wallet {
    /// Asks the issuers' status lists about every held credential that
    /// has one (one fetch per list) and records the answers. Credentials
    /// without a status reference are left out of the report.
    pub async fn refresh_status(&mut self) -> Result<Vec<StatusRefresh>, StoreError> {
        let ids: Vec<String> = self.entries.keys().cloned().collect();
        self.refresh_statuses(&ids).await
    }

    /// [`Wallet::refresh_status`] for the credentials `ids`.
    pub(crate) async fn refresh_statuses(
        &mut self,
        ids: &[String],
    ) -> Result<Vec<StatusRefresh>, StoreError> {
        let mut lists: BTreeMap<(String, String), Vec<(String, StatusIndex)>> = BTreeMap::new();
        let mut outcomes: Vec<(String, Option<StatusFailure>)> = Vec::new();
        for id in ids {
            let Some(entry) = self.entries.get(id) else {
                continue;
            };
            let Some(claim) = entry.claims.get("status") else {
                continue;
            };
            match serde_json::from_value::<StatusClaim>(claim.clone()) {
                Ok(StatusClaim {
                    status_list: Some(reference),
                    ..
                }) => lists
                    .entry((reference.uri, entry.issuer.clone()))
                    .or_default()
                    .push((id.clone(), reference.idx)),
                Ok(_) => {}
                Err(e) => outcomes.push((id.clone(), Some((&StatusError::Claim(e)).into()))),
            }
        }
        let at = now();
        let mut keys: BTreeMap<String, Vec<Jwk>> = BTreeMap::new();
        for ((uri, issuer), members) in lists {
            let token = self.status_list(&uri, &issuer, &mut keys, at).await;
            for (id, index) in members {
                let listed = match &token {
                    Ok(token) => token
                        .status(index)
                        .map_err(|e| StatusFailure::from(&StatusError::from(e))),
                    Err(e) => Err(StatusFailure::from(e)),
                };
                match listed {
                    Ok(listed) => {
                        let ttl = token.as_ref().ok().and_then(|t| t.claims().ttl);
                        let check =
                            StatusCheck::learned(CredentialStatus::from_listed(listed), at, ttl);
                        self.record(&id, check)?;
                        outcomes.push((id, None));
                    }
                    Err(failure) => {
                        tracing::warn!(credential = %id, list = %uri, code = failure.code, "status not refreshed");
                        outcomes.push((id, Some(failure)));
                    }
                }
            }
        }
        self.reindex()?;
        Ok(outcomes
            .into_iter()
            .filter_map(|(id, failure)| {
                let status = self.entries.get(&id)?.status.clone();
                Some(StatusRefresh {
                    credential_id: id,
                    status: status.status,
                    checked_at: status.checked_at,
                    failure,
                })
            })
            .collect())
    }

    /// Fetches and verifies one Status List Token of `issuer`.
    async fn status_list(
        &self,
        uri: &str,
        issuer: &str,
        keys: &mut BTreeMap<String, Vec<Jwk>>,
        now: i64,
    ) -> Result<StatusListToken, StatusError> {
        let reply = self.http().get(uri, StatusListToken::MEDIA_TYPE).await?;
        if !reply.is_success() {
            return Err(StatusError::Http(reply.status));
        }
        let jws = reply.text();
        let jws = jws.trim();
        let kid = CompactJws::parse(jws)
            .map_err(StatusError::Malformed)?
            .header
            .kid;
        if !keys.contains_key(issuer) {
            let fetched = self
                .issuer_keys(issuer)
                .await
                .map_err(|e| StatusError::IssuerKeys(Box::new(e)))?;
            keys.insert(issuer.to_owned(), fetched);
        }
        let known = keys.get(issuer).map(Vec::as_slice).unwrap_or_default();
        let key = match (&kid, known) {
            (Some(kid), keys) => keys.iter().find(|k| k.key_id.as_deref() == Some(kid)),
            (None, [only]) => Some(only),
            (None, _) => None,
        }
        .ok_or_else(|| StatusError::UnknownKey(kid.clone()))?;
        Ok(StatusListToken::verify(
            jws,
            key,
            uri,
            now,
            DecodeLimits::default(),
        )?)
    }

    /// Stores a credential's new status (its copies unchanged).
    fn record(&mut self, id: &str, status: StatusCheck) -> Result<(), StoreError> {
        let Some(entry) = self.entries.get_mut(id) else {
            return Ok(());
        };
        entry.status = status;
        let copies = self.store.copies(&self.key, id)?;
        self.store
            .write(&self.key, Some((entry, &copies)), &[], None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_have_stable_codes() {
        let claim = serde_json::from_str::<StatusClaim>("{}").unwrap_err();
        let cases = [
            (StatusError::Claim(claim), "invalid_status_claim"),
            (StatusError::Http(503), "status_list_unavailable"),
            (
                StatusError::UnknownKey(Some("k".into())),
                "unknown_issuer_key",
            ),
            (
                StatusError::Malformed(JoseError::InvalidSignature),
                "invalid_status_list",
            ),
            (
                StatusError::Fetch(FetchError::NotHttps("http://x".into())),
                "insecure_url",
            ),
        ];
        for (error, code) in cases {
            let failure = StatusFailure::from(&error);
            assert_eq!(failure.code, code, "{error}");
            assert_eq!(failure.message, error.to_string());
        }
    }
}
