//! The verifier's audit trail: [`intyg_service::audit`] with checkpoints
//! signed by the verifier's request-signing key, `audit.jsonl` in the data
//! directory on sled and table `verifier_audit` on PostgreSQL.
//!
//! | action | actor | subject | detail |
//! |---|---|---|---|
//! | `service.start`, `config.change` | `system` | `config` | SHA-256 of the configuration |
//! | `signin.success`, `signin.failure`, `signin.throttled` | the employer | `employer:<username>` | — |
//! | `posting.create` | employer or `api` | `posting:<id>` | — |
//! | `application.open` | employer or `api` | `posting:<id>` | the transaction id |
//! | `presentation.create` | `api` | `transaction:<id>` | — |
//!
//! Other features record theirs with one call each, e.g.
//! `state.audit.record(Event::new(actor, "webhook.change").subject(id).source(client)).await?`.
//! Applicants are named by transaction id only, never by their claims.

use std::sync::Arc;

use intyg_core::jose::{Header, Jwk, sign_compact};
use intyg_service::audit::{self, Audit, AuditError, CHECKPOINT_TYP, CheckpointSigner};
use intyg_service::pg::RunOnce;

use crate::config::Config;
use crate::identity::Identity;
use crate::store::Stores;

/// Signs checkpoints with the verifier's key.
#[derive(Debug)]
struct KeySigner(Arc<Identity>);

impl CheckpointSigner for KeySigner {
    fn sign(&self, payload: &[u8]) -> Result<String, AuditError> {
        let header = Header::new(self.0.key.algorithm()).typ(CHECKPOINT_TYP);
        sign_compact(&header, payload, &self.0.key).map_err(|e| AuditError::Signing(e.to_string()))
    }
}

/// Opens the trail and records the start.
pub async fn open(
    config: &Config,
    stores: &Stores,
    identity: &Arc<Identity>,
) -> Result<Audit, AuditError> {
    let pg = match &stores.jobs {
        RunOnce::Shared(pg) => Some(pg),
        RunOnce::Local => None,
    };
    let store = audit::open_store(&config.data_dir, pg, crate::store::SERVICE)?;
    let trail = Audit::new(store, Arc::new(KeySigner(Arc::clone(identity))));
    trail.start(&audit::config_digest(config)).await?;
    Ok(trail)
}

/// The public key checkpoints verify with: `key_file` when given (a
/// private JWK, or the PEM chain of a key in an HSM), else the leaf of
/// `verifier-chain.pem` in `data_dir` (the development chain, made for
/// whichever key signs: a file or a token key), else `verifier-key.jwk`
/// there (read, never created).
pub fn public_key(
    data_dir: &std::path::Path,
    key_file: Option<&std::path::Path>,
) -> Result<Jwk, AuditError> {
    let chain = data_dir.join("verifier-chain.pem");
    match key_file {
        Some(path) => audit::public_key_of(path),
        None if chain.exists() => audit::public_key_of(&chain),
        None => audit::public_key_of(&data_dir.join("verifier-key.jwk")),
    }
}

/// The subject of an employer's sign-in entries.
pub fn employer(username: &str) -> String {
    format!("employer:{username}")
}
