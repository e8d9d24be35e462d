//! Signing and verifying keys, JWK import and export (RFC 7517, RFC 7518
//! §6.2, RFC 8037 §2) and JWK thumbprints (RFC 7638).

use aws_lc_rs::digest::Digest;
use aws_lc_rs::encoding::AsBigEndian as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _,
    ParsedPublicKey, UnparsedPublicKey,
};
use ssi_jwk::{Base64urlUInt, ECParams, Params};

use super::{Algorithm, JoseError, Jwk};

/// A P-256 private key that signs ES256.
pub struct SigningKey {
    pair: EcdsaKeyPair,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the private scalar.
        f.debug_struct("SigningKey")
            .field("public", &self.public_jwk())
            .finish()
    }
}

impl SigningKey {
    /// Generates a fresh P-256 key from the system's secure random source.
    pub fn generate() -> Result<Self, JoseError> {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .map_err(|_| JoseError::Signing)?;
        Ok(Self { pair })
    }

    /// Imports a private EC P-256 JWK (`kty: EC`, `crv: P-256`, `x`, `y`, `d`).
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, JoseError> {
        let Params::EC(ec) = &jwk.params else {
            return Err(JoseError::KeyMismatch("ES256"));
        };
        let point = p256_point(ec)?;
        let d = ec
            .ecc_private_key
            .as_ref()
            .ok_or(JoseError::InvalidKey("private JWK lacks `d`"))?;
        if d.0.len() != 32 {
            return Err(JoseError::InvalidKey("`d` must be 32 bytes"));
        }
        let pair = EcdsaKeyPair::from_private_key_and_public_key(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &d.0,
            &point,
        )
        .map_err(|_| JoseError::InvalidKey("`d` does not match `x` and `y`"))?;
        Ok(Self { pair })
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        Algorithm::ES256
    }

    /// The public half as a JWK (`kty`, `crv`, `x`, `y` only).
    pub fn public_jwk(&self) -> Jwk {
        let point = self.pair.public_key().as_ref();
        // An uncompressed P-256 point is 0x04 || x (32 bytes) || y (32 bytes).
        Jwk::from(Params::EC(ECParams {
            curve: Some("P-256".to_owned()),
            x_coordinate: Some(Base64urlUInt(point[1..33].to_vec())),
            y_coordinate: Some(Base64urlUInt(point[33..65].to_vec())),
            ecc_private_key: None,
        }))
    }

    /// The private key as a JWK, for storage by its owner.
    pub fn to_private_jwk(&self) -> Result<Jwk, JoseError> {
        let mut jwk = self.public_jwk();
        let d = self
            .pair
            .private_key()
            .as_be_bytes()
            .map_err(|_| JoseError::InvalidKey("private key cannot be exported"))?;
        if let Params::EC(ec) = &mut jwk.params {
            ec.ecc_private_key = Some(Base64urlUInt(d.as_ref().to_vec()));
        }
        Ok(jwk)
    }
}

/// Whatever signs JWS: a key in memory ([`SigningKey`]) or one held
/// elsewhere (a PKCS#11 token, a remote signing service) that the caller
/// wraps. Every signing function of this crate takes a `Signer`, so a key
/// outside memory plugs in without a second code path.
pub trait Signer: Send + Sync {
    /// The algorithm this signer signs with (the JWS `alg`).
    fn algorithm(&self) -> Algorithm;

    /// Signs `message` (a JWS signing input) and returns the JWS signature:
    /// for ES256 the 64-byte `r || s` of RFC 7518 §3.4.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError>;

    /// The public half as a JWK (`kty`, `crv`, `x`, `y`).
    fn public_jwk(&self) -> Jwk;
}

impl Signer for SigningKey {
    fn algorithm(&self) -> Algorithm {
        Algorithm::ES256
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        let signature = self
            .pair
            .sign(&SystemRandom::new(), message)
            .map_err(|_| JoseError::Signing)?;
        Ok(signature.as_ref().to_vec())
    }

    fn public_jwk(&self) -> Jwk {
        SigningKey::public_jwk(self)
    }
}

/// A shared signer signs as what it shares (a service keeps its key as
/// `Arc<dyn Signer>`: in memory or in a PKCS#11 token).
impl<S: Signer + ?Sized> Signer for std::sync::Arc<S> {
    fn algorithm(&self) -> Algorithm {
        (**self).algorithm()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        (**self).sign(message)
    }

    fn public_jwk(&self) -> Jwk {
        (**self).public_jwk()
    }
}

/// A P-256 public key: an uncompressed SEC1 point (`0x04 || x || y`),
/// checked to lie on the curve and parsed for aws-lc once, when it is made.
/// Each verification with it then costs only the verification, so a key
/// kept (an issuer's, a trust list's) is not parsed again per signature.
#[derive(Clone)]
pub struct P256Key(ParsedPublicKey);

impl P256Key {
    /// Reads an uncompressed point; anything else, or a point off the
    /// curve, is refused.
    pub fn from_point(point: &[u8]) -> Result<Self, JoseError> {
        if point.len() != 65 || point[0] != 0x04 {
            return Err(JoseError::InvalidKey(
                "a P-256 key must be an uncompressed point",
            ));
        }
        ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
            .map(Self)
            .map_err(|_| JoseError::InvalidKey("the point is not on P-256"))
    }

    /// The uncompressed point, 65 bytes.
    pub fn point(&self) -> &[u8] {
        self.0.as_ref()
    }
}

impl std::ops::Deref for P256Key {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.point()
    }
}

impl AsRef<[u8]> for P256Key {
    fn as_ref(&self) -> &[u8] {
        self.point()
    }
}

impl PartialEq for P256Key {
    fn eq(&self, other: &Self) -> bool {
        self.point() == other.point()
    }
}

impl Eq for P256Key {}

impl std::fmt::Debug for P256Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("P256Key")
            .field(&super::b64url_encode(self.point()))
            .finish()
    }
}

/// A public key that verifies one of our algorithms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyingKey {
    /// A P-256 key, for ES256.
    P256(P256Key),
    /// An Ed25519 public key, for EdDSA.
    Ed25519(Vec<u8>),
}

impl VerifyingKey {
    /// Reads the public part of a JWK. Private members, if present, are ignored.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, JoseError> {
        match &jwk.params {
            Params::EC(ec) => Ok(Self::P256(P256Key::from_point(&p256_point(ec)?)?)),
            Params::OKP(okp) if okp.curve == "Ed25519" => {
                if okp.public_key.0.len() != 32 {
                    return Err(JoseError::InvalidKey("Ed25519 `x` must be 32 bytes"));
                }
                Ok(Self::Ed25519(okp.public_key.0.clone()))
            }
            Params::OKP(_) => Err(JoseError::InvalidKey("OKP curve is not Ed25519")),
            Params::RSA(_) => Err(JoseError::InvalidKey("RSA keys are not accepted")),
            Params::Symmetric(_) => Err(JoseError::InvalidKey("symmetric keys are not accepted")),
        }
    }

    /// The public JWK (`kty: EC`, `crv: P-256`, `x`, `y`; or `kty: OKP`,
    /// `crv: Ed25519`, `x`), as [`VerifyingKey::from_jwk`] reads it.
    pub fn to_jwk(&self) -> Result<Jwk, JoseError> {
        match self {
            Self::P256(key) => Ok(Jwk::from(Params::EC(ECParams {
                curve: Some("P-256".to_owned()),
                x_coordinate: Some(Base64urlUInt(key[1..33].to_vec())),
                y_coordinate: Some(Base64urlUInt(key[33..65].to_vec())),
                ecc_private_key: None,
            }))),
            Self::Ed25519(key) => Ok(Jwk::from(Params::OKP(ssi_jwk::OctetParams {
                curve: "Ed25519".to_owned(),
                public_key: Base64urlUInt(key.clone()),
                private_key: None,
            }))),
        }
    }

    /// The algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Self::P256(_) => Algorithm::ES256,
            Self::Ed25519(_) => Algorithm::EdDSA,
        }
    }

    /// Verifies `signature` over `message` with algorithm `alg`.
    pub fn verify(
        &self,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), JoseError> {
        match (self, alg) {
            (Self::P256(key), Algorithm::ES256) => key.0.verify_sig(message, signature),
            (Self::Ed25519(key), Algorithm::EdDSA) => {
                UnparsedPublicKey::new(&signature::ED25519, key).verify(message, signature)
            }
            (_, alg) => return Err(JoseError::KeyMismatch(alg.as_str())),
        }
        .map_err(|_| JoseError::InvalidSignature)
    }

    /// Verifies an ES256 `signature` over the message whose SHA-256 is
    /// `digest`, for a caller that hashes the message anyway (the SD-JWT
    /// verifier hashes the issuer-signed JWT once for its signature and for
    /// `sd_hash`). Ed25519 signs messages, not digests: for that key, and
    /// for any other `alg`, this is a mismatch.
    pub fn verify_digest(
        &self,
        alg: Algorithm,
        digest: &Digest,
        signature: &[u8],
    ) -> Result<(), JoseError> {
        match (self, alg) {
            (Self::P256(key), Algorithm::ES256) => key
                .0
                .verify_digest_sig(digest, signature)
                .map_err(|_| JoseError::InvalidSignature),
            (_, alg) => Err(JoseError::KeyMismatch(alg.as_str())),
        }
    }
}

/// The RFC 7638 thumbprint of a JWK's public members, base64url-encoded
/// SHA-256.
pub fn thumbprint(jwk: &Jwk) -> Result<String, JoseError> {
    jwk.thumbprint()
        .map_err(|_| JoseError::InvalidKey("JWK lacks members required for a thumbprint"))
}

fn p256_point(ec: &ECParams) -> Result<Vec<u8>, JoseError> {
    if ec.curve.as_deref() != Some("P-256") {
        return Err(JoseError::KeyMismatch("ES256"));
    }
    let (Some(x), Some(y)) = (&ec.x_coordinate, &ec.y_coordinate) else {
        return Err(JoseError::InvalidKey("EC JWK lacks `x` or `y`"));
    };
    if x.0.len() != 32 || y.0.len() != 32 {
        return Err(JoseError::InvalidKey("P-256 coordinates must be 32 bytes"));
    }
    let mut point = Vec::with_capacity(65);
    point.push(0x04);
    point.extend_from_slice(&x.0);
    point.extend_from_slice(&y.0);
    Ok(point)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifying_key_to_jwk_round_trips() {
        let key = SigningKey::generate().unwrap();
        let public = VerifyingKey::from_jwk(&key.public_jwk()).unwrap();
        assert_eq!(public.to_jwk().unwrap(), key.public_jwk());
        let ed = VerifyingKey::Ed25519(vec![7; 32]);
        assert_eq!(VerifyingKey::from_jwk(&ed.to_jwk().unwrap()).unwrap(), ed);
        assert!(P256Key::from_point(&[4; 33]).is_err());
        // The right shape, but not a point on the curve.
        assert_eq!(
            P256Key::from_point(&[4; 65]).unwrap_err(),
            JoseError::InvalidKey("the point is not on P-256")
        );
    }

    #[test]
    fn private_jwk_round_trips_and_signs() {
        let key = SigningKey::generate().unwrap();
        let jwk = key.to_private_jwk().unwrap();
        let again = SigningKey::from_jwk(&jwk).unwrap();
        assert_eq!(again.public_jwk(), key.public_jwk());
        let sig = again.sign(b"input").unwrap();
        VerifyingKey::from_jwk(&key.public_jwk())
            .unwrap()
            .verify(Algorithm::ES256, b"input", &sig)
            .unwrap();
    }

    #[test]
    fn mismatched_private_scalar_is_rejected() {
        let a = SigningKey::generate().unwrap().to_private_jwk().unwrap();
        let mut b = SigningKey::generate().unwrap().to_private_jwk().unwrap();
        if let (Params::EC(a), Params::EC(b)) = (&a.params, &mut b.params) {
            b.ecc_private_key = a.ecc_private_key.clone();
        }
        assert_eq!(
            SigningKey::from_jwk(&b).unwrap_err(),
            JoseError::InvalidKey("`d` does not match `x` and `y`")
        );
    }

    #[test]
    fn public_jwk_without_d_cannot_sign() {
        let public = SigningKey::generate().unwrap().public_jwk();
        assert_eq!(
            SigningKey::from_jwk(&public).unwrap_err(),
            JoseError::InvalidKey("private JWK lacks `d`")
        );
    }

    #[test]
    fn rsa_and_symmetric_keys_do_not_verify() {
        let oct: Jwk = serde_json::from_str(r#"{"kty":"oct","k":"AAAA"}"#).unwrap();
        assert_eq!(
            VerifyingKey::from_jwk(&oct).unwrap_err(),
            JoseError::InvalidKey("symmetric keys are not accepted")
        );
    }
}
