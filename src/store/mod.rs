//! PostgreSQL: connecting (to a given server or the private cluster),
//! migrations, and every query the rest of snag needs. Nothing outside this
//! module writes SQL.

mod chunk_rows;
pub mod cluster;
pub mod diff;
pub mod errors;
pub mod files;
pub mod groups;
pub mod ingest;
pub mod retention;
pub mod runs;
pub mod text;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};

use cluster::{ClusterError, LocalCluster};

pub use errors::{
    Count, ErrorFacets, ErrorPage, ErrorQuery, ErrorRecord, ErrorSort, NewError, PageRequest,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    #[error("cannot connect to PostgreSQL at {target}: {source}")]
    Connect { target: String, source: sqlx::Error },
    #[error("cannot apply the database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    /// The caller asked for something that cannot be answered (a page
    /// limit or offset out of range): the request is at fault.
    #[error("{0}")]
    BadRequest(String),
    /// A stored row holds something snag cannot read: the database is at
    /// fault, not the request.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// Something failed inside snag itself.
    #[error("internal error: {0}")]
    Internal(String),
    /// Another run of the repository is going (in any process sharing the
    /// database): one run per repository at a time.
    #[error("{}", busy_message(repository, running.as_ref()))]
    RepositoryBusy {
        repository: String,
        running: Option<runs::RunningRun>,
    },
}

impl StoreError {
    /// Whether the database itself is gone (unreachable, shut down, the
    /// connection cut or refused), rather than one statement having failed:
    /// a failed write is then not worth retrying file by file.
    pub fn is_connection_lost(&self) -> bool {
        match self {
            StoreError::Query(e) => match e {
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_) => true,
                sqlx::Error::Database(db) => {
                    // Connection exceptions, shutdowns, and anything the
                    // server ends the session for (FATAL), such as a
                    // database that no longer accepts connections.
                    let fatal = db
                        .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                        .is_some_and(|pg| {
                            matches!(
                                pg.severity(),
                                sqlx::postgres::PgSeverity::Fatal
                                    | sqlx::postgres::PgSeverity::Panic
                            )
                        });
                    fatal
                        || db
                            .code()
                            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P"))
                }
                _ => false,
            },
            StoreError::Connect { .. } => true,
            _ => false,
        }
    }
}

fn busy_message(repository: &str, running: Option<&runs::RunningRun>) -> String {
    let repository = crate::sanitize::line(repository);
    match running {
        Some(run) => format!(
            "repository `{repository}` is being indexed by {}",
            crate::sanitize::line(&run.to_string())
        ),
        None => format!("another snag is starting a run of repository `{repository}`"),
    }
}

/// Where the database is: a server the user names, or snag's own cluster.
#[derive(Clone)]
pub enum DatabaseTarget {
    Url(String),
    Local(LocalCluster),
}

/// Shows the URL without its credentials.
impl std::fmt::Debug for DatabaseTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseTarget::Url(url) => f
                .debug_tuple("Url")
                .field(&redact_credentials(url))
                .finish(),
            DatabaseTarget::Local(cluster) => f.debug_tuple("Local").field(cluster).finish(),
        }
    }
}

impl DatabaseTarget {
    /// `--database-url`/`DATABASE_URL` when given, else the private cluster
    /// under snag's data directory.
    pub fn from_url_or_default(url: Option<&str>, data_dir: &Path) -> Self {
        match url.filter(|u| !u.trim().is_empty()) {
            Some(url) => DatabaseTarget::Url(url.to_owned()),
            None => DatabaseTarget::Local(LocalCluster::default_for_user(data_dir)),
        }
    }

    /// Connection options, starting the private cluster first if needed.
    pub async fn connect_options(&self) -> Result<PgConnectOptions, StoreError> {
        match self {
            DatabaseTarget::Url(url) => PgConnectOptions::from_str(&without_sslpassword(url))
                .map_err(|e| StoreError::InvalidUrl(e.to_string())),
            DatabaseTarget::Local(cluster) => {
                let started = cluster.clone();
                tokio::task::spawn_blocking(move || started.ensure_running())
                    .await
                    .map_err(|e| {
                        StoreError::Internal(format!("starting the private cluster panicked: {e}"))
                    })??;
                create_database_if_missing(cluster).await?;
                Ok(cluster.connect_options(cluster::CLUSTER_DATABASE))
            }
        }
    }

    fn describe(&self) -> String {
        match self {
            DatabaseTarget::Url(url) => redact_credentials(url),
            DatabaseTarget::Local(cluster) => {
                format!("the private cluster in {}", cluster.base_dir().display())
            }
        }
    }
}

/// Query parameters of a PostgreSQL URL that hold a secret (libpq's names;
/// compared without regard to case, once percent-decoded).
const SECRET_PARAMETERS: [&str; 2] = ["password", "sslpassword"];

fn is_secret_parameter(name: &str) -> bool {
    SECRET_PARAMETERS
        .iter()
        .any(|secret| name.eq_ignore_ascii_case(secret))
}

/// A database URL fit to print or log: the password of its user
/// information and every secret query parameter (`?password=`,
/// `?sslpassword=`) become `***`. A URL that does not parse is not shown
/// at all, since where its secrets are cannot be told.
pub fn redact_credentials(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return "a database URL that does not parse (not shown, as it may hold a password)"
            .to_owned();
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    if parsed
        .query_pairs()
        .any(|(name, _)| is_secret_parameter(&name))
    {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(name, value)| {
                let value = if is_secret_parameter(&name) {
                    "***".to_owned()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), value)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

/// The URL without `sslpassword`, which sqlx does not support: it would
/// ignore the parameter with a warning that logs its value.
fn without_sslpassword(url: &str) -> std::borrow::Cow<'_, str> {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return url.into();
    };
    let is_sslpassword = |name: &str| name.eq_ignore_ascii_case("sslpassword");
    if !parsed.query_pairs().any(|(name, _)| is_sslpassword(&name)) {
        return url.into();
    }
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(name, _)| !is_sslpassword(name))
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    parsed.to_string().into()
}

async fn create_database_if_missing(cluster: &LocalCluster) -> Result<(), StoreError> {
    let options = cluster.connect_options("postgres");
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(|source| StoreError::Connect {
            target: format!("the private cluster in {}", cluster.base_dir().display()),
            source,
        })?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(cluster::CLUSTER_DATABASE)
            .fetch_one(&pool)
            .await?;
    if !exists {
        let created = sqlx::query(&format!("CREATE DATABASE {}", cluster::CLUSTER_DATABASE))
            .execute(&pool)
            .await;
        match created {
            // Another snag created it a moment ago: duplicate_database, or a
            // unique violation when both got past the check at once.
            Err(sqlx::Error::Database(e))
                if matches!(e.code().as_deref(), Some("42P04" | "23505")) => {}
            other => {
                other?;
            }
        }
    }
    pool.close().await;
    Ok(())
}

/// The connection pool, with the schema migrated.
#[derive(Debug, Clone)]
pub struct Store {
    pool: PgPool,
}

impl Store {
    /// Connects and applies pending migrations.
    pub async fn open(target: &DatabaseTarget) -> Result<Store, StoreError> {
        let options = target.connect_options().await?;
        Self::open_with(options, &target.describe()).await
    }

    pub async fn open_with(
        options: PgConnectOptions,
        description: &str,
    ) -> Result<Store, StoreError> {
        let connect_error = |source| StoreError::Connect {
            target: description.to_owned(),
            source,
        };

        // One direct connection first: the pool would retry a refused
        // connection until its timeout instead of saying so at once.
        PgConnection::connect_with(&options)
            .await
            .map_err(connect_error)?
            .close()
            .await
            .ok();
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(15))
            // snag's queries read few rows through indexes, but one with a
            // subquery per row (comparing two runs' files) is estimated dear
            // enough for the server to compile it first: 600 ms of compiling
            // for a 100 ms query over 100,000 files. A server without JIT
            // has nothing to turn off.
            .after_connect(|connection, _| {
                Box::pin(async move {
                    let _ = sqlx::query("SET jit = off").execute(connection).await;
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(connect_error)?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        let store = Store { pool };
        store.fail_abandoned_runs().await?;
        Ok(store)
    }

    /// Whether the database answers a trivial question.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(self.pool()).await?;
        Ok(())
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_credential_in_a_url_is_redacted() {
        for (url, shown) in [
            (
                "postgres://me:hunter2@db.internal:5432/snag",
                "postgres://me:***@db.internal:5432/snag",
            ),
            (
                "postgres://u@127.0.0.1:1/db?password=hunter2",
                "postgres://u@127.0.0.1:1/db?password=***",
            ),
            (
                "postgres://host/db?user=me&password=hunter2&sslmode=require",
                "postgres://host/db?user=me&password=***&sslmode=require",
            ),
            (
                "postgres://host/db?sslpassword=hunter2",
                "postgres://host/db?sslpassword=***",
            ),
            (
                "postgres://host/db?PassWord=hunter2&pass%77ord=hunter2",
                "postgres://host/db?PassWord=***&password=***",
            ),
            ("postgres://host/db?user=me", "postgres://host/db?user=me"),
        ] {
            assert_eq!(redact_credentials(url), shown);
        }
        let unparsed = redact_credentials("postgres://me:hunter2@[::1/db");
        assert!(!unparsed.contains("hunter2"), "{unparsed}");
        let target = DatabaseTarget::Url("postgres://me:hunter2@h/db?password=hunter2".into());
        assert!(!format!("{target:?}").contains("hunter2"));
    }

    #[test]
    fn sslpassword_is_left_out_of_what_sqlx_reads() {
        assert_eq!(
            without_sslpassword("postgres://h/db?sslpassword=x&sslmode=require"),
            "postgres://h/db?sslmode=require"
        );
        assert_eq!(
            without_sslpassword("postgres://h/db?sslpassword=x"),
            "postgres://h/db"
        );
        let untouched = "postgres://u:p@h/db?password=p%26q";
        assert_eq!(without_sslpassword(untouched), untouched);
    }
}
