//! What a Verifier's Response URI receives (OpenID4VP 1.0 §8), on untrusted
//! input. The first byte picks what the rest is:
//!
//! - `0`: a `direct_post` or `direct_post.jwt` form body (§8.2, §8.3.1);
//!   a plain response's `vp_token` is checked against a DCQL query and an
//!   error's `error_description` read;
//! - `1`: a `response` JWE, decrypted with the fixed key;
//! - `2`: response parameters (JSON), encrypted to the fixed key as a
//!   Wallet would, then decrypted;
//! - otherwise: Verifier metadata (`client_metadata`, JSON) from which a
//!   Wallet selects its encryption key and `enc`.
//!
//! Whatever is read must print and read back the same.

#![no_main]

use std::sync::OnceLock;

use intyg_core::dcql::DcqlQuery;
use intyg_core::jose::jwe::{self, ContentEncryption, JweHeaderParams};
use intyg_core::oid4vp::{
    AuthorizationResponse, ClientMetadata, Denial, DirectPostBody, EncryptedResponse,
    ResponseEncryption,
};
use intyg_fuzz::{fixtures, text};
use libfuzzer_sys::fuzz_target;

fn query() -> &'static DcqlQuery {
    static QUERY: OnceLock<DcqlQuery> = OnceLock::new();
    QUERY.get_or_init(|| {
        serde_json::from_str(include_str!(
            "../../test-vectors/dcql/openid4vp-1.0-query-examples/simple.json"
        ))
        .expect("the spec's simple query")
    })
}

fn encryption() -> ResponseEncryption {
    ResponseEncryption {
        key: fixtures().encryption.clone(),
        kid: Some("verifier-enc".into()),
        enc: ContentEncryption::A128GCM,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Some(text) = text(rest) else { return };
    let f = fixtures();
    match selector {
        0 => {
            let Ok(body) = DirectPostBody::from_form(text) else {
                return;
            };
            let again = DirectPostBody::from_form(&body.to_form()).expect("our own body parses");
            assert_eq!(again, body);
            match &body {
                DirectPostBody::Plain(response) => {
                    let _ = response.vp_token.check_against(query());
                    let _ = response.check_state(None);
                }
                DirectPostBody::Error(error) => {
                    let _ = Denial::read(error.error_description.as_deref());
                }
                DirectPostBody::Encrypted(jwe) => {
                    let _ = EncryptedResponse::decrypt(jwe, &f.decryption);
                }
            }
        }
        1 => {
            let _ = EncryptedResponse::decrypt(text, &f.decryption);
            let _ = AuthorizationResponse::decrypt(text, &f.decryption);
        }
        2 => {
            let sealed = jwe::encrypt(
                rest,
                &f.encryption,
                ContentEncryption::A256GCM,
                &JweHeaderParams::default(),
            )
            .expect("encrypting to the fixed key");
            match EncryptedResponse::decrypt(&sealed, &f.decryption) {
                Ok((_, EncryptedResponse::Response(response))) => {
                    let resealed = response.encrypt(&encryption()).expect("re-encrypting");
                    let (header, again) = AuthorizationResponse::decrypt(&resealed, &f.decryption)
                        .expect("our own response decrypts");
                    assert_eq!(again, response);
                    assert_eq!(header.kid.as_deref(), Some("verifier-enc"));
                }
                Ok((_, EncryptedResponse::Error(error))) => {
                    let resealed = error.encrypt(&encryption()).expect("re-encrypting");
                    let (_, again) = EncryptedResponse::decrypt(&resealed, &f.decryption)
                        .expect("our own error decrypts");
                    assert_eq!(again, EncryptedResponse::Error(error));
                }
                Err(_) => {}
            }
        }
        _ => {
            if let Ok(metadata) = serde_json::from_str::<ClientMetadata>(text)
                && let Ok(chosen) = ResponseEncryption::select(&metadata)
            {
                let response = AuthorizationResponse::new(Default::default(), None);
                let _ = response.encrypt(&chosen);
            }
        }
    }
});
