//! The audit trail both services keep: who did what, when and from where,
//! in an append-only, hash-chained record.
//!
//! - Each [`Entry`] stores its own hash: SHA-256 over its content and the
//!   previous entry's hash ([`Entry::content_hash`]). A change to any
//!   entry, the newest included, breaks its own hash; removing or
//!   reordering entries breaks the chain ([`verify`]).
//! - Every [`CHECKPOINT_EVERY`] entries, and at every start, [`Audit`]
//!   appends a checkpoint: an entry whose `detail` is a compact JWS (the
//!   service's signing key, through [`CheckpointSigner`]) over the
//!   sequence number and hash of the entry before it. Someone who can
//!   rewrite the file or table but does not hold the key cannot recompute
//!   a chain that still verifies past the last checkpoint.
//! - Storage is an [`AuditStore`]: an append-only JSON-lines file in the
//!   data directory on sled deployments ([`FileAudit`]: readable by
//!   `audit verify` while the service runs, which sled's own lock would
//!   not allow), a table on PostgreSQL ([`PgAudit`]: appenders on every
//!   instance take one advisory lock, so they make one chain).
//! - Entries name people only by an identifier the service chooses (the
//!   issuer uses a keyed hash of the personal identity number), never
//!   their claims.
//!
//! Recording is one call: `state.audit.record(Event::new(actor,
//! "posting.create").subject(id).source(address)).await?`.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use intyg_core::jose::{CompactJws, Jwk};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

mod file;
mod pg;
pub use file::{FILE_NAME, FileAudit};
pub use pg::PgAudit;

/// A checkpoint follows every this many entries.
pub const CHECKPOINT_EVERY: u64 = 64;
/// The action of a checkpoint entry.
pub const CHECKPOINT: &str = "audit.checkpoint";
/// The `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// The subject of the start and configuration entries.
pub const CONFIG: &str = "config";
/// The `typ` of a checkpoint's JWS.
pub const CHECKPOINT_TYP: &str = "intyg-audit-checkpoint+jwt";

/// Why the trail could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The trail's file failed.
    #[error("audit file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The database failed.
    #[error(transparent)]
    Database(#[from] crate::pg::PgError),
    /// A stored entry does not decode (the trail was damaged).
    #[error("audit entry {seq} does not decode: {reason}")]
    Corrupt {
        /// Its sequence number (line number in the file).
        seq: u64,
        /// The decoder's message.
        reason: String,
    },
    /// A checkpoint could not be signed.
    #[error("audit checkpoint could not be signed: {0}")]
    Signing(String),
}

/// What happened, as a handler reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Seconds since the epoch.
    pub at: i64,
    /// Who: an officer's or employer's username, `admin-api`, `hr-api`,
    /// `system`.
    pub actor: String,
    /// What, a stable dotted code (`person.register`, `signin.failure`).
    pub action: String,
    /// Whom or what it concerns (an identifier, never personal data
    /// beyond it).
    pub subject: Option<String>,
    /// More, such as a credential id and a revocation reason.
    pub detail: Option<String>,
    /// The client's address.
    pub source: Option<String>,
}

impl Event {
    /// `actor` did `action` now.
    pub fn new(actor: impl Into<String>, action: impl Into<String>) -> Self {
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Self {
            at,
            actor: actor.into(),
            action: action.into(),
            subject: None,
            detail: None,
            source: None,
        }
    }

    /// Sets whom it concerns.
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// Sets the detail.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Sets the client's address, when known.
    pub fn source(mut self, source: Option<std::net::IpAddr>) -> Self {
        self.source = source.map(|a| a.to_string());
        self
    }
}

/// An entry of the trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// 1, 2, 3 …: the line number in the file.
    pub seq: u64,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
    /// The previous entry's `hash` ([`GENESIS`] for the first).
    pub prev: String,
    /// SHA-256 (hex) of this entry's content and `prev`.
    pub hash: String,
}

/// What an entry's hash covers, in a fixed order.
#[derive(Serialize)]
struct Hashed<'a> {
    seq: u64,
    event: &'a Event,
    prev: &'a str,
}

impl Entry {
    /// The entry that follows `prev` (the first when `None`).
    pub fn next(prev: Option<&Entry>, event: Event) -> Self {
        let mut entry = Self {
            seq: prev.map_or(1, |p| p.seq + 1),
            event,
            prev: prev.map_or_else(|| GENESIS.to_owned(), |p| p.hash.clone()),
            hash: String::new(),
        };
        entry.hash = entry.content_hash();
        entry
    }

    /// SHA-256 (hex) over the entry without its `hash`.
    pub fn content_hash(&self) -> String {
        let hashed = Hashed {
            seq: self.seq,
            event: &self.event,
            prev: &self.prev,
        };
        // Serializing plain strings and numbers cannot fail.
        let bytes = serde_json::to_vec(&hashed).unwrap_or_default();
        hex(&sha2::Sha256::digest(bytes))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where the trail lives. Appending is atomic with reading the last entry,
/// so concurrent appenders make one chain.
#[async_trait]
pub trait AuditStore: Send + Sync + fmt::Debug {
    /// Appends the event `make` gives for the last entry (`None` on an
    /// empty trail), atomically with reading that entry; returns the new
    /// entry ([`Entry::next`]).
    async fn append(&self, make: &MakeEvent<'_>) -> Result<Entry, AuditError>;
    /// Every entry, in order; one that does not decode is an `Err` in its
    /// place.
    async fn entries(&self) -> Result<Vec<Result<Entry, AuditError>>, AuditError>;
    /// The entries about `subject`, oldest first.
    async fn by_subject(&self, subject: &str) -> Result<Vec<Entry>, AuditError>;
}

/// Makes the event to append from the last entry.
pub type MakeEvent<'a> = dyn Fn(Option<&Entry>) -> Result<Event, AuditError> + Send + Sync + 'a;

/// Signs a checkpoint's payload with the service's key: a compact JWS.
pub trait CheckpointSigner: Send + Sync + fmt::Debug {
    /// The compact JWS over `payload`, `typ` [`CHECKPOINT_TYP`].
    fn sign(&self, payload: &[u8]) -> Result<String, AuditError>;
}

/// A checkpoint's signed payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The sequence number of the entry it anchors.
    pub seq: u64,
    /// That entry's hash.
    pub hash: String,
}

/// The trail with its checkpoint signer: what handlers record to.
#[derive(Debug, Clone)]
pub struct Audit {
    store: Arc<dyn AuditStore>,
    signer: Arc<dyn CheckpointSigner>,
}

impl Audit {
    /// The trail in `store`, checkpoints signed by `signer`.
    pub fn new(store: Arc<dyn AuditStore>, signer: Arc<dyn CheckpointSigner>) -> Self {
        Self { store, signer }
    }

    /// Records `event`; every [`CHECKPOINT_EVERY`]th entry is followed by
    /// a checkpoint.
    pub async fn record(&self, event: Event) -> Result<Entry, AuditError> {
        let entry = self.store.append(&|_| Ok(event.clone())).await?;
        if entry.seq % CHECKPOINT_EVERY == 0 {
            self.checkpoint().await?;
        }
        Ok(entry)
    }

    /// Records `event`; a failure to record is logged, not returned (for
    /// events of requests that must be answered anyway, such as a failed
    /// sign-in).
    pub async fn record_or_log(&self, event: Event) {
        let action = event.action.clone();
        if let Err(e) = self.record(event).await {
            tracing::error!(error = %e, %action, "audit entry not recorded");
        }
    }

    /// Appends a checkpoint: the signed sequence number and hash of the
    /// entry it follows.
    pub async fn checkpoint(&self) -> Result<Entry, AuditError> {
        let signer = &self.signer;
        self.store
            .append(&|last: Option<&Entry>| {
                let payload = Checkpoint {
                    seq: last.map_or(0, |e| e.seq),
                    hash: last.map_or_else(|| GENESIS.to_owned(), |e| e.hash.clone()),
                };
                let bytes =
                    serde_json::to_vec(&payload).map_err(|e| AuditError::Signing(e.to_string()))?;
                Ok(Event::new("system", CHECKPOINT).detail(signer.sign(&bytes)?))
            })
            .await
    }

    /// Records a start of the service whose configuration has the digest
    /// `config_digest` (subject `config`), a `config.change` first when the
    /// last start had another, then a checkpoint.
    pub async fn start(&self, config_digest: &str) -> Result<(), AuditError> {
        let previous = self
            .by_subject(CONFIG)
            .await?
            .into_iter()
            .rev()
            .find_map(|e| {
                e.event
                    .detail
                    .and_then(|d| d.split(' ').next().map(str::to_owned))
            });
        if let Some(previous) = previous.filter(|p| p != config_digest) {
            let detail = format!("{config_digest} previous={previous}");
            let change = Event::new("system", "config.change")
                .subject(CONFIG)
                .detail(detail);
            self.record(change).await?;
        }
        let start = Event::new("system", "service.start")
            .subject(CONFIG)
            .detail(config_digest);
        self.record(start).await?;
        self.checkpoint().await?;
        Ok(())
    }

    /// The entries about `subject`, oldest first.
    pub async fn by_subject(&self, subject: &str) -> Result<Vec<Entry>, AuditError> {
        self.store.by_subject(subject).await
    }

    /// The store, for `audit verify` and tests.
    pub fn store(&self) -> &Arc<dyn AuditStore> {
        &self.store
    }
}

/// Why [`verify`] stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit entry {seq} is bad: {reason}")]
pub struct Broken {
    /// The first bad entry's sequence number (its line in the file).
    pub seq: u64,
    /// What is wrong with it.
    pub reason: String,
}

/// What [`verify`] found on an intact trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intact {
    /// Entries checked.
    pub entries: u64,
    /// Checkpoints whose signature verified.
    pub checkpoints: u64,
}

/// Recomputes the chain of `entries`: each entry's hash, its link to the one
/// before, its sequence number, and each checkpoint's signature with `key`
/// and the entry it names. The first bad entry is the error.
pub fn verify(entries: &[Result<Entry, AuditError>], key: &Jwk) -> Result<Intact, Broken> {
    let mut prev: Option<&Entry> = None;
    let mut checkpoints = 0;
    for (i, entry) in entries.iter().enumerate() {
        let expected_seq = u64::try_from(i).unwrap_or(u64::MAX) + 1;
        let broken = |reason: String| Broken {
            seq: expected_seq,
            reason,
        };
        let entry = entry.as_ref().map_err(|e| broken(e.to_string()))?;
        if entry.seq != expected_seq {
            return Err(broken(format!("sequence number is {}", entry.seq)));
        }
        let expected_prev = prev.map_or(GENESIS, |p| p.hash.as_str());
        if entry.prev != expected_prev {
            return Err(broken("does not link to the entry before it".into()));
        }
        if entry.hash != entry.content_hash() {
            return Err(broken("its content does not match its hash".into()));
        }
        if entry.event.action == CHECKPOINT {
            check_checkpoint(entry, prev, key).map_err(broken)?;
            checkpoints += 1;
        }
        prev = Some(entry);
    }
    Ok(Intact {
        entries: u64::try_from(entries.len()).unwrap_or(u64::MAX),
        checkpoints,
    })
}

/// SHA-256 (hex) of a configuration's `Debug` form (every setting,
/// password hashes included; only the digest is written).
pub fn config_digest(config: &impl fmt::Debug) -> String {
    hex(&sha2::Sha256::digest(format!("{config:?}").as_bytes()))
}

/// The public key of a private JWK file, or of the leaf of a PEM
/// certificate chain (read, never created), to verify checkpoints with.
pub fn public_key_of(path: &std::path::Path) -> Result<Jwk, AuditError> {
    let failed = |reason: String| AuditError::Signing(format!("{}: {reason}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
    if text.contains("-----BEGIN CERTIFICATE-----") {
        // A certificate chain: its leaf's key (a key in an HSM has no file).
        let leaf = intyg_core::trust::Certificate::from_pem(&text)
            .map_err(|e| failed(e.to_string()))?
            .into_iter()
            .next()
            .ok_or_else(|| failed("no certificate".into()))?;
        let key = leaf.public_key().map_err(|e| failed(e.to_string()))?;
        return key.to_jwk().map_err(|e| failed(e.to_string()));
    }
    let jwk: Jwk = serde_json::from_str(&text).map_err(|e| failed(e.to_string()))?;
    let key = intyg_core::jose::SigningKey::from_jwk(&jwk).map_err(|e| failed(e.to_string()))?;
    Ok(key.public_jwk())
}

/// The store of a service: the table `<prefix>_audit` when its state is in
/// PostgreSQL (`pg`), else `audit.jsonl` in `data_dir`.
pub fn open_store(
    data_dir: &std::path::Path,
    pg: Option<&crate::pg::Pg>,
    prefix: &'static str,
) -> Result<Arc<dyn AuditStore>, AuditError> {
    Ok(match pg {
        Some(pg) => Arc::new(PgAudit::new(pg.clone(), prefix)),
        None => Arc::new(FileAudit::open(&data_dir.join(FILE_NAME))?),
    })
}

/// Why `audit verify` failed.
#[derive(Debug, thiserror::Error)]
pub enum VerifyFailure {
    /// The trail could not be read at all.
    #[error("audit trail could not be read: {0}")]
    Read(#[from] AuditError),
    /// An entry is bad.
    #[error(transparent)]
    Broken(#[from] Broken),
    /// The witness file could not be read.
    #[error("witness file {path}: {reason}")]
    Witness {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// Reads every entry of `store` and [`verify`]s them.
pub async fn verify_store(store: &dyn AuditStore, key: &Jwk) -> Result<Intact, VerifyFailure> {
    verify_store_witnessed(store, key, &[]).await
}

/// [`verify_store`], then [`check_witnesses`]: the trail must still hold
/// every entry witnessed earlier.
pub async fn verify_store_witnessed(
    store: &dyn AuditStore,
    key: &Jwk,
    witnessed: &[Witnessed],
) -> Result<Intact, VerifyFailure> {
    let entries = store.entries().await?;
    let intact = verify(&entries, key)?;
    check_witnesses(&entries, witnessed)?;
    Ok(intact)
}

/// An entry seen outside the trail: its sequence number and hash, as
/// `audit head` prints them (`<seq> <hash>`). An operator's job appends
/// the head to a file on other storage now and then; `audit verify
/// --witness FILE` then finds entries cut off the end of the trail, or
/// rewritten with the whole chain after them recomputed, which the chain
/// alone cannot show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witnessed {
    /// The entry's sequence number.
    pub seq: u64,
    /// Its hash.
    pub hash: String,
}

impl fmt::Display for Witnessed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.hash)
    }
}

/// The witnessed entries of a witness file: one `<seq> <hash>` a line;
/// blank lines and lines starting with `#` are skipped. The error names
/// the first line that is neither.
pub fn parse_witnesses(text: &str) -> Result<Vec<Witnessed>, String> {
    text.lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(number, line)| {
            let bad = || format!("line {number} is not `<seq> <hash>`");
            let (seq, hash) = line.split_once(' ').ok_or_else(bad)?;
            let seq = seq.parse::<u64>().map_err(|_| bad())?;
            let hash = hash.trim();
            if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad());
            }
            Ok(Witnessed {
                seq,
                hash: hash.to_ascii_lowercase(),
            })
        })
        .collect()
}

/// Reads a witness file ([`parse_witnesses`]).
pub fn read_witnesses(path: &std::path::Path) -> Result<Vec<Witnessed>, VerifyFailure> {
    let failed = |reason: String| VerifyFailure::Witness {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
    parse_witnesses(&text).map_err(failed)
}

/// Whether `entries` hold every witnessed entry with the hash it had. A
/// trail shorter than a witnessed entry lost its end; the error names
/// the first missing entry.
pub fn check_witnesses(
    entries: &[Result<Entry, AuditError>],
    witnessed: &[Witnessed],
) -> Result<(), Broken> {
    let length = u64::try_from(entries.len()).unwrap_or(u64::MAX);
    let mut ordered: Vec<&Witnessed> = witnessed.iter().collect();
    ordered.sort_by_key(|w| w.seq);
    for witness in ordered {
        let held = usize::try_from(witness.seq)
            .ok()
            .and_then(|seq| seq.checked_sub(1))
            .and_then(|i| entries.get(i));
        match held {
            None => {
                return Err(Broken {
                    seq: length.saturating_add(1),
                    reason: format!(
                        "missing: the trail ends at entry {length}, but entry {} was witnessed; entries {} to {} were cut off",
                        witness.seq,
                        length.saturating_add(1),
                        witness.seq
                    ),
                });
            }
            Some(Ok(entry)) if entry.hash == witness.hash => {}
            Some(_) => {
                return Err(Broken {
                    seq: witness.seq,
                    reason: format!(
                        "it is not the entry witnessed earlier (hash {})",
                        witness.hash
                    ),
                });
            }
        }
    }
    Ok(())
}

/// `audit verify [--witness FILE]` of a service: the line to print on
/// success (`audit trail intact: …`), or the failure naming the first
/// bad entry.
pub async fn verify_command(
    store: &dyn AuditStore,
    key: &Jwk,
    witness: Option<&std::path::Path>,
) -> Result<String, VerifyFailure> {
    let witnessed = match witness {
        Some(path) => read_witnesses(path)?,
        None => Vec::new(),
    };
    let intact = verify_store_witnessed(store, key, &witnessed).await?;
    let mut line = format!(
        "audit trail intact: {} entries, {} signed checkpoints",
        intact.entries, intact.checkpoints
    );
    if witness.is_some() {
        line += &format!(", {} witnessed entries held", witnessed.len());
    }
    Ok(line)
}

/// The newest entry of `store` as a witness records it; `None` for an
/// empty trail.
pub async fn head(store: &dyn AuditStore) -> Result<Option<Witnessed>, AuditError> {
    match store.entries().await?.into_iter().last() {
        None => Ok(None),
        Some(entry) => entry.map(|e| {
            Some(Witnessed {
                seq: e.seq,
                hash: e.hash,
            })
        }),
    }
}

/// The store `audit verify` reads: the table of `prefix` at
/// `database_url`, else the file in `data_dir`. Opens nothing the running
/// service holds: the file is read without a lock, the table through a
/// connection of its own.
pub fn verify_source(
    data_dir: &std::path::Path,
    database_url: Option<&str>,
    prefix: &'static str,
) -> Result<Arc<dyn AuditStore>, AuditError> {
    Ok(match database_url {
        Some(url) => {
            let mut config = crate::pg::PgConfig::new(url);
            config.pool_size = 1;
            Arc::new(PgAudit::new(crate::pg::Pg::connect(&config)?, prefix))
        }
        None => Arc::new(ReadOnlyFile(data_dir.join(FILE_NAME))),
    })
}

/// The trail's file, only read.
#[derive(Debug)]
struct ReadOnlyFile(std::path::PathBuf);

#[async_trait]
impl AuditStore for ReadOnlyFile {
    async fn append(&self, _: &MakeEvent<'_>) -> Result<Entry, AuditError> {
        Err(AuditError::Io {
            path: self.0.display().to_string(),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        })
    }

    async fn entries(&self) -> Result<Vec<Result<Entry, AuditError>>, AuditError> {
        FileAudit::read(&self.0)
    }

    async fn by_subject(&self, subject: &str) -> Result<Vec<Entry>, AuditError> {
        let mut found = Vec::new();
        for entry in FileAudit::read(&self.0)? {
            let entry = entry?;
            if entry.event.subject.as_deref() == Some(subject) {
                found.push(entry);
            }
        }
        Ok(found)
    }
}

fn check_checkpoint(entry: &Entry, prev: Option<&Entry>, key: &Jwk) -> Result<(), String> {
    let jws = entry.event.detail.as_deref().unwrap_or_default();
    let jws = CompactJws::parse(jws).map_err(|e| format!("checkpoint is no JWS: {e}"))?;
    jws.verify(key)
        .map_err(|e| format!("checkpoint signature does not verify: {e}"))?;
    let signed: Checkpoint = jws
        .payload_json()
        .map_err(|e| format!("checkpoint payload: {e}"))?;
    let anchored = Checkpoint {
        seq: prev.map_or(0, |p| p.seq),
        hash: prev.map_or_else(|| GENESIS.to_owned(), |p| p.hash.clone()),
    };
    if signed != anchored {
        return Err("checkpoint names another entry than the one before it".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use intyg_core::jose::{Header, SigningKey, sign_compact};

    #[derive(Debug)]
    struct TestSigner(SigningKey);

    impl CheckpointSigner for TestSigner {
        fn sign(&self, payload: &[u8]) -> Result<String, AuditError> {
            let header = Header::new(self.0.algorithm()).typ(CHECKPOINT_TYP);
            sign_compact(&header, payload, &self.0).map_err(|e| AuditError::Signing(e.to_string()))
        }
    }

    fn temp_file(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("intyg-audit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join(FILE_NAME)
    }

    async fn trail(path: &std::path::Path, n: usize) -> (Audit, Jwk) {
        let key = SigningKey::generate().unwrap();
        let public = key.public_jwk();
        let store = Arc::new(FileAudit::open(path).unwrap());
        let audit = Audit::new(store, Arc::new(TestSigner(key)));
        for i in 0..n {
            let event = Event::new("anna", "person.register").subject(format!("person:{i}"));
            audit.record(event).await.unwrap();
        }
        (audit, public)
    }

    fn rewrite(path: &std::path::Path, seq: usize, edit: impl Fn(&str) -> String) {
        let text = std::fs::read_to_string(path).unwrap();
        let lines: Vec<String> = text
            .lines()
            .enumerate()
            .map(|(i, l)| if i + 1 == seq { edit(l) } else { l.to_owned() })
            .collect();
        std::fs::write(path, lines.join("\n") + "\n").unwrap();
    }

    #[tokio::test]
    async fn an_intact_trail_verifies_with_its_checkpoints() {
        let path = temp_file("intact");
        let (audit, key) = trail(&path, 70).await;
        audit.checkpoint().await.unwrap();
        let entries = FileAudit::read(&path).unwrap();
        // 70 events, a checkpoint after the 64th entry, one at the end.
        assert_eq!(
            verify(&entries, &key),
            Ok(Intact {
                entries: 72,
                checkpoints: 2
            })
        );
        let of_one = audit.by_subject("person:3").await.unwrap();
        assert_eq!(of_one.len(), 1);
        assert_eq!(of_one[0].seq, 4);
    }

    #[tokio::test]
    async fn a_changed_newest_entry_is_named() {
        let path = temp_file("newest");
        let (_, key) = trail(&path, 5).await;
        rewrite(&path, 5, |l| l.replace("\"anna\"", "\"bertil\""));
        let broken = verify(&FileAudit::read(&path).unwrap(), &key).unwrap_err();
        assert_eq!(broken.seq, 5);
        assert!(
            broken.reason.contains("does not match its hash"),
            "{broken}"
        );
    }

    #[tokio::test]
    async fn a_changed_middle_entry_is_named_even_with_its_hash_recomputed() {
        let path = temp_file("middle");
        let (_, key) = trail(&path, 5).await;
        rewrite(&path, 3, |l| {
            let mut entry: Entry = serde_json::from_str(l).unwrap();
            entry.event.actor = "bertil".into();
            entry.hash = entry.content_hash();
            serde_json::to_string(&entry).unwrap()
        });
        let broken = verify(&FileAudit::read(&path).unwrap(), &key).unwrap_err();
        assert_eq!(broken.seq, 4, "the next entry no longer links: {broken}");
        rewrite(&path, 2, |l| l.replace("person:1", "person:9"));
        assert_eq!(
            verify(&FileAudit::read(&path).unwrap(), &key)
                .unwrap_err()
                .seq,
            2
        );
    }

    #[tokio::test]
    async fn removed_and_garbled_entries_are_named() {
        let path = temp_file("removed");
        let (_, key) = trail(&path, 4).await;
        rewrite(&path, 2, |_| "{not json".to_owned());
        let broken = verify(&FileAudit::read(&path).unwrap(), &key).unwrap_err();
        assert_eq!(broken.seq, 2);
        let path = temp_file("removed2");
        let (_, key) = trail(&path, 4).await;
        let text = std::fs::read_to_string(&path).unwrap();
        let kept: Vec<&str> = text
            .lines()
            .enumerate()
            .filter(|(i, _)| *i != 1)
            .map(|(_, l)| l)
            .collect();
        std::fs::write(&path, kept.join("\n") + "\n").unwrap();
        assert_eq!(
            verify(&FileAudit::read(&path).unwrap(), &key)
                .unwrap_err()
                .seq,
            2
        );
    }

    #[tokio::test]
    async fn a_recomputed_chain_fails_at_the_checkpoint_without_the_key() {
        let path = temp_file("rechain");
        let (audit, key) = trail(&path, 3).await;
        audit.checkpoint().await.unwrap();
        // Rewrite entry 1 and recompute every hash after it, as someone
        // without the signing key would.
        let text = std::fs::read_to_string(&path).unwrap();
        let mut prev: Option<Entry> = None;
        let mut lines = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let mut entry: Entry = serde_json::from_str(line).unwrap();
            if i == 0 {
                entry.event.actor = "mallory".into();
            }
            entry.prev = prev
                .as_ref()
                .map_or_else(|| GENESIS.to_owned(), |p| p.hash.clone());
            entry.hash = entry.content_hash();
            lines.push(serde_json::to_string(&entry).unwrap());
            prev = Some(entry);
        }
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let broken = verify(&FileAudit::read(&path).unwrap(), &key).unwrap_err();
        assert_eq!(broken.seq, 4);
        assert!(broken.reason.contains("checkpoint"), "{broken}");
    }

    #[tokio::test]
    async fn an_unfinished_last_line_is_skipped_and_cut_off_on_open() {
        let path = temp_file("partial");
        let (_, key) = trail(&path, 2).await;
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"{\"seq\":3,").unwrap();
        assert_eq!(
            verify(&FileAudit::read(&path).unwrap(), &key)
                .unwrap()
                .entries,
            2
        );
        let store = FileAudit::open(&path).unwrap();
        let entry = store
            .append(&|_| Ok(Event::new("anna", "x")))
            .await
            .unwrap();
        assert_eq!(entry.seq, 3);
        assert_eq!(
            verify(&FileAudit::read(&path).unwrap(), &key)
                .unwrap()
                .entries,
            3
        );
    }

    use std::fs::OpenOptions;
    use std::io::Write as _;
}
