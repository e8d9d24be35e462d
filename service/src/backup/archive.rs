//! The backup archive: an age file (X25519 recipients) whose plaintext is
//!
//! ```text
//! intyg-backup/1\n
//! <manifest, one line of JSON>\n
//! <content: content_bytes bytes>
//! ```
//!
//! The content is canonical, so equal states give equal bytes and the
//! manifest's SHA-256 can be compared across a backup and a restore:
//! every sled tree in name order (`T`, name, entry count, then each key
//! and value in key order), then every file of the data directory in path
//! order (`F`, path relative to it with `/`, bytes). Lengths are
//! big-endian: `u32` for names, paths and keys, `u64` for counts, values
//! and files.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// The first line of the plaintext.
pub const MAGIC: &[u8] = b"intyg-backup/1\n";
/// The format version in [`Manifest::format`].
pub const FORMAT: u32 = 1;
/// The longest manifest line read.
const MANIFEST_MAX: usize = 1 << 20;

/// What an archive holds, readable before its content is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: u32,
    /// `issuer` or `verifier`: an archive restores only into its service.
    pub service: String,
    /// When the snapshot was taken, seconds since the epoch.
    pub created_at: i64,
    /// `online` (through the running service) or `offline` (the store
    /// opened directly).
    pub source: String,
    /// Entries per sled tree.
    pub trees: BTreeMap<String, u64>,
    /// Files of the data directory (relative path) and their sizes.
    pub files: BTreeMap<String, u64>,
    /// The content's length.
    pub content_bytes: u64,
    /// SHA-256 of the content, hex.
    pub content_sha256: String,
}

/// A tree's entries, key and value, in key order.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// A snapshot's state: the trees and files, in canonical order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Contents {
    /// Tree name → entries in key order.
    pub trees: BTreeMap<String, Entries>,
    /// Relative path (`/`-separated) → bytes.
    pub files: BTreeMap<String, Vec<u8>>,
}

/// Why an archive's plaintext was refused.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// It does not start with [`MAGIC`].
    #[error("not an Intyg backup (no `intyg-backup/1` header)")]
    NotABackup,
    /// The manifest does not parse.
    #[error("the manifest does not parse: {0}")]
    Manifest(String),
    /// A format version this binary does not read.
    #[error("backup format {0} is not supported (this binary reads format {FORMAT})")]
    Unsupported(u32),
    /// The content's length or SHA-256 differs from the manifest's.
    #[error("the content does not match the manifest's checksum: {0}")]
    Checksum(String),
    /// The content does not decode, or is not in canonical order.
    #[error("the content does not decode: {0}")]
    Content(String),
    /// A tree's entry count, or the file list, differs from the manifest's.
    #[error("the content does not match the manifest's counts: {0}")]
    Counts(String),
}

impl Contents {
    /// The canonical content bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, entries) in &self.trees {
            out.push(b'T');
            put_u32_bytes(&mut out, name.as_bytes());
            out.extend_from_slice(&(entries.len() as u64).to_be_bytes());
            for (key, value) in entries {
                put_u32_bytes(&mut out, key);
                out.extend_from_slice(&(value.len() as u64).to_be_bytes());
                out.extend_from_slice(value);
            }
        }
        for (path, bytes) in &self.files {
            out.push(b'F');
            put_u32_bytes(&mut out, path.as_bytes());
            out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
            out.extend_from_slice(bytes);
        }
        out
    }

    /// Decodes canonical content; trees, keys and files out of order, or
    /// an unsafe path, are refused.
    pub fn decode(mut bytes: &[u8]) -> Result<Self, FormatError> {
        let bad = |what: &str| FormatError::Content(what.to_owned());
        let mut contents = Contents::default();
        while let Some((&tag, rest)) = bytes.split_first() {
            bytes = rest;
            match tag {
                b'T' => {
                    if !contents.files.is_empty() {
                        return Err(bad("a tree after the files"));
                    }
                    let name = utf8(take_u32(&mut bytes)?)?;
                    if contents.trees.keys().next_back() >= Some(&name) {
                        return Err(bad("trees out of order"));
                    }
                    let count = take_u64(&mut bytes)?;
                    let mut entries: Entries = Vec::new();
                    for _ in 0..count {
                        let key = take_u32(&mut bytes)?.to_vec();
                        let value = take_u64_bytes(&mut bytes)?.to_vec();
                        if entries.last().is_some_and(|(last, _)| *last >= key) {
                            return Err(bad("keys out of order"));
                        }
                        entries.push((key, value));
                    }
                    contents.trees.insert(name, entries);
                }
                b'F' => {
                    let path = utf8(take_u32(&mut bytes)?)?;
                    if !safe_path(&path) {
                        return Err(FormatError::Content(format!("unsafe file path {path:?}")));
                    }
                    if contents.files.keys().next_back() >= Some(&path) {
                        return Err(bad("files out of order"));
                    }
                    let data = take_u64_bytes(&mut bytes)?.to_vec();
                    contents.files.insert(path, data);
                }
                _ => return Err(bad("unknown record")),
            }
        }
        Ok(contents)
    }

    /// Entries per tree and file sizes, as the manifest lists them.
    pub fn counts(&self) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
        (
            self.trees
                .iter()
                .map(|(name, entries)| (name.clone(), entries.len() as u64))
                .collect(),
            self.files
                .iter()
                .map(|(path, bytes)| (path.clone(), bytes.len() as u64))
                .collect(),
        )
    }

    /// The plaintext of an archive of these contents (header, manifest
    /// and content), and its manifest.
    pub fn to_plaintext(
        &self,
        service: &str,
        source: &str,
        created_at: i64,
    ) -> (Manifest, Vec<u8>) {
        let content = self.encode();
        let (trees, files) = self.counts();
        let manifest = Manifest {
            format: FORMAT,
            service: service.to_owned(),
            created_at,
            source: source.to_owned(),
            trees,
            files,
            content_bytes: content.len() as u64,
            content_sha256: hex(&sha2::Sha256::digest(&content)),
        };
        let mut out = MAGIC.to_vec();
        // A struct of strings and integers always serializes.
        #[allow(clippy::expect_used)]
        out.extend(serde_json::to_vec(&manifest).expect("manifest serializes"));
        out.push(b'\n');
        out.extend(content);
        (manifest, out)
    }
}

/// Reads a plaintext: its manifest, and its contents checked against the
/// manifest's length, SHA-256, entry counts and file list.
pub fn from_plaintext(plain: &[u8]) -> Result<(Manifest, Contents), FormatError> {
    let rest = plain.strip_prefix(MAGIC).ok_or(FormatError::NotABackup)?;
    let end = rest
        .iter()
        .take(MANIFEST_MAX)
        .position(|&b| b == b'\n')
        .ok_or_else(|| FormatError::Manifest("no end of line".into()))?;
    let format = serde_json::from_slice::<serde_json::Value>(&rest[..end])
        .map_err(|e| FormatError::Manifest(e.to_string()))?
        .get("format")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| FormatError::Manifest("no format".into()))?;
    if format != u64::from(FORMAT) {
        return Err(FormatError::Unsupported(
            u32::try_from(format).unwrap_or(u32::MAX),
        ));
    }
    let manifest: Manifest =
        serde_json::from_slice(&rest[..end]).map_err(|e| FormatError::Manifest(e.to_string()))?;
    let content = &rest[end + 1..];
    if content.len() as u64 != manifest.content_bytes {
        return Err(FormatError::Checksum(format!(
            "{} bytes, the manifest says {}",
            content.len(),
            manifest.content_bytes
        )));
    }
    let sha256 = hex(&sha2::Sha256::digest(content));
    if sha256 != manifest.content_sha256 {
        return Err(FormatError::Checksum(format!(
            "SHA-256 {sha256}, the manifest says {}",
            manifest.content_sha256
        )));
    }
    let contents = Contents::decode(content)?;
    let (trees, files) = contents.counts();
    if trees != manifest.trees {
        return Err(FormatError::Counts(format!(
            "trees {trees:?}, the manifest says {:?}",
            manifest.trees
        )));
    }
    if files != manifest.files {
        return Err(FormatError::Counts(format!(
            "files {:?}, the manifest says {:?}",
            files.keys().collect::<Vec<_>>(),
            manifest.files.keys().collect::<Vec<_>>()
        )));
    }
    Ok((manifest, contents))
}

/// Why an archive could not be encrypted or decrypted.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// A recipient is not an age X25519 public key (`age1…`).
    #[error("recipient {0:?} is not an age X25519 public key (age1...)")]
    Recipient(String),
    /// No recipient was given.
    #[error("no recipient: give --recipient age1... or --recipients-file FILE")]
    NoRecipient,
    /// The identity file has no usable age X25519 identity.
    #[error("identity file {path}: {reason}")]
    Identity {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The archive is not encrypted to any of the identities.
    #[error("this backup is not encrypted to the identity given (no matching key)")]
    WrongIdentity,
    /// The age header or payload failed authentication, or is cut short:
    /// the file was damaged or altered.
    #[error("the archive is damaged or was altered: {0}")]
    Damaged(String),
    /// Reading or writing failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Parses recipients: `age1…` strings, and the lines of recipients files
/// (blank lines and `#` comments skipped).
pub fn recipients(
    given: &[String],
    files: &[(String, String)],
) -> Result<Vec<age::x25519::Recipient>, SealError> {
    let lines = files.iter().flat_map(|(_, text)| {
        text.lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
    });
    let parsed = given
        .iter()
        .map(String::as_str)
        .chain(lines)
        .map(|text| {
            text.parse::<age::x25519::Recipient>()
                .map_err(|_| SealError::Recipient(text.to_owned()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if parsed.is_empty() {
        return Err(SealError::NoRecipient);
    }
    Ok(parsed)
}

/// A new X25519 identity: the text of its identity file (as `age-keygen`
/// writes it) and its recipient (`age1…`). For restore drills and tests;
/// operators make theirs with `age-keygen` on the machine that keeps it.
pub fn generate_identity() -> (String, String) {
    use age::secrecy::ExposeSecret as _;
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    (
        format!(
            "# public key: {recipient}\n{}\n",
            identity.to_string().expose_secret()
        ),
        recipient,
    )
}

/// Encrypts `plain` to `recipients` into `out`.
pub fn seal(
    plain: &[u8],
    recipients: &[age::x25519::Recipient],
    out: impl Write,
) -> Result<(), SealError> {
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|_| SealError::NoRecipient)?;
    let mut writer = encryptor.wrap_output(out)?;
    writer.write_all(plain)?;
    writer.finish()?;
    Ok(())
}

/// The X25519 identities of an age identity file's text
/// (`AGE-SECRET-KEY-1…` lines, `#` comments).
pub fn identities(path: &str, text: &str) -> Result<Vec<age::x25519::Identity>, SealError> {
    let failed = |reason: &str| SealError::Identity {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    let parsed = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            line.parse::<age::x25519::Identity>()
                .map_err(|_| failed("a line is not an age X25519 identity (AGE-SECRET-KEY-1...)"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if parsed.is_empty() {
        return Err(failed("no identity in the file"));
    }
    Ok(parsed)
}

/// Decrypts an archive with `identities`.
pub fn open(
    archive: impl Read,
    identities: &[age::x25519::Identity],
) -> Result<Vec<u8>, SealError> {
    let decryptor = age::Decryptor::new(archive).map_err(decrypt_error)?;
    let mut reader = decryptor
        .decrypt(identities.iter().map(|i| i as &dyn age::Identity))
        .map_err(decrypt_error)?;
    let mut plain = Vec::new();
    reader
        .read_to_end(&mut plain)
        .map_err(|e| SealError::Damaged(e.to_string()))?;
    Ok(plain)
}

fn decrypt_error(e: age::DecryptError) -> SealError {
    match e {
        age::DecryptError::NoMatchingKeys => SealError::WrongIdentity,
        other => SealError::Damaged(other.to_string()),
    }
}

/// A path is relative, with only normal components.
fn safe_path(path: &str) -> bool {
    !path.is_empty()
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != ".." && !part.contains('\\'))
}

fn put_u32_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    // Names, paths and sled keys are far below 4 GiB.
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn take<'a>(bytes: &mut &'a [u8], n: u64) -> Result<&'a [u8], FormatError> {
    let n = usize::try_from(n).map_err(|_| FormatError::Content("length too large".into()))?;
    if bytes.len() < n {
        return Err(FormatError::Content("cut short".into()));
    }
    let (head, rest) = bytes.split_at(n);
    *bytes = rest;
    Ok(head)
}

fn take_u64(bytes: &mut &[u8]) -> Result<u64, FormatError> {
    let head = take(bytes, 8)?;
    Ok(u64::from_be_bytes(
        head.try_into()
            .map_err(|_| FormatError::Content("cut short".into()))?,
    ))
}

fn take_u32<'a>(bytes: &mut &'a [u8]) -> Result<&'a [u8], FormatError> {
    let head = take(bytes, 4)?;
    let n = u32::from_be_bytes(
        head.try_into()
            .map_err(|_| FormatError::Content("cut short".into()))?,
    );
    take(bytes, u64::from(n))
}

fn take_u64_bytes<'a>(bytes: &mut &'a [u8]) -> Result<&'a [u8], FormatError> {
    let n = take_u64(bytes)?;
    take(bytes, n)
}

fn utf8(bytes: &[u8]) -> Result<String, FormatError> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| FormatError::Content("a name is not UTF-8".into()))
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Contents {
        let mut contents = Contents::default();
        contents.trees.insert(
            "offers".into(),
            vec![(b"a".to_vec(), b"1".to_vec()), (b"b".to_vec(), vec![0; 3])],
        );
        contents.trees.insert("empty".into(), Vec::new());
        contents
            .files
            .insert("c-nonce.key".into(), b"secret".to_vec());
        contents
            .files
            .insert("transaction-keys/t1.key".into(), vec![7; 32]);
        contents
    }

    #[test]
    fn plaintext_round_trips_and_its_checksum_is_of_the_content_only() {
        let contents = sample();
        let (_, one) = contents.to_plaintext("issuer", "online", 1);
        let (_, two) = contents.to_plaintext("issuer", "offline", 2);
        let (manifest, back) = from_plaintext(&one).unwrap();
        assert_eq!(back, contents);
        assert_eq!(manifest.trees["offers"], 2);
        assert_eq!(manifest.files["c-nonce.key"], 6);
        assert_eq!(
            manifest.content_sha256,
            from_plaintext(&two).unwrap().0.content_sha256
        );
    }

    #[test]
    fn a_changed_byte_count_or_format_is_refused() {
        let (_, plain) = sample().to_plaintext("issuer", "online", 1);
        let mut flipped = plain.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(matches!(
            from_plaintext(&flipped),
            Err(FormatError::Checksum(_))
        ));
        assert!(matches!(
            from_plaintext(b"PK\x03\x04"),
            Err(FormatError::NotABackup)
        ));
        let text = String::from_utf8_lossy(&plain).replace("\"format\":1", "\"format\":2");
        assert!(matches!(
            from_plaintext(text.as_bytes()),
            Err(FormatError::Unsupported(2))
        ));
        let text = String::from_utf8_lossy(&plain).replace("{\"format\":1", "[");
        assert!(matches!(
            from_plaintext(text.as_bytes()),
            Err(FormatError::Manifest(_))
        ));
        // The manifest claims another count; the checksum still holds.
        let text = String::from_utf8_lossy(&plain).replace("\"offers\":2", "\"offers\":3");
        assert!(matches!(
            from_plaintext(text.as_bytes()),
            Err(FormatError::Counts(_))
        ));
    }

    #[test]
    fn content_out_of_order_or_with_an_unsafe_path_is_refused() {
        let mut escaping = Contents::default();
        escaping.files.insert("../etc/passwd".into(), b"x".to_vec());
        assert!(matches!(
            Contents::decode(&escaping.encode()),
            Err(FormatError::Content(_))
        ));
        let mut unordered = Contents::default();
        unordered.trees.insert(
            "t".into(),
            vec![(b"b".to_vec(), Vec::new()), (b"a".to_vec(), Vec::new())],
        );
        assert!(matches!(
            Contents::decode(&unordered.encode()),
            Err(FormatError::Content(_))
        ));
        assert!(matches!(
            Contents::decode(b"T\0\0\0\x09cut"),
            Err(FormatError::Content(_))
        ));
    }

    #[test]
    fn sealed_to_a_recipient_opens_with_its_identity_only() {
        let identity = age::x25519::Identity::generate();
        let other = age::x25519::Identity::generate();
        let recipient = identity.to_public().to_string();
        let parsed = recipients(&[recipient], &[]).unwrap();
        let (_, plain) = sample().to_plaintext("verifier", "online", 1);
        let mut archive = Vec::new();
        seal(&plain, &parsed, &mut archive).unwrap();
        assert!(
            !archive.windows(6).any(|w| w == b"secret"),
            "no plaintext in the archive"
        );
        assert_eq!(
            open(&archive[..], std::slice::from_ref(&identity)).unwrap(),
            plain
        );
        assert!(matches!(
            open(&archive[..], &[other]),
            Err(SealError::WrongIdentity)
        ));
        let mut tampered = archive.clone();
        let middle = tampered.len() - 20;
        tampered[middle] ^= 1;
        assert!(matches!(
            open(&tampered[..], std::slice::from_ref(&identity)),
            Err(SealError::Damaged(_))
        ));
        assert!(matches!(
            open(&archive[..archive.len() - 1], &[identity]),
            Err(SealError::Damaged(_))
        ));
    }

    #[test]
    fn recipients_and_identities_are_parsed_strictly() {
        assert!(matches!(recipients(&[], &[]), Err(SealError::NoRecipient)));
        assert!(matches!(
            recipients(&["ssh-ed25519 AAAA".into()], &[]),
            Err(SealError::Recipient(_))
        ));
        let identity = age::x25519::Identity::generate();
        let file = format!("# a comment\n\n{}\n", identity.to_public());
        assert_eq!(recipients(&[], &[("f".into(), file)]).unwrap().len(), 1);
        use age::secrecy::ExposeSecret as _;
        let text = format!("# created: now\n{}\n", identity.to_string().expose_secret());
        assert_eq!(identities("id.txt", &text).unwrap().len(), 1);
        assert!(matches!(
            identities("id.txt", "# nothing\n"),
            Err(SealError::Identity { .. })
        ));
    }
}
