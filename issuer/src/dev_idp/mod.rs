//! The development OpenID Provider behind `intyg-dev-idp`: a stand-in for
//! BankID or Freja eID Plus, with a few test persons, so that the demo and
//! the tests run with nothing outside the machine. Never for production:
//! state is in memory, and anyone who reaches it can log in as anyone.
//!
//! | route | what |
//! |---|---|
//! | `GET /.well-known/openid-configuration` | OpenID Connect Discovery 1.0 §4 |
//! | `GET /jwks` | the ES256 signing key |
//! | `GET /authorize` | a page to pick a test person; `login_hint` skips it with `--auto-login` |
//! | `POST /authorize/login` | the page's form |
//! | `POST /token` | code → ID token (`client_secret_basic`, PKCE S256) |
//! | `GET /userinfo` | the person's claims (Bearer) |
//!
//! The ID token carries `personal_identity_number`, `given_name`,
//! `family_name` and `birthdate`, as a Swedish eID IdP would.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use intyg_core::jose::{Algorithm, Header, SigningKey, sign_compact, thumbprint};
use intyg_core::oid4vci::token::{CodeVerifier, verify_pkce_s256};
use serde_json::{Value, json};
use url::Url;

use crate::error::ApiError;
use crate::{random_token, sha256_hex};

/// Lifetime of codes, tokens and pending logins, in seconds.
const LIFETIME: i64 = 300;

/// A test person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestPerson {
    /// Personal identity number (personnummer), 12 digits.
    pub personal_identity_number: &'static str,
    /// Given names.
    pub given_name: &'static str,
    /// Family name.
    pub family_name: &'static str,
    /// Date of birth, ISO 8601.
    pub birthdate: &'static str,
}

/// The test persons. The first is the person of
/// `specs/credentials/registration-certificate/example.json`. The numbers
/// have valid check digits and are made up.
pub const TEST_PERSONS: [TestPerson; 4] = [
    TestPerson {
        personal_identity_number: "199403172381",
        given_name: "Karin Elisabet",
        family_name: "Lindqvist",
        birthdate: "1994-03-17",
    },
    TestPerson {
        personal_identity_number: "198507099805",
        given_name: "Amira",
        family_name: "Haddad",
        birthdate: "1985-07-09",
    },
    TestPerson {
        personal_identity_number: "200112201116",
        given_name: "Erik",
        family_name: "Johansson",
        birthdate: "2001-12-20",
    },
    TestPerson {
        personal_identity_number: "197805245672",
        given_name: "Mikael",
        family_name: "Berg",
        birthdate: "1978-05-24",
    },
];

fn person(number: &str) -> Option<&'static TestPerson> {
    TEST_PERSONS
        .iter()
        .find(|p| p.personal_identity_number == number)
}

/// How the provider is set up.
#[derive(Debug)]
pub struct DevIdpConfig {
    /// Issuer identifier, e.g. `http://127.0.0.1:8090`.
    pub issuer: String,
    /// The one client's id.
    pub client_id: String,
    /// Its secret.
    pub client_secret: String,
    /// Its registered redirect URIs (exact match).
    pub redirect_uris: Vec<String>,
    /// Whether a `login_hint` naming a test person logs in without the page.
    pub auto_login: bool,
}

/// A login request waiting on the page.
#[derive(Debug, Clone)]
struct Pending {
    redirect_uri: String,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    expires_at: i64,
}

#[derive(Debug)]
struct Code {
    pending: Pending,
    person: &'static TestPerson,
}

#[derive(Debug, Default)]
struct Sessions {
    pending: HashMap<String, Pending>,
    codes: HashMap<String, Code>,
    tokens: HashMap<String, (&'static TestPerson, i64)>,
}

/// The provider.
#[derive(Debug)]
pub struct DevIdp {
    config: DevIdpConfig,
    key: SigningKey,
    kid: String,
    sessions: Mutex<Sessions>,
}

impl DevIdp {
    /// A provider signing with `key`.
    pub fn new(config: DevIdpConfig, key: SigningKey) -> Result<Self, intyg_core::jose::JoseError> {
        let kid = thumbprint(&key.public_jwk())?;
        Ok(Self {
            config,
            key,
            kid,
            sessions: Mutex::default(),
        })
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, Sessions> {
        // The maps stay consistent whatever a panicking holder did: every
        // update is a single insert or remove.
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        let now = crate::now();
        sessions.pending.retain(|_, p| p.expires_at > now);
        sessions.codes.retain(|_, c| c.pending.expires_at > now);
        sessions
            .tokens
            .retain(|_, (_, expires_at)| *expires_at > now);
        sessions
    }
}

/// The provider's router.
pub fn app(idp: Arc<DevIdp>) -> Router {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/authorize", get(authorize))
        .route("/authorize/login", post(login))
        .route("/token", post(token))
        .route("/userinfo", get(userinfo))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(16 * 1024))
        .with_state(idp)
}

async fn discovery(State(idp): State<Arc<DevIdp>>) -> Json<Value> {
    let base = &idp.config.issuer;
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "scopes_supported": ["openid", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "personal_identity_number", "given_name", "family_name", "name", "birthdate"],
    }))
}

async fn jwks(State(idp): State<Arc<DevIdp>>) -> Result<Json<Value>, ApiError> {
    let mut jwk = serde_json::to_value(idp.key.public_jwk())
        .map_err(|e| ApiError::Issuance(e.to_string()))?;
    jwk["kid"] = idp.kid.clone().into();
    jwk["use"] = "sig".into();
    jwk["alg"] = "ES256".into();
    Ok(Json(json!({ "keys": [jwk] })))
}

fn form(input: &[u8]) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(input).into_owned().collect()
}

fn redirect(redirect_uri: &str, pairs: &[(&str, &str)]) -> Result<Response, ApiError> {
    let mut url = Url::parse(redirect_uri)
        .map_err(|_| ApiError::Issuance("registered redirect_uri does not parse".into()))?;
    url.query_pairs_mut().extend_pairs(pairs);
    Ok(Redirect::to(url.as_str()).into_response())
}

/// `GET /authorize`: checks the client and its redirect URI (errors shown
/// here, never redirected), then shows the person picker or, with
/// `--auto-login` and a `login_hint` naming a test person, logs in.
async fn authorize(
    State(idp): State<Arc<DevIdp>>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = form(query.as_deref().unwrap_or_default().as_bytes());
    let bad = |why: &str| ApiError::bad_request("invalid_request", why);
    if params.get("client_id") != Some(&idp.config.client_id) {
        return Err(bad("unknown client_id"));
    }
    let redirect_uri = params
        .get("redirect_uri")
        .filter(|r| idp.config.redirect_uris.contains(r))
        .ok_or_else(|| bad("redirect_uri is not registered for this client"))?;
    let state = params.get("state").cloned();
    let refuse = |code: &str, why: &str| {
        let mut pairs = vec![("error", code), ("error_description", why)];
        if let Some(state) = &state {
            pairs.push(("state", state));
        }
        redirect(redirect_uri, &pairs)
    };
    if params.get("response_type").map(String::as_str) != Some("code") {
        return refuse("unsupported_response_type", "response_type must be code");
    }
    if !params
        .get("scope")
        .is_some_and(|s| s.split_whitespace().any(|s| s == "openid"))
    {
        return refuse("invalid_scope", "scope must include openid");
    }
    let code_challenge = params.get("code_challenge").cloned();
    if code_challenge.is_some()
        && params.get("code_challenge_method").map(String::as_str) != Some("S256")
    {
        return refuse("invalid_request", "code_challenge_method must be S256");
    }
    let pending = Pending {
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        nonce: params.get("nonce").cloned(),
        code_challenge,
        expires_at: crate::now() + LIFETIME,
    };
    let hinted = params.get("login_hint").and_then(|h| person(h));
    if let (true, Some(person)) = (idp.config.auto_login, hinted) {
        return log_in(&idp, pending, person);
    }
    let id = random_token(16)?;
    idp.sessions().pending.insert(id.clone(), pending);
    Ok(page(&id, hinted).into_response())
}

/// Issues a code for `person` and sends the browser back.
fn log_in(
    idp: &DevIdp,
    pending: Pending,
    person: &'static TestPerson,
) -> Result<Response, ApiError> {
    let code = random_token(32)?;
    let (redirect_uri, state) = (pending.redirect_uri.clone(), pending.state.clone());
    idp.sessions()
        .codes
        .insert(sha256_hex(&code), Code { pending, person });
    let mut pairs = vec![("code", code.as_str())];
    if let Some(state) = &state {
        pairs.push(("state", state));
    }
    redirect(&redirect_uri, &pairs)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(request: &str, hinted: Option<&TestPerson>) -> Html<String> {
    let request = escape(request);
    let buttons: String = TEST_PERSONS
        .iter()
        .map(|p| {
            let autofocus = if hinted == Some(p) { " autofocus" } else { "" };
            format!(
                "<li><button type=\"submit\" name=\"person\" value=\"{number}\"{autofocus}>{given} {family} ({number})</button></li>",
                number = escape(p.personal_identity_number),
                given = escape(p.given_name),
                family = escape(p.family_name),
            )
        })
        .collect();
    Html(format!(
        "<!doctype html>\n<html lang=\"sv\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>Testinloggning / Test login</title></head><body><main>\
<h1>Testinloggning <span lang=\"en\">/ Test login</span></h1>\
<p>Utvecklings-IdP: välj en testperson. <span lang=\"en\">Development IdP: pick a test person.</span></p>\
<form method=\"post\" action=\"/authorize/login\"><input type=\"hidden\" name=\"request\" value=\"{request}\">\
<ul>{buttons}</ul>\
<button type=\"submit\" name=\"cancel\" value=\"1\">Avbryt <span lang=\"en\">/ Cancel</span></button>\
</form></main></body></html>"
    ))
}

/// `POST /authorize/login`: the page's choice.
async fn login(State(idp): State<Arc<DevIdp>>, body: Bytes) -> Result<Response, ApiError> {
    let params = form(&body);
    let pending = params
        .get("request")
        .and_then(|id| idp.sessions().pending.remove(id))
        .ok_or_else(|| ApiError::bad_request("invalid_request", "unknown or expired login"))?;
    if params.contains_key("cancel") {
        let mut pairs = vec![
            ("error", "access_denied"),
            ("error_description", "the person cancelled"),
        ];
        if let Some(state) = &pending.state {
            pairs.push(("state", state));
        }
        return redirect(&pending.redirect_uri, &pairs);
    }
    let person = params
        .get("person")
        .and_then(|p| person(p))
        .ok_or_else(|| ApiError::bad_request("invalid_request", "no such test person"))?;
    log_in(&idp, pending, person)
}

/// The client of a `client_secret_basic` header (RFC 6749 §2.3.1), if its
/// secret is right.
fn authenticate(idp: &DevIdp, headers: &HeaderMap) -> Result<(), ApiError> {
    let unauthorized =
        |why: &str| ApiError::client(StatusCode::UNAUTHORIZED, "invalid_client", why);
    let encoded = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .ok_or_else(|| unauthorized("client_secret_basic authentication is required"))?;
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| unauthorized("malformed Basic credentials"))?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or_else(|| unauthorized("malformed Basic credentials"))?;
    let unescape = |s: &str| -> String {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .map(|(_, v)| v.into_owned())
            .next()
            .unwrap_or_default()
    };
    let id_ok = unescape(id) == idp.config.client_id;
    let secret_ok = aws_lc_rs::constant_time::verify_slices_are_equal(
        unescape(secret).as_bytes(),
        idp.config.client_secret.as_bytes(),
    )
    .is_ok();
    if id_ok && secret_ok {
        Ok(())
    } else {
        Err(unauthorized("wrong client credentials"))
    }
}

/// `POST /token`: the code, once, for an ID token and an access token.
async fn token(
    State(idp): State<Arc<DevIdp>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    authenticate(&idp, &headers)?;
    let params = form(&body);
    let invalid = |why: &str| ApiError::bad_request("invalid_grant", why);
    if params.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return Err(ApiError::bad_request(
            "unsupported_grant_type",
            "only authorization_code",
        ));
    }
    let code = params
        .get("code")
        .and_then(|c| idp.sessions().codes.remove(&sha256_hex(c)))
        .ok_or_else(|| invalid("unknown, used or expired code"))?;
    if params.get("redirect_uri") != Some(&code.pending.redirect_uri) {
        return Err(invalid(
            "redirect_uri differs from the authorization request's",
        ));
    }
    if let Some(challenge) = &code.pending.code_challenge {
        let verifier = params
            .get("code_verifier")
            .map(|v| v.parse::<CodeVerifier>())
            .transpose()
            .map_err(|e| invalid(&e.to_string()))?;
        verify_pkce_s256(challenge, verifier.as_ref()).map_err(|e| invalid(&e.to_string()))?;
    }
    let now = crate::now();
    let person = code.person;
    let mut claims = json!({
        "iss": idp.config.issuer,
        "sub": subject(person),
        "aud": idp.config.client_id,
        "iat": now,
        "exp": now + LIFETIME,
        "auth_time": now,
        "personal_identity_number": person.personal_identity_number,
        "given_name": person.given_name,
        "family_name": person.family_name,
        "name": format!("{} {}", person.given_name, person.family_name),
        "birthdate": person.birthdate,
    });
    if let Some(nonce) = &code.pending.nonce {
        claims["nonce"] = nonce.clone().into();
    }
    let payload = serde_json::to_vec(&claims).map_err(|e| ApiError::Issuance(e.to_string()))?;
    let id_token = sign_compact(
        &Header::new(Algorithm::ES256).typ("JWT").kid(&idp.kid),
        &payload,
        &idp.key,
    )?;
    let access_token = random_token(32)?;
    idp.sessions()
        .tokens
        .insert(sha256_hex(&access_token), (person, now + LIFETIME));
    let body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": LIFETIME,
        "id_token": id_token,
    });
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(body),
    )
        .into_response())
}

/// A stable, opaque subject identifier for a person.
fn subject(person: &TestPerson) -> String {
    sha256_hex(&format!(
        "intyg-dev-idp:{}",
        person.personal_identity_number
    ))[..32]
        .to_owned()
}

/// `GET /userinfo` (OIDC Core §5.3).
async fn userinfo(
    State(idp): State<Arc<DevIdp>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError::client(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "Bearer token required",
            )
        })?;
    let (person, _) = idp
        .sessions()
        .tokens
        .get(&sha256_hex(token))
        .copied()
        .ok_or_else(|| {
            ApiError::client(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "unknown or expired token",
            )
        })?;
    Ok(Json(json!({
        "sub": subject(person),
        "personal_identity_number": person.personal_identity_number,
        "given_name": person.given_name,
        "family_name": person.family_name,
        "name": format!("{} {}", person.given_name, person.family_name),
        "birthdate": person.birthdate,
    })))
}

/// Loads the provider's key from `path`, or generates one and keeps it
/// there (mode 0600).
pub fn load_or_create_key(path: &std::path::Path) -> Result<SigningKey, String> {
    if path.exists() {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let jwk = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        return SigningKey::from_jwk(&jwk).map_err(|e| format!("{}: {e}", path.display()));
    }
    let key = SigningKey::generate().map_err(|e| e.to_string())?;
    let jwk = key.to_private_jwk().map_err(|e| e.to_string())?;
    let text = serde_json::to_string_pretty(&jwk).map_err(|e| e.to_string())?;
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_persons_have_valid_numbers_matching_their_birthdates() {
        for p in TEST_PERSONS {
            let number: crate::model::PersonalIdentityNumber =
                p.personal_identity_number.parse().unwrap();
            assert_eq!(number.birthdate().to_string(), p.birthdate, "{p:?}");
        }
        assert_eq!(TEST_PERSONS[0].personal_identity_number, "199403172381");
    }

    #[test]
    fn page_escapes_and_lists_everyone() {
        let html = page("a\"<b", None).0;
        assert!(html.contains("a&quot;&lt;b"));
        for p in TEST_PERSONS {
            assert!(html.contains(p.personal_identity_number));
        }
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        use base64::Engine as _;
        let idp = DevIdp::new(
            DevIdpConfig {
                issuer: "http://127.0.0.1:1".into(),
                client_id: "a b".into(),
                client_secret: "s:%".into(),
                redirect_uris: vec![],
                auto_login: false,
            },
            SigningKey::generate().unwrap(),
        )
        .unwrap();
        let with = |credentials: &str| {
            let mut headers = HeaderMap::new();
            let value = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(credentials)
            );
            headers.insert(header::AUTHORIZATION, value.parse().unwrap());
            authenticate(&idp, &headers)
        };
        assert!(with("a+b:s%3A%25").is_ok());
        assert!(with("a+b:wrong").is_err());
        assert!(authenticate(&idp, &HeaderMap::new()).is_err());
    }
}
