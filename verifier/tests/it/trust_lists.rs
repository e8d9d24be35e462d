//! Issuers trusted through Lists of Trusted Entities (ETSI TS 119 602)
//! served over loopback HTTP: the list is fetched, checked against its
//! pinned signer, kept when a later one fails, and its issuers are trusted
//! until a refresh removes them.

use intyg_core::jose::{Algorithm, Header, SigningKey, VerifyingKey};
use intyg_core::trust::Certificate;
use intyg_core::trust::lote::ServiceType;
use intyg_core::trust::pki::{LeafProfile, LocalCa, Subject};
use intyg_service::trust_lists::TrustListSource;
use intyg_testkit::lote::{ListOperator, ListServer, entity, pointer, pub_eaa_list};
use intyg_verifier::refresh_trust_lists;
use serde_json::Value;

use crate::{
    ELIGIBILITY, REGISTRATION, Session, TestIssuer, VALID, Verifier, example, now, present,
    vp_token,
};

const AF: &str = "Arbetsförmedlingen (test)";
const ISS: &str = "https://intyg.arbetsformedlingen.example";
const LIST: &str = "lists/pub-eaa.jwt";
const WITHDRAWN: &str = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/withdrawn";

/// An issuer signing with `x5c` under its own CA (O = its name), as a
/// list names it.
struct ListedIssuer {
    ca: LocalCa,
    key: SigningKey,
    leaf: Certificate,
}

impl ListedIssuer {
    fn new() -> Self {
        let ca = LocalCa::generate(&Subject::new("Intyg issuer CA").organization(AF)).unwrap();
        let key = SigningKey::generate().unwrap();
        let profile = LeafProfile {
            subject: Subject::new("Intyg issuer").organization(AF),
            uris: vec![ISS.to_owned()],
            ..LeafProfile::default()
        };
        let public = VerifyingKey::from_jwk(&key.public_jwk()).unwrap();
        let leaf = ca.issue(&public, &profile).unwrap();
        Self { ca, key, leaf }
    }

    fn on_list(&self, status: Option<&str>) -> intyg_core::trust::lote::TrustedEntity {
        entity(
            AF,
            &ServiceType::PubEaaIssuance,
            self.ca.certificate(),
            status,
        )
    }

    /// Whether the verifier now trusts this issuer's `x5c` for `vct`.
    fn trusted_by(&self, verifier: &Verifier, vct: &str) -> Result<(), String> {
        let mut header = Header::new(Algorithm::ES256);
        header.x5c = Some(vec![self.leaf.to_x5c()]);
        let trust = verifier.state.trust.read().unwrap();
        trust
            .issuer_key(vct, Some(ISS), &header, now())
            .map(|_| ())
            .map_err(|e| {
                intyg_verifier::verify::Reason::UntrustedIssuer(e.to_string())
                    .code()
                    .to_owned()
            })
    }

    /// A registration presentation and an eligibility one, both signed
    /// with `x5c` (no status entry: trust is what is tested).
    fn presentation(&self, session: &Session, holder: &SigningKey) -> String {
        let issue = |kind: &str| {
            let mut params = intyg_core::vc::IssueParams::new(ISS.to_owned(), now() - 10);
            params.expires_at = Some(now() + 3600);
            params.holder_key = Some(holder.public_jwk());
            params.x5c = Some(vec![self.leaf.to_x5c()]);
            intyg_core::vc::issue(
                &crate::credential_type(kind),
                example(kind),
                &params,
                &self.key,
            )
            .unwrap()
            .to_string()
        };
        session.encrypted(vp_token(&[
            (
                "registration",
                present(
                    &issue("registration-certificate"),
                    &["/registration_status", "/registered_since"],
                    holder,
                    &session.client_id(),
                    &session.nonce(),
                ),
            ),
            (
                "eligibility",
                present(
                    &issue("internship-eligibility"),
                    &["/eligible_from", "/eligible_until", "/max_hours_per_week"],
                    holder,
                    &session.client_id(),
                    &session.nonce(),
                ),
            ),
        ]))
    }
}

/// A list server, an operator, and a verifier trusting the operator's
/// list at [`LIST`] (nothing else).
struct Bench {
    server: ListServer,
    operator: ListOperator,
    verifier: Verifier,
}

impl Bench {
    /// Publishes `first` (if any) before the verifier starts.
    async fn start(name: &str, first: Option<&dyn Fn(&ListOperator) -> String>) -> Self {
        let server = ListServer::start().await;
        let operator = ListOperator::new("Test scheme operator");
        if let Some(first) = first {
            server.publish(LIST, first(&operator));
        }
        let dir = crate::TempDir::new(name);
        let signer = operator.write_ca(&dir.0, "operator.pem");
        let url = server.url(LIST);
        let verifier = Verifier::start_in(dir, |config| {
            config.trust_lists.push(TrustListSource { url, signer });
            // Rounds only when a test asks (refresh_trust_lists), past
            // the first one at start.
            config.trust_list_refresh.interval_seconds = Some(86_400);
        })
        .await;
        refresh_trust_lists(&verifier.state).await;
        // The background task's first round too, so that no round of
        // its own runs beside the test's.
        while verifier.state.trust_lists.rounds() < 2 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        Self {
            server,
            operator,
            verifier,
        }
    }

    /// Publishes a new version of the list and refreshes at once.
    async fn publish(&self, jws: String) {
        self.server.publish(LIST, jws);
        refresh_trust_lists(&self.verifier.state).await;
    }

    async fn healthz(&self) -> (u16, Value) {
        let response = reqwest::get(format!("{}/healthz", self.verifier.url))
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// The configured list's report.
    async fn report(&self) -> Value {
        self.healthz().await.1["trust_lists"][0].clone()
    }
}

#[tokio::test]
async fn an_issuer_on_the_list_is_trusted_and_refused_once_removed() {
    let issuer = ListedIssuer::new();
    let bench = Bench::start(
        "lists-removed",
        Some(&|op: &ListOperator| op.sign(&pub_eaa_list(1, 3600, vec![issuer.on_list(None)]))),
    )
    .await;
    let holder = SigningKey::generate().unwrap();
    let session = bench.verifier.session().await;
    let response = bench
        .verifier
        .post(&session, issuer.presentation(&session, &holder))
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    assert_eq!(issuer.trusted_by(&bench.verifier, REGISTRATION), Ok(()));

    bench
        .publish(bench.operator.sign(&pub_eaa_list(2, 3600, vec![])))
        .await;
    assert_eq!(bench.report().await["sequence_number"], 2);
    let session = bench.verifier.session().await;
    let response = bench
        .verifier
        .post(&session, issuer.presentation(&session, &holder))
        .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["reason"], "untrusted_issuer", "{body}");
}

#[tokio::test]
async fn a_presentation_from_an_issuer_not_on_the_list_fails_with_untrusted_issuer() {
    let listed = ListedIssuer::new();
    let bench = Bench::start(
        "lists-stranger",
        Some(&|op: &ListOperator| op.sign(&pub_eaa_list(1, 3600, vec![listed.on_list(None)]))),
    )
    .await;
    // An issuer known by its keys only, and one with a chain to a CA no
    // list names.
    let stranger = TestIssuer::start().await;
    let holder = SigningKey::generate().unwrap();
    let session = bench.verifier.session().await;
    let issue = |kind: &str| stranger.issue(kind, example(kind), &holder, VALID, |_| {});
    let body = session.encrypted(vp_token(&[
        (
            "registration",
            present(
                &issue("registration-certificate"),
                &["/registration_status", "/registered_since"],
                &holder,
                &session.client_id(),
                &session.nonce(),
            ),
        ),
        (
            "eligibility",
            present(
                &issue("internship-eligibility"),
                &["/eligible_from", "/eligible_until", "/max_hours_per_week"],
                &holder,
                &session.client_id(),
                &session.nonce(),
            ),
        ),
    ]));
    let response = bench.verifier.post(&session, body).await;
    assert_eq!(response.status(), 400);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["reason"], "untrusted_issuer", "{answer}");

    let unlisted = ListedIssuer::new();
    assert_eq!(
        unlisted.trusted_by(&bench.verifier, ELIGIBILITY),
        Err("untrusted_issuer".to_owned())
    );
    assert_eq!(listed.trusted_by(&bench.verifier, ELIGIBILITY), Ok(()));
}

#[tokio::test]
async fn a_withdrawn_service_is_refused_after_the_next_refresh() {
    let issuer = ListedIssuer::new();
    let bench = Bench::start(
        "lists-withdrawn",
        Some(&|op: &ListOperator| op.sign(&pub_eaa_list(1, 3600, vec![issuer.on_list(None)]))),
    )
    .await;
    assert_eq!(issuer.trusted_by(&bench.verifier, REGISTRATION), Ok(()));
    bench
        .publish(bench.operator.sign(&pub_eaa_list(
            2,
            3600,
            vec![issuer.on_list(Some(WITHDRAWN))],
        )))
        .await;
    assert_eq!(bench.report().await["state"], "ok");
    assert_eq!(
        issuer.trusted_by(&bench.verifier, REGISTRATION),
        Err("untrusted_issuer".to_owned())
    );
}

#[tokio::test]
async fn a_forged_signature_never_replaces_the_last_good_list() {
    let issuer = ListedIssuer::new();
    let bench = Bench::start(
        "lists-forged",
        Some(&|op: &ListOperator| op.sign(&pub_eaa_list(1, 3600, vec![issuer.on_list(None)]))),
    )
    .await;
    // The payload of list 2 (issuer gone) under list 1's signature.
    let good = bench
        .operator
        .sign(&pub_eaa_list(1, 3600, vec![issuer.on_list(None)]));
    let emptied = bench.operator.sign(&pub_eaa_list(2, 3600, vec![]));
    let good: Vec<&str> = good.split('.').collect();
    let emptied: Vec<&str> = emptied.split('.').collect();
    bench
        .publish(format!("{}.{}.{}", good[0], emptied[1], good[2]))
        .await;
    let report = bench.report().await;
    assert_eq!(report["error"], "lote_signature_invalid", "{report}");
    assert_eq!(report["sequence_number"], 1);
    assert_eq!(report["state"], "ok");
    assert_eq!(issuer.trusted_by(&bench.verifier, REGISTRATION), Ok(()));
}

#[tokio::test]
async fn a_list_signed_by_the_right_key_under_an_unpinned_certificate_is_refused() {
    let issuer = ListedIssuer::new();
    let bench = Bench::start("lists-unpinned", None).await;
    let impostor = bench.operator.same_key_under_another_ca("Impostor");
    bench
        .publish(impostor.sign(&pub_eaa_list(1, 3600, vec![issuer.on_list(None)])))
        .await;
    let (status, health) = bench.healthz().await;
    assert_eq!(status, 503, "{health}");
    assert_eq!(health["trust_lists"][0]["state"], "failed");
    assert_eq!(health["trust_lists"][0]["error"], "lote_untrusted_signer");
    assert_eq!(
        issuer.trusted_by(&bench.verifier, REGISTRATION),
        Err("untrusted_issuer".to_owned())
    );
}

#[tokio::test]
async fn an_expired_list_is_refused() {
    let issuer = ListedIssuer::new();
    let bench = Bench::start(
        "lists-expired",
        Some(&|op: &ListOperator| {
            // Past NextUpdate by more than the seven days of grace.
            op.sign(&pub_eaa_list(1, -8 * 86_400, vec![issuer.on_list(None)]))
        }),
    )
    .await;
    let report = bench.report().await;
    assert_eq!(report["state"], "failed", "{report}");
    assert_eq!(report["error"], "lote_expired");
    assert_eq!(
        issuer.trusted_by(&bench.verifier, REGISTRATION),
        Err("untrusted_issuer".to_owned())
    );
    // Within the grace period it is used, and reported stale.
    bench
        .publish(
            bench
                .operator
                .sign(&pub_eaa_list(2, -86_400, vec![issuer.on_list(None)])),
        )
        .await;
    assert_eq!(bench.report().await["state"], "stale");
    assert_eq!(issuer.trusted_by(&bench.verifier, REGISTRATION), Ok(()));
}

#[tokio::test]
async fn a_rolled_back_sequence_number_keeps_the_last_good_list() {
    let issuer = ListedIssuer::new();
    let bench = Bench::start(
        "lists-rollback",
        Some(&|op: &ListOperator| op.sign(&pub_eaa_list(5, 3600, vec![issuer.on_list(None)]))),
    )
    .await;
    bench
        .publish(bench.operator.sign(&pub_eaa_list(4, 3600, vec![])))
        .await;
    let report = bench.report().await;
    assert_eq!(report["error"], "lote_rollback", "{report}");
    assert_eq!(report["sequence_number"], 5);
    assert_eq!(report["state"], "ok");
    assert_eq!(issuer.trusted_by(&bench.verifier, REGISTRATION), Ok(()));
}

#[tokio::test]
async fn healthz_says_starting_until_every_list_was_fetched_good() {
    let issuer = ListedIssuer::new();
    let bench = Bench::start("lists-readiness", None).await;
    let (status, health) = bench.healthz().await;
    assert_eq!(status, 503, "{health}");
    assert_eq!(health["status"], "starting");
    assert_eq!(health["trust_lists"][0]["url"], bench.server.url(LIST));
    assert_eq!(health["trust_lists"][0]["error"], "lote_fetch_failed");

    bench
        .publish(
            bench
                .operator
                .sign(&pub_eaa_list(1, 3600, vec![issuer.on_list(None)])),
        )
        .await;
    let (status, health) = bench.healthz().await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["status"], "ok");
    let list = &health["trust_lists"][0];
    assert_eq!(list["state"], "ok");
    assert_eq!(list["scheme"], "Test Pub-EAA providers");
    assert_eq!(list["sequence_number"], 1);
    assert!(list["age_seconds"].as_i64().unwrap() >= 0);

    let metrics = reqwest::get(format!("{}/metrics", bench.verifier.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let url = bench.server.url(LIST);
    assert!(
        metrics.contains(&format!(
            "intyg_trust_list_state{{state=\"ok\",url=\"{url}\"}} 1"
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!("intyg_trust_list_age_seconds{{url=\"{url}\"}}")),
        "{metrics}"
    );
}

#[tokio::test]
async fn pointers_to_other_lists_are_followed_with_their_own_signers() {
    let issuer = ListedIssuer::new();
    let national = ListOperator::new("National operator");
    let bench = Bench::start("lists-pointers", None).await;
    bench.server.publish(
        "lists/national.jwt",
        national.sign(&pub_eaa_list(1, 3600, vec![issuer.on_list(None)])),
    );
    let mut root = pub_eaa_list(1, 3600, vec![]);
    root.lote
        .list_and_scheme_information
        .pointers_to_other_lote
        .push(pointer(&bench.server.url("lists/national.jwt"), &national));
    bench.publish(bench.operator.sign(&root)).await;
    let (status, health) = bench.healthz().await;
    assert_eq!(status, 200, "{health}");
    let pointed = &health["trust_lists"][1];
    assert_eq!(pointed["url"], bench.server.url("lists/national.jwt"));
    assert_eq!(pointed["pointed_from"], bench.server.url(LIST));
    assert_eq!(pointed["state"], "ok");
    assert_eq!(issuer.trusted_by(&bench.verifier, REGISTRATION), Ok(()));

    // A list the pointer did not pin (signed by the root operator) is
    // refused; the pointer's signers are the only ones.
    bench.server.publish(
        "lists/national.jwt",
        bench
            .operator
            .sign(&pub_eaa_list(2, 3600, vec![issuer.on_list(None)])),
    );
    refresh_trust_lists(&bench.verifier.state).await;
    assert_eq!(
        bench.healthz().await.1["trust_lists"][1]["error"],
        "lote_untrusted_signer"
    );

    // Once the pointer goes, so do the anchors it brought.
    root.lote.list_and_scheme_information.sequence_number = 2;
    root.lote
        .list_and_scheme_information
        .pointers_to_other_lote
        .clear();
    bench.publish(bench.operator.sign(&root)).await;
    assert_eq!(
        bench.healthz().await.1["trust_lists"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        issuer.trusted_by(&bench.verifier, REGISTRATION),
        Err("untrusted_issuer".to_owned())
    );
}
