//! The issuer's admin API (`/api/...`), called with its Bearer key.

use intyg_issuer::admin::OfferCreated;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};

use crate::{Fetch, example};

/// A client of one issuer's admin API.
#[derive(Debug, Clone)]
pub struct Admin {
    http: reqwest::Client,
    url: String,
    key: String,
}

/// The `POST /api/offers` body for `subject` with the example claims of
/// `kind`; change it to test refusals.
pub fn offer_body(kind: &str, subject: &str) -> Value {
    json!({"credential_configuration_id": kind, "claims": example(kind), "subject": subject})
}

impl Admin {
    /// For the issuer at `url` (no trailing slash), sending `key`.
    pub fn new(http: reqwest::Client, url: &str, key: &str) -> Self {
        Self {
            http,
            url: url.to_owned(),
            key: key.to_owned(),
        }
    }

    /// A request to `path` (such as `/api/offers`) with the key.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.key)
    }

    /// `POST /api/offers` with `body` as it is.
    pub async fn post_offer(&self, body: &Value) -> Response {
        send(self.request(Method::POST, "/api/offers").json(body)).await
    }

    /// The officer registers a credential of `kind` for `subject` with the
    /// type's example claims: asserts `201 Created`, returns the link, the
    /// PIN and the record id.
    pub async fn offer(&self, kind: &str, subject: &str) -> OfferCreated {
        let response = self.post_offer(&offer_body(kind, subject)).await;
        assert_eq!(response.status(), StatusCode::CREATED, "POST /api/offers");
        response.json().await.expect("an OfferCreated")
    }

    /// `GET /api/credentials?subject=<subject>`: the records of `subject`.
    pub async fn credentials(&self, subject: &str) -> Value {
        let path = format!("/api/credentials?subject={subject}");
        self.request(Method::GET, &path).fetch_json().await
    }

    /// `POST /api/credentials/<record>/<action>` (`revoke`, `suspend`,
    /// `unsuspend`), answered as it is.
    pub async fn credential_action(&self, record: &str, action: &str) -> Response {
        let path = format!("/api/credentials/{record}/{action}");
        send(self.request(Method::POST, &path)).await
    }

    /// The officer changes a record's status with `action`: asserts `200 OK`
    /// and returns the record as the API shows it.
    pub async fn change_status(&self, record: &str, action: &str) -> Value {
        let response = self.credential_action(record, action).await;
        assert_eq!(response.status(), StatusCode::OK, "{action} {record}");
        response.json().await.expect("JSON")
    }

    /// `POST /api/persons` with `body`, answered as it is.
    pub async fn register_person(&self, body: &Value) -> Response {
        send(self.request(Method::POST, "/api/persons").json(body)).await
    }

    /// `GET /api/persons/<number>`, answered as it is.
    pub async fn person(&self, number: &str) -> Response {
        send(self.request(Method::GET, &format!("/api/persons/{number}"))).await
    }
}

async fn send(request: RequestBuilder) -> Response {
    request.send().await.expect("the issuer answers")
}
