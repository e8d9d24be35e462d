//! The graceful-shutdown signal.

/// Resolves when the process receives Ctrl-C (SIGINT) or SIGTERM.
///
/// If SIGTERM cannot be listened for, the failure is logged and only
/// Ctrl-C ends the wait.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                let _ = interrupt.await;
                return;
            }
        };
    tokio::select! {
        _ = interrupt => {}
        _ = terminate.recv() => {}
    }
}
