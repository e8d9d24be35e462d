//! Trust-list subscriptions against a list served on loopback and the real
//! issuer: the issuer shown as listed; a forged list, an older one and one
//! from another operator refused, the last good list kept.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use intyg_core::jose::{SigningKey, VerifyingKey};
use intyg_core::trust::lote::{self, LoteDocument};
use intyg_core::trust::pki::{LeafProfile, LocalCa, Subject};
use intyg_testkit::{TempDir, TestIssuer};
use serde_json::json;

use crate::{new_wallet, receive};

const LIST_NAME: &str = "Test Pub-EAA providers";

/// A scheme operator: its CA (what the wallet pins) and signing key.
struct Operator {
    ca: LocalCa,
    key: SigningKey,
    x5c: Vec<String>,
}

impl Operator {
    fn new(name: &str) -> Self {
        let ca = LocalCa::generate(&Subject::new(format!("{name} CA"))).unwrap();
        let key = SigningKey::generate().unwrap();
        let public = VerifyingKey::from_jwk(&key.public_jwk()).unwrap();
        let leaf = ca
            .issue(
                &public,
                &LeafProfile {
                    subject: Subject::new(name),
                    ..LeafProfile::default()
                },
            )
            .unwrap();
        Self {
            ca,
            key,
            x5c: vec![leaf.to_x5c()],
        }
    }

    /// A Pub-EAA providers list naming `entity` with `pem`'s certificate.
    fn list(&self, sequence: u64, entity: &str, pem: &str) -> String {
        self.list_until(sequence, entity, pem, 24)
    }

    /// The same, its `NextUpdate` `hours` from now (negative: past).
    fn list_until(&self, sequence: u64, entity: &str, pem: &str, hours: i64) -> String {
        let certificate = intyg_core::trust::Certificate::from_pem(pem).unwrap()[0].to_x5c();
        let now = jiff::Timestamp::now();
        let document: LoteDocument = serde_json::from_value(json!({"LoTE": {
            "ListAndSchemeInformation": {
                "LoTEVersionIdentifier": 1, "LoTESequenceNumber": sequence,
                "LoTEType": "http://uri.etsi.org/19602/LoTEType/PubEAAProvidersList",
                "SchemeOperatorName": [{"lang": "en", "value": "Testverket"}],
                "SchemeName": [{"lang": "en", "value": LIST_NAME}],
                "SchemeTerritory": "SE",
                "ListIssueDateTime": now.to_string(),
                "NextUpdate": (now + jiff::SignedDuration::from_hours(hours)).to_string()
            },
            "TrustedEntitiesList": [{
                "TrustedEntityInformation": {"TEName": [{"lang": "sv", "value": entity}]},
                "TrustedEntityServices": [{"ServiceInformation": {
                    "ServiceTypeIdentifier": "http://uri.etsi.org/19602/SvcType/PubEAA/Issuance",
                    "ServiceDigitalIdentity": {"X509Certificates": [{"val": certificate}]}
                }}]
            }]
        }}))
        .unwrap();
        lote::sign(&document, &self.key, self.x5c.clone()).unwrap()
    }
}

/// Serves whatever was published last at `/list`.
async fn serve(published: Arc<Mutex<String>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = axum::Router::new().route(
        "/list",
        axum::routing::get(move || {
            let published = published.clone();
            async move { published.lock().unwrap().clone() }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}/list")
}

#[tokio::test]
async fn listed_issuer_and_refused_lists_keep_the_last_good_one() {
    let mut issuer_dir = PathBuf::new();
    let issuer = TestIssuer::start_with("wallet-lists", |config| {
        issuer_dir = config.data_dir.clone();
    })
    .await;
    let issuer_ca = std::fs::read_to_string(issuer_dir.join("issuer-ca.pem")).unwrap();
    let operator = Operator::new("Testverket");
    let pin = operator.ca.certificate().to_pem();
    let published = Arc::new(Mutex::new(operator.list(
        1,
        "Arbetsförmedlingen",
        &issuer_ca,
    )));
    let url = serve(published.clone()).await;
    let dir = TempDir::new("wallet-lists");
    let mut wallet = new_wallet(&dir);

    let added = wallet.add_trust_list(&url, &pin).await.unwrap();
    assert_eq!(added.name.as_deref(), Some(LIST_NAME));
    assert!(added.usable);
    assert_eq!(added.services[0].entity, "Arbetsförmedlingen");

    // Received after subscribing: issued by a provider on the list.
    let (id, _) = receive(&mut wallet, &issuer).await;
    assert_eq!(
        wallet.credential(&id).unwrap().entry.listed_on.as_deref(),
        Some(LIST_NAME)
    );

    // Forged: a newer payload under the old signature.
    let good = published.lock().unwrap().clone();
    let newer = operator.list(2, "Arbetsförmedlingen", &issuer_ca);
    let mut parts: Vec<&str> = good.split('.').collect();
    parts[1] = newer.split('.').nth(1).unwrap();
    *published.lock().unwrap() = parts.join(".");
    let refreshed = wallet.refresh_trust_lists().await.unwrap();
    assert_eq!(refreshed[0].sequence_number, Some(1));
    assert_eq!(
        refreshed[0].last_error.as_ref().unwrap().code,
        "lote_signature_invalid"
    );
    assert!(refreshed[0].usable);

    // Signed by another operator: refused, the last good one kept.
    *published.lock().unwrap() = Operator::new("Someone").list(5, "Arbetsförmedlingen", &issuer_ca);
    let refreshed = wallet.refresh_trust_lists().await.unwrap();
    assert_eq!(
        refreshed[0].last_error.as_ref().unwrap().code,
        "lote_untrusted_signer"
    );
    assert_eq!(refreshed[0].sequence_number, Some(1));

    // Newer, then older again: a rollback.
    *published.lock().unwrap() = newer;
    let refreshed = wallet.refresh_trust_lists().await.unwrap();
    assert_eq!(refreshed[0].sequence_number, Some(2));
    assert!(refreshed[0].last_error.is_none());
    *published.lock().unwrap() = good;
    let refreshed = wallet.refresh_trust_lists().await.unwrap();
    assert_eq!(refreshed[0].sequence_number, Some(2));
    assert_eq!(
        refreshed[0].last_error.as_ref().unwrap().code,
        "lote_rollback"
    );

    // The issuer dropped from the list: no longer shown as listed.
    *published.lock().unwrap() = operator.list(3, "Another agency", &pin);
    wallet.refresh_trust_lists().await.unwrap();
    assert_eq!(wallet.credential(&id).unwrap().entry.listed_on, None);
}

#[tokio::test]
async fn a_list_past_next_update_is_fetched_again_when_an_offer_needs_it() {
    let mut issuer_dir = PathBuf::new();
    let issuer = TestIssuer::start_with("wallet-lists-due", |config| {
        issuer_dir = config.data_dir.clone();
    })
    .await;
    let issuer_ca = std::fs::read_to_string(issuer_dir.join("issuer-ca.pem")).unwrap();
    let operator = Operator::new("Testverket");
    let pin = operator.ca.certificate().to_pem();
    // Stale (past NextUpdate, within the grace period): still used.
    let published = Arc::new(Mutex::new(operator.list_until(
        1,
        "Arbetsförmedlingen",
        &issuer_ca,
        -1,
    )));
    let url = serve(published.clone()).await;
    let dir = TempDir::new("wallet-lists-due");
    let mut wallet = new_wallet(&dir);
    let added = wallet.add_trust_list(&url, &pin).await.unwrap();
    assert!(added.usable && added.stale, "{added:?}");

    // The operator has dropped the issuer since; the next offer makes the
    // wallet fetch the stale list first, so the credential is not listed.
    *published.lock().unwrap() = operator.list(2, "Someone else", &pin);
    let (id, _) = receive(&mut wallet, &issuer).await;
    let lists = wallet.trust_lists().unwrap();
    assert_eq!(lists[0].sequence_number, Some(2));
    assert!(!lists[0].stale);
    assert_eq!(wallet.credential(&id).unwrap().entry.listed_on, None);

    // A list not yet due is not fetched for an offer.
    *published.lock().unwrap() = operator.list(3, "Arbetsförmedlingen", &issuer_ca);
    let (id, _) = receive(&mut wallet, &issuer).await;
    assert_eq!(wallet.trust_lists().unwrap()[0].sequence_number, Some(2));
    assert_eq!(wallet.credential(&id).unwrap().entry.listed_on, None);

    // A due list whose operator serves something that is not a list: the
    // fetch fails once, is recorded, and is not tried again by the next
    // offer.
    let stale = operator.list_until(4, "Arbetsförmedlingen", &issuer_ca, -1);
    *published.lock().unwrap() = stale.clone();
    let dead_dir = TempDir::new("wallet-lists-dead");
    let mut other = new_wallet(&dead_dir);
    other.add_trust_list(&url, &pin).await.unwrap();
    *published.lock().unwrap() = "not a list".into();
    receive(&mut other, &issuer).await;
    let failed = other.trust_lists().unwrap()[0].last_error.clone().unwrap();
    assert_eq!(other.trust_lists().unwrap()[0].sequence_number, Some(4));
    *published.lock().unwrap() = operator.list(5, "Arbetsförmedlingen", &issuer_ca);
    receive(&mut other, &issuer).await;
    let after = other.trust_lists().unwrap();
    assert_eq!(after[0].sequence_number, Some(4), "not tried again yet");
    assert_eq!(after[0].last_error.as_ref().unwrap().at, failed.at);
}
