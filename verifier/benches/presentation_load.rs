//! Load test: presentations verified per second over loopback.
//!
//! ```sh
//! cargo bench --workspace --bench presentation_load -- <n> <concurrency> [--split] [--no-costs] [--postgres]
//! ```
//!
//! One process holds everything: the verifier (`app` on a loopback socket,
//! sled in a temporary directory), a tiny issuer serving its metadata and
//! a signed status list (each fetched once, then cached by the verifier),
//! and
//! `<concurrency>` holder tasks sharing `<n>` flows. Each holder owns a key
//! and two pre-issued credentials (registration certificate and internship
//! eligibility, `intyg_core::vc::issue`, issuer trusted by the verifier's
//! trust list). One flow is what a wallet and an HR system do:
//!
//! 1. `POST /api/presentations` (`internship-application` template);
//! 2. `GET` the `request_uri` and authenticate the Request Object
//!    (`core::trust`: `x5c` chain to the dev CA, `x509_hash`, signature);
//! 3. present both credentials with KB-JWTs (`aud`, `nonce`);
//! 4. encrypt the response (`direct_post.jwt`, ECDH-ES) and post it; the
//!    verifier decrypts and fully verifies (signatures, KB-JWT, DCQL,
//!    status list) and answers 200.
//!
//! Reported: flows per second, p50/p99/max latency of the whole flow and of
//! each step, CPU time per flow, peak RSS (`VmHWM`, load generator
//! included), and (unless `--no-costs`, e.g. under `perf`) the core verify
//! cost of one presentation against 2 x a raw aws-lc-rs ES256 verify plus
//! the single-core CPU cost of each step, and the cryptographic floor of a
//! flow (the sum of its cryptographic steps, each as core does it) with the
//! CPU per flow divided by it. It then replays the flow's three HTTP
//! exchanges, with the bodies of a real flow, against a server that only
//! answers them (the transport floor: what HTTP over loopback, the
//! runtime and the client cost before any JSON, cryptography or storage),
//! and divides the CPU per flow by the sum of both floors. The HR API
//! client asks for no QR code (as one that shows none would not).
//!
//! By default the verifier and the holders share one Tokio runtime (two
//! workers on two cores), as in the first measurements. `--split` runs the
//! verifier on its own runtime (threads `verifier`, the holders on threads
//! `holder`), like two processes on one machine, and splits the CPU time
//! per flow between the verifier (with sled's threads) and the load
//! generator, which bounds what the verifier alone could serve.
//!
//! With `--postgres`, two verifier instances share one PostgreSQL database
//! (a throwaway cluster on this machine, `synchronous_commit = on`) and
//! one data directory (keys, CA), both announcing the first one's URL, as
//! behind one load balancer; each flow is split between them: created and
//! answered at one, its request object fetched at the other.

use std::sync::Arc;
use std::time::{Duration, Instant};

use intyg_core::dcql::{DcqlQuery, ValidatedQuery};
use intyg_core::jose::{Algorithm, Header, SigningKey, VerifyingKey, sign_compact};
use intyg_core::oid4vp::{
    AuthorizationRequest, AuthorizationResponse, DirectPostBody, Invocation, Presentation,
    RequestObjectSource, ResponseEncryption, VpToken,
};
use intyg_core::sd_jwt::{KeyBindingCheck, KeyBindingInput, SdJwt, VerifyOptions};
use intyg_core::status_list::{
    Bits, StatusIndex, StatusList, StatusListClaim, StatusListReference, StatusListToken,
    StatusListTokenClaims,
};
use intyg_core::trust::{TrustAnchors, TrustedIssuer, authenticate_request_object};
use intyg_core::vc::{self, IssueParams, metadata::CredentialType};
use intyg_verifier::config::Config;
use intyg_verifier::templates::{ELIGIBILITY_VCT, REGISTRATION_VCT};
use intyg_verifier::{AppState, app, now};
use serde_json::{Map, Value, json};

/// The allocator of the `intyg-verifier` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const API_KEY: &str = "load-test-api-key-0123456789";
const REGISTRATION_CLAIMS: [&str; 4] = [
    "/registration_status",
    "/registered_since",
    "/given_name",
    "/family_name",
];
const ELIGIBILITY_CLAIMS: [&str; 3] = ["/eligible_from", "/eligible_until", "/max_hours_per_week"];

/// The steps of one flow, timed separately.
const STEPS: [&str; 5] = [
    "create (HR API)",
    "fetch request object",
    "authenticate request (holder)",
    "present + encrypt (holder)",
    "post response (verify)",
];

/// Thread name prefix of the holders' runtime.
const HOLDER_THREADS: &str = "holder";

fn main() {
    let usage = "usage: presentation_load [n] [concurrency] [--split] [--no-costs] [--postgres]";
    let (mut numbers, mut split, mut costs, mut postgres) = (Vec::new(), false, true, false);
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--split" => split = true,
            "--postgres" => postgres = true,
            "--no-costs" => costs = false,
            // `cargo bench` passes `--bench`.
            flag if flag.starts_with('-') => {}
            number => numbers.push(number.parse::<usize>().expect(usage)),
        }
    }
    let n = numbers.first().copied().unwrap_or(2_000).max(1);
    let concurrency = numbers.get(1).copied().unwrap_or(16).max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name(HOLDER_THREADS)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let verifier = split.then(|| {
        tokio::runtime::Builder::new_multi_thread()
            .thread_name("verifier")
            .enable_all()
            .build()
            .expect("verifier runtime")
    });
    let server = verifier
        .as_ref()
        .map_or_else(|| runtime.handle().clone(), |r| r.handle().clone());
    let mode = Mode {
        split,
        costs,
        postgres,
    };
    runtime.block_on(run(n, concurrency, server, mode));
}

/// How the bench runs.
#[derive(Clone, Copy)]
struct Mode {
    split: bool,
    costs: bool,
    postgres: bool,
}

async fn run(n: usize, concurrency: usize, server: tokio::runtime::Handle, mode: Mode) {
    let Mode {
        split,
        costs,
        postgres,
    } = mode;
    let dir = std::env::temp_dir().join(format!("intyg-verifier-load-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let issuer = Issuer::start().await;
    let database = match postgres {
        true => Some(
            intyg_testkit::TestPg::cluster()
                .database("presentation_load")
                .await,
        ),
        false => None,
    };
    // Bound, opened and served on the verifier's runtime, so that its I/O
    // and its background tasks (group commit, retention) run there.
    let mut instances: Vec<(AppState, String)> = Vec::new();
    for _ in 0..if postgres { 2 } else { 1 } {
        let state_dir = dir.clone();
        let database = database.clone();
        let public_url = instances.first().map(|(s, _)| s.config.public_url.clone());
        let (state, addr) = server
            .spawn(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                let addr = listener.local_addr().expect("addr");
                let mut config = Config::dev(state_dir, addr).expect("config");
                config.api_key = Some(API_KEY.into());
                config.database_url = database;
                if let Some(url) = public_url {
                    config.public_url = url;
                }
                let state = AppState::open(config).await.expect("verifier state");
                let router = app(state.clone());
                tokio::spawn(async move { axum::serve(listener, router).await });
                (state, addr)
            })
            .await
            .expect("verifier start");
        {
            let mut current = state.trust.write().expect("trust list");
            let trust = Arc::make_mut(&mut current);
            for vct in [REGISTRATION_VCT, ELIGIBILITY_VCT] {
                trust.trust(vct, issuer.trusted());
            }
        }
        instances.push((state, format!("http://{addr}")));
    }
    let state = instances[0].0.clone();
    let public_url = state.config.public_url.clone();
    let bases: Arc<Vec<String>> = Arc::new(instances.iter().map(|(_, b)| b.clone()).collect());
    let anchors = Arc::new(
        TrustAnchors::from_pem(&std::fs::read_to_string(dir.join("ca.pem")).expect("ca.pem"))
            .expect("anchors"),
    );
    let base = Arc::new(bases[0].clone());
    let route = Arc::new(Route {
        public_url,
        bases: bases.clone(),
    });
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .expect("client");

    let holders: Vec<Arc<Holder>> = (0..concurrency)
        .map(|_| Arc::new(Holder::new(&issuer)))
        .collect();

    // Warm-up: connections, the status list cache, allocator.
    let warm = (concurrency * 4).min(200);
    let (_, exchanges) = drive(&holders, warm, &http, &route, &anchors).await;

    let started = Instant::now();
    let cpu_before = cpu_time();
    let holders_before = holder_cpu_time();
    let (mut samples, _) = drive(&holders, n, &http, &route, &anchors).await;
    let cpu = cpu_time() - cpu_before;
    let holders_cpu = holder_cpu_time() - holders_before;
    let elapsed = started.elapsed();

    let cores = std::thread::available_parallelism().map_or(1, |p| p.get());
    println!(
        "presentation_load: n = {n}, concurrency = {concurrency}, cores = {cores}, {}, {}",
        if split {
            "verifier and holders on separate runtimes"
        } else {
            "one runtime for verifier and holders"
        },
        if postgres {
            "two instances on PostgreSQL"
        } else {
            "one instance on sled"
        }
    );
    println!(
        "  throughput: {:.0} verified presentations/s ({n} in {:.2} s)",
        n as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    samples.sort_by_key(|s| s.total);
    let totals: Vec<Duration> = samples.iter().map(|s| s.total).collect();
    println!("  whole flow:  {}", summary(&totals));
    for (i, step) in STEPS.iter().enumerate() {
        let mut times: Vec<Duration> = samples.iter().map(|s| s.steps[i]).collect();
        times.sort();
        println!("    {step:<31} {}", summary(&times));
    }
    let per_flow = |cpu: Duration| cpu.as_secs_f64() * 1e3 / n as f64;
    println!(
        "  CPU per flow (verifier + load generator, user + sys): {:.2} ms ({:.2} cores busy)",
        per_flow(cpu),
        cpu.as_secs_f64() / elapsed.as_secs_f64()
    );
    if split {
        let verifier = cpu.saturating_sub(holders_cpu);
        println!(
            "    verifier (+ sled): {:.2} ms, load generator: {:.2} ms; the verifier alone: at most {:.0}/s on {cores} cores",
            per_flow(verifier),
            per_flow(holders_cpu),
            cores as f64 * 1e3 / per_flow(verifier)
        );
    }
    println!("  peak RSS (VmHWM, whole process): {}", peak_rss());
    if costs {
        let crypto = crypto_costs(&issuer, &holders[0]);
        let steps = flow_costs(&state, &holders[0], &http, &base, &anchors).await;
        // The cryptographic work of one flow, each step as core does it:
        // the JWE key (create), the Request Object signed (fetch) and
        // authenticated (holder), two presentations with KB-JWTs, the
        // response encrypted and decrypted, two credentials verified
        // (issuer signature + KB-JWT each) and the receipt signed.
        let step = |name: &str| {
            steps
                .iter()
                .find(|(what, _)| what.starts_with(name))
                .map_or(Duration::ZERO, |(_, cost)| *cost)
        };
        let floor = step("JWE key pair")
            + step("sign Request Object")
            + step("authenticate Request Object")
            + 2 * step("present one credential")
            + step("encrypt response")
            + step("decrypt response")
            + 2 * crypto.verify
            + crypto.sign;
        println!(
            "  cryptographic floor of one flow (the rows above: JWE key, sign + authenticate the Request Object, 2 x present, encrypt, decrypt, 2 x vc::verify, sign the receipt): {:.2} ms",
            floor.as_secs_f64() * 1e3
        );
        println!(
            "  CPU per flow / cryptographic floor: {:.2}",
            per_flow(cpu) / (floor.as_secs_f64() * 1e3)
        );
        let transport = transport_floor(&exchanges, n, concurrency, &server, &http).await;
        println!(
            "  transport floor of one flow (its three HTTP exchanges with the same bodies, replayed against canned answers on loopback, both sides, same concurrency): {:.2} ms",
            transport.as_secs_f64() * 1e3
        );
        println!(
            "  CPU per flow / (cryptographic + transport floor): {:.2}",
            per_flow(cpu) / ((floor + transport).as_secs_f64() * 1e3)
        );
    }
    drop(state);
    drop(instances);
    let _ = std::fs::remove_dir_all(&dir);
}

/// One flow's timings.
struct Sample {
    total: Duration,
    steps: [Duration; 5],
}

/// Where a flow's requests go: one instance, or split between two that
/// both announce `public_url`.
struct Route {
    public_url: String,
    bases: Arc<Vec<String>>,
}

impl Route {
    /// The instance flow `i` is created and answered at, and the one it
    /// fetches its request object from.
    fn of(&self, i: usize) -> (&str, &str) {
        let count = self.bases.len();
        (&self.bases[i % count], &self.bases[(i + 1) % count])
    }

    /// `uri` (under the public URL) at `base`.
    fn at(&self, uri: &str, base: &str) -> String {
        match uri.strip_prefix(self.public_url.as_str()) {
            Some(path) => format!("{base}{path}"),
            None => uri.to_owned(),
        }
    }
}

/// Runs `n` flows over the holders, `holders.len()` at a time; returns
/// their timings and the exchanges of flow 0.
async fn drive(
    holders: &[Arc<Holder>],
    n: usize,
    http: &reqwest::Client,
    route: &Arc<Route>,
    anchors: &Arc<TrustAnchors>,
) -> (Vec<Sample>, Exchanges) {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for holder in holders {
        let (holder, http, route, anchors, next) = (
            holder.clone(),
            http.clone(),
            route.clone(),
            anchors.clone(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let (mut samples, mut kept) = (Vec::new(), None);
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let (sample, exchanges) = flow(&holder, &http, &route, i, &anchors, i == 0).await;
                samples.push(sample);
                kept = kept.or(exchanges);
            }
            (samples, kept)
        }));
    }
    let (mut all, mut kept) = (Vec::with_capacity(n), None);
    for task in tasks {
        let (samples, exchanges) = task.await.expect("holder task");
        all.extend(samples);
        kept = kept.or(exchanges);
    }
    // Flow 0 runs in every call (`next` starts at 0 and `n` is never 0).
    (all, kept.expect("flow 0 kept its exchanges"))
}

/// The bodies of one flow's three exchanges, as sent and answered: what
/// the transport floor replays.
#[derive(Clone)]
struct Exchanges {
    /// The HR API's answer to the create.
    created: String,
    /// The signed Request Object.
    request_object: String,
    /// The form the wallet posts (`response=<JWE>`).
    form: String,
    /// The Response URI's answer (with the receipt).
    answer: String,
}

/// One presentation, from the HR API request to the verified response;
/// with its exchanges when `keep`.
async fn flow(
    holder: &Holder,
    http: &reqwest::Client,
    route: &Route,
    i: usize,
    anchors: &TrustAnchors,
    keep: bool,
) -> (Sample, Option<Exchanges>) {
    let (base, other) = route.of(i);
    let mut steps = [Duration::ZERO; 5];
    let started = Instant::now();
    let mut mark = started;
    let mut lap = |i: usize| {
        let t = Instant::now();
        steps[i] = t - mark;
        mark = t;
    };

    let created_text = http
        .post(format!("{base}/api/presentations"))
        .bearer_auth(API_KEY)
        .json(&json!({"template": "internship-application"}))
        .send()
        .await
        .expect("create")
        .text()
        .await
        .expect("create body");
    let created: Value = serde_json::from_str(&created_text).expect("create JSON");
    let uri = created["request_uri"].as_str().expect("request_uri");
    lap(0);

    let Ok(Invocation::ByReference(reference)) = AuthorizationRequest::from_uri(uri) else {
        panic!("requests go by reference: {uri}");
    };
    let RequestObjectSource::Uri { request_uri, .. } = &reference.source else {
        panic!("request_uri expected");
    };
    let jwt = http
        .get(route.at(request_uri, other))
        .send()
        .await
        .expect("request object")
        .text()
        .await
        .expect("request object body");
    lap(1);

    let request = authenticate_request_object(&jwt, &reference.client_id, anchors, None, now())
        .expect("the request object authenticates")
        .request;
    lap(2);

    let client_id = request.client_id.as_ref().expect("client_id").to_string();
    let nonce = request.nonce.to_string();
    let mut vp_token = VpToken::default();
    for (query_id, credential, pointers) in [
        (
            "registration",
            &holder.registration,
            &REGISTRATION_CLAIMS[..],
        ),
        ("eligibility", &holder.eligibility, &ELIGIBILITY_CLAIMS[..]),
    ] {
        let presentation = present(credential, pointers, &holder.key, &client_id, &nonce);
        vp_token
            .0
            .entry(query_id.to_owned())
            .or_default()
            .push(Presentation::Compact(presentation));
    }
    let encryption =
        ResponseEncryption::select(request.client_metadata.as_ref().expect("client_metadata"))
            .expect("encryption");
    let jwe = AuthorizationResponse::new(vp_token, request.state.clone())
        .encrypt(&encryption)
        .expect("encrypt");
    let form = DirectPostBody::Encrypted(jwe).to_form();
    lap(3);

    let response_uri = request.response_uri.as_deref().expect("response_uri");
    let kept_form = keep.then(|| form.clone());
    let response = http
        .post(route.at(response_uri, base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .expect("response");
    let status = response.status();
    let body = response.text().await.expect("response body");
    assert_eq!(
        status, 200,
        "the verifier refused a valid presentation: {body}"
    );
    lap(4);

    let sample = Sample {
        total: started.elapsed(),
        steps,
    };
    let exchanges = kept_form.map(|form| Exchanges {
        created: created_text,
        request_object: jwt,
        form,
        answer: body,
    });
    (sample, exchanges)
}

/// Presents `credential` disclosing `pointers`, with a KB-JWT for `aud` and
/// `nonce`.
fn present(
    credential: &str,
    pointers: &[&str],
    key: &SigningKey,
    aud: &str,
    nonce: &str,
) -> String {
    let disclosed = SdJwt::parse(credential)
        .and_then(SdJwt::disclose)
        .expect("a held credential parses");
    disclosed
        .present(
            pointers,
            Some(KeyBindingInput {
                key,
                aud: aud.to_owned(),
                nonce: nonce.to_owned(),
                iat: now(),
            }),
        )
        .expect("present")
}

/// CPU time per flow of the flow's three HTTP exchanges alone: a server
/// on `server`'s runtime answers each with the body the verifier gave in
/// flow 0 (create, Request Object, response with its receipt) and does
/// nothing else; `concurrency` clients send the same requests (bearer
/// token, JSON body, form of the real size) with the load generator's
/// client and read each answer in full, `n` flows in all. What a flow
/// costs before any JSON, cryptography or storage.
async fn transport_floor(
    exchanges: &Exchanges,
    n: usize,
    concurrency: usize,
    server: &tokio::runtime::Handle,
    http: &reqwest::Client,
) -> Duration {
    use axum::routing::{get, post};
    let Exchanges {
        created,
        request_object,
        form,
        answer,
    } = exchanges.clone();
    let router =
        axum::Router::new()
            .route(
                "/api/presentations",
                post(move |_body: String| async move {
                    (
                        axum::http::StatusCode::CREATED,
                        [("content-type", "application/json")],
                        created,
                    )
                }),
            )
            .route(
                "/request/{id}",
                get(move || async move {
                    (
                        [(
                            "content-type",
                            intyg_core::oid4vp::REQUEST_OBJECT_MEDIA_TYPE,
                        )],
                        request_object,
                    )
                }),
            )
            .route(
                "/response/{id}",
                post(move |_body: String| async move {
                    ([("content-type", "application/json")], answer)
                }),
            );
    let base = server
        .spawn(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            tokio::spawn(async move { axum::serve(listener, router).await });
            format!("http://{addr}")
        })
        .await
        .expect("transport server");
    let form = Arc::new(form);
    let run = |flows: usize| {
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..concurrency)
            .map(|_| {
                let (http, base, form, next) =
                    (http.clone(), base.clone(), form.clone(), next.clone());
                tokio::spawn(async move {
                    while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < flows {
                        let read = |r: reqwest::Result<reqwest::Response>| async move {
                            r.expect("exchange").bytes().await.expect("body")
                        };
                        read(
                            http.post(format!("{base}/api/presentations"))
                                .bearer_auth(API_KEY)
                                .json(&json!({"template": "internship-application"}))
                                .send()
                                .await,
                        )
                        .await;
                        read(http.get(format!("{base}/request/x")).send().await).await;
                        read(
                            http.post(format!("{base}/response/x"))
                                .header("content-type", "application/x-www-form-urlencoded")
                                .body(form.as_str().to_owned())
                                .send()
                                .await,
                        )
                        .await;
                    }
                })
            })
            .collect();
        async move {
            for task in tasks {
                task.await.expect("transport client");
            }
        }
    };
    run((concurrency * 4).min(200)).await;
    let before = cpu_time();
    run(n).await;
    (cpu_time() - before) / u32::try_from(n.max(1)).unwrap_or(u32::MAX)
}

/// A test issuer: a key trusted by the verifier and one status list on
/// loopback.
struct Issuer {
    iss: String,
    key: SigningKey,
    kid: String,
}

impl Issuer {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind issuer");
        let iss = format!("http://{}", listener.local_addr().expect("addr"));
        let key = SigningKey::generate().expect("issuer key");
        let kid = "load-issuer-1".to_owned();
        let list = StatusList::new(Bits::Two, 4096);
        let mut claims = StatusListTokenClaims::new(
            format!("{iss}/status/1"),
            now(),
            StatusListClaim::from(&list),
        );
        claims.ttl = std::num::NonZeroU64::new(3600);
        let token = StatusListToken::sign(&claims, &key, Some(&kid)).expect("status list");
        // Its metadata names it, as an issuer's does (the verifier fetches
        // the display name once).
        let metadata = json!({
            "credential_issuer": iss,
            "credential_endpoint": format!("{iss}/credential"),
            "display": [{"name": "Lastprovsutfärdaren", "locale": "sv"}],
            "credential_configurations_supported": {},
        });
        let router = intyg_testkit::status_and_metadata_routes(token, metadata);
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { iss, key, kid }
    }

    fn trusted(&self) -> TrustedIssuer {
        let mut jwk = self.key.public_jwk();
        jwk.key_id = Some(self.kid.clone());
        TrustedIssuer::with_keys(&self.iss, vec![jwk])
    }

    fn issue(&self, kind: &str, holder: &SigningKey, idx: u32) -> String {
        let now = now();
        let mut params = IssueParams::new(self.iss.clone(), now - 10);
        params.expires_at = Some(now + 3600);
        params.holder_key = Some(holder.public_jwk());
        params.kid = Some(self.kid.clone());
        params.status = Some(StatusListReference {
            idx: StatusIndex::from(idx),
            uri: format!("{}/status/1", self.iss),
        });
        vc::issue(&credential_type(kind), example(kind), &params, &self.key)
            .expect("issue")
            .to_string()
    }
}

/// A holder: a key and its two credentials.
struct Holder {
    key: SigningKey,
    registration: String,
    eligibility: String,
}

impl Holder {
    fn new(issuer: &Issuer) -> Self {
        let key = SigningKey::generate().expect("holder key");
        Self {
            registration: issuer.issue("registration-certificate", &key, 0),
            eligibility: issuer.issue("internship-eligibility", &key, 0),
            key,
        }
    }
}

fn credential_type(kind: &str) -> CredentialType {
    let read = |file: &str| std::fs::read_to_string(spec(kind, file)).expect("type documents");
    CredentialType::from_documents(&read("type-metadata.json"), &read("schema.json"))
        .expect("credential type")
}

fn example(kind: &str) -> Map<String, Value> {
    serde_json::from_str(&std::fs::read_to_string(spec(kind, "example.json")).expect("example"))
        .expect("example.json")
}

fn spec(kind: &str, file: &str) -> String {
    format!(
        "{}/../specs/credentials/{kind}/{file}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// `p50 / p99 / max` of sorted durations, in milliseconds.
fn summary(sorted: &[Duration]) -> String {
    if sorted.is_empty() {
        return "no samples".into();
    }
    let at =
        |q: f64| sorted[((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1];
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    format!(
        "p50 {:7.2} ms  p99 {:7.2} ms  max {:7.2} ms",
        ms(at(0.50)),
        ms(at(0.99)),
        ms(*sorted.last().unwrap_or(&Duration::ZERO))
    )
}

/// User + system CPU time of this process (threads that ended included),
/// from `/proc/self/stat`.
fn cpu_time() -> Duration {
    stat_cpu_time(&std::fs::read_to_string("/proc/self/stat").unwrap_or_default())
}

/// User + system CPU time of the load generator: the main thread and the
/// holders' runtime threads, from `/proc/self/task/*/stat`.
fn holder_cpu_time() -> Duration {
    let main = std::process::id().to_string();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    tasks
        .flatten()
        .filter_map(|task| {
            let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
            let comm = stat.split_once('(')?.1.rsplit_once(')')?.0;
            (task.file_name().to_str() == Some(main.as_str()) || comm.starts_with(HOLDER_THREADS))
                .then(|| stat_cpu_time(&stat))
        })
        .sum()
}

/// utime + stime of a `/proc/.../stat` line.
fn stat_cpu_time(stat: &str) -> Duration {
    // Fields after the `(comm)`: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // Linux reports in USER_HZ, which is 100 on every mainstream kernel.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// CPU time this thread has run, in nanoseconds, from
/// `/proc/thread-self/schedstat`: unlike wall time, it does not grow when
/// other processes (builds) take the cores.
fn thread_cpu_time() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

/// `VmHWM` from `/proc/self/status`.
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l["VmHWM:".len()..].trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Mean CPU time of `f` over enough runs to take ~300 ms, single-threaded.
fn mean(mut f: impl FnMut()) -> Duration {
    let started = Instant::now();
    let cpu = thread_cpu_time();
    let mut runs = 0u32;
    while started.elapsed() < Duration::from_millis(300) {
        for _ in 0..32 {
            f();
        }
        runs += 32;
    }
    (thread_cpu_time() - cpu) / runs
}

/// Single-core costs of core's verify of one presentation and of an ES256
/// signature.
struct CryptoCosts {
    verify: Duration,
    sign: Duration,
}

/// The single-core costs of the cryptographic work in one flow, beside
/// the raw ES256 verify of aws-lc-rs.
fn crypto_costs(issuer: &Issuer, holder: &Holder) -> CryptoCosts {
    let aud = "x509_hash:load";
    let nonce = "n-1";
    let presentation = present(
        &holder.registration,
        &REGISTRATION_CLAIMS,
        &holder.key,
        aud,
        nonce,
    );
    let issuer_key = VerifyingKey::from_jwk(&issuer.key.public_jwk()).expect("issuer key");
    let options = VerifyOptions::at(now()).key_binding(KeyBindingCheck::new(aud, nonce));
    let verify = mean(|| {
        vc::verify(
            SdJwt::parse(std::hint::black_box(&presentation)).expect("parse"),
            &issuer_key,
            &options,
            None,
        )
        .expect("verify");
    });

    let jws = sign_compact(&Header::new(Algorithm::ES256), b"{}", &issuer.key).expect("sign");
    let (input, signature) = jws.rsplit_once('.').expect("compact JWS");
    let signature = intyg_core::jose::b64url_decode(signature).expect("signature");
    let VerifyingKey::P256(point) = &issuer_key else {
        unreachable!("generated keys are P-256")
    };
    let raw_key = aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED,
        point.to_vec(),
    );
    let raw = mean(|| {
        raw_key
            .verify(
                std::hint::black_box(input.as_bytes()),
                std::hint::black_box(&signature),
            )
            .expect("raw verify");
    });
    let sign = mean(|| {
        sign_compact(&Header::new(Algorithm::ES256), b"{}", &issuer.key).expect("sign");
    });
    println!("  core cost, CPU time on one core, this run:");
    println!(
        "    vc::verify (issuer sig + KB-JWT + disclosures): {:7.1} µs",
        verify.as_secs_f64() * 1e6
    );
    println!(
        "    raw ES256 verify (aws-lc-rs):                   {:7.1} µs",
        raw.as_secs_f64() * 1e6
    );
    println!(
        "    ratio vc::verify / (2 x raw ES256 verify):      {:7.2}",
        verify.as_secs_f64() / (2.0 * raw.as_secs_f64())
    );
    println!(
        "    ES256 sign (core jose):                         {:7.1} µs",
        sign.as_secs_f64() * 1e6
    );
    CryptoCosts { verify, sign }
}

/// Single-core cost of each step of one flow, in isolation, on a real
/// transaction of the running verifier: where the CPU time of a flow goes.
/// Returns the rows printed.
async fn flow_costs(
    state: &AppState,
    holder: &Holder,
    http: &reqwest::Client,
    base: &str,
    anchors: &TrustAnchors,
) -> Vec<(&'static str, Duration)> {
    let created: Value = http
        .post(format!("{base}/api/presentations"))
        .bearer_auth(API_KEY)
        .json(&json!({"template": "internship-application"}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("create body");
    let id = created["id"].as_str().expect("id").to_owned();
    let uri = created["request_uri"]
        .as_str()
        .expect("request_uri")
        .to_owned();
    let Ok(Invocation::ByReference(reference)) = AuthorizationRequest::from_uri(&uri) else {
        panic!("requests go by reference: {uri}");
    };
    let RequestObjectSource::Uri { request_uri, .. } = &reference.source else {
        panic!("request_uri expected");
    };
    let jwt = http
        .get(request_uri)
        .send()
        .await
        .expect("request object")
        .text()
        .await
        .expect("body");
    let request = authenticate_request_object(&jwt, &reference.client_id, anchors, None, now())
        .expect("authenticates")
        .request;
    let client_id = request.client_id.as_ref().expect("client_id").to_string();
    let nonce = request.nonce.to_string();
    let encryption =
        ResponseEncryption::select(request.client_metadata.as_ref().expect("client_metadata"))
            .expect("encryption");
    let mut vp_token = VpToken::default();
    vp_token
        .0
        .entry("registration".into())
        .or_default()
        .push(Presentation::Compact(present(
            &holder.registration,
            &REGISTRATION_CLAIMS,
            &holder.key,
            &client_id,
            &nonce,
        )));
    let response = AuthorizationResponse::new(vp_token, request.state.clone());
    let jwe = response.encrypt(&encryption).expect("encrypt");
    let transaction = state
        .stores
        .transactions
        .get(&id)
        .await
        .expect("store")
        .expect("transaction");
    let private = intyg_core::jose::jwe::encryption_jwk(
        transaction.encryption_key.clone().expect("encryption key"),
    )
    .expect("private JWK");

    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!("  cost per step, CPU time on one core, this run (verifier side unless marked):");
    let rows: [(&str, Duration); 10] = [
        (
            "QR code SVG (create, only with ?qr=svg)",
            mean(|| {
                intyg_verifier::qr::svg(&uri).expect("qr");
            }),
        ),
        (
            "JWE key pair generation (create)",
            mean(|| {
                let key = SigningKey::generate().expect("key");
                let _jwk = key.to_private_jwk().expect("jwk");
            }),
        ),
        (
            "sign Request Object (fetch)",
            mean(|| {
                intyg_core::oid4vp::sign_request_object(
                    &request,
                    &state.identity.key,
                    state.identity.chain.to_x5c(),
                    now(),
                    now() + 300,
                )
                .expect("sign");
            }),
        ),
        (
            "authenticate Request Object (holder)",
            mean(|| {
                authenticate_request_object(&jwt, &reference.client_id, anchors, None, now())
                    .expect("authenticates");
            }),
        ),
        (
            "present one credential + KB-JWT (holder)",
            mean(|| {
                present(
                    &holder.registration,
                    &REGISTRATION_CLAIMS,
                    &holder.key,
                    &client_id,
                    &nonce,
                );
            }),
        ),
        (
            "encrypt response, ECDH-ES (holder)",
            mean(|| {
                response.encrypt(&encryption).expect("encrypt");
            }),
        ),
        (
            "decrypt response, ECDH-ES (response)",
            mean(|| {
                AuthorizationResponse::decrypt(&jwe, &private).expect("decrypt");
            }),
        ),
        ("load the transaction from sled (each request)", {
            // The sled future is ready when first polled: no await
            // yields, so the thread's CPU time is this loop's.
            let started = Instant::now();
            let cpu = thread_cpu_time();
            let mut runs = 0u32;
            while started.elapsed() < Duration::from_millis(300) {
                for _ in 0..32 {
                    state.stores.transactions.get(&id).await.expect("store");
                }
                runs += 32;
            }
            (thread_cpu_time() - cpu) / runs
        }),
        (
            "template query (create)",
            mean(|| {
                intyg_verifier::templates::template("internship-application")
                    .expect("template")
                    .expect("known");
            }),
        ),
        (
            "parse + validate the stored DCQL query",
            mean(|| {
                let query: DcqlQuery = transaction.dcql_query.query().expect("stored query");
                ValidatedQuery::try_from(query).expect("valid");
            }),
        ),
    ];
    for (what, cost) in &rows {
        println!("    {what:<47} {:7.1} µs", us(*cost));
    }
    rows.to_vec()
}
