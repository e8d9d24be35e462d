//! A taken transaction always ends: a wallet that hangs up while its
//! response is being checked still leaves an outcome (on sled and on
//! PostgreSQL), and a transaction whose check never wrote one (its
//! instance stopped mid-check) reads as failed once its time is up.

use std::time::Duration;

use intyg_testkit::TestPg;
use intyg_verifier::config::Config;
use intyg_verifier::model::ABANDONED_AFTER;
use intyg_verifier::now;
use serde_json::Value;

use crate::events::EventStream;
use crate::flow::holder_of;
use crate::{TestIssuer, Verifier};

/// How long the issuer takes to serve its status list: far longer than
/// the wallet waits for the verifier's answer.
const SLOW_ISSUER: Duration = Duration::from_millis(1500);
const WALLET_PATIENCE: Duration = Duration::from_millis(200);

async fn a_hung_up_wallet_leaves_a_verified_presentation(
    name: &str,
    edit: impl FnOnce(&mut Config),
) {
    let verifier = Verifier::start(name, edit).await;
    let issuer = TestIssuer::start_answering_after(SLOW_ISSUER).await;
    verifier.trust(&issuer);
    let holder = holder_of(
        &issuer,
        &["registration-certificate", "internship-eligibility"],
    );
    let session = verifier.session().await;
    let impatient = reqwest::Client::builder()
        .timeout(WALLET_PATIENCE)
        .build()
        .unwrap();
    let hung_up = impatient
        .post(session.request.response_uri.clone().unwrap())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(holder.respond(&session))
        .send()
        .await;
    assert!(
        hung_up.as_ref().is_err_and(reqwest::Error::is_timeout),
        "the wallet gave up before the check ended: {hung_up:?}"
    );
    // The check goes on without the wallet and writes its outcome.
    let mut shown = Value::Null;
    for _ in 0..100 {
        shown = verifier.show(&session.id).await;
        if shown["status"] != "pending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(shown["status"], "verified", "{shown}");
    assert_eq!(shown["credentials"].as_array().unwrap().len(), 4, "{shown}");
    // The same response again is a replay of a finished transaction.
    let again = verifier.post(&session, holder.respond(&session)).await;
    assert_eq!(again.status(), 400);
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["reason"], "replay");
}

#[tokio::test]
async fn a_wallet_that_hangs_up_mid_check_on_sled_still_ends_the_presentation() {
    a_hung_up_wallet_leaves_a_verified_presentation("abandoned-sled", |_| {}).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wallet_that_hangs_up_mid_check_on_postgres_still_ends_the_presentation() {
    let url = TestPg::cluster().database("verifier_hang_up").await;
    a_hung_up_wallet_leaves_a_verified_presentation("abandoned-pg", |config| {
        config.database_url = Some(url);
    })
    .await;
}

/// A transaction taken by a response that never wrote an outcome (as an
/// instance killed mid-check leaves it): pending while it may still be
/// answered, failed once its time and the grace after it are up.
#[tokio::test]
async fn a_taken_transaction_without_an_outcome_fails_once_its_time_is_up() {
    let verifier = Verifier::start("abandoned-taken", |_| {}).await;
    let session = verifier.session().await;
    let transactions = &verifier.state.stores.transactions;
    let current = transactions.get(&session.id).await.unwrap().unwrap();
    let mut stale = current.clone();
    stale.expires_at = now() - ABANDONED_AFTER - 1;
    assert!(transactions.swap(&current, &stale).await.unwrap());
    let mut events = EventStream::open(&verifier, &session.id).await;
    assert_eq!(events.next().await.unwrap().0, "expired", "not taken");

    let mut recent = stale.clone();
    recent.expires_at = now() - 1;
    assert!(transactions.swap(&stale, &recent).await.unwrap());
    assert!(transactions.claim(&recent).await.unwrap());
    let mut events = EventStream::open(&verifier, &session.id).await;
    let (name, data) = events.next().await.unwrap();
    assert_eq!(
        name, "pending",
        "taken, and the check may still write: {data}"
    );

    let taken = transactions.get(&session.id).await.unwrap().unwrap();
    assert!(taken.processing, "the store reads the mark as processing");
    // The record as stored (the mark is kept beside it), later.
    let mut abandoned = recent.clone();
    abandoned.expires_at = now() - ABANDONED_AFTER - 1;
    assert!(transactions.swap(&recent, &abandoned).await.unwrap());
    let mut events = EventStream::open(&verifier, &session.id).await;
    assert_eq!(events.next().await.unwrap().0, "failed");
    assert!(events.next().await.is_none(), "the stream ends with it");
}
