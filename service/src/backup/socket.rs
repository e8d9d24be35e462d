//! The operator socket: `operator.sock` in the data directory (mode 0600),
//! through which `backup` asks a running service for a snapshot. sled
//! locks its directory to one process, so an online backup has to come
//! from the process that holds it; the socket adds no network listener
//! and no credential: whoever may connect may read the data directory
//! (and its keys) anyway.
//!
//! Protocol: the client sends `snapshot\n`; the service answers
//! `ok <n>\n` and the `n` bytes of an archive's plaintext
//! ([`super::archive`]), or `error <message>\n`.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _};

use super::{BackupError, Db, snapshot};
use crate::audit::{Audit, Event};

/// The socket's name in the data directory.
pub const SOCKET_NAME: &str = "operator.sock";
/// The request.
const REQUEST: &str = "snapshot";

/// Binds `operator.sock` in `data_dir` (a stale one from a process that
/// is gone is replaced: sled's lock says no other process has this
/// directory) and serves snapshots of `db` until the runtime stops. Each
/// snapshot is recorded in `audit` (`backup.snapshot`, by
/// `operator:uid=<uid>`, with its SHA-256 and size).
#[cfg(unix)]
pub fn serve(
    data_dir: &Path,
    db: Db,
    service: &'static str,
    audit: Option<Audit>,
) -> std::io::Result<Option<PathBuf>> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = data_dir.join(SOCKET_NAME);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let listener = tokio::net::UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    let data_dir = data_dir.to_owned();
    tokio::spawn(async move {
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors, say: wait rather than spin.
                    tracing::error!(error = %e, "operator socket: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            };
            let (db, data_dir, audit) = (db.clone(), data_dir.clone(), audit.clone());
            tokio::spawn(async move {
                if let Err(e) = answer(stream, db, data_dir, service, audit).await {
                    tracing::warn!(error = %e, "operator socket: a request failed");
                }
            });
        }
    });
    Ok(Some(path))
}

/// No operator socket off Unix: backups are taken with the service
/// stopped.
#[cfg(not(unix))]
pub fn serve(
    _data_dir: &Path,
    _db: Db,
    _service: &'static str,
    _audit: Option<Audit>,
) -> std::io::Result<Option<PathBuf>> {
    Ok(None)
}

#[cfg(unix)]
async fn answer(
    stream: tokio::net::UnixStream,
    db: Db,
    data_dir: PathBuf,
    service: &'static str,
    audit: Option<Audit>,
) -> std::io::Result<()> {
    let uid = stream.peer_cred().map(|c| c.uid()).ok();
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let mut limited = tokio::io::BufReader::new(tokio::io::AsyncReadExt::take(read, 64));
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        limited.read_line(&mut line),
    )
    .await
    .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no request"))??;
    if line.trim_end() != REQUEST {
        write.write_all(b"error unknown request\n").await?;
        return Ok(());
    }
    let started = std::time::Instant::now();
    let taken = tokio::task::spawn_blocking(move || snapshot(&db, &data_dir))
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let contents = match taken {
        Ok(contents) => contents,
        Err(e) => {
            tracing::error!(error = %e, "operator socket: snapshot failed");
            write
                .write_all(b"error the snapshot failed (see the service's log)\n")
                .await?;
            return Ok(());
        }
    };
    let (manifest, plain) = contents.to_plaintext(service, "online", crate::time::now());
    let operator = uid.map_or_else(
        || "operator".to_owned(),
        |uid| format!("operator:uid={uid}"),
    );
    if let Some(audit) = audit {
        audit
            .record_or_log(
                Event::new(operator.clone(), "backup.snapshot").detail(format!(
                    "sha256 {}; {} entries in {} trees, {} files",
                    manifest.content_sha256,
                    manifest.trees.values().sum::<u64>(),
                    manifest.trees.len(),
                    manifest.files.len(),
                )),
            )
            .await;
    }
    tracing::info!(
        %operator,
        bytes = plain.len(),
        millis = started.elapsed().as_millis(),
        "operator socket: snapshot taken"
    );
    write
        .write_all(format!("ok {}\n", plain.len()).as_bytes())
        .await?;
    write.write_all(&plain).await?;
    write.shutdown().await
}

/// Asks the service running on `data_dir` for a snapshot's plaintext;
/// `None` when no service answers there (no socket, or a stale one).
#[cfg(unix)]
pub fn request(data_dir: &Path) -> Result<Option<Vec<u8>>, BackupError> {
    let path = data_dir.join(SOCKET_NAME);
    let mut stream = match std::os::unix::net::UnixStream::connect(&path) {
        Ok(stream) => stream,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(BackupError::Socket(e)),
    };
    stream
        .write_all(format!("{REQUEST}\n").as_bytes())
        .map_err(BackupError::Socket)?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).map_err(BackupError::Socket)?;
    let line = line.trim_end();
    if let Some(message) = line.strip_prefix("error ") {
        return Err(BackupError::Refused(message.to_owned()));
    }
    let length = line
        .strip_prefix("ok ")
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(|| BackupError::Refused(format!("unexpected answer {line:?}")))?;
    let mut plain = Vec::new();
    reader
        .take(length)
        .read_to_end(&mut plain)
        .map_err(BackupError::Socket)?;
    if plain.len() as u64 != length {
        return Err(BackupError::Socket(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the snapshot was cut short",
        )));
    }
    Ok(Some(plain))
}

/// No operator socket off Unix: backups are taken with the service
/// stopped.
#[cfg(not(unix))]
pub fn request(_data_dir: &Path) -> Result<Option<Vec<u8>>, BackupError> {
    Ok(None)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!("intyg-sock-{name}-{nanos}"));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_socket_serves_a_snapshot_refuses_other_requests_and_a_stale_one_is_no_service() {
        let dir = temp("serve");
        let db = Db::open(&dir.join("db")).unwrap();
        db.open_tree("offers")
            .unwrap()
            .insert(b"o1", b"x".to_vec())
            .unwrap();
        std::fs::write(dir.join("c-nonce.key"), [9u8; 32]).unwrap();
        let path = serve(&dir, db, "issuer", None).unwrap().unwrap();
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let asked = dir.clone();
        let plain = tokio::task::spawn_blocking(move || request(&asked))
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let (manifest, contents) = super::super::archive::from_plaintext(&plain).unwrap();
        assert_eq!(
            (manifest.service.as_str(), manifest.source.as_str()),
            ("issuer", "online")
        );
        assert_eq!(contents.trees["offers"].len(), 1);
        assert_eq!(contents.files["c-nonce.key"], [9u8; 32]);

        let asked = path.clone();
        let answer = tokio::task::spawn_blocking(move || {
            let mut stream = std::os::unix::net::UnixStream::connect(&asked).unwrap();
            stream.write_all(b"shell rm -rf /\n").unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).unwrap();
            answer
        })
        .await
        .unwrap();
        assert_eq!(answer, "error unknown request\n");

        // A socket file that nobody listens on (a killed service).
        let stale = temp("stale");
        drop(std::os::unix::net::UnixListener::bind(stale.join(SOCKET_NAME)).unwrap());
        let none = tokio::task::spawn_blocking(move || request(&stale))
            .await
            .unwrap();
        assert!(matches!(none, Ok(None)), "{none:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_service_that_answers_an_error_is_reported_as_refused() {
        let dir = temp("refuse");
        let listener = tokio::net::UnixListener::bind(dir.join(SOCKET_NAME)).unwrap();
        tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut stream = tokio::io::BufReader::new(stream);
            let mut line = String::new();
            stream.read_line(&mut line).await.unwrap();
            assert_eq!(line, "snapshot\n");
            stream
                .get_mut()
                .write_all(b"error the snapshot failed\n")
                .await
                .unwrap();
        });
        let refused = tokio::task::spawn_blocking(move || request(&dir))
            .await
            .unwrap();
        let error = refused.unwrap_err();
        assert_eq!(error.code(), "snapshot_refused");
        assert_eq!(
            error.to_string(),
            "the running service refused the snapshot: the snapshot failed"
        );
    }
}
