//! Secrets stay out of the logs and out of core dumps: the issuer runs as
//! a real process with every log level on (as an operator chasing a
//! problem would set it), a whole issuance, a wrong PIN and a wrong API
//! key go through it, and its output holds none of the secrets that
//! crossed the wire nor the person's identity number; the process runs
//! with a core file size limit of 0.

use std::time::Duration;

use intyg_testkit::{API_KEY, KARIN, TempDir};

use crate::crash::{issue, spawn};
use intyg_testkit::free_port;

/// Whether `secret` occurs in `log` outside the timestamps that open its
/// lines (a 6-digit PIN could match their microseconds by chance).
fn occurs(log: &str, secret: &str) -> bool {
    log.lines().any(|line| {
        let rest = line.split_once(' ').map_or(line, |(_, rest)| rest);
        rest.contains(secret)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_and_identity_numbers_stay_out_of_the_logs_at_every_level() {
    let dir = TempDir::new("hygiene");
    let log = dir.path().join("issuer.log");
    let data = dir.path().join("data");
    let issuer = spawn(&data, free_port(), None, Some(&log)).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    // A wrong API key, presented the way a misconfigured client would.
    let wrong_key = "wrong-api-key-7f3a9c2e5b1d";
    let refused = http
        .post(format!("{}/api/offers", issuer.url))
        .bearer_auth(wrong_key)
        .json(&intyg_testkit::offer_body(
            "registration-certificate",
            KARIN,
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let issued = issue(&http, &issuer.url).await.unwrap();
    assert_eq!(issued.credentials.len(), 2);
    drop(issuer);

    let log = std::fs::read_to_string(&log).unwrap();
    // The log is real: the start was traced at every level.
    assert!(log.contains("intyg-issuer started"), "{log}");
    assert!(log.contains(" DEBUG "), "{log}");
    let mut secrets = vec![
        ("API key", API_KEY.to_owned()),
        ("wrong API key", wrong_key.to_owned()),
        ("tx_code", issued.tx_code.clone()),
        ("pre-authorized code", issued.pre_authorized_code.clone()),
        ("access token", issued.access_token.clone()),
        ("c_nonce", issued.c_nonce.clone()),
        ("personal identity number", KARIN.to_owned()),
    ];
    for (n, credential) in issued.credentials.iter().enumerate() {
        // The issuer's signature: the credential itself, or any copy.
        let signature = credential
            .split('~')
            .next()
            .and_then(|jwt| jwt.rsplit('.').next())
            .unwrap()
            .to_owned();
        secrets.push((
            if n == 0 {
                "credential"
            } else {
                "second credential"
            },
            signature,
        ));
    }
    for (what, secret) in &secrets {
        assert!(!occurs(&log, secret), "the {what} is in the log");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_issuer_process_writes_no_core_dumps() {
    let dir = TempDir::new("no-core");
    let issuer = spawn(dir.path(), free_port(), None, None).await;
    assert_eq!(
        intyg_testkit::core_file_limits(issuer.child.id()),
        ("0".to_owned(), "0".to_owned())
    );
}
