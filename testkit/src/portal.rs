//! A cookie-keeping client for the officer and employer portals' tests.

use std::collections::HashMap;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, HeaderMap, LOCATION, SET_COOKIE};

/// A client that keeps cookies and does not follow redirects, as a
/// browser without JavaScript does on the portals' pages.
#[derive(Debug)]
pub struct PortalBrowser {
    base: String,
    http: reqwest::Client,
    /// The cookies it holds, by name (a cookie set empty is dropped).
    pub cookies: HashMap<String, String>,
    /// Every `Set-Cookie` value it received, in order.
    pub set_cookies: Vec<String>,
}

/// A portal's answer, read whole.
#[derive(Debug)]
pub struct PortalPage {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: String,
}

impl PortalPage {
    /// The `Location` header.
    pub fn location(&self) -> &str {
        self.headers[LOCATION].to_str().unwrap()
    }

    /// The value of `name="<name>"`'s `value` attribute in the first form.
    pub fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker).unwrap() + marker.len();
        let end = self.body[start..].find('"').unwrap();
        self.body[start..start + end].to_owned()
    }

    /// The opening tag of the element with `id="<id>"`.
    pub fn tag(&self, id: &str) -> &str {
        let at = self
            .body
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no #{id} in {}", self.body));
        let start = self.body[..at].rfind('<').unwrap();
        let end = at + self.body[at..].find('>').unwrap();
        &self.body[start..=end]
    }

    /// The text of the element with `id="<id>"` (no nested tags).
    pub fn text(&self, id: &str) -> &str {
        let tag = self.tag(id);
        let start = self.body.find(tag).unwrap() + tag.len();
        let end = start + self.body[start..].find('<').unwrap();
        &self.body[start..end]
    }

    /// The text of the element with `id="<id>"` and of all inside it, tags
    /// left out (the element holds no element of its own name).
    pub fn inner_text(&self, id: &str) -> String {
        let tag = self.tag(id);
        let name: String = tag[1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let start = self.body.find(tag).unwrap() + tag.len();
        let end = start + self.body[start..].find(&format!("</{name}>")).unwrap();
        let mut text = String::new();
        let mut in_tag = false;
        for c in self.body[start..end].chars() {
            match c {
                '<' => in_tag = true,
                '>' => {
                    in_tag = false;
                    text.push(' ');
                }
                c if !in_tag => text.push(c),
                _ => {}
            }
        }
        text
    }

    /// The `href` of the element with `id="<id>"`, unescaped.
    pub fn href(&self, id: &str) -> String {
        let tag = self.tag(id);
        let start = tag.find("href=\"").unwrap() + 6;
        let end = start + tag[start..].find('"').unwrap();
        tag[start..end].replace("&amp;", "&")
    }
}

/// An attribute value as written by maud, unescaped.
fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

impl PortalPage {
    /// The form holding the element `id="<id>"`: its `action` and its
    /// hidden inputs' names and values, as a browser would post them.
    pub fn form_of(&self, id: &str) -> (String, Vec<(String, String)>) {
        let at = self
            .body
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no #{id} in {}", self.body));
        let start = self.body[..at].rfind("<form").expect("inside a form");
        let end = at + self.body[at..].find("</form>").unwrap();
        let form = &self.body[start..end];
        let attribute = |tag: &str, name: &str| {
            let marker = format!(" {name}=\"");
            tag.find(&marker).map(|i| {
                let rest = &tag[i + marker.len()..];
                unescape(&rest[..rest.find('"').unwrap()])
            })
        };
        let open = &form[..form.find('>').unwrap()];
        let action = attribute(open, "action").expect("a form action");
        let fields = form
            .match_indices("<input")
            .map(|(i, _)| &form[i..i + form[i..].find('>').unwrap()])
            .filter(|tag| tag.contains("type=\"hidden\""))
            .map(|tag| {
                (
                    attribute(tag, "name").unwrap(),
                    attribute(tag, "value").unwrap_or_default(),
                )
            })
            .collect();
        (action, fields)
    }
}

impl PortalBrowser {
    /// A browser for the service at `base` (`http://127.0.0.1:port`).
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
            set_cookies: Vec::new(),
        }
    }

    /// A browser for the service at `base` whose connections come from the
    /// loopback address `local` (any of 127.0.0.0/8), to act as a second
    /// client machine.
    pub fn from_address(base: &str, local: std::net::IpAddr) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .local_address(local)
                .build()
                .unwrap(),
            ..Self::new(base)
        }
    }

    /// The HTTP client, to build a request that [`Self::send`] sends.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Sends `request` with the cookies held; keeps those it sets.
    pub async fn send(&mut self, request: reqwest::RequestBuilder) -> PortalPage {
        let cookie: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let request = if cookie.is_empty() {
            request
        } else {
            request.header(COOKIE, cookie.join("; "))
        };
        let response = request.send().await.unwrap();
        for value in response.headers().get_all(SET_COOKIE) {
            let value = value.to_str().unwrap().to_owned();
            let (pair, _) = value.split_once(';').unwrap();
            let (name, content) = pair.split_once('=').unwrap();
            if content.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.into(), content.into());
            }
            self.set_cookies.push(value);
        }
        PortalPage {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    /// `GET` of `path` on the service.
    pub async fn get(&mut self, path: &str) -> PortalPage {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    /// `POST` of `form` to `path` on the service.
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> PortalPage {
        let request = self.http.post(format!("{}{path}", self.base)).form(form);
        self.send(request).await
    }

    /// Uses the language switch of `page`: a page answering a POST has
    /// one that posts its form again, any other a link.
    pub async fn switch_language(&mut self, page: &PortalPage) -> PortalPage {
        let tag = page.tag("switch-language");
        if tag.starts_with("<a") {
            let href = page.href("switch-language");
            return self.get(&href).await;
        }
        let (action, fields) = page.form_of("switch-language");
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.post(&action, &pairs).await
    }

    /// Fetches the sign-in form and posts it with its CSRF token.
    pub async fn sign_in(&mut self, username: &str, password: &str) -> PortalPage {
        let login = self.get("/portal/login").await;
        let csrf = login.hidden("csrf");
        self.post(
            "/portal/login",
            &[
                ("csrf", &csrf),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    }
}
