//! `intyg wallet` as a process, against the real issuer over loopback:
//! init, unlock, accept, list, show, history, backup/restore, delete, and
//! the error codes scripts rely on.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

const API_KEY: &str = "cli-wallet-test-api-key-0123456789";
const PIN: &str = "246810";

struct Out {
    ok: bool,
    stdout: String,
    stderr: String,
}

fn wallet(dir: &Path, pin: &str, args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_intyg"))
        .arg("wallet")
        .args(args)
        .env("INTYG_WALLET_DIR", dir)
        .env("INTYG_WALLET_PIN", pin)
        .env("INTYG_WALLET_BACKUP_PASSPHRASE", "backup pass")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    Out {
        ok: out.status.success(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// The issuer on a loopback port, served by its own runtime.
struct Issuer {
    url: String,
    runtime: tokio::runtime::Runtime,
    _dir: tempdir::Dir,
}

mod tempdir {
    pub(super) struct Dir(pub(super) std::path::PathBuf);
    impl Dir {
        pub(super) fn new(name: &str) -> Self {
            let dir = std::env::temp_dir()
                .join(format!("intyg-cli-wallet-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Issuer {
    fn start() -> Self {
        let dir = tempdir::Dir::new("issuer");
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let data = dir.0.clone();
        let url = runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let mut config = intyg_issuer::config::Config::dev(data, addr).unwrap();
            config.api_key = Some(API_KEY.into());
            let state = intyg_issuer::AppState::open(config).unwrap();
            let router = intyg_issuer::app(state);
            tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
            format!("http://{addr}")
        });
        Self {
            url,
            runtime,
            _dir: dir,
        }
    }

    fn offer(&self) -> (String, String) {
        let example: Value = serde_json::from_str(
            &std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../specs/credentials/registration-certificate/example.json"),
            )
            .unwrap(),
        )
        .unwrap();
        let url = format!("{}/api/offers", self.url);
        let created: Value = self.runtime.block_on(async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(API_KEY)
                .json(&json!({"credential_configuration_id": "registration-certificate", "claims": example, "subject": "199403172381"}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
        (
            created["offer_uri"].as_str().unwrap().to_owned(),
            created["tx_code"].as_str().unwrap().to_owned(),
        )
    }
}

#[test]
fn wallet_receives_lists_shows_and_logs_from_the_command_line() {
    let issuer = Issuer::start();
    let home = tempdir::Dir::new("home");
    let dir = home.0.join("wallet");

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
    let (uri, code) = issuer.offer();
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
    let mut stack = vec![dir.clone()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                assert!(
                    !bytes.windows(9).any(|w| w == b"Lindqvist"),
                    "{}",
                    path.display()
                );
            }
        }
    }

    // Backup, restore elsewhere, delete.
    let backup_file = home.0.join("wallet.backup");
    let backup = wallet(
        &dir,
        PIN,
        &["backup", "--out", backup_file.to_str().unwrap()],
    );
    assert!(backup.ok, "{}", backup.stderr);
    let restored = home.0.join("restored");
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
