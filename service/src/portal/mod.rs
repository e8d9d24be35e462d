//! The machinery both HTML portals share: the request context (language,
//! cookies, session), cookies and the security headers of a page
//! ([`Ctx`]), the languages and message tables ([`lang`]), and the page
//! frame ([`chrome`]). Each portal keeps its own pages, messages, routes,
//! cookie names and Content Security Policy.

pub mod chrome;
pub mod lang;
pub mod statement;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::Markup;

use chrome::Chrome;
use lang::Lang;

/// The cookie that remembers the language chosen with `?lang=`.
pub const LANG_COOKIE: &str = "intyg_lang";

/// What every portal request knows: language, cookies, session (`S`).
#[derive(Debug)]
pub struct Ctx<S> {
    /// The page's language.
    pub lang: Lang,
    /// Whether `?lang=` chose it (then [`Ctx::finish`] keeps it in a cookie).
    pub remember_lang: bool,
    /// Whether cookies are `Secure`.
    pub secure: bool,
    /// The request's path.
    pub path: String,
    /// The request's cookies.
    pub cookies: HashMap<String, String>,
    /// The session's id and the session, when signed in.
    pub session: Option<(String, S)>,
    /// The `Content-Security-Policy` of the portal's pages.
    pub csp: &'static str,
}

impl<S> Ctx<S> {
    /// Reads a request: the language from `?lang=`, else [`LANG_COOKIE`],
    /// else `Accept-Language`, else Swedish. The session is left for the
    /// portal to look up (an async store) by the id in its cookie.
    pub fn read(parts: &Parts, secure: bool, csp: &'static str) -> Self {
        let cookies = parse_cookies(&parts.headers);
        let query_lang = parts
            .uri
            .query()
            .and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("lang=")))
            .and_then(Lang::parse);
        let lang = query_lang
            .or_else(|| cookies.get(LANG_COOKIE).and_then(|l| Lang::parse(l)))
            .or_else(|| {
                parts
                    .headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(Lang::from_accept_language)
            })
            .unwrap_or(Lang::Sv);
        Self {
            lang,
            remember_lang: query_lang.is_some(),
            secure,
            path: parts.uri.path().to_owned(),
            cookies,
            session: None,
            csp,
        }
    }

    /// The context of an error page, outside any request: `lang`, no
    /// cookies, no session.
    pub fn bare(lang: Lang, csp: &'static str) -> Self {
        Self {
            lang,
            remember_lang: false,
            secure: false,
            path: "/portal".to_owned(),
            cookies: HashMap::new(),
            session: None,
            csp,
        }
    }

    /// The page frame for a signed-out visitor.
    pub fn chrome<M>(&self) -> Chrome<'_, M> {
        Chrome::new(self.lang, &self.path, None)
    }

    /// A `Set-Cookie` value for the portal's path, `HttpOnly` and
    /// `SameSite=Strict`.
    pub fn cookie(&self, name: &str, value: &str, max_age: i64) -> Option<HeaderValue> {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{name}={value}; Path=/portal; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
        ))
        .ok()
    }

    /// Adds the language cookie when `?lang=` chose the language.
    pub fn finish(&self, mut response: Response) -> Response {
        if self.remember_lang
            && let Some(cookie) = self.cookie(LANG_COOKIE, self.lang.code(), 365 * 24 * 3600)
        {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
        response
    }

    /// An HTML page with the portal's security headers.
    pub fn page(&self, status: StatusCode, markup: Markup) -> Response {
        let mut response = (status, markup.into_string()).into_response();
        let headers = response.headers_mut();
        for (name, value) in [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_SECURITY_POLICY, self.csp),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            // For browsers without CSP `frame-ancestors`.
            (header::X_FRAME_OPTIONS, "DENY"),
        ] {
            headers.insert(name, HeaderValue::from_static(value));
        }
        if self.secure {
            headers.insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000"),
            );
        }
        self.finish(response)
    }

    /// A redirect to `to`.
    pub fn redirect(&self, to: &str) -> Response {
        self.finish(Redirect::to(to).into_response())
    }
}

/// Where a request came from: the TCP peer (from axum's `ConnectInfo`,
/// absent when the router is called without a socket) and the
/// `X-Forwarded-For` header as sent. [`Peer::client`] decides which to
/// believe.
#[derive(Debug, Clone, Default)]
pub struct Peer {
    /// The TCP peer's address.
    pub address: Option<IpAddr>,
    /// `X-Forwarded-For`, if present and ASCII.
    pub forwarded_for: Option<String>,
}

impl Peer {
    /// The client's address: the peer's, or the forwarded one when the
    /// peer is one of `trusted_proxies` (see
    /// [`crate::session::throttle::client_address`]).
    pub fn client(&self, trusted_proxies: &[IpAddr]) -> Option<IpAddr> {
        crate::session::throttle::client_address(
            self.address,
            self.forwarded_for.as_deref(),
            trusted_proxies,
        )
    }
}

impl<S: Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let address = parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        let forwarded_for = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(Self {
            address,
            forwarded_for,
        })
    }
}

/// A request's cookies by name (every `Cookie` header; a name given twice
/// keeps its last value).
pub fn parse_cookies(headers: &HeaderMap) -> HashMap<String, String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}
