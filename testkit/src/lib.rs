//! Fixtures for Intyg's integration tests and benches, written once.
//!
//! The tests of the issuer, the wallet engine and the CLI need the same
//! things: a real `intyg-issuer` served in-process on a loopback port with
//! its sled store in a temporary directory ([`TestIssuer`]; for
//! synchronous tests [`BackgroundIssuer`], on a runtime of its own),
//! optionally with the development IdP as its OpenID Provider; the admin
//! API behind its Bearer key ([`Admin`]); a person logging in at that IdP
//! the way a browser does ([`Browser`], [`Login`]); the portals' sign-in
//! and forms with their cookies ([`PortalBrowser`]) and headless Chromium
//! ([`Chromedriver`]); the wallet's side of
//! `/nonce` and `/credential`; and directories removed on drop
//! ([`TempDir`]); a throwaway PostgreSQL cluster with a fresh database per
//! test ([`TestPg`]); a scheme operator publishing trust lists over
//! loopback ([`lote::ListOperator`], [`lote::ListServer`]); a throwaway
//! SoftHSM2 token in a temporary directory, each test using one run in a
//! child process whose environment names it ([`SoftHsm`]). [`Fetch`] sends a request and reads its body in one step.
//!
//! A dev-dependency only: nothing that ships depends on it, and it is
//! never published. Helpers panic with a message instead of returning
//! errors, as test code does.
//!
//! ```no_run
//! use intyg_testkit::{KARIN, Login, REGISTRATION_CERTIFICATE, TestIssuer};
//!
//! # async fn example() {
//! let issuer = TestIssuer::start_with_dev_idp("example").await;
//! // The officer registers a credential for Karin: a link and a PIN.
//! let offer = issuer.admin.offer(REGISTRATION_CERTIFICATE, KARIN).await;
//! assert_eq!(offer.tx_code.len(), 6);
//! // Or a wallet starts the authorization code flow and Karin logs in.
//! # let authorization_url = String::new();
//! let callback = issuer.log_in(&authorization_url, Login::As(KARIN)).await;
//! # }
//! ```

mod admin;
mod chromium;
mod dir;
mod fetch;
mod issuer;
mod login;
pub mod lote;
mod pg;
mod portal;
mod process;
mod softhsm;
mod wallet_provider;

use std::path::{Path, PathBuf};

pub use admin::{Admin, offer_body};
pub use chromium::{Chromedriver, audit_page, audit_page_in_both_languages, chromium_capabilities};
pub use dir::{TempDir, core_file_limits, files_containing};
pub use fetch::Fetch;
pub use intyg_issuer::admin::OfferCreated;
pub use issuer::{API_KEY, BackgroundIssuer, TestIssuer, status_and_metadata_routes};
pub use login::{Browser, Login, location};
pub use pg::TestPg;
pub use portal::{PortalBrowser, PortalPage};
pub use process::{Killed, free_port};
pub use softhsm::{
    KeyOptions, P256_PARAMS, P384_PARAMS, SOFTHSM_MODULE, SOFTHSM_PIN, SOFTHSM_TOKEN, SoftHsm,
    assert_token_start_refusals, objects,
};
pub use wallet_provider::{WalletInstance, WalletProvider};

/// Karin, a test person of the development IdP (and the usual subject).
pub const KARIN: &str = "199403172381";
/// Amira, a test person of the development IdP.
pub const AMIRA: &str = "198507099805";
/// The credential configuration most tests issue.
pub const REGISTRATION_CERTIFICATE: &str = "registration-certificate";

/// `path` relative to the workspace root.
pub fn workspace_path(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// The example claims of a credential type
/// (`specs/credentials/<kind>/example.json`).
pub fn example(kind: &str) -> serde_json::Value {
    let path = workspace_path(&format!("specs/credentials/{kind}/example.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
