//! `intyg-dev-idp`: the development OpenID Provider
//! ([`intyg_issuer::dev_idp`]). Binds the socket, prints
//! `listening on <issuer URL>` on stdout, and serves until SIGINT or
//! SIGTERM.
//!
//! ```sh
//! INTYG_DEV_IDP_CLIENT_SECRET=dev-secret intyg-dev-idp --listen 127.0.0.1:8090 \
//!     --redirect-uri http://127.0.0.1:8080/authorize/callback --auto-login
//! ```

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser;
use intyg_issuer::dev_idp::{self, DevIdp, DevIdpConfig};

#[derive(Debug, Parser)]
#[command(
    name = "intyg-dev-idp",
    version,
    about = "Development OpenID Provider with test persons (never for production)"
)]
struct Args {
    /// Listen address (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: SocketAddr,
    /// Issuer identifier; default `http://<bound address>`.
    #[arg(long)]
    issuer_url: Option<String>,
    /// The client id of the issuer service.
    #[arg(long, default_value = "intyg-issuer")]
    client_id: String,
    /// Its client secret.
    #[arg(long, env = "INTYG_DEV_IDP_CLIENT_SECRET", hide_env_values = true)]
    client_secret: String,
    /// A redirect URI registered for the client (repeatable).
    #[arg(long = "redirect-uri", required = true)]
    redirect_uris: Vec<String>,
    /// Log in at once when `login_hint` names a test person.
    #[arg(long)]
    auto_login: bool,
    /// Keep the signing key in DIR/dev-idp-key.jwk; without it a fresh key
    /// is made at every start.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let key = match &args.data_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            dev_idp::load_or_create_key(&dir.join("dev-idp-key.jwk")).map_err(anyhow::Error::msg)?
        }
        None => intyg_core::jose::SigningKey::generate()?,
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let address = listener.local_addr()?;
    let issuer = args
        .issuer_url
        .unwrap_or_else(|| format!("http://{address}"))
        .trim_end_matches('/')
        .to_owned();
    let idp = DevIdp::new(
        DevIdpConfig {
            issuer: issuer.clone(),
            client_id: args.client_id,
            client_secret: args.client_secret,
            redirect_uris: args.redirect_uris,
            auto_login: args.auto_login,
        },
        key,
    )?;
    tracing::warn!("intyg-dev-idp: a development identity provider; never use it in production");
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on {issuer}")?;
    stdout.flush()?;
    axum::serve(listener, dev_idp::app(Arc::new(idp)))
        .with_graceful_shutdown(intyg_service::shutdown_signal())
        .await
        .context("serving")
}
