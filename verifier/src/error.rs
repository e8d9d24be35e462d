//! The one place where errors become HTTP responses.
//!
//! Client errors carry the OAuth error object (`{"error",
//! "error_description"}`, RFC 6749 §5.2), plus `reason` for a refused
//! presentation. Everything else is a 500 with a generic message; the
//! details go to the log, never to the client.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::store::StoreError;
use crate::verify::Reason;

/// An error a handler returns.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The client's fault: an error code and a description for it.
    #[error("{code}: {description}")]
    Client {
        /// HTTP status.
        status: StatusCode,
        /// The error code, e.g. `invalid_request`.
        code: &'static str,
        /// What exactly failed.
        description: String,
    },
    /// Client authentication at the token endpoint failed (RFC 6749
    /// §5.2 `invalid_client`): a 401 whose challenge names `Basic`, the
    /// one HTTP authentication scheme the endpoint takes (§2.3.1).
    #[error("invalid_client: {0}")]
    InvalidClient(String),
    /// A presentation was refused, for this reason.
    #[error("presentation refused: {0}")]
    Refused(Reason),
    /// Storage failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A portal session could not be read, started or ended.
    #[error("portal session: {0}")]
    Session(#[from] intyg_service::session::SessionError),
    /// Signing a request object failed.
    #[error("request object: {0}")]
    RequestObject(#[from] intyg_core::oid4vp::RequestObjectError),
    /// Making a key failed (the system RNG).
    #[error("key generation: {0}")]
    Key(#[from] intyg_core::jose::JoseError),
    /// The audit trail could not be written.
    #[error("audit trail: {0}")]
    Audit(#[from] intyg_service::audit::AuditError),
    /// An erasure request was refused (Intyg extension).
    #[error("erasure request refused: {0}")]
    Erasure(#[from] intyg_core::rights::Refusal),
    /// Personal data could not be sealed or opened.
    #[error("personal data: {0}")]
    Sealing(#[from] crate::personal::SealError),
    /// The task checking a response stopped before it answered.
    #[error("the check of a response stopped")]
    Aborted,
}

impl ApiError {
    /// A 400 with `code`.
    pub fn bad_request(code: &'static str, description: impl Into<String>) -> Self {
        Self::Client {
            status: StatusCode::BAD_REQUEST,
            code,
            description: description.into(),
        }
    }

    /// A 404.
    pub fn not_found(what: &str) -> Self {
        Self::Client {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            description: format!("no such {what}"),
        }
    }

    /// A 401 for the HR API.
    pub fn unauthorized(description: &str) -> Self {
        Self::Client {
            status: StatusCode::UNAUTHORIZED,
            code: "invalid_token",
            description: description.into(),
        }
    }
}

/// The challenge of a failed client authentication at `/token`.
const TOKEN_ENDPOINT_CHALLENGE: &str = "Basic realm=\"token\", charset=\"UTF-8\"";

#[derive(Serialize)]
struct ErrorObject<'a> {
    error: &'a str,
    error_description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, description, reason) = match &self {
            Self::Client {
                status,
                code,
                description,
            } => (*status, *code, description.clone(), None),
            Self::InvalidClient(description) => (
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                description.clone(),
                None,
            ),
            Self::Refused(reason) => (
                StatusCode::BAD_REQUEST,
                "invalid_request",
                reason.to_string(),
                Some(reason.code()),
            ),
            Self::Erasure(refusal) => (
                match refusal {
                    intyg_core::rights::Refusal::NotHolderKey => StatusCode::UNAUTHORIZED,
                    _ => StatusCode::BAD_REQUEST,
                },
                intyg_core::rights::ERASURE_ERROR_CODE,
                refusal.to_string(),
                Some(refusal.code()),
            ),
            _ => {
                tracing::error!(error = %self, "request failed");
                let body = ErrorObject {
                    error: "server_error",
                    error_description: "internal error",
                    reason: None,
                };
                return (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response();
            }
        };
        let body = ErrorObject {
            error: code,
            error_description: &description,
            reason,
        };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if matches!(self, Self::InvalidClient(_)) {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(TOKEN_ENDPOINT_CHALLENGE),
            );
        } else if status == StatusCode::UNAUTHORIZED && !matches!(self, Self::Erasure(_)) {
            let challenge = format!("Bearer error=\"{code}\"");
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                headers.insert(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}

impl From<intyg_service::session::StoreError> for ApiError {
    fn from(error: intyg_service::session::StoreError) -> Self {
        Self::Session(error.into())
    }
}
