//! OAuth 2.0 extensions that HAIP 1.0 builds on, as types with no I/O.
//!
//! | spec | section | Rust |
//! |---|---|---|
//! | DPoP proof JWT | RFC 9449 §4.2, §4.3 | [`dpop::create_proof`], [`dpop::verify_proof`], [`dpop::DpopClaims`] |
//! | DPoP server nonce | RFC 9449 §8 | [`dpop::ServerNonces`] |
//! | `ath` access token hash | RFC 9449 §4.2 | [`dpop::access_token_hash`] |
//! | JWK thumbprint confirmation (`cnf.jkt`) | RFC 9449 §6.1, RFC 7638 | [`dpop::jwk_thumbprint`] |
//! | Client Attestation JWT | draft-ietf-oauth-attestation-based-client-auth-07 §5.1 | [`client_attestation::ClientAttestationClaims`] |
//! | Client Attestation PoP JWT | same, §5.2 | [`client_attestation::ClientAttestationPopClaims`] |
//! | verification of both | same, §5.3; HAIP 1.0 §4.3.1 | [`client_attestation::verify`] |

pub mod client_attestation;
pub mod dpop;
