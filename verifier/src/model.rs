//! Stored records: transactions (one per presentation request) and
//! consent records.

use intyg_core::dcql::DcqlQuery;
use intyg_core::oid4vp::RequestUriMethod;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// Where a transaction stands. `Pending` until the wallet answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Waiting for the wallet.
    Pending,
    /// Every check passed.
    Verified,
    /// The person declined (`access_denied`).
    Declined,
    /// The wallet holds no credential for some of the Credential Queries
    /// (`access_denied` with Intyg's "no matching credential"
    /// description); `missing_credentials` names them.
    NoMatchingCredential,
    /// A check failed; `reason` says which.
    Failed,
}

/// One presentation request and, once answered, its result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transaction {
    /// Random id, in the request and response URIs.
    pub id: String,
    /// The request `nonce`: single-use, as the transaction is.
    pub nonce: String,
    /// The request `state`.
    pub state: String,
    /// Our client identifier when the request was made.
    pub client_id: String,
    /// The DCQL query (validated when the transaction was made).
    pub dcql_query: StoredQuery,
    /// Why the employer asks.
    pub purpose: String,
    /// The template it was made from, if any.
    pub template: Option<String>,
    /// How old a status list may be when used for this presentation, in
    /// seconds (0: fetched for it); `None`: as long as the list's `ttl`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_status_age: Option<u64>,
    /// The OpenID Connect authorization request this presentation answers
    /// (the OpenID Provider bridge), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<OidcRequest>,
    /// `direct_post.jwt` or `direct_post`.
    pub response_mode: String,
    /// `request_uri_method` of the invocation link (OpenID4VP 1.0 §5.10);
    /// absent means none was sent (GET). Either method is served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_uri_method: Option<RequestUriMethod>,
    /// The private P-256 JWK responses are encrypted to; dropped once the
    /// transaction completes.
    pub encryption_key: Option<Map<String, Value>>,
    /// When it was made, seconds since the epoch.
    pub created_at: i64,
    /// When the wallet's time to answer runs out.
    pub expires_at: i64,
    /// Where it stands.
    pub outcome: Outcome,
    /// Whether a response has taken this pending transaction and is being
    /// checked (a second one is a replay). Read from the store's claim
    /// ([`TransactionStore::claim`](crate::store::TransactionStore::claim)),
    /// not written in the record by this version; kept for records of
    /// earlier ones.
    pub processing: bool,
    /// The failure reason code (`wrong_nonce`, `revoked`...), or the
    /// wallet's error code for a decline.
    pub reason: Option<String>,
    /// What failed, without personal data.
    pub reason_description: Option<String>,
    /// The Credential Query whose presentation failed, when one of several
    /// did.
    #[serde(default)]
    pub failed_credential: Option<String>,
    /// The Credential Queries the wallet had nothing for
    /// ([`Outcome::NoMatchingCredential`]).
    #[serde(default)]
    pub missing_credentials: Vec<String>,
    /// The verified credentials; emptied at the end of the retention period.
    pub credentials: Vec<VerifiedCredentialRecord>,
    /// When the response was processed.
    pub completed_at: Option<i64>,
    /// When the verified claims were deleted.
    pub claims_deleted_at: Option<i64>,
    /// The posting whose applicant session this is, if any (its legal
    /// basis to keep data decides an erasure request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posting_id: Option<String>,
    /// The verified claims of `credentials`, sealed under this
    /// transaction's own key ([`crate::personal`]); at rest the records'
    /// `claims` are empty. Gone once erased or past retention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_claims: Option<String>,
    /// RFC 7638 thumbprints of the holder keys (`cnf.jwk`) of the
    /// presentations accepted: an erasure request must be signed by one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holder_keys: Vec<String>,
    /// The `vp_token_hash` of the accepted VP Token (as in the receipt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vp_token_hash: Option<String>,
    /// An erasure request and what became of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erasure: Option<Erasure>,
}

/// A transaction's DCQL query as its JSON text: a record is read and
/// written several times per presentation, the query parsed only where it
/// is used. The text is kept as read, so a record written back is the
/// record read (the stores' compare-and-swap compares them).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StoredQuery(Box<RawValue>);

impl StoredQuery {
    /// The JSON of `query`.
    pub fn of(query: &DcqlQuery) -> Result<Self, serde_json::Error> {
        serde_json::value::to_raw_value(query).map(Self)
    }

    /// The query, parsed (not validated again).
    pub fn query(&self) -> Result<DcqlQuery, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }

    /// The JSON text.
    pub fn json(&self) -> &str {
        self.0.get()
    }
}

impl PartialEq for StoredQuery {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
    }
}

/// An erasure request (Intyg extension, GDPR Art. 17) on a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Erasure {
    /// When the first accepted request came.
    pub requested_at: i64,
    /// The `jti` of that request.
    pub request_jti: String,
    /// When the personal data was erased; `None` while the erasure is
    /// under way (a restart finishes it) or when it was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<i64>,
    /// The legal basis it was refused under, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

impl Transaction {
    /// When its personal data was erased on request, if it was.
    pub fn erased_at(&self) -> Option<i64> {
        self.erasure.as_ref().and_then(|e| e.erased_at)
    }

    /// Whether an accepted erasure request still has work to do.
    pub fn erasure_pending(&self) -> bool {
        self.erasure
            .as_ref()
            .is_some_and(|e| e.erased_at.is_none() && e.refused.is_none())
    }

    /// Whether a response took this transaction and no outcome was ever
    /// written: still pending and taken [`ABANDONED_AFTER`] seconds after
    /// its time ran out. Only an instance that stopped mid-check (or a
    /// store that refused every write) leaves one; it counts as failed.
    pub fn abandoned(&self, now: i64) -> bool {
        self.outcome == Outcome::Pending
            && self.processing
            && now >= self.expires_at.saturating_add(ABANDONED_AFTER)
    }
}

/// How long after a taken transaction's expiry its missing outcome counts
/// as a failure ([`Transaction::abandoned`]), in seconds: far longer than
/// a check takes (its slowest step, a status list fetch, times out first).
pub const ABANDONED_AFTER: i64 = 60;

/// One verified credential of a response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifiedCredentialRecord {
    /// The DCQL Credential Query it answers.
    pub query_id: String,
    /// Its type.
    pub vct: String,
    /// Its issuer (`iss`).
    pub issuer: Option<String>,
    /// The disclosed subject claims.
    pub claims: Map<String, Value>,
    /// Its status-list status when checked: `valid`.
    pub status: Option<String>,
    /// When the status was checked (seconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_checked_at: Option<i64>,
    /// When the status list used was fetched: at most the request's
    /// `max_status_age` before the check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_list_fetched_at: Option<i64>,
    /// When the issuer signed that status list (its `iat`): the list was
    /// `status_checked_at - status_list_issued_at` seconds old.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_list_issued_at: Option<i64>,
    /// The issuer's display name by locale, from its credential issuer
    /// metadata (`display`, OpenID4VCI 1.0 §12.2.4); empty when it gives
    /// none or could not be fetched.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub issuer_name: std::collections::BTreeMap<String, String>,
}

/// What was requested from one credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestedCredential {
    /// The Credential Query id.
    pub query_id: String,
    /// Acceptable types.
    pub vct_values: Vec<String>,
    /// Requested claim paths, as JSON arrays in text.
    pub claims: Vec<String>,
}

/// What one credential disclosed: names, never values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DisclosedCredential {
    /// The Credential Query id.
    pub query_id: String,
    /// Its type.
    pub vct: String,
    /// Its issuer.
    pub issuer: Option<String>,
    /// JSON pointers of the selectively disclosed claims.
    pub claims: Vec<String>,
}

/// The record of a person's consent to one presentation. It holds no
/// claim values and outlives the retention period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentRecord {
    /// The transaction.
    pub transaction_id: String,
    /// Our client identifier.
    pub verifier: String,
    /// Our name.
    pub verifier_name: String,
    /// The stated purpose.
    pub purpose: String,
    /// What was requested.
    pub requested: Vec<RequestedCredential>,
    /// What was disclosed.
    pub disclosed: Vec<DisclosedCredential>,
    /// When, seconds since the epoch.
    pub at: i64,
    /// Base64url SHA-256 of the response body as received.
    pub presentation_digest: String,
    /// When the transaction's personal data was erased on the person's
    /// request (the rest of this record is kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<i64>,
}

/// An OpenID Connect authorization request waiting for its presentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcRequest {
    /// The client.
    pub client_id: String,
    /// Where the browser goes back to.
    pub redirect_uri: String,
    /// The client's `state`, echoed.
    pub state: Option<String>,
    /// The client's `nonce`, put in the ID token.
    pub nonce: Option<String>,
    /// The PKCE `S256` challenge.
    pub code_challenge: String,
    /// The requested scopes (`openid` and the template's).
    pub scope: String,
    /// Set once the browser was sent back: the answer is given once.
    pub answered: bool,
    /// The base64url SHA-256 of the random cookie set in the browser that
    /// opened `/authorize`: only that browser gets the answer at
    /// `/authorize/{tx}/done` (the transaction id is public, in the QR
    /// code's `request_uri`). Absent in records of earlier versions, which
    /// are therefore never answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser_binding: Option<String>,
}
