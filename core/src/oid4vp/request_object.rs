//! Signed Request Object — OpenID4VP 1.0 §5 (JAR, RFC 9101), §5.8 (`aud`)
//! and §5.10.1 (Request URI Response), under HAIP 1.0 (ES256, `x5c`).
//!
//! <https://openid.net/specs/openid-4-verifiable-presentations-1_0.html#name-authorization-request>
//!
//! The header carries `typ: oauth-authz-req+jwt`, `alg: ES256` and the
//! Verifier's certificate chain in `x5c`. The claims are the request
//! parameters plus `aud` (`https://self-issued.me/v2` under static
//! discovery), `iat` and `exp`. An `iss` claim is ignored, as §5 requires.
//!
//! Verification is staged: [`UnverifiedRequestObject::parse`] reads the
//! header (so the caller can take the key from `x5c`), then
//! [`UnverifiedRequestObject::verify`] checks the signature with the key the
//! caller passes in, the claims, and the request. Extracting the key from
//! the leaf certificate and validating the chain to a trusted root is the
//! job of the `trust` module: this one takes the key as given.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::client_id::{ClientId, ClientIdPrefix, x509_hash_of};
use super::request::{AuthorizationRequest, RequestError, RequestSigning};
use crate::jose::{Algorithm, CompactJws, Header, JoseError, Signer, VerifyingKey, sign_compact};

/// The `typ` of a Request Object (RFC 9101 §10.8).
pub const REQUEST_OBJECT_TYP: &str = "oauth-authz-req+jwt";
/// The `aud` of a Request Object under static discovery (§5.8).
pub const SELF_ISSUED_AUDIENCE: &str = "https://self-issued.me/v2";
/// Clock skew tolerated on `exp`, `iat` and `nbf`, in seconds.
pub const CLOCK_SKEW_SECONDS: i64 = 60;

/// Why a Request Object could not be produced or was refused.
#[derive(Debug, thiserror::Error)]
pub enum RequestObjectError {
    /// The JWS is malformed, has an `alg` outside ES256/EdDSA or a `crit`,
    /// the key does not fit, or the signature does not verify.
    #[error("request object JWS: {0}")]
    Jose(#[from] JoseError),
    /// The header has no `typ`; §5 forbids processing it.
    #[error("the request object has no typ header")]
    MissingTyp,
    /// The header's `typ` is not `oauth-authz-req+jwt`.
    #[error("the request object typ is `{0}`, not oauth-authz-req+jwt")]
    WrongTyp(String),
    /// An `x509_*` client sent no `x5c` chain.
    #[error("client_id prefix {0} needs an x5c header")]
    MissingX5c(ClientIdPrefix),
    /// The first `x5c` entry is not standard base64 (RFC 7515 §4.1.6).
    #[error("the x5c leaf certificate is not base64")]
    InvalidX5c,
    /// The SHA-256 hash of the leaf certificate differs from the
    /// `x509_hash:` client identifier (§5.9.3), or the client is not an
    /// `x509_hash:` client.
    #[error("client_id `{client_id}` does not match the leaf certificate hash `{leaf_hash}`")]
    X509HashMismatch {
        /// The client identifier.
        client_id: String,
        /// The base64url SHA-256 of the leaf certificate.
        leaf_hash: String,
    },
    /// The payload is not a JSON object.
    #[error("the request object claims are not a JSON object: {0}")]
    Claims(#[source] serde_json::Error),
    /// A time claim (`exp`, `iat`, `nbf`) is not an integer.
    #[error("claim `{0}` is not an integer")]
    InvalidTimeClaim(&'static str),
    /// There is no `exp`; we require Request Objects to expire.
    #[error("the request object has no exp")]
    MissingExp,
    /// `exp` has passed.
    #[error("the request object expired at {exp} (now {now})")]
    Expired {
        /// `exp`.
        exp: i64,
        /// The time given.
        now: i64,
    },
    /// `iat` lies in the future.
    #[error("the request object is issued in the future ({iat}, now {now})")]
    IssuedInFuture {
        /// `iat`.
        iat: i64,
        /// The time given.
        now: i64,
    },
    /// `nbf` lies in the future.
    #[error("the request object is not valid before {nbf} (now {now})")]
    NotYetValid {
        /// `nbf`.
        nbf: i64,
        /// The time given.
        now: i64,
    },
    /// There is no `aud`.
    #[error("the request object has no aud")]
    MissingAudience,
    /// `aud` is not (and does not contain) `https://self-issued.me/v2`.
    #[error("the request object aud is {0}, not https://self-issued.me/v2")]
    WrongAudience(String),
    /// The Request Object's `client_id` differs from the one in the
    /// invocation URI (§5.10.1), or is absent.
    #[error("request object client_id {found:?} differs from `{expected}`")]
    ClientIdMismatch {
        /// The `client_id` of the invocation URI.
        expected: String,
        /// The `client_id` claim, if any.
        found: Option<String>,
    },
    /// The Wallet sent a `wallet_nonce` and the Request Object does not
    /// echo it (§5.10.1).
    #[error("request object wallet_nonce {found:?} differs from the one sent")]
    WalletNonceMismatch {
        /// The `wallet_nonce` claim, if any.
        found: Option<String>,
    },
    /// The parameters break a rule of §5.
    #[error("invalid authorization request: {0}")]
    Request(#[from] RequestError),
}

/// Signs `request` as a Request Object: header `typ: oauth-authz-req+jwt`,
/// `alg: ES256`, `x5c` (if non-empty, leaf first, standard base64 DER);
/// claims = the parameters plus `aud: https://self-issued.me/v2`, `iat`,
/// `exp`. The request is validated as signed first.
pub fn sign_request_object(
    request: &AuthorizationRequest,
    key: &(impl Signer + ?Sized),
    x5c: Vec<String>,
    iat: i64,
    exp: i64,
) -> Result<String, RequestObjectError> {
    request.validate(RequestSigning::Signed)?;
    let mut claims = request.to_object();
    claims.insert("aud".into(), SELF_ISSUED_AUDIENCE.into());
    claims.insert("iat".into(), iat.into());
    claims.insert("exp".into(), exp.into());
    let mut header = Header::new(Algorithm::ES256).typ(REQUEST_OBJECT_TYP);
    if !x5c.is_empty() {
        header.x5c = Some(x5c);
    }
    let payload = serde_json::to_vec(&claims).map_err(RequestObjectError::Claims)?;
    Ok(sign_compact(&header, &payload, key)?)
}

/// Checks that `leaf_der` hashes to the value of an `x509_hash:` client
/// identifier (§5.9.3).
pub fn check_x509_hash(client_id: &ClientId, leaf_der: &[u8]) -> Result<(), RequestObjectError> {
    let leaf_hash = x509_hash_of(leaf_der);
    if client_id.prefix() == ClientIdPrefix::X509Hash && client_id.original() == leaf_hash {
        return Ok(());
    }
    Err(RequestObjectError::X509HashMismatch {
        client_id: client_id.to_string(),
        leaf_hash,
    })
}

/// A Request Object whose header was read (closed `alg` set, no `crit`,
/// the right `typ`) but whose signature and claims are not yet checked.
#[derive(Debug, Clone)]
pub struct UnverifiedRequestObject {
    jws: CompactJws,
}

impl UnverifiedRequestObject {
    /// Splits the compact JWS and checks its header.
    pub fn parse(jwt: &str) -> Result<Self, RequestObjectError> {
        let jws = CompactJws::parse(jwt)?;
        let typ = jws
            .header
            .typ
            .as_deref()
            .ok_or(RequestObjectError::MissingTyp)?;
        // RFC 7515 §4.1.9: media types compare case-insensitively, and the
        // `application/` prefix may be left out.
        let bare = typ
            .get(..12)
            .filter(|p| p.eq_ignore_ascii_case("application/"))
            .map_or(typ, |_| &typ[12..]);
        if !bare.eq_ignore_ascii_case(REQUEST_OBJECT_TYP) {
            return Err(RequestObjectError::WrongTyp(typ.to_owned()));
        }
        Ok(Self { jws })
    }

    /// The protected header.
    pub fn header(&self) -> &Header {
        &self.jws.header
    }

    /// The DER bytes of the leaf certificate (`x5c[0]`), if there is a chain.
    pub fn leaf_certificate(&self) -> Result<Option<Vec<u8>>, RequestObjectError> {
        let Some(leaf) = self.jws.header.x5c.as_ref().and_then(|chain| chain.first()) else {
            return Ok(None);
        };
        STANDARD
            .decode(leaf)
            .map(Some)
            .map_err(|_| RequestObjectError::InvalidX5c)
    }

    /// Verifies the Request Object for the `client_id` of the invocation
    /// URI: `x5c` present for `x509_*` clients and hashing to an
    /// `x509_hash:` value, the signature with `key` (taken by the caller
    /// from the validated `x5c` leaf or other trusted source), `exp`,
    /// `iat`, `nbf` and `aud`, the same `client_id`, the `wallet_nonce` the
    /// Wallet sent (if any), and finally the request itself, as signed.
    pub fn verify(
        self,
        key: &VerifyingKey,
        client_id: &ClientId,
        wallet_nonce: Option<&str>,
        now: i64,
    ) -> Result<(Header, AuthorizationRequest), RequestObjectError> {
        let prefix = client_id.prefix();
        if matches!(
            prefix,
            ClientIdPrefix::X509Hash | ClientIdPrefix::X509SanDns
        ) {
            let leaf = self
                .leaf_certificate()?
                .ok_or(RequestObjectError::MissingX5c(prefix))?;
            if prefix == ClientIdPrefix::X509Hash {
                check_x509_hash(client_id, &leaf)?;
            }
        }
        self.jws.verify_with(key)?;
        let mut claims: Map<String, Value> = self
            .jws
            .payload_json()
            .map_err(RequestObjectError::Claims)?;
        check_times(&claims, now)?;
        check_audience(claims.get("aud"))?;
        for claim in ["iss", "aud", "exp", "iat", "nbf", "jti"] {
            claims.remove(claim);
        }
        let found = claims.get("client_id").and_then(Value::as_str);
        if found != Some(client_id.as_str()) {
            return Err(RequestObjectError::ClientIdMismatch {
                expected: client_id.to_string(),
                found: found.map(str::to_owned),
            });
        }
        if let Some(sent) = wallet_nonce {
            let found = claims.get("wallet_nonce").and_then(Value::as_str);
            if found != Some(sent) {
                return Err(RequestObjectError::WalletNonceMismatch {
                    found: found.map(str::to_owned),
                });
            }
        }
        let request = AuthorizationRequest::from_object(claims)?;
        request.validate(RequestSigning::Signed)?;
        Ok((self.jws.header, request))
    }
}

/// Parses and verifies a Request Object in one step, for a Wallet that
/// sent no `wallet_nonce`. See [`UnverifiedRequestObject::verify`].
pub fn parse_request_object(
    jwt: &str,
    client_id: &ClientId,
    key: &VerifyingKey,
    now: i64,
) -> Result<(Header, AuthorizationRequest), RequestObjectError> {
    UnverifiedRequestObject::parse(jwt)?.verify(key, client_id, None, now)
}

fn time_claim(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<i64>, RequestObjectError> {
    claims
        .get(name)
        .map(|value| {
            value
                .as_i64()
                .ok_or(RequestObjectError::InvalidTimeClaim(name))
        })
        .transpose()
}

fn check_times(claims: &Map<String, Value>, now: i64) -> Result<(), RequestObjectError> {
    let exp = time_claim(claims, "exp")?.ok_or(RequestObjectError::MissingExp)?;
    if now > exp.saturating_add(CLOCK_SKEW_SECONDS) {
        return Err(RequestObjectError::Expired { exp, now });
    }
    if let Some(iat) = time_claim(claims, "iat")?
        && iat > now.saturating_add(CLOCK_SKEW_SECONDS)
    {
        return Err(RequestObjectError::IssuedInFuture { iat, now });
    }
    if let Some(nbf) = time_claim(claims, "nbf")?
        && nbf > now.saturating_add(CLOCK_SKEW_SECONDS)
    {
        return Err(RequestObjectError::NotYetValid { nbf, now });
    }
    Ok(())
}

fn check_audience(aud: Option<&Value>) -> Result<(), RequestObjectError> {
    match aud {
        None => Err(RequestObjectError::MissingAudience),
        Some(Value::String(aud)) if aud == SELF_ISSUED_AUDIENCE => Ok(()),
        Some(Value::Array(auds)) if auds.iter().any(|a| a == SELF_ISSUED_AUDIENCE) => Ok(()),
        Some(other) => Err(RequestObjectError::WrongAudience(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dcql::ValidatedQuery;
    use crate::jose::{SigningKey, b64url_encode};
    use crate::oid4vp::request::{Nonce, ResponseMode};

    const NOW: i64 = 1_700_000_000;
    const LEAF: &[u8] = b"not really DER, but hashed all the same";

    fn request(client_id: &ClientId) -> AuthorizationRequest {
        let query = ValidatedQuery::from_json(
            r#"{"credentials":[{"id":"reg","format":"dc+sd-jwt","meta":{"vct_values":["https://example.com/reg"]}}]}"#,
        )
        .unwrap();
        let mut request =
            AuthorizationRequest::new(client_id.clone(), "n-1".parse::<Nonce>().unwrap(), query);
        request.response_mode = Some(ResponseMode::DirectPost);
        request.response_uri = Some("https://verifier.example/post".into());
        request
    }

    fn signed(key: &SigningKey) -> (ClientId, String) {
        let client_id = ClientId::x509_hash(LEAF);
        let jwt = sign_request_object(
            &request(&client_id),
            key,
            vec![STANDARD.encode(LEAF)],
            NOW,
            NOW + 300,
        )
        .unwrap();
        (client_id, jwt)
    }

    fn forge(header: Value, claims: Value, key: &SigningKey) -> String {
        let header: Header = serde_json::from_value(header).unwrap();
        sign_compact(&header, claims.to_string().as_bytes(), key).unwrap()
    }

    fn header(x5c: bool) -> Value {
        let mut h = serde_json::json!({"alg": "ES256", "typ": REQUEST_OBJECT_TYP});
        if x5c {
            h["x5c"] = serde_json::json!([STANDARD.encode(LEAF)]);
        }
        h
    }

    fn claims(client_id: &ClientId) -> Value {
        let mut c = Value::Object(request(client_id).to_object());
        c["aud"] = SELF_ISSUED_AUDIENCE.into();
        c["iat"] = NOW.into();
        c["exp"] = (NOW + 300).into();
        c
    }

    fn verify_forged(
        edit: impl FnOnce(&mut Value, &mut Value),
    ) -> Result<(Header, AuthorizationRequest), RequestObjectError> {
        let key = SigningKey::generate().unwrap();
        let client_id = ClientId::x509_hash(LEAF);
        let (mut h, mut c) = (header(true), claims(&client_id));
        edit(&mut h, &mut c);
        let jwt = forge(h, c, &key);
        let public = VerifyingKey::from_jwk(&key.public_jwk()).unwrap();
        UnverifiedRequestObject::parse(&jwt)?.verify(&public, &client_id, Some("wn-1"), NOW)
    }

    #[test]
    fn sign_then_verify() {
        let key = SigningKey::generate().unwrap();
        let (client_id, jwt) = signed(&key);
        let public = VerifyingKey::from_jwk(&key.public_jwk()).unwrap();
        let (header, parsed) = parse_request_object(&jwt, &client_id, &public, NOW).unwrap();
        assert_eq!(header.typ.as_deref(), Some(REQUEST_OBJECT_TYP));
        assert_eq!(header.alg, Algorithm::ES256);
        assert_eq!(parsed, request(&client_id));
        let unverified = UnverifiedRequestObject::parse(&jwt).unwrap();
        assert_eq!(unverified.leaf_certificate().unwrap().unwrap(), LEAF);
        check_x509_hash(&client_id, LEAF).unwrap();
    }

    #[test]
    fn signing_validates_the_request() {
        let key = SigningKey::generate().unwrap();
        let client_id: ClientId = "redirect_uri:https://verifier.example/post"
            .parse()
            .unwrap();
        assert!(matches!(
            sign_request_object(&request(&client_id), &key, vec![], NOW, NOW + 1),
            Err(RequestObjectError::Request(
                RequestError::SignedRedirectUriClient
            ))
        ));
    }

    #[test]
    fn wrong_key_is_refused() {
        let key = SigningKey::generate().unwrap();
        let (client_id, jwt) = signed(&key);
        let other = SigningKey::generate().unwrap();
        let other = VerifyingKey::from_jwk(&other.public_jwk()).unwrap();
        assert!(matches!(
            parse_request_object(&jwt, &client_id, &other, NOW),
            Err(RequestObjectError::Jose(JoseError::InvalidSignature))
        ));
    }

    #[test]
    fn header_errors() {
        let key = SigningKey::generate().unwrap();
        let claims = claims(&ClientId::x509_hash(LEAF));
        let mut no_typ = header(true);
        no_typ.as_object_mut().unwrap().remove("typ");
        assert!(matches!(
            UnverifiedRequestObject::parse(&forge(no_typ, claims.clone(), &key)),
            Err(RequestObjectError::MissingTyp)
        ));
        let mut jwt_typ = header(true);
        jwt_typ["typ"] = "JWT".into();
        assert!(matches!(
            UnverifiedRequestObject::parse(&forge(jwt_typ, claims.clone(), &key)),
            Err(RequestObjectError::WrongTyp(t)) if t == "JWT"
        ));
        let mut long_typ = header(true);
        long_typ["typ"] = "Application/OAuth-Authz-Req+JWT".into();
        UnverifiedRequestObject::parse(&forge(long_typ, claims.clone(), &key)).unwrap();
        let none = format!(
            "{}.{}.",
            b64url_encode(r#"{"alg":"none","typ":"oauth-authz-req+jwt"}"#),
            b64url_encode(claims.to_string())
        );
        assert!(matches!(
            UnverifiedRequestObject::parse(&none),
            Err(RequestObjectError::Jose(JoseError::UnsupportedAlg(a))) if a == "none"
        ));
    }

    #[test]
    fn x5c_errors() {
        assert!(matches!(
            verify_forged(|h, _| {
                h.as_object_mut().unwrap().remove("x5c");
            }),
            Err(RequestObjectError::MissingX5c(ClientIdPrefix::X509Hash))
        ));
        assert!(matches!(
            verify_forged(|h, _| h["x5c"] = serde_json::json!(["***"])),
            Err(RequestObjectError::InvalidX5c)
        ));
        assert!(matches!(
            verify_forged(|h, _| h["x5c"] = serde_json::json!([STANDARD.encode(b"other")])),
            Err(RequestObjectError::X509HashMismatch { .. })
        ));
        let san: ClientId = "x509_san_dns:verifier.example".parse().unwrap();
        assert!(matches!(
            check_x509_hash(&san, LEAF),
            Err(RequestObjectError::X509HashMismatch { .. })
        ));
    }

    #[test]
    fn claim_errors() {
        let check = |edit: fn(&mut Value)| {
            verify_forged(|_, c| {
                c["wallet_nonce"] = "wn-1".into();
                edit(c)
            })
        };
        check(|_| {}).unwrap();
        assert!(matches!(
            verify_forged(|h, _| h["typ"] = REQUEST_OBJECT_TYP.into()),
            Err(RequestObjectError::WalletNonceMismatch { found: None })
        ));
        let key = SigningKey::generate().unwrap();
        let client_id = ClientId::x509_hash(LEAF);
        let raw =
            crate::jose::sign_compact(&serde_json::from_value(header(true)).unwrap(), b"[1]", &key)
                .unwrap();
        let public = VerifyingKey::from_jwk(&key.public_jwk()).unwrap();
        assert!(matches!(
            parse_request_object(&raw, &client_id, &public, NOW),
            Err(RequestObjectError::Claims(_))
        ));
        assert!(matches!(
            check(|c| c["exp"] = "soon".into()),
            Err(RequestObjectError::InvalidTimeClaim("exp"))
        ));
        assert!(matches!(
            check(|c| {
                c.as_object_mut().unwrap().remove("exp");
            }),
            Err(RequestObjectError::MissingExp)
        ));
        assert!(matches!(
            check(|c| c["exp"] = (NOW - 61).into()),
            Err(RequestObjectError::Expired { .. })
        ));
        check(|c| c["exp"] = (NOW - 59).into()).unwrap();
        assert!(matches!(
            check(|c| c["iat"] = (NOW + 3600).into()),
            Err(RequestObjectError::IssuedInFuture { .. })
        ));
        assert!(matches!(
            check(|c| c["nbf"] = (NOW + 3600).into()),
            Err(RequestObjectError::NotYetValid { .. })
        ));
        assert!(matches!(
            check(|c| {
                c.as_object_mut().unwrap().remove("aud");
            }),
            Err(RequestObjectError::MissingAudience)
        ));
        assert!(matches!(
            check(|c| c["aud"] = "https://wallet.example".into()),
            Err(RequestObjectError::WrongAudience(_))
        ));
        check(|c| c["aud"] = serde_json::json!(["x", SELF_ISSUED_AUDIENCE])).unwrap();
        assert!(matches!(
            check(|c| c["client_id"] = "x509_san_dns:other.example".into()),
            Err(RequestObjectError::ClientIdMismatch { .. })
        ));
        assert!(matches!(
            check(|c| c["wallet_nonce"] = "replayed".into()),
            Err(RequestObjectError::WalletNonceMismatch { found: Some(_) })
        ));
        assert!(matches!(
            check(|c| {
                c.as_object_mut().unwrap().remove("nonce");
            }),
            Err(RequestObjectError::Request(RequestError::MissingParameter(
                "nonce"
            )))
        ));
        // iss is ignored (§5), whatever it says.
        check(|c| c["iss"] = "anyone".into()).unwrap();
    }
}
