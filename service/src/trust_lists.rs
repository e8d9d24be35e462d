//! Lists of Trusted Entities (ETSI TS 119 602) fetched, checked and kept,
//! for both services.
//!
//! Each configured list is fetched over [`Fetcher`] (SSRF rules, a 10 s
//! limit, at most [`MAX_LIST_BYTES`]), verified by
//! `intyg_core::trust::lote` against its pinned signer, and offered to a
//! [`ListState`]: a list that fails any check never replaces the last good
//! one, and a lower `LoTESequenceNumber` is refused. `PointersToOtherLoTE`
//! of a good list are followed one level, each against the signers the
//! pointer pins. [`TrustLists::spawn`] refreshes in the background, at the
//! earliest `NextUpdate` but at least every hour and at most every
//! minute (or at a configured interval); [`TrustLists::refresh_now`] does
//! one round at once.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use intyg_core::trust::TrustAnchors;
use intyg_core::trust::lote::{self, ListState, LotePolicy, VerifiedLote};
use serde::{Deserialize, Serialize};

use crate::fetch::{FetchError, Fetcher};
use crate::time::now;

/// How long one list fetch may take.
pub const FETCH_TIMEOUT_MS: u64 = 10_000;
/// The largest list fetched.
pub const MAX_LIST_BYTES: usize = lote::MAX_LIST_BYTES;
/// The longest wait between refreshes.
pub const MAX_REFRESH_SECONDS: u64 = 3600;
/// The shortest wait between refreshes of good lists.
pub const MIN_REFRESH_SECONDS: u64 = 60;
/// The wait while a configured list has never been fetched good.
pub const STARTING_RETRY_SECONDS: u64 = 5;

/// One configured list (`[[trust_lists]]`, `--trust-list` with
/// `--trust-list-signer`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustListSource {
    /// Where the list (a compact JWS) is published.
    pub url: String,
    /// PEM: the scheme operator's CA or its signing certificate, pinned.
    pub signer: PathBuf,
}

/// `[trust_list_refresh]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshSettings {
    /// Refresh every this many seconds instead of by `NextUpdate`.
    #[serde(default)]
    pub interval_seconds: Option<u64>,
    /// Seconds after `NextUpdate` a list is still used (stale).
    #[serde(default = "default_grace")]
    pub grace_seconds: i64,
}

fn default_grace() -> i64 {
    lote::DEFAULT_GRACE_SECONDS
}

impl Default for RefreshSettings {
    fn default() -> Self {
        Self {
            interval_seconds: None,
            grace_seconds: default_grace(),
        }
    }
}

/// Why the configured lists could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TrustListsError {
    /// A signer file could not be read.
    #[error("trust list signer {path}: {reason}")]
    Signer {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The HTTP client could not be built.
    #[error(transparent)]
    Fetch(#[from] FetchError),
}

/// Why one fetch of a list failed.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// The list could not be fetched.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The list was fetched and refused.
    #[error(transparent)]
    List(#[from] lote::LoteError),
}

impl RefreshError {
    /// The stable code (`/healthz`, logs).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Fetch(_) => "lote_fetch_failed",
            Self::List(e) => e.code(),
        }
    }
}

/// A list's state as reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ListHealth {
    /// Never fetched yet.
    Pending,
    /// A good list before its `NextUpdate`.
    Ok,
    /// A good list past `NextUpdate`, within the grace period: still used.
    Stale,
    /// The last good list is past its grace period: no longer used.
    Expired,
    /// Fetched, but never a good list.
    Failed,
}

impl ListHealth {
    /// Every state, for metrics.
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Ok,
        Self::Stale,
        Self::Expired,
        Self::Failed,
    ];

    /// The state's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Ok => "ok",
            Self::Stale => "stale",
            Self::Expired => "expired",
            Self::Failed => "failed",
        }
    }
}

/// One list's report (`/healthz`, `/metrics`, the portal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListReport {
    /// Where it is published.
    pub url: String,
    /// The configured list that points to it, for a followed pointer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointed_from: Option<String>,
    /// The good list's scheme name.
    pub scheme: Option<String>,
    /// The good list's `LoTESequenceNumber`.
    pub sequence_number: Option<u64>,
    /// The good list's `ListIssueDateTime`.
    pub issued: Option<String>,
    /// The good list's `NextUpdate`.
    pub next_update: Option<String>,
    /// Seconds since the good list was issued.
    pub age_seconds: Option<i64>,
    /// The state.
    pub state: ListHealth,
    /// The code of the last failure, until a good list comes.
    pub error: Option<&'static str>,
}

#[derive(Debug)]
struct Entry {
    signers: TrustAnchors,
    pointed_from: Option<String>,
    state: ListState,
    failure: Option<&'static str>,
    /// False for a pointed-to list no longer pointed to: kept (so its
    /// anchors can be dropped) but neither fetched, used nor reported.
    wanted: bool,
}

impl Entry {
    fn new(signers: TrustAnchors, pointed_from: Option<String>) -> Self {
        Self {
            signers,
            pointed_from,
            state: ListState::default(),
            failure: None,
            wanted: true,
        }
    }
}

/// The configured lists, their pointers, and each one's last good list.
#[derive(Debug)]
pub struct TrustLists {
    fetcher: Fetcher,
    policy: LotePolicy,
    interval: Option<u64>,
    configured: Vec<String>,
    entries: Mutex<BTreeMap<String, Entry>>,
    rounds: std::sync::atomic::AtomicU64,
}

impl TrustLists {
    /// The lists of `sources`, their signers read from their PEM files;
    /// `dev` allows http on loopback. Nothing is fetched yet.
    pub fn load(
        sources: &[TrustListSource],
        settings: &RefreshSettings,
        dev: bool,
    ) -> Result<Self, TrustListsError> {
        let mut entries = BTreeMap::new();
        for source in sources {
            let failed = |reason: String| TrustListsError::Signer {
                path: source.signer.display().to_string(),
                reason,
            };
            let pem = std::fs::read_to_string(&source.signer).map_err(|e| failed(e.to_string()))?;
            let signers = TrustAnchors::from_pem(&pem).map_err(|e| failed(e.to_string()))?;
            if signers.is_empty() {
                return Err(failed("no certificate".into()));
            }
            entries.insert(source.url.clone(), Entry::new(signers, None));
        }
        Ok(Self {
            fetcher: Fetcher::new(FETCH_TIMEOUT_MS, MAX_LIST_BYTES, dev)?,
            policy: LotePolicy {
                grace_seconds: settings.grace_seconds,
                ..LotePolicy::default()
            },
            interval: settings.interval_seconds,
            configured: sources.iter().map(|s| s.url.clone()).collect(),
            entries: Mutex::new(entries),
            rounds: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Whether any list is configured.
    pub fn is_empty(&self) -> bool {
        self.configured.is_empty()
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Fetches and checks every configured list, then the lists their
    /// good versions point to. A failure is kept for the report; it never
    /// replaces a good list.
    pub async fn refresh_now(&self) {
        for url in &self.configured {
            self.refresh_one(url).await;
        }
        // Pointers of the configured lists' good versions, one level.
        let wanted: BTreeMap<String, (TrustAnchors, String)> = {
            let entries = self.entries();
            self.configured
                .iter()
                .filter_map(|url| Some((url, entries.get(url)?.state.good.as_ref()?)))
                .flat_map(|(url, list)| {
                    list.pointers()
                        .iter()
                        .map(|p| (p.location.clone(), (p.signers.clone(), url.clone())))
                })
                .filter(|(location, _)| !self.configured.contains(location))
                .collect()
        };
        {
            let mut entries = self.entries();
            for (url, entry) in entries.iter_mut() {
                entry.wanted = entry.pointed_from.is_none() || wanted.contains_key(url.as_str());
            }
            for (location, (signers, from)) in &wanted {
                let entry = entries
                    .entry(location.clone())
                    .or_insert_with(|| Entry::new(signers.clone(), Some(from.clone())));
                // The pointer's pins are the ones in force.
                entry.signers = signers.clone();
                entry.pointed_from = Some(from.clone());
                entry.wanted = true;
            }
        }
        for location in wanted.keys() {
            self.refresh_one(location).await;
        }
        self.rounds
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// How many refresh rounds have finished (background and
    /// [`TrustLists::refresh_now`]).
    pub fn rounds(&self) -> u64 {
        self.rounds.load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn refresh_one(&self, url: &str) {
        let Some(signers) = self.entries().get(url).map(|e| e.signers.clone()) else {
            return;
        };
        let now = now();
        let outcome = match self.fetcher.get(url, "application/jwt, */*").await {
            Ok(body) => {
                lote::verify(&body, &signers, now, &self.policy).map_err(RefreshError::from)
            }
            Err(e) => Err(RefreshError::from(e)),
        };
        let mut entries = self.entries();
        let Some(entry) = entries.get_mut(url) else {
            return;
        };
        match outcome {
            Ok(list) => {
                if entry.state.offer(Ok(list), now) {
                    entry.failure = None;
                } else if let Some((error, _)) = &entry.state.last_error {
                    tracing::warn!(list = url, error = %error, "trust list refused");
                    entry.failure = Some(error.code());
                }
            }
            Err(error) => {
                tracing::warn!(list = url, error = %error, "trust list not refreshed");
                entry.failure = Some(error.code());
                if let RefreshError::List(e) = error {
                    entry.state.last_error = Some((e, now));
                }
            }
        }
    }

    /// Every list (configured, then pointed to) not past its grace period,
    /// by URL; a list absent here trusts nobody.
    pub fn usable(&self) -> BTreeMap<String, VerifiedLote> {
        let now = now();
        self.entries()
            .iter()
            .filter(|(_, entry)| entry.wanted)
            .filter_map(|(url, entry)| {
                let list = entry.state.usable(now, self.policy.grace_seconds)?;
                Some((url.clone(), list.clone()))
            })
            .collect()
    }

    /// Every URL known: configured, pointed to, and once pointed to (whose
    /// anchors must go).
    pub fn urls(&self) -> Vec<String> {
        self.entries().keys().cloned().collect()
    }

    /// Whether every configured list has been fetched good at least once.
    pub fn ready(&self) -> bool {
        let entries = self.entries();
        self.configured
            .iter()
            .all(|url| entries.get(url).is_some_and(|e| e.state.good.is_some()))
    }

    /// Each list's report, configured lists first.
    pub fn reports(&self) -> Vec<ListReport> {
        let now = now();
        let entries = self.entries();
        let mut urls: Vec<&String> = self.configured.iter().collect();
        urls.extend(entries.keys().filter(|url| !self.configured.contains(url)));
        urls.into_iter()
            .filter_map(|url| Some((url, entries.get(url)?)))
            .filter(|(_, entry)| entry.wanted)
            .map(|(url, entry)| {
                let good = entry.state.good.as_ref();
                let state = match good {
                    None if entry.failure.is_some() => ListHealth::Failed,
                    None => ListHealth::Pending,
                    Some(list) if list.expired_at(now, self.policy.grace_seconds) => {
                        ListHealth::Expired
                    }
                    Some(list) if now > list.next_update => ListHealth::Stale,
                    Some(_) => ListHealth::Ok,
                };
                let info = good.map(|l| &l.document.lote.list_and_scheme_information);
                ListReport {
                    url: url.clone(),
                    pointed_from: entry.pointed_from.clone(),
                    scheme: good.map(VerifiedLote::name),
                    sequence_number: good.map(VerifiedLote::sequence_number),
                    issued: info.map(|i| i.list_issue_date_time.clone()),
                    next_update: info.map(|i| i.next_update.clone()),
                    age_seconds: good.map(|l| now.saturating_sub(l.issued_at).max(0)),
                    state,
                    error: entry.failure,
                }
            })
            .collect()
    }

    /// How long to wait before the next round: the configured interval;
    /// else a few seconds while a configured list was never good; else
    /// until the earliest `NextUpdate`, between one minute and one hour.
    pub fn next_delay(&self) -> Duration {
        if let Some(seconds) = self.interval {
            return Duration::from_secs(seconds.max(1));
        }
        if !self.ready() {
            return Duration::from_secs(STARTING_RETRY_SECONDS);
        }
        let now = now();
        let until = self
            .entries()
            .values()
            .filter(|e| e.wanted)
            .filter_map(|e| e.state.good.as_ref())
            .map(|l| u64::try_from(l.next_update.saturating_sub(now)).unwrap_or(0))
            .min()
            .unwrap_or(MAX_REFRESH_SECONDS);
        Duration::from_secs(until.clamp(MIN_REFRESH_SECONDS, MAX_REFRESH_SECONDS))
    }

    /// Refreshes now and then after each [`TrustLists::next_delay`],
    /// calling `apply` after every round (the service puts the usable
    /// lists' anchors in force there). Does nothing without lists.
    pub fn spawn(
        self: Arc<Self>,
        apply: impl Fn(&Self) + Send + Sync + 'static,
    ) -> Option<tokio::task::JoinHandle<()>> {
        if self.is_empty() {
            return None;
        }
        Some(tokio::spawn(async move {
            loop {
                self.refresh_now().await;
                apply(&self);
                tokio::time::sleep(self.next_delay()).await;
            }
        }))
    }

    /// What `/healthz` answers with lists configured: 200 `"ok"` or, until
    /// every configured list has been fetched good once, 503
    /// `"starting"`, with each list's report; `None` without lists (the
    /// service answers its plain `ok`).
    pub fn health(&self) -> Option<axum::response::Response> {
        use axum::response::IntoResponse as _;
        if self.is_empty() {
            return None;
        }
        let (code, status) = if self.ready() {
            (axum::http::StatusCode::OK, "ok")
        } else {
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, "starting")
        };
        let body = serde_json::json!({
            "status": status,
            "trust_lists": self.reports(),
        });
        Some((code, axum::Json(body)).into_response())
    }
}

/// The lists' gauges on `/metrics`: `intyg_trust_list_age_seconds{url}`
/// and `intyg_trust_list_state{url,state}` (1 for the current state, 0 for
/// the others).
#[derive(Debug, Clone)]
pub struct ListGauges {
    age: prometheus::IntGaugeVec,
    state: prometheus::IntGaugeVec,
}

impl ListGauges {
    /// The gauges, registered in `registry`.
    pub fn register(registry: &prometheus::Registry) -> Self {
        use prometheus::{IntGaugeVec, Opts};
        // These names and labels are constants: making them cannot fail.
        #[allow(clippy::expect_used)]
        let age = IntGaugeVec::new(
            Opts::new(
                "intyg_trust_list_age_seconds",
                "Seconds since the trust list in use was issued",
            ),
            &["url"],
        )
        .expect("valid metric");
        #[allow(clippy::expect_used)]
        let state = IntGaugeVec::new(
            Opts::new(
                "intyg_trust_list_state",
                "The trust list's state (1: current)",
            ),
            &["url", "state"],
        )
        .expect("valid metric");
        for collector in [age.clone(), state.clone()] {
            if let Err(e) = registry.register(Box::new(collector)) {
                tracing::error!(error = %e, "registering a metric failed");
            }
        }
        Self { age, state }
    }

    /// Sets the gauges from the lists' reports (called before each scrape).
    pub fn update(&self, lists: &TrustLists) {
        for report in lists.reports() {
            match report.age_seconds {
                Some(age) => self.age.with_label_values(&[&report.url]).set(age),
                None => {
                    // A list never had: no age to show.
                    let _absent = self.age.remove_label_values(&[&report.url]);
                }
            }
            for health in ListHealth::ALL {
                self.state
                    .with_label_values(&[report.url.as_str(), health.as_str()])
                    .set(i64::from(health == report.state));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signer_that_cannot_be_read_is_named() {
        let missing = TrustListSource {
            url: "https://lists.example/pub-eaa.jwt".into(),
            signer: PathBuf::from("/nonexistent/operator.pem"),
        };
        let refused = TrustLists::load(&[missing], &RefreshSettings::default(), false).unwrap_err();
        assert!(
            matches!(&refused, TrustListsError::Signer { path, .. } if path == "/nonexistent/operator.pem"),
            "{refused}"
        );
        let dir = std::env::temp_dir().join(format!("intyg-lists-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let source = TrustListSource {
            url: "https://lists.example/pub-eaa.jwt".into(),
            signer: empty,
        };
        let refused = TrustLists::load(&[source], &RefreshSettings::default(), false);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(refused, Err(TrustListsError::Signer { .. })));
    }

    #[tokio::test]
    async fn without_lists_it_is_ready_and_spawns_nothing() {
        let lists = Arc::new(TrustLists::load(&[], &RefreshSettings::default(), false).unwrap());
        assert!(lists.is_empty() && lists.ready());
        assert!(lists.reports().is_empty());
        assert!(lists.clone().spawn(|_| {}).is_none());
        assert_eq!(lists.next_delay(), Duration::from_secs(MAX_REFRESH_SECONDS));
    }

    #[tokio::test]
    async fn a_list_refused_by_ssrf_rules_is_failed_with_its_code() {
        let dir = std::env::temp_dir().join(format!("intyg-lists-ssrf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca = intyg_core::trust::pki::LocalCa::generate(&intyg_core::trust::pki::Subject::new(
            "Operator",
        ))
        .unwrap();
        let signer = dir.join("operator.pem");
        std::fs::write(&signer, ca.certificate().to_pem()).unwrap();
        // http to a private address, outside development: never fetched.
        let source = TrustListSource {
            url: "http://10.1.2.3/list.jwt".into(),
            signer,
        };
        let lists = TrustLists::load(&[source], &RefreshSettings::default(), false).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(lists.reports()[0].state, ListHealth::Pending);
        lists.refresh_now().await;
        let report = &lists.reports()[0];
        assert_eq!(report.state, ListHealth::Failed);
        assert_eq!(report.error, Some("lote_fetch_failed"));
        assert!(!lists.ready());
        assert_eq!(lists.rounds(), 1);
        assert_eq!(
            lists.next_delay(),
            Duration::from_secs(STARTING_RETRY_SECONDS)
        );
        assert_eq!(ListHealth::Failed.as_str(), "failed");
    }
}
