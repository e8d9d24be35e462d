//! The issuer's signing key: loaded from the data directory, or generated
//! on first start and kept there.

use std::path::Path;

use intyg_core::jose::{Jwk, SigningKey, thumbprint};

/// Why the signing key could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing the key file failed.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a private P-256 JWK.
    #[error("key file {path} is not a private P-256 JWK: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// The key and its `kid` (RFC 7638 thumbprint).
#[derive(Debug)]
pub struct IssuerKey {
    /// The signing key.
    pub key: SigningKey,
    /// Its key id, in every JWS header it signs.
    pub kid: String,
}

impl IssuerKey {
    /// Loads `dir/issuer-key.jwk`, creating it (mode 0600) if absent.
    pub fn load_or_create(dir: &Path) -> Result<Self, KeyError> {
        Self::load_or_create_file(dir, "issuer-key.jwk")
    }

    /// Loads `dir/name`, creating it (mode 0600) if absent.
    pub fn load_or_create_file(dir: &Path, name: &str) -> Result<Self, KeyError> {
        let path = dir.join(name);
        let shown = path.display().to_string();
        let io = |source| KeyError::Io {
            path: shown.clone(),
            source,
        };
        let invalid = |reason: String| KeyError::Invalid {
            path: shown.clone(),
            reason,
        };
        let key = if path.exists() {
            load_key(&path)?
        } else {
            std::fs::create_dir_all(dir).map_err(io)?;
            let key = SigningKey::generate().map_err(|e| invalid(e.to_string()))?;
            let jwk = key.to_private_jwk().map_err(|e| invalid(e.to_string()))?;
            let text = serde_json::to_string_pretty(&jwk).map_err(|e| invalid(e.to_string()))?;
            write_private(&path, text.as_bytes()).map_err(io)?;
            key
        };
        let kid = thumbprint(&key.public_jwk()).map_err(|e| invalid(e.to_string()))?;
        Ok(Self { key, kid })
    }

    /// The public JWK with its `kid`, as published.
    pub fn public_jwk(&self) -> Jwk {
        let mut jwk = self.key.public_jwk();
        jwk.key_id = Some(self.kid.clone());
        jwk
    }
}

/// Loads a private P-256 JWK file.
pub fn load_key(path: &Path) -> Result<SigningKey, KeyError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
        path: shown.clone(),
        source,
    })?;
    let invalid = |reason: String| KeyError::Invalid {
        path: shown.clone(),
        reason,
    };
    let jwk: Jwk = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    SigningKey::from_jwk(&jwk).map_err(|e| invalid(e.to_string()))
}

/// Loads the 32-byte secret `dir/name`, creating it (random, mode 0600) if
/// absent. Every instance on the same data directory reads the same one;
/// two first starts at once agree, since only one `create_new` succeeds.
pub fn load_or_create_secret(dir: &Path, name: &str) -> Result<[u8; 32], KeyError> {
    let path = dir.join(name);
    let shown = path.display().to_string();
    let io = |source| KeyError::Io {
        path: shown.clone(),
        source,
    };
    if !path.exists() {
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut secret = [0u8; 32];
        aws_lc_rs::rand::fill(&mut secret).map_err(|_| KeyError::Invalid {
            path: shown.clone(),
            reason: "the system random number generator failed".into(),
        })?;
        match write_private(&path, &secret) {
            Ok(()) => return Ok(secret),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(e)),
        }
    }
    let bytes = std::fs::read(&path).map_err(io)?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| KeyError::Invalid {
        path: shown.clone(),
        reason: "a secret file must hold exactly 32 bytes".into(),
    })
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
