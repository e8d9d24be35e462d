//! Why an SD-JWT was refused, one variant per rule of RFC 9901 §7.

use crate::jose::JoseError;

/// A parse or verification failure of an SD-JWT or SD-JWT+KB (RFC 9901 §7.1,
/// §7.3). Each variant has a stable [`code`](Self::code) for the wire and
/// the command line.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SdJwtError {
    /// The serialization is neither `<JWT>~<D>~...~[<KB-JWT>]` nor the JSON
    /// serialization of §8.
    #[error("malformed SD-JWT: {0}")]
    Malformed(String),
    /// A disclosure is not base64url of a JSON array `[salt, name, value]` or
    /// `[salt, value]` with a string salt (§4.2).
    #[error("malformed disclosure #{index}: {reason}")]
    MalformedDisclosure {
        /// Position of the disclosure in the presentation.
        index: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The Issuer-signed JWT is not a usable JWS (bad header, `alg` outside the profile, `crit`...).
    #[error("issuer-signed JWT: {0}")]
    Jws(JoseError),
    /// The issuer's signature does not verify (§7.1 step 2).
    #[error("issuer signature does not verify")]
    InvalidSignature,
    /// `_sd_alg` names a hash algorithm we do not implement (§7.1 step 2).
    #[error("unsupported _sd_alg `{0}`")]
    UnsupportedSdAlg(String),
    /// An `_sd` member is not an array of strings, or a `...` element is not a string (§4.2.4).
    #[error("malformed digest container at {0}")]
    MalformedDigests(String),
    /// The same digest occurs twice in the payload or the disclosures (§7.1 step 4).
    #[error("digest {0} occurs more than once")]
    DuplicateDigest(String),
    /// The same disclosure was sent twice (§7.1 step 3).
    #[error("disclosure #{0} is sent more than once")]
    DuplicateDisclosure(usize),
    /// A disclosure names the claim `_sd` or `...` (§7.1 step 3.3.2.2).
    #[error("disclosure names the forbidden claim `{0}`")]
    ForbiddenClaimName(String),
    /// A disclosed claim name already exists at its level (§7.1 step 3.3.2.3).
    #[error("claim `{0}` is disclosed where it already exists")]
    ClaimNameCollision(String),
    /// An object digest resolves to an array-element disclosure, or the other
    /// way round (§7.1 steps 3.3.2.1 and 3.3.3.1).
    #[error("disclosure #{0} has the wrong kind for where its digest sits")]
    DisclosureKindMismatch(usize),
    /// A disclosure's digest matches no digest in the payload or in other
    /// disclosures (§7.1 step 5): it was altered, or belongs elsewhere.
    #[error("disclosure #{0} does not match any digest in the payload (unreferenced disclosure)")]
    UnreferencedDisclosure(usize),
    /// Disclosures nest deeper than we follow.
    #[error("disclosures nest deeper than {0} levels")]
    NestingTooDeep(usize),
    /// A time claim (`exp`, `nbf`, `iat`) is not a number.
    #[error("claim `{0}` is not a NumericDate")]
    MalformedTimeClaim(&'static str),
    /// `exp` has passed (§7.1 step 6).
    #[error("credential expired at {exp}")]
    Expired {
        /// The `exp` claim.
        exp: i64,
    },
    /// `nbf` has not been reached (§7.1 step 6).
    #[error("credential not valid before {nbf}")]
    NotYetValid {
        /// The `nbf` claim.
        nbf: i64,
    },
    /// `iat` lies in the future beyond the allowed skew.
    #[error("credential issued in the future ({iat})")]
    IssuedInFuture {
        /// The `iat` claim.
        iat: i64,
    },
    /// Key binding is required but no KB-JWT was presented (§7.3 step 2).
    #[error("key binding required but no KB-JWT was presented")]
    KbMissing,
    /// The KB-JWT is not a usable JWS or lacks `iat`, `aud`, `nonce` or `sd_hash` (§4.3).
    #[error("malformed KB-JWT: {0}")]
    KbMalformed(String),
    /// The KB-JWT's `typ` is not `kb+jwt` (§7.3 step 5.2).
    #[error("KB-JWT typ is {0:?}, expected \"kb+jwt\"")]
    KbInvalidTyp(Option<String>),
    /// The credential has no `cnf.jwk` to check a KB-JWT against (§7.3 step 3).
    #[error("credential has no cnf.jwk holder key")]
    KbNoHolderKey,
    /// The KB-JWT signature does not verify with `cnf.jwk` (§7.3 step 5.3).
    #[error("KB-JWT signature does not verify with the holder key")]
    KbInvalidSignature,
    /// The KB-JWT `nonce` is not the one expected (§7.3 step 5.4).
    #[error("KB-JWT nonce does not match")]
    KbNonceMismatch,
    /// The KB-JWT `aud` is not the expected verifier (§7.3 step 5.4).
    #[error("KB-JWT aud does not match")]
    KbAudMismatch,
    /// The KB-JWT `sd_hash` does not cover the presented SD-JWT (§7.3 step 5.5).
    #[error("KB-JWT sd_hash does not match the presentation")]
    KbSdHashMismatch,
    /// The KB-JWT `iat` is older than the freshness window (§7.3 step 5.4).
    #[error("KB-JWT is stale (iat {iat})")]
    KbStale {
        /// The KB-JWT's `iat`.
        iat: i64,
    },
    /// The KB-JWT `iat` lies in the future beyond the allowed skew.
    #[error("KB-JWT issued in the future ({iat})")]
    KbIatInFuture {
        /// The KB-JWT's `iat`.
        iat: i64,
    },
}

impl SdJwtError {
    /// A stable snake_case code for scripts, logs and error objects.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed_sd_jwt",
            Self::MalformedDisclosure { .. } => "malformed_disclosure",
            Self::Jws(JoseError::UnsupportedAlg(_)) => "unsupported_alg",
            Self::Jws(JoseError::UnknownCrit(_)) => "unknown_crit",
            Self::Jws(_) => "malformed_jws",
            Self::InvalidSignature => "invalid_signature",
            Self::UnsupportedSdAlg(_) => "unsupported_sd_alg",
            Self::MalformedDigests(_) => "malformed_digests",
            Self::DuplicateDigest(_) => "duplicate_digest",
            Self::DuplicateDisclosure(_) => "duplicate_disclosure",
            Self::ForbiddenClaimName(_) => "forbidden_claim_name",
            Self::ClaimNameCollision(_) => "claim_name_collision",
            Self::DisclosureKindMismatch(_) => "disclosure_kind_mismatch",
            Self::UnreferencedDisclosure(_) => "digest_mismatch",
            Self::NestingTooDeep(_) => "nesting_too_deep",
            Self::MalformedTimeClaim(_) => "malformed_time_claim",
            Self::Expired { .. } => "expired",
            Self::NotYetValid { .. } => "not_yet_valid",
            Self::IssuedInFuture { .. } => "issued_in_future",
            Self::KbMissing => "kb_missing",
            Self::KbMalformed(_) => "kb_malformed",
            Self::KbInvalidTyp(_) => "kb_invalid_typ",
            Self::KbNoHolderKey => "kb_no_holder_key",
            Self::KbInvalidSignature => "kb_invalid_signature",
            Self::KbNonceMismatch => "kb_nonce_mismatch",
            Self::KbAudMismatch => "kb_aud_mismatch",
            Self::KbSdHashMismatch => "kb_sd_hash_mismatch",
            Self::KbStale { .. } => "kb_stale",
            Self::KbIatInFuture { .. } => "kb_iat_in_future",
        }
    }
}

/// Why an SD-JWT could not be issued.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IssueError {
    /// A path marked selectively disclosable does not exist in the claims.
    #[error("no claim at {0}")]
    UnknownPath(String),
    /// The path is the root or otherwise cannot be concealed.
    #[error("{0} cannot be made selectively disclosable")]
    NotDisclosable(String),
    /// The claims use a name that SD-JWT reserves (`_sd`, `...`, `_sd_alg`).
    #[error("claim name `{0}` is reserved by SD-JWT")]
    ReservedClaimName(String),
    /// Signing failed.
    #[error("signing: {0}")]
    Jose(#[from] JoseError),
}

/// Why a presentation could not be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PresentError {
    /// A requested path does not exist in the credential's claims.
    #[error("no claim at {0}")]
    UnknownPath(String),
    /// Key binding was asked for but the credential has no `cnf.jwk`.
    #[error("credential has no cnf.jwk holder key to bind to")]
    NoHolderKey,
    /// The given holder key is not the one in `cnf.jwk`.
    #[error("holder key does not match the credential's cnf.jwk")]
    HolderKeyMismatch,
    /// Signing the KB-JWT failed.
    #[error("signing: {0}")]
    Jose(#[from] JoseError),
}

impl IssueError {
    /// A stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownPath(_) => "unknown_path",
            Self::NotDisclosable(_) => "not_disclosable",
            Self::ReservedClaimName(_) => "reserved_claim_name",
            Self::Jose(_) => "signing_failed",
        }
    }
}

impl PresentError {
    /// A stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownPath(_) => "unknown_path",
            Self::NoHolderKey => "no_holder_key",
            Self::HolderKeyMismatch => "holder_key_mismatch",
            Self::Jose(_) => "signing_failed",
        }
    }
}
