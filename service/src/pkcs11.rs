//! Signing keys held in a PKCS#11 token (an HSM; SoftHSM2 in the tests):
//! [`Pkcs11Signer`] implements [`intyg_core::jose::Signer`], so the
//! issuer's credential and status-list key and the verifier's
//! request-object key can live in a token instead of a JWK file.
//!
//! The private key never leaves the token: the JWS signing input is hashed
//! here (SHA-256) and the token signs the digest with `CKM_ECDSA`, which
//! answers `r || s`, the ES256 signature as JWS wants it (RFC 7518 §3.4).
//! The published JWK comes from the public key object of the same label
//! (`CKA_EC_POINT`). At start the signer checks what it was given: an EC
//! key on P-256 (`CKA_EC_PARAMS`), sensitive (`CKA_SENSITIVE`: its value
//! cannot be read), one private key of that label, and a probe signature
//! that verifies with the public key (so the two objects are a pair).
//!
//! Configuration ([`Pkcs11Config`], the same in both services): the
//! module (the vendor's `.so`), the token's label, the key's label
//! (`CKA_LABEL`) and the user PIN, read from a file (`pin_file`) or from
//! the environment variable [`PIN_ENV`], never from the command line.
//!
//! Concurrency: a PKCS#11 session serves one operation at a time. Each
//! signer keeps a pool of idle sessions: a signature takes one (or opens
//! one), signs and puts it back, so concurrent requests sign in parallel
//! on sessions of their own; at most [`MAX_IDLE_SESSIONS`] stay open. A
//! session or login lost (the token restarted, a network HSM reconnected)
//! is opened and logged in again, the key found again, and the signature
//! tried once more.
//!
//! A module is loaded and `C_Initialize`d once per process ([`module`]);
//! every signer and token of that module shares the context, as PKCS#11
//! requires.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use intyg_core::jose::{Algorithm, JoseError, Jwk, P256Key, Signer, VerifyingKey};
use serde::Deserialize;

/// The environment variable that holds the token's user PIN when no PIN
/// file is configured.
pub const PIN_ENV: &str = "INTYG_PKCS11_PIN";

/// Idle sessions a signer keeps open for the next signatures.
pub const MAX_IDLE_SESSIONS: usize = 8;

/// `CKA_EC_PARAMS` of P-256: the DER of the named curve's OID
/// (prime256v1, 1.2.840.10045.3.1.7).
const P256_PARAMS: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// Where a key lives in a PKCS#11 token.
///
/// ```toml
/// module = "/usr/lib/softhsm/libsofthsm2.so"
/// token = "intyg"            # the token's label
/// key = "issuer-2026"        # CKA_LABEL of the private and public key
/// pin_file = "/run/credentials/intyg-issuer/pkcs11-pin" # else INTYG_PKCS11_PIN
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pkcs11Config {
    /// The PKCS#11 module (shared library) of the token's vendor.
    pub module: PathBuf,
    /// The token's label.
    pub token: String,
    /// The label (`CKA_LABEL`) of the private key and its public key.
    pub key: String,
    /// A file holding the user PIN (one line); without it the PIN comes
    /// from [`PIN_ENV`].
    #[serde(default)]
    pub pin_file: Option<PathBuf>,
}

/// The `--pkcs11-*` flags both binaries take for their signing key.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Pkcs11Args {
    /// The signing key in an HSM: the PKCS#11 module (the token vendor's
    /// shared library), with --pkcs11-token and --pkcs11-key. The user PIN
    /// comes from the environment variable INTYG_PKCS11_PIN or from
    /// --pkcs11-pin-file, never from a flag.
    #[arg(long, value_name = "PATH", requires_all = ["pkcs11_token", "pkcs11_key"])]
    pub pkcs11_module: Option<PathBuf>,
    /// The label of the PKCS#11 token that holds the signing key.
    #[arg(long, value_name = "LABEL", requires = "pkcs11_module")]
    pub pkcs11_token: Option<String>,
    /// The label (CKA_LABEL) of the signing key pair in the token.
    #[arg(long, value_name = "LABEL", requires = "pkcs11_module")]
    pub pkcs11_key: Option<String>,
    /// A file holding the token's user PIN (mode 0600); without it the PIN
    /// is read from INTYG_PKCS11_PIN.
    #[arg(long, value_name = "PATH", requires = "pkcs11_module")]
    pub pkcs11_pin_file: Option<PathBuf>,
}

impl Pkcs11Args {
    /// The token key the flags name, if they name one (clap has made sure
    /// that module, token and key come together).
    pub fn config(&self) -> Option<Pkcs11Config> {
        Some(Pkcs11Config {
            module: self.pkcs11_module.clone()?,
            token: self.pkcs11_token.clone()?,
            key: self.pkcs11_key.clone()?,
            pin_file: self.pkcs11_pin_file.clone(),
        })
    }
}

impl Pkcs11Config {
    /// The key as an RFC 7512 PKCS#11 URI, for messages and logs.
    pub fn uri(&self) -> String {
        format!("pkcs11:token={};object={}", self.token, self.key)
    }

    /// The user PIN: the file's first line, else [`PIN_ENV`].
    fn pin(&self) -> Result<AuthPin, Pkcs11Error> {
        let pin = match &self.pin_file {
            Some(path) => {
                let shown = path.display().to_string();
                warn_if_readable_by_others(path);
                let text =
                    std::fs::read_to_string(path).map_err(|source| Pkcs11Error::PinFile {
                        path: shown.clone(),
                        source,
                    })?;
                let pin = text.lines().next().unwrap_or_default().to_owned();
                if pin.is_empty() {
                    return Err(Pkcs11Error::PinFileEmpty(shown));
                }
                pin
            }
            None => std::env::var(PIN_ENV)
                .ok()
                .filter(|pin| !pin.is_empty())
                .ok_or(Pkcs11Error::PinMissing)?,
        };
        Ok(AuthPin::from(pin))
    }
}

fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            file = %path.display(),
            "the PKCS#11 PIN file is readable by others than its owner (chmod 600)"
        );
    }
}

/// Why a PKCS#11 key could not be opened or could not sign.
#[derive(Debug, thiserror::Error)]
pub enum Pkcs11Error {
    /// The module file is missing or is not a PKCS#11 library.
    #[error("PKCS#11 module {module} not found or not a PKCS#11 library: {reason}")]
    ModuleNotFound {
        /// The module path.
        module: String,
        /// What the loader said.
        reason: String,
    },
    /// `C_Initialize` failed.
    #[error("PKCS#11 module {module} failed to initialize: {source}")]
    Initialize {
        /// The module path.
        module: String,
        /// The module's answer.
        source: CkError,
    },
    /// No token in the module has the configured label.
    #[error("no token labelled `{token}` in PKCS#11 module {module} (tokens present: {present})")]
    TokenNotFound {
        /// The label looked for.
        token: String,
        /// The module path.
        module: String,
        /// The labels found, comma-separated, or "none".
        present: String,
    },
    /// Neither a PIN file nor [`PIN_ENV`] gives the user PIN.
    #[error(
        "no PKCS#11 user PIN: set the environment variable {PIN_ENV} or give a PIN file (--pkcs11-pin-file, pin_file)"
    )]
    PinMissing,
    /// The PIN file could not be read.
    #[error("PKCS#11 PIN file {path}: {source}")]
    PinFile {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The PIN file's first line is empty.
    #[error("PKCS#11 PIN file {0} is empty")]
    PinFileEmpty(String),
    /// The token refused the user PIN.
    #[error("wrong PIN for token `{token}`: the token refused the login")]
    WrongPin {
        /// The token's label.
        token: String,
    },
    /// The token locked the user PIN after too many wrong ones.
    #[error("the user PIN of token `{token}` is locked")]
    PinLocked {
        /// The token's label.
        token: String,
    },
    /// No private key on the token has the configured label.
    #[error("no private key labelled `{key}` on token `{token}`")]
    KeyNotFound {
        /// The key label.
        key: String,
        /// The token's label.
        token: String,
    },
    /// Several private keys have the configured label.
    #[error(
        "{count} private keys are labelled `{key}` on token `{token}`; the label must name one"
    )]
    AmbiguousKey {
        /// The key label.
        key: String,
        /// The token's label.
        token: String,
        /// How many.
        count: usize,
    },
    /// The private key has no public key object to publish.
    #[error(
        "no public key labelled `{key}` (or with its CKA_ID) on token `{token}`: its CKA_EC_POINT is the published key"
    )]
    PublicKeyNotFound {
        /// The key label.
        key: String,
        /// The token's label.
        token: String,
    },
    /// The key is not an EC key on P-256.
    #[error("key `{key}` on token `{token}` is not an EC P-256 key: {reason}")]
    NotP256 {
        /// The key label.
        key: String,
        /// The token's label.
        token: String,
        /// What is different.
        reason: &'static str,
    },
    /// The private key is not `CKA_SENSITIVE`: its value can be read out.
    #[error(
        "private key `{key}` on token `{token}` is not sensitive (CKA_SENSITIVE is false): its value could be read out of the token"
    )]
    NotSensitive {
        /// The key label.
        key: String,
        /// The token's label.
        token: String,
    },
    /// A signature of the private key does not verify with the public key
    /// of that label.
    #[error("the public key labelled `{key}` on token `{token}` is not the private key's")]
    KeyPairMismatch {
        /// The key label.
        key: String,
        /// The token's label.
        token: String,
    },
    /// A PKCS#11 call failed otherwise.
    #[error("PKCS#11 {operation} on token `{token}` failed: {source}")]
    Token {
        /// The function.
        operation: &'static str,
        /// The token's label.
        token: String,
        /// The module's answer.
        source: CkError,
    },
    /// The token answered a signature of the wrong length.
    #[error("token `{token}` answered a {length}-byte ECDSA signature; ES256 needs 64")]
    SignatureLength {
        /// The token's label.
        token: String,
        /// What it answered.
        length: usize,
    },
}

impl Pkcs11Error {
    /// A stable code per variant, for logs and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            Self::ModuleNotFound { .. } => "pkcs11_module_not_found",
            Self::Initialize { .. } => "pkcs11_initialize",
            Self::TokenNotFound { .. } => "pkcs11_token_not_found",
            Self::PinMissing => "pkcs11_pin_missing",
            Self::PinFile { .. } => "pkcs11_pin_file",
            Self::PinFileEmpty(_) => "pkcs11_pin_file_empty",
            Self::WrongPin { .. } => "pkcs11_wrong_pin",
            Self::PinLocked { .. } => "pkcs11_pin_locked",
            Self::KeyNotFound { .. } => "pkcs11_key_not_found",
            Self::AmbiguousKey { .. } => "pkcs11_ambiguous_key",
            Self::PublicKeyNotFound { .. } => "pkcs11_public_key_not_found",
            Self::NotP256 { .. } => "pkcs11_not_p256",
            Self::NotSensitive { .. } => "pkcs11_not_sensitive",
            Self::KeyPairMismatch { .. } => "pkcs11_key_pair_mismatch",
            Self::Token { .. } => "pkcs11_token",
            Self::SignatureLength { .. } => "pkcs11_signature_length",
        }
    }
}

/// Every module loaded in this process, by path.
static MODULES: Mutex<BTreeMap<PathBuf, Pkcs11>> = Mutex::new(BTreeMap::new());

/// The module at `path`, loaded and initialized once per process (with
/// OS locking, so its sessions may be used from several threads).
pub fn module(path: &Path) -> Result<Pkcs11, Pkcs11Error> {
    let shown = path.display().to_string();
    let not_found = |reason: String| Pkcs11Error::ModuleNotFound {
        module: shown.clone(),
        reason,
    };
    let key = std::fs::canonicalize(path).map_err(|e| not_found(e.to_string()))?;
    let mut modules = MODULES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(loaded) = modules.get(&key) {
        return Ok(loaded.clone());
    }
    let pkcs11 = Pkcs11::new(&key).map_err(|e| not_found(e.to_string()))?;
    match pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        // Another library in this process initialized it: shared state.
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(source) => {
            return Err(Pkcs11Error::Initialize {
                module: shown,
                source,
            });
        }
    }
    modules.insert(key, pkcs11.clone());
    Ok(pkcs11)
}

/// A token found by label, with the user PIN to log in with.
struct Token {
    pkcs11: Pkcs11,
    slot: Slot,
    label: String,
    pin: AuthPin,
}

impl Token {
    fn open(config: &Pkcs11Config) -> Result<Self, Pkcs11Error> {
        let pkcs11 = module(&config.module)?;
        let error = |operation| {
            let token = config.token.clone();
            move |source| Pkcs11Error::Token {
                operation,
                token,
                source,
            }
        };
        let mut present = Vec::new();
        for slot in pkcs11
            .get_slots_with_token()
            .map_err(error("C_GetSlotList"))?
        {
            let info = pkcs11
                .get_token_info(slot)
                .map_err(error("C_GetTokenInfo"))?;
            if info.label() == config.token {
                return Ok(Self {
                    pkcs11,
                    slot,
                    label: config.token.clone(),
                    pin: config.pin()?,
                });
            }
            if info.token_initialized() {
                present.push(format!("`{}`", info.label()));
            }
        }
        Err(Pkcs11Error::TokenNotFound {
            token: config.token.clone(),
            module: config.module.display().to_string(),
            present: if present.is_empty() {
                "none".to_owned()
            } else {
                present.join(", ")
            },
        })
    }

    fn error(&self, operation: &'static str) -> impl FnOnce(CkError) -> Pkcs11Error + '_ {
        move |source| Pkcs11Error::Token {
            operation,
            token: self.label.clone(),
            source,
        }
    }

    /// A new read-only session, logged in (sessions of one process share
    /// the login, so this logs in only when none is).
    fn session(&self) -> Result<Session, Pkcs11Error> {
        let session = self
            .pkcs11
            .open_ro_session(self.slot)
            .map_err(self.error("C_OpenSession"))?;
        match session.login(UserType::User, Some(&self.pin)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(session),
            Err(CkError::Pkcs11(
                RvError::PinIncorrect | RvError::PinLenRange | RvError::PinInvalid,
                _,
            )) => Err(Pkcs11Error::WrongPin {
                token: self.label.clone(),
            }),
            Err(CkError::Pkcs11(RvError::PinLocked, _)) => Err(Pkcs11Error::PinLocked {
                token: self.label.clone(),
            }),
            Err(source) => Err(self.error("C_Login")(source)),
        }
    }
}

/// An ES256 signer whose P-256 private key stays in a PKCS#11 token.
pub struct Pkcs11Signer {
    token: Token,
    key_label: String,
    key: Mutex<ObjectHandle>,
    public: Jwk,
    idle: Mutex<Vec<Session>>,
}

impl std::fmt::Debug for Pkcs11Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Signer")
            .field("token", &self.token.label)
            .field("key", &self.key_label)
            .finish_non_exhaustive()
    }
}

impl Pkcs11Signer {
    /// Opens the token, logs in, finds the key pair and checks it (EC
    /// P-256, sensitive, one private key of that label, a probe signature
    /// that verifies with the public key).
    pub fn open(config: &Pkcs11Config) -> Result<Self, Pkcs11Error> {
        let token = Token::open(config)?;
        let session = token.session()?;
        let key = find_private_key(&session, &token.label, &config.key)?;
        check_private_key(&session, &token, &config.key, key)?;
        let point = public_point(&session, &token, &config.key, key)?;
        let public = P256Key::from_point(&point)
            .and_then(|key| VerifyingKey::P256(key).to_jwk())
            .map_err(|_| Pkcs11Error::NotP256 {
                key: config.key.clone(),
                token: token.label.clone(),
                reason: "CKA_EC_POINT is not a P-256 point",
            })?;
        let signer = Self {
            token,
            key_label: config.key.clone(),
            key: Mutex::new(key),
            public,
            idle: Mutex::new(vec![session]),
        };
        signer.probe(&point)?;
        tracing::info!(key = %config.uri(), "PKCS#11 signing key opened");
        Ok(signer)
    }

    /// The key's RFC 7512 URI (`pkcs11:token=..;object=..`).
    pub fn uri(&self) -> String {
        format!(
            "pkcs11:token={};object={}",
            self.token.label, self.key_label
        )
    }

    /// Signs a SHA-256 `digest` in the token: `r || s`.
    pub fn sign_digest(&self, digest: &[u8]) -> Result<Vec<u8>, Pkcs11Error> {
        match self.try_sign(digest) {
            Err(Pkcs11Error::Token {
                source: CkError::Pkcs11(rv, _),
                ..
            }) if lost(rv) => {
                tracing::warn!(key = %self.uri(), error = %rv, "PKCS#11 session lost; logging in again");
                self.reconnect()?;
                self.try_sign(digest)
            }
            other => other,
        }
    }

    fn try_sign(&self, digest: &[u8]) -> Result<Vec<u8>, Pkcs11Error> {
        let session = self.take()?;
        let key = *self.key.lock().unwrap_or_else(PoisonError::into_inner);
        // On an error the session is dropped (closed), not put back.
        let signature = session
            .sign(&Mechanism::Ecdsa, key, digest)
            .map_err(self.token.error("C_Sign"))?;
        self.put_back(session);
        if signature.len() != 64 {
            return Err(Pkcs11Error::SignatureLength {
                token: self.token.label.clone(),
                length: signature.len(),
            });
        }
        Ok(signature)
    }

    fn take(&self) -> Result<Session, Pkcs11Error> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match idle {
            Some(session) => Ok(session),
            None => self.token.session(),
        }
    }

    fn put_back(&self, session: Session) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE_SESSIONS {
            idle.push(session);
        }
    }

    /// Drops every idle session, logs in on a new one and finds the key
    /// again (its handle may have changed).
    fn reconnect(&self) -> Result<(), Pkcs11Error> {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        let session = self.token.session()?;
        let key = find_private_key(&session, &self.token.label, &self.key_label)?;
        *self.key.lock().unwrap_or_else(PoisonError::into_inner) = key;
        self.put_back(session);
        Ok(())
    }

    /// Signs a probe and verifies it with the public key.
    fn probe(&self, point: &[u8]) -> Result<(), Pkcs11Error> {
        let message = b"intyg: PKCS#11 key pair check";
        let signature = self.sign_digest(&sha256(message))?;
        P256Key::from_point(point)
            .and_then(|key| VerifyingKey::P256(key).verify(Algorithm::ES256, message, &signature))
            .map_err(|_| Pkcs11Error::KeyPairMismatch {
                key: self.key_label.clone(),
                token: self.token.label.clone(),
            })
    }
}

impl Signer for Pkcs11Signer {
    fn algorithm(&self) -> Algorithm {
        Algorithm::ES256
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        self.sign_digest(&sha256(message)).map_err(|e| {
            tracing::error!(key = %self.uri(), code = e.code(), error = %e, "PKCS#11 signing failed");
            JoseError::Signing
        })
    }

    fn public_jwk(&self) -> Jwk {
        self.public.clone()
    }
}

/// Whether `rv` says the session, login or key handle is gone (a token
/// restart): worth one reconnect.
fn lost(rv: RvError) -> bool {
    matches!(
        rv,
        RvError::SessionHandleInvalid
            | RvError::SessionClosed
            | RvError::UserNotLoggedIn
            | RvError::KeyHandleInvalid
            | RvError::ObjectHandleInvalid
            | RvError::DeviceRemoved
            | RvError::TokenNotPresent
    )
}

fn sha256(message: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, message)
        .as_ref()
        .to_vec()
}

fn find_private_key(
    session: &Session,
    token: &str,
    label: &str,
) -> Result<ObjectHandle, Pkcs11Error> {
    let found = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Label(label.as_bytes().to_vec()),
        ])
        .map_err(|source| Pkcs11Error::Token {
            operation: "C_FindObjects",
            token: token.to_owned(),
            source,
        })?;
    match found.as_slice() {
        [key] => Ok(*key),
        [] => Err(Pkcs11Error::KeyNotFound {
            key: label.to_owned(),
            token: token.to_owned(),
        }),
        many => Err(Pkcs11Error::AmbiguousKey {
            key: label.to_owned(),
            token: token.to_owned(),
            count: many.len(),
        }),
    }
}

/// EC, P-256 and sensitive; a warning when it is extractable (wrapped
/// export possible).
fn check_private_key(
    session: &Session,
    token: &Token,
    label: &str,
    key: ObjectHandle,
) -> Result<(), Pkcs11Error> {
    let attributes = session
        .get_attributes(
            key,
            &[
                AttributeType::KeyType,
                AttributeType::EcParams,
                AttributeType::Sensitive,
                AttributeType::Extractable,
            ],
        )
        .map_err(token.error("C_GetAttributeValue"))?;
    let not_p256 = |reason| Pkcs11Error::NotP256 {
        key: label.to_owned(),
        token: token.label.clone(),
        reason,
    };
    let mut key_type = None;
    let mut params = None;
    let mut sensitive = false;
    for attribute in attributes {
        match attribute {
            Attribute::KeyType(kind) => key_type = Some(kind),
            Attribute::EcParams(value) => params = Some(value),
            Attribute::Sensitive(value) => sensitive = value,
            Attribute::Extractable(true) => tracing::warn!(
                key = %label,
                token = %token.label,
                "the PKCS#11 private key is extractable (CKA_EXTRACTABLE): it can be exported wrapped"
            ),
            _ => {}
        }
    }
    if key_type != Some(KeyType::EC) {
        return Err(not_p256("it is not an EC key"));
    }
    if params.as_deref() != Some(P256_PARAMS.as_slice()) {
        return Err(not_p256("its curve (CKA_EC_PARAMS) is not P-256"));
    }
    if !sensitive {
        return Err(Pkcs11Error::NotSensitive {
            key: label.to_owned(),
            token: token.label.clone(),
        });
    }
    Ok(())
}

/// The uncompressed point (`04 || x || y`) of the public key object with
/// the private key's label, else with its `CKA_ID`.
fn public_point(
    session: &Session,
    token: &Token,
    label: &str,
    private: ObjectHandle,
) -> Result<Vec<u8>, Pkcs11Error> {
    let find = |attribute: Attribute| {
        session
            .find_objects(&[Attribute::Class(ObjectClass::PUBLIC_KEY), attribute])
            .map_err(token.error("C_FindObjects"))
    };
    let mut found = find(Attribute::Label(label.as_bytes().to_vec()))?;
    if found.is_empty() {
        let id = session
            .get_attributes(private, &[AttributeType::Id])
            .map_err(token.error("C_GetAttributeValue"))?
            .into_iter()
            .find_map(|a| match a {
                Attribute::Id(id) if !id.is_empty() => Some(id),
                _ => None,
            });
        if let Some(id) = id {
            found = find(Attribute::Id(id))?;
        }
    }
    let [public] = found.as_slice() else {
        return Err(Pkcs11Error::PublicKeyNotFound {
            key: label.to_owned(),
            token: token.label.clone(),
        });
    };
    let not_p256 = |reason| Pkcs11Error::NotP256 {
        key: label.to_owned(),
        token: token.label.clone(),
        reason,
    };
    let mut point = None;
    for attribute in session
        .get_attributes(*public, &[AttributeType::EcParams, AttributeType::EcPoint])
        .map_err(token.error("C_GetAttributeValue"))?
    {
        match attribute {
            Attribute::EcParams(params) if params != P256_PARAMS => {
                return Err(not_p256("the public key's curve is not P-256"));
            }
            Attribute::EcPoint(value) => point = Some(value),
            _ => {}
        }
    }
    let point = point.ok_or_else(|| not_p256("the public key has no CKA_EC_POINT"))?;
    uncompressed_point(&point)
        .ok_or_else(|| not_p256("CKA_EC_POINT is not an uncompressed P-256 point"))
}

/// `CKA_EC_POINT` is the DER OCTET STRING of the point (PKCS#11 2.40
/// §2.3.3); some tokens give the bare point.
fn uncompressed_point(value: &[u8]) -> Option<Vec<u8>> {
    let point = match value {
        [0x04, 0x41, rest @ ..] if rest.len() == 65 => rest,
        bare if bare.len() == 65 => bare,
        _ => return None,
    };
    (point[0] == 0x04).then(|| point.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec_point_as_der_octet_string_or_bare() {
        let mut bare = vec![0x04];
        bare.extend([7u8; 64]);
        let mut der = vec![0x04, 0x41];
        der.extend(&bare);
        assert_eq!(uncompressed_point(&der), Some(bare.clone()));
        assert_eq!(uncompressed_point(&bare), Some(bare.clone()));
        // Compressed or truncated points are not P-256 uncompressed.
        assert_eq!(uncompressed_point(&bare[..33]), None);
        let mut compressed = bare.clone();
        compressed[0] = 0x02;
        assert_eq!(uncompressed_point(&compressed), None);
    }

    #[test]
    fn pin_from_a_file_or_missing() {
        let dir = std::env::temp_dir().join(format!("intyg-pkcs11-pin-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pin");
        let config = |pin_file: Option<PathBuf>| Pkcs11Config {
            module: "/nonexistent".into(),
            token: "t".into(),
            key: "k".into(),
            pin_file,
        };
        std::fs::write(&file, "1234\n").unwrap();
        assert!(config(Some(file.clone())).pin().is_ok());
        std::fs::write(&file, "\n").unwrap();
        assert_eq!(
            config(Some(file.clone())).pin().unwrap_err().code(),
            "pkcs11_pin_file_empty"
        );
        assert_eq!(
            config(Some(dir.join("absent"))).pin().unwrap_err().code(),
            "pkcs11_pin_file"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_module_is_named() {
        let config = Pkcs11Config {
            module: "/nonexistent/libpkcs11.so".into(),
            token: "t".into(),
            key: "k".into(),
            pin_file: None,
        };
        let error = module(&config.module).unwrap_err();
        assert_eq!(error.code(), "pkcs11_module_not_found");
        assert!(error.to_string().contains("/nonexistent/libpkcs11.so"));
    }
}
