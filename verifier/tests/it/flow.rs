//! End to end over loopback with a test holder built on `intyg_core`: the
//! HR API makes a request, the holder authenticates the request object
//! against the dev CA, matches the DCQL query, presents and posts an
//! encrypted response; the HR API shows the verified claims. Then the
//! retention period removes the claims and leaves the consent record.

use intyg_core::dcql::{Candidate, CredentialFormat, evaluate};
use intyg_core::jose::SigningKey;
use intyg_core::sd_jwt::SdJwt;
use serde_json::Value;

use crate::{Session, TestIssuer, VALID, Verifier, example, pointer, present, vp_token};

/// The holder's wallet: credentials by id.
pub(crate) struct Holder {
    pub(crate) key: SigningKey,
    pub(crate) credentials: Vec<(String, String)>,
}

impl Holder {
    /// Matches the request's DCQL query, presents what it asks (optional
    /// claims and credentials included) and returns the encrypted body.
    pub(crate) fn respond(&self, session: &Session) -> String {
        let candidates: Vec<Candidate> = self
            .credentials
            .iter()
            .map(|(id, compact)| {
                let disclosed = SdJwt::parse(compact).unwrap().disclose().unwrap();
                Candidate {
                    id: id.clone(),
                    format: CredentialFormat::DcSdJwt,
                    vct: disclosed.claims["vct"].as_str().map(str::to_owned),
                    doctype: None,
                    claims: Value::Object(disclosed.claims.clone()),
                    holder_binding: true,
                    authorities: None,
                }
            })
            .collect();
        let evaluation = evaluate(&session.request.dcql_query, &candidates).unwrap();
        let mut entries = Vec::new();
        for query in &evaluation.credentials {
            let Some(found) = query.matches.first() else {
                continue;
            };
            let compact = &self
                .credentials
                .iter()
                .find(|(id, _)| *id == found.candidate_id)
                .unwrap()
                .1;
            let pointers: Vec<String> = found
                .claims
                .iter()
                .flat_map(|claim| claim.disclose.iter().map(pointer))
                .collect();
            let pointers: Vec<&str> = pointers.iter().map(String::as_str).collect();
            entries.push((
                query.query_id.as_str(),
                present(
                    compact,
                    &pointers,
                    &self.key,
                    &session.client_id(),
                    &session.nonce(),
                ),
            ));
        }
        session.encrypted(vp_token(&entries))
    }
}

pub(crate) fn holder_of(issuer: &TestIssuer, kinds: &[&str]) -> Holder {
    let key = SigningKey::generate().unwrap();
    let credentials = kinds
        .iter()
        .map(|kind| {
            (
                (*kind).to_owned(),
                issuer.issue(kind, example(kind), &key, VALID, |_| {}),
            )
        })
        .collect();
    Holder { key, credentials }
}

#[tokio::test]
async fn internship_application_end_to_end_with_optional_claims() {
    let verifier = Verifier::start("e2e", |_| {}).await;
    let issuer = TestIssuer::start().await;
    verifier.trust(&issuer);
    let holder = holder_of(
        &issuer,
        &[
            "registration-certificate",
            "internship-eligibility",
            "education-diploma",
        ],
    );
    let session = verifier.session().await;
    assert_eq!(
        session.request.client_id.as_ref().unwrap().prefix(),
        intyg_core::oid4vp::ClientIdPrefix::X509Hash
    );
    let response = verifier.post(&session, holder.respond(&session)).await;
    assert_eq!(response.status(), 200);

    let shown = verifier.show(&session.id).await;
    assert_eq!(shown["status"], "verified", "{shown}");
    let credentials = shown["credentials"].as_array().unwrap();
    // registration, the two optional name queries, eligibility, diploma.
    assert_eq!(credentials.len(), 5);
    let by_query = |id: &str| {
        credentials
            .iter()
            .find(|c| c["query_id"] == id)
            .unwrap_or_else(|| panic!("{id} missing"))
    };
    let registration = by_query("registration");
    assert_eq!(registration["issuer"], issuer.iss.as_str());
    assert_eq!(registration["status"], "valid");
    assert_eq!(
        registration["claims"]["registration_status"],
        "in_programme"
    );
    // The name answers its own optional queries, never the required one.
    assert!(registration["claims"].get("given_name").is_none());
    assert_eq!(
        by_query("given_name")["claims"],
        serde_json::json!({"given_name": "Karin Elisabet"})
    );
    assert!(by_query("family_name")["claims"]["family_name"].is_string());
    // Never asked for, never disclosed.
    assert!(
        registration["claims"]
            .get("personal_identity_number")
            .is_none()
    );
    assert_eq!(by_query("eligibility")["claims"]["max_hours_per_week"], 32);
    assert!(by_query("diploma")["claims"]["qualification_title"].is_string());
    let consent = &shown["consent"];
    assert_eq!(consent["verifier"], session.client_id().as_str());
    assert_eq!(consent["disclosed"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn required_credentials_alone_suffice() {
    let verifier = Verifier::start("required-only", |config| {
        config.client_id_prefix = intyg_verifier::config::ClientIdPrefixChoice::X509SanDns;
    })
    .await;
    let issuer = TestIssuer::start().await;
    verifier.trust(&issuer);
    let holder = holder_of(
        &issuer,
        &["registration-certificate", "internship-eligibility"],
    );
    let session = verifier.session().await;
    assert_eq!(session.client_id(), "x509_san_dns:localhost");
    let response = verifier.post(&session, holder.respond(&session)).await;
    assert_eq!(response.status(), 200);
    let shown = verifier.show(&session.id).await;
    assert_eq!(shown["status"], "verified", "{shown}");
    // No diploma: registration, eligibility and the two name queries.
    assert_eq!(shown["credentials"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn retention_deletes_claims_and_keeps_the_consent_record() {
    let verifier = Verifier::start("retention", |config| {
        config.retention_seconds = 2;
        config.purge_interval_ms = 100;
    })
    .await;
    let issuer = TestIssuer::start().await;
    verifier.trust(&issuer);
    let holder = holder_of(
        &issuer,
        &["registration-certificate", "internship-eligibility"],
    );
    let session = verifier.session().await;
    let response = verifier.post(&session, holder.respond(&session)).await;
    assert_eq!(response.status(), 200);
    let shown = verifier.show(&session.id).await;
    assert_eq!(shown["credentials"].as_array().unwrap().len(), 4);

    let mut after = shown;
    for _ in 0..60 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        after = verifier.show(&session.id).await;
        if after["credentials"].as_array().unwrap().is_empty() {
            break;
        }
    }
    assert_eq!(after["credentials"], serde_json::json!([]));
    assert!(after["claims_deleted_at"].is_i64());
    assert_eq!(after["status"], "verified");
    let consent = &after["consent"];
    assert_eq!(consent["transaction_id"], session.id.as_str());
    assert!(
        !consent["disclosed"][0]["claims"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // The consent record names claims, never their values.
    assert!(!consent.to_string().contains("Karin"));
}

/// The HR API's postings: a posting made with the API, an applicant
/// session opened on it answered by a holder, and the posting listing the
/// application as verified; the portal lists the same posting.
#[tokio::test]
async fn postings_api_opens_applications_with_the_posting_purpose() {
    let verifier = Verifier::start("postings", |_| {}).await;
    let issuer = TestIssuer::start().await;
    verifier.trust(&issuer);
    let holder = holder_of(
        &issuer,
        &["registration-certificate", "internship-eligibility"],
    );
    let refused = verifier
        .post_json(
            "/api/postings",
            &serde_json::json!({"title": " ", "description": "d", "purpose": "p"}),
        )
        .await;
    assert_eq!(refused.status(), 400);
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["error"], "invalid_request");
    assert!(
        error["error_description"]
            .as_str()
            .unwrap()
            .contains("title")
    );
    let unauthorized = verifier
        .http
        .get(format!("{}/api/postings", verifier.url))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), 401);

    let purpose = "Ansökan om arbetspraktik som lagerassistent";
    let made = verifier
        .post_json(
            "/api/postings",
            &serde_json::json!({
                "title": "Lagerassistent, praktik",
                "description": "Tre månaders arbetspraktik på lagret i Västerås.",
                "purpose": purpose,
            }),
        )
        .await;
    assert_eq!(made.status(), 201);
    let posting: Value = made.json().await.unwrap();
    let posting_id = posting["id"].as_str().unwrap().to_owned();
    assert_eq!(posting["created_by"], "api");

    let opened = verifier
        .post_json(
            &format!("/api/postings/{posting_id}/applications?qr=svg"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(opened.status(), 201);
    let opened: Value = opened.json().await.unwrap();
    assert!(opened["qr_svg"].as_str().unwrap().starts_with("<?xml"));
    let presentation_id = opened["id"].as_str().unwrap().to_owned();
    let session = verifier
        .session_of(opened["request_uri"].as_str().unwrap(), &presentation_id)
        .await;
    assert!(
        session.request.client_metadata.is_some(),
        "direct_post.jwt by default"
    );
    let response = verifier.post(&session, holder.respond(&session)).await;
    assert_eq!(response.status(), 200);
    let shown = verifier.show(&presentation_id).await;
    assert_eq!(shown["status"], "verified", "{shown}");
    assert_eq!(shown["consent"]["purpose"], purpose);

    let view = verifier
        .get_json(&format!("/api/postings/{posting_id}"))
        .await;
    assert_eq!(view["title"], "Lagerassistent, praktik");
    let applications = view["applications"].as_array().unwrap();
    assert_eq!(applications.len(), 1);
    assert_eq!(applications[0]["presentation_id"], presentation_id.as_str());
    assert_eq!(applications[0]["status"], "verified");

    let all = verifier.get_json("/api/postings").await;
    assert_eq!(all.as_array().unwrap().len(), 1);
    // Without a body, as most clients send it.
    let missing = verifier
        .http
        .post(format!(
            "{}/api/postings/no-such-posting/applications",
            verifier.url
        ))
        .bearer_auth(crate::API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

/// An ESC in a posting's purpose (or a presentation request's) would reach
/// the portal as a box and the wallet CLI's terminal raw: refused, by name.
#[tokio::test]
async fn an_escape_character_in_a_purpose_is_refused() {
    let verifier = Verifier::start("purpose-escape", |_| {}).await;
    let posting = verifier
        .post_json(
            "/api/postings",
            &serde_json::json!({
                "title": "Lagerassistent",
                "description": "Tre månader\ni Malmö",
                "purpose": "Ansökan\u{1b}[2J om arbetspraktik",
            }),
        )
        .await;
    assert_eq!(posting.status(), 400);
    let error: Value = posting.json().await.unwrap();
    assert_eq!(error["error"], "invalid_request");
    let description = error["error_description"].as_str().unwrap();
    assert!(description.starts_with("purpose "), "{description}");
    assert!(description.contains("U+001B"), "{description}");
    assert!(
        verifier
            .state
            .stores
            .postings
            .all()
            .await
            .unwrap()
            .is_empty()
    );

    let request = verifier
        .create(serde_json::json!({
            "template": "internship-application",
            "purpose": "Praktik\u{1b}]0;pwned\u{7}",
        }))
        .await;
    assert_eq!(request.status(), 400);
    let error: Value = request.json().await.unwrap();
    assert!(
        error["error_description"]
            .as_str()
            .unwrap()
            .starts_with("purpose "),
        "{error}"
    );
    // A line break in a multi-line field is text, not a control.
    let fine = verifier
        .post_json(
            "/api/postings",
            &serde_json::json!({
                "title": "Lagerassistent",
                "description": "Tre månader\r\ni Malmö",
                "purpose": "Ansökan om arbetspraktik\nhos oss",
            }),
        )
        .await;
    assert_eq!(fine.status(), 201);
}

/// The QR code costs more CPU than the rest of a request: drawn only for
/// `?qr=svg`; any other query is refused by name.
#[tokio::test]
async fn the_qr_code_is_drawn_only_when_asked_for() {
    let verifier = Verifier::start("qr-opt-in", |_| {}).await;
    let body = serde_json::json!({"template": "internship-application"});
    let plain: Value = verifier.create(body.clone()).await.json().await.unwrap();
    assert!(plain["request_uri"].as_str().is_some());
    assert!(plain.get("qr_svg").is_none(), "{plain}");

    let asked = verifier.post_json("/api/presentations?qr=svg", &body).await;
    assert_eq!(asked.status(), 201);
    let asked: Value = asked.json().await.unwrap();
    let svg = asked["qr_svg"].as_str().unwrap();
    assert!(svg.starts_with("<?xml") && svg.contains("<svg"), "{svg}");

    for query in ["qr=png", "qr=svg&size=9"] {
        let refused = verifier
            .post_json(&format!("/api/presentations?{query}"), &body)
            .await;
        assert_eq!(refused.status(), 400, "{query}");
        let error: Value = refused.json().await.unwrap();
        assert_eq!(error["error"], "invalid_request");
        assert!(
            error["error_description"].as_str().unwrap().contains("qr"),
            "{error}"
        );
    }
}

/// A wallet that discloses more than the query asks (here the personal
/// identity number and the office): the presentation verifies, and the
/// verifier keeps only what it asked for.
#[tokio::test]
async fn claims_disclosed_beyond_the_query_are_not_kept() {
    let verifier = Verifier::start("over-disclosure", |_| {}).await;
    let issuer = TestIssuer::start().await;
    verifier.trust(&issuer);
    let holder = SigningKey::generate().unwrap();
    let session = verifier.session().await;
    let (aud, nonce) = (session.client_id(), session.nonce());
    let issue = |kind: &str| issuer.issue(kind, example(kind), &holder, VALID, |_| {});
    let registration = present(
        &issue("registration-certificate"),
        &[
            "/registration_status",
            "/registered_since",
            "/personal_identity_number",
            "/office",
        ],
        &holder,
        &aud,
        &nonce,
    );
    let eligibility = present(
        &issue("internship-eligibility"),
        &["/eligible_from", "/eligible_until", "/max_hours_per_week"],
        &holder,
        &aud,
        &nonce,
    );
    let vp = vp_token(&[("registration", registration), ("eligibility", eligibility)]);
    let response = verifier.post(&session, session.encrypted(vp)).await;
    assert_eq!(response.status(), 200);
    let shown = verifier.show(&session.id).await;
    assert_eq!(shown["status"], "verified", "{shown}");
    let kept = shown["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["query_id"] == "registration")
        .unwrap();
    assert_eq!(
        kept["claims"],
        serde_json::json!({"registration_status": "in_programme", "registered_since": "2026-02-02"}),
        "{shown}"
    );
    assert!(!shown.to_string().contains("199403172381"), "{shown}");
}
