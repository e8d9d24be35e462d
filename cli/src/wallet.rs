//! `intyg wallet`: the wallet engine from the command line. The PIN comes
//! from `INTYG_WALLET_PIN`, `--pin-file`, or a prompt; consent is asked in
//! the terminal unless `--approve` or `--deny` is given.
//!
//! The authorization code flow (`accept` of an offer without a
//! pre-authorized code, `accept --authorization-code`, `request`) runs as
//! a native app does (RFC 8252 §7.3): a one-shot HTTP listener on
//! `127.0.0.1` and a free port is the redirect URI; the authorization URL
//! goes to stderr on its own line (and to a browser when there is a
//! display); the first request to `/callback` finishes the flow.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};
use intyg_core::oid4vci::CredentialConfigurationId;
use intyg_wallet::loopback::{Callback, CallbackError};
use intyg_wallet::present::{ConsentProposal, Decision, Outcome, PresentError};
use intyg_wallet::receive::{Offer, ReceiveError, Received};
use intyg_wallet::{
    BackupError, CreateError, CredentialStatus, EventResult, OpenError, StoreError, UnlockError,
    Wallet, WalletConfig,
};
use serde_json::json;

use crate::{Coded, emit, print_json};

/// Options of every `intyg wallet` command.
#[derive(Debug, Args)]
pub(crate) struct WalletArgs {
    /// The wallet directory.
    #[arg(long, env = "INTYG_WALLET_DIR", global = true)]
    dir: Option<PathBuf>,
    /// Dev mode: http on loopback, private addresses, unsigned requests.
    #[arg(long, global = true)]
    dev: bool,
    /// JSON output for scripts.
    #[arg(long, global = true)]
    json: bool,
    /// A file whose first line is the PIN (else INTYG_WALLET_PIN, else a prompt).
    #[arg(long, global = true)]
    pin_file: Option<PathBuf>,
    #[command(subcommand)]
    command: WalletCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum WalletCommand {
    /// Create a wallet protected by a PIN.
    Init,
    /// Check the PIN and open the wallet.
    Unlock,
    /// Change the PIN (the new one from INTYG_WALLET_NEW_PIN or a prompt).
    ChangePin,
    /// Receive credentials from an `openid-credential-offer://` or
    /// `haip-vci://` link
    /// (pre-authorized code; the authorization code flow when the offer
    /// has no pre-authorized code, or with --authorization-code).
    Accept {
        /// The offer link.
        offer_uri: String,
        /// The transaction code (PIN) the issuer handed over.
        #[arg(long, conflicts_with = "authorization_code")]
        tx_code: Option<String>,
        /// Log in at the issuer (authorization code flow) even though the
        /// offer has a pre-authorized code.
        #[arg(long)]
        authorization_code: bool,
        #[command(flatten)]
        login: LoginArgs,
    },
    /// Ask an issuer for credentials, logging in there (wallet-initiated
    /// authorization code flow). Without a configuration id, lists them.
    Request {
        /// The credential issuer URL.
        issuer_url: String,
        /// Credential configuration ids to receive.
        configuration_ids: Vec<String>,
        #[command(flatten)]
        login: LoginArgs,
    },
    /// Ask the issuers' status lists whether the held credentials are
    /// still valid, and record the answers.
    #[command(alias = "status")]
    Refresh,
    /// List the held credentials.
    List,
    /// Show one credential's claims.
    Show {
        /// Credential id (or a unique prefix).
        id: String,
    },
    /// Answer an `openid4vp://` or `haip-vp://` presentation request (the
    /// pre-1.0 `haip://` is read too).
    Present {
        /// The request link.
        request_uri: String,
        /// Share without asking.
        #[arg(long, conflicts_with = "deny")]
        approve: bool,
        /// Decline without asking.
        #[arg(long)]
        deny: bool,
        /// Optional claims to share, comma-separated (`given_name`,
        /// `query_id.claim`, or a credential query id).
        #[arg(long, value_delimiter = ',')]
        include: Vec<String>,
        /// With --approve: answer even though the verifier asks for claims
        /// its registration certificate does not cover, and share them.
        #[arg(long, requires = "approve")]
        allow_overasking: bool,
    },
    /// Show a presentation request as the wallet understands it (who, why,
    /// the registration check, what is asked and over-asked) without
    /// answering it.
    Inspect {
        /// The request link.
        request_uri: String,
    },
    /// Show what was received, shared and declined: per share who, why,
    /// what, the verifier's receipt and the erasure state.
    History,
    /// Ask the verifier of a share to erase what it received (GDPR Art.
    /// 17). Asks for confirmation on a terminal; a share already
    /// answered is reported as it stands.
    Erase {
        /// The history entry id.
        id: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Write a complaint package for the data protection authority (IMY)
    /// about a share: JSON to --out, a readable HTML summary beside it.
    Report {
        /// The history entry id.
        id: String,
        /// The JSON file to write (the summary goes to the same name with
        /// `.html`).
        #[arg(long)]
        out: PathBuf,
        /// Your own description of what went wrong.
        #[arg(long, default_value = "")]
        text: String,
    },
    /// Delete a credential and its keys.
    Delete {
        /// Credential id (or a unique prefix).
        id: String,
    },
    /// Write an encrypted backup (passphrase from INTYG_WALLET_BACKUP_PASSPHRASE or a prompt).
    Backup {
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Create the wallet from a backup, protected by the PIN.
    Restore {
        /// The backup file.
        file: PathBuf,
    },
    /// Trusted verifier roots.
    #[command(subcommand)]
    Trust(TrustCommand),
    /// Lists of Trusted Entities (ETSI TS 119 602) the wallet subscribes
    /// to: relying-party access CAs, WRPRC providers and issuers.
    #[command(subcommand)]
    TrustList(TrustListCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum TrustListCommand {
    /// Subscribe to the list at URL, signed under the pinned signer, and
    /// fetch it (nothing is kept unless it verifies).
    Add {
        /// Where the list is published (a compact JWS).
        url: String,
        /// The operator's CA or signing certificate (PEM).
        #[arg(long)]
        signer: PathBuf,
    },
    /// The subscriptions, their good lists and last refusals.
    List,
    /// Fetch every list again; a list that fails keeps the last good one.
    Refresh,
    /// End the subscription to URL.
    Remove {
        /// The list's URL.
        url: String,
    },
}

/// How the authorization code flow waits for the login.
#[derive(Debug, Args)]
pub(crate) struct LoginArgs {
    /// Only print the authorization URL; do not start a browser.
    #[arg(long)]
    no_browser: bool,
    /// How long to wait for the login, in seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TrustCommand {
    /// Trust verifiers whose certificates chain to the roots in this PEM file.
    AddVerifierRoot {
        /// PEM file.
        cert: PathBuf,
    },
    /// Trust registration certificates (ETSI TS 119 475 WRPRC) issued by
    /// providers under the roots in this PEM file.
    AddWrprcRoot {
        /// PEM file.
        cert: PathBuf,
    },
}

pub(crate) fn run(args: WalletArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: WalletArgs) -> anyhow::Result<()> {
    let dir = args.dir.clone().ok_or_else(|| Coded {
        code: "no_wallet_dir",
        message: "give --dir or set INTYG_WALLET_DIR".into(),
    })?;
    let config = WalletConfig {
        dev: args.dev,
        ..WalletConfig::default()
    };
    match &args.command {
        WalletCommand::Init => {
            let pin = pin(&args, "New PIN", true)?;
            Wallet::create(&dir, &pin, config).map_err(create_error)?;
            output(
                &args,
                &json!({"created": dir}),
                &format!("wallet created in {}", dir.display()),
            )
        }
        WalletCommand::Restore { file } => {
            let backup = std::fs::read(file)?;
            let passphrase = secret("INTYG_WALLET_BACKUP_PASSPHRASE", "Backup passphrase", false)?;
            let pin = pin(&args, "New PIN", true)?;
            let wallet = Wallet::restore_backup(&dir, &backup, &passphrase, &pin, config)
                .map_err(backup_error)?;
            let count = wallet.credentials().len();
            output(
                &args,
                &json!({"restored": count}),
                &format!("restored {count} credentials into {}", dir.display()),
            )
        }
        _ => {
            let locked = Wallet::open(&dir, config).map_err(open_error)?;
            let pin = pin(&args, "PIN", false)?;
            let wallet = locked.unlock(&pin).map_err(unlock_error)?;
            unlocked(&args, wallet, &pin).await
        }
    }
}

async fn unlocked(args: &WalletArgs, mut wallet: Wallet, pin: &str) -> anyhow::Result<()> {
    match &args.command {
        WalletCommand::Init | WalletCommand::Restore { .. } => Ok(()),
        WalletCommand::Unlock => {
            let count = wallet.credentials().len();
            output(
                args,
                &json!({"unlocked": true, "credentials": count}),
                &format!("unlocked: {count} credentials"),
            )
        }
        WalletCommand::ChangePin => {
            let new = secret("INTYG_WALLET_NEW_PIN", "New PIN", true)?;
            wallet.change_pin(pin, &new).map_err(unlock_error)?;
            output(args, &json!({"changed": true}), "PIN changed")
        }
        WalletCommand::Accept {
            offer_uri,
            tx_code,
            authorization_code,
            login,
        } => {
            let offer = wallet.fetch_offer(offer_uri).await.map_err(receive_error)?;
            if *authorization_code || !offer.has_pre_authorized_code() {
                let configurations = offer.offer.credential_configuration_ids.clone();
                let received = authorize(&mut wallet, &offer, &configurations, login).await?;
                return report_received(args, &wallet, &received);
            }
            accept(args, &mut wallet, offer, tx_code.as_deref()).await
        }
        WalletCommand::Request {
            issuer_url,
            configuration_ids,
            login,
        } => request(args, &mut wallet, issuer_url, configuration_ids, login).await,
        WalletCommand::Refresh => {
            let report = wallet.refresh_status().await.map_err(store_error)?;
            if args.json {
                return print_json(&report);
            }
            if report.is_empty() {
                return emit("no credentials with a status list");
            }
            for refresh in report {
                let note = refresh
                    .failure
                    .map(|f| format!("  (not refreshed: {}: {})", f.code, f.message))
                    .unwrap_or_default();
                emit(&format!(
                    "{}  {}{note}",
                    refresh.credential_id,
                    refresh.status.as_str()
                ))?;
            }
            Ok(())
        }
        WalletCommand::List => {
            let list = wallet.credentials();
            if args.json {
                return print_json(&list);
            }
            if list.is_empty() {
                return emit("no credentials");
            }
            for entry in list {
                emit(&format!(
                    "{}  {}  from {}{}  [{}]  ({} of {} copies used)",
                    entry.id,
                    entry.name(&wallet.config().locale),
                    entry.issuer_name.as_deref().unwrap_or(&entry.issuer),
                    entry
                        .listed_on
                        .as_deref()
                        .map(|list| format!(" (a provider on {list})"))
                        .unwrap_or_default(),
                    entry.status.status.as_str(),
                    entry.copies_used,
                    entry.copies
                ))?;
            }
            Ok(())
        }
        WalletCommand::Show { id } => {
            let credential = wallet.credential(id).map_err(store_error)?;
            let entry = &credential.entry;
            if args.json {
                return print_json(&json!({
                    "id": entry.id,
                    "issuer": entry.issuer,
                    "issuer_name": entry.issuer_name,
                    "vct": entry.vct,
                    "name": entry.name(&wallet.config().locale),
                    "received_at": entry.received_at,
                    "expires_at": entry.expires_at,
                    "copies": entry.copies,
                    "copies_used": entry.copies_used,
                    "status": entry.status,
                    "listed_on": entry.listed_on,
                    "claims": entry.subject_claims(),
                    "display": entry.display,
                }));
            }
            let locale = &wallet.config().locale;
            emit(&format!("{}  ({})", entry.name(locale), entry.vct))?;
            emit(&format!("issuer: {}", entry.issuer))?;
            emit(&format!(
                "status: {}{}",
                entry.status.status.as_str(),
                entry
                    .status
                    .checked_at
                    .map(|at| format!(" (checked {})", when(at)))
                    .unwrap_or_default()
            ))?;
            for (name, value) in entry.subject_claims() {
                let path = intyg_core::dcql::ClaimsPath(vec![intyg_core::dcql::PathElement::Key(
                    name.clone(),
                )]);
                let label = entry.display.label(&path, locale).unwrap_or(name);
                let value = match entry.display.value_label(&path, &value, locale) {
                    Some(words) => words,
                    None => match value {
                        serde_json::Value::String(text) => text,
                        other => other.to_string(),
                    },
                };
                emit(&format!("  {label}: {value}"))?;
            }
            Ok(())
        }
        WalletCommand::Present {
            request_uri,
            approve,
            deny,
            include,
            allow_overasking,
        } => {
            let choice = Choice {
                approve: *approve,
                deny: *deny,
                include,
                allow_overasking: *allow_overasking,
            };
            present(args, &mut wallet, request_uri, choice).await
        }
        WalletCommand::Inspect { request_uri } => {
            let proposal = wallet.prepare(request_uri).await.map_err(present_error)?;
            if args.json {
                return print_json(&json!({
                    "verifier": proposal.verifier,
                    "purpose": proposal.purpose,
                    "registration": proposal.registration,
                    "credentials": proposal.requested,
                    "overasked": proposal.overasked(),
                    "response_uri": proposal.response_uri,
                    "encrypted": proposal.encrypted,
                    "matched": proposal.credentials,
                    "unsatisfied": proposal.unsatisfied,
                }));
            }
            describe(&proposal);
            Ok(())
        }
        WalletCommand::History => {
            let history = wallet.history().map_err(store_error)?;
            if args.json {
                return print_json(&history);
            }
            for entry in history {
                let claims: Vec<String> = entry
                    .credentials
                    .iter()
                    .flat_map(|c| c.claims.iter().map(|p| dotted(&p.0)))
                    .collect();
                let result = match &entry.result {
                    EventResult::Success => "ok".to_owned(),
                    EventResult::Failure { code, .. } => format!("failed: {code}"),
                };
                let receipt = match &entry.receipt {
                    Some(r) if r.verified => format!(
                        "  received by {} on {}, kept until {}",
                        entry
                            .counterparty_name
                            .as_deref()
                            .unwrap_or(&entry.counterparty),
                        r.received_at.map_or_else(|| "-".into(), when),
                        r.retention_until.map_or_else(|| "-".into(), when)
                    ),
                    Some(r) => format!(
                        "  receipt NOT verified: {}",
                        r.error.as_deref().unwrap_or("-")
                    ),
                    None => String::new(),
                };
                let erasure = match &entry.erasure {
                    Some(e) => format!(
                        "  erasure: {}{}",
                        e.status_str(),
                        e.legal_basis
                            .as_deref()
                            .map(|b| format!(" ({b})"))
                            .unwrap_or_default()
                    ),
                    None => String::new(),
                };
                emit(&format!(
                    "{}  {}  {:?}  {}  purpose: {}  claims: {}  {}{receipt}{erasure}",
                    entry.id,
                    when(entry.at),
                    entry.kind,
                    entry
                        .counterparty_name
                        .as_deref()
                        .unwrap_or(&entry.counterparty),
                    entry.purpose.as_deref().unwrap_or("-"),
                    if claims.is_empty() {
                        "-".into()
                    } else {
                        claims.join(",")
                    },
                    result
                ))?;
            }
            Ok(())
        }
        WalletCommand::Erase { id, yes: confirmed } => {
            if !confirmed
                && std::io::stdin().is_terminal()
                && !yes(&format!(
                    "Ask the verifier of share {id} to erase what it received?"
                ))?
            {
                return output(args, &json!({"erasure": "cancelled"}), "cancelled");
            }
            let erasure = wallet.erase(id).await.map_err(|e| coded(e.code(), e))?;
            if args.json {
                return print_json(&erasure);
            }
            let state = match (&erasure.record.legal_basis, erasure.record.erased_at) {
                (Some(basis), _) => format!("refused: the verifier keeps the data ({basis})"),
                (None, Some(at)) => format!("erased on {}", when(at)),
                (None, None) => erasure.record.status_str().to_owned(),
            };
            emit(&format!(
                "{}{state}",
                if erasure.already {
                    "already answered: "
                } else {
                    ""
                }
            ))
        }
        WalletCommand::Report { id, out, text } => {
            let package = wallet.report(id, text).map_err(|e| coded(e.code(), e))?;
            std::fs::write(out, serde_json::to_vec_pretty(&package)?)?;
            let summary = out.with_extension("html");
            std::fs::write(&summary, intyg_wallet::report::summary_html(&package))?;
            output(
                args,
                &json!({"report": out, "summary": summary, "submit_to": intyg_wallet::report::IMY_COMPLAINT_URL}),
                &format!(
                    "complaint package written to {} (summary: {}); submit it to IMY at {}",
                    out.display(),
                    summary.display(),
                    intyg_wallet::report::IMY_COMPLAINT_URL
                ),
            )
        }
        WalletCommand::Delete { id } => {
            let id = wallet.delete(id).map_err(store_error)?;
            output(args, &json!({"deleted": id}), &format!("deleted {id}"))
        }
        WalletCommand::Backup { out } => {
            let passphrase = secret("INTYG_WALLET_BACKUP_PASSPHRASE", "Backup passphrase", true)?;
            let bytes = wallet.export_backup(&passphrase).map_err(backup_error)?;
            std::fs::write(out, bytes)?;
            output(
                args,
                &json!({"backup": out}),
                &format!("backup written to {}", out.display()),
            )
        }
        WalletCommand::Trust(TrustCommand::AddWrprcRoot { cert }) => {
            let pem = std::fs::read_to_string(cert)?;
            let added = wallet.add_wrprc_roots(&pem).map_err(|e| Coded {
                code: "invalid_certificate",
                message: e.to_string(),
            })?;
            output(
                args,
                &json!({"added": added}),
                &format!("trusting {} WRPRC provider root(s)", added.len()),
            )
        }
        WalletCommand::TrustList(command) => trust_list(args, &mut wallet, command).await,
        WalletCommand::Trust(TrustCommand::AddVerifierRoot { cert }) => {
            let pem = std::fs::read_to_string(cert)?;
            let added = wallet.add_verifier_roots(&pem).map_err(|e| Coded {
                code: "invalid_certificate",
                message: e.to_string(),
            })?;
            output(
                args,
                &json!({"added": added}),
                &format!("trusting {} verifier root(s)", added.len()),
            )
        }
    }
}

async fn trust_list(
    args: &WalletArgs,
    wallet: &mut Wallet,
    command: &TrustListCommand,
) -> anyhow::Result<()> {
    let coded = |e: intyg_wallet::lists::TrustListError| Coded {
        code: e.code(),
        message: e.to_string(),
    };
    let lists = match command {
        TrustListCommand::Add { url, signer } => {
            let pem = std::fs::read_to_string(signer)?;
            vec![wallet.add_trust_list(url, &pem).await.map_err(coded)?]
        }
        TrustListCommand::List => wallet.trust_lists().map_err(coded)?,
        TrustListCommand::Refresh => wallet.refresh_trust_lists().await.map_err(coded)?,
        TrustListCommand::Remove { url } => {
            wallet.remove_trust_list(url).map_err(coded)?;
            return output(args, &json!({"removed": url}), &format!("removed {url}"));
        }
    };
    if args.json {
        return print_json(&lists);
    }
    if lists.is_empty() {
        return emit("no trust lists");
    }
    for list in lists {
        let state = match (&list.name, list.usable) {
            (Some(name), true) => format!(
                "{name} (sequence {}, {} services)",
                list.sequence_number.unwrap_or_default(),
                list.services.len()
            ),
            (Some(name), false) => format!("{name} (past NextUpdate and its grace period)"),
            (None, _) => "no good list".to_owned(),
        };
        emit(&format!("{}  {state}", list.url))?;
        if let Some(error) = &list.last_error {
            emit(&format!(
                "  last refused: {}: {}",
                error.code, error.message
            ))?;
        }
    }
    Ok(())
}

async fn accept(
    args: &WalletArgs,
    wallet: &mut Wallet,
    offer: Offer,
    tx_code: Option<&str>,
) -> anyhow::Result<()> {
    let locale = wallet.config().locale.clone();
    let code = match (offer.tx_code(), tx_code) {
        (Some(spec), None) if std::io::stdin().is_terminal() => {
            let issuer = offer
                .issuer_name(&locale)
                .unwrap_or_else(|| offer.issuer().to_owned());
            let hint = spec.description.clone().unwrap_or_default();
            Some(prompt(
                &format!("Transaction code from {issuer} {hint}: "),
                true,
            )?)
        }
        (_, code) => code.map(str::to_owned),
    };
    let received = wallet
        .accept(offer, code.as_deref())
        .await
        .map_err(receive_error)?;
    report_received(args, wallet, &received)
}

fn report_received(args: &WalletArgs, wallet: &Wallet, received: &Received) -> anyhow::Result<()> {
    if args.json {
        return print_json(&received.credentials);
    }
    for entry in &received.credentials {
        emit(&format!(
            "stored {}  {}  ({} copies)",
            entry.id,
            entry.name(&wallet.config().locale),
            entry.copies
        ))?;
    }
    Ok(())
}

/// `intyg wallet request`: wallet-initiated issuance.
async fn request(
    args: &WalletArgs,
    wallet: &mut Wallet,
    issuer_url: &str,
    configuration_ids: &[String],
    login: &LoginArgs,
) -> anyhow::Result<()> {
    let offer = wallet
        .fetch_issuer(issuer_url)
        .await
        .map_err(receive_error)?;
    if configuration_ids.is_empty() {
        let available = offer.credentials(&wallet.config().locale);
        if args.json {
            eprintln!("{}", serde_json::to_string(&available)?);
        }
        let listed: Vec<String> = available
            .iter()
            .map(|(id, name)| format!("{id} ({name})"))
            .collect();
        return Err(coded(
            "configuration_required",
            format!(
                "name the credential configuration(s) to request: {}",
                listed.join(", ")
            ),
        ));
    }
    let configurations = configuration_ids
        .iter()
        .map(|id| CredentialConfigurationId::try_from(id.as_str()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| coded("invalid_request", e))?;
    let received = authorize(wallet, &offer, &configurations, login).await?;
    report_received(args, wallet, &received)
}

/// The authorization code flow as a native app (RFC 8252 §7.3): a
/// loopback listener as the redirect URI, the URL printed (and opened),
/// one callback awaited, then the code redeemed.
async fn authorize(
    wallet: &mut Wallet,
    offer: &Offer,
    configurations: &[CredentialConfigurationId],
    login: &LoginArgs,
) -> anyhow::Result<Received> {
    let callback = Callback::bind()
        .await
        .map_err(|e| coded("loopback_unavailable", e))?;
    let pending = wallet
        .begin_authorization(offer, configurations, &callback.redirect_uri())
        .await
        .map_err(receive_error)?;
    let issuer = offer
        .issuer_name(&wallet.config().locale)
        .unwrap_or_else(|| offer.issuer().to_owned());
    eprintln!(
        "Log in at {} to continue. Open this address in a browser:",
        intyg_core::text::for_terminal(&issuer)
    );
    eprintln!(
        "{}",
        intyg_core::text::for_terminal(pending.authorization_url())
    );
    if !login.no_browser {
        open_browser(pending.authorization_url());
    }
    eprintln!("Waiting for the login (up to {} s)...", login.timeout);
    let returned = callback
        .wait(
            Duration::from_secs(login.timeout),
            std::future::pending::<()>(),
        )
        .await
        .map_err(|e| match e {
            CallbackError::Timeout(_) => coded(
                "authorization_timeout",
                format!("{e}; run the command again"),
            ),
            other => coded("loopback_unavailable", other),
        })?;
    wallet
        .finish_authorization(pending, &returned)
        .await
        .map_err(receive_error)
}

/// Opens `url` in the desktop's browser when there is a display; a
/// failure only leaves the printed URL.
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some()
    {
        "xdg-open"
    } else {
        return;
    };
    match std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        Ok(mut child) => {
            std::thread::spawn(move || child.wait());
        }
        Err(error) => eprintln!("note: could not start {opener}: {error}"),
    }
}

/// The person's answer given on the command line.
struct Choice<'a> {
    approve: bool,
    deny: bool,
    include: &'a [String],
    allow_overasking: bool,
}

async fn present(
    args: &WalletArgs,
    wallet: &mut Wallet,
    request_uri: &str,
    choice: Choice<'_>,
) -> anyhow::Result<()> {
    let Choice {
        approve,
        deny,
        include,
        allow_overasking,
    } = choice;
    let proposal = wallet.prepare(request_uri).await.map_err(present_error)?;
    let decision = if deny {
        Decision::Deny
    } else if approve {
        proposal
            .check_overasking(allow_overasking)
            .map_err(present_error)?;
        let mut include = include.to_vec();
        if allow_overasking {
            include.extend(proposal.overasked_selection());
        }
        Decision::Approve { include }
    } else if std::io::stdin().is_terminal() {
        ask_consent(&proposal)?
    } else {
        return Err(Coded {
            code: "consent_required",
            message: "no terminal to ask for consent: give --approve or --deny".into(),
        }
        .into());
    };
    if approve || deny {
        // Scripts see the proposal on stderr, the outcome on stdout.
        if args.json {
            eprintln!("{}", serde_json::to_string(&proposal)?);
        } else {
            describe(&proposal);
        }
    }
    let outcome = wallet
        .respond(proposal, decision)
        .await
        .map_err(present_error)?;
    if args.json {
        return print_json(&outcome);
    }
    match outcome {
        Outcome::Shared { redirect_uri, .. } => {
            emit("shared")?;
            if let Some(uri) = redirect_uri {
                emit(&format!("continue at {uri}"))?;
            }
        }
        Outcome::Denied {
            no_matching_credentials: true,
            ..
        } => emit("declined: no matching credentials")?,
        Outcome::Denied { .. } => emit("declined")?,
    }
    Ok(())
}

/// A Unix time as `2026-11-23 15:04 UTC`, for people.
fn when(at: i64) -> String {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'_>] =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| t.format(FORMAT).ok())
        .unwrap_or_else(|| at.to_string())
}

/// Shows the proposal and asks, claim by optional claim.
fn ask_consent(proposal: &ConsentProposal) -> anyhow::Result<Decision> {
    describe(proposal);
    if proposal.unsatisfied.is_some() {
        return Ok(Decision::Deny);
    }
    if !yes("Share the required claims?")? {
        return Ok(Decision::Deny);
    }
    let mut include = Vec::new();
    for credential in &proposal.credentials {
        for claim in credential.claims.iter().filter(|c| c.overasked) {
            let label =
                intyg_core::text::for_terminal(claim.label.as_deref().unwrap_or(&claim.name));
            let name = intyg_core::text::for_terminal(&credential.name);
            if yes(&format!(
                "{label} ({name}) is NOT in the verifier's registration. Share it anyway?"
            ))? && yes(&format!("Are you sure you want to share {label}?"))?
            {
                include.push(format!("{}.{}", credential.query_id, claim.name));
            }
        }
    }
    for credential in proposal.credentials.iter().filter(|c| !c.required) {
        for claim in credential.claims.iter().filter(|c| !c.overasked) {
            let label =
                intyg_core::text::for_terminal(claim.label.as_deref().unwrap_or(&claim.name));
            let name = intyg_core::text::for_terminal(&credential.name);
            if yes(&format!("Also share {label} ({name})?"))? {
                include.push(format!("{}.{}", credential.query_id, claim.name));
            }
        }
    }
    Ok(Decision::Approve { include })
}

/// Prints who asks, why, and which claims of which credentials, on stderr;
/// warns about a credential its issuer revoked or suspended.
fn describe(proposal: &ConsentProposal) {
    // Everything but our own words comes from the verifier or an issuer:
    // shown with its control characters escaped, line breaks included.
    let outside = intyg_core::text::for_terminal;
    let verifier = &proposal.verifier;
    eprintln!(
        "{} asks{}",
        outside(verifier.name.as_deref().unwrap_or(&verifier.client_id)),
        if verifier.authenticated {
            format!(" (verified: {})", outside(&verifier.dns_names.join(", ")))
        } else {
            " (NOT verified: dev-mode request)".into()
        }
    );
    eprintln!(
        "purpose: {}",
        outside(proposal.purpose.as_deref().unwrap_or("(not stated)"))
    );
    let registration = &proposal.registration;
    if registration.valid {
        eprintln!(
            "registered as {} for: {}",
            outside(registration.name.as_deref().unwrap_or("-")),
            outside(registration.purpose.as_deref().unwrap_or("-"))
        );
    } else {
        eprintln!(
            "warning: no valid registration certificate ({}): {}",
            registration.reason.as_deref().unwrap_or("-"),
            outside(registration.message.as_deref().unwrap_or("-"))
        );
    }
    let overasked = proposal.overasked();
    if !overasked.is_empty() {
        eprintln!(
            "warning: overasking: it asks for claims it has not registered: {}",
            outside(&overasked.join(", "))
        );
    }
    if let Some(reason) = &proposal.unsatisfied {
        eprintln!(
            "you hold no credentials that satisfy it: {}",
            outside(reason)
        );
        return;
    }
    for credential in &proposal.credentials {
        eprintln!(
            "  {} ({})",
            outside(&credential.name),
            if credential.required {
                "required"
            } else {
                "optional"
            }
        );
        match credential.status {
            CredentialStatus::Invalid => eprintln!(
                "    warning: its issuer has revoked it; the recipient will likely refuse it"
            ),
            CredentialStatus::Suspended => eprintln!(
                "    warning: its issuer has suspended it; the recipient will likely refuse it"
            ),
            CredentialStatus::Valid | CredentialStatus::Unknown => {}
        }
        for claim in &credential.claims {
            let kind = if claim.overasked {
                " (NOT REGISTERED: over-asked, not shared unless you confirm)"
            } else if claim.required {
                ""
            } else {
                " (optional)"
            };
            eprintln!(
                "    - {}{kind}",
                outside(claim.label.as_deref().unwrap_or(&claim.name))
            );
        }
    }
}

fn yes(question: &str) -> anyhow::Result<bool> {
    let answer = prompt(&format!("{question} [y/N] "), false)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// The PIN: `--pin-file`, `INTYG_WALLET_PIN`, or a prompt (twice when new).
fn pin(args: &WalletArgs, label: &str, new: bool) -> anyhow::Result<String> {
    if let Some(path) = &args.pin_file {
        return read_secret_file(path);
    }
    secret("INTYG_WALLET_PIN", label, new)
}

fn read_secret_file(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path).map_err(|e| Coded {
        code: "pin_unavailable",
        message: format!("reading {}: {e}", path.display()),
    })?;
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

fn secret(variable: &str, label: &str, confirm: bool) -> anyhow::Result<String> {
    if let Ok(value) = std::env::var(variable) {
        return Ok(value);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Coded {
            code: "pin_unavailable",
            message: format!("no terminal to ask for the {label}: set {variable}"),
        }
        .into());
    }
    let first = prompt(&format!("{label}: "), true)?;
    if confirm && prompt(&format!("{label} again: "), true)? != first {
        return Err(Coded {
            code: "pin_mismatch",
            message: "the two entries differ".into(),
        }
        .into());
    }
    Ok(first)
}

/// Reads a line from the terminal; with `hidden`, echo is off meanwhile.
fn prompt(text: &str, hidden: bool) -> anyhow::Result<String> {
    eprint!("{text}");
    std::io::stderr().flush()?;
    let stty = |flag: &str| {
        std::process::Command::new("stty")
            .arg(flag)
            .stdin(std::process::Stdio::inherit())
            .status()
    };
    if hidden {
        stty("-echo")?;
    }
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    if hidden {
        stty("echo")?;
        eprintln!();
    }
    read?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn output(args: &WalletArgs, value: &serde_json::Value, text: &str) -> anyhow::Result<()> {
    if args.json {
        print_json(value)
    } else {
        emit(text)
    }
}

fn dotted(path: &[intyg_core::dcql::PathElement]) -> String {
    serde_json::to_value(path)
        .ok()
        .and_then(|v| {
            v.as_array().map(|items| {
                items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(".")
            })
        })
        .unwrap_or_default()
}

fn coded(code: &'static str, error: impl std::fmt::Display) -> anyhow::Error {
    Coded {
        code,
        message: error.to_string(),
    }
    .into()
}

fn create_error(error: CreateError) -> anyhow::Error {
    let code = match &error {
        CreateError::AlreadyExists(_) => "wallet_exists",
        CreateError::WeakPin => "weak_pin",
        _ => "store_failure",
    };
    coded(code, error)
}

fn open_error(error: OpenError) -> anyhow::Error {
    let code = match &error {
        OpenError::NotAWallet(_) => "no_wallet",
        OpenError::UnsupportedFormat(_) => "unsupported_format",
        OpenError::Store(_) => "store_failure",
    };
    coded(code, error)
}

fn unlock_error(error: UnlockError) -> anyhow::Error {
    let code = match &error {
        UnlockError::WrongPin => "wrong_pin",
        UnlockError::TooManyAttempts { .. } => "too_many_attempts",
        UnlockError::WeakPin => "weak_pin",
        _ => "store_failure",
    };
    coded(code, error)
}

fn store_error(error: StoreError) -> anyhow::Error {
    let code = match &error {
        StoreError::NotFound(_) => "not_found",
        StoreError::Ambiguous(_) => "ambiguous_id",
        _ => "store_failure",
    };
    coded(code, error)
}

fn backup_error(error: BackupError) -> anyhow::Error {
    let code = match &error {
        BackupError::NotABackup(_) => "not_a_backup",
        BackupError::WrongPassphrase => "wrong_passphrase",
        BackupError::WeakPin => "weak_pin",
        BackupError::Create(CreateError::AlreadyExists(_)) => "wallet_exists",
        _ => "store_failure",
    };
    coded(code, error)
}

fn receive_error(error: ReceiveError) -> anyhow::Error {
    coded(error.code(), error)
}

fn present_error(error: PresentError) -> anyhow::Error {
    coded(error.code(), error)
}
