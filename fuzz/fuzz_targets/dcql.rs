//! DCQL queries (OpenID4VP 1.0 §6) on untrusted JSON: parse, validate, and
//! validate again after a serialization round trip.

#![no_main]

use intyg_core::dcql::{DcqlQuery, ValidatedQuery};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(query) = serde_json::from_slice::<DcqlQuery>(data) {
        let _ = query.validate();
    }
    if let Ok(validated) = ValidatedQuery::from_json(data) {
        let json = serde_json::to_vec(&validated).expect("a validated query serializes");
        ValidatedQuery::from_json(&json).expect("a serialized validated query validates again");
    }
});
