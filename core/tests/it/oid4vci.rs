//! OpenID4VCI 1.0 vectors: the spec's example files (`spec-1.0-examples/`),
//! every code block of the spec text (`spec-1.0-inline-examples.json`), the
//! verified App. F.1 key proof, and the EUDI reference library's fixtures
//! with their verdicts (`eudi-lib-jvm-openid4vci-kt/manifest.json`).

use std::collections::BTreeMap;

use intyg_core::jose::{CompactJws, Jwk, b64url_decode, thumbprint};
use intyg_core::oid4vci::*;
use intyg_core::sd_jwt::SdJwt;
use serde_json::{Value, json};

use crate::{vector, vector_json};

const ISSUER: &str = "https://credential-issuer.example.com";

/// Removes the line breaks the spec puts inside JSON string values "for
/// display purposes only" (a newline and the indentation after it).
fn unwrap_strings(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped, mut skipping) = (false, false, false);
    for c in text.chars() {
        if skipping {
            if c.is_whitespace() {
                continue;
            }
            skipping = false;
        }
        if in_string && c == '\n' {
            skipping = true;
            continue;
        }
        if in_string && !escaped && c == '"' {
            in_string = false;
        } else if !in_string && c == '"' {
            in_string = true;
        }
        escaped = in_string && !escaped && c == '\\';
        out.push(c);
    }
    out
}

/// The body of an HTTP message example: what follows the first blank line.
fn http_body(text: &str) -> String {
    let mut lines = text.lines().skip_while(|line| line.trim().is_empty());
    for line in lines.by_ref() {
        if line.trim().is_empty() {
            break;
        }
    }
    unwrap_strings(&lines.collect::<Vec<_>>().join("\n"))
}

/// A URI or form body wrapped over several lines: the lines joined,
/// trimmed, up to a blank line or the `Host:` header.
fn joined(raw: &str) -> String {
    raw.lines()
        .take_while(|line| !line.trim().is_empty() && !line.starts_with("Host:"))
        .map(str::trim)
        .collect()
}

/// The query of a wrapped request line (`GET /path?…`) or link.
fn query_of(raw: &str) -> String {
    let line = joined(raw);
    line.split_once('?')
        .map(|(_, q)| q.to_owned())
        .unwrap_or_default()
}

fn inline_examples() -> Vec<Value> {
    let Value::Array(items) = vector_json("oid4vci/spec-1.0-inline-examples.json") else {
        panic!("inline examples are an array");
    };
    items
}

/// Inline example `index`, checked to sit under the expected heading.
fn inline(items: &[Value], index: usize, heading: &str) -> Value {
    let item = items[index].clone();
    let found = item["heading"].as_str().unwrap();
    assert!(
        found.starts_with(heading),
        "#{index}: `{found}` is not `{heading}`"
    );
    item
}

/// The Wallet-side round trip: serialize, compare with the source as JSON.
fn assert_round_trip<T: serde::Serialize>(typed: &T, source: &Value) {
    assert_eq!(&serde_json::to_value(typed).unwrap(), source);
}

fn eudi_metadata() -> CredentialIssuerMetadata {
    CredentialIssuerMetadata::from_json_for(
        &vector("oid4vci/eudi-lib-jvm-openid4vci-kt/credential_issuer_metadata_valid.json"),
        ISSUER,
    )
    .unwrap()
}

// §4.1 Credential Offer ----------------------------------------------------

#[test]
fn oid4vci_4_1_1_credential_offer_pre_authorized() {
    let text = vector("oid4vci/spec-1.0-examples/credential_offer_pre-authz_code.json");
    let offer = CredentialOffer::from_json(&text).unwrap();
    let grant = offer.pre_authorized_grant().unwrap();
    assert_eq!(grant.pre_authorized_code.as_str(), "adhjhdjajkdkhjhdj");
    let tx = grant.tx_code.as_ref().unwrap();
    assert_eq!(tx.input_mode(), InputMode::Numeric);
    assert!(tx.description.as_deref().unwrap().contains("SMS"));
    assert_round_trip(&offer, &serde_json::from_str(&text).unwrap());
    let CredentialOfferRequest::ByValue(back) = CredentialOffer::from_uri(&offer.to_uri()).unwrap()
    else {
        panic!("by value");
    };
    assert_eq!(*back, offer);
}

#[test]
fn oid4vci_4_1_1_credential_offer_multiple_credentials() {
    let text = vector("oid4vci/spec-1.0-examples/credential_offer_multiple_credentials.json");
    let offer = CredentialOffer::from_json(&text).unwrap();
    assert_eq!(offer.credential_configuration_ids.len(), 2);
    let tx = offer
        .pre_authorized_grant()
        .unwrap()
        .tx_code
        .clone()
        .unwrap();
    assert_eq!(tx.length, Some(4));
    assert_eq!(tx.check(&"1234".parse().unwrap()), Ok(()));
    assert_eq!(
        tx.check(&"12345".parse().unwrap()),
        Err(TxCodeError::WrongLength {
            expected: 4,
            actual: 5
        })
    );
    assert_round_trip(&offer, &serde_json::from_str(&text).unwrap());
}

#[test]
fn oid4vci_4_1_3_credential_offer_by_reference_object() {
    let text = vector("oid4vci/spec-1.0-examples/credential_offer_by_reference.json");
    let offer = CredentialOffer::from_json(&text).unwrap();
    // `"tx_code": {}`: a Transaction Code is required, nothing else said.
    let tx = offer
        .pre_authorized_grant()
        .unwrap()
        .tx_code
        .as_ref()
        .unwrap();
    assert_eq!(tx, &TxCodeSpec::default());
    assert_round_trip(&offer, &serde_json::from_str(&text).unwrap());
}

#[test]
fn oid4vci_4_1_3_credential_offer_authorization_code() {
    let body = http_body(&vector(
        "oid4vci/spec-1.0-examples/credential_offer_authz_code.txt",
    ));
    let offer = CredentialOffer::from_json(&body).unwrap();
    let grant = offer.authorization_code_grant().unwrap();
    assert_eq!(
        grant.issuer_state.as_ref().unwrap().as_str(),
        "eyJhbGciOiJSU0Et...FYUaBy"
    );
    assert!(offer.pre_authorized_grant().is_none());
    assert_round_trip(&offer, &serde_json::from_str(&body).unwrap());
}

#[test]
fn oid4vci_4_1_2_credential_offer_by_value_links() {
    let items = inline_examples();
    // #0: `GET /credential_offer?credential_offer=…` with an empty tx_code.
    let get = inline(&items, 0, "Sending Credential Offer by Value");
    let uri = format!("x://?{}", query_of(get["raw"].as_str().unwrap()));
    let CredentialOfferRequest::ByValue(offer) = CredentialOffer::from_uri(&uri).unwrap() else {
        panic!("by value");
    };
    assert_eq!(offer.credential_issuer, ISSUER);
    assert_eq!(
        offer.credential_configuration_ids,
        ["UniversityDegree_JWT", "org.iso.18013.5.1.mDL"].map(|id| id.parse().unwrap())
    );
    assert_eq!(
        offer.pre_authorized_grant().unwrap().tx_code,
        Some(TxCodeSpec::default())
    );
    // #1: the `openid-credential-offer://` link with a text tx_code.
    let link = inline(&items, 1, "Sending Credential Offer by Value");
    let uri = joined(link["raw"].as_str().unwrap());
    assert!(uri.starts_with("openid-credential-offer://?credential_offer="));
    let CredentialOfferRequest::ByValue(offer) = CredentialOffer::from_uri(&uri).unwrap() else {
        panic!("by value");
    };
    let tx = offer
        .pre_authorized_grant()
        .unwrap()
        .tx_code
        .clone()
        .unwrap();
    assert_eq!(tx.input_mode(), InputMode::Text);
    assert_eq!(
        tx.description.as_deref(),
        Some("Please enter the serial number of your physical drivers license")
    );
    assert_eq!(tx.check(&"AB-1234".parse().unwrap()), Ok(()));
}

#[test]
fn oid4vci_4_1_3_credential_offer_uri_link() {
    let items = inline_examples();
    let fetch = inline(&items, 2, "Sending Credential Offer by Reference");
    assert_eq!(fetch["start_line"], "GET /credential_offer HTTP/1.1");
    let link = inline(&items, 3, "Sending Credential Offer by Reference");
    let uri = joined(link["raw"].as_str().unwrap());
    let request = CredentialOffer::from_uri(&uri).unwrap();
    let expected = CredentialOfferRequest::ByReference(
        "https://server.example.com/credential-offer/GkurKxf5T0Y-mnPFCHqWOMiZi4VS138cQO_V7PZHAdM"
            .into(),
    );
    assert_eq!(request, expected);
    // Our writer escapes `.` differently from the example (it need not be
    // escaped), but reads back to the same value.
    assert_eq!(
        CredentialOffer::from_uri(&request.to_uri()).unwrap(),
        expected
    );
}

// EUDI reference library fixtures, with the verdicts of its tests.

#[test]
fn oid4vci_4_1_1_eudi_offer_and_metadata_verdicts() {
    let manifest = vector_json("oid4vci/eudi-lib-jvm-openid4vci-kt/manifest.json");
    let metadata = eudi_metadata();
    let mut checked = 0;
    for case in manifest["cases"].as_array().unwrap() {
        let file = case["file"].as_str().unwrap();
        let text = vector(&format!("oid4vci/eudi-lib-jvm-openid4vci-kt/{file}"));
        let valid = case["expected"] == "valid";
        match (case["kind"].as_str().unwrap(), file) {
            ("credential_offer", "credential_offer_with_blank_issuer_state.json") => {
                assert!(!valid);
                let error = CredentialOffer::from_json(&text).unwrap_err();
                assert!(
                    matches!(&error, OfferError::Malformed(e) if e.to_string().contains("issuer_state must not be blank")),
                    "{error}"
                );
            }
            ("credential_offer", "credential_offer_with_unknown_format.json") => {
                assert!(!valid);
                let offer = CredentialOffer::from_json(&text).unwrap();
                assert!(matches!(
                    offer.validate_against(&metadata),
                    Err(OfferError::UnknownCredentialConfiguration(id)) if id.as_str() == "UnknownCredential"
                ));
            }
            ("credential_offer", _) => {
                assert!(valid, "{file}");
                let offer = CredentialOffer::from_json(&text).unwrap();
                offer.validate_against(&metadata).unwrap();
                assert_round_trip(&offer, &serde_json::from_str(&text).unwrap());
            }
            ("credential_issuer_metadata", "invalid_credential_issuer_metadata.json") => {
                assert!(!valid);
                assert!(matches!(
                    CredentialIssuerMetadata::from_json_for(&text, ISSUER),
                    Err(MetadataError::Malformed(_))
                ));
            }
            ("credential_issuer_metadata", _) => {
                let fetched_for = case["when_fetched_for"].as_str().unwrap_or(ISSUER);
                let result = CredentialIssuerMetadata::from_json_for(&text, fetched_for);
                if valid {
                    let parsed = result.unwrap();
                    assert_round_trip(&parsed, &serde_json::from_str(&text).unwrap());
                } else {
                    assert!(matches!(
                        result,
                        Err(MetadataError::IssuerMismatch { expected, .. }) if expected == fetched_for
                    ));
                }
            }
            ("authorization_server_metadata", _) => {
                assert!(valid);
                let source: Value = serde_json::from_str(&text).unwrap();
                let issuer = source["issuer"].as_str().unwrap();
                let parsed = AuthorizationServerMetadata::from_json_for(&text, issuer).unwrap();
                assert!(parsed.token_endpoint.is_some());
                assert!(
                    parsed
                        .code_challenge_methods_supported
                        .as_ref()
                        .unwrap()
                        .contains(&"S256".to_owned())
                );
                assert_round_trip(&parsed, &source);
            }
            (kind, _) => panic!("unexpected kind {kind}"),
        }
        checked += 1;
    }
    assert_eq!(checked, 12);
}

#[test]
fn oid4vci_4_1_1_eudi_sample_offer_has_both_grants() {
    let text = vector("oid4vci/eudi-lib-jvm-openid4vci-kt/sample_credential_offer.json");
    let offer = CredentialOffer::from_json(&text).unwrap();
    assert!(offer.authorization_code_grant().is_some());
    let tx = offer
        .pre_authorized_grant()
        .unwrap()
        .tx_code
        .as_ref()
        .unwrap();
    assert_eq!(tx.input_mode, Some(InputMode::Numeric));
    // Its companion metadata still writes a logo's `uri` as the draft `url`.
    let text = vector(
        "oid4vci/eudi-lib-jvm-openid4vci-kt/wellknown_openid-credential-issuer_encrypted_responses.json",
    );
    let metadata = CredentialIssuerMetadata::from_json_for(&text, ISSUER).unwrap();
    let logos: Vec<&Logo> = metadata
        .credential_configurations_supported
        .values()
        .filter_map(|c| c.credential_metadata.as_ref()?.display.as_ref())
        .flatten()
        .filter_map(|d| d.logo.as_ref())
        .collect();
    assert!(logos.iter().all(|logo| logo.location().is_some()));
    assert!(logos.iter().any(|logo| logo.uri.is_none()));
}

// §5 Authorization Endpoint ------------------------------------------------

#[test]
fn oid4vci_5_1_1_authorization_details() {
    for (file, id, claims) in [
        (
            "authorization_details.json",
            "UniversityDegreeCredential",
            0,
        ),
        (
            "authorization_details_jwt_vc_json.json",
            "UniversityDegreeCredential",
            3,
        ),
        (
            "authorization_details_ldp_vc.json",
            "UniversityDegree_LDP_VC",
            3,
        ),
        (
            "authorization_details_mso_doc.json",
            "org.iso.18013.5.1.mDL",
            4,
        ),
        ("authorization_details_sd_jwt_vc.json", "PID_SD_JWT_VC", 2),
        (
            "authorization_details_with_as.json",
            "UniversityDegreeCredential",
            0,
        ),
    ] {
        let source = vector_json(&format!("oid4vci/spec-1.0-examples/{file}"));
        let details: Vec<AuthorizationDetail> = serde_json::from_value(source.clone()).unwrap();
        assert_eq!(details.len(), 1, "{file}");
        assert_eq!(details[0].credential_configuration_id.as_str(), id);
        assert_eq!(
            details[0].claims.as_ref().map_or(0, Vec::len),
            claims,
            "{file}"
        );
        assert_round_trip(&details, &source);
    }
    let with_as = vector_json("oid4vci/spec-1.0-examples/authorization_details_with_as.json");
    let details: Vec<AuthorizationDetail> = serde_json::from_value(with_as).unwrap();
    assert_eq!(
        details[0].locations.as_deref(),
        Some(&[ISSUER.to_owned()][..])
    );
    let multiple =
        vector_json("oid4vci/spec-1.0-examples/authorization_details_multiple_credentials.json");
    let details: Vec<AuthorizationDetail> = serde_json::from_value(multiple.clone()).unwrap();
    assert_eq!(details.len(), 2);
    assert_round_trip(&details, &multiple);
}

#[test]
fn oid4vci_5_1_1_authorization_request_with_details() {
    let items = inline_examples();
    let item = inline(&items, 4, "Using Authorization Details Parameter");
    let AuthorizeQuery::Request(request) =
        AuthorizeQuery::parse(&query_of(item["raw"].as_str().unwrap())).unwrap()
    else {
        panic!("a full request");
    };
    assert_eq!(request.client_id, "s6BhdRkqt3");
    assert_eq!(
        request.code_challenge_method,
        Some(CodeChallengeMethod::S256)
    );
    assert_eq!(
        request.redirect_uri.as_deref(),
        Some("https://wallet.example.org/cb")
    );
    let details = request.authorization_details.as_ref().unwrap();
    assert_eq!(
        details[0].credential_configuration_id.as_str(),
        "UniversityDegreeCredential"
    );
    assert_eq!(
        AuthorizationRequest::from_form(&request.to_form()).unwrap(),
        request
    );
}

#[test]
fn oid4vci_5_1_2_authorization_request_with_scope() {
    let items = inline_examples();
    let item = inline(&items, 5, "Using `scope` Parameter");
    let request =
        AuthorizationRequest::from_form(&query_of(item["raw"].as_str().unwrap())).unwrap();
    assert_eq!(request.scope.as_deref(), Some("UniversityDegreeCredential"));
    assert_eq!(request.resource.as_deref(), Some(ISSUER));
    assert!(request.authorization_details.is_none());
}

#[test]
fn oid4vci_5_1_4_pushed_authorization_request() {
    let items = inline_examples();
    // #6: the PAR body elides `authorization_details` as `...`, which is
    // not JSON: our reader says exactly that.
    let par = inline(&items, 6, "Pushed Authorization Request");
    let body = joined(par["body_text"].as_str().unwrap());
    let error = AuthorizationRequest::from_form(&body).unwrap_err();
    assert!(matches!(
        error,
        AuthorizationRequestError::InvalidAuthorizationDetails(_)
    ));
    assert_eq!(error.error_code(), "invalid_authorization_details");
    // The same body with the details of §5.1.1 is accepted.
    let fixed = body.replace(
        "authorization_details=...",
        "authorization_details=%5B%7B%22type%22%3A%22openid_credential%22%2C%22credential_configuration_id%22%3A%22x%22%7D%5D",
    );
    let request = AuthorizationRequest::from_form(&fixed).unwrap();
    assert_eq!(request.client_id, "CLIENT1234");
    // #7: the PAR response.
    let response = inline(&items, 7, "Pushed Authorization Request");
    let parsed: PushedAuthorizationResponse =
        serde_json::from_value(response["body_json"].clone()).unwrap();
    assert_eq!(parsed.expires_in, 60);
    assert_round_trip(&parsed, &response["body_json"]);
    // #8: the browser's follow-up GET.
    let get = inline(&items, 8, "Pushed Authorization Request");
    let raw = get["raw"].as_str().unwrap();
    assert_eq!(
        AuthorizeQuery::parse(&query_of(raw)).unwrap(),
        AuthorizeQuery::Pushed {
            client_id: "s6BhdRkqt3".into(),
            request_uri: "urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c".into()
        }
    );
}

#[test]
fn oid4vci_5_2_authorization_response_code() {
    let items = inline_examples();
    let item = inline(&items, 9, "Successful Authorization Response");
    let location = joined(&item["raw"].as_str().unwrap().replace("Location: ", ""));
    let code = location.split_once("code=").unwrap().1;
    let code: AuthorizationCode = code.parse().unwrap();
    assert_eq!(code.as_str(), "SplxlOBeZQQYbYS6WxSbIA");
}

// §6 Token Endpoint ----------------------------------------------------------

#[test]
fn oid4vci_6_1_token_request_authorization_code_with_pkce() {
    let items = inline_examples();
    let item = inline(&items, 11, "Token Request");
    let body = joined(item["body_text"].as_str().unwrap());
    let TokenRequest::AuthorizationCode(request) = TokenRequest::from_form(&body).unwrap() else {
        panic!("authorization code grant");
    };
    assert_eq!(request.code.as_str(), "SplxlOBeZQQYbYS6WxSbIA");
    assert_eq!(
        request.redirect_uri.as_deref(),
        Some("https://wallet.example.org/cb")
    );
    assert_eq!(
        request
            .extra
            .get("client_assertion_type")
            .map(String::as_str),
        Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    );
    // The verifier here and the challenge of §5.1.1's request are RFC
    // 7636 Appendix B's pair.
    let authorize = inline(&items, 4, "Using Authorization Details Parameter");
    let query = query_of(authorize["raw"].as_str().unwrap());
    let authorization = AuthorizationRequest::from_form(&query).unwrap();
    let challenge = authorization.code_challenge.as_deref().unwrap();
    assert_eq!(
        verify_pkce_s256(challenge, request.code_verifier.as_ref()),
        Ok(())
    );
    assert_eq!(
        verify_pkce_s256(challenge, Some(&CodeVerifier::generate().unwrap())),
        Err(PkceError::Mismatch)
    );
    let typed = TokenRequest::AuthorizationCode(request);
    assert_eq!(TokenRequest::from_form(&typed.to_form()).unwrap(), typed);
}

#[test]
fn oid4vci_6_1_1_token_request_pre_authorized_with_details() {
    let items = inline_examples();
    let item = inline(
        &items,
        12,
        "Request Credential Issuance using `authorization_details`",
    );
    let body = joined(item["body_text"].as_str().unwrap());
    let TokenRequest::PreAuthorizedCode(request) = TokenRequest::from_form(&body).unwrap() else {
        panic!("pre-authorized code grant");
    };
    assert_eq!(
        request.pre_authorized_code.as_str(),
        "SplxlOBeZQQYbYS6WxSbIA"
    );
    assert_eq!(request.tx_code.as_ref().map(TxCode::as_str), Some("493536"));
    assert_eq!(request.client_id, None);
    let details = request.authorization_details.as_ref().unwrap();
    assert_eq!(
        details[0].credential_configuration_id.as_str(),
        "UniversityDegreeCredential"
    );
    let typed = TokenRequest::PreAuthorizedCode(request);
    assert_eq!(TokenRequest::from_form(&typed.to_form()).unwrap(), typed);
}

#[test]
fn oid4vci_6_2_token_response() {
    let items = inline_examples();
    let item = inline(&items, 13, "Successful Token Response");
    let response: TokenResponse = serde_json::from_value(item["body_json"].clone()).unwrap();
    assert_eq!(response.token_type, "Bearer");
    assert_eq!(response.expires_in, Some(86400));
    let details = response.authorization_details.as_ref().unwrap();
    let identifiers = details[0].credential_identifiers.as_ref().unwrap();
    assert_eq!(identifiers[0].as_str(), "CivilEngineeringDegree-2023");
    assert_round_trip(&response, &item["body_json"]);
}

#[test]
fn oid4vci_6_3_token_error_response() {
    let items = inline_examples();
    let item = inline(&items, 14, "Token Error Response");
    let response: TokenErrorResponse = serde_json::from_value(item["body_json"].clone()).unwrap();
    assert_eq!(response.error, TokenErrorCode::InvalidRequest);
    assert_eq!(response.error.http_status(), 400);
    assert_round_trip(&response, &item["body_json"]);
}

// §7 Nonce Endpoint ----------------------------------------------------------

#[test]
fn oid4vci_7_2_nonce_response() {
    let items = inline_examples();
    let request = inline(&items, 15, "Nonce Request");
    assert_eq!(request["start_line"], "POST /nonce HTTP/1.1");
    let item = inline(&items, 16, "Nonce Response");
    let response: NonceResponse = serde_json::from_value(item["body_json"].clone()).unwrap();
    assert_eq!(response.c_nonce.as_str(), "wKI4LT17ac15ES9bw8ac4");
    assert_round_trip(&response, &item["body_json"]);
}

// §8 Credential Endpoint -----------------------------------------------------

#[test]
fn oid4vci_8_2_credential_request_by_configuration_id() {
    let items = inline_examples();
    let item = inline(&items, 17, "Credential Request");
    let request: CredentialRequest = serde_json::from_value(item["body_json"].clone()).unwrap();
    assert_eq!(
        request.requested().unwrap(),
        RequestedCredential::Configuration(&"org.iso.18013.5.1.mDL".parse().unwrap())
    );
    let Some(Proofs::Jwt(proofs)) = &request.proofs else {
        panic!("jwt proofs");
    };
    // The example's proof is only a header (display abbreviation): it is
    // refused as not a JWS.
    assert!(matches!(
        verify_jwt_proof(&proofs[0], ISSUER, 0, 300, 60),
        Err(ProofError::Malformed(_))
    ));
    assert_round_trip(&request, &item["body_json"]);
}

#[test]
fn oid4vci_8_2_credential_request_batch_by_identifier() {
    let items = inline_examples();
    let item = inline(&items, 18, "Credential Request");
    let request = CredentialRequest::from_json(item["body_json"].to_string().as_bytes()).unwrap();
    assert_eq!(
        request.requested().unwrap(),
        RequestedCredential::Identifier(&"CivilEngineeringDegree-2023".parse().unwrap())
    );
    assert_eq!(request.proofs.as_ref().unwrap().len(), 2);
    request.check_batch_size(Some(2)).unwrap();
    assert!(matches!(
        request.check_batch_size(None),
        Err(CredentialRequestError::TooManyProofs { count: 2, max: 1 })
    ));
    assert_round_trip(&request, &item["body_json"]);
}

#[test]
fn oid4vci_8_2_credential_request_di_vp() {
    let items = inline_examples();
    let item = inline(&items, 19, "Credential Request");
    let request = CredentialRequest::from_json(item["body_json"].to_string().as_bytes()).unwrap();
    let Some(Proofs::DiVp(presentations)) = &request.proofs else {
        panic!("di_vp proofs");
    };
    assert_eq!(
        presentations[0]["proof"][0]["proofPurpose"],
        "authentication"
    );
    assert_round_trip(&request, &item["body_json"]);
}

#[test]
fn oid4vci_8_2_credential_request_pre_final_format_is_refused() {
    // `credential_request_iso_mdl.json` names the credential by `format` and
    // `doctype`, as drafts before 1.0 did.
    let body = vector("oid4vci/spec-1.0-examples/credential_request_iso_mdl.json");
    let error = CredentialRequest::from_json(body.as_bytes()).unwrap_err();
    assert!(matches!(
        error,
        CredentialRequestError::FormatInsteadOfIdentifier
    ));
    let response = error.to_response();
    assert_eq!(
        response.error,
        CredentialErrorCode::InvalidCredentialRequest
    );
    assert!(
        response
            .error_description
            .unwrap()
            .contains("credential_configuration_id")
    );
}

#[test]
fn oid4vci_8_2_credential_request_singular_proof_is_refused() {
    // The pre-1.0 shape many wallets still send.
    let body = json!({
        "credential_configuration_id": "org.iso.18013.5.1.mDL",
        "proof": {"proof_type": "jwt", "jwt": vector_json("oid4vci/jwt-proof-example.json")["proof_jwt"]}
    });
    let error = CredentialRequest::from_json(body.to_string().as_bytes()).unwrap_err();
    assert!(matches!(error, CredentialRequestError::SingularProof));
    let wire = serde_json::to_value(error.to_response()).unwrap();
    assert_eq!(wire["error"], "invalid_proof");
    assert!(
        wire["error_description"]
            .as_str()
            .unwrap()
            .contains("`proofs`")
    );
}

#[test]
fn oid4vci_8_3_credential_response_inline() {
    let items = inline_examples();
    for (index, heading, immediate) in [
        (20, "Credential Response", true),
        (21, "Credential Response", true),
        (22, "Credential Response", false),
        (25, "Deferred Credential Response", true),
        (26, "Deferred Credential Response", false),
    ] {
        let item = inline(&items, index, heading);
        let body = item["body_json"].to_string();
        let response = CredentialResponse::from_json(body.as_bytes()).unwrap();
        assert_eq!(response.credentials.is_some(), immediate, "#{index}");
        assert_eq!(response.transaction_id.is_none(), immediate, "#{index}");
        assert_round_trip(&response, &item["body_json"]);
    }
}

#[test]
fn oid4vci_8_3_credential_response_examples_per_format() {
    for file in [
        "credential_response_sd_jwt_vc.txt",
        "credential_response_jwt_vc_json.txt",
        "credential_response_mso_mdoc.txt",
        "credential_response_ldp_vc.txt",
    ] {
        let body = http_body(&vector(&format!("oid4vci/spec-1.0-examples/{file}")));
        let response = CredentialResponse::from_json(body.as_bytes()).unwrap();
        let credentials = response.credentials.as_ref().unwrap();
        assert_eq!(credentials.len(), 1, "{file}");
        assert_round_trip(&response, &serde_json::from_str(&body).unwrap());
    }
    // The SD-JWT VC one is a real SD-JWT with nine disclosures.
    let body = http_body(&vector(
        "oid4vci/spec-1.0-examples/credential_response_sd_jwt_vc.txt",
    ));
    let response = CredentialResponse::from_json(body.as_bytes()).unwrap();
    let sd_jwt = SdJwt::parse(response.credentials.unwrap()[0].as_compact().unwrap()).unwrap();
    assert_eq!(sd_jwt.header().typ.as_deref(), Some("dc+sd-jwt"));
    assert_eq!(sd_jwt.disclosures().len(), 9);
    // The ldp_vc one is an object, not a string.
    let body = http_body(&vector(
        "oid4vci/spec-1.0-examples/credential_response_ldp_vc.txt",
    ));
    let response = CredentialResponse::from_json(body.as_bytes()).unwrap();
    let credential = &response.credentials.unwrap()[0];
    assert_eq!(credential.as_compact(), None);
    assert_eq!(
        credential.credential["issuer"],
        "https://example.edu/issuers/565049"
    );
}

#[test]
fn oid4vci_8_3_jwt_vc_response_is_signed_by_the_issuer_jwks_key() {
    // `issuer_jwks.json` holds the key whose RFC 7638 thumbprint is the
    // `kid` of the JWT VC in `credential_response_jwt_vc_json.txt`.
    let jwks: Value = serde_json::from_str(&unwrap_strings(&vector(
        "oid4vci/spec-1.0-examples/issuer_jwks.json",
    )))
    .unwrap();
    let key = &jwks["jwks"]["keys"][0];
    let kid = key["kid"].as_str().unwrap();
    let jwk: Jwk = serde_json::from_value(key.clone()).unwrap();
    assert_eq!(
        kid,
        format!(
            "urn:ietf:params:oauth:jwk-thumbprint:sha-256:{}",
            thumbprint(&jwk).unwrap()
        )
    );
    let body = http_body(&vector(
        "oid4vci/spec-1.0-examples/credential_response_jwt_vc_json.txt",
    ));
    let response = CredentialResponse::from_json(body.as_bytes()).unwrap();
    let jwt = CompactJws::parse(response.credentials.unwrap()[0].as_compact().unwrap()).unwrap();
    assert_eq!(jwt.header.kid.as_deref(), Some(kid));
    jwt.verify(&jwk).unwrap();
}

#[test]
fn oid4vci_8_3_1_2_credential_error_responses() {
    let items = inline_examples();
    for (index, heading, code) in [
        (
            23,
            "Credential Request Errors",
            CredentialErrorCode::UnknownCredentialConfiguration,
        ),
        (
            27,
            "Deferred Credential Error Response",
            CredentialErrorCode::InvalidTransactionId,
        ),
    ] {
        let item = inline(&items, index, heading);
        let response: CredentialErrorResponse =
            serde_json::from_value(item["body_json"].clone()).unwrap();
        assert_eq!(response.error, code);
        assert_round_trip(&response, &item["body_json"]);
    }
}

#[test]
fn oid4vci_9_1_deferred_credential_request() {
    let items = inline_examples();
    let item = inline(&items, 24, "Deferred Credential Request");
    let request: DeferredCredentialRequest =
        serde_json::from_value(item["body_json"].clone()).unwrap();
    assert_eq!(request.transaction_id.as_str(), "8xLOxBtZp8");
    assert_round_trip(&request, &item["body_json"]);
}

// §12 Metadata ---------------------------------------------------------------

#[test]
fn oid4vci_12_2_2_metadata_request_path() {
    let items = inline_examples();
    let item = inline(&items, 32, "Credential Issuer Metadata Retrieval");
    let path = item["start_line"]
        .as_str()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap();
    assert_eq!(
        CredentialIssuerMetadata::well_known_url("https://server.example.com").unwrap(),
        format!("https://server.example.com{path}")
    );
}

#[test]
fn oid4vci_12_2_4_credential_issuer_metadata_sd_jwt_long() {
    let text = vector("oid4vci/spec-1.0-examples/credential_issuer_metadata_sd_jwt_long.json");
    let metadata = CredentialIssuerMetadata::from_json_for(&text, ISSUER).unwrap();
    assert_eq!(
        metadata
            .batch_credential_issuance
            .as_ref()
            .unwrap()
            .batch_size,
        10
    );
    assert!(
        metadata
            .credential_request_encryption
            .as_ref()
            .unwrap()
            .encryption_required
    );
    let config = &metadata.credential_configurations_supported[&"SD_JWT_VC_example_in_OpenID4VCI"
        .parse::<CredentialConfigurationId>()
        .unwrap()];
    assert_eq!(config.format, CredentialFormat::DcSdJwt);
    assert_eq!(
        config.vct.as_deref(),
        Some("SD_JWT_VC_example_in_OpenID4VCI")
    );
    let jwt = config.jwt_proof_type().unwrap();
    assert_eq!(jwt.proof_signing_alg_values_supported, ["ES256"]);
    let attestations = jwt.key_attestations_required.as_ref().unwrap();
    assert_eq!(
        attestations.key_storage.as_deref(),
        Some(&["iso_18045_moderate".to_owned()][..])
    );
    let claims = config
        .credential_metadata
        .as_ref()
        .unwrap()
        .claims
        .as_ref()
        .unwrap();
    assert_eq!(claims.len(), 13);
    assert_round_trip(&metadata, &serde_json::from_str(&text).unwrap());
}

#[test]
fn oid4vci_12_2_3_signed_metadata_jwt_payload() {
    // The signed form (`application/jwt`): a JWS whose payload is the
    // metadata with `sub` = the issuer. The signature needs x5c chain
    // validation, which `core` does not do; the payload is checked here.
    let compact: String =
        vector("oid4vci/spec-1.0-examples/credential_issuer_metadata_sd_jwt_jwt.txt")
            .split_whitespace()
            .collect();
    let jws = CompactJws::parse(&compact).unwrap();
    assert_eq!(
        jws.header.typ.as_deref(),
        Some("openidvci-issuer-metadata+jwt")
    );
    assert!(jws.header.x5c.is_some());
    let payload: Value = jws.payload_json().unwrap();
    assert_eq!(payload["sub"], ISSUER);
    let metadata = CredentialIssuerMetadata::from_json_for(
        &String::from_utf8(jws.payload.clone()).unwrap(),
        ISSUER,
    )
    .unwrap();
    assert!(metadata.extra.contains_key("sub") && metadata.extra.contains_key("iat"));
    assert_eq!(
        metadata
            .credential_response_encryption
            .as_ref()
            .map(|e| e.encryption_required),
        Some(false)
    );
    assert_round_trip(&metadata, &payload);
}

#[test]
fn oid4vci_a_credential_configurations_per_format() {
    for (file, format) in [
        (
            "credential_metadata_sd_jwt_vc.json",
            CredentialFormat::DcSdJwt,
        ),
        (
            "credential_metadata_mso_mdoc.json",
            CredentialFormat::MsoMdoc,
        ),
        (
            "credential_metadata_jwt_vc_json.json",
            CredentialFormat::JwtVcJson,
        ),
        ("credential_metadata_ldp_vc.json", CredentialFormat::LdpVc),
    ] {
        let source = vector_json(&format!("oid4vci/spec-1.0-examples/{file}"));
        let member = &source["credential_configurations_supported"];
        let configs: BTreeMap<CredentialConfigurationId, CredentialConfiguration> =
            serde_json::from_value(member.clone()).unwrap();
        let config = configs.values().next().unwrap();
        assert_eq!(config.format, format, "{file}");
        assert!(config.credential_metadata.is_some(), "{file}");
        assert_round_trip(&configs, member);
    }
    // mdoc: COSE algorithm numbers, `doctype` kept as an extra member.
    let mdoc = vector_json("oid4vci/spec-1.0-examples/credential_metadata_mso_mdoc.json");
    let configs: BTreeMap<CredentialConfigurationId, CredentialConfiguration> =
        serde_json::from_value(mdoc["credential_configurations_supported"].clone()).unwrap();
    let config = configs.values().next().unwrap();
    assert_eq!(
        config.credential_signing_alg_values_supported.as_deref(),
        Some(&[SigningAlgorithm::Cose(-7), SigningAlgorithm::Cose(-9)][..])
    );
    assert_eq!(config.extra["doctype"], "org.iso.18013.5.1.mDL");
    let claims = config
        .credential_metadata
        .as_ref()
        .unwrap()
        .claims
        .as_ref()
        .unwrap();
    assert_eq!(claims[2].mandatory, Some(true));
}

#[test]
fn oid4vci_c_claims_path_pointer_example() {
    let items = inline_examples();
    let item = inline(&items, 33, "Claims Path Pointer Example");
    let credential = &item["json"];
    let path: intyg_core::dcql::ClaimsPath =
        serde_json::from_value(json!(["degrees", null, "type"])).unwrap();
    let selected = path.select(credential).unwrap();
    assert_eq!(selected.len(), 2);
}

// Appendix F Proof Types -----------------------------------------------------

#[test]
fn oid4vci_f_1_jwt_proof_example() {
    let example = vector_json("oid4vci/jwt-proof-example.json");
    let jwt = example["proof_jwt"].as_str().unwrap();
    let iat = example["decoded_payload"]["iat"].as_i64().unwrap();
    let verified = verify_jwt_proof(jwt, ISSUER, iat + 5, 300, 60).unwrap();
    assert_eq!(
        serde_json::to_value(&verified.holder_key).unwrap(),
        example["decoded_header"]["jwk"]
    );
    assert_eq!(
        verified.require_nonce().unwrap(),
        example["expected_checks"]["nonce"]
    );
    assert_eq!(verified.iat, iat);
    assert_eq!(verified.client_id, None);
    // As the `proofs` of a Credential Request.
    let request = CredentialRequest::from_json(
        json!({"credential_configuration_id": "x", "proofs": example["proofs"]})
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(request.proofs, Some(Proofs::Jwt(vec![jwt.to_owned()])));
    // The same proof fails each contextual check with its own error.
    assert!(matches!(
        verify_jwt_proof(jwt, "https://other.example", iat, 300, 60),
        Err(ProofError::WrongAudience { .. })
    ));
    assert!(matches!(
        verify_jwt_proof(jwt, ISSUER, iat + 3600, 300, 60),
        Err(ProofError::TooOld { .. })
    ));
    assert!(matches!(
        verify_jwt_proof(jwt, ISSUER, iat - 3600, 300, 60),
        Err(ProofError::IssuedInFuture { .. })
    ));
    let (signing_input, signature) = jwt.rsplit_once('.').unwrap();
    let mut bytes = b64url_decode(signature).unwrap();
    bytes[0] ^= 1;
    let tampered = format!("{signing_input}.{}", intyg_core::jose::b64url_encode(bytes));
    assert!(matches!(
        verify_jwt_proof(&tampered, ISSUER, iat, 300, 60),
        Err(ProofError::BadSignature)
    ));
}

#[test]
fn oid4vci_f_1_proofs_parameter_inline() {
    let items = inline_examples();
    let item = inline(&items, 36, "`jwt` Proof Type");
    let proofs: Proofs = serde_json::from_value(item["json"].clone()).unwrap();
    let Proofs::Jwt(jwts) = &proofs else {
        panic!("jwt proofs");
    };
    let example = vector_json("oid4vci/jwt-proof-example.json");
    assert_eq!(jwts[0], example["proof_jwt"].as_str().unwrap());
    let verified = verify_jwt_proof(&jwts[0], ISSUER, 1_701_960_444, 300, 60).unwrap();
    assert_eq!(verified.nonce.as_deref(), Some("LarRGSbmUPYtRYO6BQ4yn8"));
    assert_round_trip(&proofs, &item["json"]);
}

#[test]
fn oid4vci_f_2_f_3_other_proof_types_parse() {
    let items = inline_examples();
    let di_vp = inline(&items, 39, "`di_vp` Proof Type");
    let proofs: Proofs = serde_json::from_value(di_vp["json"].clone()).unwrap();
    assert!(matches!(&proofs, Proofs::DiVp(p) if p.len() == 1));
    assert_round_trip(&proofs, &di_vp["json"]);
    let attestation = inline(&items, 40, "`attestation` Proof Type");
    let proofs: Proofs = serde_json::from_value(attestation["json"].clone()).unwrap();
    assert!(matches!(&proofs, Proofs::Attestation(p) if p.len() == 1));
}

#[test]
fn oid4vci_f_1_wallet_built_proof_round_trip() {
    // What the wallet engine sends, as the issuer service reads it.
    let key = intyg_core::jose::SigningKey::generate().unwrap();
    let nonce = intyg_core::oid4vci::nonce::SealedNonces::new(&[7u8; 32])
        .unwrap()
        .seal(1_760_000_300)
        .unwrap();
    let jwt = build_jwt_proof(&key, ISSUER, Some(&nonce), 1_760_000_000, None).unwrap();
    let request = CredentialRequest::for_configuration("x".parse().unwrap(), vec![jwt]);
    let body = serde_json::to_vec(&request).unwrap();
    let parsed = CredentialRequest::from_json(&body).unwrap();
    let Some(Proofs::Jwt(proofs)) = &parsed.proofs else {
        panic!("jwt proofs");
    };
    let verified = verify_jwt_proof(&proofs[0], ISSUER, 1_760_000_010, 60, 5).unwrap();
    assert_eq!(verified.require_nonce().unwrap(), nonce.as_str());
    assert_eq!(verified.holder_key, key.public_jwk());
}
