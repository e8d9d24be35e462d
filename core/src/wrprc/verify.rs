//! Signing and verifying a WRPRC — ETSI TS 119 475 V1.2.1 §5.2.1, §5.2.2
//! (JWT header: `typ`, `alg`, `x5c`) and §5.2.4 (payload rules), with the
//! binding of GEN-5.2.4 to the relying party's access certificate.

use rustls_pki_types::CertificateDer;
use webpki::EndEntityCert;

use super::{MAX_LIFETIME_SECONDS, RegistrationClaims, TYP};
use crate::jose::{Algorithm, CompactJws, Header, JoseError, SigningKey};
use crate::oid4vp::CLOCK_SKEW_SECONDS;
use crate::trust::{CertificateChain, TrustAnchors, ValidatedLeaf, X509Error};

/// The DER of the `organizationIdentifier` attribute type, 2.5.4.97
/// (X.520), where an access certificate names the relying party's semantic
/// identifier (ETSI EN 319 412-1 §5.1.4).
const ORGANIZATION_IDENTIFIER_OID: [u8; 3] = [0x55, 0x04, 0x61];

/// Why a registration certificate was refused. Each variant has a stable
/// [`code`](Self::code) for scripts and for `registration.reason`.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// Not a compact JWS, or its header is unusable (an `alg` outside our
    /// profile, a `crit`).
    #[error("the registration certificate is not a usable JWS: {0}")]
    Jose(#[from] JoseError),
    /// `typ` is not `rc-wrp+jwt` (Table 5).
    #[error("the registration certificate's typ is `{0}`, not rc-wrp+jwt")]
    WrongType(String),
    /// The header has no `x5c` chain (Table 5).
    #[error("the registration certificate has no x5c chain")]
    MissingX5c,
    /// The `x5c` chain does not lead to a trusted WRPRC provider.
    #[error("the registration certificate's provider is not trusted: {0}")]
    UntrustedProvider(X509Error),
    /// The signature does not verify with the provider's key.
    #[error("the registration certificate's signature does not verify")]
    BadSignature,
    /// The payload does not have the shape of Table 7.
    #[error("the registration certificate's payload is malformed: {0}")]
    Malformed(String),
    /// `exp` is absent: Intyg requires an expiry.
    #[error("the registration certificate has no exp")]
    MissingExpiry,
    /// `exp` is more than 12 months after `iat` (GEN-5.2.4-08).
    #[error("the registration certificate is valid for more than 12 months")]
    TooLong,
    /// `exp` has passed.
    #[error("the registration certificate expired at {0}")]
    Expired(i64),
    /// `iat` is in the future.
    #[error("the registration certificate is issued in the future ({0})")]
    NotYetValid(i64),
    /// No entitlement (GEN-5.2.4-03).
    #[error("the registration certificate names no entitlement")]
    NoEntitlement,
    /// The Verifier's access certificate names no `organizationIdentifier`
    /// to bind the registration to.
    #[error("the verifier's access certificate names no organizationIdentifier")]
    UnboundAccessCertificate,
    /// The registration is for another relying party than the one whose
    /// access certificate signed the request.
    #[error("the registration certificate is for `{registered}`, the request is from `{access}`")]
    OtherRelyingParty {
        /// `sub` of the registration.
        registered: String,
        /// `organizationIdentifier` of the access certificate.
        access: String,
    },
}

impl RegistrationError {
    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Jose(_) | Self::WrongType(_) | Self::MissingX5c | Self::Malformed(_) => {
                "malformed"
            }
            Self::UntrustedProvider(_) => "untrusted_provider",
            Self::BadSignature => "bad_signature",
            Self::MissingExpiry | Self::TooLong => "invalid_validity",
            Self::Expired(_) => "expired",
            Self::NotYetValid(_) => "not_yet_valid",
            Self::NoEntitlement => "no_entitlement",
            Self::UnboundAccessCertificate | Self::OtherRelyingParty { .. } => "other_verifier",
        }
    }
}

/// A registration certificate whose signature, provider chain and
/// validity period were checked.
#[derive(Debug, Clone)]
pub struct VerifiedRegistration {
    /// The payload.
    pub claims: RegistrationClaims,
    /// The provider's validated leaf certificate.
    pub provider: ValidatedLeaf,
}

impl VerifiedRegistration {
    /// Checks that the registration is for the relying party whose access
    /// certificate `access` authenticated the request: `sub` equals the
    /// certificate's `organizationIdentifier`.
    pub fn check_bound(&self, access: &ValidatedLeaf) -> Result<(), RegistrationError> {
        let Some(identifier) = access_identifier(access.der()) else {
            return Err(RegistrationError::UnboundAccessCertificate);
        };
        if identifier != self.claims.sub {
            return Err(RegistrationError::OtherRelyingParty {
                registered: self.claims.sub.clone(),
                access: identifier,
            });
        }
        Ok(())
    }
}

/// Signs `claims` as a WRPRC (header `typ: rc-wrp+jwt`, ES256, `x5c` of
/// `chain`, and the JAdES claimed signing time `iat`).
pub fn sign(
    claims: &RegistrationClaims,
    key: &SigningKey,
    chain: &CertificateChain,
) -> Result<String, JoseError> {
    let mut header = Header::new(Algorithm::ES256).typ(TYP);
    header.x5c = Some(chain.to_x5c());
    header.extra.insert("iat".into(), claims.iat.into());
    let payload = serde_json::to_vec(claims).map_err(|_| JoseError::Signing)?;
    crate::jose::sign_compact(&header, &payload, key)
}

/// Verifies a WRPRC: `typ`, the `x5c` chain to `providers` at `now`, the
/// signature, the payload's shape, entitlements and validity period.
pub fn verify(
    jwt: &str,
    providers: &TrustAnchors,
    now: i64,
) -> Result<VerifiedRegistration, RegistrationError> {
    let jws = CompactJws::parse(jwt.trim())?;
    match jws.header.typ.as_deref() {
        Some(TYP) => {}
        other => return Err(RegistrationError::WrongType(other.unwrap_or("").to_owned())),
    }
    let x5c = jws
        .header
        .x5c
        .as_ref()
        .ok_or(RegistrationError::MissingX5c)?;
    let provider = CertificateChain::from_x5c(x5c)
        .and_then(|chain| chain.validate(providers, now))
        .map_err(RegistrationError::UntrustedProvider)?;
    jws.verify_with(&provider.key)
        .map_err(|_| RegistrationError::BadSignature)?;
    let claims: RegistrationClaims = jws
        .payload_json()
        .map_err(|e| RegistrationError::Malformed(e.to_string()))?;
    let exp = claims.exp.ok_or(RegistrationError::MissingExpiry)?;
    if exp.saturating_sub(claims.iat) > MAX_LIFETIME_SECONDS {
        return Err(RegistrationError::TooLong);
    }
    if now > exp.saturating_add(CLOCK_SKEW_SECONDS) {
        return Err(RegistrationError::Expired(exp));
    }
    if claims.iat > now.saturating_add(CLOCK_SKEW_SECONDS) {
        return Err(RegistrationError::NotYetValid(claims.iat));
    }
    if claims.entitlements.is_empty() {
        return Err(RegistrationError::NoEntitlement);
    }
    Ok(VerifiedRegistration { claims, provider })
}

/// The `organizationIdentifier` of a certificate's subject (2.5.4.97, as
/// UTF8String or PrintableString), if it has one: the relying party's
/// semantic identifier in an access certificate (ETSI EN 319 412-1).
pub fn access_identifier(der: &[u8]) -> Option<String> {
    let certificate = CertificateDer::from(der);
    let parsed = EndEntityCert::try_from(&certificate).ok()?;
    // Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY }
    let mut names = parsed.subject();
    while let Some((0x31, set, rest)) = tlv(names) {
        names = rest;
        let mut attributes = set;
        while let Some((0x30, attribute, rest)) = tlv(attributes) {
            attributes = rest;
            let Some((0x06, oid, value)) = tlv(attribute) else {
                continue;
            };
            if oid != ORGANIZATION_IDENTIFIER_OID {
                continue;
            }
            // UTF8String (12) or PrintableString (19).
            if let Some((0x0c | 0x13, text, _)) = tlv(value) {
                return std::str::from_utf8(text).ok().map(str::to_owned);
            }
        }
    }
    None
}

/// One DER tag-length-value: (tag, contents, the bytes after it). Only
/// single-byte tags and definite lengths up to four bytes.
fn tlv(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = bytes.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (digits, rest) = rest.split_at(count);
        let length = digits
            .iter()
            .fold(0usize, |acc, &d| (acc << 8) | usize::from(d));
        (length, rest)
    };
    if rest.len() < length {
        return None;
    }
    let (contents, after) = rest.split_at(length);
    Some((tag, contents, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlv_refuses_truncated_input() {
        assert_eq!(tlv(&[0x30, 0x05, 0x01]), None);
        assert_eq!(tlv(&[0x30, 0x81]), None);
        assert_eq!(tlv(&[0x30, 0x80]), None);
        assert_eq!(tlv(&[]), None);
        assert_eq!(
            tlv(&[0x04, 0x01, 0xaa, 0xbb]),
            Some((0x04, &[0xaa][..], &[0xbb][..]))
        );
    }
}
