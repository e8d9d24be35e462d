//! Two verifier instances on one PostgreSQL database, behind one public
//! URL, sharing one data directory for the X.509 identity: a transaction
//! made at one is fetched, answered and read at the other; verified claims
//! are deleted once by whichever instance's retention job runs.

use intyg_testkit::TestPg;
use serde_json::json;

use crate::flow::holder_of;
use crate::{TempDir, TestIssuer, Verifier};

async fn pair(name: &str, retention_seconds: i64) -> (Verifier, Verifier, TempDir) {
    let url = TestPg::cluster().database(name).await;
    let shared = TempDir::new(&format!("{name}-shared"));
    let dir = shared.0.clone();
    let a = Verifier::start(&format!("{name}-a"), |config| {
        config.database_url = Some(url.clone());
        config.database_pool_size = 8;
        config.data_dir = dir.clone();
        config.retention_seconds = retention_seconds;
        config.purge_interval_ms = 100;
    })
    .await;
    let public_url = a.state.config.public_url.clone();
    let b = Verifier::start(&format!("{name}-b"), |config| {
        config.database_url = Some(url.clone());
        config.database_pool_size = 8;
        config.data_dir = dir.clone();
        config.public_url = public_url;
        config.retention_seconds = retention_seconds;
        config.purge_interval_ms = 100;
    })
    .await;
    (a, b, shared)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_made_at_one_instance_is_fetched_answered_and_read_at_the_other() {
    let (a, b, _shared) = pair("verifier_multi", 3600).await;
    let issuer = TestIssuer::start().await;
    a.trust(&issuer);
    b.trust(&issuer);
    let holder = holder_of(
        &issuer,
        &["registration-certificate", "internship-eligibility"],
    );
    let created: serde_json::Value = a
        .create(json!({"template": "internship-application"}))
        .await
        .json()
        .await
        .unwrap();
    let (uri, id) = (
        created["request_uri"].as_str().unwrap(),
        created["id"].as_str().unwrap(),
    );
    // The wallet reaches B for the request object and the response.
    let session = b.session_via(uri, id, Some(&b.url)).await;
    let response_uri = session.request.response_uri.clone().unwrap();
    let at_b = response_uri
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
    // Either instance reads the outcome.
    for instance in [&a, &b] {
        let shown = instance.show(id).await;
        assert_eq!(shown["status"], "verified", "{shown}");
        assert_eq!(shown["credentials"].as_array().unwrap().len(), 2);
    }
    // The response was taken once: posting it again at A is refused.
    let again = a.post(&session, holder.respond(&session)).await;
    assert_eq!(again.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_runs_on_one_instance_and_both_see_the_claims_gone() {
    let (a, b, _shared) = pair("verifier_multi_retention", 1).await;
    let issuer = TestIssuer::start().await;
    a.trust(&issuer);
    let holder = holder_of(
        &issuer,
        &["registration-certificate", "internship-eligibility"],
    );
    let session = a.session().await;
    assert_eq!(
        a.post(&session, holder.respond(&session)).await.status(),
        200
    );
    let mut after = b.show(&session.id).await;
    for _ in 0..60 {
        if after["credentials"].as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        after = b.show(&session.id).await;
    }
    assert_eq!(after["credentials"], json!([]));
    assert_eq!(a.show(&session.id).await["credentials"], json!([]));
}
