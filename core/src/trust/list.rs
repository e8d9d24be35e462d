//! A verifier's trust list: per credential type (`vct`), the issuers it
//! trusts, each by its keys (JWKs, found by `kid`) or by X.509 roots that
//! its `x5c` chains must lead to.
//!
//! The wire form ([`TrustListDocument`]) is what a trust list file holds
//! (JSON, or TOML through the caller's parser):
//!
//! ```json
//! {"issuers": [{
//!   "iss": "https://arbetsformedlingen.se",
//!   "vct": ["https://intyg.se/credentials/registration-certificate/v1"],
//!   "jwks": {"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "x": "...", "y": "..."}]},
//!   "x5c_roots": ["-----BEGIN CERTIFICATE-----\n..."]
//! }]}
//! ```
//!
//! A key embedded in a credential (`jwk` header) is never trusted; only
//! `kid` against configured keys, or `x5c` against configured roots.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::x509::{CertificateChain, TrustAnchors, ValidatedLeaf, X509Error};
use crate::jose::{Header, JoseError, Jwk, VerifyingKey};

/// Why an issuer's key was not found or not trusted.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    /// No issuer at all is trusted for this credential type.
    #[error("no issuer is trusted for vct `{0}`")]
    UntrustedType(String),
    /// The issuer is not trusted for this credential type.
    #[error("issuer {iss:?} is not trusted for vct `{vct}`")]
    UntrustedIssuer {
        /// The credential type.
        vct: String,
        /// The credential's `iss`, if any.
        iss: Option<String>,
    },
    /// The credential has neither `kid` matching a configured key, nor an
    /// `x5c` to validate, and the issuer has more than one key.
    #[error("issuer `{iss}` has no configured key with kid {kid:?}")]
    UnknownKey {
        /// The issuer.
        iss: String,
        /// The header's `kid`, if any.
        kid: Option<String>,
    },
    /// The credential carries `x5c` but the issuer is trusted by keys only,
    /// or the other way round.
    #[error("issuer `{0}` is not trusted through x5c")]
    NoRoots(String),
    /// The `x5c` chain failed validation.
    #[error("x5c: {0}")]
    X509(#[from] X509Error),
    /// A configured JWK is not a usable verifying key.
    #[error("configured key: {0}")]
    Key(#[from] JoseError),
    /// The trust list document is inconsistent (an issuer with neither keys
    /// nor roots, an issuer without a credential type).
    #[error("trust list: {0}")]
    Document(String),
}

/// The JWK Set of an issuer (RFC 7517 §5).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IssuerJwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

/// One trusted issuer as written in a trust list file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrustedIssuerEntry {
    /// The issuer identifier, compared with the credential's `iss`.
    pub iss: String,
    /// The credential types this issuer is trusted for.
    pub vct: Vec<String>,
    /// Its keys, found by `kid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<IssuerJwks>,
    /// PEM root certificates its `x5c` chains must lead to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub x5c_roots: Vec<String>,
}

/// A trust list file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrustListDocument {
    /// The trusted issuers.
    pub issuers: Vec<TrustedIssuerEntry>,
}

/// A trusted issuer: its identifier and how its signatures are checked.
#[derive(Debug, Clone, PartialEq)]
pub struct TrustedIssuer {
    /// The issuer identifier (`iss`).
    pub iss: String,
    /// Keys, found by `kid`.
    pub keys: Vec<Jwk>,
    /// Roots that `x5c` chains must lead to.
    pub roots: TrustAnchors,
}

impl TrustedIssuer {
    /// An issuer trusted by its keys.
    pub fn with_keys(iss: impl Into<String>, keys: Vec<Jwk>) -> Self {
        Self {
            iss: iss.into(),
            keys,
            roots: TrustAnchors::default(),
        }
    }

    /// An issuer trusted through `x5c` chains to `roots`.
    pub fn with_roots(iss: impl Into<String>, roots: TrustAnchors) -> Self {
        Self {
            iss: iss.into(),
            keys: Vec::new(),
            roots,
        }
    }

    fn key(&self, header: &Header, now: i64) -> Result<VerifyingKey, TrustError> {
        if let Some(x5c) = &header.x5c {
            if !self.roots.is_empty() {
                let leaf = CertificateChain::from_x5c(x5c)?.validate(&self.roots, now)?;
                check_issuer_name(&leaf, &self.iss)?;
                return Ok(leaf.key);
            }
            // An issuer trusted by its keys only: a chain proves nothing
            // here, but a `kid` naming one of its keys still does (issuers
            // send both during a move to certificates).
            let jwk = header
                .kid
                .as_ref()
                .and_then(|kid| {
                    self.keys
                        .iter()
                        .find(|k| k.key_id.as_deref() == Some(kid.as_str()))
                })
                .ok_or_else(|| TrustError::NoRoots(self.iss.clone()))?;
            return Ok(VerifyingKey::from_jwk(jwk)?);
        }
        let unknown = || TrustError::UnknownKey {
            iss: self.iss.clone(),
            kid: header.kid.clone(),
        };
        let jwk = match (&header.kid, self.keys.as_slice()) {
            (Some(kid), keys) => keys
                .iter()
                .find(|k| k.key_id.as_deref() == Some(kid))
                .ok_or_else(unknown)?,
            (None, [only]) => only,
            (None, _) => return Err(unknown()),
        };
        Ok(VerifyingKey::from_jwk(jwk)?)
    }
}

/// An `x5c`-authenticated issuer's `iss` must name the leaf: a URI SAN
/// equal to it, or (for an https URL) its host as a `dNSName` SAN
/// (draft-ietf-oauth-sd-jwt-vc §3.5).
fn check_issuer_name(leaf: &ValidatedLeaf, iss: &str) -> Result<(), TrustError> {
    if leaf.uri_names.iter().any(|uri| uri == iss) {
        return Ok(());
    }
    let host = url::Url::parse(iss)
        .ok()
        .filter(|url| url.scheme() == "https")
        .and_then(|url| url.host_str().map(str::to_owned))
        .ok_or_else(|| X509Error::NameMismatch(iss.to_owned()))?;
    Ok(leaf.has_dns_name(&host)?)
}

/// The `vct` of the EUDI PID in SD-JWT VC form.
pub const PID_VCT: &str = "urn:eudi:pid:1";

/// Anchors taken from one List of Trusted Entities (ETSI TS 119 602):
/// issuers not named in advance, known by an `x5c` chain to a listed
/// service's certificates, whose leaf names the credential's `iss`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListedAnchors {
    /// The list's name, for display.
    pub list: String,
    /// PID providers (`.../PID/Issuance`): trusted for [`PID_VCT`].
    pub pid: TrustAnchors,
    /// Attestation providers (Pub-EAA, QEAA, EAA issuance): trusted for
    /// every other type.
    pub attestations: TrustAnchors,
}

impl ListedAnchors {
    /// The anchors of a verified list's services in force.
    pub fn from_lote(list: &super::lote::VerifiedLote) -> Result<Self, TrustError> {
        use super::lote::ServiceType;
        let collect = |keep: &dyn Fn(&ServiceType) -> bool| {
            TrustAnchors::new(
                list.services()
                    .iter()
                    .filter(|s| keep(&s.service_type))
                    .flat_map(|s| s.certificates.iter().cloned())
                    .collect(),
            )
        };
        Ok(Self {
            list: list.name(),
            pid: collect(&|t| *t == ServiceType::PidIssuance)?,
            attestations: collect(&ServiceType::issues_attestations)?,
        })
    }

    fn for_vct(&self, vct: &str) -> &TrustAnchors {
        if vct == PID_VCT {
            &self.pid
        } else {
            &self.attestations
        }
    }
}

/// Per credential type, the trusted issuers; and the anchors of trust
/// lists, by list source.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrustList {
    by_vct: BTreeMap<String, Vec<TrustedIssuer>>,
    listed: BTreeMap<String, ListedAnchors>,
}

impl TrustList {
    /// An empty list: trusts nobody.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts `issuer` for `vct`. An issuer already trusted for it with the
    /// same `iss` is replaced.
    pub fn trust(&mut self, vct: impl Into<String>, issuer: TrustedIssuer) {
        let issuers = self.by_vct.entry(vct.into()).or_default();
        issuers.retain(|known| known.iss != issuer.iss);
        issuers.push(issuer);
    }

    /// Sets the anchors of the list from `source` (its URL), replacing
    /// what that list gave before: an issuer it no longer names is no
    /// longer trusted through it.
    pub fn set_listed(&mut self, source: impl Into<String>, anchors: ListedAnchors) {
        self.listed.insert(source.into(), anchors);
    }

    /// Stops using the list from `source`: a list that can no longer be
    /// had (past its grace period) trusts nobody. Anchors from other
    /// sources (manual configuration, other lists) stay.
    pub fn remove_listed(&mut self, source: &str) {
        self.listed.remove(source);
    }

    /// The lists in use, by source.
    pub fn listed(&self) -> &BTreeMap<String, ListedAnchors> {
        &self.listed
    }

    /// The credential types with at least one trusted issuer.
    pub fn types(&self) -> impl Iterator<Item = &str> {
        self.by_vct.keys().map(String::as_str)
    }

    /// The issuers trusted for `vct`.
    pub fn issuers(&self, vct: &str) -> &[TrustedIssuer] {
        self.by_vct.get(vct).map_or(&[], Vec::as_slice)
    }

    /// The key that verifies a credential of type `vct` from `iss` with
    /// this JOSE `header`, at `now` (for `x5c` validity): the configured
    /// key named by `kid` (or the issuer's only key), or the leaf key of an
    /// `x5c` chain that leads to the issuer's roots. Without `iss`, only an
    /// `x5c` chain can identify the issuer.
    pub fn issuer_key(
        &self,
        vct: &str,
        iss: Option<&str>,
        header: &Header,
        now: i64,
    ) -> Result<VerifyingKey, TrustError> {
        let untrusted = || TrustError::UntrustedIssuer {
            vct: vct.to_owned(),
            iss: iss.map(str::to_owned),
        };
        let named = iss.is_some_and(|iss| self.issuers(vct).iter().any(|issuer| issuer.iss == iss));
        if !named
            && let (Some(iss), Some(x5c)) = (iss, &header.x5c)
            && !self.listed.is_empty()
        {
            let chain = CertificateChain::from_x5c(x5c)?;
            return self
                .listed
                .values()
                .map(|anchors| anchors.for_vct(vct))
                .filter(|anchors| !anchors.is_empty())
                .find_map(|anchors| {
                    let leaf = chain.validate(anchors, now).ok()?;
                    check_issuer_name(&leaf, iss).ok()?;
                    Some(leaf.key)
                })
                .ok_or_else(untrusted);
        }
        let issuers = self
            .by_vct
            .get(vct)
            .ok_or_else(|| TrustError::UntrustedType(vct.to_owned()))?;
        match iss {
            Some(iss) => issuers
                .iter()
                .find(|issuer| issuer.iss == iss)
                .ok_or_else(untrusted)?
                .key(header, now),
            None if header.x5c.is_some() => issuers
                .iter()
                .filter(|issuer| !issuer.roots.is_empty())
                .find_map(|issuer| issuer.key(header, now).ok())
                .ok_or_else(untrusted),
            None => Err(untrusted()),
        }
    }
}

impl TryFrom<TrustListDocument> for TrustList {
    type Error = TrustError;

    fn try_from(document: TrustListDocument) -> Result<Self, TrustError> {
        let mut list = Self::new();
        for entry in document.issuers {
            let roots = entry
                .x5c_roots
                .iter()
                .map(|pem| super::x509::Certificate::from_pem(pem))
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .flatten()
                .collect();
            let keys = entry.jwks.map(|jwks| jwks.keys).unwrap_or_default();
            for key in &keys {
                VerifyingKey::from_jwk(key)?;
            }
            let issuer = TrustedIssuer {
                iss: entry.iss,
                keys,
                roots: TrustAnchors::new(roots)?,
            };
            if issuer.keys.is_empty() && issuer.roots.is_empty() {
                return Err(TrustError::Document(format!(
                    "issuer `{}` has neither jwks nor x5c_roots",
                    issuer.iss
                )));
            }
            if entry.vct.is_empty() {
                return Err(TrustError::Document(format!(
                    "issuer `{}` is trusted for no vct",
                    issuer.iss
                )));
            }
            for vct in entry.vct {
                list.trust(vct, issuer.clone());
            }
        }
        Ok(list)
    }
}
