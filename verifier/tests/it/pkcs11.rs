//! The verifier's request-signing key in a PKCS#11 token (SoftHSM2, a
//! throwaway token per test, each test run in a child process that names
//! it: `intyg_testkit::SoftHsm`): request objects signed in the token,
//! authenticated by the wallet against the development CA whose leaf holds
//! the token key; audit checkpoints signed there too; the real binary with
//! `--pkcs11-*` and `INTYG_PKCS11_PIN`, and its start failures named.

use intyg_testkit::assert_token_start_refusals;
use intyg_testkit::{Killed, free_port};
use std::process::{Command, Stdio};

use intyg_core::jose::CompactJws;
use intyg_core::oid4vp::{AuthorizationRequest, Invocation, RequestObjectSource};
use intyg_core::trust::{CertificateChain, TrustAnchors, authenticate_request_object};
use intyg_testkit::{SOFTHSM_MODULE, SOFTHSM_PIN, SOFTHSM_TOKEN, SoftHsm};
use intyg_verifier::now;
use serde_json::{Value, json};

use crate::flow::holder_of;
use crate::{TempDir, TestIssuer, Verifier};

#[tokio::test]
async fn verifier_signs_request_objects_with_the_token_key() {
    let Some(hsm) = SoftHsm::for_test("pkcs11::verifier_signs_request_objects_with_the_token_key")
    else {
        return;
    };
    let token_key = hsm.generate_key("verifier");
    let verifier = Verifier::start("pkcs11", |config| {
        config.pkcs11 = Some(hsm.config("verifier"));
    })
    .await;
    // No key file: the key is in the token.
    assert!(!verifier.dir.0.join("verifier-key.jwk").exists());

    // The request object, as a wallet fetches it.
    let created: Value = verifier
        .create(json!({"template": "internship-application"}))
        .await
        .json()
        .await
        .unwrap();
    let Invocation::ByReference(reference) =
        AuthorizationRequest::from_uri(created["request_uri"].as_str().unwrap()).unwrap()
    else {
        panic!("requests go by reference");
    };
    let RequestObjectSource::Uri { request_uri, .. } = &reference.source else {
        panic!("request_uri expected");
    };
    let jwt = verifier
        .http
        .get(request_uri.as_str())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Signed by the token key, whose certificate is the x5c leaf...
    let jws = CompactJws::parse(&jwt).unwrap();
    jws.verify_with(&token_key).unwrap();
    let x5c = jws.header.x5c.clone().expect("x5c");
    let leaf = CertificateChain::from_x5c(&x5c).unwrap();
    assert_eq!(leaf.leaf().public_key().unwrap(), token_key);
    // ...under the development CA the wallet trusts.
    let anchors =
        TrustAnchors::from_pem(&std::fs::read_to_string(verifier.dir.0.join("ca.pem")).unwrap())
            .unwrap();
    let authenticated =
        authenticate_request_object(&jwt, &reference.client_id, &anchors, None, now()).unwrap();
    assert_eq!(
        authenticated.request.client_id,
        Some(reference.client_id.clone())
    );

    // A whole presentation goes through.
    let issuer = TestIssuer::start().await;
    verifier.trust(&issuer);
    let holder = holder_of(
        &issuer,
        &["registration-certificate", "internship-eligibility"],
    );
    let session = verifier.session().await;
    let response = verifier.post(&session, holder.respond(&session)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(verifier.show(&session.id).await["status"], "verified");

    // Audit checkpoints are signed in the token; `audit verify` reads the
    // key from the development chain.
    verifier.state.audit.checkpoint().await.unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_intyg-verifier"))
        .args(["audit", "verify", "--data-dir"])
        .arg(&verifier.dir.0)
        .env_remove("INTYG_DATABASE_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("audit trail intact"), "{stdout}");
    assert!(!stdout.contains(" 0 signed checkpoints"), "{stdout}");
}

/// `intyg-verifier --dev` with the token key named by flags, the PIN in
/// `INTYG_PKCS11_PIN`.
fn verifier_process(dir: &TempDir, port: u16, key: &str, pin: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_intyg-verifier"));
    command
        .args(["--dev", "--data-dir"])
        .arg(&dir.0)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--pkcs11-module", SOFTHSM_MODULE])
        .args(["--pkcs11-token", SOFTHSM_TOKEN])
        .args(["--pkcs11-key", key])
        .env("INTYG_PKCS11_PIN", pin)
        .env_remove("INTYG_DATABASE_URL")
        .env("RUST_LOG", "warn");
    command
}

#[tokio::test]
async fn verifier_binary_takes_the_token_key_from_flags_and_names_start_failures() {
    let Some(hsm) = SoftHsm::for_test(
        "pkcs11::verifier_binary_takes_the_token_key_from_flags_and_names_start_failures",
    ) else {
        return;
    };
    let token_key = hsm.generate_key("verifier");
    let dir = TempDir::new("pkcs11-binary");

    // A wrong PIN, or a key label the token lacks: no start, a message.
    assert_token_start_refusals("verifier", |key, pin| {
        verifier_process(&dir, free_port(), key, pin)
    });

    let port = free_port();
    let mut child = Killed(
        verifier_process(&dir, port, "verifier", SOFTHSM_PIN)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let http = reqwest::Client::new();
    loop {
        if let Ok(response) = http
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            && response.status().is_success()
        {
            break;
        }
        assert!(
            child.0.try_wait().unwrap().is_none(),
            "intyg-verifier exited before serving"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let chain = CertificateChain::new(
        intyg_core::trust::Certificate::from_pem(
            &std::fs::read_to_string(dir.0.join("verifier-chain.pem")).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(chain.leaf().public_key().unwrap(), token_key);
}
