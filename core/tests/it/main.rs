//! Integration tests of `intyg-core`: spec vectors from `test-vectors/` and
//! crafted inputs for every verification rule.

mod attestation;
mod dcql;
mod did;
mod jose;
mod oid4vci;
mod oid4vp;
mod sd_jwt;
mod status_list;
mod trust;
mod vc;
mod webhook;
mod wrprc;

/// Reads a file under the workspace's `test-vectors/` folder.
pub(crate) fn vector(path: &str) -> String {
    let full = concat!(env!("CARGO_MANIFEST_DIR"), "/../test-vectors/").to_owned() + path;
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("reading {full}: {e}"))
}

/// Parses a JSON file under `test-vectors/`.
pub(crate) fn vector_json(path: &str) -> serde_json::Value {
    serde_json::from_str(&vector(path)).unwrap_or_else(|e| panic!("parsing {path}: {e}"))
}
