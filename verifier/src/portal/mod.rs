//! The employer portal: server-rendered HTML in Swedish and English. The
//! only script is `portal.js`, a few lines that follow an applicant
//! session's status (Server-Sent Events, or polling where `EventSource` is
//! missing) so that the page turns to verified, declined or failed without
//! a reload (without it the page says to reload).
//!
//! | route | what |
//! |---|---|
//! | `GET /` | redirects to `/portal` |
//! | `GET /portal` | the internship postings (sign-in page when signed out) |
//! | `GET, POST /portal/login` | sign in |
//! | `POST /portal/logout` | sign out |
//! | `GET /portal/postings/new`, `POST /portal/postings` | create a posting (title, description, purpose) |
//! | `GET /portal/postings/{id}` | a posting and its applications |
//! | `POST /portal/postings/{id}/sessions` | open an applicant session: a presentation request from the `internship-application` template with the posting's purpose |
//! | `GET /portal/postings/{id}/sessions/{tx}` | the request as a QR code and an `openid4vp://` link, the status, the verified claims |
//! | `GET /portal/postings/{id}/sessions/{tx}/status` | the status as JSON with rendered fragments (`portal.js` polls it where `EventSource` is missing) |
//! | `GET /portal/postings/{id}/sessions/{tx}/events` | the same fragments as Server-Sent Events, one per state, ending with the transaction ([`crate::events`]) |
//! | `GET /portal/trust-lists` | the trust lists in use: scheme, state, number, dates, last failure |
//! | `GET /portal/webhooks` | webhook subscriptions and the outbox: dead letters first, then waiting and delivered |
//! | `GET /portal/accessibility` | the accessibility statement (public, linked from every page's footer) |
//! | `GET /portal/focus.js` | moves the focus to an error summary (shared with the other portal) |
//! | `GET /portal/portal.css`, `GET /portal/portal.js` | static assets |
//!
//! Verified claims are shown with the labels of their type metadata
//! ([`types`]), with the issuer's name and the credential's status. Personal
//! data is never logged. Every POST form carries a CSRF token; sessions are
//! held in memory (see [`session`]).

pub mod i18n;
pub mod pages;
pub mod session;
pub mod types;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::Markup;
use serde::Serialize;

use crate::config::{Config, ConfigError, Employer};
use crate::error::ApiError;
use crate::model::{Outcome, Transaction};
use crate::postings::{self, FieldProblem, NewPosting};
use crate::presentation::invocation_uri;
use crate::store::Posting;
use crate::{AppState, now, random_token};
use i18n::{Lang, Msg};
use intyg_service::portal::Peer;
use intyg_service::portal::chrome::{self, FOCUS_JS_PATH, focus_js};
use intyg_service::portal::statement;
use pages::Chrome;
use session::{Session, SignInFailure, csrf_matches};

/// Session cookie (not the officer portal's name: both may run on one host).
const SESSION_COOKIE: &str = "intyg_employer";
/// Double-submit CSRF cookie of the sign-in form.
const LOGIN_COOKIE: &str = "intyg_employer_login";

/// Username of the development employer.
pub const DEV_EMPLOYER: &str = "arbetsgivare";
/// Password of the development employer unless `INTYG_EMPLOYER_PASSWORD` is set.
pub const DEV_PASSWORD: &str = "intyg-dev";
/// argon2id hash of [`DEV_PASSWORD`] (saves hashing on every dev start).
const DEV_PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$Bw0VIjdZkOkBAgMFCA0VIg$qDJ4xp376xe31YmyGOh17Ww4haVkeSOiU+AnhA3TD8k";

/// The development employer of `--dev` mode.
pub fn dev_employer() -> Result<Employer, ConfigError> {
    let password_hash = match std::env::var("INTYG_EMPLOYER_PASSWORD") {
        Ok(password) if !password.is_empty() => session::hash_password(&password)
            .map_err(|_| ConfigError::Env("INTYG_EMPLOYER_PASSWORD"))?,
        _ => DEV_PASSWORD_HASH.to_owned(),
    };
    Ok(Employer {
        username: DEV_EMPLOYER.to_owned(),
        password_hash,
        name: "Arbetsgivare Utveckling".to_owned(),
    })
}

/// Why the portal could not start.
#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    /// A credential type's metadata (or its folder) could not be read.
    #[error("credential type metadata {path}: {reason}")]
    TypeMetadata {
        /// The file or folder.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// The portal's state: accounts, sessions, type metadata, issuer names.
#[derive(Debug)]
pub struct PortalState {
    sessions: session::Sessions,
    types: types::Types,
    issuer_names: std::collections::BTreeMap<String, String>,
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
    pub fn new(
        config: &Config,
        store: Arc<dyn intyg_service::session::SessionStore>,
    ) -> Result<Self, PortalError> {
        Ok(Self {
            sessions: session::sessions(&config.portal, store),
            types: types::Types::load(&config.portal.credential_types_dir)?,
            issuer_names: config.portal.issuer_names.clone(),
            secure_cookies: config.public_url.starts_with("https://"),
            feedback_email: config.portal.feedback_email.clone(),
            trusted_proxies: config.portal.trusted_proxies.clone(),
        })
    }

    /// The display name of an issuer: configured, else its URL's host.
    /// An issuer's name: the configured one, else the one its metadata
    /// gives in `locale` (or English, or any), else its host.
    fn issuer_name<'a>(
        &'a self,
        iss: &'a str,
        from_metadata: &'a std::collections::BTreeMap<String, String>,
        locale: &str,
    ) -> &'a str {
        if let Some(name) = self.issuer_names.get(iss) {
            return name;
        }
        if let Some(name) = from_metadata
            .get(locale)
            .or_else(|| from_metadata.get("en"))
            .or_else(|| from_metadata.values().next())
        {
            return name;
        }
        let rest = iss.split_once("://").map_or(iss, |(_, rest)| rest);
        rest.split(['/', ':']).next().unwrap_or(rest)
    }
}

/// The portal's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/portal") }))
        .route("/portal", get(home))
        .route("/portal/login", get(login_page).post(login))
        .route("/portal/logout", get(to_page).post(logout))
        .route("/portal/postings", get(to_page).post(create_posting))
        .route("/portal/postings/new", get(new_posting))
        .route("/portal/postings/{id}", get(posting))
        .route(
            "/portal/postings/{id}/sessions",
            get(to_page).post(new_session),
        )
        .route("/portal/postings/{id}/sessions/{tx}", get(session_page))
        .route("/portal/postings/{id}/sessions/{tx}/status", get(status))
        .route("/portal/postings/{id}/sessions/{tx}/events", get(events))
        .route("/portal/webhooks", get(webhooks))
        .route("/portal/trust-lists", get(trust_lists))
        .route(statement::PATH, get(accessibility))
        .route(FOCUS_JS_PATH, get(focus_js))
        .route("/portal/portal.css", get(css))
        .route("/portal/portal.js", get(js))
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

/// A request from a signed-in employer; others are sent to sign in.
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
    fn chrome(&self) -> Chrome<'_> {
        Chrome::new(
            self.ctx.lang,
            &self.ctx.path,
            Some((&self.session.user.name, &self.session.csrf)),
        )
    }

    fn check_csrf(&self, form: &HashMap<String, String>) -> Result<(), PageError> {
        if csrf_matches(form.get("csrf").map(String::as_str), &self.session.csrf) {
            Ok(())
        } else {
            Err(self.error(StatusCode::FORBIDDEN, Msg::FormExpired))
        }
    }

    fn page(&self, status: StatusCode, markup: Markup) -> Response {
        self.ctx.page(status, markup)
    }

    fn error(&self, status: StatusCode, message: Msg) -> PageError {
        PageError::new(self.ctx.lang, status, message)
    }

    fn api(&self, error: impl Into<ApiError>) -> PageError {
        PageError::api(self.ctx.lang, error.into())
    }

    /// The posting `id`, or a 404 page.
    async fn posting(&self, state: &AppState, id: &str) -> Result<Posting, PageError> {
        state
            .stores
            .postings
            .get(id)
            .await
            .map_err(|e| self.api(e))?
            .ok_or_else(|| self.error(StatusCode::NOT_FOUND, Msg::NotFound))
    }

    /// The transaction `tx` if it is an application to `posting`, or a 404.
    async fn application(
        &self,
        state: &AppState,
        posting: &str,
        tx: &str,
    ) -> Result<(Posting, Transaction), PageError> {
        let posting = self.posting(state, posting).await?;
        let applications = state
            .stores
            .postings
            .applications(&posting.id)
            .await
            .map_err(|e| self.api(e))?;
        if !applications.iter().any(|a| a.transaction_id == tx) {
            return Err(self.error(StatusCode::NOT_FOUND, Msg::NotFound));
        }
        let mut transaction = state
            .stores
            .transactions
            .get(tx)
            .await
            .map_err(|e| self.api(e))?
            .ok_or_else(|| self.error(StatusCode::NOT_FOUND, Msg::NotFound))?;
        crate::personal::open(state, &mut transaction)
            .await
            .map_err(|e| self.api(e))?;
        Ok((posting, transaction))
    }
}

/// The security headers of every portal page: scripts and fetches only
/// from this origin, no inline script or style, no framing.
const CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

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
            other => Self::internal(lang, &other),
        }
    }

    fn internal(lang: Lang, error: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %error, "portal request failed");
        Self::new(lang, StatusCode::INTERNAL_SERVER_ERROR, Msg::ServerError)
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
/// belongs to, the posting's page or the start page.
async fn to_page(ctx: Ctx, Path(params): Path<Vec<(String, String)>>) -> Response {
    match params.iter().find(|(name, _)| name == "id") {
        Some((_, id)) => ctx.redirect(&format!("/portal/postings/{id}")),
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

async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        pages::JS,
    )
}

async fn home(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    let Some((_, session)) = &ctx.session else {
        return Ok(ctx.redirect("/portal/login"));
    };
    let mut postings = state
        .stores
        .postings
        .all()
        .await
        .map_err(|e| PageError::api(ctx.lang, e.into()))?;
    postings.sort_by_key(|p| std::cmp::Reverse(p.created_at));
    let chrome = Chrome::new(
        ctx.lang,
        &ctx.path,
        Some((&session.user.name, &session.csrf)),
    );
    Ok(ctx.page(StatusCode::OK, pages::postings(&chrome, &postings)))
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
    let sessions = &state.portal.sessions;
    let outcome = sessions
        .sign_in(username, password, client, now())
        .await
        .map_err(|e| PageError::api(ctx.lang, e.into()))?;
    let who = sessions.audit_name(username);
    let event = |action: &str| {
        intyg_service::audit::Event::new(who.clone(), action)
            .subject(crate::audit::employer(&who))
            .source(client)
    };
    match outcome {
        Ok(employer) => {
            state.audit.record_or_log(event("signin.success")).await;
            let id = sessions
                .create(employer, now())
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
        .map_err(|e| signed.api(e))?;
    let mut response = signed.ctx.redirect("/portal/login");
    if let Some(cookie) = signed.ctx.cookie(SESSION_COOKIE, "", 0) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

async fn new_posting(signed: SignedIn) -> Response {
    let lang = signed.ctx.lang;
    let form = pages::PostingForm {
        csrf: &signed.session.csrf,
        title: "",
        description: "",
        purpose: lang.t(Msg::DefaultPurpose),
        errors: &[],
    };
    signed.page(StatusCode::OK, pages::posting_form(&signed.chrome(), &form))
}

/// Checks a posted text field: trimmed, required, at most `max` characters.
async fn create_posting(
    State(state): State<AppState>,
    signed: SignedIn,
    axum::Form(form): PostedForm,
) -> Result<Response, PageError> {
    signed.check_csrf(&form)?;
    let text = |name: &str| form.get(name).map_or("", String::as_str);
    let new = NewPosting {
        title: text("title"),
        description: text("description"),
        purpose: text("purpose"),
        max_status_age: None,
        legal_basis: None,
    };
    let problems = new.problems();
    let relang = form.contains_key(intyg_service::portal::chrome::RELANG);
    if !problems.is_empty() || relang {
        let lang = signed.ctx.lang;
        let errors: Vec<(&'static str, String)> = problems
            .into_iter()
            .map(|(name, problem)| {
                let text = match problem {
                    FieldProblem::Required => lang.t(Msg::ErrRequired).to_owned(),
                    FieldProblem::TooLong { max } => {
                        lang.t(Msg::ErrTooLong).replace("{}", &max.to_string())
                    }
                    FieldProblem::ControlCharacter(found) => lang
                        .t(Msg::ErrControlCharacter)
                        .replace("{}", &format!("U+{:04X}", u32::from(found.character))),
                };
                (name, text)
            })
            .collect();
        let page = pages::PostingForm {
            csrf: &signed.session.csrf,
            title: new.title.trim(),
            description: new.description.trim(),
            purpose: new.purpose.trim(),
            errors: &errors,
        };
        // A page answering a POST: the language switch posts it again.
        let chrome = signed.chrome().reposting(
            "/portal/postings",
            form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
        );
        let status = if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        return Ok(signed.page(status, pages::posting_form(&chrome, &page)));
    }
    let username = &signed.session.user.username;
    let posting = postings::create(&state, new, username, signed.client)
        .await
        .map_err(|e| signed.api(e))?;
    Ok(signed
        .ctx
        .redirect(&format!("/portal/postings/{}?created=1", posting.id)))
}

async fn posting(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let posting = signed.posting(&state, &id).await?;
    let mut applications = state
        .stores
        .postings
        .applications(&id)
        .await
        .map_err(|e| signed.api(e))?;
    applications.sort_by_key(|a| std::cmp::Reverse(a.created_at));
    let now = now();
    let mut rows = Vec::with_capacity(applications.len());
    for application in &applications {
        let Some(mut transaction) = state
            .stores
            .transactions
            .get(&application.transaction_id)
            .await
            .map_err(|e| signed.api(e))?
        else {
            continue;
        };
        crate::personal::open(&state, &mut transaction)
            .await
            .map_err(|e| signed.api(e))?;
        rows.push(pages::ApplicationRow {
            transaction_id: application.transaction_id.clone(),
            opened: application.created_at,
            applicant: applicant_name(&transaction),
            state: SessionState::of(&transaction, now),
        });
    }
    let page = pages::PostingPage {
        csrf: &signed.session.csrf,
        posting: &posting,
        created: query.contains_key("created"),
        applications: &rows,
    };
    Ok(signed.page(StatusCode::OK, pages::posting(&signed.chrome(), &page)))
}

/// The applicant's name, when both parts were disclosed (each answers
/// its own optional credential query of the template).
fn applicant_name(transaction: &Transaction) -> Option<String> {
    let claim = |name: &str| {
        transaction
            .credentials
            .iter()
            .find_map(|credential| credential.claims.get(name)?.as_str())
    };
    Some(format!(
        "{} {}",
        claim("given_name")?,
        claim("family_name")?
    ))
}

async fn new_session(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    axum::Form(form): PostedForm,
) -> Result<Response, PageError> {
    signed.check_csrf(&form)?;
    let posting = signed.posting(&state, &id).await?;
    let options = crate::presentation::RequestOptions::defaults(&state);
    let username = &signed.session.user.username;
    let transaction =
        postings::open_application(&state, &posting, options, username, signed.client)
            .await
            .map_err(|e| signed.api(e))?;
    Ok(signed.ctx.redirect(&format!(
        "/portal/postings/{}/sessions/{}",
        posting.id, transaction.id
    )))
}

/// Where an applicant session stands, as the portal shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// Waiting for the wallet.
    Pending,
    /// Every check passed.
    Verified,
    /// The applicant declined.
    Declined,
    /// The applicant's wallet holds none of some credentials asked for.
    NoMatchingCredential,
    /// A check failed.
    Failed,
    /// No answer came in time.
    Expired,
}

impl SessionState {
    fn of(transaction: &Transaction, now: i64) -> Self {
        match transaction.outcome {
            Outcome::Pending if transaction.expires_at <= now && !transaction.processing => {
                Self::Expired
            }
            Outcome::Pending if transaction.abandoned(now) => Self::Failed,
            Outcome::Pending => Self::Pending,
            Outcome::Verified => Self::Verified,
            Outcome::Declined => Self::Declined,
            Outcome::NoMatchingCredential => Self::NoMatchingCredential,
            Outcome::Failed => Self::Failed,
        }
    }

    /// Whether it can still change.
    fn is_final(self) -> bool {
        self != Self::Pending
    }

    fn text(self) -> Msg {
        match self {
            Self::Pending => Msg::StatusPending,
            Self::Verified => Msg::StatusVerified,
            Self::Declined => Msg::StatusDeclined,
            Self::NoMatchingCredential => Msg::StatusNoMatchingCredential,
            Self::Failed => Msg::StatusFailed,
            Self::Expired => Msg::StatusExpired,
        }
    }
}

/// What the status and result fragments show of a transaction.
fn session_view<'a>(
    state: &'a AppState,
    transaction: &'a Transaction,
    lang: Lang,
) -> pages::Result<'a> {
    let portal = &state.portal;
    let locale = lang.code();
    let query = transaction.dcql_query.query().ok();
    let queries = query.as_ref().map_or(&[][..], |q| &q.credentials[..]);
    // In the order the query asks for them: registration, eligibility, diploma.
    let asked: Vec<&str> = queries.iter().map(|q| q.id.as_str()).collect();
    let mut records: Vec<_> = transaction.credentials.iter().collect();
    records.sort_by_key(|r| asked.iter().position(|id| *id == r.query_id));
    let credentials = records
        .into_iter()
        .map(|credential| {
            let mut claims: Vec<_> = credential
                .claims
                .iter()
                .flat_map(|(name, value)| {
                    let rank = portal.types.rank(&credential.vct, name);
                    // An object whose members the type labels (a minimal
                    // attestation's predicates) reads as one row each.
                    let members: Option<Vec<_>> = value.as_object().map(|members| {
                        members
                            .iter()
                            .filter_map(|(member, inner)| {
                                let label = portal.types.member_label(
                                    &credential.vct,
                                    name,
                                    member,
                                    locale,
                                )?;
                                Some((rank, label, inner, None))
                            })
                            .collect()
                    });
                    match members {
                        Some(rows)
                            if !rows.is_empty()
                                && value.as_object().is_some_and(|m| m.len() == rows.len()) =>
                        {
                            rows
                        }
                        _ => {
                            let label = portal.types.label(&credential.vct, name, locale);
                            vec![(
                                rank,
                                label.unwrap_or(name),
                                value,
                                portal
                                    .types
                                    .value_label(&credential.vct, name, value, locale),
                            )]
                        }
                    }
                })
                .collect();
            claims.sort_by_key(|(rank, _, _, _)| *rank);
            pages::CredentialView {
                type_name: portal
                    .types
                    .name(&credential.vct, locale)
                    .unwrap_or(&credential.vct),
                issuer: credential.issuer.as_deref().map(|iss| {
                    (
                        portal.issuer_name(iss, &credential.issuer_name, locale),
                        iss,
                    )
                }),
                status: credential.status.as_deref(),
                status_checked: credential.status_checked_at.map(|at| {
                    (
                        at,
                        credential
                            .status_list_issued_at
                            .map_or(0, |issued| (at - issued).max(0)),
                    )
                }),
                claims: claims
                    .into_iter()
                    .map(|(_, label, value, words)| (label, value, words))
                    .collect(),
            }
        })
        .collect();
    // A Credential Query by its type's name (its id when the type is
    // unknown), for "which credential" in failures and missing ones.
    let query_name = |id: &str| -> String {
        queries
            .iter()
            .find(|q| q.id == id)
            .and_then(|q| q.meta.vct_values.as_ref()?.first())
            .and_then(|vct| portal.types.name(vct, locale))
            .map_or_else(|| id.to_owned(), str::to_owned)
    };
    pages::Result {
        state: SessionState::of(transaction, now()),
        reason: transaction.reason.as_deref(),
        failed_credential: transaction.failed_credential.as_deref().map(query_name),
        missing_credentials: transaction
            .missing_credentials
            .iter()
            .map(|id| query_name(id))
            .collect(),
        credentials,
        claims_deleted_at: transaction.claims_deleted_at,
        erased_at: transaction.erased_at(),
    }
}

async fn session_page(
    State(state): State<AppState>,
    signed: SignedIn,
    Path((id, tx)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (posting, transaction) = signed.application(&state, &id, &tx).await?;
    let uri = invocation_uri(&state, &transaction).map_err(|e| signed.api(e))?;
    let qr = crate::qr::svg(&uri).map_err(|e| signed.api(e))?;
    let page = pages::SessionPage {
        posting: &posting,
        transaction_id: &transaction.id,
        opened: transaction.created_at,
        expires_at: transaction.expires_at,
        invocation_uri: &uri,
        qr_svg: &qr,
        result: session_view(&state, &transaction, signed.ctx.lang),
    };
    Ok(signed.page(StatusCode::OK, pages::session(&signed.chrome(), &page)))
}

/// `GET .../status`: what `portal.js` swaps into the page.
#[derive(Debug, Serialize)]
struct StatusFragment {
    state: SessionState,
    #[serde(rename = "final")]
    done: bool,
    status_html: String,
    result_html: String,
}

impl StatusFragment {
    fn of(state: &AppState, transaction: &Transaction, lang: Lang) -> Self {
        let view = session_view(state, transaction, lang);
        Self {
            state: view.state,
            done: view.state.is_final(),
            status_html: pages::status(lang, &view).into_string(),
            result_html: pages::result(lang, &view).into_string(),
        }
    }
}

async fn status(
    State(state): State<AppState>,
    signed: SignedIn,
    Path((id, tx)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (_, transaction) = signed.application(&state, &id, &tx).await?;
    let fragment = StatusFragment::of(&state, &transaction, signed.ctx.lang);
    let mut response = Json(fragment).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

/// `GET .../events`: the [`StatusFragment`]s as Server-Sent Events (event
/// `status`), one per state, ending with the transaction.
async fn events(
    State(state): State<AppState>,
    signed: SignedIn,
    Path((id, tx)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (_, transaction) = signed.application(&state, &id, &tx).await?;
    let lang = signed.ctx.lang;
    let render_state = state.clone();
    let stream = crate::events::watch(state, transaction.id, move |transaction, _| {
        let fragment = StatusFragment::of(&render_state, transaction, lang);
        axum::response::sse::Event::default()
            .event("status")
            .json_data(&fragment)
            .unwrap_or_else(|_| axum::response::sse::Event::default().event("status"))
    });
    let mut response = stream.into_response();
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

/// `GET /portal/trust-lists`: the lists in use and their states.
async fn trust_lists(State(state): State<AppState>, signed: SignedIn) -> Response {
    signed.page(
        StatusCode::OK,
        pages::trust_lists(&signed.chrome(), &state.trust_lists.reports()),
    )
}

/// `GET /portal/webhooks`: subscriptions, and deliveries with dead ones
/// first (what needs the employer's attention), newest first within each.
async fn webhooks(State(state): State<AppState>, signed: SignedIn) -> Result<Response, PageError> {
    let mut subscriptions = state
        .stores
        .subscriptions
        .all()
        .await
        .map_err(|e| signed.api(e))?;
    subscriptions.sort_by_key(|s| s.created_at);
    let mut deliveries = state
        .stores
        .outbox
        .list(None)
        .await
        .map_err(|e| signed.api(e))?;
    deliveries.sort_by_key(|d| {
        (
            d.state != crate::store::DeliveryState::Dead,
            d.state != crate::store::DeliveryState::Pending,
            std::cmp::Reverse(d.created_at),
        )
    });
    deliveries.truncate(200);
    Ok(signed.page(
        StatusCode::OK,
        pages::webhooks(&signed.chrome(), &subscriptions, &deliveries),
    ))
}
