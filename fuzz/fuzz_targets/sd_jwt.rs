//! SD-JWT (RFC 9901) on untrusted input: parse the compact or JSON
//! serialization, then resolve the disclosures (no signature is checked).

#![no_main]

use intyg_core::sd_jwt::SdJwt;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(sd_jwt) = SdJwt::parse(text) {
        let _ = sd_jwt.sd_hash();
        let _ = sd_jwt.disclose();
    }
});
