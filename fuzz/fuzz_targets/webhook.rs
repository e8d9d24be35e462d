//! Webhook deliveries as an HR system receives them (Standard Webhooks,
//! `core::webhook`), on untrusted input. The first byte picks what the
//! rest is:
//!
//! - `0`: a signing secret (`whsec_…`), which must encode back to itself;
//! - `1`: the three headers and the body, one per line (`webhook-id`,
//!   `webhook-timestamp`, `webhook-signature`, then the body), checked with
//!   the specification's example secret;
//! - otherwise: an id and a body (first line, rest), signed and checked,
//!   which must pass; and the body read as a delivery payload (JSON).

#![no_main]

use std::sync::OnceLock;

use intyg_core::webhook::{self, Headers, Payload, Secret};
use intyg_fuzz::text;
use libfuzzer_sys::fuzz_target;

/// The Standard Webhooks specification's example (`test-vectors/standard-webhooks/signature.json`).
const TIMESTAMP: i64 = 1_614_265_330;

fn secret() -> &'static Secret {
    static SECRET: OnceLock<Secret> = OnceLock::new();
    SECRET.get_or_init(|| {
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
            .parse()
            .expect("the specification's secret")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Some(text) = text(rest) else { return };
    match selector {
        0 => {
            if let Ok(secret) = text.parse::<Secret>() {
                let again: Secret = secret.encode().parse().expect("our own secret reads");
                assert_eq!(again, secret);
            }
        }
        1 => {
            let mut lines = text.splitn(4, '\n');
            let headers = Headers {
                id: lines.next(),
                timestamp: lines.next(),
                signature: lines.next(),
            };
            let body = lines.next().unwrap_or_default();
            if let Ok(verified) =
                webhook::verify(secret(), headers, body.as_bytes(), TIMESTAMP, 300)
            {
                assert_eq!(Some(verified.id.as_str()), headers.id);
                assert!((verified.timestamp - TIMESTAMP).abs() <= 300);
            }
        }
        _ => {
            let (id, body) = text.split_once('\n').unwrap_or((text, ""));
            let signature = secret().sign(id, TIMESTAMP, body.as_bytes());
            let timestamp = TIMESTAMP.to_string();
            let headers = Headers {
                id: Some(id),
                timestamp: Some(&timestamp),
                signature: Some(&signature),
            };
            let verified = webhook::verify(secret(), headers, body.as_bytes(), TIMESTAMP, 300)
                .expect("our own signature verifies");
            assert_eq!(verified.id, id);
            let other = format!("{body} ");
            assert!(webhook::verify(secret(), headers, other.as_bytes(), TIMESTAMP, 300).is_err());
            if let Ok(payload) = serde_json::from_str::<Payload>(body) {
                let json = serde_json::to_string(&payload).expect("a payload serializes");
                let again: Payload = serde_json::from_str(&json).expect("a payload parses");
                assert_eq!(again, payload);
            }
        }
    }
});
