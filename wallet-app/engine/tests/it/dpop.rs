//! DPoP (RFC 9449) and the issuers' attestation demands, against the real
//! issuer over loopback.
//!
//! The issuer here requires DPoP for the registration certificate
//! (`credential_policies`) and demands server nonces (`dpop_nonce`), so a
//! receive that succeeds proves what the wallet did: its first proof at
//! the token endpoint cannot carry a nonce (none was handed out before),
//! and neither can its first proof at the credential endpoint (the
//! credential endpoint's nonce is kept apart from the authorization
//! server's, §9); each was answered `use_dpop_nonce` with a `DPoP-Nonce`
//! and retried once with it, and the access token was DPoP-bound (the
//! policy refuses Bearer). Then the issuers that only certified wallets
//! can use: the wallet says so, with its own code, and sends no fake
//! attestation.

use intyg_core::oid4vci::CredentialConfigurationId;
use intyg_issuer::config::Config;
use intyg_issuer::policy::{CredentialPolicy, Profile};
use intyg_testkit::{KARIN, Login, REGISTRATION_CERTIFICATE, TempDir, TestIssuer, WalletProvider};
use intyg_wallet::receive::ReceiveError;

use crate::new_wallet;

/// DPoP required for the registration certificate, nonces demanded.
fn dpop_with_nonces(config: &mut Config) {
    config.dpop_nonce = Some(true);
    config.credential_policies.insert(
        REGISTRATION_CERTIFICATE.into(),
        CredentialPolicy {
            dpop: Some(true),
            ..CredentialPolicy::default()
        },
    );
}

#[tokio::test]
async fn pre_authorized_receive_with_dpop_and_nonce_retries_at_both_endpoints() {
    let issuer = TestIssuer::start_with("dpop-nonce", dpop_with_nonces).await;
    let dir = TempDir::new("dpop-nonce");
    let mut wallet = new_wallet(&dir);
    let created = issuer.admin.offer(REGISTRATION_CERTIFICATE, KARIN).await;
    let offer = wallet.fetch_offer(&created.offer_uri).await.unwrap();
    assert_eq!(
        offer
            .authorization_server
            .dpop_signing_alg_values_supported
            .as_deref(),
        Some(&["ES256".to_owned()][..])
    );
    let received = wallet.accept(offer, Some(&created.tx_code)).await.unwrap();
    assert_eq!(received.credentials.len(), 1);
    assert_eq!(received.credentials[0].copies, 3);
}

#[tokio::test]
async fn authorization_code_flow_binds_par_token_and_credential_to_one_dpop_key() {
    let issuer = TestIssuer::start_with_dev_idp_and("dpop-code", dpop_with_nonces).await;
    issuer.admin.offer(REGISTRATION_CERTIFICATE, KARIN).await;
    let dir = TempDir::new("dpop-code");
    let mut wallet = new_wallet(&dir);
    let offer = wallet
        .fetch_offer(&issuer.code_offer(REGISTRATION_CERTIFICATE, "state-dpop"))
        .await
        .unwrap();
    assert!(
        offer
            .authorization_server
            .pushed_authorization_request_endpoint
            .is_some()
    );
    let configurations =
        vec![CredentialConfigurationId::try_from(REGISTRATION_CERTIFICATE).unwrap()];
    let pending = wallet
        .begin_authorization(&offer, &configurations, "http://127.0.0.1:9/callback")
        .await
        .unwrap();
    // The DPoP key crosses the browser login inside the pending
    // authorization, as the app and the CLI keep it.
    let pending: intyg_wallet::authorize::PendingAuthorization =
        serde_json::from_str(&serde_json::to_string(&pending).unwrap()).unwrap();
    let callback = issuer
        .log_in(pending.authorization_url(), Login::As(KARIN))
        .await;
    let received = wallet
        .finish_authorization(pending, &callback)
        .await
        .unwrap();
    assert_eq!(received.credentials.len(), 1);
}

fn assert_certified_wallets_only(error: &ReceiveError, naming: &str) {
    assert_eq!(error.code(), "certified_wallet_required", "{error}");
    let message = error.to_string();
    assert!(
        message.starts_with("this issuer only accepts certified wallets"),
        "{message}"
    );
    assert!(message.contains(naming), "{message}");
}

#[tokio::test]
async fn a_haip_issuer_is_refused_as_for_certified_wallets_only() {
    let provider = WalletProvider::new("Certified");
    let roots = TempDir::new("dpop-haip-roots");
    let root = provider.write_root(&roots);
    let issuer = TestIssuer::start_with("dpop-haip", |config| {
        config.profile = Profile::Haip;
        config.wallet_provider_roots = vec![root];
    })
    .await;
    let dir = TempDir::new("dpop-haip");
    let mut wallet = new_wallet(&dir);
    let created = issuer.admin.offer(REGISTRATION_CERTIFICATE, KARIN).await;
    let offer = wallet.fetch_offer(&created.offer_uri).await.unwrap();
    let error = wallet
        .accept(offer, Some(&created.tx_code))
        .await
        .unwrap_err();
    assert_certified_wallets_only(&error, "attest_jwt_client_auth");
    assert!(wallet.credentials().is_empty());
    assert!(wallet.history().unwrap().is_empty());
}

#[tokio::test]
async fn an_invalid_client_about_the_attestation_says_certified_wallets_only() {
    // The profile advertises `none` beside attestations, so the wallet
    // tries; the registration certificate's policy then demands one.
    let provider = WalletProvider::new("Demanding");
    let roots = TempDir::new("dpop-invalid-client-roots");
    let root = provider.write_root(&roots);
    let issuer = TestIssuer::start_with("dpop-invalid-client", |config| {
        config.wallet_provider_roots = vec![root];
        config.credential_policies.insert(
            REGISTRATION_CERTIFICATE.into(),
            CredentialPolicy {
                wallet_attestation: Some(true),
                ..CredentialPolicy::default()
            },
        );
    })
    .await;
    let dir = TempDir::new("dpop-invalid-client");
    let mut wallet = new_wallet(&dir);
    let created = issuer.admin.offer(REGISTRATION_CERTIFICATE, KARIN).await;
    let offer = wallet.fetch_offer(&created.offer_uri).await.unwrap();
    let error = wallet
        .accept(offer, Some(&created.tx_code))
        .await
        .unwrap_err();
    assert_certified_wallets_only(&error, "invalid_client");
    assert!(wallet.credentials().is_empty());
}

#[tokio::test]
async fn a_key_attestation_demand_says_certified_wallets_only() {
    let issuer = TestIssuer::start_with("dpop-key-attestation", |config| {
        config.credential_policies.insert(
            REGISTRATION_CERTIFICATE.into(),
            CredentialPolicy {
                key_attestation: Some(true),
                ..CredentialPolicy::default()
            },
        );
    })
    .await;
    let dir = TempDir::new("dpop-key-attestation");
    let mut wallet = new_wallet(&dir);
    let created = issuer.admin.offer(REGISTRATION_CERTIFICATE, KARIN).await;
    let offer = wallet.fetch_offer(&created.offer_uri).await.unwrap();
    let error = wallet
        .accept(offer, Some(&created.tx_code))
        .await
        .unwrap_err();
    assert_certified_wallets_only(&error, "key_attestations_required");
    // Refused before the code was redeemed: the offer still works for a
    // wallet that can attest, and nothing was stored here.
    assert!(wallet.history().unwrap().is_empty());
}
