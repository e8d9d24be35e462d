//! OpenID4VP 1.0 Authorization Requests on untrusted input: the wallet
//! invocation URI (§5, §9), signed Request Objects (§5.10, RFC 9101) and
//! Client Identifiers with their prefixes (§5.9). The first byte picks
//! what the rest is:
//!
//! - `0`: a Request Object (compact JWS text), parsed and verified with the
//!   fixed key for `x509_san_dns:` and `x509_hash:` clients, and
//!   authenticated against the local PKI;
//! - `1`: Request Object claims (JSON), signed with the fixed key and the
//!   leaf chain in `x5c`, then verified and authenticated as the `client_id`
//!   they name. A request that verifies is signed again by us and must
//!   verify to the same request;
//! - `2`: an invocation URI; what parses must print and parse back the same;
//! - otherwise: a Client Identifier; what parses must parse back the same
//!   from its string, and an `x509_hash:` one is checked against the leaf.

#![no_main]

use intyg_core::oid4vp::{
    AuthorizationRequest, ClientId, ClientIdPrefix, REQUEST_OBJECT_TYP, UnverifiedRequestObject,
    check_x509_hash, sign_request_object,
};
use intyg_core::trust::authenticate_request_object;
use intyg_fuzz::{LEAF_DNS, NOW, fixtures, sign, text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Some(text) = text(rest) else { return };
    let f = fixtures();
    let leaf = f.chain.leaf().der();
    match selector {
        0 => {
            if let Ok(object) = UnverifiedRequestObject::parse(text) {
                if let Ok(Some(der)) = object.leaf_certificate() {
                    let hashed = ClientId::x509_hash(&der);
                    check_x509_hash(&hashed, &der).expect("a leaf matches its own hash");
                }
                for client_id in [
                    ClientId::x509_hash(leaf),
                    format!("x509_san_dns:{LEAF_DNS}")
                        .parse()
                        .expect("a DNS client"),
                ] {
                    let _ = object
                        .clone()
                        .verify(&f.verifying, &client_id, Some("wn"), NOW);
                    let _ = authenticate_request_object(text, &client_id, &f.anchors, None, NOW);
                }
            }
        }
        1 => {
            let jwt = sign(Some(REQUEST_OBJECT_TYP), text.as_bytes(), true);
            let client_id = serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|claims| claims.get("client_id")?.as_str()?.parse::<ClientId>().ok())
                .unwrap_or_else(|| ClientId::x509_hash(leaf));
            let object = UnverifiedRequestObject::parse(&jwt).expect("our own JWS parses");
            let verified = object.verify(&f.verifying, &client_id, None, NOW);
            let authenticated =
                authenticate_request_object(&jwt, &client_id, &f.anchors, None, NOW);
            if let Ok(authenticated) = &authenticated {
                assert_eq!(
                    Some(&authenticated.request),
                    verified.as_ref().ok().map(|(_, r)| r)
                );
            }
            if let Ok((_, request)) = verified {
                assert_eq!(request.client_id.as_ref(), Some(&client_id));
                let again = sign_request_object(&request, &f.key, f.chain.to_x5c(), NOW, NOW + 60)
                    .expect("a verified request signs again");
                let (_, reread) = UnverifiedRequestObject::parse(&again)
                    .and_then(|o| o.verify(&f.verifying, &client_id, None, NOW))
                    .expect("our own request object verifies");
                assert_eq!(reread, request);
            }
        }
        2 => {
            if let Ok(invocation) = AuthorizationRequest::from_uri(text) {
                let uri = invocation.to_uri("openid4vp://");
                let again = AuthorizationRequest::from_uri(&uri).expect("our own URI parses");
                assert_eq!(again, invocation);
            }
        }
        _ => {
            if let Ok(client_id) = text.parse::<ClientId>() {
                assert_eq!(client_id.as_str(), text);
                assert!(text.ends_with(client_id.original()));
                let again: ClientId = client_id.to_string().parse().expect("parses again");
                assert_eq!(again, client_id);
                let _ = client_id.prefix().requires_signed_request();
                if client_id.prefix() == ClientIdPrefix::X509Hash {
                    let matches = check_x509_hash(&client_id, leaf).is_ok();
                    assert_eq!(matches, client_id == ClientId::x509_hash(leaf));
                }
            }
        }
    }
});
