//! Request templates: DCQL queries an employer picks by name.
//!
//! `internship-application` (DESIGN §3): registration status and internship
//! eligibility are required; the name and a diploma are optional.
//! `internship-eligible-minimal`: the registration status and the
//! predicate `registered_at_least/6_months`, nothing else.
//! `internship-application-with-identity`: the applicant's PID (given
//! names, family name, date of birth) and the registration certificate
//! with the same three claims and the registration status and date; the
//! two must name the same person ([`crate::same_person`]).
//!
//! The templates use no `claim_sets`. Digg's national wallet ignores
//! them (and takes the first option of a credential set), so a query
//! whose first claim set holds the optional claims would have such a
//! wallet send them as if required. Instead each optional piece is its
//! own Credential Query in an optional credential set
//! (`"required": false`): the given name and the family name are two
//! queries over the registration certificate, `given_name` and
//! `family_name`, each asking for that one claim. A wallet that ignores
//! `claim_sets` is then never asked for more than the required queries,
//! and a person can share either name, both, or neither.

use std::sync::OnceLock;

use intyg_core::dcql::{DcqlError, ValidatedQuery};
use serde_json::json;

/// The registration certificate's type.
pub const REGISTRATION_VCT: &str = "https://intyg.se/credentials/registration-certificate/v1";
/// The internship eligibility's type.
pub const ELIGIBILITY_VCT: &str = "https://intyg.se/credentials/internship-eligibility/v1";
/// The education diploma's type.
pub const DIPLOMA_VCT: &str = "https://intyg.se/credentials/education-diploma/v1";
/// The three Intyg types, trusted for a `--trust-issuer`.
pub const INTYG_TYPES: [&str; 3] = [REGISTRATION_VCT, ELIGIBILITY_VCT, DIPLOMA_VCT];

/// A named template.
#[derive(Debug, Clone)]
pub struct Template {
    /// Its name.
    pub name: &'static str,
    /// The purpose shown to the person.
    pub purpose: &'static str,
    /// The query.
    pub query: ValidatedQuery,
}

/// The template called `name`, if there is one. Its query is parsed and
/// validated on first use only.
pub fn template(name: &str) -> Result<Option<Template>, DcqlError> {
    static INTERNSHIP_APPLICATION: OnceLock<ValidatedQuery> = OnceLock::new();
    static INTERNSHIP_ELIGIBLE_MINIMAL: OnceLock<ValidatedQuery> = OnceLock::new();
    static WITH_IDENTITY: OnceLock<ValidatedQuery> = OnceLock::new();
    match name {
        "internship-application-with-identity" => Ok(Some(Template {
            name: "internship-application-with-identity",
            purpose: "Ansökan om arbetspraktik med identitet (PID) / Internship application with identity (PID)",
            query: cached(&WITH_IDENTITY, internship_application_with_identity)?,
        })),
        "internship-eligible-minimal" => Ok(Some(Template {
            name: "internship-eligible-minimal",
            purpose: "Inskriven minst sex månader / Registered for at least six months",
            query: cached(&INTERNSHIP_ELIGIBLE_MINIMAL, internship_eligible_minimal)?,
        })),
        "internship-application" => Ok(Some(Template {
            name: "internship-application",
            purpose: "Ansökan om arbetspraktik / Internship application",
            query: cached(&INTERNSHIP_APPLICATION, internship_application)?,
        })),
        _ => Ok(None),
    }
}

/// The query in `cell`, made by `make` if it is not there yet. A failure is
/// not kept: the next call tries again (and fails the same way).
fn cached(
    cell: &OnceLock<ValidatedQuery>,
    make: fn() -> Result<ValidatedQuery, DcqlError>,
) -> Result<ValidatedQuery, DcqlError> {
    if let Some(query) = cell.get() {
        return Ok(query.clone());
    }
    let query = make()?;
    Ok(cell.get_or_init(|| query).clone())
}

/// The names of all templates.
pub const TEMPLATES: [&str; 3] = [
    "internship-application",
    "internship-eligible-minimal",
    "internship-application-with-identity",
];

/// A minimal attestation: the registration status and whether the person
/// has been registered for at least six months (a predicate the issuer
/// computed), not the date.
fn internship_eligible_minimal() -> Result<ValidatedQuery, DcqlError> {
    let query = json!({
        "credentials": [{
            "id": "registration",
            "format": "dc+sd-jwt",
            "meta": {"vct_values": [REGISTRATION_VCT]},
            "claims": [
                {"path": ["registration_status"],
                 "values": ["job_seeker", "part_time_job_seeker", "in_programme"]},
                {"path": ["registered_at_least", "6_months"]}
            ]
        }]
    });
    ValidatedQuery::from_json(query.to_string())
}

/// The PID and the registration certificate, both naming the person: no
/// optional parts, so no credential sets.
fn internship_application_with_identity() -> Result<ValidatedQuery, DcqlError> {
    let query = json!({
        "credentials": [
            {
                "id": "pid",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [intyg_core::trust::PID_VCT]},
                "claims": [
                    {"path": ["given_name"]},
                    {"path": ["family_name"]},
                    {"path": ["birthdate"]}
                ]
            },
            {
                "id": "registration",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [REGISTRATION_VCT]},
                "claims": [
                    {"path": ["given_name"]},
                    {"path": ["family_name"]},
                    {"path": ["birthdate"]},
                    {"path": ["registration_status"],
                     "values": ["job_seeker", "part_time_job_seeker", "in_programme"]},
                    {"path": ["registered_since"]}
                ]
            }
        ]
    });
    ValidatedQuery::from_json(query.to_string())
}

fn internship_application() -> Result<ValidatedQuery, DcqlError> {
    let query = json!({
        "credentials": [
            {
                "id": "registration",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [REGISTRATION_VCT]},
                "claims": [
                    {"path": ["registration_status"],
                     "values": ["job_seeker", "part_time_job_seeker", "in_programme"]},
                    {"path": ["registered_since"]}
                ]
            },
            {
                "id": "given_name",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [REGISTRATION_VCT]},
                "claims": [{"path": ["given_name"]}]
            },
            {
                "id": "family_name",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [REGISTRATION_VCT]},
                "claims": [{"path": ["family_name"]}]
            },
            {
                "id": "eligibility",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [ELIGIBILITY_VCT]},
                "claims": [
                    {"path": ["eligible_from"]},
                    {"path": ["eligible_until"]},
                    {"path": ["max_hours_per_week"]}
                ]
            },
            {
                "id": "diploma",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [DIPLOMA_VCT]},
                "claims": [
                    {"path": ["qualification_title"]},
                    {"path": ["awarding_body"]},
                    {"path": ["awarded_on"]}
                ]
            }
        ],
        "credential_sets": [
            {"options": [["registration"]]},
            {"options": [["eligibility"]]},
            {"options": [["given_name"]], "required": false},
            {"options": [["family_name"]], "required": false},
            {"options": [["diploma"]], "required": false}
        ]
    });
    ValidatedQuery::from_json(query.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_is_a_valid_query() {
        for name in TEMPLATES {
            assert!(template(name).unwrap().is_some(), "{name}");
        }
        // The second time it comes from the cache, unchanged.
        let cached = template("internship-application").unwrap().unwrap();
        assert_eq!(cached.query, internship_application().unwrap());
        assert!(template("nope").unwrap().is_none());
    }

    /// A wallet that ignores `claim_sets` and takes the first option of
    /// every credential set (Digg's) must not be asked for more than the
    /// purpose needs: no template uses `claim_sets`, and the claims of the
    /// required sets are only the required ones.
    #[test]
    fn privacy_does_not_depend_on_claim_sets() {
        {
            let name = "internship-application";
            let template = template(name).unwrap().unwrap();
            let query = template.query.query();
            assert!(
                query.credentials.iter().all(|c| c.claim_sets.is_none()),
                "{name} uses claim_sets"
            );
            let required: Vec<&str> = query
                .credential_sets
                .iter()
                .flatten()
                .filter(|set| set.required)
                .flat_map(|set| set.options.iter().flatten())
                .map(String::as_str)
                .collect();
            let asked: Vec<String> = required
                .iter()
                .filter_map(|id| query.credential(id))
                .flat_map(|c| c.claims.iter().flatten())
                .map(|claim| claim.path.to_string())
                .collect();
            assert_eq!(
                asked,
                [
                    r#"["registration_status"]"#,
                    r#"["registered_since"]"#,
                    r#"["eligible_from"]"#,
                    r#"["eligible_until"]"#,
                    r#"["max_hours_per_week"]"#
                ],
                "{name}"
            );
        }
    }

    #[test]
    fn the_minimal_template_asks_the_predicate_not_the_date() {
        let template = template("internship-eligible-minimal").unwrap().unwrap();
        let asked: Vec<String> = template
            .query
            .query()
            .credentials
            .iter()
            .flat_map(|c| c.claims.iter().flatten())
            .map(|claim| claim.path.to_string())
            .collect();
        assert_eq!(
            asked,
            [
                r#"["registration_status"]"#,
                r#"["registered_at_least","6_months"]"#
            ]
        );
    }
}
