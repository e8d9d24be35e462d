//! The verifier's store test suite, written once and run against both
//! backends: sled in a temporary directory and PostgreSQL in a fresh
//! database of the test binary's throwaway cluster.

use intyg_testkit::TestPg;
use intyg_verifier::model::{ConsentRecord, Outcome, Transaction, VerifiedCredentialRecord};
use intyg_verifier::store::{Application, Delivery, DeliveryState, Posting, Stores, Subscription};

use crate::TempDir;

async fn sled() -> (Stores, Option<TempDir>) {
    let dir = TempDir::new("stores-sled");
    let stores = Stores::open_sled(&dir.0.join("db"), &dir.0.join("keys")).unwrap();
    (stores, Some(dir))
}

async fn postgres() -> (Stores, Option<TempDir>) {
    let url = TestPg::cluster().database("verifier_stores").await;
    let mut config = intyg_service::pg::PgConfig::new(url);
    config.pool_size = 8;
    (Stores::open_pg(&config).await.unwrap(), None)
}

macro_rules! both_backends {
    ($($check:ident),* $(,)?) => {
        mod on_sled {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let (stores, _dir) = super::sled().await;
                super::$check(stores).await;
            })*
        }
        mod on_postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let (stores, _dir) = super::postgres().await;
                super::$check(stores).await;
            })*
        }
    };
}

both_backends!(
    a_response_is_taken_once,
    retention_finds_completed_transactions_with_claims,
    consents,
    postings_and_applications,
    webhook_subscriptions,
    the_outbox_hands_a_due_delivery_to_one_claimer,
    an_erasure_request_id_is_taken_once,
    a_destroyed_transaction_key_is_gone,
    pending_erasures_are_found,
    an_outcome_its_consent_and_its_events_are_written_together,
    an_authorization_code_is_taken_once,
    expired_grants_and_links_are_purged,
);

fn transaction(id: &str) -> Transaction {
    Transaction {
        id: id.into(),
        nonce: "n".into(),
        state: "s".into(),
        client_id: "x509_san_dns:localhost".into(),
        dcql_query: serde_json::from_str(r#"{"credentials": []}"#).unwrap(),
        purpose: "p".into(),
        template: None,
        max_status_age: None,
        oidc: None,
        response_mode: "direct_post.jwt".into(),
        request_uri_method: None,
        encryption_key: None,
        created_at: 1,
        expires_at: 100,
        outcome: Outcome::Pending,
        processing: false,
        reason: None,
        reason_description: None,
        failed_credential: None,
        missing_credentials: Vec::new(),
        credentials: Vec::new(),
        completed_at: None,
        claims_deleted_at: None,
        posting_id: None,
        sealed_claims: None,
        holder_keys: Vec::new(),
        vp_token_hash: None,
        erasure: None,
    }
}

fn verified(mut transaction: Transaction, at: i64) -> Transaction {
    transaction.outcome = Outcome::Verified;
    transaction.completed_at = Some(at);
    transaction.credentials = vec![VerifiedCredentialRecord {
        query_id: "registration".into(),
        vct: "https://intyg.example/registration-certificate".into(),
        issuer: None,
        issuer_name: std::collections::BTreeMap::new(),
        claims: serde_json::Map::new(),
        status: None,
        status_checked_at: None,
        status_list_fetched_at: None,
        status_list_issued_at: None,
    }];
    transaction
}

async fn a_response_is_taken_once(stores: Stores) {
    let pending = transaction("t1");
    stores.transactions.insert(&pending).await.unwrap();
    assert_eq!(
        stores.transactions.get("t1").await.unwrap(),
        Some(pending.clone())
    );
    assert_eq!(stores.transactions.get("t2").await.unwrap(), None);
    let (a, b) = tokio::join!(
        stores.transactions.claim(&pending),
        stores.transactions.claim(&pending)
    );
    assert!(a.unwrap() ^ b.unwrap(), "one response wins");
    assert!(
        !stores.transactions.claim(&pending).await.unwrap(),
        "a later response finds it taken"
    );
    let taken = stores.transactions.get("t1").await.unwrap().unwrap();
    assert!(
        taken.processing,
        "a taken pending transaction reads as processing"
    );
    assert_eq!(
        Transaction {
            processing: false,
            ..taken
        },
        pending,
        "the claim leaves the record as it was"
    );
    assert!(
        !stores
            .transactions
            .claim(&transaction("absent"))
            .await
            .unwrap(),
        "no claim on a transaction that does not exist"
    );
}

async fn retention_finds_completed_transactions_with_claims(stores: Stores) {
    let old = verified(transaction("old"), 10);
    let recent = verified(transaction("recent"), 50);
    let pending = transaction("pending");
    for t in [&old, &recent, &pending] {
        stores.transactions.insert(t).await.unwrap();
    }
    let due = stores
        .transactions
        .with_claims_completed_before(20)
        .await
        .unwrap();
    assert_eq!(due, std::slice::from_ref(&old));
    let mut purged = old.clone();
    purged.credentials.clear();
    purged.claims_deleted_at = Some(30);
    assert!(stores.transactions.swap(&old, &purged).await.unwrap());
    let due = stores
        .transactions
        .with_claims_completed_before(60)
        .await
        .unwrap();
    assert_eq!(due, [recent]);
}

async fn consents(stores: Stores) {
    let record = ConsentRecord {
        transaction_id: "t1".into(),
        verifier: "x509_san_dns:localhost".into(),
        verifier_name: "Arbetsgivare".into(),
        purpose: "p".into(),
        requested: Vec::new(),
        disclosed: Vec::new(),
        at: 5,
        presentation_digest: "d".into(),
        erased_at: None,
    };
    stores.consents.insert(&record).await.unwrap();
    assert_eq!(stores.consents.get("t1").await.unwrap(), Some(record));
    assert_eq!(stores.consents.get("t2").await.unwrap(), None);
}

async fn postings_and_applications(stores: Stores) {
    let posting = |id: &str| Posting {
        id: id.into(),
        title: "Praktik".into(),
        description: "d".into(),
        purpose: "p".into(),
        created_at: 1,
        created_by: "anna".into(),
        max_status_age: None,
        legal_basis: None,
    };
    stores.postings.insert(&posting("p1")).await.unwrap();
    stores.postings.insert(&posting("p2")).await.unwrap();
    assert_eq!(
        stores.postings.get("p1").await.unwrap(),
        Some(posting("p1"))
    );
    let mut all: Vec<String> = stores
        .postings
        .all()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    all.sort();
    assert_eq!(all, ["p1", "p2"]);
    for (posting_id, transaction_id) in [("p1", "a"), ("p1", "b"), ("p2", "c")] {
        let application = Application {
            posting_id: posting_id.into(),
            transaction_id: transaction_id.into(),
            created_at: 1,
        };
        stores.postings.add_application(&application).await.unwrap();
    }
    let mut of_p1: Vec<String> = stores
        .postings
        .applications("p1")
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.transaction_id)
        .collect();
    of_p1.sort();
    assert_eq!(of_p1, ["a", "b"]);
}

async fn an_erasure_request_id_is_taken_once(stores: Stores) {
    let (a, b) = tokio::join!(
        stores.replay.insert_if_absent("erasure:j1", 100, 10),
        stores.replay.insert_if_absent("erasure:j1", 100, 10)
    );
    assert!(a.unwrap() ^ b.unwrap(), "one request wins");
    assert!(
        !stores
            .replay
            .insert_if_absent("erasure:j1", 200, 50)
            .await
            .unwrap()
    );
    assert!(
        stores
            .replay
            .insert_if_absent("erasure:j2", 100, 10)
            .await
            .unwrap()
    );
    assert_eq!(stores.replay.purge_expired(150).await.unwrap(), 2);
    assert!(
        stores
            .replay
            .insert_if_absent("erasure:j1", 300, 150)
            .await
            .unwrap()
    );
}

async fn a_destroyed_transaction_key_is_gone(stores: Stores) {
    stores.keys.put("t1", &[7u8; 32]).await.unwrap();
    stores.keys.put("t2", &[8u8; 32]).await.unwrap();
    assert_eq!(stores.keys.get("t1").await.unwrap(), Some(vec![7u8; 32]));
    stores.keys.destroy("t1").await.unwrap();
    assert_eq!(stores.keys.get("t1").await.unwrap(), None);
    // Destroying twice (a resumed erasure) is fine.
    stores.keys.destroy("t1").await.unwrap();
    assert_eq!(stores.keys.get("t2").await.unwrap(), Some(vec![8u8; 32]));
}

async fn pending_erasures_are_found(stores: Stores) {
    let done = verified(transaction("done"), 10);
    let pending = verified(transaction("pending"), 10);
    for t in [&done, &pending] {
        stores.transactions.insert(t).await.unwrap();
    }
    assert!(
        stores
            .transactions
            .with_erasure_pending()
            .await
            .unwrap()
            .is_empty()
    );
    let mut requested = pending.clone();
    requested.erasure = Some(intyg_verifier::model::Erasure {
        requested_at: 20,
        request_jti: "j".into(),
        erased_at: None,
        refused: None,
    });
    assert!(
        stores
            .transactions
            .swap(&pending, &requested)
            .await
            .unwrap()
    );
    assert_eq!(
        stores.transactions.with_erasure_pending().await.unwrap(),
        std::slice::from_ref(&requested)
    );
    let mut erased = requested.clone();
    if let Some(e) = erased.erasure.as_mut() {
        e.erased_at = Some(30);
    }
    erased.credentials.clear();
    assert!(stores.transactions.swap(&requested, &erased).await.unwrap());
    assert!(
        stores
            .transactions
            .with_erasure_pending()
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sled_deployment_is_copied_to_postgres_with_counts_checked() {
    let dir = TempDir::new("copy-sled");
    let db = sled::Config::new().path(&dir.0).open().unwrap();
    let from = Stores::from_sled(db.clone(), &dir.0.join("keys")).unwrap();
    from.transactions.insert(&transaction("t1")).await.unwrap();
    from.transactions.insert(&transaction("t3")).await.unwrap();
    assert!(from.transactions.claim(&transaction("t3")).await.unwrap());
    from.transactions
        .insert(&verified(transaction("t2"), 7))
        .await
        .unwrap();
    let consent = ConsentRecord {
        transaction_id: "t2".into(),
        verifier: "x509_san_dns:localhost".into(),
        verifier_name: "Arbetsgivare".into(),
        purpose: "p".into(),
        requested: Vec::new(),
        disclosed: Vec::new(),
        at: 7,
        presentation_digest: "d".into(),
        erased_at: None,
    };
    from.consents.insert(&consent).await.unwrap();
    let posting = Posting {
        id: "p1".into(),
        title: "Praktik".into(),
        description: "d".into(),
        purpose: "p".into(),
        created_at: 1,
        created_by: "anna".into(),
        max_status_age: None,
        legal_basis: None,
    };
    from.postings.insert(&posting).await.unwrap();
    let application = Application {
        posting_id: "p1".into(),
        transaction_id: "t1".into(),
        created_at: 2,
    };
    from.postings.add_application(&application).await.unwrap();
    from.keys.put("t2", &[9u8; 32]).await.unwrap();
    let subscription = Subscription {
        id: "w1".into(),
        url: "https://ats.example/hooks".into(),
        events: vec!["presentation.verified".into()],
        secret: "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0".into(),
        created_at: 1,
    };
    from.subscriptions.insert(&subscription).await.unwrap();
    from.outbox.enqueue(&delivery("d1", 1_000)).await.unwrap();
    from.durable().await.unwrap();

    let url = TestPg::cluster().database("verifier_copy").await;
    let target = intyg_service::pg::PgConfig::new(url);
    let copied = intyg_verifier::store::copy_sled_to_postgres(&db, &dir.0.join("keys"), &target)
        .await
        .unwrap();
    assert_eq!(
        copied,
        intyg_verifier::store::Copied {
            transactions: 3,
            consents: 1,
            postings: 1,
            applications: 1,
            transaction_keys: 1,
            webhook_subscriptions: 1,
            webhook_deliveries: 1,
        }
    );
    let to = Stores::open_pg(&target).await.unwrap();
    assert_eq!(
        to.transactions.get("t1").await.unwrap(),
        Some(transaction("t1"))
    );
    assert!(
        to.transactions.get("t3").await.unwrap().unwrap().processing,
        "a response taken on sled stays taken"
    );
    assert!(!to.transactions.claim(&transaction("t3")).await.unwrap());
    assert_eq!(to.consents.get("t2").await.unwrap(), Some(consent));
    assert_eq!(to.postings.get("p1").await.unwrap(), Some(posting));
    assert_eq!(to.postings.applications("p1").await.unwrap(), [application]);
    assert_eq!(to.keys.get("t2").await.unwrap(), Some(vec![9u8; 32]));
    assert_eq!(
        to.subscriptions.get("w1").await.unwrap(),
        Some(subscription)
    );
    assert_eq!(to.outbox.list(None).await.unwrap().len(), 1);
    // Retention finds the copied verified transaction on PostgreSQL too.
    let due: Vec<String> = to
        .transactions
        .with_claims_completed_before(7)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(due, ["t2"]);
    let again =
        intyg_verifier::store::copy_sled_to_postgres(&db, &dir.0.join("keys"), &target).await;
    assert!(
        matches!(again, Err(intyg_verifier::store::CopyError::NotEmpty)),
        "{again:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_applies_the_schema_without_serving() {
    let url = TestPg::cluster().database("verifier_migrate_cmd").await;
    let run = |url: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_intyg-verifier"))
            .args(["migrate", "--database-url", url])
            .output()
            .unwrap()
    };
    let output = tokio::task::block_in_place(|| run(&url));
    assert!(output.status.success(), "{output:?}");
    let known = intyg_verifier::store::MIGRATIONS.len();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).lines().last(),
        Some(format!("verifier schema at version {known}").as_str())
    );
    let pg =
        intyg_service::pg::Pg::connect(&intyg_service::pg::PgConfig::new(url.clone())).unwrap();
    let row = pg
        .query_one(
            "SELECT count(*) FROM intyg_schema_migrations WHERE service = 'verifier'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), known as i64);
    pg.query("SELECT count(*) FROM verifier_transactions", &[])
        .await
        .unwrap();
    // A second run finds the schema; a newer schema is refused.
    assert!(tokio::task::block_in_place(|| run(&url)).status.success());
    pg.execute(
        "INSERT INTO intyg_schema_migrations (service, version, name) VALUES ('verifier', 999, 'x')",
        &[],
    )
    .await
    .unwrap();
    let refused = tokio::task::block_in_place(|| run(&url));
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("newer than this binary"),
        "{refused:?}"
    );
}

async fn webhook_subscriptions(stores: Stores) {
    let subscription = |id: &str| Subscription {
        id: id.into(),
        url: "https://ats.example/hooks".into(),
        events: vec!["presentation.verified".into()],
        secret: "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0".into(),
        created_at: 1,
    };
    stores
        .subscriptions
        .insert(&subscription("w1"))
        .await
        .unwrap();
    stores
        .subscriptions
        .insert(&subscription("w2"))
        .await
        .unwrap();
    assert_eq!(
        stores.subscriptions.get("w1").await.unwrap(),
        Some(subscription("w1"))
    );
    assert_eq!(stores.subscriptions.all().await.unwrap().len(), 2);
    assert!(stores.subscriptions.delete("w1").await.unwrap());
    assert!(!stores.subscriptions.delete("w1").await.unwrap());
    assert_eq!(stores.subscriptions.get("w1").await.unwrap(), None);
    assert_eq!(stores.subscriptions.all().await.unwrap().len(), 1);
}

fn delivery(id: &str, due: i64) -> Delivery {
    Delivery {
        id: id.into(),
        subscription_id: "w1".into(),
        event: "presentation.verified".into(),
        presentation_id: "t1".into(),
        payload: "{}".into(),
        state: DeliveryState::Pending,
        attempts: 0,
        next_attempt_at: due,
        leased_until: 0,
        last_error: None,
        created_at: 1,
        delivered_at: None,
    }
}

async fn the_outbox_hands_a_due_delivery_to_one_claimer(stores: Stores) {
    stores.outbox.enqueue(&delivery("d1", 1_000)).await.unwrap();
    stores.outbox.enqueue(&delivery("d2", 5_000)).await.unwrap();
    // Only d1 is due at 2000; eight claimers at once take it once.
    let claims = (0..8).map(|_| {
        let outbox = stores.outbox.clone();
        tokio::spawn(async move { outbox.claim(2_000, 60_000, 10).await.unwrap() })
    });
    let mut taken = Vec::new();
    for claim in claims {
        taken.extend(claim.await.unwrap());
    }
    assert_eq!(taken.len(), 1, "{taken:?}");
    assert_eq!(taken[0].id, "d1");
    assert_eq!(taken[0].leased_until, 60_000);
    // Leased: not taken again before the lease ends, taken after it.
    assert!(
        stores
            .outbox
            .claim(3_000, 70_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let again = stores.outbox.claim(60_000, 90_000, 10).await.unwrap();
    let mut ids: Vec<&str> = again.iter().map(|d| d.id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["d1", "d2"]);
    // An attempt's outcome ends the lease; a dead one is never claimed.
    let mut dead = again.into_iter().find(|d| d.id == "d1").unwrap();
    dead.state = DeliveryState::Dead;
    dead.attempts = 3;
    stores.outbox.update(&dead).await.unwrap();
    let stored = stores.outbox.get("d1").await.unwrap().unwrap();
    assert_eq!(stored.state, DeliveryState::Dead);
    assert_eq!(stored.leased_until, 0);
    assert!(
        stores
            .outbox
            .claim(100_000, 200_000, 10)
            .await
            .unwrap()
            .iter()
            .all(|d| d.id != "d1")
    );
    let dead_letters = stores.outbox.list(Some(DeliveryState::Dead)).await.unwrap();
    assert_eq!(dead_letters.len(), 1);
    assert_eq!(stores.outbox.list(None).await.unwrap().len(), 2);
}

async fn an_outcome_its_consent_and_its_events_are_written_together(stores: Stores) {
    let pending = transaction("t1");
    stores.transactions.insert(&pending).await.unwrap();
    let done = verified(pending.clone(), 9);
    let consent = |id: &str| ConsentRecord {
        transaction_id: id.into(),
        verifier: "x509_san_dns:localhost".into(),
        verifier_name: "Arbetsgivare".into(),
        purpose: "p".into(),
        requested: Vec::new(),
        disclosed: Vec::new(),
        at: 9,
        presentation_digest: "d".into(),
        erased_at: None,
    };
    let events = [delivery("e1", 5), delivery("e2", 5)];
    assert!(
        !stores
            .transactions
            .finish(&pending, &done, Some(&consent("t1")), &events)
            .await
            .unwrap(),
        "not before a response has taken the transaction"
    );
    assert!(stores.transactions.claim(&pending).await.unwrap());
    let stale = Transaction {
        nonce: "other".into(),
        ..pending.clone()
    };
    assert!(
        !stores
            .transactions
            .finish(&stale, &done, Some(&consent("t1")), &events)
            .await
            .unwrap(),
        "not from a record other than the stored one"
    );
    assert_eq!(
        stores.consents.get("t1").await.unwrap(),
        None,
        "no consent record without the outcome"
    );
    assert!(
        stores.outbox.list(None).await.unwrap().is_empty(),
        "no event without the outcome"
    );
    // An event queued before (the same id) stays as it was.
    let mut queued = delivery("e2", 5);
    queued.attempts = 1;
    stores.outbox.enqueue(&queued).await.unwrap();
    assert!(
        stores
            .transactions
            .finish(&pending, &done, Some(&consent("t1")), &events)
            .await
            .unwrap()
    );
    assert_eq!(
        stores.transactions.get("t1").await.unwrap(),
        Some(done.clone()),
        "the outcome, which no longer reads as processing"
    );
    assert_eq!(
        stores.consents.get("t1").await.unwrap(),
        Some(consent("t1"))
    );
    assert_eq!(
        stores.outbox.get("e1").await.unwrap(),
        Some(events[0].clone())
    );
    assert_eq!(stores.outbox.get("e2").await.unwrap(), Some(queued));
    assert_eq!(stores.outbox.list(None).await.unwrap().len(), 2);
    // Once finished, a second outcome is refused.
    assert!(
        !stores
            .transactions
            .finish(&pending, &done, None, &[delivery("e3", 5)])
            .await
            .unwrap()
    );
    assert_eq!(
        stores.outbox.get("e3").await.unwrap(),
        None,
        "nor are its events queued"
    );
    assert!(
        !stores.transactions.claim(&pending).await.unwrap(),
        "nor is it taken again"
    );
    let due: Vec<String> = stores
        .transactions
        .with_claims_completed_before(9)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(due, ["t1"], "retention sees the finished transaction");

    // An outcome without consent (a failure) writes none.
    let other = transaction("t2");
    stores.transactions.insert(&other).await.unwrap();
    assert!(stores.transactions.claim(&other).await.unwrap());
    let failed = Transaction {
        outcome: intyg_verifier::model::Outcome::Failed,
        completed_at: Some(9),
        ..other.clone()
    };
    assert!(
        stores
            .transactions
            .finish(&other, &failed, None, &[])
            .await
            .unwrap()
    );
    assert_eq!(stores.consents.get("t2").await.unwrap(), None);
}

async fn an_authorization_code_is_taken_once(stores: Stores) {
    let grant = intyg_verifier::store::oidc::Grant {
        client_id: "ats".into(),
        redirect_uri: "https://ats.example/cb".into(),
        code_challenge: "c".into(),
        scope: "openid internship_application".into(),
        nonce: Some("n".into()),
        sub: "s".into(),
        transaction_id: "t1".into(),
        auth_time: 1,
        expires_at: 100,
    };
    stores.grants.put("k1", &grant).await.unwrap();
    assert_eq!(stores.grants.get("k1").await.unwrap(), Some(grant.clone()));
    // Eight takers at once: one gets it.
    let takes = (0..8).map(|_| {
        let grants = stores.grants.clone();
        tokio::spawn(async move { grants.take("k1").await.unwrap() })
    });
    let mut taken = 0;
    for take in takes {
        if take.await.unwrap().is_some() {
            taken += 1;
        }
    }
    assert_eq!(taken, 1);
    assert_eq!(stores.grants.get("k1").await.unwrap(), None);
}

async fn expired_grants_and_links_are_purged(stores: Stores) {
    let grant = |expires_at| intyg_verifier::store::oidc::Grant {
        client_id: "ats".into(),
        redirect_uri: "https://ats.example/cb".into(),
        code_challenge: String::new(),
        scope: "openid internship_application".into(),
        nonce: None,
        sub: "s".into(),
        transaction_id: "t1".into(),
        auth_time: 1,
        expires_at,
    };
    stores.grants.put("old", &grant(100)).await.unwrap();
    stores.grants.put("new", &grant(300)).await.unwrap();
    stores
        .grants
        .put_link("old-link", "old", 100)
        .await
        .unwrap();
    stores
        .grants
        .put_link("new-link", "new", 300)
        .await
        .unwrap();
    assert_eq!(stores.grants.purge_expired(99).await.unwrap(), 0);
    assert_eq!(stores.grants.purge_expired(200).await.unwrap(), 2);
    assert_eq!(stores.grants.get("old").await.unwrap(), None);
    assert_eq!(stores.grants.take_link("old-link").await.unwrap(), None);
    assert_eq!(stores.grants.get("new").await.unwrap(), Some(grant(300)));
    assert_eq!(
        stores
            .grants
            .take_link("new-link")
            .await
            .unwrap()
            .as_deref(),
        Some("new")
    );
}
