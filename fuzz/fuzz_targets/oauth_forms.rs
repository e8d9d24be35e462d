//! OAuth and OpenID4VCI request bodies a server reads from the network,
//! on untrusted input. The first byte picks what the rest is:
//!
//! - `0`: a Token Request form body (RFC 6749 §4.1.3, OpenID4VCI 1.0 §6.1),
//!   with PKCE (RFC 7636) checked against a fixed challenge;
//! - `1`: a Pushed Authorization Request body (RFC 9126) or the query of
//!   `GET /authorize` (RFC 6749 §4.1.1, OpenID4VCI 1.0 §5.1);
//! - `2`: the Authorization Response query a Wallet's redirect receives
//!   (RFC 6749 §4.1.2, RFC 9207);
//! - `3`: a Credential Request body (OpenID4VCI 1.0 §8.2, JSON) or a
//!   Credential Response (§8.3);
//! - otherwise: a `c_nonce` (§7), opened as a sealed nonce.
//!
//! Whatever is read must print and read back the same.

#![no_main]

use std::sync::OnceLock;

use intyg_core::oid4vci::nonce::SealedNonces;
use intyg_core::oid4vci::{
    AuthorizationRequest, AuthorizationResponse, AuthorizeQuery, CodeVerifier, CredentialRequest,
    CredentialResponse, TokenRequest, verify_pkce_s256,
};
use intyg_fuzz::{NOW, text};
use libfuzzer_sys::fuzz_target;

/// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K9uhvHzwq98d0ZfQ8xNTXKa2Qg";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn nonces() -> &'static SealedNonces {
    static NONCES: OnceLock<SealedNonces> = OnceLock::new();
    NONCES.get_or_init(|| SealedNonces::new(&[7u8; 32]).expect("a 32-byte secret"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Some(text) = text(rest) else { return };
    match selector {
        0 => {
            if let Ok(request) = TokenRequest::from_form(text) {
                let again =
                    TokenRequest::from_form(&request.to_form()).expect("our own body parses");
                assert_eq!(again, request);
                if let TokenRequest::AuthorizationCode(code) = &request
                    && let Some(verifier) = &code.code_verifier
                {
                    let _ = verify_pkce_s256(CHALLENGE, Some(verifier));
                }
            }
            if let Ok(verifier) = text.parse::<CodeVerifier>() {
                let challenge = verifier.s256_challenge();
                verify_pkce_s256(&challenge, Some(&verifier))
                    .expect("a verifier matches its own challenge");
                assert_eq!(text == VERIFIER, challenge == CHALLENGE);
            }
        }
        1 => {
            if let Ok(request) = AuthorizationRequest::from_form(text) {
                let again = AuthorizationRequest::from_form(&request.to_form())
                    .expect("our own request parses");
                assert_eq!(again, request);
            }
            if let Ok(AuthorizeQuery::Request(request)) = AuthorizeQuery::parse(text) {
                let again = AuthorizationRequest::from_form(&request.to_form())
                    .expect("our own request parses");
                assert_eq!(again, request);
            }
        }
        2 => {
            if let Ok(response) = AuthorizationResponse::from_query(text) {
                let again = AuthorizationResponse::from_query(&response.to_query())
                    .expect("our own response parses");
                assert_eq!(again, response);
            }
        }
        3 => {
            if let Ok(request) = CredentialRequest::from_json(rest) {
                let json = serde_json::to_vec(&request).expect("a request serializes");
                let again = CredentialRequest::from_json(&json).expect("our own request parses");
                assert_eq!(again, request);
                request
                    .requested()
                    .expect("a parsed request names one credential");
                for batch in [None, Some(1), Some(10)] {
                    let _ = request.check_batch_size(batch);
                }
            }
            if let Ok(response) = CredentialResponse::from_json(rest) {
                let json = serde_json::to_vec(&response).expect("a response serializes");
                let again = CredentialResponse::from_json(&json).expect("our own response parses");
                assert_eq!(again, response);
            }
        }
        _ => {
            if let Ok(expires_at) = nonces().open(text, NOW) {
                assert!(expires_at > NOW);
            }
            let sealed = nonces().seal(NOW + 300).expect("sealing");
            assert_eq!(nonces().open(sealed.as_str(), NOW), Ok(NOW + 300));
        }
    }
});
