//! JWE compact serialization with direct key agreement — RFC 7516 §3.1 and
//! §7.1, `alg: ECDH-ES` per RFC 7518 §4.6 (Concat KDF, `epk`, `apu`, `apv`),
//! `enc: A128GCM`/`A256GCM` per RFC 7518 §5.3.
//!
//! This is the profile of OpenID4VP 1.0 §8.3 (encrypted responses,
//! `direct_post.jwt`) under HAIP 1.0: the wallet encrypts the authorization
//! response to a P-256 key from the verifier's `client_metadata.jwks`, and
//! the verifier decrypts it with the private half.
//!
//! The sets are closed. Any other `alg` (`RSA-OAEP`, `ECDH-ES+A128KW`,
//! `dir`...) or `enc` (`A128CBC-HS256`...) is refused with its own error
//! before a key is touched, and so are `crit` and `zip`. Keys are EC P-256
//! only; every point (recipient key and `epk`) is checked to lie on the
//! curve. The IV must be 96 bits and the tag 128 bits, so a truncated GCM
//! tag can never authenticate a forged message. `josekit` does the ECDH,
//! the Concat KDF and AES-GCM.
//!
//! `ssi_jwk::JWK` cannot hold `"alg": "ECDH-ES"` (its `Algorithm` lists
//! signature algorithms only), yet verifiers publish encryption keys with
//! exactly that member (OpenID4VP 1.0 §8.3 example). Parse such keys with
//! [`encryption_jwk`].

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::agreement::{ECDH_P256, ParsedPublicKey, UnparsedPublicKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use ssi_jwk::{ECParams, JWK, Params};

use super::{b64url_decode, b64url_encode};

/// The key management algorithms of our profile (RFC 7518 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyAgreement {
    /// Direct key agreement: the Concat KDF output is the content key
    /// (RFC 7518 §4.6).
    #[serde(rename = "ECDH-ES")]
    EcdhEs,
}

impl KeyAgreement {
    /// The registered `alg` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EcdhEs => "ECDH-ES",
        }
    }
}

impl FromStr for KeyAgreement {
    type Err = JweError;

    fn from_str(value: &str) -> Result<Self, JweError> {
        match value {
            "ECDH-ES" => Ok(Self::EcdhEs),
            other => Err(JweError::UnsupportedAlg(other.to_owned())),
        }
    }
}

/// The content encryption algorithms of our profile (RFC 7518 §5.3), the
/// two that OpenID4VP 1.0 §8.3 and HAIP 1.0 name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ContentEncryption {
    /// AES-GCM with a 128-bit key.
    A128GCM,
    /// AES-GCM with a 256-bit key.
    A256GCM,
}

impl ContentEncryption {
    /// The registered `enc` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::A128GCM => "A128GCM",
            Self::A256GCM => "A256GCM",
        }
    }
}

impl FromStr for ContentEncryption {
    type Err = JweError;

    fn from_str(value: &str) -> Result<Self, JweError> {
        match value {
            "A128GCM" => Ok(Self::A128GCM),
            "A256GCM" => Ok(Self::A256GCM),
            other => Err(JweError::UnsupportedEnc(other.to_owned())),
        }
    }
}

impl fmt::Display for ContentEncryption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The optional header parameters a sender chooses (RFC 7516 §4.1, RFC 7518
/// §4.6.1). `alg`, `enc` and `epk` are set by [`encrypt`] itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JweHeaderParams {
    /// `kid`: the recipient key's identifier. When `None`, the recipient
    /// JWK's own `kid` is used, if it has one.
    pub kid: Option<String>,
    /// `apu`: Agreement PartyUInfo, raw bytes (base64url-encoded on the wire).
    pub apu: Option<Vec<u8>>,
    /// `apv`: Agreement PartyVInfo, raw bytes (base64url-encoded on the wire).
    pub apv: Option<Vec<u8>>,
    /// `typ`: the media type of the whole JWE.
    pub typ: Option<String>,
    /// `cty`: the media type of the payload.
    pub cty: Option<String>,
}

/// The JWE protected header of a decrypted message (RFC 7516 §4.1, RFC 7518
/// §4.6.1). `crit` and `zip` never appear: such messages are refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JweHeader {
    /// `alg`: always `ECDH-ES`.
    pub alg: KeyAgreement,
    /// `enc`: the content encryption algorithm.
    pub enc: ContentEncryption,
    /// `epk`: the sender's ephemeral public key, EC P-256.
    pub epk: JWK,
    /// `apu`: Agreement PartyUInfo, decoded from base64url.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "b64url_opt")]
    pub apu: Option<Vec<u8>>,
    /// `apv`: Agreement PartyVInfo, decoded from base64url.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "b64url_opt")]
    pub apv: Option<Vec<u8>>,
    /// `kid`: the recipient key the sender used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// `typ`: the media type of the whole JWE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    /// `cty`: the media type of the payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cty: Option<String>,
    /// Other members, kept as they came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A decrypted JWE: its protected header and its plaintext.
#[derive(Debug, Clone, PartialEq)]
pub struct Decrypted {
    /// The protected header, as the sender wrote it.
    pub header: JweHeader,
    /// The plaintext.
    pub payload: Vec<u8>,
}

/// Why a JWE could not be produced or opened.
#[derive(Debug, thiserror::Error)]
pub enum JweError {
    /// The compact form is not five base64url parts, or a part has the wrong
    /// size for ECDH-ES with AES-GCM (a non-empty encrypted key, an IV that
    /// is not 96 bits, a tag that is not 128 bits), or `alg`/`enc` is missing.
    #[error("malformed JWE: {0}")]
    Malformed(&'static str),
    /// The protected header is not a JSON object, or a member has the wrong
    /// type (for example `apu` that is not base64url, `epk` that is not a JWK).
    #[error("invalid JWE protected header: {0}")]
    InvalidHeader(#[source] serde_json::Error),
    /// An encryption JWK given to [`encryption_jwk`] is not a valid JWK.
    #[error("invalid JWK: {0}")]
    InvalidJwk(#[source] serde_json::Error),
    /// `alg` is not `ECDH-ES`.
    #[error("unsupported JWE alg `{0}`: only ECDH-ES is accepted")]
    UnsupportedAlg(String),
    /// `enc` is not `A128GCM` or `A256GCM`.
    #[error("unsupported JWE enc `{0}`: only A128GCM and A256GCM are accepted")]
    UnsupportedEnc(String),
    /// The header marks extensions as critical (`crit`); we implement none.
    #[error("unknown critical JWE header parameters {0:?}")]
    UnknownCrit(Vec<String>),
    /// The header asks for compressed content (`zip`), which we refuse.
    #[error("unsupported JWE compression `{0}`")]
    UnsupportedZip(String),
    /// `epk` is not a public EC P-256 point on the curve.
    #[error("invalid ephemeral public key (epk): {0}")]
    InvalidEphemeralKey(&'static str),
    /// The recipient key is not an EC P-256 key.
    #[error("unsupported key type {kty} {crv:?}: only EC P-256 is accepted")]
    UnsupportedKey {
        /// The key's `kty`.
        kty: String,
        /// The key's `crv`, if it has one.
        crv: Option<String>,
    },
    /// The recipient key lacks coordinates, or its point is not on P-256.
    #[error("invalid key: {0}")]
    InvalidKey(&'static str),
    /// Decryption needs the private key (`d`), and the JWK has none.
    #[error("the key has no private part (d)")]
    MissingPrivateKey,
    /// The JWK's `use`, `key_ops` or `alg` forbids ECDH-ES key agreement.
    #[error("the key's `{param}` is `{value}`, which forbids ECDH-ES key agreement")]
    KeyUsage {
        /// The JWK member that forbids it.
        param: &'static str,
        /// Its value.
        value: String,
    },
    /// The header's `kid` names another key than the one given.
    #[error("the JWE is for key `{header_kid}`, not for key `{key_kid}`")]
    KeyMismatch {
        /// The `kid` in the JWE header.
        header_kid: String,
        /// The `kid` of the key given to decrypt.
        key_kid: String,
    },
    /// The JWE library failed to encrypt (key setup or random generation).
    #[error("JWE encryption failed")]
    Encryption(#[source] josekit::JoseError),
    /// Key agreement or authenticated decryption failed: the message was
    /// altered, or it was encrypted to another key.
    #[error("JWE decryption failed")]
    Decryption(#[source] josekit::JoseError),
}

/// Encrypts `payload` to `recipient` (a P-256 public key; a private part,
/// if present, is ignored) as a compact JWE with `alg: ECDH-ES`.
pub fn encrypt(
    payload: &[u8],
    recipient: &JWK,
    enc: ContentEncryption,
    params: &JweHeaderParams,
) -> Result<String, JweError> {
    let point = p256_params(recipient)?;
    check_usage(recipient)?;
    check_point(point).map_err(JweError::InvalidKey)?;

    let mut header = josekit::jwe::JweHeader::new();
    header.set_content_encryption(enc.as_str());
    if let Some(kid) = params.kid.as_ref().or(recipient.key_id.as_ref()) {
        header.set_key_id(kid);
    }
    if let Some(typ) = &params.typ {
        header.set_token_type(typ);
    }
    if let Some(cty) = &params.cty {
        header.set_content_type(cty);
    }
    if let Some(apu) = &params.apu {
        header.set_agreement_partyuinfo(apu);
    }
    if let Some(apv) = &params.apv {
        header.set_agreement_partyvinfo(apv);
    }

    let key = josekit_jwk(&Params::EC(point.to_public())).map_err(JweError::Encryption)?;
    let encrypter = josekit::jwe::ECDH_ES
        .encrypter_from_jwk(&key)
        .map_err(JweError::Encryption)?;
    josekit::jwe::serialize_compact(payload, &header, &encrypter).map_err(JweError::Encryption)
}

/// Decrypts a compact JWE with `alg: ECDH-ES` using the recipient's private
/// P-256 key, and returns its protected header and plaintext.
///
/// When both the header and the key carry a `kid`, they must agree.
pub fn decrypt(jwe: &str, private: &JWK) -> Result<Decrypted, JweError> {
    let parts: Vec<&str> = jwe.split('.').collect();
    let [header_b64, encrypted_key, iv, _ciphertext, tag] = parts[..] else {
        return Err(JweError::Malformed(
            "a compact JWE has five dot-separated parts",
        ));
    };
    let header = parse_header(header_b64)?;
    if !encrypted_key.is_empty() {
        return Err(JweError::Malformed(
            "ECDH-ES direct key agreement has an empty encrypted key",
        ));
    }
    let iv = b64url_decode(iv).map_err(|_| JweError::Malformed("the IV is not base64url"))?;
    if iv.len() != 12 {
        return Err(JweError::Malformed("the AES-GCM IV must be 96 bits"));
    }
    let tag = b64url_decode(tag).map_err(|_| JweError::Malformed("the tag is not base64url"))?;
    if tag.len() != 16 {
        return Err(JweError::Malformed("the AES-GCM tag must be 128 bits"));
    }

    let point = p256_params(private)?;
    check_usage(private)?;
    if point.ecc_private_key.is_none() {
        return Err(JweError::MissingPrivateKey);
    }
    check_point(point).map_err(JweError::InvalidKey)?;
    if let (Some(header_kid), Some(key_kid)) = (&header.kid, &private.key_id)
        && header_kid != key_kid
    {
        return Err(JweError::KeyMismatch {
            header_kid: header_kid.clone(),
            key_kid: key_kid.clone(),
        });
    }

    let key = josekit_jwk(&private.params).map_err(JweError::Decryption)?;
    let decrypter = josekit::jwe::ECDH_ES
        .decrypter_from_jwk(&key)
        .map_err(JweError::Decryption)?;
    let (payload, _) =
        josekit::jwe::deserialize_compact(jwe, &decrypter).map_err(JweError::Decryption)?;
    Ok(Decrypted { header, payload })
}

/// Parses a JWK as published for encryption, where `alg` may be `ECDH-ES`
/// (OpenID4VP 1.0 §8.3 `client_metadata.jwks`). `ssi_jwk::JWK` cannot
/// represent that value, so it is checked and dropped; it is implied by
/// [`encrypt`] and [`decrypt`]. Another `alg` is refused.
pub fn encryption_jwk(mut value: Map<String, Value>) -> Result<JWK, JweError> {
    match value.remove("alg") {
        None => {}
        Some(Value::String(alg)) if alg == KeyAgreement::EcdhEs.as_str() => {}
        Some(Value::String(alg)) => {
            return Err(JweError::KeyUsage {
                param: "alg",
                value: alg,
            });
        }
        Some(other) => {
            return Err(JweError::KeyUsage {
                param: "alg",
                value: other.to_string(),
            });
        }
    }
    serde_json::from_value(Value::Object(value)).map_err(JweError::InvalidJwk)
}

/// Decodes and checks the protected header: the closed `alg`/`enc` sets,
/// no `crit`, no `zip`, and an `epk` that is a P-256 point.
fn parse_header(header_b64: &str) -> Result<JweHeader, JweError> {
    let bytes = b64url_decode(header_b64)
        .map_err(|_| JweError::Malformed("the protected header is not base64url"))?;
    let map: Map<String, Value> =
        serde_json::from_slice(&bytes).map_err(JweError::InvalidHeader)?;
    match map.get("alg") {
        Some(Value::String(alg)) => alg.parse::<KeyAgreement>()?,
        _ => {
            return Err(JweError::Malformed(
                "the protected header has no string `alg`",
            ));
        }
    };
    match map.get("enc") {
        Some(Value::String(enc)) => enc.parse::<ContentEncryption>()?,
        _ => {
            return Err(JweError::Malformed(
                "the protected header has no string `enc`",
            ));
        }
    };
    if let Some(crit) = map.get("crit") {
        let names = match crit {
            Value::Array(names) => names
                .iter()
                .map(|n| n.as_str().map_or_else(|| n.to_string(), str::to_owned))
                .collect(),
            other => vec![other.to_string()],
        };
        return Err(JweError::UnknownCrit(names));
    }
    if let Some(zip) = map.get("zip") {
        let zip = zip.as_str().map_or_else(|| zip.to_string(), str::to_owned);
        return Err(JweError::UnsupportedZip(zip));
    }
    let header: JweHeader =
        serde_json::from_value(Value::Object(map)).map_err(JweError::InvalidHeader)?;
    let Params::EC(epk) = &header.epk.params else {
        return Err(JweError::InvalidEphemeralKey("not an EC key"));
    };
    if epk.curve.as_deref() != Some("P-256") {
        return Err(JweError::InvalidEphemeralKey("not on curve P-256"));
    }
    if epk.ecc_private_key.is_some() {
        return Err(JweError::InvalidEphemeralKey("it carries a private key"));
    }
    check_point(epk).map_err(JweError::InvalidEphemeralKey)?;
    Ok(header)
}

/// Refuses keys whose `use`, `key_ops` or `alg` rule out key agreement
/// (RFC 7517 §4.2–4.4).
fn check_usage(jwk: &JWK) -> Result<(), JweError> {
    if let Some(usage) = jwk.public_key_use.as_deref().filter(|u| *u != "enc") {
        return Err(JweError::KeyUsage {
            param: "use",
            value: usage.to_owned(),
        });
    }
    if let Some(ops) = &jwk.key_operations
        && !ops.iter().any(|op| op == "deriveKey")
    {
        return Err(JweError::KeyUsage {
            param: "key_ops",
            value: ops.join(","),
        });
    }
    // `ssi_jwk::Algorithm` only lists signature algorithms: any value is one.
    if let Some(alg) = jwk.algorithm {
        return Err(JweError::KeyUsage {
            param: "alg",
            value: alg.as_str().to_owned(),
        });
    }
    Ok(())
}

/// The EC parameters of a P-256 key.
fn p256_params(jwk: &JWK) -> Result<&ECParams, JweError> {
    match &jwk.params {
        Params::EC(ec) if ec.curve.as_deref() == Some("P-256") => Ok(ec),
        Params::EC(ec) => Err(JweError::UnsupportedKey {
            kty: "EC".to_owned(),
            crv: ec.curve.clone(),
        }),
        Params::OKP(okp) => Err(JweError::UnsupportedKey {
            kty: "OKP".to_owned(),
            crv: Some(okp.curve.clone()),
        }),
        Params::RSA(_) => Err(JweError::UnsupportedKey {
            kty: "RSA".to_owned(),
            crv: None,
        }),
        Params::Symmetric(_) => Err(JweError::UnsupportedKey {
            kty: "oct".to_owned(),
            crv: None,
        }),
    }
}

/// Checks that `x`, `y` are 32 bytes each and name a point on P-256.
fn check_point(ec: &ECParams) -> Result<(), &'static str> {
    let (Some(x), Some(y)) = (&ec.x_coordinate, &ec.y_coordinate) else {
        return Err("missing x or y coordinate");
    };
    if x.0.len() != 32 || y.0.len() != 32 {
        return Err("P-256 coordinates must be 32 bytes each");
    }
    let mut uncompressed = Vec::with_capacity(65);
    uncompressed.push(0x04);
    uncompressed.extend_from_slice(&x.0);
    uncompressed.extend_from_slice(&y.0);
    ParsedPublicKey::try_from(&UnparsedPublicKey::new(&ECDH_P256, uncompressed))
        .map(drop)
        .map_err(|_| "the point is not on P-256")
}

/// Converts key parameters to `josekit`'s JWK through their JSON form. Only
/// `kty`, `crv`, `x`, `y` (and `d`) pass: usage members were checked above.
fn josekit_jwk(params: &Params) -> Result<josekit::jwk::Jwk, josekit::JoseError> {
    let json =
        serde_json::to_vec(params).map_err(|e| josekit::JoseError::InvalidJwkFormat(e.into()))?;
    josekit::jwk::Jwk::from_bytes(json)
}

/// Serde for optional base64url members (`apu`, `apv`).
mod b64url_opt {
    use super::{Deserialize, Deserializer, Serializer, b64url_decode, b64url_encode};

    pub(super) fn serialize<S: Serializer>(
        value: &Option<Vec<u8>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(bytes) => serializer.serialize_str(&b64url_encode(bytes)),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        let text = String::deserialize(deserializer)?;
        b64url_decode(&text)
            .map(Some)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p256_private() -> JWK {
        serde_json::from_value(json!({
            "kty": "EC", "crv": "P-256", "kid": "ac", "use": "enc",
            "x": "YO4epjifD-KWeq1sL2tNmm36BhXnkJ0He-WqMYrp9Fk",
            "y": "Hekpm0zfK7C-YccH5iBjcIXgf6YdUvNUac_0At55Okk",
            "d": "Et-3ce0omz8_TuZ96Df9lp0GAaaDoUnDe6X-CRO7Aww"
        }))
        .unwrap()
    }

    /// Splits a compact JWE and swaps its header for `header`.
    fn with_header(jwe: &str, header: Value) -> String {
        let rest = jwe.split_once('.').unwrap().1;
        format!(
            "{}.{rest}",
            b64url_encode(serde_json::to_vec(&header).unwrap())
        )
    }

    fn header_of(jwe: &str) -> Value {
        let b64 = jwe.split('.').next().unwrap();
        serde_json::from_slice(&b64url_decode(b64).unwrap()).unwrap()
    }

    #[test]
    fn round_trip_a128gcm_and_a256gcm_with_apu_apv() {
        let key = p256_private();
        for enc in [ContentEncryption::A128GCM, ContentEncryption::A256GCM] {
            let params = JweHeaderParams {
                apu: Some(b"wallet-nonce".to_vec()),
                apv: Some(b"verifier-nonce".to_vec()),
                typ: Some("oauth-authz-resp+jwt".to_owned()),
                ..JweHeaderParams::default()
            };
            let jwe = encrypt(b"{\"vp_token\":{}}", &key.to_public(), enc, &params).unwrap();
            let opened = decrypt(&jwe, &key).unwrap();
            assert_eq!(opened.payload, b"{\"vp_token\":{}}");
            assert_eq!(opened.header.enc, enc);
            assert_eq!(opened.header.alg, KeyAgreement::EcdhEs);
            assert_eq!(opened.header.apu.as_deref(), Some(&b"wallet-nonce"[..]));
            assert_eq!(opened.header.apv.as_deref(), Some(&b"verifier-nonce"[..]));
            assert_eq!(opened.header.kid.as_deref(), Some("ac"));
            assert_eq!(opened.header.typ.as_deref(), Some("oauth-authz-resp+jwt"));
            assert_eq!(header_of(&jwe)["apu"], b64url_encode(b"wallet-nonce"));
        }
    }

    #[test]
    fn explicit_kid_overrides_the_key_kid() {
        let key = p256_private();
        let params = JweHeaderParams {
            kid: Some("other".to_owned()),
            ..Default::default()
        };
        let jwe = encrypt(b"x", &key, ContentEncryption::A128GCM, &params).unwrap();
        assert_eq!(header_of(&jwe)["kid"], "other");
        assert!(matches!(
            decrypt(&jwe, &key),
            Err(JweError::KeyMismatch { header_kid, key_kid })
                if header_kid == "other" && key_kid == "ac"
        ));
    }

    #[test]
    fn malformed_compact_forms() {
        let key = p256_private();
        let jwe = encrypt(b"x", &key, ContentEncryption::A128GCM, &Default::default()).unwrap();
        let parts: Vec<&str> = jwe.split('.').collect();
        let cases = [
            "a.b.c".to_owned(),
            format!("{}.AAAA.{}.{}.{}", parts[0], parts[2], parts[3], parts[4]),
            format!("{}..{}.{}.{}", parts[0], "AAAA", parts[3], parts[4]),
            format!(
                "{}..{}.{}.{}",
                parts[0],
                parts[2],
                parts[3],
                &parts[4][..11]
            ),
            format!("{}..{}.{}.{}", parts[0], "!!", parts[3], parts[4]),
            format!("{}..{}.{}.{}", parts[0], parts[2], parts[3], "!!"),
            format!("!!..{}.{}.{}", parts[2], parts[3], parts[4]),
        ];
        for case in cases {
            assert!(
                matches!(decrypt(&case, &key), Err(JweError::Malformed(_))),
                "{case}"
            );
        }
    }

    #[test]
    fn truncated_tag_is_refused_before_decryption() {
        let key = p256_private();
        let jwe = encrypt(b"x", &key, ContentEncryption::A128GCM, &Default::default()).unwrap();
        let (head, tag) = jwe.rsplit_once('.').unwrap();
        let short = b64url_encode(&b64url_decode(tag).unwrap()[..4]);
        assert!(matches!(
            decrypt(&format!("{head}.{short}"), &key),
            Err(JweError::Malformed("the AES-GCM tag must be 128 bits"))
        ));
    }

    #[test]
    fn header_rules() {
        let key = p256_private();
        let jwe = encrypt(b"x", &key, ContentEncryption::A128GCM, &Default::default()).unwrap();
        let header = header_of(&jwe);
        let edit = |f: &dyn Fn(&mut Map<String, Value>)| {
            let mut h = header.as_object().unwrap().clone();
            f(&mut h);
            with_header(&jwe, Value::Object(h))
        };

        let rsa = edit(&|h| {
            h.insert("alg".into(), json!("RSA-OAEP"));
        });
        assert!(matches!(decrypt(&rsa, &key), Err(JweError::UnsupportedAlg(a)) if a == "RSA-OAEP"));
        let cbc = edit(&|h| {
            h.insert("enc".into(), json!("A128CBC-HS256"));
        });
        assert!(
            matches!(decrypt(&cbc, &key), Err(JweError::UnsupportedEnc(e)) if e == "A128CBC-HS256")
        );
        let crit = edit(&|h| {
            h.insert("crit".into(), json!(["exp"]));
        });
        assert!(matches!(decrypt(&crit, &key), Err(JweError::UnknownCrit(c)) if c == ["exp"]));
        let zip = edit(&|h| {
            h.insert("zip".into(), json!("DEF"));
        });
        assert!(matches!(decrypt(&zip, &key), Err(JweError::UnsupportedZip(z)) if z == "DEF"));
        let no_alg = edit(&|h| {
            h.remove("alg");
        });
        assert!(matches!(
            decrypt(&no_alg, &key),
            Err(JweError::Malformed(_))
        ));
        let no_enc = edit(&|h| {
            h.remove("enc");
        });
        assert!(matches!(
            decrypt(&no_enc, &key),
            Err(JweError::Malformed(_))
        ));
        let bad_apu = edit(&|h| {
            h.insert("apu".into(), json!("not base64url!"));
        });
        assert!(matches!(
            decrypt(&bad_apu, &key),
            Err(JweError::InvalidHeader(_))
        ));
        let not_object = with_header(&jwe, json!(["alg"]));
        assert!(matches!(
            decrypt(&not_object, &key),
            Err(JweError::InvalidHeader(_))
        ));
    }

    #[test]
    fn ephemeral_key_rules() {
        let key = p256_private();
        let jwe = encrypt(b"x", &key, ContentEncryption::A128GCM, &Default::default()).unwrap();
        let header = header_of(&jwe);
        let with_epk = |epk: Value| {
            let mut h = header.as_object().unwrap().clone();
            h.insert("epk".into(), epk);
            with_header(&jwe, Value::Object(h))
        };
        let epk = header["epk"].clone();
        let mut off_curve = epk.clone();
        off_curve["y"] = json!(epk["x"].clone());
        let mut p384 = epk.clone();
        p384["crv"] = json!("P-384");
        let mut private = epk.clone();
        private["d"] = json!("Et-3ce0omz8_TuZ96Df9lp0GAaaDoUnDe6X-CRO7Aww");
        let okp = json!({
            "kty": "OKP", "crv": "X25519", "x": "3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08"
        });
        for bad in [off_curve, p384, private, okp] {
            assert!(
                matches!(
                    decrypt(&with_epk(bad.clone()), &key),
                    Err(JweError::InvalidEphemeralKey(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn key_rules() {
        let key = p256_private();
        let jwe = encrypt(b"x", &key, ContentEncryption::A128GCM, &Default::default()).unwrap();

        assert!(matches!(
            decrypt(&jwe, &key.to_public()),
            Err(JweError::MissingPrivateKey)
        ));

        let mut sig = key.clone();
        sig.public_key_use = Some("sig".to_owned());
        assert!(matches!(
            decrypt(&jwe, &sig),
            Err(JweError::KeyUsage { param: "use", .. })
        ));
        assert!(matches!(
            encrypt(b"x", &sig, ContentEncryption::A128GCM, &Default::default()),
            Err(JweError::KeyUsage { param: "use", .. })
        ));
        let mut ops = key.clone();
        ops.key_operations = Some(vec!["sign".to_owned()]);
        assert!(matches!(
            decrypt(&jwe, &ops),
            Err(JweError::KeyUsage {
                param: "key_ops",
                ..
            })
        ));
        let mut alg = key.clone();
        alg.algorithm = Some(ssi_jwk::Algorithm::ES256);
        assert!(matches!(
            decrypt(&jwe, &alg),
            Err(JweError::KeyUsage { param: "alg", .. })
        ));

        let ed: JWK = serde_json::from_value(json!({
            "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
        }))
        .unwrap();
        assert!(matches!(
            encrypt(b"x", &ed, ContentEncryption::A128GCM, &Default::default()),
            Err(JweError::UnsupportedKey { kty, crv })
                if kty == "OKP" && crv.as_deref() == Some("Ed25519")
        ));

        let mut off_curve = key.to_public();
        if let Params::EC(ec) = &mut off_curve.params {
            ec.y_coordinate = ec.x_coordinate.clone();
        }
        assert!(matches!(
            encrypt(
                b"x",
                &off_curve,
                ContentEncryption::A128GCM,
                &Default::default()
            ),
            Err(JweError::InvalidKey("the point is not on P-256"))
        ));
    }

    #[test]
    fn wrong_key_or_altered_ciphertext_fails_decryption() {
        let key = p256_private();
        let other: JWK = serde_json::from_value(json!({
            "kty": "EC", "crv": "P-256",
            "x": "gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0",
            "y": "SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps",
            "d": "0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo"
        }))
        .unwrap();
        let jwe = encrypt(
            b"secret",
            &key,
            ContentEncryption::A256GCM,
            &Default::default(),
        )
        .unwrap();
        assert!(matches!(
            decrypt(&jwe, &other),
            Err(JweError::Decryption(_))
        ));

        let mut parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
        let mut ciphertext = b64url_decode(&parts[3]).unwrap();
        ciphertext[0] ^= 1;
        parts[3] = b64url_encode(ciphertext);
        assert!(matches!(
            decrypt(&parts.join("."), &key),
            Err(JweError::Decryption(_))
        ));
    }

    #[test]
    fn encryption_jwk_accepts_ecdh_es_alg_only() {
        let mut map = json!({
            "kty": "EC", "crv": "P-256", "alg": "ECDH-ES", "use": "enc",
            "x": "YO4epjifD-KWeq1sL2tNmm36BhXnkJ0He-WqMYrp9Fk",
            "y": "Hekpm0zfK7C-YccH5iBjcIXgf6YdUvNUac_0At55Okk"
        });
        let jwk = encryption_jwk(map.as_object().unwrap().clone()).unwrap();
        assert!(jwk.algorithm.is_none());
        map["alg"] = json!("RSA-OAEP");
        assert!(matches!(
            encryption_jwk(map.as_object().unwrap().clone()),
            Err(JweError::KeyUsage { param: "alg", value }) if value == "RSA-OAEP"
        ));
        map["alg"] = json!(7);
        assert!(matches!(
            encryption_jwk(map.as_object().unwrap().clone()),
            Err(JweError::KeyUsage { param: "alg", .. })
        ));
        assert!(matches!(
            encryption_jwk(Map::new()),
            Err(JweError::InvalidJwk(_))
        ));
    }

    #[test]
    fn enum_names() {
        assert_eq!(ContentEncryption::A256GCM.to_string(), "A256GCM");
        assert_eq!(
            "A128GCM".parse::<ContentEncryption>().unwrap(),
            ContentEncryption::A128GCM
        );
        assert_eq!(
            "ECDH-ES".parse::<KeyAgreement>().unwrap().as_str(),
            "ECDH-ES"
        );
    }
}
