//! `intyg wallet request` and `accept` in the authorization code flow, as
//! a process: the test reads the authorization URL from stderr, logs in
//! at the issuer's development IdP the way a browser would, follows the
//! redirect to the command's loopback listener, and checks what it stored;
//! then `refresh` and `list` after the agency revokes the credential.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};

use intyg_testkit::{
    BackgroundIssuer, KARIN, Login, REGISTRATION_CERTIFICATE as CONFIGURATION, TempDir, TestIssuer,
};
use reqwest::StatusCode;
use serde_json::Value;

use crate::{PIN, Run, wallet_command};

/// The browser: from the authorization URL through the IdP's page, where
/// it picks Karin, to the command's loopback listener; returns the page
/// that answers with.
fn log_in(issuer: &BackgroundIssuer, authorization_url: &str) -> String {
    issuer.block_on(async {
        let callback = issuer.log_in(authorization_url, Login::As(KARIN)).await;
        let response = issuer.http.get(&callback).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "GET {callback}");
        response.text().await.unwrap()
    })
}

/// The officer registers a credential for Karin; returns the record id.
fn offer(issuer: &BackgroundIssuer) -> String {
    let created = issuer.block_on(issuer.admin.offer(CONFIGURATION, KARIN));
    created.credential_ids[0].clone()
}

fn run(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let Run {
        ok, stdout, stderr, ..
    } = Run::of(wallet_command(dir, PIN, args).output().unwrap());
    (ok, stdout, stderr)
}

/// Starts a command that logs in; returns it once it printed the
/// authorization URL, with that URL.
fn start_login(dir: &Path, args: &[&str]) -> (Child, String, std::thread::JoinHandle<String>) {
    let mut child = wallet_command(dir, PIN, args)
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
    let issuer = BackgroundIssuer::start(TestIssuer::start_with_dev_idp("cli-authorize"));
    let home = TempDir::new("cli-authorize-home");
    let dir = home.path().join("wallet");
    assert!(run(&dir, &["init"]).0);

    // Without a configuration id, the issuer's are listed.
    let (ok, _, stderr) = run(&dir, &["--dev", "request", &issuer.url]);
    assert!(!ok);
    assert!(
        stderr.starts_with("configuration_required: ") && stderr.contains(CONFIGURATION),
        "{stderr}"
    );

    // Wallet-initiated.
    let record = offer(&issuer);
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
    let page = log_in(&issuer, &url);
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
    offer(&issuer);
    let link = issuer.code_offer(CONFIGURATION, "from-the-portal");
    let (child, url, rest) = start_login(&dir, &["--dev", "accept", &link, "--no-browser"]);
    log_in(&issuer, &url);
    let out = child.wait_with_output().unwrap();
    let stderr = rest.join().unwrap();
    assert!(out.status.success(), "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("stored "),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // The agency revokes the first; `refresh` and `list` say so.
    issuer.block_on(issuer.admin.change_status(&record, "revoke"));
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
