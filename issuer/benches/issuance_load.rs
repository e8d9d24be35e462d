//! Load test: credentials issued per second end to end over loopback
//! (`/token` + `/nonce` + `/credential`, one proof each), with every write
//! durable in sled (group commit). Offers are made beforehand; the load
//! generator (HTTP client, proof signing) runs in the same process on the
//! same two cores.
//!
//! With `--postgres`, two issuer instances share one PostgreSQL database
//! (a throwaway cluster on this machine, `synchronous_commit = on`) behind
//! one public URL, and each flow is split between them: `/token` at one,
//! `/nonce` and `/credential` at the other.
//!
//! `cargo bench --workspace --bench issuance_load [-- <credentials> <concurrency>] [--postgres]`

use std::time::{Duration, Instant};

use intyg_core::jose::SigningKey;
use intyg_core::oid4vci::credential::CredentialRequest;
use intyg_core::oid4vci::id::{CNonce, CredentialConfigurationId};
use intyg_core::oid4vci::proof::build_jwt_proof;
use intyg_issuer::admin::{CreateOffer, make_offer};
use intyg_testkit::{Fetch, KARIN, REGISTRATION_CERTIFICATE, TempDir, TestIssuer, TestPg, example};

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

struct Grant {
    code: String,
    pin: String,
}

/// One wallet's flow: `/token` at `token_url`, `/nonce` and `/credential`
/// at `url`; the proof's audience is `audience` (the public URL).
async fn issue(
    http: &reqwest::Client,
    (token_url, url, audience): (&str, &str, &str),
    grant: &Grant,
    key: &SigningKey,
) -> Duration {
    let started = Instant::now();
    let form = format!(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code={}&tx_code={}",
        grant.code, grant.pin
    );
    let token: serde_json::Value = http
        .post(format!("{token_url}/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .fetch_json()
        .await;
    let nonce: serde_json::Value = http.post(format!("{url}/nonce")).fetch_json().await;
    let nonce = CNonce::try_from(nonce["c_nonce"].as_str().unwrap()).unwrap();
    let proof = build_jwt_proof(key, audience, Some(&nonce), intyg_issuer::now(), None).unwrap();
    let request = CredentialRequest::for_configuration(
        CredentialConfigurationId::try_from(REGISTRATION_CERTIFICATE).unwrap(),
        vec![proof],
    );
    let response = http
        .post(format!("{url}/credential"))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .json(&request)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
    response.bytes().await.unwrap();
    started.elapsed()
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let total = args.first().copied().unwrap_or(5_000);
    let concurrency = args.get(1).copied().unwrap_or(64);
    let postgres = std::env::args().any(|a| a == "--postgres");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let issuer = if postgres {
            start_on(&TestPg::cluster().database("load").await, concurrency).await
        } else {
            (TestIssuer::start("load").await, None, None)
        };
        let (issuer, other, _shared) = issuer;
        let (state, url) = (&issuer.state, issuer.url.clone());
        let other_url = other.as_ref().map_or(url.clone(), |o| o.url.clone());

        let claims: serde_json::Map<String, serde_json::Value> =
            serde_json::from_value(example(REGISTRATION_CERTIFICATE)).unwrap();
        let mut grants = Vec::with_capacity(total);
        let bench_actor = intyg_issuer::audit::Actor { name: "bench".into(), source: None };
        for _ in 0..total {
            let created = make_offer(state, CreateOffer { credential_configuration_id: REGISTRATION_CERTIFICATE.into(), claims: claims.clone(), subject: KARIN.into() }, &bench_actor).await.unwrap();
            let offer_id = created.offer_uri.rsplit("%2F").next().unwrap().to_owned();
            let offer = state.stores.offers.by_id(&offer_id).await.unwrap().unwrap();
            grants.push(Grant { code: offer.pre_authorized_code, pin: created.tx_code });
        }
        let key = SigningKey::generate().unwrap();
        let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().unwrap();

        let grants = std::sync::Arc::new(grants);
        let key = std::sync::Arc::new(key);
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let started = Instant::now();
        let mut workers = Vec::new();
        for _ in 0..concurrency {
            let (http, url, other_url, grants, key, next) = (http.clone(), url.clone(), other_url.clone(), grants.clone(), key.clone(), next.clone());
            workers.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(grant) = grants.get(i) else { break };
                    // Split between the instances (one instance: both the same).
                    let (first, second) = if i % 2 == 0 { (&url, &other_url) } else { (&other_url, &url) };
                    latencies.push(issue(&http, (first, second, &url), grant, &key).await);
                }
                latencies
            }));
        }
        let mut latencies = Vec::with_capacity(total);
        for worker in workers {
            latencies.extend(worker.await.unwrap());
        }
        let elapsed = started.elapsed();
        latencies.sort_unstable();
        let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
        println!(
            "{}: issued {total} credentials with {concurrency} concurrent wallets in {:.2} s: {:.0} credentials/s; latency p50 {:.1} ms, p99 {:.1} ms; peak RSS {} MiB",
            if postgres { "two instances on PostgreSQL" } else { "one instance on sled" },
            elapsed.as_secs_f64(),
            total as f64 / elapsed.as_secs_f64(),
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
            peak_rss_kib() / 1024
        );
    });
}

/// Two issuers on the database at `url`, sharing a key directory, both
/// announcing the first one's URL (as behind one load balancer).
async fn start_on(
    url: &str,
    concurrency: usize,
) -> (TestIssuer, Option<TestIssuer>, Option<TempDir>) {
    let dir = TempDir::new("load-shared");
    let shared = dir.path().to_owned();
    let pool = concurrency.clamp(4, 32);
    let a = TestIssuer::start_with("load-a", |config| {
        config.database_url = Some(url.to_owned());
        config.database_pool_size = pool;
        config.data_dir = shared.clone();
    })
    .await;
    let public_url = a.url.clone();
    let b = TestIssuer::start_with("load-b", |config| {
        config.database_url = Some(url.to_owned());
        config.database_pool_size = pool;
        config.data_dir = shared.clone();
        config.public_url = public_url;
    })
    .await;
    (a, Some(b), Some(dir))
}
