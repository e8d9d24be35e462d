//! The admin JSON API for case-management systems (Bearer API key), and its
//! OpenAPI document (`specs/openapi/issuer-admin.json`).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use intyg_core::status_list::StatusType;
use intyg_service::portal::Peer;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::audit::Actor;
use crate::claims::{self, Refusal};
use crate::error::ApiError;
use crate::model::{CredentialRecord, CredentialState, Offer, Person, PersonalIdentityNumber};
use crate::{AppState, random_token, sha256_hex};

/// The admin API's OpenAPI 3.1 document.
pub const OPENAPI: &str = include_str!("../../specs/openapi/issuer-admin.json");

/// Wrong PINs an offer survives.
pub const MAX_TX_CODE_ATTEMPTS: u32 = 5;

/// `POST /api/offers` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOffer {
    /// Which credential type to offer (a folder of `specs/credentials`).
    pub credential_configuration_id: String,
    /// The claims about the person, valid against the type's schema and
    /// rules. The claims that identify the person (number, names, date of
    /// birth) may be left out: they come from the person's record.
    pub claims: Map<String, Value>,
    /// The person's personal identity number or coordination number (10 or
    /// 12 digits, with or without `-`/`+`).
    pub subject: String,
}

/// `POST /api/offers` response.
#[derive(Debug, Serialize, Deserialize)]
pub struct OfferCreated {
    /// The offer link (by reference) for a QR code: `openid-credential-offer://`,
    /// or `haip-vci://` with `offer_scheme = "haip-vci"`.
    pub offer_uri: String,
    /// The PIN to hand to the person out of band.
    pub tx_code: String,
    /// The credential records this offer issues.
    pub credential_ids: Vec<String>,
    /// When the offer expires, seconds since the epoch.
    pub expires_at: i64,
    /// The offer's id (the last segment of its `credential_offer_uri`).
    pub offer_id: String,
}

/// One credential as the admin API shows it.
#[derive(Debug, Serialize, Deserialize)]
pub struct CredentialSummary {
    /// Record id.
    pub id: String,
    /// Credential configuration (type).
    pub credential_configuration_id: String,
    /// State.
    pub state: CredentialState,
    /// When offered.
    pub created_at: i64,
    /// When the wallet fetched it.
    pub issued_at: Option<i64>,
    /// Status list references of the issued copies.
    pub status: Vec<intyg_core::status_list::StatusListReference>,
}

fn summary(state: &AppState, record: &CredentialRecord) -> CredentialSummary {
    CredentialSummary {
        id: record.id.clone(),
        credential_configuration_id: record.credential_configuration_id.clone(),
        state: record.state,
        created_at: record.created_at,
        issued_at: record.issued_at,
        status: record
            .status_indices
            .iter()
            .map(|&i| state.status.reference(i))
            .collect(),
    }
}

/// Checks the Bearer API key in constant time.
pub(crate) fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let unauthorized = |why: &str| ApiError::client(StatusCode::UNAUTHORIZED, "invalid_token", why);
    let Some(expected) = &state.config.api_key else {
        return Err(unauthorized(
            "the admin API is disabled: no API key is configured",
        ));
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| unauthorized("missing Bearer API key"))?;
    aws_lc_rs::constant_time::verify_slices_are_equal(presented.as_bytes(), expected.as_bytes())
        .map_err(|_| unauthorized("wrong API key"))
}

/// A personal identity number as typed (10 or 12 digits, with or without
/// `-`/`+`), in its canonical form; `field` names it in the refusal.
pub fn identity_number(field: &str, text: &str) -> Result<PersonalIdentityNumber, ApiError> {
    PersonalIdentityNumber::parse(text, intyg_service::time::today())
        .map_err(|e| ApiError::bad_request("invalid_request", format!("{field}: {e}")))
}

/// `POST /api/offers`: validate the claims, store a credential record and a
/// pre-authorized offer with a PIN.
pub async fn create_offer(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, ApiError> {
    authorize(&state, &headers)?;
    let request: CreateOffer = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("invalid_request", format!("body: {e}")))?;
    let created = make_offer(&state, request, &api_actor(&state, &peer)).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// The admin API as an actor of the audit trail.
pub(crate) fn api_actor(state: &AppState, peer: &Peer) -> Actor {
    Actor {
        name: Person::BY_ADMIN_API.to_owned(),
        source: state.portal.client(peer),
    }
}

/// Creates an offer; shared by the admin API and the officer portal.
/// Recorded in the audit trail as `actor`'s.
pub async fn make_offer(
    state: &AppState,
    request: CreateOffer,
    actor: &Actor,
) -> Result<OfferCreated, ApiError> {
    let Some(credential_type) = state.types.get(&request.credential_configuration_id) else {
        return Err(ApiError::bad_request(
            "unknown_credential_configuration",
            format!(
                "no credential configuration `{}`",
                request.credential_configuration_id
            ),
        ));
    };
    // A PID without a PID provider to sign it is refused here, not at
    // the wallet's `/credential`.
    state
        .keys
        .get()
        .for_type(
            &request.credential_configuration_id,
            credential_type.vct(),
            crate::now(),
        )
        .map_err(|e| ApiError::bad_request("no_pid_provider", e.to_string()))?;
    let number = identity_number("subject", &request.subject)?;
    if let Some(name) = request
        .claims
        .keys()
        .find(|n| intyg_core::vc::CLEAR_CLAIMS.contains(&n.as_str()))
    {
        return Err(ApiError::bad_request(
            "invalid_request",
            format!("claim `{name}` is set by the issuer"),
        ));
    }
    let person = state.stores.persons.get(number.as_str()).await?;
    let claims = claims::prepare(
        credential_type,
        request.claims,
        &number,
        person.as_ref(),
        intyg_service::time::today(),
    )
    .map_err(refusal)?;
    let now = crate::now();
    let record = CredentialRecord {
        id: uuid::Uuid::new_v4().to_string(),
        subject: number.as_str().to_owned(),
        credential_configuration_id: request.credential_configuration_id.clone(),
        claims,
        state: CredentialState::Offered,
        status_indices: Vec::new(),
        created_at: now,
        issued_at: None,
        revocation: None,
    };
    let tx_code = pin()?;
    let offer = Offer {
        id: uuid::Uuid::new_v4().to_string(),
        pre_authorized_code: random_token(32)?,
        tx_code_hash: Some(sha256_hex(&tx_code)),
        failed_attempts: 0,
        credential_configuration_id: request.credential_configuration_id,
        credential_id: record.id.clone(),
        expires_at: now + state.config.lifetimes.offer,
        redeemed: false,
    };
    state.stores.credentials.put(&record).await?;
    state.stores.offers.insert(&offer).await?;
    state.stores.durable().await?;
    let event = actor
        .event("offer.issue")
        .subject(state.audit.person(&record.subject))
        .detail(format!(
            "credential {} ({})",
            record.id, record.credential_configuration_id
        ));
    state.audit.record(event).await?;
    Ok(OfferCreated {
        offer_uri: crate::issuance::offer_uri(state, &offer.id),
        tx_code,
        credential_ids: vec![record.id],
        expires_at: offer.expires_at,
        offer_id: offer.id,
    })
}

/// The admin API's answer to refused claims: 400 `invalid_request` naming
/// the claim, with `details.claim` (a record mismatch) or
/// `details.violations` (`pointer`, `message`).
fn refusal(refusal: Refusal) -> ApiError {
    let details = match &refusal {
        Refusal::Mismatch { claim } => serde_json::json!({ "claim": claim }),
        Refusal::Invalid(problems) => serde_json::json!({ "violations": problems.iter().map(|p| {
            serde_json::json!({ "pointer": p.pointer(), "message": p.to_string() })
        }).collect::<Vec<_>>() }),
    };
    ApiError::Client {
        status: StatusCode::BAD_REQUEST,
        code: "invalid_request".into(),
        description: match &refusal {
            Refusal::Mismatch { .. } => refusal.to_string(),
            Refusal::Invalid(_) => {
                format!("claims break the credential type's schema or rules: {refusal}")
            }
        },
        details: Some(details),
    }
}

/// Six random digits.
fn pin() -> Result<String, ApiError> {
    let mut bytes = [0u8; 4];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| ApiError::Issuance("system RNG failed".into()))?;
    Ok(format!("{:06}", u32::from_be_bytes(bytes) % 1_000_000))
}

/// `GET /api/credentials?subject=` query.
#[derive(Debug, Deserialize)]
pub struct BySubject {
    /// Personal identity number.
    pub subject: String,
}

/// `GET /api/credentials?subject=`: what a person was offered and issued.
pub async fn list_credentials(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<BySubject>,
) -> Result<Json<Vec<CredentialSummary>>, ApiError> {
    authorize(&state, &headers)?;
    let number = identity_number("subject", &query.subject)?;
    let records = state.stores.credentials.by_subject(number.as_str()).await?;
    Ok(Json(records.iter().map(|r| summary(&state, r)).collect()))
}

/// `POST /api/credentials/{id}/{revoke|suspend|unsuspend}`.
pub async fn change_status(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
) -> Result<Json<CredentialSummary>, ApiError> {
    authorize(&state, &headers)?;
    let actor = api_actor(&state, &peer);
    let record = apply_status(&state, &id, &action, None, &actor).await?;
    Ok(Json(summary(&state, &record)))
}

/// Revokes, suspends or unsuspends a credential record and its status
/// entries, or withdraws an offer not yet fetched; shared by the admin API
/// and the portal, which records why (`revocation`). Recorded in the audit
/// trail as `actor`'s, with the reason.
pub async fn apply_status(
    state: &AppState,
    id: &str,
    action: &str,
    revocation: Option<crate::model::Revocation>,
    actor: &Actor,
) -> Result<CredentialRecord, ApiError> {
    let Some(mut record) = state.stores.credentials.get(id).await? else {
        return Err(ApiError::client(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no credential {id}"),
        ));
    };
    let conflict = |why: String| ApiError::client(StatusCode::CONFLICT, "invalid_state", why);
    let (next, status) = match (action, record.state) {
        ("revoke", CredentialState::Revoked) => return Err(conflict("already revoked".into())),
        ("revoke", _) => (CredentialState::Revoked, StatusType::Invalid),
        ("withdraw", CredentialState::Offered) => (CredentialState::Revoked, StatusType::Invalid),
        ("suspend", CredentialState::Issued) => (CredentialState::Suspended, StatusType::Suspended),
        ("unsuspend", CredentialState::Suspended) => (CredentialState::Issued, StatusType::Valid),
        ("suspend" | "unsuspend" | "withdraw", current) => {
            return Err(conflict(
                format!("cannot {action} a credential that is {current:?}").to_lowercase(),
            ));
        }
        _ => {
            return Err(ApiError::client(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no action `{action}`"),
            ));
        }
    };
    record.state = next;
    if next == CredentialState::Revoked {
        record.revocation = revocation;
    }
    state.stores.credentials.put(&record).await?;
    for &index in &record.status_indices {
        state
            .status
            .set(state.stores.status.as_ref(), index, status)
            .await?;
    }
    state.stores.durable().await?;
    let reason = record
        .revocation
        .as_ref()
        .filter(|_| next == CredentialState::Revoked)
        .map(|r| format!(", reason {:?}: {}", r.reason, r.note))
        .unwrap_or_default();
    let event = actor
        .event(&format!("credential.{action}"))
        .subject(state.audit.person(&record.subject))
        .detail(format!("credential {}{reason}", record.id));
    state.audit.record(event).await?;
    state
        .metrics
        .status_changes
        .with_label_values(&[action])
        .inc();
    Ok(record)
}

/// `POST /api/persons` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterPerson {
    /// Personal identity number or coordination number (10 or 12 digits,
    /// with or without `-`/`+`; stored as 12 digits).
    pub personal_identity_number: String,
    /// All given names.
    pub given_name: String,
    /// Family name(s).
    pub family_name: String,
}

/// `POST /api/persons`: register a job seeker. A number already registered
/// is a 409 `already_registered` and the stored person is left as it was
/// (who registered them and when are kept); read it with `GET`.
pub async fn register_person(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, ApiError> {
    authorize(&state, &headers)?;
    let request: RegisterPerson = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("invalid_request", format!("body: {e}")))?;
    let number = identity_number(
        "personal_identity_number",
        &request.personal_identity_number,
    )?;
    let name = |field: &str, text: &str| {
        Person::name(text)
            .map_err(|e| ApiError::bad_request("invalid_request", format!("{field}: {e}")))
    };
    let person = Person::new(
        number,
        name("given_name", &request.given_name)?,
        name("family_name", &request.family_name)?,
        crate::now(),
        Person::BY_ADMIN_API.to_owned(),
    );
    if !state.stores.persons.put(&person).await? {
        return Err(ApiError::client(
            StatusCode::CONFLICT,
            "already_registered",
            "a person with this personal identity number is already registered",
        ));
    }
    state.stores.durable().await?;
    let event = api_actor(&state, &peer)
        .event("person.register")
        .subject(state.audit.person(person.personal_identity_number.as_str()));
    state.audit.record(event).await?;
    Ok((StatusCode::CREATED, Json(person)))
}

/// `GET /api/persons/{personal_identity_number}`.
pub async fn person(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Result<Json<Person>, ApiError> {
    authorize(&state, &headers)?;
    let number = identity_number("personal_identity_number", &number)?;
    state
        .stores
        .persons
        .get(number.as_str())
        .await?
        .map(Json)
        .ok_or_else(|| {
            ApiError::client(
                StatusCode::NOT_FOUND,
                "not_found",
                "no person with this number",
            )
        })
}

/// `GET /openapi.json`.
pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}
