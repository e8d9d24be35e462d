//! `intyg-issuer`: the agency's OpenID4VCI 1.0 credential issuer.
//!
//! This crate is filled by the issuer service issue; for now it only
//! reserves its place in the workspace.
