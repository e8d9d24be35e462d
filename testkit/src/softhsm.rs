//! A throwaway SoftHSM2 token, for tests and benches of PKCS#11 signing.
//!
//! SoftHSM2 (Debian's `softhsm2`, installed by `cargo xtask setup`) finds
//! its token directory through one configuration file that it reads from
//! the environment variable `SOFTHSM2_CONF` when a process first
//! initializes it. A process cannot set that for itself here (Rust 2024
//! makes changing the own environment `unsafe`, which the workspace
//! forbids, and other test threads read the environment). So a test that
//! needs a token runs itself again in a child process whose environment
//! names a fresh token: [`SoftHsm::for_test`] makes a temporary directory
//! with a `softhsm2.conf`, a token initialized by `softhsm2-util --init-token`
//! and a PIN file (mode 0600), runs the one test in the child, fails if the
//! child did not pass, removes the directory and returns `None`; in the
//! child it returns the token. [`SoftHsm::for_process`] does the same for
//! a whole program (a bench).
//!
//! In the child, [`SoftHsm::generate_key`] makes a P-256 key pair inside
//! the token (`CKM_EC_KEY_PAIR_GEN`, private key `CKA_TOKEN`,
//! `CKA_SENSITIVE`, not `CKA_EXTRACTABLE`), and [`SoftHsm::config`] gives
//! the [`Pkcs11Config`] naming it.
//!
//! This file is also compiled into `intyg-service`'s own tests and bench
//! (`#[path]`), which cannot depend on this crate; it uses nothing of it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use intyg_core::jose::{P256Key, VerifyingKey};
use intyg_service::pkcs11::{Pkcs11Config, module};

/// Debian's SoftHSM2 module.
pub const SOFTHSM_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// The label of the token [`SoftHsm`] makes.
pub const SOFTHSM_TOKEN: &str = "intyg-test";
/// Its user PIN (also in the PIN file, [`SoftHsm::pin_file`]).
pub const SOFTHSM_PIN: &str = "1234-test-pin";
/// Its security officer PIN.
const SO_PIN: &str = "5678-test-so-pin";
/// Set in the child: the token's directory.
const CHILD_ENV: &str = "INTYG_TESTKIT_SOFTHSM_DIR";

/// `CKA_EC_PARAMS` of P-256 (prime256v1).
pub const P256_PARAMS: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// `CKA_EC_PARAMS` of P-384 (secp384r1), for a key that is not P-256.
pub const P384_PARAMS: [u8; 7] = [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];

/// The token of this (child) process.
#[derive(Debug)]
pub struct SoftHsm {
    dir: PathBuf,
}

/// How [`SoftHsm::generate_key_with`] makes a key pair.
#[derive(Debug, Clone, Copy)]
pub struct KeyOptions<'a> {
    /// `CKA_EC_PARAMS`.
    pub curve: &'a [u8],
    /// `CKA_SENSITIVE` of the private key.
    pub sensitive: bool,
    /// `CKA_EXTRACTABLE` of the private key.
    pub extractable: bool,
}

impl Default for KeyOptions<'_> {
    fn default() -> Self {
        Self {
            curve: &P256_PARAMS,
            sensitive: true,
            extractable: false,
        }
    }
}

impl SoftHsm {
    /// Whether SoftHSM2 is installed (its module and `softhsm2-util`).
    pub fn available() -> bool {
        Path::new(SOFTHSM_MODULE).exists()
            && Command::new("softhsm2-util")
                .arg("--version")
                .output()
                .is_ok_and(|out| out.status.success())
    }

    /// In the test process: runs the test `test` (its path as the test
    /// harness names it, `module::function`) again in a child process
    /// with a fresh token, panics unless it passed there, and returns
    /// `None`. In that child: the token.
    pub fn for_test(test: &str) -> Option<Self> {
        if let Some(dir) = std::env::var_os(CHILD_ENV) {
            return Some(Self { dir: dir.into() });
        }
        assert!(
            Self::available(),
            "SoftHSM2 is not installed ({SOFTHSM_MODULE}, softhsm2-util): `apt-get install softhsm2` or `cargo xtask setup`"
        );
        let token = TokenDir::create();
        let exe = std::env::current_exe().expect("the test binary's path");
        let out = token
            .command(&exe)
            .args([test, "--exact", "--nocapture", "--test-threads=1"])
            .output()
            .expect("running the test in a child process");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "{test}, run with a SoftHSM2 token in a child process: {}\n--- stdout\n{stdout}\n--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
        );
        None
    }

    /// For a program (a bench): without SoftHSM2 `None`; in the first
    /// process, runs this program again with the same arguments in a child
    /// with a fresh token, then exits with its status; in the child, the
    /// token.
    pub fn for_process() -> Option<Self> {
        if let Some(dir) = std::env::var_os(CHILD_ENV) {
            return Some(Self { dir: dir.into() });
        }
        if !Self::available() {
            return None;
        }
        let token = TokenDir::create();
        let exe = std::env::current_exe().expect("this program's path");
        let status = token
            .command(&exe)
            .args(std::env::args_os().skip(1))
            .status()
            .expect("running this program in a child process");
        drop(token);
        std::process::exit(status.code().unwrap_or(1))
    }

    /// The file holding the user PIN (mode 0600).
    pub fn pin_file(&self) -> PathBuf {
        self.dir.join("pin")
    }

    /// `SOFTHSM2_CONF` of this token, for the services' child processes.
    pub fn conf(&self) -> PathBuf {
        self.dir.join("softhsm2.conf")
    }

    /// The configuration naming the key labelled `key` on this token, the
    /// PIN from [`SoftHsm::pin_file`].
    pub fn config(&self, key: &str) -> Pkcs11Config {
        Pkcs11Config {
            module: SOFTHSM_MODULE.into(),
            token: SOFTHSM_TOKEN.into(),
            key: key.into(),
            pin_file: Some(self.pin_file()),
        }
    }

    /// Makes a P-256 key pair labelled `label` in the token (sensitive,
    /// not extractable); its public key.
    pub fn generate_key(&self, label: &str) -> VerifyingKey {
        self.generate_key_with(label, KeyOptions::default())
            .expect("a P-256 public key")
    }

    /// Makes a key pair labelled `label` (and `CKA_ID` the label) as
    /// `options` say; its public key, when it is on P-256.
    pub fn generate_key_with(&self, label: &str, options: KeyOptions<'_>) -> Option<VerifyingKey> {
        let label = label.as_bytes().to_vec();
        let public = [
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::EcParams(options.curve.to_vec()),
            Attribute::Label(label.clone()),
            Attribute::Id(label.clone()),
        ];
        let private = [
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sign(true),
            Attribute::Sensitive(options.sensitive),
            Attribute::Extractable(options.extractable),
            Attribute::Label(label.clone()),
            Attribute::Id(label),
        ];
        // One session: object handles last only while a session is open.
        let session = self.session();
        let (public, _) = session
            .generate_key_pair(&Mechanism::EccKeyPairGen, &public, &private)
            .expect("generating a key pair in the token");
        let point = session
            .get_attributes(public, &[AttributeType::EcPoint])
            .unwrap()
            .into_iter()
            .find_map(|a| match a {
                Attribute::EcPoint(der) => Some(der),
                _ => None,
            })
            .expect("the public key's CKA_EC_POINT");
        // A DER OCTET STRING around the uncompressed point.
        P256Key::from_point(point.get(2..)?)
            .ok()
            .map(VerifyingKey::P256)
    }

    /// A new read-write session on the token, logged in as the user. The
    /// login is the process's: closing the last session logs out, and
    /// object handles are valid only while a session is open.
    pub fn session(&self) -> Session {
        let pkcs11 = module(Path::new(SOFTHSM_MODULE)).expect("the SoftHSM2 module");
        let slot = pkcs11
            .get_slots_with_token()
            .unwrap()
            .into_iter()
            .find(|slot| {
                pkcs11
                    .get_token_info(*slot)
                    .is_ok_and(|info| info.label() == SOFTHSM_TOKEN)
            })
            .expect("the test token");
        let session = pkcs11.open_rw_session(slot).unwrap();
        match session.login(UserType::User, Some(&AuthPin::from(SOFTHSM_PIN))) {
            Ok(())
            | Err(cryptoki::error::Error::Pkcs11(
                cryptoki::error::RvError::UserAlreadyLoggedIn,
                _,
            )) => session,
            Err(e) => panic!("logging in to the test token: {e}"),
        }
    }
}

/// The objects of class `class` labelled `label`, found in `session`.
pub fn objects(session: &Session, class: ObjectClass, label: &str) -> Vec<ObjectHandle> {
    session
        .find_objects(&[
            Attribute::Class(class),
            Attribute::Label(label.as_bytes().to_vec()),
        ])
        .unwrap()
}

/// A temporary directory with a `softhsm2.conf`, an initialized token
/// and its PIN file; removed on drop.
struct TokenDir(PathBuf);

impl TokenDir {
    fn create() -> Self {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "intyg-softhsm-{}-{}-{nanos}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        let tokens = dir.join("tokens");
        std::fs::create_dir_all(&tokens).unwrap_or_else(|e| panic!("{}: {e}", tokens.display()));
        let this = Self(dir);
        std::fs::write(
            this.conf(),
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
                tokens.display()
            ),
        )
        .unwrap();
        {
            use std::io::Write as _;
            use std::os::unix::fs::OpenOptionsExt as _;
            let mut pin = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(this.0.join("pin"))
                .unwrap();
            writeln!(pin, "{SOFTHSM_PIN}").unwrap();
        }
        let out = Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", this.conf())
            .args([
                "--init-token",
                "--free",
                "--label",
                SOFTHSM_TOKEN,
                "--pin",
                SOFTHSM_PIN,
                "--so-pin",
                SO_PIN,
            ])
            .output()
            .expect("running softhsm2-util");
        assert!(
            out.status.success(),
            "softhsm2-util --init-token: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        this
    }

    fn conf(&self) -> PathBuf {
        self.0.join("softhsm2.conf")
    }

    /// `program` with this token in its environment.
    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .env("SOFTHSM2_CONF", self.conf())
            .env(CHILD_ENV, &self.0);
        command
    }
}

impl Drop for TokenDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Asserts that a service binary refuses to start with the wrong PIN for
/// the token key `key`, and with a key label the token lacks, each time
/// naming why on stderr; `process(key, pin)` is the binary's command line
/// with the token flags.
pub fn assert_token_start_refusals(
    key: &str,
    process: impl Fn(&str, &str) -> std::process::Command,
) {
    for (key, pin, message) in [
        (
            key,
            "0000-wrong",
            format!("wrong PIN for token `{SOFTHSM_TOKEN}`"),
        ),
        (
            "absent",
            SOFTHSM_PIN,
            format!("no private key labelled `absent` on token `{SOFTHSM_TOKEN}`"),
        ),
    ] {
        let out = process(key, pin)
            .output()
            .expect("running the service binary");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "started with {key}/{pin}");
        assert!(stderr.contains(&message), "{stderr}");
    }
}
