//! The page frame both portals share: the HTML layout with its header,
//! language switch and sign-out, and the sign-in page. What differs between
//! the portals (their strings, the class of the user's name, a script)
//! comes from the portal's message type through [`Frame`].

use std::marker::PhantomData;

use maud::{DOCTYPE, Markup, html};

use super::lang::{Lang, Message};

/// The messages and details of a portal's page frame.
pub trait Frame: Message {
    /// The service name in the header and titles.
    const SERVICE: Self;
    /// The skip link.
    const SKIP_TO_CONTENT: Self;
    /// The language switch label, in the other language.
    const SWITCH_LANGUAGE: Self;
    /// Before the signed-in user's name.
    const SIGNED_IN_AS: Self;
    /// The sign-out button.
    const SIGN_OUT: Self;
    /// The sign-in heading and button.
    const SIGN_IN: Self;
    /// The username label.
    const USERNAME: Self;
    /// The password label.
    const PASSWORD: Self;
    /// The title prefix of a page that shows an error.
    const ERROR_TITLE: Self;
    /// The class of the element with the signed-in user's name.
    const USER_CLASS: &'static str;
    /// A deferred script every page loads, if any.
    const SCRIPT: Option<&'static str>;
}

/// What every page around its content needs, for a portal whose messages
/// are `M`.
#[derive(Debug)]
pub struct Chrome<'a, M> {
    /// Language of the page.
    pub lang: Lang,
    /// Path of the page, for the language switch.
    pub path: &'a str,
    /// The signed-in user's name and the session's CSRF token.
    pub user: Option<(&'a str, &'a str)>,
    /// A page shown in answer to a POST: where it was posted and what, so
    /// that the language switch posts it again (with `?lang=` and
    /// [`RELANG`]) instead of leaving for a GET that would lose it.
    pub repost: Option<(&'a str, Vec<(&'a str, &'a str)>)>,
    messages: PhantomData<M>,
}

/// The sign-in page's message while sign-in is throttled: when to try
/// again, as a wait and as a time of day in Stockholm.
pub fn throttled(lang: Lang, retry_at: i64, now: i64) -> String {
    let wait = (retry_at - now).max(1);
    let at = crate::time::clock(retry_at);
    match lang {
        Lang::Sv => {
            let wait = match wait {
                1 => "1 sekund".to_owned(),
                2..120 => format!("{wait} sekunder"),
                _ => format!("{} minuter", (wait + 59) / 60),
            };
            format!("För många misslyckade försök. Försök igen om {wait} (kl. {at}).")
        }
        Lang::En => {
            let wait = match wait {
                1 => "1 second".to_owned(),
                2..120 => format!("{wait} seconds"),
                _ => format!("{} minutes", (wait + 59) / 60),
            };
            format!("Too many failed attempts. Try again in {wait} (at {at}).")
        }
    }
}

/// Where both portals serve [`FOCUS_JS`].
pub const FOCUS_JS_PATH: &str = "/portal/focus.js";

/// The script every page loads (deferred, from the portal's own origin, so
/// `script-src 'self'` allows it): after a failed submit it moves the focus
/// to the page's error summary, so that keyboard and screen reader users
/// land on the list of what to fix (WCAG 2.1, 3.3.1 and 2.4.3). Without
/// JavaScript the summary is still first in `main` and announced by its
/// `role="alert"`.
pub const FOCUS_JS: &str = r#""use strict";
(function () {
  var summary = document.querySelector(".error-summary");
  if (!summary) return;
  if (!summary.hasAttribute("tabindex")) summary.setAttribute("tabindex", "-1");
  summary.focus();
})();
"#;

/// `GET` [`FOCUS_JS_PATH`]: serves [`FOCUS_JS`] (both portals route it here).
pub async fn focus_js() -> impl axum::response::IntoResponse {
    use axum::http::header;
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        FOCUS_JS,
    )
}

/// The form field a language switch adds to a re-posted form: the handler
/// shows the page again in the other language and acts on nothing.
pub const RELANG: &str = "relang";

impl<'a, M> Chrome<'a, M> {
    /// The frame of the page at `path` in `lang`, for `user` when signed in.
    pub fn new(lang: Lang, path: &'a str, user: Option<(&'a str, &'a str)>) -> Self {
        Self {
            lang,
            path,
            user,
            repost: None,
            messages: PhantomData,
        }
    }

    /// The frame of a page answering a POST of `fields` to `action`: its
    /// language switch posts them again.
    pub fn reposting(mut self, action: &'a str, fields: Vec<(&'a str, &'a str)>) -> Self {
        self.repost = Some((action, fields));
        self
    }
}

/// The page frame: header with language switch and sign-out, then `main`,
/// then a footer linking the accessibility statement ([`super::statement`]).
pub fn layout<M: Frame>(chrome: &Chrome<'_, M>, title: &str, main: Markup) -> Markup {
    let lang = chrome.lang;
    let other = lang.other();
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – " (lang.t(M::SERVICE)) }
                link rel="stylesheet" href="/portal/portal.css";
                script src=(FOCUS_JS_PATH) defer {}
                @if let Some(script) = M::SCRIPT {
                    script src=(script) defer {}
                }
            }
            body {
                a.skip href="#main" { (lang.t(M::SKIP_TO_CONTENT)) }
                header {
                    p.service { a href="/portal" { (lang.t(M::SERVICE)) } }
                    nav {
                        @if let Some((action, fields)) = &chrome.repost {
                            form.inline.lang-switch method="post" action={ (action) "?lang=" (other.code()) } {
                                @for (name, value) in fields.iter().filter(|(n, _)| *n != RELANG) {
                                    input type="hidden" name=(name) value=(value);
                                }
                                input type="hidden" name=(RELANG) value="1";
                                button.link type="submit" id="switch-language" lang=(other.code()) {
                                    (lang.t(M::SWITCH_LANGUAGE))
                                }
                            }
                        } @else {
                            a id="switch-language" href={ (chrome.path) "?lang=" (other.code()) } lang=(other.code()) hreflang=(other.code()) {
                                (lang.t(M::SWITCH_LANGUAGE))
                            }
                        }
                        @if let Some((name, csrf)) = chrome.user {
                            span class=(M::USER_CLASS) { (lang.t(M::SIGNED_IN_AS)) " " (name) }
                            form.inline method="post" action="/portal/logout" {
                                input type="hidden" name="csrf" value=(csrf);
                                button type="submit" { (lang.t(M::SIGN_OUT)) }
                            }
                        }
                    }
                }
                main id="main" tabindex="-1" { (main) }
                footer {
                    a href={ (super::statement::PATH) "?lang=" (lang.code()) } { (super::statement::link_text(lang)) }
                }
            }
        }
    }
}

/// The sign-in page; `error` (in the page's language) is shown above the
/// form and named by both fields.
pub fn login<M: Frame>(
    chrome: &Chrome<'_, M>,
    csrf: &str,
    username: &str,
    error: Option<&str>,
) -> Markup {
    let lang = chrome.lang;
    let title = match error {
        Some(_) => format!("{}: {}", lang.t(M::ERROR_TITLE), lang.t(M::SIGN_IN)),
        None => lang.t(M::SIGN_IN).to_owned(),
    };
    layout(
        chrome,
        &title,
        html! {
            h1 { (lang.t(M::SIGN_IN)) }
            @if let Some(error) = error {
                p.error-summary id="login-error" role="alert" tabindex="-1" { (error) }
            }
            form method="post" action="/portal/login" {
                input type="hidden" name="csrf" value=(csrf);
                div.field {
                    label for="username" { (lang.t(M::USERNAME)) }
                    input id="username" type="text" name="username" value=(username)
                        autocomplete="username" required
                        aria-describedby=[error.map(|_| "login-error")];
                }
                div.field {
                    label for="password" { (lang.t(M::PASSWORD)) }
                    input id="password" type="password" name="password"
                        autocomplete="current-password" required
                        aria-describedby=[error.map(|_| "login-error")];
                }
                button type="submit" { (lang.t(M::SIGN_IN)) }
            }
        },
    )
}
