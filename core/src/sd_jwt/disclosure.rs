//! Disclosures (RFC 9901 §4.2) and their digests (§4.2.3).

use serde_json::Value;
use ssi_sd_jwt::{DisclosureBuf, DisclosureDescription, SdAlg};

use super::SdJwtError;
use crate::jose::{b64url_decode, json_from_bytes};

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

/// A disclosure's JSON array, two or three members, read without a `Vec`
/// in between.
struct Members(Value, Value, Option<Value>);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(MembersVisitor)
    }
}

struct MembersVisitor;

impl<'de> serde::de::Visitor<'de> for MembersVisitor {
    type Value = Members;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[salt, name, value] or [salt, value]")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Members, A::Error> {
        use serde::de::Error as _;
        let (Some(first), Some(second)) = (seq.next_element()?, seq.next_element()?) else {
            return Err(A::Error::invalid_length(1, &self));
        };
        let third = seq.next_element()?;
        if third.is_some() && seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
            return Err(A::Error::invalid_length(4, &self));
        }
        Ok(Members(first, second, third))
    }
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
    ///
    /// The JSON array is read once and its members moved out, not copied.
    pub fn parse(encoded: &str, index: usize) -> Result<Self, SdJwtError> {
        let malformed = || SdJwtError::MalformedDisclosure {
            index,
            reason: "not base64url of [salt, name, value] or [salt, value]",
        };
        let bytes = b64url_decode(encoded).map_err(|_| malformed())?;
        let Members(first, second, third) = json_from_bytes(&bytes).map_err(|_| malformed())?;
        let (salt, kind) = match (first, second, third) {
            (Value::String(salt), Value::String(name), Some(value)) => {
                (salt, DisclosureKind::Property { name, value })
            }
            (Value::String(salt), value, None) => (salt, DisclosureKind::ArrayElement(value)),
            _ => return Err(malformed()),
        };
        Ok(Self {
            encoded: encoded.to_owned(),
            digest: SdAlg::Sha256.hash(encoded),
            salt,
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
