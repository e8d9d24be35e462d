//! The Wallet's POST to a request URI (OpenID4VP 1.0 §5.10) on untrusted
//! bytes: parse the form, negotiate its `wallet_metadata` against a
//! verifier's offer, and parse again after a round trip.

#![no_main]

use intyg_core::oid4vp::{ClientIdPrefix, RequestUriPost, ResponseMode, VerifierOffer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(post) = RequestUriPost::from_form(body) else {
        return;
    };
    if let Some(metadata) = &post.wallet_metadata {
        for response_mode in [ResponseMode::DirectPost, ResponseMode::DirectPostJwt] {
            let _ = metadata.negotiate(&VerifierOffer {
                client_id_prefix: ClientIdPrefix::X509SanDns,
                signing_alg: "ES256",
                formats: &["dc+sd-jwt"],
                presentation_algs: &["ES256"],
                response_mode,
                encryption_alg: "ECDH-ES",
                encryption_enc: &["A128GCM", "A256GCM"],
            });
        }
    }
    let again = RequestUriPost::from_form(&post.to_form()).expect("our own form parses");
    assert_eq!(again.wallet_nonce, post.wallet_nonce);
});
