//! Standard Webhooks signatures against the specification's example.

use intyg_core::webhook::{Headers, Secret, verify};
use serde_json::Value;

use crate::vector;

#[test]
fn standard_webhooks_signature_scheme_example() {
    let case: Value = serde_json::from_str(&vector("standard-webhooks/signature.json")).unwrap();
    let secret: Secret = case["secret"].as_str().unwrap().parse().unwrap();
    let id = case["msg_id"].as_str().unwrap();
    let timestamp = case["timestamp"].as_i64().unwrap();
    let body = case["payload"].as_str().unwrap().as_bytes();
    let signature = case["signature"].as_str().unwrap();
    assert_eq!(secret.sign(id, timestamp, body), signature);
    let headers = Headers {
        id: Some(id),
        timestamp: Some(&timestamp.to_string()),
        signature: Some(&format!("v1,bm90IGl0 {signature}")),
    };
    assert!(verify(&secret, headers, body, timestamp + 1, 300).is_ok());
}
