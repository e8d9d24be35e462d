//! The verifier's X.509 identity: the leaf key that signs Request Objects
//! and the `x5c` chain that authenticates it.
//!
//! In development the first start generates, in the data directory, a
//! local CA (`ca.pem`, for wallets to trust; its private key is never
//! written) and a leaf certificate for `localhost`, `127.0.0.1` and the
//! configured `san_dns` (`verifier-chain.pem`, key in `verifier-key.jwk`,
//! mode 0600), naming the configured `organization_identifier`. Later starts
//! reuse them. Production loads the configured key and chain.
//!
//! The key may live in a PKCS#11 token ([`Pkcs11Signer`]): `[x509]
//! pkcs11`, or the `--pkcs11-*` flags (top-level `pkcs11`) for an
//! `[x509]` that names no key and in development, where the development
//! CA then certifies the token key (a new CA and leaf when the kept leaf
//! holds another key; no key file is written).

use std::path::Path;
use std::sync::Arc;

use intyg_core::jose::{Jwk, Signer, SigningKey, VerifyingKey};
use intyg_core::oid4vp::ClientId;
use intyg_core::trust::pki::{LeafProfile, LocalCa, PkiError, Subject};
use intyg_core::trust::{Certificate, CertificateChain};
use intyg_service::pkcs11::{Pkcs11Error, Pkcs11Signer};

use crate::config::{ClientIdPrefixChoice, Config};

/// Why the identity could not be loaded or generated.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file does not hold what it should.
    #[error("{path}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// Generating the development CA failed.
    #[error("generating the development CA: {0}")]
    Generate(#[from] PkiError),
    /// The signing key does not match the leaf certificate.
    #[error("the signing key does not match the leaf certificate")]
    KeyMismatch,
    /// `x509_san_dns` is configured for a name the leaf lacks.
    #[error("the leaf certificate has no dNSName SAN `{0}`")]
    MissingSan(String),
    /// The PKCS#11 key could not be opened.
    #[error("PKCS#11 request-signing key: {0}")]
    Pkcs11(#[from] Pkcs11Error),
    /// `[x509]` names no key, or two.
    #[error("[x509]: give key_file or pkcs11 (one of them), or --pkcs11-* flags")]
    KeySource,
}

/// The verifier's signing key, chain and client identifier.
pub struct Identity {
    /// Signs Request Objects: a key in memory or in a PKCS#11 token.
    pub key: Arc<dyn Signer>,
    /// Leaf first; sent as `x5c`.
    pub chain: CertificateChain,
    /// The configured default: `x509_hash:...` or `x509_san_dns:...`.
    pub client_id: ClientId,
    /// `x509_san_dns:<san_dns>`, when the leaf has that `dNSName` SAN.
    pub x509_san_dns: Option<ClientId>,
}

impl Identity {
    /// Loads the configured identity, or in development the generated one
    /// (generating it on first start).
    pub fn load(config: &Config) -> Result<Self, IdentityError> {
        let (key, chain_path): (Arc<dyn Signer>, _) = match &config.x509 {
            Some(files) => {
                let key = match (&files.key_file, &files.pkcs11, &config.pkcs11) {
                    (Some(path), None, _) => Arc::new(load_key(path)?) as Arc<dyn Signer>,
                    (None, Some(pkcs11), _) | (None, None, Some(pkcs11)) => {
                        Arc::new(Pkcs11Signer::open(pkcs11)?)
                    }
                    _ => return Err(IdentityError::KeySource),
                };
                (key, files.chain_file.clone())
            }
            None => {
                let dir = &config.data_dir;
                let chain = dir.join("verifier-chain.pem");
                let key: Arc<dyn Signer> = match &config.pkcs11 {
                    Some(pkcs11) => Arc::new(Pkcs11Signer::open(pkcs11)?),
                    None => {
                        let path = dir.join("verifier-key.jwk");
                        if !path.exists() {
                            let key = SigningKey::generate().map_err(|e| invalid(dir, e))?;
                            write_key(&path, &key)?;
                            // A chain made for an earlier key is made again.
                            let _ = std::fs::remove_file(&chain);
                        }
                        Arc::new(load_key(&path)?)
                    }
                };
                if !chain.exists()
                    || !dir.join("ca.pem").exists()
                    || !certifies(&chain, key.as_ref())?
                {
                    generate_dev(
                        dir,
                        key.as_ref(),
                        &config.san_dns,
                        &config.organization_identifier,
                    )?;
                }
                (key, chain)
            }
        };
        let certificates =
            Certificate::from_pem(&read(&chain_path)?).map_err(|e| invalid(&chain_path, e))?;
        let chain = CertificateChain::new(certificates).map_err(|e| invalid(&chain_path, e))?;
        if !certifies_chain(&chain, key.as_ref()) {
            return Err(IdentityError::KeyMismatch);
        }
        let x509_san_dns = if chain.leaf().dns_names().contains(&config.san_dns) {
            format!("x509_san_dns:{}", config.san_dns).parse().ok()
        } else {
            None
        };
        let client_id = match config.client_id_prefix {
            ClientIdPrefixChoice::X509Hash => ClientId::x509_hash(chain.leaf().der()),
            ClientIdPrefixChoice::X509SanDns => x509_san_dns
                .clone()
                .ok_or_else(|| IdentityError::MissingSan(config.san_dns.clone()))?,
        };
        Ok(Self {
            key,
            chain,
            client_id,
            x509_san_dns,
        })
    }

    /// The client identifier with this prefix; `None` for `x509_san_dns`
    /// when the leaf lacks the configured `san_dns`.
    pub fn client_id_for(&self, prefix: ClientIdPrefixChoice) -> Option<ClientId> {
        match prefix {
            ClientIdPrefixChoice::X509Hash => Some(ClientId::x509_hash(self.chain.leaf().der())),
            ClientIdPrefixChoice::X509SanDns => self.x509_san_dns.clone(),
        }
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("public", &self.key.public_jwk())
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// A private P-256 JWK file.
fn load_key(path: &Path) -> Result<SigningKey, IdentityError> {
    let jwk: Jwk = serde_json::from_str(&read(path)?).map_err(|e| invalid(path, e))?;
    SigningKey::from_jwk(&jwk).map_err(|e| invalid(path, e))
}

/// Writes `key` as a private JWK, mode 0600.
fn write_key(path: &Path, key: &SigningKey) -> Result<(), IdentityError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| IdentityError::Io {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let jwk = key.to_private_jwk().map_err(|e| invalid(path, e))?;
    let text = serde_json::to_string_pretty(&jwk).map_err(|e| invalid(path, e))?;
    write_private(path, text.as_bytes()).map_err(|source| IdentityError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Whether the chain in `path` has a leaf holding `key`'s public key.
fn certifies(path: &Path, key: &dyn Signer) -> Result<bool, IdentityError> {
    let certificates = Certificate::from_pem(&read(path)?).map_err(|e| invalid(path, e))?;
    let chain = CertificateChain::new(certificates).map_err(|e| invalid(path, e))?;
    Ok(certifies_chain(&chain, key))
}

fn certifies_chain(chain: &CertificateChain, key: &dyn Signer) -> bool {
    let public = VerifyingKey::from_jwk(&key.public_jwk()).ok();
    public.is_some() && chain.leaf().public_key().ok() == public
}

fn read(path: &Path) -> Result<String, IdentityError> {
    std::fs::read_to_string(path).map_err(|source| IdentityError::Io {
        path: path.display().to_string(),
        source,
    })
}

fn invalid(path: &Path, reason: impl std::fmt::Display) -> IdentityError {
    IdentityError::Invalid {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Generates the development CA and a leaf for `key` in `dir`
/// (`core::trust::pki`, the one way every role makes its local CA); the
/// leaf names `organization` as its `organizationIdentifier`.
fn generate_dev(
    dir: &Path,
    key: &dyn Signer,
    san_dns: &str,
    organization: &str,
) -> Result<(), IdentityError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| IdentityError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let ca = LocalCa::generate(&Subject::new("Intyg development verifier CA"))?;
    let public = VerifyingKey::from_jwk(&key.public_jwk()).map_err(|e| invalid(dir, e))?;
    let mut dns_names = vec!["localhost".to_owned()];
    if san_dns != "localhost" {
        dns_names.push(san_dns.to_owned());
    }
    let leaf = ca.issue(
        &public,
        &LeafProfile {
            // organizationIdentifier (2.5.4.97): what a registration
            // certificate's `sub` is bound to (ETSI TS 119 475, EN 319 412-1).
            subject: Subject::new("Intyg development verifier")
                .organization_identifier(organization),
            dns_names,
            ip_addresses: vec![[127, 0, 0, 1].into()],
            ..LeafProfile::default()
        },
    )?;
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, ca.certificate().to_pem()).map_err(io(&ca_path))?;
    let chain_path = dir.join("verifier-chain.pem");
    std::fs::write(&chain_path, leaf.to_pem()).map_err(io(&chain_path))?;
    tracing::info!(ca = %ca_path.display(), "development verifier CA made");
    Ok(())
}

pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}
