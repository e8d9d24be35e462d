//! HAIP 1.0 issuance over loopback HTTP: DPoP (RFC 9449), wallet
//! attestation (draft-ietf-oauth-attestation-based-client-auth-07) and key
//! attestation (OpenID4VCI 1.0 Appendix D), every acceptance and every
//! refusal, with the test wallet provider of `intyg_testkit`.

use axum::routing::get;
use intyg_core::jose::SigningKey;
use intyg_core::oauth::client_attestation::{ATTESTATION_HEADER, Audience, POP_HEADER};
use intyg_core::oid4vci::UrlRules;
use intyg_core::oid4vci::credential::CredentialResponse;
use intyg_core::oid4vci::id::PreAuthorizedCode;
use intyg_core::oid4vci::offer::{CredentialOffer, CredentialOfferRequest};
use intyg_core::sd_jwt::SdJwt;
use intyg_issuer::config::Config;
use intyg_issuer::policy::{CredentialPolicy, Profile};
use intyg_testkit::{
    Fetch, KARIN, REGISTRATION_CERTIFICATE, TempDir, TestIssuer, WalletInstance, WalletProvider,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

const CLIENT: &str = "wallet-instance-7";

/// A `--profile haip` issuer trusting `provider`, configured further by `configure`.
async fn haip_issuer(
    name: &str,
    provider: &WalletProvider,
    dir: &TempDir,
    configure: impl FnOnce(&mut Config),
) -> TestIssuer {
    let root = provider.write_root(dir);
    TestIssuer::start_with(name, move |config| {
        config.profile = Profile::Haip;
        config.wallet_provider_roots = vec![root];
        config.dpop_nonce = Some(true);
        configure(config);
    })
    .await
}

async fn pre_authorized_code(issuer: &TestIssuer) -> (PreAuthorizedCode, String) {
    let handed = issuer.admin.offer(REGISTRATION_CERTIFICATE, KARIN).await;
    let rules = UrlRules::DangerousAllowHttpLoopback;
    let CredentialOfferRequest::ByReference(url) =
        CredentialOffer::from_uri_with(&handed.offer_uri, rules).unwrap()
    else {
        panic!("offers are made by reference")
    };
    let body = issuer.http.get(url).fetch_text().await;
    let offer = CredentialOffer::from_json_with(&body, rules).unwrap();
    let code = offer
        .pre_authorized_grant()
        .unwrap()
        .pre_authorized_code
        .clone();
    (code, handed.tx_code)
}

/// The current DPoP server nonce, as the issuer hands it out.
fn server_nonce(issuer: &TestIssuer) -> Option<String> {
    issuer.state.dpop.fresh_nonce(intyg_issuer::now())
}

/// What a token request carries besides the grant.
#[derive(Default)]
struct Extras {
    dpop: Option<String>,
    attestation: Option<String>,
    pop: Option<String>,
    client_id: Option<String>,
}

async fn token(
    issuer: &TestIssuer,
    code: &PreAuthorizedCode,
    pin: &str,
    extras: Extras,
) -> reqwest::Response {
    let mut form = vec![
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:pre-authorized_code".to_owned(),
        ),
        ("pre-authorized_code", code.as_str().to_owned()),
        ("tx_code", pin.to_owned()),
    ];
    if let Some(client_id) = extras.client_id {
        form.push(("client_id", client_id));
    }
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut request = issuer
        .http
        .post(format!("{}/token", issuer.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    for (name, value) in [
        ("DPoP", extras.dpop),
        (ATTESTATION_HEADER, extras.attestation),
        (POP_HEADER, extras.pop),
    ] {
        if let Some(value) = value {
            request = request.header(name, value);
        }
    }
    request.send().await.unwrap()
}

/// A complete, valid token request of `wallet` from `provider`.
fn full_extras(issuer: &TestIssuer, provider: &WalletProvider, wallet: &WalletInstance) -> Extras {
    Extras {
        dpop: Some(wallet.dpop(
            &format!("{}/token", issuer.url),
            server_nonce(issuer).as_deref(),
            None,
        )),
        attestation: Some(provider.wallet_attestation(&wallet.client_id, &wallet.instance_key)),
        pop: Some(wallet.pop(&issuer.url)),
        client_id: Some(wallet.client_id.clone()),
    }
}

async fn refusal(response: reqwest::Response) -> (StatusCode, String, String) {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

/// A DPoP-bound access token for `wallet`.
async fn bound_token(
    issuer: &TestIssuer,
    provider: &WalletProvider,
    wallet: &WalletInstance,
) -> String {
    let (code, pin) = pre_authorized_code(issuer).await;
    let response = token(issuer, &code, &pin, full_extras(issuer, provider, wallet)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP");
    body["access_token"].as_str().unwrap().to_owned()
}

async fn credential(
    issuer: &TestIssuer,
    scheme: &str,
    access_token: &str,
    dpop: Option<String>,
    proofs: Value,
) -> reqwest::Response {
    let mut request = issuer
        .http
        .post(format!("{}/credential", issuer.url))
        .header("authorization", format!("{scheme} {access_token}"))
        .json(&json!({"credential_configuration_id": REGISTRATION_CERTIFICATE, "proofs": proofs}));
    if let Some(dpop) = dpop {
        request = request.header("DPoP", dpop);
    }
    request.send().await.unwrap()
}

fn credential_dpop(
    issuer: &TestIssuer,
    wallet: &WalletInstance,
    access_token: &str,
) -> Option<String> {
    Some(wallet.dpop(
        &format!("{}/credential", issuer.url),
        server_nonce(issuer).as_deref(),
        Some(access_token),
    ))
}

#[tokio::test]
async fn haip_issues_with_dpop_wallet_attestation_and_key_attestation() {
    let dir = TempDir::new("haip-ok");
    let provider = WalletProvider::new("Provider A");
    let issuer = haip_issuer("haip-ok", &provider, &dir, |_| {}).await;
    let wallet = WalletInstance::new(CLIENT);

    let as_metadata: Value = issuer
        .http
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            issuer.url
        ))
        .fetch_json()
        .await;
    assert_eq!(
        as_metadata["dpop_signing_alg_values_supported"],
        json!(["ES256"])
    );
    assert_eq!(
        as_metadata["token_endpoint_auth_methods_supported"],
        json!(["attest_jwt_client_auth"])
    );
    let metadata: Value = issuer
        .http
        .get(format!(
            "{}/.well-known/openid-credential-issuer",
            issuer.url
        ))
        .fetch_json()
        .await;
    let proof_types = &metadata["credential_configurations_supported"][REGISTRATION_CERTIFICATE]["proof_types_supported"];
    assert_eq!(proof_types["jwt"]["key_attestations_required"], json!({}));
    assert_eq!(
        proof_types["attestation"]["proof_signing_alg_values_supported"],
        json!(["ES256"])
    );

    // RFC 9449 §8: the first proof without a nonce is answered with one.
    let (code, pin) = pre_authorized_code(&issuer).await;
    let mut extras = full_extras(&issuer, &provider, &wallet);
    extras.dpop = Some(wallet.dpop(&format!("{}/token", issuer.url), None, None));
    let response = token(&issuer, &code, &pin, extras).await;
    let nonce = response.headers()["dpop-nonce"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(refusal(response).await.1, "use_dpop_nonce");
    let mut extras = full_extras(&issuer, &provider, &wallet);
    extras.dpop = Some(wallet.dpop(&format!("{}/token", issuer.url), Some(&nonce), None));
    let response = token(&issuer, &code, &pin, extras).await;
    assert_eq!(response.status(), StatusCode::OK);
    let next_nonce = response.headers()["dpop-nonce"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP");
    let access_token = body["access_token"].as_str().unwrap();

    let c_nonce = issuer.nonce().await;
    let holder = SigningKey::generate().unwrap();
    let attestation = provider.key_attestation(&[&holder], Some(c_nonce.as_str()));
    let proof =
        WalletInstance::key_proof(&holder, &issuer.url, c_nonce.as_str(), Some(&attestation));
    let dpop = wallet.dpop(
        &format!("{}/credential", issuer.url),
        Some(&next_nonce),
        Some(access_token),
    );
    let response = credential(
        &issuer,
        "DPoP",
        access_token,
        Some(dpop),
        json!({"jwt": [proof]}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = CredentialResponse::from_json(&response.bytes().await.unwrap()).unwrap();
    let issued = &response.credentials.unwrap()[0];
    let sd_jwt = SdJwt::parse(issued.as_compact().unwrap()).unwrap();
    let cnf = &sd_jwt.payload()["cnf"]["jwk"];
    assert_eq!(cnf, &serde_json::to_value(holder.public_jwk()).unwrap());
}

#[tokio::test]
async fn haip_attestation_proof_type_issues_one_credential_per_attested_key() {
    let dir = TempDir::new("haip-attestation-proof");
    let provider = WalletProvider::new("Provider A");
    let issuer = haip_issuer("haip-attestation-proof", &provider, &dir, |_| {}).await;
    let wallet = WalletInstance::new(CLIENT);
    let access_token = bound_token(&issuer, &provider, &wallet).await;
    let keys = [
        SigningKey::generate().unwrap(),
        SigningKey::generate().unwrap(),
    ];
    let c_nonce = issuer.nonce().await;
    let attestation = provider.key_attestation(&[&keys[0], &keys[1]], Some(c_nonce.as_str()));
    let dpop = credential_dpop(&issuer, &wallet, &access_token);
    let response = credential(
        &issuer,
        "DPoP",
        &access_token,
        dpop,
        json!({"attestation": [attestation]}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["credentials"].as_array().unwrap().len(), 2);

    // Without a nonce, an attestation proof proves no freshness.
    let access_token = bound_token(&issuer, &provider, &wallet).await;
    let attestation = provider.key_attestation(&[&keys[0]], None);
    let dpop = credential_dpop(&issuer, &wallet, &access_token);
    let response = credential(
        &issuer,
        "DPoP",
        &access_token,
        dpop,
        json!({"attestation": [attestation]}),
    )
    .await;
    let (status, error, description) = refusal(response).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_proof")
    );
    assert!(description.contains("nonce"), "{description}");
}

#[tokio::test]
async fn haip_token_without_dpop_is_invalid_dpop_proof() {
    let dir = TempDir::new("haip-no-dpop");
    let provider = WalletProvider::new("Provider A");
    let issuer = haip_issuer("haip-no-dpop", &provider, &dir, |_| {}).await;
    let wallet = WalletInstance::new(CLIENT);
    let (code, pin) = pre_authorized_code(&issuer).await;
    let mut extras = full_extras(&issuer, &provider, &wallet);
    extras.dpop = None;
    let (status, error, _) = refusal(token(&issuer, &code, &pin, extras).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_dpop_proof")
    );
    // The code was not spent by the refusal.
    let response = token(
        &issuer,
        &code,
        &pin,
        full_extras(&issuer, &provider, &wallet),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn dpop_proof_refusals_at_the_token_endpoint() {
    let dir = TempDir::new("haip-dpop-refusals");
    let provider = WalletProvider::new("Provider A");
    let issuer = haip_issuer("haip-dpop-refusals", &provider, &dir, |_| {}).await;
    let wallet = WalletInstance::new(CLIENT);
    let (code, pin) = pre_authorized_code(&issuer).await;
    let nonce = server_nonce(&issuer);
    let cases: Vec<(String, &str, &str)> = vec![
        (
            wallet.dpop(
                &format!("{}/credential", issuer.url),
                nonce.as_deref(),
                None,
            ),
            "invalid_dpop_proof",
            "htu",
        ),
        (
            wallet.dpop(&format!("{}/token", issuer.url), Some("stale-nonce"), None),
            "use_dpop_nonce",
            "nonce",
        ),
        ("not.a.jwt".into(), "invalid_dpop_proof", "compact JWS"),
    ];
    for (dpop, code_expected, words) in cases {
        let mut extras = full_extras(&issuer, &provider, &wallet);
        extras.dpop = Some(dpop);
        let (status, error, description) = refusal(token(&issuer, &code, &pin, extras).await).await;
        assert_eq!(
            (status, error.as_str()),
            (StatusCode::BAD_REQUEST, code_expected),
            "{description}"
        );
        assert!(description.contains(words), "{description}");
    }
    // A replayed proof (same jti) is refused even though the first use failed later.
    let replayed = wallet.dpop(&format!("{}/token", issuer.url), nonce.as_deref(), None);
    let mut first = full_extras(&issuer, &provider, &wallet);
    first.dpop = Some(replayed.clone());
    first.attestation = None;
    assert_eq!(
        refusal(token(&issuer, &code, &pin, first).await).await.1,
        "invalid_client"
    );
    let mut again = full_extras(&issuer, &provider, &wallet);
    again.dpop = Some(replayed);
    let (_, error, description) = refusal(token(&issuer, &code, &pin, again).await).await;
    assert_eq!(error, "invalid_dpop_proof");
    assert!(description.contains("already used"), "{description}");
    // Two DPoP headers.
    let response = issuer
        .http
        .post(format!("{}/token", issuer.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("DPoP", wallet.dpop(&format!("{}/token", issuer.url), nonce.as_deref(), None))
        .header("DPoP", wallet.dpop(&format!("{}/token", issuer.url), nonce.as_deref(), None))
        .body(format!("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code={}&tx_code={pin}", code.as_str()))
        .send()
        .await
        .unwrap();
    let (_, error, description) = refusal(response).await;
    assert_eq!(error, "invalid_dpop_proof");
    assert!(description.contains("more than one"), "{description}");
}

#[tokio::test]
async fn wallet_attestation_refusals_name_the_check() {
    let dir = TempDir::new("haip-wia-refusals");
    let provider = WalletProvider::new("Provider A");
    let stranger = WalletProvider::new("Provider B");
    let status_server = StatusServer::start(&provider, &[3]).await;
    let issuer = haip_issuer("haip-wia-refusals", &provider, &dir, |_| {}).await;
    let wallet = WalletInstance::new(CLIENT);
    let (code, pin) = pre_authorized_code(&issuer).await;
    let key = &wallet.instance_key;
    let claims = || provider.attestation_claims(CLIENT, key);

    let mut revoked = claims();
    revoked.status = Some(WalletProvider::status_claim(&status_server.uri, 3));
    let mut someone_else = claims();
    someone_else.sub = "another-wallet".into();
    let mut wrong_aud = wallet.pop_claims(&issuer.url);
    wrong_aud.aud = Audience::One("https://evil.example".into());
    let other_instance = WalletInstance::new(CLIENT);

    let mut unreachable = claims();
    unreachable.status = Some(WalletProvider::status_claim(&closed_port_uri().await, 1));
    let cases: Vec<(Option<String>, Option<String>, &str)> = vec![
        (
            Some(provider.sign_attestation(&unreachable)),
            Some(wallet.pop(&issuer.url)),
            "status could not be checked",
        ),
        (
            None,
            Some(wallet.pop(&issuer.url)),
            "wallet attestation missing",
        ),
        (
            Some(provider.wallet_attestation(CLIENT, key)),
            None,
            "PoP missing",
        ),
        (None, None, "wallet attestation missing"),
        (
            Some(provider.expired_attestation(CLIENT, key)),
            Some(wallet.pop(&issuer.url)),
            "expired",
        ),
        (
            Some(stranger.wallet_attestation(CLIENT, key)),
            Some(wallet.pop(&issuer.url)),
            "untrusted wallet provider",
        ),
        (
            Some(provider.forged_attestation(CLIENT, key)),
            Some(wallet.pop(&issuer.url)),
            "signature does not verify",
        ),
        (
            Some(provider.sign_attestation_x5c(&claims(), provider.self_issued_x5c())),
            Some(wallet.pop(&issuer.url)),
            "self-signed",
        ),
        (
            Some(provider.sign_attestation_x5c(&claims(), provider.x5c_with_root())),
            Some(wallet.pop(&issuer.url)),
            "trust anchor",
        ),
        (
            Some(provider.sign_attestation(&someone_else)),
            Some(wallet.pop(&issuer.url)),
            "is not the client_id",
        ),
        (
            Some(provider.wallet_attestation(CLIENT, key)),
            Some(wallet.sign_pop(&wrong_aud)),
            "aud",
        ),
        (
            Some(provider.wallet_attestation(CLIENT, key)),
            Some(other_instance.pop(&issuer.url)),
            "not signed by the attested key",
        ),
        (
            Some(provider.sign_attestation(&revoked)),
            Some(wallet.pop(&issuer.url)),
            "revoked",
        ),
    ];
    for (attestation, pop, words) in cases {
        let mut extras = full_extras(&issuer, &provider, &wallet);
        extras.attestation = attestation;
        extras.pop = pop;
        let (status, error, description) = refusal(token(&issuer, &code, &pin, extras).await).await;
        assert_eq!(
            (status, error.as_str()),
            (StatusCode::UNAUTHORIZED, "invalid_client"),
            "{words}: {description}"
        );
        assert!(description.contains(words), "{words}: {description}");
    }
    // A valid status entry passes; a PoP is single use.
    let mut valid = claims();
    valid.status = Some(WalletProvider::status_claim(&status_server.uri, 4));
    let pop = wallet.pop(&issuer.url);
    let mut extras = full_extras(&issuer, &provider, &wallet);
    extras.attestation = Some(provider.sign_attestation(&valid));
    extras.pop = Some(pop.clone());
    assert_eq!(
        token(&issuer, &code, &pin, extras).await.status(),
        StatusCode::OK
    );
    let (code, pin) = pre_authorized_code(&issuer).await;
    let mut extras = full_extras(&issuer, &provider, &wallet);
    extras.pop = Some(pop);
    let (_, error, description) = refusal(token(&issuer, &code, &pin, extras).await).await;
    assert_eq!(error, "invalid_client");
    assert!(description.contains("already used"), "{description}");
}

#[tokio::test]
async fn dpop_bound_token_refusals_at_the_credential_endpoint() {
    let dir = TempDir::new("haip-resource");
    let provider = WalletProvider::new("Provider A");
    let issuer = haip_issuer("haip-resource", &provider, &dir, |_| {}).await;
    let wallet = WalletInstance::new(CLIENT);
    let access_token = bound_token(&issuer, &provider, &wallet).await;
    let holder = SigningKey::generate().unwrap();
    let c_nonce = issuer.nonce().await;
    let attestation = provider.key_attestation(&[&holder], None);
    let proofs = json!({"jwt": [WalletInstance::key_proof(&holder, &issuer.url, c_nonce.as_str(), Some(&attestation))]});
    let challenge = |response: &reqwest::Response| {
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned()
    };

    // As Bearer.
    let response = credential(&issuer, "Bearer", &access_token, None, proofs.clone()).await;
    let header = challenge(&response);
    assert!(
        header.starts_with("DPoP ") && header.contains("algs=\"ES256\""),
        "{header}"
    );
    let (status, error, description) = refusal(response).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );
    assert!(description.contains("DPoP-bound"), "{description}");
    // With a proof by another key.
    let thief = WalletInstance::new(CLIENT);
    let response = credential(
        &issuer,
        "DPoP",
        &access_token,
        credential_dpop(&issuer, &thief, &access_token),
        proofs.clone(),
    )
    .await;
    assert!(challenge(&response).contains("error=\"invalid_token\""));
    assert_eq!(refusal(response).await.1, "invalid_token");
    // Without a proof, and without ath.
    let response = credential(&issuer, "DPoP", &access_token, None, proofs.clone()).await;
    assert_eq!(refusal(response).await.1, "invalid_dpop_proof");
    let no_ath = wallet.dpop(
        &format!("{}/credential", issuer.url),
        server_nonce(&issuer).as_deref(),
        None,
    );
    let response = credential(&issuer, "DPoP", &access_token, Some(no_ath), proofs.clone()).await;
    let (status, error, description) = refusal(response).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_dpop_proof")
    );
    assert!(description.contains("ath"), "{description}");
    // With a stale nonce: a fresh one comes back in DPoP-Nonce.
    let stale = wallet.dpop(
        &format!("{}/credential", issuer.url),
        Some("old"),
        Some(&access_token),
    );
    let response = credential(&issuer, "DPoP", &access_token, Some(stale), proofs.clone()).await;
    assert!(challenge(&response).contains("use_dpop_nonce"));
    assert!(response.headers().contains_key("dpop-nonce"));
    // And rightly.
    let response = credential(
        &issuer,
        "DPoP",
        &access_token,
        credential_dpop(&issuer, &wallet, &access_token),
        proofs,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn key_attestation_refusals_are_invalid_proof_naming_the_check() {
    let dir = TempDir::new("haip-ka-refusals");
    let provider = WalletProvider::new("Provider A");
    let stranger = WalletProvider::new("Provider B");
    let issuer = haip_issuer("haip-ka-refusals", &provider, &dir, |config| {
        config.credential_policies.insert(
            REGISTRATION_CERTIFICATE.into(),
            CredentialPolicy {
                user_authentication: Some(vec!["iso_18045_high".into()]),
                ..CredentialPolicy::default()
            },
        );
    })
    .await;
    let wallet = WalletInstance::new(CLIENT);
    let holder = SigningKey::generate().unwrap();
    let other = SigningKey::generate().unwrap();
    let mut weak = provider.key_attestation_claims(&[&holder], None);
    weak.user_authentication = Some(vec!["iso_18045_moderate".into()]);
    let mut expired = provider.key_attestation_claims(&[&holder], None);
    expired.exp = Some(intyg_issuer::now() - 3600);
    let status_server = StatusServer::start(&provider, &[9]).await;
    let mut revoked = provider.key_attestation_claims(&[&holder], None);
    revoked.status = Some(WalletProvider::status_claim(&status_server.uri, 9));
    let mut unreachable = provider.key_attestation_claims(&[&holder], None);
    unreachable.status = Some(WalletProvider::status_claim(&closed_port_uri().await, 1));
    let cases: Vec<(Option<String>, &str)> = vec![
        (None, "key attestation missing"),
        (Some(provider.sign_key_attestation(&revoked)), "revoked"),
        (
            Some(provider.sign_key_attestation(&unreachable)),
            "status could not be checked",
        ),
        (
            Some(provider.key_attestation(&[&other], None)),
            "does not contain the proof key",
        ),
        (
            Some(stranger.key_attestation(&[&holder], None)),
            "untrusted wallet provider",
        ),
        (
            Some(provider.sign_key_attestation(&weak)),
            "user_authentication",
        ),
        (Some(provider.sign_key_attestation(&expired)), "expired"),
        (
            Some(provider.key_attestation(&[&holder], Some("another-nonce"))),
            "nonce",
        ),
    ];
    for (attestation, words) in cases {
        let access_token = bound_token(&issuer, &provider, &wallet).await;
        let c_nonce = issuer.nonce().await;
        let proof = WalletInstance::key_proof(
            &holder,
            &issuer.url,
            c_nonce.as_str(),
            attestation.as_deref(),
        );
        let dpop = credential_dpop(&issuer, &wallet, &access_token);
        let response = credential(
            &issuer,
            "DPoP",
            &access_token,
            dpop,
            json!({"jwt": [proof]}),
        )
        .await;
        let (status, error, description) = refusal(response).await;
        assert_eq!(
            (status, error.as_str()),
            (StatusCode::BAD_REQUEST, "invalid_proof"),
            "{words}: {description}"
        );
        assert!(description.contains(words), "{words}: {description}");
    }
    // The metadata says what the configuration demands.
    let metadata: Value = issuer
        .http
        .get(format!(
            "{}/.well-known/openid-credential-issuer",
            issuer.url
        ))
        .fetch_json()
        .await;
    assert_eq!(
        metadata["credential_configurations_supported"][REGISTRATION_CERTIFICATE]["proof_types_supported"]
            ["jwt"]["key_attestations_required"],
        json!({"user_authentication": ["iso_18045_high"]})
    );
}

#[tokio::test]
async fn basic_profile_binds_tokens_when_dpop_is_offered_and_still_serves_bearer() {
    let issuer = TestIssuer::start("basic-dpop").await;
    let wallet = WalletInstance::new(CLIENT);
    let (code, pin) = pre_authorized_code(&issuer).await;
    assert_eq!(server_nonce(&issuer), None, "basic demands no DPoP nonce");
    let extras = Extras {
        dpop: Some(wallet.dpop(&format!("{}/token", issuer.url), None, None)),
        ..Extras::default()
    };
    let response = token(&issuer, &code, &pin, extras).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP");
    let access_token = body["access_token"].as_str().unwrap();
    let holder = SigningKey::generate().unwrap();
    let c_nonce = issuer.nonce().await;
    // An EUDI wallet's key attestation, from a provider this issuer has no
    // roots for: not asked for, so not evaluated.
    let unknown = WalletProvider::new("Unknown provider");
    let attestation = unknown.key_attestation(&[&holder], Some(c_nonce.as_str()));
    let proofs = json!({"jwt": [WalletInstance::key_proof(&holder, &issuer.url, c_nonce.as_str(), Some(&attestation))]});
    let response = credential(&issuer, "Bearer", access_token, None, proofs.clone()).await;
    assert_eq!(refusal(response).await.1, "invalid_token");
    let response = credential(
        &issuer,
        "DPoP",
        access_token,
        credential_dpop(&issuer, &wallet, access_token),
        proofs,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);

    // Without DPoP: a Bearer token, as before.
    let (code, pin) = pre_authorized_code(&issuer).await;
    let response = token(&issuer, &code, &pin, Extras::default()).await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    let as_metadata: Value = issuer
        .http
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            issuer.url
        ))
        .fetch_json()
        .await;
    assert_eq!(
        as_metadata["token_endpoint_auth_methods_supported"],
        json!(["none"]),
        "no wallet provider roots: no attestation to check"
    );
}

#[tokio::test]
async fn basic_profile_with_roots_checks_an_attestation_when_sent() {
    let dir = TempDir::new("basic-roots");
    let provider = WalletProvider::new("Provider A");
    let stranger = WalletProvider::new("Provider B");
    let root = provider.write_root(&dir);
    let issuer = TestIssuer::start_with("basic-roots", move |config| {
        config.wallet_provider_roots = vec![root];
    })
    .await;
    let as_metadata: Value = issuer
        .http
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            issuer.url
        ))
        .fetch_json()
        .await;
    assert_eq!(
        as_metadata["token_endpoint_auth_methods_supported"],
        json!(["none", "attest_jwt_client_auth"])
    );
    let wallet = WalletInstance::new(CLIENT);
    let (code, pin) = pre_authorized_code(&issuer).await;
    let untrusted = Extras {
        attestation: Some(stranger.wallet_attestation(CLIENT, &wallet.instance_key)),
        pop: Some(wallet.pop(&issuer.url)),
        ..Extras::default()
    };
    let (status, error, _) = refusal(token(&issuer, &code, &pin, untrusted).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_client")
    );
    let trusted = Extras {
        attestation: Some(provider.wallet_attestation(CLIENT, &wallet.instance_key)),
        pop: Some(wallet.pop(&issuer.url)),
        ..Extras::default()
    };
    let response = token(&issuer, &code, &pin, trusted).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    // A key attestation is checked too when sent.
    let access_token = body["access_token"].as_str().unwrap();
    let holder = SigningKey::generate().unwrap();
    let c_nonce = issuer.nonce().await;
    let attestation = stranger.key_attestation(&[&holder], None);
    let proof =
        WalletInstance::key_proof(&holder, &issuer.url, c_nonce.as_str(), Some(&attestation));
    let response = credential(
        &issuer,
        "Bearer",
        access_token,
        None,
        json!({"jwt": [proof]}),
    )
    .await;
    let (status, error, description) = refusal(response).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_proof")
    );
    assert!(
        description.contains("untrusted wallet provider"),
        "{description}"
    );
}

/// A status list URI on a loopback port nothing listens on.
async fn closed_port_uri() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}/status/1", listener.local_addr().unwrap());
    drop(listener);
    uri
}

/// A wallet provider's status list served on loopback.
struct StatusServer {
    uri: String,
    server: tokio::task::JoinHandle<()>,
}

impl StatusServer {
    async fn start(provider: &WalletProvider, revoked: &[u64]) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let uri = format!("http://{}/status/1", listener.local_addr().unwrap());
        let token = provider.status_list(&uri, revoked);
        let router = axum::Router::new().route(
            "/status/1",
            get(move || async move { ([("content-type", "application/statuslist+jwt")], token) }),
        );
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Self { uri, server }
    }
}

impl Drop for StatusServer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

#[tokio::test]
async fn wallet_providers_come_from_a_trust_list() {
    use intyg_core::trust::Certificate;
    use intyg_core::trust::lote::{ListProfile, ServiceType};
    use intyg_testkit::lote::{ListOperator, ListServer, entity, list};

    let dir = TempDir::new("haip-lists");
    let provider = WalletProvider::new("Listed provider");
    let root = Certificate::from_pem(&std::fs::read_to_string(provider.write_root(&dir)).unwrap())
        .unwrap()
        .remove(0);
    let listed = |sequence: u64, named: bool| {
        let entities = if named {
            vec![entity(
                "Listed provider",
                &ServiceType::WalletSolutionIssuance,
                &root,
                None,
            )]
        } else {
            Vec::new()
        };
        list(ListProfile::WalletProviders, sequence, 3600, entities)
    };
    let server = ListServer::start().await;
    let operator = ListOperator::new("Wallet scheme operator");
    server.publish("wallets.jwt", operator.sign(&listed(1, true)));
    let source = intyg_service::trust_lists::TrustListSource {
        url: server.url("wallets.jwt"),
        signer: operator.write_ca(dir.path(), "operator.pem"),
    };
    // No wallet provider root configured: the list is the only source.
    let issuer = TestIssuer::start_with("haip-lists", move |config| {
        config.profile = Profile::Haip;
        config.dpop_nonce = Some(true);
        config.trust_lists = vec![source];
        config.trust_list_refresh.interval_seconds = Some(86_400);
    })
    .await;
    let refresh = || async {
        issuer.state.trust_lists.refresh_now().await;
        issuer
            .state
            .wallet_providers
            .apply(&issuer.state.trust_lists);
    };
    refresh().await;
    let health: Value = issuer
        .http
        .get(format!("{}/healthz", issuer.url))
        .fetch_json()
        .await;
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["trust_lists"][0]["scheme"], "Test wallet providers");
    let metrics = issuer
        .http
        .get(format!("{}/metrics", issuer.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let list_url = server.url("wallets.jwt");
    for line in [
        format!("intyg_trust_list_state{{state=\"ok\",url=\"{list_url}\"}} 1"),
        format!("intyg_trust_list_state{{state=\"failed\",url=\"{list_url}\"}} 0"),
    ] {
        assert!(metrics.contains(&line), "{line} in {metrics}");
    }
    assert!(
        metrics.contains(&format!(
            "intyg_trust_list_age_seconds{{url=\"{list_url}\"}}"
        )),
        "{metrics}"
    );
    let wallet = WalletInstance::new(CLIENT);
    bound_token(&issuer, &provider, &wallet).await;

    // A provider the list does not name is refused.
    let stranger = WalletProvider::new("Unlisted provider");
    let (code, pin) = pre_authorized_code(&issuer).await;
    let response = token(
        &issuer,
        &code,
        &pin,
        full_extras(&issuer, &stranger, &wallet),
    )
    .await;
    let (status, _, description) = refusal(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{description}");
    assert!(
        description.contains("untrusted wallet provider"),
        "{description}"
    );

    // Once the list drops the provider, after the next refresh, so is it.
    server.publish("wallets.jwt", operator.sign(&listed(2, false)));
    refresh().await;
    let (code, pin) = pre_authorized_code(&issuer).await;
    let response = token(
        &issuer,
        &code,
        &pin,
        full_extras(&issuer, &provider, &wallet),
    )
    .await;
    let (status, _, description) = refusal(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{description}");
}
