//! Identifiers and opaque values of OpenID4VCI 1.0, as validated newtypes.
//!
//! <https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html>
//!
//! Each type keeps its string private and can only be built through
//! [`FromStr`]/[`TryFrom`] (or serde, which calls the same check), so a value
//! in hand is never empty, blank or oversized. Secrets (codes, tokens,
//! verifiers) print as `[redacted]` in `Debug`, so they never reach a log by
//! accident.

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::jose::b64url_encode;

/// Upper bound on the length of any identifier or opaque value, in bytes.
/// Far above anything the spec's examples use; it bounds memory and log
/// sizes for values that come from the network.
pub const MAX_ID_LEN: usize = 4096;

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The value is the empty string.
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// The value has only whitespace (e.g. `"    "`).
    #[error("{0} must not be blank")]
    Blank(&'static str),
    /// The value is longer than [`MAX_ID_LEN`] or its type's own limit.
    #[error("{what} is longer than {max} bytes")]
    TooLong {
        /// Which identifier.
        what: &'static str,
        /// The limit.
        max: usize,
    },
    /// The value has a character its type does not allow.
    #[error("{what} has a character that is not allowed at byte {position}")]
    InvalidCharacter {
        /// Which identifier.
        what: &'static str,
        /// Byte offset of the first offending character.
        position: usize,
    },
}

/// Which characters an identifier may contain.
#[derive(Clone, Copy)]
enum Charset {
    /// RFC 6749 Appendix A `VSCHAR`: printable ASCII, `%x20-7E`.
    Vschar,
    /// Any Unicode scalar except control characters.
    Text,
    /// RFC 6750 §2.1 `b64token`: `ALPHA / DIGIT / "-" / "." / "_" / "~" /
    /// "+" / "/"`, then `"="` padding.
    B64Token,
}

fn check(value: &str, what: &'static str, charset: Charset) -> Result<(), IdError> {
    if value.is_empty() {
        return Err(IdError::Empty(what));
    }
    if value.len() > MAX_ID_LEN {
        return Err(IdError::TooLong {
            what,
            max: MAX_ID_LEN,
        });
    }
    if value.trim().is_empty() {
        return Err(IdError::Blank(what));
    }
    let bad = match charset {
        Charset::Vschar => value.find(|c: char| !(' '..='~').contains(&c)),
        Charset::Text => value.find(char::is_control),
        Charset::B64Token => {
            let body = value.trim_end_matches('=');
            body.find(|c: char| !(c.is_ascii_alphanumeric() || "-._~+/".contains(c)))
                .or_else(|| body.is_empty().then_some(0))
        }
    };
    match bad {
        Some(position) => Err(IdError::InvalidCharacter { what, position }),
        None => Ok(()),
    }
}

/// 32 bytes from the system's secure random source, base64url-encoded
/// (43 characters, 256 bits of entropy).
pub(crate) fn random_token() -> Result<String, crate::jose::JoseError> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| crate::jose::JoseError::Signing)?;
    Ok(b64url_encode(bytes))
}

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident, $what:literal, $charset:expr, debug: $debug:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(value: &str) -> Result<Self, IdError> {
                check(value, $what, $charset)?;
                Ok(Self(value.to_owned()))
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                check(&value, $what, $charset)?;
                Ok(Self(value))
            }
        }

        impl TryFrom<&str> for $name {
            type Error = IdError;
            fn try_from(value: &str) -> Result<Self, IdError> {
                value.parse()
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = String::deserialize(deserializer)?;
                Self::try_from(value).map_err(serde::de::Error::custom)
            }
        }

        string_id!(@debug $debug $name);
    };
    (@debug plain $name:ident) => {
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.0).finish()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
    (@debug secret $name:ident) => {
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl $name {
            /// A fresh value: 256 random bits, base64url (43 characters).
            pub fn generate() -> Result<Self, crate::jose::JoseError> {
                Ok(Self(random_token()?))
            }
        }
    };
}

string_id!(
    /// A key of `credential_configurations_supported` (§12.2.4), named in
    /// offers (§4.1.1), authorization details (§5.1.1) and Credential
    /// Requests (§8.2). Any text without control characters.
    CredentialConfigurationId, "credential_configuration_id", Charset::Text, debug: plain
);

string_id!(
    /// A Credential Dataset identifier returned in the Token Response's
    /// `authorization_details` (`credential_identifiers`, §6.2) and sent as
    /// `credential_identifier` (§8.2).
    CredentialIdentifier, "credential_identifier", Charset::Text, debug: plain
);

string_id!(
    /// `issuer_state` (§4.1.1, §5.1.3): opaque to the Wallet, echoed in the
    /// Authorization Request. Printable ASCII, not blank.
    IssuerState, "issuer_state", Charset::Vschar, debug: plain
);

string_id!(
    /// `c_nonce` (§7.2): a server-provided nonce the key proof must carry.
    /// Printable ASCII.
    CNonce, "c_nonce", Charset::Vschar, debug: plain
);

string_id!(
    /// `transaction_id` (§8.3): a deferred issuance transaction.
    TransactionId, "transaction_id", Charset::Vschar, debug: plain
);

string_id!(
    /// `notification_id` (§8.3, §11.1).
    NotificationId, "notification_id", Charset::Vschar, debug: plain
);

string_id!(
    /// `pre-authorized_code` (§4.1.1, §6.1): short-lived and single use, a
    /// bearer secret. Printable ASCII (RFC 6749 `VSCHAR`).
    PreAuthorizedCode, "pre-authorized_code", Charset::Vschar, debug: secret
);

string_id!(
    /// The authorization `code` of RFC 6749 §4.1.2, a bearer secret.
    /// Printable ASCII (RFC 6749 `VSCHAR`).
    AuthorizationCode, "code", Charset::Vschar, debug: secret
);

string_id!(
    /// `tx_code` (§6.1): the Transaction Code the End-User types in. Checked
    /// against the offer's [`TxCodeSpec`](super::TxCodeSpec) with
    /// [`TxCodeSpec::check`](super::TxCodeSpec::check).
    TxCode, "tx_code", Charset::Text, debug: secret
);

string_id!(
    /// `access_token` (§6.2, RFC 6749 §5.1), sent as a Bearer or DPoP token,
    /// so it uses RFC 6750's `b64token` characters.
    AccessToken, "access_token", Charset::B64Token, debug: secret
);

string_id!(
    /// `refresh_token` (RFC 6749 §5.1). Printable ASCII.
    RefreshToken, "refresh_token", Charset::Vschar, debug: secret
);

impl CNonce {
    /// A fresh nonce: 256 random bits, base64url (43 characters).
    pub fn generate() -> Result<Self, crate::jose::JoseError> {
        Ok(Self(random_token()?))
    }
}

impl TransactionId {
    /// A fresh transaction id: 256 random bits, base64url.
    pub fn generate() -> Result<Self, crate::jose::JoseError> {
        Ok(Self(random_token()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_blank_and_long_values_are_refused() {
        assert_eq!(
            "".parse::<IssuerState>(),
            Err(IdError::Empty("issuer_state"))
        );
        assert_eq!(
            "    ".parse::<IssuerState>(),
            Err(IdError::Blank("issuer_state"))
        );
        assert_eq!(
            "a".repeat(MAX_ID_LEN + 1).parse::<CNonce>(),
            Err(IdError::TooLong {
                what: "c_nonce",
                max: MAX_ID_LEN
            })
        );
    }

    #[test]
    fn charsets_are_enforced() {
        assert_eq!(
            "ab\ncd".parse::<PreAuthorizedCode>(),
            Err(IdError::InvalidCharacter {
                what: "pre-authorized_code",
                position: 2
            })
        );
        assert!("モバイル".parse::<CredentialConfigurationId>().is_ok());
        assert!("a\u{7}".parse::<CredentialConfigurationId>().is_err());
        assert!(
            "eyJhbGciOiJSUzI1NiIsInR5cCI6Ikp..sHQ"
                .parse::<AccessToken>()
                .is_ok()
        );
        assert!("abc==".parse::<AccessToken>().is_ok());
        assert_eq!(
            "a b".parse::<AccessToken>(),
            Err(IdError::InvalidCharacter {
                what: "access_token",
                position: 1
            })
        );
        assert_eq!(
            "==".parse::<AccessToken>(),
            Err(IdError::InvalidCharacter {
                what: "access_token",
                position: 0
            })
        );
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let code: PreAuthorizedCode = "SplxlOBeZQQYbYS6WxSbIA".parse().unwrap();
        assert_eq!(format!("{code:?}"), "PreAuthorizedCode([redacted])");
        let token = AccessToken::generate().unwrap();
        assert!(!format!("{token:?}").contains(token.as_str()));
        assert_eq!(token.as_str().len(), 43);
    }

    #[test]
    fn serde_goes_through_validation() {
        assert!(serde_json::from_str::<IssuerState>("\"  \"").is_err());
        let nonce: CNonce = serde_json::from_str("\"wKI4LT17ac15ES9bw8ac4\"").unwrap();
        assert_eq!(
            serde_json::to_string(&nonce).unwrap(),
            "\"wKI4LT17ac15ES9bw8ac4\""
        );
        assert_ne!(CNonce::generate().unwrap(), CNonce::generate().unwrap());
        assert!(TransactionId::generate().is_ok());
    }
}
