//! The OpenID Provider bridge as a relying party uses it: discovery, the
//! code flow with PKCE, the wallet's presentation, the ID token (signature
//! by `/jwks`, claims), `/userinfo`; declined and failed presentations end
//! in OAuth errors at the redirect URI; `private_key_jwt`; the browser run
//! in headless Chromium.

use intyg_core::jose::{Algorithm, CompactJws, Header, SigningKey, VerifyingKey, sign_compact};
use intyg_verifier::config::OidcClient;
use serde_json::{Value, json};
use sha2::Digest;

use crate::flow::{Holder, holder_of};
use crate::portal::holder as holder_with;
use crate::{REVOKED, TestIssuer, Verifier};

const CLIENT: &str = "ats";
const SECRET: &str = "ats-secret-0123456789";
const REDIRECT: &str = "http://127.0.0.1:9/callback";

pub(crate) async fn start(name: &str, redirect: &str) -> (Verifier, TestIssuer) {
    let flag = format!("{CLIENT}:{SECRET}:{redirect}");
    let verifier = Verifier::start(name, move |config| {
        config
            .oidc_clients
            .push(OidcClient::from_flag(&flag).unwrap());
    })
    .await;
    let issuer = TestIssuer::start().await;
    verifier.trust(&issuer);
    (verifier, issuer)
}

/// A verifier whose client authenticates with `private_key_jwt` (its key
/// `public`, allowed `scopes`), and a trusted issuer.
async fn start_with_key(
    name: &str,
    public: intyg_core::jose::Jwk,
    scopes: Option<Vec<String>>,
) -> (Verifier, TestIssuer) {
    let verifier = Verifier::start(name, move |config| {
        config.oidc_clients.push(OidcClient {
            client_id: CLIENT.into(),
            client_secret: None,
            jwks: vec![public],
            redirect_uris: vec![REDIRECT.into()],
            scopes,
        });
    })
    .await;
    let issuer = TestIssuer::start().await;
    verifier.trust(&issuer);
    (verifier, issuer)
}

pub(crate) fn pkce() -> (String, String) {
    let verifier = intyg_verifier::random_token(48).unwrap();
    let challenge = intyg_core::jose::b64url_encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub(crate) fn authorize_url(base: &str, redirect: &str, challenge: &str) -> String {
    let mut url = url::Url::parse(&format!("{base}/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", CLIENT)
        .append_pair("redirect_uri", redirect)
        .append_pair("scope", "openid internship_application")
        .append_pair("state", "st-1")
        .append_pair("nonce", "no-1")
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256");
    url.to_string()
}

/// An attribute's value in a page (`name="value"`), unescaped.
fn attribute(page: &str, name: &str) -> String {
    let start = page.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
    let end = start + page[start..].find('"').unwrap();
    page[start..end].replace("&amp;", "&")
}

/// The browser cookie an authorization page sets (`name=value`) and its
/// path, checked to be HttpOnly, SameSite=Lax and, on an http public URL,
/// not Secure.
fn browser_cookie(page: &reqwest::Response) -> (String, String) {
    let set = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    let attributes: Vec<&str> = set.split("; ").collect();
    assert!(attributes.contains(&"HttpOnly"), "{set}");
    assert!(attributes.contains(&"SameSite=Lax"), "{set}");
    assert!(!attributes.contains(&"Secure"), "{set}");
    let path = attributes
        .iter()
        .find_map(|a| a.strip_prefix("Path="))
        .unwrap_or_else(|| panic!("no Path in {set}"));
    (attributes[0].to_owned(), path.to_owned())
}

/// Opens the authorization page; returns the `openid4vp://` link, the
/// transaction id and the browser's cookie.
async fn open_authorization(verifier: &Verifier, challenge: &str) -> (String, String, String) {
    let page = no_redirects()
        .get(authorize_url(&verifier.url, REDIRECT, challenge))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let cookie = browser_cookie(&page);
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    let page = page.text().await.unwrap();
    let link = attribute(&page, "href");
    let link = if link.starts_with("openid4vp://") {
        link
    } else {
        let at = page.find("id=\"wallet-link\"").unwrap();
        attribute(&page[at..], "href")
    };
    assert!(link.starts_with("openid4vp://"), "{link}");
    let done = attribute(&page, "data-done");
    let tx = done
        .strip_prefix("/authorize/")
        .unwrap()
        .strip_suffix("/done")
        .unwrap()
        .to_owned();
    assert_eq!(cookie.1, format!("/authorize/{tx}"));
    (link, tx, cookie.0)
}

/// The browser's step after the wallet answered: where `/done` sends it.
async fn done(verifier: &Verifier, tx: &str, cookie: &str) -> url::Url {
    let response = no_redirects()
        .get(format!("{}/authorize/{tx}/done", verifier.url))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap()
}

fn query(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

async fn token_request(
    verifier: &Verifier,
    form: &[(&str, &str)],
    basic: bool,
) -> reqwest::Response {
    let mut request = verifier
        .http
        .post(format!("{}/token", verifier.url))
        .form(form);
    if basic {
        request = request.basic_auth(CLIENT, Some(SECRET));
    }
    request.send().await.unwrap()
}

/// The token response for `code` (authenticated with the secret).
async fn redeem(verifier: &Verifier, code: &str, code_verifier: &str) -> Value {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", code_verifier),
    ];
    let response = token_request(verifier, &form, true).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Runs a flow to the code with `holder`'s presentation.
async fn code_for(verifier: &Verifier, holder: &Holder, challenge: &str) -> url::Url {
    let (link, tx, cookie) = open_authorization(verifier, challenge).await;
    let session = verifier.session_of(&link, &tx).await;
    verifier.post(&session, holder.respond(&session)).await;
    done(verifier, &tx, &cookie).await
}

#[tokio::test]
async fn a_relying_party_gets_an_id_token_with_the_disclosed_claims() {
    let (verifier, issuer) = start("oidc", REDIRECT).await;
    let metadata: Value = verifier
        .http
        .get(format!("{}/.well-known/openid-configuration", verifier.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        metadata["issuer"],
        verifier.state.config.public_url.as_str()
    );
    assert_eq!(
        metadata["code_challenge_methods_supported"],
        json!(["S256"])
    );
    assert!(
        metadata["scopes_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("internship_application"))
    );
    let holder = holder_of(
        &issuer,
        &["registration-certificate", "internship-eligibility"],
    );
    let (code_verifier, challenge) = pkce();
    let back = code_for(&verifier, &holder, &challenge).await;
    assert!(back.as_str().starts_with(REDIRECT), "{back}");
    assert_eq!(query(&back, "state").as_deref(), Some("st-1"));
    let code = query(&back, "code").unwrap();

    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", code_verifier.as_str()),
    ];
    let response = token_request(&verifier, &form, true).await;
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    let id_token = CompactJws::parse(tokens["id_token"].as_str().unwrap()).unwrap();
    let jwks: Value = verifier.get_json("/jwks").await;
    let jwk: intyg_core::jose::Jwk = serde_json::from_value(jwks["keys"][0].clone()).unwrap();
    assert_eq!(id_token.header.alg, Algorithm::ES256);
    assert_eq!(
        id_token.header.kid.as_deref(),
        jwks["keys"][0]["kid"].as_str()
    );
    id_token
        .verify_with(&VerifyingKey::from_jwk(&jwk).unwrap())
        .unwrap();
    let claims: Value = serde_json::from_slice(&id_token.payload).unwrap();
    assert_eq!(claims["iss"], verifier.state.config.public_url.as_str());
    assert_eq!(claims["aud"], CLIENT);
    assert_eq!(claims["nonce"], "no-1");
    // RFC 8176 `pop`: the key binding JWT proves possession of the holder
    // key; nothing says whether it is a hardware key (`hwk`).
    assert_eq!(claims["amr"], json!(["pop"]));
    assert!(claims["acr"].as_str().unwrap().contains("openid4vp"));
    assert_eq!(claims["registration_status"], "in_programme", "{claims}");
    assert!(claims["max_hours_per_week"].is_number(), "{claims}");
    let sub = claims["sub"].as_str().unwrap();
    assert!(!sub.is_empty() && sub != "199403172381");

    let userinfo: Value = verifier
        .http
        .get(format!("{}/userinfo", verifier.url))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(userinfo["sub"], sub);
    assert_eq!(userinfo["registration_status"], "in_programme");
    // The code is not an access token.
    let with_code = verifier
        .http
        .get(format!("{}/userinfo", verifier.url))
        .bearer_auth(&code)
        .send()
        .await
        .unwrap();
    assert_eq!(with_code.status(), 401);

    // The code is single-use.
    let again = token_request(&verifier, &form, true).await;
    assert_eq!(again.status(), 400);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["error"], "invalid_grant");

    // Another presentation by the same holder gets another sub (no stable
    // identifier was disclosed).
    let (verifier2, challenge2) = pkce();
    let back = code_for(&verifier, &holder, &challenge2).await;
    let code = query(&back, "code").unwrap();
    let tokens = redeem(&verifier, &code, &verifier2).await;
    let second = CompactJws::parse(tokens["id_token"].as_str().unwrap()).unwrap();
    let second: Value = serde_json::from_slice(&second.payload).unwrap();
    assert_ne!(second["sub"], sub);
}

#[tokio::test]
async fn the_token_endpoint_refuses_a_wrong_secret_or_pkce_verifier() {
    let (verifier, issuer) = start("oidc-refusals", REDIRECT).await;
    let holder = holder_of(
        &issuer,
        &["registration-certificate", "internship-eligibility"],
    );
    let (_, challenge) = pkce();
    let back = code_for(&verifier, &holder, &challenge).await;
    let code = query(&back, "code").unwrap();
    let wrong_secret = verifier
        .http
        .post(format!("{}/token", verifier.url))
        .basic_auth(CLIENT, Some("nope"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_secret.status(), 401);
    let (other_verifier, _) = pkce();
    let wrong_pkce = token_request(
        &verifier,
        &[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", other_verifier.as_str()),
        ],
        true,
    )
    .await;
    assert_eq!(wrong_pkce.status(), 400);
    let body: Value = wrong_pkce.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
}

/// RFC 6749 §5.2 and §2.3 at `/token`, on `verifier`: a failed Basic
/// authentication is a 401 with a `Basic` challenge; a repeated parameter
/// and two authentication methods are `invalid_request`; so is a missing
/// `redirect_uri` (and the code survives it); every answer is `no-store`;
/// a code used twice revokes the access token issued for it (§4.1.2).
async fn token_endpoint_errors(verifier: Verifier, issuer: TestIssuer) {
    let holder = holder_of(
        &issuer,
        &["registration-certificate", "internship-eligibility"],
    );
    let (code_verifier, challenge) = pkce();
    let back = code_for(&verifier, &holder, &challenge).await;
    let code = query(&back, "code").unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", code_verifier.as_str()),
    ];
    let endpoint = format!("{}/token", verifier.url);
    let no_store = |response: &reqwest::Response| {
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(response.headers()["pragma"], "no-cache");
    };
    let error_of = |response: reqwest::Response, status: u16| async move {
        assert_eq!(response.status(), status);
        no_store(&response);
        let body: Value = response.json().await.unwrap();
        body["error"].as_str().unwrap().to_owned()
    };

    let wrong_secret = verifier
        .http
        .post(&endpoint)
        .basic_auth(CLIENT, Some("nope"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let challenge_header = wrong_secret.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge_header.starts_with("Basic realm="),
        "{challenge_header}"
    );
    assert_eq!(error_of(wrong_secret, 401).await, "invalid_client");

    let mut repeated = form.to_vec();
    repeated.push(("code", "another"));
    let response = token_request(&verifier, &repeated, true).await;
    assert_eq!(error_of(response, 400).await, "invalid_request");

    let mut with_secret = form.to_vec();
    with_secret.push(("client_secret", SECRET));
    let response = token_request(&verifier, &with_secret, true).await;
    assert_eq!(error_of(response, 400).await, "invalid_request");
    let mut with_assertion = form.to_vec();
    with_assertion.push((
        "client_assertion_type",
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    ));
    with_assertion.push(("client_assertion", "a.b.c"));
    let response = token_request(&verifier, &with_assertion, true).await;
    assert_eq!(error_of(response, 400).await, "invalid_request");

    let without_redirect: Vec<_> = form
        .iter()
        .copied()
        .filter(|(k, _)| *k != "redirect_uri")
        .collect();
    let response = token_request(&verifier, &without_redirect, true).await;
    assert_eq!(error_of(response, 400).await, "invalid_request");

    let response = token_request(&verifier, &form, true).await;
    assert_eq!(response.status(), 200);
    no_store(&response);
    let tokens: Value = response.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let userinfo = |token: String| {
        verifier
            .http
            .get(format!("{}/userinfo", verifier.url))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(userinfo(access.clone()).await.unwrap().status(), 200);
    let replay = token_request(&verifier, &form, true).await;
    assert_eq!(error_of(replay, 400).await, "invalid_grant");
    assert_eq!(userinfo(access).await.unwrap().status(), 401);
}

#[tokio::test]
async fn regression_token_endpoint_errors_follow_rfc6749() {
    let (verifier, issuer) = start("oidc-token-errors", REDIRECT).await;
    token_endpoint_errors(verifier, issuer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regression_token_endpoint_errors_follow_rfc6749_on_postgres() {
    let url = intyg_testkit::TestPg::cluster()
        .database("verifier_oidc_token")
        .await;
    let flag = format!("{CLIENT}:{SECRET}:{REDIRECT}");
    let verifier = Verifier::start("oidc-token-errors-pg", move |config| {
        config.database_url = Some(url);
        config
            .oidc_clients
            .push(OidcClient::from_flag(&flag).unwrap());
    })
    .await;
    let issuer = TestIssuer::start().await;
    verifier.trust(&issuer);
    token_endpoint_errors(verifier, issuer).await;
}

#[tokio::test]
async fn a_declined_presentation_ends_in_access_denied_at_the_redirect_uri() {
    let (verifier, _issuer) = start("oidc-declined", REDIRECT).await;
    let (_, challenge) = pkce();
    let (link, tx, cookie) = open_authorization(&verifier, &challenge).await;
    let session = verifier.session_of(&link, &tx).await;
    crate::webhooks::decline(&verifier, &session).await;
    let back = done(&verifier, &tx, &cookie).await;
    assert!(back.as_str().starts_with(REDIRECT));
    assert_eq!(query(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(query(&back, "state").as_deref(), Some("st-1"));
    assert_eq!(query(&back, "code"), None);
    // Answered once.
    let again = no_redirects()
        .get(format!("{}/authorize/{tx}/done", verifier.url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 410);
}

/// The transaction id is public (in the QR code's `request_uri`): whoever
/// calls `/done` first without the browser's cookie gets an error page,
/// not the code; the browser that opened `/authorize` still gets it.
#[tokio::test]
async fn regression_done_answers_only_the_browser_that_opened_authorize() {
    let (verifier, issuer) = start("oidc-done-binding", REDIRECT).await;
    let holder = holder_of(
        &issuer,
        &["registration-certificate", "internship-eligibility"],
    );
    let (_, challenge) = pkce();
    let (link, tx, cookie) = open_authorization(&verifier, &challenge).await;
    let session = verifier.session_of(&link, &tx).await;
    verifier.post(&session, holder.respond(&session)).await;
    let (name, _) = cookie.split_once('=').unwrap();
    let forged = format!("{name}={}", intyg_verifier::random_token(32).unwrap());
    for attacker in [None, Some(forged.as_str())] {
        let mut request = no_redirects().get(format!("{}/authorize/{tx}/done", verifier.url));
        if let Some(cookie) = attacker {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 403, "{attacker:?}");
        assert!(response.headers().get("location").is_none());
        let page = response.text().await.unwrap();
        assert!(page.contains("another browser"), "{page}");
        assert!(!page.contains("code="), "{page}");
    }
    let back = done(&verifier, &tx, &format!("other=1; {cookie}")).await;
    assert!(back.as_str().starts_with(REDIRECT), "{back}");
    assert!(query(&back, "code").is_some(), "{back}");
}

#[tokio::test]
async fn a_failed_presentation_ends_in_an_oauth_error_at_the_redirect_uri() {
    let (verifier, issuer) = start("oidc-failed", REDIRECT).await;
    let (_, challenge) = pkce();
    let back = code_for(&verifier, &holder_with(&issuer, REVOKED), &challenge).await;
    assert_eq!(query(&back, "error").as_deref(), Some("invalid_request"));
    assert!(
        query(&back, "error_description")
            .unwrap()
            .contains("revoked")
    );
    assert_eq!(query(&back, "state").as_deref(), Some("st-1"));
    assert_eq!(query(&back, "code"), None);
}

#[tokio::test]
async fn authorize_refuses_unknown_clients_and_requests_without_pkce() {
    let (verifier, _issuer) = start("oidc-authorize", REDIRECT).await;
    let http = no_redirects();
    let unknown =
        authorize_url(&verifier.url, REDIRECT, "x").replace("client_id=ats", "client_id=evil");
    assert_eq!(http.get(unknown).send().await.unwrap().status(), 400);
    let elsewhere = authorize_url(&verifier.url, "https://evil.example/cb", "x");
    assert_eq!(http.get(elsewhere).send().await.unwrap().status(), 400);
    let (_, challenge) = pkce();
    for (from, to, error) in [
        (
            "code_challenge_method=S256",
            "code_challenge_method=plain",
            "invalid_request",
        ),
        (
            "scope=openid+internship_application",
            "scope=openid+payroll",
            "invalid_scope",
        ),
        (
            "scope=openid+internship_application",
            "scope=internship_application",
            "invalid_scope",
        ),
        (
            "response_type=code",
            "response_type=token",
            "unsupported_response_type",
        ),
    ] {
        let url = authorize_url(&verifier.url, REDIRECT, &challenge).replace(from, to);
        let response = http.get(url).send().await.unwrap();
        assert_eq!(response.status(), 303, "{to}");
        let back = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
        assert_eq!(query(&back, "error").as_deref(), Some(error), "{to}");
    }
    let without_pkce = authorize_url(&verifier.url, REDIRECT, "").replace("&code_challenge=&", "&");
    let response = http.get(without_pkce).send().await.unwrap();
    let back = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(query(&back, "error").as_deref(), Some("invalid_request"));
}

/// The parameters of [`authorize_url`], as pairs.
fn authorize_params(challenge: &str) -> Vec<(String, String)> {
    url::Url::parse(&authorize_url("http://x", REDIRECT, challenge))
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// Where a refused authorization request sends the browser: `error` and
/// `state` at the redirect URI.
fn refused(response: &reqwest::Response) -> (String, Option<String>) {
    assert_eq!(response.status(), 303);
    let back = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    assert!(back.as_str().starts_with(REDIRECT), "{back}");
    (query(&back, "error").unwrap(), query(&back, "state"))
}

/// Core §3.1.2.1: POST as well as GET, unknown scope values ignored,
/// `prompt=none` answered with `login_required` (the holder is always
/// needed), `request` and `request_uri` refused with their own codes; the
/// discovery document says so.
#[tokio::test]
async fn regression_authorize_takes_post_ignores_unknown_scopes_and_refuses_what_it_cannot_do() {
    let verifier = Verifier::start("oidc-authorize-params", |config| {
        config.oidc_clients.push(OidcClient {
            client_id: CLIENT.into(),
            client_secret: Some(SECRET.into()),
            jwks: Vec::new(),
            redirect_uris: vec![REDIRECT.into()],
            scopes: Some(vec!["internship_application".into()]),
        });
    })
    .await;
    let http = no_redirects();
    let (_, challenge) = pkce();
    let with = |name: &str, value: &str| {
        let mut params = authorize_params(&challenge);
        params.retain(|(k, _)| k != name);
        params.push((name.to_owned(), value.to_owned()));
        params
    };
    let endpoint = format!("{}/authorize", verifier.url);
    let get = |params: &[(String, String)]| {
        http.get(url::Url::parse_with_params(&endpoint, params).unwrap())
    };

    // Unknown scope values are ignored, by GET and by POST.
    let scope = with("scope", "openid profile email internship_application");
    let page = get(&scope).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("openid4vp://"));
    let page = http.post(&endpoint).form(&scope).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let (cookie, _) = browser_cookie(&page);
    assert!(!cookie.is_empty());
    assert!(page.text().await.unwrap().contains("openid4vp://"));
    // A POST with a foreign client is shown, not redirected.
    let mut foreign = authorize_params(&challenge);
    foreign.retain(|(k, _)| k != "client_id");
    foreign.push(("client_id".into(), "evil".into()));
    let page = http.post(&endpoint).form(&foreign).send().await.unwrap();
    assert_eq!(page.status(), 400);
    assert!(page.headers().get("location").is_none());

    for (name, value, error) in [
        // A template scope this client may not ask for stays refused,
        // even beside one it may.
        (
            "scope",
            "openid internship_application internship_eligible_minimal",
            "invalid_scope",
        ),
        (
            "scope",
            "openid internship_eligible_minimal",
            "invalid_scope",
        ),
        ("scope", "openid profile", "invalid_scope"),
        ("prompt", "none", "login_required"),
        ("prompt", "login none", "invalid_request"),
        (
            "request",
            "eyJhbGciOiJub25lIn0.e30.",
            "request_not_supported",
        ),
        (
            "request_uri",
            "https://ats.example/request.jwt",
            "request_uri_not_supported",
        ),
    ] {
        let params = with(name, value);
        let by_get = get(&params).send().await.unwrap();
        let by_post = http.post(&endpoint).form(&params).send().await.unwrap();
        for response in [by_get, by_post] {
            let (got, state) = refused(&response);
            assert_eq!(got, error, "{name}={value}");
            assert_eq!(state.as_deref(), Some("st-1"));
        }
    }
    // prompt=login is fine: the holder is asked anyway.
    let page = get(&with("prompt", "login")).send().await.unwrap();
    assert_eq!(page.status(), 200);

    let metadata: Value = http
        .get(format!("{}/.well-known/openid-configuration", verifier.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["request_parameter_supported"], false);
    assert_eq!(metadata["request_uri_parameter_supported"], false);
    assert_eq!(metadata["claims_parameter_supported"], false);
}

#[tokio::test]
async fn private_key_jwt_authenticates_a_client_once_per_assertion() {
    let key = SigningKey::generate().unwrap();
    let mut public = key.public_jwk();
    public.key_id = Some("rp-1".into());
    let (verifier, issuer) = start_with_key(
        "oidc-pkjwt",
        public,
        Some(vec!["internship_application".into()]),
    )
    .await;
    let holder = holder_of(
        &issuer,
        &["registration-certificate", "internship-eligibility"],
    );
    let (code_verifier, challenge) = pkce();
    let back = code_for(&verifier, &holder, &challenge).await;
    let code = query(&back, "code").unwrap();
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("rp-1".into());
    let now = intyg_verifier::now();
    let claims = json!({
        "iss": CLIENT, "sub": CLIENT, "aud": format!("{}/token", verifier.state.config.public_url),
        "exp": now + 60, "iat": now, "jti": "assertion-1"
    });
    let assertion = sign_compact(&header, claims.to_string().as_bytes(), &key).unwrap();
    let form = |code: &str, assertion: &str| {
        vec![
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("code".to_owned(), code.to_owned()),
            ("redirect_uri".to_owned(), REDIRECT.to_owned()),
            ("code_verifier".to_owned(), code_verifier.clone()),
            (
                "client_assertion_type".to_owned(),
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
            ),
            ("client_assertion".to_owned(), assertion.to_owned()),
        ]
    };
    let ok = verifier
        .http
        .post(format!("{}/token", verifier.url))
        .form(&form(&code, &assertion))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200, "{}", ok.text().await.unwrap());
    // The same assertion again is refused.
    let replay = verifier
        .http
        .post(format!("{}/token", verifier.url))
        .form(&form("whatever", &assertion))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 401);
    // An assertion by another key is refused.
    let other = SigningKey::generate().unwrap();
    let forged = sign_compact(
        &header,
        json!({"iss": CLIENT, "sub": CLIENT, "aud": format!("{}/token", verifier.state.config.public_url), "exp": now + 60, "jti": "assertion-2"}).to_string().as_bytes(),
        &other,
    )
    .unwrap();
    let refused = verifier
        .http
        .post(format!("{}/token", verifier.url))
        .form(&form("whatever", &forged))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
}

/// Core §9: a client assertion's `iat` may not lie in the future, nor its
/// `nbf`; it lives at most 300 s; the form's `client_id`, if any, is its
/// `iss`. Refused ones leave the code for a good one.
#[tokio::test]
async fn regression_private_key_jwt_checks_times_and_client_id() {
    let key = SigningKey::generate().unwrap();
    let public = key.public_jwk();
    let (verifier, issuer) = start_with_key("oidc-pkjwt-times", public, None).await;
    let holder = holder_of(
        &issuer,
        &["registration-certificate", "internship-eligibility"],
    );
    let (code_verifier, challenge) = pkce();
    let back = code_for(&verifier, &holder, &challenge).await;
    let code = query(&back, "code").unwrap();
    let aud = format!("{}/token", verifier.state.config.public_url);
    let now = intyg_verifier::now();
    let send = |claims: Value, client_id: Option<&str>| {
        let assertion = sign_compact(
            &Header::new(Algorithm::ES256),
            claims.to_string().as_bytes(),
            &key,
        )
        .unwrap();
        let mut form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.clone()),
            ("redirect_uri", REDIRECT.to_owned()),
            ("code_verifier", code_verifier.clone()),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
            ),
            ("client_assertion", assertion),
        ];
        if let Some(id) = client_id {
            form.push(("client_id", id.to_owned()));
        }
        verifier
            .http
            .post(format!("{}/token", verifier.url))
            .form(&form)
            .send()
    };
    let base = json!({"iss": CLIENT, "sub": CLIENT, "aud": aud});
    let with = |jti: &str, fields: Value| {
        let mut claims = base.clone();
        claims["jti"] = jti.into();
        for (name, value) in fields.as_object().unwrap() {
            claims[name] = value.clone();
        }
        claims
    };
    for (claims, client_id, what) in [
        (
            with("j1", json!({"iat": now + 120, "exp": now + 180})),
            None,
            "iat ahead",
        ),
        (
            with(
                "j2",
                json!({"iat": now, "nbf": now + 120, "exp": now + 240}),
            ),
            None,
            "nbf ahead",
        ),
        (
            with("j3", json!({"iat": now, "exp": now + 600})),
            None,
            "exp - iat > 300",
        ),
        (
            with("j4", json!({"exp": now + 600})),
            None,
            "exp far, no iat",
        ),
        (with("j5", json!({"iat": now})), None, "no exp"),
        (
            with("j6", json!({"iat": now, "exp": now + 60})),
            Some("other"),
            "client_id",
        ),
    ] {
        let response = send(claims, client_id).await.unwrap();
        assert_eq!(response.status(), 401, "{what}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client", "{what}");
    }
    let ok = send(
        with(
            "j7",
            json!({"iat": now - 30, "nbf": now + 30, "exp": now + 200}),
        ),
        Some(CLIENT),
    )
    .await
    .unwrap();
    assert_eq!(ok.status(), 200, "{}", ok.text().await.unwrap());
}

/// A disclosed personal identity number (registration certificate) or
/// personal administrative number (EUDI PID) gives a stable pairwise
/// `sub` per client, never the number. The key behind it is made once
/// even by concurrent first uses, as a private file (0600), leaving no
/// temporary file. (No built-in template asks for either number, and the
/// verifier keeps only requested claims, so the transaction of a real
/// sign-in is given one here.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regression_stable_sub_from_a_disclosed_number_with_a_private_key_file() {
    use intyg_verifier::oidc::token::pairwise_subject;

    let (verifier, issuer) = start("oidc-stable-sub", REDIRECT).await;
    let holder = holder_of(
        &issuer,
        &["registration-certificate", "internship-eligibility"],
    );
    let (link, tx, cookie) = open_authorization(&verifier, &pkce().1).await;
    let session = verifier.session_of(&link, &tx).await;
    verifier.post(&session, holder.respond(&session)).await;
    assert!(query(&done(&verifier, &tx, &cookie).await, "code").is_some());
    let transaction = verifier
        .state
        .stores
        .transactions
        .get(&tx)
        .await
        .unwrap()
        .unwrap();
    let number = "199403172381";
    let disclosing = |name: &str| {
        let mut value = serde_json::to_value(&transaction).unwrap();
        value["credentials"] = json!([{
            "query_id": "id",
            "vct": "urn:example",
            "issuer": null,
            "claims": {name: number},
            "status": null
        }]);
        serde_json::from_value(value).unwrap()
    };
    let by_registration = disclosing("personal_identity_number");
    let by_pid = disclosing("personal_administrative_number");
    let key_file = verifier.state.config.data_dir.join("oidc-pairwise.key");
    assert!(!key_file.exists());
    // Eight first uses at once agree on one key.
    let subs: Vec<String> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| pairwise_subject(&verifier.state, CLIENT, &by_registration)))
            .collect();
        runs.into_iter()
            .map(|run| run.join().unwrap().unwrap())
            .collect()
    });
    assert!(subs.iter().all(|sub| *sub == subs[0]), "{subs:?}");
    assert_ne!(subs[0], number);
    assert!(!subs[0].contains(number));
    let by_pid_sub = pairwise_subject(&verifier.state, CLIENT, &by_pid).unwrap();
    assert_eq!(
        by_pid_sub,
        pairwise_subject(&verifier.state, CLIENT, &by_pid).unwrap()
    );
    assert_ne!(
        by_pid_sub,
        pairwise_subject(&verifier.state, "another-client", &by_pid).unwrap()
    );
    // Without a number, a fresh one each time.
    assert_ne!(
        pairwise_subject(&verifier.state, CLIENT, &transaction).unwrap(),
        pairwise_subject(&verifier.state, CLIENT, &transaction).unwrap()
    );

    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(&verifier.state.config.data_dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// A relying party's callback page on loopback: answers what it got.
async fn callback_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/callback", listener.local_addr().unwrap());
    let router = axum::Router::new().route(
        "/callback",
        axum::routing::get(|| async {
            axum::response::Html("<!doctype html><title>RP</title><p id=rp>back at the RP</p>")
        }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

/// In headless Chromium the authorization page follows the presentation
/// by itself: to the client with a code after a verified one, with
/// `error=access_denied` after a decline, never hanging.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_in_headless_chromium_moves_on_when_verified_and_when_declined() {
    use fantoccini::{ClientBuilder, Locator};
    use intyg_testkit::{Chromedriver, chromium_capabilities};

    let redirect = callback_server().await;
    let (verifier, issuer) = start("oidc-browser", &redirect).await;
    let driver = Chromedriver::start().await;
    let profile = crate::TempDir::new("oidc-chromium");
    let client = ClientBuilder::rustls()
        .unwrap()
        .capabilities(chromium_capabilities(&profile.0, (1280, 1000)))
        .connect(&driver.url())
        .await
        .expect("a Chromium session through chromedriver");
    let holder = holder_of(
        &issuer,
        &["registration-certificate", "internship-eligibility"],
    );
    for decline in [false, true] {
        let (_, challenge) = pkce();
        client
            .goto(&authorize_url(&verifier.url, &redirect, &challenge))
            .await
            .unwrap();
        let link = client
            .wait()
            .at_most(std::time::Duration::from_secs(20))
            .for_element(Locator::Id("wallet-link"))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap()
            .unwrap();
        assert!(link.starts_with("openid4vp://"), "{link}");
        assert!(
            client
                .find(Locator::Css("#request-qr svg"))
                .await
                .unwrap()
                .is_displayed()
                .await
                .unwrap()
        );
        let done = client
            .find(Locator::Id("oidc"))
            .await
            .unwrap()
            .attr("data-done")
            .await
            .unwrap()
            .unwrap();
        let tx = done
            .strip_prefix("/authorize/")
            .unwrap()
            .strip_suffix("/done")
            .unwrap()
            .to_owned();
        let session = verifier.session_of(&link, &tx).await;
        if decline {
            crate::webhooks::decline(&verifier, &session).await;
        } else {
            verifier.post(&session, holder.respond(&session)).await;
        }
        client
            .wait()
            .at_most(std::time::Duration::from_secs(20))
            .for_element(Locator::Id("rp"))
            .await
            .unwrap();
        let at = client.current_url().await.unwrap();
        assert!(at.as_str().starts_with(&redirect), "{at}");
        assert_eq!(query(&at, "state").as_deref(), Some("st-1"));
        if decline {
            assert_eq!(query(&at, "error").as_deref(), Some("access_denied"));
            assert_eq!(query(&at, "code"), None);
        } else {
            assert!(query(&at, "code").is_some(), "{at}");
        }
    }
    client.close().await.unwrap();
    drop(driver);
}

/// `openidconnect` as the relying party: discovery, the authorization URL
/// with PKCE, the code exchange with `client_secret_basic`, and its own
/// ID token checks (signature by `/jwks`, `iss`, `aud`, `nonce`).
#[tokio::test]
async fn the_openidconnect_crate_signs_in_through_the_bridge() {
    use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
    use openidconnect::{
        AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
        RedirectUrl, Scope, TokenResponse as _,
    };

    let (verifier, issuer) = start("oidc-crate", REDIRECT).await;
    let holder = holder_of(
        &issuer,
        &["registration-certificate", "internship-eligibility"],
    );
    // The crate's HTTP hook, over our reqwest.
    let http = no_redirects();
    let send = |request: openidconnect::HttpRequest| {
        let http = http.clone();
        async move {
            let (parts, body) = request.into_parts();
            let response = http
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await?;
            let mut builder = axum::http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let body = response.bytes().await?.to_vec();
            Ok::<_, reqwest::Error>(builder.body(body).unwrap())
        }
    };
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(verifier.state.config.public_url.clone()).unwrap(),
        &send,
    )
    .await
    .unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(CLIENT.into()),
        Some(ClientSecret::new(SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let (challenge, code_verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("internship_application".into()))
        .set_pkce_challenge(challenge)
        .url();
    // The browser: the page, the wallet's answer, back to the client.
    // (The crate's URL points at the public URL, localhost.)
    let page = http.get(url.as_str()).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let (cookie, _) = browser_cookie(&page);
    let page = page.text().await.unwrap();
    let at = page.find("id=\"wallet-link\"").unwrap();
    let link = attribute(&page[at..], "href");
    let done_path = attribute(&page, "data-done");
    let tx = done_path
        .strip_prefix("/authorize/")
        .unwrap()
        .strip_suffix("/done")
        .unwrap()
        .to_owned();
    let session = verifier.session_of(&link, &tx).await;
    verifier.post(&session, holder.respond(&session)).await;
    let back = done(&verifier, &tx, &cookie).await;
    assert_eq!(
        query(&back, "state").as_deref(),
        Some(csrf.secret().as_str())
    );
    let code = query(&back, "code").unwrap();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(code_verifier)
        .request_async(&send)
        .await
        .unwrap();
    let id_token = tokens.id_token().unwrap();
    let claims = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .unwrap();
    assert_eq!(claims.audiences()[0].as_str(), CLIENT);
    assert!(!claims.subject().as_str().is_empty());
    let payload: Value = serde_json::from_slice(
        &intyg_core::jose::b64url_decode(id_token.to_string().split('.').nth(1).unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(payload["registration_status"], "in_programme");
}

/// A relying party that could never work is refused when the
/// configuration is loaded, naming the client and the problem: scopes that
/// name no template, no way to authenticate, redirect URIs that are not
/// absolute http(s) URLs or carry a fragment, a duplicate client id.
#[test]
fn regression_oidc_clients_that_cannot_work_are_refused_at_startup() {
    let dir = crate::TempDir::new("oidc-config");
    let path = dir.0.join("verifier.toml");
    let load = |clients: &str| {
        let text = format!(
            "public_url = \"http://localhost:1\"\nlisten = \"127.0.0.1:1\"\ndata_dir = {:?}\ndev = true\n{clients}",
            dir.0
        );
        std::fs::write(&path, text).unwrap();
        intyg_verifier::config::Config::load(&path)
    };
    let client = |id: &str, lines: &[&str]| {
        format!(
            "\n[[oidc_clients]]\nclient_id = \"{id}\"\n{}\n",
            lines.join("\n")
        )
    };
    let secret = "client_secret = \"a long random secret\"";
    let redirect = "redirect_uris = [\"https://ats.example/callback\"]";
    let good = client(
        "ats",
        &[secret, redirect, "scopes = [\"internship_application\"]"],
    );
    let config = load(&good).unwrap();
    assert_eq!(config.oidc_clients.len(), 1);
    for (clients, expected) in [
        (
            client("ats", &[secret, redirect, "scopes = [\"payroll\"]"]),
            "\"payroll\" names no template",
        ),
        (
            client(
                "ats",
                &[secret, redirect, "scopes = [\"internship-application\"]"],
            ),
            "names no template",
        ),
        (
            client("ats", &[redirect]),
            "neither a client_secret nor jwks",
        ),
        (
            client("ats", &[secret, "redirect_uris = [\"/callback\"]"]),
            "\"/callback\" must be an absolute http or https URL",
        ),
        (
            client(
                "ats",
                &[secret, "redirect_uris = [\"https://ats.example/cb#top\"]"],
            ),
            "without a fragment",
        ),
        (
            client(
                "ats",
                &[secret, "redirect_uris = [\"javascript:alert(1)\"]"],
            ),
            "absolute http or https URL",
        ),
        (
            client("ats", &[secret, "redirect_uris = []"]),
            "redirect_uris is empty",
        ),
        (
            format!("{good}{}", client("ats", &[secret, redirect])),
            "another client has the same client_id",
        ),
    ] {
        let error = load(&clients).unwrap_err().to_string();
        assert!(error.contains("client_id = \"ats\""), "{error}");
        assert!(error.contains(expected), "{expected}: {error}");
    }
    assert!(OidcClient::from_flag("ats:secret:/callback").is_err());
    assert!(OidcClient::from_flag("ats:secret:http://127.0.0.1:9/callback").is_ok());
}

/// The binary checks the clients of its flags with those of the file: one
/// id given twice stops it with a message naming the client.
#[test]
fn a_client_id_given_twice_on_the_command_line_stops_the_verifier() {
    let dir = crate::TempDir::new("oidc-flags");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_intyg-verifier"))
        .args(["--dev", "--data-dir"])
        .arg(&dir.0)
        .args(["--listen", "127.0.0.1:0"])
        .args(["--oidc-client", "ats:one-secret:http://127.0.0.1:9/a"])
        .args(["--oidc-client", "ats:another-secret:http://127.0.0.1:9/b"])
        .env_remove("INTYG_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("client_id = \"ats\""), "{stderr}");
    assert!(
        stderr.contains("another client has the same client_id"),
        "{stderr}"
    );
}

/// The OpenID Provider endpoints are in the OpenAPI document the verifier
/// serves, with the methods they answer.
#[tokio::test]
async fn the_openapi_document_describes_the_openid_provider() {
    let (verifier, _issuer) = start("oidc-openapi", REDIRECT).await;
    let openapi = verifier.get_json("/openapi.json").await;
    for (path, methods) in [
        ("/.well-known/openid-configuration", &["get"][..]),
        ("/authorize", &["get", "post"]),
        ("/authorize/{tx}/done", &["get"]),
        ("/token", &["post"]),
        ("/userinfo", &["get", "post"]),
        ("/jwks", &["get"]),
    ] {
        for method in methods {
            assert!(
                openapi["paths"][path][method].is_object(),
                "{method} {path} not documented"
            );
        }
    }
    let token = &openapi["paths"]["/token"]["post"]["responses"]["401"];
    assert!(token["headers"]["WWW-Authenticate"].is_object());
}

/// A failure of the verifier itself after the client and its redirect URI
/// were checked goes back to the client as `error=server_error` (with
/// `state`), not as a JSON error in the browser: here the transactions
/// table is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regression_a_server_failure_at_authorize_goes_back_as_server_error() {
    let url = intyg_testkit::TestPg::cluster()
        .database("verifier_oidc_server_error")
        .await;
    let flag = format!("{CLIENT}:{SECRET}:{REDIRECT}");
    let database = url.clone();
    let verifier = Verifier::start("oidc-server-error", move |config| {
        config.database_url = Some(database);
        config
            .oidc_clients
            .push(OidcClient::from_flag(&flag).unwrap());
    })
    .await;
    let pg = intyg_service::pg::Pg::connect(&intyg_service::pg::PgConfig::new(url)).unwrap();
    pg.execute(
        "ALTER TABLE verifier_transactions RENAME TO verifier_transactions_gone",
        &[],
    )
    .await
    .unwrap();
    let response = no_redirects()
        .get(authorize_url(&verifier.url, REDIRECT, &pkce().1))
        .send()
        .await
        .unwrap();
    let (error, state) = refused(&response);
    assert_eq!(error, "server_error");
    assert_eq!(state.as_deref(), Some("st-1"));
    let back = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let description = query(&back, "error_description").unwrap();
    assert!(
        !description.contains("verifier_transactions"),
        "{description}"
    );
}

/// Every file under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// A code or an access token holds no claim value: the claims stay
/// sealed with the presentation and are read from it when a token or
/// `/userinfo` is served. Once retention has deleted them, `/userinfo`
/// has only `sub`; expired grants are purged.
#[tokio::test]
async fn grants_hold_no_claim_and_lose_them_with_the_presentation() {
    let flag = format!("{CLIENT}:{SECRET}:{REDIRECT}");
    let verifier = Verifier::start("oidc-grants", move |config| {
        config
            .oidc_clients
            .push(OidcClient::from_flag(&flag).unwrap());
        config.retention_seconds = 0;
        config.purge_interval_ms = 3_600_000;
    })
    .await;
    let issuer = TestIssuer::start().await;
    verifier.trust(&issuer);
    let holder = holder_of(
        &issuer,
        &["registration-certificate", "internship-eligibility"],
    );
    let (code_verifier, challenge) = pkce();
    let code = query(&code_for(&verifier, &holder, &challenge).await, "code").unwrap();
    let tokens = redeem(&verifier, &code, &code_verifier).await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let userinfo = || {
        verifier
            .http
            .get(format!("{}/userinfo", verifier.url))
            .bearer_auth(&access)
            .send()
    };
    let claims: Value = userinfo().await.unwrap().json().await.unwrap();
    assert_eq!(claims["family_name"], "Lindqvist", "{claims}");

    verifier.state.stores.durable().await.unwrap();
    for file in files_under(&verifier.state.config.data_dir) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes.windows(9).any(|w| w == b"Lindqvist"),
            "{} holds a claim value in clear",
            file.display()
        );
    }

    let purged = intyg_verifier::ops::purge_expired_claims(&verifier.state)
        .await
        .unwrap();
    assert_eq!(purged, 1);
    let claims: Value = userinfo().await.unwrap().json().await.unwrap();
    assert_eq!(
        claims.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["sub"],
        "{claims}"
    );

    let grants = &verifier.state.stores.grants;
    assert_eq!(
        grants.purge_expired(intyg_verifier::now()).await.unwrap(),
        0
    );
    // The access token and the link from its used code.
    let later = intyg_verifier::now() + 86_400;
    assert_eq!(grants.purge_expired(later).await.unwrap(), 2);
    assert_eq!(userinfo().await.unwrap().status(), 401);
}
