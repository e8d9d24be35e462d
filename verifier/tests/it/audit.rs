//! The verifier's audit trail: employer and HR API actions recorded with
//! who and from where, `intyg-verifier audit verify` on a running
//! verifier, and a changed entry named.

use std::process::Command;

use intyg_testkit::PortalBrowser;
use serde_json::json;

use crate::Verifier;

fn audit_verify(dir: &std::path::Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_intyg-verifier"))
        .args(["audit", "verify", "--data-dir"])
        .arg(dir)
        .env_remove("INTYG_DATABASE_URL")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[tokio::test]
async fn verifier_audit_verify_reads_a_running_verifiers_trail_and_names_a_changed_entry() {
    let verifier = Verifier::start("audit-cli", |_| {}).await;
    let posting = verifier
        .post_json(
            "/api/postings",
            &json!({"title": "Praktik", "description": "Lager", "purpose": "Urval"}),
        )
        .await;
    assert_eq!(posting.status(), 201);
    let posting: serde_json::Value = posting.json().await.unwrap();
    let id = posting["id"].as_str().unwrap();
    let opened = verifier
        .post_json(&format!("/api/postings/{id}/applications"), &json!({}))
        .await;
    assert_eq!(opened.status(), 201);
    let mut browser = PortalBrowser::new(&verifier.url);
    let wrong = browser.sign_in("rekryterare", "gissning").await;
    assert_eq!(wrong.status, 401);

    let (ok, out) = audit_verify(&verifier.dir.0);
    assert!(ok, "{out}");
    assert!(out.contains("audit trail intact: 5 entries"), "{out}");
    let file = verifier.dir.0.join("audit.jsonl");
    let text = std::fs::read_to_string(&file).unwrap();
    for expected in [
        "\"posting.create\"",
        "\"application.open\"",
        "\"signin.failure\"",
        "\"(unknown)\"",
        "\"source\":\"127.0.0.1\"",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    // The failed sign-in, entry 5, changed.
    let lines: Vec<String> = text
        .lines()
        .map(|l| l.replace("signin.failure", "signin.success"))
        .collect();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let (ok, out) = audit_verify(&verifier.dir.0);
    assert!(!ok);
    assert!(out.contains("audit entry 5 is bad"), "{out}");
}
