//! Backups of the verifier: `intyg-verifier backup` (the real binary)
//! of a running verifier while postings are being created, over its
//! operator socket; `restore` into a new directory with equal counts and
//! checksum; the verifier started on it opens the sealed claims of a
//! presentation (its per-transaction key came along), lists the postings
//! and its audit trail verifies. A wrong identity is refused, and the
//! archive holds neither key material nor a claim value.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::flow::holder_of;
use crate::{TempDir, TestIssuer, Verifier};

/// A claim value the holder discloses.
const GIVEN_NAME: &str = "Karin Elisabet";

fn verifier_cli(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_intyg-verifier"))
        .args(args)
        .env_remove("INTYG_DATABASE_URL")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn printed(out: &str) -> (BTreeMap<String, u64>, String) {
    let trees = out
        .lines()
        .filter_map(|line| line.trim().strip_prefix("tree "))
        .filter_map(|rest| rest.split_once(": "))
        .map(|(name, count)| (name.to_owned(), count.parse().unwrap()))
        .collect();
    let sha256 = out
        .lines()
        .find_map(|line| line.trim().strip_prefix("content sha256: "))
        .unwrap_or_else(|| panic!("no checksum in {out}"))
        .to_owned();
    (trees, sha256)
}

async fn create_posting(verifier: &Verifier, title: &str) -> String {
    let posting = verifier
        .post_json(
            "/api/postings",
            &json!({"title": title, "description": "Lager", "purpose": "Urval"}),
        )
        .await;
    assert_eq!(posting.status(), 201);
    let posting: Value = posting.json().await.unwrap();
    posting["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verifier_backup_while_writing_restores_postings_transactions_and_sealed_claims() {
    let verifier = Verifier::start("backup", |_| {}).await;
    let dir = verifier.dir.0.clone();
    // The operator socket, served as `main` serves it.
    intyg_service::backup::socket::serve(
        &dir,
        verifier.state.stores.sled.clone().unwrap(),
        "verifier",
        Some(verifier.state.audit.clone()),
    )
    .unwrap();
    let issuer = TestIssuer::start().await;
    verifier.trust(&issuer);
    let holder = holder_of(
        &issuer,
        &["registration-certificate", "internship-eligibility"],
    );
    let session = verifier.session().await;
    let answered = verifier.post(&session, holder.respond(&session)).await;
    assert_eq!(answered.status(), 200);
    assert!(
        verifier
            .show(&session.id)
            .await
            .to_string()
            .contains(GIVEN_NAME)
    );
    let posting = create_posting(&verifier, "Praktik 0").await;
    let opened = verifier
        .post_json(&format!("/api/postings/{posting}/applications"), &json!({}))
        .await;
    assert_eq!(opened.status(), 201);
    let key_file = std::fs::read_dir(dir.join("transaction-keys"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let transaction_key = std::fs::read(&key_file).unwrap();
    let signing_key: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("verifier-key.jwk")).unwrap())
            .unwrap();
    let private_d = signing_key["d"].as_str().unwrap().to_owned();

    // Postings are created one after the other while the backup runs.
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let writer = {
        let http = verifier.http.clone();
        let url = verifier.url.clone();
        tokio::spawn(async move {
            let mut created = 0u32;
            while !*stop_rx.borrow_and_update() {
                let response = http
                    .post(format!("{url}/api/postings"))
                    .bearer_auth(crate::API_KEY)
                    .json(&json!({"title": format!("Praktik {created}"), "description": "Lager", "purpose": "Urval"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 201);
                created += 1;
            }
            created
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let keys = TempDir::new("backup-keys");
    let (identity, recipient) = intyg_service::backup::archive::generate_identity();
    let identity_file = keys.0.join("identity.txt");
    std::fs::write(&identity_file, identity).unwrap();
    let archive = keys.0.join("verifier.age");
    let args = [
        "backup".to_owned(),
        "--data-dir".to_owned(),
        dir.to_str().unwrap().to_owned(),
        "--recipient".to_owned(),
        recipient,
        "--output".to_owned(),
        archive.to_str().unwrap().to_owned(),
    ];
    let (ok, out, err) = tokio::task::spawn_blocking(move || {
        verifier_cli(&args.iter().map(String::as_str).collect::<Vec<_>>())
    })
    .await
    .unwrap();
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("verifier backup") && out.contains("(online)"),
        "{out}"
    );
    stop_tx.send_replace(true);
    let created = writer.await.unwrap();
    let (trees, sha256) = printed(&out);
    assert!(
        trees["postings"] >= 1 && trees["transactions"] >= 1,
        "{trees:?}"
    );
    assert!(
        out.contains("transaction-keys/") && out.contains("verifier-key.jwk"),
        "{out}"
    );

    let encrypted = std::fs::read(&archive).unwrap();
    for needle in [
        GIVEN_NAME.as_bytes(),
        private_d.as_bytes(),
        &transaction_key,
        b"Praktik 0",
    ] {
        assert!(
            !encrypted.windows(needle.len()).any(|w| w == needle),
            "{:?} in the archive",
            String::from_utf8_lossy(needle)
        );
    }

    // A wrong identity: refused, nothing written.
    let (other, _) = intyg_service::backup::archive::generate_identity();
    let other_file = keys.0.join("other.txt");
    std::fs::write(&other_file, other).unwrap();
    let target = keys.0.join("restored");
    let restore = |identity: &std::path::Path| {
        verifier_cli(&[
            "restore",
            "--from",
            archive.to_str().unwrap(),
            "--identity",
            identity.to_str().unwrap(),
            "--data-dir",
            target.to_str().unwrap(),
        ])
    };
    let (ok, _, err) = restore(&other_file);
    assert!(!ok && err.starts_with("wrong_identity: "), "{err}");
    assert!(!target.exists());

    let (ok, out, err) = restore(&identity_file);
    assert!(ok, "{out}{err}");
    assert_eq!(printed(&out), (trees.clone(), sha256), "{out}");

    // The verifier on the restored directory.
    let restored = Verifier::start_in(TempDir(target.clone()), |_| {}).await;
    let shown = restored.show(&session.id).await;
    assert!(shown.to_string().contains(GIVEN_NAME), "{shown}");
    let postings = restored.get_json("/api/postings").await;
    let listed = postings
        .as_array()
        .or_else(|| postings["postings"].as_array())
        .unwrap_or_else(|| panic!("{postings}"))
        .len();
    assert_eq!(listed as u64, trees["postings"]);
    assert!(listed <= created as usize + 1, "{listed} of {created}");
    // The restored verifier appended its start to the trail it continues.
    let (ok, out, err) = verifier_cli(&["audit", "verify", "--data-dir", target.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("audit trail intact"), "{out}");
}
