//! Presenting credentials — OpenID4VP 1.0 with DCQL, under HAIP 1.0.
//!
//! <https://openid.net/specs/openid-4-verifiable-presentations-1_0.html>
//!
//! [`Wallet::prepare`]: invocation URI (`openid4vp://`, HAIP 1.0's
//! `haip-vp://` or the pre-1.0 `haip://`, §9) → Request Object by value or
//! from `request_uri` (GET, or POST with our [`wallet_metadata`] and a
//! fresh `wallet_nonce` the signed Request Object must echo, §5.10) → authenticated by [`crate::trust::authenticate`]
//! (unsigned `redirect_uri:` requests only in dev mode) → DCQL evaluated
//! over the held credentials (§6.4); the status of those it matches is
//! refreshed ([`crate::status`], one fetch per list; an unreachable list
//! keeps the last known status) and revoked or suspended ones are left
//! out, unless nothing else satisfies the query: then they are proposed
//! with their status for the person to see → a [`ConsentProposal`].
//! [`Wallet::respond`]: the person's [`Decision`] → on approval one
//! SD-JWT presentation per credential query with a KB-JWT (`aud` =
//! client_id, `nonce`, `sd_hash`), from the least used batch copy → VP
//! Token, posted as `direct_post` or encrypted `direct_post.jwt` (§8.2,
//! §8.3); on denial an `access_denied` error response (§8.5), encrypted
//! too in `direct_post.jwt` → history.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use intyg_core::dcql::{
    Candidate, ClaimsPath, DcqlQuery, Evaluation, PathElement, Unsatisfied, ValidatedQuery,
    evaluate,
};
use intyg_core::jose::{JoseError, SigningKey};
use intyg_core::oid4vp::{
    AuthorizationRequest, AuthorizationResponse, ClientIdPrefix, Denial, DirectPostBody,
    Invocation, Presentation, REQUEST_OBJECT_MEDIA_TYPE, RequestError, RequestObjectSource,
    RequestUriMethod, RequestUriPost, ResponseEncryption, ResponseError, ResponseMode,
    ResponseUriResponse, VpToken, WalletMetadata, WalletNonce,
};
use intyg_core::sd_jwt::{KeyBindingInput, SdJwt, SdJwtError};
use intyg_core::trust::TrustAnchors;
use serde::Serialize;
use serde_json::Value;

use crate::crypto::{CryptoError, random, random_id};
use crate::http::FetchError;
use crate::model::{
    CredentialCopy, CredentialStatus, EventKind, EventResult, HistoryCredential, HistoryEntry,
    HistoryRegistration, ReceiptRecord,
};
use crate::registration::{RegistrationCheck, RegistrationOutcome};
use crate::trust::{AuthenticationError, TrustError, authenticate};
use crate::{StoreError, Wallet, now};
use intyg_core::rights::receipt::RECEIPT_MEMBER;
use intyg_core::rights::{Receipt, ReceiptExpectations};

/// Why a request could not be prepared or answered.
#[derive(Debug, thiserror::Error)]
pub enum PresentError {
    /// The invocation URI or the request is malformed.
    #[error("authorization request: {0}")]
    Request(#[from] RequestError),
    /// An unsigned request (`redirect_uri:` client, or parameters by
    /// value) outside dev mode.
    #[error("unsigned presentation requests are accepted only in dev mode")]
    UnsignedRequest,
    /// A client identifier prefix the wallet cannot authenticate.
    #[error("client_id prefix {0} is not supported (x509_hash and x509_san_dns are)")]
    UnsupportedClientIdPrefix(ClientIdPrefix),
    /// A fetch or post was refused by policy or failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The `request_uri` did not answer with a Request Object.
    #[error("request_uri answered HTTP {0}")]
    RequestUriStatus(u16),
    /// The wallet trusts no verifier root yet.
    #[error("no trusted verifier roots (add one with `intyg wallet trust add-verifier-root`)")]
    NoVerifierRoots,
    /// The verifier roots could not be read.
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// The verifier or its request was not authenticated.
    #[error("verifier authentication: {0}")]
    Authentication(#[from] AuthenticationError),
    /// The request has no `response_uri`.
    #[error("the request has no response_uri")]
    NoResponseUri,
    /// A response mode other than `direct_post` / `direct_post.jwt`.
    #[error("response_mode {0} is not supported (direct_post and direct_post.jwt are)")]
    UnsupportedResponseMode(&'static str),
    /// The request carries `transaction_data`, which this wallet does not
    /// process.
    #[error("transaction_data is not supported")]
    TransactionDataUnsupported,
    /// `--include` names nothing optional in the proposal.
    #[error("`{0}` names no optional claim of this request")]
    UnknownSelection(String),
    /// The request asks for claims its registration certificate does not
    /// cover, and sharing them was not explicitly allowed.
    #[error("the verifier asks for claims it has not registered: {}", .0.join(", "))]
    Overasking(Vec<String>),
    /// Encrypting the response failed (no usable key, no supported enc).
    #[error("response encryption: {0}")]
    Encryption(#[from] ResponseError),
    /// A stored credential does not parse.
    #[error("stored credential: {0}")]
    SdJwt(#[from] SdJwtError),
    /// Building the presentation failed.
    #[error("presentation: {0}")]
    Disclosure(#[from] intyg_core::sd_jwt::PresentError),
    /// A stored holder key is unusable.
    #[error("holder key: {0}")]
    Key(#[from] JoseError),
    /// The verifier refused the response.
    #[error("the verifier refused the response (HTTP {status}){}", error.as_ref().map(|e| format!(": {e}")).unwrap_or_default())]
    VerifierRejected {
        /// HTTP status.
        status: u16,
        /// The `error` (and description) it returned, if any.
        error: Option<String>,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Ids could not be generated.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

impl PresentError {
    /// A stable code for scripts.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Request(_) => "invalid_request",
            Self::UnsignedRequest => "unsigned_request",
            Self::UnsupportedClientIdPrefix(_) => "unsupported_client_id",
            Self::Fetch(e) => fetch_code(e),
            Self::RequestUriStatus(_) => "request_uri_failed",
            Self::NoVerifierRoots => "no_verifier_roots",
            Self::Trust(_) => "invalid_certificate",
            Self::Authentication(_) => "verifier_not_authenticated",
            Self::NoResponseUri => "invalid_request",
            Self::UnsupportedResponseMode(_) => "unsupported_response_mode",
            Self::TransactionDataUnsupported => "transaction_data_unsupported",
            Self::UnknownSelection(_) => "unknown_claim",
            Self::Overasking(_) => "overasking",
            Self::Encryption(_) => "encryption_failed",
            Self::SdJwt(e) => e.code(),
            Self::Disclosure(e) => e.code(),
            Self::Key(_) | Self::Crypto(_) => "crypto_failure",
            Self::VerifierRejected { .. } => "verifier_rejected",
            Self::Store(_) => "store_failure",
        }
    }
}

/// What this wallet supports, sent as `wallet_metadata` when a request
/// says `request_uri_method=post` (OpenID4VP 1.0 §5.10, §10): SD-JWT VC
/// with ES256 credentials and KB-JWTs, `x509_san_dns` and `x509_hash`
/// clients, ES256 Request Objects, `direct_post` and `direct_post.jwt`
/// with ECDH-ES and A128GCM or A256GCM. No `jwks`: the Request Object need
/// not be encrypted.
pub fn wallet_metadata() -> WalletMetadata {
    let strings = |values: &[&str]| Some(values.iter().map(|v| (*v).to_owned()).collect());
    let mut formats = serde_json::Map::new();
    formats.insert(
        "dc+sd-jwt".into(),
        serde_json::json!({"sd-jwt_alg_values": ["ES256"], "kb-jwt_alg_values": ["ES256"]}),
    );
    WalletMetadata {
        vp_formats_supported: Some(formats),
        client_id_prefixes_supported: strings(&["x509_san_dns", "x509_hash"]),
        request_object_signing_alg_values_supported: strings(&["ES256"]),
        authorization_encryption_alg_values_supported: strings(&["ECDH-ES"]),
        authorization_encryption_enc_values_supported: strings(&["A128GCM", "A256GCM"]),
        response_modes_supported: strings(&["direct_post", "direct_post.jwt"]),
        response_types_supported: strings(&["vp_token"]),
        jwks: None,
        extra: serde_json::Map::new(),
    }
}

/// The stable code of a fetch error.
pub(crate) fn fetch_code(error: &FetchError) -> &'static str {
    match error {
        FetchError::NotHttps(_) => "insecure_url",
        FetchError::InvalidUrl(_) => "invalid_url",
        FetchError::PrivateAddress { .. } => "private_address",
        FetchError::TooLarge { .. } => "response_too_large",
        FetchError::Timeout(_) => "timeout",
        FetchError::Redirect { .. } => "redirect_refused",
        FetchError::Transport { .. } | FetchError::Client(_) => "network_error",
    }
}

/// Who asks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifierIdentity {
    /// The `client_id`, prefix included.
    pub client_id: String,
    /// Whether an x5c chain to a trusted root authenticated it (false only
    /// for unsigned dev-mode requests).
    pub authenticated: bool,
    /// The DNS names of its certificate.
    pub dns_names: Vec<String>,
    /// `client_metadata.client_name`, as the verifier states it.
    pub name: Option<String>,
}

/// One claim the verifier would receive.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProposedClaim {
    /// The claims path (concrete: no wildcard).
    pub path: ClaimsPath,
    /// The path written with dots (`address.locality`), for selection.
    pub name: String,
    /// Its label in the wallet's locale, when known.
    pub label: Option<String>,
    /// Whether the request needs it (else the person may leave it out).
    /// Never for an over-asked claim.
    pub required: bool,
    /// Whether the verifier's registration does not cover it: it is then
    /// left out unless the person names it explicitly.
    pub overasked: bool,
}

/// One credential the verifier would receive.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProposedCredential {
    /// The DCQL credential query id.
    pub query_id: String,
    /// The wallet's credential id.
    pub credential_id: String,
    /// The credential's display name.
    pub name: String,
    /// `vct`.
    pub vct: String,
    /// Whether the request needs this credential.
    pub required: bool,
    /// Its last known status: `invalid` (revoked) or `suspended` only when
    /// no presentable credential satisfies the query; the person should be
    /// warned that the verifier will likely refuse it.
    pub status: CredentialStatus,
    /// The claims that would be disclosed.
    pub claims: Vec<ProposedClaim>,
    /// The names of its over-asked claims (empty when none).
    pub overasked: Vec<String>,
}

/// One Credential Query as asked, whatever the wallet holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestedCredential {
    /// The DCQL credential query id.
    pub query_id: String,
    /// The requested `vct_values`.
    pub vct_values: Vec<String>,
    /// The requested claims (dotted names; `*` for the whole credential).
    pub claims: Vec<String>,
    /// Those its registration does not cover (empty when none, and always
    /// empty without a valid registration).
    pub overasked: Vec<String>,
    /// Whether no registered credential covers the query at all.
    pub credential_overasked: bool,
}

/// What the person is asked to consent to.
#[derive(Debug, Clone, Serialize)]
pub struct ConsentProposal {
    /// Who asks.
    pub verifier: VerifierIdentity,
    /// Why, when the request says.
    pub purpose: Option<String>,
    /// The relying party's registration certificate, as checked.
    pub registration: RegistrationCheck,
    /// Every Credential Query with its claims and what is over-asked.
    pub requested: Vec<RequestedCredential>,
    /// Where the response goes.
    pub response_uri: String,
    /// Whether the response is encrypted (`direct_post.jwt`).
    pub encrypted: bool,
    /// The credentials and claims, required and optional.
    pub credentials: Vec<ProposedCredential>,
    /// Why the request cannot be satisfied, if it cannot: only a denial is
    /// then possible.
    pub unsatisfied: Option<String>,
    /// The Credential Queries no held credential matches (when
    /// `unsatisfied`); a denial names them to the verifier.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmatched: Vec<String>,
    #[serde(skip)]
    request: Box<AuthorizationRequest>,
    /// The signed Request Object and what authenticated it, when signed.
    #[serde(skip)]
    signed: Option<SignedRequest>,
}

/// A signed Request Object and the verifier key that authenticated it.
#[derive(Debug, Clone)]
struct SignedRequest {
    jwt: String,
    x5c: Vec<String>,
    key: intyg_core::jose::VerifyingKey,
}

impl ConsentProposal {
    /// Whether the held credentials can satisfy the request.
    pub fn satisfiable(&self) -> bool {
        self.unsatisfied.is_none()
    }

    /// Every over-asked claim, as `query_id.claim`.
    pub fn overasked(&self) -> Vec<String> {
        self.requested
            .iter()
            .flat_map(|c| {
                c.overasked
                    .iter()
                    .map(move |n| format!("{}.{n}", c.query_id))
            })
            .collect()
    }

    /// The selection that shares the over-asked claims of the held
    /// credentials too (`query_id.claim` each): the second, explicit
    /// confirmation.
    pub fn overasked_selection(&self) -> Vec<String> {
        self.credentials
            .iter()
            .flat_map(|c| {
                c.claims
                    .iter()
                    .filter(|claim| claim.overasked)
                    .map(move |claim| format!("{}.{}", c.query_id, claim.name))
            })
            .collect()
    }

    /// Refuses a request that over-asks, unless `allow`.
    pub fn check_overasking(&self, allow: bool) -> Result<(), PresentError> {
        let overasked = self.overasked();
        if allow || overasked.is_empty() {
            return Ok(());
        }
        Err(PresentError::Overasking(overasked))
    }
}

/// The person's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Decline: the verifier gets `access_denied`.
    Deny,
    /// Share the required claims and the optional ones named in
    /// `include` (a credential query id, a claim name such as
    /// `given_name` or `address.locality`, or `query_id.claim`).
    Approve {
        /// Optional claims to share.
        include: Vec<String>,
    },
}

/// How the exchange ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum Outcome {
    /// The presentation was accepted by the verifier.
    Shared {
        /// Where the verifier sends the person next, if anywhere (the app
        /// opens it; the CLI prints it).
        redirect_uri: Option<String>,
        /// The history entry.
        history_id: String,
    },
    /// The verifier was told `access_denied`.
    Denied {
        /// True when the wallet had no matching credentials.
        no_matching_credentials: bool,
        /// The history entry.
        history_id: String,
    },
}

impl Wallet {
    /// Reads and authenticates a presentation request and matches it
    /// against the held credentials that may be presented, after
    /// refreshing the status of those it matches. Sends nothing to the
    /// verifier; stores only the refreshed statuses.
    pub async fn prepare(&mut self, uri: &str) -> Result<ConsentProposal, PresentError> {
        self.refresh_due_trust_lists().await?;
        let (request, verifier, access, signed) = match AuthorizationRequest::from_uri(uri.trim())?
        {
            Invocation::ByValue(request) => {
                if !self.http().is_dev() {
                    return Err(PresentError::UnsignedRequest);
                }
                let client_id = request
                    .client_id
                    .as_ref()
                    .map(|c| c.as_str().to_owned())
                    .unwrap_or_default();
                let verifier = VerifierIdentity {
                    client_id,
                    authenticated: false,
                    dns_names: Vec::new(),
                    name: client_name(&request),
                };
                (request, verifier, None, None)
            }
            Invocation::ByReference(reference) => {
                let prefix = reference.client_id.prefix();
                if !matches!(
                    prefix,
                    ClientIdPrefix::X509Hash | ClientIdPrefix::X509SanDns
                ) {
                    return Err(PresentError::UnsupportedClientIdPrefix(prefix));
                }
                let (jwt, wallet_nonce) = self.request_object(&reference.source).await?;
                let roots = self.verifier_anchors()?;
                if roots.is_empty() {
                    return Err(PresentError::NoVerifierRoots);
                }
                let anchors = TrustAnchors::new(roots).map_err(TrustError::from)?;
                let authenticated = authenticate(
                    &jwt,
                    &reference.client_id,
                    &anchors,
                    wallet_nonce.as_deref(),
                    now(),
                )?;
                let verifier = VerifierIdentity {
                    client_id: reference.client_id.as_str().to_owned(),
                    authenticated: true,
                    dns_names: authenticated.leaf.dns_names.clone(),
                    name: client_name(&authenticated.request),
                };
                let signed = SignedRequest {
                    x5c: authenticated.header.x5c.clone().unwrap_or_default(),
                    key: authenticated.leaf.key.clone(),
                    jwt,
                };
                (
                    Box::new(authenticated.request),
                    verifier,
                    Some(authenticated.leaf),
                    Some(signed),
                )
            }
        };
        let mode = request.response_mode();
        if !matches!(mode, ResponseMode::DirectPost | ResponseMode::DirectPostJwt) {
            return Err(PresentError::UnsupportedResponseMode(mode.as_str()));
        }
        if request.transaction_data.is_some() {
            return Err(PresentError::TransactionDataUnsupported);
        }
        let response_uri = request
            .response_destination()
            .ok_or(PresentError::NoResponseUri)?
            .to_owned();
        self.http().check(&response_uri)?;
        let registration = self
            .check_registration(&request, access.as_ref(), request.dcql_query.query())
            .await?;
        let (credentials, unsatisfied, unmatched) =
            match self.evaluate_presentable(&request.dcql_query).await? {
                Ok(evaluation) => (
                    self.propose(&evaluation, request.dcql_query.query(), &registration),
                    None,
                    Vec::new(),
                ),
                Err(unsatisfied) => (
                    Vec::new(),
                    Some(unsatisfied.to_string()),
                    unsatisfied
                        .query_ids()
                        .into_iter()
                        .map(str::to_owned)
                        .collect(),
                ),
            };
        Ok(ConsentProposal {
            verifier,
            purpose: purpose(&request),
            requested: requested(request.dcql_query.query(), &registration),
            registration: registration.check,
            response_uri,
            encrypted: mode.is_encrypted(),
            credentials,
            unsatisfied,
            unmatched,
            request,
            signed,
        })
    }

    /// DCQL over the credentials that may be presented: the status of
    /// every credential the query matches is refreshed first, then those
    /// revoked or suspended are left out unless only they satisfy the
    /// query. A query that all held credentials cannot satisfy needs no
    /// status.
    async fn evaluate_presentable(
        &mut self,
        query: &ValidatedQuery,
    ) -> Result<Result<Evaluation, Unsatisfied>, StoreError> {
        let all = match evaluate(query, self.candidates()) {
            Ok(evaluation) => evaluation,
            Err(unsatisfied) => return Ok(Err(unsatisfied)),
        };
        // Answers still within their list's `ttl` are not asked again.
        let now = now();
        let matched: BTreeSet<String> = all
            .credentials
            .iter()
            .flat_map(|c| c.matches.iter().map(|m| m.candidate_id.clone()))
            .filter(|id| self.entries.get(id).is_some_and(|e| e.status.stale(now)))
            .collect();
        self.refresh_statuses(&matched.into_iter().collect::<Vec<_>>())
            .await?;
        let presentable: Vec<Candidate> = self
            .candidates()
            .iter()
            .filter(|c| self.entries.get(&c.id).is_some_and(|e| e.presentable()))
            .cloned()
            .collect();
        // When only revoked or suspended credentials satisfy the query,
        // they are proposed with their status, so that the person sees why
        // the verifier will likely refuse and decides; they are never
        // chosen over a presentable one.
        Ok(Ok(evaluate(query, &presentable).unwrap_or(all)))
    }

    async fn request_object(
        &self,
        source: &RequestObjectSource,
    ) -> Result<(String, Option<String>), PresentError> {
        let (request_uri, method) = match source {
            RequestObjectSource::Value(jwt) => return Ok((jwt.clone(), None)),
            RequestObjectSource::Uri {
                request_uri,
                method,
            } => (request_uri, method.unwrap_or(RequestUriMethod::Get)),
        };
        let (reply, wallet_nonce) = match method {
            RequestUriMethod::Get => (
                self.http()
                    .get(request_uri, "application/oauth-authz-req+jwt")
                    .await?,
                None,
            ),
            RequestUriMethod::Post => {
                // 128 bits, base64url: always a valid wallet_nonce.
                let nonce = WalletNonce::try_from(intyg_core::jose::b64url_encode(random::<16>()?))
                    .map_err(|_| PresentError::Crypto(CryptoError::Random))?;
                let post = RequestUriPost {
                    wallet_metadata: Some(wallet_metadata()),
                    wallet_nonce: Some(nonce.clone()),
                };
                (
                    self.http()
                        .post_form_with(
                            request_uri,
                            post.to_form(),
                            &[("accept", REQUEST_OBJECT_MEDIA_TYPE)],
                        )
                        .await?,
                    Some(nonce.to_string()),
                )
            }
        };
        if !reply.is_success() {
            return Err(PresentError::RequestUriStatus(reply.status));
        }
        Ok((reply.text().trim().to_owned(), wallet_nonce))
    }

    /// The proposal for an evaluation: for every credential set, its first
    /// satisfiable option; queries of required sets are required, those
    /// only in optional sets optional. Each query gets its first match.
    /// Within a credential, a claim of the chosen `claim_sets` option is
    /// optional when another option this credential satisfies leaves it out.
    fn propose(
        &self,
        evaluation: &Evaluation,
        dcql: &DcqlQuery,
        registration: &RegistrationOutcome,
    ) -> Vec<ProposedCredential> {
        let mut required: BTreeMap<&str, bool> = BTreeMap::new();
        for set in &evaluation.credential_sets {
            let Some(option) = set.satisfiable_options.first() else {
                continue;
            };
            for id in option {
                let flag = required.entry(id.as_str()).or_insert(false);
                *flag |= set.required;
            }
        }
        let locale = &self.config.locale;
        let mut proposed = Vec::new();
        for query in &evaluation.credentials {
            let Some(&is_required) = required.get(query.query_id.as_str()) else {
                continue;
            };
            let Some(found) = query.matches.first() else {
                continue;
            };
            let Some(entry) = self.entries.get(&found.candidate_id) else {
                continue;
            };
            let document = Value::Object(entry.claims.clone());
            let optional_ids = dcql
                .credential(&query.query_id)
                .map(|q| optional_claim_ids(q, &document, found.claim_set))
                .unwrap_or_default();
            let mut seen = HashSet::new();
            let mut claims = Vec::new();
            for claim in &found.claims {
                let optional = claim
                    .id
                    .as_ref()
                    .is_some_and(|id| optional_ids.contains(id));
                for concrete in claim
                    .disclose
                    .iter()
                    .flat_map(|path| concrete_paths(path, &document))
                {
                    if seen.insert(concrete.clone()) {
                        let overasked = registration.overasked.contains(&query.query_id, &concrete);
                        claims.push(ProposedClaim {
                            name: dotted(&concrete),
                            label: entry.display.label(&concrete, locale),
                            path: concrete,
                            required: is_required && !optional && !overasked,
                            overasked,
                        });
                    }
                }
            }
            proposed.push(ProposedCredential {
                query_id: query.query_id.clone(),
                credential_id: entry.id.clone(),
                name: entry.name(locale),
                vct: entry.vct.clone(),
                required: is_required,
                status: entry.status.status,
                overasked: claims
                    .iter()
                    .filter(|c| c.overasked)
                    .map(|c| c.name.clone())
                    .collect(),
                claims,
            });
        }
        proposed
    }

    /// Carries out the person's decision, and logs it.
    pub async fn respond(
        &mut self,
        proposal: ConsentProposal,
        decision: Decision,
    ) -> Result<Outcome, PresentError> {
        let include = match decision {
            Decision::Approve { include } if proposal.satisfiable() => include,
            Decision::Approve { .. } => return self.deny(&proposal, true).await,
            Decision::Deny => return self.deny(&proposal, false).await,
        };
        let chosen = select(&proposal, &include)?;
        let request = &proposal.request;
        let mut vp_token = BTreeMap::new();
        let mut used: BTreeMap<String, Vec<CredentialCopy>> = BTreeMap::new();
        let mut holder_key_ids = Vec::new();
        let mut sent_pointers: Vec<(String, Vec<String>)> = Vec::new();
        let iat = now();
        for credential in &chosen {
            let id = &credential.credential_id;
            if !used.contains_key(id) {
                used.insert(id.clone(), self.store.copies(&self.key, id)?);
            }
            let Some(copies) = used.get_mut(id) else {
                return Err(StoreError::NotFound(id.clone()).into());
            };
            let Some(index) = (0..copies.len()).min_by_key(|i| copies[*i].presentations) else {
                return Err(StoreError::NotFound(credential.credential_id.clone()).into());
            };
            let copy = &copies[index];
            let key = SigningKey::from_jwk(&self.store.holder_key(&self.key, &copy.key_id)?)?;
            let disclosed = SdJwt::parse(&copy.sd_jwt)?.disclose()?;
            let pointers: Vec<String> =
                credential.claims.iter().map(|c| pointer(&c.path)).collect();
            sent_pointers.push((credential.query_id.clone(), pointers.clone()));
            holder_key_ids.push(copy.key_id.clone());
            let pointers: Vec<&str> = pointers.iter().map(String::as_str).collect();
            let presentation = disclosed.present(
                &pointers,
                Some(KeyBindingInput {
                    key: &key,
                    aud: proposal.verifier.client_id.clone(),
                    nonce: request.nonce.as_str().to_owned(),
                    iat,
                }),
            )?;
            vp_token.insert(
                credential.query_id.clone(),
                vec![Presentation::Compact(presentation)],
            );
            copies[index].presentations = copies[index].presentations.saturating_add(1);
        }
        let vp_token = VpToken(vp_token);
        let vp_token_hash = intyg_core::rights::vp_token_hash(&vp_token);
        let response = AuthorizationResponse::new(vp_token, request.state.clone());
        let body = if request.response_mode().is_encrypted() {
            let metadata = request.client_metadata.clone().unwrap_or_default();
            let encryption = ResponseEncryption::select(&metadata)?;
            DirectPostBody::Encrypted(response.encrypt(&encryption)?)
        } else {
            DirectPostBody::Plain(response)
        };
        let sent = self.post(&proposal.response_uri, body.to_form()).await;
        let receipt = sent.as_ref().ok().and_then(|answer| {
            check_receipt(
                &proposal,
                answer,
                &ReceiptExpectations {
                    client_id: &proposal.verifier.client_id,
                    nonce: request.nonce.as_str(),
                    vp_token_hash: &vp_token_hash,
                    sent: &sent_pointers,
                    now: now(),
                },
            )
        });
        let history = HistoryEntry {
            request_object: proposal.signed.as_ref().map(|s| s.jwt.clone()),
            verifier_x5c: proposal
                .signed
                .as_ref()
                .map(|s| s.x5c.clone())
                .unwrap_or_default(),
            holder_key_ids,
            receipt,
            erasure: None,
            id: random_id()?,
            at: iat,
            kind: EventKind::Presentation,
            counterparty: proposal.verifier.client_id.clone(),
            counterparty_name: proposal.verifier.name.clone(),
            purpose: proposal.purpose.clone(),
            credentials: chosen
                .iter()
                .map(|c| HistoryCredential {
                    credential_id: Some(c.credential_id.clone()),
                    vct: c.vct.clone(),
                    claims: c.claims.iter().map(|claim| claim.path.clone()).collect(),
                })
                .collect(),
            result: match &sent {
                Ok(_) => EventResult::Success,
                Err(e) => EventResult::Failure {
                    code: e.code().to_owned(),
                    message: e.to_string(),
                },
            },
            registration: Some(history_registration(&proposal, &chosen)),
        };
        // The copies went out either way: count them as used.
        for (id, copies) in &used {
            let Some(mut entry) = self.entries.get(id).cloned() else {
                continue;
            };
            entry.copies_used = copies.iter().filter(|c| c.presentations > 0).count();
            self.store
                .write(&self.key, Some((&entry, copies)), &[], None)?;
        }
        self.store.append_history(&self.key, &history)?;
        self.reindex()?;
        let answer = sent?;
        tracing::info!(verifier = %proposal.verifier.client_id, credentials = chosen.len(), "presentation sent");
        Ok(Outcome::Shared {
            redirect_uri: answer.redirect_uri,
            history_id: history.id,
        })
    }

    async fn deny(
        &mut self,
        proposal: &ConsentProposal,
        no_match: bool,
    ) -> Result<Outcome, PresentError> {
        // Both are `access_denied` (§8.5); the description tells the
        // verifier which, and which credentials were missing.
        let denial = if no_match {
            Denial::NoMatchingCredential(proposal.unmatched.clone())
        } else {
            Denial::Declined
        };
        let error = denial.error_response(proposal.request.state.clone());
        // In `direct_post.jwt` the error is encrypted too (§8.3); a plain
        // one only when the request offers no usable key (§8.3.1).
        let encryption = proposal
            .request
            .response_mode()
            .is_encrypted()
            .then_some(proposal.request.client_metadata.as_ref())
            .flatten()
            .and_then(|metadata| ResponseEncryption::select(metadata).ok());
        let body = match encryption {
            Some(encryption) => DirectPostBody::Encrypted(error.encrypt(&encryption)?),
            None => DirectPostBody::Error(error),
        };
        let sent = self.post(&proposal.response_uri, body.to_form()).await;
        let history = HistoryEntry {
            request_object: proposal.signed.as_ref().map(|s| s.jwt.clone()),
            verifier_x5c: proposal
                .signed
                .as_ref()
                .map(|s| s.x5c.clone())
                .unwrap_or_default(),
            holder_key_ids: Vec::new(),
            receipt: None,
            erasure: None,
            id: random_id()?,
            at: now(),
            kind: EventKind::Denial,
            counterparty: proposal.verifier.client_id.clone(),
            counterparty_name: proposal.verifier.name.clone(),
            purpose: proposal.purpose.clone(),
            credentials: Vec::new(),
            result: match &sent {
                Ok(_) => EventResult::Success,
                Err(e) => EventResult::Failure {
                    code: e.code().to_owned(),
                    message: e.to_string(),
                },
            },
            registration: Some(history_registration(proposal, &[])),
        };
        self.log(&history)?;
        sent?;
        tracing::info!(verifier = %proposal.verifier.client_id, "request denied");
        Ok(Outcome::Denied {
            no_matching_credentials: no_match,
            history_id: history.id,
        })
    }

    async fn post(&self, uri: &str, form: String) -> Result<ResponseUriResponse, PresentError> {
        let reply = self.http().post_form(uri, form, None).await?;
        if !reply.is_success() {
            let error = serde_json::from_slice::<Value>(&reply.body)
                .ok()
                .and_then(|v| {
                    let error = v.get("error")?.as_str()?.to_owned();
                    Some(match v.get("error_description").and_then(Value::as_str) {
                        Some(d) => format!("{error} ({d})"),
                        None => error,
                    })
                });
            return Err(PresentError::VerifierRejected {
                status: reply.status,
                error,
            });
        }
        if reply.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(ResponseUriResponse::default());
        }
        let answer: ResponseUriResponse = serde_json::from_slice(&reply.body).unwrap_or_default();
        match &answer.redirect_uri {
            Some(uri) if self.http().check(uri).is_err() => Ok(ResponseUriResponse::default()),
            _ => Ok(answer),
        }
    }
}

/// The verifier's receipt in the Response URI's answer, if it sent one,
/// checked against the request and what was sent. A receipt that fails
/// is kept, marked unverified with the reason.
fn check_receipt(
    proposal: &ConsentProposal,
    answer: &ResponseUriResponse,
    expected: &ReceiptExpectations<'_>,
) -> Option<ReceiptRecord> {
    let jwt = answer.extra.get(RECEIPT_MEMBER)?.as_str()?.to_owned();
    let checked = match &proposal.signed {
        Some(signed) => Receipt::verify(&jwt, &signed.key, expected).map_err(|e| e.to_string()),
        None => Err("the request was not signed: no verifier key to check the receipt".into()),
    };
    Some(match checked {
        Ok(receipt) => ReceiptRecord {
            verified: true,
            error: None,
            transaction: Some(receipt.txn),
            received_at: Some(receipt.iat),
            retention_until: Some(receipt.retention_until),
            erasure_endpoint: Some(receipt.erasure_endpoint),
            received: receipt.received,
            jwt,
        },
        Err(error) => {
            tracing::warn!(error = %error, "the verifier's receipt does not verify");
            ReceiptRecord {
                verified: false,
                error: Some(error),
                transaction: None,
                received_at: None,
                retention_until: None,
                erasure_endpoint: None,
                received: Vec::new(),
                jwt,
            }
        }
    })
}

/// The credentials to present after the person's choice: required ones
/// whole, optional ones with the claims `include` names (dropped when it
/// names none of them).
fn select(
    proposal: &ConsentProposal,
    include: &[String],
) -> Result<Vec<ProposedCredential>, PresentError> {
    let mut unused: BTreeSet<&str> = include.iter().map(String::as_str).collect();
    let mut chosen = Vec::new();
    for credential in &proposal.credentials {
        if credential.required {
            // Its required claims always; its optional ones when named.
            let claims: Vec<ProposedClaim> = credential
                .claims
                .iter()
                .filter(|claim| {
                    let qualified = format!("{}.{}", credential.query_id, claim.name);
                    let hit = include
                        .iter()
                        .find(|s| **s == claim.name || **s == qualified);
                    if let Some(hit) = hit {
                        unused.remove(hit.as_str());
                    }
                    claim.required || hit.is_some()
                })
                .cloned()
                .collect();
            // Left out whole when every claim was over-asked and none was
            // chosen.
            if claims.is_empty() && !credential.claims.is_empty() {
                continue;
            }
            chosen.push(ProposedCredential {
                claims,
                ..credential.clone()
            });
            continue;
        }
        let whole = include.contains(&credential.query_id);
        if whole {
            unused.remove(credential.query_id.as_str());
        }
        let claims: Vec<ProposedClaim> = credential
            .claims
            .iter()
            .filter(|claim| {
                let qualified = format!("{}.{}", credential.query_id, claim.name);
                let hit = include
                    .iter()
                    .find(|s| **s == claim.name || **s == qualified);
                if let Some(hit) = hit {
                    unused.remove(hit.as_str());
                }
                whole || hit.is_some()
            })
            .cloned()
            .collect();
        if whole || !claims.is_empty() {
            chosen.push(ProposedCredential {
                claims,
                ..credential.clone()
            });
        }
    }
    // A name of a required claim is accepted too: it is shared anyway.
    unused.retain(|s| {
        !proposal
            .credentials
            .iter()
            .any(|c| c.query_id == *s || c.claims.iter().any(|claim| claim.name == *s))
    });
    match unused.into_iter().next() {
        Some(unknown) => Err(PresentError::UnknownSelection(unknown.to_owned())),
        None => Ok(chosen),
    }
}

/// Every Credential Query of `query`, with what `registration` finds
/// over-asked in it.
fn requested(query: &DcqlQuery, registration: &RegistrationOutcome) -> Vec<RequestedCredential> {
    query
        .credentials
        .iter()
        .map(|q| {
            let claims = match &q.claims {
                Some(claims) => claims.iter().map(|c| dotted(&c.path)).collect(),
                None => vec!["*".to_owned()],
            };
            let over = registration.overasked.0.iter().find(|o| o.query_id == q.id);
            RequestedCredential {
                query_id: q.id.clone(),
                vct_values: q.meta.vct_values.clone().unwrap_or_default(),
                claims,
                overasked: registration
                    .overasked_claims(&q.id)
                    .iter()
                    .map(|p| {
                        if p.0.is_empty() {
                            "*".to_owned()
                        } else {
                            dotted(p)
                        }
                    })
                    .collect(),
                credential_overasked: over.is_some_and(|o| o.credential),
            }
        })
        .collect()
}

/// The registration check of a history entry: the check, what was
/// over-asked, and what of it `chosen` shares.
fn history_registration(
    proposal: &ConsentProposal,
    chosen: &[ProposedCredential],
) -> HistoryRegistration {
    HistoryRegistration {
        valid: proposal.registration.valid,
        reason: proposal.registration.reason.clone(),
        name: proposal.registration.name.clone(),
        purpose: proposal.registration.purpose.clone(),
        overasked: proposal.overasked(),
        overasked_shared: chosen
            .iter()
            .flat_map(|c| {
                c.claims
                    .iter()
                    .filter(|claim| claim.overasked)
                    .map(move |claim| format!("{}.{}", c.query_id, claim.name))
            })
            .collect(),
    }
}

/// `client_metadata.client_name`, if the verifier gives one.
fn client_name(request: &AuthorizationRequest) -> Option<String> {
    request
        .client_metadata
        .as_ref()?
        .extra
        .get("client_name")?
        .as_str()
        .map(str::to_owned)
}

/// The purpose: a `purpose` request parameter, or `purpose` in
/// `client_metadata` or in a `verifier_info` entry.
fn purpose(request: &AuthorizationRequest) -> Option<String> {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    request
        .extra
        .get("purpose")
        .and_then(text)
        .or_else(|| {
            request
                .client_metadata
                .as_ref()?
                .extra
                .get("purpose")
                .and_then(text)
        })
        .or_else(|| {
            request
                .verifier_info
                .iter()
                .flatten()
                .find_map(|info| info.data.get("purpose").and_then(text))
        })
}

/// The concrete paths a (possibly wildcard) path selects in `document`.
fn concrete_paths(path: &ClaimsPath, document: &Value) -> Vec<ClaimsPath> {
    match path.select(document) {
        Ok(selected) => selected.into_iter().map(|s| s.path).collect(),
        Err(_) => Vec::new(),
    }
}

/// `["address", "locality"]` → `address.locality`; indexes as numbers.
fn dotted(path: &ClaimsPath) -> String {
    path.0
        .iter()
        .map(|element| match element {
            PathElement::Key(key) => key.clone(),
            PathElement::Index(index) => index.to_string(),
            PathElement::AllElements => "*".into(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// A concrete claims path as a JSON pointer (RFC 6901).
fn pointer(path: &ClaimsPath) -> String {
    path.0
        .iter()
        .map(|element| match element {
            PathElement::Key(key) => format!("/{}", key.replace('~', "~0").replace('/', "~1")),
            PathElement::Index(index) => format!("/{index}"),
            PathElement::AllElements => "/-".into(),
        })
        .collect()
}

/// Ids of the claims in `query`'s chosen `claim_sets` option that some other
/// option, also satisfied by `document`, leaves out: the person may withhold
/// them (OpenID4VP 1.0 §6.4.1).
fn optional_claim_ids(
    query: &intyg_core::dcql::CredentialQuery,
    document: &Value,
    chosen: Option<usize>,
) -> HashSet<String> {
    let (Some(sets), Some(chosen)) = (&query.claim_sets, chosen) else {
        return HashSet::new();
    };
    let available = |id: &String| {
        query
            .claims
            .iter()
            .flatten()
            .find(|claim| claim.id.as_ref() == Some(id))
            .is_some_and(|claim| {
                claim.path.select(document).is_ok_and(|selected| {
                    selected.iter().any(|s| {
                        claim
                            .values
                            .as_ref()
                            .is_none_or(|values| values.iter().any(|v| v.matches(s.value)))
                    })
                })
            })
    };
    let satisfiable: Vec<&Vec<String>> = sets
        .iter()
        .filter(|option| option.iter().all(available))
        .collect();
    sets.get(chosen)
        .into_iter()
        .flatten()
        .filter(|id| !satisfiable.iter().all(|option| option.contains(id)))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn claims_left_out_by_another_satisfiable_claim_set_are_optional() {
        let query: intyg_core::dcql::CredentialQuery = serde_json::from_value(serde_json::json!({
            "id": "registration", "format": "dc+sd-jwt", "meta": {"vct_values": ["v"]},
            "claims": [
                {"id": "status", "path": ["registration_status"]},
                {"id": "name", "path": ["given_name"]},
                {"id": "pin", "path": ["personal_identity_number"]}
            ],
            "claim_sets": [["status", "name"], ["status"], ["pin"]]
        }))
        .unwrap();
        let held = serde_json::json!({"registration_status": "job_seeker", "given_name": "Karin"});
        let optional = optional_claim_ids(&query, &held, Some(0));
        assert_eq!(optional, HashSet::from(["name".to_owned()]));
        // Without a claim set that leaves the name out, nothing is optional.
        let only_status = serde_json::json!({"registration_status": "job_seeker"});
        assert!(optional_claim_ids(&query, &only_status, Some(1)).is_empty());
        assert!(optional_claim_ids(&query, &held, None).is_empty());
    }
    use super::*;

    #[test]
    fn paths_become_pointers_and_names() {
        let path: ClaimsPath = serde_json::from_str(r#"["a/b", "c~d", 2]"#).unwrap();
        assert_eq!(pointer(&path), "/a~1b/c~0d/2");
        assert_eq!(dotted(&path), "a/b.c~d.2");
    }
}
