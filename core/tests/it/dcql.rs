//! DCQL (OpenID4VP 1.0 §6) and claims path pointers (§7) against every
//! vector in `test-vectors/dcql/`.

use intyg_core::dcql::{
    Candidate, ClaimValue, ClaimsPath, CredentialFormat, DcqlError, DcqlQuery, Evaluation,
    Mismatch, PathError, TrustedAuthorityType, Unsatisfied, ValidatedQuery, evaluate,
};
use serde_json::{Value, json};

use crate::{vector, vector_json};

const EXAMPLES: &str = "dcql/openid4vp-1.0-query-examples";

// ---------------------------------------------------------------------------
// §7: claims path pointers (claims-path-pointer.json)

/// Runs the cases of claims-path-pointer.json whose `source` does or does
/// not name the spec's example, and returns how many ran.
fn run_path_cases(from_spec_example: bool) -> usize {
    let file = vector_json("dcql/claims-path-pointer.json");
    let credential = &file["credential"];
    let mut ran = 0;
    for case in file["cases"].as_array().unwrap() {
        let source = case["source"].as_str().unwrap();
        if source.contains("Claims Path Pointer Example") != from_spec_example {
            continue;
        }
        let path: ClaimsPath = serde_json::from_value(case["path"].clone()).unwrap();
        let result = path.select(credential);
        if let Some(expected) = case.get("expected_selected") {
            let selected: Vec<Value> = result
                .unwrap_or_else(|e| panic!("{path}: {e}"))
                .into_iter()
                .map(|s| s.value.clone())
                .collect();
            assert_eq!(&Value::Array(selected), expected, "{path}");
        } else {
            let expected = case["expected_error"].as_str().unwrap();
            let err = result.expect_err(expected);
            match err {
                PathError::NotAnArray { .. } => {
                    assert!(expected.contains("not an array"), "{path}")
                }
                PathError::NothingSelected => {
                    assert!(expected.contains("empty selection"), "{path}")
                }
                other => panic!("{path}: unexpected {other:?} for {expected:?}"),
            }
        }
        ran += 1;
    }
    ran
}

#[test]
fn oid4vp_7_3_claims_path_pointer_example() {
    assert_eq!(run_path_cases(true), 5);
}

#[test]
fn oid4vp_7_1_1_processing_derived_cases() {
    assert_eq!(run_path_cases(false), 4);
}

#[test]
fn oid4vp_7_1_1_null_selects_concrete_indices() {
    let file = vector_json("dcql/claims-path-pointer.json");
    let path: ClaimsPath = serde_json::from_value(json!(["degrees", null, "type"])).unwrap();
    let paths: Vec<String> = path
        .select(&file["credential"])
        .unwrap()
        .iter()
        .map(|s| s.path.to_string())
        .collect();
    assert_eq!(
        paths,
        [r#"["degrees",0,"type"]"#, r#"["degrees",1,"type"]"#]
    );
}

// ---------------------------------------------------------------------------
// §6: invalid queries (invalid-queries.json)

/// The rule each invalid-queries.json case breaks, as a `DcqlError` check.
fn broken_rule(name: &str) -> fn(&DcqlError) -> bool {
    match name {
        "empty-credentials-array" => |e| matches!(e, DcqlError::EmptyCredentials),
        "missing-credentials" => |e| matches!(e, DcqlError::Syntax(_)),
        "duplicate-credential-id" => |e| matches!(e, DcqlError::DuplicateCredentialId { .. }),
        "credential-id-bad-chars" => |e| matches!(e, DcqlError::InvalidCredentialId { .. }),
        "empty-claims-array" => |e| matches!(e, DcqlError::EmptyClaims { .. }),
        "empty-path" => |e| matches!(e, DcqlError::EmptyPath { .. }),
        "negative-index-in-path" => {
            |e| matches!(e, DcqlError::Syntax(s) if s.to_string().contains("non-negative"))
        }
        "claim-sets-without-claim-ids" => |e| matches!(e, DcqlError::MissingClaimId { .. }),
        "claim-sets-without-claims" => |e| matches!(e, DcqlError::ClaimSetsWithoutClaims { .. }),
        "credential-sets-unknown-credential" => {
            |e| matches!(e, DcqlError::UnknownCredentialId { .. })
        }
        "credential-sets-empty-options" => |e| matches!(e, DcqlError::EmptyOptions { .. }),
        other => panic!("invalid-queries.json has a case this test does not know: {other}"),
    }
}

#[test]
fn oid4vp_6_invalid_queries_are_rejected() {
    let file = vector_json("dcql/invalid-queries.json");
    let cases = file["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 11);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        assert_eq!(case["expected"], "invalid", "{name}");
        let err = ValidatedQuery::from_json(case["dcql_query"].to_string()).expect_err(name);
        assert!(broken_rule(name)(&err), "{name}: got {err:?}");
    }
}

// ---------------------------------------------------------------------------
// §7.4 and Appendix D: the spec's example queries

fn example(file: &str) -> DcqlQuery {
    ValidatedQuery::from_json(vector(&format!("{EXAMPLES}/{file}")))
        .unwrap_or_else(|e| panic!("{file}: {e}"))
        .into_query()
}

/// Serializing and parsing again gives the same query.
fn assert_round_trips(query: &DcqlQuery) {
    let again = ValidatedQuery::from_json(serde_json::to_vec(query).unwrap()).unwrap();
    assert_eq!(&again.into_query(), query);
}

#[test]
fn oid4vp_7_4_example_simple() {
    let query = example("simple.json");
    let credential = &query.credentials[0];
    assert_eq!(credential.id, "my_credential");
    assert_eq!(credential.format, CredentialFormat::DcSdJwt);
    assert_eq!(
        credential.meta.vct_values.as_deref(),
        Some(&["https://credentials.example.com/identity_credential".to_owned()][..])
    );
    assert!(!credential.multiple);
    assert!(credential.require_cryptographic_holder_binding);
    let paths: Vec<String> = credential
        .claims
        .as_ref()
        .unwrap()
        .iter()
        .map(|c| c.path.to_string())
        .collect();
    assert_eq!(
        paths,
        [
            r#"["family_name"]"#,
            r#"["given_name"]"#,
            r#"["address","street_address"]"#
        ]
    );
    assert_round_trips(&query);
}

#[test]
fn oid4vp_d_example_simple_mdoc() {
    let query = example("simple_mdoc.json");
    let credential = &query.credentials[0];
    assert_eq!(credential.format, CredentialFormat::MsoMdoc);
    assert_eq!(
        credential.meta.doctype_value.as_deref(),
        Some("org.iso.7367.1.mVRC")
    );
    assert_eq!(credential.claims.as_ref().unwrap().len(), 2);
    assert_round_trips(&query);
}

#[test]
fn oid4vp_d_example_multi_credentials() {
    let query = example("multi_credentials.json");
    let formats: Vec<&str> = query
        .credentials
        .iter()
        .map(|c| c.format.as_str())
        .collect();
    assert_eq!(formats, ["dc+sd-jwt", "mso_mdoc"]);
    assert!(query.credential_sets.is_none());
    assert_round_trips(&query);
}

#[test]
fn oid4vp_d_example_credentials_alternatives() {
    let query = example("credentials_alternatives.json");
    assert_eq!(query.credentials.len(), 5);
    let sets = query.credential_sets.as_ref().unwrap();
    assert!(sets[0].required, "`required` defaults to true");
    assert_eq!(sets[0].options.len(), 3);
    assert_eq!(
        sets[0].options[2],
        ["pid_reduced_cred_1", "pid_reduced_cred_2"]
    );
    assert!(!sets[1].required);
    assert_round_trips(&query);
}

#[test]
fn oid4vp_d_example_complex_mdoc() {
    let query = example("complex_mdoc.json");
    assert!(
        query
            .credentials
            .iter()
            .all(|c| c.format == CredentialFormat::MsoMdoc)
    );
    // Claim ids repeat across Credential Queries, which §6.3 allows: they
    // are unique within each `claims` array.
    assert!(
        query
            .credential("mdl-id")
            .unwrap()
            .claim("given_name")
            .is_some()
    );
    assert!(
        query
            .credential("photo_card-id")
            .unwrap()
            .claim("given_name")
            .is_some()
    );
    assert_round_trips(&query);
}

#[test]
fn oid4vp_d_example_complex_mdoc_matches_an_mdl() {
    let query =
        ValidatedQuery::from_json(vector(&format!("{EXAMPLES}/complex_mdoc.json"))).unwrap();
    let mdl = Candidate {
        id: "mdl-1".into(),
        format: CredentialFormat::MsoMdoc,
        vct: None,
        doctype: Some("org.iso.18013.5.1.mDL".into()),
        claims: json!({"org.iso.18013.5.1": {"given_name": "A", "family_name": "D", "portrait": "AA"}}),
        holder_binding: true,
        authorities: None,
    };
    let evaluation = evaluate(&query, &[mdl]).unwrap();
    assert_eq!(
        evaluation.credential_sets[0].satisfiable_options,
        [["mdl-id"]]
    );
    assert!(evaluation.credential_sets[1].satisfiable_options.is_empty());
    let rejection = &evaluation.credential("mdl-address").unwrap().rejections[0];
    assert!(matches!(
        &rejection.reason,
        Mismatch::Claim {
            reason: PathError::NothingSelected,
            ..
        }
    ));
}

#[test]
fn oid4vp_d_example_claims_alternatives() {
    let query = example("claims_alternatives.json");
    let credential = &query.credentials[0];
    let sets = credential.claim_sets.as_ref().unwrap();
    assert_eq!(sets, &[vec!["a", "c", "d", "e"], vec!["a", "b", "e"]]);
    assert_eq!(
        credential.claim("b").unwrap().path.to_string(),
        r#"["postal_code"]"#
    );
    assert_round_trips(&query);
}

#[test]
fn oid4vp_d_example_value_matching_simple() {
    let query = example("value_matching_simple.json");
    let credential = &query.credentials[0];
    let claims = credential.claims.as_ref().unwrap();
    assert_eq!(
        claims[0].values,
        Some(vec![ClaimValue::String("Doe".into())])
    );
    assert_eq!(claims[3].values.as_ref().map(Vec::len), Some(2));
    assert_round_trips(&query);
}

#[test]
fn every_query_example_is_tested() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../test-vectors/dcql/openid4vp-1.0-query-examples"
    );
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".json"))
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "claims_alternatives.json",
            "complex_mdoc.json",
            "credentials_alternatives.json",
            "multi_credentials.json",
            "simple.json",
            "simple_mdoc.json",
            "value_matching_simple.json",
        ]
    );
}

#[test]
fn oid4vp_6_1_1_trusted_authorities_example_types() {
    // The three types of §6.1.1 parse to their closed variants; others stay
    // data.
    for (wire, kind) in [
        ("aki", TrustedAuthorityType::Aki),
        ("etsi_tl", TrustedAuthorityType::EtsiTl),
        ("openid_federation", TrustedAuthorityType::OpenidFederation),
        ("x_custom", TrustedAuthorityType::Other("x_custom".into())),
    ] {
        let query = example("simple.json");
        let mut value = serde_json::to_value(&query).unwrap();
        value["credentials"][0]["trusted_authorities"] = json!([{"type": wire, "values": ["v"]}]);
        let query = ValidatedQuery::from_json(value.to_string())
            .unwrap()
            .into_query();
        assert_eq!(
            query.credentials[0].trusted_authorities.as_ref().unwrap()[0].kind,
            kind
        );
    }
}

// ---------------------------------------------------------------------------
// §6.4: matching (matching-scenarios.json)

/// Every scenario in matching-scenarios.json, each run by a test below.
const SCENARIOS: [&str; 16] = [
    "simple-match",
    "simple-missing-nested-claim",
    "simple-wrong-vct",
    "simple-wrong-format-vc+sd-jwt",
    "value-matching-ok",
    "value-matching-second-allowed-value",
    "value-matching-postal-code-mismatch",
    "value-matching-family-name-mismatch",
    "claim-sets-first-option",
    "claim-sets-none-satisfied",
    "credential-sets-pid",
    "credential-sets-reduced-pair",
    "credential-sets-pid-plus-optional",
    "multi-credentials-both",
    "array-wildcard-path",
    "no-claims-requested",
];

fn scenarios() -> Vec<Value> {
    let file = vector_json("dcql/matching-scenarios.json");
    file["scenarios"].as_array().unwrap().clone()
}

/// A wallet credential of the scenario file's `credential_model`.
fn candidate(credential: &Value) -> Candidate {
    let text = |key: &str| {
        credential
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Candidate {
        id: text("id").unwrap(),
        format: CredentialFormat::from(credential["format"].as_str().unwrap()),
        vct: text("vct"),
        doctype: text("doctype"),
        claims: credential
            .get("claims")
            .or_else(|| credential.get("namespaces"))
            .cloned()
            .unwrap(),
        holder_binding: credential
            .get("holder_binding")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        authorities: None,
    }
}

fn matching_ids(evaluation: &Evaluation, query_id: &str) -> Vec<String> {
    evaluation
        .credential(query_id)
        .unwrap_or_else(|| panic!("no evaluation for {query_id}"))
        .matches
        .iter()
        .map(|m| m.candidate_id.clone())
        .collect()
}

/// Runs one scenario, checks it against its `expected` block, and returns
/// the result for scenario-specific checks.
fn run_scenario(name: &str) -> Result<Evaluation, Unsatisfied> {
    let scenario = scenarios()
        .into_iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no scenario {name}"));
    let query = ValidatedQuery::from_json(scenario["dcql_query"].to_string()).unwrap();
    let candidates: Vec<Candidate> = scenario["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(candidate)
        .collect();
    let result = evaluate(&query, &candidates);
    let expected = &scenario["expected"];
    let per_query = expected["credential_matches"].as_object().unwrap();
    match &result {
        Ok(evaluation) => {
            assert_eq!(expected["can_be_satisfied"], true, "{name}");
            for (query_id, matched) in per_query {
                let ids = matching_ids(evaluation, query_id);
                assert_eq!(
                    json!(ids),
                    matched["matching_credential_ids"],
                    "{name}: {query_id}"
                );
                assert_eq!(matched["success"], !ids.is_empty(), "{name}: {query_id}");
            }
            if let Some(sets) = expected.get("credential_sets") {
                let sets = sets.as_array().unwrap();
                assert_eq!(sets.len(), evaluation.credential_sets.len(), "{name}");
                for (want, got) in sets.iter().zip(&evaluation.credential_sets) {
                    assert_eq!(want["required"], got.required, "{name}");
                    let options = match &want["matching_options"] {
                        Value::Null => json!([]),
                        options => options.clone(),
                    };
                    assert_eq!(options, json!(got.satisfiable_options), "{name}");
                }
            }
        }
        Err(unsatisfied) => {
            assert_eq!(expected["can_be_satisfied"], false, "{name}: {unsatisfied}");
            let failed = match unsatisfied {
                Unsatisfied::CredentialQuery(c) => vec![c],
                Unsatisfied::CredentialSet { unmatched, .. } => unmatched.iter().collect(),
            };
            assert!(!failed.is_empty(), "{name}");
            for c in failed {
                assert!(c.matches.is_empty(), "{name}");
                assert_eq!(
                    per_query[&c.query_id]["success"], false,
                    "{name}: {}",
                    c.query_id
                );
                assert_eq!(c.rejections.len(), candidates.len(), "{name}");
            }
        }
    }
    result
}

/// The reason the only candidate was rejected by the only query.
fn only_rejection(result: Result<Evaluation, Unsatisfied>) -> Mismatch {
    match result {
        Err(Unsatisfied::CredentialQuery(c)) => {
            assert_eq!(c.rejections.len(), 1);
            c.rejections[0].reason.clone()
        }
        other => panic!("expected one unsatisfied credential query, got {other:?}"),
    }
}

fn disclosed(evaluation: &Evaluation, query_id: &str) -> Vec<String> {
    evaluation.credential(query_id).unwrap().matches[0]
        .claims
        .iter()
        .flat_map(|c| c.disclose.iter().map(ToString::to_string))
        .collect()
}

#[test]
fn every_matching_scenario_is_tested() {
    let names: Vec<String> = scenarios()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, SCENARIOS);
}

#[test]
fn matching_scenarios_use_the_spec_example_queries() {
    let prefix = "OpenID4VP 1.0 examples/query_lang/";
    let mut compared = 0;
    for scenario in scenarios() {
        let source = scenario["query_source"].as_str().unwrap();
        if let Some(file) = source.strip_prefix(prefix) {
            let from_scenario: DcqlQuery =
                serde_json::from_value(scenario["dcql_query"].clone()).unwrap();
            assert_eq!(from_scenario, example(file), "{}", scenario["name"]);
            compared += 1;
        }
    }
    assert_eq!(compared, 14);
}

#[test]
fn oid4vp_6_4_1_simple_match() {
    let evaluation = run_scenario("simple-match").unwrap();
    assert_eq!(
        disclosed(&evaluation, "my_credential"),
        [
            r#"["family_name"]"#,
            r#"["given_name"]"#,
            r#"["address","street_address"]"#
        ]
    );
}

#[test]
fn oid4vp_6_4_1_simple_missing_nested_claim() {
    let reason = only_rejection(run_scenario("simple-missing-nested-claim"));
    assert!(
        matches!(&reason, Mismatch::Claim { path, reason: PathError::NothingSelected }
            if path.to_string() == r#"["address","street_address"]"#),
        "{reason:?}"
    );
}

#[test]
fn oid4vp_b_3_5_simple_wrong_vct() {
    let reason = only_rejection(run_scenario("simple-wrong-vct"));
    assert!(matches!(reason, Mismatch::Vct { .. }), "{reason:?}");
}

#[test]
fn oid4vp_6_1_simple_wrong_format_vc_sd_jwt() {
    let reason = only_rejection(run_scenario("simple-wrong-format-vc+sd-jwt"));
    assert!(
        matches!(&reason, Mismatch::Format { found, .. } if found.as_str() == "vc+sd-jwt"),
        "{reason:?}"
    );
}

#[test]
fn oid4vp_6_3_value_matching_ok() {
    let evaluation = run_scenario("value-matching-ok").unwrap();
    assert_eq!(disclosed(&evaluation, "my_credential").len(), 4);
}

#[test]
fn oid4vp_6_3_value_matching_second_allowed_value() {
    run_scenario("value-matching-second-allowed-value").unwrap();
}

#[test]
fn oid4vp_6_3_value_matching_postal_code_mismatch() {
    let reason = only_rejection(run_scenario("value-matching-postal-code-mismatch"));
    assert!(
        matches!(&reason, Mismatch::Values { path } if path.to_string() == r#"["postal_code"]"#),
        "{reason:?}"
    );
}

#[test]
fn oid4vp_6_3_value_matching_family_name_mismatch() {
    let reason = only_rejection(run_scenario("value-matching-family-name-mismatch"));
    assert!(
        matches!(&reason, Mismatch::Values { path } if path.to_string() == r#"["family_name"]"#),
        "{reason:?}"
    );
}

#[test]
fn oid4vp_6_4_1_claim_sets_first_option() {
    let evaluation = run_scenario("claim-sets-first-option").unwrap();
    let found = &evaluation.credential("pid").unwrap().matches[0];
    assert_eq!(found.claim_set, Some(0));
    let ids: Vec<&str> = found
        .claims
        .iter()
        .filter_map(|c| c.id.as_deref())
        .collect();
    assert_eq!(ids, ["a", "c", "d", "e"]);
}

#[test]
fn oid4vp_6_4_1_claim_sets_none_satisfied() {
    let reason = only_rejection(run_scenario("claim-sets-none-satisfied"));
    let Mismatch::ClaimSets { unavailable } = &reason else {
        panic!("{reason:?}");
    };
    let ids: Vec<&str> = unavailable.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["c", "d", "b"]);
}

#[test]
fn oid4vp_6_4_2_credential_sets_pid() {
    run_scenario("credential-sets-pid").unwrap();
}

#[test]
fn oid4vp_6_4_2_credential_sets_reduced_pair() {
    run_scenario("credential-sets-reduced-pair").unwrap();
}

#[test]
fn oid4vp_6_4_2_credential_sets_pid_plus_optional() {
    run_scenario("credential-sets-pid-plus-optional").unwrap();
}

#[test]
fn oid4vp_6_4_2_multi_credentials_both() {
    let evaluation = run_scenario("multi-credentials-both").unwrap();
    assert_eq!(
        disclosed(&evaluation, "mdl"),
        [
            r#"["org.iso.7367.1","vehicle_holder"]"#,
            r#"["org.iso.18013.5.1","given_name"]"#
        ]
    );
}

#[test]
fn oid4vp_7_1_1_array_wildcard_path() {
    let evaluation = run_scenario("array-wildcard-path").unwrap();
    assert_eq!(
        disclosed(&evaluation, "deg"),
        [
            r#"["degrees",0,"type"]"#,
            r#"["degrees",1,"type"]"#,
            r#"["nationalities",1]"#
        ]
    );
}

#[test]
fn oid4vp_6_4_1_no_claims_requested() {
    let evaluation = run_scenario("no-claims-requested").unwrap();
    let found = &evaluation.credential("any").unwrap().matches[0];
    assert!(found.claims.is_empty(), "only the always-disclosed claims");
    assert_eq!(found.claim_set, None);
}
