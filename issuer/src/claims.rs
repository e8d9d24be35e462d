//! What an offer's claims must be before anything is stored, the same for
//! the admin API and the officer portal:
//!
//! 1. The claims that identify the person ([`IDENTITY_CLAIMS`]) come from
//!    the person's record: the number (canonical 12 digits) and the date
//!    of birth from the subject's personal identity number, the names from
//!    the registration (`PersonStore`). Left out, they are filled in; given,
//!    they must equal the record ([`Refusal::Mismatch`]). A subject who is
//!    not registered has no names on record, so names given are kept.
//! 2. Free text has no control characters (`intyg_core::text`).
//! 3. The type's JSON Schema and its cross-field rules (`rules.json`) hold,
//!    today being the date in Stockholm.
//!
//! Computed predicates (`crate::predicates`) given with an offer are
//! dropped: issuance computes them.

use intyg_core::identity_number::PersonalIdentityNumber;
use intyg_core::text::{ControlCharacter, Lines};
use intyg_core::vc::metadata::CredentialType;
use intyg_core::vc::rules::RuleViolation;
use intyg_core::vc::schema::SchemaViolation;
use jiff::civil::Date;
use serde_json::{Map, Value};

use crate::model::Person;

/// The claims a type may declare that identify the person; they are never
/// typed by hand.
pub const IDENTITY_CLAIMS: [&str; 4] = [
    "personal_identity_number",
    "given_name",
    "family_name",
    "birthdate",
];

/// Why claims were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A claim that identifies the person differs from the person's record.
    #[error("claim `{claim}` differs from the person's record")]
    Mismatch {
        /// The claim.
        claim: String,
    },
    /// The claims break the type's schema, its rules or the text rules;
    /// never empty.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Problem>),
}

/// One thing wrong with one claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A string holds a control character.
    Control {
        /// JSON Pointer of the string.
        pointer: String,
        /// The character and where.
        found: ControlCharacter,
    },
    /// The JSON Schema refused it.
    Schema(SchemaViolation),
    /// A cross-field rule does not hold.
    Rule(RuleViolation),
}

impl Problem {
    /// JSON Pointer of the claim at fault (`""` for the whole set).
    pub fn pointer(&self) -> String {
        match self {
            Self::Control { pointer, .. } => pointer.clone(),
            Self::Schema(violation) => violation.pointer.clone(),
            Self::Rule(violation) => format!("/{}", violation.claim()),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Control { pointer, found } => write!(f, "{pointer}: {found}"),
            Self::Schema(v) => {
                let pointer = if v.pointer.is_empty() {
                    "/"
                } else {
                    &v.pointer
                };
                write!(f, "{pointer}: {}", v.message)
            }
            Self::Rule(v) => write!(f, "/{v}"),
        }
    }
}

/// The value the record gives an identity claim, if it has one.
pub fn from_record(
    claim: &str,
    number: &PersonalIdentityNumber,
    person: Option<&Person>,
) -> Option<String> {
    match claim {
        "personal_identity_number" => Some(number.as_str().to_owned()),
        "birthdate" => Some(number.birthdate().to_string()),
        "given_name" => person.map(|p| p.given_name.clone()),
        "family_name" => person.map(|p| p.family_name.clone()),
        _ => None,
    }
}

/// The identity claims `credential_type` declares.
pub fn identity_claims(credential_type: &CredentialType) -> impl Iterator<Item = &'static str> {
    let properties = credential_type.schema.document().get("properties");
    IDENTITY_CLAIMS
        .into_iter()
        .filter(move |name| properties.and_then(|p| p.get(*name)).is_some())
}

/// The claims as they will be signed: identity from the record, then the
/// text, schema and rule checks (every problem found, not only the first).
pub fn prepare(
    credential_type: &CredentialType,
    mut claims: Map<String, Value>,
    number: &PersonalIdentityNumber,
    person: Option<&Person>,
    today: Date,
) -> Result<Map<String, Value>, Refusal> {
    // Predicates are computed at issuance, never given.
    crate::predicates::strip(&mut claims);
    for claim in identity_claims(credential_type) {
        let Some(recorded) = from_record(claim, number, person) else {
            continue;
        };
        let same = match claims.get(claim) {
            None => true,
            Some(Value::String(given)) if claim == "personal_identity_number" => {
                PersonalIdentityNumber::parse(given, today).is_ok_and(|n| &n == number)
            }
            Some(given) => given.as_str() == Some(recorded.as_str()),
        };
        if !same {
            return Err(Refusal::Mismatch {
                claim: claim.to_owned(),
            });
        }
        claims.insert(claim.to_owned(), Value::String(recorded));
    }
    let mut problems = Vec::new();
    for (name, value) in &claims {
        control_characters(&format!("/{}", pointer_token(name)), value, &mut problems);
    }
    if let Err(violations) = credential_type
        .schema
        .validate(&Value::Object(claims.clone()))
    {
        problems.extend(violations.violations.into_iter().map(Problem::Schema));
    }
    problems.extend(
        credential_type
            .rules
            .check(&claims, today)
            .into_iter()
            .map(Problem::Rule),
    );
    if problems.is_empty() {
        Ok(claims)
    } else {
        Err(Refusal::Invalid(problems))
    }
}

fn pointer_token(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// Every string in `value` (object keys too) checked as one line of text.
fn control_characters(pointer: &str, value: &Value, problems: &mut Vec<Problem>) {
    match value {
        Value::String(text) => one_line(pointer, text, problems),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                control_characters(&format!("{pointer}/{i}"), item, problems);
            }
        }
        Value::Object(members) => {
            for (name, member) in members {
                let inner = format!("{pointer}/{}", pointer_token(name));
                one_line(&inner, name, problems);
                control_characters(&inner, member, problems);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn one_line(pointer: &str, text: &str, problems: &mut Vec<Problem>) {
    if let Err(found) = intyg_core::text::check(text, Lines::Single) {
        problems.push(Problem::Control {
            pointer: pointer.to_owned(),
            found,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TODAY: Date = jiff::civil::date(2026, 12, 3);

    fn load(kind: &str) -> CredentialType {
        let dir = format!("{}/../specs/credentials/{kind}", env!("CARGO_MANIFEST_DIR"));
        let read = |f: &str| std::fs::read_to_string(format!("{dir}/{f}")).unwrap();
        CredentialType::from_documents(&read("type-metadata.json"), &read("schema.json"))
            .unwrap()
            .with_rules(&read("rules.json"))
            .unwrap()
    }

    fn karin() -> (PersonalIdentityNumber, Person) {
        let number: PersonalIdentityNumber = "199403172381".parse().unwrap();
        let person = Person::new(
            number.clone(),
            "Karin Elisabet".into(),
            "Lindqvist".into(),
            0,
            Person::BY_ADMIN_API.into(),
        );
        (number, person)
    }

    fn example() -> Map<String, Value> {
        let text = std::fs::read_to_string(format!(
            "{}/../specs/credentials/registration-certificate/example.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn identity_claims_left_out_are_filled_in_from_the_record() {
        let (number, person) = karin();
        let mut claims = example();
        for name in IDENTITY_CLAIMS {
            claims.remove(name);
        }
        let prepared = prepare(
            &load("registration-certificate"),
            claims,
            &number,
            Some(&person),
            TODAY,
        )
        .unwrap();
        assert_eq!(prepared, example());
    }

    #[test]
    fn another_persons_number_is_refused_by_name() {
        let (number, person) = karin();
        for other in ["198507099805", "199403172382", "850709-9805"] {
            let mut claims = example();
            claims.insert("personal_identity_number".into(), json!(other));
            let refused = prepare(
                &load("registration-certificate"),
                claims,
                &number,
                Some(&person),
                TODAY,
            );
            assert_eq!(
                refused,
                Err(Refusal::Mismatch {
                    claim: "personal_identity_number".into()
                }),
                "{other}"
            );
        }
        // The same number written another way is the same number.
        let mut claims = example();
        claims.insert("personal_identity_number".into(), json!("940317-2381"));
        let prepared = prepare(
            &load("registration-certificate"),
            claims,
            &number,
            Some(&person),
            TODAY,
        )
        .unwrap();
        assert_eq!(prepared["personal_identity_number"], "199403172381");
    }

    #[test]
    fn a_birthdate_or_name_other_than_the_records_is_refused() {
        let (number, person) = karin();
        for (claim, value) in [
            ("birthdate", "1994-03-18"),
            ("given_name", "Karin"),
            ("family_name", "Lindkvist"),
        ] {
            let mut claims = example();
            claims.insert(claim.into(), json!(value));
            assert_eq!(
                prepare(
                    &load("registration-certificate"),
                    claims,
                    &number,
                    Some(&person),
                    TODAY
                ),
                Err(Refusal::Mismatch {
                    claim: claim.into()
                })
            );
        }
    }

    #[test]
    fn unregistered_names_are_kept_but_the_number_still_binds() {
        let (number, _) = karin();
        let mut claims = example();
        claims.insert("given_name".into(), json!("Kajsa"));
        let prepared = prepare(
            &load("registration-certificate"),
            claims.clone(),
            &number,
            None,
            TODAY,
        )
        .unwrap();
        assert_eq!(prepared["given_name"], "Kajsa");
        claims.insert("birthdate".into(), json!("1994-02-30"));
        assert_eq!(
            prepare(
                &load("registration-certificate"),
                claims,
                &number,
                None,
                TODAY
            ),
            Err(Refusal::Mismatch {
                claim: "birthdate".into()
            })
        );
    }

    #[test]
    fn rules_schema_and_control_characters_are_all_reported() {
        let (number, person) = karin();
        let mut claims = example();
        claims.insert("registered_since".into(), json!("2099-01-01"));
        claims.insert("office".into(), json!("Malmö\u{1b}[2J"));
        claims.remove("programme");
        let Err(Refusal::Invalid(problems)) = prepare(
            &load("registration-certificate"),
            claims,
            &number,
            Some(&person),
            TODAY,
        ) else {
            panic!("refused as invalid");
        };
        let pointers: Vec<String> = problems.iter().map(Problem::pointer).collect();
        assert!(
            pointers.contains(&"/registered_since".to_owned()),
            "{pointers:?}"
        );
        assert!(pointers.contains(&"/office".to_owned()), "{pointers:?}");
        assert!(pointers.contains(&"/programme".to_owned()), "{pointers:?}");
    }

    #[test]
    fn an_eligibility_ending_before_it_starts_is_refused() {
        let (number, person) = karin();
        let claims = json!({
            "eligible_from": "2027-02-01",
            "eligible_until": "2027-01-31",
            "max_hours_per_week": 20
        });
        let Err(Refusal::Invalid(problems)) = prepare(
            &load("internship-eligibility"),
            claims.as_object().unwrap().clone(),
            &number,
            Some(&person),
            TODAY,
        ) else {
            panic!("refused as invalid");
        };
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].pointer(), "/eligible_until");
    }
}
