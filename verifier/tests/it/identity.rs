//! `internship-application-with-identity`: the PID next to the
//! registration certificate. The same person (names compared after
//! normalization and case folding) verifies; another given name or birth
//! date fails with `holder_mismatch`; a PID provider is trusted for the
//! PID only (`trust_pid_providers`) and an issuer CA for its types only.

use intyg_core::jose::{SigningKey, VerifyingKey};
use intyg_core::trust::pki::{LeafProfile, LocalCa, Subject};
use intyg_core::trust::{CertificateChain, TrustAnchors, TrustedIssuer};
use intyg_core::vc::{self, IssueParams};
use intyg_verifier::now;
use serde_json::{Map, Value, json};

use crate::{
    REGISTRATION, Session, TempDir, TestIssuer, VALID, Verifier, credential_type, example, present,
    vp_token,
};

const PID_POINTERS: [&str; 3] = ["/given_name", "/family_name", "/birthdate"];
const REGISTRATION_POINTERS: [&str; 5] = [
    "/given_name",
    "/family_name",
    "/birthdate",
    "/registration_status",
    "/registered_since",
];

/// A CA and one signing leaf under it naming `iss`.
struct Signer {
    ca: LocalCa,
    key: SigningKey,
    x5c: Vec<String>,
    iss: String,
}

impl Signer {
    fn new(name: &str, iss: &str) -> Self {
        let ca = LocalCa::generate(&Subject::new(format!("{name} CA")).organization(name)).unwrap();
        let key = SigningKey::generate().unwrap();
        let public = VerifyingKey::from_jwk(&key.public_jwk()).unwrap();
        let leaf = ca
            .issue(
                &public,
                &LeafProfile {
                    subject: Subject::new(format!("{name} signing")).organization(name),
                    uris: vec![iss.to_owned()],
                    ..LeafProfile::default()
                },
            )
            .unwrap();
        let x5c = CertificateChain::new(vec![leaf]).unwrap().to_x5c();
        Self {
            ca,
            key,
            x5c,
            iss: iss.to_owned(),
        }
    }

    /// A credential of `kind` with `x5c`, without status.
    fn issue(&self, kind: &str, claims: Map<String, Value>, holder: &SigningKey) -> String {
        let mut params = IssueParams::new(self.iss.clone(), now() - 10);
        params.expires_at = Some(now() + 3600);
        params.holder_key = Some(holder.public_jwk());
        params.x5c = Some(self.x5c.clone());
        vc::issue(&credential_type(kind), claims, &params, &self.key)
            .unwrap()
            .to_string()
    }
}

/// A verifier trusting the test issuer for the Intyg types (by key, and
/// by `x5c` to the issuer CA for the registration certificate), and the
/// PID provider CA through `trust_pid_providers`.
struct Bench {
    verifier: Verifier,
    issuer: TestIssuer,
    issuer_ca: Signer,
    pid_provider: Signer,
    holder: SigningKey,
    _pem: TempDir,
}

impl Bench {
    async fn start(name: &str) -> Self {
        let issuer = TestIssuer::start().await;
        let pid_provider = Signer::new("Test PID provider", &issuer.iss);
        let issuer_ca = Signer::new("Test issuer", &issuer.iss);
        let pem = TempDir::new("pid-provider");
        let pem_file = pem.0.join("pid-provider-ca.pem");
        std::fs::write(&pem_file, pid_provider.ca.certificate().to_pem()).unwrap();
        let verifier = Verifier::start(name, |config| {
            config.trust_pid_providers = vec![pem_file.clone()];
        })
        .await;
        verifier.trust(&issuer);
        {
            let mut jwk = issuer.key.public_jwk();
            jwk.key_id = Some(issuer.kid.clone());
            let roots = TrustAnchors::new(vec![issuer_ca.ca.certificate().clone()]).unwrap();
            let mut current = verifier.state.trust.write().unwrap();
            let trust = std::sync::Arc::make_mut(&mut current);
            trust.trust(
                REGISTRATION,
                TrustedIssuer {
                    iss: issuer.iss.clone(),
                    keys: vec![jwk],
                    roots,
                },
            );
            assert!(
                trust
                    .listed()
                    .contains_key(intyg_verifier::PID_PROVIDERS_SOURCE)
            );
        }
        Self {
            verifier,
            issuer,
            issuer_ca,
            pid_provider,
            holder: SigningKey::generate().unwrap(),
            _pem: pem,
        }
    }

    async fn session(&self) -> Session {
        let created: Value = self
            .verifier
            .create(json!({"template": "internship-application-with-identity"}))
            .await
            .json()
            .await
            .unwrap();
        self.verifier
            .session_of(
                created["request_uri"].as_str().unwrap(),
                created["id"].as_str().unwrap(),
            )
            .await
    }

    /// The example PID with `edit` applied, from the PID provider.
    fn pid(&self, edit: impl FnOnce(&mut Map<String, Value>)) -> String {
        let mut claims = example("pid");
        edit(&mut claims);
        self.pid_provider.issue("pid", claims, &self.holder)
    }

    /// The example registration certificate with `edit` applied, signed
    /// by the test issuer's key (with a status entry).
    fn registration(&self, edit: impl FnOnce(&mut Map<String, Value>)) -> String {
        let mut claims = example("registration-certificate");
        edit(&mut claims);
        self.issuer.issue(
            "registration-certificate",
            claims,
            &self.holder,
            VALID,
            |_| {},
        )
    }

    async fn send(&self, session: &Session, pid: &str, registration: &str) -> (u16, Value) {
        let (aud, nonce) = (session.client_id(), session.nonce());
        let body = session.encrypted(vp_token(&[
            (
                "pid",
                present(pid, &PID_POINTERS, &self.holder, &aud, &nonce),
            ),
            (
                "registration",
                present(
                    registration,
                    &REGISTRATION_POINTERS,
                    &self.holder,
                    &aud,
                    &nonce,
                ),
            ),
        ]));
        let response = self.verifier.post(session, body).await;
        (response.status().as_u16(), response.json().await.unwrap())
    }

    async fn assert_verified(&self, session: &Session, (status, body): (u16, Value)) {
        assert_eq!(status, 200, "{body}");
        let shown = self.verifier.show(&session.id).await;
        assert_eq!(shown["status"], "verified", "{shown}");
        assert_eq!(shown["credentials"].as_array().unwrap().len(), 2);
    }

    async fn assert_refused(&self, session: &Session, (status, body): (u16, Value), code: &str) {
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["reason"], code, "{body}");
        let shown = self.verifier.show(&session.id).await;
        assert_eq!(shown["status"], "failed");
        assert_eq!(shown["reason"], code);
        assert_eq!(shown["credentials"], json!([]));
    }
}

#[tokio::test]
async fn the_same_person_in_pid_and_registration_certificate_verifies() {
    let bench = Bench::start("identity-same").await;
    let session = bench.session().await;
    let result = bench
        .send(&session, &bench.pid(|_| {}), &bench.registration(|_| {}))
        .await;
    bench.assert_verified(&session, result).await;
    let shown = bench.verifier.show(&session.id).await;
    let pid = shown["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["vct"] == "urn:eudi:pid:1")
        .expect("the PID among the verified credentials");
    assert_eq!(pid["claims"]["family_name"], "Lindqvist", "{pid}");
}

#[tokio::test]
async fn decomposed_and_upper_case_names_in_the_pid_are_the_same_person() {
    let bench = Bench::start("identity-folded").await;
    let session = bench.session().await;
    // The register's "Öberg" precomposed (U+00D6); the PID's in capitals
    // and decomposed (O + U+0308), with the given names in capitals.
    let registration = bench.registration(|c| {
        c.insert("family_name".into(), "\u{d6}berg".into());
    });
    let pid = bench.pid(|c| {
        c.insert("given_name".into(), "KARIN ELISABET".into());
        c.insert("family_name".into(), "O\u{308}BERG".into());
    });
    let result = bench.send(&session, &pid, &registration).await;
    bench.assert_verified(&session, result).await;
}

#[tokio::test]
async fn another_given_name_is_a_holder_mismatch() {
    let bench = Bench::start("identity-given-name").await;
    let session = bench.session().await;
    let pid = bench.pid(|c| {
        c.insert("given_name".into(), "Karin".into());
    });
    let result = bench
        .send(&session, &pid, &bench.registration(|_| {}))
        .await;
    assert!(
        result.1["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("given_name") && !d.contains("Karin")),
        "{}",
        result.1
    );
    bench
        .assert_refused(&session, result, "holder_mismatch")
        .await;
    let shown = bench.verifier.show(&session.id).await;
    assert_eq!(shown["failed_credential"], "pid");
}

#[tokio::test]
async fn another_birth_date_is_a_holder_mismatch() {
    let bench = Bench::start("identity-birthdate").await;
    let session = bench.session().await;
    let pid = bench.pid(|c| {
        c.insert("birthdate".into(), "1994-03-18".into());
    });
    let result = bench
        .send(&session, &pid, &bench.registration(|_| {}))
        .await;
    bench
        .assert_refused(&session, result, "holder_mismatch")
        .await;
}

#[tokio::test]
async fn a_pid_signed_by_an_issuer_ca_that_is_no_pid_provider_is_untrusted() {
    let bench = Bench::start("identity-not-pid-provider").await;
    let session = bench.session().await;
    // The issuer CA is trusted for the registration certificate, not for
    // the PID.
    let pid = bench.issuer_ca.issue("pid", example("pid"), &bench.holder);
    let result = bench
        .send(&session, &pid, &bench.registration(|_| {}))
        .await;
    bench
        .assert_refused(&session, result, "untrusted_issuer")
        .await;
}

#[tokio::test]
async fn a_registration_certificate_signed_by_the_pid_provider_is_untrusted() {
    let bench = Bench::start("identity-pid-provider-only").await;
    let session = bench.session().await;
    // The PID provider is trusted for the PID, not for other types.
    let registration = bench.pid_provider.issue(
        "registration-certificate",
        example("registration-certificate"),
        &bench.holder,
    );
    let result = bench
        .send(&session, &bench.pid(|_| {}), &registration)
        .await;
    bench
        .assert_refused(&session, result, "untrusted_issuer")
        .await;
}
