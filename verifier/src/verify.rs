//! Checking a response at the Response URI — OpenID4VP 1.0 §8: decryption
//! (§8.3), `state`, the VP Token's shape against the DCQL query (§8.1),
//! then per presentation the SD-JWT VC (issuer trusted for its `vct`,
//! signature, validity, KB-JWT `aud`/`nonce`/`sd_hash`), the query's
//! claims and `values` (§6.3, §6.4.1) and the status list entry.
//!
//! When the request asks for the person in both a PID and a registration
//! certificate, they must name the same person ([`crate::same_person`]).
//!
//! Every failure is a [`Reason`] with its own stable code; messages carry
//! claim paths and types, never claim values.

use intyg_core::dcql::{
    Candidate, CredentialFormat, CredentialQuery, DcqlQuery, Mismatch, Unsatisfied, ValidatedQuery,
    evaluate,
};
use intyg_core::oid4vp::{
    AuthorizationErrorResponse, Denial, DirectPostBody, EncryptedResponse, ErrorCode, Presentation,
    ResponseError, State, VpTokenError,
};
use intyg_core::sd_jwt::{KeyBindingCheck, SdJwt, SdJwtError, VerifyOptions};
use intyg_core::status_list::StatusType;
use intyg_core::trust::{TrustError, TrustList};
use intyg_core::vc::{self, VcError};
use serde_json::Value;

use crate::fetch::StatusLists;
use crate::model::{Transaction, VerifiedCredentialRecord};

/// Why a response was refused. Each variant has its own [`Reason::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reason {
    /// The wallet sent an error other than `access_denied`.
    #[error("the wallet answered {0}")]
    WalletError(String),
    /// The form body is not an OpenID4VP response.
    #[error("malformed response: {0}")]
    MalformedResponse(String),
    /// The `response` JWE does not decrypt with this transaction's key.
    #[error("the response JWE is malformed or not for this transaction: {0}")]
    MalformedJwe(String),
    /// A plain `vp_token` was posted where `direct_post.jwt` was requested.
    #[error("the response must be encrypted (direct_post.jwt)")]
    UnencryptedResponse,
    /// `state` differs from the request's.
    #[error("state does not match the request")]
    StateMismatch,
    /// The transaction's time to answer has run out.
    #[error("the transaction has expired")]
    TransactionExpired,
    /// This transaction was already answered: the response or its nonce
    /// is replayed.
    #[error("the transaction was already answered")]
    Replay,
    /// The VP Token lacks a required credential or answers unknown queries.
    #[error("vp_token does not answer the query: {0}")]
    MissingCredential(String),
    /// A presentation is not an SD-JWT string.
    #[error("presentation for `{0}` is not a dc+sd-jwt string")]
    UnsupportedPresentation(String),
    /// A presentation does not parse, or lacks `vct`.
    #[error("presentation for `{query_id}` is malformed: {detail}")]
    MalformedCredential {
        /// The Credential Query.
        query_id: String,
        /// What is wrong.
        detail: String,
    },
    /// The credential's type is not one the query asks for.
    #[error("presentation for `{query_id}` has vct `{vct}`, which was not requested")]
    WrongCredentialType {
        /// The Credential Query.
        query_id: String,
        /// Its `vct`.
        vct: String,
    },
    /// The issuer is not on the trust list for this `vct`, or its key or
    /// chain is not the trusted one.
    #[error("issuer not trusted: {0}")]
    UntrustedIssuer(String),
    /// The issuer's signature does not verify.
    #[error("the issuer signature does not verify")]
    InvalidSignature,
    /// `exp` has passed.
    #[error("the credential has expired")]
    Expired,
    /// `nbf` or `iat` lies in the future.
    #[error("the credential is not yet valid")]
    NotYetValid,
    /// The KB-JWT `nonce` is not this transaction's.
    #[error("the key binding nonce is not this request's")]
    WrongNonce,
    /// The KB-JWT `aud` is not our client_id.
    #[error("the key binding audience is not our client_id")]
    WrongAud,
    /// The KB-JWT `sd_hash` does not hash the presented SD-JWT.
    #[error("the key binding sd_hash does not match the presentation")]
    SdHashMismatch,
    /// Holder binding was required and no KB-JWT came.
    #[error("the presentation has no key binding JWT")]
    KeyBindingMissing,
    /// The KB-JWT is malformed, stale or signed by another key.
    #[error("invalid key binding: {0}")]
    InvalidKeyBinding(&'static str),
    /// Another SD-JWT (VC) rule failed; the detail is core's stable code.
    #[error("invalid credential: {0}")]
    InvalidCredential(&'static str),
    /// A claim the query requires was not disclosed.
    #[error("required claim {path} of `{query_id}` was not disclosed")]
    MissingRequiredClaim {
        /// The Credential Query.
        query_id: String,
        /// The claim path(s).
        path: String,
    },
    /// A disclosed claim has none of the query's `values`.
    #[error("claim {path} of `{query_id}` has none of the requested values")]
    ValuesMismatch {
        /// The Credential Query.
        query_id: String,
        /// The claim path.
        path: String,
    },
    /// The status list says revoked.
    #[error("the credential is revoked")]
    Revoked,
    /// The status list says suspended.
    #[error("the credential is suspended")]
    Suspended,
    /// The status list could not be fetched or trusted, or says something
    /// other than valid, revoked or suspended.
    #[error("the credential status could not be established: {0}")]
    StatusUnavailable(String),
    /// The PID and the registration certificate do not name the same
    /// person (given names, family name, date of birth; see
    /// [`crate::same_person`]); the message names the claim, not values.
    #[error("the PID and the registration certificate name different persons: {0}")]
    HolderMismatch(String),
}

impl Reason {
    /// The stable code, as the API and the portal show it.
    pub fn code(&self) -> &'static str {
        match self {
            Self::WalletError(_) => "wallet_error",
            Self::MalformedResponse(_) => "malformed_response",
            Self::MalformedJwe(_) => "malformed_jwe",
            Self::UnencryptedResponse => "unencrypted_response",
            Self::StateMismatch => "state_mismatch",
            Self::TransactionExpired => "transaction_expired",
            Self::Replay => "replay",
            Self::MissingCredential(_) => "missing_credential",
            Self::UnsupportedPresentation(_) => "unsupported_presentation",
            Self::MalformedCredential { .. } => "malformed_credential",
            Self::WrongCredentialType { .. } => "wrong_credential_type",
            Self::UntrustedIssuer(_) => "untrusted_issuer",
            Self::InvalidSignature => "invalid_signature",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::WrongNonce => "wrong_nonce",
            Self::WrongAud => "wrong_aud",
            Self::SdHashMismatch => "sd_hash_mismatch",
            Self::KeyBindingMissing => "key_binding_missing",
            Self::InvalidKeyBinding(_) => "invalid_key_binding",
            Self::InvalidCredential(_) => "invalid_credential",
            Self::MissingRequiredClaim { .. } => "missing_required_claim",
            Self::ValuesMismatch { .. } => "values_mismatch",
            Self::Revoked => "revoked",
            Self::Suspended => "suspended",
            Self::StatusUnavailable(_) => "status_unavailable",
            Self::HolderMismatch(_) => "holder_mismatch",
        }
    }
}

/// What a response amounts to when no check failed.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Every presentation verified; with the VP Token's
    /// `vp_token_hash` (`intyg_core::rights::vp_token_hash`).
    Verified(Vec<Accepted>, String),
    /// The wallet answered `access_denied`: the person declined, or the
    /// wallet holds no matching credential (`Denial`).
    Denied(Denial),
}

/// A failed check, and the Credential Query whose presentation failed
/// when there is one (a response may carry several).
#[derive(Debug)]
pub struct Failure {
    /// What failed.
    pub reason: Reason,
    /// The Credential Query id of the presentation that failed.
    pub query_id: Option<String>,
}

impl From<Reason> for Failure {
    fn from(reason: Reason) -> Self {
        Self {
            reason,
            query_id: None,
        }
    }
}

/// One verified presentation.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    /// What is stored until the retention period ends.
    pub record: VerifiedCredentialRecord,
    /// Pointers of the selectively disclosed claims (for consent).
    pub disclosed: Vec<String>,
    /// RFC 7638 thumbprint of the holder key (`cnf.jwk`), when bound.
    pub holder_key: Option<String>,
}

/// What the checks need besides the transaction.
#[derive(Debug)]
pub struct Context<'a> {
    /// The trust list.
    pub trust: &'a TrustList,
    /// Status lists.
    pub status: &'a StatusLists,
    /// Now, seconds since the epoch.
    pub now: i64,
}

/// Checks a `direct_post` / `direct_post.jwt` body for `transaction`.
pub async fn check(
    context: &Context<'_>,
    transaction: &Transaction,
    body: &str,
) -> Result<Verdict, Failure> {
    let body =
        DirectPostBody::from_form(body).map_err(|e| Reason::MalformedResponse(e.to_string()))?;
    let response = match body {
        DirectPostBody::Error(error) => return Ok(declined_or_failed(error)?),
        DirectPostBody::Encrypted(jwe) => match decrypt(transaction, &jwe)? {
            EncryptedResponse::Response(response) => response,
            EncryptedResponse::Error(error) => return Ok(declined_or_failed(error)?),
        },
        DirectPostBody::Plain(_) if transaction.response_mode == "direct_post.jwt" => {
            return Err(Reason::UnencryptedResponse.into());
        }
        DirectPostBody::Plain(response) => response,
    };
    let state: Option<State> = transaction.state.parse().ok();
    response
        .check_state(state.as_ref())
        .map_err(|_| Reason::StateMismatch)?;
    let query = transaction
        .dcql_query
        .query()
        .map_err(|e| Reason::MalformedResponse(format!("stored query: {e}")))?;
    response
        .vp_token
        .check_against(&query)
        .map_err(|e: VpTokenError| Reason::MissingCredential(e.to_string()))?;
    let mut accepted = Vec::new();
    for (query_id, presentations) in &response.vp_token.0 {
        let Some(credential_query) = query.credential(query_id) else {
            return Err(Reason::MissingCredential(format!(
                "unknown credential query `{query_id}`"
            ))
            .into());
        };
        let failed = |reason| Failure {
            reason,
            query_id: Some(query_id.clone()),
        };
        for presentation in presentations {
            let Presentation::Compact(compact) = presentation else {
                return Err(failed(Reason::UnsupportedPresentation(query_id.clone())));
            };
            accepted.push(
                check_presentation(context, transaction, credential_query, compact)
                    .await
                    .map_err(failed)?,
            );
        }
    }
    crate::same_person::check(&query, &accepted)?;
    Ok(Verdict::Verified(
        accepted,
        intyg_core::rights::vp_token_hash(&response.vp_token),
    ))
}

/// A wallet's error response (§8.5), plain or encrypted: `access_denied`
/// is a denial (declined, or nothing matched: [`Denial::read`]); any
/// other code a failure.
fn declined_or_failed(error: AuthorizationErrorResponse) -> Result<Verdict, Reason> {
    if error.error == ErrorCode::AccessDenied {
        return Ok(Verdict::Denied(Denial::read(
            error.error_description.as_deref(),
        )));
    }
    Err(Reason::WalletError(error.error.as_str().to_owned()))
}

fn decrypt(transaction: &Transaction, jwe: &str) -> Result<EncryptedResponse, Reason> {
    let Some(key) = &transaction.encryption_key else {
        return Err(Reason::MalformedJwe(
            "this transaction takes no encrypted response".into(),
        ));
    };
    let key = intyg_core::jose::jwe::encryption_jwk(key.clone())
        .map_err(|e| Reason::MalformedJwe(e.to_string()))?;
    EncryptedResponse::decrypt(jwe, &key)
        .map(|(_, response)| response)
        .map_err(|e| match e {
            ResponseError::Malformed { .. } => Reason::MalformedResponse(e.to_string()),
            other => Reason::MalformedJwe(other.to_string()),
        })
}

async fn check_presentation(
    context: &Context<'_>,
    transaction: &Transaction,
    query: &CredentialQuery,
    compact: &str,
) -> Result<Accepted, Reason> {
    let malformed = |detail: String| Reason::MalformedCredential {
        query_id: query.id.clone(),
        detail,
    };
    let sd_jwt = SdJwt::parse(compact).map_err(|e| malformed(e.code().to_owned()))?;
    let vct = match sd_jwt.payload().get("vct") {
        Some(Value::String(vct)) => vct.clone(),
        _ => return Err(malformed("no vct".into())),
    };
    if let Some(wanted) = &query.meta.vct_values
        && !wanted.contains(&vct)
    {
        return Err(Reason::WrongCredentialType {
            query_id: query.id.clone(),
            vct,
        });
    }
    let iss = sd_jwt
        .payload()
        .get("iss")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let key = context
        .trust
        .issuer_key(&vct, iss.as_deref(), sd_jwt.header(), context.now)
        .map_err(|e: TrustError| Reason::UntrustedIssuer(e.to_string()))?;
    let mut options = VerifyOptions::at(context.now);
    if query.require_cryptographic_holder_binding {
        options = options.key_binding(KeyBindingCheck::new(
            transaction.client_id.clone(),
            transaction.nonce.clone(),
        ));
    }
    let verified = vc::verify(sd_jwt, &key, &options, None).map_err(credential_reason)?;
    check_claims(
        query,
        &vct,
        &verified.sd_jwt.claims,
        verified.sd_jwt.holder_key.is_some(),
    )?;
    let status = match verified
        .status
        .as_ref()
        .and_then(|s| s.status_list.as_ref())
    {
        None => None,
        Some(reference) => {
            let check = context
                .status
                .status(
                    reference,
                    context.trust,
                    &vct,
                    iss.as_deref(),
                    context.now,
                    transaction.max_status_age,
                )
                .await
                .map_err(|e| Reason::StatusUnavailable(e.to_string()))?;
            match check.status {
                StatusType::Valid => Some(check),
                StatusType::Invalid => return Err(Reason::Revoked),
                StatusType::Suspended => return Err(Reason::Suspended),
                other => {
                    return Err(Reason::StatusUnavailable(format!(
                        "status value {}",
                        other.value()
                    )));
                }
            }
        }
    };
    Ok(Accepted {
        record: VerifiedCredentialRecord {
            query_id: query.id.clone(),
            vct,
            issuer: iss,
            // What the wallet disclosed beyond the query is not kept
            // (data minimisation): not stored, not shown, not passed on.
            claims: query.requested_claims(&verified.subject_claims()),
            status: status.map(|_| "valid".to_owned()),
            status_checked_at: status.map(|_| context.now),
            status_list_fetched_at: status.map(|check| check.fetched_at),
            status_list_issued_at: status.map(|check| check.issued_at),
            issuer_name: std::collections::BTreeMap::new(),
        },
        disclosed: verified.sd_jwt.disclosed.clone(),
        holder_key: verified
            .sd_jwt
            .holder_key
            .as_ref()
            .and_then(|jwk| intyg_core::jose::thumbprint(jwk).ok()),
    })
}

fn credential_reason(error: VcError) -> Reason {
    let VcError::SdJwt(error) = error else {
        return Reason::InvalidCredential(error.code());
    };
    match error {
        SdJwtError::InvalidSignature => Reason::InvalidSignature,
        SdJwtError::Expired { .. } => Reason::Expired,
        SdJwtError::NotYetValid { .. } | SdJwtError::IssuedInFuture { .. } => Reason::NotYetValid,
        SdJwtError::KbNonceMismatch => Reason::WrongNonce,
        SdJwtError::KbAudMismatch => Reason::WrongAud,
        SdJwtError::KbSdHashMismatch => Reason::SdHashMismatch,
        SdJwtError::KbMissing => Reason::KeyBindingMissing,
        SdJwtError::KbMalformed(_)
        | SdJwtError::KbInvalidTyp(_)
        | SdJwtError::KbNoHolderKey
        | SdJwtError::KbInvalidSignature
        | SdJwtError::KbStale { .. }
        | SdJwtError::KbIatInFuture { .. } => Reason::InvalidKeyBinding(error.code()),
        other => Reason::InvalidCredential(other.code()),
    }
}

/// Runs the Credential Query alone against the disclosed claims: every
/// claim it requires (or one of its `claim_sets`) must be there, with one
/// of its `values`.
fn check_claims(
    query: &CredentialQuery,
    vct: &str,
    claims: &serde_json::Map<String, Value>,
    holder_binding: bool,
) -> Result<(), Reason> {
    let single = ValidatedQuery::try_from(DcqlQuery {
        credentials: vec![query.clone()],
        credential_sets: None,
    })
    .map_err(|e| Reason::MalformedResponse(format!("stored query: {e}")))?;
    let candidate = Candidate {
        id: "presented".into(),
        format: CredentialFormat::DcSdJwt,
        vct: Some(vct.to_owned()),
        doctype: None,
        claims: Value::Object(claims.clone()),
        holder_binding,
        authorities: None,
    };
    let rejection = match evaluate(&single, &[candidate]) {
        Ok(_) => return Ok(()),
        Err(Unsatisfied::CredentialQuery(evaluation)) => evaluation.rejections.into_iter().next(),
        Err(Unsatisfied::CredentialSet { .. }) => None,
    };
    let query_id = query.id.clone();
    let missing = |path: String| Reason::MissingRequiredClaim {
        query_id: query_id.clone(),
        path,
    };
    Err(match rejection.map(|r| r.reason) {
        Some(Mismatch::Values { path }) => Reason::ValuesMismatch {
            query_id: query_id.clone(),
            path: path.to_string(),
        },
        Some(Mismatch::Claim { path, .. }) => missing(path.to_string()),
        Some(Mismatch::ClaimSets { unavailable }) => {
            match unavailable.iter().find_map(|claim| match &claim.reason {
                Mismatch::Values { path } => Some(path.to_string()),
                _ => None,
            }) {
                Some(path) => Reason::ValuesMismatch {
                    query_id: query_id.clone(),
                    path,
                },
                None => missing(
                    unavailable
                        .iter()
                        .map(|claim| match &claim.reason {
                            Mismatch::Claim { path, .. } => path.to_string(),
                            _ => claim.id.clone(),
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            }
        }
        Some(Mismatch::Vct { found }) => Reason::WrongCredentialType {
            query_id: query_id.clone(),
            vct: found.unwrap_or_default(),
        },
        Some(Mismatch::HolderBinding) => Reason::KeyBindingMissing,
        Some(other) => Reason::InvalidCredential(mismatch_code(&other)),
        None => missing("(unknown)".into()),
    })
}

fn mismatch_code(mismatch: &Mismatch) -> &'static str {
    match mismatch {
        Mismatch::Format { .. } => "format_mismatch",
        Mismatch::Doctype { .. } => "doctype_mismatch",
        Mismatch::UnsupportedMeta { .. } => "unsupported_meta",
        Mismatch::TrustedAuthority => "trusted_authority_mismatch",
        _ => "query_mismatch",
    }
}
