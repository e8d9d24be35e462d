//! Group commit for sled: one fsync for every request that waits at the
//! same time, so a handler answers only after what it wrote is on disk;
//! [`GroupSync`] does the same for plain files.
//!
//! Both pace their syncs under load ([`SYNC_INTERVAL`]): a sync starts no
//! sooner than that after the previous one of the same group started, so
//! that the writers who arrive meanwhile share it instead of each costing
//! one more (the idea of PostgreSQL's `commit_delay`). A writer who finds
//! the group idle for longer is synced at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::time::Instant;

/// The least time between the starts of two syncs of one group while
/// writers wait. Every sync wakes threads and the disk; at a few hundred
/// durable writes a second, pacing them halves the syncs (see
/// `docs/deploy.md`, "Throughput") and adds at most this to a write's wait.
pub const SYNC_INTERVAL: Duration = Duration::from_millis(2);

/// Waits until [`SYNC_INTERVAL`] has passed since `previous` started.
async fn pace(previous: Option<Instant>) {
    let next = previous.map(|at| at + SYNC_INTERVAL);
    if let Some(next) = next.filter(|next| *next > Instant::now()) {
        tokio::time::sleep_until(next).await;
    }
}

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
            let mut started = None;
            while !tx.is_closed() {
                if flusher.requested.load(Ordering::Acquire) == done {
                    flusher.wake.notified().await;
                    continue;
                }
                pace(started).await;
                // Read after the pause: whoever asked meanwhile wrote before
                // asking, so this flush covers them too.
                let target = flusher.requested.load(Ordering::Acquire);
                started = Some(Instant::now());
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
    synced: tokio::sync::Mutex<Synced>,
}

/// The last sync of a [`GroupSync`].
#[derive(Debug, Default)]
struct Synced {
    /// Every ticket up to this one is on disk.
    upto: u64,
    /// When it started.
    started: Option<Instant>,
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
        if synced.upto >= ticket {
            return Ok(());
        }
        // Writers who arrive during the pause wait on the lock, and the
        // sync below covers them.
        pace(synced.started).await;
        // Every ticket up to here belongs to a finished write.
        let target = self.written.load(Ordering::Acquire);
        synced.started = Some(Instant::now());
        tokio::task::spawn_blocking(sync)
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))??;
        synced.upto = target;
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
        assert_eq!(group.synced.lock().await.upto, 17);
    }

    #[tokio::test(start_paused = true)]
    async fn writers_who_arrive_while_a_sync_is_paced_share_it() {
        let group = Arc::new(GroupSync::default());
        let runs = Arc::new(AtomicU64::new(0));
        let counting = |runs: &Arc<AtomicU64>| {
            let runs = runs.clone();
            move || {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        };
        let first = group.wrote();
        group.synced(first, counting(&runs)).await.unwrap();
        let started = Instant::now();
        // The first of these finds a sync that has just started, waits out
        // the interval, and its sync covers every writer who came meanwhile.
        let waits: Vec<_> = (0..16)
            .map(|_| {
                let (group, sync) = (group.clone(), counting(&runs));
                tokio::spawn(async move {
                    let ticket = group.wrote();
                    group.synced(ticket, sync).await
                })
            })
            .collect();
        for wait in waits {
            wait.await.unwrap().unwrap();
        }
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert!(started.elapsed() >= SYNC_INTERVAL);
        assert_eq!(group.synced.lock().await.upto, 17);
        // An idle group syncs at once.
        tokio::time::advance(SYNC_INTERVAL).await;
        let idle = Instant::now();
        let ticket = group.wrote();
        group.synced(ticket, counting(&runs)).await.unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        assert_eq!(idle.elapsed(), Duration::ZERO);
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
