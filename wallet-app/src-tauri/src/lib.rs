//! # intyg-wallet-app
//!
//! The Tauri 2 shell of the Intyg wallet. It is thin: each command in
//! [`commands`] translates one UI action into one call of the wallet
//! engine (`intyg-wallet`) and its result into JSON; errors become
//! `{code, message}` in [`error`]. The UI (`wallet-app/ui`, TypeScript and
//! Vite) does the rest.
//!
//! Deep links (`openid-credential-offer://`, `openid4vp://`, and HAIP 1.0's
//! `haip-vci://` and `haip-vp://`)
//! reach the UI as the `deep-link` event, or through
//! [`commands::startup_link`] when the app was started by one; a second
//! instance hands its link to the first (single-instance plugin).
//!
//! Environment, for development and tests:
//! - `INTYG_WALLET_DIR`: the wallet directory (default: the app data dir);
//! - `INTYG_WALLET_DEV=1`: the engine's dangerous dev mode (http to
//!   loopback, unsigned requests). Never in production;
//! - `INTYG_WALLET_NO_BROWSER=1`: logins at an issuer (authorization code
//!   flow) do not open the system browser; the UI shows the URL only.
//!
//! Logins at an issuer come back to a loopback listener (the engine's
//! `intyg_wallet::loopback`, RFC 8252 §7.3) and end with the [`AUTHORIZATION_EVENT`] event. The
//! system browser is opened from Rust (`tauri-plugin-opener`, without its
//! link-click script); the window is granted none of the opener's commands.

pub mod commands;
pub mod error;

use std::path::PathBuf;

use intyg_wallet::WalletConfig;
use tauri::{Emitter as _, Manager as _};
use tauri_plugin_deep_link::DeepLinkExt as _;

pub use commands::AppState;

/// The event the UI listens to for links opened while it runs.
pub const DEEP_LINK_EVENT: &str = "deep-link";

/// The event that ends a login started by [`commands::begin_authorization`]
/// (payload: [`commands::AuthorizationFinished`]).
pub const AUTHORIZATION_EVENT: &str = "authorization-finished";

/// Starts the app: the desktop `main` and the mobile entry point.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let builder = tauri::Builder::default();
    // First, so that a second instance exits before doing anything.
    #[cfg(desktop)]
    let builder = builder.plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
        // The deep-link plugin forwards the link (feature `deep-link`);
        // here the window only comes to the front.
        if let Some(window) = app.get_webview_window("main")
            && let Err(error) = window.set_focus()
        {
            tracing::warn!(%error, "focusing the window");
        }
    }));
    let result = builder
        .plugin(tauri_plugin_deep_link::init())
        // Rust opens the login URL; no script may open anything.
        .plugin(
            tauri_plugin_opener::Builder::new()
                .open_js_links_on_click(false)
                .build(),
        )
        .setup(|app| {
            let dir = match std::env::var_os("INTYG_WALLET_DIR") {
                Some(dir) => PathBuf::from(dir),
                None => app.path().app_data_dir()?.join("wallet"),
            };
            let config = if std::env::var("INTYG_WALLET_DEV").is_ok_and(|v| v == "1") {
                tracing::warn!("dev mode: http to loopback and unsigned requests are accepted");
                WalletConfig::dangerous_dev()
            } else {
                WalletConfig::default()
            };
            let browser = !std::env::var("INTYG_WALLET_NO_BROWSER").is_ok_and(|v| v == "1");
            app.manage(AppState::new(dir, config).with_browser(browser));
            // Linux and Windows learn the schemes at run time (a .deb or
            // an installer registers them too); macOS and mobile from the
            // bundle.
            #[cfg(any(target_os = "linux", windows))]
            if let Err(error) = app.deep_link().register_all() {
                tracing::warn!(%error, "registering the deep link schemes");
            }
            let handle = app.handle().clone();
            app.deep_link().on_open_url(move |event| {
                for url in event.urls() {
                    if let Err(error) = handle.emit(DEEP_LINK_EVENT, url.as_str()) {
                        tracing::warn!(%error, "forwarding a deep link");
                    }
                }
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::status,
            commands::create_wallet,
            commands::unlock,
            commands::lock,
            commands::credentials,
            commands::credential,
            commands::delete_credential,
            commands::fetch_offer,
            commands::fetch_issuer,
            commands::accept_offer,
            commands::begin_authorization,
            commands::cancel_authorization,
            commands::refresh_status,
            commands::prepare_presentation,
            commands::respond,
            commands::cancel,
            commands::history,
            commands::erase_share,
            commands::report_share,
            commands::change_pin,
            commands::export_backup,
            commands::restore_backup,
            commands::add_verifier_roots,
            commands::add_wrprc_roots,
            commands::trust_lists,
            commands::add_trust_list,
            commands::refresh_trust_lists,
            commands::startup_link,
        ])
        .run(tauri::generate_context!());
    if let Err(error) = result {
        tracing::error!(%error, "the app failed");
        std::process::exit(1);
    }
}
