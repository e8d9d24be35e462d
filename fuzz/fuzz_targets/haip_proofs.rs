//! HAIP 1.0 proofs on untrusted input: DPoP proofs (RFC 9449 §4.3), wallet
//! attestations with their PoP (draft-ietf-oauth-attestation-based-client-auth-07)
//! and key attestations (OpenID4VCI 1.0 Appendix D). None may panic.

#![no_main]

use intyg_core::oauth::client_attestation::{self, AttestationExpectations};
use intyg_core::oauth::dpop::{NonceCheck, ProofExpectations, verify_proof};
use intyg_core::oid4vci::key_attestation::verify_key_attestation;
use intyg_core::trust::TrustAnchors;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let accepts = |nonce: &str| nonce.len() == 8;
    let _ = verify_proof(
        text,
        &ProofExpectations {
            method: "POST",
            uri: "https://issuer.example/token",
            now: 1_700_000_000,
            max_age: 300,
            leeway: 60,
            nonce: NonceCheck::Accepted(&accepts),
            access_token: Some("token"),
        },
    );
    let anchors = TrustAnchors::default();
    let (attestation, pop) = text.split_once('\n').unwrap_or((text, text));
    let _ = client_attestation::verify(
        attestation,
        pop,
        &AttestationExpectations {
            anchors: &anchors,
            client_id: Some("wallet"),
            issuer: "https://issuer.example",
            now: 1_700_000_000,
            pop_max_age: 300,
            leeway: 60,
            challenge: None,
        },
    );
    let _ = verify_key_attestation(text, &anchors, 1_700_000_000, 60);
});
