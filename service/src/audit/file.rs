//! The audit trail of sled deployments: `audit.jsonl` in the data
//! directory, one JSON [`Entry`] per line, only ever appended to (and
//! synced before the action's answer). sled locks its database to one
//! process; this file has no lock, so `audit verify` reads it while the
//! service runs. A last line without its newline is an append in
//! progress (or cut short by a crash): readers skip it, and
//! [`FileAudit::open`] cuts it off before appending.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::GroupSync;

use super::{AuditError, AuditStore, Entry, MakeEvent};

/// The file's name in the data directory.
pub const FILE_NAME: &str = "audit.jsonl";

/// The trail in one append-only file.
#[derive(Debug)]
pub struct FileAudit {
    path: PathBuf,
    state: Mutex<Tail>,
    /// The file again, for syncs outside the lock.
    sync: Arc<File>,
    /// Appends made at the same time share one `fdatasync`.
    group: GroupSync,
}

#[derive(Debug)]
struct Tail {
    file: File,
    last: Option<Entry>,
}

impl FileAudit {
    /// Opens (or creates, mode 0600) the trail at `path`. Refuses a trail
    /// whose last entry does not decode: appending after it would hide
    /// the damage.
    pub fn open(path: &Path) -> Result<Self, AuditError> {
        let io = |source| AuditError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path).map_err(io)?;
        let text = std::fs::read(path).map_err(io)?;
        let complete = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if complete < text.len() {
            tracing::warn!(path = %path.display(), "audit trail: an unfinished last line is cut off");
            file.set_len(complete as u64).map_err(io)?;
        }
        let entries = parse(&text[..complete]);
        let last = match entries.into_iter().last() {
            Some(last) => Some(last?),
            None => None,
        };
        Ok(Self {
            path: path.to_owned(),
            sync: Arc::new(file.try_clone().map_err(io)?),
            state: Mutex::new(Tail { file, last }),
            group: GroupSync::default(),
        })
    }

    /// Every complete entry of the trail at `path`, in order (an empty
    /// trail when there is no file).
    pub fn read(path: &Path) -> Result<Vec<Result<Entry, AuditError>>, AuditError> {
        let text = match std::fs::read(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => {
                return Err(AuditError::Io {
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        let complete = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        Ok(parse(&text[..complete]))
    }
}

fn parse(text: &[u8]) -> Vec<Result<Entry, AuditError>> {
    text.split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .zip(1..)
        .map(|(line, seq)| {
            serde_json::from_slice(line).map_err(|e| AuditError::Corrupt {
                seq,
                reason: e.to_string(),
            })
        })
        .collect()
}

#[async_trait]
impl AuditStore for FileAudit {
    async fn append(&self, make: &MakeEvent<'_>) -> Result<Entry, AuditError> {
        let io = |source| AuditError::Io {
            path: self.path.display().to_string(),
            source,
        };
        let (entry, ticket) = {
            // A poisoned lock still holds a consistent tail: `last` changes
            // only after the line is written.
            let mut tail = self
                .state
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let entry = Entry::next(tail.last.as_ref(), make(tail.last.as_ref())?);
            let mut line = serde_json::to_vec(&entry).map_err(|e| AuditError::Corrupt {
                seq: entry.seq,
                reason: e.to_string(),
            })?;
            line.push(b'\n');
            tail.file.write_all(&line).map_err(io)?;
            tail.last = Some(entry.clone());
            (entry, self.group.wrote())
        };
        // On disk before the action is answered; appends made meanwhile
        // share the sync.
        let file = self.sync.clone();
        self.group
            .synced(ticket, move || file.sync_data())
            .await
            .map_err(io)?;
        Ok(entry)
    }

    async fn entries(&self) -> Result<Vec<Result<Entry, AuditError>>, AuditError> {
        Self::read(&self.path)
    }

    async fn by_subject(&self, subject: &str) -> Result<Vec<Entry>, AuditError> {
        let mut found = Vec::new();
        for entry in Self::read(&self.path)? {
            let entry = entry?;
            if entry.event.subject.as_deref() == Some(subject) {
                found.push(entry);
            }
        }
        Ok(found)
    }
}
