//! ES256 signing of a typical JWS signing input (the issuer-signed JWT of
//! a registration certificate: header and payload, base64url) in one run:
//! through PKCS#11 in a SoftHSM2 token (`Pkcs11Signer`: SHA-256 here,
//! `CKM_ECDSA` in the token, a pooled session) against the in-memory
//! aws-lc-rs key (`SigningKey`).
//!
//! The token is a throwaway one, made by the fixture of `intyg-testkit`
//! (this program runs itself again in a child process whose environment
//! names it). Without SoftHSM2 (`/usr/lib/softhsm/libsofthsm2.so`) the
//! bench says so and measures nothing.
//!
//! `nice cargo bench -p intyg-service --bench signing`

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use intyg_core::jose::{Signer, SigningKey};
use intyg_core::status_list::StatusListReference;
use intyg_core::vc::{self, IssueParams, metadata::CredentialType};
use intyg_service::pkcs11::Pkcs11Signer;

#[path = "../../testkit/src/softhsm.rs"]
#[allow(dead_code, unreachable_pub)] // the fixture's test helpers are unused here
mod softhsm;

const NOW: i64 = 1_795_000_000;

/// The signing input of an issued registration certificate.
fn signing_input(key: &SigningKey) -> Vec<u8> {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../specs/credentials/registration-certificate/"
    );
    let read = |name: &str| std::fs::read_to_string(format!("{dir}{name}")).unwrap();
    let kind =
        CredentialType::from_documents(&read("type-metadata.json"), &read("schema.json")).unwrap();
    let claims = serde_json::from_str(&read("example.json")).unwrap();
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
    let issued = vc::issue(&kind, claims, &params, key).unwrap().to_string();
    let jwt = issued.split('~').next().unwrap();
    let (input, _signature) = jwt.rsplit_once('.').unwrap();
    input.as_bytes().to_vec()
}

fn main() {
    let Some(hsm) = softhsm::SoftHsm::for_process() else {
        println!(
            "signing bench skipped: SoftHSM2 is not installed ({}); apt-get install softhsm2",
            softhsm::SOFTHSM_MODULE
        );
        return;
    };
    hsm.generate_key("bench");
    let token = Pkcs11Signer::open(&hsm.config("bench")).unwrap();
    let memory = SigningKey::generate().unwrap();
    let input = signing_input(&memory);
    println!("signing input: {} bytes", input.len());

    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("es256_sign");
    group.throughput(Throughput::Elements(1));
    group.bench_function("softhsm2_pkcs11", |b| {
        b.iter(|| token.sign(black_box(&input)).unwrap())
    });
    group.bench_function("aws_lc_rs_in_memory", |b| {
        b.iter(|| memory.sign(black_box(&input)).unwrap())
    });
    group.finish();
    criterion.final_summary();
}
