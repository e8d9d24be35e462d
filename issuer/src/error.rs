//! The one place where errors become HTTP responses.
//!
//! Client errors carry the spec's error object (`{"error", "error_description"}`,
//! RFC 6749 §5.2, OpenID4VCI §8.3.1.2). Everything else is a 500 with a
//! generic message; the details go to the log, never to the client.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::status::PublishError;
use crate::store::StoreError;

/// An error a handler returns.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The client's fault: a spec error code and a description for it.
    #[error("{code}: {description}")]
    Client {
        /// HTTP status.
        status: StatusCode,
        /// The spec's error code, e.g. `invalid_grant`.
        code: String,
        /// What exactly failed.
        description: String,
        /// Extra members of the error object (e.g. schema violations by field).
        details: Option<serde_json::Value>,
    },
    /// A DPoP refusal (RFC 9449 §5, §7.1, §8): the error object, a
    /// `WWW-Authenticate: DPoP` challenge at the credential endpoint, and a
    /// fresh `DPoP-Nonce` when the issuer demands nonces.
    #[error("{code}: {description}")]
    Dpop {
        /// HTTP status: 400 at the token endpoint and PAR, 401 at the credential endpoint.
        status: StatusCode,
        /// `invalid_dpop_proof`, `use_dpop_nonce` or `invalid_token`.
        code: &'static str,
        /// What exactly failed.
        description: String,
        /// The nonce to use next.
        nonce: Option<String>,
        /// Whether to answer with a `WWW-Authenticate: DPoP` challenge.
        challenge: bool,
    },
    /// Storage failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A portal session could not be read, started or ended.
    #[error("portal session: {0}")]
    Session(#[from] intyg_service::session::SessionError),
    /// Publishing a status list failed.
    #[error("status list: {0}")]
    Publish(#[from] PublishError),
    /// Signing failed.
    #[error("signing: {0}")]
    Signing(#[from] intyg_core::jose::JoseError),
    /// Issuing failed for a reason that is not the client's.
    #[error("issuance: {0}")]
    Issuance(String),
    /// The audit trail could not be written.
    #[error("audit trail: {0}")]
    Audit(#[from] intyg_service::audit::AuditError),
}

impl ApiError {
    /// A 400 with `code`.
    pub fn bad_request(code: impl Into<String>, description: impl Into<String>) -> Self {
        Self::client(StatusCode::BAD_REQUEST, code, description)
    }

    /// A client error with another status.
    pub fn client(
        status: StatusCode,
        code: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Self::Client {
            status,
            code: code.into(),
            description: description.into(),
            details: None,
        }
    }

    /// A client error whose code is a spec enum, serialized to its wire name.
    pub fn spec(status: StatusCode, code: &impl Serialize, description: impl Into<String>) -> Self {
        let code = serde_json::to_value(code)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "invalid_request".to_owned());
        Self::client(status, code, description)
    }
}

#[derive(Serialize)]
struct ErrorObject<'a> {
    error: &'a str,
    error_description: &'a str,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    details: Option<&'a serde_json::Value>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            Self::Client {
                status,
                code,
                description,
                details,
            } => {
                let body = ErrorObject {
                    error: code,
                    error_description: description,
                    details: details.as_ref(),
                };
                let mut response = (*status, Json(body)).into_response();
                let headers = response.headers_mut();
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                if *status == StatusCode::UNAUTHORIZED {
                    let challenge = format!("Bearer error=\"{code}\"");
                    if let Ok(value) = HeaderValue::from_str(&challenge) {
                        headers.insert(header::WWW_AUTHENTICATE, value);
                    }
                }
                response
            }
            Self::Dpop {
                status,
                code,
                description,
                nonce,
                challenge,
            } => {
                let description = intyg_core::oid4vci::error_description(description);
                let body = ErrorObject {
                    error: code,
                    error_description: &description,
                    details: None,
                };
                let mut response = (*status, Json(body)).into_response();
                let headers = response.headers_mut();
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                if let Some(nonce) = nonce
                    && let Ok(value) = HeaderValue::from_str(nonce)
                {
                    headers.insert(crate::dpop::NONCE_HEADER, value);
                }
                if *challenge {
                    let value = format!(
                        "DPoP error=\"{code}\", error_description=\"{description}\", algs=\"ES256\""
                    );
                    if let Ok(value) = HeaderValue::from_str(&value) {
                        headers.insert(header::WWW_AUTHENTICATE, value);
                    }
                }
                response
            }
            _ => {
                tracing::error!(error = %self, "request failed");
                let body = ErrorObject {
                    error: "server_error",
                    error_description: "internal error",
                    details: None,
                };
                (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
            }
        }
    }
}

impl From<intyg_service::session::StoreError> for ApiError {
    fn from(error: intyg_service::session::StoreError) -> Self {
        Self::Session(error.into())
    }
}
