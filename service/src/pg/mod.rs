//! PostgreSQL for several instances behind one database: a connection pool
//! from a libpq-style URL (TLS through rustls, [`tls`]), versioned schema
//! migrations applied at start under an advisory lock ([`Pg::migrate`]),
//! and run-once background jobs across instances ([`Pg::exclusively`]).
//!
//! Every connection runs with `synchronous_commit = on` and the configured
//! `statement_timeout`, so a statement that returned has committed durably
//! (no explicit transaction is left open between calls).
//!
//! Each service owns its tables (the issuer's start with `issuer_`, the
//! verifier's with `verifier_`) and its rows in `intyg_schema_migrations`,
//! so both may share one database or use one each.

mod tls;

use std::future::Future;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};

pub use tokio_postgres::Row;
pub use tokio_postgres::types::ToSql;

/// A statement's parameters.
pub type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// The advisory lock key the migrations of every service take.
const MIGRATION_LOCK: i64 = 0x696e_7479_676d_6967; // "intygmig"

/// How to reach the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgConfig {
    /// A libpq-style URL, `postgres://user:password@host:port/db?sslmode=..`.
    /// Without `sslmode` the connection is plain (loopback); `require`
    /// encrypts without authenticating the server (libpq's meaning),
    /// `verify-ca` checks the chain, `verify-full` the chain and the host
    /// name. Roots come from `sslrootcert` (a PEM file), else the system.
    pub url: String,
    /// Connections in the pool.
    pub pool_size: usize,
    /// `statement_timeout`, milliseconds (0: none).
    pub statement_timeout_ms: u64,
}

impl PgConfig {
    /// `url` with the default pool size and statement timeout.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            pool_size: DEFAULT_POOL_SIZE,
            statement_timeout_ms: DEFAULT_STATEMENT_TIMEOUT_MS,
        }
    }
}

/// A PostgreSQL failure. Details go to the log; clients see a generic 500.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// The database URL does not parse or names an unknown option.
    #[error("database URL: {0}")]
    Url(#[source] tokio_postgres::Error),
    /// `sslmode` has a value this service does not support.
    #[error(
        "database URL: sslmode={0} is not supported (disable, prefer, require, verify-ca, verify-full)"
    )]
    SslMode(String),
    /// The root certificates for TLS could not be loaded.
    #[error("database TLS roots {source_name}: {reason}")]
    Roots {
        /// The file, or "system".
        source_name: String,
        /// What failed.
        reason: String,
    },
    /// The pool could not be built.
    #[error("database pool: {0}")]
    Build(#[from] deadpool_postgres::BuildError),
    /// No connection could be had from the pool.
    #[error("database connection: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// A statement failed.
    #[error("database: {0}")]
    Query(#[from] tokio_postgres::Error),
    /// The database has a schema newer than this binary knows: an older
    /// binary must not write to it.
    #[error(
        "the database schema of {service} is at version {found}, newer than this binary's {known}; \
         run a newer intyg"
    )]
    SchemaTooNew {
        /// The service whose tables these are.
        service: &'static str,
        /// The version in the database.
        found: i32,
        /// The newest version this binary knows.
        known: i32,
    },
}

/// One versioned schema step, kept as an SQL file in the repository.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Its version: 1, 2, ... in order.
    pub version: i32,
    /// A short name (the file name).
    pub name: &'static str,
    /// The statements.
    pub sql: &'static str,
}

/// A connection pool to one database.
#[derive(Clone)]
pub struct Pg {
    pool: Pool,
}

impl std::fmt::Debug for Pg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pg")
            .field("status", &self.pool.status())
            .finish()
    }
}

impl Pg {
    /// A pool for `config`. Connects lazily: the first use (usually
    /// [`Pg::migrate`]) shows whether the database is reachable.
    pub fn connect(config: &PgConfig) -> Result<Self, PgError> {
        let (mut pg_config, tls) = tls::parse(&config.url)?;
        let mut options = pg_config.get_options().unwrap_or_default().to_owned();
        options.push_str(&format!(
            " -c synchronous_commit=on -c statement_timeout={}",
            config.statement_timeout_ms
        ));
        pg_config.options(options.trim());
        if pg_config.get_connect_timeout().is_none() {
            pg_config.connect_timeout(Duration::from_secs(10));
        }
        let manager = Manager::from_config(
            pg_config,
            tls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_size.max(1))
            .build()?;
        Ok(Self { pool })
    }

    /// A connection from the pool.
    pub async fn client(&self) -> Result<Object, PgError> {
        Ok(self.pool.get().await?)
    }

    /// Runs one statement (prepared once per connection), committed when
    /// it returns; the number of rows it changed.
    pub async fn execute(&self, sql: &str, params: Params<'_>) -> Result<u64, PgError> {
        let client = self.client().await?;
        let statement = client.prepare_cached(sql).await?;
        Ok(client.execute(&statement, params).await?)
    }

    /// The one row or none a statement returns.
    pub async fn query_opt(&self, sql: &str, params: Params<'_>) -> Result<Option<Row>, PgError> {
        let client = self.client().await?;
        let statement = client.prepare_cached(sql).await?;
        Ok(client.query_opt(&statement, params).await?)
    }

    /// The one row a statement returns.
    pub async fn query_one(&self, sql: &str, params: Params<'_>) -> Result<Row, PgError> {
        let client = self.client().await?;
        let statement = client.prepare_cached(sql).await?;
        Ok(client.query_one(&statement, params).await?)
    }

    /// Every row a statement returns.
    pub async fn query(&self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, PgError> {
        let client = self.client().await?;
        let statement = client.prepare_cached(sql).await?;
        Ok(client.query(&statement, params).await?)
    }

    /// Applies the `migrations` of `service` that the database lacks, in
    /// one transaction under an advisory lock, so instances starting
    /// together apply each once. Refuses a database whose schema is newer
    /// than the newest of `migrations`. Returns the version now in force.
    pub async fn migrate(
        &self,
        service: &'static str,
        migrations: &[Migration],
    ) -> Result<i32, PgError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS intyg_schema_migrations (
                service text NOT NULL,
                version integer NOT NULL,
                name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (service, version)
            )",
        )
        .await?;
        let found: Option<i32> = tx
            .query_one(
                "SELECT max(version) FROM intyg_schema_migrations WHERE service = $1",
                &[&service],
            )
            .await?
            .get(0);
        let found = found.unwrap_or(0);
        let known = migrations.iter().map(|m| m.version).max().unwrap_or(0);
        if found > known {
            return Err(PgError::SchemaTooNew {
                service,
                found,
                known,
            });
        }
        for migration in migrations.iter().filter(|m| m.version > found) {
            tx.batch_execute(migration.sql).await?;
            tx.execute(
                "INSERT INTO intyg_schema_migrations (service, version, name) VALUES ($1, $2, $3)",
                &[&service, &migration.version, &migration.name],
            )
            .await?;
            tracing::info!(
                service,
                version = migration.version,
                name = migration.name,
                "database migration applied"
            );
        }
        tx.commit().await?;
        Ok(known)
    }

    /// Runs `job` only if no other instance runs the job of `key` now (a
    /// session advisory lock, released when the job ends, or with the
    /// connection if the instance dies). `None` when another holds it.
    pub async fn exclusively<T>(
        &self,
        key: i64,
        job: impl Future<Output = T>,
    ) -> Result<Option<T>, PgError> {
        let client = self.client().await?;
        let locked: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
            .await?
            .get(0);
        if !locked {
            return Ok(None);
        }
        let outcome = job.await;
        if let Err(e) = client
            .execute("SELECT pg_advisory_unlock($1)", &[&key])
            .await
        {
            // The lock must not stay with a pooled connection: closing the
            // connection releases it.
            drop(Object::take(client));
            return Err(e.into());
        }
        Ok(Some(outcome))
    }
}

/// Where background jobs run once: on this instance alone (sled), or on
/// one of the instances sharing a database.
#[derive(Debug, Clone)]
pub enum RunOnce {
    /// The only instance.
    Local,
    /// Several instances on one database: an advisory lock per job.
    Shared(Pg),
}

impl RunOnce {
    /// Runs `job` unless another instance runs the job of `key` now.
    pub async fn run<T>(
        &self,
        key: i64,
        job: impl Future<Output = T>,
    ) -> Result<Option<T>, PgError> {
        match self {
            Self::Local => Ok(Some(job.await)),
            Self::Shared(pg) => pg.exclusively(key, job).await,
        }
    }
}

/// The default pool size (`database_pool_size`).
pub const DEFAULT_POOL_SIZE: usize = 16;
/// The default statement timeout (`database_statement_timeout_ms`).
pub const DEFAULT_STATEMENT_TIMEOUT_MS: u64 = 5_000;

/// Applies `INTYG_DATABASE_URL`, `INTYG_DATABASE_POOL_SIZE` and
/// `INTYG_DATABASE_STATEMENT_TIMEOUT_MS` to a service's database settings;
/// the error names the variable that does not parse.
pub fn env_overrides(
    url: &mut Option<String>,
    pool_size: &mut usize,
    statement_timeout_ms: &mut u64,
) -> Result<(), &'static str> {
    if let Ok(value) = std::env::var("INTYG_DATABASE_URL") {
        *url = Some(value).filter(|v| !v.trim().is_empty());
    }
    if let Ok(value) = std::env::var("INTYG_DATABASE_POOL_SIZE") {
        *pool_size = value
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or("INTYG_DATABASE_POOL_SIZE")?;
    }
    if let Ok(value) = std::env::var("INTYG_DATABASE_STATEMENT_TIMEOUT_MS") {
        *statement_timeout_ms = value
            .parse()
            .map_err(|_| "INTYG_DATABASE_STATEMENT_TIMEOUT_MS")?;
    }
    Ok(())
}
