//! OpenID for Verifiable Credential Issuance 1.0 (final) — the messages, as
//! types.
//!
//! <https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html>
//!
//! One module per message or endpoint. Wire structs have `pub` fields and
//! the spec's member names; where the spec says to ignore unknown members,
//! they are kept in `extra`. Identifiers and secrets are validated newtypes
//! ([`id`]). Requests from the network are read by functions that return a
//! typed error per rule (`from_json`, `from_form`, `from_uri`), and each
//! such error maps to its wire error object in one place (`to_response`).
//!
//! | spec type | section | Rust type |
//! |---|---|---|
//! | Credential Offer | §4.1.1 | [`CredentialOffer`] |
//! | `credential_offer` / `credential_offer_uri` link | §4.1 | [`CredentialOfferRequest`] |
//! | `tx_code` object | §4.1.1 | [`TxCodeSpec`] |
//! | Authorization Request (query or PAR body) | §5.1, RFC 9126 §2.1 | [`AuthorizationRequest`], [`AuthorizeQuery`] |
//! | `authorization_details` (`openid_credential`) | §5.1.1 | [`AuthorizationDetail`] |
//! | Pushed Authorization Response | RFC 9126 §2.2 | [`PushedAuthorizationResponse`] |
//! | Authorization Response (redirect to the Wallet) | RFC 6749 §4.1.2, RFC 9207 | [`AuthorizationResponse`] |
//! | Token Request | §6.1 | [`TokenRequest`] |
//! | Token Response | §6.2 | [`TokenResponse`] |
//! | Token Error Response | §6.3, RFC 6749 §5.2 | [`TokenErrorResponse`] |
//! | PKCE S256 | RFC 7636 §4.6 | [`CodeVerifier`], [`verify_pkce_s256`] |
//! | Nonce Response | §7.2 | [`NonceResponse`] |
//! | Credential Request | §8.2 | [`CredentialRequest`], [`Proofs`] |
//! | Deferred Credential Request | §9.1 | [`DeferredCredentialRequest`] |
//! | Credential Response, Deferred Credential Response | §8.3, §9.2 | [`CredentialResponse`] |
//! | Credential Error Response | §8.3.1.2, §9.3 | [`CredentialErrorResponse`] |
//! | `jwt` key proof | App. F.1, F.4 | [`build_jwt_proof`], [`verify_jwt_proof`], [`ProofClaims`] |
//! | key attestation (`key-attestation+jwt`) | App. D, F.1, F.3 | [`key_attestation::verify_key_attestation`], [`key_attestation::KeyAttestationClaims`] |
//! | Credential Issuer Metadata | §12.2.4 | [`CredentialIssuerMetadata`], [`CredentialConfiguration`] |
//! | Authorization Server Metadata | RFC 8414 §2, §12.3 | [`AuthorizationServerMetadata`] |
//!
//! Formats other than `dc+sd-jwt` (`mso_mdoc`, `jwt_vc_json`, `ldp_vc`…)
//! parse as open data: [`CredentialFormat::Other`] and `extra` members.

pub mod authorization;
pub mod credential;
mod form;
pub mod id;
mod json;
pub mod key_attestation;
pub mod metadata;
pub mod nonce;
pub mod offer;
pub mod proof;
pub mod token;

pub use authorization::{
    AuthorizationDetail, AuthorizationDetailType, AuthorizationOutcome, AuthorizationRequest,
    AuthorizationRequestError, AuthorizationResponse, AuthorizationResponseError, AuthorizeQuery,
    CodeChallengeMethod, PushedAuthorizationResponse,
};
pub use credential::{
    CredentialErrorCode, CredentialErrorResponse, CredentialRequest, CredentialRequestError,
    CredentialResponse, CredentialResponseEncryption, CredentialResponseError,
    DeferredCredentialRequest, IssuedCredential, Proofs, RequestedCredential,
};
pub use form::FormError;
pub use id::{
    AccessToken, AuthorizationCode, CNonce, CredentialConfigurationId, CredentialIdentifier,
    IdError, IssuerState, NotificationId, PreAuthorizedCode, RefreshToken, TransactionId, TxCode,
};
pub use metadata::{
    AuthorizationServerMetadata, BatchCredentialIssuance, ClaimDescription, ClaimDisplay,
    CredentialConfiguration, CredentialDisplay, CredentialFormat, CredentialIssuerMetadata,
    CredentialMetadata, IssuerDisplay, KeyAttestationsRequired, Logo, MetadataError,
    ProofTypeMetadata, RequestEncryptionMetadata, ResponseEncryptionMetadata, SigningAlgorithm,
};
pub use nonce::NonceResponse;
pub use offer::{
    AuthorizationCodeGrant, CREDENTIAL_OFFER_SCHEME, CredentialOffer, CredentialOfferRequest,
    Grants, HAIP_VCI_SCHEME, InputMode, OFFER_SCHEMES, OfferError, PreAuthorizedCodeGrant,
    TxCodeError, TxCodeSpec,
};
pub use proof::{ProofClaims, ProofError, VerifiedProof, build_jwt_proof, verify_jwt_proof};
pub use token::{
    AuthorizationCodeTokenRequest, CodeVerifier, PkceError, PreAuthorizedCodeTokenRequest,
    TokenErrorCode, TokenErrorResponse, TokenRequest, TokenRequestError, TokenResponse,
    verify_pkce_s256,
};

/// The grant type of the Pre-Authorized Code Flow (§4.1.1, §6.1).
pub const PRE_AUTHORIZED_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

/// Whether `url` is `https://` followed by a non-empty host and no
/// whitespace or control characters. Network policy (private addresses,
/// dev-mode http) is the fetcher's business.
/// Which URLs a party accepts from its peer (issuer identifiers, offer and
/// metadata URLs, endpoints).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UrlRules {
    /// https only: what the specs require, and the default.
    #[default]
    HttpsOnly,
    /// Also `http://` to a loopback host (`127.0.0.1`, `[::1]`,
    /// `localhost`): for development instances and tests on one machine.
    /// Never for production.
    DangerousAllowHttpLoopback,
}

impl UrlRules {
    /// Whether `url` is acceptable under these rules.
    pub fn allows(self, url: &str) -> bool {
        if is_https_url(url) {
            return true;
        }
        self == Self::DangerousAllowHttpLoopback
            && url.strip_prefix("http://").is_some_and(|rest| {
                let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
                let host = match authority.strip_prefix('[') {
                    Some(v6) => v6.split(']').next().unwrap_or_default(),
                    None => authority.split(':').next().unwrap_or_default(),
                };
                matches!(host, "127.0.0.1" | "::1" | "localhost")
                    && !rest.chars().any(|c| c.is_whitespace() || c.is_control())
            })
    }
}

fn is_https_url(url: &str) -> bool {
    url.strip_prefix("https://").is_some_and(|rest| {
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        !host.is_empty()
            && !host.starts_with(':')
            && !rest.chars().any(|c| c.is_whitespace() || c.is_control())
    })
}

/// Whether a JWK carries private or secret material: `d` (EC, OKP, RSA)
/// or a symmetric `k`.
pub(crate) fn has_private_key(jwk: &crate::jose::Jwk) -> bool {
    match serde_json::to_value(jwk) {
        Ok(serde_json::Value::Object(members)) => {
            members.contains_key("d") || members.contains_key("k")
        }
        // A JWK that cannot be written out is not trusted as public.
        _ => true,
    }
}

/// An `error_description` limited to the characters RFC 6749 §5.2 and
/// OpenID4VCI §8.3.1.2 allow (`%x20-21 / %x23-5B / %x5D-7E`): `"` becomes
/// `'`, `\` becomes `/`, anything else outside the set becomes `?`.
pub fn error_description(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn url_rules_allow_http_only_on_loopback_and_only_when_asked() {
        use super::UrlRules;
        for url in ["https://issuer.example/x", "https://issuer.example"] {
            assert!(UrlRules::HttpsOnly.allows(url));
        }
        for url in [
            "http://127.0.0.1:8080/offers/1",
            "http://localhost/x",
            "http://[::1]:9/",
        ] {
            assert!(!UrlRules::HttpsOnly.allows(url), "{url}");
            assert!(UrlRules::DangerousAllowHttpLoopback.allows(url), "{url}");
        }
        for url in [
            "http://issuer.example",
            "http://127.0.0.1.evil.example/",
            "http://localhost.evil/",
            "ftp://127.0.0.1/",
        ] {
            assert!(!UrlRules::DangerousAllowHttpLoopback.allows(url), "{url}");
        }
    }

    use super::*;

    #[test]
    fn https_urls() {
        assert!(is_https_url("https://issuer.example"));
        assert!(is_https_url("https://issuer.example:8443/tenant?x#y"));
        assert!(!is_https_url("http://issuer.example"));
        assert!(!is_https_url("https://"));
        assert!(!is_https_url("https:///path"));
        assert!(!is_https_url("https://:443"));
        assert!(!is_https_url("https://a b"));
        assert!(!is_https_url("HTTPS://issuer.example"));
    }

    #[test]
    fn private_keys_are_detected() {
        let key = crate::jose::SigningKey::generate().unwrap();
        assert!(!has_private_key(&key.public_jwk()));
        assert!(has_private_key(&key.to_private_jwk().unwrap()));
        let oct: crate::jose::Jwk = serde_json::from_str(r#"{"kty":"oct","k":"AAAA"}"#).unwrap();
        assert!(has_private_key(&oct));
    }

    #[test]
    fn descriptions_are_cut_to_the_allowed_set() {
        assert_eq!(error_description("a \"b\" \\ c\nå"), "a 'b' / c??");
    }
}
