//! Over-asking: what a DCQL query (OpenID4VP 1.0 §6) requests beyond a
//! relying party's registration (ETSI TS 119 475 V1.2.1 Tables 8, 9:
//! `credentials`, each with its `claim` paths).
//!
//! A Credential Query is covered by a registered credential of the same
//! `format` whose `vct_values` include every `vct_values` entry the query
//! names. A requested claim path is covered when a registered path of a
//! covering credential is a prefix of it (registering `address` covers
//! `address.locality`; a registered `null` matches any array element).
//! A credential registered without `claim` covers all its claims. A query
//! no registered credential covers is over-asked whole, every claim it
//! names with it.

use serde::Serialize;

use super::{RegisteredCredential, RegistrationClaims};
use crate::dcql::{ClaimsPath, CredentialQuery, DcqlQuery, PathElement};

/// What one Credential Query asks beyond the registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OveraskedCredential {
    /// The Credential Query `id`.
    pub query_id: String,
    /// True when no registered credential covers the query at all.
    pub credential: bool,
    /// The requested claim paths no registered claim covers. A query
    /// without `claims` (the whole credential) over-asked claim by claim
    /// is shown as the empty path.
    pub claims: Vec<ClaimsPath>,
}

/// The over-asked parts of a query: one entry per Credential Query that
/// asks anything unregistered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Overasked(pub Vec<OveraskedCredential>);

impl Overasked {
    /// Whether nothing was over-asked.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The over-asked claims of the Credential Query `query_id`.
    pub fn claims(&self, query_id: &str) -> &[ClaimsPath] {
        self.0
            .iter()
            .find(|c| c.query_id == query_id)
            .map(|c| c.claims.as_slice())
            .unwrap_or_default()
    }

    /// Whether `path` of Credential Query `query_id` is over-asked: named
    /// as such, or below an over-asked path.
    pub fn contains(&self, query_id: &str, path: &ClaimsPath) -> bool {
        self.claims(query_id)
            .iter()
            .any(|over| covers(over, path) || covers(path, over))
    }
}

impl RegistrationClaims {
    /// The parts of `query` this registration does not cover.
    pub fn overasked(&self, query: &DcqlQuery) -> Overasked {
        let registered = self.credentials.as_deref().unwrap_or_default();
        Overasked(
            query
                .credentials
                .iter()
                .filter_map(|q| overasked_in(q, registered))
                .collect(),
        )
    }
}

fn overasked_in(
    query: &CredentialQuery,
    registered: &[RegisteredCredential],
) -> Option<OveraskedCredential> {
    let covering: Vec<&RegisteredCredential> = registered
        .iter()
        .filter(|r| r.format == query.format.as_str())
        .filter(|r| {
            let vcts = r.vct_values();
            query
                .meta
                .vct_values
                .iter()
                .flatten()
                .all(|v| vcts.contains(&v.as_str()))
        })
        .collect();
    let requested: Vec<ClaimsPath> = match &query.claims {
        Some(claims) => claims.iter().map(|c| c.path.clone()).collect(),
        None => vec![ClaimsPath(Vec::new())],
    };
    if covering.is_empty() {
        return Some(OveraskedCredential {
            query_id: query.id.clone(),
            credential: true,
            claims: requested,
        });
    }
    let claims: Vec<ClaimsPath> = requested
        .into_iter()
        .filter(|path| {
            !covering.iter().any(|r| match &r.claim {
                None => true,
                Some(claims) => claims.iter().any(|c| covers(&c.path, path)),
            })
        })
        .collect();
    (!claims.is_empty()).then(|| OveraskedCredential {
        query_id: query.id.clone(),
        credential: false,
        claims,
    })
}

/// Whether `registered` is a prefix of `requested` (with `null` in either
/// matching any index). The empty path (the whole credential) is covered
/// only by the empty path.
fn covers(registered: &ClaimsPath, requested: &ClaimsPath) -> bool {
    if registered.0.len() > requested.0.len() {
        return false;
    }
    if registered.0.is_empty() {
        return requested.0.is_empty();
    }
    registered
        .0
        .iter()
        .zip(&requested.0)
        .all(|(r, q)| match (r, q) {
            (PathElement::AllElements, PathElement::Index(_) | PathElement::AllElements) => true,
            (PathElement::Index(_), PathElement::AllElements) => false,
            _ => r == q,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(json: &str) -> ClaimsPath {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_registered_prefix_covers_the_claims_below_it() {
        assert!(covers(
            &path(r#"["address"]"#),
            &path(r#"["address","locality"]"#)
        ));
        assert!(covers(&path(r#"["a",null]"#), &path(r#"["a",2]"#)));
        assert!(!covers(&path(r#"["a",2]"#), &path(r#"["a",null]"#)));
        assert!(!covers(
            &path(r#"["address","locality"]"#),
            &path(r#"["address"]"#)
        ));
        assert!(!covers(
            &path(r#"["given_name"]"#),
            &path(r#"["family_name"]"#)
        ));
        assert!(!covers(&path(r#"["given_name"]"#), &ClaimsPath(Vec::new())));
    }
}
