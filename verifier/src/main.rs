//! `intyg-verifier`: loads the configuration, opens the store, binds the
//! socket and serves [`intyg_verifier::app`] until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use intyg_core::oid4vp::RequestUriMethod;
use intyg_verifier::config::{Config, InvocationScheme, OidcClient};
use intyg_verifier::{AppState, app};

/// mimalloc: a verified presentation makes a few hundred short-lived
/// allocations (JSON, JOSE, HTTP) on two or more threads, where glibc's
/// allocator spent about 16% of the CPU of a flow (`presentation_load`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "intyg-verifier",
    version,
    about = "The Intyg verifier (OpenID4VP 1.0)"
)]
struct Args {
    /// Production: a TOML configuration file.
    #[arg(long, conflicts_with = "dev")]
    config: Option<PathBuf>,
    /// Development: a self-contained instance (generated CA in --data-dir,
    /// written to DIR/ca.pem; http on loopback; HR API key from
    /// INTYG_API_KEY).
    #[arg(long, requires = "data_dir")]
    dev: bool,
    /// Development data directory.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Development listen address.
    #[arg(long, default_value = "127.0.0.1:8090")]
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
    /// Development: trust this issuer's /.well-known/jwt-vc-issuer keys for
    /// the Intyg credential types. Repeatable.
    #[arg(long = "trust-issuer")]
    trust_issuers: Vec<String>,
    /// Trust chains to this PID provider CA (PEM) for the PID
    /// (`urn:eudi:pid:1`) only. Repeatable.
    #[arg(long = "trust-pid-provider", value_name = "FILE.pem")]
    trust_pid_providers: Vec<PathBuf>,
    /// A List of Trusted Entities (ETSI TS 119 602, a compact JWS) to
    /// trust the issuers and PID providers of. Repeatable; each pairs with
    /// the --trust-list-signer at the same position.
    #[arg(long = "trust-list", value_name = "URL")]
    trust_lists: Vec<String>,
    /// PEM: the pinned scheme operator CA or signing certificate of the
    /// --trust-list at the same position. Repeatable.
    #[arg(long = "trust-list-signer", value_name = "FILE.pem")]
    trust_list_signers: Vec<PathBuf>,
    /// The scheme of invocation links: `openid4vp` (the default) or
    /// `haip-vp` (HAIP 1.0). Overrides the configuration file.
    #[arg(long, value_name = "SCHEME")]
    invocation_scheme: Option<InvocationScheme>,
    /// The default `request_uri_method` of new requests: `get` or `post`
    /// (OpenID4VP 1.0 §5.10). Overrides the configuration file.
    #[arg(long, value_name = "METHOD")]
    request_uri_method: Option<RequestUriMethod>,
    /// A relying party of the OpenID Provider bridge,
    /// `ID:SECRET:REDIRECT_URI` (split at the first two colons), allowed
    /// every template as a scope. Repeatable; development only (production
    /// lists `[[oidc_clients]]` in the configuration file).
    #[arg(long = "oidc-client", value_name = "ID:SECRET:REDIRECT_URI", requires = "dev", value_parser = OidcClient::from_flag)]
    oidc_clients: Vec<OidcClient>,
    /// The signing key in an HSM (--pkcs11-*).
    #[command(flatten)]
    pkcs11: intyg_service::pkcs11::Pkcs11Args,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
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
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Applies this binary's database migrations to --database-url (or the
    /// --config file's `database_url`), prints the schema version and exits
    /// without serving. Refuses a schema newer than the binary.
    Migrate,
}

#[derive(Debug, clap::Subcommand)]
enum AuditAction {
    /// Recompute the trail's hash chain and check its signed checkpoints
    /// (the service may be running): exit 0 when intact, 1 naming the
    /// first bad entry.
    Verify {
        /// The verifier's data directory (its key; on sled, `audit.jsonl`).
        #[arg(long)]
        data_dir: PathBuf,
        /// The trail is in this PostgreSQL database (table `verifier_audit`).
        #[arg(long, env = "INTYG_DATABASE_URL")]
        database_url: Option<String>,
        /// A file of entries witnessed earlier (`audit head` lines,
        /// kept on other storage): each must still be in the trail,
        /// unchanged, so entries cut off the end are found too.
        #[arg(long)]
        witness: Option<PathBuf>,
        /// The signing key, when not the one of `verifier-chain.pem` (or
        /// `verifier-key.jwk`) in the data directory: `[x509] key_file`,
        /// or for a key in an HSM its PEM chain (`[x509] chain_file`).
        #[arg(long)]
        key_file: Option<PathBuf>,
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
fn backup_or_restore(
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
        } => restore_command(service, from, identity, data_dir)
            .map_err(|e| (e.code(), e.to_string())),
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

/// `audit verify`: prints the outcome; the exit code says it.
async fn audit_verify(
    data_dir: &std::path::Path,
    database_url: Option<&str>,
    key_file: Option<&std::path::Path>,
    witness: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let key = intyg_verifier::audit::public_key(data_dir, key_file)?;
    let store = intyg_service::audit::verify_source(data_dir, database_url, "verifier")?;
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
    let store = intyg_service::audit::verify_source(data_dir, database_url, "verifier")?;
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
    if args.trust_lists.len() != args.trust_list_signers.len() {
        use clap::CommandFactory as _;
        Args::command()
            .error(
                clap::error::ErrorKind::WrongNumberOfValues,
                "each --trust-list needs its --trust-list-signer (paired in order)",
            )
            .exit();
    }
    if let Some(Command::Audit { action }) = &args.command {
        return match action {
            AuditAction::Verify {
                data_dir,
                database_url,
                key_file,
                witness,
            } => {
                audit_verify(
                    data_dir,
                    database_url.as_deref(),
                    key_file.as_deref(),
                    witness.as_deref(),
                )
                .await
            }
            AuditAction::Head {
                data_dir,
                database_url,
            } => audit_head(data_dir, database_url.as_deref()).await,
        };
    }
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
        let version = intyg_verifier::store::migrate(&database).await?;
        println!("verifier schema at version {version}");
        return Ok(());
    }
    if let Some(command @ (Command::Backup { .. } | Command::Restore { .. })) = &args.command {
        return backup_or_restore(
            "verifier",
            command,
            args.config.as_deref(),
            args.database_url.as_deref(),
        );
    }
    if let (Some(from), Some(url)) = (&args.copy_from_sled, &args.database_url) {
        let db = sled::Config::new()
            .path(from)
            .open()
            .with_context(|| format!("opening {}", from.display()))?;
        let mut target = intyg_service::pg::PgConfig::new(url.clone());
        target.pool_size = args.database_pool_size.unwrap_or(target.pool_size);
        // The keys of personal data are files beside `DIR/db`.
        let keys_dir = from.parent().map_or_else(
            || PathBuf::from("transaction-keys"),
            |dir| dir.join("transaction-keys"),
        );
        let copied = intyg_verifier::store::copy_sled_to_postgres(&db, &keys_dir, &target).await?;
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
    config.trust_issuers.extend(args.trust_issuers);
    config.trust_pid_providers.extend(args.trust_pid_providers);
    config.trust_lists.extend(
        args.trust_lists
            .into_iter()
            .zip(args.trust_list_signers)
            .map(|(url, signer)| intyg_service::trust_lists::TrustListSource { url, signer }),
    );
    config.oidc_clients.extend(args.oidc_clients);
    // Again with the clients of the flags: an id given twice (by a flag and
    // the file, or two flags) is refused like one in the file.
    config.check_oidc_clients()?;
    if let Some(scheme) = args.invocation_scheme {
        config.invocation_scheme = scheme;
    }
    if let Some(method) = args.request_uri_method {
        config.request_uri_method = method;
    }
    intyg_service::hardening::no_core_dumps()?;
    if let Some(pkcs11) = args.pkcs11.config() {
        config.pkcs11 = Some(pkcs11);
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let state = AppState::open(config).await?;
    tracing::info!(
        listen = %listener.local_addr()?,
        public_url = %state.config.public_url,
        client_id = %state.identity.client_id,
        trusted_types = state.trust.read().map(|t| t.types().count()).unwrap_or(0),
        hr_api = state.config.api_key.is_some(),
        database = if state.stores.commit.is_some() { "sled" } else { "postgresql" },
        "intyg-verifier started"
    );
    let operator_socket = match &state.stores.sled {
        Some(db) => intyg_service::backup::socket::serve(
            &state.config.data_dir,
            db.clone(),
            "verifier",
            Some(state.audit.clone()),
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
    tracing::info!("intyg-verifier stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        super::Args::command().debug_assert();
    }
}
