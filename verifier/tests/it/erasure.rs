//! Signed receipts and erasure on request (Intyg extensions), on both
//! backends: the Response URI answers an accepted presentation with a
//! receipt signed by the access certificate key; an erasure request signed
//! by the presentation's holder key erases the claims (the key they were
//! sealed under destroyed, so no claim value is left in the data
//! directory); a request signed by another key, a replayed one and a
//! posting's legal basis are refused; an erasure interrupted by SIGKILL
//! is finished after a restart of the real binary; an erasure sends one
//! signed `presentation.erased` webhook.

use intyg_testkit::free_port;
use std::process::{Child, Command, Stdio};

use intyg_core::jose::{SigningKey, VerifyingKey};
use intyg_core::rights::{
    ErasureAnswer, ErasureRequest, ErasureStatus, Receipt, ReceiptExpectations,
};
use intyg_testkit::{TestPg, files_containing};
use serde_json::{Value, json};

use crate::flow::{Holder, holder_of};
use crate::webhooks::{SampleReceiver, subscribe};
use crate::{Session, TestIssuer, Verifier};

/// A claim value the holder discloses (the optional given name).
const GIVEN_NAME: &str = "Karin Elisabet";

async fn on_postgres(name: &str) -> Verifier {
    let url = TestPg::cluster().database(name).await;
    Verifier::start(name, |config| config.database_url = Some(url)).await
}

/// Presents to a new request and returns the session and the receipt.
async fn share(verifier: &Verifier, holder: &Holder, session: Session) -> (Session, String) {
    let response = verifier.post(&session, holder.respond(&session)).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    let receipt = answer["intyg_receipt"]
        .as_str()
        .unwrap_or_else(|| panic!("no receipt in {answer}"))
        .to_owned();
    (session, receipt)
}

fn verifier_key(verifier: &Verifier) -> VerifyingKey {
    VerifyingKey::from_jwk(&verifier.state.identity.key.public_jwk()).unwrap()
}

/// Checks the receipt as a wallet would (the hash is checked in the
/// wallet's own tests, which know the token they sent).
fn read_receipt(verifier: &Verifier, session: &Session, jwt: &str) -> Receipt {
    let unverified: Receipt = intyg_core::jose::CompactJws::parse(jwt)
        .unwrap()
        .payload_json()
        .unwrap();
    let sent: Vec<(String, Vec<String>)> = unverified
        .received
        .iter()
        .map(|r| (r.query_id.clone(), r.claims.clone()))
        .collect();
    Receipt::verify(
        jwt,
        &verifier_key(verifier),
        &ReceiptExpectations {
            client_id: &session.client_id(),
            nonce: &session.nonce(),
            vp_token_hash: &unverified.vp_token_hash,
            sent: &sent,
            now: intyg_verifier::now(),
        },
    )
    .unwrap()
}

fn erasure_request(key: &SigningKey, receipt: &Receipt, jti: &str) -> Value {
    let request = ErasureRequest {
        aud: receipt.iss.clone(),
        txn: receipt.txn.clone(),
        iat: intyg_verifier::now(),
        jti: jti.to_owned(),
    };
    json!({"erasure_request": request.sign(key).unwrap()})
}

async fn post_erasure(http: &reqwest::Client, endpoint: &str, body: &Value) -> reqwest::Response {
    http.post(endpoint).json(body).send().await.unwrap()
}

async fn receipt_then_erasure(verifier: &Verifier) {
    let issuer = TestIssuer::start().await;
    verifier.trust(&issuer);
    let holder = holder_of(
        &issuer,
        &["registration-certificate", "internship-eligibility"],
    );
    let (session, jwt) = share(verifier, &holder, verifier.session().await).await;
    let receipt = read_receipt(verifier, &session, &jwt);
    assert_eq!(receipt.txn, session.id);
    assert_eq!(
        receipt.purpose,
        verifier.show(&session.id).await["consent"]["purpose"]
    );
    assert_eq!(
        receipt.retention_until,
        receipt.iat + verifier.state.config.retention_seconds
    );
    assert_eq!(
        receipt.erasure_endpoint,
        format!("{}/erasure", verifier.state.config.public_url)
    );
    let registration = receipt
        .received
        .iter()
        .find(|r| r.query_id == "registration")
        .unwrap();
    assert!(
        registration
            .claims
            .contains(&"/registration_status".to_owned())
    );
    assert!(!jwt.contains(GIVEN_NAME) && !receipt.received.is_empty());
    let shown = verifier.show(&session.id).await;
    assert!(shown.to_string().contains(GIVEN_NAME), "{shown}");

    // Another key: refused, nothing erased.
    let other = SigningKey::generate().unwrap();
    let refused = post_erasure(
        &verifier.http,
        &receipt.erasure_endpoint,
        &erasure_request(&other, &receipt, "other-key"),
    )
    .await;
    assert_eq!(refused.status(), 401);
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["error"], "invalid_erasure_request");
    assert_eq!(error["reason"], "not_holder_key");
    assert!(
        verifier
            .show(&session.id)
            .await
            .to_string()
            .contains(GIVEN_NAME)
    );

    // The holder key: erased, with a signed answer.
    let body = erasure_request(&holder.key, &receipt, "first");
    let answered = post_erasure(&verifier.http, &receipt.erasure_endpoint, &body).await;
    assert_eq!(answered.status(), 200);
    let answer: Value = answered.json().await.unwrap();
    let answer = ErasureAnswer::verify(
        answer["erasure_answer"].as_str().unwrap(),
        &verifier_key(verifier),
        &receipt.iss,
        &receipt.txn,
    )
    .unwrap();
    assert_eq!(answer.status, ErasureStatus::Erased);
    assert_eq!(answer.request_jti, "first");
    let erased_at = answer.erased_at.unwrap();

    let shown = verifier.show(&session.id).await;
    assert_eq!(shown["erased_at"], erased_at, "{shown}");
    assert_eq!(shown["credentials"], json!([]));
    assert!(!shown.to_string().contains(GIVEN_NAME), "{shown}");
    assert_eq!(shown["consent"]["erased_at"], erased_at);
    assert_eq!(shown["status"], "verified");
    assert!(
        verifier
            .state
            .stores
            .keys
            .get(&session.id)
            .await
            .unwrap()
            .is_none()
    );

    // The same request again: a replay.
    let replayed = post_erasure(&verifier.http, &receipt.erasure_endpoint, &body).await;
    assert_eq!(replayed.status(), 400);
    let error: Value = replayed.json().await.unwrap();
    assert_eq!(error["reason"], "replay");

    // A fresh request: the same state, the first erasure's time.
    let again = post_erasure(
        &verifier.http,
        &receipt.erasure_endpoint,
        &erasure_request(&holder.key, &receipt, "second"),
    )
    .await;
    let again: Value = again.json().await.unwrap();
    let again: ErasureAnswer =
        intyg_core::jose::CompactJws::parse(again["erasure_answer"].as_str().unwrap())
            .unwrap()
            .payload_json()
            .unwrap();
    assert_eq!(again.erased_at, Some(erased_at));

    // A stale request.
    let stale = ErasureRequest {
        aud: receipt.iss.clone(),
        txn: receipt.txn.clone(),
        iat: intyg_verifier::now() - 3600,
        jti: "stale".into(),
    };
    let stale = post_erasure(
        &verifier.http,
        &receipt.erasure_endpoint,
        &json!({"erasure_request": stale.sign(&holder.key).unwrap()}),
    )
    .await;
    assert_eq!(stale.status(), 400);
    assert_eq!(stale.json::<Value>().await.unwrap()["reason"], "stale");

    // Not an erasure request object; a transaction that received nothing.
    let malformed = post_erasure(
        &verifier.http,
        &receipt.erasure_endpoint,
        &json!({"request": "x"}),
    )
    .await;
    assert_eq!(malformed.status(), 400);
    assert_eq!(
        malformed.json::<Value>().await.unwrap()["reason"],
        "malformed_body"
    );
    let mut elsewhere = receipt.clone();
    elsewhere.txn = "no-such-transaction".into();
    let unknown = post_erasure(
        &verifier.http,
        &receipt.erasure_endpoint,
        &erasure_request(&holder.key, &elsewhere, "unknown"),
    )
    .await;
    assert_eq!(unknown.status(), 400);
    assert_eq!(
        unknown.json::<Value>().await.unwrap()["reason"],
        "unknown_transaction"
    );
}

#[tokio::test]
async fn receipt_then_erasure_on_sled_leaves_no_claim_value_on_disk() {
    let verifier = Verifier::start("erasure-sled", |_| {}).await;
    receipt_then_erasure(&verifier).await;
    let hits = files_containing(&verifier.dir.0, GIVEN_NAME.as_bytes());
    assert!(hits.is_empty(), "{hits:?}");
}

#[tokio::test]
async fn receipt_then_erasure_on_postgres() {
    receipt_then_erasure(&on_postgres("erasure_pg").await).await;
}

/// Regression: `presentation.erased` was never emitted. An erasure
/// carried out sends it once, signed, with the presentation id; a second
/// request for the erased presentation sends nothing more.
async fn an_erasure_sends_presentation_erased(verifier: Verifier) {
    let port = free_port();
    let (_, secret) = subscribe(
        &verifier,
        &format!("http://127.0.0.1:{port}/hooks"),
        &["presentation.erased"],
    )
    .await;
    let receiver = SampleReceiver::start(port, &secret);
    let issuer = TestIssuer::start().await;
    verifier.trust(&issuer);
    let holder = holder_of(
        &issuer,
        &["registration-certificate", "internship-eligibility"],
    );
    let (session, jwt) = share(&verifier, &holder, verifier.session().await).await;
    let receipt = read_receipt(&verifier, &session, &jwt);
    let answered = post_erasure(
        &verifier.http,
        &receipt.erasure_endpoint,
        &erasure_request(&holder.key, &receipt, "erase"),
    )
    .await;
    assert_eq!(answered.status(), 200);
    // The sample receiver takes only a delivery whose signature checks.
    let events = receiver.wait_for(1).await;
    assert_eq!(events[0]["type"], "presentation.erased");
    assert_eq!(events[0]["presentation_id"], session.id.as_str());
    // Step 2 again (as after a crash before step 3): nothing more queued.
    let erased = verifier
        .state
        .stores
        .transactions
        .get(&session.id)
        .await
        .unwrap()
        .unwrap();
    intyg_verifier::webhooks::presentation_erased(&verifier.state, &erased)
        .await
        .unwrap();
    let again = post_erasure(
        &verifier.http,
        &receipt.erasure_endpoint,
        &erasure_request(&holder.key, &receipt, "erase-again"),
    )
    .await;
    assert_eq!(again.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(receiver.events().len(), 1, "{:?}", receiver.events());
    let outbox = verifier.get_json("/api/webhook-deliveries").await;
    let outbox = outbox.as_array().unwrap();
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    assert_eq!(outbox[0]["event"], "presentation.erased");
    assert_eq!(outbox[0]["presentation_id"], session.id.as_str());
    assert!(!outbox[0].to_string().contains(GIVEN_NAME));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erasure_sends_presentation_erased_on_sled() {
    an_erasure_sends_presentation_erased(
        Verifier::start("erasure-webhook", |config| {
            config.webhooks.poll_interval_ms = 50;
        })
        .await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erasure_sends_presentation_erased_on_postgres() {
    let url = TestPg::cluster().database("erasure_webhook_pg").await;
    an_erasure_sends_presentation_erased(
        Verifier::start("erasure-webhook-pg", |config| {
            config.database_url = Some(url);
            config.webhooks.poll_interval_ms = 50;
        })
        .await,
    )
    .await;
}

async fn legal_basis_refuses_erasure(verifier: Verifier) {
    let issuer = TestIssuer::start().await;
    verifier.trust(&issuer);
    let holder = holder_of(
        &issuer,
        &["registration-certificate", "internship-eligibility"],
    );
    let basis = "Anställningsavtal ingått (arbetspraktik påbörjad)";
    let posting: Value = verifier
        .post_json(
            "/api/postings",
            &json!({"title": "Lager", "description": "d", "purpose": "Praktik", "legal_basis": basis}),
        )
        .await
        .json()
        .await
        .unwrap();
    let opened: Value = verifier
        .post_json(
            &format!(
                "/api/postings/{}/applications",
                posting["id"].as_str().unwrap()
            ),
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let session = verifier
        .session_of(
            opened["request_uri"].as_str().unwrap(),
            opened["id"].as_str().unwrap(),
        )
        .await;
    let (session, jwt) = share(&verifier, &holder, session).await;
    let receipt = read_receipt(&verifier, &session, &jwt);
    let answered = post_erasure(
        &verifier.http,
        &receipt.erasure_endpoint,
        &erasure_request(&holder.key, &receipt, "kept"),
    )
    .await;
    assert_eq!(answered.status(), 200);
    let answer: Value = answered.json().await.unwrap();
    let answer = ErasureAnswer::verify(
        answer["erasure_answer"].as_str().unwrap(),
        &verifier_key(&verifier),
        &receipt.iss,
        &receipt.txn,
    )
    .unwrap();
    assert_eq!(answer.status, ErasureStatus::Refused);
    assert_eq!(answer.legal_basis.as_deref(), Some(basis));
    let shown = verifier.show(&session.id).await;
    assert!(shown.to_string().contains(GIVEN_NAME), "kept: {shown}");
    assert_eq!(shown["erasure_refused"], basis);
    assert!(shown.get("erased_at").is_none());
}

#[tokio::test]
async fn a_legal_basis_refuses_erasure_with_a_signed_answer_on_sled() {
    legal_basis_refuses_erasure(Verifier::start("erasure-basis", |_| {}).await).await;
}

#[tokio::test]
async fn a_legal_basis_refuses_erasure_with_a_signed_answer_on_postgres() {
    legal_basis_refuses_erasure(on_postgres("erasure_basis_pg").await).await;
}

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_binary(dir: &std::path::Path, port: u16) -> Process {
    Process(
        Command::new(env!("CARGO_BIN_EXE_intyg-verifier"))
            .args(["--dev", "--data-dir"])
            .arg(dir)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("INTYG_API_KEY", crate::API_KEY)
            .env_remove("INTYG_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

async fn wait_up(http: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if http
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the verifier did not start");
}

async fn show(http: &reqwest::Client, base: &str, id: &str) -> Value {
    http.get(format!("{base}/api/presentations/{id}"))
        .bearer_auth(crate::API_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Two erasures interrupted by SIGKILL of the real binary: one recorded
/// (step 1 done, key not yet destroyed: the state a kill between the
/// steps leaves), finished by the restarted process on its own; one
/// killed while its request is in flight, finished by the wallet's retry.
#[test]
fn an_erasure_interrupted_by_sigkill_completes_after_restart() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // Two shares on an in-process verifier, whose runtime then ends (its
    // sled database closed) while its directory stays.
    let (dir, recorded, in_flight, holder) = runtime.block_on(async {
        let verifier = Verifier::start("erasure-crash", |_| {}).await;
        let issuer = TestIssuer::start().await;
        verifier.trust(&issuer);
        let holder = holder_of(
            &issuer,
            &["registration-certificate", "internship-eligibility"],
        );
        let (a, a_jwt) = share(&verifier, &holder, verifier.session().await).await;
        let (b, b_jwt) = share(&verifier, &holder, verifier.session().await).await;
        let recorded = read_receipt(&verifier, &a, &a_jwt);
        let in_flight = read_receipt(&verifier, &b, &b_jwt);
        let Verifier { dir, state, .. } = verifier;
        drop(state);
        (dir, recorded, in_flight, holder)
    });
    drop(runtime);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        // Step 1 of the first erasure, as the handler writes it.
        let stores = intyg_verifier::store::Stores::open_sled(
            &dir.0.join("db"),
            &dir.0.join("transaction-keys"),
        )
        .unwrap();
        let current = stores
            .transactions
            .get(&recorded.txn)
            .await
            .unwrap()
            .unwrap();
        let mut pending = current.clone();
        pending.erasure = Some(intyg_verifier::model::Erasure {
            requested_at: intyg_verifier::now(),
            request_jti: "interrupted".into(),
            erased_at: None,
            refused: None,
        });
        assert!(stores.transactions.swap(&current, &pending).await.unwrap());
        stores.durable().await.unwrap();
    });
    drop(runtime);

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let http = reqwest::Client::new();
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let mut process = start_binary(&dir.0, port);
        wait_up(&http, &base).await;
        // The restarted process finishes the recorded erasure by itself.
        let mut shown = show(&http, &base, &recorded.txn).await;
        for _ in 0..100 {
            if shown.get("erased_at").is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            shown = show(&http, &base, &recorded.txn).await;
        }
        assert!(shown["erased_at"].is_i64(), "{shown}");
        assert_eq!(shown["credentials"], json!([]));

        // The second: SIGKILL while its request is in flight.
        let endpoint = format!("{base}/erasure");
        let body = erasure_request(&holder.key, &in_flight, "in-flight");
        let sent = tokio::spawn({
            let http = http.clone();
            let endpoint = endpoint.clone();
            async move { http.post(endpoint).json(&body).send().await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        process.0.kill().unwrap();
        process.0.wait().unwrap();
        let _ = sent.await;
        drop(process);

        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let _process = start_binary(&dir.0, port);
        wait_up(&http, &base).await;
        // The wallet retries with a fresh request: erased, whatever the
        // kill interrupted.
        let retried = post_erasure(
            &http,
            &format!("{base}/erasure"),
            &erasure_request(&holder.key, &in_flight, "retry"),
        )
        .await;
        assert_eq!(retried.status(), 200);
        let answer: Value = retried.json().await.unwrap();
        let answer: ErasureAnswer =
            intyg_core::jose::CompactJws::parse(answer["erasure_answer"].as_str().unwrap())
                .unwrap()
                .payload_json()
                .unwrap();
        assert_eq!(answer.status, ErasureStatus::Erased);
        let shown = show(&http, &base, &in_flight.txn).await;
        assert!(shown["erased_at"].is_i64(), "{shown}");
    });
    let hits = files_containing(&dir.0, GIVEN_NAME.as_bytes());
    assert!(hits.is_empty(), "{hits:?}");
}
