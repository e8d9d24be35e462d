//! `intyg trust-list make|verify|show` as a scheme operator and a script
//! use them: exit 0 with JSON, or exit 1 with a stable `lote_*` code.

use intyg_testkit::TempDir;
use serde_json::{Value, json};

use crate::intyg;

fn description(sequence: u64, extra: Value) -> String {
    let mut description = json!({
        "type": "PubEAAProvidersList",
        "territory": "SE",
        "operator": "Testverket",
        "scheme_name": "Test Pub-EAA providers",
        "sequence_number": sequence,
        "entities": [{"name": "Arbetsförmedlingen", "services": [
            {"type": "PubEAA/Issuance", "certificates": ["op/operator-ca.pem"]}
        ]}]
    });
    if let (Value::Object(target), Value::Object(more)) = (&mut description, extra) {
        target.extend(more);
    }
    description.to_string()
}

fn make(dir: &TempDir, description: &str) -> String {
    let run = intyg(
        &["trust-list", "make", "--dev-operator", "op"],
        description,
        dir.path(),
    );
    assert!(run.ok, "{}", run.stderr);
    run.stdout
}

fn verify(dir: &TempDir, signer: &str, list: &str, extra: &[&str]) -> crate::Run {
    let mut args = vec!["trust-list", "verify", "--signer", signer];
    args.extend_from_slice(extra);
    intyg(&args, list, dir.path())
}

fn code(run: &crate::Run) -> &str {
    assert!(!run.ok, "expected a refusal, got {}", run.stdout);
    run.stderr.split(':').next().unwrap_or_default()
}

#[test]
fn trust_list_make_verify_and_show() {
    let dir = TempDir::new("trust-list");
    let list = make(&dir, &description(2, json!({})));
    let run = verify(&dir, "op/operator-ca.pem", &list, &[]);
    assert!(run.ok, "{}", run.stderr);
    let out: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(out["scheme"]["LoTESequenceNumber"], 2);
    assert_eq!(
        out["entities"][0]["names"][0]["value"],
        "Arbetsförmedlingen"
    );
    assert_eq!(
        out["entities"][0]["services"][0]["type"],
        "http://uri.etsi.org/19602/SvcType/PubEAA/Issuance"
    );
    // The operator's signing certificate itself may be the pin.
    assert!(verify(&dir, "op/operator-chain.pem", &list, &[]).ok);
    let shown = intyg(&["trust-list", "show"], &list, dir.path());
    assert!(shown.ok);
    let shown: Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(shown["verified"], false);
    assert_eq!(
        shown["payload"]["LoTE"]["ListAndSchemeInformation"]["LoTESequenceNumber"],
        2
    );
}

#[test]
fn trust_list_verify_refusals_have_stable_codes() {
    let dir = TempDir::new("trust-list-refusals");
    let list = make(&dir, &description(2, json!({})));
    std::fs::write(dir.path().join("good.jws"), &list).unwrap();

    // Forged: the payload changed under the operator's signature.
    let parts: Vec<&str> = list.trim().split('.').collect();
    let forged_payload = intyg_core::jose::b64url_encode(
        description(9, json!({})).replace("Test Pub-EAA", "Forged"),
    );
    let forged = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    assert_eq!(
        code(&verify(&dir, "op/operator-ca.pem", &forged, &[])),
        "lote_signature_invalid"
    );

    // Another operator's list against this pin.
    let other = TempDir::new("trust-list-other");
    let foreign = {
        let run = intyg(
            &["trust-list", "make", "--dev-operator", "op"],
            &description(2, json!({})),
            other.path(),
        );
        assert!(run.ok, "{}", run.stderr);
        run.stdout
    };
    assert_eq!(
        code(&verify(&dir, "op/operator-ca.pem", &foreign, &[])),
        "lote_untrusted_signer"
    );

    // Past NextUpdate and the grace period.
    let expired = make(
        &dir,
        &description(
            3,
            json!({"issued_at": "2026-01-01T00:00:00Z", "next_update": "2026-02-01T00:00:00Z"}),
        ),
    );
    assert_eq!(
        code(&verify(&dir, "op/operator-ca.pem", &expired, &[])),
        "lote_expired"
    );

    // A lower sequence number than the last good list.
    let older = make(&dir, &description(1, json!({})));
    assert_eq!(
        code(&verify(
            &dir,
            "op/operator-ca.pem",
            &older,
            &["--previous", "good.jws"]
        )),
        "lote_rollback"
    );
    // The same list again is no rollback.
    assert!(
        verify(
            &dir,
            "op/operator-ca.pem",
            &list,
            &["--previous", "good.jws"]
        )
        .ok
    );
}
