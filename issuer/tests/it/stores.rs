//! The store test suite, written once and run against both backends: sled
//! in a temporary directory and PostgreSQL in a fresh database of the
//! test binary's throwaway cluster (`intyg_testkit::TestPg`).

use std::collections::HashSet;

use intyg_issuer::auth_code::store::IssuedCode;
use intyg_issuer::model::{
    AccessGrant, CredentialRecord, CredentialState, Offer, Person, PersonalIdentityNumber,
    Revocation, RevocationReason,
};
use intyg_issuer::store::{IssueOutcome, SignedList, Stores, UsedNonce};
use intyg_service::session::throttle::{self, ACCOUNT_FROM_ADDRESS};
use intyg_service::session::{StoredSession, User};
use intyg_testkit::{KARIN, TempDir, TestPg};

/// A backend: its stores, and what must outlive them.
struct Backend {
    stores: Stores,
    _dir: Option<TempDir>,
}

async fn sled() -> Backend {
    let dir = TempDir::new("stores-sled");
    Backend {
        stores: Stores::open_sled(dir.path()).unwrap(),
        _dir: Some(dir),
    }
}

async fn postgres() -> Backend {
    let url = TestPg::cluster().database("issuer_stores").await;
    let mut config = intyg_service::pg::PgConfig::new(url);
    config.pool_size = 8;
    Backend {
        stores: Stores::open_pg(&config).await.unwrap(),
        _dir: None,
    }
}

/// Runs each named check against both backends, as its own test.
macro_rules! both_backends {
    ($($check:ident),* $(,)?) => {
        mod on_sled {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                super::$check(super::sled().await.stores).await;
            })*
        }
        mod on_postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                super::$check(super::postgres().await.stores).await;
            })*
        }
    };
}

both_backends!(
    offers_swap_only_from_what_was_read,
    grants_and_nonces,
    credentials_by_subject_newest_first,
    a_person_is_stored_once,
    status_indices_are_never_handed_out_twice,
    status_versions_and_signed_tokens,
    authorization_records_are_taken_once,
    sessions_and_throttling,
    replayed_identifiers_are_refused_until_they_expire,
    redemption_stores_the_grant_only_with_the_offer_taken,
    issuance_reserves_only_for_an_offered_record_with_unused_nonces,
    issuance_spends_nonces_and_updates_the_record_together,
    expired_nonces_are_swept,
);

fn offer(id: &str) -> Offer {
    Offer {
        id: id.into(),
        pre_authorized_code: format!("code-{id}"),
        tx_code_hash: Some("hash".into()),
        failed_attempts: 0,
        credential_configuration_id: "registration-certificate".into(),
        credential_id: format!("record-{id}"),
        expires_at: 100,
        redeemed: false,
    }
}

fn record(id: &str, subject: &str, created_at: i64) -> CredentialRecord {
    CredentialRecord {
        id: id.into(),
        subject: subject.into(),
        credential_configuration_id: "registration-certificate".into(),
        claims: serde_json::Map::new(),
        state: CredentialState::Offered,
        status_indices: Vec::new(),
        created_at,
        issued_at: None,
        revocation: None,
    }
}

async fn offers_swap_only_from_what_was_read(stores: Stores) {
    let first = offer("o1");
    stores.offers.insert(&first).await.unwrap();
    assert_eq!(
        stores.offers.by_id("o1").await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        stores.offers.by_code("code-o1").await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(stores.offers.by_code("code-none").await.unwrap(), None);
    let redeemed = Offer {
        redeemed: true,
        ..first.clone()
    };
    // Two redemptions of what both read: exactly one wins.
    let (a, b) = tokio::join!(
        stores.offers.swap(&first, &redeemed),
        stores.offers.swap(&first, &redeemed)
    );
    assert_eq!(
        [a.unwrap(), b.unwrap()].iter().filter(|won| **won).count(),
        1
    );
    assert_eq!(stores.offers.by_id("o1").await.unwrap(), Some(redeemed));
}

async fn grants_and_nonces(stores: Stores) {
    let grant = AccessGrant {
        token_hash: "t".into(),
        credential_id: "r".into(),
        credential_configuration_id: "registration-certificate".into(),
        expires_at: 7,
        jkt: Some("thumbprint".into()),
    };
    stores.grants.insert(&grant).await.unwrap();
    assert_eq!(stores.grants.get("t").await.unwrap(), Some(grant));
    assert_eq!(stores.grants.get("u").await.unwrap(), None);

    let (a, b) = tokio::join!(
        stores.nonces.use_once("n", 42),
        stores.nonces.use_once("n", 42)
    );
    let mut taken = [a.unwrap(), b.unwrap()];
    taken.sort();
    assert_eq!(taken, [false, true], "a nonce is used once");
    assert!(!stores.nonces.use_once("n", 42).await.unwrap());
}

async fn credentials_by_subject_newest_first(stores: Stores) {
    for (id, at) in [("a", 1), ("c", 3), ("b", 2)] {
        stores
            .credentials
            .put(&record(id, KARIN, at))
            .await
            .unwrap();
    }
    stores
        .credentials
        .put(&record("other", "199001012384", 9))
        .await
        .unwrap();
    let mut changed = record("a", KARIN, 1);
    changed.state = CredentialState::Revoked;
    changed.revocation = Some(Revocation {
        reason: RevocationReason::Deregistered,
        note: String::new(),
        by: "handlaggare".into(),
        at: 2,
    });
    stores.credentials.put(&changed).await.unwrap();
    let ids: Vec<String> = stores
        .credentials
        .by_subject(KARIN)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, ["c", "b", "a"]);
    assert_eq!(stores.credentials.get("a").await.unwrap(), Some(changed));
    assert_eq!(stores.credentials.get("none").await.unwrap(), None);
}

async fn a_person_is_stored_once(stores: Stores) {
    let number = PersonalIdentityNumber::parse(KARIN, intyg_service::time::today()).unwrap();
    let person = |name: &str| Person::new(number.clone(), name.into(), "K".into(), 1, "o".into());
    let (first, second) = (person("Karin"), person("Karin2"));
    let (a, b) = tokio::join!(stores.persons.put(&first), stores.persons.put(&second));
    assert!(a.unwrap() ^ b.unwrap(), "one registration wins");
    assert!(stores.persons.get(KARIN).await.unwrap().is_some());
    assert!(stores.persons.get("199001012384").await.unwrap().is_none());
}

async fn status_indices_are_never_handed_out_twice(stores: Stores) {
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let status = stores.status.clone();
            tokio::spawn(async move { status.allocate(3).await.unwrap() })
        })
        .collect();
    let mut seen = HashSet::new();
    for task in tasks {
        let indices = task.await.unwrap();
        assert_eq!(indices.len(), 3);
        assert!(indices.windows(2).all(|w| w[0] < w[1]), "ascending");
        for index in indices {
            assert!(seen.insert(index), "index {index} handed out twice");
        }
    }
    let highest = seen.iter().max().copied().unwrap();
    assert_eq!(stores.status.allocated().await.unwrap(), highest + 1);
}

async fn status_versions_and_signed_tokens(stores: Stores) {
    let indices = stores.status.allocate(20).await.unwrap();
    let (first, second) = (0..10, 10..20);
    assert_eq!(stores.status.version(first.clone()).await.unwrap(), 0);
    stores.status.set(indices[3], 1).await.unwrap();
    let v1 = stores.status.version(first.clone()).await.unwrap();
    assert!(v1 > 0);
    assert_eq!(stores.status.version(second.clone()).await.unwrap(), 0);
    stores.status.set(indices[3], 0).await.unwrap();
    let v2 = stores.status.version(first.clone()).await.unwrap();
    assert!(v2 > v1, "setting back to valid is a change too");
    stores.status.set(indices[12], 2).await.unwrap();
    assert_eq!(stores.status.non_valid(first).await.unwrap(), []);
    assert_eq!(
        stores.status.non_valid(second).await.unwrap(),
        [(indices[12], 2)]
    );

    assert_eq!(stores.status.token(0).await.unwrap(), None);
    let signed = |version, signed_at, jwt: &str| SignedList {
        version,
        signed_at,
        jwt: jwt.into(),
    };
    let newer = signed(v2, 10, "newer");
    assert_eq!(stores.status.put_token(0, &newer).await.unwrap(), newer);
    // An instance that signed an older version keeps the newer one.
    let older = signed(v1, 20, "older");
    assert_eq!(stores.status.put_token(0, &older).await.unwrap(), newer);
    let resigned = signed(v2, 30, "resigned");
    assert_eq!(
        stores.status.put_token(0, &resigned).await.unwrap(),
        resigned
    );
    assert_eq!(stores.status.token(0).await.unwrap(), Some(resigned));
    assert_eq!(stores.status.token(1).await.unwrap(), None);
}

async fn authorization_records_are_taken_once(stores: Stores) {
    let code = IssuedCode {
        client_id: "w".into(),
        redirect_uri: "https://w.example/cb".into(),
        code_challenge: "c".into(),
        credential_id: "r".into(),
        credential_configuration_id: "t".into(),
        authorization_details: true,
        dpop_jkt: Some("jkt".into()),
        expires_at: 1,
    };
    let store = &stores.authorizations;
    store.put_code("k", &code).await.unwrap();
    assert!(store.take_login("k").await.unwrap().is_none());
    assert!(store.take_pushed("k").await.unwrap().is_none());
    let (a, b) = tokio::join!(store.take_code("k"), store.take_code("k"));
    let taken: Vec<_> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(taken, [code]);
}

async fn replayed_identifiers_are_refused_until_they_expire(stores: Stores) {
    let replay = &stores.replay;
    let (a, b) = tokio::join!(
        replay.insert_if_absent("dpop:j1", 100, 50),
        replay.insert_if_absent("dpop:j1", 100, 50)
    );
    assert!(a.unwrap() ^ b.unwrap(), "of two uses of one jti, one wins");
    assert!(!replay.insert_if_absent("dpop:j1", 200, 99).await.unwrap());
    assert!(replay.insert_if_absent("wapop:j1", 100, 50).await.unwrap());
    // Expired: recorded afresh.
    assert!(replay.insert_if_absent("dpop:j1", 300, 100).await.unwrap());
    replay.insert_if_absent("dpop:j2", 120, 50).await.unwrap();
    assert_eq!(replay.purge_expired(150).await.unwrap(), 2);
    assert!(!replay.insert_if_absent("dpop:j1", 400, 150).await.unwrap());
}

async fn sessions_and_throttling(stores: Stores) {
    let sessions = &stores.sessions;
    let attacker = throttle::limits("anna", Some("203.0.113.66".parse().unwrap()));
    let user = throttle::limits("anna", Some("192.0.2.10".parse().unwrap()));
    for _ in 0..ACCOUNT_FROM_ADDRESS.free {
        assert_eq!(
            sessions.begin_attempt(&attacker, 100).await.unwrap(),
            Ok(())
        );
    }
    // The attacker's address waits a second; the user's does not.
    assert_eq!(
        sessions.begin_attempt(&attacker, 100).await.unwrap(),
        Err(101)
    );
    assert_eq!(sessions.begin_attempt(&user, 100).await.unwrap(), Ok(()));
    sessions.settle_success(&user).await.unwrap();
    // Refused attempts count nothing: at 101 the wait doubles only once.
    assert_eq!(
        sessions.begin_attempt(&attacker, 101).await.unwrap(),
        Ok(())
    );
    assert_eq!(
        sessions.begin_attempt(&attacker, 102).await.unwrap(),
        Err(103)
    );
    // Forgotten after a success from that address.
    sessions.settle_success(&attacker).await.unwrap();
    assert_eq!(
        sessions.begin_attempt(&attacker, 102).await.unwrap(),
        Ok(())
    );
    // Idle buckets are swept; a blocked one is kept.
    for _ in 1..ACCOUNT_FROM_ADDRESS.free {
        sessions
            .begin_attempt(&attacker, 200)
            .await
            .unwrap()
            .unwrap();
    }
    sessions.sweep(200).await.unwrap();
    assert_eq!(
        sessions.begin_attempt(&attacker, 200).await.unwrap(),
        Err(201)
    );
    // A day later everything is forgiven and swept.
    sessions.sweep(90_000).await.unwrap();
    assert_eq!(
        sessions.begin_attempt(&attacker, 90_000).await.unwrap(),
        Ok(())
    );

    let session = StoredSession {
        user: User {
            username: "anna".into(),
            name: "Anna A".into(),
        },
        csrf: "csrf".into(),
        expires_at: 200,
        data: "{}".into(),
    };
    sessions.insert("key", &session).await.unwrap();
    assert_eq!(sessions.get("key").await.unwrap(), Some(session.clone()));
    assert!(!sessions.swap_data("key", "{\"x\":1}", "{}").await.unwrap());
    assert!(sessions.swap_data("key", "{}", "{\"x\":1}").await.unwrap());
    assert_eq!(
        sessions.get("key").await.unwrap().unwrap().data,
        "{\"x\":1}"
    );
    sessions.sweep(199).await.unwrap();
    assert!(sessions.get("key").await.unwrap().is_some());
    sessions.sweep(200).await.unwrap();
    assert!(sessions.get("key").await.unwrap().is_none());
    sessions.insert("other", &session).await.unwrap();
    sessions.remove("other").await.unwrap();
    assert!(sessions.get("other").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_starting_together_migrate_once() {
    let url = TestPg::cluster().database("issuer_migrate").await;
    let config = intyg_service::pg::PgConfig::new(url);
    let (a, b) = tokio::join!(Stores::open_pg(&config), Stores::open_pg(&config));
    let (a, b) = (a.unwrap(), b.unwrap());
    // One schema, shared: an index taken through one is gone for the other.
    let first = a.status.allocate(1).await.unwrap();
    let second = b.status.allocate(1).await.unwrap();
    assert_ne!(first, second);
    let pg = intyg_service::pg::Pg::connect(&config).unwrap();
    let applied = pg
        .query_one(
            "SELECT count(*) FROM intyg_schema_migrations WHERE service = 'issuer'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        applied.get::<_, i64>(0),
        i64::try_from(intyg_issuer::store::MIGRATIONS.len()).unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_newer_than_the_binary_is_refused() {
    let url = TestPg::cluster().database("issuer_newer").await;
    let config = intyg_service::pg::PgConfig::new(url);
    Stores::open_pg(&config).await.unwrap();
    let pg = intyg_service::pg::Pg::connect(&config).unwrap();
    pg.execute(
        "INSERT INTO intyg_schema_migrations (service, version, name) \
         VALUES ('issuer', 9999, 'from the future')",
        &[],
    )
    .await
    .unwrap();
    let refused = Stores::open_pg(&config).await.unwrap_err();
    assert!(
        matches!(
            refused,
            intyg_issuer::store::StoreError::Postgres(intyg_service::pg::PgError::SchemaTooNew {
                found: 9999,
                ..
            })
        ),
        "{refused}"
    );
}

#[tokio::test]
async fn an_unreachable_database_is_an_error_at_start() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config =
        intyg_service::pg::PgConfig::new(format!("postgres://postgres@127.0.0.1:{port}/x"));
    let refused = Stores::open_pg(&config).await.unwrap_err();
    assert!(
        matches!(
            refused,
            intyg_issuer::store::StoreError::Postgres(intyg_service::pg::PgError::Pool(_))
        ),
        "{refused}"
    );
}

/// `sslmode` against the test cluster, which speaks TLS with a
/// certificate for `localhost` and `127.0.0.1` from its own CA.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_by_sslmode_through_rustls() {
    let cluster = TestPg::cluster();
    let ca = cluster.ca_pem();
    let port = cluster.port();
    let ssl_in_use = |url: String| async move {
        let pg = intyg_service::pg::Pg::connect(&intyg_service::pg::PgConfig::new(url))?;
        let row = pg
            .query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .await?;
        Ok::<bool, intyg_service::pg::PgError>(row.get(0))
    };
    let base = format!("postgres://postgres@localhost:{port}/postgres");
    assert!(
        !ssl_in_use(base.clone()).await.unwrap(),
        "no sslmode: plain"
    );
    assert!(ssl_in_use(format!("{base}?sslmode=require")).await.unwrap());
    let verify_full = format!("{base}?sslmode=verify-full&sslrootcert={}", ca.display());
    assert!(ssl_in_use(verify_full).await.unwrap());
    // The chain must lead to the given root: the system's roots do not
    // know the test CA.
    let refused = ssl_in_use(format!("{base}?sslmode=verify-full&sslrootcert=system")).await;
    assert!(refused.is_err(), "an unknown CA is refused");
    // verify-full checks the host name; verify-ca does not.
    let other_name = format!(
        "postgres://postgres@127.0.0.2:{port}/postgres?sslrootcert={}",
        ca.display()
    );
    assert!(
        ssl_in_use(format!("{other_name}&sslmode=verify-ca"))
            .await
            .unwrap()
    );
    assert!(
        ssl_in_use(format!("{other_name}&sslmode=verify-full"))
            .await
            .is_err(),
        "a certificate for another name is refused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sled_deployment_is_copied_to_postgres_with_counts_checked() {
    let dir = TempDir::new("copy-sled");
    let db = sled::Config::new().path(dir.path()).open().unwrap();
    let from = Stores::from_sled(db.clone()).unwrap();
    from.offers.insert(&offer("o1")).await.unwrap();
    from.credentials.put(&record("r1", KARIN, 1)).await.unwrap();
    assert!(from.nonces.use_once("n1", 99).await.unwrap());
    let number = PersonalIdentityNumber::parse(KARIN, intyg_service::time::today()).unwrap();
    let person = Person::new(number, "Karin".into(), "K".into(), 1, "o".into());
    from.persons.put(&person).await.unwrap();
    let indices = from.status.allocate(5).await.unwrap();
    from.status.set(indices[1], 1).await.unwrap();
    from.status.set(indices[2], 2).await.unwrap();
    from.status.set(indices[2], 0).await.unwrap();
    from.replay.insert_if_absent("dpop:j", 50, 0).await.unwrap();
    from.durable().await.unwrap();

    let url = TestPg::cluster().database("issuer_copy").await;
    let target = intyg_service::pg::PgConfig::new(url);
    let copied = intyg_issuer::store::copy_sled_to_postgres(&db, &target)
        .await
        .unwrap();
    assert_eq!(
        (
            copied.offers,
            copied.credentials,
            copied.nonces,
            copied.persons
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(
        (copied.statuses, copied.replay, copied.next_index),
        (1, 1, 5)
    );
    let to = Stores::open_pg(&target).await.unwrap();
    assert_eq!(
        to.offers.by_code("code-o1").await.unwrap(),
        Some(offer("o1"))
    );
    assert_eq!(to.persons.get(KARIN).await.unwrap(), Some(person));
    assert_eq!(to.status.non_valid(0..10).await.unwrap(), [(indices[1], 1)]);
    // Indices go on after the copied ones.
    assert_eq!(to.status.allocate(1).await.unwrap(), [5]);
    // A second copy into the same database is refused.
    let again = intyg_issuer::store::copy_sled_to_postgres(&db, &target).await;
    assert!(
        matches!(again, Err(intyg_issuer::store::CopyError::NotEmpty)),
        "{again:?}"
    );
}

fn grant(token_hash: &str) -> AccessGrant {
    AccessGrant {
        token_hash: token_hash.into(),
        credential_id: "record-o1".into(),
        credential_configuration_id: "registration-certificate".into(),
        expires_at: 50,
        jkt: None,
    }
}

async fn redemption_stores_the_grant_only_with_the_offer_taken(stores: Stores) {
    let first = offer("o1");
    stores.offers.insert(&first).await.unwrap();
    let redeemed = Offer {
        redeemed: true,
        ..first.clone()
    };
    let (ta, tb) = (grant("ta"), grant("tb"));
    let (a, b) = tokio::join!(
        stores.issuance.redeem(&first, &redeemed, &ta),
        stores.issuance.redeem(&first, &redeemed, &tb)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a ^ b, "of two redemptions of one code, one wins");
    let (winner, loser) = if a { ("ta", "tb") } else { ("tb", "ta") };
    assert_eq!(
        stores.grants.get(winner).await.unwrap(),
        Some(grant(winner))
    );
    assert_eq!(
        stores.grants.get(loser).await.unwrap(),
        None,
        "no grant without the offer taken"
    );
    assert_eq!(stores.offers.by_id("o1").await.unwrap(), Some(redeemed));
}

fn used(list: &[&str]) -> Vec<UsedNonce> {
    list.iter()
        .map(|n| UsedNonce {
            nonce: n.to_string(),
            expires_at: 100,
        })
        .collect()
}

async fn issuance_reserves_only_for_an_offered_record_with_unused_nonces(stores: Stores) {
    let offered = record("r1", KARIN, 1);
    stores.credentials.put(&offered).await.unwrap();
    assert!(stores.nonces.use_once("spent", 100).await.unwrap());

    let reserved = stores
        .issuance
        .reserve("r1", &used(&["n1", "n2"]), 3)
        .await
        .unwrap();
    assert_eq!(reserved.record, Some(offered.clone()));
    assert!(reserved.nonces_unused);
    assert_eq!(reserved.indices.len(), 3);
    assert!(reserved.indices.windows(2).all(|w| w[0] < w[1]));
    let again = stores
        .issuance
        .reserve("r1", &used(&["n1"]), 1)
        .await
        .unwrap();
    assert!(again.nonces_unused, "reserving spends no nonce");
    assert!(
        again.indices.iter().all(|i| !reserved.indices.contains(i)),
        "reserving never repeats an index"
    );

    let refused = stores
        .issuance
        .reserve("r1", &used(&["n1", "spent"]), 2)
        .await
        .unwrap();
    assert!(!refused.nonces_unused);
    assert!(refused.indices.is_empty(), "no index with a spent nonce");
    let issued = CredentialRecord {
        state: CredentialState::Issued,
        ..record("r2", KARIN, 2)
    };
    stores.credentials.put(&issued).await.unwrap();
    let reserved = stores
        .issuance
        .reserve("r2", &used(&["n1"]), 2)
        .await
        .unwrap();
    assert_eq!(reserved.record, Some(issued));
    assert!(reserved.nonces_unused);
    assert!(
        reserved.indices.is_empty(),
        "no index for a record no longer offered"
    );
    let missing = stores
        .issuance
        .reserve("none", &used(&["n1"]), 1)
        .await
        .unwrap();
    assert_eq!((missing.record, missing.indices.len()), (None, 0));
}

async fn issuance_spends_nonces_and_updates_the_record_together(stores: Stores) {
    let offered = record("r1", KARIN, 1);
    stores.credentials.put(&offered).await.unwrap();
    assert!(stores.nonces.use_once("spent", 100).await.unwrap());
    let issued = CredentialRecord {
        state: CredentialState::Issued,
        status_indices: vec![4, 5],
        issued_at: Some(50),
        ..offered.clone()
    };

    // A nonce used before: nothing issued.
    assert_eq!(
        stores
            .issuance
            .issue(&offered, &issued, &used(&["n3", "spent"]))
            .await
            .unwrap(),
        IssueOutcome::NonceGone
    );
    assert_eq!(
        stores.credentials.get("r1").await.unwrap(),
        Some(offered.clone())
    );

    // Two requests with the same nonce: one issues.
    let n1 = used(&["n1"]);
    let (a, b) = tokio::join!(
        stores.issuance.issue(&offered, &issued, &n1),
        stores.issuance.issue(&offered, &issued, &n1)
    );
    let mut outcomes = [a.unwrap(), b.unwrap()];
    outcomes.sort_by_key(|o| *o as u8);
    assert_eq!(outcomes, [IssueOutcome::Issued, IssueOutcome::NonceGone]);
    assert_eq!(
        stores.credentials.get("r1").await.unwrap(),
        Some(issued.clone())
    );
    assert!(
        !stores.nonces.use_once("n1", 100).await.unwrap(),
        "the nonce was spent"
    );

    // A record changed since it was read (issued, withdrawn) is not
    // overwritten; the nonce is spent all the same.
    let withdrawn = CredentialRecord {
        state: CredentialState::Revoked,
        ..offered.clone()
    };
    assert_eq!(
        stores
            .issuance
            .issue(&offered, &withdrawn, &used(&["n2"]))
            .await
            .unwrap(),
        IssueOutcome::RecordChanged
    );
    assert_eq!(stores.credentials.get("r1").await.unwrap(), Some(issued));
    assert!(!stores.nonces.use_once("n2", 100).await.unwrap());
}

async fn expired_nonces_are_swept(stores: Stores) {
    for (nonce, expires_at) in [("gone", 10), ("edge", 20), ("live", 21)] {
        assert!(stores.nonces.use_once(nonce, expires_at).await.unwrap());
    }
    assert_eq!(stores.nonces.purge_expired(20).await.unwrap(), 2);
    assert!(
        stores.nonces.use_once("gone", 10).await.unwrap(),
        "forgotten"
    );
    assert!(
        stores.nonces.use_once("edge", 20).await.unwrap(),
        "forgotten"
    );
    assert!(!stores.nonces.use_once("live", 21).await.unwrap(), "kept");
    assert_eq!(stores.nonces.purge_expired(100).await.unwrap(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nonce_sweep_runs_on_one_instance_at_a_time() {
    let url = TestPg::cluster().database("issuer_sweep").await;
    let config = intyg_service::pg::PgConfig::new(url);
    let (a, b) = (
        Stores::open_pg(&config).await.unwrap(),
        Stores::open_pg(&config).await.unwrap(),
    );
    assert!(a.nonces.use_once("expired", 10).await.unwrap());
    assert!(a.nonces.use_once("live", 100).await.unwrap());
    // Instance a holds the sweep's lock while b tries.
    let (hold, release) = tokio::sync::oneshot::channel::<()>();
    let (started, running) = tokio::sync::oneshot::channel::<()>();
    let jobs = a.jobs.clone();
    let holder = tokio::spawn(async move {
        jobs.run(intyg_issuer::ops::SWEEP_JOB, async move {
            started.send(()).unwrap();
            release.await.unwrap();
        })
        .await
        .unwrap()
    });
    running.await.unwrap();
    assert_eq!(intyg_issuer::ops::sweep(&b, 50).await.unwrap(), None);
    assert!(
        !b.nonces.use_once("expired", 10).await.unwrap(),
        "not swept while another instance sweeps"
    );
    hold.send(()).unwrap();
    assert!(holder.await.unwrap().is_some());
    let swept = intyg_issuer::ops::sweep(&b, 50).await.unwrap().unwrap();
    assert_eq!(swept.nonces, 1);
    assert!(a.nonces.use_once("expired", 10).await.unwrap(), "forgotten");
    assert!(!a.nonces.use_once("live", 100).await.unwrap(), "kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_applies_the_schema_without_serving() {
    let url = TestPg::cluster().database("issuer_migrate_cmd").await;
    let run = |url: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_intyg-issuer"))
            .arg("migrate")
            .env("INTYG_DATABASE_URL", url)
            .output()
            .unwrap()
    };
    let output = tokio::task::block_in_place(|| run(&url));
    assert!(output.status.success(), "{output:?}");
    let known = intyg_issuer::store::MIGRATIONS.len();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).lines().last(),
        Some(format!("issuer schema at version {known}").as_str())
    );
    let pg =
        intyg_service::pg::Pg::connect(&intyg_service::pg::PgConfig::new(url.clone())).unwrap();
    let row = pg
        .query_one(
            "SELECT count(*) FROM intyg_schema_migrations WHERE service = 'issuer'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), known as i64);
    pg.query("SELECT count(*) FROM issuer_offers", &[])
        .await
        .unwrap();
    // A second run finds the schema; a newer schema is refused.
    assert!(tokio::task::block_in_place(|| run(&url)).status.success());
    pg.execute(
        "INSERT INTO intyg_schema_migrations (service, version, name) VALUES ('issuer', 999, 'x')",
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
