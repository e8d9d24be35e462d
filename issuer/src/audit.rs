//! The issuer's audit trail: [`intyg_service::audit`] with checkpoints
//! signed by the issuer's key, `audit.jsonl` in the data directory on sled
//! and table `issuer_audit` on PostgreSQL. People are named by a keyed
//! hash of their personal identity number ([`Trail::person`], key
//! `audit-pseudonym.key` in the data directory), never by the number
//! or their claims.
//!
//! | action | subject | detail |
//! |---|---|---|
//! | `service.start` | `config` | SHA-256 of the configuration |
//! | `config.change` | `config` | the new and the previous SHA-256 |
//! | `signin.success`, `signin.failure`, `signin.throttled` | `officer:<username>` | — |
//! | `person.register` | the person | — |
//! | `offer.issue` | the person | credential id and type |
//! | `credential.withdraw`, `.revoke`, `.suspend`, `.unsuspend` | the person | credential id, reason |

use std::sync::Arc;

use intyg_core::jose::{Header, Jwk, sign_compact};
use intyg_service::audit::{
    self, Audit, AuditError, CHECKPOINT_TYP, CheckpointSigner, Entry, Event,
};
use intyg_service::pg::RunOnce;

use crate::config::Config;
use crate::keys::IssuerKey;
use crate::store::Stores;

/// The issuer's trail and the key of its pseudonyms.
#[derive(Debug, Clone)]
pub struct Trail {
    audit: Audit,
    pseudonyms: Arc<aws_lc_rs::hmac::Key>,
}

impl Trail {
    /// Records `event` (see [`Audit::record`]).
    pub async fn record(&self, event: Event) -> Result<Entry, AuditError> {
        self.audit.record(event).await
    }

    /// Records `event`, logging a failure instead of returning it.
    pub async fn record_or_log(&self, event: Event) {
        self.audit.record_or_log(event).await;
    }

    /// How the trail names the person with this personal identity number:
    /// `person:` and a keyed hash (HMAC-SHA-256, base64url).
    pub fn person(&self, personal_identity_number: &str) -> String {
        let tag = aws_lc_rs::hmac::sign(&self.pseudonyms, personal_identity_number.as_bytes());
        format!(
            "person:{}",
            intyg_core::jose::b64url_encode(&tag.as_ref()[..18])
        )
    }

    /// The entries about the person with this number, oldest first.
    pub async fn of_person(
        &self,
        personal_identity_number: &str,
    ) -> Result<Vec<Entry>, AuditError> {
        self.audit
            .by_subject(&self.person(personal_identity_number))
            .await
    }

    /// The underlying trail.
    pub fn audit(&self) -> &Audit {
        &self.audit
    }
}

/// Who acts, for the trail: an officer's username or `admin-api`, and the
/// client's address.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The username, or [`crate::model::Person::BY_ADMIN_API`].
    pub name: String,
    /// The client's address, when known.
    pub source: Option<std::net::IpAddr>,
}

impl Actor {
    /// An event by this actor.
    pub fn event(&self, action: &str) -> Event {
        Event::new(self.name.clone(), action).source(self.source)
    }
}

/// The subject of an officer's sign-in entries.
pub fn officer(username: &str) -> String {
    format!("officer:{username}")
}

/// Signs checkpoints with the issuer's key.
#[derive(Debug)]
struct KeySigner(Arc<IssuerKey>);

impl CheckpointSigner for KeySigner {
    fn sign(&self, payload: &[u8]) -> Result<String, AuditError> {
        let header = Header::new(self.0.key.algorithm())
            .typ(CHECKPOINT_TYP)
            .kid(&self.0.kid);
        sign_compact(&header, payload, &self.0.key).map_err(|e| AuditError::Signing(e.to_string()))
    }
}

/// Opens the trail (the table when the stores are in PostgreSQL, else
/// `audit.jsonl` in the data directory) and records the start.
pub async fn open(
    config: &Config,
    stores: &Stores,
    key: &Arc<IssuerKey>,
) -> Result<Trail, AuditError> {
    let secret = crate::keys::load_or_create_secret(&config.data_dir, "audit-pseudonym.key")
        .map_err(|e| AuditError::Signing(e.to_string()))?;
    let pg = match &stores.jobs {
        RunOnce::Shared(pg) => Some(pg),
        RunOnce::Local => None,
    };
    let store = audit::open_store(&config.data_dir, pg, crate::store::SERVICE)?;
    let audit = Audit::new(store, Arc::new(KeySigner(Arc::clone(key))));
    audit.start(&audit::config_digest(config)).await?;
    Ok(Trail {
        audit,
        pseudonyms: Arc::new(aws_lc_rs::hmac::Key::new(
            aws_lc_rs::hmac::HMAC_SHA256,
            &secret,
        )),
    })
}

/// The public key checkpoints verify with: `issuer-key.jwk` in `data_dir`
/// (read, never created).
pub fn public_key(data_dir: &std::path::Path) -> Result<Jwk, AuditError> {
    audit::public_key_of(&data_dir.join("issuer-key.jwk"))
}
