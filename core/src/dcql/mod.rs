//! Digital Credentials Query Language (DCQL) — OpenID4VP 1.0 §6, with
//! claims path pointers from §7.
//!
//! <https://openid.net/specs/openid-4-verifiable-presentations-1_0.html#name-digital-credentials-query-l>
//!
//! A Verifier states what it needs as a [`DcqlQuery`]; the wallet matches
//! it against the Credentials it holds. The pipeline is:
//!
//! 1. JSON → [`ValidatedQuery`] ([`ValidatedQuery::from_json`]): serde
//!    parses the wire shape, then [`DcqlQuery::validate`] checks the MUST
//!    rules of §6 and Appendix B, each broken rule a [`DcqlError`] variant.
//! 2. [`ValidatedQuery`] + [`Candidate`]s → [`Evaluation`] ([`evaluate`]):
//!    per Credential Query the matching Credentials and the exact claim
//!    paths to disclose (§6.4.1), and per Credential Set Query the options
//!    that can be satisfied (§6.4.2); or [`Unsatisfied`], naming the query
//!    that fails and why each Credential was turned down ([`Mismatch`]).
//!
//! [`ClaimsPath::select`] processes a claims path pointer on its own (§7).
//!
//! ```
//! use intyg_core::dcql::{Candidate, CredentialFormat, ValidatedQuery, evaluate};
//! use serde_json::json;
//!
//! let query = ValidatedQuery::from_json(r#"{"credentials": [{
//!     "id": "reg",
//!     "format": "dc+sd-jwt",
//!     "meta": {"vct_values": ["https://example.com/registration-certificate"]},
//!     "claims": [{"path": ["registration_status"], "values": ["job_seeker"]}]
//! }]}"#)?;
//! let held = Candidate {
//!     id: "wallet-1".into(),
//!     format: CredentialFormat::DcSdJwt,
//!     vct: Some("https://example.com/registration-certificate".into()),
//!     doctype: None,
//!     claims: json!({"registration_status": "job_seeker", "office": "Malmö"}),
//!     holder_binding: true,
//!     authorities: None,
//! };
//! let evaluation = evaluate(&query, &[held])?;
//! let found = &evaluation.credentials[0].matches[0];
//! assert_eq!(found.candidate_id, "wallet-1");
//! assert_eq!(found.claims[0].disclose[0].to_string(), r#"["registration_status"]"#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! | spec type | Rust type |
//! |---|---|
//! | DCQL query (§6) | [`DcqlQuery`], validated: [`ValidatedQuery`] |
//! | Credential Query (§6.1) | [`CredentialQuery`], `meta`: [`CredentialMeta`], `format`: [`CredentialFormat`] |
//! | Trusted Authorities Query (§6.1.1) | [`TrustedAuthoritiesQuery`], `type`: [`TrustedAuthorityType`] |
//! | Credential Set Query (§6.2) | [`CredentialSetQuery`] |
//! | Claims Query (§6.3) | [`ClaimsQuery`], `values`: [`ClaimValue`] |
//! | claims path pointer (§7) | [`ClaimsPath`] of [`PathElement`] |

mod matching;
mod path;
mod query;

pub use matching::{
    Authority, Candidate, CandidateMatch, ClaimMatch, CredentialQueryEvaluation,
    CredentialSetEvaluation, Evaluation, Mismatch, Rejection, UnavailableClaim, Unsatisfied,
    evaluate,
};
pub use path::{ClaimsPath, PathElement, PathError, Selected};
pub use query::{
    ClaimValue, ClaimsQuery, CredentialFormat, CredentialMeta, CredentialQuery, CredentialSetQuery,
    DcqlError, DcqlQuery, TrustedAuthoritiesQuery, TrustedAuthorityType, ValidatedQuery,
};
