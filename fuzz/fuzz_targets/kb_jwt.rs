//! Key Binding JWTs (RFC 9901 §4.3, §7.3) on untrusted input, behind a
//! genuine SD-JWT issued once with the fixed key (holder key in `cnf.jwk`).
//! The first byte picks what the rest is:
//!
//! - `0`: a KB-JWT (compact JWS text) appended to the SD-JWT;
//! - otherwise: KB-JWT claims (JSON), signed with the holder key. The text
//!   `SD_HASH` in them is replaced by the SD-JWT's real `sd_hash`, so that
//!   the checks after it are reached.
//!
//! A presentation that verifies must carry the expected `aud`, `nonce` and
//! `sd_hash`, and print back to what was parsed.

#![no_main]

use std::sync::OnceLock;

use intyg_core::jose::{Algorithm, Header};
use intyg_core::sd_jwt::{
    IssueOptions, KB_JWT_TYP, KbJwtClaims, KeyBindingCheck, SdJwt, VerifyOptions, issue,
};
use intyg_fuzz::{NOW, fixtures, sign, text};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

const AUD: &str = "x509_san_dns:verifier.example";
const NONCE: &str = "n-0S6_WzA2Mj";

/// The issued SD-JWT (ending in `~`) and its `sd_hash`.
fn credential() -> &'static (String, String) {
    static CREDENTIAL: OnceLock<(String, String)> = OnceLock::new();
    CREDENTIAL.get_or_init(|| {
        let f = fixtures();
        let claims = json!({
            "iss": "https://issuer.example",
            "vct": "urn:eudi:pid:1",
            "iat": NOW - 3600,
            "cnf": { "jwk": f.public },
            "given_name": "Erika",
            "nationalities": ["SE", "DE"],
        });
        let serde_json::Value::Object(claims) = claims else {
            unreachable!("a JSON object literal")
        };
        let sd_jwt = issue(
            claims,
            &IssueOptions::new(["/given_name", "/nationalities/1"]),
            Header::new(Algorithm::ES256).typ("dc+sd-jwt"),
            &f.key,
        )
        .expect("issuing the fixed credential");
        (sd_jwt.without_kb(), sd_jwt.sd_hash())
    })
}

fuzz_target!(|data: &[u8]| {
    let (base, sd_hash) = credential();
    let presentation = match data {
        [0, rest @ ..] => {
            let Some(kb) = text(rest) else { return };
            format!("{base}{kb}")
        }
        [_, rest @ ..] => {
            let Some(claims) = text(rest) else { return };
            let claims = claims.replace("SD_HASH", sd_hash);
            if let Ok(parsed) = serde_json::from_str::<KbJwtClaims>(&claims) {
                let again = serde_json::to_string(&parsed).expect("claims serialize");
                let reread: KbJwtClaims = serde_json::from_str(&again).expect("claims parse again");
                assert_eq!(reread, parsed);
            }
            format!("{base}{}", sign(Some(KB_JWT_TYP), claims.as_bytes(), false))
        }
        [] => return,
    };
    let Ok(sd_jwt) = SdJwt::parse(&presentation) else {
        return;
    };
    // What follows the issued SD-JWT may add disclosures, never change it.
    assert!(sd_jwt.without_kb().starts_with(base.as_str()));
    assert_eq!(sd_jwt.to_string(), presentation.trim());
    let options = VerifyOptions::at(NOW).key_binding(KeyBindingCheck::new(AUD, NONCE));
    if let Ok(verified) = sd_jwt.verify(&fixtures().verifying, &options) {
        let kb = verified.key_binding.expect("key binding was required");
        assert_eq!(kb.aud, AUD);
        assert_eq!(kb.nonce, NONCE);
        assert_eq!(&kb.sd_hash, sd_hash);
        assert!(NOW - kb.iat <= options.kb_max_age);
    }
});
