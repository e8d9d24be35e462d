//! Credential Offers (OpenID4VCI 1.0 §4.1) and `authorization_details`
//! (§5.1.1, RFC 9396) on untrusted input. The first byte picks what the
//! rest is:
//!
//! - `0`: an offer link (`openid-credential-offer://?…`, by value or by
//!   reference), read under both URL rules;
//! - `1`: an offer object (JSON), also checked against the metadata of
//!   `https://issuer.example` and a typed transaction code;
//! - otherwise: an `authorization_details` array (JSON).
//!
//! Whatever is read must print and read back the same.

#![no_main]

use std::sync::OnceLock;

use intyg_core::oid4vci::{
    AuthorizationDetail, CredentialIssuerMetadata, CredentialOffer, CredentialOfferRequest,
    HAIP_VCI_SCHEME, TxCode, UrlRules,
};
use intyg_fuzz::text;
use libfuzzer_sys::fuzz_target;

const RULES: [UrlRules; 2] = [UrlRules::HttpsOnly, UrlRules::DangerousAllowHttpLoopback];

fn metadata() -> &'static CredentialIssuerMetadata {
    static METADATA: OnceLock<CredentialIssuerMetadata> = OnceLock::new();
    METADATA.get_or_init(|| {
        let json = serde_json::json!({
            "credential_issuer": "https://issuer.example",
            "authorization_servers": ["https://as.example"],
            "credential_endpoint": "https://issuer.example/credential",
            "credential_configurations_supported": {
                "registration-certificate": { "format": "dc+sd-jwt", "vct": "urn:intyg:rc:1" },
                "pid": { "format": "dc+sd-jwt", "vct": "urn:eudi:pid:1" }
            }
        });
        CredentialIssuerMetadata::from_json_for(&json.to_string(), "https://issuer.example")
            .expect("the fixed metadata")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Some(text) = text(rest) else { return };
    match selector {
        0 => {
            for rules in RULES {
                let Ok(request) = CredentialOffer::from_uri_with(text, rules) else {
                    continue;
                };
                for base in [request.to_uri(), request.to_uri_with_base(HAIP_VCI_SCHEME)] {
                    let again = CredentialOffer::from_uri_with(&base, rules)
                        .expect("our own offer link reads");
                    assert_eq!(again, request);
                }
                if let CredentialOfferRequest::ByValue(offer) = &request {
                    check(offer, rules);
                }
            }
        }
        1 => {
            for rules in RULES {
                if let Ok(offer) = CredentialOffer::from_json_with(text, rules) {
                    check(&offer, rules);
                    if let Some(tx) = offer
                        .pre_authorized_grant()
                        .and_then(|g| g.tx_code.as_ref())
                    {
                        for code in ["123456", "abc", "1"] {
                            let code: TxCode = code.parse().expect("a fixed code");
                            let _ = tx.check(&code);
                        }
                    }
                }
            }
        }
        _ => {
            if let Ok(details) = serde_json::from_str::<Vec<AuthorizationDetail>>(text) {
                let json = serde_json::to_string(&details).expect("details serialize");
                let again: Vec<AuthorizationDetail> =
                    serde_json::from_str(&json).expect("serialized details parse");
                assert_eq!(again, details);
            }
        }
    }
});

fn check(offer: &CredentialOffer, rules: UrlRules) {
    offer.validate_with(rules).expect("a read offer is valid");
    let json = serde_json::to_string(offer).expect("an offer serializes");
    let again = CredentialOffer::from_json_with(&json, rules).expect("our own offer reads");
    assert_eq!(&again, offer);
    let _ = offer.validate_against(metadata());
}
