//! A throwaway PostgreSQL cluster: `initdb` into a temporary directory (as
//! the `postgres` user when the tests run as root, since `initdb` refuses
//! root), `postgres` on a free loopback port with its unix socket in that
//! directory. One cluster per test binary, started on first use; each
//! caller gets a fresh database. A watchdog shell stops the server and
//! removes the directory once the test process is gone. The server also
//! speaks TLS (`ssl = on`) with a certificate for `localhost` and
//! `127.0.0.1` from a test CA ([`TestPg::ca_pem`]), so `sslmode` can be
//! tested (it listens on `127.0.0.2` too: a name its certificate lacks);
//! plain connections stay allowed.
//!
//! The binaries are Debian's (`/usr/lib/postgresql/<n>/bin`, package
//! `postgresql`, installed by `cargo xtask setup`), or `$INTYG_PG_BIN`.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The cluster of this test binary.
#[derive(Debug)]
pub struct TestPg {
    port: u16,
    dir: PathBuf,
    /// The watchdog shell: never waited for, it outlives this process on
    /// purpose to stop the server and clean up after it.
    _watchdog: std::process::Child,
}

static CLUSTER: OnceLock<TestPg> = OnceLock::new();
static DATABASES: AtomicU32 = AtomicU32::new(0);

impl TestPg {
    /// The cluster, started (blocking, a second or two) on first use.
    pub fn cluster() -> &'static TestPg {
        CLUSTER.get_or_init(start)
    }

    /// A fresh, empty database; its URL (plain TCP on loopback, trust
    /// authentication as `postgres`).
    pub async fn database(&self, name: &str) -> String {
        let n = DATABASES.fetch_add(1, Ordering::Relaxed);
        let db: String = format!("{name}_{n}_{}", std::process::id())
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        let admin =
            intyg_service::pg::Pg::connect(&intyg_service::pg::PgConfig::new(self.url("postgres")))
                .unwrap();
        admin
            .client()
            .await
            .unwrap()
            .batch_execute(&format!("CREATE DATABASE {db}"))
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {db}: {e}"));
        self.url(&db)
    }

    /// The URL of database `db`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster's directory (data, socket, log).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The PEM file of the CA that issued the server's certificate.
    pub fn ca_pem(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }
}

fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("INTYG_PG_BIN") {
        return dir.into();
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is not installed (/usr/lib/postgresql): run `cargo xtask setup`")
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let version = path.file_name()?.to_str()?.parse().ok()?;
            Some((version, path.join("bin")))
        })
        .filter(|(_, bin)| bin.join("initdb").is_file())
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("no initdb under /usr/lib/postgresql/*/bin")
        .1
}

/// uid and gid of the `postgres` user when running as root.
fn run_as() -> Option<(u32, u32)> {
    let id = |args: &[&str]| -> Option<u32> {
        let out = Command::new("id").args(args).output().ok()?;
        String::from_utf8(out.stdout).ok()?.trim().parse().ok()
    };
    if id(&["-u"])? != 0 {
        return None;
    }
    Some((
        id(&["-u", "postgres"]).expect("running as root, and no postgres user"),
        id(&["-g", "postgres"]).expect("no postgres group"),
    ))
}

fn command(program: &Path, user: Option<(u32, u32)>, dir: &Path) -> Command {
    let mut command = Command::new(program);
    command.current_dir(dir);
    if let Some((uid, gid)) = user {
        command.uid(uid).gid(gid);
    }
    command
}

fn start() -> TestPg {
    let bin = bin_dir();
    let user = run_as();
    let dir = std::env::temp_dir().join(format!("intyg-pg-{}", uuid::Uuid::new_v4()));
    let (data, socket) = (dir.join("data"), dir.join("socket"));
    for path in [&dir, &socket] {
        std::fs::create_dir_all(path).unwrap();
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
        }
    }
    let initdb = command(&bin.join("initdb"), user, &dir)
        .args(["-D"])
        .arg(&data)
        .args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-instructions",
        ])
        .stdout(Stdio::null())
        .output()
        .expect("initdb");
    assert!(
        initdb.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&initdb.stderr)
    );
    write_tls_files(&dir, user);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The server runs beside a watchdog that stops it (fast shutdown) and
    // removes the directory when this process is gone.
    let script = r#"
        "$1/postgres" -D "$2/data" -p "$3" -k "$2/socket" -c listen_addresses=127.0.0.1,127.0.0.2 \
            -c max_connections=400 -c shared_buffers=64MB \
            -c ssl=on -c ssl_cert_file="$2/server.pem" -c ssl_key_file="$2/server.key" \
            > "$2/postgres.log" 2>&1 &
        server=$!
        while [ -d "/proc/$4" ] && kill -0 "$server" 2>/dev/null; do sleep 0.2; done
        kill -INT "$server" 2>/dev/null
        wait "$server"
        rm -rf "$2"
    "#;
    let watchdog = command(Path::new("/bin/sh"), user, &dir)
        .arg("-c")
        .arg(script)
        .arg("intyg-test-pg")
        .arg(&bin)
        .arg(&dir)
        .arg(port.to_string())
        .arg(std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting postgres");
    let started = Instant::now();
    loop {
        let ready = Command::new(bin.join("pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if ready {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "postgres did not start: {}",
            std::fs::read_to_string(dir.join("postgres.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    TestPg {
        port,
        dir,
        _watchdog: watchdog,
    }
}

/// A test CA (`ca.pem`) and the server's certificate and key for
/// `localhost` and `127.0.0.1`, owned by the server's user (the key 0600,
/// as PostgreSQL demands).
fn write_tls_files(dir: &Path, user: Option<(u32, u32)>) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "intyg test PostgreSQL CA");
    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params
        .subject_alt_names
        .push(SanType::IpAddress([127, 0, 0, 1].into()));
    let server = params
        .signed_by(&key, &Issuer::new(ca_params, ca_key))
        .unwrap();
    let files = [
        ("ca.pem", ca.pem(), 0o644),
        ("server.pem", server.pem(), 0o644),
        ("server.key", key.serialize_pem(), 0o600),
    ];
    for (name, pem, mode) in files {
        let path = dir.join(name);
        std::fs::write(&path, pem).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(mode))
            .unwrap();
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(&path, Some(uid), Some(gid)).unwrap();
        }
    }
}
