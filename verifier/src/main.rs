//! `intyg-verifier`: loads the configuration, opens the store, binds the
//! socket and serves [`intyg_verifier::app`] until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use intyg_core::oid4vp::RequestUriMethod;
use intyg_verifier::config::{Config, InvocationScheme, OidcClient};
use intyg_verifier::{AppState, app};

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
    #[arg(long, env = "INTYG_DATABASE_URL")]
    database_url: Option<String>,
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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
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
    config.oidc_clients.extend(args.oidc_clients);
    if let Some(scheme) = args.invocation_scheme {
        config.invocation_scheme = scheme;
    }
    if let Some(method) = args.request_uri_method {
        config.request_uri_method = method;
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
    axum::serve(listener, app(state.clone()))
        .with_graceful_shutdown(intyg_service::shutdown_signal())
        .await
        .context("serving")?;
    state.stores.durable().await?;
    tracing::info!("intyg-verifier stopped");
    Ok(())
}
