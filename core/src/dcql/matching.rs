//! Matching a DCQL query against the wallet's Credentials — OpenID4VP 1.0
//! §6.4 ("Selecting Claims and Credentials").
//!
//! <https://openid.net/specs/openid-4-verifiable-presentations-1_0.html#name-selecting-claims-and-creden>
//!
//! [`evaluate`] checks every [`Candidate`] against every Credential Query
//! (format, `meta`, holder binding, trusted authorities, claims with their
//! `values`, and the first satisfiable entry of `claim_sets`), then the
//! Credential Set Queries. The result names, for each Credential Query,
//! the matching Credentials and the exact claim paths to disclose, which
//! is what a consent screen shows; or it says which query cannot be
//! satisfied and why each Credential was turned down.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;

use super::path::{ClaimsPath, PathError};
use super::query::{
    ClaimsQuery, CredentialFormat, CredentialQuery, TrustedAuthorityType, ValidatedQuery,
};

/// A Credential held by the wallet, in the form matching needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Wallet-local identifier, echoed in the results.
    pub id: String,
    /// The Credential Format.
    pub format: CredentialFormat,
    /// The `vct` of an SD-JWT VC.
    pub vct: Option<String>,
    /// The doctype of an mdoc.
    pub doctype: Option<String>,
    /// The claims with every disclosure applied: for SD-JWT VC the
    /// processed payload, for mdoc `{namespace: {element: value}}`.
    pub claims: Value,
    /// Whether the Credential supports Cryptographic Holder Binding (for
    /// SD-JWT VC: it has a `cnf` claim).
    pub holder_binding: bool,
    /// The authorities that certify this Credential's issuer, in the terms
    /// of §6.1.1 (for example the AKIs of its certificate chain). `None`
    /// when the wallet cannot tell; `trusted_authorities` is then not
    /// applied to this Credential (the spec makes it a SHOULD).
    pub authorities: Option<Vec<Authority>>,
}

/// One authority that certifies an issuer (OpenID4VP 1.0 §6.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Authority {
    /// The kind of identifier.
    #[serde(rename = "type")]
    pub kind: TrustedAuthorityType,
    /// The identifier, encoded as the Trusted Authorities Query type says.
    pub value: String,
}

/// The outcome of [`evaluate`] for a satisfiable query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// One entry per Credential Query, in query order.
    pub credentials: Vec<CredentialQueryEvaluation>,
    /// One entry per Credential Set Query, in query order. Without
    /// `credential_sets`, one required set per Credential Query whose only
    /// option is that query (§6.4.2: all of them are requested).
    pub credential_sets: Vec<CredentialSetEvaluation>,
}

impl Evaluation {
    /// The evaluation of the Credential Query with this `id`.
    pub fn credential(&self, id: &str) -> Option<&CredentialQueryEvaluation> {
        self.credentials.iter().find(|c| c.query_id == id)
    }
}

/// How the wallet's Credentials fare against one Credential Query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CredentialQueryEvaluation {
    /// The Credential Query `id`.
    pub query_id: String,
    /// Whether several of `matches` may be presented; if not, the End-User
    /// picks one.
    pub multiple: bool,
    /// The Credentials that match, in candidate order.
    pub matches: Vec<CandidateMatch>,
    /// The Credentials that do not, each with the reason.
    pub rejections: Vec<Rejection>,
}

/// A Credential that matches a Credential Query, and what to disclose.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandidateMatch {
    /// The wallet-local Credential id.
    pub candidate_id: String,
    /// The index in `claim_sets` of the option chosen: the first one this
    /// Credential satisfies (§6.4.1). `None` without `claim_sets`.
    pub claim_set: Option<usize>,
    /// The selected claims. Empty when the query has no `claims`: only the
    /// always-disclosed claims are presented (§6.4.1).
    pub claims: Vec<ClaimMatch>,
}

/// One selected claim of a matching Credential.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimMatch {
    /// The Claims Query `id`, if it has one.
    pub id: Option<String>,
    /// The claims path pointer of the Claims Query.
    pub path: ClaimsPath,
    /// The concrete paths (keys and indices only) of the elements to
    /// disclose. With `values`, only the elements that match are listed.
    pub disclose: Vec<ClaimsPath>,
}

/// A Credential that does not match a Credential Query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejection {
    /// The wallet-local Credential id.
    pub candidate_id: String,
    /// Why it does not match.
    #[serde(serialize_with = "serialize_display")]
    pub reason: Mismatch,
}

/// How the wallet fares against one Credential Set Query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialSetEvaluation {
    /// Whether the set must be satisfied.
    pub required: bool,
    /// The options (lists of Credential Query ids) whose every query has a
    /// match, in the Verifier's order. Empty if none: then the set is
    /// optional, or [`evaluate`] failed.
    pub satisfiable_options: Vec<Vec<String>>,
}

/// Why a Credential does not match a Credential Query (OpenID4VP 1.0 §6.1,
/// §6.4.1, Appendix B). Messages never include claim values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    /// The Credential has another format.
    #[error("format is {found}, not {expected}")]
    Format {
        /// The format the query asks for.
        expected: CredentialFormat,
        /// The Credential's format.
        found: CredentialFormat,
    },
    /// The `vct` is not in `meta.vct_values` (B.3.5).
    #[error("vct {} is not among the requested vct_values", shown(.found))]
    Vct {
        /// The Credential's `vct`.
        found: Option<String>,
    },
    /// The doctype is not `meta.doctype_value` (B.2).
    #[error("doctype {} is not the requested doctype_value", shown(.found))]
    Doctype {
        /// The Credential's doctype.
        found: Option<String>,
    },
    /// The query's format is not one this crate knows and its `meta` is not
    /// empty, so its constraints cannot be checked; the Credential is
    /// treated as not matching rather than presented unchecked.
    #[error("`meta` constraints for format {format} cannot be evaluated")]
    UnsupportedMeta {
        /// The query's format.
        format: CredentialFormat,
    },
    /// The query requires Cryptographic Holder Binding and the Credential
    /// has none (§6.1, B.3).
    #[error("Cryptographic Holder Binding is required and the credential has none")]
    HolderBinding,
    /// The Credential's issuer matches none of `trusted_authorities`
    /// (§6.1.1).
    #[error("the issuer matches none of the trusted authorities")]
    TrustedAuthority,
    /// A requested claim is absent or cannot be reached (§7), and the
    /// query has no `claim_sets`.
    #[error("claim {path}: {reason}")]
    Claim {
        /// The Claims Query path.
        path: ClaimsPath,
        /// Why processing the path failed.
        reason: PathError,
    },
    /// A requested claim is present but none of its values is among
    /// `values` (§6.3), and the query has no `claim_sets`.
    #[error("claim {path} has none of the requested values")]
    Values {
        /// The Claims Query path.
        path: ClaimsPath,
    },
    /// No entry of `claim_sets` can be satisfied (§6.4.1).
    #[error("no claim set can be satisfied: {}", describe_claims(.unavailable))]
    ClaimSets {
        /// The Claims Queries named in `claim_sets` that the Credential
        /// cannot satisfy, in the order `claim_sets` first names them.
        unavailable: Vec<UnavailableClaim>,
    },
}

/// A Claims Query, named in `claim_sets`, that a Credential cannot satisfy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnavailableClaim {
    /// The Claims Query `id`.
    pub id: String,
    /// Why: a [`Mismatch::Claim`] or a [`Mismatch::Values`].
    pub reason: Mismatch,
}

fn describe_claims(unavailable: &[UnavailableClaim]) -> String {
    unavailable
        .iter()
        .map(|c| format!("`{}`: {}", c.id, c.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why a DCQL query cannot be satisfied with the wallet's Credentials
/// (OpenID4VP 1.0 §6.4.2). The wallet then returns no Credential at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Unsatisfied {
    /// There are no `credential_sets`, so every Credential Query is
    /// required, and this one matches no Credential.
    #[error("credential query `{}` matches no credential{}", .0.query_id, describe(&.0.rejections))]
    CredentialQuery(CredentialQueryEvaluation),
    /// A required Credential Set Query has no option whose every
    /// Credential Query has a match.
    #[error("required credential_sets[{index}] cannot be satisfied: {}", describe_all(.unmatched))]
    CredentialSet {
        /// Index of the Credential Set Query.
        index: usize,
        /// The Credential Queries named in its options that match no
        /// Credential, with the reasons.
        unmatched: Vec<CredentialQueryEvaluation>,
    },
}

impl Unsatisfied {
    /// The Credential Queries that match no credential.
    pub fn query_ids(&self) -> Vec<&str> {
        match self {
            Self::CredentialQuery(evaluation) => vec![evaluation.query_id.as_str()],
            Self::CredentialSet { unmatched, .. } => {
                unmatched.iter().map(|e| e.query_id.as_str()).collect()
            }
        }
    }
}

/// An optional identifier for a message.
fn shown(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("(none)")
}

fn describe(rejections: &[Rejection]) -> String {
    rejections
        .iter()
        .map(|r| format!("; `{}`: {}", r.candidate_id, r.reason))
        .collect()
}

fn describe_all(unmatched: &[CredentialQueryEvaluation]) -> String {
    unmatched
        .iter()
        .map(|c| {
            format!(
                "`{}` matches no credential{}",
                c.query_id,
                describe(&c.rejections)
            )
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

fn serialize_display<S: serde::Serializer>(
    value: &impl std::fmt::Display,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// Matches a validated DCQL query against the wallet's Credentials
/// (OpenID4VP 1.0 §6.4) and checks that every required Credential Set
/// Query — or, without `credential_sets`, every Credential Query — can be
/// satisfied.
pub fn evaluate(
    query: &ValidatedQuery,
    candidates: &[Candidate],
) -> Result<Evaluation, Unsatisfied> {
    let query = query.query();
    let credentials: Vec<CredentialQueryEvaluation> = query
        .credentials
        .iter()
        .map(|credential| evaluate_credential(credential, candidates))
        .collect();
    let matched: HashSet<&str> = credentials
        .iter()
        .filter(|c| !c.matches.is_empty())
        .map(|c| c.query_id.as_str())
        .collect();
    let Some(sets) = &query.credential_sets else {
        if let Some(failed) = credentials.iter().find(|c| c.matches.is_empty()) {
            return Err(Unsatisfied::CredentialQuery(failed.clone()));
        }
        let credential_sets = credentials
            .iter()
            .map(|c| CredentialSetEvaluation {
                required: true,
                satisfiable_options: vec![vec![c.query_id.clone()]],
            })
            .collect();
        return Ok(Evaluation {
            credentials,
            credential_sets,
        });
    };
    let mut credential_sets = Vec::with_capacity(sets.len());
    for (index, set) in sets.iter().enumerate() {
        let satisfiable_options: Vec<Vec<String>> = set
            .options
            .iter()
            .filter(|option| option.iter().all(|id| matched.contains(id.as_str())))
            .cloned()
            .collect();
        if set.required && satisfiable_options.is_empty() {
            let named: HashSet<&str> = set.options.iter().flatten().map(String::as_str).collect();
            let unmatched = credentials
                .iter()
                .filter(|c| c.matches.is_empty() && named.contains(c.query_id.as_str()))
                .cloned()
                .collect();
            return Err(Unsatisfied::CredentialSet { index, unmatched });
        }
        credential_sets.push(CredentialSetEvaluation {
            required: set.required,
            satisfiable_options,
        });
    }
    Ok(Evaluation {
        credentials,
        credential_sets,
    })
}

/// Checks every candidate against one Credential Query.
fn evaluate_credential(
    query: &CredentialQuery,
    candidates: &[Candidate],
) -> CredentialQueryEvaluation {
    let mut matches = Vec::new();
    let mut rejections = Vec::new();
    for candidate in candidates {
        match match_candidate(query, candidate) {
            Ok(found) => matches.push(found),
            Err(reason) => rejections.push(Rejection {
                candidate_id: candidate.id.clone(),
                reason,
            }),
        }
    }
    CredentialQueryEvaluation {
        query_id: query.id.clone(),
        multiple: query.multiple,
        matches,
        rejections,
    }
}

/// Checks one candidate against one Credential Query.
fn match_candidate(
    query: &CredentialQuery,
    candidate: &Candidate,
) -> Result<CandidateMatch, Mismatch> {
    if query.format.as_str() != candidate.format.as_str() {
        return Err(Mismatch::Format {
            expected: query.format.clone(),
            found: candidate.format.clone(),
        });
    }
    check_meta(query, candidate)?;
    if query.require_cryptographic_holder_binding && !candidate.holder_binding {
        return Err(Mismatch::HolderBinding);
    }
    if let (Some(wanted), Some(known)) = (&query.trusted_authorities, &candidate.authorities) {
        let trusted = wanted.iter().any(|w| {
            known
                .iter()
                .any(|k| k.kind.as_str() == w.kind.as_str() && w.values.contains(&k.value))
        });
        if !trusted {
            return Err(Mismatch::TrustedAuthority);
        }
    }
    let Some(claims) = &query.claims else {
        return Ok(CandidateMatch {
            candidate_id: candidate.id.clone(),
            claim_set: None,
            claims: Vec::new(),
        });
    };
    let mdoc = query.format == CredentialFormat::MsoMdoc;
    let (claim_set, claims) = match &query.claim_sets {
        None => (None, select_all(claims, candidate, mdoc)?),
        Some(sets) => {
            let (index, claims) = select_first_set(claims, sets, candidate, mdoc)?;
            (Some(index), claims)
        }
    };
    Ok(CandidateMatch {
        candidate_id: candidate.id.clone(),
        claim_set,
        claims,
    })
}

/// Checks the format-specific `meta` constraints (Appendix B).
fn check_meta(query: &CredentialQuery, candidate: &Candidate) -> Result<(), Mismatch> {
    match &query.format {
        CredentialFormat::DcSdJwt => {
            let accepted = query.meta.vct_values.as_deref().unwrap_or_default();
            match &candidate.vct {
                Some(vct) if accepted.contains(vct) => Ok(()),
                found => Err(Mismatch::Vct {
                    found: found.clone(),
                }),
            }
        }
        CredentialFormat::MsoMdoc => match (&query.meta.doctype_value, &candidate.doctype) {
            (Some(wanted), Some(found)) if wanted == found => Ok(()),
            (_, found) => Err(Mismatch::Doctype {
                found: found.clone(),
            }),
        },
        CredentialFormat::Other(_) if query.meta.is_empty() => Ok(()),
        CredentialFormat::Other(_) => Err(Mismatch::UnsupportedMeta {
            format: query.format.clone(),
        }),
    }
}

/// Without `claim_sets`: every Claims Query must be satisfied. A query
/// that repeats an earlier one's path is ignored (§6.1 asks wallets to).
fn select_all(
    claims: &[ClaimsQuery],
    candidate: &Candidate,
    mdoc: bool,
) -> Result<Vec<ClaimMatch>, Mismatch> {
    let mut seen = HashSet::new();
    claims
        .iter()
        .filter(|claim| seen.insert(&claim.path))
        .map(|claim| select_claim(claim, candidate, mdoc))
        .collect()
}

/// With `claim_sets`: the first entry whose every claim is satisfied
/// (§6.4.1), with its index.
fn select_first_set(
    claims: &[ClaimsQuery],
    sets: &[Vec<String>],
    candidate: &Candidate,
    mdoc: bool,
) -> Result<(usize, Vec<ClaimMatch>), Mismatch> {
    // Validation guarantees every id in `sets` names a Claims Query, so a
    // missing entry only ever reads as "not satisfied".
    let selected: HashMap<&str, Result<ClaimMatch, Mismatch>> = claims
        .iter()
        .filter_map(|claim| {
            let id = claim.id.as_deref()?;
            Some((id, select_claim(claim, candidate, mdoc)))
        })
        .collect();
    let satisfied = |id: &String| selected.get(id.as_str())?.as_ref().ok().cloned();
    for (index, set) in sets.iter().enumerate() {
        if let Some(claims) = set.iter().map(satisfied).collect::<Option<Vec<_>>>() {
            return Ok((index, claims));
        }
    }
    let mut seen = HashSet::new();
    let unavailable = sets
        .iter()
        .flatten()
        .filter(|id| seen.insert(id.as_str()))
        .filter_map(|id| match selected.get(id.as_str())? {
            Ok(_) => None,
            Err(reason) => Some(UnavailableClaim {
                id: id.clone(),
                reason: reason.clone(),
            }),
        })
        .collect();
    Err(Mismatch::ClaimSets { unavailable })
}

/// Selects one claim (§7) and applies its `values` (§6.3, §6.4.1): only
/// elements whose type and value match are kept.
fn select_claim(
    claim: &ClaimsQuery,
    candidate: &Candidate,
    mdoc: bool,
) -> Result<ClaimMatch, Mismatch> {
    let failed = |reason| Mismatch::Claim {
        path: claim.path.clone(),
        reason,
    };
    let selected = if mdoc {
        vec![claim.path.select_mdoc(&candidate.claims).map_err(failed)?]
    } else {
        claim.path.select(&candidate.claims).map_err(failed)?
    };
    let disclose: Vec<ClaimsPath> = selected
        .into_iter()
        .filter(|s| {
            claim
                .values
                .as_ref()
                .is_none_or(|values| values.iter().any(|v| v.matches(s.value)))
        })
        .map(|s| s.path)
        .collect();
    if disclose.is_empty() {
        return Err(Mismatch::Values {
            path: claim.path.clone(),
        });
    }
    Ok(ClaimMatch {
        id: claim.id.clone(),
        path: claim.path.clone(),
        disclose,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const VCT: &str = "https://example.com/registration-certificate";

    fn query(value: Value) -> ValidatedQuery {
        ValidatedQuery::from_json(value.to_string()).unwrap()
    }

    fn sd_jwt(id: &str, claims: Value) -> Candidate {
        Candidate {
            id: id.into(),
            format: CredentialFormat::DcSdJwt,
            vct: Some(VCT.into()),
            doctype: None,
            claims,
            holder_binding: true,
            authorities: None,
        }
    }

    fn one(extra: Value) -> ValidatedQuery {
        let mut credential =
            json!({"id": "reg", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]}});
        if let (Some(target), Some(extra)) = (credential.as_object_mut(), extra.as_object()) {
            target.extend(extra.clone());
        }
        query(json!({"credentials": [credential]}))
    }

    fn rejection(result: Result<Evaluation, Unsatisfied>) -> Mismatch {
        match result {
            Err(Unsatisfied::CredentialQuery(c)) => c.rejections[0].reason.clone(),
            other => panic!("expected an unsatisfied credential query, got {other:?}"),
        }
    }

    #[test]
    fn format() {
        let mut candidate = sd_jwt("c", json!({}));
        candidate.format = CredentialFormat::from("vc+sd-jwt");
        assert_eq!(
            rejection(evaluate(&one(json!({})), &[candidate])),
            Mismatch::Format {
                expected: CredentialFormat::DcSdJwt,
                found: CredentialFormat::Other("vc+sd-jwt".into())
            }
        );
    }

    #[test]
    fn vct() {
        let mut candidate = sd_jwt("c", json!({}));
        candidate.vct = Some("https://example.com/other".into());
        assert!(matches!(
            rejection(evaluate(&one(json!({})), &[candidate])),
            Mismatch::Vct { found: Some(_) }
        ));
    }

    #[test]
    fn doctype() {
        let q = query(json!({"credentials": [{
            "id": "m", "format": "mso_mdoc", "meta": {"doctype_value": "org.iso.18013.5.1.mDL"}
        }]}));
        let candidate = Candidate {
            format: CredentialFormat::MsoMdoc,
            vct: None,
            doctype: Some("org.iso.23220.photoid.1".into()),
            ..sd_jwt("m1", json!({}))
        };
        assert_eq!(
            rejection(evaluate(&q, std::slice::from_ref(&candidate))),
            Mismatch::Doctype {
                found: Some("org.iso.23220.photoid.1".into())
            }
        );
        let right = Candidate {
            doctype: Some("org.iso.18013.5.1.mDL".into()),
            ..candidate
        };
        evaluate(&q, &[right]).unwrap();
    }

    #[test]
    fn unsupported_meta() {
        let q = query(json!({"credentials": [{
            "id": "w", "format": "jwt_vc_json", "meta": {"type_values": [["VerifiableCredential"]]}
        }]}));
        let candidate = Candidate {
            format: CredentialFormat::from("jwt_vc_json"),
            ..sd_jwt("w1", json!({}))
        };
        assert!(matches!(
            rejection(evaluate(&q, std::slice::from_ref(&candidate))),
            Mismatch::UnsupportedMeta { .. }
        ));
        let empty_meta =
            query(json!({"credentials": [{"id": "w", "format": "jwt_vc_json", "meta": {}}]}));
        evaluate(&empty_meta, &[candidate]).unwrap();
    }

    #[test]
    fn holder_binding() {
        let mut candidate = sd_jwt("c", json!({}));
        candidate.holder_binding = false;
        assert_eq!(
            rejection(evaluate(&one(json!({})), &[candidate.clone()])),
            Mismatch::HolderBinding
        );
        let lenient = one(json!({"require_cryptographic_holder_binding": false}));
        evaluate(&lenient, &[candidate]).unwrap();
    }

    #[test]
    fn trusted_authority() {
        let q = one(
            json!({"trusted_authorities": [{"type": "aki", "values": ["s9tIpPmhxdiuNkHMEWNpYim8S8Y"]}]}),
        );
        let mut candidate = sd_jwt("c", json!({}));
        candidate.authorities = Some(vec![Authority {
            kind: TrustedAuthorityType::Aki,
            value: "other".into(),
        }]);
        assert_eq!(
            rejection(evaluate(&q, &[candidate.clone()])),
            Mismatch::TrustedAuthority
        );
        candidate.authorities = Some(vec![Authority {
            kind: TrustedAuthorityType::Aki,
            value: "s9tIpPmhxdiuNkHMEWNpYim8S8Y".into(),
        }]);
        evaluate(&q, &[candidate.clone()]).unwrap();
        candidate.authorities = None;
        evaluate(&q, &[candidate]).unwrap();
    }

    #[test]
    fn claim() {
        let q = one(json!({"claims": [{"path": ["registration_status"]}]}));
        assert_eq!(
            rejection(evaluate(&q, &[sd_jwt("c", json!({"given_name": "Anna"}))])),
            Mismatch::Claim {
                path: ClaimsPath::from([crate::dcql::PathElement::Key(
                    "registration_status".into()
                )]),
                reason: PathError::NothingSelected
            }
        );
    }

    #[test]
    fn values() {
        let q =
            one(json!({"claims": [{"path": ["registration_status"], "values": ["job_seeker"]}]}));
        let err = rejection(evaluate(
            &q,
            &[sd_jwt("c", json!({"registration_status": "in_programme"}))],
        ));
        assert!(matches!(err, Mismatch::Values { .. }));
        assert!(
            !err.to_string().contains("in_programme"),
            "messages never echo claim values"
        );
    }

    #[test]
    fn claim_sets() {
        let q = one(json!({
            "claims": [{"id": "a", "path": ["a"]}, {"id": "b", "path": ["b"]}, {"id": "c", "path": ["c"]}],
            "claim_sets": [["a", "b"], ["c", "a"]]
        }));
        let err = rejection(evaluate(&q, &[sd_jwt("x", json!({"a": 1}))]));
        let Mismatch::ClaimSets { unavailable } = &err else {
            panic!("{err:?}");
        };
        let ids: Vec<&str> = unavailable.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["b", "c"]);
        assert!(matches!(unavailable[0].reason, Mismatch::Claim { .. }));
        assert_eq!(
            err.to_string(),
            "no claim set can be satisfied: `b`: claim [\"b\"]: the claims path pointer selects no element; \
             `c`: claim [\"c\"]: the claims path pointer selects no element"
        );
    }

    #[test]
    fn first_satisfiable_claim_set_is_chosen_in_its_order() {
        let q = one(json!({
            "claims": [{"id": "a", "path": ["a"]}, {"id": "b", "path": ["b"]}, {"id": "c", "path": ["c"]}],
            "claim_sets": [["a", "b"], ["c", "a"], ["a"]]
        }));
        let eval = evaluate(&q, &[sd_jwt("x", json!({"a": 1, "c": 2}))]).unwrap();
        let found = &eval.credentials[0].matches[0];
        assert_eq!(found.claim_set, Some(1));
        let ids: Vec<_> = found
            .claims
            .iter()
            .map(|c| c.id.as_deref().unwrap())
            .collect();
        assert_eq!(ids, ["c", "a"]);
    }

    #[test]
    fn values_filter_wildcard_selections() {
        let q = one(json!({"claims": [{"path": ["skills", null], "values": ["rust", 3, true]}]}));
        let eval = evaluate(
            &q,
            &[sd_jwt("x", json!({"skills": ["go", "rust", 3, "true"]}))],
        )
        .unwrap();
        let disclose: Vec<String> = eval.credentials[0].matches[0].claims[0]
            .disclose
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(disclose, [r#"["skills",1]"#, r#"["skills",2]"#]);
    }

    #[test]
    fn duplicate_claim_paths_are_ignored() {
        let q = one(json!({"claims": [
            {"path": ["a"]},
            {"path": ["a"], "values": ["never"]}
        ]}));
        let eval = evaluate(&q, &[sd_jwt("x", json!({"a": "here"}))]).unwrap();
        assert_eq!(eval.credentials[0].matches[0].claims.len(), 1);
    }

    #[test]
    fn several_candidates_are_all_offered() {
        let q = one(json!({"claims": [{"path": ["a"]}]}));
        let eval = evaluate(
            &q,
            &[
                sd_jwt("x", json!({"a": 1})),
                sd_jwt("y", json!({})),
                sd_jwt("z", json!({"a": 2})),
            ],
        )
        .unwrap();
        let ids: Vec<_> = eval.credentials[0]
            .matches
            .iter()
            .map(|m| m.candidate_id.as_str())
            .collect();
        assert_eq!(ids, ["x", "z"]);
        assert_eq!(eval.credentials[0].rejections[0].candidate_id, "y");
        assert!(!eval.credentials[0].multiple);
    }

    fn with_sets(required_second: bool) -> ValidatedQuery {
        query(json!({
            "credentials": [
                {"id": "reg", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]}},
                {"id": "dip", "format": "dc+sd-jwt", "meta": {"vct_values": ["https://example.com/diploma"]}}
            ],
            "credential_sets": [
                {"options": [["reg"]]},
                {"options": [["dip"]], "required": required_second}
            ]
        }))
    }

    #[test]
    fn optional_sets_are_reported_when_unsatisfiable() {
        let eval = evaluate(&with_sets(false), &[sd_jwt("r", json!({}))]).unwrap();
        assert_eq!(
            eval.credential_sets,
            [
                CredentialSetEvaluation {
                    required: true,
                    satisfiable_options: vec![vec!["reg".into()]]
                },
                CredentialSetEvaluation {
                    required: false,
                    satisfiable_options: vec![]
                }
            ]
        );
        assert!(eval.credential("dip").unwrap().matches.is_empty());
    }

    #[test]
    fn credential_set() {
        let err = evaluate(&with_sets(true), &[sd_jwt("r", json!({}))]).unwrap_err();
        match &err {
            Unsatisfied::CredentialSet { index, unmatched } => {
                assert_eq!(*index, 1);
                assert_eq!(unmatched.len(), 1);
                assert_eq!(unmatched[0].query_id, "dip");
            }
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("credential_sets[1]"), "{err}");
        assert!(err.to_string().contains("`r`: vct"), "{err}");
    }

    #[test]
    fn credential_query() {
        let err = evaluate(&one(json!({})), &[]).unwrap_err();
        assert!(matches!(&err, Unsatisfied::CredentialQuery(c) if c.query_id == "reg"));
        assert_eq!(
            err.to_string(),
            "credential query `reg` matches no credential"
        );
    }

    #[test]
    fn without_credential_sets_every_query_is_a_required_set() {
        let eval = evaluate(&one(json!({})), &[sd_jwt("r", json!({}))]).unwrap();
        assert_eq!(eval.credential_sets.len(), 1);
        assert!(eval.credential_sets[0].required);
    }

    #[test]
    fn evaluation_serializes_for_a_consent_screen() {
        let q = one(json!({"claims": [{"path": ["a"]}]}));
        let mut other = sd_jwt("y", json!({}));
        other.vct = None;
        let eval = evaluate(&q, &[sd_jwt("x", json!({"a": 1})), other]).unwrap();
        let wire = serde_json::to_value(&eval).unwrap();
        assert_eq!(
            wire["credentials"][0]["matches"][0]["claims"][0]["disclose"],
            json!([["a"]])
        );
        assert_eq!(
            wire["credentials"][0]["rejections"][0]["reason"],
            "vct (none) is not among the requested vct_values"
        );
    }
}
