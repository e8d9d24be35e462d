//! RFC 9901 vectors (the RFC's own examples, sd-jwt-python's test cases,
//! sd-jwt-js's frames, derived negative cases) and one crafted SD-JWT per
//! verification rule of §7.

use intyg_core::jose::{Algorithm, Header, Jwk, SigningKey, VerifyingKey};
use intyg_core::sd_jwt::{self, IssueOptions, KeyBindingCheck, SdJwt, SdJwtError, VerifyOptions};
use serde_json::{Value, json};

use crate::{vector, vector_json};

/// A clock after every example's `iat` and before its `exp`.
const NOW: i64 = 1_780_272_000;

fn key(jwk: &Value) -> VerifyingKey {
    VerifyingKey::from_jwk(&serde_json::from_value::<Jwk>(jwk.clone()).unwrap()).unwrap()
}

/// Turns a holder selection tree (`{"address": true, "nationalities": [true, false]}`)
/// into JSON pointers of the selected claims.
fn selection_pointers(selection: &Value, prefix: &str, out: &mut Vec<String>) {
    match selection {
        Value::Bool(true) => out.push(prefix.to_owned()),
        Value::Object(map) => {
            for (name, value) in map {
                selection_pointers(value, &format!("{prefix}/{name}"), out);
            }
        }
        Value::Array(items) => {
            for (index, value) in items.iter().enumerate() {
                selection_pointers(value, &format!("{prefix}/{index}"), out);
            }
        }
        _ => {}
    }
}

/// Verifies the example's presentation and compares the processed payload
/// with the one the RFC (or the library that generated it) prints.
fn check_example(path: &str) {
    let example = vector_json(path);
    let presentation = match &example["sd_jwt_presentation"] {
        Value::String(compact) => compact.clone(),
        json => json.to_string(),
    };
    let inputs = &example["verification_inputs"];
    // sd-jwt-python stamps its KB-JWTs with the time it generated them.
    let now = example["kb_jwt_payload"]["iat"]
        .as_i64()
        .map_or(NOW, |iat| NOW.max(iat + 1));
    // The RFC's KB-JWTs are from 2025; accept their age.
    let mut options = VerifyOptions::at(now).kb_max_age(i64::MAX / 2);
    if let (Some(aud), Some(nonce)) = (
        inputs["expected_aud"].as_str(),
        inputs["expected_nonce"].as_str(),
    ) {
        options = options.key_binding(KeyBindingCheck::new(aud, nonce));
    }
    let issuer = key(&inputs["issuer_public_keys"][0]);
    let verified = SdJwt::parse(&presentation)
        .unwrap()
        .verify(&issuer, &options)
        .unwrap();
    assert_eq!(
        Value::Object(verified.claims),
        example["expected_processed_payload"],
        "{path}"
    );
    assert_eq!(
        verified.key_binding.is_some(),
        example["key_binding"] == json!(true),
        "{path}"
    );

    // Every disclosure's digest is the one printed beside it.
    let issuance = match &example["sd_jwt_issuance"] {
        Value::String(compact) => compact.clone(),
        json => json.to_string(),
    };
    let issued = SdJwt::parse(&issuance).unwrap();
    for expected in example["disclosures"].as_array().unwrap() {
        let found = issued
            .disclosures()
            .iter()
            .find(|d| d.as_str() == expected["disclosure"].as_str().unwrap())
            .unwrap_or_else(|| panic!("{path}: disclosure missing"));
        assert_eq!(
            found.digest(),
            expected["digest_sha256"].as_str().unwrap(),
            "{path}"
        );
    }

    // The holder side: our selection of the same claims sends the same disclosures.
    if let Some(selection) = example.get("holder_selection_input") {
        let mut pointers = Vec::new();
        selection_pointers(selection, "", &mut pointers);
        let held = issued.disclose().unwrap();
        let pointers: Vec<&str> = pointers
            .iter()
            .map(String::as_str)
            .filter(|p| Value::Object(held.claims.clone()).pointer(p).is_some())
            .collect();
        let ours = SdJwt::parse(&held.present(&pointers, None).unwrap()).unwrap();
        let mut ours: Vec<&str> = ours.disclosures().iter().map(|d| d.as_str()).collect();
        let mut theirs: Vec<&str> = example["presented_disclosures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap())
            .collect();
        ours.sort_unstable();
        theirs.sort_unstable();
        assert_eq!(ours, theirs, "{path}: presented disclosures");
    }
}

macro_rules! example_tests {
    ($($name:ident => $path:literal,)*) => { $( #[test] fn $name() { check_example($path); } )* };
}

example_tests! {
    rfc9901_5_simple => "sd-jwt/rfc9901-examples/simple.json",
    rfc9901_6_address_only_flat => "sd-jwt/rfc9901-examples/address_only_flat.json",
    rfc9901_6_address_only_structured => "sd-jwt/rfc9901-examples/address_only_structured.json",
    rfc9901_6_address_only_structured_one_open => "sd-jwt/rfc9901-examples/address_only_structured_one_open.json",
    rfc9901_6_address_only_recursive => "sd-jwt/rfc9901-examples/address_only_recursive.json",
    rfc9901_8_2_json_serialization_flattened => "sd-jwt/rfc9901-examples/json_serialization_flattened.json",
    rfc9901_8_3_json_serialization_general => "sd-jwt/rfc9901-examples/json_serialization_general.json",
    rfc9901_a_1_simple_structured => "sd-jwt/rfc9901-examples/simple_structured.json",
    rfc9901_a_2_complex_ekyc => "sd-jwt/rfc9901-examples/complex_ekyc.json",
    rfc9901_a_3_arf_pid => "sd-jwt/rfc9901-examples/arf-pid.json",
    rfc9901_a_4_jsonld => "sd-jwt/rfc9901-examples/jsonld.json",
    sd_jwt_vc_2_3_example_with_key_binding => "sd-jwt-vc/draft-examples/01.json",
    sd_jwt_vc_2_3_2_example_without_key_binding => "sd-jwt-vc/draft-examples/02.json",
    sd_jwt_vc_a_1_pid_example => "sd-jwt-vc/draft-examples/03-pid.json",
    sd_jwt_python_array_data_types => "sd-jwt/sd-jwt-python-testcases/array_data_types.json",
    sd_jwt_python_array_full_sd => "sd-jwt/sd-jwt-python-testcases/array_full_sd.json",
    sd_jwt_python_array_nested_in_plain => "sd-jwt/sd-jwt-python-testcases/array_nested_in_plain.json",
    sd_jwt_python_array_none_disclosed => "sd-jwt/sd-jwt-python-testcases/array_none_disclosed.json",
    sd_jwt_python_array_of_objects => "sd-jwt/sd-jwt-python-testcases/array_of_objects.json",
    sd_jwt_python_array_of_scalars => "sd-jwt/sd-jwt-python-testcases/array_of_scalars.json",
    sd_jwt_python_array_recursive_sd => "sd-jwt/sd-jwt-python-testcases/array_recursive_sd.json",
    sd_jwt_python_json_serialization_flattened => "sd-jwt/sd-jwt-python-testcases/json_serialization_flattened.json",
    sd_jwt_python_json_serialization_general => "sd-jwt/sd-jwt-python-testcases/json_serialization_general.json",
    sd_jwt_python_key_binding => "sd-jwt/sd-jwt-python-testcases/key_binding.json",
    sd_jwt_python_no_sd => "sd-jwt/sd-jwt-python-testcases/no_sd.json",
}

#[test]
fn rfc9901_4_2_disclosure_encoding() {
    let cases = vector_json("sd-jwt/rfc9901-examples/disclosure-encoding.json");
    for case in cases["cases"].as_array().unwrap() {
        let encoded = case["disclosure"].as_str().unwrap();
        let disclosure = sd_jwt::Disclosure::parse(encoded, 0).unwrap();
        assert_eq!(
            disclosure.digest(),
            case["digest_sha256"].as_str().unwrap(),
            "{}",
            case["name"]
        );
        let decoded = case["decoded_array"].as_array().unwrap();
        assert_eq!(disclosure.salt, decoded[0].as_str().unwrap());
        match (&disclosure.kind, decoded.len()) {
            (sd_jwt::DisclosureKind::Property { name, value }, 3) => {
                assert_eq!(name, decoded[1].as_str().unwrap());
                assert_eq!(value, &decoded[2]);
            }
            (sd_jwt::DisclosureKind::ArrayElement(value), 2) => assert_eq!(value, &decoded[1]),
            (kind, len) => panic!("{}: {kind:?} for a {len}-element array", case["name"]),
        }
    }
}

/// The error each derived negative case must produce (RFC 9901 §7 step named in the file).
fn expected_code(case: &str) -> &'static str {
    match case {
        "issuer_signature_invalid" => "invalid_signature",
        "kb_required_but_missing" => "kb_missing",
        "kb_wrong_nonce" => "kb_nonce_mismatch",
        "kb_wrong_aud" => "kb_aud_mismatch",
        "unreferenced_disclosure" => "digest_mismatch",
        "duplicate_digest_in_payload" => "duplicate_digest",
        "disclosure_claim_name__sd" => "forbidden_claim_name",
        "claim_name_collision_with_plaintext" => "claim_name_collision",
        "array_disclosure_in_object_sd" => "disclosure_kind_mismatch",
        "expired_exp" => "expired",
        other => panic!("negative case {other} has no expected error yet"),
    }
}

#[test]
fn rfc9901_7_negative_derived_cases() {
    let file = vector_json("sd-jwt/negative-derived/cases.json");
    let issuer = key(&file["issuer_public_jwk"]);
    for case in file["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let policy = &case["verifier_policy"];
        // The file's clock, and a window that accepts its KB-JWTs' iat.
        let mut options = VerifyOptions::at(NOW).kb_max_age(NOW - 1_748_537_243 + 60);
        if policy["key_binding_required"] == json!(true) {
            options = options.key_binding(KeyBindingCheck::new(
                policy["expected_aud"].as_str().unwrap(),
                policy["expected_nonce"].as_str().unwrap(),
            ));
        }
        let outcome = SdJwt::parse(case["presentation"].as_str().unwrap())
            .and_then(|s| s.verify(&issuer, &options));
        match case["expect"].as_str().unwrap() {
            "accept" => assert!(outcome.is_ok(), "{name}: {outcome:?}"),
            _ => assert_eq!(
                outcome.map(|_| ()).unwrap_err().code(),
                expected_code(name),
                "{name}"
            ),
        }
    }
}

#[test]
fn eudi_kotlin_rs256_example_is_outside_our_profile() {
    let issued = vector("sd-jwt/eudi-lib-jvm-sdjwt-kt/exampleIssuanceSdJwt.txt");
    assert_eq!(
        SdJwt::parse(&issued).unwrap_err(),
        SdJwtError::Jws(intyg_core::jose::JoseError::UnsupportedAlg("RS256".into()))
    );
    let presented = vector("sd-jwt/eudi-lib-jvm-sdjwt-kt/examplePresentationSdJwt.txt");
    assert_eq!(
        SdJwt::parse(&presented).unwrap_err().code(),
        "unsupported_alg"
    );
}

/// Converts an sd-jwt-js disclosure frame (`{"_sd": ["a"], "b": {"_sd": ["c"]}}`)
/// into JSON pointers.
fn frame_pointers(frame: &Value, prefix: &str, out: &mut Vec<String>) {
    let Value::Object(map) = frame else { return };
    for (name, value) in map {
        if name == "_sd" {
            for item in value.as_array().unwrap() {
                match item {
                    Value::String(s) => out.push(format!("{prefix}/{s}")),
                    other => out.push(format!("{prefix}/{other}")),
                }
            }
        } else {
            frame_pointers(value, &format!("{prefix}/{name}"), out);
        }
    }
}

/// Converts a presentation frame (`{"a": true, "b": {"c": true}}`) into pointers.
fn presentation_pointers(frame: &Value, prefix: &str, out: &mut Vec<String>) {
    match frame {
        Value::Bool(true) => out.push(prefix.to_owned()),
        Value::Object(map) => {
            for (name, value) in map {
                presentation_pointers(value, &format!("{prefix}/{name}"), out);
            }
        }
        _ => {}
    }
}

fn prune_empty_objects(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.values_mut().for_each(prune_empty_objects);
            map.retain(|_, v| !matches!(v, Value::Object(m) if m.is_empty()));
        }
        Value::Array(items) => items.iter_mut().for_each(prune_empty_objects),
        _ => {}
    }
}

fn check_frame(path: &str) {
    let frame = vector_json(path);
    let issuer = SigningKey::generate().unwrap();
    let mut disclosable = Vec::new();
    frame_pointers(&frame["disclosureFrame"], "", &mut disclosable);
    let claims = frame["claims"].as_object().unwrap().clone();
    let issued = sd_jwt::issue(
        claims.clone(),
        &IssueOptions::new(disclosable),
        Header::new(Algorithm::ES256),
        &issuer,
    )
    .unwrap();
    let held = SdJwt::parse(&issued.to_string())
        .unwrap()
        .disclose()
        .unwrap();
    let mut full = claims;
    assert_eq!(held.claims, full, "{path}: the holder sees every claim");
    let mut wanted = Vec::new();
    if let Some(presentation) = frame.get("presentationFrames") {
        presentation_pointers(presentation, "", &mut wanted);
    }
    let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
    let presented = held.present(&wanted, None).unwrap();
    let verified = SdJwt::parse(&presented)
        .unwrap()
        .verify(
            &VerifyingKey::from_jwk(&issuer.public_jwk()).unwrap(),
            &VerifyOptions::at(NOW),
        )
        .unwrap();
    full.clear();
    if let Some(expected) = frame.get("presentedClaims") {
        // sd-jwt-js leaves out objects whose every member stayed concealed;
        // RFC 9901 §7.1 (and we) keep them as `{}`.
        let mut ours = Value::Object(verified.claims.clone());
        prune_empty_objects(&mut ours);
        assert_eq!(ours, *expected, "{path}");
    }
    for required in frame["requiredClaimKeys"].as_array().into_iter().flatten() {
        let pointer = format!("/{}", required.as_str().unwrap().replace('.', "/"));
        assert!(
            Value::Object(verified.claims.clone())
                .pointer(&pointer)
                .is_some(),
            "{path}: {pointer}"
        );
    }
}

macro_rules! frame_tests {
    ($($name:ident => $path:literal,)*) => { $( #[test] fn $name() { check_frame($path); } )* };
}

frame_tests! {
    sd_jwt_js_array_data_types => "sd-jwt/sd-jwt-js-frames/array_data_types.json",
    sd_jwt_js_array_full_sd => "sd-jwt/sd-jwt-js-frames/array_full_sd.json",
    sd_jwt_js_array_nested_in_plain => "sd-jwt/sd-jwt-js-frames/array_nested_in_plain.json",
    sd_jwt_js_array_none_disclosed => "sd-jwt/sd-jwt-js-frames/array_none_disclosed.json",
    sd_jwt_js_array_of_objects => "sd-jwt/sd-jwt-js-frames/array_of_objects.json",
    sd_jwt_js_array_of_scalars => "sd-jwt/sd-jwt-js-frames/array_of_scalars.json",
    sd_jwt_js_array_recursive_sd => "sd-jwt/sd-jwt-js-frames/array_recursive_sd.json",
    sd_jwt_js_complex => "sd-jwt/sd-jwt-js-frames/complex.json",
    sd_jwt_js_json_serialization => "sd-jwt/sd-jwt-js-frames/json_serialization.json",
    sd_jwt_js_key_binding => "sd-jwt/sd-jwt-js-frames/key_binding.json",
    sd_jwt_js_no_sd => "sd-jwt/sd-jwt-js-frames/no_sd.json",
}

/// Crafted SD-JWTs, one per rule: a test issuer signs whatever payload the
/// test builds, so each case breaks exactly one rule.
mod rules {
    use intyg_core::jose::{
        Algorithm, Header, JoseError, SigningKey, VerifyingKey, b64url_encode, sign_compact,
    };
    use intyg_core::sd_jwt::{
        self, IssueError, IssueOptions, KeyBindingCheck, KeyBindingInput, PresentError, SdJwt,
        SdJwtError, VerifyOptions,
    };
    use serde_json::{Value, json};
    use sha2::Digest as _;

    const NOW: i64 = 1_800_000_000;

    struct Lab {
        issuer: SigningKey,
        holder: SigningKey,
    }

    fn encode(disclosure: &Value) -> (String, String) {
        let encoded = b64url_encode(disclosure.to_string());
        let digest = b64url_encode(sha2::Sha256::digest(encoded.as_bytes()));
        (encoded, digest)
    }

    impl Lab {
        fn new() -> Self {
            Self {
                issuer: SigningKey::generate().unwrap(),
                holder: SigningKey::generate().unwrap(),
            }
        }

        fn sign(&self, payload: &Value, disclosures: &[String]) -> String {
            let jwt = sign_compact(
                &Header::new(Algorithm::ES256).typ("dc+sd-jwt"),
                payload.to_string().as_bytes(),
                &self.issuer,
            )
            .unwrap();
            let mut out = jwt + "~";
            for d in disclosures {
                out.push_str(d);
                out.push('~');
            }
            out
        }

        fn verify(
            &self,
            sd_jwt: &str,
            options: &VerifyOptions,
        ) -> Result<sd_jwt::Verified, SdJwtError> {
            SdJwt::parse(sd_jwt)?.verify(
                &VerifyingKey::from_jwk(&self.issuer.public_jwk()).unwrap(),
                options,
            )
        }

        fn code(&self, sd_jwt: &str) -> &'static str {
            self.verify(sd_jwt, &VerifyOptions::at(NOW))
                .map(|_| ())
                .unwrap_err()
                .code()
        }

        /// A holder-bound credential with given_name and family_name concealed.
        fn credential(&self) -> String {
            let claims = json!({ "iss": "https://issuer.example", "iat": NOW - 100, "exp": NOW + 1000,
                "cnf": { "jwk": self.holder.public_jwk() }, "given_name": "Alva", "family_name": "Berg" });
            sd_jwt::issue(
                claims.as_object().unwrap().clone(),
                &IssueOptions::new(["/given_name", "/family_name"]),
                Header::new(Algorithm::ES256),
                &self.issuer,
            )
            .unwrap()
            .to_string()
        }

        fn present(
            &self,
            credential: &str,
            iat: i64,
            key: &SigningKey,
        ) -> Result<String, PresentError> {
            SdJwt::parse(credential)
                .unwrap()
                .disclose()
                .unwrap()
                .present(
                    &["/given_name"],
                    Some(KeyBindingInput {
                        key,
                        aud: "https://verifier.example".into(),
                        nonce: "n-1".into(),
                        iat,
                    }),
                )
        }

        fn kb_code(&self, presentation: &str) -> &'static str {
            let options = VerifyOptions::at(NOW)
                .key_binding(KeyBindingCheck::new("https://verifier.example", "n-1"));
            self.verify(presentation, &options)
                .map(|_| ())
                .unwrap_err()
                .code()
        }

        /// Replaces the KB-JWT with one signed over `payload` with `header`.
        fn with_kb(
            &self,
            presentation: &str,
            header: Header,
            payload: Value,
            key: &SigningKey,
        ) -> String {
            let prefix = &presentation[..presentation.rfind('~').unwrap() + 1];
            prefix.to_owned() + &sign_compact(&header, payload.to_string().as_bytes(), key).unwrap()
        }

        fn sd_hash(presentation: &str) -> String {
            let prefix = &presentation[..presentation.rfind('~').unwrap() + 1];
            b64url_encode(sha2::Sha256::digest(prefix.as_bytes()))
        }
    }

    #[test]
    fn valid_presentation_verifies_and_reveals_only_what_was_chosen() {
        let lab = Lab::new();
        let presentation = lab.present(&lab.credential(), NOW, &lab.holder).unwrap();
        let options = VerifyOptions::at(NOW)
            .key_binding(KeyBindingCheck::new("https://verifier.example", "n-1"));
        let verified = lab.verify(&presentation, &options).unwrap();
        assert_eq!(verified.claims["given_name"], "Alva");
        assert!(!verified.claims.contains_key("family_name"));
        assert_eq!(verified.disclosed, ["/given_name"]);
        assert_eq!(verified.key_binding.unwrap().nonce, "n-1");
    }

    #[test]
    fn rfc9901_4_no_separator_is_malformed() {
        let lab = Lab::new();
        let jwt = lab.sign(&json!({}), &[]);
        assert_eq!(
            SdJwt::parse(jwt.trim_end_matches('~')).unwrap_err().code(),
            "malformed_sd_jwt"
        );
    }

    #[test]
    fn rfc9901_4_2_malformed_disclosures() {
        let lab = Lab::new();
        for bad in [
            "!!notbase64".to_owned(),
            b64url_encode("[\"salt\", \"a\", 1, 2]"),
            b64url_encode("[1, \"a\", 1]"),
            b64url_encode("{\"a\": 1}"),
        ] {
            assert_eq!(
                lab.code(&lab.sign(&json!({}), &[bad])),
                "malformed_disclosure"
            );
        }
        let empty = lab.sign(&json!({}), &[]) + "~";
        assert_eq!(lab.code(&empty), "malformed_disclosure");
    }

    #[test]
    fn rfc9901_7_1_alg_none_is_rejected() {
        let forged = format!(
            "{}.{}.~",
            b64url_encode(r#"{"alg":"none"}"#),
            b64url_encode("{}")
        );
        assert_eq!(
            SdJwt::parse(&forged).unwrap_err(),
            SdJwtError::Jws(JoseError::UnsupportedAlg("none".into()))
        );
    }

    #[test]
    fn rfc9901_7_1_unknown_crit_is_rejected() {
        let forged = format!(
            "{}.{}.AA~",
            b64url_encode(r#"{"alg":"ES256","crit":["x"],"x":1}"#),
            b64url_encode("{}")
        );
        assert_eq!(SdJwt::parse(&forged).unwrap_err().code(), "unknown_crit");
    }

    #[test]
    fn rfc9901_7_1_tampered_payload_fails_signature() {
        let lab = Lab::new();
        let good = lab.sign(&json!({"iss": "a"}), &[]);
        let mut parts: Vec<&str> = good.split('.').collect();
        let forged_payload = b64url_encode(r#"{"iss":"b"}"#);
        parts[1] = &forged_payload;
        assert_eq!(lab.code(&parts.join(".")), "invalid_signature");
        let other = Lab::new();
        assert_eq!(other.code(&good), "invalid_signature");
    }

    #[test]
    fn rfc9901_7_1_unsupported_sd_alg() {
        let lab = Lab::new();
        assert_eq!(
            lab.code(&lab.sign(&json!({"_sd_alg": "sha-512"}), &[])),
            "unsupported_sd_alg"
        );
    }

    #[test]
    fn rfc9901_4_2_4_sd_must_be_an_array_of_digests() {
        let lab = Lab::new();
        assert_eq!(
            lab.code(&lab.sign(&json!({"_sd": "abc"}), &[])),
            "malformed_digests"
        );
        assert_eq!(
            lab.code(&lab.sign(&json!({"_sd": [1]}), &[])),
            "malformed_digests"
        );
        assert_eq!(
            lab.code(&lab.sign(&json!({"a": [{"...": 1}]}), &[])),
            "malformed_digests"
        );
    }

    #[test]
    fn rfc9901_7_1_duplicate_digest_in_nested_object() {
        let lab = Lab::new();
        let (d, digest) = encode(&json!(["salt", "a", 1]));
        let payload = json!({"_sd": [digest], "nested": {"_sd": [digest]}});
        assert_eq!(lab.code(&lab.sign(&payload, &[d])), "duplicate_digest");
        // A decoy repeated is a duplicate too, disclosed or not.
        let payload = json!({"_sd": ["decoy"], "list": [{"...": "decoy"}]});
        assert_eq!(lab.code(&lab.sign(&payload, &[])), "duplicate_digest");
    }

    #[test]
    fn rfc9901_7_1_duplicate_disclosure() {
        let lab = Lab::new();
        let (d, digest) = encode(&json!(["salt", "a", 1]));
        assert_eq!(
            lab.code(&lab.sign(&json!({"_sd": [digest]}), &[d.clone(), d])),
            "duplicate_disclosure"
        );
    }

    #[test]
    fn rfc9901_7_1_forbidden_claim_names() {
        let lab = Lab::new();
        for name in ["_sd", "..."] {
            let (d, digest) = encode(&json!(["salt", name, 1]));
            assert_eq!(
                lab.code(&lab.sign(&json!({"_sd": [digest]}), &[d])),
                "forbidden_claim_name",
                "{name}"
            );
        }
    }

    #[test]
    fn rfc9901_7_1_claim_name_collision_between_disclosures() {
        let lab = Lab::new();
        let (d1, h1) = encode(&json!(["s1", "a", 1]));
        let (d2, h2) = encode(&json!(["s2", "a", 2]));
        assert_eq!(
            lab.code(&lab.sign(&json!({"_sd": [h1, h2]}), &[d1, d2])),
            "claim_name_collision"
        );
    }

    #[test]
    fn rfc9901_7_1_property_disclosure_in_array_slot() {
        let lab = Lab::new();
        let (d, digest) = encode(&json!(["salt", "a", 1]));
        assert_eq!(
            lab.code(&lab.sign(&json!({"list": [{"...": digest}]}), &[d])),
            "disclosure_kind_mismatch"
        );
    }

    #[test]
    fn rfc9901_7_1_unreferenced_disclosure() {
        let lab = Lab::new();
        let (d, _) = encode(&json!(["salt", "a", 1]));
        assert_eq!(lab.code(&lab.sign(&json!({}), &[d])), "digest_mismatch");
    }

    #[test]
    fn rfc9901_7_1_altered_disclosure_matches_no_digest() {
        let lab = Lab::new();
        let credential = lab.credential();
        let parts: Vec<&str> = credential.split('~').collect();
        // Same claim, another value: a new digest that the issuer never signed.
        let forged = b64url_encode(json!(["salt", "given_name", "Mallory"]).to_string());
        let altered = format!("{}~{}~{}~", parts[0], forged, parts[2]);
        assert_eq!(lab.code(&altered), "digest_mismatch");
    }

    #[test]
    fn deeply_nested_disclosures_are_refused() {
        let lab = Lab::new();
        let mut disclosures = Vec::new();
        let mut value = json!(1);
        for level in 0..40 {
            let (d, digest) = encode(&json!([format!("s{level}"), "n", value]));
            disclosures.push(d);
            value = json!({"_sd": [digest]});
        }
        assert_eq!(
            lab.code(&lab.sign(&value, &disclosures)),
            "nesting_too_deep"
        );
    }

    #[test]
    fn rfc9901_7_1_time_claims() {
        let lab = Lab::new();
        assert_eq!(
            lab.code(&lab.sign(&json!({"exp": NOW - 61}), &[])),
            "expired"
        );
        assert!(
            lab.verify(
                &lab.sign(&json!({"exp": NOW - 30}), &[]),
                &VerifyOptions::at(NOW)
            )
            .is_ok(),
            "within leeway"
        );
        assert_eq!(
            lab.code(&lab.sign(&json!({"nbf": NOW + 61}), &[])),
            "not_yet_valid"
        );
        assert_eq!(
            lab.code(&lab.sign(&json!({"iat": NOW + 61}), &[])),
            "issued_in_future"
        );
        assert_eq!(
            lab.code(&lab.sign(&json!({"exp": "tomorrow"}), &[])),
            "malformed_time_claim"
        );
    }

    #[test]
    fn rfc9901_7_3_kb_required_but_missing() {
        let lab = Lab::new();
        let credential = lab.credential();
        assert_eq!(lab.kb_code(&credential), "kb_missing");
    }

    #[test]
    fn rfc9901_7_3_kb_wrong_typ() {
        let lab = Lab::new();
        let p = lab.present(&lab.credential(), NOW, &lab.holder).unwrap();
        let payload = json!({"iat": NOW, "aud": "https://verifier.example", "nonce": "n-1", "sd_hash": Lab::sd_hash(&p)});
        let forged = lab.with_kb(
            &p,
            Header::new(Algorithm::ES256).typ("JWT"),
            payload,
            &lab.holder,
        );
        assert_eq!(lab.kb_code(&forged), "kb_invalid_typ");
    }

    #[test]
    fn rfc9901_7_3_kb_missing_claim_is_malformed() {
        let lab = Lab::new();
        let p = lab.present(&lab.credential(), NOW, &lab.holder).unwrap();
        let payload = json!({"iat": NOW, "aud": "https://verifier.example", "nonce": "n-1"});
        let forged = lab.with_kb(
            &p,
            Header::new(Algorithm::ES256).typ("kb+jwt"),
            payload,
            &lab.holder,
        );
        assert_eq!(lab.kb_code(&forged), "kb_malformed");
    }

    #[test]
    fn rfc9901_7_3_kb_without_cnf() {
        let lab = Lab::new();
        let credential = lab.sign(&json!({"iss": "x"}), &[]);
        let payload = json!({"iat": NOW, "aud": "https://verifier.example", "nonce": "n-1", "sd_hash": Lab::sd_hash(&(credential.clone() + "x"))});
        let forged = lab.with_kb(
            &(credential + "x"),
            Header::new(Algorithm::ES256).typ("kb+jwt"),
            payload,
            &lab.holder,
        );
        assert_eq!(lab.kb_code(&forged), "kb_no_holder_key");
    }

    #[test]
    fn rfc9901_7_3_kb_signed_by_another_key() {
        let lab = Lab::new();
        let p = lab.present(&lab.credential(), NOW, &lab.holder).unwrap();
        let thief = SigningKey::generate().unwrap();
        let payload = json!({"iat": NOW, "aud": "https://verifier.example", "nonce": "n-1", "sd_hash": Lab::sd_hash(&p)});
        let forged = lab.with_kb(
            &p,
            Header::new(Algorithm::ES256).typ("kb+jwt"),
            payload,
            &thief,
        );
        assert_eq!(lab.kb_code(&forged), "kb_invalid_signature");
    }

    #[test]
    fn rfc9901_7_3_kb_nonce_and_aud() {
        let lab = Lab::new();
        let p = lab.present(&lab.credential(), NOW, &lab.holder).unwrap();
        let verify = |aud: &str, nonce: &str| {
            let options = VerifyOptions::at(NOW).key_binding(KeyBindingCheck::new(aud, nonce));
            lab.verify(&p, &options).map(|_| ()).unwrap_err().code()
        };
        assert_eq!(
            verify("https://verifier.example", "n-2"),
            "kb_nonce_mismatch"
        );
        assert_eq!(verify("https://evil.example", "n-1"), "kb_aud_mismatch");
    }

    #[test]
    fn rfc9901_7_3_kb_sd_hash_covers_the_disclosures() {
        let lab = Lab::new();
        let p = lab.present(&lab.credential(), NOW, &lab.holder).unwrap();
        // Drop the one disclosure after the holder signed: sd_hash no longer matches.
        let parts: Vec<&str> = p.split('~').collect();
        let stripped = format!("{}~{}", parts[0], parts[parts.len() - 1]);
        assert_eq!(lab.kb_code(&stripped), "kb_sd_hash_mismatch");
    }

    #[test]
    fn rfc9901_7_3_kb_freshness() {
        let lab = Lab::new();
        let stale = lab
            .present(&lab.credential(), NOW - 301, &lab.holder)
            .unwrap();
        assert_eq!(lab.kb_code(&stale), "kb_stale");
        let future = lab
            .present(&lab.credential(), NOW + 61, &lab.holder)
            .unwrap();
        assert_eq!(lab.kb_code(&future), "kb_iat_in_future");
    }

    #[test]
    fn present_checks_paths_and_holder_key() {
        let lab = Lab::new();
        let held = SdJwt::parse(&lab.credential()).unwrap().disclose().unwrap();
        assert_eq!(
            held.present(&["/nickname"], None).unwrap_err(),
            PresentError::UnknownPath("/nickname".into())
        );
        assert_eq!(
            lab.present(&lab.credential(), NOW, &lab.issuer)
                .unwrap_err(),
            PresentError::HolderKeyMismatch
        );
        let unbound = lab.sign(&json!({"iss": "x"}), &[]);
        let held = SdJwt::parse(&unbound).unwrap().disclose().unwrap();
        let kb = KeyBindingInput {
            key: &lab.holder,
            aud: "a".into(),
            nonce: "n".into(),
            iat: NOW,
        };
        assert_eq!(
            held.present(&[], Some(kb)).unwrap_err(),
            PresentError::NoHolderKey
        );
    }

    #[test]
    fn present_includes_parent_disclosures_of_nested_claims() {
        let lab = Lab::new();
        let claims = json!({"address": {"locality": "Lund", "street": "Storgatan 1"}});
        let options = IssueOptions::new(["/address", "/address/locality", "/address/street"]);
        let issued = sd_jwt::issue(
            claims.as_object().unwrap().clone(),
            &options,
            Header::new(Algorithm::ES256),
            &lab.issuer,
        )
        .unwrap();
        let held = SdJwt::parse(&issued.to_string())
            .unwrap()
            .disclose()
            .unwrap();
        let presented = held.present(&["/address/locality"], None).unwrap();
        let verified = lab.verify(&presented, &VerifyOptions::at(NOW)).unwrap();
        assert_eq!(
            Value::Object(verified.claims),
            json!({"address": {"locality": "Lund"}})
        );
    }

    #[test]
    fn issue_rejects_unknown_paths_and_reserved_names() {
        let lab = Lab::new();
        let header = || Header::new(Algorithm::ES256);
        let claims = json!({"a": 1}).as_object().unwrap().clone();
        assert_eq!(
            sd_jwt::issue(
                claims.clone(),
                &IssueOptions::new(["/b"]),
                header(),
                &lab.issuer
            )
            .unwrap_err(),
            IssueError::UnknownPath("/b".into())
        );
        assert_eq!(
            sd_jwt::issue(claims, &IssueOptions::new([""]), header(), &lab.issuer).unwrap_err(),
            IssueError::NotDisclosable(String::new())
        );
        let reserved = json!({"_sd": []}).as_object().unwrap().clone();
        assert_eq!(
            sd_jwt::issue(
                reserved,
                &IssueOptions::new(Vec::<String>::new()),
                header(),
                &lab.issuer
            )
            .unwrap_err(),
            IssueError::ReservedClaimName("_sd".into())
        );
    }

    #[test]
    fn issued_digests_hide_claims_and_include_decoys() {
        let lab = Lab::new();
        let claims = json!({"a": 1, "b": 2}).as_object().unwrap().clone();
        let options = IssueOptions {
            max_decoys: 5,
            ..IssueOptions::new(["/a", "/b"])
        };
        let mut most = 0;
        for _ in 0..20 {
            let issued = sd_jwt::issue(
                claims.clone(),
                &options,
                Header::new(Algorithm::ES256),
                &lab.issuer,
            )
            .unwrap();
            assert!(!issued.payload().contains_key("a"));
            assert_eq!(issued.payload()["_sd_alg"], "sha-256");
            most = most.max(issued.payload()["_sd"].as_array().unwrap().len());
        }
        assert!(most > 2, "20 issuances with up to 5 decoys never added one");
    }

    #[test]
    fn rfc9901_8_1_flattened_json_round_trip() {
        let lab = Lab::new();
        let p = lab.present(&lab.credential(), NOW, &lab.holder).unwrap();
        let json = SdJwt::parse(&p).unwrap().to_flattened_json().to_string();
        let options = VerifyOptions::at(NOW)
            .key_binding(KeyBindingCheck::new("https://verifier.example", "n-1"));
        assert_eq!(
            lab.verify(&json, &options).unwrap().claims["given_name"],
            "Alva"
        );
    }
}

/// The draft's SD-JWT VC examples also pass the SD-JWT VC checks (`typ`,
/// `vct`, registered claims in the clear).
#[test]
fn sd_jwt_vc_draft_examples_are_valid_sd_jwt_vcs() {
    for path in [
        "sd-jwt-vc/draft-examples/01.json",
        "sd-jwt-vc/draft-examples/02.json",
        "sd-jwt-vc/draft-examples/03-pid.json",
    ] {
        let example = vector_json(path);
        let issuer = key(&example["verification_inputs"]["issuer_public_keys"][0]);
        let presentation = example["sd_jwt_presentation"].as_str().unwrap();
        let now = example["kb_jwt_payload"]["iat"]
            .as_i64()
            .map_or(NOW, |iat| NOW.max(iat + 1));
        let options = VerifyOptions::at(now).kb_max_age(i64::MAX / 2);
        let verified =
            intyg_core::vc::verify(SdJwt::parse(presentation).unwrap(), &issuer, &options, None)
                .unwrap();
        assert_eq!(
            verified.vct.as_str(),
            example["expected_processed_payload"]["vct"]
                .as_str()
                .unwrap(),
            "{path}"
        );
    }
}

/// A real PID from the EUDI dev issuer. Its issuer key sits in an `x5c`
/// certificate (chain validation belongs to the verifier's trust list), so
/// here the structure is checked: 27 disclosures resolve, the type is
/// `dc+sd-jwt`, and the status reference is the one printed in SOURCES.md.
#[test]
fn eudi_pid_sd_jwt_vc_resolves() {
    let pid = SdJwt::parse(&vector("sd-jwt-vc/eudi/sd-jwt-vc-pid.txt")).unwrap();
    assert_eq!(pid.header().typ.as_deref(), Some("dc+sd-jwt"));
    assert!(
        pid.header()
            .x5c
            .as_ref()
            .is_some_and(|chain| !chain.is_empty())
    );
    assert_eq!(pid.disclosures().len(), 27);
    let held = pid.disclose().unwrap();
    assert_eq!(held.claims["status"]["status_list"]["idx"], 4216);
    assert_eq!(held.disclosable_pointers().count(), 27);
}
