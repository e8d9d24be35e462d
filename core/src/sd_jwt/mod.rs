//! Selective Disclosure for JWTs, RFC 9901.
//!
//! The pipeline is three types, each made only by the step before it:
//!
//! 1. [`SdJwt`]: a parsed SD-JWT or SD-JWT+KB, compact (§4) or JSON (§8)
//!    serialization. Nothing is checked beyond shape.
//! 2. [`Disclosed`]: digests resolved against the disclosures (§7.1 steps
//!    3 to 5). A holder uses this to read and present its own credential.
//! 3. [`Verified`]: issuer signature, time claims and key binding checked
//!    (§7.1, §7.3). Only [`Disclosed::verify`] (or [`SdJwt::verify`]) makes one.
//!
//! ```
//! use intyg_core::jose::{Algorithm, Header, SigningKey, VerifyingKey};
//! use intyg_core::sd_jwt::{self, IssueOptions, KeyBindingInput, KeyBindingCheck, SdJwt, VerifyOptions};
//!
//! let issuer = SigningKey::generate()?;
//! let holder = SigningKey::generate()?;
//! let claims = serde_json::json!({
//!     "iss": "https://issuer.example", "iat": 1_700_000_000,
//!     "cnf": { "jwk": holder.public_jwk() },
//!     "given_name": "Alva", "address": { "locality": "Lund", "country": "SE" }
//! });
//! let options = IssueOptions::new(["/given_name", "/address", "/address/locality"]);
//! let issued = sd_jwt::issue(claims.as_object().unwrap().clone(), &options, Header::new(Algorithm::ES256), &issuer)?;
//!
//! let held = SdJwt::parse(&issued.to_string())?.disclose()?;
//! let kb = KeyBindingInput { key: &holder, aud: "https://verifier.example".into(), nonce: "n-1".into(), iat: 1_700_000_100 };
//! let presentation = held.present(&["/address/locality"], Some(kb))?;
//!
//! let options = VerifyOptions::at(1_700_000_120)
//!     .key_binding(KeyBindingCheck::new("https://verifier.example", "n-1"));
//! let verified = SdJwt::parse(&presentation)?.verify(&VerifyingKey::from_jwk(&issuer.public_jwk())?, &options)?;
//! assert_eq!(verified.claims["address"]["locality"], "Lund");
//! assert!(verified.claims.get("given_name").is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod disclosure;
mod error;
mod issue;
mod present;
mod reveal;
mod verify;

pub use disclosure::{Disclosure, DisclosureKind};
pub use error::{IssueError, PresentError, SdJwtError};
pub use issue::{IssueOptions, issue};
pub use present::KeyBindingInput;
pub use reveal::Disclosed;
pub use verify::{
    DEFAULT_KB_MAX_AGE, DEFAULT_LEEWAY, KbJwtClaims, KeyBindingCheck, Verified, VerifyOptions,
};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::jose::{CompactJws, b64url_encode};

/// The `typ` of a Key Binding JWT (RFC 9901 §4.3).
pub const KB_JWT_TYP: &str = "kb+jwt";

/// The only `_sd_alg` we implement, and the default when it is absent (§4.1.1).
pub const SHA_256: &str = "sha-256";

/// Length of a base64url SHA-256 digest without padding.
const SD_HASH_LEN: usize = 43;

/// A parsed SD-JWT or SD-JWT+KB, not yet checked.
#[derive(Debug, Clone, PartialEq)]
pub struct SdJwt {
    /// The Issuer-signed JWT. The JSON serialization may carry several
    /// signatures over one payload; the first is the one a KB-JWT hashes.
    issuer_jwt: Vec<CompactJws>,
    payload: Map<String, Value>,
    disclosures: Vec<Disclosure>,
    kb_jwt: Option<CompactJws>,
}

impl SdJwt {
    /// Parses the compact serialization (§4) or, if the input starts with
    /// `{`, the flattened or general JSON serialization (§8).
    pub fn parse(input: &str) -> Result<Self, SdJwtError> {
        let input = input.trim();
        if input.starts_with('{') {
            return Self::parse_json(input);
        }
        let Some((parts, last)) = input.rsplit_once('~') else {
            return Err(SdJwtError::Malformed(
                "no `~` separator after the issuer-signed JWT".into(),
            ));
        };
        let kb_jwt = if last.is_empty() {
            None
        } else {
            Some(parse_kb(last)?)
        };
        let mut parts = parts.split('~');
        let jws = CompactJws::parse(parts.next().unwrap_or_default()).map_err(SdJwtError::Jws)?;
        let disclosures = parse_disclosures(parts)?;
        Self::assemble(vec![jws], disclosures, kb_jwt)
    }

    fn parse_json(input: &str) -> Result<Self, SdJwtError> {
        let json: serialization::Json = serde_json::from_str(input)
            .map_err(|e| SdJwtError::Malformed(format!("JSON serialization: {e}")))?;
        let (signatures, header) = json.into_parts()?;
        let kb_jwt = header.kb_jwt.as_deref().map(parse_kb).transpose()?;
        let disclosures = parse_disclosures(header.disclosures.iter().map(String::as_str))?;
        let issuer_jwt = signatures
            .iter()
            .map(|compact| CompactJws::parse(compact).map_err(SdJwtError::Jws))
            .collect::<Result<_, _>>()?;
        Self::assemble(issuer_jwt, disclosures, kb_jwt)
    }

    fn assemble(
        issuer_jwt: Vec<CompactJws>,
        disclosures: Vec<Disclosure>,
        kb_jwt: Option<CompactJws>,
    ) -> Result<Self, SdJwtError> {
        let first = issuer_jwt
            .first()
            .ok_or_else(|| SdJwtError::Malformed("no signature".into()))?;
        let payload = first.payload_json().map_err(|_| {
            SdJwtError::Malformed("issuer-signed JWT payload is not a JSON object".into())
        })?;
        Ok(Self {
            issuer_jwt,
            payload,
            disclosures,
            kb_jwt,
        })
    }

    /// The Issuer-signed JWT's protected header.
    pub fn header(&self) -> &crate::jose::Header {
        &self.issuer_jwt[0].header
    }

    /// The Issuer-signed JWT's payload, digests and all.
    pub fn payload(&self) -> &Map<String, Value> {
        &self.payload
    }

    /// The disclosures, in the order they were sent.
    pub fn disclosures(&self) -> &[Disclosure] {
        &self.disclosures
    }

    /// The Key Binding JWT, if one was appended.
    pub fn kb_jwt(&self) -> Option<&CompactJws> {
        self.kb_jwt.as_ref()
    }

    /// The SD-JWT without its KB-JWT, ending in `~`: the input of `sd_hash` (§4.3.1).
    pub fn without_kb(&self) -> String {
        let mut out = self.issuer_jwt[0].as_str().to_owned();
        out.push('~');
        for disclosure in &self.disclosures {
            out.push_str(disclosure.as_str());
            out.push('~');
        }
        out
    }

    /// `sd_hash`: base64url SHA-256 of [`without_kb`](Self::without_kb),
    /// hashed part by part rather than copied into one string first.
    pub fn sd_hash(&self) -> String {
        String::from_utf8_lossy(&self.sd_hash_encoded()).into_owned()
    }

    /// [`sd_hash`](Self::sd_hash) as base64url bytes on the stack, for a
    /// comparison that needs no allocation.
    pub(crate) fn sd_hash_encoded(&self) -> [u8; SD_HASH_LEN] {
        let mut hash = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        hash.update(self.issuer_jwt[0].signing_input().as_bytes());
        self.finish_sd_hash(hash)
    }

    /// [`sd_hash_encoded`](Self::sd_hash_encoded) from a SHA-256 state
    /// that has taken the first issuer-signed JWT's signing input
    /// (`header.payload`), which begins the `sd_hash` input.
    pub(crate) fn finish_sd_hash(&self, mut hash: aws_lc_rs::digest::Context) -> [u8; SD_HASH_LEN] {
        let first = &self.issuer_jwt[0];
        hash.update(&first.as_str().as_bytes()[first.signing_input().len()..]);
        hash.update(b"~");
        for disclosure in &self.disclosures {
            hash.update(disclosure.as_str().as_bytes());
            hash.update(b"~");
        }
        let mut encoded = [0; SD_HASH_LEN];
        // 32 bytes are always 43 base64url characters without padding.
        let written = URL_SAFE_NO_PAD
            .encode_slice(hash.finish(), &mut encoded)
            .unwrap_or_default();
        debug_assert_eq!(written, SD_HASH_LEN);
        encoded
    }

    /// The flattened JSON serialization (§8.1), with the disclosures and the
    /// KB-JWT in the unprotected header.
    pub fn to_flattened_json(&self) -> Value {
        let jws = &self.issuer_jwt[0];
        let mut parts = jws.as_str().split('.');
        let (protected, payload, signature) = (parts.next(), parts.next(), parts.next());
        let mut header = Map::new();
        header.insert(
            "disclosures".into(),
            self.disclosures
                .iter()
                .map(|d| Value::from(d.as_str()))
                .collect(),
        );
        if let Some(kb) = &self.kb_jwt {
            header.insert("kb_jwt".into(), kb.as_str().into());
        }
        serde_json::json!({ "payload": payload, "protected": protected, "signature": signature, "header": header })
    }

    pub(crate) fn issuer_jwts(&self) -> &[CompactJws] {
        &self.issuer_jwt
    }
}

impl std::fmt::Display for SdJwt {
    /// The compact serialization.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.without_kb())?;
        if let Some(kb) = &self.kb_jwt {
            f.write_str(kb.as_str())?;
        }
        Ok(())
    }
}

fn parse_kb(text: &str) -> Result<CompactJws, SdJwtError> {
    CompactJws::parse(text).map_err(|e| SdJwtError::KbMalformed(e.to_string()))
}

fn parse_disclosures<'a>(
    parts: impl Iterator<Item = &'a str>,
) -> Result<Vec<Disclosure>, SdJwtError> {
    parts
        .enumerate()
        .map(|(index, part)| {
            if part.is_empty() {
                return Err(SdJwtError::MalformedDisclosure {
                    index,
                    reason: "empty disclosure",
                });
            }
            Disclosure::parse(part, index)
        })
        .collect()
}

/// Random bytes from the system CSPRNG, base64url-encoded.
pub(crate) fn random_b64(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    // aws-lc's RNG fails only if the OS entropy source is gone, which no
    // caller can recover from; salts must never be predictable.
    #[allow(clippy::expect_used)]
    aws_lc_rs::rand::fill(&mut bytes).expect("system random number generator failed");
    b64url_encode(bytes)
}

/// Appends `name` to a JSON pointer, escaping `~` and `/` (RFC 6901 §3).
pub(crate) fn pointer_push(pointer: &str, name: &str) -> String {
    let mut out = String::with_capacity(pointer.len() + 1 + name.len());
    out.push_str(pointer);
    out.push('/');
    push_escaped(&mut out, name);
    out
}

/// Appends a JSON pointer reference token: `name` with `~` and `/` escaped.
pub(crate) fn push_escaped(out: &mut String, name: &str) {
    if !name.contains(['~', '/']) {
        out.push_str(name);
        return;
    }
    for c in name.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

/// The JSON serialization of §8, flattened (§8.1) or general (§8.2).
mod serialization {
    use serde::Deserialize;

    use super::SdJwtError;

    #[derive(Deserialize)]
    pub(super) struct Unprotected {
        #[serde(default)]
        pub(super) disclosures: Vec<String>,
        #[serde(default)]
        pub(super) kb_jwt: Option<String>,
    }

    #[derive(Deserialize)]
    struct Signature {
        protected: String,
        signature: String,
        #[serde(default)]
        header: Option<Unprotected>,
    }

    #[derive(Deserialize)]
    pub(super) struct Json {
        payload: String,
        #[serde(default)]
        protected: Option<String>,
        #[serde(default)]
        signature: Option<String>,
        #[serde(default)]
        header: Option<Unprotected>,
        #[serde(default)]
        signatures: Option<Vec<Signature>>,
    }

    impl Json {
        /// The signatures as compact JWS strings and the unprotected header
        /// holding the disclosures (of the first signature, for §8.2).
        pub(super) fn into_parts(self) -> Result<(Vec<String>, Unprotected), SdJwtError> {
            let compact = |protected: &str, signature: &str| {
                format!("{protected}.{}.{signature}", self.payload)
            };
            match (self.protected, self.signature, self.signatures) {
                (Some(protected), Some(signature), None) => {
                    let header = self.header.unwrap_or(Unprotected { disclosures: Vec::new(), kb_jwt: None });
                    Ok((vec![compact(&protected, &signature)], header))
                }
                (None, None, Some(signatures)) if !signatures.is_empty() => {
                    let compacts = signatures.iter().map(|s| compact(&s.protected, &s.signature)).collect();
                    let header = signatures
                        .into_iter()
                        .next()
                        .and_then(|s| s.header)
                        .unwrap_or(Unprotected { disclosures: Vec::new(), kb_jwt: None });
                    Ok((compacts, header))
                }
                _ => Err(SdJwtError::Malformed(
                    "JSON serialization needs either protected+signature or a non-empty signatures array".into(),
                )),
            }
        }
    }
}
