//! The Tauri commands. Each one is one engine call: it takes what the UI
//! sends, calls `intyg_wallet`, and returns what the UI shows. Pending
//! offers and consent proposals stay here, behind a ticket, so that what
//! the person approves is exactly what was shown.
//!
//! The authorization code flow has two halves: [`begin_authorization`]
//! binds a loopback redirect URI ([`crate::loopback`]), starts the flow,
//! opens the system browser and returns the URL; a task then waits for the
//! browser to come back (at most [`LOGIN_TIMEOUT`], or until
//! [`cancel_authorization`]), finishes the flow and tells the UI with the
//! [`crate::AUTHORIZATION_EVENT`] event ([`AuthorizationFinished`]).
//!
//! No command panics on input: every failure is an [`AppError`].

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::PoisonError;
use std::time::Duration;

use intyg_wallet::authorize::PendingAuthorization;
use intyg_wallet::lists::TrustListStatus;
use intyg_wallet::model::CredentialEntry;
use intyg_wallet::present::{ConsentProposal, Decision, Outcome};
use intyg_wallet::receive::Offer;
use intyg_wallet::status::StatusRefresh;
use intyg_wallet::{HistoryEntry, OpenError, Wallet, WalletConfig};
use serde::Serialize;
use tauri::{Emitter as _, Manager as _, State};
use tauri_plugin_deep_link::DeepLinkExt as _;
use tauri_plugin_opener::OpenerExt as _;
use tokio::sync::{Mutex, Notify, oneshot};

use crate::error::AppError;
use intyg_wallet::loopback::Callback;

/// How long the wallet waits for the person to log in at the issuer.
pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// The locales the UI offers; names and labels are sent in each.
const LOCALES: &[&str] = &["sv", "en"];

/// What the commands share.
#[derive(Debug)]
pub struct AppState {
    dir: PathBuf,
    config: WalletConfig,
    session: Mutex<Session>,
    /// Wakes the step in progress so that it gives up ([`cancel`]).
    cancel: Notify,
    /// The login waiting for the browser, if any. Never held across an
    /// `.await`, so that cancelling does not wait for a step in progress.
    login: std::sync::Mutex<Option<Login>>,
    /// Whether [`begin_authorization`] opens the system browser.
    browser: bool,
}

/// A login waiting for the browser to come back.
#[derive(Debug)]
struct Login {
    id: u64,
    /// Dropping it ends the wait as cancelled.
    _cancel: oneshot::Sender<()>,
}

#[derive(Debug, Default)]
struct Session {
    wallet: Option<Wallet>,
    offer: Option<(u64, Offer)>,
    proposal: Option<(u64, ConsentProposal)>,
    tickets: u64,
}

impl Session {
    fn wallet(&mut self) -> Result<&mut Wallet, AppError> {
        self.wallet.as_mut().ok_or(AppError::Locked)
    }

    fn ticket(&mut self) -> u64 {
        self.tickets += 1;
        self.tickets
    }
}

impl AppState {
    /// The wallet in `dir`, with `config`; locked until [`unlock`].
    pub fn new(dir: PathBuf, config: WalletConfig) -> Self {
        Self {
            dir,
            config,
            session: Mutex::new(Session::default()),
            cancel: Notify::new(),
            login: std::sync::Mutex::new(None),
            browser: true,
        }
    }

    /// Whether logins open the system browser (they do by default);
    /// without, the UI only shows the URL.
    pub fn with_browser(mut self, open: bool) -> Self {
        self.browser = open;
        self
    }

    /// Replaces the waiting login (the one replaced ends as cancelled).
    fn set_login(&self, login: Option<Login>) -> Option<Login> {
        let mut slot = self.login.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::replace(&mut *slot, login)
    }

    /// Takes the waiting login if it is `id`.
    fn take_login(&self, id: u64) -> Option<Login> {
        let mut slot = self.login.lock().unwrap_or_else(PoisonError::into_inner);
        slot.take_if(|login| login.id == id)
    }

    /// Runs `step` unless [`cancel`] is called first.
    async fn cancellable<T, E: Into<AppError>>(
        &self,
        step: impl Future<Output = Result<T, E>>,
    ) -> Result<T, AppError> {
        tokio::select! {
            result = step => result.map_err(Into::into),
            () = self.cancel.notified() => Err(AppError::Cancelled),
        }
    }
}

/// Runs CPU-heavy work (argon2id) off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|_| AppError::Task)?
}

/// Whether a wallet exists and whether it is unlocked.
#[derive(Debug, Serialize)]
pub struct Status {
    /// A wallet exists in the directory.
    pub exists: bool,
    /// It is unlocked.
    pub unlocked: bool,
    /// The engine runs in dev mode (the UI shows a banner).
    pub dev: bool,
}

/// Whether there is a wallet, and whether it is unlocked.
#[tauri::command]
pub async fn status(state: State<'_, AppState>) -> Result<Status, AppError> {
    let session = state.session.lock().await;
    let exists = session.wallet.is_some()
        || match Wallet::open(&state.dir, state.config.clone()) {
            Ok(_) => true,
            Err(OpenError::NotAWallet(_)) => false,
            Err(other) => return Err(other.into()),
        };
    Ok(Status {
        exists,
        unlocked: session.wallet.is_some(),
        dev: state.config.dev,
    })
}

/// Creates the wallet, protected by `pin`, and leaves it unlocked.
#[tauri::command]
pub async fn create_wallet(state: State<'_, AppState>, pin: String) -> Result<(), AppError> {
    let mut session = state.session.lock().await;
    let (dir, config) = (state.dir.clone(), state.config.clone());
    let wallet = blocking(move || Ok(Wallet::create(&dir, &pin, config)?)).await?;
    session.wallet = Some(wallet);
    Ok(())
}

/// Unlocks the wallet with `pin`.
#[tauri::command]
pub async fn unlock(state: State<'_, AppState>, pin: String) -> Result<(), AppError> {
    let mut session = state.session.lock().await;
    if session.wallet.is_some() {
        return Ok(());
    }
    let (dir, config) = (state.dir.clone(), state.config.clone());
    let wallet = blocking(move || Ok(Wallet::open(&dir, config)?.unlock(&pin)?)).await?;
    session.wallet = Some(wallet);
    Ok(())
}

/// Locks the wallet: forgets the key and anything pending.
#[tauri::command]
pub async fn lock(state: State<'_, AppState>) -> Result<(), AppError> {
    state.set_login(None);
    let mut session = state.session.lock().await;
    session.offer = None;
    session.proposal = None;
    if let Some(wallet) = session.wallet.take() {
        drop(wallet.lock()?);
    }
    Ok(())
}

/// The held credentials, oldest first, with their display metadata.
#[tauri::command]
pub async fn credentials(state: State<'_, AppState>) -> Result<Vec<CredentialEntry>, AppError> {
    let mut session = state.session.lock().await;
    Ok(session
        .wallet()?
        .credentials()
        .into_iter()
        .cloned()
        .collect())
}

/// One credential: every claim, the display metadata with claim labels,
/// the issuer and validity. The copies (and their keys) never leave the
/// engine.
#[tauri::command]
pub async fn credential(
    state: State<'_, AppState>,
    id: String,
) -> Result<CredentialEntry, AppError> {
    let mut session = state.session.lock().await;
    Ok(session.wallet()?.credential(&id)?.entry)
}

/// Deletes a credential; returns its id.
#[tauri::command]
pub async fn delete_credential(state: State<'_, AppState>, id: String) -> Result<String, AppError> {
    let mut session = state.session.lock().await;
    Ok(session.wallet()?.delete(&id)?)
}

/// An offer as the receive screen shows it.
#[derive(Debug, Serialize)]
pub struct OfferView {
    /// Pass back to [`accept_offer`].
    pub ticket: u64,
    /// The credential issuer identifier (URL).
    pub issuer: String,
    /// Its display name by locale, when its metadata gives one.
    pub issuer_names: BTreeMap<String, String>,
    /// The offered credentials: configuration id and name by locale.
    pub credentials: Vec<OfferedCredential>,
    /// The transaction code to ask for, if any.
    pub tx_code: Option<serde_json::Value>,
    /// [`accept_offer`] can take it (it has a pre-authorized code).
    pub pre_authorized: bool,
    /// [`begin_authorization`] can take it: the person logs in at the
    /// issuer.
    pub authorization_code: bool,
}

impl OfferView {
    fn new(ticket: u64, offer: &Offer) -> Result<Self, AppError> {
        let mut credentials: Vec<OfferedCredential> = Vec::new();
        let mut issuer_names = BTreeMap::new();
        for locale in LOCALES {
            if let Some(name) = offer.issuer_name(locale) {
                issuer_names.insert((*locale).to_owned(), name);
            }
            for (index, (id, name)) in offer.credentials(locale).into_iter().enumerate() {
                if credentials.len() <= index {
                    credentials.push(OfferedCredential {
                        id,
                        names: BTreeMap::new(),
                    });
                }
                credentials[index].names.insert((*locale).to_owned(), name);
            }
        }
        let tx_code = offer
            .tx_code()
            .map(serde_json::to_value)
            .transpose()
            .map_err(|_| AppError::Task)?;
        Ok(Self {
            ticket,
            issuer: offer.issuer().to_owned(),
            issuer_names,
            credentials,
            tx_code,
            pre_authorized: offer.has_pre_authorized_code(),
            authorization_code: offer.supports_authorization_code(),
        })
    }
}

/// One offered credential.
#[derive(Debug, Serialize)]
pub struct OfferedCredential {
    /// The credential configuration id.
    pub id: String,
    /// Its name by locale.
    pub names: BTreeMap<String, String>,
}

/// Reads an offer link and fetches the offer and the issuer's metadata.
/// Stores nothing; the offer waits for [`accept_offer`] or
/// [`begin_authorization`].
#[tauri::command]
pub async fn fetch_offer(state: State<'_, AppState>, uri: String) -> Result<OfferView, AppError> {
    let mut session = state.session.lock().await;
    let offer = state
        .cancellable(session.wallet()?.fetch_offer(&uri))
        .await?;
    let view = OfferView::new(session.ticket(), &offer)?;
    session.offer = Some((view.ticket, offer));
    Ok(view)
}

/// Wallet-initiated issuance: fetches the metadata of the issuer at `url`
/// and offers every credential it issues, for [`begin_authorization`].
/// Stores nothing.
#[tauri::command]
pub async fn fetch_issuer(state: State<'_, AppState>, url: String) -> Result<OfferView, AppError> {
    let mut session = state.session.lock().await;
    let offer = state
        .cancellable(session.wallet()?.fetch_issuer(&url))
        .await?;
    let view = OfferView::new(session.ticket(), &offer)?;
    session.offer = Some((view.ticket, offer));
    Ok(view)
}

/// Accepts the pending offer with the transaction code the person typed;
/// returns what was stored.
#[tauri::command]
pub async fn accept_offer(
    state: State<'_, AppState>,
    ticket: u64,
    tx_code: Option<String>,
) -> Result<Vec<CredentialEntry>, AppError> {
    let mut session = state.session.lock().await;
    let offer = match session.offer.take() {
        Some((pending, offer)) if pending == ticket => offer,
        other => {
            session.offer = other;
            return Err(AppError::NotPending);
        }
    };
    let tx_code = tx_code.filter(|code| !code.trim().is_empty());
    let received = state
        .cancellable(session.wallet()?.accept(offer, tx_code.as_deref()))
        .await?;
    Ok(received.credentials)
}

/// A login started by [`begin_authorization`].
#[derive(Debug, Serialize)]
pub struct LoginView {
    /// The login, as the [`AuthorizationFinished`] event names it.
    pub id: u64,
    /// The URL where the person logs in (shown, to copy).
    pub url: String,
    /// Whether the system browser was asked to open it.
    pub browser_opened: bool,
    /// How long the wallet waits, in seconds.
    pub timeout_secs: u64,
}

/// What the UI gets when a login ends: the [`crate::AUTHORIZATION_EVENT`]
/// event.
#[derive(Debug, Clone, Serialize)]
pub struct AuthorizationFinished {
    /// [`LoginView::id`].
    pub id: u64,
    /// What came of it.
    #[serde(flatten)]
    pub outcome: LoginOutcome,
}

/// How a login ended.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum LoginOutcome {
    /// The credentials were received and stored.
    Received {
        /// What was stored.
        credentials: Vec<CredentialEntry>,
    },
    /// Nothing was stored: an [`AppError`]'s code and message.
    Failed {
        /// [`AppError::code`].
        code: &'static str,
        /// What failed.
        message: String,
    },
}

impl From<Result<Vec<CredentialEntry>, AppError>> for LoginOutcome {
    fn from(result: Result<Vec<CredentialEntry>, AppError>) -> Self {
        match result {
            Ok(credentials) => Self::Received { credentials },
            Err(error) => Self::Failed {
                code: error.code(),
                message: error.to_string(),
            },
        }
    }
}

/// Starts the authorization code flow for `configurations` of the pending
/// offer (from [`fetch_offer`] or [`fetch_issuer`]): a loopback redirect
/// URI, the engine's authorization request, the system browser opened at
/// its URL. The login goes on in the background and ends with the
/// [`crate::AUTHORIZATION_EVENT`] event. The offer stays pending, so that a
/// refused login can be tried again; a new login replaces a waiting one.
#[tauri::command]
pub async fn begin_authorization(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    ticket: u64,
    configurations: Vec<String>,
) -> Result<LoginView, AppError> {
    let mut session = state.session.lock().await;
    let offer = match &session.offer {
        Some((pending, offer)) if *pending == ticket => offer.clone(),
        _ => return Err(AppError::NotPending),
    };
    let offered = &offer.offer.credential_configuration_ids;
    let chosen = configurations
        .iter()
        .map(|wanted| {
            offered
                .iter()
                .find(|id| id.as_str() == wanted)
                .cloned()
                .ok_or_else(|| AppError::UnknownConfiguration(wanted.clone()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let callback = Callback::bind().await?;
    let pending = state
        .cancellable(session.wallet()?.begin_authorization(
            &offer,
            &chosen,
            &callback.redirect_uri(),
        ))
        .await?;
    let id = session.ticket();
    let (cancel, cancelled) = oneshot::channel();
    state.set_login(Some(Login {
        id,
        _cancel: cancel,
    }));
    let url = pending.authorization_url().to_owned();
    let browser_opened = state.browser
        && match app.opener().open_url(&url, None::<&str>) {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!(%error, "opening the browser");
                false
            }
        };
    tauri::async_runtime::spawn(wait_for_login(
        app.clone(),
        id,
        ticket,
        callback,
        pending,
        cancelled,
    ));
    Ok(LoginView {
        id,
        url,
        browser_opened,
        timeout_secs: LOGIN_TIMEOUT.as_secs(),
    })
}

/// The background half of [`begin_authorization`]: waits for the browser,
/// finishes the flow, and tells the UI.
async fn wait_for_login(
    app: tauri::AppHandle,
    id: u64,
    ticket: u64,
    callback: Callback,
    pending: PendingAuthorization,
    cancelled: oneshot::Receiver<()>,
) {
    let result = finish_login(&app, id, ticket, callback, pending, cancelled).await;
    if let Err(error) = &result {
        tracing::info!(code = error.code(), "the login ended without a credential");
    }
    let event = AuthorizationFinished {
        id,
        outcome: result.into(),
    };
    if let Err(error) = app.emit(crate::AUTHORIZATION_EVENT, event) {
        tracing::warn!(%error, "telling the UI how the login ended");
    }
}

async fn finish_login(
    app: &tauri::AppHandle,
    id: u64,
    ticket: u64,
    callback: Callback,
    pending: PendingAuthorization,
    cancelled: oneshot::Receiver<()>,
) -> Result<Vec<CredentialEntry>, AppError> {
    let waited = callback
        .wait(LOGIN_TIMEOUT, async {
            // Sent or dropped: either way the login is off.
            let _ = cancelled.await;
        })
        .await;
    let state = app.state::<AppState>();
    let ours = state.take_login(id).is_some();
    let url = waited?;
    if !ours {
        // Cancelled or replaced just as the browser came back.
        return Err(AppError::Cancelled);
    }
    let mut session = state.session.lock().await;
    let received = state
        .cancellable(session.wallet()?.finish_authorization(pending, &url))
        .await?;
    if session.offer.as_ref().is_some_and(|(t, _)| *t == ticket) {
        session.offer = None;
    }
    Ok(received.credentials)
}

/// Gives up the login in progress: stops waiting for the browser, or
/// interrupts finishing it. It ends with the event, as cancelled.
#[tauri::command]
pub fn cancel_authorization(state: State<'_, AppState>) {
    state.set_login(None);
    state.cancel.notify_waiters();
}

/// Asks the issuers' status lists about every held credential and records
/// the answers; returns one line per credential that has a status list.
#[tauri::command]
pub async fn refresh_status(state: State<'_, AppState>) -> Result<Vec<StatusRefresh>, AppError> {
    let mut session = state.session.lock().await;
    state.cancellable(session.wallet()?.refresh_status()).await
}

/// A consent proposal as the share screen shows it.
#[derive(Debug, Serialize)]
pub struct ProposalView {
    /// Pass back to [`respond`].
    pub ticket: u64,
    /// Who asks, why, and which claims (required and optional).
    #[serde(flatten)]
    pub proposal: ConsentProposal,
}

/// Reads, authenticates and matches a presentation request. Sends
/// nothing; the proposal waits for [`respond`].
#[tauri::command]
pub async fn prepare_presentation(
    state: State<'_, AppState>,
    uri: String,
) -> Result<ProposalView, AppError> {
    let mut session = state.session.lock().await;
    let proposal = state.cancellable(session.wallet()?.prepare(&uri)).await?;
    let ticket = session.ticket();
    session.proposal = Some((ticket, proposal.clone()));
    Ok(ProposalView { ticket, proposal })
}

/// Carries out the person's decision on the pending proposal: decline, or
/// share the required claims and the optional ones in `include`
/// (`query_id.claim` names from the proposal).
#[tauri::command]
pub async fn respond(
    state: State<'_, AppState>,
    ticket: u64,
    approve: bool,
    include: Vec<String>,
) -> Result<Outcome, AppError> {
    let mut session = state.session.lock().await;
    let proposal = match session.proposal.take() {
        Some((pending, proposal)) if pending == ticket => proposal,
        other => {
            session.proposal = other;
            return Err(AppError::NotPending);
        }
    };
    let decision = if approve {
        Decision::Approve { include }
    } else {
        Decision::Deny
    };
    Ok(session.wallet()?.respond(proposal, decision).await?)
}

/// Gives up the step in progress (fetching or accepting an offer,
/// preparing a request). Sending a consent is never interrupted.
#[tauri::command]
pub fn cancel(state: State<'_, AppState>) {
    state.cancel.notify_waiters();
}

/// Every receipt, share and denial, oldest first.
#[tauri::command]
pub async fn history(state: State<'_, AppState>) -> Result<Vec<HistoryEntry>, AppError> {
    let mut session = state.session.lock().await;
    Ok(session.wallet()?.history()?)
}

/// Asks the verifier of a share to erase what it received (GDPR Art. 17);
/// a share already answered is returned as it stands.
#[tauri::command]
pub async fn erase_share(
    state: State<'_, AppState>,
    id: String,
) -> Result<intyg_wallet::erasure::Erasure, AppError> {
    let mut session = state.session.lock().await;
    Ok(session.wallet()?.erase(&id).await?)
}

/// Writes the complaint package of a share for the data protection
/// authority to `path` (JSON) and its readable summary beside it
/// (`.html`); returns the summary's path.
#[tauri::command]
pub async fn report_share(
    state: State<'_, AppState>,
    id: String,
    path: String,
    text: String,
) -> Result<String, AppError> {
    let mut session = state.session.lock().await;
    let package = session.wallet()?.report(&id, &text)?;
    let json = serde_json::to_vec_pretty(&package).map_err(|e| AppError::File {
        path: path.clone(),
        source: std::io::Error::other(e),
    })?;
    std::fs::write(&path, json).map_err(|source| AppError::File {
        path: path.clone(),
        source,
    })?;
    let summary = std::path::Path::new(&path).with_extension("html");
    let shown = summary.display().to_string();
    std::fs::write(&summary, intyg_wallet::report::summary_html(&package)).map_err(|source| {
        AppError::File {
            path: shown.clone(),
            source,
        }
    })?;
    Ok(shown)
}

/// Changes the PIN.
#[tauri::command]
pub async fn change_pin(
    state: State<'_, AppState>,
    old_pin: String,
    new_pin: String,
) -> Result<(), AppError> {
    let mut session = state.session.lock().await;
    let mut wallet = session.wallet.take().ok_or(AppError::Locked)?;
    let (wallet, result) = blocking(move || {
        let result = wallet.change_pin(&old_pin, &new_pin);
        Ok((wallet, result))
    })
    .await?;
    session.wallet = Some(wallet);
    Ok(result?)
}

/// Writes an encrypted backup of everything to `path`.
#[tauri::command]
pub async fn export_backup(
    state: State<'_, AppState>,
    path: String,
    passphrase: String,
) -> Result<(), AppError> {
    let mut session = state.session.lock().await;
    let wallet = session.wallet.take().ok_or(AppError::Locked)?;
    let (wallet, result) = blocking(move || {
        let result = wallet.export_backup(&passphrase);
        Ok((wallet, result))
    })
    .await?;
    session.wallet = Some(wallet);
    let bytes = result?;
    std::fs::write(&path, bytes).map_err(|source| AppError::File { path, source })
}

/// Creates the wallet from a backup file, protected by `new_pin`, and
/// leaves it unlocked. Refused when a wallet exists.
#[tauri::command]
pub async fn restore_backup(
    state: State<'_, AppState>,
    path: String,
    passphrase: String,
    new_pin: String,
) -> Result<(), AppError> {
    let mut session = state.session.lock().await;
    let backup = std::fs::read(&path).map_err(|source| AppError::File { path, source })?;
    let (dir, config) = (state.dir.clone(), state.config.clone());
    let wallet = blocking(move || {
        Ok(Wallet::restore_backup(
            &dir,
            &backup,
            &passphrase,
            &new_pin,
            config,
        )?)
    })
    .await?;
    session.wallet = Some(wallet);
    Ok(())
}

/// Trusts the verifier root certificates in `pem`; returns their
/// `x509_hash` values.
#[tauri::command]
pub async fn add_verifier_roots(
    state: State<'_, AppState>,
    pem: String,
) -> Result<Vec<String>, AppError> {
    let mut session = state.session.lock().await;
    Ok(session.wallet()?.add_verifier_roots(&pem)?)
}

/// Trusts the WRPRC provider root certificates in `pem` (registration
/// certificates, ETSI TS 119 475); returns their `x509_hash` values.
#[tauri::command]
pub async fn add_wrprc_roots(
    state: State<'_, AppState>,
    pem: String,
) -> Result<Vec<String>, AppError> {
    let mut session = state.session.lock().await;
    Ok(session.wallet()?.add_wrprc_roots(&pem)?)
}

/// The trust lists (ETSI TS 119 602) the wallet subscribes to, and their
/// state.
#[tauri::command]
pub async fn trust_lists(state: State<'_, AppState>) -> Result<Vec<TrustListStatus>, AppError> {
    let mut session = state.session.lock().await;
    Ok(session.wallet()?.trust_lists()?)
}

/// Subscribes to the list at `url` signed under the certificate in
/// `signer_pem`, and fetches it (nothing is kept unless it verifies).
#[tauri::command]
pub async fn add_trust_list(
    state: State<'_, AppState>,
    url: String,
    signer_pem: String,
) -> Result<TrustListStatus, AppError> {
    let mut session = state.session.lock().await;
    Ok(session.wallet()?.add_trust_list(&url, &signer_pem).await?)
}

/// Fetches every subscribed list again; a list that fails keeps the last
/// good one.
#[tauri::command]
pub async fn refresh_trust_lists(
    state: State<'_, AppState>,
) -> Result<Vec<TrustListStatus>, AppError> {
    let mut session = state.session.lock().await;
    Ok(session.wallet()?.refresh_trust_lists().await?)
}

/// The link the app was started with, if it was started by one.
#[tauri::command]
pub fn startup_link(app: tauri::AppHandle) -> Option<String> {
    match app.deep_link().get_current() {
        Ok(urls) => urls?.first().map(|url| url.to_string()),
        Err(error) => {
            tracing::warn!(%error, "reading the startup link");
            None
        }
    }
}
