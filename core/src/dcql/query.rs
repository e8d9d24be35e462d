//! The DCQL query model — OpenID4VP 1.0 §6.1 to §6.3, with the
//! format-specific `meta` parameters of Appendix B.2 (mdoc) and B.3.5
//! (SD-JWT VC).
//!
//! <https://openid.net/specs/openid-4-verifiable-presentations-1_0.html#name-digital-credentials-query-l>
//!
//! The structs mirror the wire: parse one with serde, then call
//! [`DcqlQuery::validate`] for the rules serde cannot express, or do both
//! at once with [`ValidatedQuery::from_json`]. Unknown properties are
//! ignored, as §6 requires.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::path::{ClaimsPath, PathElement, json_kind};

/// A DCQL query (OpenID4VP 1.0 §6), as found in the `dcql_query`
/// authorization request parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DcqlQuery {
    /// The requested Credentials. REQUIRED, non-empty.
    pub credentials: Vec<CredentialQuery>,
    /// Constraints on which combinations of `credentials` to return.
    /// OPTIONAL, non-empty if present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_sets: Option<Vec<CredentialSetQuery>>,
}

/// A Credential Query (OpenID4VP 1.0 §6.1): one requested Credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialQuery {
    /// Identifies the Credential in the response and in `credential_sets`:
    /// non-empty, `[A-Za-z0-9_-]`, unique in the query.
    pub id: String,
    /// The requested Credential Format.
    pub format: CredentialFormat,
    /// Whether several Credentials may be returned for this query.
    /// Defaults to `false`.
    #[serde(default)]
    pub multiple: bool,
    /// Constraints on the Credential's metadata, defined per format.
    /// REQUIRED; an empty object places no constraint.
    pub meta: CredentialMeta,
    /// Authorities or trust frameworks that the Verifier accepts as
    /// certifying the Issuer. OPTIONAL, non-empty if present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_authorities: Option<Vec<TrustedAuthoritiesQuery>>,
    /// Whether a presentation with Cryptographic Holder Binding is required.
    /// Defaults to `true`.
    #[serde(default = "default_true")]
    pub require_cryptographic_holder_binding: bool,
    /// The requested claims. Absent: only the claims that are always
    /// disclosed. OPTIONAL, non-empty if present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Vec<ClaimsQuery>>,
    /// Alternative combinations of `claims` ids, most preferred first.
    /// OPTIONAL, non-empty if present, only together with `claims`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_sets: Option<Vec<Vec<String>>>,
}

/// The `meta` object of a Credential Query (OpenID4VP 1.0 §6.1): its
/// members depend on the format, so the known ones are typed and the rest
/// are kept as data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CredentialMeta {
    /// `dc+sd-jwt` (Appendix B.3.5): the accepted `vct` values. REQUIRED
    /// for that format, non-empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vct_values: Option<Vec<String>>,
    /// `mso_mdoc` (Appendix B.2): the accepted doctype. REQUIRED for that
    /// format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doctype_value: Option<String>,
    /// Members this crate does not interpret (other formats, extensions).
    #[serde(flatten)]
    pub other: serde_json::Map<String, Value>,
}

impl CredentialMeta {
    /// Whether the object has no members, i.e. places no constraint.
    pub fn is_empty(&self) -> bool {
        self.vct_values.is_none() && self.doctype_value.is_none() && self.other.is_empty()
    }
}

/// A Trusted Authorities Query (OpenID4VP 1.0 §6.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedAuthoritiesQuery {
    /// What kind of information `values` holds.
    #[serde(rename = "type")]
    pub kind: TrustedAuthorityType,
    /// Identifiers of accepted authorities, of kind `type`. Non-empty.
    pub values: Vec<String>,
}

/// A Credential Set Query (OpenID4VP 1.0 §6.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialSetQuery {
    /// Alternative sets of Credential Query ids; any one satisfies the
    /// set. Non-empty, and so is each option.
    pub options: Vec<Vec<String>>,
    /// Whether the set must be satisfied. Defaults to `true`.
    #[serde(default = "default_true")]
    pub required: bool,
}

/// A Claims Query (OpenID4VP 1.0 §6.3): one requested claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimsQuery {
    /// Identifies the claim in `claim_sets`: REQUIRED when `claim_sets` is
    /// present, `[A-Za-z0-9_-]`, unique within `claims`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Where the claim is in the Credential (§7). Non-empty.
    pub path: ClaimsPath,
    /// Accepted values: the claim matches if its type and value equal one
    /// of them. OPTIONAL, non-empty if present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<ClaimValue>>,
    /// `mso_mdoc` (Appendix B.2): the mdoc `IntentToRetain` flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent_to_retain: Option<bool>,
}

/// An expected claim value in [`ClaimsQuery::values`]: a string, an
/// integer or a boolean (OpenID4VP 1.0 §6.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum ClaimValue {
    /// A JSON string.
    String(String),
    /// A JSON integer.
    Integer(i64),
    /// A JSON boolean.
    Boolean(bool),
}

impl ClaimValue {
    /// Whether a claim value has the same JSON type and value.
    pub fn matches(&self, claim: &Value) -> bool {
        match (self, claim) {
            (Self::String(expected), Value::String(found)) => expected == found,
            (Self::Boolean(expected), Value::Bool(found)) => expected == found,
            (Self::Integer(expected), Value::Number(found)) => found.as_i64() == Some(*expected),
            _ => false,
        }
    }
}

impl<'de> Deserialize<'de> for ClaimValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Through `Value`, so numbers parse the same with and without
        // serde_json's `arbitrary_precision`.
        match Value::deserialize(deserializer)? {
            Value::String(s) => Ok(Self::String(s)),
            Value::Bool(b) => Ok(Self::Boolean(b)),
            Value::Number(n) => n.as_i64().map(Self::Integer).ok_or_else(|| {
                serde::de::Error::custom(format_args!("claim value {n} is not an integer"))
            }),
            other => Err(serde::de::Error::custom(format_args!(
                "claim values must be strings, integers or booleans, not {}",
                json_kind(&other)
            ))),
        }
    }
}

/// A Credential Format Identifier (OpenID4VP 1.0 Appendix B). The set is
/// open: unknown identifiers are kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CredentialFormat {
    /// `dc+sd-jwt`: IETF SD-JWT VC (Appendix B.3).
    DcSdJwt,
    /// `mso_mdoc`: ISO mdoc (Appendix B.2).
    MsoMdoc,
    /// Any other identifier, such as `jwt_vc_json` or the legacy
    /// `vc+sd-jwt`.
    Other(String),
}

impl CredentialFormat {
    /// The identifier as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::DcSdJwt => "dc+sd-jwt",
            Self::MsoMdoc => "mso_mdoc",
            Self::Other(other) => other,
        }
    }
}

impl From<&str> for CredentialFormat {
    fn from(identifier: &str) -> Self {
        match identifier {
            "dc+sd-jwt" => Self::DcSdJwt,
            "mso_mdoc" => Self::MsoMdoc,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for CredentialFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CredentialFormat {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CredentialFormat {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self::from(String::deserialize(deserializer)?.as_str()))
    }
}

/// The `type` of a Trusted Authorities Query (OpenID4VP 1.0 §6.1.1). The
/// set is open: unknown types are kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TrustedAuthorityType {
    /// `aki`: base64url KeyIdentifier of an X.509 AuthorityKeyIdentifier.
    Aki,
    /// `etsi_tl`: identifier of an ETSI TS 119 612 Trusted List.
    EtsiTl,
    /// `openid_federation`: an OpenID Federation Entity Identifier.
    OpenidFederation,
    /// Any other type.
    Other(String),
}

impl TrustedAuthorityType {
    /// The type as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Aki => "aki",
            Self::EtsiTl => "etsi_tl",
            Self::OpenidFederation => "openid_federation",
            Self::Other(other) => other,
        }
    }
}

impl From<&str> for TrustedAuthorityType {
    fn from(kind: &str) -> Self {
        match kind {
            "aki" => Self::Aki,
            "etsi_tl" => Self::EtsiTl,
            "openid_federation" => Self::OpenidFederation,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl Serialize for TrustedAuthorityType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TrustedAuthorityType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self::from(String::deserialize(deserializer)?.as_str()))
    }
}

fn default_true() -> bool {
    true
}

/// Why a DCQL query is invalid (OpenID4VP 1.0 §6 and Appendix B). Each
/// variant is one MUST rule; locations name the Credential Query by `id`
/// and entries by zero-based index.
#[derive(Debug, thiserror::Error)]
pub enum DcqlError {
    /// The input is not JSON of the shape §6 defines: a REQUIRED member
    /// (`credentials`, `id`, `format`, `meta`, `path`, `options`, `type`,
    /// `values`) is missing, a member has the wrong JSON type, a path
    /// component is not a string, null or non-negative integer, or a
    /// claim value is not a string, integer or boolean.
    #[error("the DCQL query is malformed: {0}")]
    Syntax(#[from] serde_json::Error),
    /// `credentials` is an empty array (§6).
    #[error("`credentials` must not be empty")]
    EmptyCredentials,
    /// `credential_sets` is an empty array (§6).
    #[error("`credential_sets` must not be empty when present")]
    EmptyCredentialSets,
    /// A Credential Query `id` is empty or has a character other than
    /// ASCII letters, digits, `_` and `-` (§6.1).
    #[error("credential query id {id:?} must be non-empty and use only A-Z, a-z, 0-9, `_` and `-`")]
    InvalidCredentialId {
        /// The offending id.
        id: String,
    },
    /// Two Credential Queries share an `id` (§6.1).
    #[error("credential query id `{id}` is used more than once")]
    DuplicateCredentialId {
        /// The repeated id.
        id: String,
    },
    /// `meta.vct_values` is missing from a `dc+sd-jwt` query (B.3.5).
    #[error("credential query `{credential}`: `meta.vct_values` is required for dc+sd-jwt")]
    MissingVctValues {
        /// The Credential Query id.
        credential: String,
    },
    /// `meta.vct_values` is an empty array (B.3.5).
    #[error("credential query `{credential}`: `meta.vct_values` must not be empty")]
    EmptyVctValues {
        /// The Credential Query id.
        credential: String,
    },
    /// `meta.doctype_value` is missing from an `mso_mdoc` query (B.2).
    #[error("credential query `{credential}`: `meta.doctype_value` is required for mso_mdoc")]
    MissingDoctypeValue {
        /// The Credential Query id.
        credential: String,
    },
    /// `trusted_authorities` is an empty array (§6.1).
    #[error(
        "credential query `{credential}`: `trusted_authorities` must not be empty when present"
    )]
    EmptyTrustedAuthorities {
        /// The Credential Query id.
        credential: String,
    },
    /// A Trusted Authorities Query has an empty `values` array (§6.1.1).
    #[error(
        "credential query `{credential}`: trusted_authorities[{index}].values must not be empty"
    )]
    EmptyTrustedAuthorityValues {
        /// The Credential Query id.
        credential: String,
        /// Index of the Trusted Authorities Query.
        index: usize,
    },
    /// `claims` is an empty array (§6.1).
    #[error("credential query `{credential}`: `claims` must not be empty when present")]
    EmptyClaims {
        /// The Credential Query id.
        credential: String,
    },
    /// A Claims Query has an empty `path` (§6.3, §7).
    #[error("credential query `{credential}`: claims[{index}].path must not be empty")]
    EmptyPath {
        /// The Credential Query id.
        credential: String,
        /// Index of the Claims Query.
        index: usize,
    },
    /// A Claims Query has an empty `values` array (§6.3).
    #[error(
        "credential query `{credential}`: claims[{index}].values must not be empty when present"
    )]
    EmptyValues {
        /// The Credential Query id.
        credential: String,
        /// Index of the Claims Query.
        index: usize,
    },
    /// A Claims Query `id` is empty or has a character other than ASCII
    /// letters, digits, `_` and `-` (§6.3).
    #[error(
        "credential query `{credential}`: claim id {id:?} must be non-empty and use only A-Z, a-z, 0-9, `_` and `-`"
    )]
    InvalidClaimId {
        /// The Credential Query id.
        credential: String,
        /// The offending claim id.
        id: String,
    },
    /// Two Claims Queries in one `claims` array share an `id` (§6.3).
    #[error("credential query `{credential}`: claim id `{id}` is used more than once")]
    DuplicateClaimId {
        /// The Credential Query id.
        credential: String,
        /// The repeated claim id.
        id: String,
    },
    /// `claim_sets` is present but `claims` is not (§6.4.1).
    #[error("credential query `{credential}`: `claim_sets` requires `claims`")]
    ClaimSetsWithoutClaims {
        /// The Credential Query id.
        credential: String,
    },
    /// `claim_sets` is an empty array (§6.1).
    #[error("credential query `{credential}`: `claim_sets` must not be empty when present")]
    EmptyClaimSets {
        /// The Credential Query id.
        credential: String,
    },
    /// An entry of `claim_sets` is an empty array: it names no combination
    /// of claims (§6.1, §6.4.1).
    #[error("credential query `{credential}`: claim_sets[{index}] must not be empty")]
    EmptyClaimSet {
        /// The Credential Query id.
        credential: String,
        /// Index of the claim set.
        index: usize,
    },
    /// `claim_sets` is present and a Claims Query has no `id` (§6.3).
    #[error(
        "credential query `{credential}`: claims[{index}].id is required when `claim_sets` is present"
    )]
    MissingClaimId {
        /// The Credential Query id.
        credential: String,
        /// Index of the Claims Query.
        index: usize,
    },
    /// `claim_sets` names a claim id that no Claims Query has (§6.1).
    #[error("credential query `{credential}`: `claim_sets` names unknown claim id `{id}`")]
    UnknownClaimId {
        /// The Credential Query id.
        credential: String,
        /// The unknown claim id.
        id: String,
    },
    /// A Credential Set Query has an empty `options` array (§6.2).
    #[error("credential_sets[{set}].options must not be empty")]
    EmptyOptions {
        /// Index of the Credential Set Query.
        set: usize,
    },
    /// An option of a Credential Set Query is an empty array (§6.2).
    #[error("credential_sets[{set}].options[{option}] must not be empty")]
    EmptyOption {
        /// Index of the Credential Set Query.
        set: usize,
        /// Index of the option.
        option: usize,
    },
    /// An option names a Credential Query id that `credentials` lacks
    /// (§6.2).
    #[error("credential_sets[{set}] names unknown credential query id `{id}`")]
    UnknownCredentialId {
        /// Index of the Credential Set Query.
        set: usize,
        /// The unknown id.
        id: String,
    },
}

/// Whether `id` is a valid Credential Query or Claims Query identifier.
fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl DcqlQuery {
    /// Checks the rules of OpenID4VP 1.0 §6 and Appendix B that serde does
    /// not, and returns the first one broken.
    pub fn validate(&self) -> Result<(), DcqlError> {
        if self.credentials.is_empty() {
            return Err(DcqlError::EmptyCredentials);
        }
        let mut ids = HashSet::new();
        for credential in &self.credentials {
            credential.validate()?;
            if !ids.insert(credential.id.as_str()) {
                return Err(DcqlError::DuplicateCredentialId {
                    id: credential.id.clone(),
                });
            }
        }
        let Some(sets) = &self.credential_sets else {
            return Ok(());
        };
        if sets.is_empty() {
            return Err(DcqlError::EmptyCredentialSets);
        }
        for (set, query) in sets.iter().enumerate() {
            if query.options.is_empty() {
                return Err(DcqlError::EmptyOptions { set });
            }
            for (option, ids_in_option) in query.options.iter().enumerate() {
                if ids_in_option.is_empty() {
                    return Err(DcqlError::EmptyOption { set, option });
                }
                if let Some(id) = ids_in_option.iter().find(|id| !ids.contains(id.as_str())) {
                    return Err(DcqlError::UnknownCredentialId {
                        set,
                        id: id.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Looks up a Credential Query by `id`.
    pub fn credential(&self, id: &str) -> Option<&CredentialQuery> {
        self.credentials.iter().find(|c| c.id == id)
    }
}

impl CredentialQuery {
    /// The part of a presented credential's `claims` this query asks for
    /// (§6.3), for a verifier that keeps no more than it requested when a
    /// wallet discloses more: each claims path's value, under the same
    /// names, as far as the path names object members (a path that goes
    /// on into an array keeps that whole array). A query that names no
    /// claims asks for all of them (§6.1), so all are kept.
    pub fn requested_claims(
        &self,
        claims: &serde_json::Map<String, Value>,
    ) -> serde_json::Map<String, Value> {
        let Some(queries) = &self.claims else {
            return claims.clone();
        };
        let mut kept = serde_json::Map::new();
        'paths: for query in queries {
            let names: Vec<&str> = query
                .path
                .0
                .iter()
                .map_while(|element| match element {
                    PathElement::Key(name) => Some(name.as_str()),
                    PathElement::Index(_) | PathElement::AllElements => None,
                })
                .collect();
            let Some((last, parents)) = names.split_last() else {
                continue;
            };
            let mut source = Some(claims);
            for name in parents {
                source = match source.and_then(|members| members.get(*name)) {
                    Some(Value::Object(inner)) => Some(inner),
                    _ => None,
                };
            }
            let Some(value) = source.and_then(|members| members.get(*last)) else {
                continue;
            };
            let mut target = &mut kept;
            for name in parents {
                let slot = target
                    .entry(*name)
                    .or_insert_with(|| Value::Object(serde_json::Map::new()));
                // The source holds an object here, and so does what was
                // kept of it (all of it, or members of it).
                let Value::Object(inner) = slot else {
                    continue 'paths;
                };
                target = inner;
            }
            // Over what a longer path kept: the whole, of which it is part.
            target.insert((*last).to_owned(), value.clone());
        }
        kept
    }

    /// Checks one Credential Query (§6.1, §6.1.1, §6.3, Appendix B).
    fn validate(&self) -> Result<(), DcqlError> {
        let credential = || self.id.clone();
        if !is_valid_id(&self.id) {
            return Err(DcqlError::InvalidCredentialId { id: credential() });
        }
        match self.format {
            CredentialFormat::DcSdJwt => match &self.meta.vct_values {
                None => {
                    return Err(DcqlError::MissingVctValues {
                        credential: credential(),
                    });
                }
                Some(v) if v.is_empty() => {
                    return Err(DcqlError::EmptyVctValues {
                        credential: credential(),
                    });
                }
                Some(_) => {}
            },
            CredentialFormat::MsoMdoc if self.meta.doctype_value.is_none() => {
                return Err(DcqlError::MissingDoctypeValue {
                    credential: credential(),
                });
            }
            _ => {}
        }
        if let Some(authorities) = &self.trusted_authorities {
            if authorities.is_empty() {
                return Err(DcqlError::EmptyTrustedAuthorities {
                    credential: credential(),
                });
            }
            if let Some(index) = authorities.iter().position(|a| a.values.is_empty()) {
                return Err(DcqlError::EmptyTrustedAuthorityValues {
                    credential: credential(),
                    index,
                });
            }
        }
        let claims = match (&self.claims, &self.claim_sets) {
            (None, None) => return Ok(()),
            (None, Some(_)) => {
                return Err(DcqlError::ClaimSetsWithoutClaims {
                    credential: credential(),
                });
            }
            (Some(claims), _) if claims.is_empty() => {
                return Err(DcqlError::EmptyClaims {
                    credential: credential(),
                });
            }
            (Some(claims), _) => claims,
        };
        let mut claim_ids = HashSet::new();
        for (index, claim) in claims.iter().enumerate() {
            if claim.path.is_empty() {
                return Err(DcqlError::EmptyPath {
                    credential: credential(),
                    index,
                });
            }
            if claim.values.as_ref().is_some_and(Vec::is_empty) {
                return Err(DcqlError::EmptyValues {
                    credential: credential(),
                    index,
                });
            }
            match &claim.id {
                Some(id) if !is_valid_id(id) => {
                    return Err(DcqlError::InvalidClaimId {
                        credential: credential(),
                        id: id.clone(),
                    });
                }
                Some(id) if !claim_ids.insert(id.as_str()) => {
                    return Err(DcqlError::DuplicateClaimId {
                        credential: credential(),
                        id: id.clone(),
                    });
                }
                Some(_) => {}
                None if self.claim_sets.is_some() => {
                    return Err(DcqlError::MissingClaimId {
                        credential: credential(),
                        index,
                    });
                }
                None => {}
            }
        }
        let Some(claim_sets) = &self.claim_sets else {
            return Ok(());
        };
        if claim_sets.is_empty() {
            return Err(DcqlError::EmptyClaimSets {
                credential: credential(),
            });
        }
        for (index, set) in claim_sets.iter().enumerate() {
            if set.is_empty() {
                return Err(DcqlError::EmptyClaimSet {
                    credential: credential(),
                    index,
                });
            }
            if let Some(id) = set.iter().find(|id| !claim_ids.contains(id.as_str())) {
                return Err(DcqlError::UnknownClaimId {
                    credential: credential(),
                    id: id.clone(),
                });
            }
        }
        Ok(())
    }

    /// Looks up a Claims Query by `id`.
    pub fn claim(&self, id: &str) -> Option<&ClaimsQuery> {
        self.claims
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find(|c| c.id.as_deref() == Some(id))
    }
}

/// A DCQL query that passed [`DcqlQuery::validate`]. Only validation
/// constructs one, so matching can rely on every rule of §6 holding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DcqlQuery", into = "DcqlQuery")]
pub struct ValidatedQuery(DcqlQuery);

impl ValidatedQuery {
    /// Parses and validates a DCQL query from JSON bytes: the entry point
    /// for untrusted input.
    pub fn from_json(json: impl AsRef<[u8]>) -> Result<Self, DcqlError> {
        Self::try_from(serde_json::from_slice::<DcqlQuery>(json.as_ref())?)
    }

    /// The validated query.
    pub fn query(&self) -> &DcqlQuery {
        &self.0
    }

    /// Gives the query back.
    pub fn into_query(self) -> DcqlQuery {
        self.0
    }
}

impl TryFrom<DcqlQuery> for ValidatedQuery {
    type Error = DcqlError;

    fn try_from(query: DcqlQuery) -> Result<Self, DcqlError> {
        query.validate()?;
        Ok(Self(query))
    }
}

impl From<ValidatedQuery> for DcqlQuery {
    fn from(validated: ValidatedQuery) -> Self {
        validated.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A valid one-credential query to break in each test.
    fn base() -> Value {
        json!({
            "credentials": [{
                "id": "pid",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": ["urn:eudi:pid:1"]},
                "claims": [
                    {"id": "a", "path": ["family_name"]},
                    {"id": "b", "path": ["address", "street_address"], "values": ["42"]}
                ],
                "claim_sets": [["a", "b"], ["a"]]
            }]
        })
    }

    fn check(query: Value) -> Result<ValidatedQuery, DcqlError> {
        ValidatedQuery::from_json(query.to_string())
    }

    fn with(edit: impl FnOnce(&mut Value)) -> DcqlError {
        let mut query = base();
        edit(&mut query);
        check(query).unwrap_err()
    }

    #[test]
    fn a_verifier_keeps_only_the_claims_it_asked_for() {
        let presented = json!({
            "family_name": "Lindqvist",
            "personal_identity_number": "199403172381",
            "address": {"street_address": "42", "locality": "Malmö"},
            "nationalities": ["SE", "FI"],
            "degrees": [{"title": "Civilingenjör"}]
        });
        let presented = presented.as_object().unwrap();
        let query = |claims: Value| -> CredentialQuery {
            serde_json::from_value(json!({
                "id": "pid", "format": "dc+sd-jwt",
                "meta": {"vct_values": ["urn:eudi:pid:1"]}, "claims": claims
            }))
            .unwrap()
        };
        // Two of them, one nested; the number the wallet added is dropped,
        // and so is the sibling of the nested member.
        let kept = query(json!([
            {"path": ["family_name"]},
            {"path": ["address", "street_address"]},
            {"path": ["birthdate"]}
        ]))
        .requested_claims(presented);
        assert_eq!(
            Value::Object(kept),
            json!({"family_name": "Lindqvist", "address": {"street_address": "42"}})
        );
        // A path into an array keeps the array; the whole object and one of
        // its members, in either order, keep the whole object.
        for paths in [
            json!([{"path": ["degrees", null, "title"]}, {"path": ["address"]}, {"path": ["address", "locality"]}]),
            json!([{"path": ["address", "locality"]}, {"path": ["address"]}, {"path": ["degrees", 0]}]),
        ] {
            assert_eq!(
                Value::Object(query(paths).requested_claims(presented)),
                json!({
                    "degrees": [{"title": "Civilingenjör"}],
                    "address": {"street_address": "42", "locality": "Malmö"}
                })
            );
        }
        // No claims named: the query asks for all of them.
        let everything: CredentialQuery = serde_json::from_value(json!({
            "id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:eudi:pid:1"]}
        }))
        .unwrap();
        assert_eq!(&everything.requested_claims(presented), presented);
    }

    #[test]
    fn base_query_is_valid() {
        check(base()).unwrap();
    }

    #[test]
    fn defaults_follow_the_spec() {
        let query = check(base()).unwrap().into_query();
        let credential = &query.credentials[0];
        assert!(!credential.multiple);
        assert!(credential.require_cryptographic_holder_binding);
        let sets: Vec<CredentialSetQuery> =
            serde_json::from_value(json!([{"options": [["pid"]]}])).unwrap();
        assert!(sets[0].required);
    }

    #[test]
    fn unknown_properties_are_ignored_and_unknown_meta_is_kept() {
        let mut query = base();
        query["future"] = json!(1);
        query["credentials"][0]["future"] = json!(true);
        query["credentials"][0]["meta"]["other_param"] = json!(["x", 7]);
        let query = check(query).unwrap().into_query();
        assert_eq!(
            query.credentials[0].meta.other["other_param"],
            json!(["x", 7])
        );
    }

    #[test]
    fn unknown_formats_are_kept_as_data() {
        let query = check(json!({"credentials": [{
            "id": "vc", "format": "jwt_vc_json", "meta": {"type_values": [["VerifiableCredential"]]}
        }]}))
        .unwrap()
        .into_query();
        assert_eq!(
            query.credentials[0].format,
            CredentialFormat::Other("jwt_vc_json".into())
        );
        assert_eq!(
            serde_json::to_value(&query).unwrap()["credentials"][0]["format"],
            "jwt_vc_json"
        );
    }

    #[test]
    fn serialization_round_trips() {
        let query = check(base()).unwrap();
        let again: ValidatedQuery =
            serde_json::from_value(serde_json::to_value(&query).unwrap()).unwrap();
        assert_eq!(again, query);
    }

    #[test]
    fn deserializing_a_validated_query_validates() {
        let err = serde_json::from_value::<ValidatedQuery>(json!({"credentials": []})).unwrap_err();
        assert!(err.to_string().contains("must not be empty"), "{err}");
    }

    #[test]
    fn claim_values_are_strings_integers_or_booleans() {
        let mut query = base();
        query["credentials"][0]["claims"][1]["values"] = json!(["x", 7, -2, true]);
        let query = check(query).unwrap().into_query();
        assert_eq!(
            query.credentials[0].claims.as_ref().unwrap()[1].values,
            Some(vec![
                ClaimValue::String("x".into()),
                ClaimValue::Integer(7),
                ClaimValue::Integer(-2),
                ClaimValue::Boolean(true)
            ])
        );
        for bad in [json!([1.5]), json!([null]), json!([{}]), json!([["x"]])] {
            let err = with(|q| q["credentials"][0]["claims"][1]["values"] = bad.clone());
            assert!(matches!(err, DcqlError::Syntax(_)), "{bad}: {err}");
        }
    }

    #[test]
    fn claim_value_matching_is_by_type_and_value() {
        assert!(ClaimValue::Integer(1).matches(&json!(1)));
        assert!(!ClaimValue::Integer(1).matches(&json!("1")));
        assert!(!ClaimValue::Integer(1).matches(&json!(1.5)));
        assert!(!ClaimValue::String("true".into()).matches(&json!(true)));
        assert!(ClaimValue::Boolean(true).matches(&json!(true)));
    }

    #[test]
    fn syntax() {
        // `meta` is REQUIRED in 1.0 final (§6.1).
        let err = with(|q| {
            q["credentials"][0].as_object_mut().unwrap().remove("meta");
        });
        assert!(err.to_string().contains("missing field `meta`"), "{err}");
        assert!(matches!(err, DcqlError::Syntax(_)), "{err}");
        assert!(matches!(
            check(json!({})).unwrap_err(),
            DcqlError::Syntax(_)
        ));
    }

    #[test]
    fn empty_credentials() {
        assert!(matches!(
            with(|q| q["credentials"] = json!([])),
            DcqlError::EmptyCredentials
        ));
    }

    #[test]
    fn empty_credential_sets() {
        assert!(matches!(
            with(|q| q["credential_sets"] = json!([])),
            DcqlError::EmptyCredentialSets
        ));
    }

    #[test]
    fn invalid_credential_id() {
        for bad in ["", "a b", "ä", "a.b", "a/b"] {
            let err = with(|q| q["credentials"][0]["id"] = json!(bad));
            assert!(
                matches!(&err, DcqlError::InvalidCredentialId { id } if id == bad),
                "{bad}"
            );
        }
        check(json!({"credentials": [{"id": "A-z_09", "format": "x", "meta": {}}]})).unwrap();
    }

    #[test]
    fn duplicate_credential_id() {
        let err = with(|q| {
            let copy = q["credentials"][0].clone();
            q["credentials"].as_array_mut().unwrap().push(copy);
        });
        assert!(matches!(err, DcqlError::DuplicateCredentialId { id } if id == "pid"));
    }

    #[test]
    fn missing_vct_values() {
        let err = with(|q| q["credentials"][0]["meta"] = json!({}));
        assert!(matches!(err, DcqlError::MissingVctValues { credential } if credential == "pid"));
    }

    #[test]
    fn empty_vct_values() {
        let err = with(|q| q["credentials"][0]["meta"]["vct_values"] = json!([]));
        assert!(matches!(err, DcqlError::EmptyVctValues { .. }));
    }

    #[test]
    fn missing_doctype_value() {
        let err = check(json!({"credentials": [{"id": "m", "format": "mso_mdoc", "meta": {}}]}))
            .unwrap_err();
        assert!(matches!(err, DcqlError::MissingDoctypeValue { credential } if credential == "m"));
    }

    #[test]
    fn empty_trusted_authorities() {
        let err = with(|q| q["credentials"][0]["trusted_authorities"] = json!([]));
        assert!(matches!(err, DcqlError::EmptyTrustedAuthorities { .. }));
    }

    #[test]
    fn empty_trusted_authority_values() {
        let err = with(|q| {
            q["credentials"][0]["trusted_authorities"] = json!([
                {"type": "aki", "values": ["s9tIpPmhxdiuNkHMEWNpYim8S8Y"]},
                {"type": "etsi_tl", "values": []}
            ])
        });
        assert!(matches!(
            err,
            DcqlError::EmptyTrustedAuthorityValues { index: 1, .. }
        ));
    }

    #[test]
    fn empty_claims() {
        let err = with(|q| {
            q["credentials"][0]["claims"] = json!([]);
            q["credentials"][0]
                .as_object_mut()
                .unwrap()
                .remove("claim_sets");
        });
        assert!(matches!(err, DcqlError::EmptyClaims { .. }));
    }

    #[test]
    fn empty_path() {
        let err = with(|q| q["credentials"][0]["claims"][1]["path"] = json!([]));
        assert!(matches!(err, DcqlError::EmptyPath { index: 1, .. }));
    }

    #[test]
    fn empty_values() {
        let err = with(|q| q["credentials"][0]["claims"][1]["values"] = json!([]));
        assert!(matches!(err, DcqlError::EmptyValues { index: 1, .. }));
    }

    #[test]
    fn invalid_claim_id() {
        let err = with(|q| q["credentials"][0]["claims"][0]["id"] = json!(""));
        assert!(matches!(err, DcqlError::InvalidClaimId { id, .. } if id.is_empty()));
    }

    #[test]
    fn duplicate_claim_id() {
        let err = with(|q| q["credentials"][0]["claims"][1]["id"] = json!("a"));
        assert!(matches!(err, DcqlError::DuplicateClaimId { id, .. } if id == "a"));
    }

    #[test]
    fn claim_sets_without_claims() {
        let err = with(|q| {
            q["credentials"][0]
                .as_object_mut()
                .unwrap()
                .remove("claims");
        });
        assert!(matches!(err, DcqlError::ClaimSetsWithoutClaims { .. }));
    }

    #[test]
    fn empty_claim_sets() {
        let err = with(|q| q["credentials"][0]["claim_sets"] = json!([]));
        assert!(matches!(err, DcqlError::EmptyClaimSets { .. }));
    }

    #[test]
    fn empty_claim_set() {
        let err = with(|q| q["credentials"][0]["claim_sets"] = json!([["a"], []]));
        assert!(matches!(err, DcqlError::EmptyClaimSet { index: 1, .. }));
    }

    #[test]
    fn missing_claim_id() {
        let err = with(|q| {
            q["credentials"][0]["claims"][1]
                .as_object_mut()
                .unwrap()
                .remove("id");
        });
        assert!(matches!(err, DcqlError::MissingClaimId { index: 1, .. }));
    }

    #[test]
    fn claim_ids_are_optional_without_claim_sets() {
        let mut query = base();
        let credential = query["credentials"][0].as_object_mut().unwrap();
        credential.remove("claim_sets");
        credential["claims"][0]
            .as_object_mut()
            .unwrap()
            .remove("id");
        check(query).unwrap();
    }

    #[test]
    fn unknown_claim_id() {
        let err = with(|q| q["credentials"][0]["claim_sets"] = json!([["a", "z"]]));
        assert!(matches!(err, DcqlError::UnknownClaimId { id, .. } if id == "z"));
    }

    #[test]
    fn empty_options() {
        let err = with(|q| q["credential_sets"] = json!([{"options": []}]));
        assert!(matches!(err, DcqlError::EmptyOptions { set: 0 }));
    }

    #[test]
    fn empty_option() {
        let err = with(|q| q["credential_sets"] = json!([{"options": [["pid"], []]}]));
        assert!(matches!(err, DcqlError::EmptyOption { set: 0, option: 1 }));
    }

    #[test]
    fn unknown_credential_id() {
        let err = with(|q| {
            q["credential_sets"] = json!([{"options": [["pid"]]}, {"options": [["nope"]]}])
        });
        assert!(matches!(err, DcqlError::UnknownCredentialId { set: 1, id } if id == "nope"));
    }

    #[test]
    fn lookups_by_id() {
        let query = check(base()).unwrap().into_query();
        let credential = query.credential("pid").unwrap();
        assert_eq!(
            credential.claim("b").unwrap().path.to_string(),
            r#"["address","street_address"]"#
        );
        assert!(credential.claim("z").is_none());
        assert!(query.credential("nope").is_none());
    }

    #[test]
    fn errors_name_the_location() {
        let err = with(|q| q["credentials"][0]["claims"][1]["path"] = json!([]));
        assert_eq!(
            err.to_string(),
            "credential query `pid`: claims[1].path must not be empty"
        );
    }
}
