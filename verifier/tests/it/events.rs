//! Server-Sent Events on `GET /api/presentations/{id}/events`: a state per
//! event, the stream ending with the transaction, on sled and across two
//! instances on PostgreSQL (the stream at one, the response at the other).

use intyg_core::oid4vp::{AuthorizationErrorResponse, DirectPostBody, ErrorCode};
use intyg_testkit::TestPg;
use serde_json::{Value, json};

use crate::flow::holder_of;
use crate::{API_KEY, TempDir, TestIssuer, Verifier};

/// A Server-Sent Events stream read event by event.
pub(crate) struct EventStream {
    response: reqwest::Response,
    buffer: String,
    /// The `id` of the last event read, as `EventSource` keeps it.
    pub(crate) last_id: Option<String>,
}

impl EventStream {
    pub(crate) async fn open(verifier: &Verifier, id: &str) -> Self {
        let response = verifier
            .http
            .get(format!("{}/api/presentations/{id}/events", verifier.url))
            .bearer_auth(API_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Self {
            response,
            buffer: String::new(),
            last_id: None,
        }
    }

    /// The next event's name and JSON data; `None` when the stream ended.
    /// Comments (keep-alives) are skipped.
    pub(crate) async fn next(&mut self) -> Option<(String, Value)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut name = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        name = Some(value.trim().to_owned());
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.trim_start());
                    } else if let Some(value) = line.strip_prefix("id:") {
                        self.last_id = Some(value.trim().to_owned());
                    }
                }
                match name {
                    Some(name) => return Some((name, serde_json::from_str(&data).unwrap())),
                    None => continue,
                }
            }
            let chunk = self.response.chunk().await.unwrap()?;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}

#[tokio::test]
async fn events_follow_a_presentation_until_it_is_verified() {
    let verifier = Verifier::start("events", |_| {}).await;
    let issuer = TestIssuer::start().await;
    verifier.trust(&issuer);
    let holder = holder_of(
        &issuer,
        &["registration-certificate", "internship-eligibility"],
    );
    let session = verifier.session().await;
    let mut events = EventStream::open(&verifier, &session.id).await;
    let (name, data) = events.next().await.unwrap();
    assert_eq!(name, "pending");
    assert_eq!(data["status"], "pending");
    assert_eq!(data["id"], session.id.as_str());
    assert_eq!(
        verifier
            .post(&session, holder.respond(&session))
            .await
            .status(),
        200
    );
    let (name, data) = events.next().await.unwrap();
    assert_eq!(name, "verified");
    assert_eq!(data["status"], "verified");
    assert!(
        events.next().await.is_none(),
        "the stream ends with the transaction"
    );
    assert_eq!(events.last_id.as_deref(), Some("verified"));
    // A stream opened after the end sends the final state and ends.
    let mut late = EventStream::open(&verifier, &session.id).await;
    assert_eq!(late.next().await.unwrap().0, "verified");
    assert!(late.next().await.is_none());
    // An EventSource reconnecting after the end names the last event it
    // saw: the final one stops it (204); an earlier one gets the end.
    let reconnect = |last: &'static str| {
        verifier
            .http
            .get(format!(
                "{}/api/presentations/{}/events",
                verifier.url, session.id
            ))
            .bearer_auth(API_KEY)
            .header("last-event-id", last)
            .send()
    };
    assert_eq!(reconnect("verified").await.unwrap().status(), 204);
    let earlier = reconnect("pending").await.unwrap();
    assert_eq!(earlier.status(), 200);
    assert!(earlier.text().await.unwrap().contains("event: verified"));
}

#[tokio::test]
async fn events_end_with_a_decline() {
    let verifier = Verifier::start("events-declined", |_| {}).await;
    let session = verifier.session().await;
    let mut events = EventStream::open(&verifier, &session.id).await;
    assert_eq!(events.next().await.unwrap().0, "pending");
    let body = DirectPostBody::Error(AuthorizationErrorResponse {
        error: ErrorCode::AccessDenied,
        error_description: None,
        state: session.request.state.clone(),
    })
    .to_form();
    assert_eq!(verifier.post(&session, body).await.status(), 200);
    let (name, data) = events.next().await.unwrap();
    assert_eq!(name, "declined");
    assert_eq!(data["reason"], "access_denied");
    assert!(events.next().await.is_none());
}

#[tokio::test]
async fn events_end_when_the_transaction_expires() {
    let verifier = Verifier::start("events-expired", |config| {
        config.transaction_seconds = 1;
        config.events_poll_ms = 100;
    })
    .await;
    // No wallet session: the request may expire before a wallet could
    // fetch it on a loaded machine.
    let created: Value = verifier
        .create(json!({"template": "internship-application"}))
        .await
        .json()
        .await
        .unwrap();
    let mut events = EventStream::open(&verifier, created["id"].as_str().unwrap()).await;
    let (first, _) = events.next().await.unwrap();
    if first == "pending" {
        assert_eq!(events.next().await.unwrap().0, "expired");
    } else {
        assert_eq!(first, "expired", "a stream opened after the expiry");
    }
    assert!(events.next().await.is_none());
}

#[tokio::test]
async fn events_of_an_unknown_presentation_are_a_404_and_need_the_key() {
    let verifier = Verifier::start("events-404", |_| {}).await;
    let response = verifier
        .http
        .get(format!("{}/api/presentations/nope/events", verifier.url))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let session = verifier.session().await;
    let response = verifier
        .http
        .get(format!(
            "{}/api/presentations/{}/events",
            verifier.url, session.id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

/// The stream at instance A sees the response B accepted: A never had the
/// change in memory and finds it by re-reading the shared store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_at_one_instance_see_a_response_taken_at_the_other() {
    let url = TestPg::cluster().database("verifier_events").await;
    let shared = TempDir::new("events-shared");
    let dir = shared.0.clone();
    let a = Verifier::start("events-a", |config| {
        config.database_url = Some(url.clone());
        config.data_dir = dir.clone();
        config.events_poll_ms = 100;
    })
    .await;
    let b = Verifier::start("events-b", |config| {
        config.database_url = Some(url.clone());
        config.data_dir = dir.clone();
    })
    .await;
    let issuer = TestIssuer::start().await;
    a.trust(&issuer);
    b.trust(&issuer);
    let holder = holder_of(
        &issuer,
        &["registration-certificate", "internship-eligibility"],
    );
    let created: Value = a
        .create(json!({"template": "internship-application"}))
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let session = a
        .session_via(created["request_uri"].as_str().unwrap(), id, Some(&b.url))
        .await;
    let mut events = EventStream::open(&a, id).await;
    assert_eq!(events.next().await.unwrap().0, "pending");
    let at_b = session
        .request
        .response_uri
        .clone()
        .unwrap()
        .as_str()
        .replacen(&a.state.config.public_url, &b.url, 1);
    let response = b
        .http
        .post(at_b)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(holder.respond(&session))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(events.next().await.unwrap().0, "verified");
    assert!(events.next().await.is_none());
}
