//! Credential status against the real issuer's Token Status List: a
//! revoked or suspended credential is never chosen over a valid one and is
//! proposed, marked, only when nothing else fits; a
//! refresh records what the list says, and an unreachable list changes
//! nothing.

use intyg_testkit::{TempDir, TestIssuer};
use intyg_wallet::{CredentialStatus, Wallet};
use serde_json::json;

use crate::{new_wallet, receive};

const VCT: &str = "https://intyg.se/credentials/registration-certificate/v1";

/// An unsigned dev-mode request (`redirect_uri:` client) for a registration
/// certificate's status. Nothing is posted: only `prepare` runs.
fn request() -> String {
    let dcql = json!({"credentials": [{
        "id": "registration", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
        "claims": [{"path": ["registration_status"]}]
    }]});
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "vp_token")
        .append_pair("client_id", "redirect_uri:http://localhost:9/r")
        .append_pair("response_mode", "direct_post")
        .append_pair("response_uri", "http://localhost:9/r")
        .append_pair("nonce", "n-status")
        .append_pair("state", "s-status")
        .append_pair("dcql_query", &dcql.to_string())
        .finish();
    format!("openid4vp://?{query}")
}

fn status_of(wallet: &Wallet, id: &str) -> CredentialStatus {
    wallet.credential(id).unwrap().entry.status.status
}

/// The issuer's lists may be cached for 1 s: the wallet asks again after.
async fn short_ttl_issuer(name: &str) -> TestIssuer {
    TestIssuer::start_with(name, |config| config.status_list.ttl_seconds = 1).await
}

/// Lets the last answers of a 1 s `ttl` list go stale.
async fn after_ttl() {
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
}

#[tokio::test]
async fn a_revoked_credential_is_offered_only_when_nothing_else_fits() {
    let issuer = short_ttl_issuer("status-revoke").await;
    let dir = TempDir::new("status-revoke");
    let mut wallet = new_wallet(&dir);
    let (first, first_record) = receive(&mut wallet, &issuer).await;
    assert_eq!(status_of(&wallet, &first), CredentialStatus::Valid);
    let proposal = wallet.prepare(&request()).await.unwrap();
    assert_eq!(proposal.credentials[0].credential_id, first);

    assert_eq!(proposal.credentials[0].status, CredentialStatus::Valid);

    // The agency revokes it; the wallet learns so when a verifier asks.
    // Nothing else satisfies the request, so the revoked credential is
    // proposed marked as revoked, for the person to see and decide.
    issuer.admin.change_status(&first_record, "revoke").await;
    after_ttl().await;
    let proposal = wallet.prepare(&request()).await.unwrap();
    assert!(proposal.satisfiable());
    assert_eq!(proposal.credentials[0].credential_id, first);
    assert_eq!(proposal.credentials[0].status, CredentialStatus::Invalid);
    assert_eq!(status_of(&wallet, &first), CredentialStatus::Invalid);
    assert!(!wallet.credential(&first).unwrap().entry.presentable());

    // A new credential of the same type is the one offered, every time.
    let (second, second_record) = receive(&mut wallet, &issuer).await;
    for _ in 0..4 {
        let proposal = wallet.prepare(&request()).await.unwrap();
        assert_eq!(proposal.credentials.len(), 1);
        assert_eq!(proposal.credentials[0].credential_id, second);
        assert_eq!(proposal.credentials[0].status, CredentialStatus::Valid);
    }

    let report = wallet.refresh_status().await.unwrap();
    assert_eq!(report.len(), 2);
    for refresh in &report {
        assert!(refresh.failure.is_none(), "{refresh:?}");
        assert!(refresh.checked_at.is_some());
        let expected = if refresh.credential_id == first {
            CredentialStatus::Invalid
        } else {
            CredentialStatus::Valid
        };
        assert_eq!(refresh.status, expected, "{refresh:?}");
    }

    // Suspended while the other is revoked: proposed only marked so,
    // offered as valid again once lifted.
    issuer.admin.change_status(&second_record, "suspend").await;
    wallet.refresh_status().await.unwrap();
    assert_eq!(status_of(&wallet, &second), CredentialStatus::Suspended);
    let proposal = wallet.prepare(&request()).await.unwrap();
    assert_ne!(proposal.credentials[0].status, CredentialStatus::Valid);
    issuer
        .admin
        .change_status(&second_record, "unsuspend")
        .await;
    after_ttl().await;
    let proposal = wallet.prepare(&request()).await.unwrap();
    assert_eq!(proposal.credentials[0].credential_id, second);
    assert_eq!(status_of(&wallet, &second), CredentialStatus::Valid);

    // The status survives locking and unlocking (it is in the store).
    let wallet = wallet.lock().unwrap().unlock(crate::PIN).unwrap();
    assert_eq!(status_of(&wallet, &first), CredentialStatus::Invalid);
}

#[tokio::test]
async fn an_unreachable_status_list_keeps_the_last_known_status() {
    let mut issuer = TestIssuer::start("status-offline").await;
    let dir = TempDir::new("status-offline");
    let mut wallet = new_wallet(&dir);
    let (id, _) = receive(&mut wallet, &issuer).await;
    let before = wallet.credential(&id).unwrap().entry.status;
    assert_eq!(before.status, CredentialStatus::Valid);

    issuer.stop().await;
    let report = wallet.refresh_status().await.unwrap();
    assert_eq!(report.len(), 1);
    let failure = report[0].failure.as_ref().expect("the list is unreachable");
    assert_eq!(failure.code, "network_error", "{failure:?}");
    assert_eq!(report[0].status, CredentialStatus::Valid);
    assert_eq!(wallet.credential(&id).unwrap().entry.status, before);

    // Presenting does not depend on the issuer being up.
    let proposal = wallet.prepare(&request()).await.unwrap();
    assert_eq!(proposal.credentials[0].credential_id, id);
}

/// Within its list's `ttl` an answer is reused when a verifier asks (no
/// fetch per presentation); an explicit refresh always asks.
#[tokio::test]
async fn a_status_answer_is_reused_within_the_list_ttl() {
    let issuer = TestIssuer::start_with("status-ttl", |config| {
        config.status_list.ttl_seconds = 300;
    })
    .await;
    let dir = TempDir::new("status-ttl");
    let mut wallet = new_wallet(&dir);
    let (id, record) = receive(&mut wallet, &issuer).await;
    let learned = wallet.credential(&id).unwrap().entry.status;
    let checked = learned.checked_at.unwrap();
    assert_eq!(learned.fresh_until, Some(checked + 300));

    issuer.admin.change_status(&record, "revoke").await;
    let proposal = wallet.prepare(&request()).await.unwrap();
    assert_eq!(proposal.credentials[0].status, CredentialStatus::Valid);
    assert_eq!(wallet.credential(&id).unwrap().entry.status, learned);

    let report = wallet.refresh_status().await.unwrap();
    assert_eq!(report[0].status, CredentialStatus::Invalid);
    let proposal = wallet.prepare(&request()).await.unwrap();
    assert_eq!(proposal.credentials[0].status, CredentialStatus::Invalid);
}
