//! Key rollover without a restart (admin API; docs/deploy.md, "Key
//! rollover"):
//!
//! | route | what |
//! | --- | --- |
//! | `GET /api/keys` | every signing key and where it stands: `staged`, `signing`, `standby`, `retired`, `expired` |
//! | `POST /api/keys/reload` | read the `[[signing]]` sections of the configuration file again and put them in force |
//!
//! SIGHUP reloads too (`systemctl reload`). Each reload is recorded in the
//! audit trail (`keys.reload`, with the `kid` that signs and those
//! published); a refused reload leaves the keys in force as they were.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;

use crate::AppState;
use crate::admin::{api_actor, authorize};
use crate::audit::Actor;
use crate::error::ApiError;
use crate::signing::{KeySet, KeyView, ReloadError};
use intyg_service::portal::Peer;

/// `GET /api/keys` and `POST /api/keys/reload` answer.
#[derive(Debug, Serialize)]
pub struct KeysView {
    /// The `kid` that signs status lists and the issuer's own types now.
    pub signing: String,
    /// Every listed key, published in `/.well-known/jwt-vc-issuer`.
    pub keys: Vec<KeyView>,
}

fn view(keys: &KeySet, now: i64) -> KeysView {
    KeysView {
        signing: keys.current(now).kid.clone(),
        keys: keys.view(now),
    }
}

/// `GET /api/keys`.
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<KeysView>, ApiError> {
    authorize(&state, &headers)?;
    Ok(Json(view(&state.keys.get(), crate::now())))
}

/// `POST /api/keys/reload`.
pub async fn reload(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
) -> Result<Json<KeysView>, ApiError> {
    authorize(&state, &headers)?;
    let actor = api_actor(&state, &peer);
    reload_keys(&state, &actor).await.map(Json)
}

/// Reads the keys again and puts them in force, recorded as `actor`'s;
/// shared by the admin API and SIGHUP.
pub async fn reload_keys(state: &AppState, actor: &Actor) -> Result<KeysView, ApiError> {
    let now = crate::now();
    let keys = KeySet::reload(&state.config, now).map_err(|e| {
        let code = match e {
            ReloadError::NoConfigFile => "no_config_file",
            _ => "invalid_signing_configuration",
        };
        ApiError::client(StatusCode::UNPROCESSABLE_ENTITY, code, e.to_string())
    })?;
    let shown = view(&keys, now);
    let published: Vec<&str> = shown.keys.iter().map(|k| k.kid.as_str()).collect();
    let event = actor.event("keys.reload").detail(format!(
        "signing {}; published {}",
        shown.signing,
        published.join(", ")
    ));
    state.audit.record(event).await?;
    state.keys.replace(keys);
    tracing::info!(signing = %shown.signing, published = published.len(), "signing keys reloaded");
    Ok(shown)
}

/// Reloads the keys on every SIGHUP, for the life of the process; a
/// refused reload is logged and changes nothing.
pub fn spawn_sighup(state: AppState) {
    tokio::spawn(async move {
        let Ok(mut hangups) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            tracing::warn!("SIGHUP cannot be caught here: reload keys with POST /api/keys/reload");
            return;
        };
        let actor = Actor {
            name: "system".to_owned(),
            source: None,
        };
        while hangups.recv().await.is_some() {
            if let Err(e) = reload_keys(&state, &actor).await {
                tracing::error!(error = %e, "SIGHUP: signing keys not reloaded");
            }
        }
    });
}
