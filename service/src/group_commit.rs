//! Group commit for sled: one fsync for every request that waits at the
//! same time, so a handler answers only after what it wrote is on disk.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{Notify, watch};

/// Writes could not be made durable: the flush failed or the flusher
/// stopped (shutting down).
#[derive(Debug, thiserror::Error)]
#[error("writes could not be made durable")]
pub struct NotDurable;

/// Group commit: every caller of [`GroupCommit::durable`] waits for an fsync
/// that started after its writes; concurrent callers share one fsync.
pub struct GroupCommit {
    shared: Arc<Shared>,
    flushed: watch::Receiver<Result<u64, ()>>,
}

struct Shared {
    requested: AtomicU64,
    wake: Notify,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("requested", &self.shared.requested)
            .finish()
    }
}

impl GroupCommit {
    /// Starts the flusher task for `db` on the current tokio runtime.
    pub fn start(db: sled::Db) -> Arc<Self> {
        let (tx, rx) = watch::channel(Ok(0));
        let shared = Arc::new(Shared {
            requested: AtomicU64::new(0),
            wake: Notify::new(),
        });
        let flusher = shared.clone();
        tokio::spawn(async move {
            let mut done = 0;
            while !tx.is_closed() {
                let target = flusher.requested.load(Ordering::Acquire);
                if target == done {
                    flusher.wake.notified().await;
                    continue;
                }
                match db.flush_async().await {
                    Ok(_) => {
                        done = target;
                        let _previous = tx.send_replace(Ok(done));
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "flushing the database failed");
                        let _previous = tx.send_replace(Err(()));
                    }
                }
            }
        });
        Arc::new(Self {
            shared,
            flushed: rx,
        })
    }

    /// Returns once everything written before the call is on disk.
    pub async fn durable(&self) -> Result<(), NotDurable> {
        let ticket = self.shared.requested.fetch_add(1, Ordering::AcqRel) + 1;
        self.shared.wake.notify_one();
        let mut flushed = self.flushed.clone();
        loop {
            match *flushed.borrow_and_update() {
                Ok(done) if done >= ticket => return Ok(()),
                Ok(_) => {}
                Err(()) => return Err(NotDurable),
            }
            if flushed.changed().await.is_err() {
                return Err(NotDurable);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn concurrent_callers_all_become_durable() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let commit = GroupCommit::start(db.clone());
        db.insert(b"k", b"v").unwrap();
        let waits: Vec<_> = (0..16)
            .map(|_| {
                let commit = commit.clone();
                tokio::spawn(async move { commit.durable().await })
            })
            .collect();
        for wait in waits {
            wait.await.unwrap().unwrap();
        }
        commit.durable().await.unwrap();
    }

    #[test]
    fn not_durable_message() {
        assert_eq!(NotDurable.to_string(), "writes could not be made durable");
    }
}
