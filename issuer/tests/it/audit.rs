//! The audit trail end to end: `intyg-issuer audit verify` on a running
//! issuer's data directory (sled) and on PostgreSQL, tampering with the
//! newest and a middle entry, and two appenders on one database making
//! one chain.

use std::process::Command;

use intyg_service::audit::{AuditStore, Event, PgAudit, verify_store};
use intyg_testkit::{KARIN, REGISTRATION_CERTIFICATE, TempDir, TestIssuer, TestPg};
use serde_json::json;

/// `intyg-issuer audit verify` with `args`: exit success and output.
fn audit_verify(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_intyg-issuer"))
        .args(["audit", "verify"])
        .args(args)
        .env_remove("INTYG_DATABASE_URL")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// Rewrites line `seq` of the file with `edit`.
fn edit_line(path: &std::path::Path, seq: usize, edit: impl Fn(&str) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| if i + 1 == seq { edit(l) } else { l.to_owned() })
        .collect();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

async fn actions(issuer: &TestIssuer) {
    let registered = issuer
        .admin
        .register_person(&json!({
            "personal_identity_number": KARIN,
            "given_name": "Karin Elisabet",
            "family_name": "Lindqvist",
        }))
        .await;
    assert_eq!(registered.status(), 201);
    let offer = issuer.admin.offer(REGISTRATION_CERTIFICATE, KARIN).await;
    let withdrawn = issuer
        .admin
        .credential_action(&offer.credential_ids[0], "withdraw")
        .await;
    assert_eq!(withdrawn.status(), 200);
}

#[tokio::test]
async fn audit_verify_reads_a_running_issuers_trail_and_names_a_changed_entry() {
    let issuer = TestIssuer::start("audit-cli").await;
    actions(&issuer).await;
    let dir = issuer.state.config.data_dir.clone();
    let dir_arg = dir.to_str().unwrap();
    // While the issuer runs (sled holds its lock on db/).
    let (ok, out) = audit_verify(&["--data-dir", dir_arg]);
    assert!(ok, "{out}");
    assert!(
        out.contains("audit trail intact: 5 entries, 1 signed checkpoints"),
        "{out}"
    );
    let file = dir.join("audit.jsonl");
    let text = std::fs::read_to_string(&file).unwrap();
    for action in [
        "service.start",
        "person.register",
        "offer.issue",
        "credential.withdraw",
    ] {
        assert!(text.contains(&format!("\"{action}\"")), "{action}: {text}");
    }
    assert!(text.contains("\"admin-api\"") && text.contains("\"source\":\"127.0.0.1\""));

    // The newest entry changed.
    let original = std::fs::read_to_string(&file).unwrap();
    edit_line(&file, 5, |l| l.replace("withdraw", "suspend"));
    let (ok, out) = audit_verify(&["--data-dir", dir_arg]);
    assert!(!ok);
    assert!(out.contains("audit entry 5 is bad"), "{out}");

    // A middle entry changed.
    std::fs::write(&file, &original).unwrap();
    edit_line(&file, 3, |l| l.replace("admin-api", "someone"));
    let (ok, out) = audit_verify(&["--data-dir", dir_arg]);
    assert!(!ok);
    assert!(out.contains("audit entry 3 is bad"), "{out}");
}

/// `intyg-issuer audit head` on `dir`: the newest entry's line.
fn audit_head(dir: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_intyg-issuer"))
        .args(["audit", "head", "--data-dir", dir])
        .env_remove("INTYG_DATABASE_URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn a_witness_file_finds_entries_cut_off_the_end_of_the_trail() {
    let issuer = TestIssuer::start("audit-witness").await;
    let dir = issuer.state.config.data_dir.clone();
    let dir_arg = dir.to_str().unwrap();
    let witness = dir.join("witness.txt");
    let mut witnessed = String::from("# audit heads, appended hourly\n");
    witnessed += &audit_head(dir_arg);
    actions(&issuer).await;
    let head = audit_head(dir_arg);
    assert!(head.starts_with("5 "), "{head}");
    witnessed += &head;
    std::fs::write(&witness, &witnessed).unwrap();
    let witness_arg = witness.to_str().unwrap();
    let (ok, out) = audit_verify(&["--data-dir", dir_arg, "--witness", witness_arg]);
    assert!(ok, "{out}");
    assert!(out.contains("2 witnessed entries held"), "{out}");

    // The last two entries cut off: the chain that is left is intact, so
    // only the witness shows the loss.
    let file = dir.join("audit.jsonl");
    let text = std::fs::read_to_string(&file).unwrap();
    let kept: Vec<&str> = text.lines().take(3).collect();
    std::fs::write(&file, kept.join("\n") + "\n").unwrap();
    let (ok, out) = audit_verify(&["--data-dir", dir_arg]);
    assert!(ok, "{out}");
    let (ok, out) = audit_verify(&["--data-dir", dir_arg, "--witness", witness_arg]);
    assert!(!ok);
    assert!(
        out.contains(
            "audit entry 4 is bad: missing: the trail ends at entry 3, but entry 5 was witnessed"
        ),
        "{out}"
    );

    // A witness file that is not one is refused, naming the line.
    std::fs::write(&witness, "5 not-a-hash\n").unwrap();
    let (ok, out) = audit_verify(&["--data-dir", dir_arg, "--witness", witness_arg]);
    assert!(!ok);
    assert!(out.contains("line 1 is not `<seq> <hash>`"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_trail_on_postgres_is_one_chain_and_verify_names_a_changed_row() {
    let url = TestPg::cluster().database("issuer_audit").await;
    let dir = TempDir::new("audit-pg-shared");
    let shared = dir.path().to_owned();
    let issuer = TestIssuer::start_with("audit-pg", |config| {
        config.database_url = Some(url.clone());
        config.data_dir = shared.clone();
    })
    .await;
    actions(&issuer).await;
    // A second appender on the same table, as another instance would be.
    let pg =
        intyg_service::pg::Pg::connect(&intyg_service::pg::PgConfig::new(url.clone())).unwrap();
    let other = PgAudit::new(pg.clone(), "issuer");
    let mine = issuer.state.audit.audit().clone();
    let appends = (0..20).map(|i| {
        let other = other.clone();
        let mine = mine.clone();
        async move {
            if i % 2 == 0 {
                let event = Event::new("b", "posting.create");
                other.append(&|_| Ok(event.clone())).await.map(|_| ())
            } else {
                mine.record(Event::new("a", "posting.create"))
                    .await
                    .map(|_| ())
            }
        }
    });
    for outcome in futures_join_all(appends).await {
        outcome.unwrap();
    }
    let key = intyg_issuer::audit::public_key(&shared).unwrap();
    let intact = verify_store(&other, &key).await.unwrap();
    assert_eq!(intact.entries, 25);

    let dir_arg = shared.to_str().unwrap();
    let (ok, out) = audit_verify(&["--data-dir", dir_arg, "--database-url", &url]);
    assert!(ok, "{out}");

    for seq in [25_i64, 10] {
        let client = pg.client().await.unwrap();
        client
            .execute(
                "UPDATE issuer_audit SET entry = replace(entry, 'posting.create', 'posting.delete') \
                 WHERE seq = $1",
                &[&seq],
            )
            .await
            .unwrap();
    }
    let (ok, out) = audit_verify(&["--data-dir", dir_arg, "--database-url", &url]);
    assert!(!ok);
    assert!(out.contains("audit entry 10 is bad"), "{out}");
}

/// Runs the futures at once and collects their outputs.
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}
