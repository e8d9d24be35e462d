//! `intyg wallet trust-list add|list|refresh|remove` over real HTTP: lists
//! made with `intyg trust-list make`, served on loopback; the issuer shown
//! as listed, a forged and a rolled-back list refused with the last good
//! one kept; a verifier trusted through its access CA and its WRPRC
//! provider from lists, with nothing else configured.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use intyg_testkit::{BackgroundIssuer, KARIN, REGISTRATION_CERTIFICATE, TempDir, TestIssuer};
use intyg_verifier::config::Config;
use intyg_verifier::{AppState, app};
use serde_json::{Value, json};

use crate::{PIN, Run, intyg, wallet_command};

const API_KEY: &str = "cli-trust-list-verifier-key";

type Published = Arc<Mutex<BTreeMap<String, String>>>;

/// Lists served at `/lists/{name}`, changed by the test.
struct ListServer {
    url: String,
    published: Published,
    runtime: tokio::runtime::Runtime,
}

impl ListServer {
    fn start() -> Self {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let published = Published::default();
        let state = published.clone();
        let url = runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr: SocketAddr = listener.local_addr().unwrap();
            let router =
                    axum::Router::new()
                        .route(
                            "/lists/{name}",
                            axum::routing::get(
                                |State(published): State<Published>,
                                 UrlPath(name): UrlPath<String>| async move {
                                    match published.lock().unwrap().get(&name) {
                                        Some(list) => (StatusCode::OK, list.clone()),
                                        None => (StatusCode::NOT_FOUND, String::new()),
                                    }
                                },
                            ),
                        )
                        .with_state(state);
            tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
            format!("http://{addr}/lists")
        });
        Self {
            url,
            published,
            runtime,
        }
    }

    fn publish(&self, name: &str, list: &str) -> String {
        self.published
            .lock()
            .unwrap()
            .insert(name.to_owned(), list.to_owned());
        format!("{}/{name}", self.url)
    }
}

/// A list of `profile` naming one entity with one service whose
/// certificate is `pem`, signed by the development operator in `dir/op`.
fn make(
    dir: &Path,
    profile: &str,
    service: &str,
    entity: &str,
    pem: &str,
    sequence: u64,
) -> String {
    let description = json!({
        "type": profile, "territory": "SE", "operator": "Testverket",
        "scheme_name": format!("Test {profile}"), "sequence_number": sequence,
        "entities": [{"name": entity, "services": [{"type": service, "certificates": [pem]}]}]
    });
    let run = intyg(
        &["trust-list", "make", "--dev-operator", "op"],
        &description.to_string(),
        dir,
    );
    assert!(run.ok, "{}", run.stderr);
    run.stdout
}

fn wallet(dir: &Path, args: &[&str]) -> Run {
    Run::of(wallet_command(dir, PIN, args).output().unwrap())
}

fn json_of(run: &Run) -> Value {
    assert!(run.ok, "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

fn code(run: &Run) -> &str {
    assert!(!run.ok, "expected a refusal, got {}", run.stdout);
    run.stderr.split(':').next().unwrap_or_default()
}

fn start_verifier(dir: &Path, issuer: &str, runtime: &tokio::runtime::Runtime) -> String {
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let mut config = Config::dev(dir.to_owned(), addr).unwrap();
        config.api_key = Some(API_KEY.into());
        config.trust_issuers = vec![issuer.to_owned()];
        let state = AppState::open(config).await.unwrap();
        tokio::spawn(async move { axum::serve(listener, app(state)).await.unwrap() });
        format!("http://{addr}")
    })
}

#[test]
fn wallet_trust_lists_subscribe_refresh_refuse_and_trust() {
    let home = TempDir::new("cli-wallet-trust-list");
    let work = home.path();
    let mut issuer_dir = PathBuf::new();
    let issuer = BackgroundIssuer::start(TestIssuer::start_with("cli-trust-list", |config| {
        issuer_dir = config.data_dir.clone();
    }));
    let issuer_ca = std::fs::read_to_string(issuer_dir.join("issuer-ca.pem")).unwrap();
    let lists = ListServer::start();
    let dir = work.join("wallet");
    assert!(wallet(&dir, &["init"]).ok);

    // Subscribe: the list is fetched and verified.
    let pubeaa = make(
        work,
        "PubEAAProvidersList",
        "PubEAA/Issuance",
        "Arbetsförmedlingen",
        &issuer_ca,
        2,
    );
    let url = lists.publish("pubeaa", &pubeaa);
    let signer = work.join("op/operator-ca.pem");
    let signer = signer.to_str().unwrap();
    let added = json_of(&wallet(
        &dir,
        &[
            "--dev",
            "--json",
            "trust-list",
            "add",
            &url,
            "--signer",
            signer,
        ],
    ));
    assert_eq!(added[0]["name"], "Test PubEAAProvidersList");
    assert_eq!(added[0]["sequence_number"], 2);
    assert_eq!(added[0]["usable"], true);
    assert_eq!(added[0]["services"][0]["entity"], "Arbetsförmedlingen");

    // A credential from the listed issuer is shown as issued by a
    // provider on the list.
    let created = issuer.block_on(issuer.admin.offer(REGISTRATION_CERTIFICATE, KARIN));
    let accept = wallet(
        &dir,
        &[
            "--dev",
            "accept",
            &created.offer_uri,
            "--tx-code",
            &created.tx_code,
        ],
    );
    assert!(accept.ok, "{}", accept.stderr);
    let held = json_of(&wallet(&dir, &["--json", "list"]));
    assert_eq!(held[0]["listed_on"], "Test PubEAAProvidersList", "{held}");

    // A forged list (payload changed under the signature) is refused at
    // refresh; the last good one is kept.
    let mut parts: Vec<String> = pubeaa.trim().split('.').map(str::to_owned).collect();
    let forged_payload = make(
        work,
        "PubEAAProvidersList",
        "PubEAA/Issuance",
        "Someone else",
        &issuer_ca,
        3,
    );
    parts[1] = forged_payload.trim().split('.').nth(1).unwrap().to_owned();
    lists.publish("pubeaa", &parts.join("."));
    let refreshed = json_of(&wallet(&dir, &["--dev", "--json", "trust-list", "refresh"]));
    assert_eq!(refreshed[0]["sequence_number"], 2);
    assert_eq!(refreshed[0]["last_error"]["code"], "lote_signature_invalid");
    assert_eq!(refreshed[0]["services"][0]["entity"], "Arbetsförmedlingen");

    // A newer list replaces it; an older one afterwards is a rollback.
    lists.publish("pubeaa", &forged_payload);
    let refreshed = json_of(&wallet(&dir, &["--dev", "--json", "trust-list", "refresh"]));
    assert_eq!(refreshed[0]["sequence_number"], 3);
    assert!(refreshed[0]["last_error"].is_null());
    lists.publish("pubeaa", &pubeaa);
    let refreshed = json_of(&wallet(&dir, &["--dev", "--json", "trust-list", "refresh"]));
    assert_eq!(refreshed[0]["sequence_number"], 3);
    assert_eq!(refreshed[0]["last_error"]["code"], "lote_rollback");
    let listed = json_of(&wallet(&dir, &["--json", "trust-list", "list"]));
    assert_eq!(listed[0]["last_error"]["code"], "lote_rollback");

    // A list under another operator is refused on add, and not kept.
    let stranger = work.join("stranger");
    std::fs::create_dir_all(&stranger).unwrap();
    let other = make(
        &stranger,
        "PubEAAProvidersList",
        "PubEAA/Issuance",
        "X",
        &issuer_ca,
        1,
    );
    let other_url = lists.publish("other", &other);
    let refused = wallet(
        &dir,
        &["--dev", "trust-list", "add", &other_url, "--signer", signer],
    );
    assert_eq!(code(&refused), "lote_untrusted_signer");
    let missing = wallet(
        &dir,
        &[
            "--dev",
            "trust-list",
            "add",
            &format!("{}/nowhere", lists.url),
            "--signer",
            signer,
        ],
    );
    assert_eq!(code(&missing), "trust_list_unreachable");
    assert_eq!(
        json_of(&wallet(&dir, &["--json", "trust-list", "list"]))
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // A verifier trusted only through lists: its access CA (WRPAC list)
    // authenticates the request, its WRPRC provider (WRPRC list) the
    // registration certificate.
    let verifier_dir = work.join("verifier");
    let verifier = start_verifier(&verifier_dir, &issuer.url, &lists.runtime);
    let read = |name: &str| std::fs::read_to_string(verifier_dir.join(name)).unwrap();
    let wrpac = make(
        work,
        "WRPACProvidersList",
        "WRPAC/Issuance",
        "Test access CA",
        &read("ca.pem"),
        1,
    );
    let wrprc = make(
        work,
        "WRPRCProvidersList",
        "WRPRC/Issuance",
        "Test WRPRC provider",
        &read("wrprc-ca.pem"),
        1,
    );
    for (name, list) in [("wrpac", &wrpac), ("wrprc", &wrprc)] {
        let url = lists.publish(name, list);
        let added = wallet(
            &dir,
            &["--dev", "trust-list", "add", &url, "--signer", signer],
        );
        assert!(added.ok, "{}", added.stderr);
    }
    let created: Value = lists.runtime.block_on(async {
        reqwest::Client::new()
            .post(format!("{verifier}/api/presentations"))
            .bearer_auth(API_KEY)
            .json(&json!({"template": "internship-application"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    let link = created["request_uri"].as_str().unwrap();
    let seen = json_of(&wallet(&dir, &["--dev", "--json", "inspect", link]));
    assert_eq!(seen["verifier"]["authenticated"], true, "{seen}");
    assert_eq!(seen["registration"]["valid"], true, "{seen}");

    // Removed: the list no longer counts.
    let removed = wallet(&dir, &["--json", "trust-list", "remove", &url]);
    assert!(removed.ok, "{}", removed.stderr);
    let held = json_of(&wallet(&dir, &["--json", "list"]));
    assert!(held[0]["listed_on"].is_null(), "{held}");
    assert_eq!(
        code(&wallet(&dir, &["trust-list", "remove", &url])),
        "trust_list_unknown"
    );
    assert_eq!(
        json_of(&wallet(&dir, &["--json", "trust-list", "list"]))
            .as_array()
            .unwrap()
            .len(),
        2
    );
}
