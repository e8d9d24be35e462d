//! The verifier process writes no core dumps: a core file would hold its
//! request-signing key, the per-transaction response keys and the
//! verified claims of applicants.

use intyg_testkit::TempDir;

use crate::webhooks::{free_port, verifier_process, wait_healthy};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verifier_process_writes_no_core_dumps() {
    let dir = TempDir::new("verifier-no-core");
    let port = free_port();
    let verifier = verifier_process(dir.path(), port);
    wait_healthy(&reqwest::Client::new(), &format!("http://127.0.0.1:{port}")).await;
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", verifier.0.id())).unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    let fields: Vec<&str> = core.split_whitespace().collect();
    // "Max core file size  <soft>  <hard>  bytes"
    assert_eq!(fields[4..6], ["0", "0"], "{core}");
}
