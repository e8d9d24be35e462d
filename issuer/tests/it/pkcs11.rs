//! The issuer's signing key in a PKCS#11 token (SoftHSM2, a throwaway
//! token per test, each test run in a child process that names it:
//! `intyg_testkit::SoftHsm`): credentials and status list tokens signed in
//! the token, its public key in `x5c` and the published JWKS; the chain's
//! key checked; start failures named; the real binary with `--pkcs11-*`
//! and `INTYG_PKCS11_PIN`.

use intyg_testkit::assert_token_start_refusals;
use intyg_testkit::{Killed, free_port};
use std::process::{Command, Stdio};

use intyg_core::jose::{CompactJws, SigningKey, VerifyingKey};
use intyg_core::trust::pki::{LeafProfile, LocalCa, Subject};
use intyg_core::trust::{CertificateChain, TrustAnchors};
use intyg_issuer::config::Config;
use intyg_issuer::signing::{KeySet, SigningConfig, SigningError};
use intyg_testkit::{
    Fetch, SOFTHSM_MODULE, SOFTHSM_PIN, SOFTHSM_TOKEN, SoftHsm, TempDir, TestIssuer,
};
use serde_json::Value;

use crate::signing::issue_one;

#[tokio::test]
async fn issuer_signs_credentials_and_status_lists_with_the_token_key() {
    let Some(hsm) =
        SoftHsm::for_test("pkcs11::issuer_signs_credentials_and_status_lists_with_the_token_key")
    else {
        return;
    };
    let token_key = hsm.generate_key("issuer");
    let issuer = TestIssuer::start_with("pkcs11", |config| {
        config.pkcs11 = Some(hsm.config("issuer"));
    })
    .await;
    let now = intyg_issuer::now();

    let sd_jwt = issue_one(&issuer).await;
    // The issuer-signed JWT verifies with the token's public key.
    let compact = sd_jwt.without_kb();
    let issuer_jwt = compact.split('~').next().unwrap();
    CompactJws::parse(issuer_jwt)
        .unwrap()
        .verify_with(&token_key)
        .unwrap();
    // Its x5c leaf holds that key, under the development CA.
    let x5c = sd_jwt.header().x5c.clone().expect("credentials carry x5c");
    let chain = CertificateChain::from_x5c(&x5c).unwrap();
    assert_eq!(chain.leaf().public_key().unwrap(), token_key);
    let ca_pem =
        std::fs::read_to_string(issuer.state.config.data_dir.join("issuer-ca.pem")).unwrap();
    chain
        .validate_haip(&TrustAnchors::from_pem(&ca_pem).unwrap(), now)
        .unwrap();
    // The published JWKS is the token key's, with the same x5c.
    assert_eq!(issuer.published_key().await, token_key);
    assert_eq!(
        issuer.published_jwk().await.x509_certificate_chain,
        Some(x5c.clone())
    );

    // The status list token: signed in the token, the same chain.
    let jwt = issuer
        .http
        .get(format!("{}/status/0", issuer.url))
        .fetch_text()
        .await;
    let jws = CompactJws::parse(&jwt).unwrap();
    assert_eq!(jws.header.x5c.as_ref(), Some(&x5c));
    jws.verify_with(&token_key).unwrap();

    // The data directory's file key (audit checkpoints only) signs neither.
    let file_key: Value = serde_json::from_str(
        &std::fs::read_to_string(issuer.state.config.data_dir.join("issuer-key.jwk")).unwrap(),
    )
    .unwrap();
    let file_key = SigningKey::from_jwk(&serde_json::from_value(file_key).unwrap()).unwrap();
    assert_ne!(
        VerifyingKey::from_jwk(&file_key.public_jwk()).unwrap(),
        token_key
    );
}

#[test]
fn dev_chain_is_made_again_for_the_token_key() {
    let Some(hsm) = SoftHsm::for_test("pkcs11::dev_chain_is_made_again_for_the_token_key") else {
        return;
    };
    let token_key = hsm.generate_key("issuer");
    let dir = TempDir::new("pkcs11-dev-chain");
    let mut config = Config::dev(dir.path().to_owned(), "127.0.0.1:8080".parse().unwrap()).unwrap();
    // First the file key of a development issuer...
    let file = KeySet::load(&config).unwrap();
    let file_leaf = file.current(0).chain.clone().unwrap();
    assert_ne!(file_leaf.leaf().public_key().unwrap(), token_key);
    // ...then the token key on the same directory: a leaf for it.
    config.pkcs11 = Some(hsm.config("issuer"));
    let token = KeySet::load(&config).unwrap();
    let chain = token.current(0).chain.clone().unwrap();
    assert_eq!(chain.leaf().public_key().unwrap(), token_key);
    let ca_pem = std::fs::read_to_string(dir.path().join("issuer-ca.pem")).unwrap();
    chain
        .validate_haip(
            &TrustAnchors::from_pem(&ca_pem).unwrap(),
            intyg_issuer::now(),
        )
        .unwrap();
}

#[test]
fn configured_chain_must_hold_the_token_key() {
    let Some(hsm) = SoftHsm::for_test("pkcs11::configured_chain_must_hold_the_token_key") else {
        return;
    };
    let token_key = hsm.generate_key("issuer");
    let dir = TempDir::new("pkcs11-chain");
    let ca = LocalCa::generate(&Subject::new("Testverket CA")).unwrap();
    let leaf_for = |key: &VerifyingKey, name: &str| {
        let path = dir.path().join(name);
        let leaf = ca
            .issue(
                key,
                &LeafProfile {
                    subject: Subject::new("Testverket signing").organization("Testverket"),
                    ..LeafProfile::default()
                },
            )
            .unwrap();
        std::fs::write(&path, leaf.to_pem()).unwrap();
        path
    };
    let mut config = Config::dev(dir.path().to_owned(), "127.0.0.1:8080".parse().unwrap()).unwrap();
    config.dev = false;

    // The chain of the token key, with the key named in the entry.
    config.signing = vec![SigningConfig {
        chain_file: leaf_for(&token_key, "token.pem"),
        pkcs11: Some(hsm.config("issuer")),
        ..SigningConfig::default()
    }];
    let keys = KeySet::load(&config).unwrap();
    assert_eq!(
        keys.current(0)
            .chain
            .as_ref()
            .unwrap()
            .leaf()
            .public_key()
            .unwrap(),
        token_key
    );

    // An entry naming no key takes the --pkcs11-* key.
    config.signing = vec![SigningConfig {
        chain_file: leaf_for(&token_key, "token.pem"),
        ..SigningConfig::default()
    }];
    assert!(matches!(
        KeySet::load(&config),
        Err(SigningError::KeySource(_))
    ));
    config.pkcs11 = Some(hsm.config("issuer"));
    KeySet::load(&config).unwrap();

    // A chain for another key is refused, naming the token key.
    let other = SigningKey::generate().unwrap();
    config.signing = vec![SigningConfig {
        chain_file: leaf_for(
            &VerifyingKey::from_jwk(&other.public_jwk()).unwrap(),
            "other.pem",
        ),
        ..SigningConfig::default()
    }];
    let error = KeySet::load(&config).unwrap_err();
    assert!(matches!(error, SigningError::KeyMismatch(_)), "{error}");
    assert_eq!(
        error.to_string(),
        format!(
            "pkcs11:token={SOFTHSM_TOKEN};object=issuer: the key does not match the leaf certificate"
        )
    );
}

/// `intyg-issuer --dev` with the token key named by flags, the PIN in
/// `INTYG_PKCS11_PIN`.
fn issuer_process(dir: &TempDir, port: u16, key: &str, pin: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_intyg-issuer"));
    command
        .args(["--dev", "--data-dir"])
        .arg(dir.path())
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--pkcs11-module", SOFTHSM_MODULE])
        .args(["--pkcs11-token", SOFTHSM_TOKEN])
        .args(["--pkcs11-key", key])
        .env("INTYG_PKCS11_PIN", pin)
        .env("RUST_LOG", "warn");
    command
}

#[tokio::test]
async fn issuer_binary_takes_the_token_key_from_flags_and_names_start_failures() {
    let Some(hsm) = SoftHsm::for_test(
        "pkcs11::issuer_binary_takes_the_token_key_from_flags_and_names_start_failures",
    ) else {
        return;
    };
    let token_key = hsm.generate_key("issuer");
    let dir = TempDir::new("pkcs11-binary");

    // A wrong PIN, or a key label the token lacks: no start, a message.
    assert_token_start_refusals("issuer", |key, pin| {
        issuer_process(&dir, free_port(), key, pin)
    });

    // The right PIN: it serves, publishing the token key.
    let port = free_port();
    let mut child = Killed(
        issuer_process(&dir, port, "issuer", SOFTHSM_PIN)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("http://127.0.0.1:{port}/.well-known/jwt-vc-issuer");
    let http = reqwest::Client::new();
    let metadata: Value = loop {
        if let Ok(response) = http.get(&url).send().await
            && response.status().is_success()
        {
            break response.json().await.unwrap();
        }
        assert!(
            child.0.try_wait().unwrap().is_none(),
            "intyg-issuer exited before serving"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let published = VerifyingKey::from_jwk(
        &serde_json::from_value(metadata["jwks"]["keys"][0].clone()).unwrap(),
    )
    .unwrap();
    assert_eq!(published, token_key);
}

#[tokio::test]
async fn rollover_from_a_file_key_to_a_token_key_without_a_restart() {
    let Some(hsm) =
        SoftHsm::for_test("pkcs11::rollover_from_a_file_key_to_a_token_key_without_a_restart")
    else {
        return;
    };
    let token_key = hsm.generate_key("issuer-2027");
    let dir = TempDir::new("pkcs11-rollover");
    let ca = LocalCa::generate(&Subject::new("Rollover CA").organization("Testverket")).unwrap();
    let now = intyg_issuer::now();
    let rfc3339 = |t: i64| jiff::Timestamp::from_second(t).unwrap().to_string();
    let leaf = |key: &VerifyingKey, name: &str, not_before: i64| {
        let path = dir.path().join(name);
        let leaf = ca
            .issue(
                key,
                &LeafProfile {
                    subject: Subject::new(name).organization("Testverket"),
                    not_before: Some(not_before),
                    not_after: Some(not_before + 400 * 86_400),
                    ..LeafProfile::default()
                },
            )
            .unwrap();
        std::fs::write(&path, leaf.to_pem()).unwrap();
        path
    };
    let old_key = SigningKey::generate().unwrap();
    let old_public = VerifyingKey::from_jwk(&old_key.public_jwk()).unwrap();
    let old_key_file = dir.path().join("old.jwk");
    std::fs::write(
        &old_key_file,
        serde_json::to_string(&old_key.to_private_jwk().unwrap()).unwrap(),
    )
    .unwrap();
    let old = SigningConfig {
        key_file: Some(old_key_file.clone()),
        chain_file: leaf(&old_public, "old.pem", now - 300 * 86_400),
        ..SigningConfig::default()
    };
    let new_chain = leaf(&token_key, "token.pem", now - 86_400);
    let config_file = dir.path().join("issuer.toml");
    let old_toml = format!(
        "[[signing]]\nkey_file = {:?}\nchain_file = {:?}\n",
        old_key_file.display().to_string(),
        old.chain_file.display().to_string()
    );
    std::fs::write(&config_file, &old_toml).unwrap();
    let issuer = TestIssuer::start_with("pkcs11-rollover", |config| {
        config.signing = vec![old.clone()];
        config.config_file = Some(config_file.clone());
        config.dev_pid_provider = false;
    })
    .await;
    let before = issue_one(&issuer).await;
    CompactJws::parse(before.without_kb().split('~').next().unwrap())
        .unwrap()
        .verify_with(&old_public)
        .unwrap();

    // The token key signs from now on, the file key is retired: reload.
    let pkcs11 = hsm.config("issuer-2027");
    std::fs::write(
        &config_file,
        format!(
            "{old_toml}retired_at = \"{retired}\"\n\n[[signing]]\nchain_file = {chain:?}\nsigning_from = \"{retired}\"\npkcs11 = {{ module = {module:?}, token = {token:?}, key = \"issuer-2027\", pin_file = {pin:?} }}\n",
            retired = rfc3339(now - 1),
            chain = new_chain.display().to_string(),
            module = SOFTHSM_MODULE,
            token = SOFTHSM_TOKEN,
            pin = pkcs11.pin_file.unwrap().display().to_string(),
        ),
    )
    .unwrap();
    let response = issuer
        .admin
        .request(reqwest::Method::POST, "/api/keys/reload")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let after = issue_one(&issuer).await;
    CompactJws::parse(after.without_kb().split('~').next().unwrap())
        .unwrap()
        .verify_with(&token_key)
        .unwrap();
    let x5c = after.header().x5c.clone().unwrap();
    assert_eq!(
        CertificateChain::from_x5c(&x5c)
            .unwrap()
            .leaf()
            .public_key()
            .unwrap(),
        token_key
    );
    // Both stay published: what the file key signed keeps verifying.
    let published: Value = issuer
        .http
        .get(format!("{}/.well-known/jwt-vc-issuer", issuer.url))
        .fetch_json()
        .await;
    let keys: Vec<VerifyingKey> = published["jwks"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| VerifyingKey::from_jwk(&serde_json::from_value(k.clone()).unwrap()).unwrap())
        .collect();
    assert!(
        keys.contains(&old_public) && keys.contains(&token_key),
        "{published}"
    );
}
