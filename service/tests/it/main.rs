//! Integration tests of `intyg-service` against the real parts.

mod pkcs11;

/// The SoftHSM2 fixture of `intyg-testkit`, compiled in here (that crate
/// depends on this one).
#[path = "../../../testkit/src/softhsm.rs"]
pub mod softhsm;
