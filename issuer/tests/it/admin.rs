//! The admin API, the status list it drives, and operations endpoints.

use intyg_core::status_list::{DecodeLimits, StatusIndex, StatusListToken, StatusType};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{Issuer, example};

const SUBJECT: &str = "199403172381";

async fn offer(issuer: &Issuer) -> Value {
    let response = issuer
        .admin(Method::POST, "/api/offers")
        .json(&json!({"credential_configuration_id": "registration-certificate", "claims": example("registration-certificate"), "subject": SUBJECT}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

#[tokio::test]
async fn offer_returns_link_pin_and_record() {
    let issuer = Issuer::start("offer").await;
    let created = offer(&issuer).await;
    let uri = created["offer_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("openid-credential-offer://?credential_offer_uri="),
        "{uri}"
    );
    let pin = created["tx_code"].as_str().unwrap();
    assert_eq!(pin.len(), 6);
    assert!(pin.bytes().all(|b| b.is_ascii_digit()));
    let id = created["credential_ids"][0].as_str().unwrap();
    let listed: Value = issuer
        .admin(Method::GET, &format!("/api/credentials?subject={SUBJECT}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["state"], "offered");
}

#[tokio::test]
async fn admin_api_requires_the_key() {
    let issuer = Issuer::start("auth").await;
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
    let body: Value = none.json().await.unwrap();
    assert_eq!(body["error"], "invalid_token");
    let wrong = issuer
        .http
        .get(format!("{}/api/credentials?subject={SUBJECT}", issuer.url))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn invalid_claims_are_reported_by_field() {
    let issuer = Issuer::start("claims").await;
    let mut claims = example("registration-certificate");
    claims["registered_since"] = json!("last spring");
    claims.as_object_mut().unwrap().remove("office");
    let response = issuer
        .admin(Method::POST, "/api/offers")
        .json(&json!({"credential_configuration_id": "registration-certificate", "claims": claims, "subject": SUBJECT}))
        .send()
        .await
        .unwrap();
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
    let issuer = Issuer::start("refusals").await;
    let post = |body: Value| issuer.admin(Method::POST, "/api/offers").json(&body).send();
    let unknown: Value = post(
        json!({"credential_configuration_id": "driving-licence", "claims": {}, "subject": SUBJECT}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(unknown["error"], "unknown_credential_configuration");
    let subject: Value = post(json!({"credential_configuration_id": "registration-certificate", "claims": example("registration-certificate"), "subject": "19940317-2381"})).await.unwrap().json().await.unwrap();
    assert_eq!(subject["error"], "invalid_request");
    let mut claims = example("registration-certificate");
    claims["iss"] = json!("https://evil.example");
    let reserved: Value = post(json!({"credential_configuration_id": "registration-certificate", "claims": claims, "subject": SUBJECT})).await.unwrap().json().await.unwrap();
    assert_eq!(reserved["error"], "invalid_request");
    let malformed = issuer
        .admin(Method::POST, "/api/offers")
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert!(malformed.status().is_client_error());
}

#[tokio::test]
async fn status_transitions_follow_the_rules() {
    let issuer = Issuer::start("transitions").await;
    let created = offer(&issuer).await;
    let id = created["credential_ids"][0].as_str().unwrap();
    let act = |action: &str| {
        issuer
            .admin(Method::POST, &format!("/api/credentials/{id}/{action}"))
            .send()
    };
    // Not issued yet: cannot be suspended, but can be revoked (the offer dies).
    assert_eq!(act("suspend").await.unwrap().status(), StatusCode::CONFLICT);
    let revoked = act("revoke").await.unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(revoked.json::<Value>().await.unwrap()["state"], "revoked");
    assert_eq!(act("revoke").await.unwrap().status(), StatusCode::CONFLICT);
    assert_eq!(
        act("unsuspend").await.unwrap().status(),
        StatusCode::CONFLICT
    );
    assert_eq!(act("delete").await.unwrap().status(), StatusCode::NOT_FOUND);
    let missing = issuer
        .admin(Method::POST, "/api/credentials/no-such-id/revoke")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn status_list_publishes_changes_at_once() {
    let issuer = Issuer::start("statuslist").await;
    let state = &issuer.state;
    // Three indices handed out, as three issued copies would be.
    let first = state.stores.status.allocate(3).unwrap();
    let reference = state.status.reference(first + 1);
    let key = state.key.public_jwk();
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
        .set(state.stores.status.as_ref(), first + 1, StatusType::Invalid)
        .unwrap();
    let (after, new_etag) = fetch().await;
    assert_eq!(after, StatusType::Invalid);
    assert_ne!(etag, new_etag);
    assert_eq!(reference.idx, StatusIndex::from(first + 1));

    let missing = issuer
        .http
        .get(format!("{}/status/99", issuer.url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn operations_endpoints_answer() {
    let issuer = Issuer::start("ops").await;
    let health = issuer
        .http
        .get(format!("{}/healthz", issuer.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.text().await.unwrap(), "ok");
    let created = offer(&issuer).await;
    let id = created["credential_ids"][0].as_str().unwrap();
    issuer
        .admin(Method::POST, &format!("/api/credentials/{id}/revoke"))
        .send()
        .await
        .unwrap();
    let metrics = issuer
        .http
        .get(format!("{}/metrics", issuer.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("intyg_issuer_status_changes_total{action=\"revoke\"} 1"),
        "{metrics}"
    );
    let openapi: Value = issuer
        .http
        .get(format!("{}/openapi.json", issuer.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(openapi["openapi"], "3.1.0");
    assert!(openapi["paths"]["/api/offers"]["post"].is_object());
}

#[tokio::test]
async fn persons_are_registered_once_and_read_back() {
    let issuer = Issuer::start("persons").await;
    let register = |body: Value| {
        issuer
            .admin(Method::POST, "/api/persons")
            .json(&body)
            .send()
    };
    let created = register(json!({"personal_identity_number": SUBJECT, "given_name": " Karin Elisabet ", "family_name": "Lindqvist"})).await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let person: Value = created.json().await.unwrap();
    assert_eq!(person["personal_identity_number"], SUBJECT);
    assert_eq!(person["given_name"], "Karin Elisabet");
    assert_eq!(person["family_name"], "Lindqvist");
    assert_eq!(person["birthdate"], "1994-03-17");
    assert_eq!(person["registered_by"], "admin-api");
    assert!(person["registered_at"].as_i64().unwrap() > 0);

    let read = issuer
        .admin(Method::GET, &format!("/api/persons/{SUBJECT}"))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(read.json::<Value>().await.unwrap(), person);

    // Not an upsert: a second registration is a conflict and changes nothing.
    let again = register(
        json!({"personal_identity_number": SUBJECT, "given_name": "Karin", "family_name": "Berg"}),
    )
    .await
    .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(
        again.json::<Value>().await.unwrap()["error"],
        "already_registered"
    );
    let unchanged: Value = issuer
        .admin(Method::GET, &format!("/api/persons/{SUBJECT}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(unchanged, person);

    // A coordination number: the birthdate is the day less 60.
    let coordination: Value = register(json!({"personal_identity_number": "197010632391", "given_name": "Ana", "family_name": "Silva"})).await.unwrap().json().await.unwrap();
    assert_eq!(coordination["birthdate"], "1970-10-03");

    let unknown = issuer
        .admin(Method::GET, "/api/persons/198507099805")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(unknown.json::<Value>().await.unwrap()["error"], "not_found");
}

#[tokio::test]
async fn persons_refuse_invalid_numbers_and_names() {
    let issuer = Issuer::start("persons-invalid").await;
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
            json!({"personal_identity_number": "19940317-2381", "given_name": "Karin", "family_name": "Lindqvist"}),
            "12 digits",
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
        let response = issuer
            .admin(Method::POST, "/api/persons")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"], "invalid_request", "{body}");
        let description = error["error_description"].as_str().unwrap();
        assert!(description.contains(why), "{description}");
    }
    let malformed = issuer
        .admin(Method::GET, "/api/persons/199403172382")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert!(issuer.state.stores.persons.get(SUBJECT).unwrap().is_none());
}

#[tokio::test]
async fn persons_require_the_key() {
    let issuer = Issuer::start("persons-auth").await;
    let post = issuer
        .http
        .post(format!("{}/api/persons", issuer.url))
        .json(&json!({"personal_identity_number": SUBJECT, "given_name": "Karin", "family_name": "Lindqvist"}))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        post.json::<Value>().await.unwrap()["error"],
        "invalid_token"
    );
    let get = issuer
        .http
        .get(format!("{}/api/persons/{SUBJECT}", issuer.url))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), StatusCode::UNAUTHORIZED);
    assert!(issuer.state.stores.persons.get(SUBJECT).unwrap().is_none());
    let openapi: Value = issuer
        .http
        .get(format!("{}/openapi.json", issuer.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(openapi["paths"]["/api/persons"]["post"]["responses"]["409"].is_object());
    assert!(openapi["paths"]["/api/persons/{personal_identity_number}"]["get"].is_object());
}
