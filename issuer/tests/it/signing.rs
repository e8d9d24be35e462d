//! X.509-signed credentials: the development issuer CA (`issuer-ca.pem`,
//! subject O = the issuer's name), `x5c` in credentials and status list
//! tokens, and rollover between configured signing credentials.

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
