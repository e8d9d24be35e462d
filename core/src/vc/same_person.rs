//! Whether two credentials name the same person: the applicant's PID
//! (EUDI PID Rulebook, SD-JWT VC encoding) next to a credential about
//! them (the registration certificate). An Intyg rule, see
//! `specs/PROFILE.md` ("The PID in applications").
//!
//! The person is their given names, family name and date of birth. Names
//! are compared after Unicode normalization and full case folding (the
//! Unicode canonical caseless match, chapter 3.13: NFD, full case fold,
//! then NFC), with leading, trailing and repeated white space ignored:
//! `LINDQVIST` and `Lindqvist` are the same name, and so are a
//! precomposed `ö` (U+00F6) and `o` followed by a combining diaeresis
//! (U+0308). Dates of birth must be the same calendar day. Nothing else
//! is forgiven: another given name, a missing middle name or another day
//! is another person.
//!
//! Each type says where its claims are ([`PersonPaths`]); the PID and
//! Intyg's registration certificate both use the top-level
//! `given_name`, `family_name` and `birthdate` (its `schema.json`).
//! Errors name the claim, never its value.

use serde_json::{Map, Value};
use unicode_normalization::UnicodeNormalization as _;

/// Where a credential type keeps the claims that identify the person,
/// each a path of object keys from the top level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonPaths {
    /// All given names.
    pub given_name: &'static [&'static str],
    /// The family name(s).
    pub family_name: &'static [&'static str],
    /// The date of birth, RFC 3339 full-date.
    pub birthdate: &'static [&'static str],
}

impl PersonPaths {
    /// The EUDI PID in SD-JWT VC form (`urn:eudi:pid:1`): the rulebook's
    /// `given_name`, `family_name`, and `birth_date` encoded as
    /// `birthdate`.
    pub const PID: Self = Self {
        given_name: &["given_name"],
        family_name: &["family_name"],
        birthdate: &["birthdate"],
    };

    /// Intyg's registration certificate
    /// (`https://intyg.se/credentials/registration-certificate/v1`).
    pub const REGISTRATION_CERTIFICATE: Self = Self {
        given_name: &["given_name"],
        family_name: &["family_name"],
        birthdate: &["birthdate"],
    };
}

/// One of the claims that identify a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonClaim {
    /// The given names.
    GivenName,
    /// The family name.
    FamilyName,
    /// The date of birth.
    Birthdate,
}

impl PersonClaim {
    /// The claim's name as the error messages and codes give it.
    pub fn name(self) -> &'static str {
        match self {
            Self::GivenName => "given_name",
            Self::FamilyName => "family_name",
            Self::Birthdate => "birthdate",
        }
    }
}

impl std::fmt::Display for PersonClaim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why two credentials are not known to name the same person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SamePersonError {
    /// A credential did not disclose the claim (or it is not a string).
    #[error("the {credential} does not disclose `{claim}` as a string")]
    Missing {
        /// Which credential: `first` or `second` as given, or the
        /// caller's name for it.
        credential: &'static str,
        /// The claim.
        claim: PersonClaim,
    },
    /// A date of birth is not an RFC 3339 full-date.
    #[error("the {credential}'s `birthdate` is not a date")]
    NotADate {
        /// Which credential.
        credential: &'static str,
    },
    /// Both disclose the claim, and the values differ.
    #[error("`{claim}` differs between the two credentials")]
    Differs {
        /// The claim.
        claim: PersonClaim,
    },
}

impl SamePersonError {
    /// The claim concerned.
    pub fn claim(&self) -> PersonClaim {
        match self {
            Self::Missing { claim, .. } | Self::Differs { claim } => *claim,
            Self::NotADate { .. } => PersonClaim::Birthdate,
        }
    }
}

/// One credential's claims with where its type keeps the person, and the
/// name errors use for it (`"PID"`, `"registration certificate"`).
#[derive(Debug, Clone, Copy)]
pub struct Credential<'a> {
    /// What errors call it.
    pub name: &'static str,
    /// Its disclosed claims.
    pub claims: &'a Map<String, Value>,
    /// Where its type keeps the person's claims.
    pub paths: PersonPaths,
}

/// `Ok` when `first` and `second` name the same person: the same given
/// names and family name (canonical caseless match, white space runs
/// counted as one space) and the same date of birth. The first
/// difference is reported, in the order given names, family name, date.
pub fn check(first: Credential<'_>, second: Credential<'_>) -> Result<(), SamePersonError> {
    for claim in [PersonClaim::GivenName, PersonClaim::FamilyName] {
        let a = name_key(text(&first, claim)?);
        let b = name_key(text(&second, claim)?);
        if a != b {
            return Err(SamePersonError::Differs { claim });
        }
    }
    let a = date(&first)?;
    let b = date(&second)?;
    if a != b {
        return Err(SamePersonError::Differs {
            claim: PersonClaim::Birthdate,
        });
    }
    Ok(())
}

/// The form names are compared in: NFD, full case folding, NFC, with
/// white space trimmed and each run of it one space.
pub fn name_key(name: &str) -> String {
    let folded: String = caseless::default_case_fold_str(&name.nfd().collect::<String>());
    let composed: String = folded.nfc().collect();
    composed.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn text<'a>(credential: &Credential<'a>, claim: PersonClaim) -> Result<&'a str, SamePersonError> {
    let path = match claim {
        PersonClaim::GivenName => credential.paths.given_name,
        PersonClaim::FamilyName => credential.paths.family_name,
        PersonClaim::Birthdate => credential.paths.birthdate,
    };
    let missing = || SamePersonError::Missing {
        credential: credential.name,
        claim,
    };
    let (last, parents) = path.split_last().ok_or_else(missing)?;
    let mut object = credential.claims;
    for key in parents {
        object = object
            .get(*key)
            .and_then(Value::as_object)
            .ok_or_else(missing)?;
    }
    object
        .get(*last)
        .and_then(Value::as_str)
        .ok_or_else(missing)
}

fn date(credential: &Credential<'_>) -> Result<jiff::civil::Date, SamePersonError> {
    text(credential, PersonClaim::Birthdate)?
        .trim()
        .parse::<jiff::civil::Date>()
        .map_err(|_| SamePersonError::NotADate {
            credential: credential.name,
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(given: &str, family: &str, birthdate: &str) -> Map<String, Value> {
        let Value::Object(map) =
            json!({"given_name": given, "family_name": family, "birthdate": birthdate})
        else {
            unreachable!()
        };
        map
    }

    fn pid(claims: &Map<String, Value>) -> Credential<'_> {
        Credential {
            name: "PID",
            claims,
            paths: PersonPaths::PID,
        }
    }

    fn registration(claims: &Map<String, Value>) -> Credential<'_> {
        Credential {
            name: "registration certificate",
            claims,
            paths: PersonPaths::REGISTRATION_CERTIFICATE,
        }
    }

    fn registered() -> Map<String, Value> {
        claims("Karin Elisabet", "Lindqvist", "1994-03-17")
    }

    #[test]
    fn the_same_person_matches() {
        let a = registered();
        assert_eq!(check(pid(&a), registration(&registered())), Ok(()));
    }

    #[test]
    fn decomposed_and_precomposed_names_match() {
        // "Åsa Öberg" precomposed (U+00C5, U+00D6) and decomposed
        // (A + U+030A, O + U+0308).
        let precomposed = claims("\u{c5}sa", "\u{d6}berg", "1990-01-02");
        let decomposed = claims("A\u{30a}sa", "O\u{308}berg", "1990-01-02");
        assert_ne!(precomposed["given_name"], decomposed["given_name"]);
        assert_eq!(check(pid(&decomposed), registration(&precomposed)), Ok(()));
    }

    #[test]
    fn upper_case_names_match() {
        let upper = claims("KARIN ELISABET", "LINDQVIST", "1994-03-17");
        assert_eq!(check(pid(&upper), registration(&registered())), Ok(()));
        // Full folding: ß is ss, and white space runs count as one.
        let a = claims("Karin  Elisabet ", "Strauß", "1994-03-17");
        let b = claims("karin elisabet", "STRAUSS", "1994-03-17");
        assert_eq!(check(pid(&a), registration(&b)), Ok(()));
    }

    #[test]
    fn another_given_name_is_another_person() {
        let other = claims("Karin", "Lindqvist", "1994-03-17");
        assert_eq!(
            check(pid(&other), registration(&registered())),
            Err(SamePersonError::Differs {
                claim: PersonClaim::GivenName
            })
        );
        let other = claims("Karin Elisabet", "Lindkvist", "1994-03-17");
        assert_eq!(
            check(pid(&other), registration(&registered())),
            Err(SamePersonError::Differs {
                claim: PersonClaim::FamilyName
            })
        );
    }

    #[test]
    fn another_birth_date_is_another_person() {
        let other = claims("Karin Elisabet", "Lindqvist", "1994-03-18");
        let error = check(pid(&other), registration(&registered())).unwrap_err();
        assert_eq!(
            error,
            SamePersonError::Differs {
                claim: PersonClaim::Birthdate
            }
        );
        // The message names the claim, never a value.
        assert!(!error.to_string().contains("1994"), "{error}");
    }

    #[test]
    fn a_claim_not_disclosed_or_not_a_date_is_reported() {
        let mut partial = registered();
        partial.remove("family_name");
        assert_eq!(
            check(pid(&partial), registration(&registered())),
            Err(SamePersonError::Missing {
                credential: "PID",
                claim: PersonClaim::FamilyName
            })
        );
        let bad = claims("Karin Elisabet", "Lindqvist", "17/03/1994");
        assert_eq!(
            check(pid(&registered()), registration(&bad)),
            Err(SamePersonError::NotADate {
                credential: "registration certificate"
            })
        );
    }
}
