//! Disclosures (RFC 9901 §4.2) and their digests (§4.2.3).

use ssi_sd_jwt::{DecodedDisclosure, DisclosureBuf, DisclosureDescription, SdAlg};

use super::SdJwtError;

/// What a disclosure reveals.
#[derive(Debug, Clone, PartialEq)]
pub enum DisclosureKind {
    /// `[salt, name, value]`: an object property (§4.2.1).
    Property {
        /// The claim name.
        name: String,
        /// The claim value.
        value: serde_json::Value,
    },
    /// `[salt, value]`: an array element (§4.2.2).
    ArrayElement(serde_json::Value),
}

/// One disclosure, as sent (the base64url string is kept byte for byte,
/// since digests are computed over it) and as decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Disclosure {
    encoded: String,
    digest: String,
    /// The salt.
    pub salt: String,
    /// The revealed property or array element.
    pub kind: DisclosureKind,
}

impl Disclosure {
    /// Decodes a disclosure; `index` is its position, for error messages.
    pub fn parse(encoded: &str, index: usize) -> Result<Self, SdJwtError> {
        let malformed = |reason| SdJwtError::MalformedDisclosure { index, reason };
        let decoded = DecodedDisclosure::new(encoded)
            .map_err(|_| malformed("not base64url of [salt, name, value] or [salt, value]"))?;
        let kind = match decoded.desc {
            DisclosureDescription::ObjectEntry { key, value } => {
                DisclosureKind::Property { name: key, value }
            }
            DisclosureDescription::ArrayItem(value) => DisclosureKind::ArrayElement(value),
        };
        Ok(Self {
            encoded: encoded.to_owned(),
            digest: SdAlg::Sha256.hash(encoded),
            salt: decoded.salt,
            kind,
        })
    }

    /// Makes a disclosure with a fresh salt (§4.2: 128 bits from a CSPRNG).
    pub(crate) fn new(kind: DisclosureKind) -> Self {
        let salt = super::random_b64(16);
        let description = match &kind {
            DisclosureKind::Property { name, value } => DisclosureDescription::ObjectEntry {
                key: name.clone(),
                value: value.clone(),
            },
            DisclosureKind::ArrayElement(value) => DisclosureDescription::ArrayItem(value.clone()),
        };
        let encoded = DisclosureBuf::encode_from_parts(&salt, &description)
            .as_disclosure()
            .as_str()
            .to_owned();
        Self {
            digest: SdAlg::Sha256.hash(&encoded),
            encoded,
            salt,
            kind,
        }
    }

    /// The base64url form that travels in the SD-JWT.
    pub fn as_str(&self) -> &str {
        &self.encoded
    }

    /// The SHA-256 digest of the base64url form, base64url-encoded.
    pub fn digest(&self) -> &str {
        &self.digest
    }
}
