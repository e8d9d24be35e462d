//! Declares the app's commands so that each gets an `allow-<command>`
//! permission; `capabilities/default.json` grants them to the main window.
//! A command missing here cannot be called from the UI.

const COMMANDS: &[&str] = &[
    "status",
    "create_wallet",
    "unlock",
    "lock",
    "credentials",
    "credential",
    "delete_credential",
    "fetch_offer",
    "fetch_issuer",
    "accept_offer",
    "begin_authorization",
    "cancel_authorization",
    "refresh_status",
    "prepare_presentation",
    "respond",
    "cancel",
    "history",
    "erase_share",
    "report_share",
    "change_pin",
    "export_backup",
    "restore_backup",
    "add_verifier_roots",
    "add_wrprc_roots",
    "trust_lists",
    "add_trust_list",
    "refresh_trust_lists",
    "startup_link",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed: see the message above");
}
