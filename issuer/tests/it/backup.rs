//! Backups end to end, with the real binaries on real sled directories:
//! `intyg-issuer backup` of a running issuer while it takes writes (online,
//! over its operator socket), `restore` into a new directory, the counts
//! and the checksum compared (with a second, offline backup of the
//! restored directory), the issuer started on it and its audit trail
//! verified; a wrong identity, a changed byte, a non-empty target and a
//! PostgreSQL deployment are refused; the archive holds no plaintext.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use intyg_testkit::{API_KEY, Admin, KARIN, TempDir, TestIssuer, files_containing};
use serde_json::json;

use crate::crash::{issue_one, start};
use intyg_testkit::free_port;

/// A claim value of every person the test registers.
const FAMILY_NAME: &str = "Wennerbergsdotter";

/// `intyg-issuer <args>`: success, stdout, stderr.
fn issuer_cli(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_intyg-issuer"))
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

/// The `tree <name>: <count>` lines and the checksum that `backup` and
/// `restore` print.
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

/// A valid personal identity number (Luhn over the last ten digits) for
/// test person `i` (below 25 000).
fn person_number(i: u32) -> String {
    let body = format!(
        "1990{:02}{:02}{:03}",
        1 + i / 2500 % 12,
        1 + i / 100 % 25,
        i % 1000
    );
    let short = &body[2..];
    let sum: u32 = short
        .bytes()
        .enumerate()
        .map(|(position, digit)| {
            let d = u32::from(digit - b'0') * if position % 2 == 0 { 2 } else { 1 };
            d / 10 + d % 10
        })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

async fn register(admin: &Admin, i: u32) {
    let registered = admin
        .register_person(&json!({
            "personal_identity_number": person_number(i),
            "given_name": "Test",
            "family_name": FAMILY_NAME,
        }))
        .await;
    assert_eq!(registered.status(), 201, "person {i}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_online_backup_taken_while_the_issuer_writes_restores_with_equal_counts_and_checksum() {
    let dir = TempDir::new("backup-source");
    let port = free_port();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let issuer = start(dir.path(), port).await;
    assert!(dir.path().join("operator.sock").exists());
    let admin = Admin::new(http.clone(), &issuer.url, API_KEY);
    // Persons, offers, an issued and revoked credential (a status list
    // entry), and their audit entries.
    for i in 0..5 {
        register(&admin, i).await;
    }
    let (record, indices) = issue_one(&http, &issuer.url).await.unwrap();
    assert!(!indices.is_empty());
    let revoked = admin.credential_action(&record, "revoke").await;
    assert_eq!(revoked.status(), 200);
    admin
        .offer(intyg_testkit::REGISTRATION_CERTIFICATE, KARIN)
        .await;
    let list = http
        .get(format!("{}/status/0", issuer.url))
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200, "the signed list is kept in the store");

    // A writer registers persons one after the other while the backup runs.
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let writer = {
        let admin = admin.clone();
        tokio::spawn(async move {
            let mut i = 5;
            while !*stop_rx.borrow_and_update() {
                register(&admin, i).await;
                i += 1;
            }
            i
        })
    };
    for waited in 0.. {
        if dir_audit_lines(dir.path()) >= 15 {
            break;
        }
        assert!(waited < 1000 && !writer.is_finished(), "the writer stopped");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (identity, recipient) = intyg_service::backup::archive::generate_identity();
    let keys = TempDir::new("backup-keys");
    let identity_file = keys.path().join("identity.txt");
    std::fs::write(&identity_file, &identity).unwrap();
    let archive = keys.path().join("issuer.age");
    let dir_arg = dir.path().to_str().unwrap().to_owned();
    let archive_arg = archive.to_str().unwrap().to_owned();
    let (ok, out, err) = tokio::task::spawn_blocking(move || {
        issuer_cli(&[
            "backup",
            "--data-dir",
            &dir_arg,
            "--recipient",
            &recipient,
            "--output",
            &archive_arg,
        ])
    })
    .await
    .unwrap();
    assert!(ok, "{out}{err}");
    assert!(out.contains("(online)"), "{out}");
    stop_tx.send_replace(true);
    let written = writer.await.unwrap();
    let (trees, sha256) = printed(&out);
    let persons = trees["persons"];
    assert!(persons > 5, "{trees:?}");
    for tree in ["offers", "credentials", "status", "meta", "status_tokens"] {
        assert!(trees[tree] > 0, "{tree}: {trees:?}");
    }

    // No plaintext: neither a claim value nor key material, which the
    // data directory holds in clear.
    let encrypted = std::fs::read(&archive).unwrap();
    let issuer_key = std::fs::read_to_string(dir.path().join("issuer-key.jwk")).unwrap();
    let private_d = serde_json::from_str::<serde_json::Value>(&issuer_key).unwrap()["d"]
        .as_str()
        .unwrap()
        .to_owned();
    let c_nonce_key = std::fs::read(dir.path().join("c-nonce.key")).unwrap();
    assert!(!files_containing(&dir.path().join("db"), FAMILY_NAME.as_bytes()).is_empty());
    for needle in [
        FAMILY_NAME.as_bytes(),
        private_d.as_bytes(),
        &c_nonce_key,
        b"intyg-backup/1",
        b"persons",
    ] {
        assert!(
            !encrypted.windows(needle.len()).any(|w| w == needle),
            "{:?} in the archive",
            String::from_utf8_lossy(needle)
        );
    }
    drop(issuer);

    // Restore into a new directory: the same counts and checksum.
    let restored = TempDir::new("backup-restored");
    std::fs::remove_dir(restored.path()).unwrap();
    let restore = |target: &Path, identity: &Path, archive: &Path| {
        issuer_cli(&[
            "restore",
            "--from",
            archive.to_str().unwrap(),
            "--identity",
            identity.to_str().unwrap(),
            "--data-dir",
            target.to_str().unwrap(),
        ])
    };
    let (ok, out, err) = restore(restored.path(), &identity_file, &archive);
    assert!(ok, "{out}{err}");
    assert_eq!(printed(&out), (trees.clone(), sha256.clone()), "{out}");
    assert!(out.contains("status indices: the next is"), "{out}");
    // An offline backup of the restored directory has the same counts
    // (its content differs only in the status index counter).
    let (_, again_recipient) = intyg_service::backup::archive::generate_identity();
    let again = keys.path().join("again.age");
    let (ok, out, err) = issuer_cli(&[
        "backup",
        "--data-dir",
        restored.path().to_str().unwrap(),
        "--recipient",
        &again_recipient,
        "--output",
        again.to_str().unwrap(),
    ]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("(offline)"), "{out}");
    assert_eq!(printed(&out).0, trees, "{out}");

    // The issuer runs on the restored directory: the persons before the
    // snapshot are there and the ones after it are not (one instant), the
    // revocation holds, and the audit trail verifies.
    let restored_dir = restored.path().to_owned();
    let on_restored = TestIssuer::start_with("backup-started", move |config| {
        config.data_dir = restored_dir;
    })
    .await;
    let mut present = Vec::new();
    for i in 0..written {
        let found = on_restored.admin.person(&person_number(i)).await.status();
        assert!(found == 200 || found == 404, "{found}");
        present.push(found == 200);
    }
    let kept = present.iter().filter(|&&p| p).count();
    assert!(
        present.iter().take(kept).all(|&p| p),
        "the writer's persons in the restored store are a prefix: {present:?}"
    );
    assert!(kept > 5 && kept < written as usize, "{kept} of {written}");
    let next = on_restored.state.stores.status.allocated().await.unwrap();
    assert!(
        next > indices.iter().max().unwrap() + 131_072,
        "indices handed out after the backup are skipped: {next}"
    );
    let credentials = on_restored.admin.credentials(KARIN).await;
    assert!(
        credentials.to_string().contains("\"revoked\""),
        "{credentials}"
    );
    let (ok, out, err) = issuer_cli(&[
        "audit",
        "verify",
        "--data-dir",
        restored.path().to_str().unwrap(),
    ]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("audit trail intact"), "{out}");
}

/// Entries in the trail so far.
fn dir_audit_lines(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("audit.jsonl"))
        .map(|text| text.lines().count())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_wrong_identity_a_changed_byte_and_a_non_empty_target() {
    let issuer = TestIssuer::start("backup-refusals").await;
    let dir = issuer.state.config.data_dir.clone();
    // The in-process issuer serves the operator socket as `main` does.
    intyg_service::backup::socket::serve(
        &dir,
        issuer.state.stores.sled.clone().unwrap(),
        "issuer",
        Some(issuer.state.audit.audit().clone()),
    )
    .unwrap();
    let keys = TempDir::new("backup-refusal-keys");
    let (identity, recipient) = intyg_service::backup::archive::generate_identity();
    let (other, _) = intyg_service::backup::archive::generate_identity();
    let identity_file = keys.path().join("identity.txt");
    let other_file = keys.path().join("other.txt");
    let recipients_file = keys.path().join("recipients.txt");
    std::fs::write(&identity_file, identity).unwrap();
    std::fs::write(&other_file, other).unwrap();
    std::fs::write(&recipients_file, format!("# the operator\n{recipient}\n")).unwrap();
    let archive = keys.path().join("issuer.age");
    let archive_arg = archive.to_str().unwrap().to_owned();
    let dir_arg = dir.to_str().unwrap().to_owned();
    let recipients_arg = recipients_file.to_str().unwrap().to_owned();
    let backup = move |output: &str| {
        issuer_cli(&[
            "backup",
            "--data-dir",
            &dir_arg,
            "--recipients-file",
            &recipients_arg,
            "--output",
            output,
        ])
    };
    let (ok, out, err) = {
        let backup = backup.clone();
        let archive_arg = archive_arg.clone();
        tokio::task::spawn_blocking(move || backup(&archive_arg))
            .await
            .unwrap()
    };
    assert!(ok, "{out}{err}");
    // The snapshot is in the trail, with its checksum.
    let (_, sha256) = printed(&out);
    let trail = std::fs::read_to_string(dir.join("audit.jsonl")).unwrap();
    assert!(
        trail.contains("\"backup.snapshot\"") && trail.contains(&sha256),
        "{trail}"
    );
    // A backup never overwrites a file.
    let (ok, _, err) = tokio::task::spawn_blocking(move || backup(&archive_arg))
        .await
        .unwrap();
    assert!(!ok && err.starts_with("output: "), "{err}");

    let restore = |archive: &Path, identity: &Path, target: &Path| {
        Command::new(env!("CARGO_BIN_EXE_intyg-issuer"))
            .args(["restore", "--from"])
            .arg(archive)
            .arg("--identity")
            .arg(identity)
            .arg("--data-dir")
            .arg(target)
            .output()
            .unwrap()
    };
    let target = keys.path().join("target");
    let refused = restore(&archive, &other_file, &target);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .starts_with("wrong_identity: this backup is not encrypted to the identity given"),
        "{refused:?}"
    );
    assert!(!target.exists(), "nothing written");

    let mut bytes = std::fs::read(&archive).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    let tampered = keys.path().join("tampered.age");
    std::fs::write(&tampered, &bytes).unwrap();
    let refused = restore(&tampered, &identity_file, &target);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).starts_with("archive_damaged: "),
        "{refused:?}"
    );
    assert!(!target.exists(), "nothing written");

    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("issuer-key.jwk"), "{}").unwrap();
    let refused = restore(&archive, &identity_file, &target);
    assert!(
        String::from_utf8_lossy(&refused.stderr).starts_with("target_not_empty: "),
        "{refused:?}"
    );
    assert_eq!(
        std::fs::read_to_string(target.join("issuer-key.jwk")).unwrap(),
        "{}"
    );
}

#[test]
fn a_postgresql_deployment_is_refused_with_a_pointer_to_the_docs() {
    let out = Command::new(env!("CARGO_BIN_EXE_intyg-issuer"))
        .args(["backup", "--data-dir", "/nonexistent", "--recipient"])
        .arg(intyg_service::backup::archive::generate_identity().1)
        .args(["--output", "/nonexistent/x.age"])
        .env("INTYG_DATABASE_URL", "postgres://intyg@db.example/intyg")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("postgres_deployment: ")
            && err.contains("pg_dump")
            && err.contains("docs/deploy.md"),
        "{err}"
    );
}
