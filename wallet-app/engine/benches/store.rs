//! Opening a wallet of 10,000 credentials (argon2id at the default cost,
//! then every index record opened and parsed), and one DCQL evaluation
//! over them. Targets (issue 4): under 1 s and under 10 ms.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use intyg_core::dcql::{ValidatedQuery, evaluate};
use intyg_core::jose::{Algorithm, Header, SigningKey};
use intyg_core::sd_jwt::{self, IssueOptions};
use intyg_wallet::model::{CredentialEntry, Display};
use intyg_wallet::{Wallet, WalletConfig};
use serde_json::json;

const COUNT: usize = 10_000;
const PIN: &str = "246810";
const VCT: &str = "https://intyg.se/credentials/registration-certificate/v1";
const OTHER_VCT: &str = "https://intyg.se/credentials/education-diploma/v1";

fn populate(dir: &std::path::Path) {
    let mut wallet = Wallet::create(dir, PIN, WalletConfig::default()).unwrap();
    let issuer = SigningKey::generate().unwrap();
    let holder = SigningKey::generate().unwrap();
    let claims = json!({
        "iss": "https://arbetsformedlingen.example", "iat": 1_780_000_000, "vct": VCT,
        "cnf": {"jwk": holder.public_jwk()},
        "given_name": "Karin", "family_name": "Lindqvist",
        "registration_status": "in_programme", "registered_since": "2026-02-02"
    });
    let options = IssueOptions::new([
        "/given_name",
        "/family_name",
        "/registration_status",
        "/registered_since",
    ]);
    let compact = sd_jwt::issue(
        claims.as_object().unwrap().clone(),
        &options,
        Header::new(Algorithm::ES256).typ("dc+sd-jwt"),
        &issuer,
    )
    .unwrap()
    .to_string();
    let private = holder.to_private_jwk().unwrap();
    for i in 0..COUNT {
        // Nine in ten are diplomas: the query must skip most credentials.
        let (vct, status) = if i % 10 == 0 {
            (VCT, "in_programme")
        } else {
            (OTHER_VCT, "n/a")
        };
        let mut entry_claims = claims.as_object().unwrap().clone();
        entry_claims.insert("vct".into(), vct.into());
        entry_claims.insert("registration_status".into(), status.into());
        entry_claims.insert("given_name".into(), format!("Person {i}").into());
        let entry = CredentialEntry {
            id: String::new(),
            issuer: "https://arbetsformedlingen.example".into(),
            issuer_name: None,
            vct: vct.into(),
            format: "dc+sd-jwt".into(),
            configuration_id: None,
            display: Display::default(),
            claims: entry_claims,
            received_at: 1_780_000_000,
            expires_at: None,
            copies: 0,
            copies_used: 0,
            status: Default::default(),
            listed_on: None,
        };
        wallet
            .import(entry, vec![(compact.clone(), private.clone()); 3])
            .unwrap();
    }
}

fn bench(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("intyg-wallet-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    populate(&dir);
    let mut group = c.benchmark_group("wallet_10000_credentials");
    group.sample_size(10);
    group.bench_function("unlock_and_index", |b| {
        b.iter(|| {
            let wallet = Wallet::open(&dir, WalletConfig::default())
                .unwrap()
                .unlock(PIN)
                .unwrap();
            black_box(wallet.candidates().len())
        })
    });
    let wallet = Wallet::open(&dir, WalletConfig::default())
        .unwrap()
        .unlock(PIN)
        .unwrap();
    assert_eq!(wallet.candidates().len(), COUNT);
    let query = ValidatedQuery::from_json(
        json!({"credentials": [{"id": "registration", "format": "dc+sd-jwt",
            "meta": {"vct_values": [VCT]},
            "claims": [{"path": ["registration_status"], "values": ["in_programme", "job_seeker"]},
                       {"path": ["registered_since"]}]}]})
        .to_string(),
    )
    .unwrap();
    group.bench_function("dcql_evaluate", |b| {
        b.iter(|| {
            let evaluation = evaluate(&query, wallet.candidates()).unwrap();
            black_box(evaluation.credentials[0].matches.len())
        })
    });
    group.finish();
    drop(wallet);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
