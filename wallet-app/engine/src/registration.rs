//! The relying party's registration — ETSI TS 119 475 WRPRC (`rc-wrp+jwt`)
//! in the request's `verifier_info` (OpenID4VP 1.0 §5.1), checked by
//! [`Wallet::check_registration`] on `core::wrprc`: signature to a trusted
//! WRPRC provider root ([`Wallet::add_wrprc_roots`], or a `WRPRC/Issuance`
//! service of a trust list in force, [`crate::lists`]), validity period,
//! bound to the access certificate that authenticated the request, and
//! the DCQL query compared with what was registered.
//!
//! The result is a [`RegistrationCheck`]: valid, with what was registered
//! and what the request over-asks; or not valid, with the reason. A request
//! without a (valid) registration is not refused: the person sees that it
//! is unregistered and decides. Over-asking is only counted against a
//! valid registration.

use intyg_core::dcql::{ClaimsPath, DcqlQuery};
use intyg_core::oid4vp::AuthorizationRequest;
use intyg_core::trust::{Certificate, TrustAnchors, ValidatedLeaf};
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
    pub fn check_registration(
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
        Ok(RegistrationOutcome {
            overasked: verified.claims.overasked(query),
            check: RegistrationCheck::valid(&verified.claims, &self.config.locale, jwt),
        })
    }
}
