//! Making certificates (RFC 5280 profiles of our own): a local
//! certificate authority and the leaf certificates it issues for P-256 keys.
//!
//! Development and test deployments have no national PKI to ask, so each
//! role makes its own: the verifier its access certificate CA, the issuer
//! its credential signing CA (subject O = the issuer's name, as a trust
//! list's `TEName` gives it), a development PID provider, a trust list
//! scheme operator. They all go through [`LocalCa`], one way to make a CA
//! and its leaves. Nothing here reads or writes files: the caller keeps the
//! PEM and the keys it wants to keep.
//!
//! Certificates are made with `rcgen` on aws-lc-rs (already in the tree).
//! A CA's private key stays in the [`LocalCa`] value; leaves certify a key
//! the caller holds (a [`crate::jose::Signer`], in memory or not).

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    PublicKeyData, SanType,
};

use super::x509::{Certificate, X509Error, spki_der};
use crate::jose::VerifyingKey;

/// Why a certificate could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// `rcgen` refused the parameters or failed to sign.
    #[error("making a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// The certified key is not P-256 (the only key we sign JWS with).
    #[error("only P-256 keys are certified")]
    UnsupportedKey,
    /// A validity time is outside what X.509 can encode.
    #[error("validity time {0} cannot be encoded")]
    Time(i64),
    /// The certificate made does not parse back (a bug in the parameters).
    #[error("the certificate made does not parse: {0}")]
    Parse(#[from] X509Error),
}

/// The arcs of organizationIdentifier (2.5.4.97).
const ORGANIZATION_IDENTIFIER: [u64; 4] = [2, 5, 4, 97];

/// A subject distinguished name: common name, and optionally organization
/// and country.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    /// CN.
    pub common_name: String,
    /// O: for an issuer, its legal name (as a trust list's `TEName`).
    pub organization: Option<String>,
    /// C: ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// organizationIdentifier (2.5.4.97, ETSI EN 319 412-1), e.g.
    /// `VATSE-5560000000`: what a relying party's registration
    /// certificate (ETSI TS 119 475) is bound to.
    pub organization_identifier: Option<String>,
}

impl Subject {
    /// A subject with only a common name.
    pub fn new(common_name: impl Into<String>) -> Self {
        Self {
            common_name: common_name.into(),
            ..Self::default()
        }
    }

    /// Sets O.
    pub fn organization(mut self, organization: impl Into<String>) -> Self {
        self.organization = Some(organization.into());
        self
    }

    /// Sets organizationIdentifier.
    pub fn organization_identifier(mut self, identifier: impl Into<String>) -> Self {
        self.organization_identifier = Some(identifier.into());
        self
    }

    fn apply(&self, params: &mut CertificateParams) {
        params.distinguished_name = rcgen::DistinguishedName::new();
        if let Some(country) = &self.country {
            params
                .distinguished_name
                .push(DnType::CountryName, country.as_str());
        }
        if let Some(organization) = &self.organization {
            params
                .distinguished_name
                .push(DnType::OrganizationName, organization.as_str());
        }
        if let Some(identifier) = &self.organization_identifier {
            params.distinguished_name.push(
                DnType::CustomDnType(ORGANIZATION_IDENTIFIER.to_vec()),
                rcgen::DnValue::Utf8String(identifier.clone()),
            );
        }
        params
            .distinguished_name
            .push(DnType::CommonName, self.common_name.as_str());
    }
}

/// What a leaf certificate says besides its key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeafProfile {
    /// The subject.
    pub subject: Subject,
    /// `dNSName` SANs.
    pub dns_names: Vec<String>,
    /// `iPAddress` SANs.
    pub ip_addresses: Vec<std::net::IpAddr>,
    /// `uniformResourceIdentifier` SANs (an issuer's `iss`).
    pub uris: Vec<String>,
    /// notBefore, seconds since the epoch; unset: 1975.
    pub not_before: Option<i64>,
    /// notAfter, seconds since the epoch; unset: 4096.
    pub not_after: Option<i64>,
}

/// A certificate authority whose key lives in memory: a self-signed root
/// that issues end-entity certificates directly (path length 0).
pub struct LocalCa {
    issuer: Issuer<'static, KeyPair>,
    certificate: Certificate,
}

impl std::fmt::Debug for LocalCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the private key.
        f.debug_struct("LocalCa")
            .field("certificate", &self.certificate.to_x5c())
            .finish()
    }
}

impl LocalCa {
    /// A fresh P-256 root named `subject`.
    pub fn generate(subject: &Subject) -> Result<Self, PkiError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        subject.apply(&mut params);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let certificate = params.self_signed(&key)?;
        let certificate = Certificate::from_der(certificate.der().to_vec(), 0)?;
        Ok(Self {
            issuer: Issuer::new(params, key),
            certificate,
        })
    }

    /// The root certificate (a trust anchor; never sent in `x5c`).
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// Issues a signing certificate for `key` (P-256) with `profile`.
    pub fn issue(
        &self,
        key: &VerifyingKey,
        profile: &LeafProfile,
    ) -> Result<Certificate, PkiError> {
        let VerifyingKey::P256(_) = key else {
            return Err(PkiError::UnsupportedKey);
        };
        let mut params = CertificateParams::new(profile.dns_names.clone())?;
        for ip in &profile.ip_addresses {
            params.subject_alt_names.push(SanType::IpAddress(*ip));
        }
        for uri in &profile.uris {
            params
                .subject_alt_names
                .push(SanType::URI(uri.as_str().try_into()?));
        }
        profile.subject.apply(&mut params);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        if let Some(at) = profile.not_before {
            params.not_before = datetime(at)?;
        }
        if let Some(at) = profile.not_after {
            params.not_after = datetime(at)?;
        }
        params.use_authority_key_identifier_extension = true;
        let spki = spki_der(key);
        let leaf = params.signed_by(&P256Spki(spki), &self.issuer)?;
        Ok(Certificate::from_der(leaf.der().to_vec(), 0)?)
    }
}

fn datetime(at: i64) -> Result<time::OffsetDateTime, PkiError> {
    time::OffsetDateTime::from_unix_timestamp(at).map_err(|_| PkiError::Time(at))
}

/// A P-256 public key as rcgen wants it: the DER `SubjectPublicKeyInfo`
/// minus its algorithm prefix is what `der_bytes` returns (the point).
struct P256Spki(Vec<u8>);

impl PublicKeyData for P256Spki {
    fn der_bytes(&self) -> &[u8] {
        // rcgen wraps these bytes in a BIT STRING after the algorithm
        // identifier: the uncompressed point, the tail of our SPKI.
        &self.0[self.0.len() - 65..]
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::SigningKey;
    use crate::trust::{CertificateChain, TrustAnchors};

    #[test]
    fn a_leaf_chains_to_its_ca_and_names_its_subject() {
        let ca = LocalCa::generate(&Subject::new("Test CA").organization("Testverket")).unwrap();
        let key = SigningKey::generate().unwrap();
        let public = VerifyingKey::from_jwk(&key.public_jwk()).unwrap();
        let leaf = ca
            .issue(
                &public,
                &LeafProfile {
                    subject: Subject::new("signer").organization("Testverket"),
                    dns_names: vec!["issuer.example".into()],
                    uris: vec!["https://issuer.example".into()],
                    ..LeafProfile::default()
                },
            )
            .unwrap();
        assert_eq!(leaf.public_key().unwrap(), public);
        let anchors = TrustAnchors::new(vec![ca.certificate().clone()]).unwrap();
        let validated = CertificateChain::new(vec![leaf])
            .unwrap()
            .validate_haip(&anchors, 1_800_000_000)
            .unwrap();
        assert_eq!(validated.uri_names, vec!["https://issuer.example"]);
        assert!(validated.has_dns_name("issuer.example").is_ok());
        assert_eq!(
            ca.certificate().organization().as_deref(),
            Some("Testverket")
        );
    }

    #[test]
    fn validity_window_is_kept() {
        let ca = LocalCa::generate(&Subject::new("Test CA")).unwrap();
        let key = SigningKey::generate().unwrap();
        let public = VerifyingKey::from_jwk(&key.public_jwk()).unwrap();
        let leaf = ca
            .issue(
                &public,
                &LeafProfile {
                    subject: Subject::new("short"),
                    not_before: Some(1_700_000_000),
                    not_after: Some(1_700_100_000),
                    ..LeafProfile::default()
                },
            )
            .unwrap();
        let anchors = TrustAnchors::new(vec![ca.certificate().clone()]).unwrap();
        let chain = CertificateChain::new(vec![leaf]).unwrap();
        assert!(chain.validate(&anchors, 1_700_050_000).is_ok());
        assert_eq!(
            chain.validate(&anchors, 1_700_200_000).unwrap_err(),
            X509Error::Expired
        );
    }
}
