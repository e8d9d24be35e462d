//! `intyg wallet` as a process, against the real issuer over loopback:
//! init, unlock, accept, list, show, history, backup/restore, delete, and
//! the error codes scripts rely on.

use std::path::Path;

use intyg_testkit::{
    BackgroundIssuer, KARIN, REGISTRATION_CERTIFICATE, TempDir, TestIssuer, files_containing,
};
use serde_json::Value;

use crate::{PIN, Run, wallet_command};

fn wallet(dir: &Path, pin: &str, args: &[&str]) -> Run {
    Run::of(wallet_command(dir, pin, args).output().unwrap())
}

#[test]
fn wallet_receives_lists_shows_and_logs_from_the_command_line() {
    let issuer = BackgroundIssuer::start(TestIssuer::start("cli-wallet"));
    let home = TempDir::new("cli-wallet-home");
    let dir = home.path().join("wallet");

    let missing = wallet(&dir, PIN, &["list"]);
    assert!(!missing.ok);
    assert!(
        missing.stderr.starts_with("no_wallet: "),
        "{}",
        missing.stderr
    );

    let init = wallet(&dir, PIN, &["init"]);
    assert!(init.ok, "{}", init.stderr);
    let again = wallet(&dir, PIN, &["init"]);
    assert!(
        again.stderr.starts_with("wallet_exists: "),
        "{}",
        again.stderr
    );
    let wrong = wallet(&dir, "000000", &["unlock"]);
    assert!(!wrong.ok);
    assert!(wrong.stderr.starts_with("wrong_pin: "), "{}", wrong.stderr);
    let unlock = wallet(&dir, PIN, &["--json", "unlock"]);
    assert!(unlock.ok, "{}", unlock.stderr);

    // Without --dev the http issuer is refused; without the code, asked for.
    let created = issuer.block_on(issuer.admin.offer(REGISTRATION_CERTIFICATE, KARIN));
    let (uri, code) = (created.offer_uri, created.tx_code);
    let insecure = wallet(&dir, PIN, &["accept", &uri, "--tx-code", &code]);
    assert!(
        insecure.stderr.starts_with("invalid_offer: "),
        "{}",
        insecure.stderr
    );
    let no_code = wallet(&dir, PIN, &["--dev", "accept", &uri]);
    assert!(
        no_code.stderr.starts_with("tx_code_required: "),
        "{}",
        no_code.stderr
    );

    let accept = wallet(
        &dir,
        PIN,
        &["--dev", "--json", "accept", &uri, "--tx-code", &code],
    );
    assert!(accept.ok, "{}", accept.stderr);
    let stored: Value = serde_json::from_str(&accept.stdout).unwrap();
    let id = stored[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(stored[0]["copies"], 3);

    let list = wallet(&dir, PIN, &["list"]);
    assert!(
        list.ok && list.stdout.contains(&id),
        "{}{}",
        list.stdout,
        list.stderr
    );
    let show = wallet(&dir, PIN, &["--json", "show", &id[..8]]);
    let shown: Value = serde_json::from_str(&show.stdout).unwrap();
    assert_eq!(shown["claims"]["registration_status"], "in_programme");
    let human = wallet(&dir, PIN, &["show", &id]);
    assert!(human.stdout.contains("Lindqvist"), "{}", human.stdout);
    // Words, not codes, in the wallet's locale (English by default).
    assert!(
        human
            .stdout
            .contains("Registration status: In a labour-market programme"),
        "{}",
        human.stdout
    );
    let unknown = wallet(&dir, PIN, &["show", "ffffffffffff"]);
    assert!(
        unknown.stderr.starts_with("not_found: "),
        "{}",
        unknown.stderr
    );

    let history = wallet(&dir, PIN, &["--json", "history"]);
    let history: Value = serde_json::from_str(&history.stdout).unwrap();
    assert_eq!(history[0]["kind"], "issuance");
    assert_eq!(history[0]["counterparty"], issuer.url.as_str());

    // No claim value in the wallet's files.
    let hits = files_containing(&dir, b"Lindqvist");
    assert!(hits.is_empty(), "{hits:?}");

    // Backup, restore elsewhere, delete.
    let backup_file = home.path().join("wallet.backup");
    let backup = wallet(
        &dir,
        PIN,
        &["backup", "--out", backup_file.to_str().unwrap()],
    );
    assert!(backup.ok, "{}", backup.stderr);
    let restored = home.path().join("restored");
    let restore = wallet(
        &restored,
        "97531",
        &["restore", backup_file.to_str().unwrap()],
    );
    assert!(restore.ok, "{}", restore.stderr);
    assert!(wallet(&restored, "97531", &["list"]).stdout.contains(&id));
    let delete = wallet(&dir, PIN, &["delete", &id]);
    assert!(delete.ok, "{}", delete.stderr);
    assert!(
        wallet(&dir, PIN, &["list"])
            .stdout
            .contains("no credentials")
    );
}

#[test]
fn wallet_receives_the_dev_test_pid() {
    let issuer = BackgroundIssuer::start(TestIssuer::start("cli-wallet-pid"));
    let home = TempDir::new("cli-wallet-pid-home");
    let dir = home.path().join("wallet");
    let init = wallet(&dir, PIN, &["init"]);
    assert!(init.ok, "{}", init.stderr);
    let created = issuer.block_on(issuer.admin.offer("pid", KARIN));
    let accept = wallet(
        &dir,
        PIN,
        &[
            "--dev",
            "--json",
            "accept",
            &created.offer_uri,
            "--tx-code",
            &created.tx_code,
        ],
    );
    assert!(accept.ok, "{}", accept.stderr);
    let stored: Value = serde_json::from_str(&accept.stdout).unwrap();
    let id = stored[0]["id"].as_str().unwrap().to_owned();
    let show = wallet(&dir, PIN, &["--json", "show", &id]);
    assert!(show.ok, "{}", show.stderr);
    let shown: Value = serde_json::from_str(&show.stdout).unwrap();
    assert_eq!(shown["vct"], "urn:eudi:pid:1", "{shown}");
    assert_eq!(shown["claims"]["given_name"], "Karin Elisabet");
    assert_eq!(shown["claims"]["birthdate"], "1994-03-17");
    // Clearly a test PID where a person sees it.
    let human = wallet(&dir, PIN, &["show", &id]);
    assert!(
        human.stdout.contains("Test PID (development only)"),
        "{}",
        human.stdout
    );
}

#[test]
fn guessing_the_pin_from_the_command_line_makes_it_wait() {
    let home = TempDir::new("cli-wallet-guess");
    let dir = home.path().join("wallet");
    assert!(wallet(&dir, PIN, &["init"]).ok);
    for _ in 0..intyg_wallet::FREE_PIN_ATTEMPTS {
        let wrong = wallet(&dir, "000000", &["unlock"]);
        assert!(wrong.stderr.starts_with("wrong_pin: "), "{}", wrong.stderr);
    }
    // The next attempt, right PIN or not, waits; a script can tell why.
    let waiting = wallet(&dir, PIN, &["unlock"]);
    assert!(!waiting.ok);
    assert!(
        waiting
            .stderr
            .starts_with("too_many_attempts: too many wrong PINs: try again in "),
        "{}",
        waiting.stderr
    );
}
