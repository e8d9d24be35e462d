//! `cargo xtask setup|test|demo`: the two commands README gives, and the
//! setup both run first.
//!
//! - `setup` installs what a fresh Debian machine lacks (apt packages, the
//!   npm packages of the interop suite). It is idempotent.
//! - `test` runs setup, `cargo fmt --check`, clippy with `-D warnings`, the
//!   workspace tests, a smoke run of every fuzz target (`fuzz/`, a few
//!   seconds each on corpora seeded from `test-vectors/`), the interop suite against independent
//!   implementations (`interop/`, Node) and the wallet app's end-to-end
//!   test in its real window (`wallet-app/ui/e2e/`).
//! - `fuzz` runs that smoke step alone; `fuzz-seed` only fills
//!   `fuzz/corpus/` from `test-vectors/` (before a long run).
//! - `demo [--fresh] [--headless]` runs setup, builds, and runs the whole
//!   system on the data in `./demo-data/` (see [`demo`]).

mod demo;
mod fuzz;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

/// Debian packages the build needs: josekit (core's JWE cross-check tests)
/// links the system OpenSSL; the issuer portal's browser test drives
/// Chromium through chromedriver; the Tauri wallet app (a workspace member)
/// links WebKitGTK, and its end-to-end test runs it under Xvfb through
/// WebKitWebDriver.
const APT_PACKAGES: &[&str] = &[
    "pkg-config",
    "libssl-dev",
    // The interop suite makes the peer verifier's and a wallet provider's
    // certificates with it.
    "openssl",
    "chromium",
    "chromium-driver",
    // The PostgreSQL store tests start throwaway clusters (intyg-testkit's
    // TestPg: initdb and postgres from /usr/lib/postgresql/*/bin).
    "postgresql",
    // PKCS#11 signing keys: the tests and the signing bench make throwaway
    // SoftHSM2 tokens (intyg-testkit's SoftHsm, softhsm2-util and
    // /usr/lib/softhsm/libsofthsm2.so).
    "softhsm2",
    // Tauri (DESIGN.md §6).
    "libwebkit2gtk-4.1-dev",
    "build-essential",
    "file",
    "libxdo-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "libgtk-3-dev",
    // The deep-link plugin registers the wallet's URI schemes with it.
    "desktop-file-utils",
    // The wallet app's end-to-end test.
    "xvfb",
    "xauth",
    "webkit2gtk-driver",
];

/// `tauri-driver`, pinned: the registry's latest is a 3.0 alpha.
const TAURI_DRIVER_VERSION: &str = "2.1.0";

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let task = args.next().unwrap_or_default();
    let flags: Vec<String> = args.collect();
    let root = workspace_root()?;
    std::env::set_current_dir(&root)?;
    match task.as_str() {
        "setup" => setup(&root),
        "test" => {
            setup(&root)?;
            test(&root)
        }
        "demo" => {
            let mut fresh = false;
            let mut headless = false;
            for flag in &flags {
                match flag.as_str() {
                    "--fresh" => fresh = true,
                    "--headless" => headless = true,
                    other => bail!("unknown demo flag `{other}`; {USAGE}"),
                }
            }
            setup(&root)?;
            demo(&root, fresh, headless)
        }
        "fuzz" => fuzz::smoke(&root),
        "fuzz-seed" => fuzz::seed(&root),
        "checks" => {
            check_threat_model(&root)?;
            supply_chain(&root)
        }
        _ => bail!("{USAGE}"),
    }
}

const USAGE: &str =
    "usage: cargo xtask setup | test | checks | fuzz | fuzz-seed | demo [--fresh] [--headless]";

/// The value of the environment variable `name`, or `default`.
fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

fn workspace_root() -> anyhow::Result<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    Ok(manifest
        .parent()
        .context("xtask lives in the workspace")?
        .to_path_buf())
}

/// Runs a command, echoing it, and fails if it fails.
fn run(program: &str, args: &[&str], dir: &Path, env: &[(&str, &str)]) -> anyhow::Result<()> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .status()
        .with_context(|| format!("starting {program}"))?;
    if !status.success() {
        bail!("{program} {} failed ({status})", args.join(" "));
    }
    Ok(())
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("install ok installed"))
}

fn setup(root: &Path) -> anyhow::Result<()> {
    let missing: Vec<&str> = APT_PACKAGES
        .iter()
        .copied()
        .filter(|p| !installed(p))
        .collect();
    if !missing.is_empty() {
        let sudo = if is_root() { vec![] } else { vec!["sudo"] };
        let apt = |args: &[&str]| -> anyhow::Result<()> {
            let mut full: Vec<&str> = sudo.clone();
            full.push("apt-get");
            full.extend_from_slice(args);
            run(
                full[0],
                &full[1..],
                root,
                &[("DEBIAN_FRONTEND", "noninteractive")],
            )
        };
        apt(&["update", "-q"])?;
        let mut install = vec!["install", "-y", "-q", "--no-install-recommends"];
        install.extend(&missing);
        apt(&install)?;
    }
    // `npm ci` installs exactly the lock file, so a changed lock file is
    // picked up; it takes a few seconds from npm's cache.
    run(
        "npm",
        &["ci", "--no-audit", "--no-fund"],
        &root.join("interop"),
        &[],
    )?;
    // The UI's lock file names @tauri-apps/cli's per-platform binaries
    // only as optional dependencies (npm 11 with this machine's
    // `omit-lockfile-registry-resolved` leaves their entries out), which
    // `npm ci` refuses; `npm install` keeps to the locked versions anyway.
    run(
        "npm",
        &["install", "--no-audit", "--no-fund"],
        &root.join("wallet-app/ui"),
        &[],
    )?;
    ensure_cargo_deny(root)
}

/// Installs `cargo-deny` (from crates.io, pinned) if missing.
fn ensure_cargo_deny(root: &Path) -> anyhow::Result<()> {
    let has_deny = Command::new("cargo")
        .args(["deny", "--version"])
        .output()
        .is_ok_and(|out| out.status.success());
    if has_deny {
        return Ok(());
    }
    run(
        "cargo",
        &[
            "install",
            "cargo-deny",
            "--version",
            CARGO_DENY_VERSION,
            "--locked",
        ],
        root,
        &[],
    )
}

/// The `cargo-deny` that `deny.toml` is written for.
const CARGO_DENY_VERSION: &str = "0.20.2";

/// The lock files whose npm packages `npm audit` checks.
const NPM_LOCK_DIRS: [&str; 2] = ["interop", "wallet-app/ui"];

/// Supply chain: `cargo deny check` with the checked-in `deny.toml`
/// (licences, banned crates, duplicate versions, sources; the advisories
/// check needs the RustSec database, a git repository this project's
/// machines cannot reach, so it runs only with `INTYG_DENY_ADVISORIES=1`),
/// then `npm audit` of each lock file: high or critical findings fail,
/// and an audit endpoint that cannot be reached is reported, not hidden.
fn supply_chain(root: &Path) -> anyhow::Result<()> {
    ensure_cargo_deny(root)?;
    let mut checks = vec!["deny", "check", "bans", "licenses", "sources"];
    if std::env::var("INTYG_DENY_ADVISORIES").is_ok_and(|v| v == "1") {
        checks.push("advisories");
    } else {
        eprintln!(
            "cargo deny: advisories NOT checked (the RustSec database is not reachable here); \
             run with INTYG_DENY_ADVISORIES=1 where it is"
        );
    }
    run("cargo", &checks, root, &[])?;
    for dir in NPM_LOCK_DIRS {
        eprintln!("$ npm audit --audit-level=high ({dir}/package-lock.json)");
        let out = Command::new("npm")
            .args(["audit", "--audit-level=high"])
            .current_dir(root.join(dir))
            .output()
            .context("starting npm audit")?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        eprintln!("{}", text.trim_end());
        if out.status.success() {
            continue;
        }
        if text.contains("audit endpoint returned an error") {
            eprintln!(
                "npm audit of {dir}: NOT checked, the registry's audit endpoint is not reachable here"
            );
            continue;
        }
        bail!("npm audit of {dir}/package-lock.json found high or critical vulnerabilities");
    }
    Ok(())
}

/// Installs `tauri-driver` (the wallet app's WebDriver bridge) if missing;
/// only the app's end-to-end test needs it.
fn ensure_tauri_driver(root: &Path) -> anyhow::Result<()> {
    let has_driver = Command::new("tauri-driver")
        .arg("--help")
        .output()
        .is_ok_and(|out| out.status.success());
    if !has_driver {
        run(
            "cargo",
            &[
                "install",
                "tauri-driver",
                "--locked",
                "--version",
                TAURI_DRIVER_VERSION,
            ],
            root,
            &[],
        )?;
    }
    Ok(())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// Where cargo puts binaries: `CARGO_TARGET_DIR` or `<root>/target`.
fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// Crates that would mean I/O or an async runtime inside `intyg-core`.
const FORBIDDEN_IN_CORE: &[&str] = &[
    "tokio", "axum", "hyper", "reqwest", "sled", "rustls", "tauri",
];

/// Fails if `intyg-core`'s normal dependency tree holds an I/O crate.
/// Every test that `docs/threat-model.md` names (backticked names in the
/// last column of its tables) is a function somewhere in the workspace.
fn check_threat_model(root: &Path) -> anyhow::Result<()> {
    let model = std::fs::read_to_string(root.join("docs/threat-model.md"))
        .context("reading docs/threat-model.md")?;
    let mut sources = String::new();
    for dir in [
        "core",
        "issuer",
        "verifier",
        "service",
        "cli",
        "wallet-app",
        "testkit",
    ] {
        collect_rust(&root.join(dir), &mut sources)?;
    }
    let mut missing = Vec::new();
    let mut named = 0;
    for line in model.lines().filter(|l| l.starts_with('|')) {
        let Some(last) = line.trim_end_matches('|').rsplit('|').next() else {
            continue;
        };
        for name in last.split('`').skip(1).step_by(2) {
            if !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                continue;
            }
            named += 1;
            if !sources.contains(&format!("fn {name}(")) {
                missing.push(name.to_owned());
            }
        }
    }
    if !missing.is_empty() {
        bail!("docs/threat-model.md names tests that do not exist: {missing:?}");
    }
    eprintln!("docs/threat-model.md: {named} named tests exist");
    Ok(())
}

/// Appends the text of every `.rs` file under `dir` (skipping `target`
/// and `node_modules`) to `out`.
fn collect_rust(dir: &Path, out: &mut String) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if name != "target" && name != "node_modules" {
                collect_rust(&path, out)?;
            }
        } else if name.ends_with(".rs") {
            out.push_str(&std::fs::read_to_string(&path)?);
            out.push('\n');
        }
    }
    Ok(())
}

fn check_core_has_no_io(root: &Path) -> anyhow::Result<()> {
    let out = Command::new("cargo")
        .args([
            "tree",
            "--package",
            "intyg-core",
            "--edges",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .current_dir(root)
        .output()
        .context("running cargo tree")?;
    if !out.status.success() {
        bail!(
            "cargo tree failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let tree = String::from_utf8_lossy(&out.stdout);
    let found: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| FORBIDDEN_IN_CORE.contains(name))
        .collect();
    if !found.is_empty() {
        bail!(
            "intyg-core must not depend on I/O crates, found: {}",
            found.join(", ")
        );
    }
    eprintln!(
        "intyg-core depends on none of {}",
        FORBIDDEN_IN_CORE.join(", ")
    );
    Ok(())
}

fn test(root: &Path) -> anyhow::Result<()> {
    check_core_has_no_io(root)?;
    check_threat_model(root)?;
    run("cargo", &["fmt", "--all", "--check"], root, &[])?;
    run(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        root,
        &[],
    )?;
    supply_chain(root)?;
    run("cargo", &["test", "--workspace"], root, &[])?;
    fuzz::smoke(root)?;
    // The interop suite drives our binaries as processes.
    run("cargo", &["build", "--workspace", "--bins"], root, &[])?;
    let intyg = target_dir(root).join("debug").join("intyg");
    let intyg = intyg.to_str().context("target path is not UTF-8")?;
    let bin_dir = target_dir(root).join("debug");
    let bin_dir = bin_dir.to_str().context("target path is not UTF-8")?;
    run(
        "node",
        &["--test", "interop/"],
        root,
        &[("INTYG_BIN", intyg), ("INTYG_BIN_DIR", bin_dir)],
    )?;
    run("bash", &["demo/cli-flow.sh"], root, &[("INTYG", intyg)])?;
    demo_journey_twice(root)?;
    wallet_app(root)
}

/// The main job's headless journey, as `cargo xtask demo --headless` plays
/// it, on a temporary data folder (not the user's `./demo-data/`); twice,
/// so that the second run proves the data kept between runs (registered
/// job seekers, the posting, a wallet holding a revoked credential) works.
fn demo_journey_twice(root: &Path) -> anyhow::Result<()> {
    let data = std::env::temp_dir().join(format!("intyg-demo-test-{}", std::process::id()));
    let bins = demo::Bins::new(target_dir(root).join("debug"));
    let stop = std::sync::atomic::AtomicBool::new(false);
    let result = demo::headless_run(root, &data, bins.clone(), &stop)
        .and_then(|()| demo::headless_run(root, &data, bins, &stop));
    if result.is_ok() {
        std::fs::remove_dir_all(&data)?;
    } else {
        eprintln!("the demo's data and logs are kept in {}", data.display());
    }
    result
}

/// The Tauri wallet app: the UI's unit tests and build, then the app with
/// the UI embedded (`custom-protocol`), then the journey in the real
/// window under Xvfb (`wallet-app/ui/e2e/journey.mjs`), with screenshots
/// in `<target>/e2e-screenshots`.
fn wallet_app(root: &Path) -> anyhow::Result<()> {
    ensure_tauri_driver(root)?;
    let ui = root.join("wallet-app/ui");
    run("npm", &["test"], &ui, &[])?;
    run("npm", &["run", "build"], &ui, &[])?;
    run(
        "cargo",
        &[
            "build",
            "--workspace",
            "--bins",
            "--features",
            "intyg-wallet-app/custom-protocol",
        ],
        root,
        &[],
    )?;
    let debug = target_dir(root).join("debug");
    let app = debug.join("intyg-wallet-app");
    let shots = target_dir(root).join("e2e-screenshots");
    let utf8 = |p: &Path| {
        p.to_str()
            .context("target path is not UTF-8")
            .map(str::to_owned)
    };
    run(
        "node",
        &["wallet-app/ui/e2e/journey.mjs"],
        root,
        &[
            ("INTYG_APP", &utf8(&app)?),
            ("INTYG_BIN_DIR", &utf8(&debug)?),
            ("SCREENSHOTS", &utf8(&shots)?),
        ],
    )
}

/// The services and the CLI, which the demo's journey runs.
const DEMO_PACKAGES: &[&str] = &[
    "-p",
    "intyg-cli",
    "-p",
    "intyg-issuer",
    "-p",
    "intyg-verifier",
];

/// The main job ([`demo`]): builds what it runs, then runs the system on
/// `./demo-data/`; the wallet app too when it will be shown.
fn demo(root: &Path, fresh: bool, headless: bool) -> anyhow::Result<()> {
    let mut build = vec!["build", "--bins"];
    build.extend_from_slice(DEMO_PACKAGES);
    run("cargo", &build, root, &[])?;
    let bins = demo::Bins::new(target_dir(root).join("debug"));
    let headless = headless || !demo::has_display();
    if !headless {
        let ui = root.join("wallet-app/ui");
        run("npm", &["run", "build"], &ui, &[])?;
        run(
            "cargo",
            &[
                "build",
                "-p",
                "intyg-wallet-app",
                "--features",
                "intyg-wallet-app/custom-protocol",
            ],
            root,
            &[],
        )?;
    }
    demo::run(root, bins, fresh, headless)
}
