//! `max_status_age` on `StatusLists`: 0 never uses the cache, and a burst
//! of checks needing the same list shares one fetch.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::routing::get;
use intyg_core::jose::SigningKey;
use intyg_core::status_list::{
    Bits, StatusIndex, StatusList, StatusListClaim, StatusListReference, StatusListToken,
    StatusListTokenClaims, StatusType,
};
use intyg_core::trust::{TrustList, TrustedIssuer};
use intyg_verifier::config::FetchLimits;
use intyg_verifier::fetch::{Fetcher, StatusLists};
use intyg_verifier::now;

use crate::REGISTRATION;

/// A status list server that counts its requests and answers each after
/// `delay_ms`, so that concurrent checks overlap.
async fn counting_list(delay_ms: u64) -> (String, TrustList, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let iss = format!("http://{}", listener.local_addr().unwrap());
    let key = SigningKey::generate().unwrap();
    let mut list = StatusList::new(Bits::Two, 16);
    list.set(StatusIndex::from(1u32), StatusType::Invalid)
        .unwrap();
    let mut claims = StatusListTokenClaims::new(
        format!("{iss}/status/1"),
        now(),
        StatusListClaim::from(&list),
    );
    claims.ttl = std::num::NonZeroU64::new(300);
    let token = StatusListToken::sign(&claims, &key, Some("k")).unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let router = axum::Router::new().route(
        "/status/1",
        get(move || {
            let token = token.clone();
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
                ([("content-type", StatusListToken::MEDIA_TYPE)], token)
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let mut jwk = key.public_jwk();
    jwk.key_id = Some("k".into());
    let mut trust = TrustList::new();
    trust.trust(REGISTRATION, TrustedIssuer::with_keys(&iss, vec![jwk]));
    (iss, trust, hits)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_with_max_status_age_zero_makes_one_request() {
    let (iss, trust, hits) = counting_list(300).await;
    let lists = StatusLists::new(
        Fetcher::new(5_000, 1 << 20, true).unwrap(),
        FetchLimits::default(),
    );
    let reference = |idx: u32| StatusListReference {
        idx: StatusIndex::from(idx),
        uri: format!("{iss}/status/1"),
    };
    let checks = (0..8).map(|i| {
        let (lists, trust, reference, iss) = (&lists, &trust, reference(i % 2), iss.clone());
        async move {
            lists
                .status(&reference, trust, REGISTRATION, Some(&iss), now(), Some(0))
                .await
                .unwrap()
        }
    });
    let results = futures_util::future::join_all(checks).await;
    assert_eq!(hits.load(Ordering::SeqCst), 1, "one fetch for the burst");
    assert_eq!(results[0].status, StatusType::Valid);
    assert_eq!(results[1].status, StatusType::Invalid);
    // The next check with max_status_age = 0 fetches again; one without a
    // limit uses the list just fetched.
    lists
        .status(
            &reference(0),
            &trust,
            REGISTRATION,
            Some(&iss),
            now(),
            Some(0),
        )
        .await
        .unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    let cached = lists
        .status(&reference(0), &trust, REGISTRATION, Some(&iss), now(), None)
        .await
        .unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 2, "the cache serves it");
    assert!(cached.fetched_at <= now());
}
