//! Temporary directories removed on drop, and what is written in them.

use std::path::{Path, PathBuf};

/// A fresh directory under the system's temporary directory, removed with
/// everything in it when dropped. Named `intyg-<name>-<uuid>`, so tests
/// running at the same time never share one.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates the directory; panics if it cannot.
    pub fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("intyg-{name}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Self(path)
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

/// Every regular file under `dir` whose bytes contain `needle` (sockets,
/// such as a running service's `operator.sock`, are not read).
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.is_file()
                && std::fs::read(&path)
                    .unwrap()
                    .windows(needle.len())
                    .any(|w| w == needle)
            {
                hits.push(path);
            }
        }
    }
    hits
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The core file size limits of process `pid`, soft and hard, as
/// `/proc/<pid>/limits` shows them (`"0"`, `"unlimited"`, ...).
pub fn core_file_limits(pid: u32) -> (String, String) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits"))
        .unwrap_or_else(|e| panic!("/proc/{pid}/limits: {e}"));
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap_or_else(|| panic!("no core file size in {limits}"));
    // "Max core file size  <soft>  <hard>  bytes"
    let fields: Vec<&str> = line.split_whitespace().collect();
    (fields[4].to_owned(), fields[5].to_owned())
}
