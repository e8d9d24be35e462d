//! DPoP proofs — RFC 9449 §4 (proof JWT and its checks), §6 (`cnf.jkt`),
//! §8 (server nonces).
//!
//! <https://www.rfc-editor.org/rfc/rfc9449.html#section-4>
//!
//! A client makes a proof per request with [`create_proof`]: a JWT with
//! `typ: dpop+jwt`, ES256 (HAIP 1.0 allows no other), its public key in the
//! `jwk` header, and the claims `jti`, `htm`, `htu`, `iat`, plus `ath`
//! when it presents an access token and `nonce` when the server gave one.
//!
//! A server checks it with [`verify_proof`], which performs every check of
//! §4.3 that needs no state: the caller supplies the method, the request
//! URI, the clock, what it expects of `nonce`, and the access token if one
//! was presented. What comes back ([`VerifiedDpop`]) carries the key's
//! RFC 7638 thumbprint (`jkt`, to bind a token to or compare with a
//! token's `cnf.jkt`) and the `jti`, which the caller must record as used
//! for the proof's lifetime (§11.1): only it has a store.
//!
//! [`ServerNonces`] makes and checks stateless server nonces: an HMAC over
//! a time window under a secret that every instance shares, so any
//! instance accepts a nonce another instance issued, and nonces rotate as
//! the window moves on.

use aws_lc_rs::hmac;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::jose::{
    Algorithm, CompactJws, Header, JoseError, Jwk, SigningKey, b64url_decode, b64url_encode,
    sign_compact, thumbprint,
};

/// The `typ` of a DPoP proof JWT (§4.2).
pub const DPOP_TYP: &str = "dpop+jwt";

/// The only `alg` we make or accept (HAIP 1.0: ES256 everywhere).
pub const DPOP_ALG: Algorithm = Algorithm::ES256;

/// The longest `jti` we accept: a replay cache keyed by it stays small.
pub const MAX_JTI_LEN: usize = 256;

/// The claims of a DPoP proof (§4.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DpopClaims {
    /// `jti`: a unique identifier of this proof.
    pub jti: String,
    /// `htm`: the HTTP method of the request.
    pub htm: String,
    /// `htu`: the HTTP target URI, without query and fragment.
    pub htu: String,
    /// `iat`: when the proof was made, seconds since the epoch.
    pub iat: i64,
    /// `ath`: base64url(SHA-256(access token)), when one is presented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ath: Option<String>,
    /// `nonce`: the last `DPoP-Nonce` the server gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

/// What a client puts in one proof.
#[derive(Debug, Clone, Copy)]
pub struct ProofRequest<'a> {
    /// The HTTP method, e.g. `POST`.
    pub method: &'a str,
    /// The request URI; query and fragment are dropped from `htu`.
    pub uri: &'a str,
    /// Seconds since the epoch.
    pub iat: i64,
    /// The server's last `DPoP-Nonce`, if it gave one.
    pub nonce: Option<&'a str>,
    /// The access token the request presents, hashed into `ath`.
    pub access_token: Option<&'a str>,
}

/// Signs a DPoP proof with `key` (whose public JWK goes in the header) for
/// one request. `jti` is 16 random bytes.
pub fn create_proof(key: &SigningKey, request: &ProofRequest<'_>) -> Result<String, DpopError> {
    let htu = normalize_htu(request.uri)?;
    let mut jti = [0u8; 16];
    aws_lc_rs::rand::fill(&mut jti).map_err(|_| DpopError::Signing(JoseError::Signing))?;
    let claims = DpopClaims {
        jti: b64url_encode(jti),
        htm: request.method.to_owned(),
        htu,
        iat: request.iat,
        ath: request.access_token.map(access_token_hash),
        nonce: request.nonce.map(str::to_owned),
    };
    let mut header = Header::new(DPOP_ALG).typ(DPOP_TYP);
    header.jwk = Some(key.public_jwk());
    let payload =
        serde_json::to_vec(&claims).map_err(|_| DpopError::Signing(JoseError::Signing))?;
    sign_compact(&header, &payload, key).map_err(DpopError::Signing)
}

/// `ath`: base64url(SHA-256(ASCII access token)) (§4.2).
pub fn access_token_hash(access_token: &str) -> String {
    b64url_encode(Sha256::digest(access_token.as_bytes()))
}

/// The RFC 7638 SHA-256 thumbprint of a public key, as `cnf.jkt` carries it
/// (§6.1).
pub fn jwk_thumbprint(jwk: &Jwk) -> Result<String, JoseError> {
    thumbprint(jwk)
}

/// Normalizes a URI for `htu` comparison (§4.3 check 9, RFC 3986 §6.2.2 and
/// §6.2.3): scheme and host lowercased, the scheme's default port dropped,
/// dot segments removed, an empty path made `/`; query and fragment cut.
pub fn normalize_htu(uri: &str) -> Result<String, DpopError> {
    let mut url = url::Url::parse(uri).map_err(|_| DpopError::InvalidHtu(uri.to_owned()))?;
    if !matches!(url.scheme(), "https" | "http") || url.host().is_none() {
        return Err(DpopError::InvalidHtu(uri.to_owned()));
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url.to_string())
}

/// What `nonce` the server expects in a proof (§8).
#[derive(Clone, Copy)]
pub enum NonceCheck<'a> {
    /// The server demands no nonce; one present is ignored.
    NotRequired,
    /// The proof must carry exactly this nonce.
    Expected(&'a str),
    /// The proof must carry a nonce this function accepts (e.g.
    /// [`ServerNonces::accepts`] at the current time).
    Accepted(&'a dyn Fn(&str) -> bool),
}

impl std::fmt::Debug for NonceCheck<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotRequired => f.write_str("NotRequired"),
            Self::Expected(nonce) => f.debug_tuple("Expected").field(nonce).finish(),
            Self::Accepted(_) => f.write_str("Accepted(..)"),
        }
    }
}

/// What the server expects of a proof for one request.
#[derive(Debug, Clone, Copy)]
pub struct ProofExpectations<'a> {
    /// The request's HTTP method.
    pub method: &'a str,
    /// The request's URI as the server is reached (its public base plus path).
    pub uri: &'a str,
    /// The server's clock, seconds since the epoch.
    pub now: i64,
    /// How old `iat` may be, in seconds.
    pub max_age: i64,
    /// Allowed clock skew, in seconds, on both sides of the window.
    pub leeway: i64,
    /// The nonce rule.
    pub nonce: NonceCheck<'a>,
    /// The access token presented with the request, if any; `ath` must then
    /// be its hash (§4.3 check 12).
    pub access_token: Option<&'a str>,
}

/// A proof that passed every stateless check of §4.3.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedDpop {
    /// The proof's public key.
    pub jwk: Jwk,
    /// Its RFC 7638 thumbprint (`cnf.jkt`).
    pub jkt: String,
    /// `jti`: the caller records it as used until `iat + max_age + leeway`.
    pub jti: String,
    /// `iat`.
    pub iat: i64,
}

impl VerifiedDpop {
    /// §4.3 check 13 (and §7.1): the presented token is bound to this
    /// proof's key, i.e. its `cnf.jkt` is `jkt`.
    pub fn require_key(&self, bound_jkt: &str) -> Result<(), DpopError> {
        if self.jkt == bound_jkt {
            Ok(())
        } else {
            Err(DpopError::KeyNotBound)
        }
    }
}

/// Why a DPoP proof was refused: one variant per check of RFC 9449 §4.3,
/// §7 and §8. [`DpopError::code`] gives the wire error code.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DpopError {
    /// The request has no `DPoP` header but needs one.
    #[error("the request has no DPoP proof")]
    Missing,
    /// The request has more than one `DPoP` header (§4.3 check 1).
    #[error("the request has more than one DPoP header")]
    Multiple,
    /// Not a compact JWS with a JSON header (§4.3 check 2).
    #[error("the DPoP proof is not a compact JWS: {0}")]
    Malformed(#[source] JoseError),
    /// `typ` is not `dpop+jwt` (§4.3 check 4).
    #[error("DPoP proof typ must be `dpop+jwt`, not {0:?}")]
    WrongTyp(Option<String>),
    /// `alg` is not ES256 (§4.3 check 5; HAIP 1.0 allows ES256 only).
    #[error("DPoP proof alg `{0}` is not accepted: only ES256 is")]
    UnsupportedAlg(String),
    /// The header carries `crit`.
    #[error("the DPoP proof header has an unknown critical parameter `{0}`")]
    UnknownCrit(String),
    /// The header has no `jwk` (§4.2).
    #[error("the DPoP proof header has no jwk")]
    MissingJwk,
    /// The header `jwk` holds private key material (§4.3 check 7).
    #[error("the DPoP proof's jwk header contains a private key")]
    PrivateKey,
    /// The header `jwk` is not a usable P-256 public key.
    #[error("the DPoP proof's jwk is not usable: {0}")]
    UnusableKey(#[source] JoseError),
    /// The signature does not verify with the header key (§4.3 check 6).
    #[error("the DPoP proof signature does not verify")]
    BadSignature,
    /// The payload is not a JSON object with the required claims of the
    /// right types (§4.3 check 3).
    #[error("the DPoP proof claims are malformed or incomplete: {0}")]
    MalformedClaims(String),
    /// `jti` is empty or longer than [`MAX_JTI_LEN`].
    #[error("the DPoP proof jti must be 1 to 256 characters")]
    BadJti,
    /// `htm` is not the request's method (§4.3 check 8).
    #[error("DPoP proof htm is `{found}`, the request is `{expected}`")]
    WrongMethod {
        /// The request's method.
        expected: String,
        /// The proof's `htm`.
        found: String,
    },
    /// `htu` is not a URI, or not an http(s) URI with a host.
    #[error("DPoP proof htu `{0}` is not an http(s) URI")]
    InvalidHtu(String),
    /// `htu` is not the request's URI (§4.3 check 9).
    #[error("DPoP proof htu is `{found}`, the request is `{expected}`")]
    WrongUri {
        /// The request's normalized URI.
        expected: String,
        /// The proof's normalized `htu`.
        found: String,
    },
    /// `iat` is later than now plus leeway (§4.3 check 11).
    #[error("the DPoP proof was issued in the future (iat {iat}, now {now})")]
    IssuedInFuture {
        /// The proof's `iat`.
        iat: i64,
        /// The server's clock.
        now: i64,
    },
    /// `iat` is older than the window (§4.3 check 11).
    #[error("the DPoP proof is too old (iat {iat}, now {now}, max age {max_age} s)")]
    TooOld {
        /// The proof's `iat`.
        iat: i64,
        /// The server's clock.
        now: i64,
        /// The allowed age.
        max_age: i64,
    },
    /// The server demands a nonce and the proof has none (§8).
    #[error("the DPoP proof has no nonce; use the DPoP-Nonce the server sent")]
    MissingNonce,
    /// The proof's nonce is not one the server accepts now (§8).
    #[error("the DPoP proof's nonce is unknown or expired; use the DPoP-Nonce the server sent")]
    StaleNonce,
    /// An access token is presented but the proof has no `ath` (§4.3 check 12).
    #[error("the DPoP proof has no ath for the presented access token")]
    MissingAth,
    /// `ath` is not the hash of the presented access token (§4.3 check 12).
    #[error("the DPoP proof's ath does not match the presented access token")]
    WrongAth,
    /// The `jti` was seen before within the window (§11.1).
    #[error("the DPoP proof's jti was already used")]
    Replayed,
    /// The token is bound to another key than the proof's (§4.3 check 13).
    #[error("the access token is bound to another key than the DPoP proof's")]
    KeyNotBound,
    /// Signing a proof failed.
    #[error("the DPoP proof could not be signed: {0}")]
    Signing(#[source] JoseError),
}

impl DpopError {
    /// The wire error code: `use_dpop_nonce` for nonce failures (§8),
    /// `invalid_token` when the token is not bound to the proof's key
    /// (§7.1), `invalid_dpop_proof` otherwise (§5, §7.1).
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingNonce | Self::StaleNonce => "use_dpop_nonce",
            Self::KeyNotBound => "invalid_token",
            _ => "invalid_dpop_proof",
        }
    }
}

/// Verifies a DPoP proof against the request it came with: every check
/// of §4.3 except the `jti` replay check, which is the caller's (it needs
/// a store).
pub fn verify_proof(
    proof: &str,
    expect: &ProofExpectations<'_>,
) -> Result<VerifiedDpop, DpopError> {
    let jws = CompactJws::parse(proof).map_err(|error| match error {
        JoseError::UnsupportedAlg(alg) => DpopError::UnsupportedAlg(alg),
        JoseError::UnknownCrit(name) => DpopError::UnknownCrit(name),
        other => DpopError::Malformed(other),
    })?;
    if jws.header.typ.as_deref() != Some(DPOP_TYP) {
        return Err(DpopError::WrongTyp(jws.header.typ.clone()));
    }
    if jws.header.alg != DPOP_ALG {
        return Err(DpopError::UnsupportedAlg(
            jws.header.alg.as_str().to_owned(),
        ));
    }
    let jwk = jws.header.jwk.clone().ok_or(DpopError::MissingJwk)?;
    if crate::oid4vci::has_private_key(&jwk) {
        return Err(DpopError::PrivateKey);
    }
    jws.verify(&jwk).map_err(|error| match error {
        JoseError::InvalidSignature => DpopError::BadSignature,
        other => DpopError::UnusableKey(other),
    })?;
    let claims: DpopClaims = serde_json::from_slice(&jws.payload)
        .map_err(|error| DpopError::MalformedClaims(error.to_string()))?;
    if claims.jti.is_empty() || claims.jti.len() > MAX_JTI_LEN {
        return Err(DpopError::BadJti);
    }
    if claims.htm != expect.method {
        return Err(DpopError::WrongMethod {
            expected: expect.method.to_owned(),
            found: claims.htm,
        });
    }
    let expected_uri = normalize_htu(expect.uri)?;
    let found_uri = normalize_htu(&claims.htu)?;
    if claims.htu.contains(['?', '#']) || found_uri != expected_uri {
        return Err(DpopError::WrongUri {
            expected: expected_uri,
            found: claims.htu,
        });
    }
    check_nonce(claims.nonce.as_deref(), expect.nonce)?;
    if claims.iat > expect.now.saturating_add(expect.leeway) {
        return Err(DpopError::IssuedInFuture {
            iat: claims.iat,
            now: expect.now,
        });
    }
    if expect.now.saturating_sub(claims.iat) > expect.max_age.saturating_add(expect.leeway) {
        return Err(DpopError::TooOld {
            iat: claims.iat,
            now: expect.now,
            max_age: expect.max_age,
        });
    }
    if let Some(token) = expect.access_token {
        let ath = claims.ath.as_deref().ok_or(DpopError::MissingAth)?;
        if ath != access_token_hash(token) {
            return Err(DpopError::WrongAth);
        }
    }
    let jkt = jwk_thumbprint(&jwk).map_err(DpopError::UnusableKey)?;
    Ok(VerifiedDpop {
        jwk,
        jkt,
        jti: claims.jti,
        iat: claims.iat,
    })
}

fn check_nonce(found: Option<&str>, rule: NonceCheck<'_>) -> Result<(), DpopError> {
    match (rule, found) {
        (NonceCheck::NotRequired, _) => Ok(()),
        (_, None) => Err(DpopError::MissingNonce),
        (NonceCheck::Expected(expected), Some(found)) if found == expected => Ok(()),
        (NonceCheck::Accepted(accepts), Some(found)) if accepts(found) => Ok(()),
        _ => Err(DpopError::StaleNonce),
    }
}

/// Stateless, rotating DPoP server nonces (§8): `base64url(window ||
/// HMAC-SHA256(secret, "dpop-nonce" || window)[..16])`, where `window` is
/// `now / period`. A nonce is accepted in its own window and the next one,
/// so it lives between one and two periods. Instances that share the
/// secret accept each other's nonces.
pub struct ServerNonces {
    key: hmac::Key,
    period: i64,
}

impl std::fmt::Debug for ServerNonces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("ServerNonces")
            .field("period", &self.period)
            .finish_non_exhaustive()
    }
}

const NONCE_LABEL: &[u8] = b"dpop-nonce";
const NONCE_TAG_LEN: usize = 16;

impl ServerNonces {
    /// Nonces under `secret` (at least 32 bytes, random, shared by every
    /// instance) rotating every `period` seconds (at least 1).
    pub fn new(secret: &[u8], period: i64) -> Result<Self, JoseError> {
        if secret.len() < 32 {
            return Err(JoseError::InvalidKey(
                "a DPoP nonce secret must be 32 bytes or more",
            ));
        }
        Ok(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            period: period.max(1),
        })
    }

    fn tag(&self, window: i64) -> [u8; NONCE_TAG_LEN] {
        let mut context = hmac::Context::with_key(&self.key);
        context.update(NONCE_LABEL);
        context.update(&window.to_be_bytes());
        let mut tag = [0u8; NONCE_TAG_LEN];
        tag.copy_from_slice(&context.sign().as_ref()[..NONCE_TAG_LEN]);
        tag
    }

    /// The nonce of the window `now` falls in.
    pub fn current(&self, now: i64) -> String {
        let window = now.div_euclid(self.period);
        let mut bytes = window.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.tag(window));
        b64url_encode(bytes)
    }

    /// Whether `nonce` was made in the current or the previous window.
    pub fn accepts(&self, nonce: &str, now: i64) -> bool {
        let Ok(bytes) = b64url_decode(nonce) else {
            return false;
        };
        let Some((window, tag)) = bytes.split_first_chunk::<8>() else {
            return false;
        };
        let window = i64::from_be_bytes(*window);
        let current = now.div_euclid(self.period);
        (window == current || window == current.saturating_sub(1))
            && aws_lc_rs::constant_time::verify_slices_are_equal(&self.tag(window), tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URI: &str = "https://issuer.example/token";
    const NOW: i64 = 1_700_000_000;

    fn expect<'a>() -> ProofExpectations<'a> {
        ProofExpectations {
            method: "POST",
            uri: URI,
            now: NOW,
            max_age: 300,
            leeway: 30,
            nonce: NonceCheck::NotRequired,
            access_token: None,
        }
    }

    fn request<'a>() -> ProofRequest<'a> {
        ProofRequest {
            method: "POST",
            uri: URI,
            iat: NOW,
            nonce: None,
            access_token: None,
        }
    }

    fn signed(header: &Header, claims: &serde_json::Value, key: &SigningKey) -> String {
        sign_compact(header, claims.to_string().as_bytes(), key).unwrap()
    }

    fn header(key: &SigningKey) -> Header {
        let mut header = Header::new(Algorithm::ES256).typ(DPOP_TYP);
        header.jwk = Some(key.public_jwk());
        header
    }

    fn claims() -> serde_json::Value {
        serde_json::json!({"jti": "j-1", "htm": "POST", "htu": URI, "iat": NOW})
    }

    #[test]
    fn created_proof_verifies_and_gives_thumbprint() {
        let key = SigningKey::generate().unwrap();
        let proof = create_proof(&key, &request()).unwrap();
        let verified = verify_proof(&proof, &expect()).unwrap();
        assert_eq!(verified.jkt, thumbprint(&key.public_jwk()).unwrap());
        assert_eq!(verified.jwk, key.public_jwk());
        assert_eq!(verified.iat, NOW);
        let again = create_proof(&key, &request()).unwrap();
        assert_ne!(verify_proof(&again, &expect()).unwrap().jti, verified.jti);
        let jws = CompactJws::parse(&proof).unwrap();
        assert_eq!(jws.header.typ.as_deref(), Some("dpop+jwt"));
        assert!(!crate::oid4vci::has_private_key(
            jws.header.jwk.as_ref().unwrap()
        ));
    }

    #[test]
    fn rfc9449_7_1_ath_example() {
        // The access token and ath of RFC 9449 §7.1, Figures 12 and 13.
        assert_eq!(
            access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
    }

    #[test]
    fn htu_is_normalized_per_rfc3986() {
        assert_eq!(
            normalize_htu("HTTPS://Issuer.Example:443/a/../token?x=1#f").unwrap(),
            "https://issuer.example/token"
        );
        assert_eq!(
            normalize_htu("http://127.0.0.1:80").unwrap(),
            "http://127.0.0.1/"
        );
        assert_eq!(
            normalize_htu("https://issuer.example:8443/token").unwrap(),
            "https://issuer.example:8443/token"
        );
        for bad in ["urn:x:y", "ftp://issuer.example/", "not a uri"] {
            assert!(
                matches!(normalize_htu(bad), Err(DpopError::InvalidHtu(_))),
                "{bad}"
            );
        }
        let key = SigningKey::generate().unwrap();
        let mut variant = claims();
        variant["htu"] = "HTTPS://ISSUER.example:443/token".into();
        verify_proof(&signed(&header(&key), &variant, &key), &expect()).unwrap();
        let proof = create_proof(&key, &request()).unwrap();
        let mut with_query = expect();
        with_query.uri = "https://issuer.example/token?a=b";
        verify_proof(&proof, &with_query).unwrap();
    }

    #[test]
    fn every_check_has_its_error() {
        let key = SigningKey::generate().unwrap();
        let other = SigningKey::generate().unwrap();
        let check = |proof: &str| verify_proof(proof, &expect());

        assert!(matches!(check("a.b"), Err(DpopError::Malformed(_))));
        let none = format!(
            "{}.{}.",
            b64url_encode(r#"{"alg":"none","typ":"dpop+jwt"}"#),
            b64url_encode("{}")
        );
        assert_eq!(check(&none), Err(DpopError::UnsupportedAlg("none".into())));
        let eddsa = format!(
            "{}.{}.AA",
            b64url_encode(r#"{"alg":"EdDSA","typ":"dpop+jwt"}"#),
            b64url_encode("{}")
        );
        assert_eq!(
            check(&eddsa),
            Err(DpopError::UnsupportedAlg("EdDSA".into()))
        );
        let crit = format!(
            "{}.{}.AA",
            b64url_encode(r#"{"alg":"ES256","crit":["x"]}"#),
            b64url_encode("{}")
        );
        assert_eq!(check(&crit), Err(DpopError::UnknownCrit("x".into())));

        let mut typ = header(&key);
        typ.typ = Some("JWT".into());
        assert_eq!(
            check(&signed(&typ, &claims(), &key)),
            Err(DpopError::WrongTyp(Some("JWT".into())))
        );

        let bare = Header::new(Algorithm::ES256).typ(DPOP_TYP);
        assert_eq!(
            check(&signed(&bare, &claims(), &key)),
            Err(DpopError::MissingJwk)
        );

        let mut private = header(&key);
        private.jwk = Some(key.to_private_jwk().unwrap());
        assert_eq!(
            check(&signed(&private, &claims(), &key)),
            Err(DpopError::PrivateKey)
        );

        assert_eq!(
            check(&signed(&header(&other), &claims(), &key)),
            Err(DpopError::BadSignature)
        );

        let mut okp = header(&key);
        okp.jwk = Some(serde_json::from_str(r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#).unwrap());
        assert!(matches!(
            check(&signed(&okp, &claims(), &key)),
            Err(DpopError::UnusableKey(_))
        ));

        let with = |name: &str, value: serde_json::Value| {
            let mut claims = claims();
            claims[name] = value;
            check(&signed(&header(&key), &claims, &key))
        };
        let without = |name: &str| {
            let mut claims = claims();
            claims.as_object_mut().unwrap().remove(name);
            check(&signed(&header(&key), &claims, &key))
        };
        for name in ["jti", "htm", "htu", "iat"] {
            assert!(
                matches!(without(name), Err(DpopError::MalformedClaims(_))),
                "{name}"
            );
        }
        assert!(matches!(
            with("iat", "now".into()),
            Err(DpopError::MalformedClaims(_))
        ));
        assert_eq!(with("jti", "".into()), Err(DpopError::BadJti));
        assert_eq!(with("jti", "x".repeat(257).into()), Err(DpopError::BadJti));
        assert_eq!(
            with("htm", "GET".into()),
            Err(DpopError::WrongMethod {
                expected: "POST".into(),
                found: "GET".into()
            })
        );
        assert!(matches!(
            with("htu", "https://issuer.example/credential".into()),
            Err(DpopError::WrongUri { .. })
        ));
        assert!(matches!(
            with("htu", "https://issuer.example/token?x=1".into()),
            Err(DpopError::WrongUri { .. })
        ));
        assert!(matches!(
            with("htu", "https://evil.example/token".into()),
            Err(DpopError::WrongUri { .. })
        ));
        assert_eq!(
            with("htu", "token".into()),
            Err(DpopError::InvalidHtu("token".into()))
        );
        assert_eq!(
            with("iat", (NOW + 31).into()),
            Err(DpopError::IssuedInFuture {
                iat: NOW + 31,
                now: NOW
            })
        );
        assert_eq!(
            with("iat", (NOW - 331).into()),
            Err(DpopError::TooOld {
                iat: NOW - 331,
                now: NOW,
                max_age: 300
            })
        );
        with("iat", (NOW + 30).into()).unwrap();
        with("iat", (NOW - 330).into()).unwrap();
    }

    #[test]
    fn nonce_rules() {
        let key = SigningKey::generate().unwrap();
        let mut expected = expect();
        expected.nonce = NonceCheck::Expected("n-1");
        let plain = create_proof(&key, &request()).unwrap();
        assert_eq!(
            verify_proof(&plain, &expected),
            Err(DpopError::MissingNonce)
        );
        assert_eq!(DpopError::MissingNonce.code(), "use_dpop_nonce");
        let mut wrong = request();
        wrong.nonce = Some("n-0");
        let wrong = create_proof(&key, &wrong).unwrap();
        assert_eq!(verify_proof(&wrong, &expected), Err(DpopError::StaleNonce));
        assert_eq!(DpopError::StaleNonce.code(), "use_dpop_nonce");
        let mut right = request();
        right.nonce = Some("n-1");
        let right = create_proof(&key, &right).unwrap();
        verify_proof(&right, &expected).unwrap();

        let accepts = |nonce: &str| nonce == "n-1";
        expected.nonce = NonceCheck::Accepted(&accepts);
        verify_proof(&right, &expected).unwrap();
        assert_eq!(verify_proof(&wrong, &expected), Err(DpopError::StaleNonce));
        // Not required: a nonce present is ignored.
        verify_proof(&wrong, &expect()).unwrap();
    }

    #[test]
    fn ath_binds_the_access_token() {
        let key = SigningKey::generate().unwrap();
        let mut expected = expect();
        expected.access_token = Some("token-1");
        let plain = create_proof(&key, &request()).unwrap();
        assert_eq!(verify_proof(&plain, &expected), Err(DpopError::MissingAth));
        let mut other = request();
        other.access_token = Some("token-2");
        let other = create_proof(&key, &other).unwrap();
        assert_eq!(verify_proof(&other, &expected), Err(DpopError::WrongAth));
        let mut right = request();
        right.access_token = Some("token-1");
        let right = create_proof(&key, &right).unwrap();
        let verified = verify_proof(&right, &expected).unwrap();
        verified.require_key(&verified.jkt).unwrap();
        let stranger = thumbprint(&SigningKey::generate().unwrap().public_jwk()).unwrap();
        assert_eq!(verified.require_key(&stranger), Err(DpopError::KeyNotBound));
        assert_eq!(DpopError::KeyNotBound.code(), "invalid_token");
        assert_eq!(DpopError::WrongAth.code(), "invalid_dpop_proof");
    }

    #[test]
    fn server_nonces_rotate_and_are_shared_by_secret() {
        let secret = [7u8; 32];
        let nonces = ServerNonces::new(&secret, 60).unwrap();
        let other_instance = ServerNonces::new(&secret, 60).unwrap();
        let stranger = ServerNonces::new(&[8u8; 32], 60).unwrap();
        let nonce = nonces.current(NOW);
        assert!(other_instance.accepts(&nonce, NOW));
        assert!(other_instance.accepts(&nonce, NOW + 60));
        assert!(!other_instance.accepts(&nonce, NOW + 120));
        assert!(!stranger.accepts(&nonce, NOW));
        assert_ne!(nonces.current(NOW + 120), nonce);
        assert!(!nonces.accepts("", NOW));
        assert!(!nonces.accepts("not base64!", NOW));
        let mut forged = b64url_decode(&nonce).unwrap();
        forged[10] ^= 1;
        assert!(!nonces.accepts(&b64url_encode(&forged), NOW));
        assert!(ServerNonces::new(&[0u8; 16], 60).is_err());
    }
}
