//! One crafted response per failure reason (OpenID4VP 1.0 §8, RFC 9901
//! §7, SD-JWT VC, Token Status List): each is refused with its own code,
//! at the Response URI (400, `reason`) and in the HR API.

use intyg_core::jose::SigningKey;
use intyg_core::oid4vp::{
    AuthorizationErrorResponse, DirectPostBody, ErrorCode, ResponseEncryption,
};
use serde_json::Value;

use crate::{
    ELIGIBILITY, REVOKED, SUSPENDED, Session, TestIssuer, VALID, Verifier, example, present,
    vp_token,
};

const REGISTRATION_POINTERS: [&str; 2] = ["/registration_status", "/registered_since"];
const ELIGIBILITY_POINTERS: [&str; 3] =
    ["/eligible_from", "/eligible_until", "/max_hours_per_week"];

struct Bench {
    verifier: Verifier,
    issuer: TestIssuer,
    holder: SigningKey,
}

impl Bench {
    async fn start(name: &str) -> Self {
        let verifier = Verifier::start(name, |_| {}).await;
        let issuer = TestIssuer::start().await;
        verifier.trust(&issuer);
        Self {
            verifier,
            issuer,
            holder: SigningKey::generate().unwrap(),
        }
    }

    fn eligibility(&self, session: &Session) -> String {
        let credential = self.issuer.issue(
            "internship-eligibility",
            example("internship-eligibility"),
            &self.holder,
            VALID,
            |_| {},
        );
        present(
            &credential,
            &ELIGIBILITY_POINTERS,
            &self.holder,
            &session.client_id(),
            &session.nonce(),
        )
    }

    /// A registration presentation, with the eligibility one beside it.
    async fn send(&self, session: &Session, registration: String) -> (u16, Value) {
        let body = session.encrypted(vp_token(&[
            ("registration", registration),
            ("eligibility", self.eligibility(session)),
        ]));
        let response = self.verifier.post(session, body).await;
        (response.status().as_u16(), response.json().await.unwrap())
    }

    fn registration(&self, session: &Session, idx: u32) -> String {
        let credential = self.issuer.issue(
            "registration-certificate",
            example("registration-certificate"),
            &self.holder,
            idx,
            |_| {},
        );
        present(
            &credential,
            &REGISTRATION_POINTERS,
            &self.holder,
            &session.client_id(),
            &session.nonce(),
        )
    }

    /// Asserts that the response was refused with `code` everywhere.
    async fn assert_refused(&self, session: &Session, (status, body): (u16, Value), code: &str) {
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"], "invalid_request");
        assert_eq!(body["reason"], code, "{body}");
        let shown = self.verifier.show(&session.id).await;
        assert_eq!(shown["status"], "failed");
        assert_eq!(shown["reason"], code);
        assert_eq!(shown["credentials"], serde_json::json!([]));
        assert!(shown.get("consent").is_none());
    }
}

#[tokio::test]
async fn a_valid_response_is_verified() {
    let bench = Bench::start("valid").await;
    let session = bench.verifier.session().await;
    let (status, body) = bench
        .send(&session, bench.registration(&session, VALID))
        .await;
    assert_eq!(status, 200, "{body}");
    let shown = bench.verifier.show(&session.id).await;
    assert_eq!(shown["status"], "verified");
    assert_eq!(shown["credentials"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn wrong_nonce() {
    let bench = Bench::start("nonce").await;
    let session = bench.verifier.session().await;
    let credential = bench.issuer.issue(
        "registration-certificate",
        example("registration-certificate"),
        &bench.holder,
        VALID,
        |_| {},
    );
    let presentation = present(
        &credential,
        &REGISTRATION_POINTERS,
        &bench.holder,
        &session.client_id(),
        "another-nonce",
    );
    let result = bench.send(&session, presentation).await;
    bench.assert_refused(&session, result, "wrong_nonce").await;
}

#[tokio::test]
async fn wrong_aud() {
    let bench = Bench::start("aud").await;
    let session = bench.verifier.session().await;
    let credential = bench.issuer.issue(
        "registration-certificate",
        example("registration-certificate"),
        &bench.holder,
        VALID,
        |_| {},
    );
    let presentation = present(
        &credential,
        &REGISTRATION_POINTERS,
        &bench.holder,
        "x509_san_dns:other.example",
        &session.nonce(),
    );
    let result = bench.send(&session, presentation).await;
    bench.assert_refused(&session, result, "wrong_aud").await;
}

#[tokio::test]
async fn sd_hash_mismatch() {
    let bench = Bench::start("sd-hash").await;
    let session = bench.verifier.session().await;
    let presentation = bench.registration(&session, VALID);
    // Drop one disclosure after the KB-JWT was made over all of them.
    let mut parts: Vec<&str> = presentation.split('~').collect();
    parts.remove(1);
    let result = bench.send(&session, parts.join("~")).await;
    bench
        .assert_refused(&session, result, "sd_hash_mismatch")
        .await;
}

#[tokio::test]
async fn revoked() {
    let bench = Bench::start("revoked").await;
    let session = bench.verifier.session().await;
    let result = bench
        .send(&session, bench.registration(&session, REVOKED))
        .await;
    bench.assert_refused(&session, result, "revoked").await;
    // One of two credentials failed: the result names which.
    let shown = bench.verifier.show(&session.id).await;
    assert_eq!(shown["failed_credential"], "registration");
}

#[tokio::test]
async fn suspended() {
    let bench = Bench::start("suspended").await;
    let session = bench.verifier.session().await;
    let result = bench
        .send(&session, bench.registration(&session, SUSPENDED))
        .await;
    bench.assert_refused(&session, result, "suspended").await;
}

#[tokio::test]
async fn untrusted_issuer() {
    let bench = Bench::start("untrusted").await;
    let stranger = TestIssuer::start().await;
    let session = bench.verifier.session().await;
    let credential = stranger.issue(
        "registration-certificate",
        example("registration-certificate"),
        &bench.holder,
        VALID,
        |_| {},
    );
    let presentation = present(
        &credential,
        &REGISTRATION_POINTERS,
        &bench.holder,
        &session.client_id(),
        &session.nonce(),
    );
    let result = bench.send(&session, presentation).await;
    bench
        .assert_refused(&session, result, "untrusted_issuer")
        .await;
}

#[tokio::test]
async fn untrusted_key_of_a_trusted_issuer() {
    let bench = Bench::start("forged").await;
    let session = bench.verifier.session().await;
    // Same iss and kid, another key: the signature does not verify.
    let forger = TestIssuer {
        iss: bench.issuer.iss.clone(),
        key: SigningKey::generate().unwrap(),
        kid: bench.issuer.kid.clone(),
    };
    let credential = forger.issue(
        "registration-certificate",
        example("registration-certificate"),
        &bench.holder,
        VALID,
        |_| {},
    );
    let presentation = present(
        &credential,
        &REGISTRATION_POINTERS,
        &bench.holder,
        &session.client_id(),
        &session.nonce(),
    );
    let result = bench.send(&session, presentation).await;
    bench
        .assert_refused(&session, result, "invalid_signature")
        .await;
}

#[tokio::test]
async fn expired() {
    let bench = Bench::start("expired").await;
    let session = bench.verifier.session().await;
    let credential = bench.issuer.issue(
        "registration-certificate",
        example("registration-certificate"),
        &bench.holder,
        VALID,
        |params| {
            params.issued_at -= 7200;
            params.expires_at = Some(params.issued_at + 3600);
        },
    );
    let presentation = present(
        &credential,
        &REGISTRATION_POINTERS,
        &bench.holder,
        &session.client_id(),
        &session.nonce(),
    );
    let result = bench.send(&session, presentation).await;
    bench.assert_refused(&session, result, "expired").await;
}

#[tokio::test]
async fn missing_required_claim() {
    let bench = Bench::start("missing").await;
    let session = bench.verifier.session().await;
    let credential = bench.issuer.issue(
        "registration-certificate",
        example("registration-certificate"),
        &bench.holder,
        VALID,
        |_| {},
    );
    let presentation = present(
        &credential,
        &["/registration_status"],
        &bench.holder,
        &session.client_id(),
        &session.nonce(),
    );
    let result = bench.send(&session, presentation).await;
    bench
        .assert_refused(&session, result, "missing_required_claim")
        .await;
}

#[tokio::test]
async fn missing_required_credential() {
    let bench = Bench::start("missing-credential").await;
    let session = bench.verifier.session().await;
    let body = session.encrypted(vp_token(&[("eligibility", bench.eligibility(&session))]));
    let response = bench.verifier.post(&session, body).await;
    let result = (response.status().as_u16(), response.json().await.unwrap());
    bench
        .assert_refused(&session, result, "missing_credential")
        .await;
}

#[tokio::test]
async fn values_mismatch() {
    let bench = Bench::start("values").await;
    let session = bench.verifier.session().await;
    let mut claims = example("registration-certificate");
    claims.insert("registration_status".into(), "employed_with_support".into());
    claims.remove("programme");
    let credential = bench.issuer.issue(
        "registration-certificate",
        claims,
        &bench.holder,
        VALID,
        |_| {},
    );
    let presentation = present(
        &credential,
        &REGISTRATION_POINTERS,
        &bench.holder,
        &session.client_id(),
        &session.nonce(),
    );
    let result = bench.send(&session, presentation).await;
    bench
        .assert_refused(&session, result, "values_mismatch")
        .await;
}

#[tokio::test]
async fn wrong_credential_type() {
    let bench = Bench::start("vct").await;
    let session = bench.verifier.session().await;
    // An eligibility credential where the registration certificate belongs.
    let misplaced = bench.eligibility(&session);
    let result = bench.send(&session, misplaced).await;
    bench
        .assert_refused(&session, result, "wrong_credential_type")
        .await;
    assert_eq!(
        ELIGIBILITY,
        "https://intyg.se/credentials/internship-eligibility/v1"
    );
}

#[tokio::test]
async fn replay() {
    let bench = Bench::start("replay").await;
    let session = bench.verifier.session().await;
    let body = session.encrypted(vp_token(&[
        ("registration", bench.registration(&session, VALID)),
        ("eligibility", bench.eligibility(&session)),
    ]));
    let first = bench.verifier.post(&session, body.clone()).await;
    assert_eq!(first.status(), 200);
    let again = bench.verifier.post(&session, body).await;
    assert_eq!(again.status(), 400);
    let refused: Value = again.json().await.unwrap();
    assert_eq!(refused["reason"], "replay");
    // The first, verified result stands.
    assert_eq!(bench.verifier.show(&session.id).await["status"], "verified");
}

#[tokio::test]
async fn malformed_jwe() {
    let bench = Bench::start("jwe").await;
    let session = bench.verifier.session().await;
    let body =
        DirectPostBody::Encrypted("eyJhbGciOiJFQ0RILUVTIn0..AAAA.BBBB.CCCC".into()).to_form();
    let response = bench.verifier.post(&session, body).await;
    let result = (response.status().as_u16(), response.json().await.unwrap());
    bench
        .assert_refused(&session, result, "malformed_jwe")
        .await;
}

#[tokio::test]
async fn unencrypted_response_to_an_encrypted_request() {
    let bench = Bench::start("plain").await;
    let session = bench.verifier.session().await;
    let body = DirectPostBody::Plain(intyg_core::oid4vp::AuthorizationResponse::new(
        vp_token(&[
            ("registration", bench.registration(&session, VALID)),
            ("eligibility", bench.eligibility(&session)),
        ]),
        session.request.state.clone(),
    ))
    .to_form();
    let response = bench.verifier.post(&session, body).await;
    let result = (response.status().as_u16(), response.json().await.unwrap());
    bench
        .assert_refused(&session, result, "unencrypted_response")
        .await;
}

#[tokio::test]
async fn access_denied_is_a_decline() {
    let bench = Bench::start("declined").await;
    let session = bench.verifier.session().await;
    let body = DirectPostBody::Error(AuthorizationErrorResponse {
        error: ErrorCode::AccessDenied,
        error_description: Some("the user declined".into()),
        state: session.request.state.clone(),
    })
    .to_form();
    let response = bench.verifier.post(&session, body).await;
    assert_eq!(response.status(), 200);
    let shown = bench.verifier.show(&session.id).await;
    assert_eq!(shown["status"], "declined");
    assert_eq!(shown["reason"], "access_denied");
}

/// In `direct_post.jwt` a wallet encrypts its error response as it would
/// a presentation (§8.3): decrypted, `access_denied` is a decline.
#[tokio::test]
async fn an_encrypted_access_denied_is_a_decline() {
    let bench = Bench::start("declined-jwt").await;
    let session = bench.verifier.session().await;
    let metadata = session.request.client_metadata.as_ref().unwrap();
    let encryption = ResponseEncryption::select(metadata).unwrap();
    let jwe = AuthorizationErrorResponse {
        error: ErrorCode::AccessDenied,
        error_description: Some("the user declined".into()),
        state: session.request.state.clone(),
    }
    .encrypt(&encryption)
    .unwrap();
    let response = bench
        .verifier
        .post(&session, DirectPostBody::Encrypted(jwe).to_form())
        .await;
    assert_eq!(response.status(), 200);
    let shown = bench.verifier.show(&session.id).await;
    assert_eq!(shown["status"], "declined");
    assert_eq!(shown["reason"], "access_denied");
}

#[tokio::test]
async fn hr_api_needs_the_key_and_a_valid_body() {
    let bench = Bench::start("api").await;
    let unauthorized = bench
        .verifier
        .http
        .post(format!("{}/api/presentations", bench.verifier.url))
        .json(&serde_json::json!({"template": "internship-application"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), 401);
    let unknown = bench
        .verifier
        .create(serde_json::json!({"template": "nope"}))
        .await;
    assert_eq!(unknown.status(), 400);
    let no_purpose = bench
        .verifier
        .create(serde_json::json!({"dcql_query": {"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]}}]}}))
        .await;
    assert_eq!(no_purpose.status(), 400);
    let openapi = bench.verifier.get_json("/openapi.json").await;
    for path in [
        "/api/presentations",
        "/api/presentations/{id}",
        "/api/postings",
        "/api/postings/{id}",
        "/api/postings/{id}/applications",
        "/api/presentations/{id}/events",
        "/api/webhooks",
        "/api/webhooks/{id}",
        "/api/webhook-deliveries",
        "/api/webhook-deliveries/{id}/retry",
    ] {
        assert!(openapi["paths"][path].is_object(), "{path} not documented");
    }
}

/// OpenID4VP 1.0 §8.5 gives `access_denied` to both; the Intyg wallet's
/// description tells them apart, and the employer must not read a missing
/// credential as a refusal (regression: "the applicant declined" was shown).
#[tokio::test]
async fn a_wallet_without_the_credential_is_not_a_decline() {
    let bench = Bench::start("no-match").await;
    let session = bench.verifier.session().await;
    let body = DirectPostBody::Error(
        intyg_core::oid4vp::Denial::NoMatchingCredential(vec!["eligibility".into()])
            .error_response(session.request.state.clone()),
    )
    .to_form();
    let response = bench.verifier.post(&session, body).await;
    assert_eq!(response.status(), 200);
    let shown = bench.verifier.show(&session.id).await;
    assert_eq!(shown["status"], "no_matching_credential");
    assert_eq!(shown["reason"], "access_denied");
    assert_eq!(
        shown["missing_credentials"],
        serde_json::json!(["eligibility"])
    );
    assert!(shown.get("failed_credential").is_none());
}
