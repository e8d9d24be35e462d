//! `vc::metadata` and `vc::schema`: the draft's Type Metadata examples, the
//! EUDI PID Type Metadata, and Intyg's own types in `specs/credentials/`.

use intyg_core::vc::metadata::{
    ClaimMetadata, ClaimPathElement, CredentialType, ExtendError, MetadataError, SdPolicy,
    TypeError, TypeMetadata,
};
use intyg_core::vc::schema::{ClaimsSchema, SchemaError, SchemaViolations};
use serde_json::{Value, json};

use crate::{vector, vector_json};

/// The three types Intyg ships.
const TYPES: [&str; 3] = [
    "registration-certificate",
    "internship-eligibility",
    "education-diploma",
];

/// Where every Intyg `vct` starts (see `specs/PROFILE.md`).
const VCT_BASE: &str = "https://intyg.se/credentials/";

/// Reads `specs/credentials/<kind>/<file>`.
fn spec(kind: &str, file: &str) -> String {
    let full = format!(
        "{}/{kind}/{file}",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../specs/credentials")
    );
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("reading {full}: {e}"))
}

fn spec_json(kind: &str, file: &str) -> Value {
    serde_json::from_str(&spec(kind, file)).unwrap()
}

fn load(kind: &str) -> CredentialType {
    CredentialType::from_documents(
        &spec(kind, "type-metadata.json"),
        &spec(kind, "schema.json"),
    )
    .unwrap_or_else(|e| panic!("{kind}: {e}"))
}

/// A claims path from its JSON form, e.g. `path(json!(["degrees", null]))`.
fn path(value: Value) -> Vec<ClaimPathElement> {
    serde_json::from_value(value).unwrap()
}

fn metadata_vector(file: &str) -> TypeMetadata {
    TypeMetadata::parse(&vector(&format!("sd-jwt-vc/{file}"))).unwrap()
}

/// Validates `claims` against `kind`'s schema and expects it to fail.
fn violations(kind: &str, claims: &Value) -> SchemaViolations {
    load(kind)
        .schema
        .validate(claims)
        .expect_err("claims should be rejected")
}

/// The example of `kind` with `edit` applied to its claim object.
fn example_with(kind: &str, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    let mut example = spec_json(kind, "example.json");
    edit(example.as_object_mut().unwrap());
    example
}

// ---------------------------------------------------------------------------
// The draft's examples (test-vectors/sd-jwt-vc/draft-json-examples/).

#[test]
fn sd_jwt_vc_type_metadata_format_fig17_minimal_document() {
    let m = metadata_vector("draft-json-examples/fig17-type-metadata-document.json");
    assert_eq!(
        m.vct,
        "https://betelgeuse.example.com/education_credential/v42"
    );
    assert_eq!(
        m.name.as_deref(),
        Some("Betelgeuse Education Credential - Version 42")
    );
    assert_eq!(
        m.extends.as_deref(),
        Some("https://galaxy.example.com/galactic-education-credential/v2")
    );
    assert_eq!(
        m.extends_integrity.as_deref(),
        Some("sha256-ilOUJsTultOwLfz7QUcFALaRa3BP/jelX1ds04kB9yU=")
    );
    assert!(m.display.is_empty() && m.claims.is_empty() && m.extra.is_empty());
    assert!(m.display("en").is_none());
    assert_eq!(m.sd_policy(&path(json!(["name"]))), SdPolicy::Allowed);
}

#[test]
fn sd_jwt_vc_type_metadata_example_fig30_display() {
    let m = metadata_vector("draft-json-examples/fig30-A2-type-metadata.json");
    assert_eq!(m.display.len(), 2);
    let de = m.display("de-DE").unwrap();
    assert_eq!(de.name, "Betelgeuse-Bildungsnachweis");
    // Same primary language, case-insensitive tag.
    assert_eq!(m.display("de").unwrap().locale, "de-DE");
    assert_eq!(m.display("EN-us").unwrap().locale, "en-US");
    // No Swedish entry: English.
    assert_eq!(
        m.display("sv").unwrap().name,
        "Betelgeuse Education Credential"
    );
    let rendering = m.display("en-US").unwrap().rendering.as_ref().unwrap();
    let simple = rendering.simple.as_ref().unwrap();
    assert_eq!(simple.background_color.as_deref(), Some("#12107c"));
    assert_eq!(simple.text_color.as_deref(), Some("#FFFFFF"));
    let logo = simple.logo.as_ref().unwrap();
    assert_eq!(
        logo.alt_text.as_deref(),
        Some("Betelgeuse Ministry of Education logo")
    );
    assert_eq!(
        logo.uri_integrity.as_deref(),
        Some("sha256-LmXfh+9cLlJNXN+TsMk+PmKjZ5t0WRL5ca/xGgX3c1U=")
    );
    assert!(simple.background_image.is_some());
    assert_eq!(rendering.svg_templates.len(), 1);
    let properties = rendering.svg_templates[0].properties.as_ref().unwrap();
    assert_eq!(properties["orientation"], "landscape");
}

#[test]
fn sd_jwt_vc_type_metadata_example_fig30_claims() {
    let m = metadata_vector("draft-json-examples/fig30-A2-type-metadata.json");
    assert_eq!(m.claims.len(), 7);
    let name = m.claim(&path(json!(["name"]))).unwrap();
    assert!(name.mandatory);
    assert_eq!(name.sd, SdPolicy::Always);
    // The four definitions for `degrees` that the draft explains.
    assert_eq!(m.sd_policy(&path(json!(["degrees"]))), SdPolicy::Never);
    assert_eq!(
        m.sd_policy(&path(json!(["degrees", null]))),
        SdPolicy::Always
    );
    assert_eq!(m.sd_policy(&path(json!(["degrees", 1]))), SdPolicy::Always);
    assert_eq!(
        m.sd_policy(&path(json!(["degrees", 0, "field_of_study"]))),
        SdPolicy::Never
    );
    assert_eq!(
        m.sd_policy(&path(json!(["degrees", 2, "date_awarded"]))),
        SdPolicy::Always
    );
    // Not described: the draft's default.
    assert_eq!(
        m.sd_policy(&path(json!(["nationalities"]))),
        SdPolicy::Allowed
    );
    assert!(m.claim(&path(json!(["degrees", 0, "type"]))).is_none());

    let street = path(json!(["address", "street_address"]));
    assert_eq!(
        m.claim(&street).unwrap().svg_id.as_deref(),
        Some("address_street_address")
    );
    assert_eq!(m.label(&street, "de-DE"), Some("Straße"));
    assert_eq!(m.label(&street, "fr"), Some("Street Address"));
    assert_eq!(m.label(&path(json!(["degrees"])), "de"), Some("Abschlüsse"));
    // Described, but without labels.
    assert_eq!(m.label(&path(json!(["degrees", null])), "en"), None);
}

#[test]
fn sd_jwt_vc_type_metadata_example_fig30_round_trip() {
    let original = vector_json("sd-jwt-vc/draft-json-examples/fig30-A2-type-metadata.json");
    let m: TypeMetadata = serde_json::from_value(original.clone()).unwrap();
    assert_eq!(serde_json::to_value(&m).unwrap(), original);
}

#[test]
fn sd_jwt_vc_claim_path_fig19_elements() {
    // The path forms of "Claim Path", against the fig. 19 credential's shape.
    let credential =
        vector_json("sd-jwt-vc/draft-json-examples/fig19-claim-path-example-credential.json");
    assert!(credential["degrees"].is_array());
    assert_eq!(
        path(json!(["degrees", null, "type"])),
        vec![
            ClaimPathElement::from("degrees"),
            ClaimPathElement::AllElements,
            ClaimPathElement::from("type"),
        ]
    );
    assert_eq!(
        path(json!(["nationalities", 1])),
        vec![
            ClaimPathElement::from("nationalities"),
            ClaimPathElement::Index(1)
        ]
    );
    assert_eq!(
        serde_json::to_value(path(json!(["degrees", null, 0]))).unwrap(),
        json!(["degrees", null, 0])
    );
    for bad in [json!([-1]), json!([1.5]), json!([true]), json!([{"a": 1}])] {
        assert!(serde_json::from_value::<Vec<ClaimPathElement>>(bad).is_err());
    }
}

#[test]
fn sd_jwt_vc_extending_claim_metadata_fig20_fig21_fig22() {
    let base = metadata_vector("draft-json-examples/fig20-base-type-metadata.json");
    let child = metadata_vector("draft-json-examples/fig21-child-type-metadata.json");
    let expected: Vec<ClaimMetadata> =
        serde_json::from_value(
            vector_json("sd-jwt-vc/draft-json-examples/fig22-effective-claim-metadata-child.json")
                ["claims"]
                .clone(),
        )
        .unwrap();
    let effective = child.extend(&base).unwrap();
    assert_eq!(effective.claims, expected);
    assert_eq!(effective.vct, child.vct);
    assert_eq!(
        effective.label(&path(json!(["address", "city"])), "en"),
        Some("Town")
    );
    assert_eq!(
        effective.label(&path(json!(["name"])), "en"),
        Some("Full Name")
    );
}

#[test]
fn sd_jwt_vc_extending_claim_metadata_not_extending() {
    let base = metadata_vector("draft-json-examples/fig20-base-type-metadata.json");
    let child = metadata_vector("draft-json-examples/fig21-child-type-metadata.json");
    assert!(matches!(
        base.extend(&child),
        Err(ExtendError::NotExtending { extends: None, .. })
    ));
    let fig17 = metadata_vector("draft-json-examples/fig17-type-metadata-document.json");
    assert!(matches!(
        fig17.extend(&base),
        Err(ExtendError::NotExtending {
            extends: Some(_),
            ..
        })
    ));
}

/// fig. 20 with `sd`/`mandatory` set on `["name"]`, and fig. 21 overriding
/// `["name"]` with `child` members.
fn base_and_child(base_claim: Value, child_claim: Value) -> (TypeMetadata, TypeMetadata) {
    let mut base = vector_json("sd-jwt-vc/draft-json-examples/fig20-base-type-metadata.json");
    let name = base["claims"][0].as_object_mut().unwrap();
    name.extend(base_claim.as_object().unwrap().clone());
    let mut child = vector_json("sd-jwt-vc/draft-json-examples/fig21-child-type-metadata.json");
    let mut override_name = json!({"path": ["name"]});
    override_name
        .as_object_mut()
        .unwrap()
        .extend(child_claim.as_object().unwrap().clone());
    child["claims"].as_array_mut().unwrap().push(override_name);
    (
        serde_json::from_value(base).unwrap(),
        serde_json::from_value(child).unwrap(),
    )
}

#[test]
fn sd_jwt_vc_extending_claim_metadata_sd_rules() {
    // allowed (explicit or omitted) may become always or never.
    for (b, c) in [("allowed", "never"), ("allowed", "always")] {
        let (base, child) = base_and_child(json!({"sd": b}), json!({"sd": c}));
        let effective = child.extend(&base).unwrap();
        assert_eq!(
            serde_json::to_value(effective.sd_policy(&path(json!(["name"])))).unwrap(),
            json!(c)
        );
    }
    let (base, child) = base_and_child(json!({}), json!({"sd": "never"}));
    assert!(child.extend(&base).is_ok());
    // always and never are final.
    for (b, c) in [
        ("always", "never"),
        ("never", "allowed"),
        ("always", "allowed"),
    ] {
        let (base, child) = base_and_child(json!({"sd": b}), json!({"sd": c}));
        match child.extend(&base) {
            Err(ExtendError::SdChanged { path, .. }) => assert_eq!(path, r#"["name"]"#),
            other => panic!("{b} -> {c}: {other:?}"),
        }
    }
}

#[test]
fn sd_jwt_vc_extending_claim_metadata_mandatory_rules() {
    let (base, child) = base_and_child(json!({}), json!({"mandatory": true}));
    assert!(
        child
            .extend(&base)
            .unwrap()
            .claim(&path(json!(["name"])))
            .unwrap()
            .mandatory
    );
    let (base, child) = base_and_child(json!({"mandatory": true}), json!({"mandatory": false}));
    assert!(matches!(
        child.extend(&base),
        Err(ExtendError::MandatoryDropped { path }) if path == r#"["name"]"#
    ));
}

// ---------------------------------------------------------------------------
// EUDI PID Type Metadata (test-vectors/sd-jwt-vc/eudi/).

#[test]
fn eudi_pid_arf_v18_type_metadata() {
    let m = metadata_vector("eudi/pid_arf_v18-type-metadata.json");
    assert_eq!(m.vct, "urn:eudi:pid:1");
    assert_eq!(m.claims.len(), 35);
    assert!(m.claims.iter().all(|c| c.sd == SdPolicy::Always));
    // Only English: every locale falls back to it.
    assert_eq!(m.display("sv").unwrap().name, "PID");
    assert_eq!(
        m.label(&path(json!(["family_name"])), "sv-SE"),
        Some("Family Name(s)")
    );
    assert_eq!(
        m.label(&path(json!(["address", "street_address"])), "en"),
        Some("Street")
    );
    // A key that looks like a number is still a key.
    let over_18 = path(json!(["age_equal_or_over", "18"]));
    assert_eq!(over_18[1], ClaimPathElement::from("18"));
    assert!(m.claim(&over_18).is_some());
    assert!(m.claim(&path(json!(["age_equal_or_over", 18]))).is_none());
    // ["nationalities", null] covers each element.
    assert_eq!(
        m.claim(&path(json!(["nationalities", 3]))).unwrap().path,
        path(json!(["nationalities", null]))
    );
    assert_eq!(
        m.sd_policy(&path(json!(["nationalities", 0]))),
        SdPolicy::Always
    );
}

// ---------------------------------------------------------------------------
// TypeMetadata::parse errors, on crafted variants of the fig. 30 document.

fn fig30_with(edit: impl FnOnce(&mut Value)) -> String {
    let mut doc = vector_json("sd-jwt-vc/draft-json-examples/fig30-A2-type-metadata.json");
    edit(&mut doc);
    doc.to_string()
}

#[test]
fn metadata_error_json_on_unknown_sd_value() {
    let text = fig30_with(|d| d["claims"][0]["sd"] = json!("sometimes"));
    assert!(matches!(
        TypeMetadata::parse(&text),
        Err(MetadataError::Json(_))
    ));
}

#[test]
fn metadata_error_json_on_missing_vct_and_bad_path() {
    let text = fig30_with(|d| {
        d.as_object_mut().unwrap().remove("vct");
    });
    assert!(matches!(
        TypeMetadata::parse(&text),
        Err(MetadataError::Json(_))
    ));
    let text = fig30_with(|d| d["claims"][0]["path"] = json!(["degrees", -1]));
    assert!(matches!(
        TypeMetadata::parse(&text),
        Err(MetadataError::Json(_))
    ));
    assert!(matches!(
        TypeMetadata::parse("not json"),
        Err(MetadataError::Json(_))
    ));
}

#[test]
fn metadata_error_empty_vct() {
    let text = fig30_with(|d| d["vct"] = json!(""));
    assert!(matches!(
        TypeMetadata::parse(&text),
        Err(MetadataError::EmptyVct)
    ));
}

#[test]
fn metadata_error_empty_claim_path() {
    let text = fig30_with(|d| d["claims"][2]["path"] = json!([]));
    assert!(matches!(
        TypeMetadata::parse(&text),
        Err(MetadataError::EmptyClaimPath { index: 2 })
    ));
}

#[test]
fn metadata_error_duplicate_claim_path() {
    let text = fig30_with(|d| d["claims"][1]["path"] = json!(["name"]));
    match TypeMetadata::parse(&text) {
        Err(MetadataError::DuplicateClaimPath { path }) => assert_eq!(path, r#"["name"]"#),
        other => panic!("{other:?}"),
    }
}

#[test]
fn metadata_error_invalid_svg_id() {
    for bad in ["1street", "street-address", "", "gata_ä"] {
        let text = fig30_with(|d| d["claims"][2]["svg_id"] = json!(bad));
        assert!(
            matches!(TypeMetadata::parse(&text), Err(MetadataError::InvalidSvgId { svg_id }) if svg_id == bad),
            "{bad:?}"
        );
    }
    let text = fig30_with(|d| d["claims"][2]["svg_id"] = json!("_street_2"));
    assert!(TypeMetadata::parse(&text).is_ok());
}

#[test]
fn metadata_error_duplicate_svg_id() {
    let text = fig30_with(|d| d["claims"][0]["svg_id"] = json!("address_street_address"));
    assert!(matches!(
        TypeMetadata::parse(&text),
        Err(MetadataError::DuplicateSvgId { svg_id }) if svg_id == "address_street_address"
    ));
}

#[test]
fn metadata_pre_draft_12_lang_schema_uri_and_unknown_members() {
    // Drafts -05 to -11 wrote `lang` and could carry `schema_uri`; unknown
    // members must be ignored, and are kept.
    let text = fig30_with(|d| {
        d["display"][0] = json!({"lang": "en-US", "name": "Old style"});
        d["claims"][0]["display"][0] = json!({"lang": "de-DE", "label": "Name (alt)"});
        d["claims"][0]["x-note"] = json!("kept");
        d["schema_uri"] = json!("https://betelgeuse.example.com/schema.json");
        d["x-extension"] = json!({"any": [1, 2]});
    });
    let m = TypeMetadata::parse(&text).unwrap();
    assert_eq!(m.display("en").unwrap().name, "Old style");
    assert_eq!(m.label(&path(json!(["name"])), "de-DE"), Some("Name (alt)"));
    assert_eq!(m.claims[0].extra["x-note"], "kept");
    assert_eq!(
        m.schema_uri.as_deref(),
        Some("https://betelgeuse.example.com/schema.json")
    );
    assert_eq!(m.extra["x-extension"], json!({"any": [1, 2]}));
}

// ---------------------------------------------------------------------------
// Intyg's types (specs/credentials/).

#[test]
fn intyg_types_load_and_examples_validate() {
    for kind in TYPES {
        let t = load(kind);
        assert_eq!(t.vct(), format!("{VCT_BASE}{kind}/v1"));
        t.schema
            .validate(&spec_json(kind, "example.json"))
            .unwrap_or_else(|v| panic!("{kind}: {v}"));
    }
}

#[test]
fn intyg_types_every_claim_always_disclosable_and_labelled_sv_en() {
    for kind in TYPES {
        let t = load(kind);
        let m = &t.metadata;
        for locale in ["sv", "en"] {
            let display = m.display(locale).unwrap();
            assert_eq!(display.locale, locale, "{kind}");
            let simple = display.rendering.as_ref().unwrap().simple.as_ref().unwrap();
            assert!(simple.background_color.is_some() && simple.text_color.is_some());
        }
        for claim in &m.claims {
            assert_eq!(claim.sd, SdPolicy::Always, "{kind} {:?}", claim.path);
            for locale in ["sv", "en"] {
                let label = m.label(&claim.path, locale).unwrap();
                assert!(!label.is_empty());
                assert!(claim.display.iter().any(|d| d.locale == locale));
            }
        }
        // Every claim in the example is described and always disclosable.
        for name in spec_json(kind, "example.json").as_object().unwrap().keys() {
            assert_eq!(
                m.sd_policy(&[ClaimPathElement::from(name.as_str())]),
                SdPolicy::Always,
                "{kind} {name}"
            );
        }
        assert!(m.schema.is_none() && m.schema_uri.is_none());
    }
}

#[test]
fn intyg_types_labels() {
    let t = load("registration-certificate");
    let pnr = path(json!(["personal_identity_number"]));
    assert_eq!(t.metadata.label(&pnr, "sv"), Some("Personnummer"));
    assert_eq!(
        t.metadata.label(&pnr, "en-GB"),
        Some("Personal identity number")
    );
    assert_eq!(
        t.metadata.label(&pnr, "fi"),
        Some("Personal identity number")
    );
    assert_eq!(
        t.metadata.display("sv-SE").unwrap().name,
        "Inskrivningsintyg"
    );
    let d = load("education-diploma");
    assert_eq!(
        d.metadata.label(&path(json!(["esco_skills", 0])), "sv"),
        Some("Färdighet")
    );
}

#[test]
fn intyg_types_mandatory_matches_required() {
    for kind in TYPES {
        let t = load(kind);
        let required: Vec<&str> = t.schema.required().collect();
        for claim in t.metadata.claims.iter().filter(|c| c.path.len() == 1) {
            let ClaimPathElement::Key(name) = &claim.path[0] else {
                panic!("{kind}: {:?}", claim.path)
            };
            assert_eq!(
                claim.mandatory,
                required.contains(&name.as_str()),
                "{kind} {name}"
            );
        }
    }
}

#[test]
fn intyg_schema_accepts_processed_payload_with_registered_claims() {
    for kind in TYPES {
        let payload = example_with(kind, |c| {
            c.insert("vct".into(), json!(format!("{VCT_BASE}{kind}/v1")));
            c.insert("iss".into(), json!("https://issuer.intyg.se"));
            c.insert("iat".into(), json!(1_795_000_000));
            c.insert("exp".into(), json!(1_826_536_000));
            c.insert("cnf".into(), json!({"jwk": {"kty": "EC", "crv": "P-256"}}));
            c.insert(
                "status".into(),
                json!({"status_list": {"idx": 7, "uri": "https://issuer.intyg.se/status/1"}}),
            );
        });
        load(kind)
            .schema
            .validate(&payload)
            .unwrap_or_else(|v| panic!("{kind}: {v}"));
        let other = example_with(kind, |c| {
            c.insert("vct".into(), json!("urn:eudi:pid:1"));
        });
        let v = violations(kind, &other);
        assert_eq!(v.pointers(), ["/vct"], "{kind}");
        assert_eq!(v.violations[0].keyword, "const");
    }
}

#[test]
fn registration_certificate_missing_required_claims() {
    let claims = example_with("registration-certificate", |c| {
        c.remove("personal_identity_number");
        c.remove("office");
    });
    let v = violations("registration-certificate", &claims);
    let mut pointers = v.pointers();
    pointers.sort_unstable();
    assert_eq!(pointers, ["/office", "/personal_identity_number"]);
    assert!(v.violations.iter().all(|v| v.keyword == "required"));
    assert_eq!(
        v.violations
            .iter()
            .find(|v| v.pointer == "/office")
            .unwrap()
            .message,
        r#"required claim "office" is missing"#
    );
}

#[test]
fn registration_certificate_bad_personal_identity_number() {
    for bad in [
        "19940317-2381",
        "9403172381",
        "199413172381",
        "199403322381",
        "189403172381",
        "1994031723811",
    ] {
        let claims = example_with("registration-certificate", |c| {
            c.insert("personal_identity_number".into(), json!(bad));
        });
        let v = violations("registration-certificate", &claims);
        assert_eq!(v.pointers(), ["/personal_identity_number"], "{bad}");
        assert_eq!(v.violations[0].keyword, "pattern");
        // Personal data stays out of messages.
        assert!(!v.to_string().contains(bad), "{v}");
    }
    let claims = example_with("registration-certificate", |c| {
        c.insert("personal_identity_number".into(), json!(199403172381_u64));
    });
    let v = violations("registration-certificate", &claims);
    assert_eq!(v.pointers(), ["/personal_identity_number"]);
    assert_eq!(v.violations[0].keyword, "type");
}

#[test]
fn registration_certificate_wrong_date_format() {
    for bad in [
        "1994-02-30",
        "17/03/1994",
        "1994-03-17T00:00:00Z",
        "19940317",
    ] {
        let claims = example_with("registration-certificate", |c| {
            c.insert("birthdate".into(), json!(bad));
        });
        let v = violations("registration-certificate", &claims);
        assert_eq!(v.pointers(), ["/birthdate"], "{bad}");
        assert_eq!(v.violations[0].keyword, "format");
        assert!(!v.violations[0].message.contains(bad));
    }
}

#[test]
fn registration_certificate_unknown_property() {
    let claims = example_with("registration-certificate", |c| {
        c.insert("shoe_size".into(), json!(42));
        c.insert("a/b~c".into(), json!(true));
    });
    let v = violations("registration-certificate", &claims);
    let mut pointers = v.pointers();
    pointers.sort_unstable();
    assert_eq!(pointers, ["/a~1b~0c", "/shoe_size"]);
    assert!(
        v.violations
            .iter()
            .all(|v| v.keyword == "additionalProperties")
    );
}

#[test]
fn registration_certificate_status_and_programme() {
    let bad_status = example_with("registration-certificate", |c| {
        c.insert("registration_status".into(), json!("retired"));
        c.remove("programme");
    });
    let v = violations("registration-certificate", &bad_status);
    assert_eq!(v.pointers(), ["/registration_status"]);
    assert_eq!(v.violations[0].keyword, "enum");

    let in_programme_without_one = example_with("registration-certificate", |c| {
        c.remove("programme");
    });
    let v = violations("registration-certificate", &in_programme_without_one);
    assert_eq!(v.pointers(), ["/programme"]);
    assert_eq!(v.violations[0].keyword, "required");

    let job_seeker_with_programme = example_with("registration-certificate", |c| {
        c.insert("registration_status".into(), json!("job_seeker"));
    });
    let v = violations("registration-certificate", &job_seeker_with_programme);
    assert_eq!(v.pointers(), ["/programme"]);

    let job_seeker = example_with("registration-certificate", |c| {
        c.insert("registration_status".into(), json!("job_seeker"));
        c.remove("programme");
    });
    assert!(
        load("registration-certificate")
            .schema
            .validate(&job_seeker)
            .is_ok()
    );
}

#[test]
fn registration_certificate_reports_all_violations_at_once() {
    let claims = example_with("registration-certificate", |c| {
        c.remove("given_name");
        c.insert("birthdate".into(), json!("1994-13-01"));
        c.insert("registered_since".into(), json!(""));
        c.insert("personal_identity_number".into(), json!("x"));
        c.insert("office".into(), json!(""));
        c.insert("nickname".into(), json!("Kajsa"));
    });
    let v = violations("registration-certificate", &claims);
    let mut pointers = v.pointers();
    pointers.sort_unstable();
    assert_eq!(
        pointers,
        [
            "/birthdate",
            "/given_name",
            "/nickname",
            "/office",
            "/personal_identity_number",
            "/registered_since"
        ]
    );
    assert_eq!(v.at("/office").next().unwrap().keyword, "minLength");
    let text = v.to_string();
    assert!(text.starts_with("6 schema violation(s): "), "{text}");
    assert!(!text.contains("Kajsa"));
}

#[test]
fn registration_certificate_not_an_object() {
    let v = violations("registration-certificate", &json!(["given_name"]));
    assert_eq!(v.pointers(), [""]);
    assert_eq!(v.violations[0].keyword, "type");
    assert!(v.to_string().contains("/: "));
}

#[test]
fn internship_eligibility_hours() {
    for ok in [json!(32), json!(32.5), json!(40), json!(0.5)] {
        let claims = example_with("internship-eligibility", |c| {
            c.insert("max_hours_per_week".into(), ok.clone());
        });
        assert!(
            load("internship-eligibility")
                .schema
                .validate(&claims)
                .is_ok(),
            "{ok}"
        );
    }
    for (bad, keyword) in [
        (json!(0), "exclusiveMinimum"),
        (json!(-8), "exclusiveMinimum"),
        (json!(41), "maximum"),
        (json!(32.25), "multipleOf"),
        (json!("32"), "type"),
    ] {
        let claims = example_with("internship-eligibility", |c| {
            c.insert("max_hours_per_week".into(), bad.clone());
        });
        let v = violations("internship-eligibility", &claims);
        assert_eq!(v.pointers(), ["/max_hours_per_week"], "{bad}");
        assert_eq!(v.violations[0].keyword, keyword, "{bad}");
    }
}

#[test]
fn internship_eligibility_needs_person_and_period() {
    let v = violations("internship-eligibility", &json!({}));
    let mut pointers = v.pointers();
    pointers.sort_unstable();
    assert_eq!(
        pointers,
        [
            "/birthdate",
            "/eligible_from",
            "/eligible_until",
            "/family_name",
            "/given_name",
            "/max_hours_per_week"
        ]
    );
    let claims = example_with("internship-eligibility", |c| {
        c.insert("eligible_until".into(), json!("2027-02-29"));
    });
    assert_eq!(
        violations("internship-eligibility", &claims).pointers(),
        ["/eligible_until"]
    );
}

#[test]
fn education_diploma_codes_and_levels() {
    for (field, bad, keyword) in [
        ("sun_code", json!("48"), "pattern"),
        ("sun_code", json!("481B"), "pattern"),
        ("sun_code", json!("481bb"), "pattern"),
        ("seqf_level", json!(9), "maximum"),
        ("seqf_level", json!(5.5), "type"),
        ("eqf_level", json!(0), "minimum"),
        ("credits", json!(-1), "minimum"),
        ("credit_system", json!("ects"), "enum"),
        ("awarded_on", json!("2025-6-5"), "format"),
    ] {
        let claims = example_with("education-diploma", |c| {
            c.insert(field.into(), bad.clone());
        });
        let v = violations("education-diploma", &claims);
        assert_eq!(v.pointers(), [format!("/{field}")], "{field} {bad}");
        assert_eq!(v.violations[0].keyword, keyword, "{field} {bad}");
    }
    for ok in ["481", "010a", "622b"] {
        let claims = example_with("education-diploma", |c| {
            c.insert("sun_code".into(), json!(ok));
        });
        assert!(load("education-diploma").schema.validate(&claims).is_ok());
    }
}

#[test]
fn education_diploma_optional_claims() {
    let minimal = example_with("education-diploma", |c| {
        for optional in ["eqf_level", "credits", "credit_system", "esco_skills"] {
            c.remove(optional);
        }
    });
    assert!(load("education-diploma").schema.validate(&minimal).is_ok());
    // Credits need their unit.
    let claims = example_with("education-diploma", |c| {
        c.remove("credit_system");
    });
    let v = violations("education-diploma", &claims);
    // dependentRequired is reported like required: at the missing member.
    assert_eq!(v.pointers(), ["/credit_system"]);
    assert_eq!(v.violations[0].keyword, "required");
}

#[test]
fn education_diploma_esco_skills() {
    let claims = example_with("education-diploma", |c| {
        c.insert(
            "esco_skills".into(),
            json!([
                "http://data.europa.eu/esco/skill/S5",
                "https://example.com/skill/1",
                {"uri": "http://data.europa.eu/esco/skill/S1", "level": "expert"},
                {"label": "no uri"}
            ]),
        );
    });
    let v = violations("education-diploma", &claims);
    let mut pointers = v.pointers();
    pointers.sort_unstable();
    pointers.dedup();
    assert_eq!(
        pointers,
        ["/esco_skills/1", "/esco_skills/2", "/esco_skills/3"]
    );
    let empty = example_with("education-diploma", |c| {
        c.insert("esco_skills".into(), json!([]));
    });
    let v = violations("education-diploma", &empty);
    assert_eq!(v.pointers(), ["/esco_skills"]);
    assert_eq!(v.violations[0].keyword, "minItems");
}

#[test]
fn claims_schema_declares_nested_paths() {
    let d = load("education-diploma");
    assert!(d.schema.declares(&path(json!(["esco_skills"]))));
    assert!(d.schema.declares(&path(json!(["esco_skills", null]))));
    assert!(d.schema.declares(&path(json!(["esco_skills", 4]))));
    // Through items -> oneOf -> object.
    assert!(
        d.schema
            .declares(&path(json!(["esco_skills", null, "uri"])))
    );
    assert!(
        !d.schema
            .declares(&path(json!(["esco_skills", null, "level"])))
    );
    assert!(!d.schema.declares(&path(json!(["sun_code", null]))));
    assert!(!d.schema.declares(&path(json!(["nickname"]))));
    assert!(d.schema.declares(&path(json!(["cnf", "jwk"]))));
}

// ---------------------------------------------------------------------------
// CredentialType::from_documents and ClaimsSchema errors.

fn from_edited(
    kind: &str,
    edit_metadata: impl FnOnce(&mut Value),
    edit_schema: impl FnOnce(&mut Value),
) -> Result<CredentialType, TypeError> {
    let mut metadata = spec_json(kind, "type-metadata.json");
    let mut schema = spec_json(kind, "schema.json");
    edit_metadata(&mut metadata);
    edit_schema(&mut schema);
    CredentialType::from_documents(&metadata.to_string(), &schema.to_string())
}

#[test]
fn type_error_metadata() {
    let r = CredentialType::from_documents("{}", &spec("registration-certificate", "schema.json"));
    assert!(matches!(
        r,
        Err(TypeError::Metadata(MetadataError::Json(_)))
    ));
}

#[test]
fn type_error_schema_json_and_dialect() {
    let metadata = spec("registration-certificate", "type-metadata.json");
    assert!(matches!(
        CredentialType::from_documents(&metadata, "{"),
        Err(TypeError::Schema(SchemaError::Json(_)))
    ));
    let r = from_edited(
        "registration-certificate",
        |_| {},
        |s| s["$schema"] = json!("http://json-schema.org/draft-07/schema#"),
    );
    assert!(matches!(
        r,
        Err(TypeError::Schema(SchemaError::Dialect { found: Some(_) }))
    ));
    assert!(matches!(
        ClaimsSchema::new(json!({"type": "object"})),
        Err(SchemaError::Dialect { found: None })
    ));
}

#[test]
fn type_error_schema_invalid() {
    let dialect = "https://json-schema.org/draft/2020-12/schema";
    // Not a valid schema.
    assert!(matches!(
        ClaimsSchema::new(json!({"$schema": dialect, "type": 17})),
        Err(SchemaError::Invalid { .. })
    ));
    // "full-date" is RFC 3339's name; JSON Schema's format is "date".
    assert!(matches!(
        ClaimsSchema::new(json!({"$schema": dialect, "format": "full-date"})),
        Err(SchemaError::Invalid { .. })
    ));
    // No fetching: a reference outside the document fails.
    assert!(matches!(
        ClaimsSchema::new(json!({"$schema": dialect, "$ref": "https://intyg.se/other.json"})),
        Err(SchemaError::Invalid { .. })
    ));
}

#[test]
fn type_error_vct_not_pinned() {
    let r = from_edited(
        "internship-eligibility",
        |_| {},
        |s| {
            s["properties"]["vct"] = json!({"type": "string"});
        },
    );
    assert!(matches!(r, Err(TypeError::VctNotPinned)));
}

#[test]
fn type_error_vct_mismatch() {
    let r = from_edited(
        "internship-eligibility",
        |m| m["vct"] = json!("https://intyg.se/credentials/internship-eligibility/v2"),
        |_| {},
    );
    match r {
        Err(TypeError::VctMismatch { metadata, schema }) => {
            assert!(metadata.ends_with("/v2") && schema.ends_with("/v1"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn type_error_undeclared_claim() {
    let r = from_edited(
        "education-diploma",
        |m| {
            m["claims"]
                .as_array_mut()
                .unwrap()
                .push(json!({"path": ["esco_skills", null, "level"], "sd": "always"}));
        },
        |_| {},
    );
    match r {
        Err(TypeError::UndeclaredClaim { path }) => {
            assert_eq!(path, r#"["esco_skills", null, "level"]"#);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn type_error_undescribed_claim() {
    let r = from_edited(
        "registration-certificate",
        |m| {
            m["claims"]
                .as_array_mut()
                .unwrap()
                .retain(|c| c["path"] != json!(["office"]));
        },
        |_| {},
    );
    assert!(matches!(r, Err(TypeError::UndescribedClaim { name }) if name == "office"));
}

#[test]
fn type_error_mandatory_not_required() {
    let r = from_edited(
        "registration-certificate",
        |m| {
            for claim in m["claims"].as_array_mut().unwrap() {
                if claim["path"] == json!(["programme"]) {
                    claim["mandatory"] = json!(true);
                }
            }
        },
        |_| {},
    );
    assert!(matches!(r, Err(TypeError::MandatoryNotRequired { name }) if name == "programme"));
}

// ---------------------------------------------------------------------------
// Intyg's own vectors (test-vectors/intyg/, see its SOURCES.md): a credential
// of each type as issued, and a presentation with a KB-JWT.

mod intyg_vectors {
    use intyg_core::jose::{Jwk, VerifyingKey};
    use intyg_core::sd_jwt::{KeyBindingCheck, SdJwt, VerifyOptions};
    use intyg_core::vc;
    use serde_json::Value;

    use crate::{vector, vector_json};

    fn jwk(kind: &str, file: &str) -> Jwk {
        serde_json::from_str(&vector(&format!("intyg/{kind}/{file}"))).unwrap()
    }

    /// Verifies `presentation.txt` with the inputs of `expected.json` and
    /// compares the processed payload with its `claims`.
    fn presentation(kind: &str) {
        let expected = vector_json(&format!("intyg/{kind}/expected.json"));
        let credential_type = super::load(kind);
        let sd_jwt = SdJwt::parse(vector(&format!("intyg/{kind}/presentation.txt")).trim())
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        let issuer_key = VerifyingKey::from_jwk(&jwk(kind, "issuer.jwk")).unwrap();
        let (aud, nonce) = (
            expected["aud"].as_str().unwrap(),
            expected["nonce"].as_str().unwrap(),
        );
        let options = VerifyOptions::at(expected["now"].as_i64().unwrap())
            .kb_max_age(expected["kb_max_age"].as_i64().unwrap())
            .key_binding(KeyBindingCheck::new(aud, nonce));

        let verified = vc::verify(sd_jwt, &issuer_key, &options, Some(&credential_type))
            .unwrap_or_else(|e| panic!("{kind}: {e}"));

        assert_eq!(
            Value::Object(verified.sd_jwt.claims.clone()),
            expected["claims"]
        );
        assert_eq!(verified.vct.as_str(), credential_type.metadata.vct);
        let holder_key = verified.sd_jwt.holder_key.as_ref().expect("cnf.jwk");
        assert_eq!(
            VerifyingKey::from_jwk(holder_key).unwrap(),
            VerifyingKey::from_jwk(&jwk(kind, "holder.jwk")).unwrap()
        );
        let kb = verified.sd_jwt.key_binding.as_ref().expect("a KB-JWT");
        assert_eq!((kb.aud.as_str(), kb.nonce.as_str()), (aud, nonce));
    }

    /// `issued.txt` conceals every claim of `example.json` and reveals them
    /// all when decoded.
    fn issued(kind: &str) {
        let example = super::spec_json(kind, "example.json");
        let sd_jwt = SdJwt::parse(vector(&format!("intyg/{kind}/issued.txt")).trim())
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        let disclosed = sd_jwt.disclose().unwrap_or_else(|e| panic!("{kind}: {e}"));
        for (name, value) in example.as_object().unwrap() {
            assert_eq!(disclosed.claims.get(name), Some(value), "{kind}: {name}");
        }
    }

    #[test]
    fn intyg_registration_certificate_presentation() {
        presentation("registration-certificate");
    }

    #[test]
    fn intyg_registration_certificate_issued() {
        issued("registration-certificate");
    }

    #[test]
    fn intyg_internship_eligibility_presentation() {
        presentation("internship-eligibility");
    }

    #[test]
    fn intyg_internship_eligibility_issued() {
        issued("internship-eligibility");
    }

    #[test]
    fn intyg_education_diploma_presentation() {
        presentation("education-diploma");
    }

    #[test]
    fn intyg_education_diploma_issued() {
        issued("education-diploma");
    }
}
