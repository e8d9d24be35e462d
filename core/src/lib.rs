//! # intyg-core
//!
//! The shared library of Intyg: the credential data model, the cryptography
//! and the protocol messages that the issuer, the verifier and the wallet
//! exchange. It does no I/O and runs no async runtime: callers bring bytes
//! and a clock, and get typed values or typed errors back.
//!
//! | concept | spec | module |
//! |---|---|---|
//! | keys, JWS, JWE | RFC 7515, 7516, 7517, 7518, 7638, 8037 | [`jose`] |
//! | DIDs | did:key, did:jwk, did:web (URL mapping) | [`did`] |
//! | selective disclosure | RFC 9901 (SD-JWT) | [`sd_jwt`] |
//! | credentials and type metadata | draft-ietf-oauth-sd-jwt-vc | [`vc`] |
//! | revocation | draft-ietf-oauth-status-list | [`status_list`] |
//! | credential queries | OpenID4VP 1.0 §6 (DCQL) | [`dcql`] |
//! | issuance messages | OpenID4VCI 1.0 | [`oid4vci`] |
//! | presentation messages | OpenID4VP 1.0, HAIP 1.0 | [`oid4vp`] |
//! | DPoP, client and key attestation | RFC 9449, draft-ietf-oauth-attestation-based-client-auth | [`oauth`] |
//! | presentation receipts, erasure on request (Intyg extensions) | `specs/PROFILE.md`, GDPR Art. 17 | [`rights`] |
//! | x5c chains, trust lists | RFC 5280, OpenID4VP 1.0 §5.9.3 | [`trust`] |
//! | relying party registration certificates | ETSI TS 119 475 (WRPRC), OpenID4VP 1.0 `verifier_info` | [`wrprc`] |
//! | Swedish personal identity numbers | Folkbokföringslagen §18, SKV 704 | [`identity_number`] |
//! | free text: control characters | Unicode Cc, bidi controls | [`text`] |
//!
//! The SD-JWT pipeline is a chain of types: [`sd_jwt::SdJwt`] (parsed) →
//! [`sd_jwt::Disclosed`] (digests resolved, claims revealed) →
//! [`sd_jwt::Verified`] (signature, holder binding and freshness checked).
//! Only verification constructs a `Verified`.
#![warn(missing_docs)]

pub mod dcql;
pub mod did;
pub mod identity_number;
pub mod jose;
pub mod oauth;
pub mod oid4vci;
pub mod oid4vp;
pub mod rights;
pub mod sd_jwt;
pub mod status_list;
pub mod text;
pub mod trust;
pub mod vc;
pub mod webhook;
pub mod wrprc;
