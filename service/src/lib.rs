//! Service-side plumbing shared by `intyg-issuer` and `intyg-verifier`.
//!
//! Nothing here knows about OpenID4VCI or OpenID4VP: it is the I/O glue
//! both services need the same way. `intyg-core` never depends on this
//! crate.
//!
//! - [`backup`]: consistent, encrypted backups of a sled deployment
//!   (online over the operator socket, or with the service stopped) and
//!   their restore; the write barrier every sled write passes.
//! - [`GroupCommit`]: makes sled writes durable, one fsync shared by every
//!   request that waits at the same time; [`GroupSync`] the same for
//!   plain files (the audit trail, the verifier's key files).
//! - [`pg`]: PostgreSQL for several instances on one database: the pool
//!   (TLS through rustls), versioned migrations under an advisory lock,
//!   run-once background jobs ([`pg::RunOnce`]).
//! - [`shutdown_signal`]: resolves on Ctrl-C or SIGTERM, for
//!   `axum::serve(..).with_graceful_shutdown(..)`.
//! - [`session`]: portal sign-in (argon2id, throttling with growing delays) and in-memory
//!   sessions with CSRF tokens, generic over what a session remembers.
//! - [`audit`]: the hash-chained audit trail with signed checkpoints, in
//!   an append-only file (sled deployments) or a table (PostgreSQL).
//! - [`fetch`]: outgoing HTTP from untrusted URLs (SSRF rules, time and
//!   size limits, no redirects).
//! - [`pkcs11`]: ES256 signing keys in a PKCS#11 token (HSM), the
//!   private key never leaving it ([`pkcs11::Pkcs11Signer`]).
//! - [`portal`]: the portals' request context, cookies and page headers,
//!   their two languages and message tables, and the page frame.
//! - [`time`]: dates and times in Europe/Stockholm, zone shown.
//! - [`trust_lists`]: ETSI TS 119 602 lists fetched, checked against their
//!   pinned signers, kept (last good list, no rollback) and refreshed.

pub mod audit;
pub mod backup;
pub mod fetch;
mod group_commit;
pub mod hardening;
pub mod pg;
pub mod pkcs11;
pub mod portal;
pub mod replay;
pub mod session;
mod shutdown;
pub mod time;
pub mod trust_lists;

pub use group_commit::{GroupCommit, GroupSync, NotDurable, SYNC_INTERVAL};
pub use shutdown::shutdown_signal;
