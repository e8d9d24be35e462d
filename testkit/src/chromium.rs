//! Headless Chromium for the portals' end-to-end tests: chromedriver on a
//! free port and the capabilities of a fresh, Swedish-speaking browser.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// chromedriver on a free port, killed on drop.
#[derive(Debug)]
pub struct Chromedriver {
    child: Child,
    port: u16,
}

impl Chromedriver {
    /// Starts chromedriver and waits until it listens. Panics if it is not
    /// installed (`apt-get install chromium chromium-driver`) or does not
    /// start within ten seconds.
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver must be installed (apt-get install chromium chromium-driver)");
        let driver = Self { child, port };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return driver;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start on port {port}");
    }

    /// The WebDriver endpoint.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The WebDriver capabilities of headless `/usr/bin/chromium` with its
/// profile in `profile`, a `width`×`height` window and Swedish as the
/// preferred language.
pub fn chromium_capabilities(
    profile: &Path,
    (width, height): (u32, u32),
) -> serde_json::Map<String, serde_json::Value> {
    let capabilities = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                format!("--window-size={width},{height}"), "--lang=sv-SE",
                format!("--user-data-dir={}", profile.display()),
            ],
            "prefs": { "intl.accept_languages": "sv-SE,sv" },
        },
    });
    match capabilities {
        serde_json::Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    }
}

/// The WCAG 2.1 A and AA rules of axe-core.
const AXE_TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/// The widths every portal page is checked at: desktop and the narrowest
/// phone of WCAG 1.4.10 (Reflow).
const WIDTHS: [u32; 2] = [1280, 320];

/// axe-core as `npm ci` in `interop/` installs it (pinned in its
/// `package.json`).
fn axe_source() -> String {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../interop/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run `npm ci` in interop/ (cargo xtask setup does)",
            path.display()
        )
    })
}

/// Where the portal screenshots go: `<target dir>/portal-screenshots/`.
fn screenshot_dir() -> std::path::PathBuf {
    // A test binary lives in <target>/<profile>/deps/.
    let exe = std::env::current_exe().expect("the test binary's path");
    let target = exe
        .ancestors()
        .nth(3)
        .expect("a test binary under <target>/<profile>/deps");
    let dir = target.join("portal-screenshots");
    std::fs::create_dir_all(&dir).expect("a screenshot folder in the target dir");
    dir
}

/// Checks the page `client` shows at each of [`WIDTHS`]: axe-core's WCAG
/// 2.1 A/AA rules find no violation, and at 320 px the document does not
/// scroll sideways. Writes `<name>-<width>.png` to the screenshot folder.
/// Panics with every violation (rule, impact, help and the offending
/// elements) when there are any. Leaves the window at 1280 px wide.
pub async fn audit_page(client: &fantoccini::Client, name: &str) {
    let dir = screenshot_dir();
    let mut problems = Vec::new();
    for width in WIDTHS {
        client
            .set_window_size(width, 900)
            .await
            .expect("the window resized");
        let loaded: serde_json::Value = client
            .execute("return typeof window.axe !== 'undefined';", vec![])
            .await
            .expect("a script ran");
        if loaded != serde_json::Value::Bool(true) {
            client
                .execute(&axe_source(), vec![])
                .await
                .expect("axe-core loaded into the page");
        }
        let run = format!(
            "var done = arguments[arguments.length - 1];
             axe.run(document, {{ runOnly: {{ type: 'tag', values: {tags} }}, resultTypes: ['violations'] }})
               .then(function (r) {{ done(r.violations.map(function (v) {{
                 return {{ id: v.id, impact: v.impact, help: v.help,
                   nodes: v.nodes.map(function (n) {{ return n.target.join(' ') + ': ' + n.failureSummary; }}) }};
               }})); }})
               .catch(function (e) {{ done([{{ id: 'axe-error', impact: 'error', help: String(e), nodes: [] }}]); }});",
            tags = serde_json::json!(AXE_TAGS)
        );
        let violations = client
            .execute_async(&run, vec![])
            .await
            .expect("axe.run answered");
        for violation in violations.as_array().into_iter().flatten() {
            let nodes: Vec<&str> = violation["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|n| n.as_str())
                .collect();
            problems.push(format!(
                "{name} at {width} px: {} ({}): {}\n    {}",
                violation["id"].as_str().unwrap_or_default(),
                violation["impact"].as_str().unwrap_or_default(),
                violation["help"].as_str().unwrap_or_default(),
                nodes.join("\n    ")
            ));
        }
        if width == 320 {
            let widths = client
                .execute(
                    "return [document.documentElement.scrollWidth, window.innerWidth];",
                    vec![],
                )
                .await
                .expect("the document's widths");
            let (scroll, viewport) = (widths[0].as_f64(), widths[1].as_f64());
            if !matches!((scroll, viewport), (Some(s), Some(v)) if s <= v) {
                problems.push(format!(
                    "{name} at 320 px scrolls sideways (scrollWidth, innerWidth) = {widths}"
                ));
            }
        }
        let shot = client.screenshot().await.expect("a screenshot");
        std::fs::write(dir.join(format!("{name}-{width}.png")), shot)
            .expect("the screenshot written");
    }
    client
        .set_window_size(1280, 900)
        .await
        .expect("the window resized");
    assert!(
        problems.is_empty(),
        "accessibility problems:\n{}",
        problems.join("\n")
    );
}

/// [`audit_page`] on the GET page `client` shows, in Swedish and then in
/// English (`?lang=`), named `<name>-sv` and `<name>-en`; ends in Swedish.
pub async fn audit_page_in_both_languages(client: &fantoccini::Client, name: &str) {
    let mut url = client.current_url().await.expect("the page's URL");
    for lang in ["en", "sv"] {
        let query: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| k != "lang")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .chain([("lang".to_owned(), lang.to_owned())])
            .collect();
        url.query_pairs_mut().clear().extend_pairs(query);
        client.goto(url.as_str()).await.expect("the page again");
        audit_page(client, &format!("{name}-{lang}")).await;
    }
}
