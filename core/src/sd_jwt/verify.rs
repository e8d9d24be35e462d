//! Verification: RFC 9901 §7.1 (issuer-signed JWT and disclosures) and §7.3
//! (key binding).

use aws_lc_rs::digest::{self, Digest};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ssi_jwk::{Base64urlUInt, ECParams, Params};

use super::{Disclosed, KB_JWT_TYP, SD_HASH_LEN, SdJwt, SdJwtError};
use crate::jose::{Header, JoseError, Jwk, VerifyingKey, b64url_decode, json_from_bytes};

/// Default clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const DEFAULT_LEEWAY: i64 = 60;
/// Default age after which a KB-JWT is stale, in seconds.
pub const DEFAULT_KB_MAX_AGE: i64 = 300;

/// The verifier's side of a check: its clock and what it requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Now, in seconds since the epoch.
    pub now: i64,
    /// Clock skew tolerated, in seconds.
    pub leeway: i64,
    /// Age in seconds after which a KB-JWT is stale (its `iat` is checked
    /// against `now` whenever a KB-JWT is present).
    pub kb_max_age: i64,
    /// Key binding required, with these expectations. When `None`, a KB-JWT
    /// that is present is still checked (signature, `typ`, `sd_hash`, age).
    pub key_binding: Option<KeyBindingCheck>,
}

impl VerifyOptions {
    /// Options at time `now`, with the default leeway and KB-JWT age and no
    /// key binding required.
    pub fn at(now: i64) -> Self {
        Self {
            now,
            leeway: DEFAULT_LEEWAY,
            kb_max_age: DEFAULT_KB_MAX_AGE,
            key_binding: None,
        }
    }

    /// Requires key binding.
    pub fn key_binding(mut self, check: KeyBindingCheck) -> Self {
        self.key_binding = Some(check);
        self
    }

    /// Sets the KB-JWT freshness window, in seconds.
    pub fn kb_max_age(mut self, seconds: i64) -> Self {
        self.kb_max_age = seconds;
        self
    }
}

/// What the KB-JWT must carry (§7.3 step 5). A verifier of OpenID4VP sets
/// both; `None` skips that comparison (for audits of a stored presentation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyBindingCheck {
    /// Expected `aud`.
    pub aud: Option<String>,
    /// Expected `nonce`.
    pub nonce: Option<String>,
}

impl KeyBindingCheck {
    /// Expects exactly this audience and nonce.
    pub fn new(aud: impl Into<String>, nonce: impl Into<String>) -> Self {
        Self {
            aud: Some(aud.into()),
            nonce: Some(nonce.into()),
        }
    }
}

/// The claims of a Key Binding JWT (§4.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KbJwtClaims {
    /// When the holder made the presentation.
    pub iat: i64,
    /// The verifier it is meant for.
    pub aud: String,
    /// The verifier's nonce.
    pub nonce: String,
    /// Hash of the presented SD-JWT.
    pub sd_hash: String,
    /// Other claims.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl KbJwtClaims {
    /// Reads a KB-JWT's payload. A payload of the usual shape is read
    /// member by member; anything else (a duplicate, a wrong type, a member
    /// missing) is read again by the derived reader, whose result and
    /// errors are the reference: both accept and refuse the same payloads.
    fn from_payload(payload: &[u8]) -> Result<Self, serde_json::Error> {
        match json_from_bytes::<DirectKb>(payload) {
            Ok(DirectKb(claims)) => Ok(claims),
            Err(_) => json_from_bytes(payload),
        }
    }
}

/// [`KbJwtClaims`] read without the buffer its flattened `extra` makes
/// the derived reader fill first.
struct DirectKb(KbJwtClaims);

impl<'de> Deserialize<'de> for DirectKb {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(DirectKbVisitor)
    }
}

struct DirectKbVisitor;

impl<'de> serde::de::Visitor<'de> for DirectKbVisitor {
    type Value = DirectKb;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KB-JWT claims")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<DirectKb, A::Error> {
        use serde::de::Error as _;
        let (mut iat, mut aud, mut nonce, mut sd_hash) = (None, None, None, None);
        let mut extra = Map::new();
        while let Some(name) = map.next_key::<&'de str>()? {
            match name {
                "iat" if iat.is_none() => iat = Some(map.next_value()?),
                "aud" if aud.is_none() => aud = Some(map.next_value()?),
                "nonce" if nonce.is_none() => nonce = Some(map.next_value()?),
                "sd_hash" if sd_hash.is_none() => sd_hash = Some(map.next_value()?),
                "iat" | "aud" | "nonce" | "sd_hash" => {
                    return Err(A::Error::custom("duplicate member"));
                }
                other => {
                    if extra.insert(other.to_owned(), map.next_value()?).is_some() {
                        return Err(A::Error::custom("duplicate member"));
                    }
                }
            }
        }
        match (iat, aud, nonce, sd_hash) {
            (Some(iat), Some(aud), Some(nonce), Some(sd_hash)) => Ok(DirectKb(KbJwtClaims {
                iat,
                aud,
                nonce,
                sd_hash,
                extra,
            })),
            _ => Err(A::Error::custom("a member is missing")),
        }
    }
}

/// A verified SD-JWT: the issuer signed it, its disclosures match, it is
/// within its validity period and, when required, bound to the holder.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The Issuer-signed JWT's protected header.
    pub header: Header,
    /// The disclosed claims, with the always-visible ones.
    pub claims: Map<String, Value>,
    /// `cnf.jwk`, when the credential is holder-bound.
    pub holder_key: Option<Jwk>,
    /// The KB-JWT claims, when one was presented.
    pub key_binding: Option<KbJwtClaims>,
    /// Pointers of the claims that were selectively disclosed.
    pub disclosed: Vec<String>,
}

impl SdJwt {
    /// Checks the issuer's signature with `issuer_key` first, then resolves
    /// the disclosures and checks time claims and key binding.
    pub fn verify(
        mut self,
        issuer_key: &VerifyingKey,
        options: &VerifyOptions,
    ) -> Result<Verified, SdJwtError> {
        let hashes = Hashes::of(&self);
        check_issuer_signature(&self, issuer_key, Some(&hashes.signing_input))?;
        // Nothing reads the payload after this, so the claims are made
        // from it rather than from a copy.
        let payload = std::mem::take(&mut self.payload);
        self.resolve(payload)?.finish(options, hashes.sd_hash)
    }
}

/// The SHA-256 work of a verification, done in one pass: the first
/// issuer-signed JWT's signing input (`header.payload`), which its ES256
/// signature covers, is also where the input of `sd_hash` begins (§4.3.1:
/// the SD-JWT up to its last `~`), so one hash state serves both.
struct Hashes {
    signing_input: Digest,
    /// `sd_hash` as base64url, when a KB-JWT will need it.
    sd_hash: Option<[u8; SD_HASH_LEN]>,
}

impl Hashes {
    fn of(sd_jwt: &SdJwt) -> Self {
        let first = &sd_jwt.issuer_jwt[0];
        let mut hash = digest::Context::new(&digest::SHA256);
        hash.update(first.signing_input().as_bytes());
        let signing_input = hash.clone().finish();
        let sd_hash = sd_jwt.kb_jwt.is_some().then(|| sd_jwt.finish_sd_hash(hash));
        Self {
            signing_input,
            sd_hash,
        }
    }
}

impl Disclosed {
    /// Checks the issuer's signature with `issuer_key`, the time claims and
    /// the key binding.
    pub fn verify(
        self,
        issuer_key: &VerifyingKey,
        options: &VerifyOptions,
    ) -> Result<Verified, SdJwtError> {
        check_issuer_signature(&self.sd_jwt, issuer_key, None)?;
        self.finish(options, None)
    }

    /// The checks after the issuer's signature; `sd_hash` is the SD-JWT's,
    /// when the caller hashed it already.
    fn finish(
        mut self,
        options: &VerifyOptions,
        sd_hash: Option<[u8; SD_HASH_LEN]>,
    ) -> Result<Verified, SdJwtError> {
        check_times(&self.claims, options)?;
        let with_kb = self.sd_jwt.kb_jwt().is_some();
        let (holder_key, holder) = match self.claims.get("cnf").and_then(|cnf| cnf.get("jwk")) {
            Some(jwk) => match with_kb.then(|| plain_p256_jwk(jwk)).flatten() {
                Some((jwk, key)) => (Some(jwk), Some(key)),
                // Read in place: `from_value` would first copy the key.
                None => (
                    Some(
                        Jwk::deserialize(jwk)
                            .map_err(|e| SdJwtError::Malformed(format!("cnf.jwk: {e}")))?,
                    ),
                    None,
                ),
            },
            None => (None, None),
        };
        let key_binding = match (self.sd_jwt.kb_jwt(), &options.key_binding) {
            (None, Some(_)) => return Err(SdJwtError::KbMissing),
            (None, None) => None,
            (Some(_), check) => Some(check_key_binding(
                &self.sd_jwt,
                HolderKey {
                    jwk: holder_key.as_ref(),
                    key: holder.as_ref(),
                },
                sd_hash,
                check.as_ref(),
                options,
            )?),
        };
        // The SD-JWT is done with: its header moves into the result.
        let header = self.sd_jwt.issuer_jwt.swap_remove(0).header;
        Ok(Verified {
            header,
            disclosed: self.places.into_iter().map(|place| place.pointer).collect(),
            claims: self.claims,
            holder_key,
            key_binding,
        })
    }
}

/// `cnf.jwk` when it is exactly `{"kty": "EC", "crv": "P-256", "x", "y"}`
/// (what wallets send), read without the generic JWK reader, with its key
/// ready to verify. Anything else (other members, other key types, a point
/// off the curve) is `None`, for the generic reader and its errors.
fn plain_p256_jwk(jwk: &Value) -> Option<(Jwk, VerifyingKey)> {
    let members = jwk.as_object()?;
    if members.len() != 4
        || members.get("kty")?.as_str()? != "EC"
        || members.get("crv")?.as_str()? != "P-256"
    {
        return None;
    }
    let coordinate = |name: &str| {
        let text = members.get(name)?.as_str()?;
        b64url_decode(text).ok().map(Base64urlUInt)
    };
    let jwk = Jwk::from(Params::EC(ECParams {
        curve: Some("P-256".to_owned()),
        x_coordinate: Some(coordinate("x")?),
        y_coordinate: Some(coordinate("y")?),
        ecc_private_key: None,
    }));
    // The JWK reader's own checks: 32-byte coordinates, a point on the curve.
    let key = VerifyingKey::from_jwk(&jwk).ok()?;
    Some((jwk, key))
}

/// The holder's key as `cnf` gives it, and ready to verify when it was
/// read that way.
#[derive(Clone, Copy)]
struct HolderKey<'a> {
    jwk: Option<&'a Jwk>,
    key: Option<&'a VerifyingKey>,
}

/// Passes if any of the issuer-signed JWT's signatures verifies with the
/// key; `signing_input` is the SHA-256 of the first one's signing input,
/// when the caller hashed it already.
fn check_issuer_signature(
    sd_jwt: &SdJwt,
    key: &VerifyingKey,
    signing_input: Option<&Digest>,
) -> Result<(), SdJwtError> {
    let mut outcome = Err(SdJwtError::InvalidSignature);
    for (index, jws) in sd_jwt.issuer_jwts().iter().enumerate() {
        let checked = match signing_input {
            Some(digest) if index == 0 => jws.verify_with_digest(key, digest),
            _ => jws.verify_with(key),
        };
        match checked {
            Ok(()) => return Ok(()),
            Err(JoseError::InvalidSignature) => {}
            Err(other) => outcome = Err(SdJwtError::Jws(other)),
        }
    }
    outcome
}

fn time_claim(claims: &Map<String, Value>, name: &'static str) -> Result<Option<i64>, SdJwtError> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => value
            .as_i64()
            .or_else(|| value.as_f64().map(|f| f as i64))
            .map(Some)
            .ok_or(SdJwtError::MalformedTimeClaim(name)),
    }
}

fn check_times(claims: &Map<String, Value>, options: &VerifyOptions) -> Result<(), SdJwtError> {
    if let Some(exp) = time_claim(claims, "exp")?
        && options.now - options.leeway >= exp
    {
        return Err(SdJwtError::Expired { exp });
    }
    if let Some(nbf) = time_claim(claims, "nbf")?
        && options.now + options.leeway < nbf
    {
        return Err(SdJwtError::NotYetValid { nbf });
    }
    if let Some(iat) = time_claim(claims, "iat")?
        && iat > options.now + options.leeway
    {
        return Err(SdJwtError::IssuedInFuture { iat });
    }
    Ok(())
}

fn check_key_binding(
    sd_jwt: &SdJwt,
    holder: HolderKey<'_>,
    sd_hash: Option<[u8; SD_HASH_LEN]>,
    check: Option<&KeyBindingCheck>,
    options: &VerifyOptions,
) -> Result<KbJwtClaims, SdJwtError> {
    let Some(kb) = sd_jwt.kb_jwt() else {
        return Err(SdJwtError::KbMissing);
    };
    if kb.header.typ.as_deref() != Some(KB_JWT_TYP) {
        return Err(SdJwtError::KbInvalidTyp(kb.header.typ.clone()));
    }
    let signature = match (holder.key, holder.jwk) {
        (Some(key), _) => kb.verify_with(key),
        (None, Some(jwk)) => kb.verify(jwk),
        (None, None) => return Err(SdJwtError::KbNoHolderKey),
    };
    match signature {
        Ok(()) => {}
        Err(JoseError::InvalidSignature | JoseError::KeyMismatch(_)) => {
            return Err(SdJwtError::KbInvalidSignature);
        }
        Err(other) => return Err(SdJwtError::KbMalformed(other.to_string())),
    }
    let claims = KbJwtClaims::from_payload(&kb.payload)
        .map_err(|e| SdJwtError::KbMalformed(e.to_string()))?;
    let sd_hash = sd_hash.unwrap_or_else(|| sd_jwt.sd_hash_encoded());
    if claims.sd_hash.as_bytes() != sd_hash {
        return Err(SdJwtError::KbSdHashMismatch);
    }
    if claims.iat > options.now + options.leeway {
        return Err(SdJwtError::KbIatInFuture { iat: claims.iat });
    }
    if options.now - claims.iat > options.kb_max_age {
        return Err(SdJwtError::KbStale { iat: claims.iat });
    }
    if let Some(check) = check {
        if check
            .nonce
            .as_ref()
            .is_some_and(|nonce| *nonce != claims.nonce)
        {
            return Err(SdJwtError::KbNonceMismatch);
        }
        if check.aud.as_ref().is_some_and(|aud| *aud != claims.aud) {
            return Err(SdJwtError::KbAudMismatch);
        }
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::jose::{SigningKey, b64url_encode};

    #[test]
    fn kb_claims_read_member_by_member_agree_with_the_derived_reader() {
        for payload in [
            r#"{"iat":1,"aud":"a","nonce":"n","sd_hash":"h"}"#,
            r#"{"sd_hash":"h","x":{"y":[1]},"nonce":"n","aud":"a","iat":1}"#,
            r#"{"iat":1,"aud":"a","nonce":"n"}"#,
            r#"{"iat":1,"iat":2,"aud":"a","nonce":"n","sd_hash":"h"}"#,
            r#"{"iat":1,"aud":"a","nonce":"n","sd_hash":"h","x":1,"x":2}"#,
            r#"{"iat":"1","aud":"a","nonce":"n","sd_hash":"h"}"#,
            r#"{"iat":1.5,"aud":"a","nonce":"n","sd_hash":"h"}"#,
            r#"{"iat":1,"aud":["a"],"nonce":"n","sd_hash":"h"}"#,
            r#"{"iat":1,"aud":"a\u00e5","nonce":"n","sd_hash":"h"}"#,
            r#"[1]"#,
        ] {
            let derived = serde_json::from_str::<KbJwtClaims>(payload).ok();
            let read = KbJwtClaims::from_payload(payload.as_bytes()).ok();
            assert_eq!(read, derived, "{payload}");
        }
        // Not UTF-8: refused by both.
        assert!(KbJwtClaims::from_payload(b"{\"aud\":\"\xff\"}").is_err());
    }

    #[test]
    fn a_plain_holder_key_is_read_as_the_jwk_reader_reads_it() {
        let jwk = SigningKey::generate().unwrap().public_jwk();
        let value = serde_json::to_value(&jwk).unwrap();
        let (read, key) = plain_p256_jwk(&value).expect("kty, crv, x, y");
        assert_eq!(read, Jwk::deserialize(&value).unwrap());
        assert_eq!(key, VerifyingKey::from_jwk(&jwk).unwrap());
        // Anything else goes to the JWK reader: one more member, another
        // curve, a point off the curve.
        let mut with_alg = value.clone();
        with_alg["alg"] = json!("ES384");
        assert!(plain_p256_jwk(&with_alg).is_none());
        let mut other_curve = value.clone();
        other_curve["crv"] = json!("P-384");
        assert!(plain_p256_jwk(&other_curve).is_none());
        let mut short = value.clone();
        short["x"] = json!(b64url_encode([1u8; 31]));
        assert!(plain_p256_jwk(&short).is_none());
        let mut off_curve = value;
        off_curve["y"] = json!(b64url_encode([1u8; 32]));
        assert!(plain_p256_jwk(&off_curve).is_none());
    }
}
