//! ID Token validation — OpenID Connect Core 1.0 §3.1.3.7.
//!
//! <https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation>
//!
//! The provider signs with ES256 or RS256 (RSASSA-PKCS1-v1_5 with SHA-256,
//! the algorithm every OpenID Provider must support, OIDC Core §15.1).
//! `intyg-core` accepts only ES256 and EdDSA by design, so this module
//! checks the signature itself, with aws-lc-rs, which is already in the
//! tree. The algorithm set is closed; `alg` picks the key type before any
//! key is used, and any `crit` is refused.

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents, UnparsedPublicKey,
};
use intyg_core::jose::b64url_decode;
use serde::Deserialize;
use serde_json::{Map, Value};

/// Clock skew tolerated on `exp` and `iat`, in seconds.
const LEEWAY: i64 = 60;

/// The signature algorithms accepted on ID tokens. Closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdTokenAlg {
    /// ECDSA P-256 SHA-256.
    ES256,
    /// RSASSA-PKCS1-v1_5 SHA-256, keys of 2048 to 8192 bits.
    RS256,
}

impl IdTokenAlg {
    fn key_type(self) -> &'static str {
        match self {
            Self::ES256 => "EC",
            Self::RS256 => "RSA",
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::ES256 => "ES256",
            Self::RS256 => "RS256",
        }
    }
}

/// A provider's JWK Set (RFC 7517 §5), as fetched from its `jwks_uri`.
#[derive(Debug, Clone, Deserialize)]
pub struct ProviderJwks {
    /// `keys`.
    pub keys: Vec<ProviderJwk>,
}

/// One public key of the provider. Members of other key types are kept as
/// absent; a key whose type does not fit `alg` is never chosen.
#[derive(Debug, Clone, Deserialize)]
pub struct ProviderJwk {
    /// `kty`: `EC` or `RSA` (others are ignored).
    pub kty: String,
    /// `kid`.
    #[serde(default)]
    pub kid: Option<String>,
    /// `use`: `sig` or absent for keys we use.
    #[serde(default, rename = "use")]
    pub key_use: Option<String>,
    /// `alg`: if present, must equal the token's.
    #[serde(default)]
    pub alg: Option<String>,
    /// `crv` (EC).
    #[serde(default)]
    pub crv: Option<String>,
    /// `x` (EC).
    #[serde(default)]
    pub x: Option<String>,
    /// `y` (EC).
    #[serde(default)]
    pub y: Option<String>,
    /// `n` (RSA).
    #[serde(default)]
    pub n: Option<String>,
    /// `e` (RSA).
    #[serde(default)]
    pub e: Option<String>,
}

/// What the ID token must say.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The provider's issuer identifier (from discovery, equal to config).
    pub issuer: &'a str,
    /// Our `client_id` at the provider.
    pub client_id: &'a str,
    /// The `nonce` we sent.
    pub nonce: &'a str,
    /// Now, seconds since the epoch.
    pub now: i64,
}

/// Why an ID token was rejected. Each rule has its own variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    /// Not a compact JWS with a JSON header and payload.
    #[error("ID token is malformed: {0}")]
    Malformed(&'static str),
    /// `alg` is not ES256 or RS256 (e.g. `none` or `HS256`).
    #[error("ID token alg `{0}` is not accepted (ES256, RS256)")]
    UnsupportedAlg(String),
    /// The header has `crit`; we implement no extension.
    #[error("ID token header has `crit`")]
    Crit,
    /// No key of the provider's JWK Set fits the `kid` and `alg`.
    #[error("no provider key fits the ID token (kid {0:?})")]
    NoKey(Option<String>),
    /// The chosen key's members are unusable.
    #[error("provider key is invalid: {0}")]
    InvalidKey(&'static str),
    /// The signature does not verify.
    #[error("ID token signature is invalid")]
    InvalidSignature,
    /// A required claim is absent or has the wrong type.
    #[error("ID token lacks a valid `{0}` claim")]
    MissingClaim(&'static str),
    /// `iss` is not the provider's issuer identifier.
    #[error("ID token `iss` is not the configured provider")]
    WrongIssuer,
    /// `aud` does not contain our `client_id`.
    #[error("ID token `aud` does not contain our client_id")]
    WrongAudience,
    /// Several audiences and `azp` is not our `client_id`.
    #[error("ID token `azp` is not our client_id")]
    WrongAuthorizedParty,
    /// `exp` has passed.
    #[error("ID token has expired")]
    Expired,
    /// `iat` is in the future.
    #[error("ID token `iat` is in the future")]
    IssuedInFuture,
    /// `nonce` is not the one we sent.
    #[error("ID token `nonce` does not match the login")]
    NonceMismatch,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<Value>,
}

/// Validates an ID token and returns its claims.
pub fn validate(
    jwt: &str,
    jwks: &ProviderJwks,
    expected: &Expected<'_>,
) -> Result<Map<String, Value>, IdTokenError> {
    use IdTokenError as E;
    let mut parts = jwt.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(E::Malformed("expected three dot-separated parts"));
    };
    let decode = |part: &str, what| b64url_decode(part).map_err(|_| E::Malformed(what));
    let header: Header = serde_json::from_slice(&decode(h, "header is not base64url")?)
        .map_err(|_| E::Malformed("header is not a JSON object with `alg`"))?;
    let alg = match header.alg.as_str() {
        "ES256" => IdTokenAlg::ES256,
        "RS256" => IdTokenAlg::RS256,
        other => return Err(E::UnsupportedAlg(other.to_owned())),
    };
    if header.crit.is_some() {
        return Err(E::Crit);
    }
    let signature = decode(s, "signature is not base64url")?;
    let key = choose_key(jwks, alg, header.kid.as_deref())?;
    verify_signature(
        key,
        alg,
        &jwt.as_bytes()[..h.len() + 1 + p.len()],
        &signature,
    )?;
    let claims: Map<String, Value> =
        serde_json::from_slice(&decode(p, "payload is not base64url")?)
            .map_err(|_| E::Malformed("payload is not a JSON object"))?;
    check_claims(&claims, expected)?;
    Ok(claims)
}

fn choose_key<'k>(
    jwks: &'k ProviderJwks,
    alg: IdTokenAlg,
    kid: Option<&str>,
) -> Result<&'k ProviderJwk, IdTokenError> {
    let mut candidates = jwks.keys.iter().filter(|k| {
        k.kty == alg.key_type()
            && k.key_use.as_deref().is_none_or(|u| u == "sig")
            && k.alg.as_deref().is_none_or(|a| a == alg.as_str())
            && kid.is_none_or(|kid| k.kid.as_deref() == Some(kid))
    });
    match (candidates.next(), candidates.next(), kid) {
        (Some(key), None, _) | (Some(key), Some(_), Some(_)) => Ok(key),
        _ => Err(IdTokenError::NoKey(kid.map(str::to_owned))),
    }
}

fn verify_signature(
    key: &ProviderJwk,
    alg: IdTokenAlg,
    message: &[u8],
    signature: &[u8],
) -> Result<(), IdTokenError> {
    use IdTokenError as E;
    let member = |value: &Option<String>, what| {
        value
            .as_deref()
            .and_then(|v| b64url_decode(v).ok())
            .ok_or(E::InvalidKey(what))
    };
    let verified = match alg {
        IdTokenAlg::ES256 => {
            if key.crv.as_deref() != Some("P-256") {
                return Err(E::InvalidKey("EC key is not on P-256"));
            }
            let (x, y) = (
                member(&key.x, "EC key lacks x")?,
                member(&key.y, "EC key lacks y")?,
            );
            if x.len() != 32 || y.len() != 32 {
                return Err(E::InvalidKey("P-256 coordinates must be 32 bytes"));
            }
            let point = [&[0x04], x.as_slice(), y.as_slice()].concat();
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).verify(message, signature)
        }
        IdTokenAlg::RS256 => {
            let n = member(&key.n, "RSA key lacks n")?;
            let e = member(&key.e, "RSA key lacks e")?;
            // aws-lc-rs wants no leading zero octets; some providers add one.
            let strip = |v: &[u8]| v[v.iter().take_while(|&&b| b == 0).count()..].to_vec();
            RsaPublicKeyComponents {
                n: strip(&n),
                e: strip(&e),
            }
            .verify(&RSA_PKCS1_2048_8192_SHA256, message, signature)
        }
    };
    verified.map_err(|_| E::InvalidSignature)
}

fn check_claims(claims: &Map<String, Value>, expected: &Expected<'_>) -> Result<(), IdTokenError> {
    use IdTokenError as E;
    let text = |name: &'static str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .ok_or(E::MissingClaim(name))
    };
    let time = |name: &'static str| {
        claims
            .get(name)
            .and_then(Value::as_f64)
            // Seconds since the epoch fit in i64 many times over; a
            // fractional part is dropped as NumericDate allows.
            .map(|t| t as i64)
            .ok_or(E::MissingClaim(name))
    };
    if text("iss")? != expected.issuer {
        return Err(E::WrongIssuer);
    }
    text("sub")?;
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(aud)) => vec![aud.as_str()],
        Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).collect(),
        _ => return Err(E::MissingClaim("aud")),
    };
    if !audiences.contains(&expected.client_id) {
        return Err(E::WrongAudience);
    }
    match claims.get("azp").map(Value::as_str) {
        Some(Some(azp)) if azp != expected.client_id => return Err(E::WrongAuthorizedParty),
        None if audiences.len() > 1 => return Err(E::WrongAuthorizedParty),
        Some(None) => return Err(E::MissingClaim("azp")),
        _ => {}
    }
    if time("exp")? <= expected.now - LEEWAY {
        return Err(E::Expired);
    }
    if time("iat")? > expected.now + LEEWAY {
        return Err(E::IssuedInFuture);
    }
    let nonce = claims
        .get("nonce")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if aws_lc_rs::constant_time::verify_slices_are_equal(
        nonce.as_bytes(),
        expected.nonce.as_bytes(),
    )
    .is_err()
    {
        return Err(E::NonceMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256, RsaKeyPair};
    use intyg_core::jose::{
        Algorithm, Header as JwsHeader, SigningKey, b64url_encode, sign_compact,
    };
    use serde_json::json;

    use super::*;

    const ISSUER: &str = "https://idp.example";
    const CLIENT: &str = "intyg-issuer";
    const NONCE: &str = "n-0S6_WzA2Mj";
    const NOW: i64 = 1_800_000_000;

    fn expected() -> Expected<'static> {
        Expected {
            issuer: ISSUER,
            client_id: CLIENT,
            nonce: NONCE,
            now: NOW,
        }
    }

    fn claims() -> Value {
        json!({
            "iss": ISSUER, "sub": "s-1", "aud": CLIENT, "exp": NOW + 300, "iat": NOW,
            "nonce": NONCE, "personal_identity_number": "199403172381",
        })
    }

    fn ec_jwks(key: &SigningKey, kid: &str) -> ProviderJwks {
        let mut jwk = serde_json::to_value(key.public_jwk()).unwrap();
        jwk["kid"] = kid.into();
        jwk["use"] = "sig".into();
        serde_json::from_value(json!({ "keys": [jwk] })).unwrap()
    }

    fn es256(key: &SigningKey, kid: &str, claims: &Value) -> String {
        sign_compact(
            &JwsHeader::new(Algorithm::ES256).typ("JWT").kid(kid),
            &serde_json::to_vec(claims).unwrap(),
            key,
        )
        .unwrap()
    }

    fn rsa() -> (RsaKeyPair, ProviderJwks) {
        let key = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let public = key.public_key();
        let jwks = json!({"keys": [
            {"kty": "EC", "kid": "other", "crv": "P-256", "x": "AA", "y": "AA"},
            {"kty": "RSA", "kid": "r1", "alg": "RS256",
             "n": b64url_encode(public.modulus().big_endian_without_leading_zero()),
             "e": b64url_encode(public.exponent().big_endian_without_leading_zero())},
        ]});
        (key, serde_json::from_value(jwks).unwrap())
    }

    fn rs256(key: &RsaKeyPair, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            b64url_encode(serde_json::to_vec(header).unwrap()),
            b64url_encode(serde_json::to_vec(claims).unwrap())
        );
        let mut signature = vec![0; key.public_modulus_len()];
        key.sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            input.as_bytes(),
            &mut signature,
        )
        .unwrap();
        format!("{input}.{}", b64url_encode(signature))
    }

    #[test]
    fn es256_token_validates() {
        let key = SigningKey::generate().unwrap();
        let claims = validate(
            &es256(&key, "k1", &claims()),
            &ec_jwks(&key, "k1"),
            &expected(),
        )
        .unwrap();
        assert_eq!(claims["personal_identity_number"], "199403172381");
    }

    #[test]
    fn rs256_token_validates_and_a_tampered_one_does_not() {
        let (key, jwks) = rsa();
        let header = json!({"alg": "RS256", "kid": "r1"});
        let jwt = rs256(&key, &header, &claims());
        assert!(validate(&jwt, &jwks, &expected()).is_ok());
        let mut other = claims();
        other["sub"] = "s-2".into();
        let forged = rs256(&key, &header, &other);
        let mixed = format!(
            "{}.{}",
            forged.rsplit_once('.').unwrap().0,
            jwt.rsplit_once('.').unwrap().1
        );
        assert_eq!(
            validate(&mixed, &jwks, &expected()),
            Err(IdTokenError::InvalidSignature)
        );
    }

    #[test]
    fn signature_by_another_key_is_refused() {
        let key = SigningKey::generate().unwrap();
        let attacker = SigningKey::generate().unwrap();
        let jwt = es256(&attacker, "k1", &claims());
        assert_eq!(
            validate(&jwt, &ec_jwks(&key, "k1"), &expected()),
            Err(IdTokenError::InvalidSignature)
        );
    }

    #[test]
    fn every_claim_rule_has_its_error() {
        use IdTokenError as E;
        let key = SigningKey::generate().unwrap();
        let jwks = ec_jwks(&key, "k1");
        let cases: Vec<(Value, E)> = vec![
            (json!({"iss": "https://evil.example"}), E::WrongIssuer),
            (json!({"aud": "someone-else"}), E::WrongAudience),
            (
                json!({"aud": ["someone-else", CLIENT]}),
                E::WrongAuthorizedParty,
            ),
            (
                json!({"aud": [CLIENT, "x"], "azp": "x"}),
                E::WrongAuthorizedParty,
            ),
            (json!({"exp": NOW - 61}), E::Expired),
            (json!({"iat": NOW + 61}), E::IssuedInFuture),
            (json!({"nonce": "other"}), E::NonceMismatch),
            (json!({"nonce": null}), E::NonceMismatch),
            (json!({"sub": 7}), E::MissingClaim("sub")),
            (json!({"exp": "soon"}), E::MissingClaim("exp")),
        ];
        for (changes, error) in cases {
            let mut claims = claims();
            for (name, value) in changes.as_object().unwrap() {
                claims[name] = value.clone();
            }
            let jwt = es256(&key, "k1", &claims);
            assert_eq!(validate(&jwt, &jwks, &expected()), Err(error), "{changes}");
        }
        let mut several = claims();
        several["aud"] = json!([CLIENT, "x"]);
        several["azp"] = CLIENT.into();
        assert!(validate(&es256(&key, "k1", &several), &jwks, &expected()).is_ok());
    }

    #[test]
    fn header_rules_have_their_errors() {
        use IdTokenError as E;
        let key = SigningKey::generate().unwrap();
        let jwks = ec_jwks(&key, "k1");
        let body = b64url_encode(serde_json::to_vec(&claims()).unwrap());
        let forge = |header: Value| format!("{}.{body}.AAAA", b64url_encode(header.to_string()));
        assert_eq!(
            validate(&forge(json!({"alg": "none"})), &jwks, &expected()),
            Err(E::UnsupportedAlg("none".into()))
        );
        assert_eq!(
            validate(&forge(json!({"alg": "HS256"})), &jwks, &expected()),
            Err(E::UnsupportedAlg("HS256".into()))
        );
        assert_eq!(
            validate(
                &forge(json!({"alg": "ES256", "crit": ["b64"]})),
                &jwks,
                &expected()
            ),
            Err(E::Crit)
        );
        assert_eq!(
            validate(
                &forge(json!({"alg": "ES256", "kid": "k9"})),
                &jwks,
                &expected()
            ),
            Err(E::NoKey(Some("k9".into())))
        );
        assert_eq!(
            validate(
                &forge(json!({"alg": "RS256", "kid": "k1"})),
                &jwks,
                &expected()
            ),
            Err(E::NoKey(Some("k1".into())))
        );
        assert_eq!(
            validate("a.b", &jwks, &expected()),
            Err(E::Malformed("expected three dot-separated parts"))
        );
        let mut bad_curve = jwks.clone();
        bad_curve.keys[0].crv = Some("P-384".into());
        assert_eq!(
            validate(&es256(&key, "k1", &claims()), &bad_curve, &expected()),
            Err(E::InvalidKey("EC key is not on P-256"))
        );
    }
}
