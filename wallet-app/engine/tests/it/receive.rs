//! OpenID4VCI against the real issuer, and hostile inputs that must change
//! nothing.

use intyg_core::sd_jwt::{SdJwt, VerifyOptions};
use intyg_core::vc;
use intyg_testkit::{KARIN, OfferCreated, REGISTRATION_CERTIFICATE, TempDir, TestIssuer};
use intyg_wallet::http::FetchError;
use intyg_wallet::receive::ReceiveError;
use intyg_wallet::{EventKind, EventResult, NetLimits, Wallet, WalletConfig};

use crate::{PIN, dev_config, new_wallet, production_wallet};

/// An issuer, an empty wallet in a directory, and a registration
/// certificate offered to Karin: its link and PIN.
async fn offered(name: &str) -> (TestIssuer, TempDir, Wallet, OfferCreated) {
    let issuer = TestIssuer::start(name).await;
    let dir = TempDir::new(name);
    let wallet = new_wallet(&dir);
    let created = issuer.admin.offer(REGISTRATION_CERTIFICATE, KARIN).await;
    (issuer, dir, wallet, created)
}

#[tokio::test]
async fn pre_authorized_offer_is_received_verified_and_logged() {
    let (issuer, _dir, mut wallet, created) = offered("receive").await;
    let (uri, pin) = (created.offer_uri, created.tx_code);

    let offer = wallet.fetch_offer(&uri).await.unwrap();
    assert_eq!(offer.issuer(), issuer.url);
    assert!(offer.tx_code().is_some(), "the issuer hands over a PIN");
    assert!(matches!(
        wallet.accept(offer.clone(), None).await,
        Err(ReceiveError::TxCodeRequired(_))
    ));
    let received = wallet.accept(offer, Some(&pin)).await.unwrap();
    assert_eq!(received.credentials.len(), 1);
    let entry = &received.credentials[0];
    assert_eq!(entry.copies, 3, "min(batch_size 10, 3) copies");
    assert_eq!(
        entry.vct,
        "https://intyg.se/credentials/registration-certificate/v1"
    );
    assert_eq!(entry.claims["registration_status"], "in_programme");
    assert_eq!(entry.name("sv"), "Inskrivningsintyg");
    let path = serde_json::from_str(r#"["family_name"]"#).unwrap();
    assert!(
        entry.display.label(&path, "en").is_some(),
        "claim labels from issuer metadata"
    );

    // Each copy verifies with the issuer's key and is bound to its own key.
    let key = issuer.published_key().await;
    let stored = wallet.credential(&entry.id).unwrap();
    let mut holders = std::collections::BTreeSet::new();
    for copy in &stored.copies {
        let verified = vc::verify(
            SdJwt::parse(&copy.sd_jwt).unwrap(),
            &key,
            &VerifyOptions::at(intyg_issuer::now()),
            None,
        )
        .unwrap();
        holders.insert(serde_json::to_string(&verified.sd_jwt.holder_key).unwrap());
        assert_eq!(copy.presentations, 0);
    }
    assert_eq!(holders.len(), 3, "one holder key per copy");

    let history = wallet.history().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].kind, EventKind::Issuance);
    assert_eq!(history[0].counterparty, issuer.url);
    assert_eq!(history[0].result, EventResult::Success);

    // The offer is spent.
    assert!(wallet.fetch_offer(&uri).await.is_err());
}

#[tokio::test]
async fn a_wrong_transaction_code_stores_nothing() {
    let (_issuer, _dir, mut wallet, created) = offered("wrong-code").await;
    let (uri, pin) = (created.offer_uri, created.tx_code);
    let wrong = if pin == "000000" { "111111" } else { "000000" };
    let offer = wallet.fetch_offer(&uri).await.unwrap();
    match wallet.accept(offer, Some(wrong)).await {
        Err(ReceiveError::TokenRefused { error, .. }) => assert_eq!(error, "invalid_grant"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(wallet.fetch_offer(&uri).await.map(|_| ()), Ok(())));
    let offer = wallet.fetch_offer(&uri).await.unwrap();
    assert!(matches!(
        wallet.accept(offer, Some("12a")).await,
        Err(ReceiveError::InvalidTxCode(_))
    ));
    assert!(wallet.credentials().is_empty());
    assert!(wallet.history().unwrap().is_empty());
}

/// A server that answers every GET with `size` bytes of JSON-ish text.
async fn big_server(size: usize) -> String {
    let body = format!("{{\"x\":\"{}\"}}", "a".repeat(size));
    let router = axum::Router::new().route(
        "/offer",
        axum::routing::get(move || {
            let body = body.clone();
            async move { body }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}/offer")
}

fn by_reference(url: &str) -> String {
    format!(
        "openid-credential-offer://?credential_offer_uri={}",
        url::form_urlencoded::byte_serialize(url.as_bytes()).collect::<String>()
    )
}

#[tokio::test]
async fn hostile_offers_change_nothing() {
    let dir = TempDir::new("hostile");
    let config = WalletConfig {
        limits: NetLimits {
            max_response_bytes: 64 * 1024,
            ..NetLimits::default()
        },
        ..dev_config()
    };
    let wallet = Wallet::create(&dir.path().join("wallet"), PIN, config).unwrap();

    // Oversized.
    let url = big_server(200 * 1024).await;
    assert!(matches!(
        wallet.fetch_offer(&by_reference(&url)).await,
        Err(ReceiveError::Fetch(FetchError::TooLarge { .. }))
    ));
    // Malformed.
    assert!(matches!(
        wallet
            .fetch_offer("openid-credential-offer://?credential_offer=%7Bnot-json")
            .await,
        Err(ReceiveError::Offer(_))
    ));
    assert!(wallet.credentials().is_empty());
    assert!(wallet.history().unwrap().is_empty());
    drop(wallet);

    // Outside dev mode: http refused, private addresses refused, whether
    // literal or resolved.
    let production = TempDir::new("production");
    let wallet = production_wallet(&production);
    assert!(matches!(
        wallet.fetch_offer(&by_reference(&url)).await,
        Err(ReceiveError::Offer(_))
    ));
    for private in [
        "https://127.0.0.1:9/offer",
        "https://10.0.0.7/offer",
        "https://[::1]:9/offer",
        "https://localhost:9/offer",
    ] {
        match wallet.fetch_offer(&by_reference(private)).await {
            Err(ReceiveError::Fetch(FetchError::PrivateAddress { .. })) => {}
            other => panic!("{private}: {other:?}"),
        }
    }
    // `vm` resolves to 127.0.0.1 on this machine (/etc/hosts): refused by
    // the resolver. Elsewhere it does not resolve at all: refused too.
    match wallet
        .fetch_offer(&by_reference("https://vm:9/offer"))
        .await
    {
        Err(ReceiveError::Fetch(FetchError::PrivateAddress { .. }))
        | Err(ReceiveError::Fetch(FetchError::Transport { .. })) => {}
        other => panic!("{other:?}"),
    }
    assert!(wallet.credentials().is_empty());
    assert!(wallet.history().unwrap().is_empty());
}
