//! The officer portal: server-rendered HTML in Swedish and English that
//! works without JavaScript; the one script, `focus.js`, only moves the
//! focus to an error summary.
//!
//! | route | what |
//! |---|---|
//! | `GET /` | redirects to `/portal` |
//! | `GET /portal` | search a job seeker (sign-in page when signed out) |
//! | `GET, POST /portal/login` | sign in |
//! | `POST /portal/logout` | sign out |
//! | `POST /portal/search` | look a person up by personal identity number |
//! | `GET /portal/people/{handle}` | the person (or a form to register them) and what they were issued, with revoke / suspend / unsuspend |
//! | `POST /portal/people/{handle}/register` | register the person: given and family name; the number is the searched one |
//! | `GET, POST /portal/people/{handle}/issue/{type}` | the claims form generated from the type's JSON Schema; the offer as a QR code with its PIN |
//! | `POST /portal/people/{handle}/offers/{offer}` | the offer shown again (its PIN posted back, checked against its hash), while unused and valid |
//! | `GET, POST /portal/people/{handle}/credentials/{id}/revoke` | revoke: a confirmation naming person, credential and issue date, a required reason kept with the record, then a notice saying when verifiers see it |
//! | `POST /portal/people/{handle}/credentials/{id}/{action}` | suspend, unsuspend, withdraw an unused offer |
//! | `GET /portal/accessibility` | the accessibility statement (public, linked from every page's footer) |
//! | `GET /portal/focus.js` | moves the focus to an error summary (shared with the other portal) |
//! | `GET /portal/portal.css` | the stylesheet |
//!
//! A person's number never appears in a URL: a search gives an opaque
//! handle that only the officer's session can resolve. Personal data is
//! never logged. Every POST form carries a CSRF token; sessions are held
//! in memory (see [`session`]).
//!
//! A page that answers a POST (a form with errors, an offer) has a
//! language switch that posts the same form again with `?lang=` and
//! `relang` ([`RELANG`]): the handler shows the page in the other language
//! and does nothing else, so nothing typed and no offer is lost.

pub mod form;
pub mod i18n;
pub mod pages;
pub mod session;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::Markup;

use crate::admin::{CreateOffer, apply_status, make_offer};
use crate::claims::{self, Refusal};
use crate::config::{Config, ConfigError, Officer};
use crate::error::ApiError;
use crate::model::{
    CredentialState, IdentityNumberError, NameError, Person, PersonalIdentityNumber, Revocation,
    RevocationReason,
};
use crate::{AppState, now, random_token};
use form::{Field, FormErrors};
use i18n::{Lang, Msg};
use intyg_service::portal::Peer;
use intyg_service::portal::chrome::{self, RELANG};
use intyg_service::portal::chrome::{FOCUS_JS_PATH, focus_js};
use intyg_service::portal::statement;
use pages::Chrome;
use session::{Session, SignInFailure, csrf_matches};

/// Session cookie.
const SESSION_COOKIE: &str = "intyg_portal";
/// Double-submit CSRF cookie of the sign-in form.
const LOGIN_COOKIE: &str = "intyg_portal_login";
/// The security headers of every portal page: scripts (only `focus.js`),
/// styles and images only from this origin, no inline script, no framing.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Username of the development officer.
pub const DEV_OFFICER: &str = "handlaggare";
/// Password of the development officer unless `INTYG_OFFICER_PASSWORD` is set.
pub const DEV_PASSWORD: &str = "intyg-dev";
/// argon2id hash of [`DEV_PASSWORD`] (saves hashing on every dev start).
const DEV_PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$Bw0VIjdZkOkBAgMFCA0VIg$qDJ4xp376xe31YmyGOh17Ww4haVkeSOiU+AnhA3TD8k";

/// The development officer of `--dev` mode.
pub fn dev_officer() -> Result<Officer, ConfigError> {
    let password_hash = match std::env::var("INTYG_OFFICER_PASSWORD") {
        Ok(password) if !password.is_empty() => session::hash_password(&password)
            .map_err(|_| ConfigError::Env("INTYG_OFFICER_PASSWORD"))?,
        _ => DEV_PASSWORD_HASH.to_owned(),
    };
    Ok(Officer {
        username: DEV_OFFICER.to_owned(),
        password_hash,
        name: "Handläggare Utveckling".to_owned(),
    })
}

/// The portal's state: accounts and sessions.
#[derive(Debug)]
pub struct PortalState {
    sessions: session::Sessions,
    secure_cookies: bool,
    feedback_email: String,
    trusted_proxies: Vec<std::net::IpAddr>,
}

impl PortalState {
    /// The client's address of a request from `peer`, as the throttling
    /// and the audit trail see it.
    pub fn client(&self, peer: &Peer) -> Option<std::net::IpAddr> {
        peer.client(&self.trusted_proxies)
    }

    /// From the configuration; cookies are `Secure` when `public_url` is https.
    pub fn new(config: &Config, store: Arc<dyn intyg_service::session::SessionStore>) -> Self {
        Self {
            sessions: session::sessions(&config.portal, store),
            secure_cookies: config.public_url.starts_with("https://"),
            feedback_email: config.portal.feedback_email.clone(),
            trusted_proxies: config.portal.trusted_proxies.clone(),
        }
    }
}

/// The portal's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/portal") }))
        .route("/portal", get(home))
        .route("/portal/login", get(login_page).post(login))
        .route("/portal/logout", get(to_page).post(logout))
        .route("/portal/search", get(to_page).post(search))
        .route("/portal/people/{handle}", get(person))
        .route(
            "/portal/people/{handle}/register",
            get(to_page).post(register),
        )
        .route(
            "/portal/people/{handle}/issue/{type_id}",
            get(issue_form).post(issue),
        )
        .route(
            "/portal/people/{handle}/offers/{offer_id}",
            get(to_page).post(offer_again),
        )
        .route(
            "/portal/people/{handle}/credentials/{id}/revoke",
            get(confirm_revoke).post(
                |state, signed, Path((handle, id)): Path<(String, String)>, form| {
                    change_status(state, signed, Path((handle, id, "revoke".to_owned())), form)
                },
            ),
        )
        .route(
            "/portal/people/{handle}/credentials/{id}/{action}",
            get(to_page).post(change_status),
        )
        .route(statement::PATH, get(accessibility))
        .route(FOCUS_JS_PATH, get(focus_js))
        .route("/portal/portal.css", get(css))
}

type PostedForm = axum::Form<HashMap<String, String>>;

/// What every portal request knows: language, cookies, session.
pub type Ctx = intyg_service::portal::Ctx<Session>;

impl FromRequestParts<AppState> for Ctx {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let portal = &state.portal;
        let mut ctx = Ctx::read(parts, portal.secure_cookies, CSP);
        if let Some(id) = ctx.cookies.get(SESSION_COOKIE).cloned() {
            let session = portal
                .sessions
                .get(&id, now())
                .await
                .map_err(|e| PageError::api(ctx.lang, e.into()))?;
            ctx.session = session.map(|session| (id, session));
        }
        Ok(ctx)
    }
}

/// A request from a signed-in officer; others are sent to sign in.
#[derive(Debug)]
pub struct SignedIn {
    ctx: Ctx,
    id: String,
    session: Session,
    client: Option<std::net::IpAddr>,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let mut ctx = Ctx::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Ok(peer) = Peer::from_request_parts(parts, state).await;
        let client = state.portal.client(&peer);
        match ctx.session.take() {
            Some((id, session)) => Ok(Self {
                ctx,
                id,
                session,
                client,
            }),
            None => Err(ctx.finish(Redirect::to("/portal/login").into_response())),
        }
    }
}

impl SignedIn {
    /// The officer as an actor of the audit trail.
    fn actor(&self) -> crate::audit::Actor {
        crate::audit::Actor {
            name: self.session.user.username.clone(),
            source: self.client,
        }
    }

    fn chrome(&self) -> Chrome<'_> {
        Chrome::new(
            self.ctx.lang,
            &self.ctx.path,
            Some((&self.session.user.name, &self.session.csrf)),
        )
    }

    /// The frame of a page answering `posted` at `action` (see [`RELANG`]).
    fn reposting<'a>(&'a self, action: &'a str, posted: &'a HashMap<String, String>) -> Chrome<'a> {
        self.chrome().reposting(
            action,
            posted
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str()))
                .collect(),
        )
    }

    fn check_csrf(&self, form: &HashMap<String, String>) -> Result<(), PageError> {
        if csrf_matches(form.get("csrf").map(String::as_str), &self.session.csrf) {
            Ok(())
        } else {
            Err(PageError::new(
                self.ctx.lang,
                StatusCode::FORBIDDEN,
                Msg::FormExpired,
            ))
        }
    }

    fn subject(&self, handle: &str) -> Result<&str, PageError> {
        self.session
            .data
            .persons
            .get(handle)
            .map(String::as_str)
            .ok_or_else(|| PageError::new(self.ctx.lang, StatusCode::NOT_FOUND, Msg::NotFound))
    }

    fn page(&self, status: StatusCode, markup: Markup) -> Response {
        self.ctx.page(status, markup)
    }

    fn api(&self, error: ApiError) -> PageError {
        PageError::api(self.ctx.lang, error)
    }
}

/// An error shown as a friendly HTML page in the request's language. Server
/// errors are logged (without personal data) and shown as a generic message.
#[derive(Debug)]
pub struct PageError {
    lang: Lang,
    status: StatusCode,
    message: Msg,
    detail: Option<String>,
}

impl PageError {
    fn new(lang: Lang, status: StatusCode, message: Msg) -> Self {
        Self {
            lang,
            status,
            message,
            detail: None,
        }
    }

    fn api(lang: Lang, error: ApiError) -> Self {
        match error {
            ApiError::Client {
                status,
                description,
                ..
            } => Self {
                lang,
                status,
                message: Msg::RequestFailed,
                detail: Some(description),
            },
            other => {
                tracing::error!(error = %other, "portal request failed");
                Self::new(lang, StatusCode::INTERNAL_SERVER_ERROR, Msg::ServerError)
            }
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let ctx = Ctx::bare(self.lang, CSP);
        let markup = pages::error(&ctx.chrome(), self.message, self.detail.as_deref());
        ctx.page(self.status, markup)
    }
}

/// `GET` of a path that only takes a form (a bookmark, the back button, a
/// language link from an old page): never a 405, but the page the form
/// belongs to, the person's page or the start page.
async fn to_page(ctx: Ctx, Path(params): Path<Vec<(String, String)>>) -> Response {
    match params.iter().find(|(name, _)| name == "handle") {
        Some((_, handle)) => ctx.redirect(&format!("/portal/people/{handle}")),
        None => ctx.redirect("/portal"),
    }
}

/// `GET /portal/accessibility`: the accessibility statement, public.
async fn accessibility(State(state): State<AppState>, ctx: Ctx) -> Response {
    let user = ctx
        .session
        .as_ref()
        .map(|(_, session)| (session.user.name.as_str(), session.csrf.as_str()));
    let chrome = Chrome::new(ctx.lang, &ctx.path, user);
    let markup = statement::page(&chrome, &state.portal.feedback_email);
    ctx.page(StatusCode::OK, markup)
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        pages::CSS,
    )
}

async fn home(ctx: Ctx) -> Response {
    match &ctx.session {
        Some((_, session)) => {
            let chrome = Chrome::new(
                ctx.lang,
                &ctx.path,
                Some((&session.user.name, &session.csrf)),
            );
            ctx.page(
                StatusCode::OK,
                pages::search(&chrome, &session.csrf, "", None),
            )
        }
        None => ctx.redirect("/portal/login"),
    }
}

/// The sign-in form with a double-submit token (kept if the cookie has one).
fn login_response(
    ctx: &Ctx,
    status: StatusCode,
    username: &str,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let token = match ctx.cookies.get(LOGIN_COOKIE) {
        Some(token)
            if token.len() >= 43
                && token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            token.clone()
        }
        _ => random_token(32).map_err(|e| PageError::api(ctx.lang, e))?,
    };
    let mut response = ctx.page(
        status,
        pages::login(&ctx.chrome::<Msg>(), &token, username, error),
    );
    if let Some(cookie) = ctx.cookie(LOGIN_COOKIE, &token, 3600) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

async fn login_page(ctx: Ctx) -> Result<Response, PageError> {
    if ctx.session.is_some() {
        return Ok(ctx.redirect("/portal"));
    }
    login_response(&ctx, StatusCode::OK, "", None)
}

async fn login(
    State(state): State<AppState>,
    peer: Peer,
    ctx: Ctx,
    axum::Form(form): PostedForm,
) -> Result<Response, PageError> {
    let username = form.get("username").map_or("", String::as_str);
    let expected = ctx.cookies.get(LOGIN_COOKIE).map_or("", String::as_str);
    if expected.is_empty() || !csrf_matches(form.get("csrf").map(String::as_str), expected) {
        return login_response(
            &ctx,
            StatusCode::FORBIDDEN,
            username,
            Some(ctx.lang.t(Msg::FormExpired)),
        );
    }
    let password = form.get("password").cloned().unwrap_or_default();
    let client = state.portal.client(&peer);
    let outcome = state
        .portal
        .sessions
        .sign_in(username, password, client, now())
        .await
        .map_err(|e| PageError::api(ctx.lang, e.into()))?;
    let who = state.portal.sessions.audit_name(username);
    let event = |action: &str| {
        intyg_service::audit::Event::new(who.clone(), action)
            .subject(crate::audit::officer(&who))
            .source(client)
    };
    match outcome {
        Ok(officer) => {
            state.audit.record_or_log(event("signin.success")).await;
            let sessions = &state.portal.sessions;
            let id = sessions
                .create(officer, now())
                .await
                .map_err(|e| PageError::api(ctx.lang, e.into()))?;
            if let Some((old, _)) = &ctx.session {
                sessions
                    .remove(old)
                    .await
                    .map_err(|e| PageError::api(ctx.lang, e.into()))?;
            }
            let mut response = ctx.redirect("/portal");
            let headers = response.headers_mut();
            for cookie in [
                ctx.cookie(SESSION_COOKIE, &id, sessions.lifetime()),
                ctx.cookie(LOGIN_COOKIE, "", 0),
            ]
            .into_iter()
            .flatten()
            {
                headers.append(header::SET_COOKIE, cookie);
            }
            Ok(response)
        }
        Err(SignInFailure::WrongCredentials) => {
            state.audit.record_or_log(event("signin.failure")).await;
            login_response(
                &ctx,
                StatusCode::UNAUTHORIZED,
                username,
                Some(ctx.lang.t(Msg::WrongCredentials)),
            )
        }
        Err(SignInFailure::Throttled { retry_at }) => {
            let detail = format!("until {}", intyg_service::time::date_time(retry_at));
            let throttled = event("signin.throttled").detail(detail);
            state.audit.record_or_log(throttled).await;
            let message = chrome::throttled(ctx.lang, retry_at, now());
            let mut response = login_response(
                &ctx,
                StatusCode::TOO_MANY_REQUESTS,
                username,
                Some(&message),
            )?;
            let wait = (retry_at - now()).max(1);
            if let Ok(value) = header::HeaderValue::from_str(&wait.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Ok(response)
        }
    }
}

async fn logout(
    State(state): State<AppState>,
    signed: SignedIn,
    axum::Form(form): PostedForm,
) -> Result<Response, PageError> {
    signed.check_csrf(&form)?;
    state
        .portal
        .sessions
        .remove(&signed.id)
        .await
        .map_err(|e| signed.api(e.into()))?;
    let mut response = signed.ctx.redirect("/portal/login");
    if let Some(cookie) = signed.ctx.cookie(SESSION_COOKIE, "", 0) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

async fn search(
    State(state): State<AppState>,
    signed: SignedIn,
    axum::Form(form): PostedForm,
) -> Result<Response, PageError> {
    signed.check_csrf(&form)?;
    let typed = form.get("pin").map_or("", String::as_str);
    let spaced: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    let parsed = PersonalIdentityNumber::parse(&spaced, intyg_service::time::today());
    let number = match parsed {
        Ok(number) if !form.contains_key(RELANG) => number,
        Ok(_) => {
            let chrome = signed.reposting("/portal/search", &form);
            let markup = pages::search(&chrome, &signed.session.csrf, typed, None);
            return Ok(signed.page(StatusCode::OK, markup));
        }
        Err(e) => {
            let error = match e {
                IdentityNumberError::Format => Msg::PersonalIdentityNumberInvalid,
                IdentityNumberError::Date => Msg::PersonalIdentityNumberDate,
                IdentityNumberError::Century => Msg::PersonalIdentityNumberCentury,
                IdentityNumberError::CheckDigit => Msg::PersonalIdentityNumberCheckDigit,
            };
            let chrome = signed.reposting("/portal/search", &form);
            let markup = pages::search(&chrome, &signed.session.csrf, typed, Some(error));
            return Ok(signed.page(StatusCode::BAD_REQUEST, markup));
        }
    };
    let handle = session::remember_person(&state.portal.sessions, &signed.id, number.as_str())
        .await
        .map_err(|e| signed.api(e))?;
    Ok(signed.ctx.redirect(&format!("/portal/people/{handle}")))
}

/// The display name of a credential type in `lang`, else its id.
fn type_name<'a>(state: &'a AppState, id: &'a str, lang: Lang) -> &'a str {
    state
        .types
        .get(id)
        .and_then(|t| t.metadata.display(lang.code()))
        .map_or(id, |d| d.name.as_str())
}

async fn person(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(handle): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let lang = signed.ctx.lang;
    let notice = if let Some(id) = query.get("revoked") {
        Some(revoked_notice(&state, &signed, &handle, id).await?)
    } else if query.contains_key("withdrawn") {
        Some(lang.t(Msg::WithdrawnNotice).to_owned())
    } else if query.contains_key("changed") {
        Some(lang.t(Msg::StatusChanged).to_owned())
    } else if query.contains_key("registered") {
        Some(lang.t(Msg::PersonRegistered).to_owned())
    } else {
        None
    };
    let fields = form::register_fields(signed.ctx.lang);
    let register = RegisterForm::default();
    person_page(
        &state,
        &signed,
        &handle,
        notice,
        &fields,
        &register,
        StatusCode::OK,
    )
    .await
}

/// What was revoked, and by when verifiers see it: the status list may be
/// cached for its `ttl`.
async fn revoked_notice(
    state: &AppState,
    signed: &SignedIn,
    handle: &str,
    id: &str,
) -> Result<String, PageError> {
    let lang = signed.ctx.lang;
    let record = own_record(state, signed, handle, id).await?;
    let ttl = state.status.ttl();
    let at = record.revocation.as_ref().map_or_else(now, |r| r.at);
    let until = at.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX));
    let issued = record
        .issued_at
        .map_or_else(|| lang.t(Msg::StateOffered).to_owned(), pages::date_time);
    Ok(lang
        .t(Msg::RevokedNotice)
        .replace(
            "{type}",
            type_name(state, &record.credential_configuration_id, lang),
        )
        .replace("{ref}", pages::reference(&record))
        .replace("{issued}", &issued)
        .replace("{until}", &pages::date_time(until))
        .replace("{minutes}", &ttl.div_ceil(60).to_string()))
}

/// The register form as posted: text and errors by field name.
#[derive(Debug, Default)]
struct RegisterForm {
    values: HashMap<String, String>,
    errors: FormErrors,
    /// The form as posted (empty on a GET), for the language switch.
    posted: HashMap<String, String>,
}

/// The person page, with the register form's posted values and errors.
async fn person_page(
    state: &AppState,
    signed: &SignedIn,
    handle: &str,
    notice: Option<String>,
    register_fields: &[Field],
    register: &RegisterForm,
    status: StatusCode,
) -> Result<Response, PageError> {
    let lang = signed.ctx.lang;
    let subject = signed.subject(handle)?;
    let person = state
        .stores
        .persons
        .get(subject)
        .await
        .map_err(|e| signed.api(e.into()))?;
    let records = state
        .stores
        .credentials
        .by_subject(subject)
        .await
        .map_err(|e| signed.api(e.into()))?;
    let trail = state
        .audit
        .of_person(subject)
        .await
        .map_err(|e| signed.api(e.into()))?;
    let page = pages::PersonPage {
        trail: &trail,
        csrf: &signed.session.csrf,
        handle,
        subject,
        records: records
            .iter()
            .map(|r| (r, type_name(state, &r.credential_configuration_id, lang)))
            .collect(),
        types: state
            .types
            .iter()
            .map(|(id, t)| {
                let display = t.metadata.display(lang.code());
                pages::TypeChoice {
                    id,
                    name: display.map_or(id.as_str(), |d| d.name.as_str()),
                    description: display.and_then(|d| d.description.as_deref()),
                }
            })
            .collect(),
        notice,
        person: person.as_ref(),
        register_fields,
        register_values: &register.values,
        register_errors: &register.errors,
    };
    let action = format!("/portal/people/{handle}/register");
    let chrome = if register.posted.is_empty() {
        signed.chrome()
    } else {
        signed.reposting(&action, &register.posted)
    };
    Ok(signed.page(status, pages::person(&chrome, &page)))
}

async fn register(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(handle): Path<String>,
    axum::Form(posted): PostedForm,
) -> Result<Response, PageError> {
    signed.check_csrf(&posted)?;
    let lang = signed.ctx.lang;
    let number: PersonalIdentityNumber = signed.subject(&handle)?.parse().map_err(|_| {
        PageError::new(
            lang,
            StatusCode::BAD_REQUEST,
            Msg::PersonalIdentityNumberInvalid,
        )
    })?;
    let fields = form::register_fields(lang);
    let mut errors = FormErrors::default();
    let mut name = |field: &Field| {
        let typed = posted.get(&field.form_name()).map_or("", String::as_str);
        match Person::name(typed) {
            Ok(name) => Some(name),
            Err(e) => {
                let error = match e {
                    NameError::Empty => Msg::ErrRequired.into(),
                    NameError::TooLong => form::FieldError {
                        msg: Msg::ErrTooLong,
                        limit: Some(Person::MAX_NAME_CHARS.to_string()),
                    },
                    NameError::ControlCharacter(found) => form::FieldError {
                        msg: Msg::ErrControlCharacter,
                        limit: Some(format!("U+{:04X}", u32::from(found.character))),
                    },
                };
                errors.add(&field.name, error);
                None
            }
        }
    };
    let [given_field, family_field] = &fields;
    let (given_name, family_name) = (name(given_field), name(family_field));
    let relang = posted.contains_key(RELANG);
    let (Some(given_name), Some(family_name), false) = (given_name, family_name, relang) else {
        let values = fields
            .iter()
            .filter_map(|f| {
                posted
                    .get(&f.form_name())
                    .map(|v| (f.name.clone(), v.clone()))
            })
            .collect();
        let status = if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let form = RegisterForm {
            values,
            errors,
            posted: posted.clone(),
        };
        return person_page(&state, &signed, &handle, None, &fields, &form, status).await;
    };
    let person = Person::new(
        number,
        given_name,
        family_name,
        now(),
        signed.session.user.username.clone(),
    );
    let stored = state
        .stores
        .persons
        .put(&person)
        .await
        .map_err(|e| signed.api(e.into()))?;
    state
        .stores
        .durable()
        .await
        .map_err(|e| signed.api(e.into()))?;
    // Not stored: someone registered the number first, and the page shows
    // their registration.
    if stored {
        let event = signed
            .actor()
            .event("person.register")
            .subject(state.audit.person(person.personal_identity_number.as_str()));
        state
            .audit
            .record(event)
            .await
            .map_err(|e| signed.api(e.into()))?;
    }
    let query = if stored { "?registered=1" } else { "" };
    Ok(signed
        .ctx
        .redirect(&format!("/portal/people/{handle}{query}")))
}

/// The issue form of `type_id` for the person behind `handle`, with what
/// was typed and its errors.
struct IssueForm<'a> {
    handle: &'a str,
    type_id: &'a str,
    credential_type: &'a intyg_core::vc::metadata::CredentialType,
    number: PersonalIdentityNumber,
    person: Option<Person>,
    fields: Vec<Field>,
}

impl<'a> IssueForm<'a> {
    async fn load(
        state: &'a AppState,
        signed: &SignedIn,
        handle: &'a str,
        type_id: &'a str,
    ) -> Result<Self, PageError> {
        let lang = signed.ctx.lang;
        let number: PersonalIdentityNumber = signed
            .subject(handle)?
            .parse()
            .map_err(|_| PageError::new(lang, StatusCode::NOT_FOUND, Msg::NotFound))?;
        let Some(credential_type) = state.types.get(type_id) else {
            return Err(PageError::new(lang, StatusCode::NOT_FOUND, Msg::NotFound));
        };
        let person = state
            .stores
            .persons
            .get(number.as_str())
            .await
            .map_err(|e| signed.api(e.into()))?;
        Ok(Self {
            handle,
            type_id,
            credential_type,
            number,
            person,
            fields: form::fields(credential_type, lang),
        })
    }

    /// The identity claims the credential takes from the record, labelled.
    fn identity(&self, lang: Lang) -> Vec<(String, String)> {
        claims::identity_claims(self.credential_type)
            .filter_map(|claim| {
                let value = claims::from_record(claim, &self.number, self.person.as_ref())?;
                Some((
                    form::claim_label(self.credential_type, claim, lang).to_owned(),
                    value,
                ))
            })
            .collect()
    }

    /// Names are claims of this type and there are none on record.
    fn register_first(&self) -> bool {
        self.person.is_none()
            && claims::identity_claims(self.credential_type)
                .any(|c| c == "given_name" || c == "family_name")
    }

    fn page(
        &self,
        state: &AppState,
        signed: &SignedIn,
        posted: Option<&HashMap<String, String>>,
        errors: &FormErrors,
        status: StatusCode,
    ) -> Response {
        let lang = signed.ctx.lang;
        let identity = self.identity(lang);
        let values: HashMap<String, String> = self
            .fields
            .iter()
            .filter_map(|f| {
                posted
                    .and_then(|p| p.get(&f.form_name()))
                    .map(|v| (f.name.clone(), v.clone()))
            })
            .collect();
        let page = pages::IssuePage {
            csrf: &signed.session.csrf,
            handle: self.handle,
            subject: self.number.as_str(),
            type_id: self.type_id,
            type_name: type_name(state, self.type_id, lang),
            fields: &self.fields,
            values: &values,
            errors,
            identity: &identity,
            register_first: self.register_first(),
        };
        let action = format!("/portal/people/{}/issue/{}", self.handle, self.type_id);
        let chrome = match posted {
            Some(posted) => signed.reposting(&action, posted),
            None => signed.chrome(),
        };
        signed.page(status, pages::issue_form(&chrome, &page))
    }
}

async fn issue_form(
    State(state): State<AppState>,
    signed: SignedIn,
    Path((handle, type_id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let form = IssueForm::load(&state, &signed, &handle, &type_id).await?;
    Ok(form.page(
        &state,
        &signed,
        None,
        &FormErrors::default(),
        StatusCode::OK,
    ))
}

async fn issue(
    State(state): State<AppState>,
    signed: SignedIn,
    Path((handle, type_id)): Path<(String, String)>,
    axum::Form(posted): PostedForm,
) -> Result<Response, PageError> {
    signed.check_csrf(&posted)?;
    let lang = signed.ctx.lang;
    let form = IssueForm::load(&state, &signed, &handle, &type_id).await?;
    if form.register_first() {
        return Ok(form.page(
            &state,
            &signed,
            Some(&posted),
            &FormErrors::default(),
            StatusCode::CONFLICT,
        ));
    }
    let (claims, mut errors) = form::parse(&form.fields, &posted);
    let prepared = claims::prepare(
        form.credential_type,
        claims,
        &form.number,
        form.person.as_ref(),
        intyg_service::time::today(),
    );
    match &prepared {
        Err(Refusal::Invalid(problems)) => {
            errors.add_problems(form.credential_type, &form.fields, problems, lang);
        }
        Err(mismatch @ Refusal::Mismatch { .. }) => errors.general.push(mismatch.to_string()),
        Ok(_) => {}
    }
    let claims = match prepared {
        Ok(claims) if errors.is_empty() && !posted.contains_key(RELANG) => claims,
        _ => {
            let status = if errors.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            return Ok(form.page(&state, &signed, Some(&posted), &errors, status));
        }
    };
    let created = make_offer(
        &state,
        CreateOffer {
            credential_configuration_id: type_id.clone(),
            claims,
            subject: form.number.as_str().to_owned(),
        },
        &signed.actor(),
    )
    .await
    .map_err(|e| signed.api(e))?;
    let type_name = type_name(&state, &type_id, lang);
    offer_page(
        &state,
        &signed,
        &handle,
        &type_id,
        type_name,
        &created,
        StatusCode::CREATED,
    )
}

/// The offer page; its language switch posts the PIN back to
/// [`offer_again`].
fn offer_page(
    state: &AppState,
    signed: &SignedIn,
    handle: &str,
    type_id: &str,
    type_name: &str,
    created: &crate::admin::OfferCreated,
    status: StatusCode,
) -> Result<Response, PageError> {
    let qr = qr_svg(&created.offer_uri).map_err(|e| signed.api(e))?;
    let action = format!("/portal/people/{handle}/offers/{}", created.offer_id);
    let fields = vec![
        ("csrf", signed.session.csrf.as_str()),
        ("tx_code", created.tx_code.as_str()),
    ];
    let chrome = signed.chrome().reposting(&action, fields);
    let audience = state.requirements(type_id).audience();
    let markup = pages::offer(&chrome, handle, type_name, created, &qr, audience);
    Ok(signed.page(status, markup))
}

/// `POST /portal/people/{handle}/offers/{offer_id}`: the offer again, its
/// PIN posted back and checked against the stored hash (the PIN itself is
/// never stored), while it is unused and valid.
async fn offer_again(
    State(state): State<AppState>,
    signed: SignedIn,
    Path((handle, offer_id)): Path<(String, String)>,
    axum::Form(posted): PostedForm,
) -> Result<Response, PageError> {
    signed.check_csrf(&posted)?;
    let lang = signed.ctx.lang;
    let subject = signed.subject(&handle)?;
    let not_found = || PageError::new(lang, StatusCode::NOT_FOUND, Msg::NotFound);
    let offer = state
        .stores
        .offers
        .by_id(&offer_id)
        .await
        .map_err(|e| signed.api(e.into()))?
        .ok_or_else(not_found)?;
    let record = state
        .stores
        .credentials
        .get(&offer.credential_id)
        .await
        .map_err(|e| signed.api(e.into()))?
        .filter(|r| r.subject == subject)
        .ok_or_else(not_found)?;
    let tx_code = posted.get("tx_code").map_or("", String::as_str);
    if offer.tx_code_hash.as_deref() != Some(crate::sha256_hex(tx_code).as_str()) {
        return Err(not_found());
    }
    if offer.redeemed || offer.expires_at <= now() || record.state != CredentialState::Offered {
        return Err(PageError::new(lang, StatusCode::GONE, Msg::OfferGone));
    }
    let created = crate::admin::OfferCreated {
        offer_uri: crate::issuance::offer_uri(&state, &offer.id),
        tx_code: tx_code.to_owned(),
        credential_ids: vec![record.id.clone()],
        expires_at: offer.expires_at,
        offer_id: offer.id,
    };
    let type_id = &record.credential_configuration_id;
    let type_name = type_name(&state, type_id, lang);
    offer_page(
        &state,
        &signed,
        &handle,
        type_id,
        type_name,
        &created,
        StatusCode::OK,
    )
}

/// The QR code of `data` as SVG.
fn qr_svg(data: &str) -> Result<String, ApiError> {
    let code = qrcode::QrCode::with_error_correction_level(data.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| ApiError::Issuance(format!("QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(256, 256)
        .build())
}

/// The record `id` of the person behind `handle`, or not found.
async fn own_record(
    state: &AppState,
    signed: &SignedIn,
    handle: &str,
    id: &str,
) -> Result<crate::model::CredentialRecord, PageError> {
    let subject = signed.subject(handle)?;
    state
        .stores
        .credentials
        .get(id)
        .await
        .map_err(|e| signed.api(e.into()))?
        .filter(|r| r.subject == subject)
        .ok_or_else(|| PageError::new(signed.ctx.lang, StatusCode::NOT_FOUND, Msg::NotFound))
}

/// The revocation confirmation, with what was chosen and its errors.
async fn revoke_page(
    state: &AppState,
    signed: &SignedIn,
    handle: &str,
    record: &crate::model::CredentialRecord,
    chosen: (Option<RevocationReason>, &str),
    errors: &[(&'static str, String)],
) -> Result<Response, PageError> {
    let person = state
        .stores
        .persons
        .get(&record.subject)
        .await
        .map_err(|e| signed.api(e.into()))?;
    let page = pages::RevokePage {
        csrf: &signed.session.csrf,
        handle,
        person: person.as_ref(),
        subject: &record.subject,
        record,
        type_name: type_name(state, &record.credential_configuration_id, signed.ctx.lang),
        reason: chosen.0,
        note: chosen.1,
        errors,
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(signed.page(status, pages::revoke(&signed.chrome(), &page)))
}

/// `GET .../credentials/{id}/revoke`: asks before revoking.
async fn confirm_revoke(
    State(state): State<AppState>,
    signed: SignedIn,
    Path((handle, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let record = own_record(&state, &signed, &handle, &id).await?;
    revoke_page(&state, &signed, &handle, &record, (None, ""), &[]).await
}

/// The longest revocation note, in characters.
const NOTE_MAX: usize = 500;

async fn change_status(
    State(state): State<AppState>,
    signed: SignedIn,
    Path((handle, id, action)): Path<(String, String, String)>,
    axum::Form(form): PostedForm,
) -> Result<Response, PageError> {
    signed.check_csrf(&form)?;
    let lang = signed.ctx.lang;
    let record = own_record(&state, &signed, &handle, &id).await?;
    let revocation = if action == "revoke" {
        let reason = form.get("reason").and_then(|r| RevocationReason::parse(r));
        let note = form.get("note").map_or("", |n| n.trim());
        let mut errors: Vec<(&'static str, String)> = Vec::new();
        if reason.is_none() {
            errors.push(("reason", lang.t(Msg::ErrChooseReason).to_owned()));
        }
        if note.is_empty() && reason == Some(RevocationReason::Other) {
            errors.push(("note", lang.t(Msg::ErrRequired).to_owned()));
        } else if note.chars().count() > NOTE_MAX {
            let text = lang.t(Msg::ErrTooLong).replace("{}", &NOTE_MAX.to_string());
            errors.push(("note", text));
        } else if let Err(found) = intyg_core::text::check(note, intyg_core::text::Lines::Multi) {
            let code = format!("U+{:04X}", u32::from(found.character));
            errors.push((
                "note",
                lang.t(Msg::ErrControlCharacter).replace("{}", &code),
            ));
        }
        let Some(reason) = reason.filter(|_| errors.is_empty()) else {
            return revoke_page(&state, &signed, &handle, &record, (reason, note), &errors).await;
        };
        Some(Revocation {
            reason,
            note: note.to_owned(),
            by: signed.session.user.username.clone(),
            at: now(),
        })
    } else {
        None
    };
    apply_status(&state, &id, &action, revocation, &signed.actor())
        .await
        .map_err(|e| signed.api(e))?;
    tracing::info!(credential = %id, action = %action, "officer changed a credential's status");
    let query = match action.as_str() {
        "revoke" => format!("revoked={id}"),
        "withdraw" => "withdrawn=1".to_owned(),
        _ => "changed=1".to_owned(),
    };
    Ok(signed
        .ctx
        .redirect(&format!("/portal/people/{handle}?{query}")))
}
