//! The bridge's pages: the waiting page (QR code, same-device link, a
//! script that follows the presentation and moves on) and error pages.
//! Same security headers as the portal: no inline script or style.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};

/// Scripts only from this origin, no framing.
const CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn page(status: StatusCode, title: &str, main: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="sv" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="stylesheet" href="/portal/portal.css";
                script src="/oidc/authorize.js" defer {}
            }
            body { main id="main" { (main) } }
        }
    };
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// An error shown in the browser (a client or redirect URI we cannot
/// send the error back to).
pub(super) fn error(status: StatusCode, message: &str) -> Response {
    page(
        status,
        "Inloggningen kan inte fortsätta / Sign-in cannot continue",
        html! {
            h1 { "Inloggningen kan inte fortsätta / Sign-in cannot continue" }
            p role="alert" id="oidc-error" { (message) }
        },
    )
}

/// The page of a waiting sign-in: QR code, same-device link, and the
/// presentation's events followed to `/authorize/{tx}/done`.
pub(super) fn waiting(service: &str, tx: &str, invocation_uri: &str, qr_svg: &str) -> Response {
    page(
        StatusCode::OK,
        "Logga in med din plånbok / Sign in with your wallet",
        html! {
            h1 { "Logga in med din plånbok / Sign in with your wallet" }
            p { (service) " ber om dina intyg. / " (service) " asks for your credentials." }
            div.request {
                figure id="request-qr" role="img" aria-label="QR-kod för plånboken / QR code for the wallet" {
                    (PreEscaped(qr_svg))
                }
                p { a id="wallet-link" href=(invocation_uri) { "Öppna i plånboken på den här enheten / Open in the wallet on this device" } }
            }
            div id="oidc" role="status" aria-live="polite"
                data-events={ "/authorize/" (tx) "/events" }
                data-done={ "/authorize/" (tx) "/done" } {
                p { "Väntar på plånboken … / Waiting for the wallet …" }
            }
            noscript {
                p { a href={ "/authorize/" (tx) "/done" } { "Fortsätt när du har svarat i plånboken / Continue once you have answered in the wallet" } }
            }
        },
    )
}

/// Follows the sign-in's events; when the presentation has ended (or the
/// stream fails), moves to the `done` URL, which sends the browser on.
pub(super) const JS: &str = r#""use strict";
(function () {
  var box = document.getElementById("oidc");
  if (!box || !box.dataset.events) return;
  var done = box.dataset.done;
  var moved = false;
  function go() { if (!moved) { moved = true; window.location.assign(done); } }
  function poll() { setTimeout(go, 3000); }
  if (!window.EventSource) { poll(); return; }
  var source = new EventSource(box.dataset.events);
  ["verified", "declined", "no_matching_credential", "failed", "expired"].forEach(function (name) {
    source.addEventListener(name, function () { source.close(); go(); });
  });
  source.onerror = function () { source.close(); poll(); };
})();
"#;
