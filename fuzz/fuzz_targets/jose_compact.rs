//! JWS (RFC 7515) and JWE (RFC 7516, ECDH-ES with AES-GCM) compact
//! serializations, and JWKs (RFC 7517), on untrusted input. The first byte
//! picks what the rest is:
//!
//! - `0`: a compact JWS, parsed and verified with the fixed key;
//! - `1`: a compact JWE, decrypted with the fixed key;
//! - `2`: a JWK (JSON): decoded as a verifying key, thumbprinted, and read
//!   as an encryption key;
//! - otherwise: a payload, signed and encrypted with the fixed keys, which
//!   must parse, verify and decrypt back to the same bytes.

#![no_main]

use intyg_core::jose::jwe::{self, ContentEncryption, JweHeaderParams};
use intyg_core::jose::{Algorithm, CompactJws, Jwk, VerifyingKey, thumbprint};
use intyg_fuzz::{fixtures, sign, text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let f = fixtures();
    match data {
        [0, rest @ ..] => {
            let Some(text) = text(rest) else { return };
            if let Ok(jws) = CompactJws::parse(text) {
                assert_eq!(jws.as_str(), text);
                assert!(text.starts_with(jws.signing_input()));
                assert!(matches!(
                    jws.header.alg,
                    Algorithm::ES256 | Algorithm::EdDSA
                ));
                assert!(jws.header.crit.is_none(), "a parsed header has no crit");
                let _ = jws.verify(&f.public);
                let _ = jws.verify_with(&f.verifying);
                let _ = jws.payload_json::<serde_json::Value>();
            }
        }
        [1, rest @ ..] => {
            let Some(text) = text(rest) else { return };
            if let Ok(decrypted) = jwe::decrypt(text, &f.decryption) {
                assert!(decrypted.header.extra.get("zip").is_none());
                assert!(decrypted.header.extra.get("crit").is_none());
            }
        }
        [2, rest @ ..] => {
            if let Ok(jwk) = serde_json::from_slice::<Jwk>(rest) {
                let first = thumbprint(&jwk);
                // RFC 7638 §3.2: the thumbprint of a key we can use counts
                // only required public members, so a private part is ignored.
                if VerifyingKey::from_jwk(&jwk).is_ok() {
                    assert_eq!(thumbprint(&jwk.to_public()).ok(), first.ok());
                }
            }
            if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(rest) {
                let _ = jwe::encryption_jwk(map);
            }
        }
        [selector, payload @ ..] => {
            let jws = sign(Some("JWT"), payload, selector % 2 == 0);
            let parsed = CompactJws::parse(&jws).expect("our own JWS parses");
            assert_eq!(parsed.payload, payload);
            parsed.verify(&f.public).expect("our own JWS verifies");
            let enc = if selector % 3 == 0 {
                ContentEncryption::A256GCM
            } else {
                ContentEncryption::A128GCM
            };
            let params = JweHeaderParams {
                apu: Some(payload.iter().take(8).copied().collect()),
                ..JweHeaderParams::default()
            };
            let sealed = jwe::encrypt(payload, &f.encryption, enc, &params)
                .expect("encrypting to the fixed key");
            let opened = jwe::decrypt(&sealed, &f.decryption).expect("our own JWE decrypts");
            assert_eq!(opened.payload, payload);
            assert_eq!(opened.header.enc, enc);
            assert_eq!(opened.header.apu, params.apu);
        }
        [] => {}
    }
});
