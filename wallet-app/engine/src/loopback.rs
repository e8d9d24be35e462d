//! The redirect URI of the authorization code flow for a native app on a
//! desktop — a loopback interface redirection, RFC 8252 §7.3 — shared by
//! the `intyg wallet` CLI and the Tauri app.
//!
//! <https://www.rfc-editor.org/rfc/rfc8252#section-7.3>
//!
//! [`Callback::bind`] listens on `127.0.0.1` and a port the system picks;
//! [`Callback::redirect_uri`] is `http://127.0.0.1:{port}/callback`.
//! [`Callback::wait`] serves that path until its first request, answers the
//! browser with a short page (Swedish and English) and returns the full
//! URL it was called with, for `Wallet::finish_authorization` to check.
//! Other paths get 404; the listener closes after the first callback, the
//! timeout, or the cancellation.

use std::future::{Future, IntoFuture as _};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The path of the redirect URI.
const CALLBACK_PATH: &str = "/callback";

/// How long the browser gets to fetch its page once the callback arrived.
const DRAIN: Duration = Duration::from_secs(2);

/// Why no callback arrived.
#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    /// The loopback listener could not be opened.
    #[error("the loopback listener for the login could not be opened: {0}")]
    Bind(#[source] std::io::Error),
    /// The login did not come back in time.
    #[error("the login did not come back within {} s", .0.as_secs())]
    Timeout(Duration),
    /// The wait was cancelled.
    #[error("cancelled")]
    Cancelled,
}

/// A bound loopback listener waiting to become the redirect URI.
#[derive(Debug)]
pub struct Callback {
    listener: TcpListener,
    port: u16,
}

impl Callback {
    /// Listens on `127.0.0.1` and a free port.
    pub async fn bind() -> Result<Self, CallbackError> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(CallbackError::Bind)?;
        let port = listener.local_addr().map_err(CallbackError::Bind)?.port();
        Ok(Self { listener, port })
    }

    /// The redirect URI to send in the authorization request.
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{CALLBACK_PATH}", self.port)
    }

    /// Serves the redirect URI until its first request, `timeout`, or
    /// `cancelled` resolving, whichever comes first; returns the URL of
    /// the first request.
    pub async fn wait(
        self,
        timeout: Duration,
        cancelled: impl Future<Output = ()>,
    ) -> Result<String, CallbackError> {
        let Self { listener, port } = self;
        let (sender, receiver) = oneshot::channel::<String>();
        let sender = Arc::new(Mutex::new(Some(sender)));
        let router = axum::Router::new().route(
            CALLBACK_PATH,
            axum::routing::get(move |uri: axum::http::Uri| {
                let sender = sender.clone();
                async move {
                    let first = sender.lock().unwrap_or_else(PoisonError::into_inner).take();
                    let refused = uri
                        .query()
                        .is_some_and(|q| q.split('&').any(|p| p.starts_with("error=")));
                    if let Some(first) = first
                        && first.send(format!("http://127.0.0.1:{port}{uri}")).is_err()
                    {
                        // The waiter gave up between the request and now.
                        return axum::response::Html(FAILED_PAGE);
                    }
                    axum::response::Html(if refused { FAILED_PAGE } else { DONE_PAGE })
                }
            }),
        );
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    // A dropped sender stops the server as well.
                    let _ = stopped.await;
                })
                .into_future(),
        );
        let outcome = tokio::select! {
            received = tokio::time::timeout(timeout, receiver) => match received {
                Ok(Ok(callback)) => Ok(callback),
                // The sender lives in the router until the server stops.
                Ok(Err(_)) | Err(_) => Err(CallbackError::Timeout(timeout)),
            },
            () = cancelled => Err(CallbackError::Cancelled),
        };
        let _ = stop.send(());
        // Give the browser its page before the listener goes away.
        match tokio::time::timeout(DRAIN, server).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(error))) => tracing::warn!(%error, "the loopback listener failed"),
            Ok(Err(error)) => tracing::warn!(%error, "the loopback listener task failed"),
            Err(_) => tracing::debug!("a browser connection was still open at the end"),
        }
        outcome
    }
}

const DONE_PAGE: &str = "<!doctype html><html lang=\"sv\"><head><meta charset=\"utf-8\"><title>Intyg</title></head><body><main><h1>Inloggningen är klar <span lang=\"en\">/ Login complete</span></h1><p>Du kan stänga fönstret och gå tillbaka till Intyg.</p><p lang=\"en\">You can close this window and return to Intyg.</p></main></body></html>";
const FAILED_PAGE: &str = "<!doctype html><html lang=\"sv\"><head><meta charset=\"utf-8\"><title>Intyg</title></head><body><main><h1>Inloggningen blev inte klar <span lang=\"en\">/ The login did not complete</span></h1><p>Du kan stänga fönstret. Intyg visar varför.</p><p lang=\"en\">You can close this window; Intyg shows why.</p></main></body></html>";

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal HTTP/1.1 GET: what a browser sends, byte for byte.
    async fn get(url: &str) -> String {
        use std::io::{Read as _, Write as _};
        let rest = url.strip_prefix("http://").unwrap().to_owned();
        tokio::task::spawn_blocking(move || {
            let (authority, path) = rest.split_at(rest.find('/').unwrap());
            let mut stream = std::net::TcpStream::connect(authority).unwrap();
            write!(
                stream,
                "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).unwrap();
            response
        })
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn the_first_callback_is_returned_and_the_browser_gets_a_page() {
        let callback = Callback::bind().await.unwrap();
        let redirect_uri = callback.redirect_uri();
        assert!(
            redirect_uri.starts_with("http://127.0.0.1:"),
            "{redirect_uri}"
        );
        assert!(redirect_uri.ends_with("/callback"), "{redirect_uri}");
        let waiting = tokio::spawn(callback.wait(Duration::from_secs(10), std::future::pending()));
        let other = get(&redirect_uri.replace("/callback", "/favicon.ico")).await;
        assert!(other.starts_with("HTTP/1.1 404"), "{other}");
        let page = get(&format!("{redirect_uri}?code=c&state=s")).await;
        assert!(page.starts_with("HTTP/1.1 200"), "{page}");
        assert!(page.contains("Login complete"), "{page}");
        assert_eq!(
            waiting.await.unwrap().unwrap(),
            format!("{redirect_uri}?code=c&state=s")
        );
    }

    #[tokio::test]
    async fn a_refusal_gets_the_failure_page() {
        let callback = Callback::bind().await.unwrap();
        let redirect_uri = callback.redirect_uri();
        let waiting = tokio::spawn(callback.wait(Duration::from_secs(10), std::future::pending()));
        let page = get(&format!("{redirect_uri}?error=access_denied&state=s")).await;
        assert!(page.contains("did not complete"), "{page}");
        assert!(
            waiting
                .await
                .unwrap()
                .unwrap()
                .contains("error=access_denied")
        );
    }

    #[tokio::test]
    async fn timeout_and_cancellation_end_the_wait() {
        let callback = Callback::bind().await.unwrap();
        let timed_out = callback
            .wait(Duration::from_millis(50), std::future::pending())
            .await;
        assert!(
            matches!(timed_out, Err(CallbackError::Timeout(_))),
            "{timed_out:?}"
        );

        let callback = Callback::bind().await.unwrap();
        let (cancel, cancelled) = oneshot::channel::<()>();
        drop(cancel);
        let outcome = callback
            .wait(Duration::from_secs(10), async {
                let _ = cancelled.await;
            })
            .await;
        assert!(
            matches!(outcome, Err(CallbackError::Cancelled)),
            "{outcome:?}"
        );
    }
}
