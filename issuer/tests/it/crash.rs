//! SIGKILL during a burst of issuance loses no issued-credential record and
//! reuses no status index: the issuer runs as a real process on a real sled
//! directory, is killed mid-burst, and is started again on the same data.
//! On PostgreSQL, one of two instances is killed mid-burst: the other keeps
//! serving, and nothing either answered is lost.

use intyg_testkit::free_port;
use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use intyg_core::jose::SigningKey;
use intyg_core::oid4vci::UrlRules;
use intyg_core::oid4vci::credential::{CredentialRequest, CredentialResponse};
use intyg_core::oid4vci::id::CredentialConfigurationId;
use intyg_core::oid4vci::nonce::NonceResponse;
use intyg_core::oid4vci::offer::{CredentialOffer, CredentialOfferRequest};
use intyg_core::oid4vci::proof::build_jwt_proof;
use intyg_core::oid4vci::token::TokenResponse;
use intyg_core::sd_jwt::SdJwt;
use intyg_testkit::{
    API_KEY, Admin, KARIN as SUBJECT, OfferCreated, REGISTRATION_CERTIFICATE, TempDir, TestPg,
    offer_body,
};
use reqwest::{Method, RequestBuilder};
use serde::de::DeserializeOwned;

pub(crate) struct Process {
    pub(crate) child: Child,
    pub(crate) url: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) async fn start(dir: &std::path::Path, port: u16) -> Process {
    start_on(dir, port, None).await
}

/// The issuer binary on `dir`, with `--database-url` when given.
async fn start_on(dir: &std::path::Path, port: u16, database_url: Option<&str>) -> Process {
    spawn(dir, port, database_url, None).await
}

/// The issuer binary on `dir`; with `log`, at every log level, its
/// output written to that file (without colours).
pub(crate) async fn spawn(
    dir: &std::path::Path,
    port: u16,
    database_url: Option<&str>,
    log: Option<&std::path::Path>,
) -> Process {
    let mut args = vec![
        "--dev".to_owned(),
        "--data-dir".to_owned(),
        dir.to_str().unwrap().to_owned(),
        "--listen".to_owned(),
        format!("127.0.0.1:{port}"),
    ];
    if let Some(url) = database_url {
        args.extend(["--database-url".to_owned(), url.to_owned()]);
    }
    let mut command = Command::new(env!("CARGO_BIN_EXE_intyg-issuer"));
    command.args(&args).env("INTYG_API_KEY", API_KEY);
    match log {
        Some(path) => {
            let file = std::fs::File::create(path).unwrap();
            command
                .env(
                    "RUST_LOG",
                    "trace,h2=debug,hyper=debug,tokio_postgres=debug",
                )
                .env("NO_COLOR", "1")
                .stdout(file.try_clone().unwrap())
                .stderr(file);
        }
        None => {
            command
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::null());
        }
    }
    let process = Process {
        url: format!("http://127.0.0.1:{port}"),
        child: command.spawn().unwrap(),
    };
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if http
            .get(format!("{}/healthz", process.url))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return process;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("intyg-issuer did not come up");
}

/// Sends `request` and reads its JSON body; errors as text, since the
/// issuer may be killed at any moment.
async fn json<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, String> {
    let err = |e: reqwest::Error| e.to_string();
    request.send().await.map_err(err)?.json().await.map_err(err)
}

/// Makes an offer and runs the wallet side to the end; returns the record
/// id and the status indices of the credentials received.
pub(crate) async fn issue_one(
    http: &reqwest::Client,
    url: &str,
) -> Result<(String, Vec<u64>), String> {
    issue(http, url).await.map(|i| (i.record, i.indices))
}

/// What one issuance handed over, secrets included.
pub(crate) struct Issued {
    pub(crate) record: String,
    pub(crate) indices: Vec<u64>,
    pub(crate) tx_code: String,
    pub(crate) pre_authorized_code: String,
    pub(crate) access_token: String,
    pub(crate) c_nonce: String,
    pub(crate) credentials: Vec<String>,
}

/// [`issue_one`], keeping every secret that went over the wire.
pub(crate) async fn issue(http: &reqwest::Client, url: &str) -> Result<Issued, String> {
    let err = |e: reqwest::Error| e.to_string();
    let admin = Admin::new(http.clone(), url, API_KEY);
    let created: OfferCreated = json(
        admin
            .request(Method::POST, "/api/offers")
            .json(&offer_body(REGISTRATION_CERTIFICATE, SUBJECT)),
    )
    .await?;
    let record = created
        .credential_ids
        .first()
        .ok_or("no record id")?
        .to_owned();
    let CredentialOfferRequest::ByReference(offer_url) =
        CredentialOffer::from_uri_with(&created.offer_uri, UrlRules::DangerousAllowHttpLoopback)
            .map_err(|e| e.to_string())?
    else {
        return Err("offer by value".into());
    };
    let offer = CredentialOffer::from_json_with(
        &http
            .get(offer_url)
            .send()
            .await
            .map_err(err)?
            .text()
            .await
            .map_err(err)?,
        UrlRules::DangerousAllowHttpLoopback,
    )
    .map_err(|e| e.to_string())?;
    let code = offer
        .pre_authorized_grant()
        .ok_or("no grant")?
        .pre_authorized_code
        .as_str()
        .to_owned();
    let form = format!(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code={code}&tx_code={}",
        created.tx_code
    );
    let token: TokenResponse = json(
        http.post(format!("{url}/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form),
    )
    .await?;
    let nonce: NonceResponse = json(http.post(format!("{url}/nonce"))).await?;
    let keys = [
        SigningKey::generate().map_err(|e| e.to_string())?,
        SigningKey::generate().map_err(|e| e.to_string())?,
    ];
    let proofs = keys
        .iter()
        .map(|k| {
            build_jwt_proof(k, url, Some(&nonce.c_nonce), intyg_issuer::now(), None)
                .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let request = CredentialRequest::for_configuration(
        CredentialConfigurationId::try_from("registration-certificate")
            .map_err(|e| e.to_string())?,
        proofs,
    );
    let body = http
        .post(format!("{url}/credential"))
        .bearer_auth(token.access_token.as_str())
        .json(&request)
        .send()
        .await
        .map_err(err)?
        .bytes()
        .await
        .map_err(err)?;
    let response = CredentialResponse::from_json(&body).map_err(|e| e.to_string())?;
    let mut indices = Vec::new();
    let mut credentials = Vec::new();
    for credential in response.credentials.unwrap_or_default() {
        let compact = credential.as_compact().ok_or("not compact")?;
        credentials.push(compact.to_owned());
        let held = SdJwt::parse(compact)
            .map_err(|e| e.to_string())?
            .disclose()
            .map_err(|e| e.to_string())?;
        let reference = &held.claims["status"]["status_list"];
        let list: u64 = reference["uri"]
            .as_str()
            .and_then(|u| u.rsplit('/').next())
            .and_then(|n| n.parse().ok())
            .ok_or("no list")?;
        indices.push(list * 131_072 + reference["idx"].as_u64().ok_or("no idx")?);
    }
    Ok(Issued {
        record,
        indices,
        tx_code: created.tx_code,
        pre_authorized_code: code,
        access_token: token.access_token.as_str().to_owned(),
        c_nonce: nonce.c_nonce.as_str().to_owned(),
        credentials,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_burst_loses_no_record_and_reuses_no_index() {
    let dir = TempDir::new("crash");
    let port = free_port();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut issuer = start(dir.path(), port).await;

    // A burst of 16 parallel wallets, each issuing repeatedly; SIGKILL lands while they run.
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut wallets = Vec::new();
    for _ in 0..16 {
        let http = http.clone();
        let url = issuer.url.clone();
        let done_tx = done_tx.clone();
        wallets.push(tokio::spawn(async move {
            while let Ok(issued) = issue_one(&http, &url).await {
                if done_tx.send(issued).is_err() {
                    break;
                }
            }
        }));
    }
    drop(done_tx);
    let mut received = Vec::new();
    while received.len() < 40 {
        received.push(
            done_rx
                .recv()
                .await
                .expect("wallets stopped before the kill"),
        );
    }
    issuer.child.kill().unwrap(); // SIGKILL
    issuer.child.wait().unwrap();
    for wallet in wallets {
        wallet.await.unwrap();
    }
    while let Ok(late) = done_rx.try_recv() {
        received.push(late);
    }

    // Same data directory, new process.
    let issuer = start(dir.path(), port).await;
    let admin = Admin::new(http.clone(), &issuer.url, API_KEY);
    let mut seen = BTreeSet::new();
    for (record, indices) in &received {
        let listed = admin.credentials(SUBJECT).await;
        let found = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == record.as_str())
            .unwrap_or_else(|| panic!("record {record} lost"));
        assert_eq!(found["state"], "issued", "record {record}");
        assert_eq!(found["status"].as_array().unwrap().len(), indices.len());
        for index in indices {
            assert!(
                seen.insert(*index),
                "index {index} handed out twice before the crash"
            );
        }
    }
    // After the restart, new credentials get indices never seen before.
    for _ in 0..3 {
        let (_, indices) = issue_one(&http, &issuer.url).await.unwrap();
        for index in indices {
            assert!(seen.insert(index), "index {index} reused after the crash");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_one_postgres_instance_mid_burst_loses_nothing_and_the_other_serves_on() {
    let database = TestPg::cluster().database("crash").await;
    let dir = TempDir::new("crash-pg");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut a = start_on(dir.path(), free_port(), Some(&database)).await;
    let b = start_on(dir.path(), free_port(), Some(&database)).await;

    // 8 wallets at each instance; each says where it issued.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut wallets = Vec::new();
    for i in 0..16 {
        let (http, done_tx, stop) = (http.clone(), done_tx.clone(), stop.clone());
        let (at_b, url) = if i % 2 == 0 {
            (false, a.url.clone())
        } else {
            (true, b.url.clone())
        };
        wallets.push(tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let Ok(issued) = issue_one(&http, &url).await else {
                    break;
                };
                if done_tx.send((at_b, issued)).is_err() {
                    break;
                }
            }
        }));
    }
    drop(done_tx);
    let mut received = Vec::new();
    while received.len() < 40 {
        received.push(
            done_rx
                .recv()
                .await
                .expect("wallets stopped before the kill"),
        );
    }
    a.child.kill().unwrap(); // SIGKILL
    a.child.wait().unwrap();
    // B serves on: 20 more credentials issued there after the kill.
    let mut after_kill = 0;
    while after_kill < 20 {
        let (at_b, issued) = done_rx.recv().await.expect("B stopped serving");
        after_kill += usize::from(at_b);
        received.push((at_b, issued));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for wallet in wallets {
        wallet.await.unwrap();
    }
    while let Ok(late) = done_rx.try_recv() {
        received.push(late);
    }

    // Everything either instance answered is there, seen through B.
    let admin = Admin::new(http.clone(), &b.url, API_KEY);
    let listed = admin.credentials(SUBJECT).await;
    let listed = listed.as_array().unwrap();
    let mut seen = BTreeSet::new();
    for (_, (record, indices)) in &received {
        let found = listed
            .iter()
            .find(|r| r["id"] == record.as_str())
            .unwrap_or_else(|| panic!("record {record} lost"));
        assert_eq!(found["state"], "issued", "record {record}");
        assert_eq!(found["status"].as_array().unwrap().len(), indices.len());
        for index in indices {
            assert!(seen.insert(*index), "index {index} handed out twice");
        }
    }
    let (_, indices) = issue_one(&http, &b.url).await.unwrap();
    for index in indices {
        assert!(seen.insert(index), "index {index} reused after the crash");
    }
}
