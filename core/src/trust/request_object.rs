//! Authenticating a Verifier's signed Request Object by its `x5c` chain —
//! OpenID4VP 1.0 §5.9.3 (`x509_san_dns:`, `x509_hash:`) under HAIP 1.0.
//!
//! <https://openid.net/specs/openid-4-verifiable-presentations-1_0.html#name-defined-client-identifier-p>
//!
//! The Wallet's step between fetching a `request_uri` and showing consent:
//! parse the header, validate `x5c` to the Wallet's verifier roots, check
//! that the leaf authenticates the `client_id`, then verify the signature
//! and the request with the leaf key.

use super::x509::{CertificateChain, TrustAnchors, ValidatedLeaf, X509Error};
use crate::jose::Header;
use crate::oid4vp::{AuthorizationRequest, ClientId, RequestObjectError, UnverifiedRequestObject};

/// Why a Request Object was not authenticated.
#[derive(Debug, thiserror::Error)]
pub enum RequestAuthError {
    /// The header has no `x5c`.
    #[error("the request object has no x5c chain")]
    MissingX5c,
    /// The chain does not validate, or its leaf does not authenticate the
    /// `client_id`.
    #[error("request object x5c: {0}")]
    X509(#[from] X509Error),
    /// The Request Object itself was refused.
    #[error(transparent)]
    RequestObject(#[from] RequestObjectError),
}

/// A Request Object that was authenticated: its header, the request, and
/// the Verifier's validated leaf certificate.
#[derive(Debug, Clone)]
pub struct AuthenticatedRequest {
    /// The JWS header.
    pub header: Header,
    /// The Authorization Request.
    pub request: AuthorizationRequest,
    /// The Verifier's leaf certificate.
    pub leaf: ValidatedLeaf,
}

/// Authenticates a Request Object for `client_id` (from the invocation
/// URI) against the Wallet's `anchors` at `now`.
pub fn authenticate_request_object(
    jwt: &str,
    client_id: &ClientId,
    anchors: &TrustAnchors,
    wallet_nonce: Option<&str>,
    now: i64,
) -> Result<AuthenticatedRequest, RequestAuthError> {
    let unverified = UnverifiedRequestObject::parse(jwt)?;
    let x5c = unverified
        .header()
        .x5c
        .as_ref()
        .ok_or(RequestAuthError::MissingX5c)?;
    let leaf = CertificateChain::from_x5c(x5c)?.validate(anchors, now)?;
    leaf.authenticates(client_id)?;
    let (header, request) = unverified.verify(&leaf.key, client_id, wallet_nonce, now)?;
    Ok(AuthenticatedRequest {
        header,
        request,
        leaf,
    })
}
