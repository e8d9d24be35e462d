//! `intyg-verifier`: the employer's OpenID4VP 1.0 verifier.
//!
//! This crate is filled by the verifier service issue; for now it only
//! reserves its place in the workspace.
