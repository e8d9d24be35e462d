//! Issue, present and verify of a registration certificate, beside the raw
//! ES256 verify of aws-lc-rs: a presentation check costs two signature
//! verifications (issuer and KB-JWT), so `2 x es256_verify_raw` is the bound
//! the verify path is read against.
//!
//! It runs under mimalloc, the allocator of `intyg-verifier` (the service
//! that verifies presentations); aws-lc's own allocations inside both
//! verifies stay with the C library's `malloc`.

use criterion::{Criterion, criterion_group, criterion_main};
use intyg_core::jose::{Algorithm, Header, SigningKey, VerifyingKey, sign_compact};
use intyg_core::sd_jwt::{KeyBindingCheck, KeyBindingInput, SdJwt, VerifyOptions};
use intyg_core::status_list::StatusListReference;
use intyg_core::vc::{self, IssueParams, metadata::CredentialType};
use std::hint::black_box;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const NOW: i64 = 1_795_000_000;

fn credential_type() -> CredentialType {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../specs/credentials/registration-certificate/"
    );
    let read = |name: &str| std::fs::read_to_string(format!("{dir}{name}")).unwrap();
    CredentialType::from_documents(&read("type-metadata.json"), &read("schema.json")).unwrap()
}

fn claims() -> serde_json::Map<String, serde_json::Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../specs/credentials/registration-certificate/example.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn benches(c: &mut Criterion) {
    let kind = credential_type();
    let issuer = SigningKey::generate().unwrap();
    let holder = SigningKey::generate().unwrap();
    let mut params = IssueParams::new("https://arbetsformedlingen.se", NOW);
    params.expires_at = Some(NOW + 86_400 * 365);
    params.holder_key = Some(holder.public_jwk());
    params.status = Some(
        serde_json::from_value::<StatusListReference>(serde_json::json!({
            "idx": 4711, "uri": "https://arbetsformedlingen.se/status/1"
        }))
        .unwrap(),
    );

    c.bench_function("issue_registration_certificate", |b| {
        b.iter(|| vc::issue(&kind, black_box(claims()), &params, &issuer).unwrap())
    });

    let issued = vc::issue(&kind, claims(), &params, &issuer)
        .unwrap()
        .to_string();
    let kb = || KeyBindingInput {
        key: &holder,
        aud: "https://employer.example".into(),
        nonce: "n-1".into(),
        iat: NOW,
    };
    let wanted = ["/registration_status", "/registered_since", "/given_name"];
    c.bench_function("present_registration_certificate", |b| {
        b.iter(|| {
            let held = SdJwt::parse(black_box(&issued))
                .unwrap()
                .disclose()
                .unwrap();
            held.present(&wanted, Some(kb())).unwrap()
        })
    });

    let presentation = SdJwt::parse(&issued)
        .unwrap()
        .disclose()
        .unwrap()
        .present(&wanted, Some(kb()))
        .unwrap();
    let issuer_key = VerifyingKey::from_jwk(&issuer.public_jwk()).unwrap();
    let options =
        VerifyOptions::at(NOW).key_binding(KeyBindingCheck::new("https://employer.example", "n-1"));
    c.bench_function("verify_presentation_with_kb", |b| {
        b.iter(|| {
            vc::verify(
                SdJwt::parse(black_box(&presentation)).unwrap(),
                &issuer_key,
                &options,
                Some(&kind),
            )
            .unwrap()
        })
    });

    // The bound: one ES256 verify straight on aws-lc-rs, no JOSE around it.
    let jws = sign_compact(&Header::new(Algorithm::ES256), b"{}", &issuer).unwrap();
    let (input, signature) = jws.rsplit_once('.').unwrap();
    let signature = intyg_core::jose::b64url_decode(signature).unwrap();
    let VerifyingKey::P256(point) = &issuer_key else {
        unreachable!("generated keys are P-256")
    };
    let raw = aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED,
        point.to_vec(),
    );
    c.bench_function("es256_verify_raw_aws_lc", |b| {
        b.iter(|| {
            raw.verify(black_box(input.as_bytes()), black_box(&signature))
                .unwrap()
        })
    });
}

criterion_group!(sd_jwt, benches);
criterion_main!(sd_jwt);
