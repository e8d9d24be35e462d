//! Status List Token in JWT format — draft-ietf-oauth-status-list §5.1,
//! validated per §8.3.
//!
//! <https://datatracker.ietf.org/doc/html/draft-ietf-oauth-status-list#section-5.1>
//!
//! [`StatusListToken::sign`] makes the compact JWS (`typ: statuslist+jwt`);
//! [`StatusListToken::verify`] checks one end to end: signature, `typ`,
//! required claims, `sub` against the Referenced Token's `uri`, `exp` and
//! `nbf` against the caller's clock, then decodes the list within
//! [`DecodeLimits`]. A [`StatusListToken`] exists only once all of that
//! passed.

use serde_json::{Map, Value};

use super::claims::{ClaimsError, StatusListTokenClaims};
use super::encoding::{DecodeError, DecodeLimits};
use super::list::{LookupError, StatusIndex, StatusList, StatusType};
use crate::jose::{CompactJws, Header, JoseError, Jwk, sign_compact};

/// A Status List Token whose header and claims were checked and whose list
/// was decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusListToken {
    claims: StatusListTokenClaims,
    list: StatusList,
}

/// Why a Status List Token's header or claims were refused.
#[derive(Debug, thiserror::Error)]
pub enum ValidationError {
    /// The header's `typ` is absent or not exactly `statuslist+jwt`.
    #[error("status list token `typ` must be `statuslist+jwt`, found {found:?}")]
    WrongType {
        /// The `typ` found, if any.
        found: Option<String>,
    },
    /// The payload is not a JSON object.
    #[error("status list token payload is not a JSON object: {0}")]
    Payload(#[source] serde_json::Error),
    /// A claim is missing or malformed.
    #[error(transparent)]
    Claims(#[from] ClaimsError),
    /// `sub` differs from the `uri` the Referenced Token points to (§8.3
    /// step 4a).
    #[error(
        "status list token `sub` is {found:?}, but the referenced token points to {expected:?}"
    )]
    SubjectMismatch {
        /// The `uri` from the Referenced Token.
        expected: String,
        /// The token's `sub`.
        found: String,
    },
    /// `exp` has passed (§8.3 step 4c).
    #[error("status list token expired at {exp}; it is now {now}")]
    Expired {
        /// The token's `exp`.
        exp: i64,
        /// The caller's clock.
        now: i64,
    },
    /// `nbf` is still ahead (RFC 7519 §4.1.5).
    #[error("status list token is not valid before {nbf}; it is now {now}")]
    NotYetValid {
        /// The token's `nbf`.
        nbf: i64,
        /// The caller's clock.
        now: i64,
    },
    /// The `status_list` claim does not decode.
    #[error(transparent)]
    List(#[from] DecodeError),
}

/// Why [`StatusListToken::verify`] refused a compact JWS.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The string is not a compact JWS of our profile (bad encoding,
    /// unsupported `alg`, unknown `crit`).
    #[error("status list token is not an acceptable JWS: {0}")]
    Jws(#[source] JoseError),
    /// The signature does not verify with the given key, or the key does
    /// not fit the algorithm.
    #[error("status list token signature check failed: {0}")]
    Signature(#[source] JoseError),
    /// The signature holds, but the header or claims are not acceptable.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

impl StatusListToken {
    /// The JWT `typ` of a Status List Token.
    pub const TYP: &'static str = "statuslist+jwt";
    /// The media type of a Status List Token in JWT format (§8.1).
    pub const MEDIA_TYPE: &'static str = "application/statuslist+jwt";

    /// Signs `claims` as a Status List Token: a compact JWS with `typ`
    /// `statuslist+jwt`, the key's algorithm and, if given, `kid`.
    ///
    /// # Errors
    ///
    /// The [`JoseError`] of [`sign_compact`] when the key cannot sign.
    pub fn sign(
        claims: &StatusListTokenClaims,
        key: &(impl crate::jose::Signer + ?Sized),
        kid: Option<&str>,
    ) -> Result<String, JoseError> {
        Self::sign_with_chain(claims, key, kid, None)
    }

    /// [`Self::sign`] with the signer's X.509 chain in `x5c` (leaf and
    /// intermediates, RFC 7515 §4.1.6), so a relying party can check the
    /// token against the same trust anchors as the issuer's credentials.
    ///
    /// # Errors
    ///
    /// The [`JoseError`] of [`sign_compact`] when the key cannot sign.
    pub fn sign_with_chain(
        claims: &StatusListTokenClaims,
        key: &(impl crate::jose::Signer + ?Sized),
        kid: Option<&str>,
        x5c: Option<Vec<String>>,
    ) -> Result<String, JoseError> {
        let mut header = Header::new(key.algorithm()).typ(Self::TYP);
        if let Some(kid) = kid {
            header = header.kid(kid);
        }
        header.x5c = x5c;
        // Invariant: the claims are strings, integers and `serde_json`
        // values keyed by strings, all of which serialize to JSON.
        let payload = serde_json::to_vec(claims).expect("status list claims serialize to JSON");
        sign_compact(&header, &payload, key)
    }

    /// Verifies a compact Status List Token fetched from `expected_uri` (the
    /// `uri` of the Referenced Token's `status_list`) with the Status
    /// Issuer's `key`, at time `now` (seconds since the Unix epoch).
    ///
    /// # Errors
    ///
    /// [`VerifyError::Jws`] when the JWS does not parse,
    /// [`VerifyError::Signature`] when its signature does not hold, and
    /// [`VerifyError::Invalid`] for the checks of [`StatusListToken::validate`].
    pub fn verify(
        jws: &str,
        key: &Jwk,
        expected_uri: &str,
        now: i64,
        limits: DecodeLimits,
    ) -> Result<Self, VerifyError> {
        let jws = CompactJws::parse(jws).map_err(VerifyError::Jws)?;
        jws.verify(key).map_err(VerifyError::Signature)?;
        Ok(Self::validate(
            jws.header.typ.as_deref(),
            &jws.payload,
            expected_uri,
            now,
            limits,
        )?)
    }

    /// Checks the header `typ` and the claims of a Status List Token whose
    /// JWS signature the caller has already verified, and decodes its list.
    /// [`StatusListToken::verify`] is the entry point for a compact JWS; this
    /// is the part without cryptography.
    ///
    /// `typ` must be exactly `statuslist+jwt`. The form with the
    /// `application/` prefix, which RFC 7515 §4.1.9 deems equivalent, is
    /// refused like any other value: issuers emit the short form.
    ///
    /// # Errors
    ///
    /// One [`ValidationError`] per failed rule, checked in this order: `typ`,
    /// JSON object, required and well-typed claims, `sub`, `exp`, `nbf`,
    /// then the list's decoding.
    pub fn validate(
        typ: Option<&str>,
        payload: &[u8],
        expected_uri: &str,
        now: i64,
        limits: DecodeLimits,
    ) -> Result<Self, ValidationError> {
        if typ != Some(Self::TYP) {
            return Err(ValidationError::WrongType {
                found: typ.map(str::to_owned),
            });
        }
        let object: Map<String, Value> =
            serde_json::from_slice(payload).map_err(ValidationError::Payload)?;
        let claims = StatusListTokenClaims::try_from(object)?;
        if claims.sub != expected_uri {
            return Err(ValidationError::SubjectMismatch {
                expected: expected_uri.to_owned(),
                found: claims.sub,
            });
        }
        if let Some(exp) = claims.exp
            && now >= exp
        {
            return Err(ValidationError::Expired { exp, now });
        }
        if let Some(nbf) = claims.nbf
            && now < nbf
        {
            return Err(ValidationError::NotYetValid { nbf, now });
        }
        let list = claims.status_list.decode(limits)?;
        Ok(StatusListToken { claims, list })
    }

    /// The token's claims.
    pub fn claims(&self) -> &StatusListTokenClaims {
        &self.claims
    }

    /// The decoded Status List.
    pub fn list(&self) -> &StatusList {
        &self.list
    }

    /// The status of the Referenced Token at `index` (§8.3 step 6).
    ///
    /// # Errors
    ///
    /// [`LookupError::OutOfRange`] when the list is shorter: the Referenced
    /// Token must then be rejected.
    pub fn status(&self, index: StatusIndex) -> Result<StatusType, LookupError> {
        self.list.get(index)
    }

    /// The claims and the decoded list.
    pub fn into_parts(self) -> (StatusListTokenClaims, StatusList) {
        (self.claims, self.list)
    }
}

#[cfg(test)]
mod tests {
    use crate::jose::SigningKey;
    use std::num::NonZeroU64;

    use serde_json::json;

    use super::*;
    use crate::jose::b64url_encode;
    use crate::status_list::{Bits, StatusListClaim};

    const URI: &str = "https://issuer.example/statuslists/7";
    const NOW: i64 = 1_700_000_000;

    fn list() -> StatusList {
        let mut list = StatusList::new(Bits::Two, 64);
        list.set(3u32.into(), StatusType::Invalid).unwrap();
        list.set(4u32.into(), StatusType::Suspended).unwrap();
        list
    }

    fn claims() -> StatusListTokenClaims {
        let mut claims = StatusListTokenClaims::new(URI, NOW - 60, StatusListClaim::from(&list()));
        claims.exp = Some(NOW + 3600);
        claims.ttl = NonZeroU64::new(300);
        claims
    }

    fn payload(claims: &StatusListTokenClaims) -> Vec<u8> {
        serde_json::to_vec(claims).unwrap()
    }

    fn validate(typ: Option<&str>, payload: &[u8]) -> Result<StatusListToken, ValidationError> {
        StatusListToken::validate(typ, payload, URI, NOW, DecodeLimits::default())
    }

    #[test]
    fn valid_token_decodes_its_list() {
        let token = validate(Some("statuslist+jwt"), &payload(&claims())).unwrap();
        assert_eq!(token.status(3u32.into()).unwrap(), StatusType::Invalid);
        assert_eq!(token.status(4u32.into()).unwrap(), StatusType::Suspended);
        assert_eq!(token.status(5u32.into()).unwrap(), StatusType::Valid);
        assert!(matches!(
            token.status(64u32.into()),
            Err(LookupError::OutOfRange { len: 64, .. })
        ));
        assert_eq!(token.claims().sub, URI);
        let (claims, decoded) = token.into_parts();
        assert_eq!(decoded, list());
        assert_eq!(claims.ttl, NonZeroU64::new(300));
    }

    #[test]
    fn wrong_typ_is_rejected() {
        for typ in [
            None,
            Some("JWT"),
            Some("application/statuslist+jwt"),
            Some("Statuslist+JWT"),
        ] {
            let err = validate(typ, &payload(&claims())).unwrap_err();
            assert!(
                matches!(&err, ValidationError::WrongType { found } if found.as_deref() == typ),
                "{typ:?}: {err}"
            );
        }
    }

    #[test]
    fn non_object_payload_is_rejected() {
        for payload in [&b"[1,2]"[..], b"not json", b"\"sub\""] {
            assert!(matches!(
                validate(Some("statuslist+jwt"), payload),
                Err(ValidationError::Payload(_))
            ));
        }
    }

    #[test]
    fn missing_iat_is_rejected() {
        let mut value = serde_json::to_value(claims()).unwrap();
        value.as_object_mut().unwrap().remove("iat");
        let err = validate(Some("statuslist+jwt"), value.to_string().as_bytes()).unwrap_err();
        assert!(
            matches!(err, ValidationError::Claims(ClaimsError::Missing("iat"))),
            "{err}"
        );
    }

    #[test]
    fn malformed_claim_is_rejected() {
        let mut value = serde_json::to_value(claims()).unwrap();
        value["ttl"] = json!(0);
        let err = validate(Some("statuslist+jwt"), value.to_string().as_bytes()).unwrap_err();
        assert!(
            matches!(
                err,
                ValidationError::Claims(ClaimsError::Invalid { claim: "ttl", .. })
            ),
            "{err}"
        );
    }

    #[test]
    fn sub_mismatch_is_rejected() {
        let mut other = claims();
        other.sub = "https://issuer.example/statuslists/8".to_owned();
        let err = validate(Some("statuslist+jwt"), &payload(&other)).unwrap_err();
        assert!(
            matches!(&err, ValidationError::SubjectMismatch { expected, found }
                if expected == URI && found.ends_with("/8")),
            "{err}"
        );
    }

    #[test]
    fn expired_is_rejected() {
        for exp in [NOW, NOW - 1] {
            let mut expired = claims();
            expired.exp = Some(exp);
            let err = validate(Some("statuslist+jwt"), &payload(&expired)).unwrap_err();
            assert!(
                matches!(err, ValidationError::Expired { exp: e, now: NOW } if e == exp),
                "{err}"
            );
        }
        let mut fresh = claims();
        fresh.exp = Some(NOW + 1);
        assert!(validate(Some("statuslist+jwt"), &payload(&fresh)).is_ok());
        fresh.exp = None;
        assert!(validate(Some("statuslist+jwt"), &payload(&fresh)).is_ok());
    }

    #[test]
    fn not_yet_valid_is_rejected() {
        let mut early = claims();
        early.nbf = Some(NOW + 1);
        let err = validate(Some("statuslist+jwt"), &payload(&early)).unwrap_err();
        assert!(
            matches!(err, ValidationError::NotYetValid { nbf, now: NOW } if nbf == NOW + 1),
            "{err}"
        );
        early.nbf = Some(NOW);
        assert!(validate(Some("statuslist+jwt"), &payload(&early)).is_ok());
    }

    #[test]
    fn undecodable_list_is_rejected() {
        let mut broken = claims();
        broken.status_list.lst = "not*base64".to_owned();
        assert!(matches!(
            validate(Some("statuslist+jwt"), &payload(&broken)),
            Err(ValidationError::List(DecodeError::Base64(_)))
        ));
        let bomb = StatusList::new(Bits::One, 8 * 1024 * 1024);
        let mut big = claims();
        big.status_list = StatusListClaim::from(&bomb);
        let small = DecodeLimits {
            max_decompressed_bytes: 1024,
        };
        assert!(matches!(
            StatusListToken::validate(Some("statuslist+jwt"), &payload(&big), URI, NOW, small),
            Err(ValidationError::List(DecodeError::TooLarge { limit: 1024 }))
        ));
    }

    #[test]
    fn sign_then_verify() {
        let key = SigningKey::generate().unwrap();
        let jws = StatusListToken::sign(&claims(), &key, Some("k1")).unwrap();
        let parsed = CompactJws::parse(&jws).unwrap();
        assert_eq!(parsed.header.typ.as_deref(), Some("statuslist+jwt"));
        assert_eq!(parsed.header.kid.as_deref(), Some("k1"));
        let token =
            StatusListToken::verify(&jws, &key.public_jwk(), URI, NOW, DecodeLimits::default())
                .unwrap();
        assert_eq!(token.list(), &list());
        assert_eq!(token.claims(), &claims());
        let without_kid = StatusListToken::sign(&claims(), &key, None).unwrap();
        assert_eq!(CompactJws::parse(&without_kid).unwrap().header.kid, None);
    }

    #[test]
    fn verify_rejects_a_malformed_jws() {
        let key = SigningKey::generate().unwrap();
        for jws in ["", "a.b", "a.b.c.d", "!!.e30.AA"] {
            assert!(
                matches!(
                    StatusListToken::verify(
                        jws,
                        &key.public_jwk(),
                        URI,
                        NOW,
                        DecodeLimits::default()
                    ),
                    Err(VerifyError::Jws(_))
                ),
                "{jws}"
            );
        }
    }

    #[test]
    fn verify_rejects_another_key() {
        let key = SigningKey::generate().unwrap();
        let other = SigningKey::generate().unwrap();
        let jws = StatusListToken::sign(&claims(), &key, None).unwrap();
        assert!(matches!(
            StatusListToken::verify(&jws, &other.public_jwk(), URI, NOW, DecodeLimits::default()),
            Err(VerifyError::Signature(JoseError::InvalidSignature))
        ));
    }

    #[test]
    fn verify_rejects_a_tampered_payload() {
        let key = SigningKey::generate().unwrap();
        let jws = StatusListToken::sign(&claims(), &key, None).unwrap();
        let mut parts: Vec<&str> = jws.split('.').collect();
        let mut revived = claims();
        revived.status_list = StatusListClaim::from(&StatusList::new(Bits::Two, 64));
        let forged = b64url_encode(payload(&revived));
        parts[1] = &forged;
        assert!(matches!(
            StatusListToken::verify(
                &parts.join("."),
                &key.public_jwk(),
                URI,
                NOW,
                DecodeLimits::default()
            ),
            Err(VerifyError::Signature(JoseError::InvalidSignature))
        ));
    }

    #[test]
    fn verify_checks_claims_after_the_signature() {
        let key = SigningKey::generate().unwrap();
        let jws = StatusListToken::sign(&claims(), &key, None).unwrap();
        assert!(matches!(
            StatusListToken::verify(
                &jws,
                &key.public_jwk(),
                URI,
                NOW + 7200,
                DecodeLimits::default()
            ),
            Err(VerifyError::Invalid(ValidationError::Expired { .. }))
        ));
    }
}
