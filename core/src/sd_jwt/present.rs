//! Presentation: choosing disclosures (RFC 9901 §5.2 holder selection) and
//! appending a Key Binding JWT (§4.3).

use serde::Deserialize as _;
use serde_json::{Map, Value};
use sha2::Digest as _;

use super::{Disclosed, KB_JWT_TYP, PresentError, SdJwt};
use crate::jose::{Algorithm, Header, Jwk, SigningKey, VerifyingKey, b64url_encode, sign_compact};

/// What the holder binds a presentation to.
#[derive(Debug)]
pub struct KeyBindingInput<'a> {
    /// The holder's private key, the one in the credential's `cnf.jwk`.
    pub key: &'a SigningKey,
    /// `aud`: the verifier (its client ID in OpenID4VP).
    pub aud: String,
    /// `nonce`: the verifier's nonce for this request.
    pub nonce: String,
    /// `iat`: now, in seconds since the epoch.
    pub iat: i64,
}

impl Disclosed {
    /// JSON pointers of every selectively disclosable claim, in the order of
    /// the disclosures.
    pub fn disclosable_pointers(&self) -> impl Iterator<Item = &str> {
        self.places.iter().map(|place| place.pointer.as_str())
    }

    /// The SD-JWT this was resolved from.
    pub fn sd_jwt(&self) -> &SdJwt {
        &self.sd_jwt
    }

    /// Builds a presentation that discloses the claims at `pointers` (into
    /// [`claims`](Self::claims)). A pointer discloses the claim, everything
    /// inside it, and the disclosures of the objects that contain it, without
    /// which the verifier could not place it. With `key_binding`, a KB-JWT
    /// is appended (§4.3); otherwise the result ends in `~`.
    pub fn present(
        &self,
        pointers: &[&str],
        key_binding: Option<KeyBindingInput<'_>>,
    ) -> Result<String, PresentError> {
        for pointer in pointers {
            if !resolves(&self.claims, pointer) {
                return Err(PresentError::UnknownPath((*pointer).to_owned()));
            }
        }
        let keep = |place: &str| {
            pointers
                .iter()
                .any(|wanted| contains(wanted, place) || contains(place, wanted))
        };
        // The presented SD-JWT without its KB-JWT, written straight from the
        // parts kept: the issuer-signed JWT and the disclosures, each ended by `~`.
        let mut out = self.sd_jwt.issuer_jwt[0].as_str().to_owned();
        out.push('~');
        for (disclosure, _) in self
            .sd_jwt
            .disclosures
            .iter()
            .zip(&self.places)
            .filter(|(_, place)| keep(&place.pointer))
        {
            out.push_str(disclosure.as_str());
            out.push('~');
        }
        if let Some(kb) = key_binding {
            // `sd_hash` is the hash of exactly that string (§4.3.1).
            let sd_hash = b64url_encode(sha2::Sha256::digest(out.as_bytes()));
            out.push_str(&self.key_binding_jwt(sd_hash, kb)?);
        }
        Ok(out)
    }

    fn key_binding_jwt(
        &self,
        sd_hash: String,
        kb: KeyBindingInput<'_>,
    ) -> Result<String, PresentError> {
        let cnf = self
            .claims
            .get("cnf")
            .and_then(|cnf| cnf.get("jwk"))
            // Read in place: `from_value` would first copy the key.
            .and_then(|jwk| Jwk::deserialize(jwk).ok())
            .ok_or(PresentError::NoHolderKey)?;
        if VerifyingKey::from_jwk(&cnf) != VerifyingKey::from_jwk(&kb.key.public_jwk()) {
            return Err(PresentError::HolderKeyMismatch);
        }
        let payload = serde_json::json!({
            "iat": kb.iat,
            "aud": kb.aud,
            "nonce": kb.nonce,
            "sd_hash": sd_hash,
        });
        let header = Header::new(Algorithm::ES256).typ(KB_JWT_TYP);
        Ok(sign_compact(
            &header,
            payload.to_string().as_bytes(),
            kb.key,
        )?)
    }
}

/// Whether `pointer` (RFC 6901) finds a value in `claims`, as
/// `Value::pointer` would on them as one object, without copying them into one.
fn resolves(claims: &Map<String, Value>, pointer: &str) -> bool {
    if pointer.is_empty() {
        return true;
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return false;
    };
    let (token, below) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let name = token.replace("~1", "/").replace("~0", "~");
    claims
        .get(&name)
        .is_some_and(|value| value.pointer(below).is_some())
}

/// Whether the claim at pointer `inner` lies at or below `outer`.
fn contains(outer: &str, inner: &str) -> bool {
    inner
        .strip_prefix(outer)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}
