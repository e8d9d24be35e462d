//! `intyg wallet inspect` and `present` against verifiers with and without
//! registration certificates (ETSI TS 119 475 WRPRC in `verifier_info`):
//! valid, untrusted provider, missing, bound to another verifier, forged,
//! expired; and a request that over-asks.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use intyg_core::jose::{Jwk, SigningKey};
use intyg_core::trust::{Certificate, CertificateChain};
use intyg_core::wrprc::{self, RegistrationClaims};
use intyg_testkit::{BackgroundIssuer, KARIN, REGISTRATION_CERTIFICATE, TempDir, TestIssuer};
use intyg_verifier::config::Config;
use intyg_verifier::{AppState, app};
use serde_json::{Value, json};

use crate::{PIN, Run, wallet_command};

const API_KEY: &str = "cli-wrprc-verifier-key";
const REGISTRATION_VCT: &str = "https://intyg.se/credentials/registration-certificate/v1";

fn wallet(dir: &Path, args: &[&str]) -> Run {
    Run::of(wallet_command(dir, PIN, args).output().unwrap())
}

struct Verifier {
    url: String,
    dir: PathBuf,
    runtime: tokio::runtime::Runtime,
}

impl Verifier {
    /// A dev verifier in `dir` trusting `issuer`; `edit` adjusts its
    /// configuration.
    fn start(dir: &Path, issuer: &str, edit: impl FnOnce(&mut Config)) -> Self {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let url = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr: SocketAddr = listener.local_addr().unwrap();
            let mut config = Config::dev(dir.to_owned(), addr).unwrap();
            config.api_key = Some(API_KEY.into());
            config.trust_issuers = vec![issuer.to_owned()];
            edit(&mut config);
            let state = AppState::open(config).await.unwrap();
            tokio::spawn(async move { axum::serve(listener, app(state)).await.unwrap() });
            format!("http://{addr}")
        });
        Self {
            url,
            dir: dir.to_owned(),
            runtime,
        }
    }

    fn create(&self, body: Value) -> Value {
        let http = reqwest::Client::new();
        self.runtime.block_on(async {
            http.post(format!("{}/api/presentations", self.url))
                .bearer_auth(API_KEY)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    }

    fn show(&self, id: &str) -> Value {
        let http = reqwest::Client::new();
        self.runtime.block_on(async {
            http.get(format!("{}/api/presentations/{id}", self.url))
                .bearer_auth(API_KEY)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    }

    fn link(&self, body: Value) -> (String, String) {
        let created = self.create(body);
        (
            created["request_uri"].as_str().unwrap().to_owned(),
            created["id"].as_str().unwrap().to_owned(),
        )
    }

    fn file(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_owned()
    }
}

fn inspect(dir: &Path, link: &str) -> Value {
    let run = wallet(dir, &["--dev", "--json", "inspect", link]);
    assert!(run.ok, "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

/// A registration certificate signed by `verifier`'s development WRPRC
/// provider, changed by `edit`, written to a file in `dir`.
fn registration_file(
    verifier: &Verifier,
    dir: &Path,
    edit: impl FnOnce(&mut RegistrationClaims),
) -> PathBuf {
    let jwk: Jwk = serde_json::from_str(
        &std::fs::read_to_string(verifier.dir.join("wrprc-provider-key.jwk")).unwrap(),
    )
    .unwrap();
    let key = SigningKey::from_jwk(&jwk).unwrap();
    let chain = CertificateChain::new(
        Certificate::from_pem(
            &std::fs::read_to_string(verifier.dir.join("wrprc-provider-chain.pem")).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut claims: RegistrationClaims = serde_json::from_value(json!({
        "name": "Intyg verifier", "sub": "NTRSE-0000000000", "country": "SE",
        "registry_uri": "https://registry.invalid", "iat": now - 60, "exp": now + 3600,
        "entitlements": [wrprc::SERVICE_PROVIDER],
        "credentials": [{"format": "dc+sd-jwt", "meta": {"vct_values": [REGISTRATION_VCT]},
            "claim": [{"path": ["registration_status"]}, {"path": ["registered_since"]}]}]
    }))
    .unwrap();
    edit(&mut claims);
    let jwt = wrprc::sign(&claims, &key, &chain).unwrap();
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("registration.jwt");
    std::fs::write(&path, jwt).unwrap();
    path
}

/// A change to a registration's claims.
type Edit = fn(&mut RegistrationClaims);

#[test]
fn registration_certificates_are_checked_and_overasking_is_refused() {
    let issuer = BackgroundIssuer::start(TestIssuer::start("cli-wrprc"));
    let home = TempDir::new("cli-wrprc-home");
    let dir = home.path().join("wallet");
    assert!(wallet(&dir, &["init"]).ok);
    let created = issuer.block_on(issuer.admin.offer(REGISTRATION_CERTIFICATE, KARIN));
    let accept = wallet(
        &dir,
        &[
            "--dev",
            "accept",
            &created.offer_uri,
            "--tx-code",
            &created.tx_code,
        ],
    );
    assert!(accept.ok, "{}", accept.stderr);

    let verifier = Verifier::start(&home.path().join("verifier"), &issuer.url, |_| {});
    assert!(
        std::fs::read_to_string(verifier.file("wrprc-ca.pem"))
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    let trust = wallet(
        &dir,
        &["trust", "add-verifier-root", &verifier.file("ca.pem")],
    );
    assert!(trust.ok, "{}", trust.stderr);
    let asked = json!({
        "dcql_query": {"credentials": [{"id": "registration", "format": "dc+sd-jwt",
            "meta": {"vct_values": [REGISTRATION_VCT]},
            "claims": [{"path": ["registration_status"]}]}]},
        "purpose": "Test"
    });

    // The provider is not trusted yet: not valid, nothing over-asked,
    // and an explicit approval still answers, with a warning.
    let (link, id) = verifier.link(asked.clone());
    let seen = inspect(&dir, &link);
    assert_eq!(seen["registration"]["valid"], false, "{seen}");
    assert_eq!(seen["registration"]["reason"], "untrusted_provider");
    assert_eq!(seen["credentials"][0]["overasked"], json!([]));
    let present = wallet(&dir, &["--dev", "present", &link, "--approve"]);
    assert!(present.ok, "{}", present.stderr);
    assert!(
        present
            .stderr
            .contains("warning: no valid registration certificate"),
        "{}",
        present.stderr
    );
    assert_eq!(verifier.show(&id)["status"], "verified");

    let trust = wallet(
        &dir,
        &[
            "--dev",
            "trust",
            "add-wrprc-root",
            &verifier.file("wrprc-ca.pem"),
        ],
    );
    assert!(trust.ok, "{}", trust.stderr);

    // Registered and within it: inspect, then present the same link
    // (request_uri_method=post: each fetch gets a fresh request object).
    let (link, id) = verifier.link(json!({
        "template": "internship-application", "request_uri_method": "post"
    }));
    let seen = inspect(&dir, &link);
    assert_eq!(seen["registration"]["valid"], true, "{seen}");
    assert_eq!(seen["registration"]["identifier"], "NTRSE-0000000000");
    assert!(
        seen["registration"]["support_uri"]
            .as_str()
            .unwrap()
            .ends_with("/erasure")
    );
    assert!(
        seen["verifier"]["client_id"]
            .as_str()
            .unwrap()
            .starts_with("x509_hash:")
    );
    assert!(seen["purpose"].is_string());
    let credentials = seen["credentials"].as_array().unwrap();
    assert!(!credentials.is_empty());
    assert!(
        credentials.iter().all(|c| c["overasked"] == json!([])),
        "{seen}"
    );
    let present = wallet(&dir, &["--dev", "present", &link, "--deny"]);
    assert!(present.ok, "{}", present.stderr);
    assert_eq!(verifier.show(&id)["status"], "declined");

    // Over-asking: a claim outside the registration.
    let over = json!({
        "dcql_query": {"credentials": [{"id": "registration", "format": "dc+sd-jwt",
            "meta": {"vct_values": [REGISTRATION_VCT]},
            "claims": [{"path": ["registration_status"]}, {"path": ["personal_identity_number"]}]}]},
        "purpose": "Test"
    });
    let (link, id) = verifier.link(over);
    let seen = inspect(&dir, &link);
    assert_eq!(seen["registration"]["valid"], true, "{seen}");
    assert_eq!(
        seen["credentials"][0]["overasked"],
        json!(["personal_identity_number"])
    );
    assert_eq!(
        seen["credentials"][0]["claims"],
        json!(["registration_status", "personal_identity_number"])
    );
    let refused = wallet(&dir, &["--dev", "present", &link, "--approve"]);
    assert!(!refused.ok);
    assert_eq!(refused.code, Some(1));
    assert!(
        refused.stderr.starts_with("overasking: "),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("personal_identity_number"));
    assert_eq!(verifier.show(&id)["status"], "pending");
    let allowed = wallet(
        &dir,
        &["--dev", "present", &link, "--approve", "--allow-overasking"],
    );
    assert!(allowed.ok, "{}", allowed.stderr);
    assert_eq!(verifier.show(&id)["status"], "verified");
    let history = wallet(&dir, &["--json", "history"]);
    let history: Value = serde_json::from_str(&history.stdout).unwrap();
    let last = history.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["registration"]["valid"], true, "{last}");
    assert_eq!(
        last["registration"]["overasked"],
        json!(["registration.personal_identity_number"])
    );
    assert_eq!(
        last["registration"]["overasked_shared"],
        json!(["registration.personal_identity_number"])
    );

    // No registration certificate at all.
    let bare = Verifier::start(&home.path().join("bare"), &issuer.url, |config| {
        config.dev_registration = false;
    });
    assert!(!bare.dir.join("wrprc-ca.pem").exists());
    wallet(&dir, &["trust", "add-verifier-root", &bare.file("ca.pem")]);
    let (link, id) = bare.link(asked.clone());
    let seen = inspect(&dir, &link);
    assert_eq!(seen["registration"]["valid"], false);
    assert_eq!(seen["registration"]["reason"], "missing");
    let present = wallet(&dir, &["--dev", "present", &link, "--approve"]);
    assert!(present.ok, "{}", present.stderr);
    assert!(present.stderr.contains("missing"), "{}", present.stderr);
    assert_eq!(bare.show(&id)["status"], "verified");

    // Certificates the wallet refuses, each sent by its own verifier.
    let cases: [(&str, &str, Edit); 4] = [
        ("other", "other_verifier", |c| {
            c.sub = "NTRSE-9999999999".into()
        }),
        ("expired", "expired", |c| {
            c.iat -= 7200;
            c.exp = Some(c.iat + 3600);
        }),
        ("forged", "bad_signature", |_| {}),
        // Its status list cannot be fetched (nothing listens on port 9).
        ("unreachable", "registration_status_unknown", |c| {
            c.status = Some(
                serde_json::from_value(json!({"status_list": {
                "idx": 0, "uri": "http://127.0.0.1:9/registration/status-list"}}))
                .unwrap(),
            );
        }),
    ];
    for (name, reason, edit) in cases {
        let file = registration_file(&verifier, &home.path().join(format!("{name}-files")), edit);
        if name == "forged" {
            let jwt = std::fs::read_to_string(&file).unwrap();
            let parts: Vec<&str> = jwt.split('.').collect();
            let mut payload: Value =
                serde_json::from_slice(&intyg_core::jose::b64url_decode(parts[1]).unwrap())
                    .unwrap();
            payload["credentials"][0]["claim"]
                .as_array_mut()
                .unwrap()
                .push(json!({"path": ["personal_identity_number"]}));
            let forged = intyg_core::jose::b64url_encode(serde_json::to_vec(&payload).unwrap());
            std::fs::write(&file, format!("{}.{forged}.{}", parts[0], parts[2])).unwrap();
        }
        let other = Verifier::start(&home.path().join(name), &issuer.url, |config| {
            config.registration_files = vec![file.clone()];
        });
        wallet(&dir, &["trust", "add-verifier-root", &other.file("ca.pem")]);
        let (link, _) = other.link(asked.clone());
        let seen = inspect(&dir, &link);
        assert_eq!(seen["registration"]["valid"], false, "{name}: {seen}");
        assert_eq!(seen["registration"]["reason"], reason, "{name}: {seen}");
        assert_eq!(seen["credentials"][0]["overasked"], json!([]), "{name}");
    }

    // The development registration carries a status; revoked in the
    // provider's status list, it is not valid.
    let statused = inspect(&dir, &verifier.link(asked.clone()).0);
    assert_eq!(statused["registration"]["valid"], true, "{statused}");
    let revoked = Verifier::start(&home.path().join("revoked"), &issuer.url, |config| {
        config.dev_registration_revoked = true;
    });
    wallet(
        &dir,
        &["trust", "add-verifier-root", &revoked.file("ca.pem")],
    );
    wallet(
        &dir,
        &["trust", "add-wrprc-root", &revoked.file("wrprc-ca.pem")],
    );
    let seen = inspect(&dir, &revoked.link(asked.clone()).0);
    assert_eq!(seen["registration"]["valid"], false, "{seen}");
    assert_eq!(
        seen["registration"]["reason"], "registration_revoked",
        "{seen}"
    );
}

/// A minimal attestation: the issuer computed `registered_at_least`, the
/// template asks only the status and `registered_at_least/6_months`, and
/// the verifier learns the fact, not the date.
#[test]
fn internship_eligible_minimal_discloses_the_predicate_not_the_date() {
    let issuer = BackgroundIssuer::start(TestIssuer::start("cli-wrprc-minimal"));
    let home = TempDir::new("cli-wrprc-minimal-home");
    let dir = home.path().join("wallet");
    assert!(wallet(&dir, &["init"]).ok);
    let created = issuer.block_on(issuer.admin.offer(REGISTRATION_CERTIFICATE, KARIN));
    let accept = wallet(
        &dir,
        &[
            "--dev",
            "accept",
            &created.offer_uri,
            "--tx-code",
            &created.tx_code,
        ],
    );
    assert!(accept.ok, "{}", accept.stderr);
    let list: Value = serde_json::from_str(&wallet(&dir, &["--json", "list"]).stdout).unwrap();
    let id = list[0]["id"].as_str().unwrap().to_owned();
    let held: Value = serde_json::from_str(&wallet(&dir, &["--json", "show", &id]).stdout).unwrap();
    let predicates = held["claims"]["registered_at_least"].clone();
    for name in ["3_months", "6_months", "12_months"] {
        assert!(predicates[name].is_boolean(), "{held}");
    }
    // The example is registered since 2026-02-02: while 12 months is false,
    // the credential expires by 2027-02-02 00:00 in Stockholm, the day it
    // would turn true (the issuer's lifetime is a year).
    if predicates["12_months"] == false {
        let expires_at = held["expires_at"].as_i64().unwrap();
        assert!(expires_at <= 1_801_522_800, "{held}");
    }

    let verifier = Verifier::start(&home.path().join("verifier"), &issuer.url, |_| {});
    wallet(
        &dir,
        &["trust", "add-verifier-root", &verifier.file("ca.pem")],
    );
    wallet(
        &dir,
        &["trust", "add-wrprc-root", &verifier.file("wrprc-ca.pem")],
    );
    let (link, id) = verifier.link(json!({"template": "internship-eligible-minimal"}));
    let seen = inspect(&dir, &link);
    assert_eq!(seen["registration"]["valid"], true, "{seen}");
    assert_eq!(seen["credentials"][0]["overasked"], json!([]), "{seen}");
    let present = wallet(&dir, &["--dev", "present", &link, "--approve"]);
    assert!(present.ok, "{}", present.stderr);
    let shown = verifier.show(&id);
    assert_eq!(shown["status"], "verified", "{shown}");
    let claims = &shown["credentials"][0]["claims"];
    assert_eq!(
        claims["registered_at_least"],
        json!({"6_months": predicates["6_months"]}),
        "{shown}"
    );
    assert!(claims.get("registered_since").is_none(), "{shown}");
    assert!(claims.get("given_name").is_none(), "{shown}");
    assert!(claims["registration_status"].is_string(), "{shown}");
}
