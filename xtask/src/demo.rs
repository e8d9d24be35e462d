//! `cargo xtask demo [--fresh] [--headless]`: the whole of Intyg on one
//! machine, offline, on embedded sled storage.
//!
//! - Data lives in `./demo-data/` and is kept between runs (`--fresh` wipes
//!   it): the issuer's and verifier's sled stores and keys, the job
//!   seekers' wallets, the logs and `demo.json` (ports, API key, the seeded
//!   posting).
//! - It starts `intyg-issuer --dev` (Arbetsförmedlingen) and
//!   `intyg-verifier --dev` (an employer) on loopback and seeds, once: the
//!   officer account and the employer account (the services' dev accounts),
//!   two test job seekers and an internship posting.
//! - With a display (and without `--headless`) it prints where to sign in,
//!   an offer for each job seeker, and opens the wallet app; Ctrl-C stops
//!   everything.
//! - With `--headless`, or without a display, it plays the journey with the
//!   `intyg wallet` CLI and narrates each step ([`journey`]); it fails if a
//!   step does not happen as narrated.

use std::io::{Read as _, Seek as _, SeekFrom};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Where the demo keeps its data, under the workspace root.
pub(crate) const DATA_DIR: &str = "demo-data";

/// The job seeker's wallet PIN in the demo.
const WALLET_PIN: &str = "246810";
/// Status lists may be cached by verifiers for their `ttl`; the demo keeps
/// it short so that a revocation shows within the journey.
const STATUS_TTL_SECONDS: u64 = 2;
/// How long a service may take to answer `/healthz` after it starts.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a service may take to stop after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// A test job seeker.
struct JobSeeker {
    personal_identity_number: &'static str,
    given_name: &'static str,
    family_name: &'static str,
    /// Folder name of the wallet under `demo-data/wallets/`.
    wallet: &'static str,
}

/// Karin plays the journey; Ahmed is there for the portals and the app.
const JOB_SEEKERS: [JobSeeker; 2] = [
    JobSeeker {
        personal_identity_number: "199403172381",
        given_name: "Karin Elisabet",
        family_name: "Lindqvist",
        wallet: "karin",
    },
    JobSeeker {
        personal_identity_number: "198506121238",
        given_name: "Ahmed Yusuf",
        family_name: "Hassan",
        wallet: "ahmed",
    },
];

/// The issuing agency, as wallets show it.
const ISSUER_NAME: &str = "Arbetsförmedlingen";
/// The employer, as wallets show it.
const EMPLOYER_NAME: &str = "Västerås Lager & Logistik AB";

/// The seeded internship posting.
const POSTING_TITLE: &str = "Lagerassistent, arbetspraktik";
const POSTING_DESCRIPTION: &str = "Tre månaders arbetspraktik på vårt lager i Västerås: \
     plock, packning och inleverans, 32 timmar i veckan med handledare.";
const POSTING_PURPOSE: &str = "Ansökan om arbetspraktik som lagerassistent: \
     vi behöver se att du är inskriven på Arbetsförmedlingen och får göra praktik.";

/// What the demo remembers between runs (`demo-data/demo.json`).
#[derive(Debug, Serialize, Deserialize)]
struct Remembered {
    issuer_port: u16,
    verifier_port: u16,
    /// The services' admin/HR API key.
    api_key: String,
    /// The seeded posting's id, once made.
    posting_id: Option<String>,
}

impl Remembered {
    fn path(data: &Path) -> PathBuf {
        data.join("demo.json")
    }

    /// The remembered settings, or new ones (free ports, a random key).
    fn load_or_new(data: &Path) -> anyhow::Result<Self> {
        let path = Self::path(data);
        if path.exists() {
            let text = std::fs::read_to_string(&path)?;
            return serde_json::from_str(&text).with_context(|| {
                format!(
                    "{} is damaged; run `cargo xtask demo --fresh`",
                    path.display()
                )
            });
        }
        Ok(Self {
            issuer_port: free_port()?,
            verifier_port: free_port()?,
            // 122 random bits from the system CSPRNG, as 32 hex digits.
            api_key: uuid::Uuid::new_v4().simple().to_string(),
            posting_id: None,
        })
    }

    fn save(&self, data: &Path) -> anyhow::Result<()> {
        std::fs::write(Self::path(data), serde_json::to_vec_pretty(self)?)?;
        Ok(())
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Set by Ctrl-C (SIGINT) and SIGTERM.
fn stop_flag() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))?;
    }
    Ok(stop)
}

/// The binaries the demo runs.
#[derive(Debug, Clone)]
pub(crate) struct Bins {
    dir: PathBuf,
}

impl Bins {
    /// The binaries in `dir` (`<target>/debug`).
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// Builds the demo's List of Trusted Entities with `intyg trust-list make`
/// (a development scheme operator in `DATA/lists/operator`), naming the
/// issuer (its CA `DATA/issuer/issuer-ca.pem`, TEName its name) as a
/// Pub-EAA provider, and serves it over loopback HTTP from a thread of
/// this process. Returns the list's URL and the operator CA to pin.
fn publish_trust_list(data: &Path, bins: &Bins) -> anyhow::Result<(String, PathBuf)> {
    let dir = data.join("lists");
    std::fs::create_dir_all(&dir)?;
    let issuer_ca = data.join("issuer/issuer-ca.pem");
    ensure!(
        issuer_ca.exists(),
        "the issuer did not write {}",
        issuer_ca.display()
    );
    let sequence = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let description = json!({
        "type": "PubEAAProvidersList",
        "territory": "SE",
        "operator": "Intyg demo scheme operator",
        "scheme_name": "Intyg demo Pub-EAA providers",
        "sequence_number": sequence,
        "valid_days": 30,
        "entities": [{
            "name": ISSUER_NAME,
            "services": [{
                "type": "PubEAA/Issuance",
                "certificates": [issuer_ca.display().to_string()],
            }],
        }],
    });
    let description_path = dir.join("description.json");
    std::fs::write(&description_path, serde_json::to_vec_pretty(&description)?)?;
    let made = Command::new(bins.path("intyg"))
        .args(["trust-list", "make", "--dev-operator"])
        .arg(dir.join("operator"))
        .arg(&description_path)
        .stderr(Stdio::inherit())
        .output()
        .context("running intyg trust-list make")?;
    ensure!(made.status.success(), "intyg trust-list make failed");
    let list = made.stdout;
    std::fs::write(dir.join("pub-eaa.jwt"), &list)?;
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    let url = format!("http://{}/pub-eaa.jwt", listener.local_addr()?);
    std::thread::spawn(move || serve_file(&listener, &list));
    Ok((url, dir.join("operator/operator-ca.pem")))
}

/// Answers every request on `listener` with `body` (the demo's one list).
fn serve_file(listener: &TcpListener, body: &[u8]) {
    use std::io::Write as _;
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        // Read the request head; its content does not matter.
        let mut head = [0u8; 4096];
        if stream.read(&mut head).is_err() {
            continue;
        }
        let header = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/jwt\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        if let Err(e) = stream
            .write_all(header.as_bytes())
            .and_then(|()| stream.write_all(body))
        {
            eprintln!("demo trust list: {e}");
        }
    }
}

/// A service process, stopped with SIGTERM (then SIGKILL) when dropped.
struct Service {
    name: &'static str,
    child: Child,
    url: String,
    log: PathBuf,
}

impl Service {
    fn start(
        name: &'static str,
        mut command: Command,
        url: String,
        log: PathBuf,
        stop: &AtomicBool,
    ) -> anyhow::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)?;
        let child = command
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        let mut service = Self {
            name,
            child,
            url,
            log,
        };
        service.wait_up(stop)?;
        Ok(service)
    }

    fn wait_up(&mut self, stop: &AtomicBool) -> anyhow::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        let agent = agent();
        while Instant::now() < deadline {
            ensure!(!stop.load(Ordering::Relaxed), "stopped by Ctrl-C");
            self.check_running()?;
            if agent
                .get(format!("{}/healthz", self.url))
                .call()
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("{} did not start; see {}", self.name, self.log.display())
    }

    /// Fails with the end of the log if the process has exited.
    fn check_running(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "{} exited ({status}); the end of {}:\n{}",
                self.name,
                self.log.display(),
                log_tail(&self.log)
            );
        }
        Ok(())
    }

    /// SIGTERM, and SIGKILL if it does not stop in time.
    fn stop(&mut self) {
        terminate(&mut self.child, self.name);
    }
}

/// Stops `child` with SIGTERM, and SIGKILL if it does not stop in time.
fn terminate(child: &mut Child, name: &str) {
    if matches!(child.try_wait(), Ok(Some(_))) {
        return;
    }
    let pid = i32::try_from(child.id())
        .ok()
        .and_then(rustix::process::Pid::from_raw);
    if let Some(pid) = pid {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    }
    let deadline = Instant::now() + STOP_TIMEOUT;
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("{name} did not stop in time; killing it");
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop();
    }
}

fn log_tail(path: &Path) -> String {
    let Ok(mut file) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map_or(0, |m| m.len());
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(4000)));
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    text
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// A JSON API of one of the services, with the Bearer key.
struct Api {
    agent: ureq::Agent,
    base: String,
    key: String,
}

impl Api {
    fn new(base: &str, key: &str) -> Self {
        Self {
            agent: agent(),
            base: base.to_owned(),
            key: key.to_owned(),
        }
    }

    /// `POST`s `body`; the status and the JSON answer.
    fn post(&self, path: &str, body: &Value) -> anyhow::Result<(u16, Value)> {
        let mut response = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {}", self.key))
            .send_json(body)
            .with_context(|| format!("POST {}{path}", self.base))?;
        let status = response.status().as_u16();
        let value = response.body_mut().read_json().unwrap_or(Value::Null);
        Ok((status, value))
    }

    /// `POST`s `body` and expects 201 or 200.
    fn create(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let (status, value) = self.post(path, body)?;
        ensure!(
            status == 200 || status == 201,
            "POST {path} answered {status}: {value}"
        );
        Ok(value)
    }

    fn get(&self, path: &str) -> anyhow::Result<Value> {
        let mut response = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {}", self.key))
            .call()
            .with_context(|| format!("GET {}{path}", self.base))?;
        let status = response.status().as_u16();
        let value: Value = response.body_mut().read_json().unwrap_or(Value::Null);
        ensure!(status == 200, "GET {path} answered {status}: {value}");
        Ok(value)
    }
}

/// The running system: the issuer and the verifier over `data`.
pub(crate) struct System {
    data: PathBuf,
    bins: Bins,
    remembered: Remembered,
    issuer: Service,
    verifier: Service,
    /// The demo's trust list: its URL and the operator CA that signs it.
    trust_list: (String, PathBuf),
}

impl std::fmt::Debug for System {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("System")
            .field("data", &self.data)
            .field("issuer", &self.issuer.url)
            .field("verifier", &self.verifier.url)
            .finish_non_exhaustive()
    }
}

impl System {
    /// Starts both services on the data in `data` (made if missing) and
    /// seeds what is not there yet.
    pub(crate) fn start(data: &Path, bins: Bins, stop: &AtomicBool) -> anyhow::Result<Self> {
        let first_run = !Remembered::path(data).exists();
        let mut attempt = 1;
        loop {
            match Self::start_once(data, bins.clone(), stop) {
                // Free ports are probed, then given to the services: on the
                // first run another process may take one in between.
                Err(error)
                    if first_run
                        && attempt < 3
                        && format!("{error:#}").contains("Address already in use") =>
                {
                    std::fs::remove_file(Remembered::path(data))?;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    fn start_once(data: &Path, bins: Bins, stop: &AtomicBool) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data.join("logs"))?;
        let remembered = Remembered::load_or_new(data)?;
        remembered.save(data)?;
        for (name, port) in [
            ("issuer", remembered.issuer_port),
            ("verifier", remembered.verifier_port),
        ] {
            TcpListener::bind(("127.0.0.1", port)).with_context(|| {
                format!(
                    "the demo's {name} port 127.0.0.1:{port} is in use: is another demo running? \
                     Stop it, or start anew with `cargo xtask demo --fresh`"
                )
            })?;
        }
        let issuer_url = format!("http://127.0.0.1:{}", remembered.issuer_port);
        let mut command = Command::new(bins.path("intyg-issuer"));
        command
            .args(["--dev", "--data-dir"])
            .arg(data.join("issuer"))
            .args(["--listen", &issuer_url["http://".len()..]])
            .env("INTYG_API_KEY", &remembered.api_key)
            .env("INTYG_ISSUER_STATUS_TTL", STATUS_TTL_SECONDS.to_string())
            .env("INTYG_ISSUER_NAME", ISSUER_NAME);
        let issuer = Service::start(
            "the issuer",
            command,
            issuer_url.clone(),
            data.join("logs/issuer.log"),
            stop,
        )?;
        let (list_url, list_signer) = publish_trust_list(data, &bins)?;
        let listen = format!("127.0.0.1:{}", remembered.verifier_port);
        let mut command = Command::new(bins.path("intyg-verifier"));
        command
            .args(["--dev", "--data-dir"])
            .arg(data.join("verifier"))
            .args(["--listen", &listen, "--trust-list", &list_url])
            .arg("--trust-list-signer")
            .arg(&list_signer)
            // The dev issuer's test PID provider, trusted for the PID only.
            .arg("--trust-pid-provider")
            .arg(data.join("issuer/pid-provider-ca.pem"))
            .env("INTYG_API_KEY", &remembered.api_key)
            .env("INTYG_VERIFIER_NAME", EMPLOYER_NAME);
        // The dev verifier's public URL names `localhost`, the DNS name of
        // its development certificate.
        let verifier = Service::start(
            "the verifier",
            command,
            format!("http://localhost:{}", remembered.verifier_port),
            data.join("logs/verifier.log"),
            stop,
        )?;
        let mut system = Self {
            data: data.to_owned(),
            bins,
            remembered,
            issuer,
            verifier,
            trust_list: (list_url, list_signer),
        };
        system.seed()?;
        Ok(system)
    }

    fn issuer_api(&self) -> Api {
        Api::new(&self.issuer.url, &self.remembered.api_key)
    }

    fn verifier_api(&self) -> Api {
        Api::new(&self.verifier.url, &self.remembered.api_key)
    }

    /// Registers the job seekers and makes the posting, unless done before.
    fn seed(&mut self) -> anyhow::Result<()> {
        let issuer = self.issuer_api();
        for person in &JOB_SEEKERS {
            let (status, answer) = issuer.post(
                "/api/persons",
                &json!({
                    "personal_identity_number": person.personal_identity_number,
                    "given_name": person.given_name,
                    "family_name": person.family_name,
                }),
            )?;
            let seeded =
                status == 201 || (status == 409 && answer["error"] == "already_registered");
            ensure!(
                seeded,
                "registering {} answered {status}: {answer}",
                person.given_name
            );
        }
        let verifier = self.verifier_api();
        let known = match &self.remembered.posting_id {
            Some(id) => verifier.get(&format!("/api/postings/{id}")).is_ok(),
            None => false,
        };
        if !known {
            let posting = verifier.create(
                "/api/postings",
                &json!({
                    "title": POSTING_TITLE,
                    "description": POSTING_DESCRIPTION,
                    "purpose": POSTING_PURPOSE,
                }),
            )?;
            let id = posting["id"]
                .as_str()
                .context("the posting has no id")?
                .to_owned();
            self.remembered.posting_id = Some(id);
            self.remembered.save(&self.data)?;
        }
        Ok(())
    }

    fn posting_id(&self) -> anyhow::Result<&str> {
        self.remembered
            .posting_id
            .as_deref()
            .context("the posting was not seeded")
    }

    /// Where to sign in, and what was seeded.
    fn print_sign_in(&self) -> anyhow::Result<()> {
        let officer = crate::env_or("INTYG_OFFICER_PASSWORD", "intyg-dev");
        let employer = crate::env_or("INTYG_EMPLOYER_PASSWORD", "intyg-dev");
        println!(
            "Arbetsförmedlingen's issuer   {}\n  officer portal              {}/portal  (sign in as handlaggare / {officer})\n\
             The employer's verifier       {}\n  employer portal             {}/portal  (sign in as arbetsgivare / {employer})\n  \
             internship posting          {}/portal/postings/{}\n\
             Admin and HR API key          {}  (OpenAPI at /openapi.json on both)\n\
             Job seekers                   {}\n\
             Data (kept between runs)      {}  (`cargo xtask demo --fresh` starts anew)",
            self.issuer.url,
            self.issuer.url,
            self.verifier.url,
            self.verifier.url,
            self.verifier.url,
            self.posting_id()?,
            self.remembered.api_key,
            JOB_SEEKERS
                .iter()
                .map(|p| format!(
                    "{} {} ({})",
                    p.given_name, p.family_name, p.personal_identity_number
                ))
                .collect::<Vec<_>>()
                .join(", "),
            self.data.display(),
        );
        Ok(())
    }

    /// Makes an offer of `kind` to `person` with the claims of the
    /// credential type's example, adapted to the person; the offer link,
    /// its PIN and the credential id.
    fn offer(
        &self,
        root: &Path,
        kind: &str,
        person: &JobSeeker,
    ) -> anyhow::Result<(String, String, String)> {
        let example = root.join(format!("specs/credentials/{kind}/example.json"));
        let mut claims: Value = serde_json::from_slice(&std::fs::read(&example)?)
            .with_context(|| format!("reading {}", example.display()))?;
        if let Some(map) = claims.as_object_mut() {
            for (name, value) in [
                ("given_name", person.given_name),
                ("family_name", person.family_name),
                ("personal_identity_number", person.personal_identity_number),
                (
                    "personal_administrative_number",
                    person.personal_identity_number,
                ),
            ] {
                if map.contains_key(name) {
                    map.insert(name.to_owned(), Value::from(value));
                }
            }
            if map.contains_key("birthdate") {
                let n = person.personal_identity_number;
                map.insert(
                    "birthdate".to_owned(),
                    Value::from(format!("{}-{}-{}", &n[0..4], &n[4..6], &n[6..8])),
                );
            }
        }
        let offer = self.issuer_api().create(
            "/api/offers",
            &json!({
                "credential_configuration_id": kind,
                "subject": person.personal_identity_number,
                "claims": claims,
            }),
        )?;
        let text = |name: &str| {
            offer[name]
                .as_str()
                .map(str::to_owned)
                .with_context(|| format!("the offer has no {name}: {offer}"))
        };
        let id = offer["credential_ids"][0]
            .as_str()
            .with_context(|| format!("the offer has no credential id: {offer}"))?
            .to_owned();
        Ok((text("offer_uri")?, text("tx_code")?, id))
    }

    /// Fails if a service has exited.
    fn check_running(&mut self) -> anyhow::Result<()> {
        self.issuer.check_running()?;
        self.verifier.check_running()
    }

    /// Stops both services (also done on drop).
    pub(crate) fn stop(mut self) {
        self.verifier.stop();
        self.issuer.stop();
    }
}

/// `cargo xtask demo`: `fresh` wipes `demo-data/`; `headless` plays the
/// journey with the CLI (also when there is no display).
pub(crate) fn run(root: &Path, bins: Bins, fresh: bool, headless: bool) -> anyhow::Result<()> {
    let data = root.join(DATA_DIR);
    if fresh && data.exists() {
        std::fs::remove_dir_all(&data).with_context(|| format!("wiping {}", data.display()))?;
        println!("Wiped {}.", data.display());
    }
    let stop = stop_flag()?;
    let headless = headless || !has_display();
    if headless {
        return headless_run(root, &data, bins, &stop);
    }
    let system = System::start(&data, bins, &stop)?;
    interactive(root, system, &stop)
}

/// True when a graphical session is there to show the wallet app.
pub(crate) fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}

/// Starts the system on `data`, plays [`journey`] and stops the system.
pub(crate) fn headless_run(
    root: &Path,
    data: &Path,
    bins: Bins,
    stop: &AtomicBool,
) -> anyhow::Result<()> {
    heading("Intyg: an agency, a job seeker and an employer, offline on this machine");
    let mut system = System::start(data, bins, stop)?;
    system.print_sign_in()?;
    let result = journey(root, &mut system, stop);
    system.stop();
    match result {
        Ok(()) => {
            heading("Done: every step happened as told. The services have stopped.");
            println!(
                "Run `cargo xtask demo` again to continue with the same data, \
                 or with --fresh to start anew."
            );
            Ok(())
        }
        Err(_) if stop.load(Ordering::Relaxed) => {
            bail!("stopped by Ctrl-C; the services have stopped")
        }
        Err(error) => Err(error),
    }
}

fn heading(text: &str) {
    println!("\n\x1b[1m== {text}\x1b[0m");
}

/// The `intyg wallet` CLI on one job seeker's wallet.
struct WalletCli<'a> {
    bin: PathBuf,
    dir: PathBuf,
    stop: &'a AtomicBool,
}

impl WalletCli<'_> {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.bin);
        command
            .args(["wallet", "--dev"])
            .args(args)
            .env("INTYG_WALLET_DIR", &self.dir)
            .env("INTYG_WALLET_PIN", WALLET_PIN)
            .stdin(Stdio::null());
        command
    }

    /// Runs a wallet command with its output shown; fails if it fails.
    fn run(&self, args: &[&str]) -> anyhow::Result<()> {
        ensure!(!self.stop.load(Ordering::Relaxed), "stopped by Ctrl-C");
        println!("$ intyg wallet {}", args.join(" "));
        let status = self.command(args).status()?;
        ensure!(status.success(), "intyg wallet {} failed", args.join(" "));
        Ok(())
    }

    /// Runs a wallet command, shows its output, and returns whether it
    /// succeeded and what it printed (both streams).
    fn run_captured(&self, args: &[&str]) -> anyhow::Result<(bool, String)> {
        ensure!(!self.stop.load(Ordering::Relaxed), "stopped by Ctrl-C");
        println!("$ intyg wallet {}", args.join(" "));
        let out = self.command(args).output()?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        print!("{text}");
        Ok((out.status.success(), text))
    }

    /// Whether a wallet command succeeds; its output is not shown.
    fn succeeds(&self, args: &[&str]) -> bool {
        self.command(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Runs a wallet command with `--json`; its answer.
    fn json(&self, args: &[&str]) -> anyhow::Result<Value> {
        ensure!(!self.stop.load(Ordering::Relaxed), "stopped by Ctrl-C");
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.command(&all).stderr(Stdio::inherit()).output()?;
        ensure!(
            out.status.success(),
            "intyg wallet {} failed",
            args.join(" ")
        );
        serde_json::from_slice(&out.stdout)
            .with_context(|| format!("intyg wallet {} printed no JSON", args.join(" ")))
    }
}

/// The narrated journey. Each step checks what it narrates.
fn journey(root: &Path, system: &mut System, stop: &AtomicBool) -> anyhow::Result<()> {
    let karin = &JOB_SEEKERS[0];
    let issuer = system.issuer_api();
    let verifier = system.verifier_api();
    let wallet = WalletCli {
        bin: system.bins.path("intyg"),
        dir: system.data.join("wallets").join(karin.wallet),
        stop,
    };

    heading("Karin gets her wallet ready");
    if wallet.succeeds(&["unlock"]) {
        println!(
            "Karin's wallet from an earlier run is in {} (PIN {WALLET_PIN}).",
            wallet.dir.display()
        );
    } else {
        println!("She chooses the PIN {WALLET_PIN}.");
        wallet.run(&["init"])?;
    }
    println!(
        "Her wallet trusts employers whose certificates chain to the demo CA \
         (the verifier's development CA)."
    );
    let ca = system.data.join("verifier/ca.pem");
    wallet.run(&["trust", "add-verifier-root", &ca.to_string_lossy()])?;
    println!(
        "It trusts the registrar whose registration certificates say what an employer \
         may ask for (the verifier's development WRPRC provider)."
    );
    let wrprc_ca = system.data.join("verifier/wrprc-ca.pem");
    wallet.run(&["trust", "add-wrprc-root", &wrprc_ca.to_string_lossy()])?;
    println!(
        "It subscribes to the scheme operator's list of public-body attestation providers \
         (ETSI TS 119 602), to know who issues what she receives."
    );
    let (list_url, list_signer) = &system.trust_list;
    wallet.run(&[
        "trust-list",
        "add",
        list_url,
        "--signer",
        &list_signer.to_string_lossy(),
    ])?;

    heading(
        "The case officer issues Karin a registration certificate and an internship eligibility",
    );
    let mut registration_id = String::new();
    for kind in ["registration-certificate", "internship-eligibility"] {
        let (uri, pin, id) = system.offer(root, kind, karin)?;
        println!("Offer of {kind}: {uri}\n  the officer tells Karin the PIN {pin}");
        if kind == "registration-certificate" {
            registration_id = id;
        }
        heading(&format!("Karin accepts the {kind} with the PIN"));
        wallet.run(&["accept", &uri, "--tx-code", &pin])?;
    }
    let held = wallet.json(&["list"])?;
    let count = held.as_array().map_or(0, Vec::len);
    println!("Karin's wallet holds {count} credentials.");
    ensure!(
        count >= 2,
        "the wallet should hold both credentials: {held}"
    );
    let listed = held
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["listed_on"].is_string())
        .count();
    println!("{listed} of them come from a provider on the list.");
    ensure!(
        listed >= 2,
        "the issuer's credentials should show the list they are on: {held}"
    );
    system.check_running()?;

    heading("The employer opens an application on the posting for an internship (arbetspraktik)");
    let posting = system.posting_id()?.to_owned();
    // The national wallet's profile: an x509_san_dns client identifier,
    // and request_uri_method=post (the wallet POSTs its metadata and a
    // nonce the signed request must echo, OpenID4VP 1.0 §5.10).
    let application = verifier.create(
        &format!("/api/postings/{posting}/applications"),
        &json!({"client_id_prefix": "x509_san_dns", "request_uri_method": "post"}),
    )?;
    let (id, uri) = presentation_of(&application)?;
    println!("Posting: {POSTING_TITLE}\nThe request Karin scans: {uri}");

    heading(
        "Karin reviews who asks, why, and for what, and approves: she leaves out her family name",
    );
    wallet.run(&["present", &uri, "--approve", "--include", "given_name"])?;

    heading("The employer sees the verified result");
    let result = verifier.get(&format!("/api/presentations/{id}"))?;
    ensure!(
        result["status"] == "verified",
        "the employer should see a verified application: {result}"
    );
    let claims = shared_claims(&result);
    for credential in result["credentials"].as_array().into_iter().flatten() {
        println!(
            "  {} from {} ({}):",
            credential["vct"].as_str().unwrap_or("?"),
            credential["issuer"].as_str().unwrap_or("?"),
            credential["status"].as_str().unwrap_or("?")
        );
        for (name, value) in credential["claims"].as_object().into_iter().flatten() {
            println!("    {name}: {value}");
        }
    }
    ensure!(
        claims.iter().any(|c| c == "given_name"),
        "Karin consented to her given name but it was not shared: {claims:?}"
    );
    ensure!(
        !claims.iter().any(|c| c == "family_name"),
        "the family name was shared without Karin's consent"
    );
    let consent = &result["consent"];
    ensure!(
        consent["purpose"] == POSTING_PURPOSE,
        "the consent record should hold the posting's purpose: {consent}"
    );
    println!(
        "The employer keeps a consent record: {} consented to {} for {:?} (digest {}).",
        karin.given_name,
        consent["verifier_name"].as_str().unwrap_or("?"),
        POSTING_PURPOSE,
        consent["presentation_digest"].as_str().unwrap_or("?"),
    );
    system.check_running()?;

    heading("Karin also holds a test PID; an employer asks for it beside her registration");
    let (uri, pin, _) = system.offer(root, "pid", karin)?;
    println!(
        "Offer of the test PID (development only, signed by the issuer's test PID provider): {uri}"
    );
    wallet.run(&["accept", &uri, "--tx-code", &pin])?;
    let created = verifier.create(
        "/api/presentations",
        &json!({"template": "internship-application-with-identity"}),
    )?;
    let (id, uri) = presentation_of(&created)?;
    wallet.run(&["present", &uri, "--approve"])?;
    let result = verifier.get(&format!("/api/presentations/{id}"))?;
    ensure!(
        result["status"] == "verified",
        "the PID and the registration certificate name the same person: {result}"
    );
    println!("The employer sees a verified PID and registration certificate of the same person.");
    system.check_running()?;

    heading("Karin deregisters; the agency revokes her registration certificate");
    issuer.create(
        &format!("/api/credentials/{registration_id}/revoke"),
        &json!({}),
    )?;
    println!(
        "The verifier may cache the status list for {STATUS_TTL_SECONDS} s; the demo waits that long."
    );
    std::thread::sleep(Duration::from_secs(STATUS_TTL_SECONDS + 1));

    heading(
        "Karin applies again: her wallet warns that the certificate is revoked; she tries anyway",
    );
    let application =
        verifier.create(&format!("/api/postings/{posting}/applications"), &json!({}))?;
    let (id, uri) = presentation_of(&application)?;
    let (succeeded, output) = wallet.run_captured(&["present", &uri, "--approve"])?;
    ensure!(
        output.contains("revoked"),
        "the wallet should have warned that the certificate is revoked"
    );
    ensure!(!succeeded, "the verifier should have refused the response");

    heading("The employer's verifier rejects the application: the certificate is revoked");
    let result = verifier.get(&format!("/api/presentations/{id}"))?;
    println!(
        "The employer sees: {} ({})",
        result["status"].as_str().unwrap_or("?"),
        result["reason_description"]
            .as_str()
            .or(result["reason"].as_str())
            .unwrap_or("?")
    );
    ensure!(
        result["status"] == "failed" && result["reason"] == "revoked",
        "the second application should be rejected as revoked: {result}"
    );

    heading("Karin's wallet history: every share, with its purpose and what was disclosed");
    wallet.run(&["history"])?;
    let history = wallet.json(&["history"])?;
    ensure!(
        history.as_array().is_some_and(|h| h.len() >= 4),
        "the history should list two issuances and two shares: {history}"
    );
    Ok(())
}

fn presentation_of(created: &Value) -> anyhow::Result<(String, String)> {
    let text = |name: &str| {
        created[name]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("no {name} in {created}"))
    };
    Ok((text("id")?, text("request_uri")?))
}

/// The names of the claims the employer received.
fn shared_claims(result: &Value) -> Vec<String> {
    result["credentials"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["claims"].as_object())
        .flat_map(|claims| claims.keys().cloned())
        .collect()
}

/// With a display: prints where to sign in and an offer per job seeker,
/// opens the wallet app, and runs until Ctrl-C.
fn interactive(root: &Path, mut system: System, stop: &AtomicBool) -> anyhow::Result<()> {
    heading("Intyg is running");
    system.print_sign_in()?;
    heading("Offers waiting for the job seekers (paste the link in the wallet app, type the PIN)");
    for person in &JOB_SEEKERS {
        let (uri, pin, _) = system.offer(root, "registration-certificate", person)?;
        println!(
            "{} {}: registration certificate\n  {uri}\n  PIN {pin}",
            person.given_name, person.family_name
        );
    }
    heading("The wallet app");
    let app_dir = system.data.join("wallets/app");
    println!(
        "Its data is in {}. In Settings, add the employer's demo CA {} so that \
         the wallet trusts the employer. In the employer portal, open the posting \
         and start an applicant session to get a request link or QR code.",
        app_dir.display(),
        system.data.join("verifier/ca.pem").display()
    );
    let mut app = Command::new(system.bins.path("intyg-wallet-app"))
        .env("INTYG_WALLET_DIR", &app_dir)
        .env("INTYG_WALLET_DEV", "1")
        .stdin(Stdio::null())
        .spawn()
        .context("starting the wallet app")?;
    println!("\nPress Ctrl-C to stop the services and the app.");
    let mut app_open = true;
    while !stop.load(Ordering::Relaxed) {
        system.check_running()?;
        if app_open && let Some(status) = app.try_wait()? {
            app_open = false;
            println!("The wallet app closed ({status}); the services keep running until Ctrl-C.");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    println!("\nStopping…");
    if app_open {
        terminate(&mut app, "the wallet app");
    }
    system.stop();
    println!(
        "Stopped. The data stays in {}.",
        root.join(DATA_DIR).display()
    );
    Ok(())
}
