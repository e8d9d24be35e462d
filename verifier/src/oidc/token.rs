//! `POST /token` (Core §3.1.3) with `client_secret_basic` or
//! `private_key_jwt` (Core §9), `GET|POST /userinfo` (Core §5.3), and the
//! ID token: ES256 with the verifier's key, pairwise `sub`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use intyg_core::jose::{Algorithm, CompactJws, Header, VerifyingKey, sign_compact, thumbprint};
use intyg_core::oidc::{ClientAssertionClaims, IdTokenClaims, TokenResponse, pkce_s256_matches};
use serde_json::{Map, Value};
use std::collections::HashMap;

use super::{ACCESS_TOKEN_SECONDS, ACR, AMR, hashed};
use crate::error::ApiError;
use crate::model::Transaction;
use crate::store::oidc::Grant;
use crate::{AppState, now, random_token};

/// The `client_assertion_type` of `private_key_jwt` (RFC 7523 §2.2).
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// How long an ID token is valid, in seconds.
const ID_TOKEN_SECONDS: i64 = 300;
/// How far a client assertion's `iat` and `nbf` may lie in the future
/// (clock skew), in seconds.
const ASSERTION_LEEWAY_SECONDS: i64 = 60;
/// The longest a client assertion may live, in seconds.
const ASSERTION_MAX_SECONDS: i64 = 300;
/// The file of the pairwise subject key, in `data_dir`.
const PAIRWISE_KEY_FILE: &str = "oidc-pairwise.key";

fn client_error(
    status: StatusCode,
    code: &'static str,
    description: impl Into<String>,
) -> ApiError {
    ApiError::Client {
        status,
        code,
        description: description.into(),
    }
}

fn invalid_client(description: &str) -> ApiError {
    ApiError::InvalidClient(description.to_owned())
}

fn invalid_request(description: impl Into<String>) -> ApiError {
    client_error(StatusCode::BAD_REQUEST, "invalid_request", description)
}

fn invalid_grant(description: &str) -> ApiError {
    client_error(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

/// The public JWK of the ID token key, with `kid`, `use` and `alg`.
pub fn public_jwk(state: &AppState) -> Result<Value, ApiError> {
    let jwk = state.identity.key.public_jwk();
    let kid = thumbprint(&jwk)?;
    let mut value = serde_json::to_value(&jwk)
        .map_err(|e| ApiError::bad_request("server_error", e.to_string()))?;
    if let Value::Object(map) = &mut value {
        map.insert("kid".into(), kid.into());
        map.insert("use".into(), "sig".into());
        map.insert("alg".into(), "ES256".into());
    }
    Ok(value)
}

/// The claims `grant` stands for, read now from its transaction (where
/// they are sealed): none once they were erased or their retention ended,
/// or when the transaction is gone.
async fn granted_claims(state: &AppState, grant: &Grant) -> Result<Map<String, Value>, ApiError> {
    if grant.transaction_id.is_empty() {
        return Ok(Map::new());
    }
    let Some(mut transaction) = state.stores.transactions.get(&grant.transaction_id).await? else {
        return Ok(Map::new());
    };
    crate::personal::open(state, &mut transaction).await?;
    Ok(disclosed_claims(&transaction))
}

/// The disclosed claims of a verified transaction, at the top level and
/// named as in the credentials (the first credential wins a name),
/// without the names ID tokens and UserInfo give their own meaning
/// ([`intyg_core::oidc::PROTOCOL_CLAIMS`]).
pub fn disclosed_claims(transaction: &Transaction) -> Map<String, Value> {
    let mut claims = Map::new();
    for credential in &transaction.credentials {
        for (name, value) in intyg_core::oidc::disclosed_claims(&credential.claims) {
            claims.entry(name).or_insert(value);
        }
    }
    claims
}

/// The key of pairwise subjects: 32 random bytes in `data_dir`, made on
/// first use (instances sharing `data_dir` share it).
fn pairwise_key(state: &AppState) -> Result<Vec<u8>, ApiError> {
    let dir = &state.config.data_dir;
    let path = dir.join(PAIRWISE_KEY_FILE);
    let failed =
        |e: std::io::Error| ApiError::bad_request("server_error", format!("pairwise key: {e}"));
    let read = |path: &std::path::Path| match std::fs::read(path) {
        Ok(key) if key.len() == 32 => Ok(Some(key)),
        Ok(_) => Err(ApiError::bad_request(
            "server_error",
            "pairwise key file is not 32 bytes",
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(failed(e)),
    };
    if let Some(key) = read(&path)? {
        return Ok(key);
    }
    let mut key = [0u8; 32];
    aws_lc_rs::rand::fill(&mut key)
        .map_err(|_| ApiError::Key(intyg_core::jose::JoseError::Signing))?;
    let temporary = dir.join(format!("{PAIRWISE_KEY_FILE}.{}.tmp", random_token(12)?));
    let written = write_new_key(dir, &temporary, &path, &key);
    // The temporary name is ours alone; it goes whatever happened.
    let removed = std::fs::remove_file(&temporary);
    written.map_err(failed)?;
    if let Err(e) = removed
        && e.kind() != std::io::ErrorKind::NotFound
    {
        return Err(failed(e));
    }
    // The key that won, ours or a concurrent creator's.
    read(&path)?.ok_or_else(|| ApiError::bad_request("server_error", "pairwise key vanished"))
}

/// Writes `key` to `temporary` (mode 0600, synced), then links it to
/// `path` unless a concurrent creator got there first: a link never
/// replaces a file, so every creator ends up with the one key at `path`.
/// The directory is synced so the name survives a crash.
fn write_new_key(
    dir: &std::path::Path,
    temporary: &std::path::Path,
    path: &std::path::Path,
    key: &[u8],
) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(temporary)?;
    file.write_all(key)?;
    file.sync_all()?;
    match std::fs::hard_link(temporary, path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    std::fs::File::open(dir)?.sync_all()
}

/// The disclosed claims that identify a person for good: the Swedish
/// personal identity number (registration certificate) and the PID's
/// `personal_administrative_number` (EUDI PID rulebook).
const STABLE_IDENTIFIERS: [&str; 2] =
    ["personal_identity_number", "personal_administrative_number"];

/// `sub` for `client_id`: the HMAC of the client and a disclosed stable
/// identifier ([`STABLE_IDENTIFIERS`]; stable per client, unlinkable
/// across clients, never the number), else a fresh random value.
pub fn pairwise_subject(
    state: &AppState,
    client_id: &str,
    transaction: &Transaction,
) -> Result<String, ApiError> {
    let stable = STABLE_IDENTIFIERS.iter().find_map(|name| {
        transaction
            .credentials
            .iter()
            .find_map(|c| c.claims.get(*name).and_then(Value::as_str))
            .filter(|number| !number.is_empty())
    });
    match stable {
        Some(number) => {
            let key =
                aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &pairwise_key(state)?);
            let mut context = aws_lc_rs::hmac::Context::with_key(&key);
            context.update(client_id.as_bytes());
            context.update(&[0]);
            context.update(number.as_bytes());
            Ok(intyg_core::jose::b64url_encode(context.sign()))
        }
        None => random_token(32),
    }
}

/// The parameters of a token request, each at most once (RFC 6749 §3.2).
fn token_form(body: &str) -> Result<HashMap<String, String>, ApiError> {
    let mut form = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(body.as_bytes()) {
        if form
            .insert(name.clone().into_owned(), value.into_owned())
            .is_some()
        {
            return Err(invalid_request(format!("`{name}` is repeated")));
        }
    }
    Ok(form)
}

/// Authenticates the client of a token request: `client_secret_basic`
/// (RFC 6749 §2.3.1, form-encoded id and secret) or `private_key_jwt`,
/// exactly one method (§2.3).
async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<String, ApiError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, credentials)| credentials);
    let in_body = ["client_secret", "client_assertion"]
        .into_iter()
        .filter(|name| form.contains_key(*name))
        .count();
    if usize::from(basic.is_some()) + in_body > 1 {
        return Err(invalid_request(
            "use one client authentication method, not several",
        ));
    }
    if let Some(basic) = basic {
        let decoded =
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, basic.trim())
                .map_err(|_| invalid_client("the Basic credentials are not base64"))?;
        let decoded = String::from_utf8(decoded)
            .map_err(|_| invalid_client("the Basic credentials are not UTF-8"))?;
        let (id, secret) = decoded
            .split_once(':')
            .ok_or_else(|| invalid_client("the Basic credentials lack a colon"))?;
        let unescape = |part: &str| -> String {
            url::form_urlencoded::parse(format!("v={part}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let (id, secret) = (unescape(id), unescape(secret));
        let client = super::client(state, &id).ok_or_else(|| invalid_client("unknown client"))?;
        let expected = client
            .client_secret
            .as_deref()
            .ok_or_else(|| invalid_client("this client has no secret: use private_key_jwt"))?;
        aws_lc_rs::constant_time::verify_slices_are_equal(secret.as_bytes(), expected.as_bytes())
            .map_err(|_| invalid_client("wrong client secret"))?;
        if form.get("client_id").is_some_and(|given| *given != id) {
            return Err(invalid_request(
                "client_id differs from the authenticated client",
            ));
        }
        return Ok(id);
    }
    match (
        form.get("client_assertion_type"),
        form.get("client_assertion"),
    ) {
        (Some(kind), Some(assertion)) if kind == JWT_BEARER => {
            private_key_jwt(state, assertion, form.get("client_id").map(String::as_str)).await
        }
        (Some(_), Some(_)) => Err(invalid_client("unsupported client_assertion_type")),
        _ => Err(invalid_client(
            "authenticate with client_secret_basic or private_key_jwt",
        )),
    }
}

/// Checks a `private_key_jwt` assertion (Core §9, RFC 7523 §3): ES256 by
/// one of the client's keys, `iss` = `sub` = the client (and the form's
/// `client_id`, if any), `aud` the token endpoint or the issuer, `exp`
/// not passed, `iat` and `nbf` not in the future (60 s leeway), at most
/// 300 s of life, `jti` not seen before.
async fn private_key_jwt(
    state: &AppState,
    assertion: &str,
    client_id: Option<&str>,
) -> Result<String, ApiError> {
    let jws = CompactJws::parse(assertion)
        .map_err(|e| invalid_client(&format!("client_assertion: {e}")))?;
    if jws.header.alg != Algorithm::ES256 {
        return Err(invalid_client("client_assertion must be ES256"));
    }
    let claims: ClientAssertionClaims = serde_json::from_slice(&jws.payload)
        .map_err(|e| invalid_client(&format!("client_assertion claims: {e}")))?;
    if claims.iss != claims.sub {
        return Err(invalid_client("client_assertion iss and sub differ"));
    }
    if client_id.is_some_and(|id| id != claims.iss) {
        return Err(invalid_client(
            "client_id differs from the client_assertion's iss and sub",
        ));
    }
    let client =
        super::client(state, &claims.iss).ok_or_else(|| invalid_client("unknown client"))?;
    let verified = client.jwks.iter().any(|jwk| {
        let kid_fits = match (&jws.header.kid, &jwk.key_id) {
            (Some(wanted), Some(kid)) => wanted == kid,
            _ => true,
        };
        kid_fits && VerifyingKey::from_jwk(jwk).is_ok_and(|key| jws.verify_with(&key).is_ok())
    });
    if !verified {
        return Err(invalid_client(
            "client_assertion is not signed by a key of this client",
        ));
    }
    let base = &state.config.public_url;
    if !claims.aud.contains(&format!("{base}/token")) && !claims.aud.contains(base) {
        return Err(invalid_client(
            "client_assertion aud is not this token endpoint",
        ));
    }
    let now = now();
    if claims.exp <= now {
        return Err(invalid_client("client_assertion expired"));
    }
    match claims.iat {
        Some(iat) if iat > now + ASSERTION_LEEWAY_SECONDS => {
            return Err(invalid_client("client_assertion iat is in the future"));
        }
        Some(iat) if claims.exp - iat > ASSERTION_MAX_SECONDS => {
            return Err(invalid_client(
                "client_assertion lives longer than 300 seconds (exp - iat)",
            ));
        }
        None if claims.exp > now + ASSERTION_MAX_SECONDS => {
            return Err(invalid_client(
                "client_assertion exp is more than 300 seconds away",
            ));
        }
        _ => {}
    }
    if claims
        .nbf
        .is_some_and(|nbf| nbf > now + ASSERTION_LEEWAY_SECONDS)
    {
        return Err(invalid_client("client_assertion is not valid yet (nbf)"));
    }
    let jti = claims
        .jti
        .ok_or_else(|| invalid_client("client_assertion needs a jti"))?;
    // Single use, atomically across instances (insert-if-absent), until
    // the assertion expires.
    let key = format!(
        "oidc-assertion:{}",
        hashed(&format!("jti\0{}\0{jti}", claims.iss))
    );
    if !state
        .stores
        .replay
        .insert_if_absent(&key, claims.exp, now)
        .await?
    {
        return Err(invalid_client("client_assertion jti was used before"));
    }
    Ok(claims.iss)
}

/// `POST /token`: `authorization_code` with PKCE → ID token and access
/// token. Every answer, success or error, is `no-store` (RFC 6749 §5.1).
pub async fn token(State(state): State<AppState>, headers: HeaderMap, body: String) -> Response {
    let mut response = match exchange(&state, &headers, &body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// The store key of an authorization code.
fn code_key(code: &str) -> String {
    hashed(&format!("code\0{code}"))
}

/// The store key of the link from a used code to its access token.
fn used_code_key(code: &str) -> String {
    hashed(&format!("used\0{code}"))
}

async fn exchange(state: &AppState, headers: &HeaderMap, body: &str) -> Result<Response, ApiError> {
    let form = token_form(body)?;
    let client_id = authenticate(state, headers, &form).await?;
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return Err(client_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only authorization_code",
        ));
    }
    let code = form
        .get("code")
        .ok_or_else(|| invalid_request("code is missing"))?;
    // Every authorization request had a redirect_uri (RFC 6749 §4.1.3).
    let redirect_uri = form.get("redirect_uri").ok_or_else(|| {
        invalid_request("redirect_uri is missing: the authorization request had one")
    })?;
    let Some(grant) = state.stores.grants.take(&code_key(code)).await? else {
        // A used code: the access token issued for it is revoked (RFC 6749
        // §4.1.2).
        if let Some(access) = state.stores.grants.take_link(&used_code_key(code)).await? {
            state.stores.grants.take(&access).await?;
            state.stores.durable().await?;
        }
        return Err(invalid_grant("unknown or used code"));
    };
    let now = now();
    if grant.expires_at <= now {
        return Err(invalid_grant("the code expired"));
    }
    if grant.client_id != client_id {
        return Err(invalid_grant("the code was issued to another client"));
    }
    if *redirect_uri != grant.redirect_uri {
        return Err(invalid_grant(
            "redirect_uri differs from the authorization request's",
        ));
    }
    let verifier = form.get("code_verifier").map(String::as_str).unwrap_or("");
    if !pkce_s256_matches(verifier, &grant.code_challenge) {
        return Err(invalid_grant(
            "code_verifier does not match the code_challenge",
        ));
    }
    let claims = IdTokenClaims {
        iss: state.config.public_url.clone(),
        sub: grant.sub.clone(),
        aud: client_id.clone(),
        exp: now + ID_TOKEN_SECONDS,
        iat: now,
        auth_time: grant.auth_time,
        nonce: grant.nonce.clone(),
        acr: ACR.to_owned(),
        amr: AMR.map(str::to_owned).to_vec(),
        azp: client_id.clone(),
        claims: granted_claims(state, &grant).await?,
    };
    let mut header = Header::new(Algorithm::ES256);
    header.typ = Some("JWT".into());
    header.kid = Some(thumbprint(&state.identity.key.public_jwk())?);
    let payload = serde_json::to_vec(&claims)
        .map_err(|e| ApiError::bad_request("server_error", e.to_string()))?;
    let id_token = sign_compact(&header, &payload, &state.identity.key)?;
    let access_token = random_token(32)?;
    let access_key = hashed(&format!("access\0{access_token}"));
    let mut access = grant.clone();
    access.expires_at = now + ACCESS_TOKEN_SECONDS;
    state.stores.grants.put(&access_key, &access).await?;
    state
        .stores
        .grants
        .put_link(&used_code_key(code), &access_key, access.expires_at)
        .await?;
    state.stores.durable().await?;
    Ok(Json(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: ACCESS_TOKEN_SECONDS,
        id_token,
        scope: grant.scope,
    })
    .into_response())
}

/// `GET|POST /userinfo`: `sub` and the disclosed claims for a Bearer
/// access token from `/token`.
pub async fn userinfo(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::unauthorized("missing Bearer access token"))?;
    let grant = state
        .stores
        .grants
        .get(&hashed(&format!("access\0{token}")))
        .await?
        .filter(|g| g.expires_at > now() && !g.code_challenge.is_empty())
        .ok_or_else(|| ApiError::unauthorized("unknown or expired access token"))?;
    let mut claims = granted_claims(&state, &grant).await?;
    claims.insert("sub".into(), grant.sub.into());
    Ok(Json(Value::Object(claims)).into_response())
}
