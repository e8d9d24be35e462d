//! Group commit for sled: one fsync for every request that waits at the
//! same time, so a handler answers only after what it wrote is on disk;
//! [`GroupSync`] does the same for plain files.

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
                // `flush` on a blocking thread, not `flush_async`: sled's
                // own pool wakes every one of its idle threads for each
                // task it is given, and a flush gives it one more.
                let flushing = db.clone();
                let flushed = tokio::task::spawn_blocking(move || flushing.flush())
                    .await
                    .unwrap_or_else(|e| Err(sled::Error::ReportableBug(e.to_string())));
                match flushed {
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

/// Group fsync for files many requests write at once (an append-only
/// file, a directory of small files): each writer takes a ticket once its
/// write is done and waits for a sync that started after it; concurrent
/// writers share one sync, run off the async worker threads.
#[derive(Debug, Default)]
pub struct GroupSync {
    written: AtomicU64,
    synced: tokio::sync::Mutex<u64>,
}

impl GroupSync {
    /// A ticket for a write that is done (in the page cache).
    pub fn wrote(&self) -> u64 {
        self.written.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Returns once a `sync` that started after `ticket`'s write has
    /// succeeded; runs `sync` unless one that covers the ticket already
    /// did. A failed sync fails its waiter, and the next waiter tries
    /// again.
    pub async fn synced<F>(&self, ticket: u64, sync: F) -> std::io::Result<()>
    where
        F: FnOnce() -> std::io::Result<()> + Send + 'static,
    {
        let mut synced = self.synced.lock().await;
        if *synced >= ticket {
            return Ok(());
        }
        // Every ticket up to here belongs to a finished write.
        let target = self.written.load(Ordering::Acquire);
        tokio::task::spawn_blocking(sync)
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))??;
        *synced = target;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn group_sync_covers_every_ticket_and_retries_after_a_failure() {
        let group = Arc::new(GroupSync::default());
        let runs = Arc::new(AtomicU64::new(0));
        let first = group.wrote();
        let failed = group
            .synced(first, || Err(std::io::Error::other("disk gone")))
            .await;
        assert!(failed.is_err());
        let counted = runs.clone();
        group
            .synced(first, move || {
                counted.fetch_add(1, Ordering::SeqCst);
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(
            runs.load(Ordering::SeqCst),
            1,
            "a failed sync covers nothing"
        );
        // Covered already: no second sync.
        let counted = runs.clone();
        group
            .synced(first, move || {
                counted.fetch_add(1, Ordering::SeqCst);
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        let waits: Vec<_> = (0..16)
            .map(|_| {
                let (group, runs) = (group.clone(), runs.clone());
                tokio::spawn(async move {
                    let ticket = group.wrote();
                    group
                        .synced(ticket, move || {
                            runs.fetch_add(1, Ordering::SeqCst);
                            Ok(())
                        })
                        .await
                })
            })
            .collect();
        for wait in waits {
            wait.await.unwrap().unwrap();
        }
        let after = runs.load(Ordering::SeqCst);
        assert!((2..=17).contains(&after), "{after}");
        assert_eq!(*group.synced.lock().await, 17);
    }

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
