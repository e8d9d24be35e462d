//! JOSE vectors: RFC 7520 (cookbook) JWS, JWE and JWK, RFC 8037 (Ed25519,
//! X25519), RFC 7518 Appendix C (ECDH-ES Concat KDF) and the OpenID4VP 1.0
//! §8.3 encrypted response. Our profile verifies ES256 and EdDSA JWS only
//! and opens ECDH-ES (P-256) JWE with A128GCM/A256GCM only: every other
//! vector must be refused with its specific error.

use aws_lc_rs::aead::{AES_128_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use intyg_core::jose::jwe::{self, ContentEncryption, JweError, JweHeaderParams, KeyAgreement};
use intyg_core::jose::{CompactJws, JoseError, Jwk, b64url_decode, b64url_encode};
use serde_json::{Value, json};

use crate::{vector, vector_json};

const COOKBOOK: &str = "jose/rfc7520-cookbook";

fn jwk(value: &Value) -> Jwk {
    serde_json::from_value(value.clone()).expect("vector JWK")
}

/// The recipient key of the OpenID4VP 1.0 §8.3 example, whose `alg` is
/// `ECDH-ES`: `ssi_jwk::JWK` alone cannot parse it.
fn openid4vp_recipient() -> Jwk {
    let v = vector_json("oid4vp/encrypted-response-ecdh-es-a128gcm.json");
    jwe::encryption_jwk(v["recipient_private_jwk"].as_object().unwrap().clone()).unwrap()
}

/// The compact form of a JWS given in JSON serialization with a single
/// signature (`json_flat`, or one entry of `signatures`).
fn compact_from_json(signature: &Value, payload: &Value) -> String {
    format!(
        "{}.{}.{}",
        signature["protected"].as_str().unwrap_or_default(),
        payload.as_str().unwrap(),
        signature["signature"].as_str().unwrap()
    )
}

// --- JWS: RFC 8037 -----------------------------------------------------------

#[test]
fn rfc8037_a_4_ed25519_signature() {
    let v = vector_json("jose/rfc8037-curve25519/jws.json");
    let jws = CompactJws::parse(v["output"]["compact"].as_str().unwrap()).unwrap();
    let key = jwk(&v["input"]["key"]).to_public();
    jws.verify(&key).unwrap();
    assert_eq!(
        jws.payload,
        v["input"]["payload"].as_str().unwrap().as_bytes()
    );
}

#[test]
fn rfc8037_a_5_ed25519_validation_rejects_altered_signature() {
    let v = vector_json("jose/rfc8037-curve25519/jws.json");
    let compact = v["output"]["compact"].as_str().unwrap();
    let (input, sig) = compact.rsplit_once('.').unwrap();
    let mut sig = b64url_decode(sig).unwrap();
    sig[0] ^= 1;
    let altered = format!("{input}.{}", b64url_encode(sig));
    let key = jwk(&v["input"]["key"]).to_public();
    assert_eq!(
        CompactJws::parse(&altered).unwrap().verify(&key),
        Err(JoseError::InvalidSignature)
    );
}

// --- JWS: RFC 7520 §4 (none of these algorithms is in our profile) ------------

fn assert_jws_alg_rejected(file: &str, alg: &str) {
    let v = vector_json(&format!("{COOKBOOK}/jws/{file}"));
    let compact = v["output"]["compact"].as_str().unwrap();
    assert_eq!(
        CompactJws::parse(compact).err(),
        Some(JoseError::UnsupportedAlg(alg.into()))
    );
}

#[test]
fn rfc7520_4_1_rsa_v15_signature_rejected_rs256() {
    assert_jws_alg_rejected("4_1.rsa_v15_signature.json", "RS256");
}

#[test]
fn rfc7520_4_2_rsa_pss_signature_rejected_ps384() {
    assert_jws_alg_rejected("4_2.rsa-pss_signature.json", "PS384");
}

#[test]
fn rfc7520_4_4_hmac_sha2_rejected_hs256() {
    assert_jws_alg_rejected("4_4.hmac-sha2_integrity_protection.json", "HS256");
}

#[test]
fn rfc7520_4_5_detached_content_rejected_hs256() {
    assert_jws_alg_rejected("4_5.signature_with_detached_content.json", "HS256");
}

#[test]
fn rfc7520_4_6_protected_hs256_rejected() {
    let v = vector_json(&format!(
        "{COOKBOOK}/jws/4_6.protecting_specific_header_fields.json"
    ));
    let flat = &v["output"]["json_flat"];
    let compact = compact_from_json(flat, &flat["payload"]);
    assert_eq!(
        CompactJws::parse(&compact).err(),
        Some(JoseError::UnsupportedAlg("HS256".into()))
    );
}

#[test]
fn rfc7520_4_7_unprotected_alg_rejected() {
    // `alg` sits only in the unprotected header, which compact JWS cannot
    // carry: the protected header is empty and so has no `alg`.
    let v = vector_json(&format!("{COOKBOOK}/jws/4_7.protecting_content_only.json"));
    let flat = &v["output"]["json_flat"];
    assert!(flat.get("protected").is_none());
    let compact = compact_from_json(flat, &flat["payload"]);
    assert!(matches!(
        CompactJws::parse(&compact),
        Err(JoseError::MalformedHeader(_))
    ));
}

#[test]
fn rfc7520_4_8_multiple_signatures_each_rejected() {
    let v = vector_json(&format!("{COOKBOOK}/jws/4_8.multiple_signatures.json"));
    let general = &v["output"]["json"];
    let mut outcomes = Vec::new();
    for signature in general["signatures"].as_array().unwrap() {
        let compact = compact_from_json(signature, &general["payload"]);
        outcomes.push(CompactJws::parse(&compact).err());
    }
    // RS256 (protected), ES512 (alg unprotected), HS256 (protected).
    assert_eq!(outcomes[0], Some(JoseError::UnsupportedAlg("RS256".into())));
    assert!(
        matches!(outcomes[1], Some(JoseError::MalformedHeader(_))),
        "{:?}",
        outcomes[1]
    );
    assert_eq!(outcomes[2], Some(JoseError::UnsupportedAlg("HS256".into())));
    // ES512 also refused when its header is made the protected one.
    let es512 = &general["signatures"][1];
    let header = b64url_encode(serde_json::to_vec(&es512["header"]).unwrap());
    let compact = format!(
        "{header}.{}.{}",
        general["payload"].as_str().unwrap(),
        es512["signature"].as_str().unwrap()
    );
    assert_eq!(
        CompactJws::parse(&compact).err(),
        Some(JoseError::UnsupportedAlg("ES512".into()))
    );
}

#[test]
fn alg_none_rejected() {
    // RFC 7519 §6.1 unsecured JWS, shaped like the cookbook's payload.
    let v = vector_json(&format!(
        "{COOKBOOK}/jws/4_4.hmac-sha2_integrity_protection.json"
    ));
    let payload = v["output"]["compact"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap();
    let unsecured = format!("{}.{payload}.", b64url_encode(br#"{"alg":"none"}"#));
    assert_eq!(
        CompactJws::parse(&unsecured).err(),
        Some(JoseError::UnsupportedAlg("none".into()))
    );
}

// --- JWE: RFC 7518 Appendix C, OpenID4VP 1.0 §8.3 -----------------------------

#[test]
fn rfc7518_appendix_c_ecdh_es_concat_kdf() {
    // The RFC's ephemeral key, apu/apv and derived key are fixed; we seal a
    // message under the RFC's derived key and let `decrypt` derive it again
    // from Bob's static key. It opens only if our Concat KDF output is
    // exactly VqqN6vgjbSBcIijNcacQGg.
    let v = vector_json("jose/rfc7518-appendix-c-ecdh-es.json");
    let derived = b64url_decode(v["expected_derived_key_b64u"].as_str().unwrap()).unwrap();
    let expected_bytes: Vec<u8> =
        serde_json::from_value(v["expected_derived_key_bytes"].clone()).unwrap();
    assert_eq!(derived, expected_bytes);
    assert_eq!(v["keydatalen_bits"], 128);

    let header_b64 = b64url_encode(serde_json::to_vec(&v["header"]).unwrap());
    let iv = [7u8; 12];
    let plaintext = b"Example of ECDH-ES key agreement";
    let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &derived).unwrap());
    let mut ciphertext = plaintext.to_vec();
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(iv),
            Aad::from(header_b64.as_bytes()),
            &mut ciphertext,
        )
        .unwrap();
    let compact = format!(
        "{header_b64}..{}.{}.{}",
        b64url_encode(iv),
        b64url_encode(&ciphertext),
        b64url_encode(tag.as_ref())
    );

    let opened = jwe::decrypt(&compact, &jwk(&v["static_key_bob"])).unwrap();
    assert_eq!(opened.payload, plaintext);
    assert_eq!(opened.header.alg, KeyAgreement::EcdhEs);
    assert_eq!(opened.header.enc, ContentEncryption::A128GCM);
    assert_eq!(opened.header.apu.as_deref(), Some(&b"Alice"[..]));
    assert_eq!(opened.header.apv.as_deref(), Some(&b"Bob"[..]));
    assert_eq!(
        opened.header.epk,
        jwk(&v["ephemeral_key_alice"]).to_public()
    );

    // The same message under any other key is refused.
    let mut wrong = derived.clone();
    wrong[0] ^= 1;
    let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &wrong).unwrap());
    let mut ciphertext = plaintext.to_vec();
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(iv),
            Aad::from(header_b64.as_bytes()),
            &mut ciphertext,
        )
        .unwrap();
    let compact = format!(
        "{header_b64}..{}.{}.{}",
        b64url_encode(iv),
        b64url_encode(&ciphertext),
        b64url_encode(tag.as_ref())
    );
    assert!(matches!(
        jwe::decrypt(&compact, &jwk(&v["static_key_bob"])),
        Err(JweError::Decryption(_))
    ));
}

#[test]
fn openid4vp_1_0_8_3_encrypted_response_ecdh_es_a128gcm() {
    let v = vector_json("oid4vp/encrypted-response-ecdh-es-a128gcm.json");
    let key = openid4vp_recipient();
    let compact = v["jwe_compact"].as_str().unwrap();
    assert_eq!(v["encrypted_response_form"]["response"], compact);

    let opened = jwe::decrypt(compact, &key).unwrap();
    assert_eq!(
        serde_json::to_value(&opened.header).unwrap(),
        v["expected_protected_header"]
    );
    assert_eq!(opened.header.kid.as_deref(), Some("ac"));
    assert_eq!(opened.header.apu, None);
    let payload: Value = serde_json::from_slice(&opened.payload).unwrap();
    assert_eq!(payload, v["expected_plaintext_json"]);
}

#[test]
fn openid4vp_1_0_8_3_wallet_encrypts_to_verifier_p256_key_only() {
    // The wallet side: of the verifier's published keys only the P-256 one
    // fits our profile; a round trip through it carries apu/apv.
    let v = vector_json("oid4vp/encrypted-response-ecdh-es-a128gcm.json");
    let keys = v["verifier_metadata_request_example"]["client_metadata"]["jwks"]["keys"]
        .as_array()
        .unwrap();
    let private = openid4vp_recipient();
    let params = JweHeaderParams {
        apu: Some(b"wallet nonce".to_vec()),
        apv: Some(b"xyz123ltcaccescbwc777".to_vec()),
        ..JweHeaderParams::default()
    };
    let payload = serde_json::to_vec(&v["expected_plaintext_json"]).unwrap();
    for key in keys {
        let public = jwe::encryption_jwk(key.as_object().unwrap().clone()).unwrap();
        let result = jwe::encrypt(&payload, &public, ContentEncryption::A256GCM, &params);
        match key["crv"].as_str().unwrap() {
            "P-256" => {
                let opened = jwe::decrypt(&result.unwrap(), &private).unwrap();
                assert_eq!(opened.payload, payload);
                assert_eq!(opened.header.kid.as_deref(), Some("ac"));
                assert_eq!(opened.header.enc, ContentEncryption::A256GCM);
                assert_eq!(
                    opened.header.apv.as_deref(),
                    Some(&b"xyz123ltcaccescbwc777"[..])
                );
            }
            crv => assert!(
                matches!(&result, Err(JweError::UnsupportedKey { crv: Some(c), .. }) if c == crv),
                "{crv}: {result:?}"
            ),
        }
    }
}

#[test]
fn openid4vp_1_0_8_3_response_to_another_kid_is_a_key_mismatch() {
    let v = vector_json("oid4vp/encrypted-response-ecdh-es-a128gcm.json");
    let mut key = openid4vp_recipient();
    key.key_id = Some("other".to_owned());
    let result = jwe::decrypt(v["jwe_compact"].as_str().unwrap(), &key);
    assert!(matches!(result, Err(JweError::KeyMismatch { header_kid, .. }) if header_kid == "ac"));
}

// --- JWE: RFC 8037 X25519 and RFC 7520 §5 (outside our profile) --------------

#[test]
fn rfc8037_appendix_a_6_x25519_ecdh_es_rejected() {
    let v = vector_json("jose/rfc8037-curve25519/ecdh-es.json");
    let key = jwk(&v["input"]["key"]);
    let compact = v["output"]["compact"].as_str().unwrap();
    assert!(matches!(
        jwe::decrypt(compact, &key),
        Err(JweError::InvalidEphemeralKey("not an EC key"))
    ));
    assert!(matches!(
        jwe::encrypt(b"x", &key.to_public(), ContentEncryption::A128GCM, &Default::default()),
        Err(JweError::UnsupportedKey { kty, crv: Some(crv) }) if kty == "OKP" && crv == "X25519"
    ));
}

fn assert_jwe_alg_rejected(file: &str, alg: &str) {
    let v = vector_json(&format!("{COOKBOOK}/jwe/{file}"));
    let compact = v["output"]["compact"].as_str().unwrap();
    let result = jwe::decrypt(compact, &openid4vp_recipient());
    assert!(
        matches!(&result, Err(JweError::UnsupportedAlg(a)) if a == alg),
        "{file}: {result:?}"
    );
}

#[test]
fn rfc7520_5_1_rsa_v15_rejected() {
    assert_jwe_alg_rejected(
        "5_1.key_encryption_using_rsa_v15_and_aes-hmac-sha2.json",
        "RSA1_5",
    );
}

#[test]
fn rfc7520_5_2_rsa_oaep_rejected() {
    assert_jwe_alg_rejected(
        "5_2.key_encryption_using_rsa-oaep_with_aes-gcm.json",
        "RSA-OAEP",
    );
}

#[test]
fn rfc7520_5_3_pbes2_rejected() {
    assert_jwe_alg_rejected(
        "5_3.key_wrap_using_pbes2-aes-keywrap_with-aes-cbc-hmac-sha2.json",
        "PBES2-HS512+A256KW",
    );
}

#[test]
fn rfc7520_5_4_ecdh_es_a128kw_rejected() {
    assert_jwe_alg_rejected(
        "5_4.key_agreement_with_key_wrapping_using_ecdh-es_and_aes-keywrap_with_aes-gcm.json",
        "ECDH-ES+A128KW",
    );
}

#[test]
fn rfc7520_5_6_direct_encryption_rejected() {
    assert_jwe_alg_rejected("5_6.direct_encryption_using_aes-gcm.json", "dir");
}

#[test]
fn rfc7520_5_7_a256gcmkw_rejected() {
    assert_jwe_alg_rejected(
        "5_7.key_wrap_using_aes-gcm_keywrap_with_aes-cbc-hmac-sha2.json",
        "A256GCMKW",
    );
}

#[test]
fn rfc7520_5_8_a128kw_rejected() {
    assert_jwe_alg_rejected("5_8.key_wrap_using_aes-keywrap_with_aes-gcm.json", "A128KW");
}

#[test]
fn rfc7520_5_9_compressed_content_rejected() {
    let file = "5_9.compressed_content.json";
    assert_jwe_alg_rejected(file, "A128KW");
    // With `alg` made ours, `zip` is refused on its own.
    let v = vector_json(&format!("{COOKBOOK}/jwe/{file}"));
    let compact = v["output"]["compact"].as_str().unwrap();
    let (header, rest) = compact.split_once('.').unwrap();
    let mut header: Value = serde_json::from_slice(&b64url_decode(header).unwrap()).unwrap();
    assert_eq!(header["zip"], "DEF");
    header["alg"] = json!("ECDH-ES");
    let edited = format!(
        "{}.{rest}",
        b64url_encode(serde_json::to_vec(&header).unwrap())
    );
    assert!(matches!(
        jwe::decrypt(&edited, &openid4vp_recipient()),
        Err(JweError::UnsupportedZip(z)) if z == "DEF"
    ));
}

/// RFC 7520 §5.10–5.13 exist only in JSON serialization, which we do not
/// read (compact only, RFC 7516 §7.1); the flattened forms whose protected
/// header carries `alg` are also refused for that `alg` once made compact.
#[test]
fn rfc7520_5_10_to_5_13_json_serialization_rejected() {
    let files = [
        (
            "5_10.including_additional_authentication_data.json",
            Some("A128KW"),
        ),
        ("5_11.protecting_specific_header_fields.json", None),
        ("5_12.protecting_content_only.json", None),
        ("5_13.encrypting_to_multiple_recipients.json", None),
    ];
    for (file, protected_alg) in files {
        let v = vector_json(&format!("{COOKBOOK}/jwe/{file}"));
        let json = serde_json::to_string(&v["output"]["json"]).unwrap();
        assert!(matches!(
            jwe::decrypt(&json, &openid4vp_recipient()),
            Err(JweError::Malformed(_))
        ));
        let Some(flat) = v["output"].get("json_flat") else {
            continue;
        };
        let compact = format!(
            "{}.{}.{}.{}.{}",
            flat["protected"].as_str().unwrap_or_default(),
            flat["encrypted_key"].as_str().unwrap_or_default(),
            flat["iv"].as_str().unwrap(),
            flat["ciphertext"].as_str().unwrap(),
            flat["tag"].as_str().unwrap()
        );
        let result = jwe::decrypt(&compact, &openid4vp_recipient());
        match protected_alg {
            Some(alg) => assert!(matches!(&result, Err(JweError::UnsupportedAlg(a)) if a == alg)),
            // `alg` is unprotected (5.11) or there is no protected header (5.12).
            None => assert!(
                matches!(
                    &result,
                    Err(JweError::Malformed(_) | JweError::InvalidHeader(_))
                ),
                "{file}: {result:?}"
            ),
        }
    }
}

// --- JWK: RFC 7520 §3 as JWE keys ----------------------------------------------

/// The `kty`/`crv` of an [`JweError::UnsupportedKey`] refusal.
fn unsupported_key<T>(result: Result<T, JweError>) -> Option<(String, Option<String>)> {
    match result {
        Err(JweError::UnsupportedKey { kty, crv }) => Some((kty, crv)),
        _ => None,
    }
}

/// Encrypts to `public` and decrypts a valid message with `private`; both
/// must be refused for the key type `expected`.
fn assert_jwe_key_refused(public: &str, private: &str, expected: (&str, Option<&str>)) {
    let public = jwk(&vector_json(&format!("{COOKBOOK}/jwk/{public}")));
    let private = jwk(&vector_json(&format!("{COOKBOOK}/jwk/{private}")));
    let expected = Some((expected.0.to_owned(), expected.1.map(str::to_owned)));
    let enc = ContentEncryption::A128GCM;
    assert_eq!(
        unsupported_key(jwe::encrypt(b"x", &public, enc, &Default::default())),
        expected
    );
    let message = jwe::encrypt(b"x", &openid4vp_recipient(), enc, &Default::default()).unwrap();
    assert_eq!(unsupported_key(jwe::decrypt(&message, &private)), expected);
}

#[test]
fn rfc7520_3_1_and_3_2_p521_keys_rejected() {
    assert_jwe_key_refused(
        "3_1.ec_public_key.json",
        "3_2.ec_private_key.json",
        ("EC", Some("P-521")),
    );
}

#[test]
fn rfc7520_3_3_and_3_4_rsa_keys_rejected() {
    assert_jwe_key_refused(
        "3_3.rsa_public_key.json",
        "3_4.rsa_private_key.json",
        ("RSA", None),
    );
}

#[test]
fn rfc7520_3_5_symmetric_mac_key_rejected() {
    let key = jwk(&vector_json(&format!(
        "{COOKBOOK}/jwk/3_5.symmetric_key_mac_computation.json"
    )));
    assert!(matches!(
        jwe::encrypt(b"x", &key, ContentEncryption::A128GCM, &Default::default()),
        Err(JweError::UnsupportedKey { kty, .. }) if kty == "oct"
    ));
}

#[test]
fn rfc7520_3_6_symmetric_encryption_key_rejected() {
    // `alg: A256GCM` is not a signature algorithm, so `ssi_jwk` cannot even
    // parse this key; `encryption_jwk` names the offending member.
    let raw = vector(&format!("{COOKBOOK}/jwk/3_6.symmetric_key_encryption.json"));
    assert!(serde_json::from_str::<Jwk>(&raw).is_err());
    let map = serde_json::from_str(&raw).unwrap();
    assert!(matches!(
        jwe::encryption_jwk(map),
        Err(JweError::KeyUsage { param: "alg", value }) if value == "A256GCM"
    ));
}

// --- JWS layer of the W3C VC-JOSE-COSE suite (VCDM semantics not checked) ---

const VC_JOSE: &str = "w3c-vcdm2/vc-jose-cose-test-suite/input";

fn vc_jose_key(file: &str) -> Jwk {
    jwk(&vector_json(&format!("{VC_JOSE}/{file}"))["publicKeyJwk"])
}

#[test]
fn vc_jose_cose_6_es256_signature_verifies() {
    let compact = vector(&format!("{VC_JOSE}/credential-jose-minimal.txt"));
    let jws = CompactJws::parse(compact.trim()).unwrap();
    jws.verify(&vc_jose_key("vm-p256.json")).unwrap();
}

#[test]
fn vc_jose_cose_12_eddsa_bad_signature_rejected() {
    let compact = vector(&format!("{VC_JOSE}/credential-jose-bad-signature.txt"));
    let jws = CompactJws::parse(compact.trim()).unwrap();
    assert_eq!(
        jws.verify(&vc_jose_key("vm-ed25519.json")),
        Err(JoseError::InvalidSignature)
    );
}

#[test]
fn vc_jose_cose_7_es384_rejected() {
    let compact = vector(&format!("{VC_JOSE}/presentation-jose-multiple.txt"));
    assert_eq!(
        CompactJws::parse(compact.trim()).err(),
        Some(JoseError::UnsupportedAlg("ES384".into()))
    );
}

#[test]
fn rfc7638_3_1_thumbprint() {
    let vector = crate::vector_json("jose/rfc7638-thumbprint.json");
    let jwk: intyg_core::jose::Jwk = serde_json::from_value(vector["jwk"].clone()).unwrap();
    assert_eq!(
        intyg_core::jose::thumbprint(&jwk).unwrap(),
        vector["thumbprint"].as_str().unwrap()
    );
}
