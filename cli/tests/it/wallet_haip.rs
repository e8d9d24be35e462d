//! `intyg wallet` with HAIP 1.0's invocation schemes against the real
//! issuer and verifier over loopback: a `haip-vci://` offer, a
//! `haip-vp://` request with `x509_san_dns` and `request_uri_method=post`
//! (OpenID4VP 1.0 §5.10), the pre-1.0 `haip://` still read, and a link of
//! the wrong kind refused.

use std::net::SocketAddr;

use intyg_testkit::{BackgroundIssuer, KARIN, REGISTRATION_CERTIFICATE, TempDir, TestIssuer};
use intyg_verifier::config::{Config, InvocationScheme};
use intyg_verifier::{AppState, app};
use serde_json::{Value, json};

use crate::{PIN, Run, wallet_command};

const API_KEY: &str = "cli-haip-verifier-key";

fn wallet(dir: &std::path::Path, args: &[&str]) -> Run {
    Run::of(wallet_command(dir, PIN, args).output().unwrap())
}

/// The verifier on its own runtime, trusting `issuer`, making `haip-vp://`
/// links: its URL, and the runtime that serves it.
fn start_verifier(dir: &std::path::Path, issuer: &str) -> (String, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let mut config = Config::dev(dir.to_owned(), addr).unwrap();
        config.api_key = Some(API_KEY.into());
        config.trust_issuers = vec![issuer.to_owned()];
        config.invocation_scheme = InvocationScheme::HaipVp;
        let state = AppState::open(config).await.unwrap();
        tokio::spawn(async move { axum::serve(listener, app(state)).await.unwrap() });
        format!("http://{addr}")
    });
    (url, runtime)
}

#[test]
fn haip_vci_offers_and_haip_vp_requests_with_post() {
    let issuer = BackgroundIssuer::start(TestIssuer::start("cli-haip"));
    let home = TempDir::new("cli-haip-home");
    let dir = home.path().join("wallet");
    assert!(wallet(&dir, &["init"]).ok);

    // Offers by the HAIP 1.0 scheme.
    for kind in [REGISTRATION_CERTIFICATE, "internship-eligibility"] {
        let created = issuer.block_on(issuer.admin.offer(kind, KARIN));
        let link = created
            .offer_uri
            .replacen("openid-credential-offer://", "haip-vci://", 1);
        assert!(link.starts_with("haip-vci://?credential_offer"), "{link}");
        let accept = wallet(
            &dir,
            &["--dev", "accept", &link, "--tx-code", &created.tx_code],
        );
        assert!(accept.ok, "{}", accept.stderr);
    }

    let verifier_dir = home.path().join("verifier");
    let (url, runtime) = start_verifier(&verifier_dir, &issuer.url);
    let http = reqwest::Client::new();
    let create = |body: Value| {
        runtime.block_on(async {
            http.post(format!("{url}/api/presentations"))
                .bearer_auth(API_KEY)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    };
    let show = |id: &str| {
        runtime.block_on(async {
            http.get(format!("{url}/api/presentations/{id}"))
                .bearer_auth(API_KEY)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    };
    let ca = verifier_dir.join("ca.pem");
    let trust = wallet(&dir, &["trust", "add-verifier-root", ca.to_str().unwrap()]);
    assert!(trust.ok, "{}", trust.stderr);

    let created = create(json!({
        "template": "internship-application",
        "client_id_prefix": "x509_san_dns",
        "request_uri_method": "post"
    }));
    let link = created["request_uri"].as_str().unwrap();
    assert!(
        link.starts_with("haip-vp://?client_id=x509_san_dns%3Alocalhost&")
            && link.contains("request_uri_method=post"),
        "{link}"
    );
    // An offer command given a request link says so.
    let wrong = wallet(&dir, &["--dev", "accept", link]);
    assert!(!wrong.ok);
    assert!(
        wrong.stderr.starts_with("invalid_offer: "),
        "{}",
        wrong.stderr
    );

    let present = wallet(
        &dir,
        &[
            "--dev",
            "present",
            link,
            "--approve",
            "--include",
            "given_name",
        ],
    );
    assert!(present.ok, "{}", present.stderr);
    let shown = show(created["id"].as_str().unwrap());
    assert_eq!(shown["status"], "verified", "{shown}");
    let queries: Vec<&str> = shown["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["query_id"].as_str().unwrap())
        .collect();
    assert!(queries.contains(&"given_name"), "{queries:?}");
    assert!(!queries.contains(&"family_name"), "{queries:?}");
    assert_eq!(shown["consent"]["verifier"], "x509_san_dns:localhost");

    // The pre-1.0 `haip://` scheme is still read.
    let created = create(json!({"template": "internship-application"}));
    let legacy = created["request_uri"]
        .as_str()
        .unwrap()
        .replacen("haip-vp://", "haip://", 1);
    let present = wallet(&dir, &["--dev", "present", &legacy, "--deny"]);
    assert!(present.ok, "{}", present.stderr);
    let shown = show(created["id"].as_str().unwrap());
    assert_eq!(shown["status"], "declined", "{shown}");
}

#[test]
fn an_issuer_for_certified_wallets_only_is_refused_with_its_own_code() {
    let provider = intyg_testkit::WalletProvider::new("CLI certified");
    let roots = TempDir::new("cli-certified-roots");
    let root = provider.write_root(&roots);
    let issuer = BackgroundIssuer::start(TestIssuer::start_with("cli-certified", |config| {
        config.profile = intyg_issuer::policy::Profile::Haip;
        config.wallet_provider_roots = vec![root];
    }));
    let home = TempDir::new("cli-certified-home");
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
    assert!(!accept.ok);
    assert!(
        accept
            .stderr
            .starts_with("certified_wallet_required: this issuer only accepts certified wallets"),
        "{}",
        accept.stderr
    );
    let list = wallet(&dir, &["--json", "list"]);
    assert_eq!(list.stdout.trim(), "[]", "{}", list.stderr);
}
