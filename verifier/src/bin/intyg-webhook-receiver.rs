//! `intyg-webhook-receiver`: a sample receiver of the verifier's webhooks,
//! for HR systems to copy. It checks each delivery as Standard Webhooks
//! says (`intyg_core::webhook::verify`: HMAC-SHA256 signature, timestamp
//! within five minutes) and refuses a `webhook-id` it has already
//! accepted (a replay), then prints the event as one JSON line on stdout.
//!
//! ```text
//! intyg-webhook-receiver --listen 127.0.0.1:9000 --secret whsec_...
//! ```
//!
//! Answers: 204 accepted; 400 not JSON; 401 unsigned, badly signed or too
//! old; 409 a replay of an accepted delivery.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use clap::Parser;
use intyg_core::webhook::{
    DEFAULT_TOLERANCE_SECONDS, Headers, ID_HEADER, Payload, SIGNATURE_HEADER, Secret,
    TIMESTAMP_HEADER, verify,
};
use serde_json::json;

#[derive(Debug, Parser)]
#[command(
    name = "intyg-webhook-receiver",
    about = "Receives and checks Intyg verifier webhooks"
)]
struct Args {
    /// Where to listen (any path is accepted).
    #[arg(long, default_value = "127.0.0.1:9000")]
    listen: SocketAddr,
    /// The subscription's secret (`whsec_...`), as `POST /api/webhooks`
    /// returned it.
    #[arg(long, env = "INTYG_WEBHOOK_SECRET")]
    secret: String,
    /// How far a delivery's timestamp may be from now, in seconds.
    #[arg(long, default_value_t = DEFAULT_TOLERANCE_SECONDS)]
    tolerance: i64,
}

struct Receiver {
    secret: Secret,
    tolerance: i64,
    /// Accepted ids and their timestamps; older than the tolerance they
    /// are refused by time anyway, so they are forgotten then.
    seen: Mutex<HashMap<String, i64>>,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let received = Headers {
        id: header(ID_HEADER),
        timestamp: header(TIMESTAMP_HEADER),
        signature: header(SIGNATURE_HEADER),
    };
    let now = now();
    let verified = match verify(&receiver.secret, received, &body, now, receiver.tolerance) {
        Ok(verified) => verified,
        Err(error) => {
            eprintln!("refused: {}: {error}", error.code());
            return (StatusCode::UNAUTHORIZED, error.code().to_owned());
        }
    };
    let payload: Payload = match serde_json::from_slice(&body) {
        Ok(payload) => payload,
        Err(_) => {
            return (
                StatusCode::BAD_REQUEST,
                "body is not a webhook payload".into(),
            );
        }
    };
    {
        let mut seen = receiver.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.retain(|_, at| now - *at <= receiver.tolerance);
        if seen.contains_key(&verified.id) {
            eprintln!("refused: replay of {}", verified.id);
            return (StatusCode::CONFLICT, "replay".into());
        }
        seen.insert(verified.id.clone(), verified.timestamp);
    }
    println!(
        "{}",
        json!({
            "webhook_id": verified.id,
            "type": payload.event_type,
            "presentation_id": payload.data.get("presentation_id"),
            "data": payload.data,
        })
    );
    (StatusCode::NO_CONTENT, String::new())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let secret: Secret = args.secret.parse().context("--secret")?;
    let receiver = Arc::new(Receiver {
        secret,
        tolerance: args.tolerance,
        seen: Mutex::new(HashMap::new()),
    });
    let app = Router::new().fallback(post(receive)).with_state(receiver);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(intyg_service::shutdown_signal())
        .await
        .context("serving")?;
    Ok(())
}
