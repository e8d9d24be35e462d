//! The authorization code flow (OpenID4VCI 1.0 §3.4, §5, §6) against the
//! real issuer with the development IdP, both in-process over loopback.
//! The test plays the browser: it opens the wallet's authorization URL,
//! follows every redirect through the issuer to the IdP's login page,
//! picks a test person (or cancels), and follows the redirects back until
//! one leaves for the wallet's redirect URI. Then the refusals: a forged
//! `state`, a cancelled login, a person with nothing to issue, a tampered
//! PKCE verifier.

use intyg_core::oid4vci::CredentialConfigurationId;
use intyg_core::sd_jwt::{SdJwt, VerifyOptions};
use intyg_core::vc;
use intyg_testkit::{
    AMIRA, KARIN, Login, REGISTRATION_CERTIFICATE as CONFIGURATION, TempDir, TestIssuer,
};
use intyg_wallet::authorize::PendingAuthorization;
use intyg_wallet::receive::{Offer, ReceiveError};
use intyg_wallet::{CredentialStatus, EventKind, EventResult, Wallet};

use crate::new_wallet;

const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

/// The issuer with the development IdP, a registration certificate
/// registered for Karin, and an empty wallet in its directory.
async fn setup(name: &str) -> (TestIssuer, TempDir, Wallet) {
    let issuer = TestIssuer::start_with_dev_idp(name).await;
    issuer.admin.offer(CONFIGURATION, KARIN).await;
    let dir = TempDir::new(name);
    let wallet = new_wallet(&dir);
    (issuer, dir, wallet)
}

/// Begins the flow for `offer` and plays the browser through the login
/// (`login` at the IdP's page): the pending authorization and the
/// callback URL for the wallet.
async fn log_in(
    wallet: &Wallet,
    issuer: &TestIssuer,
    offer: &Offer,
    login: Login<'_>,
) -> (PendingAuthorization, String) {
    let pending = wallet
        .begin_authorization(offer, &configuration(), REDIRECT_URI)
        .await
        .unwrap();
    let callback = issuer.log_in(pending.authorization_url(), login).await;
    assert!(callback.starts_with(REDIRECT_URI), "{callback}");
    (pending, callback)
}

fn configuration() -> Vec<CredentialConfigurationId> {
    vec![CredentialConfigurationId::try_from(CONFIGURATION).unwrap()]
}

fn assert_nothing_stored(wallet: &Wallet) {
    assert!(wallet.credentials().is_empty());
    assert!(wallet.history().unwrap().is_empty());
}

#[tokio::test]
async fn offer_with_an_authorization_code_grant_is_received_after_a_browser_login() {
    let (issuer, _dir, mut wallet) = setup("code-offer").await;

    let offer = wallet
        .fetch_offer(&issuer.code_offer(CONFIGURATION, "issuer-state-1"))
        .await
        .unwrap();
    assert!(!offer.has_pre_authorized_code());
    assert!(offer.supports_authorization_code());
    assert!(matches!(
        wallet.accept(offer.clone(), None).await,
        Err(ReceiveError::NoPreAuthorizedGrant)
    ));

    let pending = wallet
        .begin_authorization(&offer, &configuration(), REDIRECT_URI)
        .await
        .unwrap();
    // The issuer has a PAR endpoint: the URL carries only a request_uri.
    let url = pending.authorization_url();
    assert!(
        url.starts_with(&format!(
            "{}/authorize?client_id=intyg-wallet&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A",
            issuer.url
        )),
        "{url}"
    );
    assert!(!url.contains("code_challenge"), "{url}");
    assert_eq!(pending.redirect_uri(), REDIRECT_URI);
    assert_nothing_stored(&wallet);

    let callback = issuer.log_in(url, Login::As(KARIN)).await;
    assert!(callback.starts_with(REDIRECT_URI), "{callback}");
    assert!(
        callback.contains(&format!("state={}", pending.state())),
        "{callback}"
    );
    let received = wallet
        .finish_authorization(pending, &callback)
        .await
        .unwrap();

    assert_eq!(received.credentials.len(), 1);
    let entry = &received.credentials[0];
    assert_eq!(entry.copies, 3);
    assert_eq!(entry.claims["personal_identity_number"], KARIN);
    assert_eq!(entry.configuration_id.as_deref(), Some(CONFIGURATION));
    assert_eq!(entry.status.status, CredentialStatus::Valid);
    assert!(entry.status.checked_at.is_some());
    let key = issuer.published_key().await;
    let stored = wallet.credential(&entry.id).unwrap();
    assert_eq!(stored.copies.len(), 3);
    for copy in &stored.copies {
        vc::verify(
            SdJwt::parse(&copy.sd_jwt).unwrap(),
            &key,
            &VerifyOptions::at(intyg_issuer::now()),
            None,
        )
        .unwrap();
    }
    let history = wallet.history().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].kind, EventKind::Issuance);
    assert_eq!(history[0].counterparty, issuer.url);
    assert_eq!(history[0].result, EventResult::Success);
    assert_eq!(issuer.admin.credentials(KARIN).await[0]["state"], "issued");
}

#[tokio::test]
async fn wallet_initiated_request_survives_a_restart_of_the_app() {
    let (issuer, _dir, mut wallet) = setup("wallet-initiated").await;

    let offer = wallet
        .fetch_issuer(&format!("{}/", issuer.url))
        .await
        .unwrap();
    assert_eq!(offer.issuer(), issuer.url);
    let offered: Vec<String> = offer.credentials("en").into_iter().map(|c| c.0).collect();
    assert!(offered.contains(&CONFIGURATION.to_owned()), "{offered:?}");
    assert!(offer.supports_authorization_code());
    assert!(matches!(
        wallet.begin_authorization(&offer, &[], REDIRECT_URI).await,
        Err(ReceiveError::NoConfiguration)
    ));
    assert!(matches!(
        wallet
            .begin_authorization(&offer, &configuration(), "/relative")
            .await,
        Err(ReceiveError::InvalidRedirectUri(_))
    ));
    // The issuer refuses a plain-http redirect off the machine at PAR.
    match wallet
        .begin_authorization(&offer, &configuration(), "http://wallet.example/cb")
        .await
    {
        Err(ReceiveError::ParRefused { error, description }) => {
            assert_eq!(error, "invalid_request");
            assert!(
                description
                    .as_deref()
                    .unwrap_or_default()
                    .contains("redirect_uri"),
                "{description:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    let (pending, callback) = log_in(&wallet, &issuer, &offer, Login::As(KARIN)).await;

    // The app is stopped during the login and picks up where it was.
    let saved = serde_json::to_string(&pending).unwrap();
    drop(pending);
    let pending: PendingAuthorization = serde_json::from_str(&saved).unwrap();
    let received = wallet
        .finish_authorization(pending, &callback)
        .await
        .unwrap();
    assert_eq!(
        received.credentials[0].claims["personal_identity_number"],
        KARIN
    );
    assert_eq!(wallet.credentials().len(), 1);
}

#[tokio::test]
async fn a_forged_state_or_another_redirect_is_refused_and_the_code_survives() {
    let (issuer, _dir, mut wallet) = setup("forged-state").await;
    let offer = wallet
        .fetch_offer(&issuer.code_offer(CONFIGURATION, "st"))
        .await
        .unwrap();
    let (pending, callback) = log_in(&wallet, &issuer, &offer, Login::As(KARIN)).await;

    let forged = callback.replace(
        &format!("state={}", pending.state()),
        "state=0123456789abcdef0123456789abcdef",
    );
    assert_ne!(forged, callback);
    let refused = wallet
        .finish_authorization(pending.clone(), &forged)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, ReceiveError::StateMismatch),
        "{refused:?}"
    );
    assert_eq!(refused.code(), "state_mismatch");
    let stateless = callback.replace(&format!("state={}", pending.state()), "");
    assert!(matches!(
        wallet
            .finish_authorization(pending.clone(), &stateless)
            .await,
        Err(ReceiveError::StateMismatch)
    ));
    let elsewhere = callback.replace("http://127.0.0.1:9/callback", "http://127.0.0.1:9/other");
    let refused = wallet
        .finish_authorization(pending.clone(), &elsewhere)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, ReceiveError::CallbackMismatch(_)),
        "{refused:?}"
    );
    assert!(!refused.to_string().contains("code="), "{refused}");
    // RFC 9207: an answer naming another authorization server (mix-up).
    let iss: String = url::form_urlencoded::byte_serialize(issuer.url.as_bytes()).collect();
    assert!(callback.contains(&format!("iss={iss}")), "{callback}");
    let mixed_up = callback.replace(&format!("iss={iss}"), "iss=https%3A%2F%2Fother-as.example");
    let refused = wallet
        .finish_authorization(pending.clone(), &mixed_up)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, ReceiveError::AuthorizationServerMismatch { .. }),
        "{refused:?}"
    );
    let doubled = format!("{callback}&code=again");
    assert!(matches!(
        wallet.finish_authorization(pending.clone(), &doubled).await,
        Err(ReceiveError::InvalidCallback(_))
    ));
    assert_nothing_stored(&wallet);

    // None of those redeemed the code: the real callback still works.
    wallet
        .finish_authorization(pending, &callback)
        .await
        .unwrap();
    assert_eq!(wallet.credentials().len(), 1);
}

#[tokio::test]
async fn a_cancelled_login_or_nothing_to_issue_is_access_denied() {
    let (issuer, _dir, mut wallet) = setup("denied").await;
    let offer = wallet.fetch_issuer(&issuer.url).await.unwrap();

    let (pending, callback) = log_in(&wallet, &issuer, &offer, Login::Cancel).await;
    assert!(callback.contains("error=access_denied"), "{callback}");
    let refused = wallet
        .finish_authorization(pending, &callback)
        .await
        .unwrap_err();
    match &refused {
        ReceiveError::AuthorizationRefused { error, .. } => assert_eq!(error, "access_denied"),
        other => panic!("{other:?}"),
    }
    assert_eq!(refused.code(), "access_denied");

    // Amira logs in, but the agency registered nothing for her.
    let (pending, callback) = log_in(&wallet, &issuer, &offer, Login::As(AMIRA)).await;
    let refused = wallet
        .finish_authorization(pending, &callback)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "access_denied");
    assert!(
        refused
            .to_string()
            .contains("no registration-certificate waiting"),
        "{refused}"
    );
    assert_nothing_stored(&wallet);
    assert_eq!(issuer.admin.credentials(KARIN).await[0]["state"], "offered");
}

#[tokio::test]
async fn a_tampered_code_verifier_is_refused_by_the_issuer() {
    let (issuer, _dir, mut wallet) = setup("pkce").await;
    let offer = wallet.fetch_issuer(&issuer.url).await.unwrap();
    let (pending, callback) = log_in(&wallet, &issuer, &offer, Login::As(KARIN)).await;

    let mut saved = serde_json::to_value(&pending).unwrap();
    let original = saved["code_verifier"].as_str().unwrap().to_owned();
    assert_eq!(original.len(), 43, "256 random bits, base64url");
    let mut bad = saved.clone();
    bad["code_verifier"] = "too-short".into();
    assert!(serde_json::from_value::<PendingAuthorization>(bad).is_err());
    saved["code_verifier"] = "x".repeat(43).into();
    let tampered: PendingAuthorization = serde_json::from_value(saved).unwrap();
    match wallet.finish_authorization(tampered, &callback).await {
        Err(ReceiveError::TokenRefused { error, description }) => {
            assert_eq!(error, "invalid_grant");
            assert!(
                description
                    .as_deref()
                    .unwrap_or_default()
                    .contains("code_verifier"),
                "{description:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_nothing_stored(&wallet);
    assert_eq!(issuer.admin.credentials(KARIN).await[0]["state"], "offered");
}
