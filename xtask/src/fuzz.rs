//! The fuzz targets of `fuzz/` (cargo-fuzz, a crate outside the
//! workspace): seed corpora made from `test-vectors/` at run time, and the
//! smoke run of `cargo xtask test` (build, seed, a few seconds per target).
//!
//! A seed is the target's selector byte (see each target's module docs)
//! followed by an input taken from the vectors: whole files, JSON values
//! found in them, the query strings and form bodies of the specifications'
//! HTTP examples, and a few templates for formats the vectors lack (LoTE,
//! the signed-claims modes). Seeds are named by a hash of their content, so
//! that seeding twice adds nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use crate::{run, target_dir};

/// Every target, in `fuzz/Cargo.toml`'s order.
pub(crate) const TARGETS: &[&str] = &[
    "status_list",
    "dcql",
    "sd_jwt",
    "haip_proofs",
    "request_uri_post",
    "jose_compact",
    "kb_jwt",
    "request_object",
    "offers",
    "metadata",
    "oauth_forms",
    "vp_response",
    "lote",
    "wrprc",
    "attestations",
    "webhook",
    "identifiers",
];

/// Seconds each target runs in `cargo xtask test`.
const SMOKE_SECONDS: u32 = 5;

/// Seeds larger than this are left out (libFuzzer's inputs stay small).
const MAX_SEED_BYTES: usize = 16 * 1024;

/// `cargo xtask test`'s fuzz step: builds every target (the dev profile,
/// so debug assertions and overflow checks are on; no sanitizer:
/// `intyg-core` forbids `unsafe`), seeds the corpora and runs each target
/// for [`SMOKE_SECONDS`]. A crash fails the step and leaves its input in
/// `fuzz/artifacts/<target>/`. The dev build takes half the time of the
/// release build (17 against 37 minutes from cold on the shared 2-core
/// machine, fuzz/README.md), which matters more to CI than the speed of a
/// five-second run; the long runs use `-O -a`.
pub(crate) fn smoke(root: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let toolchain = ensure_toolchain(root)?;
    let target_dir = target_dir(root).join("fuzz");
    let target_dir = target_dir.to_str().context("target path is not UTF-8")?;
    let fuzz_dir = root.join("fuzz");
    let mut args: Vec<&str> = toolchain.cargo_args();
    args.extend(["fuzz", "build", "--dev", "-s", "none"]);
    run(
        "cargo",
        &args,
        &fuzz_dir,
        &[("CARGO_TARGET_DIR", target_dir), toolchain.env()],
    )?;
    // A fresh corpus from the seeds, so that the step takes the same time
    // however much `fuzz/corpus/` has grown in long runs.
    let corpora = PathBuf::from(target_dir).join("smoke-corpus");
    if corpora.exists() {
        std::fs::remove_dir_all(&corpora)?;
    }
    seed_into(root, &corpora)?;
    let bins = PathBuf::from(target_dir).join(host_triple()?).join("debug");
    for target in TARGETS {
        let corpus = corpora.join(target);
        let artifacts = fuzz_dir.join("artifacts").join(target);
        std::fs::create_dir_all(&artifacts)?;
        let max_time = format!("-max_total_time={SMOKE_SECONDS}");
        let prefix = format!("-artifact_prefix={}/", artifacts.display());
        let corpus = corpus.to_str().context("corpus path is not UTF-8")?;
        let bin = bins.join(target);
        let bin = bin.to_str().context("target path is not UTF-8")?;
        run(bin, &[corpus, &max_time, &prefix], root, &[]).with_context(|| {
            format!(
                "fuzz target `{target}` crashed; see {}",
                artifacts.display()
            )
        })?;
    }
    eprintln!(
        "fuzz smoke: {} targets, {SMOKE_SECONDS} s each, in {} s",
        TARGETS.len(),
        started.elapsed().as_secs()
    );
    Ok(())
}

/// How cargo is asked for a nightly compiler.
enum Toolchain {
    /// `cargo +nightly`.
    Nightly,
    /// The default (stable) toolchain with `RUSTC_BOOTSTRAP=1`, where no
    /// rustup is there to install nightly.
    Bootstrap,
}

impl Toolchain {
    fn cargo_args(&self) -> Vec<&'static str> {
        match self {
            Self::Nightly => vec!["+nightly"],
            Self::Bootstrap => vec![],
        }
    }

    fn env(&self) -> (&'static str, &'static str) {
        match self {
            Self::Nightly => ("INTYG_FUZZ_TOOLCHAIN", "nightly"),
            Self::Bootstrap => ("RUSTC_BOOTSTRAP", "1"),
        }
    }
}

/// Installs what the fuzz build needs if missing: a nightly toolchain
/// (rustup, minimal profile) and cargo-fuzz (crates.io, pinned).
fn ensure_toolchain(root: &Path) -> anyhow::Result<Toolchain> {
    let succeeds = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .output()
            .is_ok_and(|out| out.status.success())
    };
    let has_nightly = succeeds("cargo", &["+nightly", "--version"])
        || (succeeds("rustup", &["--version"])
            && run(
                "rustup",
                &["toolchain", "install", "nightly", "--profile", "minimal"],
                root,
                &[],
            )
            .is_ok());
    let toolchain = if has_nightly {
        Toolchain::Nightly
    } else {
        // No rustup, or its distribution server is out of reach: the
        // stable compiler with its unstable flags unlocked.
        eprintln!("fuzz: no nightly toolchain; building with RUSTC_BOOTSTRAP=1");
        Toolchain::Bootstrap
    };
    if !succeeds("cargo", &["fuzz", "--version"]) {
        run(
            "cargo",
            &[
                "install",
                "cargo-fuzz",
                "--version",
                CARGO_FUZZ_VERSION,
                "--locked",
            ],
            root,
            &[],
        )?;
    }
    Ok(toolchain)
}

/// The cargo-fuzz the targets are run with.
const CARGO_FUZZ_VERSION: &str = "0.13.1";

fn host_triple() -> anyhow::Result<String> {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .context("starting rustc")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_owned)
        .context("rustc -vV names no host")
}

/// Fills `fuzz/corpus/<target>/` from `test-vectors/`.
pub(crate) fn seed(root: &Path) -> anyhow::Result<()> {
    seed_into(root, &root.join("fuzz").join("corpus"))
}

/// Fills `<corpora>/<target>/` from `test-vectors/`.
fn seed_into(root: &Path, corpora: &Path) -> anyhow::Result<()> {
    let vectors = Vectors::read(&root.join("test-vectors"))?;
    for target in TARGETS {
        let dir = corpora.join(target);
        std::fs::create_dir_all(&dir)?;
        let seeds = seeds(target, &vectors);
        if seeds.is_empty() {
            bail!("no seeds for fuzz target `{target}`");
        }
        let mut written = 0;
        for seed in seeds.iter().filter(|s| s.len() <= MAX_SEED_BYTES) {
            let path = dir.join(format!("seed-{:016x}", fnv1a(seed)));
            if !path.exists() {
                std::fs::write(&path, seed)?;
                written += 1;
            }
        }
        eprintln!("{}: {} seeds ({written} new)", dir.display(), seeds.len());
    }
    Ok(())
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// What `test-vectors/` holds, read once.
struct Vectors {
    /// Every file's text, by path relative to `test-vectors/`.
    files: BTreeMap<String, String>,
    /// Every JSON value in every JSON file, nested ones included.
    values: Vec<Value>,
    /// The HTTP examples of the OpenID4VCI and OpenID4VP specifications.
    http: Vec<Value>,
}

impl Vectors {
    fn read(dir: &Path) -> anyhow::Result<Self> {
        let mut files = BTreeMap::new();
        read_dir(dir, dir, &mut files)?;
        let mut values = Vec::new();
        for (path, text) in &files {
            if path.ends_with(".json")
                && let Ok(value) = serde_json::from_str::<Value>(text)
            {
                collect(&value, &mut values);
            }
        }
        let mut http = Vec::new();
        for path in [
            "oid4vci/spec-1.0-inline-examples.json",
            "oid4vp/spec-1.0-inline-examples.json",
        ] {
            let text = files
                .get(path)
                .context("the specifications' inline examples")?;
            if let Value::Array(items) = serde_json::from_str(text)? {
                http.extend(items);
            }
        }
        Ok(Self {
            files,
            values,
            http,
        })
    }

    /// The texts of the files whose path contains `part` and ends with `ext`.
    fn files(&self, part: &str, ext: &str) -> impl Iterator<Item = &str> {
        self.files
            .iter()
            .filter(move |(path, _)| path.contains(part) && path.ends_with(ext))
            .map(|(_, text)| text.as_str())
    }

    /// Every string value for which `keep` holds.
    fn strings(&self, keep: impl Fn(&str) -> bool) -> Vec<String> {
        self.values
            .iter()
            .filter_map(Value::as_str)
            .filter(|s| keep(s))
            .map(str::to_owned)
            .collect()
    }

    /// Every object value with all of `members`, as JSON text.
    fn objects(&self, members: &[&str]) -> Vec<String> {
        self.values
            .iter()
            .filter(|v| {
                v.as_object()
                    .is_some_and(|o| members.iter().all(|m| o.contains_key(*m)))
            })
            .map(Value::to_string)
            .collect()
    }

    /// The query strings of the HTTP examples whose start line begins with
    /// `start` (requests) or whose `Location` is under `start` (redirects).
    fn queries(&self, start: &str) -> Vec<String> {
        self.http
            .iter()
            .filter_map(|item| {
                let raw = item.get("raw")?.as_str()?;
                let from = raw.find(start)?;
                let rest = &raw[from..];
                let (_, query) = rest.split_once('?')?;
                Some(unwrap_lines(query).trim_end_matches(" HTTP/1.1").to_owned())
            })
            .collect()
    }

    /// The form bodies of the POST examples to paths starting with `path`.
    fn forms(&self, path: &str) -> Vec<String> {
        self.http
            .iter()
            .filter(|item| {
                item.get("start_line")
                    .and_then(Value::as_str)
                    .is_some_and(|line| line.starts_with(&format!("POST {path}")))
            })
            .filter_map(|item| item.get("body_text")?.as_str().map(unwrap_lines))
            .collect()
    }

    /// The JSON bodies of the examples whose start line begins with `start`.
    fn bodies(&self, start: &str) -> Vec<String> {
        self.http
            .iter()
            .filter(|item| {
                item.get("start_line")
                    .and_then(Value::as_str)
                    .is_some_and(|line| line.starts_with(start))
            })
            .filter_map(|item| item.get("body_json").filter(|v| !v.is_null()))
            .map(Value::to_string)
            .collect()
    }
}

fn read_dir(base: &Path, dir: &Path, files: &mut BTreeMap<String, String>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            read_dir(base, &path, files)?;
        } else if let Ok(text) = std::fs::read_to_string(&path) {
            let relative = path.strip_prefix(base)?.to_string_lossy().into_owned();
            files.insert(relative, text);
        }
    }
    Ok(())
}

fn collect(value: &Value, out: &mut Vec<Value>) {
    out.push(value.clone());
    match value {
        Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect(v, out)),
        _ => {}
    }
}

/// The examples break long values over lines "for display purposes only".
fn unwrap_lines(text: &str) -> String {
    text.lines().map(str::trim).collect()
}

fn is_compact_jws(s: &str) -> bool {
    s.starts_with("eyJ") && s.matches('.').count() == 2 && !s.contains('~')
}

fn with(selector: u8, input: impl AsRef<[u8]>) -> Vec<u8> {
    let mut seed = vec![selector];
    seed.extend_from_slice(input.as_ref());
    seed
}

fn all(selector: u8, inputs: impl IntoIterator<Item = impl AsRef<[u8]>>) -> Vec<Vec<u8>> {
    inputs
        .into_iter()
        .map(|input| with(selector, input))
        .collect()
}

/// The clock of the targets (`intyg_fuzz::NOW`).
const NOW: i64 = 1_700_000_000;

/// The seeds of one target.
fn seeds(target: &str, v: &Vectors) -> Vec<Vec<u8>> {
    let jwts = v.strings(is_compact_jws);
    let sd_jwts = v.strings(|s| s.starts_with("eyJ") && s.contains('~'));
    let mut seeds = Vec::new();
    match target {
        "status_list" => {
            for value in &v.values {
                if let (Some(bits), Some(lst)) = (
                    value.get("bits").and_then(Value::as_u64),
                    value
                        .pointer("/status_list_json/lst")
                        .and_then(Value::as_str),
                ) {
                    let mut seed = vec![0, u8::try_from(bits).unwrap_or(1)];
                    seed.extend_from_slice(lst.as_bytes());
                    seeds.push(seed);
                }
            }
            seeds.extend(all(2, v.objects(&["status_list", "sub", "iat"])));
            seeds.extend(all(2, v.objects(&["status_list"])));
        }
        "dcql" => {
            seeds.extend(v.files("dcql/", ".json").map(|t| t.as_bytes().to_vec()));
            seeds.extend(
                v.objects(&["credentials"])
                    .into_iter()
                    .map(String::into_bytes),
            );
        }
        "sd_jwt" => {
            seeds.extend(sd_jwts.iter().map(|s| s.as_bytes().to_vec()));
            for dir in ["sd-jwt", "intyg/"] {
                seeds.extend(v.files(dir, ".txt").map(|t| t.trim().as_bytes().to_vec()));
            }
            seeds.extend(
                v.objects(&["payload", "signature"])
                    .into_iter()
                    .map(String::into_bytes),
            );
        }
        "haip_proofs" => {
            seeds.extend(jwts.iter().map(|s| s.as_bytes().to_vec()));
            seeds.extend(
                v.files("oid4vci/", ".jwt.txt")
                    .map(|t| t.trim().as_bytes().to_vec()),
            );
        }
        "request_uri_post" => {
            seeds.extend(v.forms("/request").into_iter().map(String::into_bytes));
        }
        "jose_compact" => {
            seeds.extend(all(0, &jwts));
            seeds.extend(all(
                1,
                v.strings(|s| s.starts_with("eyJ") && s.matches('.').count() == 4),
            ));
            seeds.extend(all(2, v.objects(&["kty"])));
            seeds.extend(all(3, v.files("jose/", ".json").take(4)));
        }
        "kb_jwt" => {
            let kb = sd_jwts
                .iter()
                .filter_map(|s| s.rsplit('~').next().filter(|kb| !kb.is_empty()));
            seeds.extend(all(0, kb));
            seeds.extend(all(1, v.objects(&["sd_hash", "nonce", "aud"])));
            let claims = json!({"iat": NOW - 10, "aud": "x509_san_dns:verifier.example",
                "nonce": "n-0S6_WzA2Mj", "sd_hash": "SD_HASH"});
            seeds.push(with(1, claims.to_string()));
        }
        "request_object" => {
            seeds.extend(all(0, &jwts));
            let mut requests = v.objects(&["response_type", "dcql_query"]);
            requests.extend(v.objects(&["client_id", "nonce", "dcql_query"]));
            seeds.extend(all(1, &requests));
            let example = json!({"response_type": "vp_token",
                "client_id": "x509_san_dns:verifier.example", "response_mode": "direct_post.jwt",
                "response_uri": "https://verifier.example/response", "nonce": "n-0S6_WzA2Mj",
                "aud": "https://self-issued.me/v2", "iat": NOW, "exp": NOW + 300,
                "dcql_query": {"credentials": [{"id": "pid", "format": "dc+sd-jwt",
                    "meta": {"vct_values": ["urn:eudi:pid:1"]}, "claims": [{"path": ["given_name"]}]}]},
                "client_metadata": {"jwks": {"keys": []}, "vp_formats_supported": {}}});
            seeds.push(with(1, example.to_string()));
            seeds.extend(
                v.queries("/authorize?")
                    .into_iter()
                    .map(|q| with(2, format!("openid4vp://?{q}"))),
            );
            let client_ids = v.strings(|s| {
                [
                    "x509_san_dns:",
                    "x509_hash:",
                    "redirect_uri:",
                    "decentralized_identifier:",
                    "verifier_attestation:",
                    "openid_federation:",
                ]
                .iter()
                .any(|p| s.starts_with(p))
            });
            seeds.extend(all(3, client_ids));
        }
        "offers" => {
            seeds.extend(
                v.queries("openid-credential-offer://?")
                    .into_iter()
                    .chain(v.queries("GET /credential_offer?"))
                    .map(|q| with(0, format!("openid-credential-offer://?{q}"))),
            );
            seeds.extend(all(1, v.files("credential_offer", ".json")));
            seeds.extend(all(
                1,
                v.objects(&["credential_issuer", "credential_configuration_ids"]),
            ));
            seeds.extend(all(2, v.files("authorization_details", ".json")));
            let details: Vec<String> = v
                .values
                .iter()
                .filter_map(|value| value.get("authorization_details"))
                .map(Value::to_string)
                .collect();
            seeds.extend(all(2, details));
        }
        "metadata" => {
            seeds.extend(all(
                0,
                v.objects(&["credential_issuer", "credential_endpoint"]),
            ));
            seeds.extend(all(0, v.files("credential-issuer", ".json")));
            seeds.extend(all(1, v.files("authorization_server", ".json")));
            seeds.extend(all(1, v.objects(&["issuer", "token_endpoint"])));
            seeds.extend(all(2, v.files("openid-configuration", ".json")));
            seeds.extend(all(3, v.files("type-metadata", ".json")));
            seeds.extend(all(3, v.objects(&["vct", "display"])));
            seeds.extend(all(
                4,
                ["https://issuer.example/tenant/", "http://127.0.0.1:8080"],
            ));
        }
        "oauth_forms" => {
            seeds.extend(all(0, v.forms("/token")));
            seeds.extend(all(1, v.forms("/par")));
            seeds.extend(all(1, v.queries("GET /authorize?")));
            seeds.extend(all(
                2,
                v.queries("Location: https://wallet.example.org/cb?"),
            ));
            seeds.extend(all(3, v.bodies("POST /credential")));
            seeds.extend(all(3, v.bodies("HTTP/1.1 200")));
            seeds.extend(all(3, v.bodies("HTTP/1.1 202")));
            seeds.push(with(
                4,
                "AAAAAGVT8QCqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqo",
            ));
        }
        "vp_response" => {
            seeds.extend(all(0, v.forms("/post")));
            seeds.extend(all(0, v.strings(|s| s.starts_with("response=eyJ"))));
            seeds.extend(all(
                1,
                v.strings(|s| s.starts_with("eyJ") && s.matches('.').count() == 4),
            ));
            seeds.extend(all(2, v.objects(&["vp_token"])));
            seeds.extend(all(3, v.files("client_metadata/", ".json")));
            seeds.extend(all(
                3,
                v.objects(&["jwks", "encrypted_response_enc_values_supported"]),
            ));
        }
        "lote" => {
            seeds.push(with(1, lote_template().to_string()));
            let trust_list = json!({"issuers": [{"iss": "https://issuer.example",
                "vct": ["urn:eudi:pid:1"], "jwks": {"keys": []}}]});
            seeds.push(with(2, trust_list.to_string()));
            let chains: Vec<String> = v
                .values
                .iter()
                .filter_map(|value| value.get("x5c").filter(|x| x.is_array()))
                .map(Value::to_string)
                .collect();
            seeds.extend(all(4, chains));
        }
        "wrprc" => {
            seeds.extend(all(1, v.files("wrprc/", ".json")));
            seeds.extend(all(2, v.files("wrprc/", ".json")));
            seeds.extend(all(0, jwts.iter().take(4)));
        }
        "attestations" => {
            let holder = "\"HOLDER_JWK\"";
            let templates = [
                (
                    0,
                    format!(
                        r#"{{"jti":"j-1","htm":"POST","htu":"https://issuer.example/token","iat":{NOW},"ath":"PFL3W0E7s2DT6YhHYO1mK0bKI4n3Xo7Is8i1Y2zNZ6s","nonce":"abcdefgh"}}"#
                    ),
                ),
                (
                    1,
                    format!(r#"{{"aud":"https://issuer.example","iat":{NOW},"nonce":"n-1"}}"#),
                ),
                (
                    2,
                    format!(
                        r#"{{"iat":{NOW},"exp":{},"attested_keys":[{holder}],"key_storage":["iso_18045_high"],"user_authentication":["iso_18045_high"]}}"#,
                        NOW + 3600
                    ),
                ),
                (
                    3,
                    format!(
                        "{{\"iss\":\"https://wallet-provider.example\",\"sub\":\"wallet\",\"exp\":{},\"iat\":{NOW},\"cnf\":{{\"jwk\":{holder}}}}}\n{{\"aud\":\"https://issuer.example\",\"jti\":\"p-1\",\"iat\":{NOW}}}",
                        NOW + 3600
                    ),
                ),
                (
                    4,
                    format!(
                        r#"{{"aud":"https://issuer.example","iat":{NOW},"jti":"e-1","credential":"eyJ"}}"#
                    ),
                ),
                (
                    5,
                    format!(
                        r#"{{"client_id":"x509_san_dns:verifier.example","nonce":"n-0S6_WzA2Mj","iat":{NOW}}}"#
                    ),
                ),
            ];
            seeds.extend(templates.into_iter().map(|(s, t)| with(s, t)));
            seeds.extend(all(1, v.objects(&["aud", "nonce", "iat"])));
        }
        "webhook" => {
            for value in &v.values {
                if let (Some(secret), Some(id), Some(ts), Some(body), Some(sig)) = (
                    value.get("secret").and_then(Value::as_str),
                    value.get("msg_id").and_then(Value::as_str),
                    value.get("timestamp").and_then(Value::as_i64),
                    value.get("payload").and_then(Value::as_str),
                    value.get("signature").and_then(Value::as_str),
                ) {
                    seeds.push(with(0, secret));
                    seeds.push(with(1, format!("{id}\n{ts}\n{sig}\n{body}")));
                    seeds.push(with(2, format!("{id}\n{body}")));
                }
            }
            let payload = json!({"type": "presentation.verified",
                "timestamp": "2026-12-04T12:00:00Z", "data": {"transaction": "t-1"}});
            seeds.push(with(2, format!("msg_1\n{payload}")));
        }
        "identifiers" => {
            // The written forms of SKV 704 (`core::identity_number`'s docs).
            for number in [
                "199403172381",
                "19940317-2381",
                "9403172381",
                "940317-2381",
                "240317+2381",
                "199403772381",
            ] {
                seeds.push(with(0, number));
            }
            seeds.extend(all(1, v.strings(|s| s.starts_with("did:"))));
            seeds.extend(all(
                2,
                [
                    "registration-certificate",
                    "n-0S6_WzA2Mj",
                    "493536",
                    "urn:eudi:pid:1",
                ],
            ));
            seeds.extend(all(3, ["Arbetsförmedlingen", "a\u{202e}b", "two\r\nlines"]));
        }
        _ => {}
    }
    seeds
}

/// A List of Trusted Entities (ETSI TS 119 602 V1.1.1, Annex on JSON) with
/// one PID provider; `LEAF_CERT` is replaced by the target's certificate.
fn lote_template() -> Value {
    json!({"LoTE": {
        "ListAndSchemeInformation": {
            "LoTEVersionIdentifier": 1,
            "LoTESequenceNumber": 1,
            "LoTEType": "http://uri.etsi.org/19602/LoTEType/EUPIDProvidersList",
            "SchemeOperatorName": [{"lang": "en", "value": "Fuzz operator"}],
            "SchemeTerritory": "SE",
            "ListIssueDateTime": "2023-11-14T00:00:00Z",
            "NextUpdate": "2023-12-14T00:00:00Z",
            "PointersToOtherLoTE": [{"LoTELocation": "https://lists.example/other.jwt",
                "ServiceDigitalIdentities": [{"X509Certificates": [{"val": "ROOT_CERT"}]}]}]
        },
        "TrustedEntitiesList": [{
            "TrustedEntityInformation": {"TEName": [{"lang": "en", "value": "PID provider"}]},
            "TrustedEntityServices": [{"ServiceInformation": {
                "ServiceTypeIdentifier": "http://uri.etsi.org/19602/SvcType/PID/Issuance",
                "ServiceStatus": "http://uri.etsi.org/19602/PIDProvidersList/SvcStatus/notified",
                "ServiceDigitalIdentity": {"X509Certificates": [{"val": "LEAF_CERT"}]}
            }}]
        }]
    }})
}
