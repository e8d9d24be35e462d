//! The relying party's registration — ETSI TS 119 475 WRPRC (`rc-wrp+jwt`)
//! in the request's `verifier_info` (OpenID4VP 1.0 §5.1), checked by
//! [`Wallet::check_registration`] on `core::wrprc`: signature to a trusted
//! WRPRC provider root ([`Wallet::add_wrprc_roots`], or a `WRPRC/Issuance`
//! service of a trust list in force, [`crate::lists`]), validity period,
//! bound to the access certificate that authenticated the request, and
//! not revoked (its `status` list, fetched under the wallet's network
//! policy and signed under the same provider anchors: `registration_revoked`,
//! or `registration_status_unknown` when it cannot be learned), and the
//! DCQL query compared with what was registered.
//!
//! The result is a [`RegistrationCheck`]: valid, with what was registered
//! and what the request over-asks; or not valid, with the reason. A request
//! without a (valid) registration is not refused: the person sees that it
//! is unregistered and decides. Over-asking is only counted against a
//! valid registration.

use intyg_core::dcql::{ClaimsPath, DcqlQuery};
use intyg_core::jose::CompactJws;
use intyg_core::oid4vp::AuthorizationRequest;
use intyg_core::status_list::{DecodeLimits, StatusListReference, StatusListToken, StatusType};
use intyg_core::trust::{Certificate, CertificateChain, TrustAnchors, ValidatedLeaf};
use intyg_core::wrprc::{self, Overasked, RegisteredCredential, RegistrationClaims};
use serde::{Deserialize, Serialize};

use crate::trust::TrustError;
use crate::{Wallet, now};

/// Why a request's registration is not valid, besides the
/// [`wrprc::RegistrationError`] codes.
pub mod reason {
    /// The request carries no registration certificate.
    pub const MISSING: &str = "missing";
    /// The wallet trusts no WRPRC provider.
    pub const NO_PROVIDER_ROOTS: &str = "untrusted_provider";
    /// The request was not authenticated by an access certificate (a
    /// dev-mode unsigned request), so nothing can be bound.
    pub const UNAUTHENTICATED: &str = "unauthenticated_request";
    /// More than one `registration_cert` entry.
    pub const AMBIGUOUS: &str = "ambiguous";
    /// The certificate's status list marks it revoked (or suspended).
    pub const REVOKED: &str = "registration_revoked";
    /// The certificate names a status list that could not be fetched or
    /// verified (signed under the same WRPRC provider anchors).
    pub const STATUS_UNKNOWN: &str = "registration_status_unknown";
}

/// How long a fetched registration status list is reused: one minute.
pub const STATUS_CACHE_SECONDS: i64 = 60;

/// Why a registration's status could not be learned.
#[derive(Debug, thiserror::Error)]
enum StatusUnknown {
    /// Refused by the network policy, or no answer.
    #[error("the status list could not be fetched: {0}")]
    Fetch(#[from] crate::http::FetchError),
    /// Not 2xx.
    #[error("the status list answered HTTP {0}")]
    Http(u16),
    /// Not a compact JWS.
    #[error("the status list is not a JWS: {0}")]
    Jws(#[from] intyg_core::jose::JoseError),
    /// No `x5c`, or it does not chain to the WRPRC provider anchors.
    #[error("the status list's signer is not a trusted WRPRC provider: {0}")]
    Signer(#[from] intyg_core::trust::X509Error),
    /// The signature does not verify with the leaf key.
    #[error("the status list's signature does not verify")]
    Signature,
    /// `typ`, `sub`, `exp`, `nbf` or the list itself.
    #[error("the status list is not valid: {0}")]
    Token(#[from] intyg_core::status_list::ValidationError),
    /// The index is outside the list.
    #[error("the status list has no entry for this certificate: {0}")]
    Lookup(#[from] intyg_core::status_list::LookupError),
    /// A thread panicked holding the cache.
    #[error("the status list cache is poisoned")]
    Cache,
}

/// What the wallet concluded about a request's registration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistrationCheck {
    /// Whether a registration certificate was valid, trusted and bound to
    /// this verifier.
    pub valid: bool,
    /// Why not (a stable code), when not valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The reason in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The registered trade name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The registered semantic identifier (`sub`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    /// The registered purpose in the wallet's language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// The privacy policy URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy_policy: Option<String>,
    /// Where to ask for erasure (`support_uri`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_uri: Option<String>,
    /// When the certificate expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// The registered credentials and claims.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credentials: Vec<RegisteredCredential>,
    /// The registration certificate as sent (for a complaint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
}

impl RegistrationCheck {
    fn invalid(reason: &str, message: impl Into<String>, certificate: Option<String>) -> Self {
        Self {
            valid: false,
            reason: Some(reason.to_owned()),
            message: Some(message.into()),
            name: None,
            identifier: None,
            purpose: None,
            privacy_policy: None,
            support_uri: None,
            expires_at: None,
            credentials: Vec::new(),
            certificate,
        }
    }

    fn valid(claims: &RegistrationClaims, locale: &str, certificate: String) -> Self {
        Self {
            valid: true,
            reason: None,
            message: None,
            name: Some(claims.name.clone()),
            identifier: Some(claims.sub.clone()),
            purpose: claims
                .purpose
                .as_deref()
                .and_then(|texts| wrprc::localized(texts, locale))
                .map(str::to_owned),
            privacy_policy: claims.privacy_policy.clone(),
            support_uri: claims.support_uri.clone(),
            expires_at: claims.exp,
            credentials: claims.credentials.clone().unwrap_or_default(),
            certificate: Some(certificate),
        }
    }
}

/// The check and, when valid, what the query over-asks.
#[derive(Debug, Clone)]
pub struct RegistrationOutcome {
    /// The check.
    pub check: RegistrationCheck,
    /// The over-asked parts (empty unless the registration is valid).
    pub overasked: Overasked,
}

impl RegistrationOutcome {
    /// The over-asked claims of Credential Query `query_id`.
    pub fn overasked_claims(&self, query_id: &str) -> &[ClaimsPath] {
        self.overasked.claims(query_id)
    }
}

impl Wallet {
    /// Adds every certificate of a PEM file to the trusted WRPRC provider
    /// roots; returns their `x509_hash` values.
    pub fn add_wrprc_roots(&mut self, pem: &str) -> Result<Vec<String>, TrustError> {
        let certificates = Certificate::from_pem(pem)?;
        TrustAnchors::new(certificates.clone())?;
        let mut added = Vec::new();
        for certificate in certificates {
            let id = certificate.x509_hash();
            self.store
                .add_wrprc_root(&self.key, &id, certificate.der())?;
            added.push(id);
        }
        Ok(added)
    }

    /// The trusted WRPRC provider roots.
    pub fn wrprc_roots(&self) -> Result<Vec<Certificate>, TrustError> {
        self.store
            .wrprc_roots(&self.key)?
            .into_iter()
            .enumerate()
            .map(|(index, der)| Certificate::from_der(der, index).map_err(TrustError::from))
            .collect()
    }

    /// Checks the registration certificate of `request`, whose access
    /// certificate (when it was authenticated by one) is `access`, and
    /// compares `query` with it.
    pub async fn check_registration(
        &self,
        request: &AuthorizationRequest,
        access: Option<&ValidatedLeaf>,
        query: &DcqlQuery,
    ) -> Result<RegistrationOutcome, TrustError> {
        let not_valid = |check| RegistrationOutcome {
            check,
            overasked: Overasked::default(),
        };
        let certificates: Vec<String> = request
            .verifier_info
            .iter()
            .flatten()
            .filter(|info| info.format == wrprc::VERIFIER_INFO_FORMAT)
            .map(|info| info.data.as_str().unwrap_or_default().to_owned())
            .collect();
        let jwt = match certificates.as_slice() {
            [] => {
                return Ok(not_valid(RegistrationCheck::invalid(
                    reason::MISSING,
                    "the request carries no registration certificate",
                    None,
                )));
            }
            [one] => one.clone(),
            _ => {
                return Ok(not_valid(RegistrationCheck::invalid(
                    reason::AMBIGUOUS,
                    "the request carries more than one registration certificate",
                    None,
                )));
            }
        };
        let mut roots = self.wrprc_roots()?;
        roots.extend(self.listed_wrprc_providers()?);
        if roots.is_empty() {
            return Ok(not_valid(RegistrationCheck::invalid(
                reason::NO_PROVIDER_ROOTS,
                "the wallet trusts no registration certificate provider (add one with `intyg wallet trust add-wrprc-root`)",
                Some(jwt),
            )));
        }
        let anchors = TrustAnchors::new(roots)?;
        let verified = match wrprc::verify(&jwt, &anchors, now()) {
            Ok(verified) => verified,
            Err(e) => {
                return Ok(not_valid(RegistrationCheck::invalid(
                    e.code(),
                    e.to_string(),
                    Some(jwt),
                )));
            }
        };
        let Some(access) = access else {
            return Ok(not_valid(RegistrationCheck::invalid(
                reason::UNAUTHENTICATED,
                "the request is not signed with an access certificate to bind the registration to",
                Some(jwt),
            )));
        };
        if let Err(e) = verified.check_bound(access) {
            return Ok(not_valid(RegistrationCheck::invalid(
                e.code(),
                e.to_string(),
                Some(jwt),
            )));
        }
        if let Some(reference) = verified
            .claims
            .status
            .as_ref()
            .and_then(|s| s.status_list.as_ref())
        {
            match self.registration_status(reference, &anchors).await {
                Ok(StatusType::Valid) => {}
                Ok(listed) => {
                    return Ok(not_valid(RegistrationCheck::invalid(
                        reason::REVOKED,
                        format!("the registration certificate's status is {listed:?}"),
                        Some(jwt),
                    )));
                }
                Err(e) => {
                    return Ok(not_valid(RegistrationCheck::invalid(
                        reason::STATUS_UNKNOWN,
                        e.to_string(),
                        Some(jwt),
                    )));
                }
            }
        }
        Ok(RegistrationOutcome {
            overasked: verified.claims.overasked(query),
            check: RegistrationCheck::valid(&verified.claims, &self.config.locale, jwt),
        })
    }

    /// The registration's entry in its status list, a `statuslist+jwt`
    /// whose `x5c` chains to the WRPRC provider anchors.
    async fn registration_status(
        &self,
        reference: &StatusListReference,
        anchors: &TrustAnchors,
    ) -> Result<StatusType, StatusUnknown> {
        let text = self.registration_status_list(&reference.uri).await?;
        let jws = CompactJws::parse(text.trim())?;
        let x5c = jws.header.x5c.as_ref().ok_or(StatusUnknown::Signer(
            intyg_core::trust::X509Error::EmptyChain,
        ))?;
        let leaf = CertificateChain::from_x5c(x5c)?.validate(anchors, now())?;
        jws.verify_with(&leaf.key)
            .map_err(|_| StatusUnknown::Signature)?;
        let token = StatusListToken::validate(
            jws.header.typ.as_deref(),
            &jws.payload,
            &reference.uri,
            now(),
            DecodeLimits::default(),
        )?;
        Ok(token.status(reference.idx)?)
    }

    /// The status list at `uri`, fetched, or as fetched within the last
    /// [`STATUS_CACHE_SECONDS`].
    async fn registration_status_list(&self, uri: &str) -> Result<String, StatusUnknown> {
        let at = now();
        let cached = self
            .registration_statuses
            .lock()
            .map_err(|_| StatusUnknown::Cache)?
            .get(uri)
            .filter(|(fetched, _)| at - fetched < STATUS_CACHE_SECONDS)
            .map(|(_, text)| text.clone());
        if let Some(text) = cached {
            return Ok(text);
        }
        let reply = self.http().get(uri, "application/statuslist+jwt").await?;
        if !reply.is_success() {
            return Err(StatusUnknown::Http(reply.status));
        }
        let text = reply.text();
        self.registration_statuses
            .lock()
            .map_err(|_| StatusUnknown::Cache)?
            .insert(uri.to_owned(), (at, text.clone()));
        Ok(text)
    }
}
