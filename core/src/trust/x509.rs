//! X.509 certificate chains in `x5c` (RFC 7515 §4.1.6), validated to
//! configured roots (RFC 5280 path validation through `rustls-webpki`).
//!
//! <https://www.rfc-editor.org/rfc/rfc5280#section-6>
//!
//! The pipeline: [`CertificateChain::from_x5c`] (standard base64 DER, leaf
//! first) → [`CertificateChain::validate`] against [`TrustAnchors`] at the
//! caller's time → [`ValidatedLeaf`]: the leaf's public key as a
//! [`VerifyingKey`], its `dNSName` SANs, its `x509_hash`. Only validation
//! makes a `ValidatedLeaf`.
//!
//! Path building, signatures on certificates, validity periods, basic
//! constraints and name constraints are webpki's. Any extended key usage is
//! accepted: HAIP 1.0 names none for request-object or credential signing
//! certificates. The leaf key must be P-256 or Ed25519, the keys our JOSE
//! profile verifies with.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, SignatureVerificationAlgorithm, UnixTime};
use webpki::{EndEntityCert, ExtendedKeyUsageValidator, KeyPurposeIdIter};

use crate::jose::{P256Key, VerifyingKey};
use crate::oid4vp::{ClientId, ClientIdPrefix, x509_hash_of};

/// The most certificates an `x5c` chain may hold.
pub const MAX_CHAIN_LENGTH: usize = 8;

/// The DER prefix of a P-256 `SubjectPublicKeyInfo` (id-ecPublicKey,
/// prime256v1, a 66-byte BIT STRING); the uncompressed point follows.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];
/// The DER prefix of an Ed25519 `SubjectPublicKeyInfo` (RFC 8410 §4).
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// Signature algorithms accepted on certificates (not on JWS: those stay
/// ES256 and EdDSA). Roots of national PKIs are often P-384 or RSA.
static CERTIFICATE_ALGORITHMS: &[&dyn SignatureVerificationAlgorithm] = &[
    webpki::aws_lc_rs::ECDSA_P256_SHA256,
    webpki::aws_lc_rs::ECDSA_P256_SHA384,
    webpki::aws_lc_rs::ECDSA_P384_SHA256,
    webpki::aws_lc_rs::ECDSA_P384_SHA384,
    webpki::aws_lc_rs::ED25519,
    webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA256,
    webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA384,
    webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA512,
    webpki::aws_lc_rs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
    webpki::aws_lc_rs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
    webpki::aws_lc_rs::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
];

/// Why a certificate or chain was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum X509Error {
    /// `x5c` is an empty array.
    #[error("the x5c chain is empty")]
    EmptyChain,
    /// `x5c` holds more than [`MAX_CHAIN_LENGTH`] certificates.
    #[error("the x5c chain has {0} certificates, more than {MAX_CHAIN_LENGTH}")]
    ChainTooLong(usize),
    /// An `x5c` entry is not standard (padded) base64 (RFC 7515 §4.1.6).
    #[error("x5c[{0}] is not standard base64")]
    Base64(usize),
    /// A certificate is not DER-encoded X.509 v3 that webpki can read.
    #[error("certificate {index} is malformed: {reason}")]
    Malformed {
        /// Position in the chain or PEM file.
        index: usize,
        /// What webpki said.
        reason: String,
    },
    /// A PEM file holds no certificate, or a section does not decode.
    #[error("PEM: {0}")]
    Pem(String),
    /// No trust anchor was configured.
    #[error("no trust anchors are configured")]
    NoTrustAnchors,
    /// The chain leads to none of the trust anchors.
    #[error("the certificate chain leads to no trusted root")]
    UnknownIssuer,
    /// A certificate of the chain has expired.
    #[error("a certificate of the chain has expired")]
    Expired,
    /// A certificate of the chain is not yet valid.
    #[error("a certificate of the chain is not yet valid")]
    NotYetValid,
    /// A signature on a certificate does not verify.
    #[error("a certificate signature does not verify")]
    BadSignature,
    /// A certificate is signed with an algorithm outside our list.
    #[error("a certificate is signed with an unsupported algorithm")]
    UnsupportedSignatureAlgorithm,
    /// A certificate in the path is not a CA, or a CA is used as the leaf,
    /// or path length or name constraints are broken.
    #[error("the certificate path is invalid: {0}")]
    InvalidPath(String),
    /// The leaf's key is neither P-256 nor Ed25519.
    #[error("the leaf certificate key is neither P-256 nor Ed25519")]
    UnsupportedKey,
    /// The leaf is self-issued (subject equals issuer), which HAIP 1.0
    /// forbids for wallet and key attestations.
    #[error("the leaf certificate is self-signed; HAIP 1.0 requires one issued by a CA")]
    SelfSignedLeaf,
    /// `x5c` contains a trust anchor, which HAIP 1.0 says must not be sent.
    #[error("x5c[{0}] is a trust anchor; the chain must not include the root")]
    RootInChain(usize),
    /// The client identifier is neither `x509_hash:` nor `x509_san_dns:`.
    #[error("client_id prefix {0} is not authenticated by a certificate")]
    NotX509ClientId(ClientIdPrefix),
    /// `x509_hash:` does not hash the leaf certificate (OpenID4VP 1.0 §5.9.3).
    #[error("client_id `{client_id}` does not match the leaf certificate hash `{leaf_hash}`")]
    HashMismatch {
        /// The client identifier.
        client_id: String,
        /// The leaf's base64url SHA-256.
        leaf_hash: String,
    },
    /// `x509_san_dns:` names a DNS name the leaf's SANs lack (§5.9.3), or
    /// an issuer's host is not among them.
    #[error("`{0}` is not a dNSName SAN of the leaf certificate")]
    NameMismatch(String),
}

impl X509Error {
    fn from_webpki(error: &webpki::Error) -> Self {
        use webpki::Error as E;
        match error {
            E::UnknownIssuer => Self::UnknownIssuer,
            E::CertExpired { .. } => Self::Expired,
            E::CertNotValidYet { .. } => Self::NotYetValid,
            E::InvalidSignatureForPublicKey => Self::BadSignature,
            E::UnsupportedSignatureAlgorithmContext(_)
            | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
                Self::UnsupportedSignatureAlgorithm
            }
            other => Self::InvalidPath(format!("{other:?}")),
        }
    }
}

/// One DER-encoded X.509 certificate that webpki could parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    der: Vec<u8>,
}

impl Certificate {
    /// Checks that `der` parses as a certificate.
    pub fn from_der(der: Vec<u8>, index: usize) -> Result<Self, X509Error> {
        let borrowed = CertificateDer::from(der.as_slice());
        EndEntityCert::try_from(&borrowed).map_err(|e| X509Error::Malformed {
            index,
            reason: format!("{e:?}"),
        })?;
        Ok(Self { der })
    }

    /// Every `CERTIFICATE` section of a PEM text, in order.
    pub fn from_pem(pem: &str) -> Result<Vec<Self>, X509Error> {
        let certificates = CertificateDer::pem_slice_iter(pem.as_bytes())
            .enumerate()
            .map(|(index, der)| {
                let der = der.map_err(|e| X509Error::Pem(format!("section {index}: {e:?}")))?;
                Self::from_der(der.to_vec(), index)
            })
            .collect::<Result<Vec<_>, _>>()?;
        if certificates.is_empty() {
            return Err(X509Error::Pem("no CERTIFICATE section".into()));
        }
        Ok(certificates)
    }

    /// The DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The `x5c` entry: standard base64 of the DER.
    pub fn to_x5c(&self) -> String {
        STANDARD.encode(&self.der)
    }

    /// The PEM text.
    pub fn to_pem(&self) -> String {
        let body = STANDARD.encode(&self.der);
        let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
        for line in body.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
        pem
    }

    /// The base64url SHA-256 of the DER: the value of an `x509_hash:`
    /// client identifier (OpenID4VP 1.0 §5.9.3).
    pub fn x509_hash(&self) -> String {
        x509_hash_of(&self.der)
    }

    /// The certificate's public key, unvalidated (for checking that a
    /// configured private key matches its own certificate).
    pub fn public_key(&self) -> Result<VerifyingKey, X509Error> {
        let der = CertificateDer::from(self.der.as_slice());
        let parsed = EndEntityCert::try_from(&der).map_err(|e| X509Error::Malformed {
            index: 0,
            reason: format!("{e:?}"),
        })?;
        key_from_spki(parsed.subject_public_key_info().as_ref()).ok_or(X509Error::UnsupportedKey)
    }

    /// The subject's organization (O), unvalidated: for an issuer, the
    /// name a trust list gives it.
    pub fn organization(&self) -> Option<String> {
        super::der::organization(&self.der)
    }

    /// The subject's common name (CN), unvalidated.
    pub fn common_name(&self) -> Option<String> {
        super::der::common_name(&self.der)
    }

    /// notBefore and notAfter in seconds since the epoch, unvalidated.
    pub fn validity(&self) -> Option<(i64, i64)> {
        super::der::validity(&self.der)
    }

    /// The certificate's `dNSName` SANs, unvalidated.
    pub fn dns_names(&self) -> Vec<String> {
        let der = CertificateDer::from(self.der.as_slice());
        EndEntityCert::try_from(&der)
            .map(|parsed| parsed.valid_dns_names().map(str::to_owned).collect())
            .unwrap_or_default()
    }
}

/// Root certificates a chain must lead to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustAnchors {
    roots: Vec<Certificate>,
}

impl TrustAnchors {
    /// Anchors from root certificates; each must be usable as a trust anchor.
    pub fn new(roots: Vec<Certificate>) -> Result<Self, X509Error> {
        for (index, root) in roots.iter().enumerate() {
            let der = CertificateDer::from(root.der());
            webpki::anchor_from_trusted_cert(&der).map_err(|e| X509Error::Malformed {
                index,
                reason: format!("{e:?}"),
            })?;
        }
        Ok(Self { roots })
    }

    /// Anchors from a PEM text of one or more certificates.
    pub fn from_pem(pem: &str) -> Result<Self, X509Error> {
        Self::new(Certificate::from_pem(pem)?)
    }

    /// The root certificates.
    pub fn roots(&self) -> &[Certificate] {
        &self.roots
    }

    /// Whether there is no root.
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }
}

/// A certificate chain as sent in `x5c`: leaf first, then intermediates
/// (a root, if sent, is ignored by path building unless it is configured).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateChain {
    certificates: Vec<Certificate>,
}

impl CertificateChain {
    /// Parses an `x5c` header value: 1 to [`MAX_CHAIN_LENGTH`] standard
    /// base64 DER certificates.
    pub fn from_x5c(x5c: &[String]) -> Result<Self, X509Error> {
        if x5c.is_empty() {
            return Err(X509Error::EmptyChain);
        }
        if x5c.len() > MAX_CHAIN_LENGTH {
            return Err(X509Error::ChainTooLong(x5c.len()));
        }
        let certificates = x5c
            .iter()
            .enumerate()
            .map(|(index, entry)| {
                let der = STANDARD
                    .decode(entry)
                    .map_err(|_| X509Error::Base64(index))?;
                Certificate::from_der(der, index)
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { certificates })
    }

    /// A chain of already parsed certificates, leaf first.
    pub fn new(certificates: Vec<Certificate>) -> Result<Self, X509Error> {
        match certificates.len() {
            0 => Err(X509Error::EmptyChain),
            n if n > MAX_CHAIN_LENGTH => Err(X509Error::ChainTooLong(n)),
            _ => Ok(Self { certificates }),
        }
    }

    /// The leaf certificate.
    pub fn leaf(&self) -> &Certificate {
        // Invariant: both constructors refuse an empty chain.
        &self.certificates[0]
    }

    /// The chain as an `x5c` header value.
    pub fn to_x5c(&self) -> Vec<String> {
        self.certificates.iter().map(Certificate::to_x5c).collect()
    }

    /// Validates the path from the leaf to one of `anchors` at `now`
    /// (seconds since the epoch) and reads the leaf.
    pub fn validate(&self, anchors: &TrustAnchors, now: i64) -> Result<ValidatedLeaf, X509Error> {
        if anchors.is_empty() {
            return Err(X509Error::NoTrustAnchors);
        }
        let root_ders: Vec<CertificateDer<'_>> = anchors
            .roots
            .iter()
            .map(|root| CertificateDer::from(root.der()))
            .collect();
        let roots = root_ders
            .iter()
            .enumerate()
            .map(|(index, der)| {
                webpki::anchor_from_trusted_cert(der).map_err(|e| X509Error::Malformed {
                    index,
                    reason: format!("{e:?}"),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let leaf_der = CertificateDer::from(self.leaf().der());
        let leaf = EndEntityCert::try_from(&leaf_der).map_err(|e| X509Error::Malformed {
            index: 0,
            reason: format!("{e:?}"),
        })?;
        let intermediates: Vec<CertificateDer<'_>> = self.certificates[1..]
            .iter()
            .map(|c| CertificateDer::from(c.der()))
            .collect();
        let time = UnixTime::since_unix_epoch(std::time::Duration::from_secs(
            u64::try_from(now).unwrap_or(0),
        ));
        leaf.verify_for_usage(
            CERTIFICATE_ALGORITHMS,
            &roots,
            &intermediates,
            time,
            AnyExtendedKeyUsage,
            None,
            None,
        )
        .map_err(|e| X509Error::from_webpki(&e))?;
        let spki = leaf.subject_public_key_info();
        let key = key_from_spki(spki.as_ref()).ok_or(X509Error::UnsupportedKey)?;
        let dns_names = leaf.valid_dns_names().map(str::to_owned).collect();
        let uri_names = leaf.valid_uri_names().map(str::to_owned).collect();
        Ok(ValidatedLeaf {
            key,
            dns_names,
            uri_names,
            self_issued: leaf.issuer() == leaf.subject(),
            der: self.leaf().der().to_vec(),
        })
    }
}

impl CertificateChain {
    /// [`Self::validate`] with HAIP 1.0's rules for attestations (§4.3.1,
    /// §4.5.1): the leaf is not self-signed and no certificate of `x5c` is
    /// one of the trust anchors.
    pub fn validate_haip(
        &self,
        anchors: &TrustAnchors,
        now: i64,
    ) -> Result<ValidatedLeaf, X509Error> {
        if let Some(index) = self
            .certificates
            .iter()
            .position(|cert| anchors.roots.iter().any(|root| root.der() == cert.der()))
        {
            return Err(X509Error::RootInChain(index));
        }
        let leaf = self.validate(anchors, now)?;
        if leaf.self_issued {
            return Err(X509Error::SelfSignedLeaf);
        }
        Ok(leaf)
    }
}

/// Accepts any (or no) extended key usage.
struct AnyExtendedKeyUsage;

impl ExtendedKeyUsageValidator for AnyExtendedKeyUsage {
    fn validate(&self, iter: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        // A malformed EKU extension is still refused.
        for purpose in iter {
            purpose?;
        }
        Ok(())
    }
}

/// The leaf of a chain that [`CertificateChain::validate`] accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedLeaf {
    /// The leaf's public key.
    pub key: VerifyingKey,
    /// Its `dNSName` subject alternative names.
    pub dns_names: Vec<String>,
    /// Its `uniformResourceIdentifier` subject alternative names.
    pub uri_names: Vec<String>,
    /// Whether the leaf's issuer name is its own subject name.
    pub self_issued: bool,
    der: Vec<u8>,
}

impl ValidatedLeaf {
    /// The leaf's DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The base64url SHA-256 of the leaf.
    pub fn x509_hash(&self) -> String {
        x509_hash_of(&self.der)
    }

    /// The `x509_hash:` client identifier of this leaf.
    pub fn client_id(&self) -> ClientId {
        ClientId::x509_hash(&self.der)
    }

    /// Checks that this leaf authenticates `client_id` (OpenID4VP 1.0
    /// §5.9.3): its hash for `x509_hash:`, one of its `dNSName` SANs for
    /// `x509_san_dns:`.
    pub fn authenticates(&self, client_id: &ClientId) -> Result<(), X509Error> {
        match client_id.prefix() {
            ClientIdPrefix::X509Hash if client_id.original() == self.x509_hash() => Ok(()),
            ClientIdPrefix::X509Hash => Err(X509Error::HashMismatch {
                client_id: client_id.to_string(),
                leaf_hash: self.x509_hash(),
            }),
            ClientIdPrefix::X509SanDns => self.has_dns_name(client_id.original()),
            other => Err(X509Error::NotX509ClientId(other)),
        }
    }

    /// Checks that `name` is one of the leaf's `dNSName` SANs (ASCII case
    /// does not matter).
    pub fn has_dns_name(&self, name: &str) -> Result<(), X509Error> {
        if self.dns_names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            return Ok(());
        }
        Err(X509Error::NameMismatch(name.to_owned()))
    }
}

/// The public key of a DER `SubjectPublicKeyInfo`, if P-256 (uncompressed)
/// or Ed25519.
pub fn key_from_spki(spki: &[u8]) -> Option<VerifyingKey> {
    if let Some(point) = spki.strip_prefix(&P256_SPKI_PREFIX[..]) {
        return P256Key::from_point(point).ok().map(VerifyingKey::P256);
    }
    let key = spki.strip_prefix(&ED25519_SPKI_PREFIX[..])?;
    (key.len() == 32).then(|| VerifyingKey::Ed25519(key.to_vec()))
}

/// The DER `SubjectPublicKeyInfo` of a key, for certificate requests and
/// generators.
pub fn spki_der(key: &VerifyingKey) -> Vec<u8> {
    let (prefix, key): (&[u8], &[u8]) = match key {
        VerifyingKey::P256(point) => (&P256_SPKI_PREFIX, point.point()),
        VerifyingKey::Ed25519(key) => (&ED25519_SPKI_PREFIX, key),
    };
    [prefix, key].concat()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::SigningKey;

    #[test]
    fn spki_round_trips() {
        let key = SigningKey::generate().unwrap();
        let public = VerifyingKey::from_jwk(&key.public_jwk()).unwrap();
        assert_eq!(key_from_spki(&spki_der(&public)), Some(public));
        let ed = VerifyingKey::Ed25519(vec![7; 32]);
        assert_eq!(key_from_spki(&spki_der(&ed)), Some(ed));
        assert_eq!(key_from_spki(&[0x30, 0x00]), None);
    }

    #[test]
    fn x5c_shape_errors() {
        assert_eq!(
            CertificateChain::from_x5c(&[]).unwrap_err(),
            X509Error::EmptyChain
        );
        assert_eq!(
            CertificateChain::from_x5c(&vec!["AA==".to_owned(); 9]).unwrap_err(),
            X509Error::ChainTooLong(9)
        );
        assert_eq!(
            CertificateChain::from_x5c(&["not base64!".to_owned()]).unwrap_err(),
            X509Error::Base64(0)
        );
        assert!(matches!(
            CertificateChain::from_x5c(&["AAAA".to_owned()]).unwrap_err(),
            X509Error::Malformed { index: 0, .. }
        ));
        assert!(matches!(
            Certificate::from_pem("nothing here").unwrap_err(),
            X509Error::Pem(_)
        ));
    }
}
