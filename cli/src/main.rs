//! `intyg`: keys, SD-JWT VCs and status lists from the command line, for
//! engineers and scripts. JSON in, JSON out; errors go to stderr as
//! `<code>: <message>` with exit status 1, where `<code>` is stable.

mod sd_jwt;
mod status_list;
mod trust_list;
mod wallet;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use intyg_core::jose::{Jwk, SigningKey};

#[derive(Debug, Parser)]
#[command(
    name = "intyg",
    version,
    about = "Intyg credentials from the command line"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Key management.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Issue, present and verify SD-JWTs and SD-JWT VCs (RFC 9901).
    #[command(subcommand, name = "sd-jwt")]
    SdJwt(sd_jwt::SdJwtCommand),
    /// Encode, decode and read Token Status Lists.
    #[command(subcommand, name = "status-list")]
    StatusList(status_list::StatusListCommand),
    /// Lists of Trusted Entities (ETSI TS 119 602, JSON, signed JWS):
    /// make, verify against a pinned signer, show.
    #[command(subcommand, name = "trust-list")]
    TrustList(trust_list::TrustListCommand),
    /// The wallet: receive, hold and present credentials.
    Wallet(wallet::WalletArgs),
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Print a new private JWK.
    Generate {
        /// Signature algorithm; ES256 (P-256) is the only one we sign with.
        #[arg(long, default_value = "ES256")]
        alg: String,
    },
    /// Print the public JWK of a private one.
    Public {
        /// The private JWK file.
        #[arg(long)]
        key: PathBuf,
    },
}

/// An error with a stable code for scripts.
#[derive(Debug)]
pub(crate) struct Coded {
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl std::fmt::Display for Coded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Coded {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Key(command) => key(command),
        Command::SdJwt(command) => sd_jwt::run(command),
        Command::StatusList(command) => status_list::run(command),
        Command::TrustList(command) => trust_list::run(command),
        Command::Wallet(args) => wallet::run(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Messages can carry another party's words (an
            // `error_description`): shown, never obeyed by the terminal.
            match error.downcast_ref::<Coded>() {
                Some(coded) => eprintln!("{}", plain(&coded.to_string())),
                None => eprintln!("{}", plain(&format!("invalid_input: {error:#}"))),
            }
            ExitCode::FAILURE
        }
    }
}

fn key(command: KeyCommand) -> anyhow::Result<()> {
    match command {
        KeyCommand::Generate { alg } => {
            if alg != "ES256" {
                return Err(Coded {
                    code: "unsupported_alg",
                    message: format!("cannot generate {alg} keys; only ES256 is supported"),
                }
                .into());
            }
            let key = SigningKey::generate()?;
            let mut jwk = key.to_private_jwk()?;
            jwk.key_id = Some(intyg_core::jose::thumbprint(&jwk)?);
            print_json(&jwk)
        }
        KeyCommand::Public { key } => {
            let jwk = read_jwk(&key)?;
            let mut public = jwk.to_public();
            public.key_id = jwk.key_id;
            print_json(&public)
        }
    }
}

/// Reads a JWK file.
pub(crate) fn read_jwk(path: &Path) -> anyhow::Result<Jwk> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a JWK", path.display()))
}

/// Reads a JSON file.
pub(crate) fn read_json(path: &Path) -> anyhow::Result<serde_json::Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

/// Reads the file argument, or stdin when there is none (or it is `-`).
pub(crate) fn read_input(path: Option<&Path>) -> anyhow::Result<String> {
    match path {
        Some(path) if path != Path::new("-") => {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
        }
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("reading stdin")?;
            Ok(text)
        }
    }
}

/// Prints pretty JSON and a newline on stdout.
pub(crate) fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    emit(&serde_json::to_string_pretty(value)?)
}

/// `text` line by line with every control character shown as an escape
/// (`intyg_core::text::for_terminal`): what the CLI prints can hold text
/// from elsewhere (a verifier's name or purpose, an issuer's display name),
/// and the terminal must show it, not obey it.
pub(crate) fn plain(text: &str) -> String {
    text.split('\n')
        .map(intyg_core::text::for_terminal)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Writes a line to stdout, made [`plain`]. A reader that went away
/// (`| head`) is not an error worth a message; other write failures are.
pub(crate) fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{}", plain(text)).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// Seconds since the Unix epoch, from the system clock.
pub(crate) fn unix_now() -> anyhow::Result<i64> {
    let elapsed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("system clock is before 1970")?;
    Ok(i64::try_from(elapsed.as_secs())?)
}

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn outside_text_cannot_drive_the_terminal() {
        assert_eq!(
            plain("Arbetsgivaren AB asks\npurpose: Praktik\u{1b}[2J\u{1b}]0;x\u{7}"),
            "Arbetsgivaren AB asks\npurpose: Praktik\\u{1b}[2J\\u{1b}]0;x\\u{7}"
        );
        assert_eq!(plain("åäö\r"), "åäö\\u{d}");
    }
}
