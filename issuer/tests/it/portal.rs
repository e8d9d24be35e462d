//! The officer portal over a real loopback socket: sign-in, CSRF, the
//! generated claims form, offers, revocation, language; and a headless
//! Chromium driving it end to end.

use std::time::Duration;

use argon2::password_hash::{PasswordHasher as _, SaltString};
use intyg_issuer::config::Officer;
use intyg_issuer::model::CredentialState;
use intyg_issuer::portal::{DEV_OFFICER, DEV_PASSWORD};
use intyg_testkit::{
    Chromedriver, Fetch, KARIN as SUBJECT, PortalBrowser, PortalPage as Page, TempDir, TestIssuer,
    chromium_capabilities, example,
};
use reqwest::StatusCode;
const OFFICER: &str = "testare";
const PASSWORD: &str = "korrekt hästbatteri";

/// An issuer with the dev officer and a test officer whose hash is cheap,
/// so that the tests do not spend seconds in argon2.
async fn start(name: &str) -> TestIssuer {
    start_with(name, |_| {}).await
}

async fn start_with(
    name: &str,
    configure: impl FnOnce(&mut intyg_issuer::config::Config),
) -> TestIssuer {
    let cheap = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(8, 1, 1, None).unwrap(),
    );
    let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
    let officer = Officer {
        username: OFFICER.into(),
        password_hash: cheap
            .hash_password(PASSWORD.as_bytes(), &salt)
            .unwrap()
            .to_string(),
        name: "Tess Testare".into(),
    };
    TestIssuer::start_with(name, |config| {
        config.portal.officers.push(officer);
        configure(config);
    })
    .await
}

/// The officer portal's own steps.
trait OfficerSteps {
    /// Signs in as the test officer; returns the session's CSRF token.
    async fn signed_in(&mut self) -> String;

    /// Searches the personal identity number `pin`.
    async fn search(&mut self, csrf: &str, pin: &str) -> Page;

    /// Posts the registration form at `path` with the names typed.
    async fn register(
        &mut self,
        path: &str,
        csrf: &str,
        given_name: &str,
        family_name: &str,
    ) -> Page;

    /// Submits `person`'s issue form with the example claims.
    async fn issue_example(&mut self, person: &str, csrf: &str) -> Page;

    /// Searches the subject; returns the person page's path.
    async fn person(&mut self, csrf: &str) -> String;
}

impl OfficerSteps for PortalBrowser {
    async fn signed_in(&mut self) -> String {
        let done = self.sign_in(OFFICER, PASSWORD).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        self.get("/portal").await.hidden("csrf")
    }

    async fn search(&mut self, csrf: &str, pin: &str) -> Page {
        self.post("/portal/search", &[("csrf", csrf), ("pin", pin)])
            .await
    }

    async fn register(
        &mut self,
        path: &str,
        csrf: &str,
        given_name: &str,
        family_name: &str,
    ) -> Page {
        let form = [
            ("csrf", csrf),
            ("claim.given_name", given_name),
            ("claim.family_name", family_name),
        ];
        self.post(path, &form).await
    }

    async fn issue_example(&mut self, person: &str, csrf: &str) -> Page {
        let form = claims_form(csrf, &example("registration-certificate"));
        post_claims(
            self,
            &format!("{person}/issue/registration-certificate"),
            &form,
        )
        .await
    }

    async fn person(&mut self, csrf: &str) -> String {
        let found = self.search(csrf, SUBJECT).await;
        assert_eq!(found.status, StatusCode::SEE_OTHER);
        found.location().to_owned()
    }
}

fn claims_form(csrf: &str, claims: &serde_json::Value) -> Vec<(String, String)> {
    let mut form = vec![("csrf".to_owned(), csrf.to_owned())];
    for (name, value) in claims.as_object().unwrap() {
        form.push((format!("claim.{name}"), value.as_str().unwrap().to_owned()));
    }
    form
}

async fn post_claims(browser: &mut PortalBrowser, path: &str, form: &[(String, String)]) -> Page {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    browser.post(path, &pairs).await
}

#[tokio::test]
async fn portal_sign_in_fails_then_succeeds() {
    let portal = start("portal-sign-in").await;
    let mut browser = PortalBrowser::new(&portal.url);
    let home = browser.get("/portal").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.location(), "/portal/login");

    let wrong = browser.sign_in(OFFICER, "fel lösenord").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Fel användarnamn eller lösenord."));
    let unknown = browser.sign_in("ingen-alls", PASSWORD).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(unknown.body.contains("Fel användarnamn eller lösenord."));

    let ok = browser.sign_in(OFFICER, PASSWORD).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.location(), "/portal");
    let session = browser
        .set_cookies
        .iter()
        .find(|c| c.starts_with("intyg_portal=") && !c.starts_with("intyg_portal=;"))
        .unwrap();
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Strict"), "{session}");
    assert!(!session.contains("Secure"), "http in dev: {session}");
    let home = browser.get("/portal").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Tess Testare"));
    assert!(home.tag("pin").starts_with("<input"));
    assert_eq!(home.headers["cache-control"], "no-store");
    assert!(home.headers.contains_key("content-security-policy"));

    let csrf = home.hidden("csrf");
    let out = browser.post("/portal/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.location(), "/portal/login");
    assert_eq!(browser.get("/portal").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn portal_dev_officer_signs_in() {
    let portal = start("portal-dev-officer").await;
    let mut browser = PortalBrowser::new(&portal.url);
    let password =
        std::env::var("INTYG_OFFICER_PASSWORD").unwrap_or_else(|_| DEV_PASSWORD.to_owned());
    let ok = browser.sign_in(DEV_OFFICER, &password).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
}

#[tokio::test]
async fn portal_locks_a_username_after_five_failures() {
    let portal = start("portal-lockout").await;
    let mut browser = PortalBrowser::new(&portal.url);
    for _ in 0..5 {
        let wrong = browser.sign_in(OFFICER, "gissning").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    }
    let locked = browser.sign_in(OFFICER, PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.body.contains("För många misslyckade försök"));
}

#[tokio::test]
async fn portal_rejects_posts_without_the_csrf_token() {
    let portal = start("portal-csrf").await;
    let mut browser = PortalBrowser::new(&portal.url);
    // Sign-in form: no double-submit cookie, no entry.
    let forged = browser
        .post(
            "/portal/login",
            &[("csrf", "x"), ("username", OFFICER), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(!browser.cookies.contains_key("intyg_portal"));

    let csrf = browser.signed_in().await;
    let wrong = browser.search("not-the-token", SUBJECT).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(wrong.body.contains("Formuläret har gått ut"));
    let missing = browser.post("/portal/search", &[("pin", SUBJECT)]).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);

    // A revoke without the token changes nothing.
    let person = browser.person(&csrf).await;
    let offer = browser.issue_example(&person, &csrf).await;
    assert_eq!(offer.status, StatusCode::CREATED);
    let record = &portal
        .state
        .stores
        .credentials
        .by_subject(SUBJECT)
        .await
        .unwrap()[0];
    let revoke = format!("{person}/credentials/{}/revoke", record.id);
    let forged = browser.post(&revoke, &[("csrf", "forged")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let record = portal
        .state
        .stores
        .credentials
        .get(&record.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.state, CredentialState::Offered);
}

#[tokio::test]
async fn portal_shows_validation_errors_by_field() {
    let portal = start("portal-form").await;
    let mut browser = PortalBrowser::new(&portal.url);
    let csrf = browser.signed_in().await;
    let bad_pin = browser.search(&csrf, "1994").await;
    assert_eq!(bad_pin.status, StatusCode::BAD_REQUEST);
    assert!(
        bad_pin
            .tag("pin")
            .contains("aria-describedby=\"pin-hint pin-error\"")
    );
    assert!(bad_pin.text("pin-error").contains("12 siffror"));

    let person = browser.person(&csrf).await;
    let path = format!("{person}/issue/registration-certificate");
    let blank = browser.get(&path).await;
    assert_eq!(blank.status, StatusCode::OK);
    // Generated from the schema: a date input, a select, the subject prefilled.
    assert!(blank.tag("field-birthdate").contains("type=\"date\""));
    assert!(
        blank
            .tag("field-registration_status")
            .starts_with("<select")
    );
    assert!(
        blank
            .tag("field-personal_identity_number")
            .contains(SUBJECT)
    );
    assert!(blank.body.contains("Födelsedatum"));

    let mut claims = example("registration-certificate");
    claims["registered_since"] = "last spring".into();
    claims.as_object_mut().unwrap().remove("office");
    let page = post_claims(&mut browser, &path, &claims_form(&csrf, &claims)).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let since = page.tag("field-registered_since");
    assert!(since.contains("aria-invalid=\"true\""), "{since}");
    assert!(
        since.contains(
            "aria-describedby=\"field-registered_since-hint field-registered_since-error\""
        ),
        "{since}"
    );
    assert_eq!(
        page.text("field-registered_since-error"),
        "Värdet har fel format."
    );
    assert_eq!(page.text("field-office-error"), "Fältet är obligatoriskt.");
    assert!(!page.body.contains("id=\"field-given_name-error\""));
    // What was typed stays in the form.
    assert!(page.tag("field-given_name").contains("Karin Elisabet"));
    assert!(page.body.contains("role=\"alert\""));
    assert!(
        portal
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
async fn portal_offer_shows_qr_code_and_pin() {
    let portal = start("portal-offer").await;
    let mut browser = PortalBrowser::new(&portal.url);
    let csrf = browser.signed_in().await;
    let person = browser.person(&csrf).await;
    let page = browser.issue_example(&person, &csrf).await;
    assert_eq!(page.status, StatusCode::CREATED, "{}", page.body);
    let qr_at = page.body.find("id=\"offer-qr\"").unwrap();
    assert!(page.body[qr_at..].contains("<svg"));
    let pin = page.text("tx-code");
    assert_eq!(pin.len(), 6);
    assert!(pin.bytes().all(|b| b.is_ascii_digit()));
    assert!(
        page.tag("offer-link")
            .contains("href=\"openid-credential-offer://?credential_offer_uri=")
    );
    assert!(page.text("offer-wallets").starts_with("Alla plånböcker"));
    let records = portal
        .state
        .stores
        .credentials
        .by_subject(SUBJECT)
        .await
        .unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].claims["office"], "Arbetsförmedlingen Malmö");
}

#[tokio::test]
async fn portal_offer_under_haip_names_certified_wallets_and_links_haip_vci() {
    let dir = intyg_testkit::TempDir::new("portal-haip-roots");
    let provider = intyg_testkit::WalletProvider::new("Provider A");
    let root = provider.write_root(&dir);
    let portal = start_with("portal-haip", move |config| {
        config.profile = intyg_issuer::policy::Profile::Haip;
        config.wallet_provider_roots = vec![root];
        config.offer_scheme = intyg_issuer::policy::OfferScheme::HaipVci;
    })
    .await;
    let mut browser = PortalBrowser::new(&portal.url);
    let csrf = browser.signed_in().await;
    let person = browser.person(&csrf).await;
    let page = browser.issue_example(&person, &csrf).await;
    assert_eq!(page.status, StatusCode::CREATED, "{}", page.body);
    let wallets = page.text("offer-wallets");
    assert!(
        wallets.starts_with("Endast certifierade plånböcker"),
        "{wallets}"
    );
    assert!(
        wallets.contains("Intyg-plånboken för datorn kan inte"),
        "{wallets}"
    );
    assert!(
        page.tag("offer-link")
            .contains("href=\"haip-vci://?credential_offer_uri="),
        "{}",
        page.tag("offer-link")
    );
}

#[tokio::test]
async fn portal_revokes_from_the_person_page() {
    let portal = start("portal-revoke").await;
    let mut browser = PortalBrowser::new(&portal.url);
    let csrf = browser.signed_in().await;
    let person = browser.person(&csrf).await;
    assert!(!person.contains(SUBJECT), "the number stays out of URLs");
    let empty = browser.get(&person).await;
    assert!(empty.body.contains("Inga intyg har utfärdats"));
    browser.issue_example(&person, &csrf).await;
    let id = portal
        .state
        .stores
        .credentials
        .by_subject(SUBJECT)
        .await
        .unwrap()[0]
        .id
        .clone();
    let page = browser.get(&person).await;
    assert!(page.body.contains("Inskrivningsintyg"));
    assert!(page.body.contains("Erbjudet, ej hämtat"));
    let action = format!("{person}/credentials/{id}/revoke");
    assert!(page.body.contains(&format!("action=\"{action}\"")));

    let done = browser.post(&action, &[("csrf", &csrf)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let page = browser.get(done.location()).await;
    assert!(page.body.contains("Statusen är ändrad."));
    assert!(page.body.contains("Återkallat"));
    assert!(!page.body.contains(&format!("action=\"{action}\"")));
    let record = portal
        .state
        .stores
        .credentials
        .get(&id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.state, CredentialState::Revoked);

    // Once revoked, again is a conflict shown as a page, not JSON.
    let again = browser.post(&action, &[("csrf", &csrf)]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(
        again.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(again.body.contains("already revoked"));
}

#[tokio::test]
async fn portal_switches_language() {
    let portal = start("portal-lang").await;
    let mut browser = PortalBrowser::new(&portal.url);
    let swedish = browser.get("/portal/login").await;
    assert!(swedish.body.contains("<html lang=\"sv\">"));
    assert!(swedish.body.contains("Logga in"));
    assert!(swedish.body.contains("href=\"/portal/login?lang=en\""));

    let english = browser.get("/portal/login?lang=en").await;
    assert!(english.body.contains("<html lang=\"en\">"));
    assert!(english.body.contains("Sign in"));
    assert!(english.body.contains("href=\"/portal/login?lang=sv\""));
    // Remembered without the query.
    assert!(browser.get("/portal/login").await.body.contains("Sign in"));
    browser.get("/portal/login?lang=sv").await;
    assert!(browser.get("/portal/login").await.body.contains("Logga in"));

    // Accept-Language when nothing was chosen.
    let fresh = reqwest::Client::new()
        .get(format!("{}/portal/login", portal.url))
        .header("accept-language", "en-GB,en;q=0.9,sv;q=0.5")
        .fetch_text()
        .await;
    assert!(fresh.contains("<html lang=\"en\">"));

    // Type names and claim labels come from the type metadata in the language.
    let csrf = browser.signed_in().await;
    let person = browser.person(&csrf).await;
    let form = browser
        .get(&format!("{person}/issue/registration-certificate?lang=en"))
        .await;
    assert!(form.body.contains("Registration certificate"));
    assert!(form.body.contains("Date of birth"));
    assert!(form.body.contains("Create offer"));
}

#[tokio::test]
async fn portal_in_headless_chromium_issues_and_shows_the_qr_code() {
    use fantoccini::{ClientBuilder, Locator};

    let portal = start("portal-browser").await;
    let driver = Chromedriver::start().await;
    let profile = TempDir::new("chromium-profile");
    let client = ClientBuilder::rustls()
        .unwrap()
        .capabilities(chromium_capabilities(profile.path(), (1280, 1400)))
        .connect(&driver.url())
        .await
        .expect("a Chromium session through chromedriver");
    let click = async |css: &str| {
        let button = client.find(Locator::Css(css)).await.unwrap();
        button.click().await.unwrap();
    };
    let wait = |locator: &'static str| {
        client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(locator))
    };

    client
        .goto(&format!("{}/portal", portal.url))
        .await
        .unwrap();
    let password =
        std::env::var("INTYG_OFFICER_PASSWORD").unwrap_or_else(|_| DEV_PASSWORD.to_owned());
    wait("#username")
        .await
        .unwrap()
        .send_keys(DEV_OFFICER)
        .await
        .unwrap();
    client
        .find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(&password)
        .await
        .unwrap();
    click("main button[type=submit]").await;

    wait("#pin")
        .await
        .unwrap()
        .send_keys(SUBJECT)
        .await
        .unwrap();
    click("main button[type=submit]").await;

    wait("a[href$='/issue/registration-certificate']")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let claims = example("registration-certificate");
    wait("#field-given_name").await.unwrap();
    for name in ["given_name", "family_name", "office"] {
        let input = client
            .find(Locator::Id(&format!("field-{name}")))
            .await
            .unwrap();
        input
            .send_keys(claims[name].as_str().unwrap())
            .await
            .unwrap();
    }
    // The subject's number is prefilled by the portal.
    let pin_field = client
        .find(Locator::Id("field-personal_identity_number"))
        .await
        .unwrap();
    assert_eq!(
        pin_field.prop("value").await.unwrap().as_deref(),
        Some(SUBJECT)
    );
    // Date inputs take keys in the browser's locale; set their value instead.
    for name in ["birthdate", "registered_since"] {
        let input = client
            .find(Locator::Id(&format!("field-{name}")))
            .await
            .unwrap();
        client
            .execute(
                "arguments[0].value = arguments[1];",
                vec![serde_json::to_value(&input).unwrap(), claims[name].clone()],
            )
            .await
            .unwrap();
    }
    for name in ["registration_status", "programme"] {
        client
            .find(Locator::Id(&format!("field-{name}")))
            .await
            .unwrap()
            .select_by_value(claims[name].as_str().unwrap())
            .await
            .unwrap();
    }
    let form = client.screenshot().await.unwrap();
    let target = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::write(target.join("portal-form.png"), form).unwrap();
    click("main form button[type=submit]").await;

    let qr = wait("#offer-qr svg").await.unwrap();
    // Swedish, as the browser asks for it.
    client.find(Locator::Css("html[lang=sv]")).await.unwrap();
    assert!(qr.is_displayed().await.unwrap(), "the QR code is visible");
    let size: serde_json::Value = client
        .execute(
            "const r = arguments[0].getBoundingClientRect(); return [r.width, r.height];",
            vec![serde_json::to_value(&qr).unwrap()],
        )
        .await
        .unwrap();
    assert!(size[0].as_f64().unwrap() >= 200.0, "{size}");
    let pin = client.find(Locator::Id("tx-code")).await.unwrap();
    assert!(pin.is_displayed().await.unwrap(), "the PIN is visible");
    let pin = pin.text().await.unwrap();
    assert_eq!(pin.len(), 6, "{pin}");
    assert!(pin.bytes().all(|b| b.is_ascii_digit()), "{pin}");
    let link = client.find(Locator::Id("offer-link")).await.unwrap();
    assert!(
        link.attr("href")
            .await
            .unwrap()
            .unwrap()
            .starts_with("openid-credential-offer://")
    );

    let screenshot = client.screenshot().await.unwrap();
    let path = target.join("portal-offer.png");
    std::fs::write(&path, screenshot).unwrap();
    eprintln!("screenshot: {}", path.display());
    client.close().await.unwrap();
    drop(driver);

    let records = portal
        .state
        .stores
        .credentials
        .by_subject(SUBJECT)
        .await
        .unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].claims, *claims.as_object().unwrap());
}

#[tokio::test]
async fn portal_registers_a_person_and_prefills_the_issue_form() {
    let portal = start("portal-register").await;
    let mut browser = PortalBrowser::new(&portal.url);
    let csrf = browser.signed_in().await;
    let person = browser.person(&csrf).await;
    let register = format!("{person}/register");

    // Not registered: the register form, labelled, with the number's page.
    let page = browser.get(&person).await;
    assert!(page.body.contains("Personen är inte registrerad."));
    assert!(page.body.contains(&format!("action=\"{register}\"")));
    assert!(page.tag("register-given_name").starts_with("<input"));
    assert!(page.body.contains("<label for=\"register-family_name\">"));
    assert!(!page.body.contains("id=\"person-name\""));

    // A forged form stores nothing.
    let forged = browser
        .register(&register, "forged", "Karin Elisabet", "Lindqvist")
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(
        portal
            .state
            .stores
            .persons
            .get(SUBJECT)
            .await
            .unwrap()
            .is_none()
    );

    // Errors by field, with a summary linking to the input.
    let missing = browser
        .register(&register, &csrf, "Karin Elisabet", "  ")
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.body.contains("<title>Fel:"));
    assert!(missing.body.contains("href=\"#register-family_name\""));
    let family = missing.tag("register-family_name");
    assert!(family.contains("aria-invalid=\"true\""), "{family}");
    assert!(
        family.contains("aria-describedby=\"register-family_name-error\""),
        "{family}"
    );
    assert_eq!(
        missing.text("register-family_name-error"),
        "Fältet är obligatoriskt."
    );
    assert!(
        missing
            .tag("register-given_name")
            .contains("value=\"Karin Elisabet\"")
    );
    assert!(
        portal
            .state
            .stores
            .persons
            .get(SUBJECT)
            .await
            .unwrap()
            .is_none()
    );

    let done = browser
        .register(&register, &csrf, " Karin Elisabet ", "Lindqvist")
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = browser.get(done.location()).await;
    assert!(page.body.contains("Personen är registrerad."));
    assert_eq!(page.text("person-name"), "Karin Elisabet Lindqvist");
    assert_eq!(page.text("person-birthdate"), "1994-03-17");
    assert!(!page.body.contains(&format!("action=\"{register}\"")));
    let stored = portal
        .state
        .stores
        .persons
        .get(SUBJECT)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.registered_by, OFFICER);
    assert_eq!(stored.given_name, "Karin Elisabet");

    // The issue form is filled in from the registration.
    let form = browser
        .get(&format!("{person}/issue/registration-certificate"))
        .await;
    assert_eq!(form.status, StatusCode::OK);
    for (field, value) in [
        ("given_name", "Karin Elisabet"),
        ("family_name", "Lindqvist"),
        ("birthdate", "1994-03-17"),
        ("personal_identity_number", SUBJECT),
    ] {
        let tag = form.tag(&format!("field-{field}"));
        assert!(tag.contains(&format!("value=\"{value}\"")), "{tag}");
    }
    assert!(form.tag("field-office").contains("value=\"\""));

    // In English too.
    let english = browser.get(&format!("{person}?lang=en")).await;
    assert!(english.body.contains("Date of birth"));
}

#[tokio::test]
async fn portal_search_checks_the_date_and_check_digit() {
    let portal = start("portal-search-check").await;
    let mut browser = PortalBrowser::new(&portal.url);
    let csrf = browser.signed_in().await;
    let wrong_digit = browser.search(&csrf, "19940317-2382").await;
    assert_eq!(wrong_digit.status, StatusCode::BAD_REQUEST);
    assert!(wrong_digit.text("pin-error").contains("Kontrollsiffran"));
    let no_date = browser.search(&csrf, "199402302381").await;
    assert_eq!(no_date.status, StatusCode::BAD_REQUEST);
    assert!(no_date.text("pin-error").contains("datum"));
    // A coordination number is found, and registered with its birthdate.
    let found = browser.search(&csrf, "197010632391").await;
    assert_eq!(found.status, StatusCode::SEE_OTHER);
    let person = found.location().to_owned();
    browser
        .register(&format!("{person}/register"), &csrf, "Ana", "Silva")
        .await;
    let page = browser.get(&person).await;
    assert_eq!(page.text("person-birthdate"), "1970-10-03");
}
