//! A test wallet provider: a root CA and a leaf certificate made with
//! rcgen (HAIP 1.0: the leaf is not self-signed, the root is never sent in
//! `x5c`), minting wallet attestations and their PoPs
//! (draft-ietf-oauth-attestation-based-client-auth-07), key attestations
//! (OpenID4VCI 1.0 Appendix D) and DPoP proofs (RFC 9449), plus forged,
//! expired and untrusted variants; and a status list of its attestations
//! served on loopback.

use std::path::PathBuf;

use intyg_core::jose::{Algorithm, Header, SigningKey, VerifyingKey, sign_compact};
use intyg_core::oauth::client_attestation::{
    Audience, ClientAttestationClaims, ClientAttestationPopClaims, JwkConfirmation,
    create_attestation, create_pop,
};
use intyg_core::oauth::dpop::{ProofRequest, create_proof};
use intyg_core::oid4vci::key_attestation::{KeyAttestationClaims, create_key_attestation};
use intyg_core::status_list::{
    Bits, StatusClaim, StatusIndex, StatusList, StatusListClaim, StatusListReference,
    StatusListToken, StatusListTokenClaims, StatusType,
};
use intyg_core::trust::Certificate;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    PublicKeyData,
};
use serde_json::Map;

use crate::TempDir;

/// Seconds since the epoch.
fn now() -> i64 {
    intyg_issuer::now()
}

/// A wallet provider with a root CA and a signing leaf under it.
#[derive(Debug)]
pub struct WalletProvider {
    /// The root, as a wallet provider trust anchor.
    pub root: Certificate,
    /// The leaf's key, which signs attestations.
    pub key: SigningKey,
    /// `x5c`: the leaf only (the root is never sent).
    pub x5c: Vec<String>,
    /// The `iss` of its attestations.
    pub name: String,
    ca_params: CertificateParams,
    ca_key: KeyPair,
}

/// Our P-256 public key, for rcgen.
struct P256Public(Vec<u8>);

impl PublicKeyData for P256Public {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

impl WalletProvider {
    /// A provider whose root is called `name`.
    pub fn new(name: &str) -> Self {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca_params
            .distinguished_name
            .push(DnType::CommonName, format!("{name} root"));
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let root = ca_params.self_signed(&ca_key).unwrap();
        let root = Certificate::from_der(root.der().to_vec(), 0).unwrap();
        let key = SigningKey::generate().unwrap();
        let mut provider = Self {
            root,
            key,
            x5c: Vec::new(),
            name: format!(
                "https://{}.wallet-provider.test",
                name.to_lowercase().replace(' ', "-")
            ),
            ca_params,
            ca_key,
        };
        let leaf = provider.leaf_for(&provider.key.public_jwk(), &format!("{name} attester"));
        provider.x5c = vec![leaf.to_x5c()];
        provider
    }

    /// A certificate for `jwk` with subject `common_name`, issued by the root.
    fn leaf_for(&self, jwk: &intyg_core::jose::Jwk, common_name: &str) -> Certificate {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let VerifyingKey::P256(point) = VerifyingKey::from_jwk(jwk).unwrap() else {
            panic!("a P-256 key")
        };
        let issuer = Issuer::from_params(&self.ca_params, &self.ca_key);
        let cert = params
            .signed_by(&P256Public(point.to_vec()), &issuer)
            .unwrap();
        Certificate::from_der(cert.der().to_vec(), 0).unwrap()
    }

    /// An `x5c` whose leaf names itself as its issuer (subject = the root's
    /// name), signed by the root: valid as a path, refused by HAIP 1.0.
    pub fn self_issued_x5c(&self) -> Vec<String> {
        let name = self
            .ca_params
            .distinguished_name
            .get(&DnType::CommonName)
            .and_then(|v| match v {
                rcgen::DnValue::Utf8String(s) => Some(s.clone()),
                _ => None,
            })
            .unwrap();
        vec![self.leaf_for(&self.key.public_jwk(), &name).to_x5c()]
    }

    /// The `x5c` with the root appended, which HAIP 1.0 forbids.
    pub fn x5c_with_root(&self) -> Vec<String> {
        vec![self.x5c[0].clone(), self.root.to_x5c()]
    }

    /// Writes the root as PEM into `dir`, for `--wallet-provider-root`.
    pub fn write_root(&self, dir: &TempDir) -> PathBuf {
        let path = dir.path().join(format!("{}.pem", uuid::Uuid::new_v4()));
        std::fs::write(&path, self.root.to_pem()).unwrap();
        path
    }

    /// Attestation claims for `client_id` and its `instance` key, valid for
    /// an hour.
    pub fn attestation_claims(
        &self,
        client_id: &str,
        instance: &SigningKey,
    ) -> ClientAttestationClaims {
        ClientAttestationClaims {
            iss: self.name.clone(),
            sub: client_id.into(),
            exp: now() + 3600,
            iat: Some(now() - 5),
            nbf: None,
            cnf: JwkConfirmation {
                jwk: instance.public_jwk(),
            },
            status: None,
            extra: Map::new(),
        }
    }

    /// A wallet attestation for `client_id`, bound to `instance`.
    pub fn wallet_attestation(&self, client_id: &str, instance: &SigningKey) -> String {
        self.sign_attestation(&self.attestation_claims(client_id, instance))
    }

    /// A wallet attestation with these claims.
    pub fn sign_attestation(&self, claims: &ClientAttestationClaims) -> String {
        create_attestation(&self.key, self.x5c.clone(), claims).unwrap()
    }

    /// A wallet attestation with these claims and this `x5c`.
    pub fn sign_attestation_x5c(
        &self,
        claims: &ClientAttestationClaims,
        x5c: Vec<String>,
    ) -> String {
        create_attestation(&self.key, x5c, claims).unwrap()
    }

    /// An expired wallet attestation.
    pub fn expired_attestation(&self, client_id: &str, instance: &SigningKey) -> String {
        let mut claims = self.attestation_claims(client_id, instance);
        claims.iat = Some(now() - 7200);
        claims.exp = now() - 3600;
        self.sign_attestation(&claims)
    }

    /// A wallet attestation with the provider's certificate but signed by
    /// another key (forged).
    pub fn forged_attestation(&self, client_id: &str, instance: &SigningKey) -> String {
        let forger = SigningKey::generate().unwrap();
        create_attestation(
            &forger,
            self.x5c.clone(),
            &self.attestation_claims(client_id, instance),
        )
        .unwrap()
    }

    /// Key attestation claims for `keys`, high storage and user
    /// authentication, valid for an hour.
    pub fn key_attestation_claims(
        &self,
        keys: &[&SigningKey],
        nonce: Option<&str>,
    ) -> KeyAttestationClaims {
        KeyAttestationClaims {
            iss: Some(self.name.clone()),
            iat: now() - 5,
            exp: Some(now() + 3600),
            attested_keys: keys.iter().map(|k| k.public_jwk()).collect(),
            key_storage: Some(vec!["iso_18045_high".into()]),
            user_authentication: Some(vec!["iso_18045_high".into()]),
            certification: None,
            nonce: nonce.map(str::to_owned),
            status: None,
            extra: Map::new(),
        }
    }

    /// A key attestation of `keys`.
    pub fn key_attestation(&self, keys: &[&SigningKey], nonce: Option<&str>) -> String {
        self.sign_key_attestation(&self.key_attestation_claims(keys, nonce))
    }

    /// A key attestation with these claims.
    pub fn sign_key_attestation(&self, claims: &KeyAttestationClaims) -> String {
        create_key_attestation(&self.key, self.x5c.clone(), claims).unwrap()
    }

    /// A status list of this provider's attestations at `uri` where the
    /// entries `revoked` are invalid, signed with `x5c`.
    pub fn status_list(&self, uri: &str, revoked: &[u64]) -> String {
        let mut list = StatusList::new(Bits::One, 64);
        for index in revoked {
            list.set(StatusIndex::from(*index), StatusType::Invalid)
                .unwrap();
        }
        let claims = StatusListTokenClaims::new(uri, now() - 5, StatusListClaim::from(&list));
        // StatusListToken::sign takes no x5c; the issuer validates the
        // signer to the wallet provider roots, so sign the same claims here.
        let mut header = Header::new(Algorithm::ES256).typ(StatusListToken::TYP);
        header.x5c = Some(self.x5c.clone());
        sign_compact(&header, &serde_json::to_vec(&claims).unwrap(), &self.key).unwrap()
    }

    /// A `status` claim pointing at entry `index` of the list at `uri`.
    pub fn status_claim(uri: &str, index: u64) -> StatusClaim {
        StatusClaim::from(StatusListReference {
            idx: StatusIndex::from(index),
            uri: uri.into(),
        })
    }
}

/// A wallet instance: its key, the `client_id` its provider attested, and
/// DPoP proofs and PoPs made with its keys.
#[derive(Debug)]
pub struct WalletInstance {
    /// The `client_id` (the attestation's `sub`).
    pub client_id: String,
    /// The instance key (the attestation's `cnf.jwk`), which signs PoPs.
    pub instance_key: SigningKey,
    /// The DPoP key.
    pub dpop_key: SigningKey,
}

impl WalletInstance {
    /// A fresh instance with new keys.
    pub fn new(client_id: &str) -> Self {
        Self {
            client_id: client_id.into(),
            instance_key: SigningKey::generate().unwrap(),
            dpop_key: SigningKey::generate().unwrap(),
        }
    }

    /// A Client Attestation PoP for the issuer `aud`.
    pub fn pop(&self, aud: &str) -> String {
        create_pop(&self.instance_key, &self.pop_claims(aud)).unwrap()
    }

    /// PoP claims for `aud`, made now, with a fresh `jti`.
    pub fn pop_claims(&self, aud: &str) -> ClientAttestationPopClaims {
        ClientAttestationPopClaims {
            aud: Audience::One(aud.into()),
            jti: uuid::Uuid::new_v4().to_string(),
            iat: now(),
            iss: Some(self.client_id.clone()),
            exp: Some(now() + 60),
            challenge: None,
            nonce: None,
        }
    }

    /// A PoP with these claims.
    pub fn sign_pop(&self, claims: &ClientAttestationPopClaims) -> String {
        create_pop(&self.instance_key, claims).unwrap()
    }

    /// A DPoP proof for `POST uri`, with the server's `nonce` and the
    /// `access_token` it presents.
    pub fn dpop(&self, uri: &str, nonce: Option<&str>, access_token: Option<&str>) -> String {
        create_proof(
            &self.dpop_key,
            &ProofRequest {
                method: "POST",
                uri,
                iat: now(),
                nonce,
                access_token,
            },
        )
        .unwrap()
    }

    /// A `jwt` key proof (OpenID4VCI 1.0 Appendix F.1) by `key` for the
    /// issuer `aud` with `c_nonce`, carrying `key_attestation` in its header
    /// when given.
    pub fn key_proof(
        key: &SigningKey,
        aud: &str,
        c_nonce: &str,
        key_attestation: Option<&str>,
    ) -> String {
        let mut header = Header::new(Algorithm::ES256).typ("openid4vci-proof+jwt");
        header.jwk = Some(key.public_jwk());
        if let Some(attestation) = key_attestation {
            header
                .extra
                .insert("key_attestation".into(), attestation.into());
        }
        let claims = serde_json::json!({"aud": aud, "iat": now(), "nonce": c_nonce});
        sign_compact(&header, claims.to_string().as_bytes(), key).unwrap()
    }
}
