//! Signed webhooks — Standard Webhooks 1.0 (<https://www.standardwebhooks.com/>,
//! "Signature scheme" and "Verifying webhook authenticity").
//!
//! A delivery carries three headers: `webhook-id` (the message id, the
//! same on every retry: the receiver's idempotency key),
//! `webhook-timestamp` (seconds since the epoch of this attempt) and
//! `webhook-signature`, a space-separated list of `v1,<base64 HMAC-SHA256>`
//! over `{id}.{timestamp}.{body}` with the subscription's secret. Secrets
//! are `whsec_` and the base64 of at least 24 random bytes.
//!
//! [`verify`] is the receiver's check: a signature that matches in
//! constant time, a timestamp within the tolerance (replay protection
//! besides the receiver remembering the ids it has seen). No I/O here: the
//! caller passes headers, body and the clock.

use aws_lc_rs::{constant_time, hmac};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The header carrying the message id.
pub const ID_HEADER: &str = "webhook-id";
/// The header carrying the attempt's timestamp.
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// The header carrying the signatures.
pub const SIGNATURE_HEADER: &str = "webhook-signature";
/// The prefix of a secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// How far a timestamp may be from the receiver's clock (the scheme's
/// recommended five minutes).
pub const DEFAULT_TOLERANCE_SECONDS: i64 = 300;

/// Why a webhook could not be signed or was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The secret is not `whsec_` + base64 of at least 24 bytes.
    #[error("the webhook secret is not whsec_ and base64 of 24 or more bytes")]
    MalformedSecret,
    /// A required header is absent.
    #[error("the {0} header is missing")]
    MissingHeader(&'static str),
    /// `webhook-timestamp` is not an integer.
    #[error("the webhook-timestamp header is not a number of seconds")]
    MalformedTimestamp,
    /// The timestamp is further from now than the tolerance.
    #[error("the webhook-timestamp is {0} seconds away from now")]
    StaleTimestamp(i64),
    /// No `v1` signature matches.
    #[error("no webhook-signature matches")]
    BadSignature,
}

impl WebhookError {
    /// A stable code for logs and answers.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedSecret => "malformed_secret",
            Self::MissingHeader(_) => "missing_header",
            Self::MalformedTimestamp => "malformed_timestamp",
            Self::StaleTimestamp(_) => "stale_timestamp",
            Self::BadSignature => "bad_signature",
        }
    }
}

/// A subscription's signing secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// A secret from `bytes` (at least 24).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, WebhookError> {
        if bytes.len() < 24 {
            return Err(WebhookError::MalformedSecret);
        }
        Ok(Self(bytes))
    }

    /// `whsec_` + base64.
    pub fn encode(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.0))
    }

    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> hmac::Tag {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.0);
        let mut context = hmac::Context::with_key(&key);
        context.update(id.as_bytes());
        context.update(b".");
        context.update(timestamp.to_string().as_bytes());
        context.update(b".");
        context.update(body);
        context.sign()
    }

    /// The `webhook-signature` value of message `id` sent at `timestamp`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        format!("v1,{}", STANDARD.encode(self.mac(id, timestamp, body)))
    }
}

impl std::str::FromStr for Secret {
    type Err = WebhookError;

    fn from_str(text: &str) -> Result<Self, WebhookError> {
        let encoded = text
            .strip_prefix(SECRET_PREFIX)
            .ok_or(WebhookError::MalformedSecret)?;
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| WebhookError::MalformedSecret)?;
        Self::from_bytes(bytes)
    }
}

/// The three headers of a delivery as received (absent ones `None`).
#[derive(Debug, Clone, Copy)]
pub struct Headers<'a> {
    /// `webhook-id`.
    pub id: Option<&'a str>,
    /// `webhook-timestamp`.
    pub timestamp: Option<&'a str>,
    /// `webhook-signature`.
    pub signature: Option<&'a str>,
}

/// A delivery whose signature and timestamp were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The message id (the idempotency key).
    pub id: String,
    /// The attempt's timestamp.
    pub timestamp: i64,
}

/// Checks a delivery: headers present, timestamp within `tolerance`
/// seconds of `now`, and some `v1` signature equal (in constant time) to
/// ours over `body`. Remembering ids (replays within the tolerance) is the
/// receiver's part.
pub fn verify(
    secret: &Secret,
    headers: Headers<'_>,
    body: &[u8],
    now: i64,
    tolerance: i64,
) -> Result<Verified, WebhookError> {
    let id = headers.id.ok_or(WebhookError::MissingHeader(ID_HEADER))?;
    let timestamp = headers
        .timestamp
        .ok_or(WebhookError::MissingHeader(TIMESTAMP_HEADER))?
        .trim()
        .parse::<i64>()
        .map_err(|_| WebhookError::MalformedTimestamp)?;
    let signatures = headers
        .signature
        .ok_or(WebhookError::MissingHeader(SIGNATURE_HEADER))?;
    let skew = now.saturating_sub(timestamp);
    if skew.abs() > tolerance {
        return Err(WebhookError::StaleTimestamp(skew));
    }
    let expected = secret.mac(id, timestamp, body);
    let matches = signatures
        .split(' ')
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|b64| STANDARD.decode(b64).ok())
        .any(|candidate| {
            constant_time::verify_slices_are_equal(&candidate, expected.as_ref()).is_ok()
        });
    if !matches {
        return Err(WebhookError::BadSignature);
    }
    Ok(Verified {
        id: id.to_owned(),
        timestamp,
    })
}

/// The JSON body of a delivery (the scheme's recommended shape): the event
/// `type`, when it happened (RFC 3339) and its `data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    /// The event type, e.g. `presentation.verified`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When the event happened, RFC 3339 UTC.
    pub timestamp: String,
    /// What happened.
    pub data: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Secret {
        Secret::from_bytes(vec![7; 32]).unwrap()
    }

    fn headers<'a>(id: &'a str, ts: &'a str, sig: &'a str) -> Headers<'a> {
        Headers {
            id: Some(id),
            timestamp: Some(ts),
            signature: Some(sig),
        }
    }

    #[test]
    fn a_signed_delivery_verifies_and_its_secret_round_trips() {
        let body = br#"{"type":"presentation.verified"}"#;
        let sig = secret().sign("msg_1", 1000, body);
        let verified = verify(&secret(), headers("msg_1", "1000", &sig), body, 1010, 300).unwrap();
        assert_eq!(verified.id, "msg_1");
        let again: Secret = secret().encode().parse().unwrap();
        assert_eq!(again, secret());
    }

    #[test]
    fn an_unsigned_delivery_is_refused() {
        let result = verify(
            &secret(),
            Headers {
                id: Some("msg_1"),
                timestamp: Some("1000"),
                signature: None,
            },
            b"{}",
            1000,
            300,
        );
        assert_eq!(result, Err(WebhookError::MissingHeader(SIGNATURE_HEADER)));
    }

    #[test]
    fn a_changed_body_id_or_key_is_refused() {
        let sig = secret().sign("msg_1", 1000, b"{}");
        for (id, body) in [("msg_2", &b"{}"[..]), ("msg_1", &b"{ }"[..])] {
            assert_eq!(
                verify(&secret(), headers(id, "1000", &sig), body, 1000, 300),
                Err(WebhookError::BadSignature)
            );
        }
        let other = Secret::from_bytes(vec![8; 32]).unwrap();
        assert_eq!(
            verify(&other, headers("msg_1", "1000", &sig), b"{}", 1000, 300),
            Err(WebhookError::BadSignature)
        );
    }

    #[test]
    fn an_old_timestamp_is_refused() {
        let sig = secret().sign("msg_1", 1000, b"{}");
        assert_eq!(
            verify(&secret(), headers("msg_1", "1000", &sig), b"{}", 1301, 300),
            Err(WebhookError::StaleTimestamp(301))
        );
        assert_eq!(
            verify(&secret(), headers("msg_1", "x", &sig), b"{}", 1000, 300),
            Err(WebhookError::MalformedTimestamp)
        );
    }

    #[test]
    fn a_short_or_unprefixed_secret_is_refused() {
        assert!(Secret::from_bytes(vec![1; 23]).is_err());
        assert!(
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
                .parse::<Secret>()
                .is_err()
        );
    }
}
