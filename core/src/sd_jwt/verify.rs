//! Verification: RFC 9901 §7.1 (issuer-signed JWT and disclosures) and §7.3
//! (key binding).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Disclosed, KB_JWT_TYP, SdJwt, SdJwtError};
use crate::jose::{Header, JoseError, Jwk, VerifyingKey};

/// Default clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const DEFAULT_LEEWAY: i64 = 60;
/// Default age after which a KB-JWT is stale, in seconds.
pub const DEFAULT_KB_MAX_AGE: i64 = 300;

/// The verifier's side of a check: its clock and what it requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Now, in seconds since the epoch.
    pub now: i64,
    /// Clock skew tolerated, in seconds.
    pub leeway: i64,
    /// Age in seconds after which a KB-JWT is stale (its `iat` is checked
    /// against `now` whenever a KB-JWT is present).
    pub kb_max_age: i64,
    /// Key binding required, with these expectations. When `None`, a KB-JWT
    /// that is present is still checked (signature, `typ`, `sd_hash`, age).
    pub key_binding: Option<KeyBindingCheck>,
}

impl VerifyOptions {
    /// Options at time `now`, with the default leeway and KB-JWT age and no
    /// key binding required.
    pub fn at(now: i64) -> Self {
        Self {
            now,
            leeway: DEFAULT_LEEWAY,
            kb_max_age: DEFAULT_KB_MAX_AGE,
            key_binding: None,
        }
    }

    /// Requires key binding.
    pub fn key_binding(mut self, check: KeyBindingCheck) -> Self {
        self.key_binding = Some(check);
        self
    }

    /// Sets the KB-JWT freshness window, in seconds.
    pub fn kb_max_age(mut self, seconds: i64) -> Self {
        self.kb_max_age = seconds;
        self
    }
}

/// What the KB-JWT must carry (§7.3 step 5). A verifier of OpenID4VP sets
/// both; `None` skips that comparison (for audits of a stored presentation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyBindingCheck {
    /// Expected `aud`.
    pub aud: Option<String>,
    /// Expected `nonce`.
    pub nonce: Option<String>,
}

impl KeyBindingCheck {
    /// Expects exactly this audience and nonce.
    pub fn new(aud: impl Into<String>, nonce: impl Into<String>) -> Self {
        Self {
            aud: Some(aud.into()),
            nonce: Some(nonce.into()),
        }
    }
}

/// The claims of a Key Binding JWT (§4.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KbJwtClaims {
    /// When the holder made the presentation.
    pub iat: i64,
    /// The verifier it is meant for.
    pub aud: String,
    /// The verifier's nonce.
    pub nonce: String,
    /// Hash of the presented SD-JWT.
    pub sd_hash: String,
    /// Other claims.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A verified SD-JWT: the issuer signed it, its disclosures match, it is
/// within its validity period and, when required, bound to the holder.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The Issuer-signed JWT's protected header.
    pub header: Header,
    /// The disclosed claims, with the always-visible ones.
    pub claims: Map<String, Value>,
    /// `cnf.jwk`, when the credential is holder-bound.
    pub holder_key: Option<Jwk>,
    /// The KB-JWT claims, when one was presented.
    pub key_binding: Option<KbJwtClaims>,
    /// Pointers of the claims that were selectively disclosed.
    pub disclosed: Vec<String>,
}

impl SdJwt {
    /// Checks the issuer's signature with `issuer_key` first, then resolves
    /// the disclosures and checks time claims and key binding.
    pub fn verify(
        mut self,
        issuer_key: &VerifyingKey,
        options: &VerifyOptions,
    ) -> Result<Verified, SdJwtError> {
        check_issuer_signature(&self, issuer_key)?;
        // Nothing reads the payload after this, so the claims are made
        // from it rather than from a copy.
        let payload = std::mem::take(&mut self.payload);
        self.resolve(payload)?.finish(options)
    }
}

impl Disclosed {
    /// Checks the issuer's signature with `issuer_key`, the time claims and
    /// the key binding.
    pub fn verify(
        self,
        issuer_key: &VerifyingKey,
        options: &VerifyOptions,
    ) -> Result<Verified, SdJwtError> {
        check_issuer_signature(&self.sd_jwt, issuer_key)?;
        self.finish(options)
    }

    fn finish(mut self, options: &VerifyOptions) -> Result<Verified, SdJwtError> {
        check_times(&self.claims, options)?;
        let holder_key = match self.claims.get("cnf").and_then(|cnf| cnf.get("jwk")) {
            // Read in place: `from_value` would first copy the key.
            Some(jwk) => Some(
                Jwk::deserialize(jwk)
                    .map_err(|e| SdJwtError::Malformed(format!("cnf.jwk: {e}")))?,
            ),
            None => None,
        };
        let key_binding = match (self.sd_jwt.kb_jwt(), &options.key_binding) {
            (None, Some(_)) => return Err(SdJwtError::KbMissing),
            (None, None) => None,
            (Some(_), check) => Some(check_key_binding(
                &self.sd_jwt,
                holder_key.as_ref(),
                check.as_ref(),
                options,
            )?),
        };
        // The SD-JWT is done with: its header moves into the result.
        let header = self.sd_jwt.issuer_jwt.swap_remove(0).header;
        Ok(Verified {
            header,
            disclosed: self.places.into_iter().map(|place| place.pointer).collect(),
            claims: self.claims,
            holder_key,
            key_binding,
        })
    }
}

/// Passes if any of the issuer-signed JWT's signatures verifies with the key.
fn check_issuer_signature(sd_jwt: &SdJwt, key: &VerifyingKey) -> Result<(), SdJwtError> {
    let mut outcome = Err(SdJwtError::InvalidSignature);
    for jws in sd_jwt.issuer_jwts() {
        match jws.verify_with(key) {
            Ok(()) => return Ok(()),
            Err(JoseError::InvalidSignature) => {}
            Err(other) => outcome = Err(SdJwtError::Jws(other)),
        }
    }
    outcome
}

fn time_claim(claims: &Map<String, Value>, name: &'static str) -> Result<Option<i64>, SdJwtError> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => value
            .as_i64()
            .or_else(|| value.as_f64().map(|f| f as i64))
            .map(Some)
            .ok_or(SdJwtError::MalformedTimeClaim(name)),
    }
}

fn check_times(claims: &Map<String, Value>, options: &VerifyOptions) -> Result<(), SdJwtError> {
    if let Some(exp) = time_claim(claims, "exp")?
        && options.now - options.leeway >= exp
    {
        return Err(SdJwtError::Expired { exp });
    }
    if let Some(nbf) = time_claim(claims, "nbf")?
        && options.now + options.leeway < nbf
    {
        return Err(SdJwtError::NotYetValid { nbf });
    }
    if let Some(iat) = time_claim(claims, "iat")?
        && iat > options.now + options.leeway
    {
        return Err(SdJwtError::IssuedInFuture { iat });
    }
    Ok(())
}

fn check_key_binding(
    sd_jwt: &SdJwt,
    holder_key: Option<&Jwk>,
    check: Option<&KeyBindingCheck>,
    options: &VerifyOptions,
) -> Result<KbJwtClaims, SdJwtError> {
    let Some(kb) = sd_jwt.kb_jwt() else {
        return Err(SdJwtError::KbMissing);
    };
    if kb.header.typ.as_deref() != Some(KB_JWT_TYP) {
        return Err(SdJwtError::KbInvalidTyp(kb.header.typ.clone()));
    }
    let holder_key = holder_key.ok_or(SdJwtError::KbNoHolderKey)?;
    match kb.verify(holder_key) {
        Ok(()) => {}
        Err(JoseError::InvalidSignature | JoseError::KeyMismatch(_)) => {
            return Err(SdJwtError::KbInvalidSignature);
        }
        Err(other) => return Err(SdJwtError::KbMalformed(other.to_string())),
    }
    let claims: KbJwtClaims = kb
        .payload_json()
        .map_err(|e| SdJwtError::KbMalformed(e.to_string()))?;
    if claims.sd_hash.as_bytes() != sd_jwt.sd_hash_encoded() {
        return Err(SdJwtError::KbSdHashMismatch);
    }
    if claims.iat > options.now + options.leeway {
        return Err(SdJwtError::KbIatInFuture { iat: claims.iat });
    }
    if options.now - claims.iat > options.kb_max_age {
        return Err(SdJwtError::KbStale { iat: claims.iat });
    }
    if let Some(check) = check {
        if check
            .nonce
            .as_ref()
            .is_some_and(|nonce| *nonce != claims.nonce)
        {
            return Err(SdJwtError::KbNonceMismatch);
        }
        if check.aud.as_ref().is_some_and(|aud| *aud != claims.aud) {
            return Err(SdJwtError::KbAudMismatch);
        }
    }
    Ok(claims)
}
