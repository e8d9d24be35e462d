//! The person's rights after a share, with `intyg wallet` against the
//! real issuer and verifier over loopback: the verifier's signed receipt
//! in `history --json`, `erase` (a second one reports the existing state,
//! exit 0; the HR API then shows `erased_at` and no claim values), a
//! legal-basis refusal, and `report` writing the complaint package and its
//! summary, all without prompts.

use std::net::SocketAddr;

use intyg_testkit::{BackgroundIssuer, KARIN, REGISTRATION_CERTIFICATE, TempDir, TestIssuer};
use intyg_verifier::config::Config;
use intyg_verifier::{AppState, app};
use serde_json::{Value, json};

use crate::{PIN, Run, wallet_command};

const API_KEY: &str = "cli-rights-verifier-key";

fn wallet(dir: &std::path::Path, args: &[&str]) -> Run {
    Run::of(wallet_command(dir, PIN, args).output().unwrap())
}

fn start_verifier(dir: &std::path::Path, issuer: &str) -> (String, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let mut config = Config::dev(dir.to_owned(), addr).unwrap();
        config.api_key = Some(API_KEY.into());
        config.trust_issuers = vec![issuer.to_owned()];
        let state = AppState::open(config).await.unwrap();
        tokio::spawn(async move { axum::serve(listener, app(state)).await.unwrap() });
        format!("http://{addr}")
    });
    (url, runtime)
}

#[test]
fn receipt_erasure_refusal_and_report_from_the_command_line() {
    let issuer = BackgroundIssuer::start(TestIssuer::start("cli-rights"));
    let home = TempDir::new("cli-rights-home");
    let dir = home.path().join("wallet");
    assert!(wallet(&dir, &["init"]).ok);
    for kind in [REGISTRATION_CERTIFICATE, "internship-eligibility"] {
        let created = issuer.block_on(issuer.admin.offer(kind, KARIN));
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
    }
    let verifier_dir = home.path().join("verifier");
    let (url, runtime) = start_verifier(&verifier_dir, &issuer.url);
    let http = reqwest::Client::new();
    let api = |method: reqwest::Method, path: &str, body: Option<Value>| {
        runtime.block_on(async {
            let mut request = http
                .request(method, format!("{url}{path}"))
                .bearer_auth(API_KEY);
            if let Some(body) = body {
                request = request.json(&body);
            }
            request.send().await.unwrap().json::<Value>().await.unwrap()
        })
    };
    let ca = verifier_dir.join("ca.pem");
    assert!(wallet(&dir, &["trust", "add-verifier-root", ca.to_str().unwrap()]).ok);
    let wrprc = verifier_dir.join("wrprc-ca.pem");
    let trusted = wallet(&dir, &["trust", "add-wrprc-root", wrprc.to_str().unwrap()]);
    assert!(trusted.ok, "{}", trusted.stderr);

    // A share: the receipt is verified and kept.
    let created = api(
        reqwest::Method::POST,
        "/api/presentations",
        Some(json!({"template": "internship-application"})),
    );
    let id = created["id"].as_str().unwrap();
    let present = wallet(
        &dir,
        &[
            "--dev",
            "present",
            created["request_uri"].as_str().unwrap(),
            "--approve",
            "--include",
            "given_name",
        ],
    );
    assert!(present.ok, "{}", present.stderr);
    let history = wallet(&dir, &["--json", "history"]);
    let history: Value = serde_json::from_str(&history.stdout).unwrap();
    let share = history
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "presentation")
        .unwrap()
        .clone();
    let share_id = share["id"].as_str().unwrap().to_owned();
    assert_eq!(share["receipt"]["verified"], true, "{share}");
    assert_eq!(share["receipt"]["transaction"], id);
    assert!(share["receipt"]["retention_until"].is_i64(), "{share}");
    let text = wallet(&dir, &["history"]);
    assert!(text.stdout.contains("kept until"), "{}", text.stdout);
    assert!(
        api(
            reqwest::Method::GET,
            &format!("/api/presentations/{id}"),
            None
        )
        .to_string()
        .contains("Karin")
    );

    // Erasure, then the same again: exit 0, the existing state.
    let erase = wallet(&dir, &["--dev", "--json", "erase", &share_id]);
    assert!(erase.ok, "{}", erase.stderr);
    let erased: Value = serde_json::from_str(&erase.stdout).unwrap();
    assert_eq!(erased["status"], "erased", "{erased}");
    assert_eq!(erased["already"], false);
    let again = wallet(&dir, &["--dev", "erase", &share_id]);
    assert!(again.ok, "{}", again.stderr);
    assert!(
        again.stdout.contains("already answered: erased"),
        "{}",
        again.stdout
    );
    let history = wallet(&dir, &["--json", "history"]);
    let history: Value = serde_json::from_str(&history.stdout).unwrap();
    let share = history
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == share_id.as_str())
        .unwrap();
    assert_eq!(share["erasure"]["status"], "erased", "{share}");
    assert_eq!(share["erasure"]["verified"], true);
    let shown = api(
        reqwest::Method::GET,
        &format!("/api/presentations/{id}"),
        None,
    );
    assert!(shown["erased_at"].is_i64(), "{shown}");
    assert_eq!(shown["credentials"], json!([]));
    assert!(!shown.to_string().contains("Karin"), "{shown}");

    // A posting with a legal basis: a signed refusal naming it.
    let posting = api(
        reqwest::Method::POST,
        "/api/postings",
        Some(
            json!({"title": "Lager", "description": "d", "purpose": "Praktik",
                    "legal_basis": "Anställningsavtal ingått"}),
        ),
    );
    let opened = api(
        reqwest::Method::POST,
        &format!(
            "/api/postings/{}/applications",
            posting["id"].as_str().unwrap()
        ),
        Some(json!({})),
    );
    let present = wallet(
        &dir,
        &[
            "--dev",
            "present",
            opened["request_uri"].as_str().unwrap(),
            "--approve",
        ],
    );
    assert!(present.ok, "{}", present.stderr);
    let history = wallet(&dir, &["--json", "history"]);
    let history: Value = serde_json::from_str(&history.stdout).unwrap();
    let kept_id = history.as_array().unwrap().last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = wallet(&dir, &["--dev", "erase", &kept_id]);
    assert!(refused.ok, "{}", refused.stderr);
    assert!(
        refused
            .stdout
            .contains("refused: the verifier keeps the data (Anställningsavtal ingått)"),
        "{}",
        refused.stdout
    );

    // The complaint package and its summary.
    let out = home.path().join("complaint.json");
    let report = wallet(
        &dir,
        &[
            "report",
            &kept_id,
            "--out",
            out.to_str().unwrap(),
            "--text",
            "They keep my data <b>",
        ],
    );
    assert!(report.ok, "{}", report.stderr);
    assert!(report.stdout.contains("imy.se"), "{}", report.stdout);
    let package: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(package["format"], "intyg-dpa-complaint/1");
    assert_eq!(package["statement"], "They keep my data <b>");
    assert_eq!(package["erasure"]["status"], "refused");
    assert!(
        package["request_object"]
            .as_str()
            .unwrap()
            .split('.')
            .count()
            == 3
    );
    assert!(package["receipt"]["verified"] == true);
    assert!(!package["requested"].as_array().unwrap().is_empty());
    // The registration certificate and what it registered.
    assert_eq!(
        package["registration"]["valid"], true,
        "{}",
        package["registration"]
    );
    let certificates = package["registration"]["certificates"].as_array().unwrap();
    assert!(
        certificates[0]["certificate"]
            .as_str()
            .unwrap()
            .split('.')
            .count()
            == 3
    );
    assert!(certificates[0]["registered"].is_object());
    assert_eq!(package["overasked"], json!([]));
    let summary = std::fs::read_to_string(home.path().join("complaint.html")).unwrap();
    assert!(summary.contains("Integritetsskyddsmyndigheten"));
    assert!(summary.contains("They keep my data &lt;b&gt;"));
    let unknown = wallet(&dir, &["report", "nope", "--out", out.to_str().unwrap()]);
    assert!(
        unknown.stderr.starts_with("not_found: "),
        "{}",
        unknown.stderr
    );
}
