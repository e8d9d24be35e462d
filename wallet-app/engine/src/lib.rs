//! `intyg-wallet`: the headless wallet engine under the Tauri app.
//!
//! This crate is filled by the wallet engine issue; for now it only
//! reserves its place in the workspace.
