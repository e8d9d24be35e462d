//! Wallet-Relying Party Registration Certificates (ETSI TS 119 475 §5.2,
//! `typ: rc-wrp+jwt`) on untrusted input. The first byte picks what the
//! rest is:
//!
//! - `0`: a WRPRC (compact JWS text), verified against the local root;
//! - `1`: WRPRC claims (JSON), signed with the fixed key and the leaf chain,
//!   then verified, bound to the leaf as access certificate (its
//!   `organizationIdentifier` is `NTRSE-5560000001`) and compared with a
//!   DCQL query. A WRPRC that verifies must verify again once signed by us;
//! - otherwise: WRPRC claims (JSON), read and compared with the query.

#![no_main]

use std::sync::OnceLock;

use intyg_core::dcql::DcqlQuery;
use intyg_core::jose::{Algorithm, Header};
use intyg_core::wrprc::{self, RegistrationClaims, TYP, localized};
use intyg_fuzz::{fixtures, sign_with, text};
use libfuzzer_sys::fuzz_target;

/// 2025-10-09: inside the validity of `test-vectors/wrprc/payload.json`.
const NOW: i64 = 1_760_000_000;

fn query() -> &'static DcqlQuery {
    static QUERY: OnceLock<DcqlQuery> = OnceLock::new();
    QUERY.get_or_init(|| {
        serde_json::from_str(include_str!(
            "../../test-vectors/dcql/openid4vp-1.0-query-examples/simple.json"
        ))
        .expect("the spec's simple query")
    })
}

fn check_claims(claims: &RegistrationClaims) {
    let json = serde_json::to_string(claims).expect("claims serialize");
    let again: RegistrationClaims = serde_json::from_str(&json).expect("claims parse again");
    assert_eq!(&again, claims);
    let overasked = claims.overasked(query());
    for credential in &query().credentials {
        let _ = overasked.claims(&credential.id);
    }
    if let Some(purpose) = &claims.purpose {
        let _ = localized(purpose, "sv-SE");
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
            if let Ok(verified) = wrprc::verify(text, &f.anchors, NOW) {
                check_claims(&verified.claims);
            }
        }
        1 => {
            let mut header = Header::new(Algorithm::ES256).typ(TYP);
            header.x5c = Some(f.chain.to_x5c());
            let jwt = sign_with(header, text.as_bytes());
            let Ok(verified) = wrprc::verify(&jwt, &f.anchors, NOW) else {
                return;
            };
            check_claims(&verified.claims);
            let access = f
                .chain
                .validate(&f.anchors, NOW)
                .expect("the leaf chains to the root");
            let bound = verified.check_bound(&access).is_ok();
            assert_eq!(bound, verified.claims.sub == "NTRSE-5560000001");
            let again = wrprc::sign(&verified.claims, &f.key, &f.chain).expect("signing");
            let reread = wrprc::verify(&again, &f.anchors, NOW).expect("our own WRPRC verifies");
            assert_eq!(reread.claims, verified.claims);
        }
        _ => {
            if let Ok(claims) = serde_json::from_str::<RegistrationClaims>(text) {
                check_claims(&claims);
            }
        }
    }
});
