//! JWS compact serialization (RFC 7515 §3.1, §5.2) with a closed algorithm
//! set (RFC 7518 §3.4 ES256, RFC 8037 §3.1 EdDSA).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{JoseError, Jwk, Signer, VerifyingKey, b64url_decode, b64url_encode};

/// The signature algorithms of our profile. Anything else is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Algorithm {
    /// ECDSA with P-256 and SHA-256 (RFC 7518 §3.4).
    ES256,
    /// Ed25519 (RFC 8037 §3.1). Verified, never emitted.
    EdDSA,
}

impl Algorithm {
    /// The registered `alg` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
        }
    }

    fn parse(value: &str) -> Result<Self, JoseError> {
        match value {
            "ES256" => Ok(Self::ES256),
            "EdDSA" => Ok(Self::EdDSA),
            other => Err(JoseError::UnsupportedAlg(other.to_owned())),
        }
    }
}

/// A JOSE protected header (RFC 7515 §4.1). Registered members we act on
/// are typed; the rest stay in `extra`, as the RFC lets a reader ignore them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// `alg`: the signature algorithm.
    pub alg: Algorithm,
    /// `typ`: the media type of the whole JWS, e.g. `dc+sd-jwt`, `kb+jwt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    /// `kid`: a hint to the signing key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// `jwk`: the signing key itself (OpenID4VCI proofs carry it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwk: Option<Jwk>,
    /// `x5c`: the signer's certificate chain, base64 DER, leaf first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x5c: Option<Vec<String>>,
    /// `crit`: extensions the reader must understand. We understand none, so
    /// a parsed header never has this set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crit: Option<Vec<String>>,
    /// Other members, kept as they came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Header {
    /// A header with only `alg`.
    pub fn new(alg: Algorithm) -> Self {
        Self {
            alg,
            typ: None,
            kid: None,
            jwk: None,
            x5c: None,
            crit: None,
            extra: Map::new(),
        }
    }

    /// Sets `typ`.
    pub fn typ(mut self, typ: &str) -> Self {
        self.typ = Some(typ.to_owned());
        self
    }

    /// Sets `kid`.
    pub fn kid(mut self, kid: &str) -> Self {
        self.kid = Some(kid.to_owned());
        self
    }

    /// Reads a decoded protected header, refusing unsupported `alg` values and
    /// any `crit` before anything else is interpreted.
    fn from_json(bytes: &[u8]) -> Result<Self, JoseError> {
        // One pass for a header of the right shape; anything else takes
        // the pass below, whose errors name what is wrong. Both accept and
        // refuse the same headers: `alg` and `crit` are typed here too, and
        // a `crit` that parses is refused right after.
        if let Ok(Direct(header)) = json_from_bytes::<Direct>(bytes) {
            return match header.crit {
                None => Ok(header),
                Some(names) => Err(match names.into_iter().next() {
                    Some(name) => JoseError::UnknownCrit(name),
                    None => JoseError::MalformedHeader("`crit` is empty".into()),
                }),
            };
        }
        let mut object: Map<String, Value> =
            serde_json::from_slice(bytes).map_err(|e| JoseError::MalformedHeader(e.to_string()))?;
        match object.get("alg") {
            Some(Value::String(alg)) => Algorithm::parse(alg)?,
            Some(_) => return Err(JoseError::MalformedHeader("`alg` is not a string".into())),
            None => return Err(JoseError::MalformedHeader("`alg` is missing".into())),
        };
        if let Some(crit) = object.remove("crit") {
            // RFC 7515 §4.1.11: a non-empty array of names the reader must
            // understand. We implement no extension, so any entry is fatal.
            let names: Vec<String> = serde_json::from_value(crit).map_err(|_| {
                JoseError::MalformedHeader("`crit` is not an array of strings".into())
            })?;
            return Err(match names.into_iter().next() {
                Some(name) => JoseError::UnknownCrit(name),
                None => JoseError::MalformedHeader("`crit` is empty".into()),
            });
        }
        serde_json::from_value(Value::Object(object))
            .map_err(|e| JoseError::MalformedHeader(e.to_string()))
    }
}

/// A protected header read member by member straight into [`Header`],
/// without the buffer a flattened `extra` makes the derived reading fill
/// first. It accepts exactly what the derived reading accepts, with the
/// same result; anything unusual (a duplicate member, an escaped name) is
/// an error here, and [`Header::from_json`] then reads the header again.
struct Direct(Header);

impl<'de> Deserialize<'de> for Direct {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(DirectVisitor)
    }
}

struct DirectVisitor;

impl<'de> serde::de::Visitor<'de> for DirectVisitor {
    type Value = Direct;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JOSE header")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Direct, A::Error> {
        use serde::de::Error as _;
        /// Reads a registered member once; a second one is an error.
        fn once<'de, A: serde::de::MapAccess<'de>, T: Deserialize<'de>>(
            map: &mut A,
            seen: &mut bool,
            name: &'static str,
        ) -> Result<T, A::Error> {
            if std::mem::replace(seen, true) {
                return Err(A::Error::duplicate_field(name));
            }
            map.next_value()
        }
        let mut header = Header::new(Algorithm::ES256);
        let mut alg = None;
        let mut seen = [false; 5];
        while let Some(name) = map.next_key::<&'de str>()? {
            match name {
                "alg" => {
                    if alg.is_some() {
                        return Err(A::Error::duplicate_field("alg"));
                    }
                    alg = Some(map.next_value()?);
                }
                "typ" => header.typ = once(&mut map, &mut seen[0], "typ")?,
                "kid" => header.kid = once(&mut map, &mut seen[1], "kid")?,
                "jwk" => header.jwk = once(&mut map, &mut seen[2], "jwk")?,
                "x5c" => header.x5c = once(&mut map, &mut seen[3], "x5c")?,
                "crit" => header.crit = once(&mut map, &mut seen[4], "crit")?,
                other => {
                    header.extra.insert(other.to_owned(), map.next_value()?);
                }
            }
        }
        header.alg = alg.ok_or_else(|| A::Error::missing_field("alg"))?;
        Ok(Direct(header))
    }
}

/// Reads JSON from bytes: text that is valid UTF-8 as a whole (checked in
/// one pass) is read as a `str`, whose strings then need no check of
/// their own; anything else gets `from_slice`'s error.
pub(crate) fn json_from_bytes<'a, T: Deserialize<'a>>(
    bytes: &'a [u8],
) -> Result<T, serde_json::Error> {
    match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(bytes),
    }
}

/// Signs `payload` and returns the compact serialization
/// `base64url(header) . base64url(payload) . base64url(signature)`.
pub fn sign_compact(
    header: &Header,
    payload: &[u8],
    key: &(impl Signer + ?Sized),
) -> Result<String, JoseError> {
    if header.alg != key.algorithm() {
        return Err(JoseError::KeyMismatch(header.alg.as_str()));
    }
    let header_json = serde_json::to_vec(header).map_err(|_| JoseError::Signing)?;
    let mut out = b64url_encode(header_json);
    out.push('.');
    out.push_str(&b64url_encode(payload));
    let signature = key.sign(out.as_bytes())?;
    out.push('.');
    out.push_str(&b64url_encode(signature));
    Ok(out)
}

/// A parsed, not yet verified, compact JWS.
#[derive(Debug, Clone, PartialEq)]
pub struct CompactJws {
    /// The decoded protected header.
    pub header: Header,
    /// The decoded payload.
    pub payload: Vec<u8>,
    signing_input_len: usize,
    serialized: String,
    signature: Vec<u8>,
}

impl CompactJws {
    /// Splits and decodes a compact JWS. The header is checked (`alg`,
    /// `crit`) but no signature is.
    pub fn parse(jws: &str) -> Result<Self, JoseError> {
        let mut parts = jws.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JoseError::Malformed("expected three dot-separated parts"));
        };
        let header_bytes =
            b64url_decode(h).map_err(|_| JoseError::Malformed("header is not base64url"))?;
        let header = Header::from_json(&header_bytes)?;
        let payload =
            b64url_decode(p).map_err(|_| JoseError::Malformed("payload is not base64url"))?;
        let signature =
            b64url_decode(s).map_err(|_| JoseError::Malformed("signature is not base64url"))?;
        Ok(Self {
            header,
            payload,
            signing_input_len: h.len() + 1 + p.len(),
            serialized: jws.to_owned(),
            signature,
        })
    }

    /// The ASCII signing input `header.payload`.
    pub fn signing_input(&self) -> &str {
        &self.serialized[..self.signing_input_len]
    }

    /// The compact serialization this was parsed from.
    pub fn as_str(&self) -> &str {
        &self.serialized
    }

    /// Verifies the signature with `key`. The key's type must fit the
    /// header's `alg`, and a JWK that names its own `alg` must name the same.
    pub fn verify(&self, key: &Jwk) -> Result<(), JoseError> {
        if let Some(alg) = &key.algorithm {
            let key_alg = serde_json::to_value(alg)
                .map_err(|_| JoseError::KeyMismatch(self.header.alg.as_str()))?;
            if key_alg.as_str() != Some(self.header.alg.as_str()) {
                return Err(JoseError::KeyMismatch(self.header.alg.as_str()));
            }
        }
        self.verify_with(&VerifyingKey::from_jwk(key)?)
    }

    /// Verifies the signature with an already decoded key.
    pub fn verify_with(&self, key: &VerifyingKey) -> Result<(), JoseError> {
        key.verify(
            self.header.alg,
            self.signing_input().as_bytes(),
            &self.signature,
        )
    }

    /// [`verify_with`](Self::verify_with), given the SHA-256 of the signing
    /// input, for a caller that hashes it anyway. An ES256 signature is
    /// checked against the digest; an EdDSA one, which signs the message
    /// itself, against the signing input.
    pub fn verify_with_digest(
        &self,
        key: &VerifyingKey,
        signing_input_sha256: &aws_lc_rs::digest::Digest,
    ) -> Result<(), JoseError> {
        match self.header.alg {
            Algorithm::ES256 => {
                key.verify_digest(self.header.alg, signing_input_sha256, &self.signature)
            }
            Algorithm::EdDSA => self.verify_with(key),
        }
    }

    /// Decodes the payload as JSON.
    pub fn payload_json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        json_from_bytes(&self.payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::SigningKey;

    fn forge(header: &str) -> String {
        format!(
            "{}.{}.{}",
            b64url_encode(header),
            b64url_encode("{}"),
            b64url_encode([0u8; 64])
        )
    }

    #[test]
    fn sign_then_verify() {
        let key = SigningKey::generate().unwrap();
        let jws = sign_compact(
            &Header::new(Algorithm::ES256).typ("JWT"),
            b"{\"a\":1}",
            &key,
        )
        .unwrap();
        let parsed = CompactJws::parse(&jws).unwrap();
        assert_eq!(parsed.header.typ.as_deref(), Some("JWT"));
        assert_eq!(parsed.payload, b"{\"a\":1}");
        parsed.verify(&key.public_jwk()).unwrap();
    }

    #[test]
    fn other_key_fails() {
        let key = SigningKey::generate().unwrap();
        let other = SigningKey::generate().unwrap();
        let jws = sign_compact(&Header::new(Algorithm::ES256), b"x", &key).unwrap();
        assert_eq!(
            CompactJws::parse(&jws).unwrap().verify(&other.public_jwk()),
            Err(JoseError::InvalidSignature)
        );
    }

    #[test]
    fn alg_none_is_rejected() {
        assert_eq!(
            CompactJws::parse(&forge(r#"{"alg":"none"}"#)).unwrap_err(),
            JoseError::UnsupportedAlg("none".into())
        );
    }

    #[test]
    fn hmac_is_rejected_before_any_key_is_used() {
        assert_eq!(
            CompactJws::parse(&forge(r#"{"alg":"HS256"}"#)).unwrap_err(),
            JoseError::UnsupportedAlg("HS256".into())
        );
    }

    #[test]
    fn unknown_crit_is_rejected() {
        assert_eq!(
            CompactJws::parse(&forge(r#"{"alg":"ES256","crit":["exp"],"exp":1}"#)).unwrap_err(),
            JoseError::UnknownCrit("exp".into())
        );
        assert!(matches!(
            CompactJws::parse(&forge(r#"{"alg":"ES256","crit":[]}"#)).unwrap_err(),
            JoseError::MalformedHeader(_)
        ));
    }

    #[test]
    fn missing_alg_and_bad_shapes_are_malformed() {
        assert!(matches!(
            CompactJws::parse(&forge(r#"{"typ":"JWT"}"#)),
            Err(JoseError::MalformedHeader(_))
        ));
        assert!(matches!(
            CompactJws::parse(&forge(r#"{"alg":256}"#)),
            Err(JoseError::MalformedHeader(_))
        ));
        assert_eq!(
            CompactJws::parse("a.b"),
            Err(JoseError::Malformed("expected three dot-separated parts"))
        );
        assert_eq!(
            CompactJws::parse("a.b.c.d"),
            Err(JoseError::Malformed("expected three dot-separated parts"))
        );
        assert_eq!(
            CompactJws::parse("*.e30.AA"),
            Err(JoseError::Malformed("header is not base64url"))
        );
    }

    #[test]
    fn es256_header_with_ed25519_key_is_a_mismatch() {
        let key = SigningKey::generate().unwrap();
        let jws = sign_compact(&Header::new(Algorithm::ES256), b"x", &key).unwrap();
        let okp: Jwk = serde_json::from_str(
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
        )
        .unwrap();
        assert_eq!(
            CompactJws::parse(&jws).unwrap().verify(&okp),
            Err(JoseError::KeyMismatch("ES256"))
        );
    }

    #[test]
    fn jwk_alg_must_agree_with_header() {
        let key = SigningKey::generate().unwrap();
        let jws = sign_compact(&Header::new(Algorithm::ES256), b"x", &key).unwrap();
        let mut public = key.public_jwk();
        public.algorithm = Some(ssi_jwk::Algorithm::ES384);
        assert_eq!(
            CompactJws::parse(&jws).unwrap().verify(&public),
            Err(JoseError::KeyMismatch("ES256"))
        );
    }
}
