//! The portal's pages, as maud templates: every value is escaped; the only
//! unescaped markup is the QR code's SVG, which the `qrcode` crate draws
//! from the offer link (it holds no text).

use maud::{Markup, PreEscaped, html};

use super::form::{Field, FieldError, FormErrors, Kind};
use super::i18n::{Lang, Msg};
use crate::admin::OfferCreated;
use crate::model::{CredentialRecord, CredentialState, Person, RevocationReason};

pub use intyg_service::portal::chrome::{layout, login};

/// What every page around its content needs.
pub type Chrome<'a> = intyg_service::portal::chrome::Chrome<'a, Msg>;

/// The search page.
pub fn search(chrome: &Chrome<'_>, csrf: &str, value: &str, error: Option<Msg>) -> Markup {
    let lang = chrome.lang;
    let title = match error {
        Some(_) => format!("{}: {}", lang.t(Msg::ErrorTitle), lang.t(Msg::FindPerson)),
        None => lang.t(Msg::FindPerson).to_owned(),
    };
    let described = match error {
        Some(_) => "pin-hint pin-error",
        None => "pin-hint",
    };
    layout(
        chrome,
        &title,
        html! {
            h1 { (lang.t(Msg::FindPerson)) }
            form method="post" action="/portal/search" novalidate {
                input type="hidden" name="csrf" value=(csrf);
                div.field.invalid[error.is_some()] {
                    label for="pin" { (lang.t(Msg::PersonalIdentityNumber)) }
                    p.hint id="pin-hint" { (lang.t(Msg::PersonalIdentityNumberHint)) }
                    @if let Some(error) = error {
                        p.error id="pin-error" { (lang.t(error)) }
                    }
                    input id="pin" type="text" name="pin" value=(value) inputmode="numeric"
                        autocomplete="off" required maxlength="15"
                        aria-invalid=[error.map(|_| "true")] aria-describedby=(described);
                }
                button type="submit" { (lang.t(Msg::Search)) }
            }
        },
    )
}

/// A credential type as the person page offers it.
#[derive(Debug)]
pub struct TypeChoice<'a> {
    /// Credential configuration id.
    pub id: &'a str,
    /// Display name in the page's language.
    pub name: &'a str,
    /// Display description.
    pub description: Option<&'a str>,
}

fn state_text(state: CredentialState) -> Msg {
    match state {
        CredentialState::Offered => Msg::StateOffered,
        CredentialState::Issued => Msg::StateIssued,
        CredentialState::Revoked => Msg::StateRevoked,
        CredentialState::Suspended => Msg::StateSuspended,
    }
}

/// The one-click actions of a state (revoking asks first: a link to its
/// confirmation page follows them).
fn actions(state: CredentialState) -> &'static [(&'static str, Msg)] {
    match state {
        CredentialState::Offered => &[("withdraw", Msg::Withdraw)],
        CredentialState::Issued => &[("suspend", Msg::Suspend)],
        CredentialState::Suspended => &[("unsuspend", Msg::Unsuspend)],
        CredentialState::Revoked => &[],
    }
}

/// A short, stable reference of a record, so that two offers made in the
/// same minute are told apart (on screen and by screen readers).
pub fn reference(record: &CredentialRecord) -> &str {
    record.id.get(..8).unwrap_or(&record.id)
}

/// What the person page shows.
#[derive(Debug)]
pub struct PersonPage<'a> {
    /// Session CSRF token.
    pub csrf: &'a str,
    /// The person's handle in this session.
    pub handle: &'a str,
    /// Personal identity number.
    pub subject: &'a str,
    /// Credentials, newest first, with their type's display name.
    pub records: Vec<(&'a CredentialRecord, &'a str)>,
    /// Types that can be issued.
    pub types: Vec<TypeChoice<'a>>,
    /// A banner about what was just done.
    pub notice: Option<String>,
    /// The registered person; `None` shows the register form.
    pub person: Option<&'a Person>,
    /// The register form's inputs.
    pub register_fields: &'a [Field],
    /// Its posted text by field name.
    pub register_values: &'a std::collections::HashMap<String, String>,
    /// Its errors.
    pub register_errors: &'a FormErrors,
    /// The audit trail's entries about the person, oldest first.
    pub trail: &'a [intyg_service::audit::Entry],
}

/// The words for an audit action (the code itself when unknown).
fn audit_action(lang: Lang, action: &str) -> String {
    let msg = match action {
        "person.register" => Msg::AuditRegistered,
        "offer.issue" => Msg::AuditOffered,
        "credential.withdraw" => Msg::AuditWithdrawn,
        "credential.revoke" => Msg::AuditRevoked,
        "credential.suspend" => Msg::AuditSuspended,
        "credential.unsuspend" => Msg::AuditUnsuspended,
        other => return other.to_owned(),
    };
    lang.t(msg).to_owned()
}

/// The person page: who the person is (or a form to register them), what
/// was issued, with state and actions, and the types to issue.
pub fn person(chrome: &Chrome<'_>, page: &PersonPage<'_>) -> Markup {
    let lang = chrome.lang;
    let heading = match page.person {
        Some(person) => format!("{} {}", person.given_name, person.family_name),
        None => format!("{} {}", lang.t(Msg::Person), page.subject),
    };
    let title = if page.register_errors.is_empty() {
        heading.clone()
    } else {
        format!("{}: {heading}", lang.t(Msg::ErrorTitle))
    };
    layout(
        chrome,
        &title,
        html! {
            @if let Some(person) = page.person {
                h1 id="person-name" { (heading) }
                dl.person {
                    dt { (lang.t(Msg::PersonalIdentityNumber)) }
                    dd.pin-number { (page.subject) }
                    dt { (lang.t(Msg::Birthdate)) }
                    dd id="person-birthdate" { (person.birthdate) }
                    dt { (lang.t(Msg::RegisteredAt)) }
                    dd { (date_time(person.registered_at)) }
                }
            } @else {
                h1 { (lang.t(Msg::Person)) " " span.pin-number { (page.subject) } }
            }
            @if let Some(notice) = &page.notice {
                p.notice role="status" id="notice" { (notice) }
            }
            @if page.person.is_none() {
                (error_summary(lang, page.register_fields, page.register_errors))
                h2 { (lang.t(Msg::RegisterPerson)) }
                p { (lang.t(Msg::NotRegistered)) }
                p { (lang.t(Msg::FormIntro)) }
                form method="post" action={ "/portal/people/" (page.handle) "/register" } novalidate {
                    input type="hidden" name="csrf" value=(page.csrf);
                    @for field in page.register_fields {
                        (field_input(lang, field, page.register_values.get(&field.name).map(String::as_str).unwrap_or(""),
                            page.register_errors.fields.get(&field.name)))
                    }
                    button type="submit" { (lang.t(Msg::Register)) }
                }
            }
            h2 { (lang.t(Msg::IssuedCredentials)) }
            @if page.records.is_empty() {
                p { (lang.t(Msg::NothingIssued)) }
            } @else {
                table.records {
                    thead { tr {
                        th scope="col" { (lang.t(Msg::CredentialType)) }
                        th scope="col" { (lang.t(Msg::State)) }
                        th scope="col" { (lang.t(Msg::Created)) }
                        th scope="col" { (lang.t(Msg::Actions)) }
                    } }
                    tbody {
                        @for (record, type_name) in &page.records {
                            @let which = format!("{type_name}, {}, {} {}", date_time(record.created_at), lang.t(Msg::Reference), reference(record));
                            tr id={ "credential-" (record.id) } {
                                td { (type_name) br; small.reference { (lang.t(Msg::Reference)) " " (reference(record)) } }
                                td.state data-label=(lang.t(Msg::State)) { (lang.t(state_text(record.state))) }
                                td data-label=(lang.t(Msg::Created)) { (date_time(record.created_at)) }
                                td {
                                    @for (action, label) in actions(record.state) {
                                        form.inline method="post"
                                            action={ "/portal/people/" (page.handle) "/credentials/" (record.id) "/" (action) } {
                                            input type="hidden" name="csrf" value=(page.csrf);
                                            button.danger[*action == "withdraw"] type="submit"
                                                aria-label={ (lang.t(*label)) ": " (which) } {
                                                (lang.t(*label))
                                            }
                                        }
                                    }
                                    @if matches!(record.state, CredentialState::Issued | CredentialState::Suspended) {
                                        a.button.danger id={ "revoke-" (record.id) }
                                            href={ "/portal/people/" (page.handle) "/credentials/" (record.id) "/revoke" }
                                            aria-label={ (lang.t(Msg::Revoke)) ": " (which) } {
                                            (lang.t(Msg::Revoke)) "…"
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 id="audit-trail" { (lang.t(Msg::AuditTrail)) }
            @if page.trail.is_empty() {
                p { (lang.t(Msg::AuditTrailEmpty)) }
            } @else {
                ol.trail aria-labelledby="audit-trail" {
                    @for entry in page.trail {
                        li id={ "audit-" (entry.seq) } {
                            (date_time(entry.event.at)) ": "
                            strong { (audit_action(lang, &entry.event.action)) }
                            " (" (entry.event.actor) ")"
                            @if let Some(detail) = &entry.event.detail {
                                " – " (detail)
                            }
                        }
                    }
                }
            }
            h2 { (lang.t(Msg::IssueCredential)) }
            p { (lang.t(Msg::PickType)) }
            ul.types {
                @for choice in &page.types {
                    li {
                        a href={ "/portal/people/" (page.handle) "/issue/" (choice.id) } { (choice.name) }
                        @if let Some(description) = choice.description {
                            " – " (description)
                        }
                    }
                }
            }
            p { a href="/portal" { (lang.t(Msg::NewSearch)) } }
        },
    )
}

/// What the issue form page shows.
#[derive(Debug)]
pub struct IssuePage<'a> {
    /// Session CSRF token.
    pub csrf: &'a str,
    /// The person's handle.
    pub handle: &'a str,
    /// Personal identity number.
    pub subject: &'a str,
    /// Credential configuration id.
    pub type_id: &'a str,
    /// Its display name.
    pub type_name: &'a str,
    /// The generated fields.
    pub fields: &'a [Field],
    /// Posted or prefilled text by claim name.
    pub values: &'a std::collections::HashMap<String, String>,
    /// Errors to show.
    pub errors: &'a FormErrors,
    /// The identity claims the credential takes from the record: label and
    /// value, not editable.
    pub identity: &'a [(String, String)],
    /// The type needs names and the person is not registered: no form, a
    /// way to register instead.
    pub register_first: bool,
}

/// The claims form of one type.
pub fn issue_form(chrome: &Chrome<'_>, page: &IssuePage<'_>) -> Markup {
    let lang = chrome.lang;
    let heading = format!("{}: {}", lang.t(Msg::IssueCredential), page.type_name);
    let title = if page.errors.is_empty() {
        heading.clone()
    } else {
        format!("{}: {heading}", lang.t(Msg::ErrorTitle))
    };
    layout(
        chrome,
        &title,
        html! {
            h1 { (heading) }
            p { (lang.t(Msg::Person)) " " span.pin-number { (page.subject) } }
            @if page.register_first {
                p.notice role="status" id="register-first" { (lang.t(Msg::RegisterFirst)) }
            } @else {
                (error_summary(lang, page.fields, page.errors))
                @if !page.identity.is_empty() {
                    h2 { (lang.t(Msg::IdentityFromRecord)) }
                    p { (lang.t(Msg::IdentityFromRecordIntro)) }
                    dl.person id="identity" {
                        @for (label, value) in page.identity {
                            dt { (label) }
                            dd { (value) }
                        }
                    }
                }
                p { (lang.t(Msg::FormIntro)) }
                form method="post" action={ "/portal/people/" (page.handle) "/issue/" (page.type_id) } novalidate {
                    input type="hidden" name="csrf" value=(page.csrf);
                    @for field in page.fields {
                        (field_input(lang, field, page.values.get(&field.name).map(String::as_str).unwrap_or(""),
                            page.errors.fields.get(&field.name)))
                    }
                    button type="submit" { (lang.t(Msg::CreateOffer)) }
                }
            }
            p { a href={ "/portal/people/" (page.handle) } { (lang.t(Msg::BackToPerson)) } }
        },
    )
}

/// The list of a form's errors, each linking to its input; nothing when
/// there are none.
fn error_summary(lang: Lang, fields: &[Field], errors: &FormErrors) -> Markup {
    html! {
        @if !errors.is_empty() {
            div.error-summary role="alert" tabindex="-1" aria-labelledby="error-summary-title" {
                h2 id="error-summary-title" { (lang.t(Msg::FixErrors)) }
                ul {
                    @for field in fields {
                        @if let Some(messages) = errors.fields.get(&field.name) {
                            li { a href={ "#" (field.id) } { (field.label) ": " (messages_text(lang, messages)) } }
                        }
                    }
                    @for general in &errors.general {
                        li { (general) }
                    }
                }
            }
        }
    }
}

fn messages_text(lang: Lang, messages: &[FieldError]) -> String {
    messages
        .iter()
        .map(|m| m.text(lang))
        .collect::<Vec<_>>()
        .join(" ")
}

fn field_input(lang: Lang, field: &Field, value: &str, errors: Option<&Vec<FieldError>>) -> Markup {
    let hint_id = format!("{}-hint", field.id);
    let error_id = format!("{}-error", field.id);
    let extra_hint = match field.kind {
        Kind::List { .. } => Some(Msg::OnePerLine),
        Kind::Json => Some(Msg::JsonValue),
        _ => None,
    };
    let has_hint = field.hint.is_some() || extra_hint.is_some();
    let described: Vec<&str> = [
        has_hint.then_some(hint_id.as_str()),
        errors.map(|_| error_id.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let described = (!described.is_empty()).then(|| described.join(" "));
    let invalid = errors.map(|_| "true");
    let name = field.form_name();
    html! {
        div.field.invalid[errors.is_some()] {
            label for=(field.id) {
                (field.label)
                @if field.required {
                    " " abbr title=(lang.t(Msg::Required)) aria-hidden="true" { "*" }
                    span.visually-hidden { " (" (lang.t(Msg::Required)) ")" }
                }
            }
            @if has_hint {
                p.hint id=(hint_id) {
                    @if let Some(hint) = &field.hint { (hint) " " }
                    @if let Some(extra) = extra_hint { (lang.t(extra)) }
                }
            }
            @if let Some(errors) = errors {
                p.error id=(error_id) { (messages_text(lang, errors)) }
            }
            @match &field.kind {
                Kind::Text { max_length } => {
                    input type="text" id=(field.id) name=(name) value=(value)
                        maxlength=[*max_length] required[field.required]
                        aria-invalid=[invalid] aria-describedby=[described.as_deref()];
                }
                Kind::Date => {
                    // Text, not `type=date`: the browser's date input follows
                    // its locale (mm/dd/yyyy) and drops what does not parse.
                    input.date type="text" id=(field.id) name=(name) value=(value)
                        inputmode="numeric" pattern="[0-9]{4}-[0-9]{2}-[0-9]{2}" maxlength="10"
                        autocomplete="off" required[field.required]
                        aria-invalid=[invalid] aria-describedby=[described.as_deref()];
                }
                Kind::Integer { min, max } => {
                    input type="number" step="1" id=(field.id) name=(name) value=(value)
                        min=[min.as_ref().map(ToString::to_string)] max=[max.as_ref().map(ToString::to_string)]
                        required[field.required]
                        aria-invalid=[invalid] aria-describedby=[described.as_deref()];
                }
                Kind::Number { min, max, step } => {
                    input type="number" id=(field.id) name=(name) value=(value)
                        step=(step.as_ref().map_or_else(|| "any".to_owned(), ToString::to_string))
                        min=[min.as_ref().map(ToString::to_string)] max=[max.as_ref().map(ToString::to_string)]
                        required[field.required]
                        aria-invalid=[invalid] aria-describedby=[described.as_deref()];
                }
                Kind::Select(options) => {
                    select id=(field.id) name=(name) required[field.required]
                        aria-invalid=[invalid] aria-describedby=[described.as_deref()] {
                        option value="" { (lang.t(Msg::Choose)) }
                        @for option in options {
                            @let text = Field::option_text(option);
                            option value=(text) selected[text == value] {
                                (field.option_labels.get(&text).unwrap_or(&text))
                            }
                        }
                    }
                }
                Kind::Boolean => {
                    select id=(field.id) name=(name) required[field.required]
                        aria-invalid=[invalid] aria-describedby=[described.as_deref()] {
                        option value="" { (lang.t(Msg::Choose)) }
                        option value="true" selected[value == "true"] { (lang.t(Msg::Yes)) }
                        option value="false" selected[value == "false"] { (lang.t(Msg::No)) }
                    }
                }
                Kind::List { .. } | Kind::Json => {
                    textarea id=(field.id) name=(name) rows="4" required[field.required]
                        aria-invalid=[invalid] aria-describedby=[described.as_deref()] { (value) }
                }
            }
        }
    }
}

/// The offer: QR code, link, PIN, and which wallets can accept it.
pub fn offer(
    chrome: &Chrome<'_>,
    handle: &str,
    type_name: &str,
    created: &OfferCreated,
    qr_svg: &str,
    audience: crate::policy::WalletAudience,
) -> Markup {
    use crate::policy::WalletAudience;
    let lang = chrome.lang;
    layout(
        chrome,
        lang.t(Msg::OfferReady),
        html! {
            h1 { (lang.t(Msg::OfferReady)) }
            p { (type_name) }
            p { (lang.t(Msg::OfferInstructions)) }
            div.offer {
                figure id="offer-qr" role="img" aria-label=(lang.t(Msg::QrAlt)) {
                    (PreEscaped(qr_svg))
                }
                div {
                    h2 { (lang.t(Msg::Pin)) }
                    p.pin id="tx-code" lang="zxx" { (created.tx_code) }
                    p { (lang.t(Msg::Expires)) " " (date_time(created.expires_at)) }
                }
            }
            h2 { (lang.t(Msg::WhichWallets)) }
            p id="offer-wallets" {
                (lang.t(match audience {
                    WalletAudience::Any => Msg::WalletsAny,
                    WalletAudience::Dpop => Msg::WalletsDpop,
                    WalletAudience::Certified => Msg::WalletsCertified,
                }))
            }
            h2 { (lang.t(Msg::OfferLink)) }
            p { a id="offer-link" href=(created.offer_uri) { (lang.t(Msg::OpenInWallet)) } }
            p { input.link type="text" readonly value=(created.offer_uri) aria-label=(lang.t(Msg::OfferLink)); }
            p { a href={ "/portal/people/" (handle) } { (lang.t(Msg::BackToPerson)) } }
        },
    )
}

/// What the revocation confirmation shows.
#[derive(Debug)]
pub struct RevokePage<'a> {
    /// Session CSRF token.
    pub csrf: &'a str,
    /// The person's handle.
    pub handle: &'a str,
    /// The person's name, when registered.
    pub person: Option<&'a Person>,
    /// Personal identity number.
    pub subject: &'a str,
    /// The credential.
    pub record: &'a CredentialRecord,
    /// Its type's display name.
    pub type_name: &'a str,
    /// The reason chosen, if any.
    pub reason: Option<RevocationReason>,
    /// The note typed.
    pub note: &'a str,
    /// Errors by field (`reason`, `note`).
    pub errors: &'a [(&'static str, String)],
}

fn reason_text(reason: RevocationReason) -> Msg {
    match reason {
        RevocationReason::Deregistered => Msg::ReasonDeregistered,
        RevocationReason::DataChanged => Msg::ReasonDataChanged,
        RevocationReason::IssuedInError => Msg::ReasonIssuedInError,
        RevocationReason::PersonAsked => Msg::ReasonPersonAsked,
        RevocationReason::Other => Msg::ReasonOther,
    }
}

/// Revoking one credential: who, what, when issued; a reason required.
pub fn revoke(chrome: &Chrome<'_>, page: &RevokePage<'_>) -> Markup {
    let lang = chrome.lang;
    let record = page.record;
    let error = |name: &str| {
        page.errors
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, m)| m.as_str())
    };
    let title = if page.errors.is_empty() {
        lang.t(Msg::RevokeHeading).to_owned()
    } else {
        format!(
            "{}: {}",
            lang.t(Msg::ErrorTitle),
            lang.t(Msg::RevokeHeading)
        )
    };
    let action = format!(
        "/portal/people/{}/credentials/{}/revoke",
        page.handle, record.id
    );
    layout(
        chrome,
        &title,
        html! {
            h1 { (lang.t(Msg::RevokeHeading)) }
            @if !page.errors.is_empty() {
                div.error-summary role="alert" tabindex="-1" aria-labelledby="error-summary-title" {
                    h2 id="error-summary-title" { (lang.t(Msg::FixErrors)) }
                    ul {
                        @for (name, message) in page.errors {
                            li { a href={ "#revoke-" (name) } { (message) } }
                        }
                    }
                }
            }
            dl.person id="revoke-what" {
                dt { (lang.t(Msg::Person)) }
                dd {
                    @if let Some(person) = page.person { (person.given_name) " " (person.family_name) ", " }
                    span.pin-number { (page.subject) }
                }
                dt { (lang.t(Msg::CredentialType)) }
                dd { (page.type_name) " (" (lang.t(Msg::Reference)) " " (reference(record)) ")" }
                dt { (lang.t(Msg::IssuedOn)) }
                dd {
                    @match record.issued_at {
                        Some(at) => (date_time(at)),
                        None => (lang.t(Msg::StateOffered)),
                    }
                }
            }
            p { (lang.t(Msg::RevokeWarning)) }
            form method="post" action=(action) novalidate {
                input type="hidden" name="csrf" value=(page.csrf);
                div.field.invalid[error("reason").is_some()] {
                    fieldset id="revoke-reason" aria-describedby=[error("reason").map(|_| "revoke-reason-error")] {
                        legend { (lang.t(Msg::RevokeReason)) " " abbr title=(lang.t(Msg::Required)) aria-hidden="true" { "*" } }
                        @if let Some(message) = error("reason") {
                            p.error id="revoke-reason-error" { (message) }
                        }
                        @for reason in RevocationReason::ALL {
                            div.choice {
                                input type="radio" name="reason" value=(reason.as_str())
                                    id={ "reason-" (reason.as_str()) } checked[page.reason == Some(reason)];
                                label for={ "reason-" (reason.as_str()) } { (lang.t(reason_text(reason))) }
                            }
                        }
                    }
                }
                div.field.invalid[error("note").is_some()] {
                    label for="revoke-note" { (lang.t(Msg::RevokeNote)) }
                    p.hint id="revoke-note-hint" { (lang.t(Msg::RevokeNoteHint)) }
                    @if let Some(message) = error("note") {
                        p.error id="revoke-note-error" { (message) }
                    }
                    textarea id="revoke-note" name="note" rows="3" maxlength="500"
                        aria-invalid=[error("note").map(|_| "true")]
                        aria-describedby={ "revoke-note-hint" @if error("note").is_some() { " revoke-note-error" } } { (page.note) }
                }
                button.danger type="submit" id="revoke-confirm" { (lang.t(Msg::RevokeConfirm)) }
                " "
                a href={ "/portal/people/" (page.handle) } { (lang.t(Msg::Cancel)) }
            }
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

/// The portal's stylesheet: high contrast, visible focus, large PIN.
pub const CSS: &str = r#"
:root { font-family: system-ui, sans-serif; color: #1b1b1b; background: #fff; line-height: 1.5; }
body { margin: 0; }
header { display: flex; flex-wrap: wrap; justify-content: space-between; align-items: center; gap: 1rem; padding: .75rem 1.5rem; background: #1a2b5f; color: #fff; }
header a, header .officer { color: #fff; }
header nav { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; }
.service { margin: 0; font-weight: bold; font-size: 1.15rem; }
main { max-width: 60rem; padding: 1rem 1.5rem 3rem; }
footer { border-top: 1px solid #b1b4b6; padding: 1rem 1.5rem; }
a { color: #1a4fa0; }
a:focus, button:focus, input:focus, select:focus, textarea:focus, main:focus { outline: 3px solid #0b0c0c; outline-offset: 0; box-shadow: 0 0 0 6px #ffdd00; }
header button.link { background: none; border: none; padding: 0; color: #fff; text-decoration: underline; }
h1, h2, h3, p, li, td { overflow-wrap: break-word; }
@media (max-width: 40rem) { h1 { font-size: 1.5rem; } }
.skip { position: absolute; left: -10000px; }
.skip:focus { position: static; display: inline-block; padding: .5rem; background: #fff; color: #1a4fa0; }
.field { margin: 0 0 1.25rem; }
label { display: block; font-weight: bold; }
.hint { margin: .1rem 0 .3rem; color: #4a4a4a; }
input[type=text], input[type=password], input[type=number], select, textarea { font: inherit; padding: .4rem; border: 2px solid #4a4a4a; border-radius: 3px; min-width: min(18rem, 100%); max-width: 100%; box-sizing: border-box; }
textarea { width: 30rem; max-width: 100%; }
input.date { min-width: 0; width: 10em; }
.invalid input, .invalid select, .invalid textarea { border-color: #b3261e; }
.error { color: #b3261e; font-weight: bold; margin: .2rem 0; }
.error-summary { border: 3px solid #b3261e; padding: .5rem 1rem; margin-bottom: 1.5rem; }
.error-summary:focus { outline: 3px solid #0b0c0c; outline-offset: 0; box-shadow: 0 0 0 6px #ffdd00; }
.notice { border-left: 5px solid #2e7d32; padding: .5rem 1rem; background: #eef6ee; }
button { font: inherit; padding: .45rem 1rem; border: 2px solid #1a2b5f; background: #1a2b5f; color: #fff; border-radius: 3px; cursor: pointer; }
header button { background: #fff; color: #1a2b5f; }
button.danger { background: #fff; color: #b3261e; border-color: #b3261e; }
form.inline { display: inline; margin-right: .5rem; }
a.button { display: inline-block; padding: .45rem 1rem; border: 2px solid #b3261e; border-radius: 3px; text-decoration: none; }
a.button.danger { color: #b3261e; background: #fff; }
.reference { color: #4a4a4a; font-family: ui-monospace, monospace; }
fieldset { border: none; padding: 0; margin: 0; }
legend { font-weight: bold; padding: 0; }
.choice { margin: .25rem 0; }
.choice input { margin-right: .5rem; }
.choice label { display: inline; font-weight: normal; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .5rem; border-bottom: 1px solid #8a8a8a; vertical-align: top; }
.offer { display: flex; flex-wrap: wrap; gap: 2rem; align-items: flex-start; }
#offer-qr { margin: 0; }
#offer-qr svg { width: 18rem; height: 18rem; }
.pin { font-size: 3.5rem; font-weight: bold; letter-spacing: .3em; font-family: ui-monospace, monospace; margin: 0; }
.pin-number { font-family: ui-monospace, monospace; }
dl.person { display: grid; grid-template-columns: max-content auto; gap: .25rem 1rem; }
dl.person dt { font-weight: bold; }
dl.person dd { margin: 0; }
input.link { width: 100%; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media (max-width: 40rem) {
  main { padding: 1rem; }
  table.records, table.records tbody, table.records tr, table.records td { display: block; }
  table.records thead { position: absolute; left: -10000px; }
  table.records tr { border-bottom: 1px solid #8a8a8a; padding: .5rem 0; }
  table.records td { border: none; padding: .15rem 0; }
  table.records td[data-label]::before { content: attr(data-label) ": "; font-weight: bold; }
  dl.person { grid-template-columns: 1fr; }
  dl.person dt { margin-top: .5rem; }
  dl.person dd { overflow-wrap: break-word; }
  .pin { font-size: 2.5rem; letter-spacing: .15em; }
  #offer-qr svg { width: 100%; height: auto; max-width: 18rem; }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped() {
        let chrome = Chrome::new(Lang::En, "/portal/login", None);
        let page = login(&chrome, "t", "<script>x</script>", None).into_string();
        assert!(!page.contains("<script>x"));
        assert!(page.contains("&lt;script&gt;"));
    }
}
