//! Logging in at the development IdP the way a browser does.

use reqwest::{Response, StatusCode};

/// What the person does on the development IdP's login page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login<'a> {
    /// Picks the test person with this personal identity number.
    As(&'a str),
    /// Presses cancel.
    Cancel,
}

/// A browser that follows no redirect by itself, so that tests see each.
#[derive(Debug, Clone)]
pub struct Browser {
    /// The client (redirects not followed).
    pub http: reqwest::Client,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    /// A browser with no cookies.
    pub fn new() -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a reqwest client"),
        }
    }

    /// From `authorization_url`, follows every redirect while it stays at
    /// the issuer or at the IdP, answers the IdP's login page with `login`,
    /// and returns the first URL elsewhere (the redirect URI, with the code
    /// or the error) without fetching it.
    ///
    /// Panics on any other page, if the login page was skipped, or after
    /// eight steps.
    pub async fn log_in(
        &self,
        authorization_url: &str,
        issuer: &str,
        idp: &str,
        login: Login<'_>,
    ) -> String {
        let mut url = authorization_url.to_owned();
        let mut picked = false;
        for _ in 0..8 {
            if !at(&url, issuer) && !at(&url, idp) {
                assert!(picked, "the login page was skipped");
                return url;
            }
            let response = self.http.get(&url).send().await.unwrap();
            if response.status().is_redirection() {
                url = location(&response);
                continue;
            }
            assert_eq!(response.status(), StatusCode::OK, "GET {url}");
            assert!(at(&url, idp), "a page outside the IdP: {url}");
            let html = response.text().await.unwrap();
            url = self.answer(idp, &html, login).await;
            picked = true;
        }
        panic!("too many redirects; last {url}")
    }

    /// Answers the login page `html` of the IdP at `idp` with `login`;
    /// asserts that the IdP redirects (`303`) and returns where to.
    pub async fn answer(&self, idp: &str, html: &str, login: Login<'_>) -> String {
        let choice = match login {
            Login::As(person) => ("person", person),
            Login::Cancel => ("cancel", "1"),
        };
        let chosen = self
            .http
            .post(format!("{idp}/authorize/login"))
            .form(&[("request", login_request(html)), choice])
            .send()
            .await
            .unwrap();
        assert_eq!(
            chosen.status(),
            StatusCode::SEE_OTHER,
            "POST {idp}/authorize/login"
        );
        location(&chosen)
    }
}

/// The hidden `request` field of the development IdP's login form.
fn login_request(html: &str) -> &str {
    let marker = "name=\"request\" value=\"";
    let start = html.find(marker).expect("the IdP's login form") + marker.len();
    let end = html[start..].find('"').expect("a closing quote");
    &html[start..start + end]
}

/// The `Location` header of a redirect.
pub fn location(response: &Response) -> String {
    response.headers()["location"]
        .to_str()
        .expect("an ASCII location")
        .to_owned()
}

/// Whether `url` is at the server whose base URL is `base`.
fn at(url: &str, base: &str) -> bool {
    url.strip_prefix(base)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_at_a_server_only_on_its_exact_origin() {
        let base = "http://127.0.0.1:4000";
        assert!(at("http://127.0.0.1:4000", base));
        assert!(at("http://127.0.0.1:4000/authorize?x=1", base));
        assert!(at("http://127.0.0.1:4000?x=1", base));
        assert!(!at("http://127.0.0.1:40001/callback", base));
        assert!(!at("http://127.0.0.1:9/callback", base));
    }

    #[test]
    fn the_login_form_request_is_read_from_its_hidden_field() {
        let html =
            r#"<form><input type="hidden" name="request" value="abc-123"><button name="person">"#;
        assert_eq!(login_request(html), "abc-123");
    }
}
