//! DID vectors: did:key (w3c-ccg/did-key-spec test vectors and the derived
//! did:key → JWK table), did:jwk (spec examples) and did:web (URL mapping
//! examples), plus crafted inputs for every refusal.

use did_method_key::DIDKey;
use intyg_core::did::{self, DidError, DidMethod, DidUrl, KeyCodec};
use intyg_core::jose::{Jwk, b64url_encode};
use serde_json::Value;

use crate::vector_json;

/// The key type a did:key codec maps to, if our profile refuses it.
fn refused_codec(multicodec: &str) -> Option<KeyCodec> {
    match multicodec {
        "0x1201" => Some(KeyCodec::P384),
        "0x1202" => Some(KeyCodec::P521),
        "0xe7" => Some(KeyCodec::Secp256k1),
        _ => None,
    }
}

#[test]
fn did_key_to_jwk_table() {
    let v = vector_json("did/did-key/did-key-to-jwk.json");
    for case in v["vectors"].as_array().unwrap() {
        let multibase = case["multibase"].as_str().unwrap();
        let own_did = format!("did:key:{multibase}");
        let result = did::resolve_key(&own_did);
        if let Some(codec) = refused_codec(case["multicodec"].as_str().unwrap()) {
            assert!(
                matches!(result, Err(DidError::UnsupportedKeyType(c)) if c == codec),
                "{own_did}"
            );
            continue;
        }
        let resolved = result.unwrap_or_else(|e| panic!("{own_did}: {e}"));
        assert_eq!(
            serde_json::to_value(&resolved.jwk).unwrap(),
            case["expected_public_jwk"]
        );
        assert_eq!(resolved.id, format!("{own_did}#{multibase}"));
        if resolved.jwk.to_multicodec().is_ok() {
            // P-256 and Ed25519 encode back to the same DID.
            assert_eq!(DIDKey::generate(&resolved.jwk).unwrap().as_str(), own_did);
        }

        // The verification method id, as the vector names it.
        let vm_id = case["verification_method_id"].as_str().unwrap();
        let did = case["did"].as_str().unwrap();
        if did == own_did {
            assert_eq!(did::resolve_key(vm_id).unwrap(), resolved);
        } else {
            // An X25519 key derived from an Ed25519 did:key (optional in the
            // spec): we do not derive it.
            assert!(
                matches!(
                    did::resolve_key(vm_id),
                    Err(DidError::UnknownFragment(f)) if f == multibase
                ),
                "{vm_id}"
            );
        }
    }
}

/// Every DID and verification method of a did-key-spec vector file.
fn spec_file_methods(doc: &Value) -> Vec<(String, Value)> {
    doc["verificationMethod"]
        .as_array()
        .unwrap()
        .iter()
        .map(|vm| (vm["id"].as_str().unwrap().to_owned(), vm.clone()))
        .collect()
}

#[test]
fn did_key_spec_nist_curves() {
    let v = vector_json("did/did-key/nist-curves.json");
    for (did, entry) in v.as_object().unwrap() {
        let doc = &entry["didDocument"];
        assert_eq!(doc["id"], did.as_str());
        for (vm_id, vm) in spec_file_methods(doc) {
            let crv = vm["publicKeyJwk"]["crv"].as_str().unwrap();
            match crv {
                "P-256" => {
                    let resolved = did::resolve_key(&vm_id).unwrap();
                    assert_eq!(resolved.id, vm_id);
                    assert_eq!(
                        serde_json::to_value(&resolved.jwk).unwrap(),
                        vm["publicKeyJwk"]
                    );
                    assert_eq!(did::resolve_key(did).unwrap(), resolved);
                    // The private JWK of the vector belongs to the same key.
                    let private: Jwk = serde_json::from_value(
                        entry["verificationMethod"]["privateKeyJwk"].clone(),
                    )
                    .unwrap();
                    assert!(private.equals_public(&resolved.jwk));
                }
                "P-384" | "P-521" => {
                    let codec = if crv == "P-384" {
                        KeyCodec::P384
                    } else {
                        KeyCodec::P521
                    };
                    assert!(matches!(
                        did::resolve_key(&vm_id),
                        Err(DidError::UnsupportedKeyType(c)) if c == codec
                    ));
                }
                other => panic!("unexpected curve {other}"),
            }
        }
    }
}

#[test]
fn did_key_spec_ed25519_x25519() {
    let v = vector_json("did/did-key/ed25519-x25519.json");
    for (did, entry) in v.as_object().unwrap() {
        let resolved = did::resolve_key(did).unwrap();
        assert_eq!(
            serde_json::to_value(&resolved.jwk).unwrap()["crv"],
            "Ed25519"
        );
        let ed_vm = format!(
            "{did}{}",
            entry["verificationKeyPair"]["id"].as_str().unwrap()
        );
        assert_eq!(did::resolve_key(&ed_vm).unwrap(), resolved);

        // The key agreement key is derived from the Ed25519 key: not ours to
        // derive, but its own multibase value is an X25519 did:key.
        let x_fragment = entry["keyAgreementKeyPair"]["id"]
            .as_str()
            .unwrap()
            .trim_start_matches('#');
        let x_vm = format!("{did}#{x_fragment}");
        assert!(matches!(
            did::resolve_key(&x_vm),
            Err(DidError::UnknownFragment(_))
        ));
        let x25519 = did::resolve_key(&format!("did:key:{x_fragment}")).unwrap();
        assert_eq!(serde_json::to_value(&x25519.jwk).unwrap()["crv"], "X25519");

        for (vm_id, _) in spec_file_methods(&entry["didDocument"]) {
            assert!(vm_id == ed_vm || vm_id == x_vm, "{vm_id}");
        }
    }
}

#[test]
fn did_key_spec_x25519() {
    let v = vector_json("did/did-key/x25519.json");
    for (did, doc) in v["didDocument"].as_object().unwrap() {
        for (vm_id, vm) in spec_file_methods(doc) {
            let resolved = did::resolve_key(&vm_id).unwrap();
            assert_eq!(resolved.id, vm_id);
            assert_eq!(did::resolve_key(did).unwrap(), resolved);
            let jwk = serde_json::to_value(&resolved.jwk).unwrap();
            assert_eq!(
                (jwk["kty"].as_str(), jwk["crv"].as_str()),
                (Some("OKP"), Some("X25519"))
            );
            // Methods are X25519KeyAgreementKey2019 (base58, checked through
            // did-key-to-jwk.json) or JsonWebKey2020, compared here.
            match vm["type"].as_str().unwrap() {
                "JsonWebKey2020" => assert_eq!(jwk, vm["publicKeyJwk"]),
                other => assert_eq!(other, "X25519KeyAgreementKey2019"),
            }
        }
    }
}

#[test]
fn did_key_spec_secp256k1_rejected() {
    let v = vector_json("did/did-key/secp256k1.json");
    for (did, entry) in v.as_object().unwrap() {
        assert!(matches!(
            did::resolve_key(did),
            Err(DidError::UnsupportedKeyType(KeyCodec::Secp256k1))
        ));
        for (vm_id, _) in spec_file_methods(&entry["didDocument"]) {
            assert!(matches!(
                did::resolve_key(&vm_id),
                Err(DidError::UnsupportedKeyType(KeyCodec::Secp256k1))
            ));
        }
    }
}

#[test]
fn did_jwk_spec_examples() {
    let v = vector_json("did/did-jwk/did-jwk-spec-examples.json");
    for case in v["vectors"].as_array().unwrap() {
        assert_eq!(case["expect"], "resolve");
        let did = case["did"].as_str().unwrap();
        let did_url = case["did_url"].as_str().unwrap();
        let resolved = did::resolve_key(did).unwrap();
        assert_eq!(
            serde_json::to_value(&resolved.jwk).unwrap(),
            case["expected_jwk"]
        );
        assert_eq!(resolved.id, did_url);
        assert_eq!(did::resolve_key(did_url).unwrap(), resolved);

        let doc = &case["expected_did_document"];
        assert_eq!(doc["id"], did);
        assert_eq!(doc["verificationMethod"][0]["id"], did_url);
        assert_eq!(
            doc["verificationMethod"][0]["publicKeyJwk"],
            case["expected_jwk"]
        );

        let url: DidUrl = did_url.parse().unwrap();
        assert_eq!((url.method(), url.fragment()), (DidMethod::Jwk, Some("0")));
        assert!(matches!(
            did::resolve_key(&format!("{did}#1")),
            Err(DidError::UnknownFragment(f)) if f == "1"
        ));
    }
}

#[test]
fn did_web_url_transform() {
    let v = vector_json("did/did-web/did-web-url-transform.json");
    for case in v["cases"].as_array().unwrap() {
        let did: DidUrl = case["did"].as_str().unwrap().parse().unwrap();
        let url = did.web_document_url().unwrap();
        assert_eq!(url, case["expected_url"].as_str().unwrap());
        assert!(matches!(did.resolve_key(), Err(DidError::DocumentRequired(u)) if u == url));
    }
}

#[test]
fn did_web_refusals() {
    let url = |did: &str| did.parse::<DidUrl>().and_then(|d| d.web_document_url());
    assert!(matches!(
        url("did:web:127.0.0.1"),
        Err(DidError::IpAddressHost(_))
    ));
    assert!(matches!(
        url("did:web:127.0.0.1%3A8443"),
        Err(DidError::IpAddressHost(_))
    ));
    assert!(matches!(
        url("did:web:evil.example%40good.example"),
        Err(DidError::InvalidHost(_))
    ));
    assert!(matches!(
        url("did:web:example.com%3Ahttps"),
        Err(DidError::InvalidHost(_))
    ));
    assert!(matches!(
        url("did:web:example.com%3A99999"),
        Err(DidError::InvalidHost(_))
    ));
    assert!(matches!(
        url("did:web:-bad-.example"),
        Err(DidError::InvalidHost(_))
    ));
    assert!(matches!(
        url("did:web:example.com::alice"),
        Err(DidError::EmptyPathSegment)
    ));
    assert!(matches!(
        url("did:web:example.com:user:"),
        Err(DidError::InvalidMethodSpecificId(_))
    ));
    let key = "did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv";
    assert!(matches!(url(key), Err(DidError::UnsupportedMethod(m)) if m == "key"));
}

#[test]
fn did_syntax_refusals() {
    let parse = |s: &str| s.parse::<DidUrl>().err();
    assert!(matches!(parse("urn:uuid:1234"), Some(DidError::NotADid)));
    assert!(matches!(
        parse("did:KEY:z6Mk"),
        Some(DidError::InvalidMethodName)
    ));
    assert!(matches!(
        parse("did:key"),
        Some(DidError::InvalidMethodName)
    ));
    assert!(matches!(
        parse("did::abc"),
        Some(DidError::InvalidMethodName)
    ));
    assert!(matches!(parse("did:ion:abc"), Some(DidError::UnsupportedMethod(m)) if m == "ion"));
    assert!(matches!(
        parse("did:key:"),
        Some(DidError::InvalidMethodSpecificId(_))
    ));
    assert!(matches!(
        parse("did:key:a b"),
        Some(DidError::InvalidMethodSpecificId(_))
    ));
    assert!(matches!(
        parse("did:key:z%zz"),
        Some(DidError::InvalidMethodSpecificId(_))
    ));
    assert!(matches!(
        parse("did:web:example.com/path"),
        Some(DidError::PathOrQuery)
    ));
    assert!(matches!(
        parse("did:key:z6Mk?service=x#z6Mk"),
        Some(DidError::PathOrQuery)
    ));
}

#[test]
fn did_key_refusals() {
    let resolve = |s: &str| did::resolve_key(s).err();
    assert!(matches!(
        resolve("did:key:uAQID"),
        Some(DidError::UnsupportedMultibase('u'))
    ));
    assert!(matches!(
        resolve("did:key:z0OIl"),
        Some(DidError::InvalidBase58('0'))
    ));
    assert!(matches!(
        resolve("did:key:z"),
        Some(DidError::InvalidMulticodec)
    ));
    assert!(matches!(
        resolve(&format!("did:key:z{}", "1".repeat(2000))),
        Some(DidError::InvalidMethodSpecificId(_))
    ));
    // ed25519-pub with 31 key bytes.
    assert!(matches!(
        resolve("did:key:z2DQUyFHStG42FqbEhyM6LhkEqqV45NGGqKCwNxVWWu7Yzj"),
        Some(DidError::InvalidKeyLength {
            codec: KeyCodec::Ed25519,
            expected: 32,
            actual: 31
        })
    ));
    // p256-pub 0x02 || ff…ff: x is not a field element.
    assert!(matches!(
        resolve("did:key:zDnaehfHR8Q5U7ckmLQfuZ3eGEypooJ46zzjRQ1AR9asDvdnv"),
        Some(DidError::InvalidPoint(KeyCodec::P256))
    ));
    // rsa-pub (0x1205) prefix: outside our set.
    assert!(matches!(
        resolve("did:key:z3WiyfC3fN2BXLUyE7"),
        Some(DidError::UnsupportedKeyType(KeyCodec::Other(0x1205)))
    ));
    let p256 = "did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv";
    assert!(matches!(
        resolve(&format!("{p256}#key-1")),
        Some(DidError::UnknownFragment(f)) if f == "key-1"
    ));
    assert!(
        matches!(resolve(&format!("{p256}#")), Some(DidError::UnknownFragment(f)) if f.is_empty())
    );
}

#[test]
fn did_jwk_refusals() {
    let resolve = |s: &str| did::resolve_key(s).err();
    assert!(matches!(
        resolve("did:jwk:eyJ%41"),
        Some(DidError::InvalidBase64)
    ));
    let not_a_jwk = b64url_encode(br#"{"kty":"nope"}"#);
    assert!(matches!(
        resolve(&format!("did:jwk:{not_a_jwk}")),
        Some(DidError::InvalidJwk(_))
    ));
    // RFC 7518 Appendix C's Bob key, private part included.
    let v = vector_json("jose/rfc7518-appendix-c-ecdh-es.json");
    let private = b64url_encode(serde_json::to_vec(&v["static_key_bob"]).unwrap());
    assert!(matches!(
        resolve(&format!("did:jwk:{private}")),
        Some(DidError::PrivateKeyMaterial)
    ));
}
