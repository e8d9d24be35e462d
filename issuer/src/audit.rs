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

use intyg_core::jose::{Header, Jwk, SigningKey, sign_compact};
use intyg_service::audit::{
    Audit, AuditError, AuditStore, CHECKPOINT_TYP, CheckpointSigner, Entry, Event, FILE_NAME,
    FileAudit, PgAudit,
};
use intyg_service::pg::RunOnce;

use crate::config::Config;
use crate::keys::IssuerKey;
use crate::store::Stores;

/// The subject of configuration entries.
const CONFIG: &str = "config";

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

/// The trail's store for this configuration: the table when the stores
/// are in PostgreSQL, else the file in the data directory.
pub fn store(config: &Config, stores: &Stores) -> Result<Arc<dyn AuditStore>, AuditError> {
    Ok(match &stores.jobs {
        RunOnce::Shared(pg) => Arc::new(PgAudit::new(pg.clone(), crate::store::SERVICE)),
        RunOnce::Local => Arc::new(FileAudit::open(&config.data_dir.join(FILE_NAME))?),
    })
}

/// Opens the trail, records the start (and a configuration change since
/// the last start) and a checkpoint.
pub async fn open(
    config: &Config,
    stores: &Stores,
    key: &Arc<IssuerKey>,
) -> Result<Trail, AuditError> {
    let secret = crate::keys::load_or_create_secret(&config.data_dir, "audit-pseudonym.key")
        .map_err(|e| AuditError::Signing(e.to_string()))?;
    let audit = Audit::new(store(config, stores)?, Arc::new(KeySigner(Arc::clone(key))));
    let digest = config_digest(config);
    let previous = audit
        .by_subject(CONFIG)
        .await?
        .into_iter()
        .rev()
        .find_map(|e| {
            e.event
                .detail
                .and_then(|d| d.split(' ').next().map(str::to_owned))
        });
    if let Some(previous) = previous.filter(|p| *p != digest) {
        audit
            .record(
                Event::new("system", "config.change")
                    .subject(CONFIG)
                    .detail(format!("{digest} previous={previous}")),
            )
            .await?;
    }
    audit
        .record(
            Event::new("system", "service.start")
                .subject(CONFIG)
                .detail(digest),
        )
        .await?;
    audit.checkpoint().await?;
    Ok(Trail {
        audit,
        pseudonyms: Arc::new(aws_lc_rs::hmac::Key::new(
            aws_lc_rs::hmac::HMAC_SHA256,
            &secret,
        )),
    })
}

/// SHA-256 (hex) of the configuration as loaded (its `Debug` form: every
/// setting, password hashes included, never written out).
fn config_digest(config: &Config) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(format!("{config:?}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The public key checkpoints verify with: `issuer-key.jwk` in `data_dir`
/// (read, never created).
pub fn public_key(data_dir: &std::path::Path) -> Result<Jwk, AuditError> {
    let path = data_dir.join("issuer-key.jwk");
    let failed = |reason: String| AuditError::Signing(format!("{}: {reason}", path.display()));
    let text = std::fs::read_to_string(&path).map_err(|e| failed(e.to_string()))?;
    let jwk: Jwk = serde_json::from_str(&text).map_err(|e| failed(e.to_string()))?;
    let key = SigningKey::from_jwk(&jwk).map_err(|e| failed(e.to_string()))?;
    Ok(key.public_jwk())
}
