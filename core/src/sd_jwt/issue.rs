//! Issuance: concealing claims behind digests (RFC 9901 §4.2, §4.2.4, §4.2.5
//! decoys) and signing the Issuer-signed JWT (§4.1).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::{Disclosure, DisclosureKind, IssueError, SHA_256, SdJwt, pointer_push, random_b64};
use crate::jose::{Header, b64url_encode, sign_compact};

/// What to conceal, and how many decoys to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueOptions {
    /// JSON pointers (RFC 6901) of the claims to make selectively
    /// disclosable: object properties (`/address/locality`) or array
    /// elements (`/nationalities/0`). A pointer and one below it may both be
    /// listed; the inner claim is then concealed inside the outer one's
    /// disclosure (§6.3, recursive disclosures).
    pub disclosable: BTreeSet<String>,
    /// At most this many decoy digests are added to every `_sd` array (the
    /// exact number is random, §4.2.5).
    pub max_decoys: u8,
}

impl IssueOptions {
    /// Conceals the given pointers and adds up to two decoys per object.
    pub fn new<S: Into<String>>(disclosable: impl IntoIterator<Item = S>) -> Self {
        Self {
            disclosable: disclosable.into_iter().map(Into::into).collect(),
            max_decoys: 2,
        }
    }
}

/// Conceals the claims chosen in `options`, signs the payload with `key`
/// under `header` and returns the SD-JWT with all its disclosures.
pub fn issue(
    claims: Map<String, Value>,
    options: &IssueOptions,
    header: Header,
    key: &(impl crate::jose::Signer + ?Sized),
) -> Result<SdJwt, IssueError> {
    let document = Value::Object(claims);
    for pointer in &options.disclosable {
        if pointer.is_empty() {
            return Err(IssueError::NotDisclosable(pointer.clone()));
        }
        if document.pointer(pointer).is_none() {
            return Err(IssueError::UnknownPath(pointer.clone()));
        }
    }
    let Value::Object(claims) = document else {
        return Err(IssueError::NotDisclosable(String::new()));
    };
    let mut concealer = Concealer {
        options,
        disclosures: Vec::new(),
    };
    let mut payload = concealer.object(claims, "")?;
    payload.insert("_sd_alg".into(), SHA_256.into());
    let payload = serde_json::to_vec(&payload)
        .map_err(|_| IssueError::Jose(crate::jose::JoseError::Signing))?;
    let jws = sign_compact(&header, &payload, key)?;
    let mut compact = jws;
    compact.push('~');
    for disclosure in &concealer.disclosures {
        compact.push_str(disclosure.as_str());
        compact.push('~');
    }
    // We just produced this serialization, so it parses; a failure here
    // would be a bug in this module, reported as a signing failure.
    SdJwt::parse(&compact).map_err(|_| IssueError::Jose(crate::jose::JoseError::Signing))
}

struct Concealer<'a> {
    options: &'a IssueOptions,
    disclosures: Vec<Disclosure>,
}

impl Concealer<'_> {
    fn value(&mut self, value: Value, pointer: &str) -> Result<Value, IssueError> {
        Ok(match value {
            Value::Object(object) => Value::Object(self.object(object, pointer)?),
            Value::Array(array) => Value::Array(self.array(array, pointer)?),
            other => other,
        })
    }

    fn object(
        &mut self,
        object: Map<String, Value>,
        pointer: &str,
    ) -> Result<Map<String, Value>, IssueError> {
        let mut out = Map::with_capacity(object.len());
        let mut digests = Vec::new();
        for (name, value) in object {
            if matches!(name.as_str(), "_sd" | "..." | "_sd_alg") {
                return Err(IssueError::ReservedClaimName(name));
            }
            let child = pointer_push(pointer, &name);
            let value = self.value(value, &child)?;
            if self.options.disclosable.contains(&child) {
                digests.push(self.conceal(DisclosureKind::Property { name, value }));
            } else {
                out.insert(name, value);
            }
        }
        if !digests.is_empty() {
            digests.extend(self.decoys());
            // Sorted, so the digest order does not leak the claim order (§4.2.4.1).
            digests.sort_unstable();
            out.insert("_sd".into(), digests.into_iter().map(Value::from).collect());
        }
        Ok(out)
    }

    fn array(&mut self, array: Vec<Value>, pointer: &str) -> Result<Vec<Value>, IssueError> {
        let mut out = Vec::with_capacity(array.len());
        for (index, element) in array.into_iter().enumerate() {
            let child = format!("{pointer}/{index}");
            let element = self.value(element, &child)?;
            if self.options.disclosable.contains(&child) {
                let digest = self.conceal(DisclosureKind::ArrayElement(element));
                out.push(serde_json::json!({ "...": digest }));
            } else {
                out.push(element);
            }
        }
        Ok(out)
    }

    fn conceal(&mut self, kind: DisclosureKind) -> String {
        let disclosure = Disclosure::new(kind);
        let digest = disclosure.digest().to_owned();
        self.disclosures.push(disclosure);
        digest
    }

    /// Between zero and `max_decoys` digests of random salts (§4.2.5).
    fn decoys(&self) -> Vec<String> {
        if self.options.max_decoys == 0 {
            return Vec::new();
        }
        let mut count = [0u8; 1];
        // See `random_b64` for why a failing system RNG is fatal.
        #[allow(clippy::expect_used)]
        aws_lc_rs::rand::fill(&mut count).expect("system random number generator failed");
        let count = u16::from(count[0]) % (u16::from(self.options.max_decoys) + 1);
        (0..count)
            .map(|_| {
                use sha2::Digest as _;
                b64url_encode(sha2::Sha256::digest(random_b64(16).as_bytes()))
            })
            .collect()
    }
}
