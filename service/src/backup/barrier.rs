//! A sled database whose writes pass a barrier, so that a snapshot of
//! every tree (and of the files beside it) is one point in time.
//!
//! sled has no snapshot of several trees: an iterator sees writes made
//! while it runs. Every write of a service therefore goes through a
//! [`Tree`] here, which holds the [`Barrier`] shared for the length of one
//! sled call; [`Db::paused`] holds it exclusively while it reads. Reads
//! never wait. What a snapshot holds is what a crash at that instant,
//! after an fsync, would have left: every store already recovers from
//! that.

use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

use sled::IVec;

/// Every tree's name and entries, as sled holds them.
pub type Trees = Vec<(String, Vec<(IVec, IVec)>)>;

/// The barrier of one database: shared by writers, exclusive for a
/// snapshot.
#[derive(Debug, Clone, Default)]
pub struct Barrier(Arc<RwLock<()>>);

/// A writer's hold on the [`Barrier`]; writes stay possible while any is
/// held, a snapshot waits for all of them.
#[derive(Debug)]
pub struct WriteHold<'a>(#[allow(dead_code)] RwLockReadGuard<'a, ()>);

impl Barrier {
    /// Held by a writer for one write (sled call or file change). Never
    /// hold two at once on one thread: a snapshot waiting between them
    /// would wait forever.
    pub fn hold(&self) -> WriteHold<'_> {
        // The lock guards no data: a panic while it was held leaves
        // nothing inconsistent.
        WriteHold(self.0.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Runs `read` while no write is under way.
    pub fn paused<T>(&self, read: impl FnOnce() -> T) -> T {
        let _exclusive = self.0.write().unwrap_or_else(PoisonError::into_inner);
        read()
    }
}

/// A sled database and its [`Barrier`].
#[derive(Debug, Clone)]
pub struct Db {
    db: sled::Db,
    barrier: Barrier,
}

impl Db {
    /// Opens (or creates) the database in `dir` in high-throughput mode,
    /// as both services run it.
    pub fn open(dir: &Path) -> Result<Self, sled::Error> {
        Ok(Self::new(
            sled::Config::new()
                .path(dir)
                .mode(sled::Mode::HighThroughput)
                .open()?,
        ))
    }

    /// An open database with a new barrier.
    pub fn new(db: sled::Db) -> Self {
        Self {
            db,
            barrier: Barrier::default(),
        }
    }

    /// The tree `name`, its writes behind this database's barrier.
    pub fn open_tree(&self, name: &str) -> Result<Tree, sled::Error> {
        Ok(Tree {
            tree: self.db.open_tree(name)?,
            barrier: self.barrier.clone(),
        })
    }

    /// The barrier, for writes outside sled that belong to the same state
    /// (the verifier's per-transaction key files).
    pub fn barrier(&self) -> &Barrier {
        &self.barrier
    }

    /// The sled database (flushes, offline copies). Writing to it directly
    /// bypasses the barrier.
    pub fn sled(&self) -> &sled::Db {
        &self.db
    }

    /// Every tree's entries, in name and key order, read while no write is
    /// under way; `also` runs under the same pause (files that belong to
    /// the same state).
    pub fn paused<T>(&self, also: impl FnOnce() -> T) -> Result<(Trees, T), sled::Error> {
        self.barrier.paused(|| {
            let mut names: Vec<IVec> = self.db.tree_names();
            names.sort();
            let mut trees = Vec::with_capacity(names.len());
            for name in names {
                let tree = self.db.open_tree(&name)?;
                let entries = tree.iter().collect::<Result<Vec<_>, _>>()?;
                trees.push((String::from_utf8_lossy(&name).into_owned(), entries));
            }
            Ok((trees, also()))
        })
    }
}

/// A sled tree whose writes hold the database's [`Barrier`]. Reads are
/// sled's own.
#[derive(Debug, Clone)]
pub struct Tree {
    tree: sled::Tree,
    barrier: Barrier,
}

impl Tree {
    /// [`sled::Tree::insert`].
    pub fn insert<K: AsRef<[u8]>, V: Into<IVec>>(
        &self,
        key: K,
        value: V,
    ) -> sled::Result<Option<IVec>> {
        let _hold = self.barrier.hold();
        self.tree.insert(key, value)
    }

    /// [`sled::Tree::remove`].
    pub fn remove<K: AsRef<[u8]>>(&self, key: K) -> sled::Result<Option<IVec>> {
        let _hold = self.barrier.hold();
        self.tree.remove(key)
    }

    /// [`sled::Tree::compare_and_swap`].
    pub fn compare_and_swap<K, OV, NV>(
        &self,
        key: K,
        old: Option<OV>,
        new: Option<NV>,
    ) -> sled::Result<Result<(), sled::CompareAndSwapError>>
    where
        K: AsRef<[u8]>,
        OV: AsRef<[u8]>,
        NV: Into<IVec>,
    {
        let _hold = self.barrier.hold();
        self.tree.compare_and_swap(key, old, new)
    }

    /// [`sled::Tree::update_and_fetch`]; `f` must not write through a
    /// [`Tree`] (the barrier is held).
    pub fn update_and_fetch<K, V, F>(&self, key: K, f: F) -> sled::Result<Option<IVec>>
    where
        K: AsRef<[u8]>,
        F: FnMut(Option<&[u8]>) -> Option<V>,
        V: Into<IVec>,
    {
        let _hold = self.barrier.hold();
        self.tree.update_and_fetch(key, f)
    }

    /// [`sled::Tree::get`].
    pub fn get<K: AsRef<[u8]>>(&self, key: K) -> sled::Result<Option<IVec>> {
        self.tree.get(key)
    }

    /// [`sled::Tree::contains_key`].
    pub fn contains_key<K: AsRef<[u8]>>(&self, key: K) -> sled::Result<bool> {
        self.tree.contains_key(key)
    }

    /// [`sled::Tree::iter`].
    pub fn iter(&self) -> sled::Iter {
        self.tree.iter()
    }

    /// [`sled::Tree::scan_prefix`].
    pub fn scan_prefix<P: AsRef<[u8]>>(&self, prefix: P) -> sled::Iter {
        self.tree.scan_prefix(prefix)
    }

    /// [`sled::Tree::range`].
    pub fn range<K: AsRef<[u8]>, R: std::ops::RangeBounds<K>>(&self, range: R) -> sled::Iter {
        self.tree.range(range)
    }

    /// [`sled::Tree::len`].
    pub fn len(&self) -> usize {
        self.tree.len()
    }

    /// [`sled::Tree::is_empty`].
    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_waits_for_a_write_in_progress_and_writes_wait_for_it() {
        let db = Db::new(sled::Config::new().temporary(true).open().unwrap());
        let a = db.open_tree("a").unwrap();
        let b = db.open_tree("b").unwrap();
        a.insert(b"k", b"1".to_vec()).unwrap();
        // A writer holds the barrier: a snapshot taken on another thread
        // sees both of its writes or neither.
        let hold = db.barrier().hold();
        let snapshot = {
            let db = db.clone();
            std::thread::spawn(move || db.paused(|| ()).unwrap().0)
        };
        a.tree.insert(b"k", b"2".to_vec()).unwrap();
        b.tree.insert(b"k", b"2".to_vec()).unwrap();
        drop(hold);
        let trees = snapshot.join().unwrap();
        let value = |name: &str| {
            trees
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, entries)| entries[0].1.to_vec())
        };
        assert_eq!(value("a"), Some(b"2".to_vec()));
        assert_eq!(value("b"), Some(b"2".to_vec()));
    }
}
