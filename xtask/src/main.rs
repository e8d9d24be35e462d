//! `cargo xtask setup|test|demo`: the two commands README gives, and the
//! setup both run first.
//!
//! - `setup` installs what a fresh Debian machine lacks (apt packages, the
//!   npm packages of the interop suite). It is idempotent.
//! - `test` runs setup, `cargo fmt --check`, clippy with `-D warnings`, the
//!   workspace tests, the interop suite against independent
//!   implementations (`interop/`, Node) and the wallet app's end-to-end
//!   test in its real window (`wallet-app/ui/e2e/`).
//! - `demo` runs setup and the credential flow end to end.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

/// Debian packages the build needs: josekit links the system OpenSSL; the
/// issuer portal's browser test drives Chromium through chromedriver; the
/// Tauri wallet app (a workspace member) links WebKitGTK, and its
/// end-to-end test runs it under Xvfb through WebKitWebDriver.
const APT_PACKAGES: &[&str] = &[
    "pkg-config",
    "libssl-dev",
    "chromium",
    "chromium-driver",
    // Tauri (DESIGN.md §6).
    "libwebkit2gtk-4.1-dev",
    "build-essential",
    "file",
    "libxdo-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "libgtk-3-dev",
    // The wallet app's end-to-end test.
    "xvfb",
    "xauth",
    "webkit2gtk-driver",
];

/// `tauri-driver`, pinned: the registry's latest is a 3.0 alpha.
const TAURI_DRIVER_VERSION: &str = "2.1.0";

fn main() -> anyhow::Result<()> {
    let task = std::env::args().nth(1).unwrap_or_default();
    let root = workspace_root()?;
    std::env::set_current_dir(&root)?;
    match task.as_str() {
        "setup" => setup(&root),
        "test" => {
            setup(&root)?;
            test(&root)
        }
        "demo" => {
            setup(&root)?;
            demo(&root)
        }
        _ => bail!("usage: cargo xtask <setup|test|demo>"),
    }
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
    run("cargo", &["test", "--workspace"], root, &[])?;
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
    // The main job, as a newcomer runs it: the whole journey, offline.
    run("bash", &["demo/full-flow.sh"], root, &[("INTYG", intyg)])?;
    wallet_app(root)
}

/// The Tauri wallet app: the UI's unit tests and build, then the app with
/// the UI embedded (`custom-protocol`), then the journey in the real
/// window under Xvfb (`wallet-app/ui/e2e/journey.mjs`), with screenshots
/// in `<target>/e2e-screenshots`.
fn wallet_app(root: &Path) -> anyhow::Result<()> {
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

/// The main job: the credential formats with the CLI alone, then the whole
/// system (issuer, verifier, wallet) on embedded sled storage, offline.
fn demo(root: &Path) -> anyhow::Result<()> {
    run("cargo", &["build", "--workspace", "--bins"], root, &[])?;
    let intyg = target_dir(root).join("debug").join("intyg");
    let intyg = intyg.to_str().context("target path is not UTF-8")?;
    run("bash", &["demo/cli-flow.sh"], root, &[("INTYG", intyg)])?;
    run("bash", &["demo/full-flow.sh"], root, &[("INTYG", intyg)])
}
