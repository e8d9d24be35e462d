//! Fixtures shared by the fuzz targets: fixed keys (RFC 7518 Appendix C),
//! a local PKI built once per process, and signing of fuzzed payloads so
//! that a target reaches the code behind a signature check.

use std::sync::OnceLock;

use intyg_core::jose::{Algorithm, Header, Jwk, SigningKey, VerifyingKey, sign_compact};
use intyg_core::trust::pki::{LeafProfile, LocalCa, Subject};
use intyg_core::trust::{Certificate, CertificateChain, TrustAnchors};

/// The clock every target runs at (2023-11-14).
pub const NOW: i64 = 1_700_000_000;

/// The DNS name in the PKI's leaf certificate.
pub const LEAF_DNS: &str = "verifier.example";

/// RFC 7518 Appendix C, Alice's ephemeral key: the targets' signing key.
const SIGNING_JWK: &str = r#"{"kty":"EC","crv":"P-256","x":"gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0","y":"SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps","d":"0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo"}"#;

/// RFC 7518 Appendix C, Bob's static key: the targets' decryption key.
const ENCRYPTION_JWK: &str = r#"{"kty":"EC","crv":"P-256","x":"weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ","y":"e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck","d":"VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw"}"#;

/// Keys and certificates, made once per process.
pub struct Fixtures {
    /// The fixed signing key.
    pub key: SigningKey,
    /// Its public JWK.
    pub public: Jwk,
    /// Its verifying key.
    pub verifying: VerifyingKey,
    /// The fixed decryption key (private JWK).
    pub decryption: Jwk,
    /// Its public half.
    pub encryption: Jwk,
    /// The local root, as trust anchors.
    pub anchors: TrustAnchors,
    /// The root certificate.
    pub root: Certificate,
    /// A leaf for [`Fixtures::key`] issued by the root (dNSName
    /// [`LEAF_DNS`], organizationIdentifier `NTRSE-5560000001`).
    pub chain: CertificateChain,
}

/// The fixtures of this process.
pub fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let jwk: Jwk = serde_json::from_str(SIGNING_JWK).expect("a fixed JWK");
        let key = SigningKey::from_jwk(&jwk).expect("a fixed P-256 key");
        let decryption: Jwk = serde_json::from_str(ENCRYPTION_JWK).expect("a fixed JWK");
        let public = key.public_jwk();
        let verifying = VerifyingKey::from_jwk(&public).expect("a P-256 public key");
        let ca =
            LocalCa::generate(&Subject::new("Fuzz CA").organization("Fuzz")).expect("a local CA");
        let leaf = ca
            .issue(
                &verifying,
                &LeafProfile {
                    subject: Subject::new("Fuzz leaf")
                        .organization("Fuzz")
                        .organization_identifier("NTRSE-5560000001"),
                    dns_names: vec![LEAF_DNS.to_owned()],
                    uris: vec!["https://issuer.example".to_owned()],
                    ..LeafProfile::default()
                },
            )
            .expect("a leaf certificate");
        let root = ca.certificate().clone();
        Fixtures {
            anchors: TrustAnchors::new(vec![root.clone()]).expect("one root"),
            root,
            chain: CertificateChain::new(vec![leaf]).expect("a one-certificate chain"),
            encryption: decryption.to_public(),
            decryption,
            public,
            verifying,
            key,
        }
    })
}

/// Signs `payload` with the fixed key under `typ`, with the leaf chain in
/// `x5c` when `x5c` is set.
pub fn sign(typ: Option<&str>, payload: &[u8], x5c: bool) -> String {
    let f = fixtures();
    let mut header = Header::new(Algorithm::ES256);
    header.typ = typ.map(str::to_owned);
    if x5c {
        header.x5c = Some(f.chain.to_x5c());
    }
    sign_compact(&header, payload, &f.key).expect("signing with the fixed key")
}

/// Signs `payload` with the fixed key under `header` (its `alg` is set to ES256).
pub fn sign_with(mut header: Header, payload: &[u8]) -> String {
    header.alg = Algorithm::ES256;
    sign_compact(&header, payload, &fixtures().key).expect("signing with the fixed key")
}

/// The input as UTF-8 text, if it is.
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}
