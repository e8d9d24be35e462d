//! The employer portal over a real loopback socket: sign-in, CSRF,
//! postings, applicant sessions with their QR code, the status fragment
//! before and after a presentation (verified, failed with its reason,
//! declined), claim labels from the type metadata in Swedish and English;
//! and a headless Chromium in which the page turns to "verified" without a
//! reload while a test holder presents.

use std::time::Duration;

use argon2::password_hash::{PasswordHasher as _, SaltString};
use intyg_core::jose::SigningKey;
use intyg_core::oid4vp::{
    AuthorizationErrorResponse, AuthorizationRequest, DirectPostBody, ErrorCode, Invocation,
    RequestObjectSource,
};
use intyg_core::trust::{TrustAnchors, authenticate_request_object};
use intyg_testkit::{
    Chromedriver, Fetch, PortalBrowser, audit_page, audit_page_in_both_languages,
    chromium_capabilities,
};
use intyg_verifier::config::Employer;
use intyg_verifier::portal::{DEV_EMPLOYER, DEV_PASSWORD};
use intyg_verifier::{now, store::Posting};
use reqwest::StatusCode;
use serde_json::Value;

use crate::flow::Holder;
use crate::{REVOKED, Session, TempDir, TestIssuer, VALID, Verifier, example};

const EMPLOYER: &str = "rekryterare";
const PASSWORD: &str = "korrekt hästbatteri";

/// A verifier with the dev employer and a test employer whose hash is
/// cheap, so that the tests do not spend seconds in argon2; and a trusted
/// test issuer.
async fn start(name: &str) -> (Verifier, TestIssuer) {
    let cheap = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(8, 1, 1, None).unwrap(),
    );
    let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
    let password_hash = cheap
        .hash_password(PASSWORD.as_bytes(), &salt)
        .unwrap()
        .to_string();
    let verifier = Verifier::start(name, |config| {
        config.portal.employers.push(Employer {
            username: EMPLOYER.into(),
            password_hash,
            name: "Rut Rekryterare".into(),
        });
    })
    .await;
    let issuer = TestIssuer::start().await;
    verifier.trust(&issuer);
    (verifier, issuer)
}

/// The employer portal's own steps.
trait EmployerSteps {
    /// The status fragment of a session page's path, as JSON.
    async fn status(&mut self, session_path: &str) -> Value;

    /// Signs in as the test employer; returns the session's CSRF token.
    async fn signed_in(&mut self) -> String;

    /// Creates a posting; returns its path.
    async fn posting(&mut self, csrf: &str) -> String;

    /// Opens an applicant session; returns the session page's path.
    async fn applicant_session(&mut self, csrf: &str, posting: &str) -> String;
}

impl EmployerSteps for PortalBrowser {
    async fn status(&mut self, session_path: &str) -> Value {
        let page = self.get(&format!("{session_path}/status")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert_eq!(page.headers["cache-control"], "no-store");
        serde_json::from_str(&page.body).unwrap()
    }

    async fn signed_in(&mut self) -> String {
        let done = self.sign_in(EMPLOYER, PASSWORD).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        self.get("/portal").await.hidden("csrf")
    }

    async fn posting(&mut self, csrf: &str) -> String {
        let created = self
            .post(
                "/portal/postings",
                &[
                    ("csrf", csrf),
                    ("title", "Praktik som lagerarbetare"),
                    ("description", "Tolv veckor på vårt lager i Malmö."),
                    ("purpose", "Pröva din ansökan om praktik på lagret"),
                ],
            )
            .await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
        let location = created.location();
        location.split('?').next().unwrap().to_owned()
    }

    async fn applicant_session(&mut self, csrf: &str, posting: &str) -> String {
        let opened = self
            .post(&format!("{posting}/sessions"), &[("csrf", csrf)])
            .await;
        assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
        opened.location().to_owned()
    }
}

/// The wallet's side of a link shown by the portal: fetch and authenticate
/// the request object against `DIR/ca.pem`.
async fn wallet_session(verifier: &Verifier, link: &str) -> Session {
    assert!(link.starts_with("openid4vp://?"), "{link}");
    let Invocation::ByReference(reference) = AuthorizationRequest::from_uri(link).unwrap() else {
        panic!("requests go by reference");
    };
    let RequestObjectSource::Uri { request_uri, .. } = &reference.source else {
        panic!("request_uri expected");
    };
    let id = request_uri.rsplit('/').next().unwrap().to_owned();
    let jwt = verifier.http.get(request_uri).fetch_text().await;
    let anchors =
        TrustAnchors::from_pem(&std::fs::read_to_string(verifier.dir.0.join("ca.pem")).unwrap())
            .unwrap();
    let authenticated =
        authenticate_request_object(&jwt, &reference.client_id, &anchors, None, now()).unwrap();
    Session {
        id,
        request: authenticated.request,
    }
}

/// A holder of a registration certificate (status entry `idx`) and an
/// internship eligibility.
pub(crate) fn holder(issuer: &TestIssuer, registration_idx: u32) -> Holder {
    let key = SigningKey::generate().unwrap();
    let credentials = [
        ("registration-certificate", registration_idx),
        ("internship-eligibility", VALID),
    ]
    .into_iter()
    .map(|(kind, idx)| {
        (
            kind.to_owned(),
            issuer.issue(kind, example(kind), &key, idx, |_| {}),
        )
    })
    .collect();
    Holder { key, credentials }
}

#[tokio::test]
async fn portal_sign_in_fails_then_succeeds() {
    let (verifier, _issuer) = start("portal-sign-in").await;
    let mut browser = PortalBrowser::new(&verifier.url);
    let root = browser.get("/").await;
    assert_eq!(root.location(), "/portal");
    let home = browser.get("/portal").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.location(), "/portal/login");

    let wrong = browser.sign_in(EMPLOYER, "fel lösenord").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Fel användarnamn eller lösenord."));
    let unknown = browser.sign_in("ingen-alls", PASSWORD).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);

    let ok = browser.sign_in(EMPLOYER, PASSWORD).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.location(), "/portal");
    let session = browser
        .set_cookies
        .iter()
        .find(|c| c.starts_with("intyg_employer=") && !c.starts_with("intyg_employer=;"))
        .unwrap();
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Strict"), "{session}");
    assert!(session.contains("Path=/portal"), "{session}");
    let home = browser.get("/portal").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Rut Rekryterare"));
    assert!(home.body.contains("Det finns inga annonser ännu."));
    assert_eq!(home.headers["cache-control"], "no-store");
    let csp = home.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");

    let csrf = home.hidden("csrf");
    let out = browser.post("/portal/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.location(), "/portal/login");
    assert_eq!(browser.get("/portal").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn portal_dev_employer_signs_in() {
    let (verifier, _issuer) = start("portal-dev-employer").await;
    let mut browser = PortalBrowser::new(&verifier.url);
    let password =
        std::env::var("INTYG_EMPLOYER_PASSWORD").unwrap_or_else(|_| DEV_PASSWORD.to_owned());
    let ok = browser.sign_in(DEV_EMPLOYER, &password).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
}

#[tokio::test]
async fn portal_rejects_posts_without_the_csrf_token() {
    let (verifier, _issuer) = start("portal-csrf").await;
    let mut browser = PortalBrowser::new(&verifier.url);
    // Sign-in form: no double-submit cookie, no entry.
    let forged = browser
        .post(
            "/portal/login",
            &[
                ("csrf", "x"),
                ("username", EMPLOYER),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(!browser.cookies.contains_key("intyg_employer"));

    let csrf = browser.signed_in().await;
    let posting = [
        ("title", "Praktik"),
        ("description", "Beskrivning"),
        ("purpose", "Syfte"),
    ];
    let wrong = browser
        .post(
            "/portal/postings",
            &[("csrf", "fel"), posting[0], posting[1], posting[2]],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(wrong.body.contains("Formuläret har gått ut"));
    let missing = browser.post("/portal/postings", &posting).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
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

    // Nor does a session open without it.
    let path = browser.posting(&csrf).await;
    let forged = browser
        .post(&format!("{path}/sessions"), &[("csrf", "forged")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let id = path.rsplit('/').next().unwrap();
    assert!(
        verifier
            .state
            .stores
            .postings
            .applications(id)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn portal_creates_a_posting() {
    let (verifier, _issuer) = start("portal-posting").await;
    let mut browser = PortalBrowser::new(&verifier.url);
    let csrf = browser.signed_in().await;
    let form = browser.get("/portal/postings/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("<label for=\"posting-title\">"));
    // The purpose comes prefilled.
    assert!(form.text("posting-purpose").contains("arbetspraktik"));

    let invalid = browser
        .post(
            "/portal/postings",
            &[
                ("csrf", &csrf),
                ("title", "   "),
                ("description", "Lager"),
                ("purpose", &"x".repeat(501)),
            ],
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    let title = invalid.tag("posting-title");
    assert!(title.contains("aria-invalid=\"true\""), "{title}");
    assert!(
        title.contains("aria-describedby=\"posting-title-error\""),
        "{title}"
    );
    assert_eq!(
        invalid.text("posting-title-error"),
        "Fältet är obligatoriskt."
    );
    assert_eq!(
        invalid.text("posting-purpose-error"),
        "Skriv högst 500 tecken."
    );
    assert!(invalid.body.contains("role=\"alert\""));
    // What was typed stays.
    assert!(invalid.text("posting-description").contains("Lager"));
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

    let path = browser.posting(&csrf).await;
    let page = browser.get(&format!("{path}?created=1")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<h1>Praktik som lagerarbetare</h1>"));
    assert!(page.body.contains("Annonsen är skapad."));
    assert!(page.body.contains("Inga ansökningar ännu."));
    let stored: Vec<Posting> = verifier.state.stores.postings.all().await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].created_by, EMPLOYER);
    assert_eq!(path, format!("/portal/postings/{}", stored[0].id));
    let home = browser.get("/portal").await;
    assert!(home.body.contains(&format!("href=\"{path}\"")));

    assert_eq!(
        browser.get("/portal/postings/nope").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn portal_language_switch_after_a_failed_posting_keeps_the_page() {
    let (verifier, _issuer) = start("portal-posting-relang").await;
    let mut browser = PortalBrowser::new(&verifier.url);
    let csrf = browser.signed_in().await;
    let failed = browser
        .post(
            "/portal/postings",
            &[
                ("csrf", &csrf),
                ("title", " "),
                ("description", "Tre månader\ni Malmö"),
                ("purpose", "Ansökan om arbetspraktik"),
            ],
        )
        .await;
    assert_eq!(failed.status, StatusCode::UNPROCESSABLE_ENTITY);
    let english = browser.switch_language(&failed).await;
    assert_eq!(
        english.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        english.body
    );
    assert!(english.body.contains("<html lang=\"en\">"));
    assert_eq!(
        english.text("posting-title-error"),
        "This field is required."
    );
    assert_eq!(english.text("posting-description"), "Tre månader\ni Malmö");
    // A GET of the form's path is never a 405.
    let get = browser.get("/portal/postings?lang=sv").await;
    assert_eq!(get.status, StatusCode::SEE_OTHER);
    assert_eq!(get.location(), "/portal");
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
}

#[tokio::test]
async fn portal_refuses_an_escape_character_in_a_purpose() {
    let (verifier, _issuer) = start("portal-purpose-escape").await;
    let mut browser = PortalBrowser::new(&verifier.url);
    let csrf = browser.signed_in().await;
    let typed = "Ansökan\u{1b}[31m om arbetspraktik";
    let refused = browser
        .post(
            "/portal/postings",
            &[
                ("csrf", &csrf),
                ("title", "Lagerassistent"),
                ("description", "Tre månader\ni Malmö"),
                ("purpose", typed),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.text("posting-purpose-error"),
        "Texten innehåller ett tecken som inte är tillåtet (U+001B)."
    );
    assert!(refused.body.contains("href=\"#posting-purpose\""));
    assert!(!refused.body.contains("id=\"posting-description-error\""));
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
}

#[tokio::test]
async fn portal_session_turns_verified_with_labels_in_both_languages() {
    let (verifier, issuer) = start("portal-verified").await;
    let mut browser = PortalBrowser::new(&verifier.url);
    let csrf = browser.signed_in().await;
    let posting = browser.posting(&csrf).await;
    let path = browser.applicant_session(&csrf, &posting).await;
    assert!(path.starts_with(&format!("{posting}/sessions/")), "{path}");

    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    let qr_at = page.body.find("id=\"request-qr\"").unwrap();
    assert!(page.body[qr_at..].contains("<svg"));
    assert!(page.tag("request-qr").contains("role=\"img\""));
    let status = page.tag("status");
    assert!(status.contains("aria-live=\"polite\""), "{status}");
    assert!(status.contains("role=\"status\""), "{status}");
    assert_eq!(page.text("status-text"), "Väntar på den sökande");
    assert!(page.body.contains("<script src=\"/portal/portal.js\""));

    // The request is the template's, with the posting's purpose.
    let session = wallet_session(&verifier, &page.href("wallet-link")).await;
    assert!(path.ends_with(&session.id));
    let transaction = verifier
        .state
        .stores
        .transactions
        .get(&session.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        transaction.purpose,
        "Pröva din ansökan om praktik på lagret"
    );
    assert_eq!(
        transaction.template.as_deref(),
        Some("internship-application")
    );

    let before = browser.status(&path).await;
    assert_eq!(before["state"], "pending");
    assert_eq!(before["final"], false);
    assert!(
        before["status_html"]
            .as_str()
            .unwrap()
            .contains("Väntar på den sökande")
    );
    assert_eq!(before["result_html"], "");

    let holder = holder(&issuer, VALID);
    let response = verifier.post(&session, holder.respond(&session)).await;
    assert_eq!(response.status(), 200);

    let after = browser.status(&path).await;
    assert_eq!(after["state"], "verified");
    assert_eq!(after["final"], true);
    assert!(
        after["status_html"]
            .as_str()
            .unwrap()
            .contains("Verifierad")
    );
    let result = after["result_html"].as_str().unwrap();
    for swedish in [
        "Verifierade intyg",
        "Inskrivningsintyg",
        "Rätt till arbetspraktik",
        "Inskrivningsstatus",
        "Högst timmar per vecka",
        "Giltigt (kontrollerat mot utfärdarens statuslista)",
        "Deltar i program",
        "Karin Elisabet",
    ] {
        assert!(result.contains(swedish), "{swedish} in {result}");
    }
    // Words, not codes: enumerated values come from the type metadata.
    assert!(!result.contains("in_programme"), "{result}");
    // The issuer by the name its metadata gives (none configured here),
    // not its host, and its identifier.
    let issuer_shown = format!(
        "Arbetsförmedlingen (test) <span class=\"iss\">({})</span>",
        issuer.iss
    );
    assert!(result.contains(&issuer_shown), "{result}");
    assert!(!result.contains("127.0.0.1 <span"), "{result}");
    assert!(!result.contains("max_hours_per_week"), "labelled, not raw");

    // English, chosen with ?lang=en and kept.
    let english = browser.get(&format!("{path}?lang=en")).await;
    assert!(english.body.contains("<html lang=\"en\">"));
    assert_eq!(english.text("status-text"), "Verified");
    assert!(english.tag("invitation").contains("hidden"));
    let after = browser.status(&path).await;
    let result = after["result_html"].as_str().unwrap();
    for english in [
        "Verified credentials",
        "Registration status",
        "Maximum hours per week",
        "Internship eligibility",
        "Valid (checked against the issuer's status list)",
        "In a labour-market programme",
        "Swedish Public Employment Service (test)",
    ] {
        assert!(result.contains(english), "{english} in {result}");
    }

    // The posting lists the application with the disclosed name.
    let listed = browser.get(&format!("{posting}?lang=sv")).await;
    assert!(listed.body.contains("Karin Elisabet Lindqvist"));
    assert!(listed.body.contains("Verifierad"));
    assert!(listed.body.contains(&format!("href=\"{path}\"")));
}

#[tokio::test]
async fn portal_session_shows_the_failure_reason_and_a_decline() {
    let (verifier, issuer) = start("portal-failed").await;
    let mut browser = PortalBrowser::new(&verifier.url);
    let csrf = browser.signed_in().await;
    let posting = browser.posting(&csrf).await;

    // A revoked registration certificate.
    let path = browser.applicant_session(&csrf, &posting).await;
    let page = browser.get(&path).await;
    let session = wallet_session(&verifier, &page.href("wallet-link")).await;
    let response = verifier
        .post(&session, holder(&issuer, REVOKED).respond(&session))
        .await;
    assert_eq!(response.status(), 400);
    let failed = browser.status(&path).await;
    assert_eq!(failed["state"], "failed");
    assert_eq!(failed["final"], true);
    let html = failed["status_html"].as_str().unwrap();
    assert!(html.contains("Misslyckades"), "{html}");
    assert!(
        html.contains("Intyget är återkallat av utfärdaren."),
        "{html}"
    );
    assert!(html.contains("<code>revoked</code>"), "{html}");
    assert_eq!(failed["result_html"], "");
    let english = browser.get(&format!("{path}?lang=en")).await;
    assert_eq!(
        english.text("status-reason"),
        "The credential has been revoked by its issuer."
    );
    // Which of the two credentials failed, by its type's name.
    assert_eq!(
        english.text("status-credential"),
        "Credential not accepted: Registration certificate"
    );

    // A wallet without one of the credentials: not a decline.
    let path = browser.applicant_session(&csrf, &posting).await;
    let page = browser.get(&path).await;
    let session = wallet_session(&verifier, &page.href("wallet-link")).await;
    let body = DirectPostBody::Error(
        intyg_core::oid4vp::Denial::NoMatchingCredential(vec!["eligibility".into()])
            .error_response(session.request.state.clone()),
    )
    .to_form();
    assert_eq!(verifier.post(&session, body).await.status(), 200);
    let missing = browser.status(&path).await;
    assert_eq!(missing["state"], "no_matching_credential");
    let html = missing["status_html"].as_str().unwrap();
    assert!(html.contains("No matching credential"), "{html}");
    assert!(!html.contains("declined to share"), "{html}");
    let english = browser.get(&path).await;
    let text = english.text("status-missing");
    assert!(text.contains("did not decline"), "{text}");
    assert!(text.ends_with("Missing: Internship eligibility."), "{text}");
    let swedish = browser.get(&format!("{path}?lang=sv")).await;
    assert!(swedish.body.contains("Inget passande intyg"));
    assert!(
        swedish
            .text("status-missing")
            .ends_with("Saknas: Rätt till arbetspraktik.")
    );
    browser.get(&format!("{path}?lang=en")).await;

    // A decline.
    let path = browser.applicant_session(&csrf, &posting).await;
    let page = browser.get(&path).await;
    let session = wallet_session(&verifier, &page.href("wallet-link")).await;
    let body = DirectPostBody::Error(AuthorizationErrorResponse {
        error: ErrorCode::AccessDenied,
        error_description: None,
        state: session.request.state.clone(),
    })
    .to_form();
    assert_eq!(verifier.post(&session, body).await.status(), 200);
    let declined = browser.status(&path).await;
    assert_eq!(declined["state"], "declined");
    assert!(
        declined["status_html"]
            .as_str()
            .unwrap()
            .contains("The applicant declined to share their data.")
    );

    let listed = browser.get(&format!("{posting}?lang=sv")).await;
    assert!(listed.body.contains("Misslyckades"));
    assert!(listed.body.contains("Avböjd"));

    // A session belongs to its posting; unknown ones are not found.
    let other = browser.posting(&csrf).await;
    let id = path.rsplit('/').next().unwrap();
    assert_eq!(
        browser
            .get(&format!("{other}/sessions/{id}/status"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        browser
            .get(&format!("{posting}/sessions/nope"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Signed out, the fragment is not served.
    let mut stranger = PortalBrowser::new(&verifier.url);
    let refused = stranger.get(&format!("{path}/status")).await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    assert_eq!(refused.location(), "/portal/login");
}

#[tokio::test]
async fn portal_in_headless_chromium_turns_verified_without_a_reload() {
    use fantoccini::{ClientBuilder, Locator};

    let (verifier, issuer) = start("portal-browser").await;
    let driver = Chromedriver::start().await;
    let profile = TempDir::new("chromium-profile");
    let client = ClientBuilder::rustls()
        .unwrap()
        .capabilities(chromium_capabilities(&profile.0, (1280, 1600)))
        .connect(&driver.url())
        .await
        .expect("a Chromium session through chromedriver");
    let wait = |locator: &'static str| {
        client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(locator))
    };
    let target = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));

    // Sign in as the development employer.
    client.goto(&format!("{}/", verifier.url)).await.unwrap();
    let password =
        std::env::var("INTYG_EMPLOYER_PASSWORD").unwrap_or_else(|_| DEV_PASSWORD.to_owned());
    // axe-core (WCAG 2.1 A/AA) and reflow on every page, sv and en, at 1280
    // and 320 px; screenshots in <target>/portal-screenshots/.
    wait("#username").await.unwrap();
    audit_page_in_both_languages(&client, "verifier-login").await;
    wait("#username")
        .await
        .unwrap()
        .send_keys(DEV_EMPLOYER)
        .await
        .unwrap();
    client
        .find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(&password)
        .await
        .unwrap();
    client
        .find(Locator::Css("main button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // Create a posting; the purpose comes prefilled.
    wait("#new-posting").await.unwrap();
    audit_page_in_both_languages(&client, "verifier-home").await;
    wait("#new-posting").await.unwrap().click().await.unwrap();
    wait("#posting-title").await.unwrap();
    audit_page_in_both_languages(&client, "verifier-new-posting").await;
    wait("#posting-title")
        .await
        .unwrap()
        .send_keys("Praktik på lagret")
        .await
        .unwrap();
    client
        .find(Locator::Id("posting-description"))
        .await
        .unwrap()
        .send_keys("Tolv veckor, heltid, Malmö.")
        .await
        .unwrap();
    client
        .find(Locator::Css("main form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // Open an applicant session: the QR code and the same-device link.
    wait("#new-session").await.unwrap();
    audit_page_in_both_languages(&client, "verifier-posting").await;
    let posting_url = client.current_url().await.unwrap();
    wait("#new-session").await.unwrap().click().await.unwrap();
    wait("#request-qr svg").await.unwrap();
    audit_page_in_both_languages(&client, "verifier-session-waiting").await;
    let qr = wait("#request-qr svg").await.unwrap();
    client.find(Locator::Css("html[lang=sv]")).await.unwrap();
    assert!(qr.is_displayed().await.unwrap(), "the QR code is visible");
    let size: Value = client
        .execute(
            "const r = arguments[0].getBoundingClientRect(); return [r.width, r.height];",
            vec![serde_json::to_value(&qr).unwrap()],
        )
        .await
        .unwrap();
    assert!(size[0].as_f64().unwrap() >= 200.0, "{size}");
    let status = client.find(Locator::Id("status-text")).await.unwrap();
    assert_eq!(status.text().await.unwrap(), "Väntar på den sökande");
    let link = client
        .find(Locator::Id("wallet-link"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    std::fs::write(
        target.join("verifier-portal-waiting.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();
    // A marker that a reload would wipe.
    client
        .execute(
            "window.intygMarker = 'still the same page'; return null;",
            vec![],
        )
        .await
        .unwrap();

    // The holder scans (here: follows the link) and presents.
    let session = wallet_session(&verifier, &link).await;
    let holder = holder(&issuer, VALID);
    let response = verifier.post(&session, holder.respond(&session)).await;
    assert_eq!(response.status(), 200);

    // The page turns to verified by itself.
    let verified = wait("#status .state-verified").await.unwrap();
    assert_eq!(verified.text().await.unwrap(), "Verifierad");
    let marker: Value = client
        .execute("return window.intygMarker || null;", vec![])
        .await
        .unwrap();
    assert_eq!(marker, "still the same page", "the page was reloaded");
    // It followed the session's Server-Sent Events, not the polled status.
    let fetched: Value = client
        .execute(
            "return performance.getEntriesByType('resource').map(function (e) { return e.name; });",
            vec![],
        )
        .await
        .unwrap();
    let fetched: Vec<&str> = fetched
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        fetched.iter().any(|url| url.ends_with("/events")),
        "{fetched:?}"
    );
    assert!(
        !fetched.iter().any(|url| url.ends_with("/status")),
        "{fetched:?}"
    );
    let result = client.find(Locator::Id("result")).await.unwrap();
    let text = result.text().await.unwrap();
    assert!(text.contains("Högst timmar per vecka"), "{text}");
    assert!(text.contains("Inskrivningsstatus"), "{text}");
    assert!(text.contains("Karin Elisabet"), "{text}");
    let invitation = client.find(Locator::Id("invitation")).await.unwrap();
    assert!(
        !invitation.is_displayed().await.unwrap(),
        "the QR code is hidden once answered"
    );

    let screenshot = client.screenshot().await.unwrap();
    let path = target.join("verifier-portal-verified.png");
    std::fs::write(&path, screenshot).unwrap();
    eprintln!("screenshot: {}", path.display());
    audit_page(&client, "verifier-session-verified-live").await;
    audit_page_in_both_languages(&client, "verifier-session-verified").await;
    // A revoked credential: the failure and its reason.
    client.goto(posting_url.as_str()).await.unwrap();
    wait("#new-session").await.unwrap().click().await.unwrap();
    let link = wait("#wallet-link")
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let session = wallet_session(&verifier, &link).await;
    verifier
        .post(
            &session,
            super::portal::holder(&issuer, REVOKED).respond(&session),
        )
        .await;
    wait("#status .state-failed").await.unwrap();
    audit_page_in_both_languages(&client, "verifier-session-failed").await;
    // The accessibility statement and an error page.
    client
        .goto(&format!("{}/portal/accessibility", verifier.url))
        .await
        .unwrap();
    audit_page_in_both_languages(&client, "verifier-accessibility").await;
    client
        .goto(&format!("{}/portal/trust-lists", verifier.url))
        .await
        .unwrap();
    audit_page_in_both_languages(&client, "verifier-trust-lists").await;
    client
        .goto(&format!("{}/portal/postings/no-such-posting", verifier.url))
        .await
        .unwrap();
    audit_page_in_both_languages(&client, "verifier-not-found").await;
    client.close().await.unwrap();
    drop(driver);
}

#[tokio::test]
async fn portal_accessibility_statement_is_public_and_linked_from_every_page() {
    let (verifier, _issuer) = start("portal-a11y-statement").await;
    let anonymous = reqwest::Client::new();
    let sv = anonymous
        .get(format!("{}/portal/accessibility?lang=sv", verifier.url))
        .fetch_text()
        .await;
    assert!(sv.contains("<html lang=\"sv\">"), "{sv}");
    assert!(sv.contains("Tillgänglighetsredogörelse"));
    assert!(sv.contains("2018:1937"));
    // The default feedback address when the configuration names none.
    assert!(sv.contains(&format!(
        "href=\"mailto:{}\"",
        intyg_service::portal::statement::DEFAULT_FEEDBACK_EMAIL
    )));
    assert!(sv.contains("Myndigheten för digital förvaltning (DIGG)"));
    let en = anonymous
        .get(format!("{}/portal/accessibility?lang=en", verifier.url))
        .fetch_text()
        .await;
    assert!(en.contains("<html lang=\"en\">"));
    assert!(en.contains("Known shortcomings"));

    let mut browser = PortalBrowser::new(&verifier.url);
    let footer = "<footer><a href=\"/portal/accessibility?lang=sv\">Tillgänglighetsredogörelse</a>";
    assert!(browser.get("/portal/login").await.body.contains(footer));
    browser.sign_in(EMPLOYER, PASSWORD).await;
    assert!(browser.get("/portal").await.body.contains(footer));
    assert!(
        browser
            .get("/portal/postings/new")
            .await
            .body
            .contains(footer)
    );
    let missing = browser.get("/portal/postings/no-such-posting").await;
    assert!(missing.body.contains(footer), "{}", missing.body);
}

#[tokio::test]
async fn employer_portal_throttles_guessing_without_locking_out_the_user_elsewhere() {
    let (verifier, _issuer) = start("portal-throttle").await;
    let mut attacker = PortalBrowser::from_address(&verifier.url, "127.0.0.2".parse().unwrap());
    let mut refused = 0;
    let held = loop {
        let page = attacker.sign_in(EMPLOYER, "gissning").await;
        if page.status == StatusCode::TOO_MANY_REQUESTS {
            break page;
        }
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        refused += 1;
        assert!(refused < 12, "never throttled");
    };
    assert!(refused >= 5, "{refused}");
    assert!(held.headers.contains_key("retry-after"));
    let message = held.text("login-error");
    assert!(
        message.starts_with("För många misslyckade försök. Försök igen om "),
        "{message}"
    );
    let mut employer = PortalBrowser::from_address(&verifier.url, "127.0.0.3".parse().unwrap());
    let ok = employer.sign_in(EMPLOYER, PASSWORD).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
}

#[tokio::test]
async fn employer_portal_sends_security_headers_and_strict_cookies() {
    let (verifier, _issuer) = start("portal-headers").await;
    let mut browser = PortalBrowser::new(&verifier.url);
    let login = browser.get("/portal/login?lang=en").await;
    let csp = login.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert_eq!(login.headers["x-content-type-options"], "nosniff");
    assert_eq!(login.headers["x-frame-options"], "DENY");
    assert_eq!(login.headers["referrer-policy"], "no-referrer");
    assert_eq!(login.headers["cache-control"], "no-store");
    let ok = browser.sign_in(EMPLOYER, PASSWORD).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let cookies: Vec<&str> = login
        .headers
        .get_all("set-cookie")
        .iter()
        .chain(ok.headers.get_all("set-cookie"))
        .map(|c| c.to_str().unwrap())
        .collect();
    assert!(cookies.len() >= 3, "{cookies:?}");
    for cookie in cookies {
        assert!(
            cookie.contains("; Path=/portal") && cookie.contains("; HttpOnly; SameSite=Strict"),
            "{cookie}"
        );
        assert!(!cookie.contains("Secure"), "http in dev: {cookie}");
    }
}

#[tokio::test]
async fn portal_shows_the_trust_lists_in_use() {
    use intyg_core::trust::lote::ServiceType;
    use intyg_core::trust::pki::{LocalCa, Subject};
    use intyg_testkit::lote::{ListOperator, ListServer, entity, pub_eaa_list};

    let server = ListServer::start().await;
    let operator = ListOperator::new("Portal scheme operator");
    let issuer_ca = LocalCa::generate(&Subject::new("CA").organization("Testverket")).unwrap();
    server.publish(
        "pub-eaa.jwt",
        operator.sign(&pub_eaa_list(
            3,
            3600,
            vec![entity(
                "Testverket",
                &ServiceType::PubEaaIssuance,
                issuer_ca.certificate(),
                None,
            )],
        )),
    );
    let dir = crate::TempDir::new("portal-lists");
    let signer = operator.write_ca(&dir.0, "operator.pem");
    let url = server.url("pub-eaa.jwt");
    let source = intyg_service::trust_lists::TrustListSource {
        url: url.clone(),
        signer,
    };
    let verifier = Verifier::start_in(dir, move |config| {
        config.trust_lists.push(source);
        config.trust_list_refresh.interval_seconds = Some(86_400);
    })
    .await;
    intyg_verifier::refresh_trust_lists(&verifier.state).await;
    let mut browser = PortalBrowser::new(&verifier.url);
    let password =
        std::env::var("INTYG_EMPLOYER_PASSWORD").unwrap_or_else(|_| DEV_PASSWORD.to_owned());
    let signed = browser.sign_in(DEV_EMPLOYER, &password).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    let home = browser.get("/portal").await;
    assert!(home.body.contains("/portal/trust-lists"), "{}", home.body);
    let page = browser.get("/portal/trust-lists").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("Test Pub-EAA providers"),
        "{}",
        page.body
    );
    assert!(page.body.contains(&url), "{}", page.body);
    assert!(page.body.contains("state-ok"), "{}", page.body);
    assert!(page.body.contains("<td>3</td>"), "{}", page.body);
}
