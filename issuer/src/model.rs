//! What the issuer stores.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A credential offer made to one person for one credential type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Offer {
    /// Offer id (UUID); also the last segment of its `credential_offer_uri`.
    pub id: String,
    /// The pre-authorized code (high entropy, single use).
    pub pre_authorized_code: String,
    /// SHA-256 (hex) of the transaction code (PIN), when one is required.
    pub tx_code_hash: Option<String>,
    /// Wrong PINs tried so far; the offer dies at the limit.
    pub failed_attempts: u32,
    /// The credential configuration offered.
    pub credential_configuration_id: String,
    /// The credential record this offer issues.
    pub credential_id: String,
    /// Seconds since the epoch after which the code is refused.
    pub expires_at: i64,
    /// Whether the code was exchanged for a token.
    pub redeemed: bool,
}

/// What an access token lets its bearer fetch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessGrant {
    /// SHA-256 (hex) of the access token; the token itself is never stored.
    pub token_hash: String,
    /// The credential record to issue.
    pub credential_id: String,
    /// The credential configuration granted.
    pub credential_configuration_id: String,
    /// Expiry, seconds since the epoch.
    pub expires_at: i64,
    /// `cnf.jkt` (RFC 9449 §6): the thumbprint of the DPoP key the token is
    /// bound to; `None` for a Bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jkt: Option<String>,
}

/// Where an issued or offered credential stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialState {
    /// Offered, not yet fetched by a wallet.
    Offered,
    /// Issued and valid.
    Issued,
    /// Revoked for good (status 0x01).
    Revoked,
    /// Suspended for now (status 0x02).
    Suspended,
}

/// A credential the agency offered and perhaps issued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialRecord {
    /// Record id (UUID).
    pub id: String,
    /// The person: personal identity number.
    pub subject: String,
    /// The credential configuration (type folder name).
    pub credential_configuration_id: String,
    /// The claims about the subject.
    pub claims: Map<String, Value>,
    /// Current state.
    pub state: CredentialState,
    /// Status list indices of the copies issued (one per holder key of a batch).
    pub status_indices: Vec<u64>,
    /// When the offer was made.
    pub created_at: i64,
    /// When the wallet fetched it.
    pub issued_at: Option<i64>,
    /// Why, when and by whom it was revoked (set by the officer portal,
    /// which requires a reason; the admin API records none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation: Option<Revocation>,
}

/// Why an officer revoked a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationReason {
    /// The person is no longer registered with the agency.
    Deregistered,
    /// What the credential says is no longer true.
    DataChanged,
    /// It was issued by mistake (wrong person, wrong data).
    IssuedInError,
    /// The person asked for it (a lost or stolen phone, say).
    PersonAsked,
    /// Another reason, written in the note.
    Other,
}

impl RevocationReason {
    /// Every reason, in the order the portal lists them.
    pub const ALL: [Self; 5] = [
        Self::Deregistered,
        Self::DataChanged,
        Self::IssuedInError,
        Self::PersonAsked,
        Self::Other,
    ];

    /// The form value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deregistered => "deregistered",
            Self::DataChanged => "data_changed",
            Self::IssuedInError => "issued_in_error",
            Self::PersonAsked => "person_asked",
            Self::Other => "other",
        }
    }

    /// The reason whose form value is `value`.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == value)
    }
}

/// The record of a revocation, kept with the credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// Why.
    pub reason: RevocationReason,
    /// The officer's words (required with [`RevocationReason::Other`]).
    pub note: String,
    /// Who: the officer's username.
    pub by: String,
    /// When, seconds since the epoch.
    pub at: i64,
}

pub use intyg_core::identity_number::{IdentityNumberError, PersonalIdentityNumber};

/// Why a name is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Nothing but whitespace.
    #[error("the name is empty")]
    Empty,
    /// More than [`Person::MAX_NAME_CHARS`] characters.
    #[error("the name is longer than 200 characters")]
    TooLong,
    /// A control character (line break, tab, ESC, a bidi override, ...;
    /// see `intyg_core::text`).
    #[error("the name contains a control character: {0}")]
    ControlCharacter(intyg_core::text::ControlCharacter),
}

/// A job seeker registered with the agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// The person's personal identity number; the store's key.
    pub personal_identity_number: PersonalIdentityNumber,
    /// All given names, as in the population register.
    pub given_name: String,
    /// Family name(s).
    pub family_name: String,
    /// Date of birth, `YYYY-MM-DD`, derived from the number.
    pub birthdate: String,
    /// When registered, seconds since the epoch.
    pub registered_at: i64,
    /// Who registered the person: an officer's username, or
    /// [`Person::BY_ADMIN_API`].
    pub registered_by: String,
}

impl Person {
    /// `registered_by` of a registration through the admin API.
    pub const BY_ADMIN_API: &str = "admin-api";
    /// The longest name accepted, in characters (the credential schemas'
    /// `maxLength`).
    pub const MAX_NAME_CHARS: usize = 200;

    /// A person with the birthdate taken from the number.
    pub fn new(
        personal_identity_number: PersonalIdentityNumber,
        given_name: String,
        family_name: String,
        registered_at: i64,
        registered_by: String,
    ) -> Self {
        Self {
            birthdate: personal_identity_number.birthdate().to_string(),
            personal_identity_number,
            given_name,
            family_name,
            registered_at,
            registered_by,
        }
    }

    /// A name as it is stored: trimmed, not empty, at most
    /// [`Person::MAX_NAME_CHARS`] characters, no control characters.
    pub fn name(text: &str) -> Result<String, NameError> {
        let name = text.trim();
        if name.is_empty() {
            Err(NameError::Empty)
        } else if name.chars().count() > Self::MAX_NAME_CHARS {
            Err(NameError::TooLong)
        } else {
            intyg_core::text::check(name, intyg_core::text::Lines::Single)
                .map_err(NameError::ControlCharacter)?;
            Ok(name.to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_takes_the_birthdate_from_the_number() {
        let person = Person::new(
            "197010632391".parse().unwrap(),
            "Ana".into(),
            "Silva".into(),
            0,
            Person::BY_ADMIN_API.into(),
        );
        assert_eq!(person.birthdate, "1970-10-03");
    }

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(Person::name("  Karin Elisabet ").unwrap(), "Karin Elisabet");
        assert_eq!(Person::name(" \t "), Err(NameError::Empty));
        assert_eq!(Person::name(&"Å".repeat(201)), Err(NameError::TooLong));
        assert!(Person::name(&"Å".repeat(200)).is_ok());
        assert_eq!(
            Person::name("Karin\nLindqvist"),
            Err(NameError::ControlCharacter(
                intyg_core::text::ControlCharacter {
                    character: '\n',
                    position: 6
                }
            ))
        );
    }
}
