//! Process hardening at a service's start: no core dumps. A core file
//! would hold the signing keys, nonce secrets, session tokens and whatever
//! personal data was in memory, written wherever the host's
//! `core_pattern` points. Both services call [`no_core_dumps`] before
//! they load a key; the systemd unit's `LimitCORE=0` (docs/deploy.md) says
//! the same from outside.

/// Why the process could not be hardened.
#[derive(Debug, thiserror::Error)]
pub enum HardeningError {
    /// `setrlimit(RLIMIT_CORE)` failed.
    #[error("setting the core file size limit to 0 failed: {0}")]
    CoreLimit(std::io::Error),
    /// `prctl(PR_SET_DUMPABLE)` failed.
    #[error("marking the process not dumpable failed: {0}")]
    Dumpable(std::io::Error),
}

/// Sets the core file size limit (soft and hard) to 0 and marks the
/// process not dumpable (`PR_SET_DUMPABLE` 0: no core file even for a
/// pipe `core_pattern`, and no `ptrace` attach or `/proc/<pid>/mem` read
/// by other processes of the same user).
pub fn no_core_dumps() -> Result<(), HardeningError> {
    use rustix::process::{DumpableBehavior, Resource, Rlimit, set_dumpable_behavior, setrlimit};
    setrlimit(
        Resource::Core,
        Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    )
    .map_err(|e| HardeningError::CoreLimit(e.into()))?;
    set_dumpable_behavior(DumpableBehavior::NotDumpable)
        .map_err(|e| HardeningError::Dumpable(e.into()))
}
