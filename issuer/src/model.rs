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
}

/// A Swedish personal identity number (*personnummer*) or coordination
/// number (*samordningsnummer*, day of birth plus 60): 12 digits
/// `YYYYMMDDNNNN` whose date is a real date and whose last digit is the
/// Luhn check digit of the nine before it. Made only by
/// [`PersonalIdentityNumber::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonalIdentityNumber(String);

/// Why a personal identity number is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PersonalIdentityNumberError {
    /// Not exactly 12 ASCII digits.
    #[error("a personal identity number is 12 digits, YYYYMMDDNNNN")]
    Format,
    /// `YYYYMMDD` is no date, neither as it stands nor with 60 taken from
    /// the day (a coordination number; an unknown day, `60`, has no date).
    #[error("the date part of the personal identity number is not a date")]
    Date,
    /// The last digit is not the Luhn check digit of the nine before it.
    #[error("the check digit of the personal identity number is wrong")]
    CheckDigit,
}

impl PersonalIdentityNumber {
    /// Checks the format, the date (coordination numbers included) and the
    /// Luhn check digit over the last ten digits.
    pub fn parse(text: &str) -> Result<Self, PersonalIdentityNumberError> {
        let bytes = text.as_bytes();
        if bytes.len() != 12 || !bytes.iter().all(u8::is_ascii_digit) {
            return Err(PersonalIdentityNumberError::Format);
        }
        let digits: Vec<u32> = bytes.iter().map(|b| u32::from(b - b'0')).collect();
        let number =
            |range: std::ops::Range<usize>| digits[range].iter().fold(0, |n, &d| n * 10 + d);
        let (year, month, day) = (number(0..4), number(4..6), number(6..8));
        let day = if day > 60 { day - 60 } else { day };
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(PersonalIdentityNumberError::Date);
        }
        let sum: u32 = digits[2..11]
            .iter()
            .enumerate()
            .map(|(i, &d)| {
                let weighted = if i % 2 == 0 { d * 2 } else { d };
                weighted / 10 + weighted % 10
            })
            .sum();
        if (10 - sum % 10) % 10 != digits[11] {
            return Err(PersonalIdentityNumberError::CheckDigit);
        }
        Ok(Self(text.to_owned()))
    }

    /// The 12 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The date of birth, `YYYY-MM-DD` (a coordination number's day less 60).
    pub fn birthdate(&self) -> String {
        let (year, month, day) = (&self.0[0..4], &self.0[4..6], &self.0[6..8]);
        // `parse` checked that the day is 01..=31 or 61..=91.
        let day = day
            .parse::<u32>()
            .map_or(0, |d| if d > 60 { d - 60 } else { d });
        format!("{year}-{month}-{day:02}")
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl std::str::FromStr for PersonalIdentityNumber {
    type Err = PersonalIdentityNumberError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl TryFrom<String> for PersonalIdentityNumber {
    type Error = PersonalIdentityNumberError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<PersonalIdentityNumber> for String {
    fn from(number: PersonalIdentityNumber) -> Self {
        number.0
    }
}

/// Why a name is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Nothing but whitespace.
    #[error("the name is empty")]
    Empty,
    /// More than [`Person::MAX_NAME_CHARS`] characters.
    #[error("the name is longer than 200 characters")]
    TooLong,
    /// A control character (line break, tab, ...).
    #[error("the name contains a control character")]
    ControlCharacter,
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
            birthdate: personal_identity_number.birthdate(),
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
        } else if name.chars().any(char::is_control) {
            Err(NameError::ControlCharacter)
        } else {
            Ok(name.to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<PersonalIdentityNumber, PersonalIdentityNumberError> {
        PersonalIdentityNumber::parse(text)
    }

    #[test]
    fn valid_numbers_and_their_birthdates() {
        for (number, birthdate) in [
            ("199403172381", "1994-03-17"),
            ("198507099805", "1985-07-09"),
            ("200112201116", "2001-12-20"),
            ("197805245672", "1978-05-24"),
            // Skatteverket's example, 12-digit form.
            ("198112189876", "1981-12-18"),
            ("200002290005", "2000-02-29"),
        ] {
            let parsed = parse(number).unwrap();
            assert_eq!(parsed.as_str(), number);
            assert_eq!(parsed.birthdate(), birthdate);
        }
    }

    #[test]
    fn coordination_numbers_are_day_plus_sixty() {
        // Skatteverket's example coordination number 701063-2391.
        let parsed = parse("197010632391").unwrap();
        assert_eq!(parsed.birthdate(), "1970-10-03");
        // Day 60 (unknown day) and 92 (32 + 60) are no dates.
        assert_eq!(
            parse("197010602391"),
            Err(PersonalIdentityNumberError::Date)
        );
        assert_eq!(
            parse("197010922391"),
            Err(PersonalIdentityNumberError::Date)
        );
    }

    #[test]
    fn format_is_twelve_ascii_digits() {
        for text in [
            "",
            "9403172381",
            "19940317-2381",
            "1994031723810",
            "19940317238x",
            "١٩٩٤٠٣١٧٢٣٨١",
        ] {
            assert_eq!(
                parse(text),
                Err(PersonalIdentityNumberError::Format),
                "{text}"
            );
        }
    }

    #[test]
    fn dates_are_checked() {
        for text in [
            "199413172381", // month 13
            "199400172381", // month 0
            "199403002381", // day 0
            "199404312381", // 31 April
            "190002292381", // 1900 is no leap year
            "199403322381", // day 32
            "199403592381", // day 59: neither a date nor a coordination number
        ] {
            assert_eq!(
                parse(text),
                Err(PersonalIdentityNumberError::Date),
                "{text}"
            );
        }
    }

    #[test]
    fn check_digit_is_luhn_over_the_last_ten_digits() {
        for last in 0..=9 {
            let text = format!("19940317238{last}");
            let expected = if last == 1 {
                Ok(())
            } else {
                Err(PersonalIdentityNumberError::CheckDigit)
            };
            assert_eq!(parse(&text).map(|_| ()), expected, "{text}");
        }
        // The century is not part of the check.
        assert!(parse("209403172381").is_ok());
    }

    #[test]
    fn serde_refuses_an_invalid_number() {
        let ok: PersonalIdentityNumber = serde_json::from_str("\"199403172381\"").unwrap();
        assert_eq!(serde_json::to_string(&ok).unwrap(), "\"199403172381\"");
        assert!(serde_json::from_str::<PersonalIdentityNumber>("\"199403172382\"").is_err());
    }

    #[test]
    fn person_takes_the_birthdate_from_the_number() {
        let person = Person::new(
            parse("197010632391").unwrap(),
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
            Err(NameError::ControlCharacter)
        );
    }
}
