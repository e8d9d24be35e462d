//! OpenID4VP 1.0 vectors: `test-vectors/oid4vp/` (see its SOURCES.md),
//! parsed into `intyg_core::oid4vp` types, round-tripped and validated.
//! Spec examples with `...`/`{...}` placeholders get a concrete value in
//! place of the placeholder, and nothing else changes.

use intyg_core::dcql::ValidatedQuery;
use intyg_core::jose::jwe::{ContentEncryption, KeyAgreement, encryption_jwk};
use intyg_core::jose::{CompactJws, JoseError, b64url_encode};
use intyg_core::oid4vp::{
    AuthorizationErrorResponse, AuthorizationRequest, AuthorizationResponse, ClientId,
    ClientIdPrefix, ClientMetadata, DirectPostBody, ErrorCode, Invocation, OPENID4VP_SCHEME,
    Presentation, RequestError, RequestObjectError, RequestObjectSource, RequestSigning,
    RequestUriMethod, ResponseEncryption, ResponseError, ResponseMode, ResponseUriResponse,
    UnverifiedRequestObject, VpToken,
};
use serde_json::{Map, Value, json};

use crate::{vector, vector_json};

const INLINE: &str = "oid4vp/spec-1.0-inline-examples.json";
const EXAMPLES: &str = "oid4vp/spec-1.0-examples/";

/// A DCQL query standing in for the spec's `{...}` placeholders.
const QUERY: &str = r#"{"credentials":[{"id":"my_credential","format":"dc+sd-jwt","meta":{"vct_values":["https://credentials.example.com/identity_credential"]},"claims":[{"path":["family_name"]}]}]}"#;

fn inline(index: usize) -> Value {
    vector_json(INLINE)[index].clone()
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("expected an object, got {other}"),
    }
}

/// Replaces the `{...}` / `{ ... }` placeholders of a non-strict example.
fn with_query(text: &str) -> Map<String, Value> {
    let text = text.replace("{ ... }", QUERY).replace("{...}", QUERY);
    object(serde_json::from_str(&text).unwrap())
}

/// Turns an example `GET /authorize?` request (one parameter a line) into
/// an `openid4vp://` URI.
fn authorize_uri(raw: &str, dcql: &str) -> String {
    let query: Vec<String> = raw
        .lines()
        .skip(1)
        .map(|line| {
            line.trim()
                .trim_start_matches('&')
                .trim_end_matches(" HTTP/1.1")
        })
        .filter(|line| line.contains('=') && !line.contains(':'))
        .map(|line| line.replace("dcql_query=...", &format!("dcql_query={dcql}")))
        .filter(|line| !line.ends_with("=..."))
        .collect();
    format!("{OPENID4VP_SCHEME}?{}", query.join("&"))
}

fn encoded_query() -> String {
    url_encode(QUERY)
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn form_body(raw: &str) -> String {
    let body = raw.split("\n\n").nth(1).unwrap();
    body.lines().map(str::trim).collect()
}

// --- §5.4 examples ---------------------------------------------------------

#[test]
fn oid4vp_5_4_request_with_url_encoded_parameters() {
    let raw = inline(0)["raw"].as_str().unwrap().to_owned();
    let uri = authorize_uri(&raw, &encoded_query());
    let Invocation::ByValue(request) = AuthorizationRequest::from_uri(&uri).unwrap() else {
        panic!("expected a request by value")
    };
    let client_id = request.client_id.as_ref().unwrap();
    assert_eq!(client_id.prefix(), ClientIdPrefix::RedirectUri);
    assert_eq!(request.response_mode(), ResponseMode::Fragment);
    assert_eq!(request.nonce.as_str(), "n-0S6_WzA2Mj");
    assert_eq!(
        request.response_destination(),
        Some("https://client.example.org/cb")
    );
    let again = Invocation::ByValue(request.clone()).to_uri(OPENID4VP_SCHEME);
    assert_eq!(
        AuthorizationRequest::from_uri(&again).unwrap(),
        Invocation::ByValue(request)
    );
}

#[test]
fn oid4vp_5_4_request_object_by_value() {
    let raw = inline(1)["raw"].as_str().unwrap().to_owned();
    let query = raw
        .lines()
        .skip(1)
        .map(|l| l.trim().trim_start_matches('&'));
    let uri = format!("{OPENID4VP_SCHEME}?{}", query.collect::<Vec<_>>().join("&"));
    let Invocation::ByReference(reference) = AuthorizationRequest::from_uri(&uri).unwrap() else {
        panic!("expected a reference")
    };
    assert_eq!(reference.client_id.prefix(), ClientIdPrefix::RedirectUri);
    assert_eq!(
        reference.source,
        RequestObjectSource::Value("eyJrd...".into())
    );
}

#[test]
fn oid4vp_5_4_request_object_payload() {
    let payload = object(inline(2)["json"].clone());
    // The example's redirect_uri is "https//client..." (no colon): not a URL.
    assert!(matches!(
        AuthorizationRequest::from_object(payload.clone()),
        Err(RequestError::InvalidUrl("redirect_uri"))
    ));
    let mut fixed = payload;
    fixed.insert(
        "redirect_uri".into(),
        json!("https://client.example.org/cb"),
    );
    for claim in ["iss", "aud"] {
        fixed.remove(claim);
    }
    let request = AuthorizationRequest::from_object(fixed).unwrap();
    request.validate(RequestSigning::Unsigned).unwrap();
    // The example signs a redirect_uri: request, which §5.9.3 rules out.
    assert!(matches!(
        request.validate(RequestSigning::Signed),
        Err(RequestError::SignedRedirectUriClient)
    ));
}

#[test]
fn oid4vp_5_4_request_by_reference_with_post() {
    let raw = inline(3)["raw"].as_str().unwrap().to_owned();
    let uri = authorize_uri(&raw, "");
    let Invocation::ByReference(reference) = AuthorizationRequest::from_uri(&uri).unwrap() else {
        panic!("expected a reference")
    };
    assert_eq!(
        reference.client_id.as_str(),
        "x509_san_dns:client.example.org"
    );
    assert_eq!(
        reference.source,
        RequestObjectSource::Uri {
            request_uri: "https://client.example.org/request/vapof4ql2i7m41m68uep".into(),
            method: Some(RequestUriMethod::Post),
        }
    );
}

#[test]
fn oid4vp_5_5_scope_request_is_refused_explicitly() {
    let raw = inline(5)["raw"].as_str().unwrap().to_owned();
    let uri = authorize_uri(&raw, "");
    let error = AuthorizationRequest::from_uri(&uri).unwrap_err();
    assert!(
        matches!(&error, RequestError::ScopeUnsupported(s) if s == "com.example.healthCardCredential_presentation")
    );
    assert_eq!(ErrorCode::from(&error), ErrorCode::InvalidScope);
}

#[test]
fn oid4vp_5_10_1_request_uri_response_payload() {
    let request =
        AuthorizationRequest::from_object(with_query(inline(8)["raw"].as_str().unwrap())).unwrap();
    request.validate(RequestSigning::Signed).unwrap();
    assert!(matches!(
        request.validate(RequestSigning::Unsigned),
        Err(RequestError::UnsignedRequest(ClientIdPrefix::X509SanDns))
    ));
    assert_eq!(
        request.wallet_nonce.as_deref(),
        Some("qPmxiNFCR3QTm19POc8u")
    );
    assert_eq!(request.state.as_ref().unwrap().as_str(), "eyJhb...6-sVA");
}

#[test]
fn oid4vp_5_9_3_decentralized_identifier_request_object() {
    let header = vector(&format!(
        "{EXAMPLES}request/request_header_client_id_did.json"
    ));
    // RS256 is outside our closed algorithm set: refused before any key.
    let forged = format!(
        "{}.{}.{}",
        b64url_encode(header.trim()),
        b64url_encode("{}"),
        b64url_encode([0u8; 64])
    );
    assert!(matches!(
        UnverifiedRequestObject::parse(&forged),
        Err(RequestObjectError::Jose(JoseError::UnsupportedAlg(a))) if a == "RS256"
    ));
    assert!(matches!(
        CompactJws::parse(&forged),
        Err(JoseError::UnsupportedAlg(_))
    ));

    let body = vector(&format!(
        "{EXAMPLES}request/request_object_client_id_did.json"
    ));
    let request = AuthorizationRequest::from_object(with_query(&body)).unwrap();
    let client_id = request.client_id.as_ref().unwrap();
    assert_eq!(client_id.prefix(), ClientIdPrefix::DecentralizedIdentifier);
    assert_eq!(client_id.original(), "did:example:123");
    request.validate(RequestSigning::Signed).unwrap();
    assert!(matches!(
        request.validate(RequestSigning::Unsigned),
        Err(RequestError::UnsignedRequest(
            ClientIdPrefix::DecentralizedIdentifier
        ))
    ));
    let formats = request
        .client_metadata
        .as_ref()
        .and_then(|m| m.vp_formats_supported.as_ref())
        .unwrap();
    assert_eq!(
        formats["dc+sd-jwt"]["kb-jwt_alg_values"],
        json!(["ES256", "ES384"])
    );
}

#[test]
fn oid4vp_5_1_dcql_requests_for_w3c_formats() {
    for file in ["dcql_jwt_vc.json", "dcql_ldp_vc.json"] {
        let query = vector(&format!("{EXAMPLES}request/{file}"));
        let mut params = object(json!({
            "response_type": "vp_token",
            "client_id": "redirect_uri:https://client.example.org/cb",
            "nonce": "n-0S6_WzA2Mj",
        }));
        params.insert("dcql_query".into(), serde_json::from_str(&query).unwrap());
        let request = AuthorizationRequest::from_object(params).unwrap();
        request.validate(RequestSigning::Unsigned).unwrap();
        let expected: Value = serde_json::from_str(&query).unwrap();
        assert_eq!(
            serde_json::to_value(request.dcql_query.query()).unwrap()["credentials"][0]["meta"],
            expected["credentials"][0]["meta"],
            "{file}"
        );
    }
}

// --- §8 responses ----------------------------------------------------------

#[test]
fn oid4vp_8_1_vp_token_examples() {
    let query = ValidatedQuery::from_json(QUERY).unwrap().into_query();
    let single: VpToken = serde_json::from_value(inline(14)["json"].clone()).unwrap();
    single.check_against(&query).unwrap();
    assert_eq!(
        single.presentations("my_credential").unwrap(),
        [Presentation::Compact("eyJhbGci...QMA".into())]
    );
    // §8.1 "multiple": the example's trailing `...` stands for more entries.
    let text = inline(15)["raw"].as_str().unwrap().replace(", ...]", "]");
    let multiple: VpToken = serde_json::from_str(&text).unwrap();
    assert!(multiple.check_against(&query).is_err());
    let mut query_multiple = query.clone();
    query_multiple.credentials[0].multiple = true;
    multiple.check_against(&query_multiple).unwrap();
    for index in [39, 42] {
        let token: VpToken = serde_json::from_value(inline(index)["json"].clone()).unwrap();
        assert_eq!(serde_json::to_value(&token).unwrap(), inline(index)["json"]);
    }
}

#[test]
fn oid4vp_8_2_direct_post_request_object_and_invocation() {
    let request =
        AuthorizationRequest::from_object(with_query(inline(16)["raw"].as_str().unwrap())).unwrap();
    request.validate(RequestSigning::Unsigned).unwrap();
    assert_eq!(request.response_mode(), ResponseMode::DirectPost);

    let raw = inline(17)["raw"].as_str().unwrap().to_owned();
    let uri: String = raw.lines().map(str::trim).collect();
    let Invocation::ByReference(reference) = AuthorizationRequest::from_uri(&uri).unwrap() else {
        panic!("expected a reference")
    };
    assert_eq!(reference.client_id.prefix(), ClientIdPrefix::PreRegistered);
    assert_eq!(
        reference.source,
        RequestObjectSource::Uri {
            request_uri: "https://client.example.org/567545564".into(),
            method: None
        }
    );
}

#[test]
fn oid4vp_8_2_direct_post_response_body() {
    let body = form_body(inline(18)["raw"].as_str().unwrap());
    // `vp_token=...` is a placeholder, not JSON.
    assert!(matches!(
        DirectPostBody::from_form(&body),
        Err(ResponseError::Malformed {
            parameter: "vp_token",
            ..
        })
    ));
    let token = url_encode(&inline(14)["raw"].as_str().unwrap().replace('\n', ""));
    let body = body.replace("vp_token=...", &format!("vp_token={token}"));
    let DirectPostBody::Plain(response) = DirectPostBody::from_form(&body).unwrap() else {
        panic!("expected a plain response")
    };
    assert_eq!(response.state.as_ref().unwrap().as_str(), "eyJhb...6-sVA");
    let again = DirectPostBody::Plain(response);
    assert_eq!(DirectPostBody::from_form(&again.to_form()).unwrap(), again);
}

#[test]
fn oid4vp_8_2_direct_post_error_response() {
    let body = form_body(inline(19)["raw"].as_str().unwrap());
    let DirectPostBody::Error(error) = DirectPostBody::from_form(&body).unwrap() else {
        panic!("expected an error")
    };
    assert_eq!(error.error, ErrorCode::InvalidRequest);
    assert_eq!(
        error.error_description.as_deref(),
        Some("unsupported client_id_prefix")
    );
    assert_eq!(error.state.as_ref().unwrap().as_str(), "eyJhb...6-sVA");
}

#[test]
fn oid4vp_8_2_response_uri_answer() {
    let answer: ResponseUriResponse =
        serde_json::from_value(inline(20)["body_json"].clone()).unwrap();
    assert_eq!(
        answer.redirect_uri.as_deref(),
        Some("https://client.example.org/cb#response_code=091535f699ea575c7937fa5f0f454aee")
    );
    assert_eq!(
        serde_json::to_value(&answer).unwrap(),
        inline(20)["body_json"]
    );
}

fn check_encrypted_request(request_json: Value) -> ClientMetadata {
    let request = AuthorizationRequest::from_object(object(request_json)).unwrap();
    // An unsigned DC API request: no client_id (Appendix A.2).
    request.validate(RequestSigning::Unsigned).unwrap();
    assert_eq!(request.response_mode(), ResponseMode::DcApiJwt);
    let metadata = request.client_metadata.unwrap();
    let chosen = ResponseEncryption::select(&metadata).unwrap();
    assert_eq!(chosen.kid.as_deref(), Some("ac"));
    assert_eq!(chosen.enc, ContentEncryption::A128GCM);
    metadata
}

#[test]
fn oid4vp_8_3_encrypted_response_vector() {
    let v = vector_json("oid4vp/encrypted-response-ecdh-es-a128gcm.json");
    check_encrypted_request(v["verifier_metadata_request_example"].clone());
    let private = encryption_jwk(object(v["recipient_private_jwk"].clone())).unwrap();
    let form = format!(
        "response={}",
        v["encrypted_response_form"]["response"].as_str().unwrap()
    );
    let DirectPostBody::Encrypted(jwe) = DirectPostBody::from_form(&form).unwrap() else {
        panic!("expected an encrypted response")
    };
    assert_eq!(jwe, v["jwe_compact"].as_str().unwrap());
    let (header, response) = AuthorizationResponse::decrypt(&jwe, &private).unwrap();
    let expected = &v["expected_protected_header"];
    assert_eq!(header.alg, KeyAgreement::EcdhEs);
    assert_eq!(header.enc, ContentEncryption::A128GCM);
    assert_eq!(header.kid.as_deref(), expected["kid"].as_str());
    assert!(header.apu.is_none() && header.apv.is_none());
    assert_eq!(serde_json::to_value(&header.epk).unwrap(), expected["epk"]);
    assert_eq!(
        serde_json::to_value(&response).unwrap(),
        v["expected_plaintext_json"]
    );
}

#[test]
fn oid4vp_8_3_encrypted_response_inline_examples() {
    let metadata = check_encrypted_request(inline(21)["json"].clone());
    let private = encryption_jwk(object(inline(23)["json"].clone())).unwrap();
    let jwe = inline(22)["json"]["response"].as_str().unwrap().to_owned();
    let (header, response) = AuthorizationResponse::decrypt(&jwe, &private).unwrap();
    assert_eq!(serde_json::to_value(&header).unwrap(), inline(24)["json"]);
    assert_eq!(serde_json::to_value(&response).unwrap(), inline(25)["json"]);

    // And the other way: a real dc+sd-jwt presentation (sd_jwt_vcld/01),
    // encrypted by us to the spec's key "ac", opened with its private key.
    let presentation: String = vector(&format!("{EXAMPLES}sd_jwt_vcld/01/sd_jwt_presentation.txt"))
        .split_whitespace()
        .collect();
    let token: VpToken =
        serde_json::from_value(json!({"my_credential": [presentation.clone()]})).unwrap();
    let ours = AuthorizationResponse::new(token, None);
    let encryption = ResponseEncryption::select(&metadata).unwrap();
    let body = DirectPostBody::Encrypted(ours.encrypt(&encryption).unwrap());
    let DirectPostBody::Encrypted(jwe) = DirectPostBody::from_form(&body.to_form()).unwrap() else {
        panic!("expected an encrypted response")
    };
    let (header, opened) = AuthorizationResponse::decrypt(&jwe, &private).unwrap();
    assert_eq!(header.kid.as_deref(), Some("ac"));
    assert!(header.apu.is_none() && header.apv.is_none());
    assert_eq!(opened, ours);
    assert_eq!(
        opened.vp_token.presentations("my_credential").unwrap(),
        [Presentation::Compact(presentation)]
    );
}

#[test]
fn oid4vp_8_3_1_direct_post_jwt_examples() {
    let body = form_body(inline(26)["raw"].as_str().unwrap());
    let DirectPostBody::Encrypted(jwe) = DirectPostBody::from_form(&body).unwrap() else {
        panic!("expected an encrypted response")
    };
    assert_eq!(jwe, "eyJra...9t2LQ");
    let key = encryption_jwk(object(inline(23)["json"].clone())).unwrap();
    assert!(matches!(
        AuthorizationResponse::decrypt(&jwe, &key),
        Err(ResponseError::Jwe(_))
    ));
    let payload: AuthorizationResponse =
        serde_json::from_value(inline(27)["json"].clone()).unwrap();
    assert_eq!(
        payload
            .vp_token
            .presentations("example_jwt_vc")
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn oid4vp_a_2_dc_api_requests() {
    let unsigned = with_query(
        &inline(31)["raw"]
            .as_str()
            .unwrap()
            .replace("client_metadata: {...},", "")
            .replace("response_type", "\"response_type\"")
            .replace("response_mode", "\"response_mode\"")
            .replace("nonce:", "\"nonce\":")
            .replace("dcql_query", "\"dcql_query\""),
    );
    let request = AuthorizationRequest::from_object(unsigned).unwrap();
    request.validate(RequestSigning::Unsigned).unwrap();
    assert_eq!(request.response_mode(), ResponseMode::DcApi);

    let multi = vector(&format!(
        "{EXAMPLES}digital_credentials_api/signed_request_payload.json"
    ));
    let request = AuthorizationRequest::from_object(with_query(&multi)).unwrap();
    // client_id travels in each signature's header of the JWS JSON
    // serialization, so the payload alone is checked as unsigned.
    request.validate(RequestSigning::Unsigned).unwrap();
    assert_eq!(request.expected_origins.as_ref().unwrap().len(), 2);
    let compact = vector(&format!(
        "{EXAMPLES}digital_credentials_api/signed_request_payload_compact.json"
    ));
    let request = AuthorizationRequest::from_object(with_query(&compact)).unwrap();
    request.validate(RequestSigning::Signed).unwrap();
    let mut without_origins = request.clone();
    without_origins.expected_origins = None;
    assert!(matches!(
        without_origins.validate(RequestSigning::Signed),
        Err(RequestError::MissingParameter("expected_origins"))
    ));
    // Its key has no `alg`, so §8.3 forbids encrypting to it.
    assert!(matches!(
        ResponseEncryption::select(request.client_metadata.as_ref().unwrap()),
        Err(ResponseError::NoEncryptionKey)
    ));

    let header = inline(34)["json"].clone();
    let client_id: ClientId = header["client_id"].as_str().unwrap().parse().unwrap();
    assert_eq!(client_id.prefix(), ClientIdPrefix::X509SanDns);

    let error: AuthorizationErrorResponse = serde_json::from_str(&vector(&format!(
        "{EXAMPLES}digital_credentials_api/error_invalid_request.json"
    )))
    .unwrap();
    assert_eq!(error.error, ErrorCode::InvalidRequest);
}

#[test]
fn oid4vp_b_mdoc_handover_jwks_are_encryption_keys() {
    for index in [44, 49] {
        let metadata: ClientMetadata =
            serde_json::from_value(json!({"jwks": {"keys": [inline(index)["json"]]}})).unwrap();
        let chosen = ResponseEncryption::select(&metadata).unwrap();
        assert_eq!(chosen.kid.as_deref(), Some("1"));
    }
}

#[test]
fn oid4vp_11_verifier_metadata_examples() {
    for (file, format) in [
        ("mso_mdoc_verifier_metadata.json", "mso_mdoc"),
        ("sd_jwt_vc_verifier_metadata.json", "dc+sd-jwt"),
        ("w3c_jwt_verifier_metadata.json", "jwt_vc_json"),
        ("w3c_ldp_verifier_metadata.json", "ldp_vc"),
    ] {
        let json = vector_json(&format!("{EXAMPLES}client_metadata/{file}"));
        let metadata: ClientMetadata = serde_json::from_value(json.clone()).unwrap();
        assert!(
            metadata
                .vp_formats_supported
                .as_ref()
                .unwrap()
                .contains_key(format)
        );
        assert_eq!(serde_json::to_value(&metadata).unwrap(), json, "{file}");
    }
}

#[test]
fn oid4vp_b_presentation_examples() {
    let ldp = vector_json(&format!("{EXAMPLES}response/ldp_vc.json"));
    let token: VpToken = serde_json::from_value(json!({"example_ldp_vc": [ldp.clone()]})).unwrap();
    assert!(matches!(
        &token.presentations("example_ldp_vc").unwrap()[0],
        Presentation::Object(vp) if vp["proof"]["challenge"] == "n-0S6_WzA2Mj"
    ));
    assert_eq!(
        serde_json::to_value(&token).unwrap()["example_ldp_vc"][0],
        ldp
    );
    // The audience of a presentation is the full Client Identifier.
    for file in ["response/jwt_vc.json", "response/kb_jwt_unsecured.json"] {
        let claims = vector_json(&format!("{EXAMPLES}{file}"));
        let aud: ClientId = claims["aud"].as_str().unwrap().parse().unwrap();
        assert_eq!(aud.as_str(), "x509_san_dns:client.example.org");
    }
}

#[test]
fn oid4vp_siop_combined_request_is_refused() {
    let raw = inline(53)["raw"].as_str().unwrap().to_owned();
    let uri = authorize_uri(&raw, &encoded_query());
    let error = AuthorizationRequest::from_uri(&uri).unwrap_err();
    assert!(matches!(&error, RequestError::UnsupportedResponseType(t) if t == "vp_token id_token"));
    assert_eq!(ErrorCode::from(&error), ErrorCode::UnsupportedResponseType);
}

/// Every inline example is either exercised above or not applicable to
/// this module, for the reason given. A new example fails this test until
/// it is classified.
#[test]
fn oid4vp_every_inline_example_is_classified() {
    const EXERCISED: &[usize] = &[
        0, 1, 2, 3, 5, 8, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 31, 34, 39, 42,
        44, 49, 53,
    ];
    const NOT_APPLICABLE: &[(usize, &str)] = &[
        (
            4,
            "Request URI POST body (wallet_metadata): wallet metadata is not modelled here",
        ),
        (6, "syntax prose"),
        (
            7,
            "Request URI POST body (wallet_metadata): wallet metadata is not modelled here",
        ),
        (9, "trusted_authorities: DCQL, tested in dcql"),
        (10, "trusted_authorities: DCQL, tested in dcql"),
        (11, "trusted_authorities: DCQL, tested in dcql"),
        (12, "claims path pointer: DCQL, tested in dcql"),
        (
            13,
            "fragment redirect with placeholder vp_token: no redirect response built",
        ),
        (
            28,
            "wallet static metadata (openid4vp:), not client metadata",
        ),
        (29, "jwt_vp_json payload: W3C format, not supported"),
        (30, "ldp_vp with elided arrays: W3C format, not strict JSON"),
        (32, "JavaScript object literal for the DC API call"),
        (
            33,
            "JWS JSON Serialization (multi-signed): not supported, compact only",
        ),
        (35, "W3C type_values: DCQL meta for W3C formats"),
        (36, "W3C credential: not supported"),
        (37, "W3C credential: not supported"),
        (38, "W3C credential: not supported"),
        (40, "mdoc deviceauth_alg_values: mdoc only"),
        (41, "mdoc deviceauth_alg_values: mdoc only"),
        (43, "mdoc OpenID4VPHandover CDDL: mdoc only"),
        (45, "mdoc handover info CBOR: mdoc only"),
        (46, "mdoc handover CBOR: mdoc only"),
        (47, "mdoc session transcript CBOR: mdoc only"),
        (48, "mdoc DC API handover CDDL: mdoc only"),
        (50, "mdoc DC API handover info CBOR: mdoc only"),
        (51, "mdoc DC API handover CBOR: mdoc only"),
        (52, "mdoc DC API session transcript CBOR: mdoc only"),
        (54, "SIOPv2 id_token response: SIOP not supported"),
        (55, "SIOPv2 id_token payload: SIOP not supported"),
    ];
    let all = vector_json(INLINE);
    let count = all.as_array().unwrap().len();
    for index in 0..count {
        let classified =
            EXERCISED.contains(&index) || NOT_APPLICABLE.iter().any(|(i, _)| *i == index);
        assert!(classified, "inline example {index} is not classified");
    }
    assert_eq!(EXERCISED.len() + NOT_APPLICABLE.len(), count);
}
