//! `intyg wallet request` and `accept` in the authorization code flow, as
//! a process: the test reads the authorization URL from stderr, logs in
//! at the issuer's development IdP the way a browser would, follows the
//! redirect to the command's loopback listener, and checks what it stored;
//! then `refresh` and `list` after the agency revokes the credential.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use serde_json::{Value, json};

const API_KEY: &str = "cli-authorize-test-api-key-0123456789";
const PIN: &str = "246810";
const KARIN: &str = "199403172381";
const CONFIGURATION: &str = "registration-certificate";

/// The issuer with the development IdP, each on a loopback port, served by
/// this test's runtime.
struct Issuer {
    url: String,
    idp: String,
    browser: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    _dir: Dir,
}

struct Dir(std::path::PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("intyg-cli-authorize-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Issuer {
    fn start() -> Self {
        let dir = Dir::new("issuer");
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let data = dir.0.clone();
        let (url, idp) = runtime.block_on(async move {
            use intyg_issuer::dev_idp::{self, DevIdp, DevIdpConfig};
            const SECRET: &str = "cli-test-idp-secret";
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let url = format!("http://{addr}");
            let idp_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let idp_url = format!("http://{}", idp_listener.local_addr().unwrap());
            let idp = DevIdp::new(
                DevIdpConfig {
                    issuer: idp_url.clone(),
                    client_id: "intyg-issuer".into(),
                    client_secret: SECRET.into(),
                    redirect_uris: vec![format!("{url}/authorize/callback")],
                    auto_login: false,
                },
                intyg_core::jose::SigningKey::generate().unwrap(),
            )
            .unwrap();
            let idp_app = dev_idp::app(Arc::new(idp));
            tokio::spawn(async move { axum::serve(idp_listener, idp_app).await.unwrap() });
            let mut config = intyg_issuer::config::Config::dev(data, addr).unwrap();
            config.api_key = Some(API_KEY.into());
            config.oidc = Some(intyg_issuer::auth_code::OidcConfig {
                issuer_url: idp_url.clone(),
                client_id: "intyg-issuer".into(),
                client_secret: SECRET.into(),
                identity_claim: "personal_identity_number".into(),
                scopes: vec!["openid".into()],
            });
            let router = intyg_issuer::app(intyg_issuer::AppState::open(config).unwrap());
            tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
            (url, idp_url)
        });
        Self {
            url,
            idp,
            browser: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            runtime,
            _dir: dir,
        }
    }

    /// The officer registers a credential for Karin; returns the record id.
    fn offer(&self) -> String {
        let example: Value = serde_json::from_str(
            &std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../specs/credentials/registration-certificate/example.json"),
            )
            .unwrap(),
        )
        .unwrap();
        let request = self
            .browser
            .post(format!("{}/api/offers", self.url))
            .bearer_auth(API_KEY)
            .json(&json!({"credential_configuration_id": CONFIGURATION, "claims": example, "subject": KARIN}));
        let created: Value = self
            .runtime
            .block_on(async move { request.send().await.unwrap().json().await.unwrap() });
        created["credential_ids"][0].as_str().unwrap().to_owned()
    }

    fn revoke(&self, record: &str) {
        let request = self
            .browser
            .post(format!("{}/api/credentials/{record}/revoke", self.url))
            .bearer_auth(API_KEY);
        let status = self
            .runtime
            .block_on(async move { request.send().await.unwrap().status() });
        assert!(status.is_success(), "{status}");
    }

    /// The browser: from the authorization URL to the IdP's page, picks
    /// Karin, follows the redirects to the command's loopback listener and
    /// returns the page it answers with.
    fn log_in(&self, authorization_url: &str) -> String {
        let browser = self.browser.clone();
        let idp = self.idp.clone();
        let mut url = authorization_url.to_owned();
        self.runtime.block_on(async move {
            for _ in 0..8 {
                let response = browser.get(&url).send().await.unwrap();
                let status = response.status();
                if status.is_redirection() {
                    url = response.headers()["location"].to_str().unwrap().to_owned();
                    continue;
                }
                assert_eq!(status, reqwest::StatusCode::OK, "GET {url}");
                let html = response.text().await.unwrap();
                if !url.starts_with(&idp) {
                    // The command's loopback listener.
                    return html;
                }
                let marker = "name=\"request\" value=\"";
                let start = html.find(marker).expect("the IdP's login form") + marker.len();
                let request = &html[start..start + html[start..].find('"').unwrap()];
                let chosen = browser
                    .post(format!("{idp}/authorize/login"))
                    .form(&[("request", request), ("person", KARIN)])
                    .send()
                    .await
                    .unwrap();
                url = chosen.headers()["location"].to_str().unwrap().to_owned();
            }
            panic!("too many redirects; last {url}")
        })
    }
}

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_intyg"));
    command
        .arg("wallet")
        .args(args)
        .env("INTYG_WALLET_DIR", dir)
        .env("INTYG_WALLET_PIN", PIN)
        .stdin(Stdio::null());
    command
}

fn run(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = command(dir, args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Starts a command that logs in; returns it once it printed the
/// authorization URL, with that URL.
fn start_login(dir: &Path, args: &[&str]) -> (Child, String, std::thread::JoinHandle<String>) {
    let mut child = command(dir, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = String::new();
    let url = loop {
        let Some(line) = lines.next() else {
            let _ = child.kill();
            panic!("the command ended before printing a URL: {seen}");
        };
        let line = line.unwrap();
        if line.starts_with("http://") {
            break line;
        }
        seen.push_str(&line);
        seen.push('\n');
    };
    let rest =
        std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>().join("\n"));
    (child, url, rest)
}

#[test]
fn request_and_accept_log_in_through_the_loopback_redirect() {
    let issuer = Issuer::start();
    let home = Dir::new("home");
    let dir = home.0.join("wallet");
    assert!(run(&dir, &["init"]).0);

    // Without a configuration id, the issuer's are listed.
    let (ok, _, stderr) = run(&dir, &["--dev", "request", &issuer.url]);
    assert!(!ok);
    assert!(
        stderr.starts_with("configuration_required: ") && stderr.contains(CONFIGURATION),
        "{stderr}"
    );

    // Wallet-initiated.
    let record = issuer.offer();
    let (child, url, rest) = start_login(
        &dir,
        &[
            "--dev",
            "--json",
            "request",
            &issuer.url,
            CONFIGURATION,
            "--no-browser",
            "--timeout",
            "60",
        ],
    );
    assert!(
        url.starts_with(&format!(
            "{}/authorize?client_id=intyg-wallet&request_uri=",
            issuer.url
        )),
        "{url}"
    );
    let page = issuer.log_in(&url);
    assert!(page.contains("You can close this window"), "{page}");
    let out = child.wait_with_output().unwrap();
    let stderr = rest.join().unwrap();
    assert!(out.status.success(), "{stderr}");
    let stored: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = stored[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(stored[0]["copies"], 3);
    assert_eq!(stored[0]["claims"]["personal_identity_number"], KARIN);

    let (ok, list, _) = run(&dir, &["--json", "list"]);
    assert!(ok);
    let list: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["status"]["status"], "valid");

    // An offer with only an authorization code grant, through `accept`.
    issuer.offer();
    let offer = json!({
        "credential_issuer": issuer.url,
        "credential_configuration_ids": [CONFIGURATION],
        "grants": {"authorization_code": {"issuer_state": "from-the-portal"}},
    });
    let link = format!(
        "openid-credential-offer://?credential_offer={}",
        url::form_urlencoded::byte_serialize(offer.to_string().as_bytes()).collect::<String>()
    );
    let (child, url, rest) = start_login(&dir, &["--dev", "accept", &link, "--no-browser"]);
    issuer.log_in(&url);
    let out = child.wait_with_output().unwrap();
    let stderr = rest.join().unwrap();
    assert!(out.status.success(), "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("stored "),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // The agency revokes the first; `refresh` and `list` say so.
    issuer.revoke(&record);
    let (ok, refreshed, stderr) = run(&dir, &["--dev", "--json", "refresh"]);
    assert!(ok, "{stderr}");
    let refreshed: Value = serde_json::from_str(&refreshed).unwrap();
    let first = refreshed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["credential_id"] == id.as_str())
        .unwrap();
    assert_eq!(first["status"], "invalid");
    let (_, human, _) = run(&dir, &["list"]);
    assert!(
        human.contains("[invalid]") && human.contains("[valid]"),
        "{human}"
    );
    let (_, shown, _) = run(&dir, &["show", &id]);
    assert!(shown.contains("status: invalid"), "{shown}");

    // Nobody logs in: the command gives up after --timeout.
    let (child, _, rest) = start_login(
        &dir,
        &[
            "--dev",
            "request",
            &issuer.url,
            CONFIGURATION,
            "--no-browser",
            "--timeout",
            "1",
        ],
    );
    let out = child.wait_with_output().unwrap();
    let stderr = rest.join().unwrap();
    assert!(!out.status.success());
    assert!(stderr.contains("authorization_timeout: "), "{stderr}");
}
