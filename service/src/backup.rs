//! Backups of a sled deployment, and their restore: `intyg-issuer backup`
//! / `restore` and the verifier's, one implementation.
//!
//! - **Consistent**: every write of a service goes through a [`Tree`] of
//!   a [`Db`], behind a [`Barrier`]; a snapshot reads every tree and the
//!   files of the data directory while no write is under way (a point in
//!   time, as a crash there would leave it).
//! - **Online**: sled locks its directory to one process, so while the
//!   service runs the snapshot comes from it, over `operator.sock` in the
//!   data directory ([`socket`]); with the service stopped, [`take`] opens
//!   the store itself. The same archive either way.
//! - **Complete**: the data directory's files (signing and checkpoint
//!   keys, `c-nonce.key`, `dpop-nonce.key`, certificate chains, the audit
//!   trail, the verifier's per-transaction keys) are in it, since the
//!   service needs them to run after a restore. An archive therefore holds
//!   secrets, and is always encrypted.
//! - **Encrypted** to the operator's age X25519 recipients
//!   ([`archive::seal`]); the manifest (format, service, time, per-tree
//!   counts, SHA-256 of the canonical content) is inside the encryption.
//! - **Restore** only into an empty or new directory, after the manifest's
//!   checksum and counts were checked, and reads what it wrote back to
//!   compare the checksum again.

pub mod archive;
mod barrier;
pub mod socket;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use archive::{Contents, Manifest};
pub use barrier::{Barrier, Db, Tree, Trees, WriteHold};

/// Why a backup could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The deployment keeps its state in PostgreSQL.
    #[error(
        "this deployment keeps its state in PostgreSQL: back it up with pg_dump or pg_basebackup, and the data directory's key files with it (docs/deploy.md, \"Backups and restore drill\")"
    )]
    Postgres,
    /// The data directory has no store.
    #[error("{0} has no store (no db/ directory): is this the service's data directory?")]
    NoStore(String),
    /// Another process holds the store and does not answer on the socket.
    #[error(
        "the store in {0} is in use by a process that does not answer on operator.sock (an older version?); stop it, or upgrade it"
    )]
    InUse(String),
    /// Talking to the running service failed.
    #[error("the running service's operator socket failed: {0}")]
    Socket(std::io::Error),
    /// The running service answered with an error.
    #[error("the running service refused the snapshot: {0}")]
    Refused(String),
    /// The output file is not acceptable.
    #[error("output {path}: {reason}")]
    Output {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// Recipients, or the encryption.
    #[error(transparent)]
    Seal(#[from] archive::SealError),
    /// The snapshot did not check (the service and this binary disagree
    /// on the format).
    #[error(transparent)]
    Format(#[from] archive::FormatError),
    /// A file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The store failed.
    #[error("the store: {0}")]
    Database(#[from] sled::Error),
}

impl BackupError {
    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Postgres => "postgres_deployment",
            Self::NoStore(_) => "no_store",
            Self::InUse(_) => "store_in_use",
            Self::Socket(_) => "operator_socket",
            Self::Refused(_) => "snapshot_refused",
            Self::Output { .. } => "output",
            Self::Seal(archive::SealError::NoRecipient) => "no_recipient",
            Self::Seal(_) => "recipient_invalid",
            Self::Format(_) => "snapshot_invalid",
            Self::Io { .. } => "io",
            Self::Database(_) => "store",
        }
    }
}

/// Why an archive could not be restored.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// The identity file or the archive could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The identity, or the decryption (wrong identity, damaged archive).
    #[error(transparent)]
    Seal(#[from] archive::SealError),
    /// The plaintext is not a valid backup (checksum, counts, format).
    #[error(transparent)]
    Format(#[from] archive::FormatError),
    /// The archive is another service's.
    #[error("this is a backup of the {found}, not of the {expected}")]
    WrongService {
        /// The archive's service.
        found: String,
        /// This binary's.
        expected: String,
    },
    /// The target directory is not empty.
    #[error(
        "{0} is not empty: restore into a new or empty directory, then point the service at it (nothing was written)"
    )]
    NotEmpty(String),
    /// Writing the restored state failed.
    #[error("{path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The store failed.
    #[error("the restored store: {0}")]
    Database(#[from] sled::Error),
    /// Read back, the restored state differs from the archive.
    #[error("the restored state reads back differently from the archive: {0}")]
    ReadBack(String),
}

impl RestoreError {
    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Read { .. } => "read",
            Self::Seal(archive::SealError::WrongIdentity) => "wrong_identity",
            Self::Seal(archive::SealError::Damaged(_)) => "archive_damaged",
            Self::Seal(_) => "identity_invalid",
            Self::Format(archive::FormatError::Checksum(_)) => "checksum_mismatch",
            Self::Format(archive::FormatError::Counts(_)) => "count_mismatch",
            Self::Format(_) => "not_a_backup",
            Self::WrongService { .. } => "wrong_service",
            Self::NotEmpty(_) => "target_not_empty",
            Self::Write { .. } => "write",
            Self::Database(_) => "store",
            Self::ReadBack(_) => "read_back",
        }
    }
}

/// The name of the store's directory in a data directory.
pub const STORE_DIR: &str = "db";

/// What goes into a snapshot besides the trees: every regular file under
/// `data_dir` but the store, the operator socket and unfinished
/// `*.partial` writes; the audit trail up to its last complete line.
pub fn data_files(data_dir: &Path) -> std::io::Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![(data_dir.to_owned(), String::new())];
    while let Some((dir, prefix)) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: a file name is not UTF-8", dir.display()),
                ));
            };
            let relative = format!("{prefix}{name}");
            let metadata = std::fs::metadata(entry.path())?;
            if metadata.is_dir() {
                if relative != STORE_DIR {
                    pending.push((entry.path(), format!("{relative}/")));
                }
            } else if metadata.is_file() && !name.ends_with(".partial") {
                let mut bytes = std::fs::read(entry.path())?;
                if relative == crate::audit::FILE_NAME {
                    let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                    bytes.truncate(complete);
                }
                files.insert(relative, bytes);
            }
        }
    }
    Ok(files)
}

/// A snapshot of `db` and the files of `data_dir`, one point in time.
pub fn snapshot(db: &Db, data_dir: &Path) -> Result<Contents, BackupError> {
    let started = std::time::Instant::now();
    let (trees, files) = db.paused(|| data_files(data_dir))?;
    tracing::info!(
        millis = started.elapsed().as_millis(),
        entries = trees
            .iter()
            .map(|(_, entries)| entries.len())
            .sum::<usize>(),
        "backup: snapshot read, writes paused meanwhile"
    );
    let files = files.map_err(|source| BackupError::Io {
        path: data_dir.display().to_string(),
        source,
    })?;
    Ok(Contents {
        trees: trees
            .into_iter()
            .map(|(name, entries)| {
                (
                    name,
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.to_vec(), v.to_vec()))
                        .collect(),
                )
            })
            .collect(),
        files,
    })
}

/// A backup written.
#[derive(Debug)]
pub struct Taken {
    /// Its manifest.
    pub manifest: Manifest,
    /// The archive's size.
    pub archive_bytes: u64,
}

/// `backup`: takes a snapshot of `service`'s `data_dir` (from the running
/// service over its operator socket, else from the store opened here),
/// checks it, and writes it encrypted to `recipients` into `output`
/// (a new file, mode 0600, written whole before it gets its name).
pub fn take(
    service: &str,
    data_dir: &Path,
    recipients: &[age::x25519::Recipient],
    output: &Path,
) -> Result<Taken, BackupError> {
    let output_error = |reason: &str| BackupError::Output {
        path: output.display().to_string(),
        reason: reason.to_owned(),
    };
    if output.exists() {
        return Err(output_error("exists; a backup never overwrites a file"));
    }
    if let (Ok(dir), Some(parent)) = (data_dir.canonicalize(), output.parent())
        && let Ok(parent) = if parent.as_os_str().is_empty() {
            std::env::current_dir()
        } else {
            parent.canonicalize()
        }
        && parent.starts_with(&dir)
    {
        return Err(output_error(
            "is inside the data directory; keep backups elsewhere",
        ));
    }
    let plain = match socket::request(data_dir)? {
        Some(plain) => plain,
        None => offline(service, data_dir)?,
    };
    let (manifest, _) = archive::from_plaintext(&plain)?;
    let partial = PathBuf::from(format!("{}.partial", output.display()));
    let io = |source| BackupError::Io {
        path: partial.display().to_string(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&partial).map_err(io)?;
    archive::seal(&plain, recipients, &mut file)?;
    file.sync_all().map_err(io)?;
    let archive_bytes = file.metadata().map_err(io)?.len();
    std::fs::rename(&partial, output).map_err(io)?;
    Ok(Taken {
        manifest,
        archive_bytes,
    })
}

/// The plaintext of a stopped deployment's snapshot.
fn offline(service: &str, data_dir: &Path) -> Result<Vec<u8>, BackupError> {
    let store = data_dir.join(STORE_DIR);
    if !store.is_dir() {
        return Err(BackupError::NoStore(data_dir.display().to_string()));
    }
    let db = match sled::Config::new().path(&store).open() {
        Ok(db) => Db::new(db),
        Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
            return Err(BackupError::InUse(data_dir.display().to_string()));
        }
        Err(e) => return Err(e.into()),
    };
    let contents = snapshot(&db, data_dir)?;
    Ok(contents
        .to_plaintext(service, "offline", crate::time::now())
        .1)
}

/// `restore`: decrypts `archive_path` with the identities in
/// `identity_path`, checks its manifest (service, checksum, counts), and
/// writes its state into `data_dir`, which must be new or empty; then
/// reads the store back and compares the checksum.
pub fn restore(
    service: &str,
    archive_path: &Path,
    identity_path: &Path,
    data_dir: &Path,
) -> Result<Manifest, RestoreError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| RestoreError::Read {
            path: path.display().to_string(),
            source,
        })
    };
    let identity_text = String::from_utf8_lossy(&read(identity_path)?).into_owned();
    let identities = archive::identities(&identity_path.display().to_string(), &identity_text)?;
    let encrypted = read(archive_path)?;
    let plain = archive::open(&encrypted[..], &identities)?;
    let (manifest, contents) = archive::from_plaintext(&plain)?;
    if manifest.service != service {
        return Err(RestoreError::WrongService {
            found: manifest.service,
            expected: service.to_owned(),
        });
    }
    let write = |path: &Path| {
        let path = path.display().to_string();
        move |source| RestoreError::Write { path, source }
    };
    match std::fs::read_dir(data_dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(RestoreError::NotEmpty(data_dir.display().to_string()));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(data_dir).map_err(write(data_dir))?;
        }
        Err(e) => return Err(write(data_dir)(e)),
    }
    private_dir(data_dir).map_err(write(data_dir))?;
    for (relative, bytes) in &contents.files {
        let path = data_dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(write(parent))?;
            private_dir(parent).map_err(write(parent))?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(write(&path))?;
        std::io::Write::write_all(&mut file, bytes).map_err(write(&path))?;
        file.sync_all().map_err(write(&path))?;
    }
    let db = Db::open(&data_dir.join(STORE_DIR))?;
    for (name, entries) in &contents.trees {
        let tree = db.sled().open_tree(name)?;
        let mut batch = sled::Batch::default();
        for (key, value) in entries {
            batch.insert(key.as_slice(), value.as_slice());
        }
        tree.apply_batch(batch)?;
    }
    db.sled().flush()?;
    let back = snapshot(&db, data_dir).map_err(|e| RestoreError::ReadBack(e.to_string()))?;
    if back.encode() != contents.encode() {
        let (trees, files) = back.counts();
        return Err(RestoreError::ReadBack(format!(
            "trees {trees:?}, files {:?}",
            files.keys().collect::<Vec<_>>()
        )));
    }
    Ok(manifest)
}

fn private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// `backup` as both binaries run it: recipients from `--recipient` and
/// `--recipients-file`, then [`take`]; returns the lines to print.
pub fn backup_command(
    service: &str,
    data_dir: &Path,
    recipients: &[String],
    recipients_files: &[PathBuf],
    output: &Path,
) -> Result<String, BackupError> {
    let files = recipients_files
        .iter()
        .map(|path| {
            std::fs::read_to_string(path)
                .map(|text| (path.display().to_string(), text))
                .map_err(|source| BackupError::Io {
                    path: path.display().to_string(),
                    source,
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let recipients = archive::recipients(recipients, &files)?;
    let taken = take(service, data_dir, &recipients, output)?;
    Ok(format!(
        "{}  written to {} ({} bytes, encrypted to {} recipient(s))\n",
        summary(&taken.manifest),
        output.display(),
        taken.archive_bytes,
        recipients.len()
    ))
}

/// `restore` as both binaries run it; returns the lines to print.
pub fn restore_command(
    service: &str,
    archive_path: &Path,
    identity_path: &Path,
    data_dir: &Path,
) -> Result<String, RestoreError> {
    let manifest = restore(service, archive_path, identity_path, data_dir)?;
    Ok(format!(
        "{}  restored into {}; checksum and counts verified, read back equal\n",
        summary(&manifest),
        data_dir.display()
    ))
}

/// The lines `backup` and `restore` print: counts per tree, files, and the
/// checksum.
pub fn summary(manifest: &Manifest) -> String {
    let mut out = format!(
        "{} backup, {} ({}), format {}\n",
        manifest.service,
        crate::time::date_time(manifest.created_at),
        manifest.source,
        manifest.format
    );
    for (tree, count) in &manifest.trees {
        out.push_str(&format!("  tree {tree}: {count}\n"));
    }
    out.push_str(&format!(
        "  files: {} ({})\n",
        manifest.files.len(),
        manifest
            .files
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    ));
    out.push_str(&format!("  content sha256: {}\n", manifest.content_sha256));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        std::env::temp_dir().join(format!(
            "intyg-backup-{name}-{}-{nanos}",
            std::process::id()
        ))
    }

    #[test]
    fn restore_writes_what_the_snapshot_read_and_refuses_another_service_or_a_used_directory() {
        let source = temp("source");
        std::fs::create_dir_all(source.join("transaction-keys")).unwrap();
        std::fs::write(source.join("c-nonce.key"), [1u8; 32]).unwrap();
        std::fs::write(source.join("transaction-keys/t1.key"), [2u8; 32]).unwrap();
        std::fs::write(source.join("transaction-keys/t2.partial"), [3u8; 32]).unwrap();
        std::fs::write(
            source.join(crate::audit::FILE_NAME),
            "{\"seq\":1}\n{\"seq\":2",
        )
        .unwrap();
        let db = Db::open(&source.join(STORE_DIR)).unwrap();
        let offers = db.open_tree("offers").unwrap();
        offers.insert(b"o1", b"offer".to_vec()).unwrap();
        db.open_tree("empty").unwrap();
        let contents = snapshot(&db, &source).unwrap();
        assert_eq!(contents.trees["offers"].len(), 1);
        assert!(contents.trees["empty"].is_empty());
        assert_eq!(
            contents.files.keys().collect::<Vec<_>>(),
            ["audit.jsonl", "c-nonce.key", "transaction-keys/t1.key"],
            "the store, unfinished writes and the socket are left out"
        );
        assert_eq!(
            contents.files["audit.jsonl"], b"{\"seq\":1}\n",
            "complete lines"
        );

        let keys = temp("keys");
        std::fs::create_dir_all(&keys).unwrap();
        let (identity, recipient) = archive::generate_identity();
        std::fs::write(keys.join("identity.txt"), identity).unwrap();
        let archive_path = keys.join("backup.age");
        let taken = take(
            "issuer",
            &source,
            &archive::recipients(&[recipient], &[]).unwrap(),
            &archive_path,
        );
        // The store is open in this process: sled's lock holds it.
        assert!(matches!(taken, Err(BackupError::InUse(_))), "{taken:?}");
        drop((offers, db));
        let taken = take(
            "issuer",
            &source,
            &archive::recipients(&[archive::generate_identity().1], &[]).unwrap(),
            &source.join("inside.age"),
        );
        assert_eq!(taken.unwrap_err().code(), "output");
        let (identity_text, recipient) = archive::generate_identity();
        std::fs::write(keys.join("identity.txt"), identity_text).unwrap();
        let taken = take(
            "issuer",
            &source,
            &archive::recipients(&[recipient], &[]).unwrap(),
            &archive_path,
        )
        .unwrap();
        assert_eq!(taken.manifest.source, "offline");
        assert_eq!(taken.manifest.trees["offers"], 1);

        let target = keys.join("restored");
        let identity = keys.join("identity.txt");
        let wrong = restore("verifier", &archive_path, &identity, &target).unwrap_err();
        assert_eq!(wrong.code(), "wrong_service");
        assert!(!target.exists());
        let manifest = restore("issuer", &archive_path, &identity, &target).unwrap();
        assert_eq!(manifest.content_sha256, taken.manifest.content_sha256);
        assert_eq!(
            std::fs::read(target.join("transaction-keys/t1.key")).unwrap(),
            [2u8; 32]
        );
        let again = restore("issuer", &archive_path, &identity, &target).unwrap_err();
        assert_eq!(again.code(), "target_not_empty");
        let reopened = Db::open(&target.join(STORE_DIR)).unwrap();
        assert_eq!(
            reopened
                .open_tree("offers")
                .unwrap()
                .get(b"o1")
                .unwrap()
                .as_deref(),
            Some(&b"offer"[..])
        );
        drop(reopened);
        let none = take(
            "issuer",
            &keys.join("nothing"),
            &archive::recipients(&[archive::generate_identity().1], &[]).unwrap(),
            &keys.join("none.age"),
        );
        assert_eq!(none.unwrap_err().code(), "no_store");
        for dir in [source, keys] {
            std::fs::remove_dir_all(dir).unwrap();
        }
    }
}
