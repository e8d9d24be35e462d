//! Lists of Trusted Entities (ETSI TS 119 602, JSON form) the wallet
//! subscribes to: [`Wallet::add_trust_list`] (a URL and the pinned signer),
//! [`Wallet::refresh_trust_lists`], [`Wallet::trust_lists`],
//! [`Wallet::remove_trust_list`]. Lists are fetched through the wallet's
//! [`crate::http::Http`] (SSRF rules, size and time limits), verified by
//! `core::trust::lote`, and kept sealed in the `trust_lists` tree with the
//! last good list: a list that fails a check, or goes back in
//! `LoTESequenceNumber`, never replaces it ([`ListState`]).
//!
//! What the wallet takes from the lists in force, next to its configured
//! roots: relying-party access CAs (`WRPAC/Issuance`, and the TS 119 612
//! `CA/PKC` type) for signed requests; WRPRC providers (`WRPRC/Issuance`)
//! for registration certificates; and issuers (PID, Pub-EAA, QEAA, EAA
//! issuance): a credential whose `x5c` chains to a listed anchor, its leaf
//! naming `iss`, is shown as issued by a provider on that list
//! ([`crate::CredentialEntry::listed_on`]).

use intyg_core::sd_jwt::SdJwt;
use intyg_core::trust::lote::{self, ListState, LotePolicy, ServiceType, VerifiedLote};
use intyg_core::trust::{Certificate, ListedAnchors, TrustAnchors, TrustList, X509Error};
use serde::{Deserialize, Serialize};

use crate::http::FetchError;
use crate::model::CredentialEntry;
use crate::{StoreError, Wallet, now};

/// What the store keeps of one subscription.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Subscription {
    pub(crate) url: String,
    /// The pinned signer (the operator's CA or signing certificate), PEM.
    pub(crate) signer_pem: String,
    /// The last good list as fetched (compact JWS).
    #[serde(default)]
    pub(crate) list: Option<String>,
    /// When the last good list was fetched.
    #[serde(default)]
    pub(crate) fetched_at: Option<i64>,
    /// The last refusal since the last good list.
    #[serde(default)]
    pub(crate) last_error: Option<ListFailure>,
}

/// Why the last fetch of a list did not replace the good one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListFailure {
    /// A stable code: a `lote_*` code of [`lote::LoteError::code`], or
    /// `trust_list_unreachable`.
    pub code: String,
    /// In words.
    pub message: String,
    /// When (Unix seconds).
    pub at: i64,
}

/// A listed entity's service, for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListedServiceSummary {
    /// The entity's name.
    pub entity: String,
    /// The service type URI.
    pub service_type: String,
}

/// One subscription as the wallet shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TrustListStatus {
    /// Where the list is fetched from.
    pub url: String,
    /// The list's name (`SchemeName`, else the operator's), when a good
    /// list is held.
    pub name: Option<String>,
    /// `LoTESequenceNumber` of the good list.
    pub sequence_number: Option<u64>,
    /// `ListIssueDateTime` of the good list (Unix seconds).
    pub issued_at: Option<i64>,
    /// `NextUpdate` of the good list (Unix seconds).
    pub next_update: Option<i64>,
    /// When the good list was fetched.
    pub fetched_at: Option<i64>,
    /// Whether the good list is in use (verified, not past `NextUpdate`
    /// plus the grace period).
    pub usable: bool,
    /// Whether it is past `NextUpdate` (within the grace period).
    pub stale: bool,
    /// The services in force.
    pub services: Vec<ListedServiceSummary>,
    /// The last refusal since the good list, if any.
    pub last_error: Option<ListFailure>,
}

/// Why a subscription could not be added or changed.
#[derive(Debug, thiserror::Error)]
pub enum TrustListError {
    /// The signer PEM holds no usable certificate.
    #[error("list signer: {0}")]
    Signer(#[from] X509Error),
    /// The URL is refused by the network policy.
    #[error(transparent)]
    Url(#[from] FetchError),
    /// The first fetch gave no good list; nothing was stored.
    #[error("{message}")]
    Refused {
        /// The failure's code (as in [`ListFailure::code`]).
        code: &'static str,
        /// In words.
        message: String,
    },
    /// No subscription with this URL.
    #[error("no trust list subscription for `{0}`")]
    NotSubscribed(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TrustListError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Signer(_) => "invalid_certificate",
            Self::Url(_) => "trust_list_url",
            Self::Refused { code, .. } => code,
            Self::NotSubscribed(_) => "trust_list_unknown",
            Self::Store(_) => "store",
        }
    }
}

/// Service types of relying-party access CAs.
fn access_ca(service: &ServiceType) -> bool {
    matches!(service, ServiceType::WrpacIssuance | ServiceType::CaPkc)
}

/// Service types of WRPRC providers.
fn wrprc_provider(service: &ServiceType) -> bool {
    *service == ServiceType::WrprcIssuance
}

const UNREACHABLE: &str = "trust_list_unreachable";

/// How long a list past its `NextUpdate` whose fetch failed waits before
/// a request or offer tries it again.
pub const DUE_RETRY_SECONDS: i64 = 60;

impl Subscription {
    fn signers(&self) -> Result<TrustAnchors, X509Error> {
        TrustAnchors::new(Certificate::from_pem(&self.signer_pem)?)
    }

    /// The stored good list, verified again (its signature and signer;
    /// its age is judged by [`ListState::usable`], so a list past its
    /// grace period still counts against a rollback).
    fn state(&self) -> ListState {
        let mut state = ListState::default();
        let (Some(list), Ok(signers)) = (&self.list, self.signers()) else {
            return state;
        };
        let lenient = LotePolicy {
            grace_seconds: i64::MAX / 4,
            ..LotePolicy::default()
        };
        state.good = lote::verify(list.as_bytes(), &signers, now(), &lenient).ok();
        state
    }

    fn usable(&self) -> Option<VerifiedLote> {
        let now = now();
        self.state()
            .usable(now, LotePolicy::default().grace_seconds)
            .cloned()
    }

    fn status(&self) -> TrustListStatus {
        let state = self.state();
        let good = state.good.as_ref();
        let usable = state
            .usable(now(), LotePolicy::default().grace_seconds)
            .is_some();
        TrustListStatus {
            url: self.url.clone(),
            name: good.map(VerifiedLote::name),
            sequence_number: good.map(VerifiedLote::sequence_number),
            issued_at: good.map(|l| l.issued_at),
            next_update: good.map(|l| l.next_update),
            fetched_at: self.fetched_at,
            usable,
            stale: good.is_some_and(|l| now() > l.next_update),
            services: good
                .map(|l| {
                    l.services()
                        .iter()
                        .map(|s| ListedServiceSummary {
                            entity: s.entity.clone(),
                            service_type: s.service_type.uri(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            last_error: self.last_error.clone(),
        }
    }
}

impl Wallet {
    /// Subscribes to the list at `url`, signed under `signer_pem` (the
    /// operator's CA or its signing certificate), and fetches it. Nothing
    /// is stored unless the first fetch gives a good list. Subscribing
    /// again to the same URL replaces the pin and keeps the good list.
    pub async fn add_trust_list(
        &mut self,
        url: &str,
        signer_pem: &str,
    ) -> Result<TrustListStatus, TrustListError> {
        TrustAnchors::new(Certificate::from_pem(signer_pem)?)?;
        self.http().check(url)?;
        let existing = self.store.trust_list(&self.key, url)?;
        let mut subscription = Subscription {
            url: url.to_owned(),
            signer_pem: signer_pem.to_owned(),
            list: None,
            fetched_at: None,
            last_error: None,
        };
        if let Some(existing) = existing {
            subscription.list = existing.list;
            subscription.fetched_at = existing.fetched_at;
        }
        if let Err((code, message)) = self.fetch_list(&mut subscription).await {
            return Err(TrustListError::Refused { code, message });
        }
        if subscription.usable().is_none() {
            return Err(TrustListError::Refused {
                code: "lote_expired",
                message: "the list is past NextUpdate and its grace period".into(),
            });
        }
        self.store.put_trust_list(&self.key, &subscription)?;
        self.relist()?;
        Ok(subscription.status())
    }

    /// Fetches every subscribed list again; a list that fails keeps the
    /// last good one and records why. Then re-derives which list each
    /// credential's issuer is on.
    pub async fn refresh_trust_lists(&mut self) -> Result<Vec<TrustListStatus>, TrustListError> {
        let mut out = Vec::new();
        for mut subscription in self.store.trust_lists(&self.key)? {
            // A failure is recorded in the subscription and shown.
            let _ = self.fetch_list(&mut subscription).await;
            self.store.put_trust_list(&self.key, &subscription)?;
            out.push(subscription.status());
        }
        self.relist()?;
        Ok(out)
    }

    /// Fetches again, before the wallet relies on its lists, each list
    /// past its `NextUpdate` (or never had good): the wallet runs no task
    /// of its own, so a request or an offer is when its lists are
    /// refreshed by `NextUpdate`. After a failed fetch a list waits
    /// [`DUE_RETRY_SECONDS`]. A failure keeps the last good list and is
    /// recorded, as on [`Wallet::refresh_trust_lists`].
    pub(crate) async fn refresh_due_trust_lists(&mut self) -> Result<(), StoreError> {
        let now = now();
        let mut fetched = false;
        for mut subscription in self.store.trust_lists(&self.key)? {
            let due = subscription
                .state()
                .good
                .as_ref()
                .is_none_or(|list| now > list.next_update);
            // After a failed fetch, wait: an unreachable operator must not
            // slow down every request.
            let failed_at = subscription.last_error.as_ref().map(|e| e.at);
            if !due || failed_at.is_some_and(|at| now - at < DUE_RETRY_SECONDS) {
                continue;
            }
            // A failure is recorded in the subscription and shown.
            let _ = self.fetch_list(&mut subscription).await;
            self.store.put_trust_list(&self.key, &subscription)?;
            fetched = true;
        }
        if fetched {
            self.relist()?;
        }
        Ok(())
    }

    /// The subscriptions and their state.
    pub fn trust_lists(&self) -> Result<Vec<TrustListStatus>, TrustListError> {
        Ok(self
            .store
            .trust_lists(&self.key)?
            .iter()
            .map(Subscription::status)
            .collect())
    }

    /// Ends the subscription to `url`.
    pub fn remove_trust_list(&mut self, url: &str) -> Result<(), TrustListError> {
        if !self.store.remove_trust_list(url)? {
            return Err(TrustListError::NotSubscribed(url.to_owned()));
        }
        self.relist()?;
        Ok(())
    }

    /// One fetch and check; the outcome offered to the list's state and
    /// recorded in `subscription`. The refusal, if any, is also returned.
    async fn fetch_list(
        &self,
        subscription: &mut Subscription,
    ) -> Result<(), (&'static str, String)> {
        let at = now();
        let fetched = match self
            .http()
            .get(&subscription.url, "application/jwt, application/json")
            .await
        {
            Ok(reply) if reply.is_success() => Ok(reply.body),
            Ok(reply) => Err(format!("HTTP {}", reply.status)),
            Err(e) => Err(e.to_string()),
        };
        let body = match fetched {
            Ok(body) => body,
            Err(message) => {
                tracing::warn!(list = %subscription.url, "trust list not fetched");
                subscription.last_error = Some(ListFailure {
                    code: UNREACHABLE.into(),
                    message: message.clone(),
                    at,
                });
                return Err((UNREACHABLE, message));
            }
        };
        let candidate = match subscription.signers() {
            Ok(signers) => lote::verify(&body, &signers, at, &LotePolicy::default()),
            Err(e) => Err(lote::LoteError::UntrustedSigner(e.to_string())),
        };
        let mut state = subscription.state();
        if state.offer(candidate, at) {
            subscription.list = Some(String::from_utf8_lossy(&body).trim().to_owned());
            subscription.fetched_at = Some(at);
            subscription.last_error = None;
            return Ok(());
        }
        let Some((error, at)) = state.last_error else {
            return Ok(());
        };
        tracing::warn!(list = %subscription.url, code = error.code(), "trust list refused; the last good one is kept");
        subscription.last_error = Some(ListFailure {
            code: error.code().into(),
            message: error.to_string(),
            at,
        });
        Err((error.code(), error.to_string()))
    }

    /// The lists in force.
    fn lists_in_force(&self) -> Result<Vec<VerifiedLote>, StoreError> {
        Ok(self
            .store
            .trust_lists(&self.key)?
            .iter()
            .filter_map(Subscription::usable)
            .collect())
    }

    /// The certificates of listed services of the kinds `keep` admits,
    /// each usable as a trust anchor.
    fn listed_certificates(
        &self,
        keep: fn(&ServiceType) -> bool,
    ) -> Result<Vec<Certificate>, StoreError> {
        Ok(self
            .lists_in_force()?
            .iter()
            .flat_map(|list| list.services().to_vec())
            .filter(|service| keep(&service.service_type))
            .flat_map(|service| service.certificates)
            .filter(|certificate| TrustAnchors::new(vec![certificate.clone()]).is_ok())
            .collect())
    }

    /// Relying-party access CAs named by the lists in force.
    pub(crate) fn listed_access_cas(&self) -> Result<Vec<Certificate>, StoreError> {
        self.listed_certificates(access_ca)
    }

    /// WRPRC providers named by the lists in force.
    pub(crate) fn listed_wrprc_providers(&self) -> Result<Vec<Certificate>, StoreError> {
        self.listed_certificates(wrprc_provider)
    }

    /// The name of the first list in force whose PID or attestation
    /// providers issued `compact` (its `x5c` chains to a listed anchor and
    /// the leaf names `iss`).
    pub(crate) fn listed_on(&self, compact: &str, vct: &str, iss: &str) -> Option<String> {
        let sd_jwt = SdJwt::parse(compact).ok()?;
        let header = sd_jwt.header();
        header.x5c.as_ref()?;
        let lists = match self.lists_in_force() {
            Ok(lists) => lists,
            Err(e) => {
                tracing::warn!(error = %e, "trust lists not read");
                return None;
            }
        };
        let at = now();
        lists.iter().find_map(|list| {
            let anchors = ListedAnchors::from_lote(list).ok()?;
            let mut trust = TrustList::new();
            trust.set_listed(list.name(), anchors);
            trust.issuer_key(vct, Some(iss), header, at).ok()?;
            Some(list.name())
        })
    }

    /// Re-derives [`CredentialEntry::listed_on`] for every credential
    /// from its first copy and the lists in force.
    fn relist(&mut self) -> Result<(), StoreError> {
        let entries: Vec<CredentialEntry> = self.credentials().into_iter().cloned().collect();
        let mut changed = false;
        for mut entry in entries {
            let copies = self.store.copies(&self.key, &entry.id)?;
            let listed = copies
                .first()
                .and_then(|copy| self.listed_on(&copy.sd_jwt, &entry.vct, &entry.issuer));
            if listed != entry.listed_on {
                entry.listed_on = listed;
                self.store
                    .write(&self.key, Some((&entry, &copies)), &[], None)?;
                changed = true;
            }
        }
        if changed {
            self.reindex()?;
        }
        Ok(())
    }
}
