//! DPoP at the issuer — RFC 9449 §5 (token endpoint, PAR §10.1), §7
//! (the credential endpoint as a protected resource), §8 (server nonces),
//! §11.1 (`jti` replay).
//!
//! Proofs are checked by `intyg_core::oauth::dpop`; this module brings the
//! request's method and URI, the clock, the nonce rule and the replay
//! store. Server nonces are stateless ([`ServerNonces`] under a secret in
//! the data directory, `dpop-nonce.key`), so every instance on one data
//! directory or one shared secret accepts the others' nonces; they rotate
//! every [`NONCE_PERIOD`] seconds. A proof's `jti` is recorded (prefix
//! `dpop:`) until the proof could no longer be accepted.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use intyg_core::oauth::dpop::{
    DpopError, NonceCheck, ProofExpectations, ServerNonces, VerifiedDpop, verify_proof,
};

use crate::config::Config;
use crate::error::ApiError;
use crate::keys::KeyError;
use crate::model::AccessGrant;
use crate::{AppState, sha256_hex};

/// How long one server nonce is handed out; it is accepted for up to twice that.
pub const NONCE_PERIOD: i64 = 300;
/// How old a proof's `iat` may be, in seconds.
pub const PROOF_MAX_AGE: i64 = 300;
/// Clock skew allowed on proofs, in seconds.
pub const LEEWAY: i64 = 60;
/// The header that carries a proof.
pub const DPOP_HEADER: &str = "dpop";
/// The header that carries a server nonce.
pub const NONCE_HEADER: &str = "dpop-nonce";

/// The issuer's DPoP settings and nonce key.
#[derive(Debug)]
pub struct Dpop {
    nonces: ServerNonces,
    require_nonce: bool,
}

impl Dpop {
    /// Loads (or creates) the nonce secret in the data directory. Nonces
    /// are demanded when `dpop_nonce` is set (`--dpop-nonce`), in either
    /// profile.
    pub fn open(config: &Config) -> Result<Self, KeyError> {
        let secret = crate::keys::load_or_create_secret(&config.data_dir, "dpop-nonce.key")?;
        let nonces = ServerNonces::new(&secret, NONCE_PERIOD).map_err(|e| KeyError::Invalid {
            path: "dpop-nonce.key".into(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            nonces,
            require_nonce: config.dpop_nonce.unwrap_or(false),
        })
    }

    /// A fresh nonce for a `DPoP-Nonce` header, when nonces are demanded.
    pub fn fresh_nonce(&self, now: i64) -> Option<String> {
        self.require_nonce.then(|| self.nonces.current(now))
    }
}

/// Where a proof is checked: the error shape differs (§5: an error object
/// with 400; §7.1: 401 with a `WWW-Authenticate: DPoP` challenge).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// The token endpoint or PAR.
    AuthorizationServer,
    /// The credential endpoint.
    Resource,
}

/// A DPoP refusal, with a fresh nonce when nonces are demanded.
pub fn refusal(state: &AppState, endpoint: Endpoint, error: &DpopError) -> ApiError {
    let status = match endpoint {
        Endpoint::AuthorizationServer => StatusCode::BAD_REQUEST,
        Endpoint::Resource => StatusCode::UNAUTHORIZED,
    };
    ApiError::Dpop {
        status,
        code: error.code(),
        description: error.to_string(),
        nonce: state.dpop.fresh_nonce(crate::now()),
        challenge: endpoint == Endpoint::Resource,
    }
}

/// The single `DPoP` header of a request, if any (§4.3 check 1).
fn proof_header(headers: &HeaderMap) -> Result<Option<&str>, DpopError> {
    let mut values = headers.get_all(DPOP_HEADER).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(DpopError::Multiple);
    }
    first.to_str().map(Some).map_err(|_| {
        DpopError::Malformed(intyg_core::jose::JoseError::Malformed(
            "DPoP header is not ASCII",
        ))
    })
}

/// Checks the request's DPoP proof for `POST {public_url}{path}`: every
/// check of §4.3, the nonce when demanded, and `jti` single use. `None`
/// when the request has none and `required` is false.
pub async fn check(
    state: &AppState,
    headers: &HeaderMap,
    path: &str,
    required: bool,
    access_token: Option<&str>,
    endpoint: Endpoint,
) -> Result<Option<VerifiedDpop>, ApiError> {
    let refuse = |error: DpopError| refusal(state, endpoint, &error);
    let Some(proof) = proof_header(headers).map_err(refuse)? else {
        return if required {
            Err(refuse(DpopError::Missing))
        } else {
            Ok(None)
        };
    };
    let now = crate::now();
    let uri = format!("{}{path}", state.config.public_url);
    // The expectations borrow a non-`Send` closure: keep them out of the
    // await below.
    let verified = {
        let accepts = |nonce: &str| state.dpop.nonces.accepts(nonce, now);
        let expect = ProofExpectations {
            method: "POST",
            uri: &uri,
            now,
            max_age: PROOF_MAX_AGE,
            leeway: LEEWAY,
            nonce: if state.dpop.require_nonce {
                NonceCheck::Accepted(&accepts)
            } else {
                NonceCheck::NotRequired
            },
            access_token,
        };
        verify_proof(proof, &expect).map_err(refuse)?
    };
    let key = format!("dpop:{}:{}", verified.jkt, verified.jti);
    let until = verified.iat.saturating_add(PROOF_MAX_AGE + 2 * LEEWAY);
    if !state
        .stores
        .replay
        .insert_if_absent(&key, until, now)
        .await?
    {
        return Err(refuse(DpopError::Replayed));
    }
    Ok(Some(verified))
}

/// The grant of the credential request's access token (RFC 6750 §2.1 for
/// `Bearer`, RFC 9449 §7.1 for `DPoP`). A DPoP-bound token must come with
/// the `DPoP` scheme and a proof by its key whose `ath` hashes it.
pub async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    path: &str,
) -> Result<AccessGrant, ApiError> {
    let now = crate::now();
    let invalid = |why: &str| ApiError::client(StatusCode::UNAUTHORIZED, "invalid_token", why);
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| invalid("missing access token (Authorization: DPoP or Bearer)"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| invalid("the Authorization header has no scheme"))?;
    let dpop_scheme = scheme.eq_ignore_ascii_case("dpop");
    if !dpop_scheme && !scheme.eq_ignore_ascii_case("bearer") {
        return Err(invalid("the Authorization scheme must be DPoP or Bearer"));
    }
    let token = token.trim();
    let grant = state
        .stores
        .grants
        .get(&sha256_hex(token))
        .await?
        .ok_or_else(|| invalid("unknown access token"))?;
    if grant.expires_at <= now {
        return Err(invalid("the access token has expired"));
    }
    let refuse = |error: &DpopError| refusal(state, Endpoint::Resource, error);
    match (&grant.jkt, dpop_scheme) {
        (Some(_), false) => Err(ApiError::Dpop {
            status: StatusCode::UNAUTHORIZED,
            code: "invalid_token",
            description: "the access token is DPoP-bound: send it with the DPoP scheme and a DPoP proof, not as Bearer".into(),
            nonce: state.dpop.fresh_nonce(now),
            challenge: true,
        }),
        (Some(jkt), true) => {
            let verified = check(state, headers, path, true, Some(token), Endpoint::Resource)
                .await?
                .ok_or_else(|| refuse(&DpopError::Missing))?;
            verified.require_key(jkt).map_err(|e| refuse(&e))?;
            Ok(grant)
        }
        (None, true) => Err(invalid(
            "the access token is not DPoP-bound; send it as Bearer",
        )),
        (None, false) => Ok(grant),
    }
}

/// Adds a fresh `DPoP-Nonce` to a successful response, when nonces are
/// demanded (§8.2: the server may give the next nonce on any response).
pub fn add_nonce(state: &AppState, headers: &mut HeaderMap) {
    if let Some(nonce) = state.dpop.fresh_nonce(crate::now())
        && let Ok(value) = HeaderValue::from_str(&nonce)
    {
        headers.insert(NONCE_HEADER, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_on_one_data_dir_accept_each_others_nonces() {
        let dir = std::env::temp_dir().join(format!("intyg-dpop-{}", uuid::Uuid::new_v4()));
        let mut config = Config::dev(dir.clone(), "127.0.0.1:9".parse().unwrap()).unwrap();
        config.dpop_nonce = Some(true);
        let first = Dpop::open(&config).unwrap();
        let second = Dpop::open(&config).unwrap();
        let now = crate::now();
        let nonce = first.fresh_nonce(now).unwrap();
        assert!(second.nonces.accepts(&nonce, now));
        assert!(second.nonces.accepts(&nonce, now + NONCE_PERIOD));
        assert!(!second.nonces.accepts(&nonce, now + 2 * NONCE_PERIOD + 1));
        let elsewhere = Config::dev(dir.join("other"), "127.0.0.1:9".parse().unwrap()).unwrap();
        assert!(!Dpop::open(&elsewhere).unwrap().nonces.accepts(&nonce, now));
        config.dpop_nonce = None;
        config.profile = crate::policy::Profile::Haip;
        assert_eq!(
            Dpop::open(&config).unwrap().fresh_nonce(now),
            None,
            "off unless asked"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
