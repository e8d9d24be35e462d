//! The portal's pages, as maud templates: every value is escaped; the only
//! unescaped markup is the QR code's SVG, which the `qrcode` crate draws
//! from the request link (it holds no text).

use maud::{Markup, PreEscaped, html};
use serde_json::Value;

use super::SessionState;
use super::i18n::{Lang, Msg, reason_text};
use crate::store::Posting;

pub use intyg_service::portal::chrome::{layout, login};

/// What every page around its content needs.
pub type Chrome<'a> = intyg_service::portal::chrome::Chrome<'a, Msg>;

/// The postings, newest first.
pub fn postings(chrome: &Chrome<'_>, postings: &[Posting]) -> Markup {
    let lang = chrome.lang;
    layout(
        chrome,
        lang.t(Msg::Postings),
        html! {
            h1 { (lang.t(Msg::Postings)) }
            p {
                a.button id="new-posting" href="/portal/postings/new" { (lang.t(Msg::NewPosting)) }
                " "
                a id="webhooks-link" href="/portal/webhooks" { (lang.t(Msg::Webhooks)) }
                " "
                a id="trust-lists-link" href="/portal/trust-lists" { (lang.t(Msg::TrustLists)) }
            }
            @if postings.is_empty() {
                p { (lang.t(Msg::NoPostings)) }
            } @else {
                ul.postings {
                    @for posting in postings {
                        li {
                            a href={ "/portal/postings/" (posting.id) } { (posting.title) }
                            " – " (lang.t(Msg::Created)) " " (date_time(posting.created_at))
                        }
                    }
                }
            }
        },
    )
}

/// What the posting form shows.
#[derive(Debug)]
pub struct PostingForm<'a> {
    /// Session CSRF token.
    pub csrf: &'a str,
    /// Typed title.
    pub title: &'a str,
    /// Typed description.
    pub description: &'a str,
    /// Typed purpose.
    pub purpose: &'a str,
    /// Errors by field name, as shown.
    pub errors: &'a [(&'static str, String)],
}

/// The form of a new posting.
pub fn posting_form(chrome: &Chrome<'_>, form: &PostingForm<'_>) -> Markup {
    let lang = chrome.lang;
    let title = if form.errors.is_empty() {
        lang.t(Msg::NewPosting).to_owned()
    } else {
        format!("{}: {}", lang.t(Msg::ErrorTitle), lang.t(Msg::NewPosting))
    };
    let fields = [
        ("title", Msg::Title, None, form.title, false),
        (
            "description",
            Msg::Description,
            Some(Msg::DescriptionHint),
            form.description,
            true,
        ),
        (
            "purpose",
            Msg::Purpose,
            Some(Msg::PurposeHint),
            form.purpose,
            true,
        ),
    ];
    let label_of = |name: &str| {
        fields
            .iter()
            .find(|f| f.0 == name)
            .map_or("", |f| lang.t(f.1))
    };
    layout(
        chrome,
        &title,
        html! {
            h1 { (lang.t(Msg::NewPosting)) }
            @if !form.errors.is_empty() {
                div.error-summary role="alert" tabindex="-1" aria-labelledby="error-summary-title" {
                    h2 id="error-summary-title" { (lang.t(Msg::FixErrors)) }
                    ul {
                        @for (name, msg) in form.errors {
                            li { a href={ "#posting-" (name) } { (label_of(name)) ": " (msg) } }
                        }
                    }
                }
            }
            p { (lang.t(Msg::FormIntro)) }
            form method="post" action="/portal/postings" novalidate {
                input type="hidden" name="csrf" value=(form.csrf);
                @for (name, label, hint, value, multiline) in fields {
                    @let id = format!("posting-{name}");
                    @let error = form.errors.iter().find(|(n, _)| *n == name).map(|(_, m)| m.as_str());
                    @let described: Vec<String> = [
                        hint.map(|_| format!("{id}-hint")),
                        error.map(|_| format!("{id}-error")),
                    ].into_iter().flatten().collect();
                    @let described = (!described.is_empty()).then(|| described.join(" "));
                    div.field.invalid[error.is_some()] {
                        label for=(id) {
                            (lang.t(label))
                            " " abbr title=(lang.t(Msg::Required)) aria-hidden="true" { "*" }
                            span.visually-hidden { " (" (lang.t(Msg::Required)) ")" }
                        }
                        @if let Some(hint) = hint {
                            p.hint id={ (id) "-hint" } { (lang.t(hint)) }
                        }
                        @if let Some(error) = error {
                            p.error id={ (id) "-error" } { (error) }
                        }
                        @if multiline {
                            textarea id=(id) name=(name) rows="5" required
                                aria-invalid=[error.map(|_| "true")] aria-describedby=[described.as_deref()] { (value) }
                        } @else {
                            input id=(id) type="text" name=(name) value=(value) required
                                aria-invalid=[error.map(|_| "true")] aria-describedby=[described.as_deref()];
                        }
                    }
                }
                button type="submit" { (lang.t(Msg::CreatePosting)) }
            }
            p { a href="/portal" { (lang.t(Msg::AllPostings)) } }
        },
    )
}

/// One application in a posting's list.
#[derive(Debug)]
pub struct ApplicationRow {
    /// Its transaction.
    pub transaction_id: String,
    /// When the session was opened.
    pub opened: i64,
    /// The disclosed name, if any.
    pub applicant: Option<String>,
    /// Where it stands.
    pub state: SessionState,
}

/// What the posting page shows.
#[derive(Debug)]
pub struct PostingPage<'a> {
    /// Session CSRF token.
    pub csrf: &'a str,
    /// The posting.
    pub posting: &'a Posting,
    /// Whether it was just created.
    pub created: bool,
    /// Its applications, newest first.
    pub applications: &'a [ApplicationRow],
}

/// A posting, its applications and the button that opens a session.
pub fn posting(chrome: &Chrome<'_>, page: &PostingPage<'_>) -> Markup {
    let lang = chrome.lang;
    let posting = page.posting;
    layout(
        chrome,
        &posting.title,
        html! {
            h1 { (posting.title) }
            @if page.created {
                p.notice role="status" { (lang.t(Msg::PostingCreated)) }
            }
            p.description { (posting.description) }
            p { strong { (lang.t(Msg::Purpose)) ": " } (posting.purpose) }
            form method="post" action={ "/portal/postings/" (posting.id) "/sessions" } {
                input type="hidden" name="csrf" value=(page.csrf);
                p.hint id="new-session-hint" { (lang.t(Msg::NewSessionHint)) }
                button id="new-session" type="submit" aria-describedby="new-session-hint" { (lang.t(Msg::NewSession)) }
            }
            h2 { (lang.t(Msg::Applications)) }
            @if page.applications.is_empty() {
                p { (lang.t(Msg::NoApplications)) }
            } @else {
                table id="applications" {
                    thead { tr {
                        th scope="col" { (lang.t(Msg::Opened)) }
                        th scope="col" { (lang.t(Msg::Applicant)) }
                        th scope="col" { (lang.t(Msg::Status)) }
                        th scope="col" { span.visually-hidden { (lang.t(Msg::Actions)) } }
                    } }
                    tbody {
                        @for row in page.applications {
                            tr {
                                td { (date_time(row.opened)) }
                                td {
                                    @match (&row.applicant, row.state) {
                                        (Some(name), _) => (name),
                                        (None, SessionState::Verified) => (lang.t(Msg::NameNotShared)),
                                        (None, _) => "–",
                                    }
                                }
                                td { span class={ "state state-" (state_class(row.state)) } { (lang.t(row.state.text())) } }
                                td {
                                    a href={ "/portal/postings/" (posting.id) "/sessions/" (row.transaction_id) }
                                        aria-label={ (lang.t(Msg::Show)) ": " (date_time(row.opened)) } {
                                        (lang.t(Msg::Show))
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p { a href="/portal" { (lang.t(Msg::AllPostings)) } }
        },
    )
}

fn state_class(state: SessionState) -> &'static str {
    match state {
        SessionState::Pending => "pending",
        SessionState::Verified => "verified",
        SessionState::Declined => "declined",
        SessionState::NoMatchingCredential => "no-matching-credential",
        SessionState::Failed => "failed",
        SessionState::Expired => "expired",
    }
}

/// One verified credential, ready to show.
#[derive(Debug)]
pub struct CredentialView<'a> {
    /// The type's display name (else its `vct`).
    pub type_name: &'a str,
    /// The issuer's display name and `iss`.
    pub issuer: Option<(&'a str, &'a str)>,
    /// Its status-list status (`valid`), if it has one.
    pub status: Option<&'a str>,
    /// When the status was checked, and how old the list used was then
    /// (seconds since the issuer signed it).
    pub status_checked: Option<(i64, i64)>,
    /// (label, value, the value in words when the type gives them), in
    /// the type's order.
    pub claims: Vec<(&'a str, &'a Value, Option<&'a str>)>,
}

/// What a session's status and result show.
#[derive(Debug)]
pub struct Result<'a> {
    /// Where it stands.
    pub state: SessionState,
    /// The failure reason code.
    pub reason: Option<&'a str>,
    /// The type name of the credential that failed, when one of several
    /// did.
    pub failed_credential: Option<String>,
    /// The type names of the credentials the wallet had none of.
    pub missing_credentials: Vec<String>,
    /// The verified credentials.
    pub credentials: Vec<CredentialView<'a>>,
    /// When the claims were deleted.
    pub claims_deleted_at: Option<i64>,
    /// When they were erased on the applicant's request.
    pub erased_at: Option<i64>,
}

/// What the session page shows.
#[derive(Debug)]
pub struct SessionPage<'a> {
    /// The posting.
    pub posting: &'a Posting,
    /// The transaction.
    pub transaction_id: &'a str,
    /// When it was opened.
    pub opened: i64,
    /// When the wallet's time runs out.
    pub expires_at: i64,
    /// The `openid4vp://` link.
    pub invocation_uri: &'a str,
    /// Its QR code.
    pub qr_svg: &'a str,
    /// Status and claims.
    pub result: Result<'a>,
}

/// An applicant session: the request as QR code and link while it waits,
/// the status in a live region, the verified claims.
pub fn session(chrome: &Chrome<'_>, page: &SessionPage<'_>) -> Markup {
    let lang = chrome.lang;
    let state = page.result.state;
    let base = format!(
        "/portal/postings/{}/sessions/{}",
        page.posting.id, page.transaction_id
    );
    let poll = format!("{base}/status");
    let events = format!("{base}/events");
    layout(
        chrome,
        &format!("{}: {}", lang.t(Msg::ApplicantSession), page.posting.title),
        html! {
            h1 { (lang.t(Msg::ApplicantSession)) ": " (page.posting.title) }
            p { (lang.t(Msg::Opened)) " " (date_time(page.opened)) }
            p { strong { (lang.t(Msg::Purpose)) ": " } (page.posting.purpose) }
            section id="invitation" aria-labelledby="invitation-title" hidden[state.is_final()] {
                h2 id="invitation-title" { (lang.t(Msg::ScanWithWallet)) }
                p { (lang.t(Msg::ScanInstructions)) }
                noscript { p { (lang.t(Msg::NoScript)) } }
                div.request {
                    figure id="request-qr" role="img" aria-label=(lang.t(Msg::QrAlt)) {
                        (PreEscaped(page.qr_svg))
                    }
                    div {
                        h3 { (lang.t(Msg::SameDeviceLink)) }
                        p { a id="wallet-link" href=(page.invocation_uri) { (lang.t(Msg::OpenInWallet)) } }
                        p { (lang.t(Msg::ValidUntil)) " " (date_time(page.expires_at)) }
                    }
                }
            }
            h2 { (lang.t(Msg::Status)) }
            div id="status" role="status" aria-live="polite" aria-atomic="true"
                data-poll=(poll) data-events=(events) data-state=(state_class(state)) data-final=(state.is_final()) {
                (status(lang, &page.result))
            }
            div id="result" { (result(lang, &page.result)) }
            p { a href={ "/portal/postings/" (page.posting.id) } { (lang.t(Msg::BackToPosting)) } }
        },
    )
}

/// The status sentence(s): the content of the live region.
pub fn status(lang: Lang, result: &Result<'_>) -> Markup {
    let state = result.state;
    let explanation = match state {
        SessionState::Pending => Some(Msg::PendingText),
        SessionState::Verified => Some(Msg::VerifiedText),
        SessionState::Declined => Some(Msg::DeclinedText),
        SessionState::Expired => Some(Msg::ExpiredText),
        SessionState::Failed | SessionState::NoMatchingCredential => None,
    };
    html! {
        p class={ "state state-" (state_class(state)) } id="status-text" { (lang.t(state.text())) }
        @if let Some(explanation) = explanation {
            p { (lang.t(explanation)) }
        }
        @if state == SessionState::NoMatchingCredential {
            p id="status-missing" {
                (lang.t(Msg::NoMatchingCredentialText))
                @if !result.missing_credentials.is_empty() {
                    ": " (result.missing_credentials.join(", "))
                }
                "."
            }
        }
        @if state == SessionState::Failed {
            @let code = result.reason.unwrap_or("");
            @if let Some(credential) = &result.failed_credential {
                p id="status-credential" { (lang.t(Msg::FailedCredential)) ": " (credential) }
            }
            p id="status-reason" { (lang.t(reason_text(code))) }
            p.hint { (lang.t(Msg::ReasonCode)) ": " code { (code) } }
        }
    }
}

/// The verified credentials (nothing unless verified).
pub fn result(lang: Lang, result: &Result<'_>) -> Markup {
    html! {
        @if result.state == SessionState::Verified {
            h2 { (lang.t(Msg::VerifiedCredentials)) }
            @if let Some(at) = result.erased_at {
                p.notice { (lang.t(Msg::ClaimsErased)) " (" (date_time(at)) ")" }
            } @else if let Some(at) = result.claims_deleted_at {
                p.notice { (lang.t(Msg::ClaimsDeleted)) " (" (date_time(at)) ")" }
            }
            @for (i, credential) in result.credentials.iter().enumerate() {
                section.credential aria-labelledby={ "credential-" (i) } {
                    h3 id={ "credential-" (i) } { (credential.type_name) }
                    dl {
                        dt { (lang.t(Msg::Issuer)) }
                        dd {
                            @match credential.issuer {
                                Some((name, iss)) => { (name) " " span.iss { "(" (iss) ")" } }
                                None => "–",
                            }
                        }
                        dt { (lang.t(Msg::CredentialStatus)) }
                        dd {
                            @match credential.status {
                                Some("valid") => (lang.t(Msg::CredentialValid)),
                                Some(other) => (other),
                                None => (lang.t(Msg::CredentialNoStatus)),
                            }
                        }
                        @if let Some((at, age)) = credential.status_checked {
                            dt { (lang.t(Msg::StatusChecked)) }
                            dd.status-checked {
                                (date_time(at)) " (" (lang.t(Msg::StatusListAge)) " "
                                (age) " " (lang.t(Msg::SecondsOld)) ")"
                            }
                        }
                    }
                    table.claims {
                        thead { tr {
                            th scope="col" { (lang.t(Msg::Claim)) }
                            th scope="col" { (lang.t(Msg::Value)) }
                        } }
                        tbody {
                            @for (label, value, words) in &credential.claims {
                                tr {
                                    th scope="row" { (label) }
                                    td { (words.map_or_else(|| value_text(lang, value), str::to_owned)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A claim value as text: strings as they are, lists joined, objects as JSON.
fn value_text(lang: Lang, value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Bool(true) => lang.t(Msg::Yes).to_owned(),
        Value::Bool(false) => lang.t(Msg::No).to_owned(),
        Value::Array(items) if items.iter().all(|i| !i.is_array() && !i.is_object()) => items
            .iter()
            .map(|i| value_text(lang, i))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// The trust lists in use, with each one's state.
pub fn trust_lists(
    chrome: &Chrome<'_>,
    lists: &[intyg_service::trust_lists::ListReport],
) -> Markup {
    use intyg_service::trust_lists::ListHealth;
    let lang = chrome.lang;
    layout(
        chrome,
        lang.t(Msg::TrustLists),
        html! {
            h1 { (lang.t(Msg::TrustLists)) }
            p { (lang.t(Msg::TrustListsIntro)) }
            @if lists.is_empty() {
                p { (lang.t(Msg::NoTrustLists)) }
            } @else {
                table id="trust-lists" {
                    thead { tr {
                        th scope="col" { (lang.t(Msg::TrustList)) }
                        th scope="col" { (lang.t(Msg::ListState)) }
                        th scope="col" { (lang.t(Msg::SequenceNumber)) }
                        th scope="col" { (lang.t(Msg::ListIssued)) }
                        th scope="col" { (lang.t(Msg::NextUpdate)) }
                        th scope="col" { (lang.t(Msg::LastError)) }
                    } }
                    tbody {
                        @for list in lists {
                            tr class={ "state-" (list.state.as_str()) } {
                                td {
                                    @if let Some(scheme) = &list.scheme { (scheme) br; }
                                    code { (list.url) }
                                }
                                td { (lang.t(match list.state {
                                    ListHealth::Pending => Msg::ListPending,
                                    ListHealth::Ok => Msg::ListOk,
                                    ListHealth::Stale => Msg::ListStale,
                                    ListHealth::Expired => Msg::ListExpired,
                                    ListHealth::Failed => Msg::ListFailed,
                                })) }
                                td { @if let Some(n) = list.sequence_number { (n) } }
                                td { @if let Some(at) = &list.issued { (at) } }
                                td { @if let Some(at) = &list.next_update { (at) } }
                                td { @if let Some(code) = list.error { code { (code) } } }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// Webhook subscriptions and deliveries (dead letters first).
pub fn webhooks(
    chrome: &Chrome<'_>,
    subscriptions: &[crate::store::Subscription],
    deliveries: &[crate::store::Delivery],
) -> Markup {
    use crate::store::DeliveryState;
    let lang = chrome.lang;
    let dead = deliveries
        .iter()
        .filter(|d| d.state == DeliveryState::Dead)
        .count();
    layout(
        chrome,
        lang.t(Msg::Webhooks),
        html! {
            h1 { (lang.t(Msg::Webhooks)) }
            p { (lang.t(Msg::WebhooksIntro)) }
            h2 { (lang.t(Msg::Subscriptions)) }
            @if subscriptions.is_empty() {
                p { (lang.t(Msg::NoSubscriptions)) }
            } @else {
                table {
                    thead { tr {
                        th scope="col" { "URL" }
                        th scope="col" { (lang.t(Msg::Events)) }
                        th scope="col" { (lang.t(Msg::Created)) }
                    } }
                    tbody {
                        @for subscription in subscriptions {
                            tr {
                                td { (subscription.url) }
                                td { (subscription.events.join(", ")) }
                                td { (date_time(subscription.created_at)) }
                            }
                        }
                    }
                }
            }
            h2 { (lang.t(Msg::Deliveries)) }
            @if dead > 0 {
                p.error id="dead-letters" role="alert" { (lang.t(Msg::DeadLetters)) ": " (dead) }
            }
            @if deliveries.is_empty() {
                p { (lang.t(Msg::NoDeliveries)) }
            } @else {
                table id="deliveries" {
                    thead { tr {
                        th scope="col" { (lang.t(Msg::DeliveryState)) }
                        th scope="col" { (lang.t(Msg::Events)) }
                        th scope="col" { (lang.t(Msg::Attempts)) }
                        th scope="col" { (lang.t(Msg::LastError)) }
                        th scope="col" { "webhook-id" }
                    } }
                    tbody {
                        @for delivery in deliveries {
                            tr class={ "state-" (delivery.state.as_str()) } {
                                td { (lang.t(match delivery.state {
                                    DeliveryState::Pending => Msg::DeliveryPending,
                                    DeliveryState::Delivered => Msg::DeliveryDelivered,
                                    DeliveryState::Dead => Msg::DeliveryDead,
                                })) }
                                td { (delivery.event) }
                                td { (delivery.attempts) }
                                td { (delivery.last_error.as_deref().unwrap_or("–")) }
                                td { code { (delivery.id) } }
                            }
                        }
                    }
                }
            }
            p { a href="/portal" { (lang.t(Msg::Back)) } }
        },
    )
}

/// A friendly error page.
pub fn error(chrome: &Chrome<'_>, message: Msg, detail: Option<&str>) -> Markup {
    let lang = chrome.lang;
    layout(
        chrome,
        lang.t(Msg::ErrorTitle),
        html! {
            h1 { (lang.t(Msg::RequestFailed)) }
            p role="alert" { (lang.t(message)) }
            @if let Some(detail) = detail {
                p.detail { (detail) }
            }
            p { a href="/portal" { (lang.t(Msg::Back)) } }
        },
    )
}

/// `YYYY-MM-DD HH:MM CET` (or `CEST`) of seconds since the epoch, in
/// Stockholm.
pub fn date_time(seconds: i64) -> String {
    intyg_service::time::date_time(seconds)
}

/// Follows an applicant session's status until it is final and swaps the
/// rendered fragments in: the live region announces the change. Listens to
/// the session's Server-Sent Events (`data-events`); where `EventSource` is
/// missing, or the stream fails, polls `data-poll` with back-off instead.
/// Does nothing on pages without `#status[data-poll]`.
pub const JS: &str = r#""use strict";
(function () {
  var status = document.getElementById("status");
  if (!status || !status.dataset.poll || status.dataset.final === "true") return;
  var result = document.getElementById("result");
  var invitation = document.getElementById("invitation");
  var delay = 1000;
  function show(s) {
    if (s.state !== status.dataset.state) {
      status.dataset.state = s.state;
      status.innerHTML = s.status_html;
      if (result) result.innerHTML = s.result_html;
    }
    if (s.final) {
      status.dataset.final = "true";
      if (invitation) invitation.hidden = true;
    }
    return s.final;
  }
  function tick() {
    fetch(status.dataset.poll, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok || r.redirected) throw new Error("status " + r.status);
        return r.json();
      })
      .then(function (s) {
        delay = 1000;
        if (!show(s)) setTimeout(tick, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 30000);
        setTimeout(tick, delay);
      });
  }
  if (window.EventSource && status.dataset.events) {
    var source = new EventSource(status.dataset.events);
    source.addEventListener("status", function (e) {
      if (show(JSON.parse(e.data))) source.close();
    });
    source.onerror = function () {
      source.close();
      if (status.dataset.final !== "true") setTimeout(tick, delay);
    };
  } else {
    setTimeout(tick, delay);
  }
})();
"#;

/// The portal's stylesheet: high contrast (WCAG AA), visible focus.
pub const CSS: &str = r#"
:root { font-family: system-ui, sans-serif; color: #1b1b1b; background: #fff; line-height: 1.5; }
body { margin: 0; }
header { display: flex; flex-wrap: wrap; justify-content: space-between; align-items: center; gap: 1rem; padding: .75rem 1.5rem; background: #23395b; color: #fff; }
header a, header .employer { color: #fff; }
header nav { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; }
.service { margin: 0; font-weight: bold; font-size: 1.15rem; }
main { max-width: 60rem; padding: 1rem 1.5rem 3rem; }
footer { border-top: 1px solid #b1b4b6; padding: 1rem 1.5rem; }
a { color: #1a4fa0; }
a:focus, button:focus, input:focus, textarea:focus, main:focus { outline: 3px solid #0b0c0c; outline-offset: 0; box-shadow: 0 0 0 6px #ffdd00; }
header button.link { background: none; border: none; padding: 0; color: #fff; text-decoration: underline; }
h1, h2, h3, p, li, td { overflow-wrap: break-word; }
@media (max-width: 40rem) { h1 { font-size: 1.5rem; } }
.skip { position: absolute; left: -10000px; }
.skip:focus { position: static; display: inline-block; padding: .5rem; background: #fff; color: #1a4fa0; }
.field { margin: 0 0 1.25rem; }
label { display: block; font-weight: bold; }
.hint { margin: .1rem 0 .3rem; color: #4a4a4a; }
input[type=text], input[type=password], textarea { font: inherit; padding: .4rem; border: 2px solid #4a4a4a; border-radius: 3px; width: 32rem; max-width: 100%; box-sizing: border-box; }
.invalid input, .invalid textarea { border-color: #b3261e; }
.error { color: #b3261e; font-weight: bold; margin: .2rem 0; }
.error-summary { border: 3px solid #b3261e; padding: .5rem 1rem; margin-bottom: 1.5rem; }
.error-summary:focus { outline: 3px solid #0b0c0c; outline-offset: 0; box-shadow: 0 0 0 6px #ffdd00; }
.notice { border-left: 5px solid #2e7d32; padding: .5rem 1rem; background: #eef6ee; }
button, a.button { display: inline-block; font: inherit; padding: .45rem 1rem; border: 2px solid #23395b; background: #23395b; color: #fff; border-radius: 3px; cursor: pointer; text-decoration: none; }
header button { background: #fff; color: #23395b; }
form.inline { display: inline; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1rem; }
th, td { text-align: left; padding: .5rem; border-bottom: 1px solid #8a8a8a; vertical-align: top; }
.description { white-space: pre-line; }
.request { display: flex; flex-wrap: wrap; gap: 2rem; align-items: flex-start; }
#request-qr { margin: 0; }
#request-qr svg { width: 18rem; height: 18rem; }
#status { border: 2px solid #4a4a4a; border-radius: 3px; padding: .25rem 1rem; margin-bottom: 1.5rem; }
.state { font-weight: bold; }
p.state { font-size: 1.5rem; margin: .5rem 0; }
.state-pending { color: #4a4a4a; }
.state-verified { color: #1e6b26; }
.state-declined, .state-expired, .state-no-matching-credential { color: #7a4d00; }
.state-failed { color: #b3261e; }
.credential { border-top: 3px solid #23395b; margin-top: 1.5rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dt { font-weight: bold; }
dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
@media (max-width: 40rem) { dl { grid-template-columns: minmax(0, 1fr); gap: 0; } dd { margin-bottom: .5rem; } }
.iss { color: #4a4a4a; word-break: break-all; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(date_time(0), "1970-01-01 01:00 CET");
        assert_eq!(date_time(1_772_000_000), "2026-02-25 07:13 CET");
    }

    #[test]
    fn values_are_escaped() {
        let chrome = Chrome::new(Lang::En, "/portal/login", None);
        let page = login(&chrome, "t", "<script>x</script>", None).into_string();
        assert!(!page.contains("<script>x"));
        assert!(page.contains("&lt;script&gt;"));
    }

    #[test]
    fn claim_values_as_text() {
        let list = serde_json::json!(["a", 2, true]);
        assert_eq!(value_text(Lang::Sv, &list), "a, 2, Ja");
        assert_eq!(value_text(Lang::En, &serde_json::json!(32)), "32");
        let nested = serde_json::json!({"k": 1});
        assert_eq!(value_text(Lang::En, &nested), r#"{"k":1}"#);
    }
}
