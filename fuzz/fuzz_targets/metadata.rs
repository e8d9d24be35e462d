//! Metadata a party fetches from its peer, on untrusted input: Credential
//! Issuer Metadata (OpenID4VCI 1.0 §12.2), Authorization Server Metadata
//! (RFC 8414), OpenID Provider Metadata (Discovery 1.0 §3) and SD-JWT VC
//! Type Metadata. The first byte picks what the rest is:
//!
//! - `0`: Credential Issuer Metadata (JSON), read for the identifier it
//!   names, under both URL rules;
//! - `1`: Authorization Server Metadata (JSON), likewise;
//! - `2`: OpenID Provider Metadata or an OpenID token response (JSON);
//! - `3`: Type Metadata (JSON), also extended from itself;
//! - otherwise: an identifier whose well-known URLs are derived.
//!
//! Whatever is read must serialize and read back the same.

#![no_main]

use intyg_core::oid4vci::{AuthorizationServerMetadata, CredentialIssuerMetadata, UrlRules};
use intyg_core::oidc::{ProviderMetadata, TokenResponse};
use intyg_core::vc::metadata::TypeMetadata;
use intyg_fuzz::text;
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;

const RULES: [UrlRules; 2] = [UrlRules::HttpsOnly, UrlRules::DangerousAllowHttpLoopback];

/// The member naming the document's own identifier.
fn identifier(json: &str, member: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    value.get(member)?.as_str().map(str::to_owned)
}

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T) {
    let json = serde_json::to_string(value).expect("metadata serializes");
    let again: T = serde_json::from_str(&json).expect("serialized metadata parses");
    assert_eq!(&again, value);
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Some(text) = text(rest) else { return };
    match selector {
        0 => {
            let issuer = identifier(text, "credential_issuer").unwrap_or_default();
            for rules in RULES {
                if let Ok(metadata) =
                    CredentialIssuerMetadata::from_json_for_with(text, &issuer, rules)
                {
                    assert_eq!(metadata.credential_issuer, issuer);
                    round_trip(&metadata);
                    metadata
                        .validate_for_with(&issuer, rules)
                        .expect("read metadata is valid");
                    for configuration in metadata.credential_configurations_supported.values() {
                        let _ = configuration.jwt_proof_type();
                    }
                    CredentialIssuerMetadata::well_known_url_with(&issuer, rules)
                        .expect("a valid identifier has a well-known URL");
                }
            }
        }
        1 => {
            let issuer = identifier(text, "issuer").unwrap_or_default();
            for rules in RULES {
                if let Ok(metadata) =
                    AuthorizationServerMetadata::from_json_for_with(text, &issuer, rules)
                {
                    assert_eq!(metadata.issuer, issuer);
                    round_trip(&metadata);
                    AuthorizationServerMetadata::well_known_url_with(&issuer, rules)
                        .expect("a valid identifier has a well-known URL");
                }
            }
        }
        2 => {
            if let Ok(metadata) = serde_json::from_str::<ProviderMetadata>(text) {
                round_trip(&metadata);
            }
            if let Ok(response) = serde_json::from_str::<TokenResponse>(text) {
                round_trip(&response);
            }
        }
        3 => {
            if let Ok(metadata) = TypeMetadata::parse(text) {
                let json = serde_json::to_string(&metadata).expect("type metadata serializes");
                let again = TypeMetadata::parse(&json).expect("serialized type metadata parses");
                assert_eq!(again, metadata);
                for locale in ["sv", "en-GB", ""] {
                    let _ = metadata.display(locale);
                }
                let _ = metadata.extend(&metadata);
            }
        }
        _ => {
            for rules in RULES {
                if let Ok(url) = CredentialIssuerMetadata::well_known_url_with(text, rules) {
                    assert!(url.contains("/.well-known/openid-credential-issuer"));
                    assert!(rules.allows(&url));
                }
                if let Ok(url) = AuthorizationServerMetadata::well_known_url_with(text, rules) {
                    assert!(url.contains("/.well-known/oauth-authorization-server"));
                    assert!(rules.allows(&url));
                }
            }
        }
    }
});
