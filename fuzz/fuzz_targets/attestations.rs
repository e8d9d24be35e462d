//! Holder- and wallet-signed JWTs a server reads, on untrusted claims:
//! DPoP proofs (RFC 9449 §4.3), OpenID4VCI key proofs (§F.1), key
//! attestations (Appendix D), wallet attestations with their PoP
//! (draft-ietf-oauth-attestation-based-client-auth-07), and Intyg's
//! erasure requests and receipts (`core::rights`). `haip_proofs` feeds
//! these verifiers whole JWTs; here the claims are fuzzed and signed with
//! the fixed key (its JWK in `jwk`, or the leaf chain in `x5c`), so that
//! the checks after the signature are reached. The text `HOLDER_JWK` in the
//! claims is replaced by the fixed public JWK. The first byte picks the JWT:
//!
//! - `0`: DPoP proof claims;
//! - `1`: key proof claims;
//! - `2`: key attestation claims;
//! - `3`: wallet attestation claims, a newline, then PoP claims;
//! - `4`: erasure request claims;
//! - otherwise: receipt claims.
//!
//! What verifies must name the fixed key (by RFC 7638 thumbprint) where
//! the check binds one.

#![no_main]

use intyg_core::jose::{Algorithm, Header, thumbprint};
use intyg_core::oauth::client_attestation::{
    self, ATTESTATION_TYP, AttestationExpectations, POP_TYP,
};
use intyg_core::oauth::dpop::{DPOP_TYP, NonceCheck, ProofExpectations, verify_proof};
use intyg_core::oid4vci::key_attestation::{KEY_ATTESTATION_TYP, verify_key_attestation};
use intyg_core::oid4vci::proof::PROOF_TYP;
use intyg_core::oid4vci::verify_jwt_proof;
use intyg_core::rights::{
    ERASURE_REQUEST_TYP, ErasureRequest, RECEIPT_TYP, Receipt, ReceiptExpectations,
};
use intyg_fuzz::{NOW, fixtures, sign, sign_with, text};
use libfuzzer_sys::fuzz_target;

const ISSUER: &str = "https://issuer.example";

fn with_jwk(typ: &str) -> Header {
    let mut header = Header::new(Algorithm::ES256).typ(typ);
    header.jwk = Some(fixtures().public.clone());
    header
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Some(text) = text(rest) else { return };
    let f = fixtures();
    let jwk = serde_json::to_string(&f.public).expect("a JWK serializes");
    let claims = text.replace("\"HOLDER_JWK\"", &jwk);
    let jkt = thumbprint(&f.public).expect("the fixed key's thumbprint");
    match selector {
        0 => {
            let proof = sign_with(with_jwk(DPOP_TYP), claims.as_bytes());
            let accepts = |nonce: &str| nonce.len() == 8;
            for nonce in [NonceCheck::NotRequired, NonceCheck::Accepted(&accepts)] {
                let expect = ProofExpectations {
                    method: "POST",
                    uri: "https://issuer.example/token",
                    now: NOW,
                    max_age: 300,
                    leeway: 60,
                    nonce,
                    access_token: Some("token"),
                };
                if let Ok(verified) = verify_proof(&proof, &expect) {
                    assert_eq!(verified.jkt, jkt);
                    assert!((verified.iat - NOW).abs() <= 360);
                }
            }
        }
        1 => {
            let proof = sign_with(with_jwk(PROOF_TYP), claims.as_bytes());
            if let Ok(verified) = verify_jwt_proof(&proof, ISSUER, NOW, 300, 60) {
                assert_eq!(thumbprint(&verified.holder_key).ok(), Some(jkt));
            }
        }
        2 => {
            let attestation = sign(Some(KEY_ATTESTATION_TYP), claims.as_bytes(), true);
            if let Ok(verified) = verify_key_attestation(&attestation, &f.anchors, NOW, 60) {
                assert!(!verified.keys().is_empty());
                let _ = verified.covers(&f.public);
            }
        }
        3 => {
            let (attestation, pop) = claims.split_once('\n').unwrap_or((&claims, "{}"));
            let attestation = sign(Some(ATTESTATION_TYP), attestation.as_bytes(), true);
            let pop = sign(Some(POP_TYP), pop.as_bytes(), false);
            for client_id in [None, Some("wallet")] {
                let expect = AttestationExpectations {
                    anchors: &f.anchors,
                    client_id,
                    issuer: ISSUER,
                    now: NOW,
                    pop_max_age: 300,
                    leeway: 60,
                    challenge: None,
                };
                if let Ok(verified) = client_attestation::verify(&attestation, &pop, &expect) {
                    // The PoP verified with `cnf.jwk`: the same key, maybe
                    // with other members (`kid`, `use`).
                    assert_eq!(thumbprint(&verified.instance_key).ok().as_ref(), Some(&jkt));
                    if let Some(client_id) = client_id {
                        assert_eq!(verified.client_id, client_id);
                    }
                }
            }
        }
        4 => {
            let request = sign_with(with_jwk(ERASURE_REQUEST_TYP), claims.as_bytes());
            if let Ok(verified) = ErasureRequest::verify(&request, &[ISSUER], NOW) {
                assert_eq!(verified.holder_key, jkt);
            }
        }
        _ => {
            let receipt = sign(Some(RECEIPT_TYP), claims.as_bytes(), false);
            let sent = [("pid".to_owned(), vec!["/given_name".to_owned()])];
            let _ = Receipt::verify(
                &receipt,
                &f.verifying,
                &ReceiptExpectations {
                    client_id: "x509_san_dns:verifier.example",
                    nonce: "n-0S6_WzA2Mj",
                    vp_token_hash: "hash",
                    sent: &sent,
                    now: NOW,
                },
            );
        }
    }
});
