//! X.509-signed credentials: the development issuer CA (`issuer-ca.pem`,
//! subject O = the issuer's name), `x5c` in credentials and status list
//! tokens, and rollover between configured signing credentials, staged
//! and retired by reloading the configuration file without a restart.

use intyg_core::jose::{SigningKey, VerifyingKey};
use intyg_core::oid4vci::credential::{CredentialRequest, CredentialResponse};
use intyg_core::oid4vci::id::CredentialConfigurationId;
use intyg_core::oid4vci::proof::build_jwt_proof;
use intyg_core::oid4vci::token::TokenResponse;
use intyg_core::sd_jwt::SdJwt;
use intyg_core::status_list::{DecodeLimits, StatusListToken};
use intyg_core::trust::pki::{LeafProfile, LocalCa, Subject};
use intyg_core::trust::{
    Certificate, CertificateChain, ListedAnchors, PID_VCT, TrustAnchors, TrustList, TrustedIssuer,
};
use intyg_issuer::signing::SigningConfig;
use intyg_testkit::{Fetch, KARIN, REGISTRATION_CERTIFICATE, TempDir, TestIssuer, offer_body};
use serde_json::Value;

const VCT: &str = "https://intyg.se/credentials/registration-certificate/v1";

/// One credential for Karin through the pre-authorized flow.
pub(crate) async fn issue_one(issuer: &TestIssuer) -> SdJwt {
    issue_of(issuer, REGISTRATION_CERTIFICATE).await
}

/// One credential of type `kind` for Karin through the pre-authorized flow.
async fn issue_of(issuer: &TestIssuer, kind: &str) -> SdJwt {
    let handed = issuer.admin.offer(kind, KARIN).await;
    let offer_url = url::Url::parse(&handed.offer_uri).unwrap();
    let by_reference = offer_url
        .query_pairs()
        .find(|(k, _)| k == "credential_offer_uri")
        .unwrap()
        .1
        .into_owned();
    let offer: Value = issuer.http.get(by_reference).fetch_json().await;
    let code = offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
        ["pre-authorized_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let token: TokenResponse = issuer
        .http
        .post(format!("{}/token", issuer.url))
        .form(&[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            ),
            ("pre-authorized_code", code.as_str()),
            ("tx_code", handed.tx_code.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let nonce = issuer.nonce().await;
    let holder = SigningKey::generate().unwrap();
    let proof = build_jwt_proof(
        &holder,
        &issuer.url,
        Some(&nonce),
        intyg_issuer::now(),
        None,
    )
    .unwrap();
    let configuration = CredentialConfigurationId::try_from(kind).unwrap();
    let request = CredentialRequest::for_configuration(configuration, vec![proof]);
    let response = issuer
        .credential(token.access_token.as_str(), &request)
        .await;
    assert_eq!(response.status(), 200);
    let response = CredentialResponse::from_json(&response.bytes().await.unwrap()).unwrap();
    let credential = &response.credentials.unwrap()[0];
    SdJwt::parse(credential.as_compact().unwrap()).unwrap()
}

#[tokio::test]
async fn dev_issuer_signs_with_x5c_under_its_own_ca() {
    let issuer = TestIssuer::start_with("x5c", |config| {
        config.name = Some("Testverket".into());
    })
    .await;
    let ca_pem = std::fs::read_to_string(issuer.state.config.data_dir.join("issuer-ca.pem"))
        .expect("--dev writes DIR/issuer-ca.pem");
    let anchors = TrustAnchors::from_pem(&ca_pem).unwrap();
    assert_eq!(
        anchors.roots()[0].organization().as_deref(),
        Some("Testverket")
    );
    let sd_jwt = issue_one(&issuer).await;
    let x5c = sd_jwt.header().x5c.clone().expect("credentials carry x5c");
    let chain = CertificateChain::from_x5c(&x5c).unwrap();
    let now = intyg_issuer::now();
    // The root is never sent, and the leaf names the issuer.
    let leaf = chain.validate_haip(&anchors, now).unwrap();
    assert_eq!(leaf.uri_names, vec![issuer.url.clone()]);
    // A verifier trusting only the CA finds the key through x5c.
    let mut list = TrustList::new();
    list.trust(VCT, TrustedIssuer::with_roots(&issuer.url, anchors.clone()));
    let key = list
        .issuer_key(VCT, Some(&issuer.url), sd_jwt.header(), now)
        .unwrap();
    assert_eq!(key, issuer.published_key().await);
    // The status list token carries the same chain.
    let uri = format!("{}/status/0", issuer.url);
    let jwt = issuer.http.get(&uri).fetch_text().await;
    let jws = intyg_core::jose::CompactJws::parse(&jwt).unwrap();
    assert_eq!(jws.header.x5c.as_ref(), Some(&x5c));
    let key = list
        .issuer_key(VCT, Some(&issuer.url), &jws.header, now)
        .unwrap();
    jws.verify_with(&key).unwrap();
    // A CA made by someone else does not take its place.
    let stranger = LocalCa::generate(&Subject::new("Stranger")).unwrap();
    let other = TrustAnchors::new(vec![stranger.certificate().clone()]).unwrap();
    assert!(chain.validate(&other, now).is_err());
}

/// A key and its leaf from `ca`, valid from `not_before`, written to `dir`.
fn credential_files(
    ca: &LocalCa,
    dir: &TempDir,
    name: &str,
    issuer_url: &str,
    not_before: i64,
) -> (SigningConfig, SigningKey, Certificate) {
    let key = SigningKey::generate().unwrap();
    let public = VerifyingKey::from_jwk(&key.public_jwk()).unwrap();
    let leaf = ca
        .issue(
            &public,
            &LeafProfile {
                subject: Subject::new(name).organization("Testverket"),
                uris: vec![issuer_url.to_owned()],
                not_before: Some(not_before),
                not_after: Some(not_before + 400 * 86_400),
                ..LeafProfile::default()
            },
        )
        .unwrap();
    let key_file = dir.path().join(format!("{name}.jwk"));
    let chain_file = dir.path().join(format!("{name}.pem"));
    std::fs::write(
        &key_file,
        serde_json::to_string(&key.to_private_jwk().unwrap()).unwrap(),
    )
    .unwrap();
    std::fs::write(&chain_file, leaf.to_pem()).unwrap();
    (
        SigningConfig {
            key_file: Some(key_file),
            chain_file,
            ..SigningConfig::default()
        },
        key,
        leaf,
    )
}

#[tokio::test]
async fn rollover_newest_certificate_signs_and_the_old_one_stays_published() {
    let dir = TempDir::new("rollover-files");
    let ca = LocalCa::generate(&Subject::new("Rollover CA").organization("Testverket")).unwrap();
    let anchors = TrustAnchors::new(vec![ca.certificate().clone()]).unwrap();
    let now = intyg_issuer::now();
    let listener_url = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let seen = listener_url.clone();
    let files = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = files.clone();
    let issuer = TestIssuer::start_with("rollover", move |config| {
        let url = format!("http://{}", config.listen);
        *seen.lock().unwrap() = url.clone();
        // Listed newest first: the choice is by notBefore, not by order.
        let (new, new_key, _) = credential_files(&ca, &dir, "new", &url, now - 86_400);
        let (old, old_key, old_leaf) = credential_files(&ca, &dir, "old", &url, now - 300 * 86_400);
        config.signing = vec![new, old];
        // Only the issuer's own chain is published here.
        config.dev_pid_provider = false;
        kept.lock().unwrap().push((new_key, old_key, old_leaf, dir));
    })
    .await;
    let (new_key, old_key, old_leaf, _dir) = files.lock().unwrap().pop().unwrap();
    let thumb = |key: &SigningKey| intyg_core::jose::thumbprint(&key.public_jwk()).unwrap();

    let sd_jwt = issue_one(&issuer).await;
    assert_eq!(
        sd_jwt.header().kid.as_deref(),
        Some(thumb(&new_key).as_str())
    );
    let published: Value = issuer
        .http
        .get(format!("{}/.well-known/jwt-vc-issuer", issuer.url))
        .fetch_json()
        .await;
    let kids: Vec<&str> = published["jwks"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, vec![thumb(&new_key), thumb(&old_key)]);
    assert!(published["jwks"]["keys"][1]["x5c"].is_array());

    // A status list token signed under the old certificate before the
    // change still verifies: by its x5c to the CA, and by its kid.
    let uri = format!("{}/status/0", issuer.url);
    let claims = intyg_core::status_list::StatusListTokenClaims::new(
        uri.clone(),
        now - 60,
        intyg_core::status_list::StatusListClaim::from(&intyg_core::status_list::StatusList::new(
            intyg_core::status_list::Bits::Two,
            16,
        )),
    );
    let old_token = StatusListToken::sign_with_chain(
        &claims,
        &old_key,
        Some(&thumb(&old_key)),
        Some(vec![old_leaf.to_x5c()]),
    )
    .unwrap();
    let mut by_chain = TrustList::new();
    by_chain.trust(VCT, TrustedIssuer::with_roots(&issuer.url, anchors));
    let jws = intyg_core::jose::CompactJws::parse(&old_token).unwrap();
    let key = by_chain
        .issuer_key(VCT, Some(&issuer.url), &jws.header, now)
        .unwrap();
    jws.verify_with(&key).unwrap();
    let old_jwk: intyg_core::jose::Jwk =
        serde_json::from_value(published["jwks"]["keys"][1].clone()).unwrap();
    StatusListToken::verify(&old_token, &old_jwk, &uri, now, DecodeLimits::default()).unwrap();
    // The live token is signed by the new one.
    let live = issuer.http.get(&uri).fetch_text().await;
    let live = intyg_core::jose::CompactJws::parse(&live).unwrap();
    assert_eq!(live.header.kid.as_deref(), Some(thumb(&new_key).as_str()));
    assert_eq!(*listener_url.lock().unwrap(), issuer.url);
}

#[tokio::test]
async fn dev_issuer_signs_the_test_pid_under_its_pid_provider() {
    let issuer = TestIssuer::start("pid-provider").await;
    let dir = &issuer.state.config.data_dir;
    let read = |file: &str| {
        TrustAnchors::from_pem(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap()
    };
    let pid_provider = read("pid-provider-ca.pem");
    let issuer_ca = read("issuer-ca.pem");
    // Marked as a test PID provider.
    assert!(
        pid_provider.roots()[0]
            .organization()
            .is_some_and(|o| o.contains("test only"))
    );
    let pid = issue_of(&issuer, "pid").await;
    assert_eq!(pid.payload()["vct"], PID_VCT);
    assert_eq!(pid.payload()["iss"], issuer.url.as_str());
    // Status lists are signed under the issuer's own chain: none here.
    assert!(pid.payload().get("status").is_none());
    let now = intyg_issuer::now();
    let chain = CertificateChain::from_x5c(pid.header().x5c.as_ref().unwrap()).unwrap();
    let leaf = chain.validate_haip(&pid_provider, now).unwrap();
    assert_eq!(leaf.uri_names, vec![issuer.url.clone()]);
    assert!(chain.validate(&issuer_ca, now).is_err());
    // A verifier trusting the PID provider for the PID finds the key.
    let mut list = TrustList::new();
    list.set_listed(
        "config:trust_pid_providers",
        ListedAnchors {
            list: "PID providers".into(),
            pid: pid_provider.clone(),
            attestations: TrustAnchors::default(),
        },
    );
    list.issuer_key(PID_VCT, Some(&issuer.url), pid.header(), now)
        .unwrap();
    // The registration certificate stays under the issuer CA, which the
    // PID provider's anchors do not reach.
    let registration = issue_one(&issuer).await;
    let chain = CertificateChain::from_x5c(registration.header().x5c.as_ref().unwrap()).unwrap();
    assert!(chain.validate(&pid_provider, now).is_err());
    assert!(chain.validate(&issuer_ca, now).is_ok());
    // Both signers are published, for wallets checking by `kid`.
    let metadata: Value = issuer
        .http
        .get(format!("{}/.well-known/jwt-vc-issuer", issuer.url))
        .fetch_json()
        .await;
    let kids: Vec<&str> = metadata["jwks"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    assert!(
        kids.contains(&pid.header().kid.as_deref().unwrap()),
        "{kids:?}"
    );
    assert!(kids.contains(&registration.header().kid.as_deref().unwrap()));
}

#[tokio::test]
async fn no_pid_without_a_pid_provider() {
    let issuer = TestIssuer::start_with("no-pid-provider", |config| {
        config.dev_pid_provider = false;
    })
    .await;
    let dir = &issuer.state.config.data_dir;
    assert!(!dir.join("pid-provider-ca.pem").exists());
    let response = issuer.admin.post_offer(&offer_body("pid", KARIN)).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "no_pid_provider", "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("PID provider")),
        "{body}"
    );
    // Other types are issued as before.
    assert!(issue_one(&issuer).await.header().x5c.is_some());
}

/// An RFC 3339 instant, `seconds` since the epoch.
fn rfc3339(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds).unwrap().to_string()
}

/// The `[[signing]]` sections for `entries`: (files, signing_from, retired_at).
fn signing_toml(entries: &[(&SigningConfig, Option<i64>, Option<i64>)]) -> String {
    let mut toml = String::from("# only the signing sections are read again on reload\n");
    for (entry, from, retired) in entries {
        toml += &format!(
            "[[signing]]\nkey_file = {:?}\nchain_file = {:?}\n",
            entry.key_file.as_ref().unwrap().display().to_string(),
            entry.chain_file.display().to_string()
        );
        if let Some(from) = from {
            toml += &format!("signing_from = \"{}\"\n", rfc3339(*from));
        }
        if let Some(retired) = retired {
            toml += &format!("retired_at = \"{}\"\n", rfc3339(*retired));
        }
    }
    toml
}

/// `GET /api/keys`: the `kid` that signs, and each key's `state` by `kid`.
async fn key_states(issuer: &TestIssuer) -> (String, Vec<(String, String)>) {
    let response = issuer
        .admin
        .request(reqwest::Method::GET, "/api/keys")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    view_states(response.json().await.unwrap())
}

fn view_states(view: Value) -> (String, Vec<(String, String)>) {
    let states = view["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["kid"].as_str().unwrap().to_owned(),
                k["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (view["signing"].as_str().unwrap().to_owned(), states)
}

async fn reload(issuer: &TestIssuer) -> reqwest::Response {
    issuer
        .admin
        .request(reqwest::Method::POST, "/api/keys/reload")
        .send()
        .await
        .unwrap()
}

async fn published_kids(issuer: &TestIssuer) -> Vec<String> {
    published_kids_at(&issuer.http, &issuer.url).await
}

async fn published_kids_at(http: &reqwest::Client, url: &str) -> Vec<String> {
    let published: Value = http
        .get(format!("{url}/.well-known/jwt-vc-issuer"))
        .fetch_json()
        .await;
    published["jwks"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// The status list token of `uri` once it is signed under `kid` (a token
/// signed in the same second as the one stored is not newer than it, so
/// the next second's request signs again).
async fn status_token_under(issuer: &TestIssuer, uri: &str, kid: &str) -> String {
    for _ in 0..30 {
        let jwt = issuer.http.get(uri).fetch_text().await;
        let jws = intyg_core::jose::CompactJws::parse(&jwt).unwrap();
        if jws.header.kid.as_deref() == Some(kid) {
            return jwt;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("{uri} is never signed under {kid}");
}

#[tokio::test]
async fn rollover_stages_a_key_then_retires_the_old_one_without_a_restart() {
    let dir = TempDir::new("rollover-reload");
    let ca = LocalCa::generate(&Subject::new("Rollover CA").organization("Testverket")).unwrap();
    let now = intyg_issuer::now();
    let config_file = dir.path().join("issuer.toml");
    let made = std::sync::Arc::new(std::sync::Mutex::new(None));
    let kept = made.clone();
    let issuer = TestIssuer::start_with("rollover-reload", |config| {
        let url = format!("http://{}", config.listen);
        let old = credential_files(&ca, &dir, "old", &url, now - 300 * 86_400);
        let new = credential_files(&ca, &dir, "new", &url, now - 86_400);
        std::fs::write(&config_file, signing_toml(&[(&old.0, None, None)])).unwrap();
        config.signing = vec![old.0.clone()];
        config.config_file = Some(config_file.clone());
        config.dev_pid_provider = false;
        *kept.lock().unwrap() = Some((old, new));
    })
    .await;
    let ((old, old_key, _), (new, new_key, _)) = made.lock().unwrap().take().unwrap();
    let thumb = |key: &SigningKey| intyg_core::jose::thumbprint(&key.public_jwk()).unwrap();
    let (old_kid, new_kid) = (thumb(&old_key), thumb(&new_key));

    let before = issue_one(&issuer).await;
    assert_eq!(before.header().kid.as_deref(), Some(old_kid.as_str()));
    assert_eq!(
        key_states(&issuer).await,
        (old_kid.clone(), vec![(old_kid.clone(), "signing".into())])
    );

    // Step 1: stage the new key (signing_from an hour ahead) and reload.
    std::fs::write(
        &config_file,
        signing_toml(&[(&old, None, None), (&new, Some(now + 3600), None)]),
    )
    .unwrap();
    let response = reload(&issuer).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        view_states(response.json().await.unwrap()),
        (
            old_kid.clone(),
            vec![
                (old_kid.clone(), "signing".into()),
                (new_kid.clone(), "staged".into())
            ]
        )
    );
    // Published before it signs anything; the old one still signs.
    assert_eq!(
        published_kids(&issuer).await,
        vec![old_kid.clone(), new_kid.clone()]
    );
    let staged = issue_one(&issuer).await;
    assert_eq!(staged.header().kid.as_deref(), Some(old_kid.as_str()));

    // Step 2: the new one signs from now, the old one is retired.
    std::fs::write(
        &config_file,
        signing_toml(&[(&old, None, Some(now - 1)), (&new, Some(now - 1), None)]),
    )
    .unwrap();
    let response = reload(&issuer).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        key_states(&issuer).await,
        (
            new_kid.clone(),
            vec![
                (old_kid.clone(), "retired".into()),
                (new_kid.clone(), "signing".into())
            ]
        )
    );
    let after = issue_one(&issuer).await;
    assert_eq!(after.header().kid.as_deref(), Some(new_kid.as_str()));
    // The retired key stays published, so what it signed verifies by kid.
    let published: Value = issuer
        .http
        .get(format!("{}/.well-known/jwt-vc-issuer", issuer.url))
        .fetch_json()
        .await;
    let old_jwk: intyg_core::jose::Jwk =
        serde_json::from_value(published["jwks"]["keys"][0].clone()).unwrap();
    assert_eq!(old_jwk.key_id.as_deref(), Some(old_kid.as_str()));
    let old_public = VerifyingKey::from_jwk(&old_jwk).unwrap();
    before
        .clone()
        .verify(
            &old_public,
            &intyg_core::sd_jwt::VerifyOptions::at(intyg_issuer::now()),
        )
        .unwrap();

    // The status list is signed again under the new key and still answers
    // for the credential signed under the old one: revoked, it shows.
    let reference = before.payload()["status"]["status_list"].clone();
    let uri = reference["uri"].as_str().unwrap().to_owned();
    let index = reference["idx"].as_u64().unwrap();
    let record = issuer.admin.credentials(KARIN).await;
    let first = record
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"].as_array().unwrap().contains(&reference))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    issuer.admin.change_status(&first, "revoke").await;
    let jwt = status_token_under(&issuer, &uri, &new_kid).await;
    let new_jwk: intyg_core::jose::Jwk =
        serde_json::from_value(published["jwks"]["keys"][1].clone()).unwrap();
    let list = StatusListToken::verify(
        &jwt,
        &new_jwk,
        &uri,
        intyg_issuer::now(),
        DecodeLimits::default(),
    )
    .unwrap();
    assert_eq!(
        list.status(intyg_core::status_list::StatusIndex::from(index))
            .unwrap(),
        intyg_core::status_list::StatusType::Invalid
    );

    // A reload that would leave no key signing is refused; the keys in
    // force stay.
    std::fs::write(&config_file, signing_toml(&[(&new, None, Some(now - 1))])).unwrap();
    let refused = reload(&issuer).await;
    assert_eq!(refused.status(), 422);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "invalid_signing_configuration", "{body}");
    assert_eq!(key_states(&issuer).await.0, new_kid);
    // So is a malformed instant, with the reason.
    std::fs::write(
        &config_file,
        "[[signing]]\nkey_file = \"k\"\nchain_file = \"c\"\nsigning_from = \"next tuesday\"\n",
    )
    .unwrap();
    let refused = reload(&issuer).await;
    assert_eq!(refused.status(), 422);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("RFC 3339"),
        "{body}"
    );

    // Each accepted reload is in the audit trail.
    let trail = std::fs::read_to_string(issuer.state.config.data_dir.join("audit.jsonl")).unwrap();
    assert_eq!(trail.matches("\"keys.reload\"").count(), 2, "{trail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_keys_of_a_running_issuer_process() {
    let dir = TempDir::new("rollover-sighup");
    let ca = LocalCa::generate(&Subject::new("Rollover CA").organization("Testverket")).unwrap();
    let now = intyg_issuer::now();
    let port = intyg_testkit::free_port();
    let url = format!("http://127.0.0.1:{port}");
    let (old, old_key, _) = credential_files(&ca, &dir, "old", &url, now - 300 * 86_400);
    let (new, new_key, _) = credential_files(&ca, &dir, "new", &url, now - 86_400);
    let thumb = |key: &SigningKey| intyg_core::jose::thumbprint(&key.public_jwk()).unwrap();
    let data = dir.path().join("data");
    let config_file = dir.path().join("issuer.toml");
    let head = format!(
        "dev = true\ndev_pid_provider = false\npublic_url = {url:?}\nlisten = \"127.0.0.1:{port}\"\ndata_dir = {:?}\ncredential_types_dir = {:?}\n",
        data.display().to_string(),
        concat!(env!("CARGO_MANIFEST_DIR"), "/../specs/credentials"),
    );
    std::fs::write(
        &config_file,
        head.clone() + &signing_toml(&[(&old, None, None)]),
    )
    .unwrap();
    let process = crate::crash::Process {
        url: url.clone(),
        child: std::process::Command::new(env!("CARGO_BIN_EXE_intyg-issuer"))
            .arg("--config")
            .arg(&config_file)
            .env("INTYG_API_KEY", intyg_testkit::API_KEY)
            .env("RUST_LOG", "error")
            .env_remove("INTYG_DATABASE_URL")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    };
    let http = reqwest::Client::new();
    let admin = intyg_testkit::Admin::new(http.clone(), &url, intyg_testkit::API_KEY);
    let signing = || async {
        let view: Value = admin
            .request(reqwest::Method::GET, "/api/keys")
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        view["signing"].as_str().map(str::to_owned)
    };
    let mut first = None;
    for _ in 0..200 {
        first = signing().await;
        if first.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(first, Some(thumb(&old_key)));

    // `systemctl reload`: the new key signs from now, the old one retires.
    std::fs::write(
        &config_file,
        head + &signing_toml(&[(&old, None, Some(now - 1)), (&new, Some(now - 1), None)]),
    )
    .unwrap();
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &process.child.id().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    let mut after = None;
    for _ in 0..200 {
        after = signing().await;
        if after.as_deref() == Some(thumb(&new_key).as_str()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(after, Some(thumb(&new_key)));
    assert_eq!(
        published_kids_at(&http, &url).await,
        vec![thumb(&old_key), thumb(&new_key)]
    );
    let trail = std::fs::read_to_string(data.join("audit.jsonl")).unwrap();
    let reload = trail
        .lines()
        .find(|l| l.contains("\"keys.reload\""))
        .expect("the reload is audited");
    assert!(reload.contains("\"system\""), "{reload}");
    drop(process);
}
