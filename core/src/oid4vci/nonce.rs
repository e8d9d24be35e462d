//! `POST /nonce` — OpenID4VCI 1.0 §7.
//!
//! <https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html#name-nonce-endpoint>
//!
//! The request has no body. The response carries a fresh `c_nonce` that
//! the Wallet puts in its key proofs; the issuer stores it, accepts it once
//! and lets it expire. The response must be sent with
//! `Cache-Control: no-store`.

use serde::{Deserialize, Serialize};

use super::id::CNonce;

/// The Nonce Response (§7.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonceResponse {
    /// `c_nonce`.
    pub c_nonce: CNonce,
}

impl NonceResponse {
    /// A response with a freshly generated nonce.
    pub fn generate() -> Result<Self, crate::jose::JoseError> {
        Ok(Self {
            c_nonce: CNonce::generate()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form() {
        let response = NonceResponse::generate().unwrap();
        let json = serde_json::to_string(&response).unwrap();
        assert_eq!(json, format!(r#"{{"c_nonce":"{}"}}"#, response.c_nonce));
        assert_eq!(
            serde_json::from_str::<NonceResponse>(&json).unwrap(),
            response
        );
        assert!(serde_json::from_str::<NonceResponse>(r#"{"c_nonce":""}"#).is_err());
        assert!(serde_json::from_str::<NonceResponse>("{}").is_err());
    }
}
