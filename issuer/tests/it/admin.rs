//! The admin API, the status list it drives, and operations endpoints.

use intyg_core::status_list::{DecodeLimits, StatusIndex, StatusListToken, StatusType};
use intyg_testkit::{
    Admin, KARIN as SUBJECT, OfferCreated, REGISTRATION_CERTIFICATE, TestIssuer, offer_body,
};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

async fn offer(issuer: &TestIssuer) -> OfferCreated {
    issuer.admin.offer(REGISTRATION_CERTIFICATE, SUBJECT).await
}

/// `GET <path>` without the key.
async fn get_plain(issuer: &TestIssuer, path: &str) -> Response {
    issuer
        .http
        .get(format!("{}{path}", issuer.url))
        .send()
        .await
        .unwrap()
}

/// The `error` of a JSON error body.
async fn error_of(response: Response) -> Value {
    response.json::<Value>().await.unwrap()["error"].clone()
}

#[tokio::test]
async fn offer_returns_link_pin_and_record() {
    let issuer = TestIssuer::start("offer").await;
    let created = offer(&issuer).await;
    let uri = &created.offer_uri;
    assert!(
        uri.starts_with("openid-credential-offer://?credential_offer_uri="),
        "{uri}"
    );
    let pin = &created.tx_code;
    assert_eq!(pin.len(), 6);
    assert!(pin.bytes().all(|b| b.is_ascii_digit()));
    let id = created.credential_ids[0].as_str();
    let listed = issuer.admin.credentials(SUBJECT).await;
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["state"], "offered");
}

#[tokio::test]
async fn admin_api_requires_the_key() {
    let issuer = TestIssuer::start("auth").await;
    let url = format!("{}/api/offers", issuer.url);
    let none = issuer
        .http
        .post(&url)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert!(none.headers().contains_key("www-authenticate"));
    assert_eq!(error_of(none).await, "invalid_token");
    let wrong_key = Admin::new(issuer.http.clone(), &issuer.url, "nope");
    let path = format!("/api/credentials?subject={SUBJECT}");
    let wrong = wrong_key.request(Method::GET, &path).send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn invalid_claims_are_reported_by_field() {
    let issuer = TestIssuer::start("claims").await;
    let mut body = offer_body(REGISTRATION_CERTIFICATE, SUBJECT);
    body["claims"]["registered_since"] = json!("last spring");
    body["claims"].as_object_mut().unwrap().remove("office");
    let response = issuer.admin.post_offer(&body).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    let pointers: Vec<&str> = body["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["pointer"].as_str().unwrap())
        .collect();
    assert!(pointers.contains(&"/registered_since"), "{pointers:?}");
    assert!(pointers.contains(&"/office"), "{pointers:?}");
}

#[tokio::test]
async fn unknown_type_bad_subject_and_reserved_claims_are_refused() {
    let issuer = TestIssuer::start("refusals").await;
    let refused = async |body: Value| error_of(issuer.admin.post_offer(&body).await).await;
    let unknown =
        json!({"credential_configuration_id": "driving-licence", "claims": {}, "subject": SUBJECT});
    assert_eq!(refused(unknown).await, "unknown_credential_configuration");
    let subject = offer_body(REGISTRATION_CERTIFICATE, "19940317-2382");
    assert_eq!(refused(subject).await, "invalid_request");
    let mut reserved = offer_body(REGISTRATION_CERTIFICATE, SUBJECT);
    reserved["claims"]["iss"] = json!("https://evil.example");
    assert_eq!(refused(reserved).await, "invalid_request");
    let malformed = issuer
        .admin
        .request(Method::POST, "/api/offers")
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert!(malformed.status().is_client_error());
}

#[tokio::test]
async fn status_transitions_follow_the_rules() {
    let issuer = TestIssuer::start("transitions").await;
    let created = offer(&issuer).await;
    let id = created.credential_ids[0].as_str();
    let act = async |action: &str| issuer.admin.credential_action(id, action).await.status();
    // Not issued yet: cannot be suspended, but can be revoked (the offer dies).
    assert_eq!(act("suspend").await, StatusCode::CONFLICT);
    let revoked = issuer.admin.change_status(id, "revoke").await;
    assert_eq!(revoked["state"], "revoked");
    assert_eq!(act("revoke").await, StatusCode::CONFLICT);
    assert_eq!(act("unsuspend").await, StatusCode::CONFLICT);
    assert_eq!(act("delete").await, StatusCode::NOT_FOUND);
    let missing = issuer.admin.credential_action("no-such-id", "revoke").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn status_list_publishes_changes_at_once() {
    let issuer = TestIssuer::start("statuslist").await;
    let state = &issuer.state;
    // Three indices handed out, as three issued copies would be.
    let second = state.stores.status.allocate(3).await.unwrap()[1];
    let reference = state.status.reference(second);
    let key = state.keys.get().current(intyg_issuer::now()).public_jwk();
    let fetch = || async {
        let response = issuer.http.get(&reference.uri).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["content-type"],
            "application/statuslist+jwt"
        );
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        let jwt = response.text().await.unwrap();
        let token = StatusListToken::verify(
            &jwt,
            &key,
            &reference.uri,
            intyg_issuer::now(),
            DecodeLimits::default(),
        )
        .unwrap();
        (token.status(reference.idx).unwrap(), etag)
    };
    let (before, etag) = fetch().await;
    assert_eq!(before, StatusType::Valid);
    let unchanged = issuer
        .http
        .get(&reference.uri)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);

    state
        .status
        .set(state.stores.status.as_ref(), second, StatusType::Invalid)
        .await
        .unwrap();
    let (after, new_etag) = fetch().await;
    assert_eq!(after, StatusType::Invalid);
    assert_ne!(etag, new_etag);
    assert_eq!(reference.idx, StatusIndex::from(second));

    let missing = get_plain(&issuer, "/status/99").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn operations_endpoints_answer() {
    let issuer = TestIssuer::start("ops").await;
    let health = get_plain(&issuer, "/healthz").await;
    assert_eq!(health.text().await.unwrap(), "ok");
    let created = offer(&issuer).await;
    issuer
        .admin
        .credential_action(&created.credential_ids[0], "revoke")
        .await;
    let metrics = get_plain(&issuer, "/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("intyg_issuer_status_changes_total{action=\"revoke\"} 1"),
        "{metrics}"
    );
    let openapi: Value = get_plain(&issuer, "/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(openapi["openapi"], "3.1.0");
    assert!(openapi["paths"]["/api/offers"]["post"].is_object());
}

#[tokio::test]
async fn persons_are_registered_once_and_read_back() {
    let issuer = TestIssuer::start("persons").await;
    let register = async |body: Value| issuer.admin.register_person(&body).await;
    let created = register(json!({"personal_identity_number": SUBJECT, "given_name": " Karin Elisabet ", "family_name": "Lindqvist"})).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let person: Value = created.json().await.unwrap();
    assert_eq!(person["personal_identity_number"], SUBJECT);
    assert_eq!(person["given_name"], "Karin Elisabet");
    assert_eq!(person["family_name"], "Lindqvist");
    assert_eq!(person["birthdate"], "1994-03-17");
    assert_eq!(person["registered_by"], "admin-api");
    assert!(person["registered_at"].as_i64().unwrap() > 0);

    let read = issuer.admin.person(SUBJECT).await;
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(read.json::<Value>().await.unwrap(), person);

    // Not an upsert: a second registration is a conflict and changes nothing.
    let again = register(
        json!({"personal_identity_number": SUBJECT, "given_name": "Karin", "family_name": "Berg"}),
    )
    .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(error_of(again).await, "already_registered");
    let unchanged: Value = issuer.admin.person(SUBJECT).await.json().await.unwrap();
    assert_eq!(unchanged, person);

    // A coordination number written with 10 digits: stored as 12, the
    // birthdate is the day less 60.
    let coordination: Value = register(json!({"personal_identity_number": "701063-2391", "given_name": "Ana", "family_name": "Silva"})).await.json().await.unwrap();
    assert_eq!(coordination["personal_identity_number"], "197010632391");
    assert_eq!(coordination["birthdate"], "1970-10-03");
    let read = issuer.admin.person("7010632391").await;
    assert_eq!(read.status(), StatusCode::OK);

    let unknown = issuer.admin.person("198507099805").await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_of(unknown).await, "not_found");
}

#[tokio::test]
async fn persons_refuse_invalid_numbers_and_names() {
    let issuer = TestIssuer::start("persons-invalid").await;
    for (body, why) in [
        (
            json!({"personal_identity_number": "199403172382", "given_name": "Karin", "family_name": "Lindqvist"}),
            "check digit",
        ),
        (
            json!({"personal_identity_number": "199402302381", "given_name": "Karin", "family_name": "Lindqvist"}),
            "date",
        ),
        (
            json!({"personal_identity_number": "1994-0317-2381", "given_name": "Karin", "family_name": "Lindqvist"}),
            "12 digits",
        ),
        (
            json!({"personal_identity_number": "19940317+2381", "given_name": "Karin", "family_name": "Lindqvist"}),
            "aged 100",
        ),
        (
            json!({"personal_identity_number": SUBJECT, "given_name": "  ", "family_name": "Lindqvist"}),
            "given_name",
        ),
        (
            json!({"personal_identity_number": SUBJECT, "given_name": "Karin", "family_name": "L".repeat(201)}),
            "family_name",
        ),
        (
            json!({"personal_identity_number": SUBJECT, "given_name": "Karin"}),
            "family_name",
        ),
        (
            json!({"personal_identity_number": SUBJECT, "given_name": "Karin", "family_name": "Lindqvist", "birthdate": "1994-03-17"}),
            "birthdate",
        ),
    ] {
        let response = issuer.admin.register_person(&body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"], "invalid_request", "{body}");
        let description = error["error_description"].as_str().unwrap();
        assert!(description.contains(why), "{description}");
    }
    let malformed = issuer.admin.person("199403172382").await;
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert!(
        issuer
            .state
            .stores
            .persons
            .get(SUBJECT)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn persons_require_the_key() {
    let issuer = TestIssuer::start("persons-auth").await;
    let post = issuer
        .http
        .post(format!("{}/api/persons", issuer.url))
        .json(&json!({"personal_identity_number": SUBJECT, "given_name": "Karin", "family_name": "Lindqvist"}))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_of(post).await, "invalid_token");
    let get = Admin::new(issuer.http.clone(), &issuer.url, "nope")
        .person(SUBJECT)
        .await;
    assert_eq!(get.status(), StatusCode::UNAUTHORIZED);
    assert!(
        issuer
            .state
            .stores
            .persons
            .get(SUBJECT)
            .await
            .unwrap()
            .is_none()
    );
    let openapi: Value = get_plain(&issuer, "/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    assert!(openapi["paths"]["/api/persons"]["post"]["responses"]["409"].is_object());
    assert!(openapi["paths"]["/api/persons/{personal_identity_number}"]["get"].is_object());
}

/// Registers Karin through the API, as the case-management system would.
async fn register_karin(issuer: &TestIssuer) {
    let created = issuer
        .admin
        .register_person(&json!({"personal_identity_number": SUBJECT, "given_name": "Karin Elisabet", "family_name": "Lindqvist"}))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
}

/// The refusal's status, `error` and `claim` (or the violations' pointers).
async fn refusal(response: Response) -> (StatusCode, Value, Vec<String>) {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    let mut named: Vec<String> = body["violations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| v["pointer"].as_str().unwrap().to_owned())
        .collect();
    if let Some(claim) = body["claim"].as_str() {
        named.push(claim.to_owned());
    }
    (status, body["error"].clone(), named)
}

#[tokio::test]
async fn offer_refuses_another_persons_number_and_identity() {
    let issuer = TestIssuer::start("offer-identity").await;
    register_karin(&issuer).await;
    for (claim, value) in [
        ("personal_identity_number", "198507099805"),
        ("personal_identity_number", "850709-9805"),
        ("personal_identity_number", "199403172382"),
        ("birthdate", "1994-03-18"),
        ("birthdate", "1994-02-30"),
        ("given_name", "Kajsa"),
        ("family_name", "Berg"),
    ] {
        let mut body = offer_body(REGISTRATION_CERTIFICATE, SUBJECT);
        body["claims"][claim] = json!(value);
        let (status, error, named) = refusal(issuer.admin.post_offer(&body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{claim} = {value}");
        assert_eq!(error, "invalid_request");
        assert_eq!(named, [claim], "{claim} = {value}");
    }
    assert!(
        issuer
            .state
            .stores
            .credentials
            .by_subject(SUBJECT)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn offer_takes_the_identity_from_the_record_when_left_out() {
    let issuer = TestIssuer::start("offer-identity-filled").await;
    register_karin(&issuer).await;
    let mut body = offer_body(REGISTRATION_CERTIFICATE, "940317-2381");
    for claim in [
        "personal_identity_number",
        "given_name",
        "family_name",
        "birthdate",
    ] {
        body["claims"].as_object_mut().unwrap().remove(claim);
    }
    let created = issuer.admin.post_offer(&body).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let record = &issuer
        .state
        .stores
        .credentials
        .by_subject(SUBJECT)
        .await
        .unwrap()[0];
    assert_eq!(record.subject, SUBJECT, "stored in the 12-digit form");
    let example = offer_body(REGISTRATION_CERTIFICATE, SUBJECT);
    assert_eq!(Value::Object(record.claims.clone()), example["claims"]);
}

#[tokio::test]
async fn offer_refuses_impossible_dates_naming_the_claim() {
    let issuer = TestIssuer::start("offer-dates").await;
    register_karin(&issuer).await;
    let mut future = offer_body(REGISTRATION_CERTIFICATE, SUBJECT);
    future["claims"]["registered_since"] = json!("2099-01-01");
    let (status, _, named) = refusal(issuer.admin.post_offer(&future).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(named, ["/registered_since"]);

    let mut no_date = offer_body(REGISTRATION_CERTIFICATE, SUBJECT);
    no_date["claims"]["registered_since"] = json!("2026-02-30");
    let (_, _, named) = refusal(issuer.admin.post_offer(&no_date).await).await;
    assert_eq!(named, ["/registered_since"]);

    let mut backwards = offer_body("internship-eligibility", SUBJECT);
    backwards["claims"]["eligible_from"] = json!("2027-03-01");
    backwards["claims"]["eligible_until"] = json!("2027-02-28");
    let response = issuer.admin.post_offer(&backwards).await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["violations"][0]["pointer"], "/eligible_until");
    let message = body["violations"][0]["message"].as_str().unwrap();
    assert!(message.contains("eligible_from (2027-03-01)"), "{message}");

    // The programme exactly when the status says so.
    let mut without = offer_body(REGISTRATION_CERTIFICATE, SUBJECT);
    without["claims"]
        .as_object_mut()
        .unwrap()
        .remove("programme");
    let (_, _, named) = refusal(issuer.admin.post_offer(&without).await).await;
    assert_eq!(named, ["/programme"]);
    let mut extra = offer_body(REGISTRATION_CERTIFICATE, SUBJECT);
    extra["claims"]["registration_status"] = json!("job_seeker");
    let (_, _, named) = refusal(issuer.admin.post_offer(&extra).await).await;
    assert_eq!(named, ["/programme"]);
}

#[tokio::test]
async fn offer_refuses_control_characters_in_claims() {
    let issuer = TestIssuer::start("offer-control").await;
    let mut body = offer_body(REGISTRATION_CERTIFICATE, SUBJECT);
    body["claims"]["office"] = json!("Malmö\u{1b}[2J");
    let response = issuer.admin.post_offer(&body).await;
    let (status, _, named) = refusal(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(named, ["/office"]);
    let mut name = json!({"personal_identity_number": SUBJECT, "given_name": "Karin\u{1b}", "family_name": "Lindqvist"});
    let refused = issuer.admin.register_person(&name).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    name["given_name"] = json!("Karin");
    assert_eq!(
        issuer.admin.register_person(&name).await.status(),
        StatusCode::CREATED
    );
}
