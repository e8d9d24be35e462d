//! `intyg-issuer`: loads the configuration, opens the store, binds the
//! socket and serves [`intyg_issuer::app`] until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use std::sync::Arc;

use intyg_issuer::auth_code::OidcConfig;
use intyg_issuer::dev_idp::{self, DevIdp, DevIdpConfig};
use intyg_issuer::{AppState, app, config::Config};

#[derive(Debug, Parser)]
#[command(
    name = "intyg-issuer",
    version,
    about = "The Intyg credential issuer (OpenID4VCI 1.0)"
)]
struct Args {
    /// Production: a TOML configuration file.
    #[arg(long, conflicts_with = "dev")]
    config: Option<PathBuf>,
    /// Development: a self-contained instance (http on loopback, keys kept in
    /// --data-dir, admin API key from INTYG_API_KEY).
    #[arg(long, requires = "data_dir")]
    dev: bool,
    /// Development data directory.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Development listen address.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// PostgreSQL for the state, so several instances can share it
    /// (`postgres://user@host/db`, `?sslmode=require|verify-full` for TLS);
    /// without it, sled in the data directory.
    #[arg(long, env = "INTYG_DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Copy a stopped sled deployment (its `DIR/db`) into the empty
    /// PostgreSQL database of --database-url, check the counts, and exit.
    #[arg(long, value_name = "DIR/db", requires = "database_url")]
    copy_from_sled: Option<PathBuf>,
    /// Connections in the PostgreSQL pool.
    #[arg(long, env = "INTYG_DATABASE_POOL_SIZE")]
    database_pool_size: Option<usize>,
    /// PostgreSQL statement timeout, milliseconds (0: none).
    #[arg(long, env = "INTYG_DATABASE_STATEMENT_TIMEOUT_MS")]
    database_statement_timeout_ms: Option<u64>,
    /// What wallets must prove: `basic` (default: DPoP and attestations
    /// checked when sent) or `haip` (HAIP 1.0: DPoP, wallet attestation and
    /// key attestation required). Overrides the configuration file.
    #[arg(long)]
    profile: Option<intyg_issuer::policy::Profile>,
    /// A PEM file of wallet provider roots that wallet and key attestations
    /// must chain to (repeatable; added to the configuration's).
    #[arg(long = "wallet-provider-root", value_name = "FILE.pem")]
    wallet_provider_roots: Vec<PathBuf>,
    /// A List of Trusted Entities (ETSI TS 119 602) whose wallet providers
    /// are trusted too. Repeatable; each pairs with the
    /// --trust-list-signer at the same position.
    #[arg(long = "trust-list", value_name = "URL")]
    trust_lists: Vec<String>,
    /// PEM: the pinned scheme operator CA or signing certificate of the
    /// --trust-list at the same position. Repeatable.
    #[arg(long = "trust-list-signer", value_name = "FILE.pem")]
    trust_list_signers: Vec<PathBuf>,
    /// The scheme of offer links: `openid-credential-offer` (default) or
    /// `haip-vci`. Overrides the configuration file.
    #[arg(long)]
    offer_scheme: Option<intyg_issuer::policy::OfferScheme>,
    /// Demand server nonces in DPoP proofs (RFC 9449 §8: `use_dpop_nonce`,
    /// `DPoP-Nonce`). Config file: `dpop_nonce = true`.
    #[arg(long)]
    dpop_nonce: bool,
    /// The signing key in an HSM (--pkcs11-*).
    #[command(flatten)]
    pkcs11: intyg_service::pkcs11::Pkcs11Args,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Applies this binary's database migrations to --database-url (or the
    /// --config file's `database_url`), prints the schema version and exits
    /// without serving. Refuses a schema newer than the binary.
    Migrate,
    /// Back up the sled store and the data directory's files (keys,
    /// certificates, audit trail), encrypted to age X25519 recipients.
    /// Online: while the service runs, the snapshot comes from it over
    /// DIR/operator.sock; stopped, the store is opened here. PostgreSQL
    /// deployments are refused (pg_dump; docs/deploy.md).
    Backup {
        /// The data directory (default: the --config file's `data_dir`).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// An age X25519 recipient (`age1...`). Repeatable.
        #[arg(long = "recipient", value_name = "AGE1...")]
        recipients: Vec<String>,
        /// A file of recipients, one per line (`#` comments). Repeatable.
        #[arg(long = "recipients-file", value_name = "FILE")]
        recipients_files: Vec<PathBuf>,
        /// The archive to write (a new file).
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Restore a backup into a new or empty data directory, after checking
    /// its manifest's checksum and counts; prints the counts.
    Restore {
        /// The archive.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// An age identity file (`AGE-SECRET-KEY-1...`) that the archive
        /// was encrypted to.
        #[arg(long, value_name = "FILE")]
        identity: PathBuf,
        /// The data directory to create (must not exist, or be empty).
        #[arg(long)]
        data_dir: PathBuf,
        /// Status list indices to skip after the restore: credentials
        /// issued after the backup hold indices the backup does not know,
        /// which must never be handed out again. The default is one list
        /// of the default size.
        #[arg(long, value_name = "N", default_value_t = 131_072)]
        skip_status_indices: u64,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
}

#[derive(Debug, clap::Subcommand)]
enum AuditAction {
    /// Recompute the trail's hash chain and check its signed checkpoints
    /// (the service may be running): exit 0 when intact, 1 naming the
    /// first bad entry.
    Verify {
        /// The issuer's data directory (its key; on sled, `audit.jsonl`).
        #[arg(long)]
        data_dir: PathBuf,
        /// The trail is in this PostgreSQL database (table `issuer_audit`).
        #[arg(long, env = "INTYG_DATABASE_URL")]
        database_url: Option<String>,
        /// A file of entries witnessed earlier (`audit head` lines,
        /// kept on other storage): each must still be in the trail,
        /// unchanged, so entries cut off the end are found too.
        #[arg(long)]
        witness: Option<PathBuf>,
    },
    /// Print the newest entry as `<seq> <hash>`, for a witness file on
    /// other storage (append it from a timer; `audit verify --witness`).
    Head {
        /// The data directory (on sled, `audit.jsonl`).
        #[arg(long)]
        data_dir: PathBuf,
        /// The trail is in this PostgreSQL database.
        #[arg(long, env = "INTYG_DATABASE_URL")]
        database_url: Option<String>,
    },
}

/// `backup` and `restore`: print the outcome, or the error and exit 1.
async fn backup_or_restore(
    service: &str,
    command: &Command,
    config: Option<&std::path::Path>,
    database_url: Option<&str>,
) -> anyhow::Result<()> {
    use intyg_service::backup::{BackupError, backup_command, restore_command};
    let outcome = match command {
        Command::Backup {
            data_dir,
            recipients,
            recipients_files,
            output,
        } => {
            let config = config.map(Config::load).transpose()?;
            let data_dir = data_dir
                .clone()
                .or_else(|| config.as_ref().map(|c| c.data_dir.clone()))
                .context("backup needs --data-dir DIR (or --config FILE)")?;
            if database_url.is_some() || config.is_some_and(|c| c.database().is_some()) {
                Err((
                    BackupError::Postgres.code(),
                    BackupError::Postgres.to_string(),
                ))
            } else {
                backup_command(service, &data_dir, recipients, recipients_files, output)
                    .map_err(|e| (e.code(), e.to_string()))
            }
        }
        Command::Restore {
            from,
            identity,
            data_dir,
            skip_status_indices,
        } => match restore_command(service, from, identity, data_dir) {
            Ok(text) => Ok(text + &skip_indices(data_dir, *skip_status_indices).await?),
            Err(e) => Err((e.code(), e.to_string())),
        },
        _ => return Ok(()),
    };
    match outcome {
        Ok(text) => {
            print!("{text}");
            Ok(())
        }
        Err((code, message)) => {
            eprintln!("{code}: {message}");
            std::process::exit(1);
        }
    }
}

/// Moves the restored store's status index counter `count` ahead; the
/// line to print.
async fn skip_indices(data_dir: &std::path::Path, count: u64) -> anyhow::Result<String> {
    let stores = intyg_issuer::store::Stores::open_sled(&data_dir.join("db"))?;
    let before = stores.status.allocated().await?;
    if count > 0 {
        stores.status.allocate(count).await?;
        stores.durable().await?;
    }
    Ok(format!(
        "  status indices: the next is {}, {count} after the backup's {before}\n",
        before.saturating_add(count)
    ))
}

/// `audit verify`: prints the outcome; the exit code says it.
async fn audit_verify(
    data_dir: &std::path::Path,
    database_url: Option<&str>,
    witness: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let key = intyg_issuer::audit::public_key(data_dir)?;
    let store = intyg_service::audit::verify_source(data_dir, database_url, "issuer")?;
    match intyg_service::audit::verify_command(store.as_ref(), &key, witness).await {
        Ok(line) => {
            println!("{line}");
            Ok(())
        }
        Err(failure) => {
            eprintln!("{failure}");
            std::process::exit(1);
        }
    }
}

/// `audit head`: the newest entry as `<seq> <hash>` (nothing for an
/// empty trail).
async fn audit_head(data_dir: &std::path::Path, database_url: Option<&str>) -> anyhow::Result<()> {
    let store = intyg_service::audit::verify_source(data_dir, database_url, "issuer")?;
    if let Some(head) = intyg_service::audit::head(store.as_ref()).await? {
        println!("{head}");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    if let Some(Command::Migrate) = args.command {
        let database = match (&args.database_url, &args.config) {
            (Some(url), _) => intyg_service::pg::PgConfig::new(url.clone()),
            (None, Some(path)) => Config::load(path)?
                .database()
                .context("the configuration has no database_url")?,
            (None, None) => anyhow::bail!(
                "migrate needs --database-url (or INTYG_DATABASE_URL), or --config with database_url"
            ),
        };
        let version = intyg_issuer::store::migrate(&database).await?;
        println!("issuer schema at version {version}");
        return Ok(());
    }
    if let Some(Command::Audit { action }) = &args.command {
        return match action {
            AuditAction::Verify {
                data_dir,
                database_url,
                witness,
            } => audit_verify(data_dir, database_url.as_deref(), witness.as_deref()).await,
            AuditAction::Head {
                data_dir,
                database_url,
            } => audit_head(data_dir, database_url.as_deref()).await,
        };
    }
    if let Some(command @ (Command::Backup { .. } | Command::Restore { .. })) = &args.command {
        return backup_or_restore(
            "issuer",
            command,
            args.config.as_deref(),
            args.database_url.as_deref(),
        )
        .await;
    }
    if let (Some(from), Some(url)) = (&args.copy_from_sled, &args.database_url) {
        let db = sled::Config::new()
            .path(from)
            .open()
            .with_context(|| format!("opening {}", from.display()))?;
        let mut target = intyg_service::pg::PgConfig::new(url.clone());
        target.pool_size = args.database_pool_size.unwrap_or(target.pool_size);
        let copied = intyg_issuer::store::copy_sled_to_postgres(&db, &target).await?;
        println!("copied and counted: {copied:?}");
        return Ok(());
    }
    let mut config = match (&args.config, args.dev, &args.data_dir) {
        (Some(path), _, _) => Config::load(path)?,
        (None, true, Some(dir)) => Config::dev(dir.clone(), args.listen)?,
        _ => anyhow::bail!("give --config FILE, or --dev --data-dir DIR"),
    };
    if let Some(url) = args.database_url {
        config.database_url = Some(url);
    }
    if let Some(size) = args.database_pool_size {
        config.database_pool_size = size.max(1);
    }
    if let Some(timeout) = args.database_statement_timeout_ms {
        config.database_statement_timeout_ms = timeout;
    }
    if let Some(profile) = args.profile {
        config.profile = profile;
    }
    if args.dpop_nonce {
        config.dpop_nonce = Some(true);
    }
    if let Some(scheme) = args.offer_scheme {
        config.offer_scheme = scheme;
    }
    if let Some(pkcs11) = args.pkcs11.config() {
        config.pkcs11 = Some(pkcs11);
    }
    config
        .wallet_provider_roots
        .extend(args.wallet_provider_roots.iter().cloned());
    if args.trust_lists.len() != args.trust_list_signers.len() {
        use clap::CommandFactory as _;
        Args::command()
            .error(
                clap::error::ErrorKind::WrongNumberOfValues,
                "each --trust-list needs its --trust-list-signer (paired in order)",
            )
            .exit();
    }
    config.trust_lists.extend(
        args.trust_lists
            .iter()
            .cloned()
            .zip(args.trust_list_signers.iter().cloned())
            .map(|(url, signer)| intyg_service::trust_lists::TrustListSource { url, signer }),
    );
    if config.profile == intyg_issuer::policy::Profile::Haip
        && config.wallet_provider_roots.is_empty()
        && config.trust_lists.is_empty()
    {
        anyhow::bail!(
            "--profile haip needs at least one --wallet-provider-root (or wallet_provider_roots) or --trust-list"
        );
    }
    intyg_service::hardening::no_core_dumps()?;
    // The issuer's own port first: the development IdP takes any free
    // port, which could otherwise be the one asked for here.
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    if config.dev && config.oidc.is_none() {
        config.oidc = Some(start_dev_idp(&config).await?);
    }
    let state = AppState::open(config).await?;
    tracing::info!(
        listen = %listener.local_addr()?,
        public_url = %state.config.public_url,
        credential_types = state.types.len(),
        admin_api = state.config.api_key.is_some(),
        database = if state.stores.commit.is_some() { "sled" } else { "postgresql" },
        profile = %state.config.profile,
        "intyg-issuer started"
    );
    intyg_issuer::ops::spawn_sweeps(state.stores.clone(), std::time::Duration::from_secs(60));
    intyg_issuer::rollover::spawn_sighup(state.clone());
    let operator_socket = match &state.stores.sled {
        Some(db) => intyg_service::backup::socket::serve(
            &state.config.data_dir,
            db.clone(),
            "issuer",
            Some(state.audit.audit().clone()),
        )
        .context("binding the operator socket in the data directory")?,
        None => None,
    };
    axum::serve(
        listener,
        app(state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(intyg_service::shutdown_signal())
    .await
    .context("serving")?;
    state.stores.durable().await?;
    if let Some(path) = operator_socket
        && let Err(e) = std::fs::remove_file(&path)
    {
        tracing::warn!(error = %e, path = %path.display(), "the operator socket was not removed");
    }
    tracing::info!("intyg-issuer stopped");
    Ok(())
}

/// Development mode without `[oidc]`: the development OpenID Provider on
/// its own loopback port (real HTTP, as an external provider), with the
/// issuer as its one client.
async fn start_dev_idp(config: &Config) -> anyhow::Result<OidcConfig> {
    let listener = tokio::net::TcpListener::bind((config.listen.ip(), 0))
        .await
        .context("binding the development IdP")?;
    let issuer_url = format!("http://{}", listener.local_addr()?);
    let client_secret = intyg_issuer::random_token(24)?;
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    let key = dev_idp::load_or_create_key(&config.data_dir.join("dev-idp-key.jwk"))
        .map_err(anyhow::Error::msg)?;
    let idp = DevIdp::new(
        DevIdpConfig {
            issuer: issuer_url.clone(),
            client_id: "intyg-issuer".into(),
            client_secret: client_secret.clone(),
            redirect_uris: vec![format!("{}/authorize/callback", config.public_url)],
            auto_login: false,
        },
        key,
    )?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, dev_idp::app(Arc::new(idp))).await {
            tracing::error!(error = %e, "development IdP stopped");
        }
    });
    tracing::warn!(%issuer_url, "development IdP started; never use it in production");
    Ok(OidcConfig {
        issuer_url,
        client_id: "intyg-issuer".into(),
        client_secret,
        identity_claim: "personal_identity_number".into(),
        scopes: vec!["openid".into()],
    })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        super::Args::command().debug_assert();
    }
}
