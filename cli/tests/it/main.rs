//! The `intyg` binary driven the way a script drives it: files, stdin,
//! stdout, stderr and exit codes.

mod trust_list;
mod wallet;
mod wallet_authorize;
mod wallet_haip;
mod wallet_rights;
mod wallet_trust_list;
mod wallet_wrprc;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use intyg_testkit::{TempDir, workspace_path};

/// The PIN of the wallets the tests make.
const PIN: &str = "246810";

struct Run {
    ok: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn of(out: Output) -> Self {
        Self {
            ok: out.status.success(),
            code: out.status.code(),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }
}

fn intyg(args: &[&str], stdin: &str, dir: &Path) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_intyg"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    Run::of(child.wait_with_output().unwrap())
}

/// `intyg wallet <args>` on the wallet in `dir`, unlocked with `pin`,
/// with nothing on stdin.
fn wallet_command(dir: &Path, pin: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_intyg"));
    command
        .arg("wallet")
        .args(args)
        .env("INTYG_WALLET_DIR", dir)
        .env("INTYG_WALLET_PIN", pin)
        .env("INTYG_WALLET_BACKUP_PASSPHRASE", "backup pass")
        .stdin(Stdio::null());
    command
}

/// `intyg key generate` into `dir/<file>`.
fn generate_key(dir: &Path, file: &str) {
    let key = intyg(&["key", "generate"], "", dir);
    assert!(key.ok, "{}", key.stderr);
    std::fs::write(dir.join(file), key.stdout).unwrap();
}

/// `intyg sd-jwt verify` of `presentation` with the issuer's key, for the
/// employer and `nonce`, with `extra` arguments.
fn verify_for_employer(presentation: &str, nonce: &str, extra: &[&str], dir: &Path) -> Run {
    let mut args = vec![
        "sd-jwt",
        "verify",
        "--issuer-key",
        "issuer.jwk",
        "--aud",
        "https://employer.example",
        "--nonce",
        nonce,
    ];
    args.extend_from_slice(extra);
    intyg(&args, presentation, dir)
}

/// The README's pipeline: keys, a registration certificate, a presentation
/// of two claims bound to a verifier's nonce, and its verification.
#[test]
fn readme_pipeline_round_trips() {
    let scratch = TempDir::new("cli-pipeline");
    let dir = scratch.path();
    for name in ["issuer", "holder"] {
        generate_key(dir, &format!("{name}.jwk"));
    }
    let kind = workspace_path("specs/credentials/registration-certificate");
    let kind = kind.to_str().unwrap();
    let example = format!("{kind}/example.json");
    let issued = intyg(
        &[
            "sd-jwt",
            "issue",
            "--key",
            "issuer.jwk",
            "--claims",
            &example,
            "--type",
            kind,
            "--iss",
            "https://arbetsformedlingen.example",
            "--holder-key",
            "holder.jwk",
        ],
        "",
        dir,
    );
    assert!(issued.ok, "{}", issued.stderr);
    let presented = intyg(
        &[
            "sd-jwt",
            "present",
            "--disclose",
            "/registration_status,/registered_since",
            "--holder-key",
            "holder.jwk",
            "--aud",
            "https://employer.example",
            "--nonce",
            "n-42",
        ],
        &issued.stdout,
        dir,
    );
    assert!(presented.ok, "{}", presented.stderr);
    let verified = verify_for_employer(&presented.stdout, "n-42", &["--type", kind], dir);
    assert!(verified.ok, "{}", verified.stderr);
    let claims: serde_json::Value = serde_json::from_str(&verified.stdout).unwrap();
    assert_eq!(claims["registration_status"], "in_programme");
    assert_eq!(claims["registered_since"], "2026-02-02");
    assert!(claims.get("personal_identity_number").is_none());
    assert!(claims.get("_sd").is_none() && claims.get("_sd_alg").is_none());

    let replayed = verify_for_employer(&presented.stdout, "n-43", &[], dir);
    assert!(!replayed.ok);
    assert!(
        replayed.stderr.starts_with("kb_nonce_mismatch"),
        "{}",
        replayed.stderr
    );

    let wrong_issuer = intyg(
        &["sd-jwt", "verify", "--issuer-key", "holder.jwk"],
        &presented.stdout,
        dir,
    );
    assert!(
        wrong_issuer.stderr.starts_with("invalid_signature"),
        "{}",
        wrong_issuer.stderr
    );
}

#[test]
fn issue_reports_schema_violations_by_field() {
    let scratch = TempDir::new("cli-schema");
    let dir = scratch.path();
    generate_key(dir, "issuer.jwk");
    std::fs::write(
        dir.join("claims.json"),
        r#"{"given_name": "Alva", "registered_since": "yesterday"}"#,
    )
    .unwrap();
    let kind = workspace_path("specs/credentials/registration-certificate");
    let run = intyg(
        &[
            "sd-jwt",
            "issue",
            "--key",
            "issuer.jwk",
            "--claims",
            "claims.json",
            "--type",
            kind.to_str().unwrap(),
            "--iss",
            "https://af.example",
        ],
        "",
        dir,
    );
    assert!(!run.ok);
    assert!(run.stderr.starts_with("schema_violation"), "{}", run.stderr);
    assert!(run.stderr.contains("/registered_since"), "{}", run.stderr);
}

/// RFC 9901 §5 example, verified with the RFC's key and a fixed clock.
#[test]
fn rfc9901_5_simple_verifies_from_a_file() {
    let scratch = TempDir::new("cli-rfc");
    let dir = scratch.path();
    let example: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(workspace_path(
            "test-vectors/sd-jwt/rfc9901-examples/simple.json",
        ))
        .unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("issuer.jwk"),
        example["verification_inputs"]["issuer_public_keys"][0].to_string(),
    )
    .unwrap();
    std::fs::write(
        dir.join("presentation.txt"),
        example["sd_jwt_presentation"].as_str().unwrap(),
    )
    .unwrap();
    let run = intyg(
        &[
            "sd-jwt",
            "verify",
            "--issuer-key",
            "issuer.jwk",
            "--aud",
            "https://verifier.example.org",
            "--nonce",
            "1234567890",
            "--now",
            "1748537300",
            "presentation.txt",
        ],
        "",
        dir,
    );
    assert!(run.ok, "{}", run.stderr);
    let claims: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(claims, example["expected_processed_payload"]);

    // An hour later the same KB-JWT is stale under the default window.
    let stale = intyg(
        &[
            "sd-jwt",
            "verify",
            "--issuer-key",
            "issuer.jwk",
            "--require-kb",
            "--now",
            "1748540843",
            "presentation.txt",
        ],
        "",
        dir,
    );
    assert!(stale.stderr.starts_with("kb_stale"), "{}", stale.stderr);
}

#[test]
fn unsupported_key_algorithm_is_refused() {
    let run = intyg(
        &["key", "generate", "--alg", "HS256"],
        "",
        &std::env::temp_dir(),
    );
    assert!(!run.ok);
    assert!(run.stderr.starts_with("unsupported_alg"), "{}", run.stderr);
}

#[test]
fn garbage_on_stdin_is_a_malformed_sd_jwt() {
    let scratch = TempDir::new("cli-garbage");
    let dir = scratch.path();
    generate_key(dir, "k.jwk");
    let run = intyg(
        &["sd-jwt", "verify", "--issuer-key", "k.jwk"],
        "not an sd-jwt",
        dir,
    );
    assert!(!run.ok);
    assert!(run.stderr.starts_with("malformed_sd_jwt"), "{}", run.stderr);
}
