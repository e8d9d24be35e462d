//! The same-person rule (Intyg, `specs/PROFILE.md` "The PID in
//! applications"): when a request asks for the person's given names,
//! family name and date of birth from both a PID (`urn:eudi:pid:1`) and
//! a registration certificate, as `internship-application-with-identity`
//! does, the two credentials presented must name the same person
//! (`intyg_core::vc::same_person`: canonical caseless match of the names,
//! the same birth date). Otherwise the response fails with
//! [`Reason::HolderMismatch`] (`holder_mismatch`), naming the PID's
//! Credential Query.
//!
//! A request that does not ask for the person in both is not checked:
//! there is nothing to compare.

use intyg_core::dcql::{CredentialQuery, DcqlQuery, PathElement};
use intyg_core::trust::PID_VCT;
use intyg_core::vc::same_person::{self, Credential, PersonPaths};

use crate::templates::REGISTRATION_VCT;
use crate::verify::{Accepted, Failure, Reason};

/// The claims that identify the person, top level in both types.
const PERSON_CLAIMS: [&str; 3] = ["given_name", "family_name", "birthdate"];

/// Checks every PID presented against every registration certificate
/// presented, when `query` asks for the person in both.
pub fn check(query: &DcqlQuery, accepted: &[Accepted]) -> Result<(), Failure> {
    let pid_queries = asking_for_person(query, PID_VCT);
    let registration_queries = asking_for_person(query, REGISTRATION_VCT);
    if pid_queries.is_empty() || registration_queries.is_empty() {
        return Ok(());
    }
    let presented = |queries: &[&str], vct: &str| -> Vec<&Accepted> {
        accepted
            .iter()
            .filter(|a| a.record.vct == vct && queries.contains(&a.record.query_id.as_str()))
            .collect()
    };
    let registrations = presented(&registration_queries, REGISTRATION_VCT);
    for pid in presented(&pid_queries, PID_VCT) {
        for registration in &registrations {
            same_person::check(
                Credential {
                    name: "PID",
                    claims: &pid.record.claims,
                    paths: PersonPaths::PID,
                },
                Credential {
                    name: "registration certificate",
                    claims: &registration.record.claims,
                    paths: PersonPaths::REGISTRATION_CERTIFICATE,
                },
            )
            .map_err(|e| Failure {
                reason: Reason::HolderMismatch(e.to_string()),
                query_id: Some(pid.record.query_id.clone()),
            })?;
        }
    }
    Ok(())
}

/// The ids of the Credential Queries for `vct` that ask for all of the
/// person's claims.
fn asking_for_person<'a>(query: &'a DcqlQuery, vct: &str) -> Vec<&'a str> {
    query
        .credentials
        .iter()
        .filter(|c| {
            c.meta
                .vct_values
                .as_ref()
                .is_some_and(|values| values.iter().any(|v| v == vct))
        })
        .filter(|c| PERSON_CLAIMS.iter().all(|name| asks(c, name)))
        .map(|c| c.id.as_str())
        .collect()
}

fn asks(query: &CredentialQuery, name: &str) -> bool {
    query
        .claims
        .iter()
        .flatten()
        .any(|claim| matches!(claim.path.0.as_slice(), [PathElement::Key(key)] if key == name))
}
