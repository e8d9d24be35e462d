//! Signed webhooks end to end: the sample receiver (`intyg-webhook-receiver`,
//! run as a process) gets a delivery once it comes back up, refuses
//! replayed, unsigned and tampered callbacks; an always-failing receiver
//! ends in a dead letter (API and portal); deliveries survive kill -9 of
//! the verifier; two instances on PostgreSQL deliver each event once;
//! outside `--dev` non-public webhook URLs are refused at registration
//! and at delivery; finished deliveries are pruned after the retention
//! period (both backends).

use intyg_testkit::free_port;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use intyg_core::oid4vp::{AuthorizationErrorResponse, DirectPostBody, ErrorCode};
use intyg_testkit::TestPg;
use intyg_verifier::store::{Delivery, DeliveryState, Stores};
use serde_json::{Value, json};

use crate::{API_KEY, Session, TempDir, Verifier};

/// The sample receiver as a process; its stdout lines (accepted events).
pub(crate) struct SampleReceiver {
    child: Child,
    pub(crate) url: String,
    lines: Arc<Mutex<Vec<Value>>>,
}

impl SampleReceiver {
    pub(crate) fn start(port: u16, secret: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_intyg-webhook-receiver"))
            .args(["--listen", &format!("127.0.0.1:{port}"), "--secret", secret])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (ready, listening) = std::sync::mpsc::channel();
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { break };
                if line.starts_with("listening on ") {
                    let _ = ready.send(());
                } else if let Ok(event) = serde_json::from_str(&line) {
                    sink.lock().unwrap().push(event);
                }
            }
        });
        listening.recv_timeout(Duration::from_secs(20)).unwrap();
        Self {
            child,
            url: format!("http://127.0.0.1:{port}/hooks"),
            lines,
        }
    }

    /// The events accepted so far.
    pub(crate) fn events(&self) -> Vec<Value> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits (up to 60 s) until `n` events were accepted.
    pub(crate) async fn wait_for(&self, n: usize) -> Vec<Value> {
        for _ in 0..600 {
            let events = self.events();
            if events.len() >= n {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the receiver got {:?}", self.events());
    }
}

impl Drop for SampleReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `POST /api/webhooks`; returns (id, secret).
pub(crate) async fn subscribe(verifier: &Verifier, url: &str, events: &[&str]) -> (String, String) {
    let response = verifier
        .post_json("/api/webhooks", &json!({"url": url, "events": events}))
        .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    (
        created["id"].as_str().unwrap().to_owned(),
        created["secret"].as_str().unwrap().to_owned(),
    )
}

/// The wallet declines `session`.
pub(crate) async fn decline(verifier: &Verifier, session: &Session) {
    let body = DirectPostBody::Error(AuthorizationErrorResponse {
        error: ErrorCode::AccessDenied,
        error_description: None,
        state: session.request.state.clone(),
    })
    .to_form();
    assert_eq!(verifier.post(session, body).await.status(), 200);
}

/// Polls the outbox until `done` holds for the deliveries (up to 60 s).
async fn deliveries_until(verifier: &Verifier, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..600 {
        let all = verifier.get_json("/api/webhook-deliveries").await;
        let all = all.as_array().unwrap().clone();
        if done(&all) {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{}", verifier.get_json("/api/webhook-deliveries").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_arrives_once_the_receiver_comes_back() {
    let verifier = Verifier::start("webhook-down", |config| {
        config.webhooks.first_retry_ms = 300;
        config.webhooks.max_backoff_ms = 1_000;
        config.webhooks.poll_interval_ms = 100;
    })
    .await;
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/hooks");
    let (_, secret) = subscribe(
        &verifier,
        &url,
        &["presentation.declined", "presentation.verified"],
    )
    .await;
    let session = verifier.session().await;
    decline(&verifier, &session).await;
    // The receiver is down: attempts fail and the delivery waits.
    let waiting = deliveries_until(&verifier, |all| {
        all.len() == 1 && all[0]["attempts"].as_u64().unwrap() >= 2
    })
    .await;
    assert_eq!(waiting[0]["state"], "pending");
    assert!(waiting[0]["last_error"].as_str().is_some());
    let receiver = SampleReceiver::start(port, &secret);
    let events = receiver.wait_for(1).await;
    assert_eq!(events[0]["type"], "presentation.declined");
    assert_eq!(events[0]["presentation_id"], session.id.as_str());
    assert_eq!(events[0]["webhook_id"], waiting[0]["id"]);
    let delivered = deliveries_until(&verifier, |all| all[0]["state"] == "delivered").await;
    assert_eq!(delivered.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_always_failing_receiver_ends_in_a_dead_letter() {
    let verifier = Verifier::start("webhook-dead", |config| {
        config.webhooks.first_retry_ms = 50;
        config.webhooks.max_attempts = 3;
        config.webhooks.poll_interval_ms = 50;
    })
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let hits = Arc::new(Mutex::new(0usize));
    let counter = hits.clone();
    let failing = axum::Router::new().fallback(move || {
        let counter = counter.clone();
        async move {
            *counter.lock().unwrap() += 1;
            axum::http::StatusCode::INTERNAL_SERVER_ERROR
        }
    });
    tokio::spawn(async move { axum::serve(listener, failing).await.unwrap() });
    subscribe(&verifier, &url, &["presentation.declined"]).await;
    let session = verifier.session().await;
    decline(&verifier, &session).await;
    let all = deliveries_until(&verifier, |all| all.len() == 1 && all[0]["state"] == "dead").await;
    assert_eq!(all[0]["attempts"], 3);
    assert_eq!(*hits.lock().unwrap(), 3);
    assert!(
        all[0]["last_error"].as_str().unwrap().contains("500"),
        "{}",
        all[0]
    );
    let dead = verifier
        .get_json("/api/webhook-deliveries?state=dead")
        .await;
    assert_eq!(dead.as_array().unwrap().len(), 1);
    assert_eq!(
        verifier
            .get_json("/api/webhook-deliveries?state=pending")
            .await,
        json!([])
    );
    // Dead letters are listed in the portal.
    let mut browser = intyg_testkit::PortalBrowser::new(&verifier.url);
    let password = std::env::var("INTYG_EMPLOYER_PASSWORD")
        .unwrap_or_else(|_| intyg_verifier::portal::DEV_PASSWORD.to_owned());
    let signed = browser
        .sign_in(intyg_verifier::portal::DEV_EMPLOYER, &password)
        .await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    let page = browser.get("/portal/webhooks").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(all[0]["id"].as_str().unwrap()),
        "{}",
        page.body
    );
    assert!(page.body.contains("state-dead"), "{}", page.body);
    // Queued again on request, it is attempted again.
    let id = all[0]["id"].as_str().unwrap();
    let retried = verifier
        .post_json(&format!("/api/webhook-deliveries/{id}/retry"), &json!({}))
        .await;
    assert_eq!(retried.status(), 200);
    deliveries_until(&verifier, |all| all[0]["state"] == "dead").await;
    assert_eq!(*hits.lock().unwrap(), 6);
    // Only a dead delivery can be retried.
    let unknown = verifier
        .post_json("/api/webhook-deliveries/nope/retry", &json!({}))
        .await;
    assert_eq!(unknown.status(), 404);
}

/// A real delivery captured on the way, then played to the sample
/// receiver: accepted once; the same again (a replay), without its
/// signature, or with its body changed, refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_receiver_refuses_replayed_unsigned_and_tampered_callbacks() {
    let verifier = Verifier::start("webhook-replay", |config| {
        config.webhooks.poll_interval_ms = 50;
    })
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let captured: Arc<Mutex<Vec<(HeaderMap, String)>>> = Arc::default();
    let sink = captured.clone();
    let capture = axum::Router::new().fallback(move |headers: HeaderMap, body: String| {
        let sink = sink.clone();
        async move {
            sink.lock().unwrap().push((headers, body));
            axum::http::StatusCode::NO_CONTENT
        }
    });
    tokio::spawn(async move { axum::serve(listener, capture).await.unwrap() });
    let (_, secret) = subscribe(&verifier, &url, &["presentation.declined"]).await;
    let session = verifier.session().await;
    decline(&verifier, &session).await;
    deliveries_until(&verifier, |all| {
        all.len() == 1 && all[0]["state"] == "delivered"
    })
    .await;
    let (headers, body) = captured.lock().unwrap()[0].clone();
    let payload: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(payload["type"], "presentation.declined");
    assert_eq!(payload["data"]["presentation_id"], session.id.as_str());
    assert!(
        headers["webhook-signature"]
            .to_str()
            .unwrap()
            .starts_with("v1,")
    );

    let receiver = SampleReceiver::start(free_port(), &secret);
    let http = reqwest::Client::new();
    let send = |names: &[&str], body: &str| {
        let mut request = http
            .post(&receiver.url)
            .header("content-type", "application/json")
            .body(body.to_owned());
        for name in names {
            request = request.header(*name, headers[*name].to_str().unwrap());
        }
        request.send()
    };
    let all = ["webhook-id", "webhook-timestamp", "webhook-signature"];
    assert_eq!(send(&all, &body).await.unwrap().status(), 204);
    assert_eq!(send(&all, &body).await.unwrap().status(), 409, "a replay");
    let unsigned = send(&["webhook-id", "webhook-timestamp"], &body)
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    let tampered = body.replace("declined", "verified");
    assert_eq!(send(&all, &tampered).await.unwrap().status(), 401);
    // Its stdout is read on another thread.
    receiver.wait_for(1).await;
    assert_eq!(receiver.events().len(), 1, "only the genuine one is taken");
}

#[tokio::test]
async fn a_webhook_to_a_private_address_or_an_unknown_event_is_refused() {
    let verifier = Verifier::start("webhook-ssrf", |_| {}).await;
    for (url, events) in [
        ("http://10.0.0.5/hooks", json!(["presentation.verified"])),
        (
            "https://192.168.1.2/hooks",
            json!(["presentation.verified"]),
        ),
        ("ftp://ats.example/hooks", json!(["presentation.verified"])),
        ("https://ats.example/hooks", json!(["presentation.opened"])),
        ("https://ats.example/hooks", json!([])),
    ] {
        let response = verifier
            .post_json("/api/webhooks", &json!({"url": url, "events": events}))
            .await;
        assert_eq!(response.status(), 400, "{url} {events}");
    }
    // Loopback is allowed in --dev, as for status lists.
    let (id, _) = subscribe(
        &verifier,
        "http://127.0.0.1:9/hooks",
        &["presentation.failed"],
    )
    .await;
    let listed = verifier.get_json("/api/webhooks").await;
    assert_eq!(listed[0]["id"], id.as_str());
    assert!(
        listed[0].get("secret").is_none(),
        "the secret is shown once"
    );
    let deleted = verifier
        .http
        .delete(format!("{}/api/webhooks/{id}", verifier.url))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(verifier.get_json("/api/webhooks").await, json!([]));
}

/// Regression: outside `--dev`, `https://localhost/`, IPv4-mapped
/// loopback, link-local, shared (CGNAT) and other non-public addresses
/// were taken as webhook URLs. Each is refused with a 400 naming it.
#[tokio::test]
async fn outside_dev_a_webhook_to_localhost_or_a_non_public_address_is_refused() {
    let verifier = Verifier::start("webhook-ssrf-prod", |config| config.dev = false).await;
    for url in [
        "https://localhost/x",
        "https://LOCALHOST./x",
        "https://hr.localhost/x",
        "http://[::ffff:127.0.0.1]/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://[::ffff:a00:5]/x",
        "https://[::1]/x",
        "https://127.0.0.1/x",
        "https://2130706433/x",
        "https://[fe80::1]/x",
        "https://[fd00::1]/x",
        "https://100.64.0.1/x",
        "https://169.254.169.254/latest/meta-data",
        "https://0.0.0.0/x",
        "https://[::]/x",
        "https://224.0.0.1/x",
        "https://192.0.2.1/x",
        "https://[64:ff9b::7f00:1]/x",
        "http://ats.example/hooks",
    ] {
        let response = verifier
            .post_json(
                "/api/webhooks",
                &json!({"url": url, "events": ["presentation.verified"]}),
            )
            .await;
        assert_eq!(response.status(), 400, "{url}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"], "invalid_request", "{url}");
        let description = error["error_description"].as_str().unwrap();
        assert!(description.contains("is refused"), "{url}: {description}");
    }
    subscribe(
        &verifier,
        "https://ats.example/hooks",
        &["presentation.verified"],
    )
    .await;
    assert_eq!(
        verifier
            .get_json("/api/webhooks")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// Regression: a stored URL is checked again when delivered to. A
/// subscription to IPv4-mapped loopback (stored before the rule, or by
/// another instance's settings) ends in a dead letter without the
/// verifier ever connecting to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_dev_a_delivery_to_a_mapped_loopback_address_never_connects() {
    let verifier = Verifier::start("webhook-ssrf-delivery", |config| {
        config.dev = false;
        config.webhooks.max_attempts = 1;
        config.webhooks.poll_interval_ms = 50;
    })
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(Mutex::new(0usize));
    let counter = connections.clone();
    tokio::spawn(async move {
        while listener.accept().await.is_ok() {
            *counter.lock().unwrap() += 1;
        }
    });
    verifier
        .state
        .stores
        .subscriptions
        .insert(&intyg_verifier::store::Subscription {
            id: "stored-before".into(),
            url: format!("https://[::ffff:127.0.0.1]:{port}/hooks"),
            events: vec!["presentation.declined".into()],
            secret: "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0".into(),
            created_at: intyg_verifier::now(),
        })
        .await
        .unwrap();
    let session = verifier.session().await;
    decline(&verifier, &session).await;
    let all = deliveries_until(&verifier, |all| all.len() == 1 && all[0]["state"] == "dead").await;
    let error = all[0]["last_error"].as_str().unwrap();
    assert!(error.starts_with("refusing to fetch"), "{error}");
    assert_eq!(*connections.lock().unwrap(), 0);
}

/// Regression: delivered deliveries were never deleted, so the outbox
/// grew without end (and a sled claim read all of it). After
/// `retention_seconds` a delivered one is gone; a pending one stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivered_delivery_is_pruned_after_the_retention_period() {
    let verifier = Verifier::start("webhook-prune", |config| {
        config.webhooks.poll_interval_ms = 50;
        config.webhooks.first_retry_ms = 60_000;
        config.webhooks.retention_seconds = 1;
        config.purge_interval_ms = 100;
    })
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let taking = axum::Router::new().fallback(|| async { axum::http::StatusCode::NO_CONTENT });
    tokio::spawn(async move { axum::serve(listener, taking).await.unwrap() });
    subscribe(&verifier, &url, &["presentation.declined"]).await;
    let down = format!("http://127.0.0.1:{}/hooks", free_port());
    subscribe(&verifier, &down, &["presentation.declined"]).await;
    let session = verifier.session().await;
    decline(&verifier, &session).await;
    let both = deliveries_until(&verifier, |all| {
        all.len() == 2 && all.iter().any(|d| d["state"] == "delivered")
    })
    .await;
    let waiting = both.iter().find(|d| d["state"] == "pending").unwrap();
    let left = deliveries_until(&verifier, |all| all.len() == 1).await;
    assert_eq!(left[0]["id"], waiting["id"]);
    assert_eq!(left[0]["state"], "pending");
}

fn finished(id: &str, state: DeliveryState, ended_ms: i64) -> Delivery {
    Delivery {
        id: id.into(),
        subscription_id: "w1".into(),
        event: "presentation.verified".into(),
        presentation_id: "t1".into(),
        payload: "{}".into(),
        state,
        attempts: 1,
        next_attempt_at: ended_ms,
        leased_until: 0,
        last_error: None,
        created_at: 1,
        delivered_at: None,
    }
}

/// The outbox's pruning, on each backend: delivered and dead deliveries
/// finished before the cut-off go, pending ones (however old) and recent
/// ones stay, and a claim still finds the pending.
async fn finished_deliveries_are_pruned(stores: Stores) {
    for delivery in [
        finished("pending-old", DeliveryState::Pending, 1_000),
        finished("delivered-old", DeliveryState::Delivered, 1_000),
        finished("delivered-new", DeliveryState::Delivered, 9_000),
        finished("dead-old", DeliveryState::Dead, 4_999),
        finished("dead-new", DeliveryState::Dead, 5_000),
    ] {
        stores.outbox.enqueue(&delivery).await.unwrap();
    }
    assert_eq!(stores.outbox.prune(5_000).await.unwrap(), 2);
    let mut left: Vec<String> = stores
        .outbox
        .list(None)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    left.sort();
    assert_eq!(left, ["dead-new", "delivered-new", "pending-old"]);
    assert_eq!(stores.outbox.prune(5_000).await.unwrap(), 0);
    let claimed = stores.outbox.claim(20_000, 30_000, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].id, "pending-old");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_deliveries_are_pruned_on_sled() {
    let dir = TempDir::new("webhook-prune-sled");
    let stores = Stores::open_sled(&dir.0.join("db"), &dir.0.join("keys")).unwrap();
    finished_deliveries_are_pruned(stores).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_deliveries_are_pruned_on_postgres() {
    let url = TestPg::cluster().database("verifier_webhook_prune").await;
    let stores = Stores::open_pg(&intyg_service::pg::PgConfig::new(url))
        .await
        .unwrap();
    finished_deliveries_are_pruned(stores).await;
}

/// Two instances on one database, each with its delivery worker: every
/// event reaches the receiver exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_deliver_each_event_once() {
    let url = TestPg::cluster().database("verifier_webhooks").await;
    let shared = TempDir::new("webhooks-shared");
    let dir = shared.0.clone();
    let start = |name: &'static str| {
        let (url, dir) = (url.clone(), dir.clone());
        Verifier::start(name, move |config| {
            config.database_url = Some(url);
            config.data_dir = dir;
            config.webhooks.poll_interval_ms = 20;
        })
    };
    let a = start("webhooks-a").await;
    let b = start("webhooks-b").await;
    let port = free_port();
    let (_, secret) = subscribe(
        &a,
        &format!("http://127.0.0.1:{port}/hooks"),
        &["presentation.declined"],
    )
    .await;
    let receiver = SampleReceiver::start(port, &secret);
    let mut ids = Vec::new();
    for i in 0..6 {
        let at = if i % 2 == 0 { &a } else { &b };
        let session = at.session().await;
        decline(at, &session).await;
        ids.push(session.id);
    }
    receiver.wait_for(6).await;
    // Time for a second delivery of any event to show up, were there one.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let events = receiver.events();
    let mut received: Vec<String> = receiver
        .events()
        .iter()
        .map(|e| e["presentation_id"].as_str().unwrap().to_owned())
        .collect();
    received.sort();
    ids.sort();
    assert_eq!(received, ids, "each event once: {events:?}");
}

/// A child process killed (SIGKILL) when dropped, also when a test fails.
pub(crate) struct Process(pub(crate) Child);

impl Process {
    fn kill_9(&mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `intyg-verifier --dev` as a process on `port` over `dir`.
pub(crate) fn verifier_process(dir: &std::path::Path, port: u16) -> Process {
    Process(
        Command::new(env!("CARGO_BIN_EXE_intyg-verifier"))
            .args(["--dev", "--data-dir"])
            .arg(dir)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("INTYG_API_KEY", API_KEY)
            .env_remove("INTYG_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

pub(crate) async fn wait_healthy(http: &reqwest::Client, base: &str) {
    for _ in 0..300 {
        if let Ok(response) = http.get(format!("{base}/healthz")).send().await
            && response.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{base} did not come up");
}

/// The outbox is on disk: a delivery queued and attempted once (receiver
/// down) by a verifier that is then killed with SIGKILL is delivered by
/// the restarted verifier once the receiver is up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_delivery_survives_kill_9_of_the_verifier() {
    let dir = TempDir::new("webhook-kill");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut verifier = verifier_process(&dir.0, port);
    wait_healthy(&http, &base).await;
    let receiver_port = free_port();
    let created: Value = http
        .post(format!("{base}/api/webhooks"))
        .bearer_auth(API_KEY)
        .json(&json!({"url": format!("http://127.0.0.1:{receiver_port}/hooks"), "events": ["presentation.declined"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    let presentation: Value = http
        .post(format!("{base}/api/presentations"))
        .bearer_auth(API_KEY)
        .json(&json!({"template": "internship-application"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = presentation["id"].as_str().unwrap().to_owned();
    // The wallet reads the request object and declines.
    let jwt = http
        .get(format!("{base}/request/{id}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let payload: Value = serde_json::from_slice(
        &intyg_core::jose::b64url_decode(jwt.split('.').nth(1).unwrap()).unwrap(),
    )
    .unwrap();
    let declined = http
        .post(payload["response_uri"].as_str().unwrap())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "error=access_denied&state={}",
            payload["state"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(declined.status(), 200);
    let mut attempted = false;
    for _ in 0..300 {
        let deliveries: Value = http
            .get(format!("{base}/api/webhook-deliveries"))
            .bearer_auth(API_KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if deliveries[0]["attempts"].as_u64().is_some_and(|n| n >= 1) {
            assert_eq!(deliveries[0]["state"], "pending");
            attempted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(attempted, "the first attempt was made");
    verifier.kill_9();

    let receiver = SampleReceiver::start(receiver_port, &secret);
    let mut verifier = verifier_process(&dir.0, port);
    wait_healthy(&http, &base).await;
    let events = receiver.wait_for(1).await;
    assert_eq!(events[0]["type"], "presentation.declined");
    assert_eq!(events[0]["presentation_id"], id.as_str());
    verifier.kill_9();
}

/// On sled an outcome's events are queued just before the outcome itself,
/// so an instance that stops between the two leaves events whose outcome
/// was never written. The worker sends only what the presentation's record
/// confirms: such an event waits while the check may still finish, and is
/// dropped (dead, never sent) once the presentation is abandoned.
#[tokio::test]
async fn an_event_whose_outcome_was_never_written_is_not_sent() {
    use intyg_verifier::model::{ABANDONED_AFTER, Outcome};
    use intyg_verifier::webhooks::{EventType, deliver, deliveries};
    let verifier = Verifier::start("webhook-unconfirmed", |config| {
        config.webhooks.first_retry_ms = 10;
        config.webhooks.poll_interval_ms = 3_600_000;
    })
    .await;
    let port = free_port();
    let created = verifier
        .post_json(
            "/api/webhooks",
            &json!({"url": format!("http://127.0.0.1:{port}/hooks"), "events": ["presentation.verified"]}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let session = verifier.session().await;
    let state = &verifier.state;
    let transactions = &state.stores.transactions;
    let current = transactions.get(&session.id).await.unwrap().unwrap();
    assert!(transactions.claim(&current).await.unwrap());
    // What a response being checked queues just before its outcome.
    let verified = intyg_verifier::model::Transaction {
        outcome: Outcome::Verified,
        ..current.clone()
    };
    let queued = deliveries(state, EventType::PresentationVerified, &verified)
        .await
        .unwrap();
    assert_eq!(queued.len(), 1);
    state.stores.outbox.enqueue(&queued[0]).await.unwrap();
    let id = queued[0].id.clone();

    assert_eq!(deliver::round(state).await.unwrap(), 1);
    let waiting = state.stores.outbox.get(&id).await.unwrap().unwrap();
    assert_eq!(waiting.state, DeliveryState::Pending);
    assert_eq!(waiting.attempts, 0, "not an attempt: {waiting:?}");
    assert_eq!(waiting.last_error, None);

    // The instance stopped mid-check: the presentation is abandoned.
    let abandoned = intyg_verifier::model::Transaction {
        expires_at: intyg_verifier::now() - ABANDONED_AFTER - 1,
        ..current.clone()
    };
    assert!(transactions.swap(&current, &abandoned).await.unwrap());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(deliver::round(state).await.unwrap(), 1);
    let dropped = state.stores.outbox.get(&id).await.unwrap().unwrap();
    assert_eq!(dropped.state, DeliveryState::Dead);
    assert_eq!(dropped.attempts, 0, "never sent: {dropped:?}");
    assert!(
        dropped
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("does not show this event")),
        "{dropped:?}"
    );
}
