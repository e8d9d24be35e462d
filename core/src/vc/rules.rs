//! Cross-field rules of a credential type: what its JSON Schema cannot say.
//!
//! An Intyg extension kept beside the schema, as
//! `specs/credentials/<type>/rules.json` (optional; see `specs/PROFILE.md`):
//!
//! ```json
//! {"rules": [
//!   {"rule": "not_after_today", "claim": "registered_since"},
//!   {"rule": "not_before", "claim": "eligible_until", "other": "eligible_from"}
//! ]}
//! ```
//!
//! | rule | holds when |
//! |---|---|
//! | `not_after_today` | the date claim `claim` is today or earlier |
//! | `not_before` | the date claim `claim` is on or after the date claim `other` |
//!
//! Rules about which claims are present belong in the schema
//! (`if`/`then`/`else`, `dependentRequired`); [`conditional_requirements`]
//! reads the one shape forms explain ("`programme` is required exactly when
//! `registration_status` is `in_programme`"). A rule whose claims are absent
//! or are not full-dates holds: the schema reports those. Today is the
//! caller's (this crate has no clock).

use jiff::civil::Date;
use serde::Deserialize;
use serde_json::{Map, Value};

/// The rules of one type (`rules.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimRules {
    /// A note for readers (`$comment`), ignored.
    #[serde(rename = "$comment", default)]
    pub comment: Option<String>,
    /// The rules, each checked on its own.
    pub rules: Vec<Rule>,
}

/// One cross-field rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// The date claim `claim` is not after today.
    NotAfterToday {
        /// The top-level claim.
        claim: String,
    },
    /// The date claim `claim` is not before the date claim `other`.
    NotBefore {
        /// The top-level claim checked.
        claim: String,
        /// The top-level claim it may not precede.
        other: String,
    },
}

/// A rule that does not hold, with the limit it crossed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleViolation {
    /// `claim` is after today.
    AfterToday {
        /// The claim.
        claim: String,
        /// Today, the latest date allowed.
        today: Date,
    },
    /// `claim` is before `other`.
    Before {
        /// The claim.
        claim: String,
        /// The claim it may not precede.
        other: String,
        /// `other`'s date, the earliest allowed.
        limit: Date,
    },
}

impl RuleViolation {
    /// The claim at fault.
    pub fn claim(&self) -> &str {
        match self {
            Self::AfterToday { claim, .. } | Self::Before { claim, .. } => claim,
        }
    }
}

impl std::fmt::Display for RuleViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::AfterToday { claim, today } => {
                write!(f, "{claim}: must not be later than today ({today})")
            }
            Self::Before {
                claim,
                other,
                limit,
            } => write!(f, "{claim}: must not be earlier than {other} ({limit})"),
        }
    }
}

/// Why `rules.json` was refused.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// Not JSON, or not the rules' shape (an unknown rule included).
    #[error("rules are not valid: {0}")]
    Json(#[from] serde_json::Error),
    /// A rule names a claim the schema does not declare as a full-date.
    #[error("rule on {claim:?}: the schema does not declare it as a string of format date")]
    NotADate {
        /// The claim.
        claim: String,
    },
}

impl ClaimRules {
    /// Parses `rules.json`.
    pub fn parse(json: &str) -> Result<Self, RulesError> {
        Ok(serde_json::from_str(json)?)
    }

    /// The claims the rules compare, in rule order.
    pub fn claims(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().flat_map(|rule| match rule {
            Rule::NotAfterToday { claim } => vec![claim.as_str()],
            Rule::NotBefore { claim, other } => vec![claim.as_str(), other.as_str()],
        })
    }

    /// Every rule that does not hold for `claims` on `today`.
    pub fn check(&self, claims: &Map<String, Value>, today: Date) -> Vec<RuleViolation> {
        let date = |name: &str| {
            claims
                .get(name)
                .and_then(Value::as_str)
                .and_then(|text| text.parse::<Date>().ok())
        };
        self.rules
            .iter()
            .filter_map(|rule| match rule {
                Rule::NotAfterToday { claim } => {
                    date(claim)
                        .filter(|d| *d > today)
                        .map(|_| RuleViolation::AfterToday {
                            claim: claim.clone(),
                            today,
                        })
                }
                Rule::NotBefore { claim, other } => match (date(claim), date(other)) {
                    (Some(d), Some(limit)) if d < limit => Some(RuleViolation::Before {
                        claim: claim.clone(),
                        other: other.clone(),
                        limit,
                    }),
                    _ => None,
                },
            })
            .collect()
    }

    /// Whether `claim` may not be later than today (for a form's hint).
    pub fn not_after_today(&self, claim: &str) -> bool {
        self.rules
            .iter()
            .any(|rule| matches!(rule, Rule::NotAfterToday { claim: c } if c == claim))
    }

    /// The claim `claim` may not precede, if any (for a form's hint).
    pub fn not_before(&self, claim: &str) -> Option<&str> {
        self.rules.iter().find_map(|rule| match rule {
            Rule::NotBefore { claim: c, other } if c == claim => Some(other.as_str()),
            _ => None,
        })
    }
}

/// "`then_required` is required exactly when `when` is `equals`": a schema
/// `if: {properties: {when: {const: equals}}, required: [when]}` with
/// `then: {required: [then_required]}` and `else: {properties:
/// {then_required: false}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionalRequirement {
    /// The claim required or forbidden.
    pub claim: String,
    /// The claim whose value decides.
    pub when: String,
    /// The value that makes `claim` required (any other forbids it).
    pub equals: Value,
}

/// The [`ConditionalRequirement`]s of a schema document: its top-level
/// `if`/`then`/`else` and those inside `allOf`.
pub fn conditional_requirements(schema: &Value) -> Vec<ConditionalRequirement> {
    let top = std::iter::once(schema);
    let all_of = schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    top.chain(all_of).filter_map(conditional).collect()
}

fn conditional(schema: &Value) -> Option<ConditionalRequirement> {
    let condition = schema.get("if")?;
    let properties = condition.get("properties")?.as_object()?;
    let [(when, test)] = properties.iter().collect::<Vec<_>>()[..] else {
        return None;
    };
    let equals = test.get("const")?.clone();
    let required: Vec<&str> = schema
        .pointer("/then/required")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let [claim] = required[..] else {
        return None;
    };
    let forbidden =
        schema.pointer(&format!("/else/properties/{claim}")) == Some(&Value::Bool(false));
    forbidden.then(|| ConditionalRequirement {
        claim: claim.to_owned(),
        when: when.clone(),
        equals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TODAY: Date = jiff::civil::date(2026, 12, 3);

    fn rules() -> ClaimRules {
        ClaimRules::parse(
            r#"{"rules": [
                {"rule": "not_after_today", "claim": "registered_since"},
                {"rule": "not_before", "claim": "eligible_until", "other": "eligible_from"}
            ]}"#,
        )
        .unwrap()
    }

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn a_date_after_today_is_refused() {
        let found = rules().check(&claims(json!({"registered_since": "2099-01-01"})), TODAY);
        assert_eq!(
            found,
            [RuleViolation::AfterToday {
                claim: "registered_since".into(),
                today: TODAY
            }]
        );
        assert_eq!(
            found[0].to_string(),
            "registered_since: must not be later than today (2026-12-03)"
        );
        for fine in ["2026-12-03", "2020-01-01"] {
            assert!(
                rules()
                    .check(&claims(json!({"registered_since": fine})), TODAY)
                    .is_empty()
            );
        }
    }

    #[test]
    fn an_end_before_its_start_is_refused() {
        let found = rules().check(
            &claims(json!({"eligible_from": "2027-02-01", "eligible_until": "2027-01-31"})),
            TODAY,
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].claim(), "eligible_until");
        assert_eq!(
            found[0].to_string(),
            "eligible_until: must not be earlier than eligible_from (2027-02-01)"
        );
        assert!(
            rules()
                .check(
                    &claims(json!({"eligible_from": "2027-02-01", "eligible_until": "2027-02-01"})),
                    TODAY
                )
                .is_empty()
        );
    }

    #[test]
    fn absent_or_malformed_dates_are_left_to_the_schema() {
        let found = rules().check(
            &claims(json!({"registered_since": "2099-02-30", "eligible_until": "2020-01-01"})),
            TODAY,
        );
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn unknown_rules_are_refused() {
        assert!(ClaimRules::parse(r#"{"rules": [{"rule": "soon", "claim": "x"}]}"#).is_err());
        assert!(ClaimRules::parse(r#"{"rules": [], "extra": 1}"#).is_err());
    }

    #[test]
    fn the_programme_rule_is_read_from_the_schema() {
        let schema = json!({
            "if": {"properties": {"registration_status": {"const": "in_programme"}},
                   "required": ["registration_status"]},
            "then": {"required": ["programme"]},
            "else": {"properties": {"programme": false}}
        });
        assert_eq!(
            conditional_requirements(&schema),
            [ConditionalRequirement {
                claim: "programme".into(),
                when: "registration_status".into(),
                equals: json!("in_programme"),
            }]
        );
        assert!(conditional_requirements(&json!({"type": "object"})).is_empty());
    }
}
