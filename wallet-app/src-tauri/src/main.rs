//! The desktop entry point; everything lives in the library so that the
//! mobile entry point shares it.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    intyg_wallet_app_lib::run();
}
