//! draft-ietf-oauth-status-list vectors (`test-vectors/status-list/`).
//!
//! Each JSON-form vector is decoded, compared entry by entry and re-encoded.
//! The CBOR encodings (`status_list_cbor_hex`, the CWT tokens' `hex`) are out
//! of scope, since Intyg uses the JWT form only; the CWT vectors' claims,
//! which the vector file also carries as JSON, are still checked.

use std::collections::BTreeMap;

use intyg_core::jose::{CompactJws, Jwk, SigningKey};
use intyg_core::status_list::{
    Bits, DecodeLimits, StatusClaim, StatusIndex, StatusList, StatusListClaim, StatusListToken,
    StatusListTokenClaims, StatusType, ValidationError, VerifyError,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::vector_json;

fn hex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd hex length");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex digit"))
        .collect()
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `statuses` member: index → value, every index not listed being 0.
fn statuses(vector: &Value) -> BTreeMap<usize, u8> {
    vector["statuses"]
        .as_object()
        .expect("statuses object")
        .iter()
        .map(|(index, value)| {
            (
                index.parse().expect("decimal index"),
                u8::try_from(value.as_u64().expect("status value")).expect("status fits in u8"),
            )
        })
        .collect()
}

/// Decodes `status_list_json`, then checks it against everything the
/// vector states: size, uncompressed length and digest, every listed status
/// and zero everywhere else; finally re-encodes and decodes again.
fn check_encoding_vector(path: &str) -> StatusList {
    let vector = vector_json(path);
    let claim: StatusListClaim =
        serde_json::from_value(vector["status_list_json"].clone()).expect("status_list_json");
    let bits = Bits::try_from(u8::try_from(vector["bits"].as_u64().unwrap()).unwrap()).unwrap();
    assert_eq!(claim.bits, bits);

    let list = claim.decode(DecodeLimits::default()).expect("lst decodes");
    let size = usize::try_from(vector["size"].as_u64().unwrap()).unwrap();
    assert_eq!(list.len(), size);
    assert_eq!(
        list.as_bytes().len() as u64,
        vector["uncompressed_length_bytes"].as_u64().unwrap()
    );
    assert_eq!(
        hex_string(&Sha256::digest(list.as_bytes())),
        vector["uncompressed_sha256_hex"].as_str().unwrap()
    );

    let expected = statuses(&vector);
    for (index, status) in list.iter().enumerate() {
        let want = expected.get(&index).copied().unwrap_or(0);
        assert_eq!(status.value(), want, "{path}: index {index}");
    }
    for (&index, &value) in &expected {
        assert_eq!(
            list.get(StatusIndex::from(index as u64)).unwrap(),
            StatusType::from(value)
        );
    }
    assert!(list.get(StatusIndex::from(size as u64)).is_err());

    let reencoded = StatusListClaim::from(&list);
    assert_eq!(reencoded.bits, bits);
    assert_eq!(reencoded.decode(DecodeLimits::default()).unwrap(), list);
    list
}

/// The small vectors also give the raw and the compressed bytes.
fn check_small_vector(path: &str) {
    let vector = vector_json(path);
    let list = check_encoding_vector(path);
    assert_eq!(
        list.as_bytes(),
        hex(vector["uncompressed_hex"].as_str().unwrap())
    );
    let compressed = hex(vector["compressed_hex"].as_str().unwrap());
    assert_eq!(
        StatusList::decompress(list.bits(), &compressed, DecodeLimits::default()).unwrap(),
        list
    );
    // Built from scratch with `set`, the list packs to the same bytes.
    let mut built = StatusList::new(list.bits(), list.len());
    for (index, value) in statuses(&vector) {
        built
            .set(StatusIndex::from(index as u64), StatusType::from(value))
            .unwrap();
    }
    assert_eq!(built, list);
}

#[test]
fn draft_status_list_4_1_example_1bit_16() {
    check_small_vector("status-list/small-1bit-16.json");
}

#[test]
fn draft_status_list_4_1_example_2bit_12() {
    check_small_vector("status-list/small-2bit-12.json");
}

#[test]
fn draft_status_list_appendix_c_1bit_2pow20() {
    check_encoding_vector("status-list/long-1bit-2pow20.json");
}

#[test]
fn draft_status_list_appendix_c_8bit_2pow20() {
    check_encoding_vector("status-list/long-8bit-2pow20.json");
}

/// The 1 MiB 8-bit vector is refused under a smaller cap.
#[test]
fn draft_status_list_appendix_c_8bit_2pow20_over_the_cap() {
    let vector = vector_json("status-list/long-8bit-2pow20.json");
    let claim: StatusListClaim =
        serde_json::from_value(vector["status_list_json"].clone()).unwrap();
    let limits = DecodeLimits {
        max_decompressed_bytes: 1024 * 1024 - 1,
    };
    assert!(matches!(
        claim.decode(limits),
        Err(intyg_core::status_list::DecodeError::TooLarge { .. })
    ));
}

fn tokens() -> Value {
    vector_json("status-list/status-list-tokens.json")
}

fn example_public_key(tokens: &Value) -> Jwk {
    let mut jwk = tokens["example_key_private_jwk"].clone();
    jwk.as_object_mut().unwrap().remove("d");
    serde_json::from_value(jwk).unwrap()
}

fn jwt_example_sub(tokens: &Value) -> String {
    tokens["status_list_token_jwt"]["payload"]["sub"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn jwt_example_iat(tokens: &Value) -> i64 {
    tokens["status_list_token_jwt"]["payload"]["iat"]
        .as_i64()
        .unwrap()
}

/// §5.1 example token: header and claims as the vector states them.
#[test]
fn draft_status_list_5_1_jwt_example_claims() {
    let tokens = tokens();
    let example = &tokens["status_list_token_jwt"];
    let jws = CompactJws::parse(example["compact"].as_str().unwrap()).unwrap();
    assert_eq!(
        serde_json::to_value(&jws.header).unwrap(),
        example["header"]
    );
    let payload: Value = serde_json::from_slice(&jws.payload).unwrap();
    assert_eq!(payload, example["payload"]);

    let claims: StatusListTokenClaims = serde_json::from_slice(&jws.payload).unwrap();
    assert_eq!(claims.sub, "https://example.com/statuslists/1");
    assert_eq!(claims.iat, 1686920170);
    assert_eq!(claims.exp, Some(2291720170));
    assert_eq!(claims.ttl.map(|ttl| ttl.get()), Some(43200));
    assert_eq!(claims.iss.as_deref(), Some("https://example.com"));
    assert_eq!(claims.status_list.bits, Bits::One);
    assert!(claims.extra.is_empty());
    // The list is the 1-bit example of §4.1.
    assert_eq!(
        claims
            .status_list
            .decode(DecodeLimits::default())
            .unwrap()
            .as_bytes(),
        &[0xb9, 0xa3]
    );
}

/// §5.1 example token: the signature verifies with the example key, the
/// claims validate, and the listed statuses read back.
#[test]
fn draft_status_list_5_1_jwt_example_verifies() {
    let tokens = tokens();
    let example = &tokens["status_list_token_jwt"];
    assert_eq!(example["expected_signature_valid"], Value::Bool(true));
    let token = StatusListToken::verify(
        example["compact"].as_str().unwrap(),
        &example_public_key(&tokens),
        &jwt_example_sub(&tokens),
        jwt_example_iat(&tokens) + 1,
        DecodeLimits::default(),
    )
    .unwrap();
    for (index, value) in example["expected_status_at_index"].as_object().unwrap() {
        let index: StatusIndex = index.parse().unwrap();
        let value = u8::try_from(value.as_u64().unwrap()).unwrap();
        assert_eq!(token.status(index).unwrap(), StatusType::from(value));
    }
}

/// §8.3 step 4a and 4c, on the §5.1 example token.
#[test]
fn draft_status_list_8_3_jwt_example_wrong_uri_and_expiry() {
    let tokens = tokens();
    let compact = tokens["status_list_token_jwt"]["compact"].as_str().unwrap();
    let key = example_public_key(&tokens);
    let now = jwt_example_iat(&tokens) + 1;
    assert!(matches!(
        StatusListToken::verify(
            compact,
            &key,
            "https://example.com/statuslists/2",
            now,
            DecodeLimits::default()
        ),
        Err(VerifyError::Invalid(
            ValidationError::SubjectMismatch { .. }
        ))
    ));
    assert!(matches!(
        StatusListToken::verify(
            compact,
            &key,
            &jwt_example_sub(&tokens),
            2291720170,
            DecodeLimits::default()
        ),
        Err(VerifyError::Invalid(ValidationError::Expired { .. }))
    ));
}

/// Re-signing the §5.1 example claims with the example private key gives a
/// token that verifies to the same list.
#[test]
fn draft_status_list_5_1_jwt_example_resigned() {
    let tokens = tokens();
    let private: Jwk = serde_json::from_value(tokens["example_key_private_jwk"].clone()).unwrap();
    let key = SigningKey::from_jwk(&private).unwrap();
    let claims: StatusListTokenClaims =
        serde_json::from_value(tokens["status_list_token_jwt"]["payload"].clone()).unwrap();
    let jws = StatusListToken::sign(&claims, &key, Some("12")).unwrap();
    let token = StatusListToken::verify(
        &jws,
        &example_public_key(&tokens),
        &claims.sub,
        claims.iat,
        DecodeLimits::default(),
    )
    .unwrap();
    assert_eq!(token.claims(), &claims);
    assert_eq!(token.list().as_bytes(), &[0xb9, 0xa3]);
}

/// §5.2 example: the CWT's status list claim (65533), transcribed to JSON
/// with `lst` as hex, holds the same list as the JWT example. The COSE
/// envelope and its signature are CBOR and out of scope.
#[test]
fn draft_status_list_5_2_cwt_example_status_list_claim() {
    let tokens = tokens();
    let claims = &tokens["status_list_token_cwt"]["claims"];
    assert_eq!(claims["2"], Value::String(jwt_example_sub(&tokens)));
    let status_list = &claims["65533"];
    let bits =
        Bits::try_from(u8::try_from(status_list["bits"].as_u64().unwrap()).unwrap()).unwrap();
    let compressed = hex(status_list["lst"]["hex"].as_str().unwrap());
    let list = StatusList::decompress(bits, &compressed, DecodeLimits::default()).unwrap();
    let jwt_list =
        StatusList::decode(Bits::One, "eNrbuRgAAhcBXQ", DecodeLimits::default()).unwrap();
    assert_eq!(list, jwt_list);
}

/// §6.3 example: the CWT Referenced Token's `status` claim (65535), read as
/// the JSON `status` claim of §6.2, points at index 0 of the example list,
/// which is INVALID.
#[test]
fn draft_status_list_6_3_cwt_referenced_token_status_claim() {
    let tokens = tokens();
    let status: StatusClaim =
        serde_json::from_value(tokens["referenced_token_cwt"]["claims"]["65535"].clone()).unwrap();
    let reference = status.status_list.expect("status_list reference");
    assert!(status.other.is_empty());
    assert_eq!(reference.idx, StatusIndex::from(0u32));
    let token = StatusListToken::verify(
        tokens["status_list_token_jwt"]["compact"].as_str().unwrap(),
        &example_public_key(&tokens),
        &reference.uri,
        jwt_example_iat(&tokens) + 1,
        DecodeLimits::default(),
    )
    .unwrap();
    assert_eq!(token.status(reference.idx).unwrap(), StatusType::Invalid);
}
