//! Receiving credentials — OpenID4VCI 1.0, pre-authorized code flow (§3.5)
//! with a transaction code, and the steps after `/token` that the
//! authorization code flow ([`crate::authorize`]) shares.
//!
//! <https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html>
//!
//! [`Wallet::fetch_offer`]: offer link (by value or `credential_offer_uri`)
//! → issuer metadata (§12.2) → authorization server metadata (RFC 8414).
//! [`Wallet::fetch_issuer`] does the same from an issuer URL alone, for
//! wallet-initiated issuance (§3.4).
//! [`Wallet::accept`]: `/token` with the code and PIN (§6) → `/nonce`
//! (§7) → one holder key per copy and a batch of `jwt` proofs (App. F) →
//! `/credential` (§8; by `credential_identifier` when the Token Response
//! named datasets, §6.2) → every credential verified (issuer key from
//! `/.well-known/jwt-vc-issuer` by `kid`, signature, `iss`, `vct`, `cnf`
//! = our key, status list entry valid) → type metadata fetched when the
//! `vct` resolves → stored with a history entry, in one transaction.
//! Nothing is stored unless every step succeeded.

use std::collections::BTreeMap;

use intyg_core::jose::{JoseError, Jwk, SigningKey, VerifyingKey};
use intyg_core::oauth::client_attestation;
use intyg_core::oid4vci::{
    AuthorizationCodeGrant, AuthorizationResponseError, AuthorizationServerMetadata, CNonce,
    CredentialConfiguration, CredentialConfigurationId, CredentialIdentifier,
    CredentialIssuerMetadata, CredentialOffer, CredentialOfferRequest, CredentialRequest,
    CredentialResponse, CredentialResponseError, Grants, IdError, MetadataError, NonceResponse,
    OfferError, PreAuthorizedCodeTokenRequest, TokenRequest, TokenResponse, TxCode, TxCodeError,
    TxCodeSpec, build_jwt_proof,
};
use intyg_core::sd_jwt::{SdJwt, SdJwtError, VerifyOptions};
use intyg_core::status_list::{DecodeLimits, StatusListToken, StatusType};
use intyg_core::vc::metadata::TypeMetadata;
use intyg_core::vc::{self, VcError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::crypto::{CryptoError, random_id};
use crate::dpop::{self, DpopSession, Role};
use crate::http::FetchError;
use crate::model::{
    ClaimLabel, CredentialCopy, CredentialEntry, CredentialStatus, Display, EventKind, EventResult,
    HistoryCredential, HistoryEntry, StatusCheck,
};
use crate::{StoreError, Wallet, now};

/// How many copies the wallet asks for when the issuer allows batches.
pub const MAX_BATCH: u64 = 3;

/// Why receiving failed. Nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    /// The offer link or offer is malformed, or does not fit the metadata.
    #[error("credential offer: {0}")]
    Offer(#[from] OfferError),
    /// A fetch was refused by policy or failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// Issuer or authorization server metadata is malformed or for
    /// another identifier.
    #[error("metadata: {0}")]
    Metadata(#[from] MetadataError),
    /// [`Wallet::accept`] was given an offer without a pre-authorized code
    /// grant: it needs the authorization code flow
    /// ([`Wallet::begin_authorization`]).
    #[error(
        "the offer has no pre-authorized code grant: receive it with the authorization code flow"
    )]
    NoPreAuthorizedGrant,
    /// The authorization server does not offer the authorization code flow
    /// as this wallet runs it (authorization endpoint, grant type, PKCE
    /// S256).
    #[error("the authorization server does not support the authorization code flow: {0}")]
    AuthorizationCodeUnsupported(&'static str),
    /// No credential configuration was chosen, or one the offer does not
    /// name.
    #[error("choose at least one credential configuration of the offer")]
    NoConfiguration,
    /// The redirect URI given to [`Wallet::begin_authorization`] is not an
    /// absolute URI without fragment.
    #[error("redirect URI `{0}` is not an absolute URI without a fragment")]
    InvalidRedirectUri(String),
    /// The Pushed Authorization Request was refused (RFC 9126 §2.3).
    #[error("pushed authorization request refused: {error}{}", describe(.description))]
    ParRefused {
        /// The OAuth error code.
        error: String,
        /// `error_description`.
        description: Option<String>,
    },
    /// The callback is not a redirect to the pending authorization's
    /// redirect URI.
    #[error("the callback `{0}` is not for this authorization's redirect URI")]
    CallbackMismatch(String),
    /// The callback is not an Authorization Response (RFC 6749 §4.1.2).
    #[error("authorization response: {0}")]
    InvalidCallback(#[from] AuthorizationResponseError),
    /// The callback's `state` is absent or not the one sent: a response to
    /// another request, or a forged one (RFC 6749 §10.12). Nothing was
    /// redeemed.
    #[error("the authorization response's state does not match the request's")]
    StateMismatch,
    /// The callback's `iss` names another authorization server, or is
    /// missing though the server promises it (RFC 9207 §2.4).
    #[error("the authorization response comes from {found:?}, not {expected}")]
    AuthorizationServerMismatch {
        /// The authorization server the request went to.
        expected: String,
        /// `iss` in the response.
        found: Option<String>,
    },
    /// The authorization server answered with an error (RFC 6749
    /// §4.1.2.1), e.g. `access_denied` when the person cancelled the login
    /// or the issuer has nothing for them.
    #[error("authorization refused: {error}{}", describe(.description))]
    AuthorizationRefused {
        /// The OAuth error code.
        error: String,
        /// `error_description`.
        description: Option<String>,
    },
    /// The offer needs a transaction code and none was given.
    #[error("the issuer requires a transaction code{}", .0.description.as_ref().map(|d| format!(" ({d})")).unwrap_or_default())]
    TxCodeRequired(TxCodeSpec),
    /// The transaction code does not fit the offer's `tx_code` description.
    #[error("transaction code: {0}")]
    InvalidTxCode(#[from] TxCodeError),
    /// The transaction code is empty or has forbidden characters.
    #[error("transaction code: {0}")]
    TxCodeFormat(#[source] IdError),
    /// The authorization server metadata has no `token_endpoint`.
    #[error("the authorization server has no token_endpoint")]
    NoTokenEndpoint,
    /// The token endpoint refused (e.g. `invalid_grant` for a wrong PIN).
    #[error("token endpoint refused: {error}{}", describe(.description))]
    TokenRefused {
        /// The OAuth error code.
        error: String,
        /// `error_description`.
        description: Option<String>,
    },
    /// The credential endpoint refused.
    #[error("credential endpoint refused: {error}{}", describe(.description))]
    CredentialRefused {
        /// The error code.
        error: String,
        /// `error_description`.
        description: Option<String>,
    },
    /// An endpoint answered with something that is not the message the
    /// spec defines.
    #[error("unexpected answer from the {endpoint} endpoint (HTTP {status}): {reason}")]
    UnexpectedResponse {
        /// Which endpoint.
        endpoint: &'static str,
        /// HTTP status.
        status: u16,
        /// What is wrong.
        reason: String,
    },
    /// The Credential Response is malformed.
    #[error("credential response: {0}")]
    CredentialResponse(#[from] CredentialResponseError),
    /// The issuer deferred issuance (§9), which this wallet does not poll.
    #[error("the issuer deferred issuance; deferred credentials are not supported")]
    Deferred,
    /// The configuration's format is not `dc+sd-jwt`.
    #[error("credential configuration `{id}` has format `{format}`; only dc+sd-jwt is supported")]
    UnsupportedFormat {
        /// Configuration id.
        id: String,
        /// Its format.
        format: String,
    },
    /// A credential in the response is not a compact string.
    #[error("credential {0} in the response is not a compact SD-JWT string")]
    NotCompact(usize),
    /// The issuer returned more credentials than proofs were sent.
    #[error("the issuer returned {returned} credentials for {requested} proofs")]
    TooManyCredentials {
        /// Returned.
        returned: usize,
        /// Requested.
        requested: usize,
    },
    /// The JWT VC issuer metadata is malformed or for another issuer.
    #[error("jwt-vc-issuer metadata: {0}")]
    IssuerKeys(String),
    /// No key of the issuer has the credential's `kid`.
    #[error("no key of {issuer} has kid {kid:?}")]
    UnknownIssuerKey {
        /// The issuer.
        issuer: String,
        /// The credential header's `kid`.
        kid: Option<String>,
    },
    /// The credential does not parse as an SD-JWT.
    #[error("credential: {0}")]
    SdJwt(#[from] SdJwtError),
    /// The credential failed SD-JWT VC verification.
    #[error("credential verification: {0}")]
    Verification(#[from] VcError),
    /// The credential's `iss` is not the offering issuer.
    #[error("credential iss {found:?} is not the offering issuer {expected}")]
    IssuerMismatch {
        /// The credential issuer.
        expected: String,
        /// `iss`.
        found: Option<String>,
    },
    /// The credential's `vct` is not the configuration's.
    #[error("credential vct `{found}` is not the configuration's `{expected}`")]
    VctMismatch {
        /// From the metadata.
        expected: String,
        /// In the credential.
        found: String,
    },
    /// The credential's `cnf` key is none of the keys the wallet proved.
    #[error("the credential is not bound to a key of this wallet (cnf)")]
    HolderKeyMismatch,
    /// The status list says the fresh credential is not valid.
    #[error("the issuer's status list marks the credential {0:?}")]
    NotValid(StatusType),
    /// The status list could not be fetched or verified.
    #[error("status list: {0}")]
    StatusList(String),
    /// The issuer demands what only a certified wallet can give: a wallet
    /// attestation (its token endpoint takes only `attest_jwt_client_auth`,
    /// or it refused us as `invalid_client` about an attestation) or a key
    /// attestation (`key_attestations_required`, or `invalid_proof` about
    /// one). This wallet has neither and never fakes them.
    #[error("this issuer only accepts certified wallets: {0}")]
    CertifiedWalletRequired(String),
    /// A DPoP proof could not be made.
    #[error("DPoP proof: {0}")]
    Dpop(#[from] intyg_core::oauth::dpop::DpopError),
    /// Key generation or proof signing failed.
    #[error("holder key: {0}")]
    Jose(#[from] JoseError),
    /// Random ids could not be made.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// Storing failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ReceiveError {
    /// A stable code for scripts.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Offer(_) => "invalid_offer",
            Self::Fetch(e) => crate::present::fetch_code(e),
            Self::Metadata(_) => "invalid_metadata",
            Self::NoPreAuthorizedGrant | Self::AuthorizationCodeUnsupported(_) => {
                "unsupported_grant"
            }
            Self::NoConfiguration => "invalid_request",
            Self::InvalidRedirectUri(_) => "invalid_redirect_uri",
            Self::ParRefused { .. } => "par_refused",
            Self::CallbackMismatch(_) | Self::InvalidCallback(_) => "invalid_callback",
            Self::StateMismatch => "state_mismatch",
            Self::AuthorizationServerMismatch { .. } => "authorization_server_mismatch",
            Self::AuthorizationRefused { error, .. } if error == "access_denied" => "access_denied",
            Self::AuthorizationRefused { .. } => "authorization_refused",
            Self::TxCodeRequired(_) => "tx_code_required",
            Self::InvalidTxCode(_) | Self::TxCodeFormat(_) => "invalid_tx_code",
            Self::NoTokenEndpoint => "invalid_metadata",
            Self::TokenRefused { .. } => "token_refused",
            Self::CredentialRefused { .. } => "credential_refused",
            Self::UnexpectedResponse { .. } | Self::CredentialResponse(_) => "unexpected_response",
            Self::Deferred => "deferred_unsupported",
            Self::UnsupportedFormat { .. } => "unsupported_format",
            Self::NotCompact(_) | Self::TooManyCredentials { .. } => "unexpected_response",
            Self::IssuerKeys(_) | Self::UnknownIssuerKey { .. } => "unknown_issuer_key",
            Self::SdJwt(e) => e.code(),
            Self::Verification(e) => e.code(),
            Self::IssuerMismatch { .. } => "issuer_mismatch",
            Self::VctMismatch { .. } => "vct_mismatch",
            Self::HolderKeyMismatch => "holder_key_mismatch",
            Self::NotValid(_) => "credential_not_valid",
            Self::StatusList(_) => "status_list_unavailable",
            Self::CertifiedWalletRequired(_) => "certified_wallet_required",
            Self::Jose(_) | Self::Crypto(_) | Self::Dpop(_) => "crypto_failure",
            Self::Store(_) => "store_failure",
        }
    }
}

/// How the credential requests of a flow present the access token.
pub(crate) struct Authorization<'a> {
    access_token: &'a str,
    /// The flow's DPoP session when the token is DPoP-bound.
    dpop: Option<&'a DpopSession>,
}

impl<'a> Authorization<'a> {
    /// From the Token Response: `token_type: DPoP` needs the flow's DPoP
    /// session; a `Bearer` token is sent as such even if we sent a proof
    /// (a server that does not bind tokens).
    fn of(token: &'a TokenResponse, dpop: Option<&'a DpopSession>) -> Result<Self, ReceiveError> {
        let bound = token.token_type.eq_ignore_ascii_case("dpop");
        if bound && dpop.is_none() {
            return Err(unexpected(
                "token",
                200,
                "token_type DPoP, but no DPoP proof was sent",
            ));
        }
        Ok(Self {
            access_token: token.access_token.as_str(),
            dpop: dpop.filter(|_| bound),
        })
    }
}

/// Whether an OAuth error says the wallet lacks an attestation: an
/// `invalid_client` (draft-ietf-oauth-attestation-based-client-auth) or an
/// `invalid_proof` (OpenID4VCI 1.0 Appendix D) whose description is about
/// an attestation.
fn is_attestation_demand(error: &str, description: &Option<String>) -> bool {
    matches!(error, "invalid_client" | "invalid_proof")
        && description
            .as_deref()
            .is_some_and(|d| d.to_ascii_lowercase().contains("attestation"))
}

impl Offer {
    /// Refuses before anything is redeemed when the issuer's metadata
    /// demands a certified wallet: a token endpoint that takes only
    /// `attest_jwt_client_auth`, or a configuration among `configurations`
    /// whose `jwt` proofs need `key_attestations_required`.
    pub(crate) fn check_certification_demands(
        &self,
        server: &AuthorizationServerMetadata,
        configurations: &[CredentialConfigurationId],
    ) -> Result<(), ReceiveError> {
        if let Some(methods) = &server.token_endpoint_auth_methods_supported
            && !methods.is_empty()
            && methods.iter().all(|m| m == client_attestation::AUTH_METHOD)
        {
            return Err(ReceiveError::CertifiedWalletRequired(
                "its token endpoint requires a wallet attestation (token_endpoint_auth_methods_supported: attest_jwt_client_auth)".into(),
            ));
        }
        for id in configurations {
            let demands_key_attestation = self
                .metadata
                .credential_configurations_supported
                .get(id)
                .and_then(|c| c.jwt_proof_type())
                .is_some_and(|jwt| jwt.key_attestations_required.is_some());
            if demands_key_attestation {
                return Err(ReceiveError::CertifiedWalletRequired(format!(
                    "credential `{}` requires a key attestation (key_attestations_required)",
                    id.as_str()
                )));
            }
        }
        Ok(())
    }
}

fn describe(description: &Option<String>) -> String {
    description
        .as_ref()
        .map(|d| format!(" ({d})"))
        .unwrap_or_default()
}

/// A fetched and checked offer, ready to accept. [`Wallet::fetch_issuer`]
/// makes one for wallet-initiated issuance: every configuration of the
/// issuer, an authorization code grant without `issuer_state`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Offer {
    /// The offer.
    pub offer: CredentialOffer,
    /// The issuer's metadata.
    pub metadata: CredentialIssuerMetadata,
    /// The authorization server's metadata.
    pub authorization_server: AuthorizationServerMetadata,
}

impl Offer {
    /// The credential issuer identifier.
    pub fn issuer(&self) -> &str {
        &self.offer.credential_issuer
    }

    /// The issuer's display name in `locale` (or English, or the first).
    pub fn issuer_name(&self, locale: &str) -> Option<String> {
        let displays = self.metadata.display.as_ref()?;
        let named = |l: &str| {
            displays
                .iter()
                .find(|d| d.locale.as_deref() == Some(l))
                .and_then(|d| d.name.clone())
        };
        named(locale)
            .or_else(|| named("en"))
            .or_else(|| displays.iter().find_map(|d| d.name.clone()))
    }

    /// The transaction code the person must enter, if the offer needs one.
    pub fn tx_code(&self) -> Option<&TxCodeSpec> {
        self.offer.pre_authorized_grant()?.tx_code.as_ref()
    }

    /// Whether [`Wallet::accept`] can take it: it has a pre-authorized
    /// code grant.
    pub fn has_pre_authorized_code(&self) -> bool {
        self.offer.pre_authorized_grant().is_some()
    }

    /// Whether the authorization code flow can take it: the offer has that
    /// grant, or no grants at all (§4.1.1: then the metadata decides), and
    /// the authorization server has an authorization endpoint, lists the
    /// grant (when it lists any) and PKCE S256 (when it lists methods).
    pub fn supports_authorization_code(&self) -> bool {
        let offered = match &self.offer.grants {
            Some(grants) => {
                grants.authorization_code.is_some() || grants.pre_authorized_code.is_none()
            }
            None => true,
        };
        offered && crate::authorize::code_flow_support(&self.authorization_server).is_ok()
    }

    /// The offered credential configurations with their display names.
    pub fn credentials(&self, locale: &str) -> Vec<(String, String)> {
        self.offer
            .credential_configuration_ids
            .iter()
            .map(|id| {
                let name = self
                    .metadata
                    .credential_configurations_supported
                    .get(id)
                    .map(|c| display_of(c).names)
                    .and_then(|names| {
                        names
                            .get(locale)
                            .or_else(|| names.get("en"))
                            .or_else(|| names.values().next())
                            .cloned()
                    })
                    .unwrap_or_else(|| id.as_str().to_owned());
                (id.as_str().to_owned(), name)
            })
            .collect()
    }
}

/// What was stored.
#[derive(Debug, Clone)]
pub struct Received {
    /// One entry per offered configuration, each with its batch of copies.
    pub credentials: Vec<CredentialEntry>,
}

/// JWT VC Issuer Metadata (SD-JWT VC, `/.well-known/jwt-vc-issuer`).
#[derive(Debug, Deserialize)]
struct JwtVcIssuerMetadata {
    issuer: String,
    #[serde(default)]
    jwks: Option<intyg_core::trust::IssuerJwks>,
    #[serde(default)]
    jwks_uri: Option<String>,
}

impl Wallet {
    /// Reads an offer link, fetches the offer if by reference, and the
    /// issuer's and authorization server's metadata. Stores nothing.
    pub async fn fetch_offer(&self, uri: &str) -> Result<Offer, ReceiveError> {
        let rules = self.http().rules();
        let offer = match CredentialOffer::from_uri_with(uri.trim(), rules)? {
            CredentialOfferRequest::ByValue(offer) => *offer,
            CredentialOfferRequest::ByReference(url) => {
                let reply = self.http().get(&url, "application/json").await?;
                if !reply.is_success() {
                    return Err(unexpected("credential offer", reply.status, "not 2xx"));
                }
                CredentialOffer::from_json_with(&reply.text(), rules)?
            }
        };
        let metadata = self.issuer_metadata(&offer.credential_issuer).await?;
        offer.validate_against(&metadata)?;
        // The grant's own server when it names one (§4.1.1), the pre-authorized
        // grant's first.
        let named = offer
            .pre_authorized_grant()
            .and_then(|g| g.authorization_server.clone())
            .or_else(|| {
                offer
                    .authorization_code_grant()
                    .and_then(|g| g.authorization_server.clone())
            });
        let server = authorization_server_of(&metadata, named);
        let authorization_server = self.authorization_server_metadata(&server).await?;
        Ok(Offer {
            offer,
            metadata,
            authorization_server,
        })
    }

    /// Wallet-initiated issuance (§3.4): the metadata of the issuer at
    /// `issuer` and of its authorization server, as an [`Offer`] of every
    /// configuration it supports with an authorization code grant. Pick
    /// configurations for [`Wallet::begin_authorization`]. Stores nothing.
    pub async fn fetch_issuer(&self, issuer: &str) -> Result<Offer, ReceiveError> {
        let issuer = issuer.trim().trim_end_matches('/');
        let metadata = self.issuer_metadata(issuer).await?;
        let server = authorization_server_of(&metadata, None);
        let authorization_server = self.authorization_server_metadata(&server).await?;
        let offer = CredentialOffer {
            credential_issuer: metadata.credential_issuer.clone(),
            credential_configuration_ids: metadata
                .credential_configurations_supported
                .keys()
                .cloned()
                .collect(),
            grants: Some(Grants {
                authorization_code: Some(AuthorizationCodeGrant::default()),
                ..Grants::default()
            }),
            extra: Map::new(),
        };
        Ok(Offer {
            offer,
            metadata,
            authorization_server,
        })
    }

    /// Credential Issuer Metadata (§12.2.2), checked to be `issuer`'s.
    async fn issuer_metadata(
        &self,
        issuer: &str,
    ) -> Result<CredentialIssuerMetadata, ReceiveError> {
        let rules = self.http().rules();
        let url = CredentialIssuerMetadata::well_known_url_with(issuer, rules)?;
        let reply = self.http().get(&url, "application/json").await?;
        if !reply.is_success() {
            return Err(unexpected("issuer metadata", reply.status, "not 2xx"));
        }
        Ok(CredentialIssuerMetadata::from_json_for_with(
            &reply.text(),
            issuer,
            rules,
        )?)
    }

    /// Authorization Server Metadata (RFC 8414 §3), checked to be
    /// `server`'s.
    pub(crate) async fn authorization_server_metadata(
        &self,
        server: &str,
    ) -> Result<AuthorizationServerMetadata, ReceiveError> {
        let rules = self.http().rules();
        let url = AuthorizationServerMetadata::well_known_url_with(server, rules)?;
        let reply = self.http().get(&url, "application/json").await?;
        if !reply.is_success() {
            return Err(unexpected(
                "authorization server metadata",
                reply.status,
                "not 2xx",
            ));
        }
        Ok(AuthorizationServerMetadata::from_json_for_with(
            &reply.text(),
            server,
            rules,
        )?)
    }

    /// Redeems the offer with the transaction code, receives a batch of
    /// every offered credential, verifies each, and stores them.
    pub async fn accept(
        &mut self,
        offer: Offer,
        tx_code: Option<&str>,
    ) -> Result<Received, ReceiveError> {
        let grant = offer
            .offer
            .pre_authorized_grant()
            .ok_or(ReceiveError::NoPreAuthorizedGrant)?;
        self.refresh_due_trust_lists().await?;
        let tx_code = match (&grant.tx_code, tx_code) {
            (Some(spec), None) => return Err(ReceiveError::TxCodeRequired(spec.clone())),
            (Some(spec), Some(code)) => {
                let code = TxCode::try_from(code.trim()).map_err(ReceiveError::TxCodeFormat)?;
                spec.check(&code)?;
                Some(code)
            }
            (None, _) => None,
        };
        let configurations = offer.offer.credential_configuration_ids.clone();
        offer.check_certification_demands(&offer.authorization_server, &configurations)?;
        let request = TokenRequest::PreAuthorizedCode(PreAuthorizedCodeTokenRequest {
            pre_authorized_code: grant.pre_authorized_code.clone(),
            tx_code,
            client_id: None,
            authorization_details: None,
            extra: BTreeMap::new(),
        });
        let dpop = DpopSession::for_server(&offer.authorization_server)?;
        let token = self
            .token(&offer.authorization_server, request, dpop.as_ref())
            .await?;
        self.receive(&offer, &configurations, &token, dpop.as_ref())
            .await
    }

    /// After `/token`, for either grant: one Credential Request per
    /// dataset (§8), every credential verified, then everything stored
    /// with its history entry.
    pub(crate) async fn receive(
        &mut self,
        offer: &Offer,
        configurations: &[CredentialConfigurationId],
        token: &TokenResponse,
        dpop: Option<&DpopSession>,
    ) -> Result<Received, ReceiveError> {
        let authorization = Authorization::of(token, dpop)?;
        let issuer_keys = self.issuer_keys(offer.issuer()).await?;
        let mut batches = Vec::new();
        for (id, identifier) in credential_requests(configurations, token) {
            batches.push(
                self.issue(offer, id, identifier, &authorization, &issuer_keys)
                    .await?,
            );
        }
        let at = now();
        let issuer_name = offer.issuer_name(&self.config.locale);
        let mut received = Vec::new();
        for batch in batches {
            let history = HistoryEntry {
                request_object: None,
                verifier_x5c: Vec::new(),
                holder_key_ids: Vec::new(),
                receipt: None,
                erasure: None,
                id: random_id()?,
                at,
                kind: EventKind::Issuance,
                counterparty: offer.issuer().to_owned(),
                counterparty_name: issuer_name.clone(),
                purpose: None,
                credentials: vec![HistoryCredential {
                    credential_id: Some(batch.entry.id.clone()),
                    vct: batch.entry.vct.clone(),
                    claims: batch
                        .entry
                        .subject_claims()
                        .keys()
                        .map(|name| {
                            intyg_core::dcql::ClaimsPath(vec![intyg_core::dcql::PathElement::Key(
                                name.clone(),
                            )])
                        })
                        .collect(),
                }],
                result: EventResult::Success,
                registration: None,
            };
            let mut entry = batch.entry;
            entry.issuer_name = issuer_name.clone();
            self.store.write(
                &self.key,
                Some((&entry, &batch.copies)),
                &batch.keys,
                Some(&history),
            )?;
            tracing::info!(credential = %entry.id, vct = %entry.vct, copies = entry.copies, "credential stored");
            received.push(entry);
        }
        self.reindex()?;
        Ok(Received {
            credentials: received,
        })
    }

    /// `POST /token` (§6) with either grant, with a DPoP proof when the
    /// flow has a DPoP session.
    pub(crate) async fn token(
        &self,
        server: &AuthorizationServerMetadata,
        request: TokenRequest,
        dpop: Option<&DpopSession>,
    ) -> Result<TokenResponse, ReceiveError> {
        let endpoint = server
            .token_endpoint
            .as_deref()
            .ok_or(ReceiveError::NoTokenEndpoint)?;
        self.post_oauth_form(
            endpoint,
            request.to_form(),
            "token",
            dpop,
            |error, description| ReceiveError::TokenRefused { error, description },
        )
        .await
    }

    /// `POST`s a form to an OAuth endpoint (token, PAR) and reads its JSON
    /// answer; an error body (RFC 6749 §5.2, RFC 9126 §2.3) becomes
    /// `refused(error, error_description)`, except an `invalid_client`
    /// about an attestation, which says that only certified wallets are
    /// served. With a DPoP session each attempt carries a fresh proof, and
    /// a `use_dpop_nonce` answer with a new nonce is retried once (RFC
    /// 9449 §8).
    pub(crate) async fn post_oauth_form<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: &str,
        form: String,
        what: &'static str,
        dpop: Option<&DpopSession>,
        refused: impl FnOnce(String, Option<String>) -> ReceiveError,
    ) -> Result<T, ReceiveError> {
        /// An OAuth error body.
        #[derive(Deserialize)]
        struct OAuthErrorBody {
            error: String,
            #[serde(default)]
            error_description: Option<String>,
        }
        let mut retried = false;
        let reply = loop {
            let proof = dpop
                .map(|session| session.proof(Role::AuthorizationServer, endpoint, None))
                .transpose()?;
            let headers: Vec<(&str, &str)> = proof
                .as_deref()
                .map(|proof| (dpop::DPOP_HEADER, proof))
                .into_iter()
                .collect();
            let reply = self
                .http()
                .post_form_with(endpoint, form.clone(), &headers)
                .await?;
            let Some(session) = dpop else { break reply };
            let fresh = session.remember(Role::AuthorizationServer, &reply);
            if reply.is_success() || retried || !fresh {
                break reply;
            }
            let error = serde_json::from_slice::<OAuthErrorBody>(&reply.body).ok();
            if !dpop::asks_for_nonce(&reply, error.as_ref().map(|e| e.error.as_str())) {
                break reply;
            }
            retried = true;
        };
        if !reply.is_success() {
            return Err(
                match serde_json::from_slice::<OAuthErrorBody>(&reply.body) {
                    Ok(body) if is_attestation_demand(&body.error, &body.error_description) => {
                        ReceiveError::CertifiedWalletRequired(format!(
                            "the {what} endpoint refused: {}{}",
                            body.error,
                            describe(&body.error_description)
                        ))
                    }
                    Ok(body) => refused(body.error, body.error_description),
                    Err(e) => unexpected(what, reply.status, e),
                },
            );
        }
        serde_json::from_slice(&reply.body).map_err(|e| unexpected(what, reply.status, e))
    }

    async fn nonce(
        &self,
        metadata: &CredentialIssuerMetadata,
    ) -> Result<Option<CNonce>, ReceiveError> {
        let Some(endpoint) = &metadata.nonce_endpoint else {
            return Ok(None);
        };
        let reply = self.http().post_json(endpoint, None, None).await?;
        if !reply.is_success() {
            return Err(unexpected("nonce", reply.status, "not 2xx"));
        }
        let nonce: NonceResponse = serde_json::from_slice(&reply.body)
            .map_err(|e| unexpected("nonce", reply.status, e))?;
        Ok(Some(nonce.c_nonce))
    }

    /// The issuer's signing keys from its JWT VC Issuer Metadata.
    pub(crate) async fn issuer_keys(&self, issuer: &str) -> Result<Vec<Jwk>, ReceiveError> {
        let url = jwt_vc_issuer_url(issuer)
            .ok_or_else(|| ReceiveError::IssuerKeys(format!("`{issuer}` is not a URL")))?;
        let reply = self.http().get(&url, "application/json").await?;
        if !reply.is_success() {
            return Err(unexpected(
                "jwt-vc-issuer metadata",
                reply.status,
                "not 2xx",
            ));
        }
        let metadata: JwtVcIssuerMetadata = serde_json::from_slice(&reply.body)
            .map_err(|e| ReceiveError::IssuerKeys(e.to_string()))?;
        if metadata.issuer.trim_end_matches('/') != issuer.trim_end_matches('/') {
            return Err(ReceiveError::IssuerKeys(format!(
                "metadata is for `{}`, not `{issuer}`",
                metadata.issuer
            )));
        }
        let jwks = match (metadata.jwks, metadata.jwks_uri) {
            (Some(jwks), _) => jwks,
            (None, Some(uri)) => {
                let reply = self.http().get(&uri, "application/json").await?;
                serde_json::from_slice(&reply.body)
                    .map_err(|e| ReceiveError::IssuerKeys(format!("jwks_uri: {e}")))?
            }
            (None, None) => {
                return Err(ReceiveError::IssuerKeys("neither jwks nor jwks_uri".into()));
            }
        };
        Ok(jwks.keys)
    }

    /// One credential request for a configuration (or one of its
    /// datasets): a batch of copies.
    async fn issue(
        &self,
        offer: &Offer,
        id: &CredentialConfigurationId,
        identifier: Option<&CredentialIdentifier>,
        authorization: &Authorization<'_>,
        issuer_keys: &[Jwk],
    ) -> Result<Batch, ReceiveError> {
        let configuration = offer
            .metadata
            .credential_configurations_supported
            .get(id)
            .ok_or_else(|| OfferError::UnknownCredentialConfiguration(id.clone()))?;
        if configuration.format.as_str() != vc::TYP
            && configuration.format.as_str() != vc::LEGACY_TYP
        {
            return Err(ReceiveError::UnsupportedFormat {
                id: id.as_str().to_owned(),
                format: configuration.format.as_str().to_owned(),
            });
        }
        let size = offer
            .metadata
            .batch_credential_issuance
            .as_ref()
            .map_or(1, |b| b.batch_size.min(MAX_BATCH))
            .max(1);
        let nonce = self.nonce(&offer.metadata).await?;
        let issued_at = now();
        let holders = (0..size)
            .map(|_| SigningKey::generate())
            .collect::<Result<Vec<_>, _>>()?;
        let proofs = holders
            .iter()
            .map(|key| build_jwt_proof(key, offer.issuer(), nonce.as_ref(), issued_at, None))
            .collect::<Result<Vec<_>, _>>()?;
        let mut request = CredentialRequest::for_configuration(id.clone(), proofs);
        if let Some(identifier) = identifier {
            // §8.2: with an identifier, the configuration id MUST NOT be sent.
            request.credential_configuration_id = None;
            request.credential_identifier = Some(identifier.clone());
        }
        let body = serde_json::to_value(&request).map_err(|e| unexpected("credential", 0, e))?;
        let reply = self
            .post_credential_request(&offer.metadata.credential_endpoint, &body, authorization)
            .await?;
        if !reply.is_success() {
            // Read openly: besides §8.3.1.2's codes, a protected resource
            // answers RFC 6750 and RFC 9449 ones (`invalid_dpop_proof`...).
            #[derive(Deserialize)]
            struct ErrorBody {
                error: String,
                #[serde(default)]
                error_description: Option<String>,
            }
            return Err(match serde_json::from_slice::<ErrorBody>(&reply.body) {
                Ok(error) => {
                    let error_code = error.error;
                    if is_attestation_demand(&error_code, &error.error_description) {
                        ReceiveError::CertifiedWalletRequired(format!(
                            "the credential endpoint refused: {error_code}{}",
                            describe(&error.error_description)
                        ))
                    } else {
                        ReceiveError::CredentialRefused {
                            error: error_code,
                            description: error.error_description,
                        }
                    }
                }
                Err(e) => unexpected("credential", reply.status, e),
            });
        }
        let response = CredentialResponse::from_json(&reply.body)?;
        let credentials = response.credentials.ok_or(ReceiveError::Deferred)?;
        if credentials.len() > holders.len() {
            return Err(ReceiveError::TooManyCredentials {
                returned: credentials.len(),
                requested: holders.len(),
            });
        }
        let mut verified = Vec::new();
        for (index, issued) in credentials.iter().enumerate() {
            let compact = issued.as_compact().ok_or(ReceiveError::NotCompact(index))?;
            verified.push(
                self.verify_issued(offer, configuration, compact, issuer_keys, &holders)
                    .await?,
            );
        }
        self.assemble(offer, id, configuration, verified, &holders)
            .await
    }

    /// `POST` a Credential Request with the access token: `Bearer`, or
    /// `DPoP` with a proof carrying `ath` (RFC 9449 §7.1), retried once
    /// when the credential endpoint asks for a new DPoP nonce (§9).
    async fn post_credential_request(
        &self,
        endpoint: &str,
        body: &Value,
        authorization: &Authorization<'_>,
    ) -> Result<crate::http::Reply, ReceiveError> {
        let Some(session) = authorization.dpop else {
            let bearer = format!("Bearer {}", authorization.access_token);
            return Ok(self
                .http()
                .post_json_with(endpoint, Some(body), &[("authorization", &bearer)])
                .await?);
        };
        let scheme = format!("DPoP {}", authorization.access_token);
        let mut retried = false;
        loop {
            let proof =
                session.proof(Role::Resource, endpoint, Some(authorization.access_token))?;
            let reply = self
                .http()
                .post_json_with(
                    endpoint,
                    Some(body),
                    &[("authorization", &scheme), (dpop::DPOP_HEADER, &proof)],
                )
                .await?;
            let fresh = session.remember(Role::Resource, &reply);
            let error = serde_json::from_slice::<Value>(&reply.body)
                .ok()
                .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned));
            if reply.is_success()
                || retried
                || !fresh
                || !dpop::asks_for_nonce(&reply, error.as_deref())
            {
                return Ok(reply);
            }
            retried = true;
        }
    }

    /// Verifies one issued credential; returns it, its claims and the
    /// holder key it is bound to.
    async fn verify_issued(
        &self,
        offer: &Offer,
        configuration: &CredentialConfiguration,
        compact: &str,
        issuer_keys: &[Jwk],
        holders: &[SigningKey],
    ) -> Result<Issued, ReceiveError> {
        let sd_jwt = SdJwt::parse(compact)?;
        let kid = sd_jwt.header().kid.clone();
        let issuer_jwk = match (&kid, issuer_keys) {
            (Some(kid), keys) => keys.iter().find(|k| k.key_id.as_deref() == Some(kid)),
            (None, [only]) => Some(only),
            (None, _) => None,
        }
        .ok_or_else(|| ReceiveError::UnknownIssuerKey {
            issuer: offer.issuer().to_owned(),
            kid: kid.clone(),
        })?;
        let issuer_key = VerifyingKey::from_jwk(issuer_jwk)?;
        let now = now();
        let credential = vc::verify(sd_jwt, &issuer_key, &VerifyOptions::at(now), None)?;
        if credential
            .issuer
            .as_deref()
            .map(|i| i.trim_end_matches('/'))
            != Some(offer.issuer().trim_end_matches('/'))
        {
            return Err(ReceiveError::IssuerMismatch {
                expected: offer.issuer().to_owned(),
                found: credential.issuer.clone(),
            });
        }
        if let Some(expected) = &configuration.vct
            && expected != credential.vct.as_str()
        {
            return Err(ReceiveError::VctMismatch {
                expected: expected.clone(),
                found: credential.vct.as_str().to_owned(),
            });
        }
        let bound = credential
            .sd_jwt
            .holder_key
            .as_ref()
            .and_then(|jwk| VerifyingKey::from_jwk(jwk).ok());
        let holder = holders
            .iter()
            .position(|key| {
                bound.is_some() && VerifyingKey::from_jwk(&key.public_jwk()).ok() == bound
            })
            .ok_or(ReceiveError::HolderKeyMismatch)?;
        let mut status = StatusCheck::default();
        if let Some(reference) = credential
            .status
            .as_ref()
            .and_then(|s| s.status_list.as_ref())
        {
            let reply = self
                .http()
                .get(&reference.uri, "application/statuslist+jwt")
                .await
                .map_err(|e| ReceiveError::StatusList(e.to_string()))?;
            let token = StatusListToken::verify(
                reply.text().trim(),
                issuer_jwk,
                &reference.uri,
                now,
                DecodeLimits::default(),
            )
            .map_err(|e| ReceiveError::StatusList(e.to_string()))?;
            let listed = token
                .status(reference.idx)
                .map_err(|e| ReceiveError::StatusList(e.to_string()))?;
            if listed != StatusType::Valid {
                return Err(ReceiveError::NotValid(listed));
            }
            status = StatusCheck::learned(CredentialStatus::Valid, now, token.claims().ttl);
        }
        Ok(Issued {
            status,
            compact: compact.to_owned(),
            vct: credential.vct.as_str().to_owned(),
            issuer: credential.issuer.clone().unwrap_or_default(),
            expires_at: credential.sd_jwt.claims.get("exp").and_then(Value::as_i64),
            claims: credential.sd_jwt.claims,
            holder,
        })
    }

    async fn assemble(
        &self,
        offer: &Offer,
        id: &CredentialConfigurationId,
        configuration: &CredentialConfiguration,
        issued: Vec<Issued>,
        holders: &[SigningKey],
    ) -> Result<Batch, ReceiveError> {
        let Some(first) = issued.first() else {
            return Err(unexpected("credential", 200, "no credentials"));
        };
        let mut display = display_of(configuration);
        if let Some(metadata) = self.type_metadata(&first.vct).await {
            display.merge_type_metadata(&metadata);
        }
        let mut copies = Vec::new();
        let mut keys = Vec::new();
        // Only the keys a credential was issued to are kept.
        for copy in &issued {
            let key_id = random_id()?;
            let holder = holders
                .get(copy.holder)
                .ok_or(ReceiveError::HolderKeyMismatch)?;
            keys.push((key_id.clone(), holder.to_private_jwk()?));
            copies.push(CredentialCopy {
                sd_jwt: copy.compact.clone(),
                key_id,
                presentations: 0,
            });
        }
        let entry = CredentialEntry {
            id: random_id()?,
            issuer: if first.issuer.is_empty() {
                offer.issuer().to_owned()
            } else {
                first.issuer.clone()
            },
            issuer_name: None,
            vct: first.vct.clone(),
            format: configuration.format.as_str().to_owned(),
            configuration_id: Some(id.as_str().to_owned()),
            display,
            claims: first.claims.clone(),
            received_at: now(),
            expires_at: first.expires_at,
            copies: copies.len(),
            copies_used: 0,
            status: first.status.clone(),
            listed_on: None,
        };
        let listed_on = self.listed_on(&first.compact, &entry.vct, &entry.issuer);
        let entry = CredentialEntry { listed_on, ..entry };
        Ok(Batch {
            entry,
            copies,
            keys,
        })
    }

    /// The type metadata at the `vct` URL, when it resolves under the
    /// network policy and names the same `vct`. Failures only mean that
    /// the credential is stored without it.
    async fn type_metadata(&self, vct: &str) -> Option<TypeMetadata> {
        self.http().check(vct).ok()?;
        let reply = match self.http().get(vct, "application/json").await {
            Ok(reply) if reply.is_success() => reply,
            Ok(reply) => {
                tracing::debug!(vct, status = reply.status, "type metadata not available");
                return None;
            }
            Err(error) => {
                tracing::debug!(vct, %error, "type metadata not fetched");
                return None;
            }
        };
        let metadata = TypeMetadata::parse(&reply.text()).ok()?;
        (metadata.vct == vct).then_some(metadata)
    }
}

struct Issued {
    status: StatusCheck,
    compact: String,
    vct: String,
    issuer: String,
    expires_at: Option<i64>,
    claims: serde_json::Map<String, Value>,
    holder: usize,
}

pub(crate) struct Batch {
    pub(crate) entry: CredentialEntry,
    pub(crate) copies: Vec<CredentialCopy>,
    pub(crate) keys: Vec<(String, Jwk)>,
}

/// The Credential Requests to send: one per dataset the Token Response
/// names for a configuration (§6.2 `credential_identifiers`), else one per
/// configuration.
fn credential_requests<'a>(
    configurations: &'a [CredentialConfigurationId],
    token: &'a TokenResponse,
) -> Vec<(
    &'a CredentialConfigurationId,
    Option<&'a CredentialIdentifier>,
)> {
    let details = token.authorization_details.as_deref().unwrap_or_default();
    configurations
        .iter()
        .flat_map(|id| {
            let identifiers: Vec<&CredentialIdentifier> = details
                .iter()
                .filter(|d| &d.credential_configuration_id == id)
                .flat_map(|d| d.credential_identifiers.iter().flatten())
                .collect();
            if identifiers.is_empty() {
                vec![(id, None)]
            } else {
                identifiers.into_iter().map(|i| (id, Some(i))).collect()
            }
        })
        .collect()
}

/// The authorization server to use: the one a grant names, else the
/// issuer's first (§12.2.4 `authorization_servers`), else the issuer.
fn authorization_server_of(metadata: &CredentialIssuerMetadata, named: Option<String>) -> String {
    named
        .or_else(|| metadata.authorization_servers.as_ref()?.first().cloned())
        .unwrap_or_else(|| metadata.credential_issuer.clone())
}

pub(crate) fn unexpected(
    endpoint: &'static str,
    status: u16,
    reason: impl std::fmt::Display,
) -> ReceiveError {
    ReceiveError::UnexpectedResponse {
        endpoint,
        status,
        reason: reason.to_string(),
    }
}

/// `<origin>/.well-known/jwt-vc-issuer<path>` (SD-JWT VC, JWT VC Issuer
/// Metadata).
fn jwt_vc_issuer_url(issuer: &str) -> Option<String> {
    let (scheme, rest) = issuer.split_once("://")?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    Some(format!(
        "{scheme}://{authority}/.well-known/jwt-vc-issuer{}",
        path.trim_end_matches('/')
    ))
}

/// Display names, colours and claim labels from issuer metadata.
fn display_of(configuration: &CredentialConfiguration) -> Display {
    let mut display = Display::default();
    let Some(metadata) = &configuration.credential_metadata else {
        return display;
    };
    for d in metadata.display.iter().flatten() {
        let locale = d.locale.clone().unwrap_or_default();
        display.names.insert(locale.clone(), d.name.clone());
        if let Some(description) = &d.description {
            display.descriptions.insert(locale, description.clone());
        }
        display.background_color = display
            .background_color
            .take()
            .or(d.background_color.clone());
        display.text_color = display.text_color.take().or(d.text_color.clone());
        if display.logo.is_none() {
            display.logo = d
                .logo
                .as_ref()
                .and_then(|l| crate::model::Logo::checked(l.location()?, l.alt_text.as_deref()));
        }
    }
    for claim in metadata.claims.iter().flatten() {
        let Ok(Value::Array(path)) = serde_json::to_value(&claim.path) else {
            continue;
        };
        let labels = claim
            .display
            .iter()
            .flatten()
            .filter_map(|d| Some((d.locale.clone().unwrap_or_default(), d.name.clone()?)))
            .collect();
        // Intyg's words for enumerated values (PROFILE.md), if given.
        let values = claim
            .extra
            .get("intyg_value_display")
            .and_then(|v| {
                serde_json::from_value::<Vec<intyg_core::vc::metadata::ValueDisplay>>(v.clone())
                    .ok()
            })
            .unwrap_or_default()
            .into_iter()
            .map(|v| {
                let labels = v.display.into_iter().map(|d| (d.locale, d.label)).collect();
                (v.value, labels)
            })
            .collect();
        display.claims.push(ClaimLabel {
            path,
            labels,
            values,
        });
    }
    display
}

#[cfg(test)]
mod tests {
    #[test]
    fn datasets_named_in_the_token_response_are_requested_by_identifier() {
        use intyg_core::oid4vci::{AccessToken, AuthorizationDetail, TokenResponse};
        let ids: Vec<super::CredentialConfigurationId> =
            vec!["a".parse().unwrap(), "b".parse().unwrap()];
        let mut token = TokenResponse::bearer(AccessToken::generate().unwrap(), 60);
        let by_configuration: Vec<(String, Option<String>)> =
            super::credential_requests(&ids, &token)
                .into_iter()
                .map(|(id, identifier)| (id.as_str().into(), identifier.map(|i| i.as_str().into())))
                .collect();
        assert_eq!(by_configuration, [("a".into(), None), ("b".into(), None)]);
        let mut detail = AuthorizationDetail::for_configuration("a".parse().unwrap());
        detail.credential_identifiers = Some(vec!["a-1".parse().unwrap(), "a-2".parse().unwrap()]);
        token.authorization_details = Some(vec![detail]);
        let by_identifier: Vec<(String, Option<String>)> = super::credential_requests(&ids, &token)
            .into_iter()
            .map(|(id, identifier)| (id.as_str().into(), identifier.map(|i| i.as_str().into())))
            .collect();
        assert_eq!(
            by_identifier,
            [
                ("a".into(), Some("a-1".into())),
                ("a".into(), Some("a-2".into())),
                ("b".into(), None)
            ]
        );
    }

    #[test]
    fn jwt_vc_issuer_well_known_goes_between_host_and_path() {
        assert_eq!(
            super::jwt_vc_issuer_url("https://issuer.example/tenant/").unwrap(),
            "https://issuer.example/.well-known/jwt-vc-issuer/tenant"
        );
        assert_eq!(
            super::jwt_vc_issuer_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080/.well-known/jwt-vc-issuer"
        );
    }
}
