//! Presentation: choosing disclosures (RFC 9901 §5.2 holder selection) and
//! appending a Key Binding JWT (§4.3).

use super::{Disclosed, KB_JWT_TYP, PresentError, SdJwt};
use crate::jose::{Algorithm, Header, SigningKey, VerifyingKey, sign_compact};

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
        let document = serde_json::Value::Object(self.claims.clone());
        for pointer in pointers {
            if document.pointer(pointer).is_none() {
                return Err(PresentError::UnknownPath((*pointer).to_owned()));
            }
        }
        let keep = |place: &str| {
            pointers
                .iter()
                .any(|wanted| contains(wanted, place) || contains(place, wanted))
        };
        let mut presented = self.sd_jwt.clone();
        presented.kb_jwt = None;
        presented.disclosures = self
            .sd_jwt
            .disclosures
            .iter()
            .zip(&self.places)
            .filter(|(_, place)| keep(&place.pointer))
            .map(|(disclosure, _)| disclosure.clone())
            .collect();
        let mut out = presented.without_kb();
        if let Some(kb) = key_binding {
            out.push_str(&self.key_binding_jwt(&presented, kb)?);
        }
        Ok(out)
    }

    fn key_binding_jwt(
        &self,
        presented: &SdJwt,
        kb: KeyBindingInput<'_>,
    ) -> Result<String, PresentError> {
        let cnf = self
            .claims
            .get("cnf")
            .and_then(|cnf| cnf.get("jwk"))
            .and_then(|jwk| serde_json::from_value(jwk.clone()).ok())
            .ok_or(PresentError::NoHolderKey)?;
        if VerifyingKey::from_jwk(&cnf) != VerifyingKey::from_jwk(&kb.key.public_jwk()) {
            return Err(PresentError::HolderKeyMismatch);
        }
        let payload = serde_json::json!({
            "iat": kb.iat,
            "aud": kb.aud,
            "nonce": kb.nonce,
            "sd_hash": presented.sd_hash(),
        });
        let header = Header::new(Algorithm::ES256).typ(KB_JWT_TYP);
        Ok(sign_compact(
            &header,
            payload.to_string().as_bytes(),
            kb.key,
        )?)
    }
}

/// Whether the claim at pointer `inner` lies at or below `outer`.
fn contains(outer: &str, inner: &str) -> bool {
    inner
        .strip_prefix(outer)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}
