//! The wallet's trusted verifier roots, and the one place a Verifier's
//! signed Request Object is authenticated: [`authenticate`] (x5c chain to
//! a trusted root, leaf authenticates the `client_id`, signature, and the
//! response URI's host among the leaf's DNS SANs), on `core::trust`.

use intyg_core::oid4vp::{AuthorizationRequest, ClientId};
use intyg_core::trust::{
    AuthenticatedRequest, Certificate, RequestAuthError, TrustAnchors, X509Error,
    authenticate_request_object,
};

use crate::crypto::CryptoError;
use crate::{StoreError, Wallet};

/// Why a verifier root could not be added or read.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The PEM or certificate is invalid.
    #[error("verifier root certificate: {0}")]
    Certificate(#[from] X509Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Ids could not be generated.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// Why a request was not authenticated.
#[derive(Debug, thiserror::Error)]
pub enum AuthenticationError {
    /// The chain, the client id binding, the signature or the request
    /// object was refused.
    #[error(transparent)]
    Request(#[from] RequestAuthError),
    /// The response goes to a host the certificate does not name.
    #[error("the response URI host `{0}` is not a DNS name of the verifier's certificate")]
    ResponseUriNotInCertificate(String),
    /// The request has no response URI.
    #[error("the request names no response_uri")]
    NoResponseUri,
}

/// Authenticates a signed Request Object: [`authenticate_request_object`]
/// (chain to `anchors`, `x509_hash:` / `x509_san_dns:` binding, signature
/// with the leaf key, claims), then the response destination's host
/// against the leaf's DNS SANs.
pub fn authenticate(
    jwt: &str,
    client_id: &ClientId,
    anchors: &TrustAnchors,
    wallet_nonce: Option<&str>,
    now: i64,
) -> Result<AuthenticatedRequest, AuthenticationError> {
    let authenticated = authenticate_request_object(jwt, client_id, anchors, wallet_nonce, now)?;
    let host =
        destination_host(&authenticated.request).ok_or(AuthenticationError::NoResponseUri)?;
    authenticated
        .leaf
        .has_dns_name(&host)
        .map_err(|_| AuthenticationError::ResponseUriNotInCertificate(host))?;
    Ok(authenticated)
}

fn destination_host(request: &AuthorizationRequest) -> Option<String> {
    let destination = request.response_destination()?;
    url::Url::parse(destination)
        .ok()?
        .host_str()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_owned())
}

impl Wallet {
    /// Adds every certificate of a PEM file to the trusted verifier roots;
    /// returns their `x509_hash` values.
    pub fn add_verifier_roots(&mut self, pem: &str) -> Result<Vec<String>, TrustError> {
        let certificates = Certificate::from_pem(pem)?;
        // Checks that each can serve as a trust anchor.
        TrustAnchors::new(certificates.clone())?;
        let mut added = Vec::new();
        for certificate in certificates {
            let id = certificate.x509_hash();
            self.store
                .add_trust_root(&self.key, &id, certificate.der())?;
            added.push(id);
        }
        Ok(added)
    }

    /// The trusted verifier roots.
    pub fn verifier_roots(&self) -> Result<Vec<Certificate>, TrustError> {
        self.store
            .trust_roots(&self.key)?
            .into_iter()
            .enumerate()
            .map(|(index, der)| Certificate::from_der(der, index).map_err(TrustError::from))
            .collect()
    }

    /// What a signed request (or a verifier's signed answer) may chain
    /// to: the configured roots and the access CAs of the trust lists in
    /// force.
    pub fn verifier_anchors(&self) -> Result<Vec<Certificate>, TrustError> {
        let mut anchors = self.verifier_roots()?;
        anchors.extend(self.listed_access_cas()?);
        Ok(anchors)
    }
}
