//! `request_uri_method=post` (OpenID4VP 1.0 §5.10) over loopback: the
//! wallet POSTs `wallet_metadata` and `wallet_nonce` to the request URI
//! and gets the signed Request Object echoing the nonce and fitted to its
//! metadata, or an error naming what it cannot serve; the HR API's
//! per-request `client_id_prefix` and `request_uri_method`, and the
//! `haip-vp://` invocation scheme.

use intyg_core::oid4vp::{
    AuthorizationRequest, ClientIdPrefix, Invocation, RequestObjectError, RequestObjectSource,
    RequestReference, RequestUriMethod,
};
use intyg_core::trust::{RequestAuthError, TrustAnchors, authenticate_request_object};
use intyg_verifier::config::{ClientIdPrefixChoice, InvocationScheme};
use intyg_verifier::now;
use serde_json::{Value, json};

use crate::flow::Holder;
use crate::{Session, TempDir, TestIssuer, VALID, Verifier, example};

/// Creates a presentation request with `options` added to the template body.
async fn create(verifier: &Verifier, options: Value) -> Value {
    let mut body = json!({"template": "internship-application"});
    for (name, value) in options.as_object().unwrap() {
        body[name] = value.clone();
    }
    let response = verifier.create(body).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

fn reference(uri: &str) -> RequestReference {
    let Invocation::ByReference(reference) = AuthorizationRequest::from_uri(uri).unwrap() else {
        panic!("requests go by reference");
    };
    reference
}

fn request_uri(reference: &RequestReference) -> (String, Option<RequestUriMethod>) {
    let RequestObjectSource::Uri {
        request_uri,
        method,
    } = &reference.source
    else {
        panic!("request_uri expected");
    };
    (request_uri.clone(), *method)
}

fn anchors(verifier: &Verifier) -> TrustAnchors {
    TrustAnchors::from_pem(&std::fs::read_to_string(verifier.dir.0.join("ca.pem")).unwrap())
        .unwrap()
}

/// POSTs `form` to the request URI as §5.10 says.
async fn post_form(verifier: &Verifier, url: &str, form: String) -> reqwest::Response {
    verifier
        .http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/oauth-authz-req+jwt")
        .body(form)
        .send()
        .await
        .unwrap()
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        form.append_pair(name, value);
    }
    form.finish()
}

/// The metadata of a wallet like ours, optionally changed by `edit`.
fn wallet_metadata(edit: impl FnOnce(&mut Value)) -> String {
    let mut metadata = json!({
        "vp_formats_supported": {"dc+sd-jwt": {"sd-jwt_alg_values": ["ES256"], "kb-jwt_alg_values": ["ES256"]}},
        "client_id_prefixes_supported": ["x509_san_dns"],
        "request_object_signing_alg_values_supported": ["ES256"],
        "response_modes_supported": ["direct_post", "direct_post.jwt"],
        "authorization_encryption_alg_values_supported": ["ECDH-ES"],
        "authorization_encryption_enc_values_supported": ["A256GCM"]
    });
    edit(&mut metadata);
    metadata.to_string()
}

/// A change to the wallet metadata.
type MetadataEdit = fn(&mut Value);

async fn error_of(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[tokio::test]
async fn post_with_wallet_nonce_and_metadata_echoes_the_nonce_and_fits_the_encryption() {
    let verifier = Verifier::start("post-full", |_| {}).await;
    let issuer = TestIssuer::start().await;
    verifier.trust(&issuer);
    let created = create(
        &verifier,
        json!({"client_id_prefix": "x509_san_dns", "request_uri_method": "post"}),
    )
    .await;
    let uri = created["request_uri"].as_str().unwrap();
    assert!(uri.contains("request_uri_method=post"), "{uri}");
    assert_eq!(created["client_id"], "x509_san_dns:localhost");
    let reference = reference(uri);
    assert_eq!(reference.client_id.as_str(), "x509_san_dns:localhost");
    // §5.1: with post, the link carries client_metadata for the wallet to
    // fit its wallet_metadata to.
    assert_eq!(
        reference.extra["client_metadata"]["vp_formats_supported"]["dc+sd-jwt"]["kb-jwt_alg_values"],
        json!(["ES256"])
    );
    let (url, method) = request_uri(&reference);
    assert_eq!(method, Some(RequestUriMethod::Post));

    let metadata = wallet_metadata(|_| {});
    let response = post_form(
        &verifier,
        &url,
        form(&[
            ("wallet_metadata", &metadata),
            ("wallet_nonce", "qPmxiNFCR3QTm19POc8u"),
        ]),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/oauth-authz-req+jwt"
    );
    let jwt = response.text().await.unwrap();
    let authenticated = authenticate_request_object(
        &jwt,
        &reference.client_id,
        &anchors(&verifier),
        Some("qPmxiNFCR3QTm19POc8u"),
        now(),
    )
    .unwrap();
    let request = authenticated.request;
    assert_eq!(
        request.wallet_nonce.as_deref(),
        Some("qPmxiNFCR3QTm19POc8u")
    );
    // Only the enc value the wallet supports is offered.
    assert_eq!(
        request
            .client_metadata
            .as_ref()
            .unwrap()
            .encrypted_response_enc_values_supported,
        Some(vec!["A256GCM".to_owned()])
    );
    // A wallet checking for another nonce refuses it (§5.10.1).
    assert!(matches!(
        authenticate_request_object(
            &jwt,
            &reference.client_id,
            &anchors(&verifier),
            Some("another-nonce"),
            now()
        ),
        Err(RequestAuthError::RequestObject(
            RequestObjectError::WalletNonceMismatch { .. }
        ))
    ));

    // The whole flow completes over the POSTed request.
    let holder = holder_of(&issuer);
    let session = Session {
        id: created["id"].as_str().unwrap().to_owned(),
        request,
    };
    let response = verifier.post(&session, holder.respond(&session)).await;
    assert_eq!(response.status(), 200);
    let shown = verifier.show(&session.id).await;
    assert_eq!(shown["status"], "verified", "{shown}");
    assert_eq!(shown["consent"]["verifier"], "x509_san_dns:localhost");
}

fn holder_of(issuer: &TestIssuer) -> Holder {
    let key = intyg_core::jose::SigningKey::generate().unwrap();
    let credentials = ["registration-certificate", "internship-eligibility"]
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
async fn post_without_metadata_or_nonce_and_get_keep_working() {
    let verifier = Verifier::start("post-bare", |config| {
        config.request_uri_method = RequestUriMethod::Post;
    })
    .await;
    // The configured default puts post in the link.
    let created = create(&verifier, json!({})).await;
    let reference = reference(created["request_uri"].as_str().unwrap());
    let (url, method) = request_uri(&reference);
    assert_eq!(method, Some(RequestUriMethod::Post));

    for body in ["", "wallet_nonce=only-a-nonce", "unknown=ignored"] {
        let response = post_form(&verifier, &url, body.to_owned()).await;
        assert_eq!(response.status(), 200, "{body}");
        let jwt = response.text().await.unwrap();
        let nonce = body.strip_prefix("wallet_nonce=");
        let request = authenticate_request_object(
            &jwt,
            &reference.client_id,
            &anchors(&verifier),
            nonce,
            now(),
        )
        .unwrap()
        .request;
        assert_eq!(request.wallet_nonce.as_deref(), nonce, "{body}");
    }
    // Only metadata: no wallet_nonce claim.
    let response = post_form(
        &verifier,
        &url,
        form(&[(
            "wallet_metadata",
            &wallet_metadata(|m| {
                m["client_id_prefixes_supported"] = json!(["x509_hash"]);
            }),
        )]),
    )
    .await;
    assert_eq!(response.status(), 200);
    // A wallet that does not support post GETs (§5.1), as before.
    let response = verifier.http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let jwt = response.text().await.unwrap();
    let request =
        authenticate_request_object(&jwt, &reference.client_id, &anchors(&verifier), None, now())
            .unwrap()
            .request;
    assert_eq!(request.wallet_nonce, None);
}

#[tokio::test]
async fn post_refuses_wallets_it_cannot_serve() {
    let verifier = Verifier::start("post-refused", |_| {}).await;
    let created = create(
        &verifier,
        json!({"client_id_prefix": "x509_san_dns", "request_uri_method": "post"}),
    )
    .await;
    let (url, _) = request_uri(&reference(created["request_uri"].as_str().unwrap()));
    let cases: [(MetadataEdit, &str, &str); 6] = [
        (
            |m| m["request_object_signing_alg_values_supported"] = json!(["EdDSA", "RS256"]),
            "invalid_request",
            "request_object_signing_alg_values_supported",
        ),
        (
            |m| m["client_id_prefixes_supported"] = json!(["x509_hash"]),
            "invalid_request",
            "client_id_prefixes_supported",
        ),
        (
            |m| m["vp_formats_supported"] = json!({"mso_mdoc": {}}),
            "vp_formats_not_supported",
            "dc+sd-jwt",
        ),
        (
            |m| m["vp_formats_supported"]["dc+sd-jwt"]["kb-jwt_alg_values"] = json!(["EdDSA"]),
            "vp_formats_not_supported",
            "ES256",
        ),
        (
            |m| m["authorization_encryption_alg_values_supported"] = json!(["RSA-OAEP-256"]),
            "invalid_request",
            "authorization_encryption_alg_values_supported",
        ),
        (
            |m| m["authorization_encryption_enc_values_supported"] = json!(["A192GCM"]),
            "invalid_request",
            "authorization_encryption_enc_values_supported",
        ),
    ];
    for (edit, code, named) in cases {
        let metadata = wallet_metadata(edit);
        let response = post_form(
            &verifier,
            &url,
            form(&[("wallet_metadata", &metadata), ("wallet_nonce", "n-1")]),
        )
        .await;
        let (status, error, description) = error_of(response).await;
        assert_eq!((status, error.as_str()), (400, code), "{metadata}");
        assert!(description.contains(named), "{description}");
    }
    // The response mode: a wallet with direct_post only, asked for
    // direct_post.jwt (the default).
    let metadata = wallet_metadata(|m| m["response_modes_supported"] = json!(["direct_post"]));
    let (status, error, description) =
        error_of(post_form(&verifier, &url, form(&[("wallet_metadata", &metadata)])).await).await;
    assert_eq!((status, error.as_str()), (400, "invalid_request"));
    assert!(description.contains("direct_post.jwt"), "{description}");

    // Malformed bodies.
    for (body, named) in [
        ("wallet_metadata=%7Bnot-json", "wallet_metadata"),
        ("wallet_metadata=%5B%5D", "wallet_metadata"),
        ("wallet_nonce=", "wallet_nonce"),
        ("wallet_nonce=a&wallet_nonce=b", "wallet_nonce"),
    ] {
        let (status, error, description) =
            error_of(post_form(&verifier, &url, body.to_owned()).await).await;
        assert_eq!((status, error.as_str()), (400, "invalid_request"), "{body}");
        assert!(description.contains(named), "{body}: {description}");
    }
    // §5.10: the body is a form.
    let response = verifier
        .http
        .post(&url)
        .header("content-type", "application/json")
        .body(r#"{"wallet_nonce":"n"}"#)
        .send()
        .await
        .unwrap();
    let (status, error, description) = error_of(response).await;
    assert_eq!((status, error.as_str()), (400, "invalid_request"));
    assert!(
        description.contains("x-www-form-urlencoded"),
        "{description}"
    );
    // An unknown transaction.
    let response = post_form(
        &verifier,
        &format!("{}/request/unknown", verifier.url),
        String::new(),
    )
    .await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn the_hr_api_chooses_the_client_id_prefix_per_request() {
    let verifier = Verifier::start("prefix-choice", |config| {
        config.client_id_prefix = ClientIdPrefixChoice::X509SanDns;
    })
    .await;
    let default = create(&verifier, json!({})).await;
    assert_eq!(default["client_id"], "x509_san_dns:localhost");
    let hashed = create(&verifier, json!({"client_id_prefix": "x509_hash"})).await;
    let client_id = hashed["client_id"].as_str().unwrap();
    assert!(client_id.starts_with("x509_hash:"), "{client_id}");
    // The link, the request object and the expected KB-JWT audience follow.
    let session = verifier
        .session_of(
            hashed["request_uri"].as_str().unwrap(),
            hashed["id"].as_str().unwrap(),
        )
        .await;
    assert_eq!(
        session.request.client_id.as_ref().unwrap().prefix(),
        ClientIdPrefix::X509Hash
    );
    assert_eq!(session.client_id(), client_id);
    let named = create(&verifier, json!({"client_id_prefix": "x509_san_dns"})).await;
    assert_eq!(named["client_id"], "x509_san_dns:localhost");
    // Postings take the same choice.
    let posting: Value = verifier
        .post_json(
            "/api/postings",
            &json!({"title": "T", "description": "D", "purpose": "P"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let application: Value = verifier
        .post_json(
            &format!(
                "/api/postings/{}/applications",
                posting["id"].as_str().unwrap()
            ),
            &json!({"client_id_prefix": "x509_hash", "request_uri_method": "post"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        application["client_id"]
            .as_str()
            .unwrap()
            .starts_with("x509_hash:")
    );
    assert!(
        application["request_uri"]
            .as_str()
            .unwrap()
            .contains("request_uri_method=post")
    );

    for (body, code, named) in [
        (
            json!({"client_id_prefix": "redirect_uri"}),
            "invalid_request",
            "client_id_prefix",
        ),
        (
            json!({"client_id_prefix": "X509_HASH"}),
            "invalid_request",
            "client_id_prefix",
        ),
        (
            json!({"client_id_prefix": 7}),
            "invalid_request",
            "expected a string",
        ),
        (
            json!({"request_uri_method": "put"}),
            "invalid_request_uri_method",
            "request_uri_method",
        ),
        (
            json!({"request_uri_method": "POST"}),
            "invalid_request_uri_method",
            "request_uri_method",
        ),
    ] {
        let mut full = body.clone();
        full["template"] = json!("internship-application");
        let (status, error, description) = error_of(verifier.create(full).await).await;
        assert_eq!((status, error.as_str()), (400, code), "{body}");
        assert!(description.contains(named), "{body}: {description}");
    }
}

#[tokio::test]
async fn x509_san_dns_is_refused_when_the_certificate_lacks_the_name() {
    // The first start generates a dev certificate for `first.example`;
    // the second, with a copy of that identity, is configured for a name
    // the certificate lacks.
    let first = Verifier::start("prefix-first", |config| {
        config.san_dns = "first.example".into();
    })
    .await;
    let dir = TempDir::new("prefix-second");
    for file in ["ca.pem", "verifier-chain.pem", "verifier-key.jwk"] {
        std::fs::copy(first.dir.0.join(file), dir.0.join(file)).unwrap();
    }
    let second = Verifier::start_in(dir, |config| {
        config.san_dns = "second.example".into();
    })
    .await;
    let (status, error, description) = error_of(
        second
            .create(
                json!({"template": "internship-application", "client_id_prefix": "x509_san_dns"}),
            )
            .await,
    )
    .await;
    assert_eq!((status, error.as_str()), (400, "invalid_request"));
    assert!(description.contains("second.example"), "{description}");
    // x509_hash still works, and the first serves x509_san_dns.
    create(&second, json!({"client_id_prefix": "x509_hash"})).await;
    let named = create(&first, json!({"client_id_prefix": "x509_san_dns"})).await;
    assert_eq!(named["client_id"], "x509_san_dns:first.example");
}

#[tokio::test]
async fn haip_vp_links_when_configured() {
    let verifier = Verifier::start("haip-vp", |config| {
        config.invocation_scheme = InvocationScheme::HaipVp;
    })
    .await;
    let issuer = TestIssuer::start().await;
    verifier.trust(&issuer);
    let created = create(&verifier, json!({"client_id_prefix": "x509_san_dns"})).await;
    let uri = created["request_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("haip-vp://?client_id=x509_san_dns%3Alocalhost&request_uri="),
        "{uri}"
    );
    let session = verifier
        .session_of(uri, created["id"].as_str().unwrap())
        .await;
    let response = verifier
        .post(&session, holder_of(&issuer).respond(&session))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(verifier.show(&session.id).await["status"], "verified");
    // openid4vp:// stays the default.
    let plain = Verifier::start("openid4vp-default", |_| {}).await;
    let created = create(&plain, json!({})).await;
    assert!(
        created["request_uri"]
            .as_str()
            .unwrap()
            .starts_with("openid4vp://?")
    );
}
