//! SD-JWT VC: draft-ietf-oauth-sd-jwt-vc (§2 media type, §3.2 JOSE header,
//! §3.2.2 registered claims, §6 Type Metadata).
//!
//! An SD-JWT VC is an SD-JWT whose header says `typ: dc+sd-jwt` and whose
//! payload carries `vct` (the credential type) and usually `iss`, `iat`,
//! `exp`, `cnf` (holder binding) and `status` (revocation). [`issue`]
//! validates the claims against the type's JSON Schema and conceals them as
//! the type's `sd` policy says; [`verify`] runs RFC 9901 verification and
//! then the SD-JWT VC checks. We emit `dc+sd-jwt` and accept the legacy
//! `vc+sd-jwt` on input (before draft -06 that was the media type).

pub mod metadata;
pub mod rules;
pub mod same_person;
pub mod schema;

use serde_json::{Map, Value};

use crate::jose::{Algorithm, Header, Jwk, VerifyingKey};
use crate::sd_jwt::{self, IssueOptions, SdJwt, SdJwtError, Verified, VerifyOptions};
use crate::status_list::{StatusClaim, StatusListReference};
use metadata::{ClaimPathElement, CredentialType, SdPolicy};
use schema::SchemaViolations;

/// The `typ` we emit (§3.2.1).
pub const TYP: &str = "dc+sd-jwt";
/// The `typ` of drafts before -06, accepted on input.
pub const LEGACY_TYP: &str = "vc+sd-jwt";

/// Registered claims the issuer sets in the clear (§3.2.2.2): they are never
/// selectively disclosable, and a type's claims may not use their names.
pub const CLEAR_CLAIMS: [&str; 8] = [
    "iss",
    "iat",
    "nbf",
    "exp",
    "cnf",
    "vct",
    "vct#integrity",
    "status",
];

/// A credential type identifier (§3.2.2.1.1): a non-empty string, in
/// practice a URL that resolves to Type Metadata.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Vct(String);

impl Vct {
    /// The identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Vct {
    type Error = VcError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        if value.trim().is_empty() {
            return Err(VcError::MissingClaim("vct"));
        }
        Ok(Self(value))
    }
}

impl std::fmt::Display for Vct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why an SD-JWT VC could not be issued or was refused.
#[derive(Debug, thiserror::Error)]
pub enum VcError {
    /// The claims do not satisfy the type's JSON Schema; every violation is listed.
    #[error("claims do not match the credential type's schema: {0}")]
    Schema(SchemaViolations),
    /// The claims use a registered claim name that the issuer sets itself.
    #[error("claim `{0}` is set by the issuer and may not be supplied")]
    ReservedClaim(String),
    /// A required registered claim is absent or empty.
    #[error("missing required claim `{0}`")]
    MissingClaim(&'static str),
    /// The header's `typ` is neither `dc+sd-jwt` nor `vc+sd-jwt`.
    #[error("typ is {0:?}, expected \"dc+sd-jwt\"")]
    InvalidTyp(Option<String>),
    /// The credential's `vct` is not the type the caller expected.
    #[error("vct is `{found}`, expected `{expected}`")]
    VctMismatch {
        /// The expected type.
        expected: String,
        /// The credential's type.
        found: String,
    },
    /// A registered claim that must be in the clear was concealed, or has the wrong shape.
    #[error("registered claim `{0}` is malformed or selectively disclosable")]
    MalformedClaim(String),
    /// A claim the type marks `sd: always` was issued in the clear.
    #[error("claim {0} must be selectively disclosable but was issued in the clear")]
    NotConcealed(String),
    /// The SD-JWT layer failed (issuance).
    #[error(transparent)]
    Issue(#[from] sd_jwt::IssueError),
    /// The SD-JWT layer refused the credential (verification).
    #[error(transparent)]
    SdJwt(#[from] SdJwtError),
}

impl VcError {
    /// A stable snake_case code; SD-JWT failures keep their own codes.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Schema(_) => "schema_violation",
            Self::ReservedClaim(_) => "reserved_claim",
            Self::MissingClaim(_) => "missing_claim",
            Self::InvalidTyp(_) => "invalid_typ",
            Self::VctMismatch { .. } => "vct_mismatch",
            Self::MalformedClaim(_) => "malformed_claim",
            Self::NotConcealed(_) => "not_concealed",
            Self::Issue(e) => e.code(),
            Self::SdJwt(e) => e.code(),
        }
    }
}

/// What the issuer puts around the subject's claims.
#[derive(Debug, Clone)]
pub struct IssueParams {
    /// `iss`: the issuer's identifier (its credential issuer URL).
    pub issuer: String,
    /// `iat`: now, in seconds since the epoch.
    pub issued_at: i64,
    /// `exp`, if the credential expires.
    pub expires_at: Option<i64>,
    /// `nbf`, if the credential is not valid at once.
    pub not_before: Option<i64>,
    /// `cnf.jwk`: the holder's public key.
    pub holder_key: Option<Jwk>,
    /// `status.status_list`: the credential's entry in a Token Status List.
    pub status: Option<StatusListReference>,
    /// `kid` header: which issuer key signed.
    pub kid: Option<String>,
    /// `x5c` header: the issuer's certificate chain.
    pub x5c: Option<Vec<String>>,
    /// At most this many decoy digests per `_sd` array.
    pub max_decoys: u8,
}

impl IssueParams {
    /// Parameters with the issuer and time set, everything else empty.
    pub fn new(issuer: impl Into<String>, issued_at: i64) -> Self {
        Self {
            issuer: issuer.into(),
            issued_at,
            expires_at: None,
            not_before: None,
            holder_key: None,
            status: None,
            kid: None,
            x5c: None,
            max_decoys: 2,
        }
    }
}

/// Issues an SD-JWT VC of `credential_type` over the subject's `claims`.
///
/// The claims are checked against the type's JSON Schema (all violations
/// are reported at once). Every claim is concealed except where the type
/// metadata says `sd: never`; nested claims are concealed too where the
/// metadata names them with `sd: always` or `allowed`.
pub fn issue(
    credential_type: &CredentialType,
    claims: Map<String, Value>,
    params: &IssueParams,
    key: &(impl crate::jose::Signer + ?Sized),
) -> Result<SdJwt, VcError> {
    if let Some(name) = claims
        .keys()
        .find(|name| CLEAR_CLAIMS.contains(&name.as_str()))
    {
        return Err(VcError::ReservedClaim(name.clone()));
    }
    let subject = Value::Object(claims);
    credential_type
        .schema
        .validate(&subject)
        .map_err(VcError::Schema)?;
    let disclosable = disclosable_pointers(credential_type, &subject);
    let Value::Object(mut payload) = subject else {
        return Err(VcError::MalformedClaim("claims".into()));
    };
    payload.insert("vct".into(), credential_type.vct().into());
    payload.insert("iss".into(), params.issuer.clone().into());
    payload.insert("iat".into(), params.issued_at.into());
    if let Some(exp) = params.expires_at {
        payload.insert("exp".into(), exp.into());
    }
    if let Some(nbf) = params.not_before {
        payload.insert("nbf".into(), nbf.into());
    }
    if let Some(jwk) = &params.holder_key {
        payload.insert("cnf".into(), serde_json::json!({ "jwk": jwk }));
    }
    if let Some(status) = &params.status {
        let claim = StatusClaim::from(status.clone());
        payload.insert(
            "status".into(),
            serde_json::to_value(claim).map_err(|_| VcError::MalformedClaim("status".into()))?,
        );
    }
    let mut header = Header::new(Algorithm::ES256).typ(TYP);
    header.kid = params.kid.clone();
    header.x5c = params.x5c.clone();
    let options = IssueOptions {
        disclosable,
        max_decoys: params.max_decoys,
    };
    Ok(sd_jwt::issue(payload, &options, header, key)?)
}

/// JSON pointers of the claims to conceal: every top-level claim whose
/// policy is not `never`, and each nested path the metadata marks
/// `always` or `allowed` that exists in `subject`.
fn disclosable_pointers(
    credential_type: &CredentialType,
    subject: &Value,
) -> std::collections::BTreeSet<String> {
    let metadata = &credential_type.metadata;
    let mut pointers = std::collections::BTreeSet::new();
    if let Value::Object(claims) = subject {
        for name in claims.keys() {
            if metadata.sd_policy(&[ClaimPathElement::Key(name.clone())]) != SdPolicy::Never {
                pointers.insert(crate::sd_jwt::pointer_push("", name));
            }
        }
    }
    for claim in &metadata.claims {
        if claim.sd == SdPolicy::Never || claim.path.len() < 2 {
            continue;
        }
        for pointer in expand(&claim.path, subject, String::new()) {
            pointers.insert(pointer);
        }
    }
    pointers
}

/// Pointers to every node that a claims path selects in `value`.
/// [`expand`] over the payload object itself, without copying it into a
/// [`Value`]: the payload is an object, so only a key selects in it.
fn expand_payload(path: &[ClaimPathElement], payload: &Map<String, Value>) -> Vec<String> {
    match path.split_first() {
        None => vec![String::new()],
        Some((ClaimPathElement::Key(name), rest)) => match payload.get(name) {
            Some(child) => expand(rest, child, crate::sd_jwt::pointer_push("", name)),
            None => Vec::new(),
        },
        Some(_) => Vec::new(),
    }
}

fn expand(path: &[ClaimPathElement], value: &Value, prefix: String) -> Vec<String> {
    let Some((head, rest)) = path.split_first() else {
        return vec![prefix];
    };
    match (head, value) {
        (ClaimPathElement::Key(name), Value::Object(map)) => match map.get(name) {
            Some(child) => expand(rest, child, crate::sd_jwt::pointer_push(&prefix, name)),
            None => Vec::new(),
        },
        (ClaimPathElement::Index(index), Value::Array(items)) => usize::try_from(*index)
            .ok()
            .and_then(|i| {
                items
                    .get(i)
                    .map(|child| expand(rest, child, format!("{prefix}/{i}")))
            })
            .unwrap_or_default(),
        (ClaimPathElement::AllElements, Value::Array(items)) => items
            .iter()
            .enumerate()
            .flat_map(|(i, child)| expand(rest, child, format!("{prefix}/{i}")))
            .collect(),
        _ => Vec::new(),
    }
}

/// A verified SD-JWT VC.
#[derive(Debug, Clone)]
pub struct VerifiedCredential {
    /// The credential type.
    pub vct: Vct,
    /// The issuer (`iss`), when the credential names one; the draft makes
    /// it optional, as an `x5c` chain can identify the issuer instead.
    pub issuer: Option<String>,
    /// The `status` claim, when the credential can be revoked.
    pub status: Option<StatusClaim>,
    /// The RFC 9901 result: claims, holder key, key binding.
    pub sd_jwt: Verified,
}

impl VerifiedCredential {
    /// The subject's claims: the disclosed claims without the registered ones.
    pub fn subject_claims(&self) -> Map<String, Value> {
        let mut claims = self.sd_jwt.claims.clone();
        claims.retain(|name, _| !CLEAR_CLAIMS.contains(&name.as_str()));
        claims
    }
}

/// Verifies an SD-JWT VC: RFC 9901 verification with `issuer_key`, then
/// `typ`, `vct` (required) and `iss` (optional, a non-empty string when
/// present), that the registered claims were in the clear,
/// and, if `credential_type` is given, that `vct` names it and that claims
/// marked `sd: always` were concealed.
pub fn verify(
    sd_jwt: SdJwt,
    issuer_key: &VerifyingKey,
    options: &VerifyOptions,
    credential_type: Option<&CredentialType>,
) -> Result<VerifiedCredential, VcError> {
    let typ = sd_jwt.header().typ.as_deref();
    if !matches!(typ, Some(TYP | LEGACY_TYP)) {
        return Err(VcError::InvalidTyp(typ.map(str::to_owned)));
    }
    let payload = sd_jwt.payload();
    let vct = match payload.get("vct") {
        Some(Value::String(vct)) => Vct::try_from(vct.clone())?,
        Some(_) => return Err(VcError::MalformedClaim("vct".into())),
        None => return Err(VcError::MissingClaim("vct")),
    };
    let issuer = match payload.get("iss") {
        None => None,
        Some(Value::String(iss)) if !iss.is_empty() => Some(iss.clone()),
        Some(_) => return Err(VcError::MalformedClaim("iss".into())),
    };
    // Read in place: `from_value` would first copy the claim.
    let status = match payload.get("status") {
        Some(status) => {
            Some(StatusClaim::read(status).map_err(|_| VcError::MalformedClaim("status".into()))?)
        }
        None => None,
    };
    // Claims the type marks `sd: always` that sit in the signed payload in the clear.
    let in_clear = credential_type.and_then(|credential_type| {
        credential_type
            .metadata
            .claims
            .iter()
            .filter(|claim| claim.sd == SdPolicy::Always)
            .find_map(|claim| expand_payload(&claim.path, payload).into_iter().next())
    });
    let verified = sd_jwt.verify(issuer_key, options)?;
    // A registered claim must come from the signed payload itself, not from a disclosure.
    if let Some(pointer) = verified.disclosed.iter().find(|pointer| {
        pointer
            .strip_prefix('/')
            .is_some_and(|name| CLEAR_CLAIMS.contains(&name))
    }) {
        return Err(VcError::MalformedClaim(pointer[1..].to_owned()));
    }
    if let Some(credential_type) = credential_type {
        if credential_type.vct() != vct.as_str() {
            return Err(VcError::VctMismatch {
                expected: credential_type.vct().to_owned(),
                found: vct.0,
            });
        }
        if let Some(pointer) = in_clear {
            return Err(VcError::NotConcealed(pointer));
        }
    }
    Ok(VerifiedCredential {
        vct,
        issuer,
        status,
        sd_jwt: verified,
    })
}
