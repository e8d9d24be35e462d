//! OpenID for Verifiable Presentations 1.0 (final) messages, with the
//! choices of the OpenID4VC High Assurance Interoperability Profile 1.0.
//!
//! <https://openid.net/specs/openid-4-verifiable-presentations-1_0.html>
//!
//! One module per message: [`client_id`] (§5.9), [`request`] (§5, the
//! wallet invocation URI of §9), [`request_object`] (signed requests, JAR)
//! [`request_uri_post`] (the Wallet's POST to the `request_uri` and its
//! Wallet Metadata, §5.10, §10) and [`response`] (§8). The credential query itself lives in
//! [`crate::dcql`]. Nothing here does I/O: fetching a `request_uri`,
//! posting to a `response_uri`, and validating `x5c` chains belong to the
//! callers and to the `trust` module.
//!
//! The flow, as types:
//!
//! 1. Verifier: [`AuthorizationRequest`] → [`sign_request_object`] →
//!    [`Invocation::ByReference`] → [`Invocation::to_uri`] (QR code).
//! 2. Wallet: [`AuthorizationRequest::from_uri`] → fetch →
//!    [`UnverifiedRequestObject::parse`] → key from `x5c` →
//!    [`UnverifiedRequestObject::verify`] → consent →
//!    [`AuthorizationResponse`] → [`ResponseEncryption::select`] →
//!    [`AuthorizationResponse::encrypt`] → [`DirectPostBody::to_form`].
//! 3. Verifier: [`DirectPostBody::from_form`] →
//!    [`AuthorizationResponse::decrypt`] → [`VpToken::check_against`] →
//!    [`ResponseUriResponse`].
//!
//! | spec type | Rust type |
//! |---|---|
//! | Client Identifier, prefixes (§5.9) | [`ClientId`], [`ClientIdPrefix`], [`x509_hash_of`] |
//! | Authorization Request (§5.1, §5.2) | [`AuthorizationRequest`] |
//! | `response_type` (§5.6) | [`ResponseType`] (closed: `vp_token`) |
//! | `response_mode` (§5.2, §8.2, §8.3.1, A.2) | [`ResponseMode`] (closed) |
//! | `nonce`, `state` (§5.2) | [`Nonce`], [`State`] |
//! | `client_metadata` (§5.1, §11) | [`ClientMetadata`], `jwks`: [`Jwks`] |
//! | `transaction_data` (§5.1) | [`TransactionData`], [`TransactionDataContent`] |
//! | `verifier_info` (§5.1, §5.11) | [`VerifierInfo`] |
//! | `request_uri_method` (§5.1) | [`RequestUriMethod`] |
//! | request by reference (RFC 9101, §5.10) | [`RequestReference`], [`RequestObjectSource`] |
//! | Request URI POST body (§5.10) | [`RequestUriPost`], [`WalletNonce`] |
//! | Wallet Metadata (§10, §5.10) | [`WalletMetadata`], checked by [`WalletMetadata::negotiate`] against a [`VerifierOffer`] |
//! | invocation URI (§9; HAIP 1.0 `haip-vp://`) | [`Invocation`], [`PRESENTATION_SCHEMES`] |
//! | Request Object (§5, §5.8, RFC 9101) | [`UnverifiedRequestObject`], [`sign_request_object`] |
//! | VP Token (§8.1) | [`VpToken`] of [`Presentation`] |
//! | Authorization Response (§8.1) | [`AuthorizationResponse`] |
//! | `direct_post` / `direct_post.jwt` body (§8.2, §8.3.1) | [`DirectPostBody`] |
//! | response encryption (§8.3) | [`ResponseEncryption`] |
//! | Response URI answer (§8.2) | [`ResponseUriResponse`] |
//! | Error Response (§8.5) | [`AuthorizationErrorResponse`], [`ErrorCode`] |

pub mod client_id;
pub mod request;
pub mod request_object;
pub mod request_uri_post;
pub mod response;

pub use client_id::{ClientId, ClientIdError, ClientIdPrefix, x509_hash_of};
pub use request::{
    AuthorizationRequest, ClientMetadata, HAIP_VP_SCHEME, Invocation, Jwks, JwksError,
    LEGACY_HAIP_SCHEME, Nonce, OPENID4VP_SCHEME, PRESENTATION_SCHEMES, RequestError,
    RequestObjectSource, RequestReference, RequestSigning, RequestUriMethod, ResponseMode,
    ResponseType, State, TokenValueError, TransactionData, TransactionDataContent,
    TransactionDataError, VerifierInfo,
};
pub use request_object::{
    CLOCK_SKEW_SECONDS, REQUEST_OBJECT_TYP, RequestObjectError, SELF_ISSUED_AUDIENCE,
    UnverifiedRequestObject, check_x509_hash, parse_request_object, sign_request_object,
};
pub use request_uri_post::{
    Negotiated, REQUEST_OBJECT_MEDIA_TYPE, REQUEST_URI_POST_CONTENT_TYPE, RequestUriPost,
    RequestUriPostError, VerifierOffer, WALLET_NONCE_MAX_LEN, WalletMetadata, WalletNonce,
};
pub use response::{
    AuthorizationErrorResponse, AuthorizationResponse, Denial, DirectPostBody, EncryptedResponse,
    ErrorCode, Presentation, ResponseEncryption, ResponseError, ResponseUriResponse, VpToken,
    VpTokenError,
};
