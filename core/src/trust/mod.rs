//! Trust: X.509 chains in `x5c` (RFC 5280, RFC 7515 §4.1.6), Verifier
//! authentication of Request Objects (OpenID4VP 1.0 §5.9.3), and a
//! verifier's trust list of issuers per credential type.
//!
//! | concept | Rust |
//! |---|---|
//! | `x5c` chain, DER certificates | [`CertificateChain`], [`Certificate`] |
//! | configured roots | [`TrustAnchors`] |
//! | validated leaf: key, SANs, `x509_hash` | [`ValidatedLeaf`] |
//! | `x509_hash:` / `x509_san_dns:` client authentication | [`ValidatedLeaf::authenticates`], [`authenticate_request_object`] |
//! | issuers trusted per `vct` (keys by `kid`, or `x5c` roots) | [`TrustList`], [`TrustedIssuer`], file form [`TrustListDocument`] |
//! | a local CA and its leaves (development, tests, list operators) | [`pki::LocalCa`] |
//!
//! Chains are validated with `rustls-webpki` (already compiled in through
//! rustls; RFC 5280 path building with no I/O), with signatures on
//! aws-lc-rs. Nothing here fetches anything: issuer metadata and trust
//! list files are the caller's to read.

mod der;
mod list;
pub mod pki;
mod request_object;
mod x509;

pub use list::{
    IssuerJwks, TrustError, TrustList, TrustListDocument, TrustedIssuer, TrustedIssuerEntry,
};
pub use request_object::{AuthenticatedRequest, RequestAuthError, authenticate_request_object};
pub use x509::{
    Certificate, CertificateChain, MAX_CHAIN_LENGTH, TrustAnchors, ValidatedLeaf, X509Error,
    key_from_spki, spki_der,
};
