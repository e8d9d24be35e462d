//! The verifier process writes no core dumps: a core file would hold its
//! request-signing key, the per-transaction response keys and the
//! verified claims of applicants.

use intyg_testkit::TempDir;

use crate::webhooks::{verifier_process, wait_healthy};
use intyg_testkit::free_port;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verifier_process_writes_no_core_dumps() {
    let dir = TempDir::new("verifier-no-core");
    let port = free_port();
    let verifier = verifier_process(dir.path(), port);
    wait_healthy(&reqwest::Client::new(), &format!("http://127.0.0.1:{port}")).await;
    assert_eq!(
        intyg_testkit::core_file_limits(verifier.0.id()),
        ("0".to_owned(), "0".to_owned())
    );
}
