//! Minimal attestations: predicate claims the issuer computes at issuance,
//! so that a verifier can learn a fact without the date behind it.
//!
//! `registered_at_least` (registration certificate type): an object of
//! booleans `3_months`, `6_months`, `12_months`, each selectively
//! disclosable (the type metadata says `"sd": "always"` for each), true
//! when `registered_since` is at least that long before the day of
//! issuance (in Stockholm). The credential's validity is cut so that no
//! predicate can become untrue while it is valid: a true stays true for as
//! long as the registration lasts (its end revokes the credential through
//! the status list), and the credential expires on the day the first false
//! one would turn true.
//!
//! Predicates are never typed by an officer or an API caller: offers drop
//! them, and issuance computes them from the stored claims.

use jiff::ToSpan as _;
use jiff::civil::Date;
use serde_json::{Map, Value};

/// The claims computed here, which offers never carry.
pub const COMPUTED_CLAIMS: [&str; 1] = ["registered_at_least"];

/// The predicates of `registered_at_least`: their names and months.
pub const REGISTERED_AT_LEAST: [(&str, i32); 3] =
    [("3_months", 3), ("6_months", 6), ("12_months", 12)];

/// Adds `registered_at_least` to `claims` when `declared` (the type's
/// schema has it) and `registered_since` is a date, as of `today`. Returns
/// the first day on which a predicate that is false today would be true:
/// the credential must have expired by then.
pub fn apply(claims: &mut Map<String, Value>, declared: bool, today: Date) -> Option<Date> {
    if !declared {
        return None;
    }
    let since: Date = claims.get("registered_since")?.as_str()?.parse().ok()?;
    let mut predicates = Map::new();
    let mut turns_true: Option<Date> = None;
    for (name, months) in REGISTERED_AT_LEAST {
        let reached = since.checked_add(months.months()).ok()?;
        let holds = reached <= today;
        predicates.insert(name.to_owned(), Value::Bool(holds));
        if !holds {
            turns_true = Some(turns_true.map_or(reached, |d| d.min(reached)));
        }
    }
    claims.insert("registered_at_least".into(), Value::Object(predicates));
    turns_true
}

/// Removes the computed claims from claims an officer or caller gave.
pub fn strip(claims: &mut Map<String, Value>) {
    for name in COMPUTED_CLAIMS {
        claims.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use serde_json::json;

    fn claims(since: &str) -> Map<String, Value> {
        match json!({"registered_since": since, "registration_status": "job_seeker"}) {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn predicates_hold_from_the_day_the_months_are_reached() {
        let mut c = claims("2026-02-02");
        let cap = apply(&mut c, true, date(2026, 8, 1));
        assert_eq!(
            c["registered_at_least"],
            json!({"3_months": true, "6_months": false, "12_months": false})
        );
        // The credential must be gone when 6 months would turn true.
        assert_eq!(cap, Some(date(2026, 8, 2)));

        let mut c = claims("2026-02-02");
        let cap = apply(&mut c, true, date(2026, 8, 2));
        assert_eq!(c["registered_at_least"]["6_months"], true);
        assert_eq!(cap, Some(date(2027, 2, 2)));

        let mut c = claims("2020-01-31");
        assert_eq!(apply(&mut c, true, date(2026, 1, 1)), None);
        assert_eq!(
            c["registered_at_least"],
            json!({"3_months": true, "6_months": true, "12_months": true})
        );

        // Registered today: all false, valid until 3 months are reached.
        let mut c = claims("2026-11-30");
        assert_eq!(
            apply(&mut c, true, date(2026, 11, 30)),
            Some(date(2027, 2, 28))
        );
    }

    #[test]
    fn nothing_is_added_to_a_type_without_predicates_or_a_date() {
        let mut c = claims("2026-02-02");
        assert_eq!(apply(&mut c, false, date(2026, 8, 1)), None);
        assert!(!c.contains_key("registered_at_least"));
        let mut c = claims("not a date");
        assert_eq!(apply(&mut c, true, date(2026, 8, 1)), None);
        assert!(!c.contains_key("registered_at_least"));
    }

    #[test]
    fn given_predicates_are_dropped() {
        let mut c = claims("2026-02-02");
        c.insert("registered_at_least".into(), json!({"12_months": true}));
        strip(&mut c);
        assert!(!c.contains_key("registered_at_least"));
    }
}
