//! Runs: starting one (the row, the lease, one run per repository at a
//! time), noticing abandoned ones, and reading them back. What a run stores
//! goes through `ingest`.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{Connection, PgConnection};

use super::text::storable;
use super::{Store, StoreError};
use crate::index::discover::PassedOver;
use crate::index::outcome::ErrorType;
use crate::index::progress::{RunFigures, RunHealth, RunStatus};

/// A run as stored.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RunRecord {
    pub run_id: i64,
    pub repository: String,
    pub root: String,
    #[sqlx(try_from = "String")]
    pub status: RunStatus,
    pub status_message: Option<String>,
    /// Files whose results are stored so far, whatever their outcome (all
    /// of them once the run has ended).
    pub files_total: i32,
    /// Files discovery found: null until its walk is over (before any file
    /// is processed), for runs cancelled during it and for older runs.
    pub files_discovered: Option<i32>,
    pub files_indexed: i32,
    pub files_partial: i32,
    pub files_failed: i32,
    pub files_skipped: i32,
    /// Files whose stored results were carried over from an earlier run
    /// (unchanged since), not parsed again.
    pub files_reused: i32,
    pub errors_total: i32,
    pub chunks_total: i64,
    pub bytes_total: i64,
    /// Parse health: bytes of the files tree-sitter parsed (this run or,
    /// kept, an earlier one), bytes inside their ERROR nodes, MISSING nodes.
    pub parsed_bytes: i64,
    pub error_bytes: i64,
    pub missing_nodes: i64,
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub tool_version: String,
    #[schema(value_type = Object)]
    pub grammar_versions: serde_json::Value,
    /// What discovery left out, by reason ([`PassedOver`]); null until its
    /// walk is over and for runs stored before snag counted it.
    #[schema(value_type = Option<Object>)]
    pub passed_over: Option<serde_json::Value>,
}

impl RunRecord {
    /// The run's parse health, given how many of its files have syntax
    /// errors.
    pub fn health(&self, files_with_syntax_errors: u64) -> RunHealth {
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        RunHealth::new(
            files_with_syntax_errors,
            count(self.parsed_bytes),
            count(self.error_bytes),
            count(self.missing_nodes),
        )
    }

    /// What discovery left out, when the run recorded it.
    pub fn passed_over(&self) -> Option<PassedOver> {
        serde_json::from_value(self.passed_over.clone()?).ok()
    }

    /// The grammars the run parsed with, in one line (`built-in`, or each
    /// grammar's name, version and origin).
    pub fn grammar_label(&self) -> String {
        crate::index::grammar::recorded_label(&self.grammar_versions)
    }

    /// The run's progress as its row tells it, at `now`: live for a run
    /// going on in any process (the row's counts grow batch by batch), final
    /// for one that has ended. Poll [`Store::get_run`] to follow it.
    pub fn figures(&self, now: DateTime<Utc>) -> RunFigures {
        let count = |n: i32| u64::try_from(n).unwrap_or(0);
        let end = match (self.status, self.finished_at) {
            (RunStatus::Running, _) | (_, None) => now,
            (_, Some(finished)) => finished,
        };
        let elapsed = (end - self.started_at).to_std().unwrap_or_default();
        RunFigures {
            status: self.status,
            done: count(self.files_total),
            total: self.files_discovered.map(count),
            indexed: count(self.files_indexed),
            partial: count(self.files_partial),
            failed: count(self.files_failed),
            skipped: count(self.files_skipped),
            reused: count(self.files_reused),
            errors: count(self.errors_total),
            chunks: u64::try_from(self.chunks_total).unwrap_or(0),
            bytes: u64::try_from(self.bytes_total).unwrap_or(0),
            elapsed,
            processing: elapsed,
        }
    }
}

#[cfg(test)]
impl RunRecord {
    /// A run of `web` with nothing stored yet, started at the epoch, for
    /// unit tests to change what they are about.
    pub(crate) fn example(status: RunStatus) -> RunRecord {
        RunRecord {
            run_id: 3,
            repository: "web".into(),
            root: "/srv/web".into(),
            status,
            status_message: None,
            files_total: 0,
            files_discovered: None,
            files_indexed: 0,
            files_partial: 0,
            files_failed: 0,
            files_skipped: 0,
            files_reused: 0,
            errors_total: 0,
            chunks_total: 0,
            bytes_total: 0,
            parsed_bytes: 0,
            error_bytes: 0,
            missing_nodes: 0,
            options: serde_json::json!({}),
            started_at: DateTime::UNIX_EPOCH,
            finished_at: None,
            tool_version: "0".into(),
            grammar_versions: serde_json::json!({}),
            passed_over: None,
        }
    }
}

const RUN_COLUMNS: &str = "run_id, repository, root, status, status_message, files_total, files_discovered, files_indexed, \
     files_partial, files_failed, files_skipped, files_reused, errors_total, chunks_total, bytes_total, parsed_bytes, \
     error_bytes, missing_nodes, options, started_at, finished_at, tool_version, grammar_versions, \
     passed_over";

/// The arguments of a run lease's advisory lock for the run id expression
/// `id`: the class "snag" in ASCII, then the id as a 32-bit key.
fn run_lock(id: &str) -> String {
    format!("{}, ({id} % 2147483648)::int", 0x736e_6167)
}

/// The key of a repository's advisory lock: one bigint, so it never meets
/// a run's lock (two int keys) in PostgreSQL's lock space.
fn repository_lock(repository: &str) -> i64 {
    let key = format!("snag repository\n{repository}");
    xxhash_rust::xxh3::xxh3_64(key.as_bytes()) as i64
}

/// The run that holds a repository, as far as its row tells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RunningRun {
    pub run_id: i64,
    pub started_at: DateTime<Utc>,
    /// The machine and process running it.
    pub host: Option<String>,
    pub pid: Option<i32>,
}

impl std::fmt::Display for RunningRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "run {}, started {}",
            self.run_id,
            self.started_at.format("%Y-%m-%d %H:%M:%S UTC")
        )?;
        match (&self.host, self.pid) {
            (Some(host), Some(pid)) => write!(f, " by pid {pid} on {host}"),
            (None, Some(pid)) => write!(f, " by pid {pid}"),
            (Some(host), None) => write!(f, " on {host}"),
            (None, None) => Ok(()),
        }
    }
}

/// Says a run is going: a session advisory lock on its id, and one on its
/// repository, held on a connection of its own. PostgreSQL releases both
/// when that connection ends, however the process ends, so a `running` run
/// whose lock is free was abandoned, and its repository is free again.
pub struct RunLease {
    pub run_id: i64,
    connection: PgConnection,
}

impl RunLease {
    /// The run is over (its row says how it ended).
    pub async fn release(self) {
        let _ = self.connection.close().await;
    }
}

/// A run about to start.
#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    pub repository: &'a str,
    pub root: &'a str,
    pub options: serde_json::Value,
    pub grammar_versions: serde_json::Value,
}

impl Store {
    /// Creates the run row, `running`, and the lease that says so for as
    /// long as this process lives. Only one run of a repository goes at a
    /// time, across processes and machines: while another holds it, this
    /// fails with [`StoreError::RepositoryBusy`] naming that run.
    pub async fn start_run(&self, run: NewRun<'_>) -> Result<RunLease, StoreError> {
        let mut connection = self.pool().acquire().await?.detach();
        let repository = storable(run.repository);
        let free: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(repository_lock(&repository))
            .fetch_one(&mut connection)
            .await?;
        if !free {
            let _ = connection.close().await;
            return Err(StoreError::RepositoryBusy {
                repository: repository.into_owned(),
                running: self.lock_holder(run.repository).await?,
            });
        }
        // The row and the run's lock become visible together: nobody can see
        // the run `running` without its lock held. On any error the
        // connection is dropped, and the repository's lock with it.
        let mut tx = connection.begin().await?;
        let run_id: i64 = sqlx::query_scalar(
            "INSERT INTO index_runs (repository, root, options, tool_version, grammar_versions, host, pid) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING run_id",
        )
        .bind(repository.as_ref())
        .bind(storable(run.root).as_ref())
        .bind(&run.options)
        .bind(env!("CARGO_PKG_VERSION"))
        .bind(&run.grammar_versions)
        .bind(host_name())
        .bind(std::process::id() as i32)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(&format!("SELECT pg_advisory_lock({})", run_lock("$1")))
            .bind(run_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(RunLease { run_id, connection })
    }

    /// The run going on in a repository, if any.
    pub async fn running_run(&self, repository: &str) -> Result<Option<RunningRun>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT run_id, started_at, host, pid FROM index_runs \
             WHERE repository = $1 AND status = 'running' ORDER BY run_id DESC LIMIT 1",
        )
        .bind(storable(repository).as_ref())
        .fetch_optional(self.pool())
        .await?)
    }

    /// The run holding a repository's lock. Its holder takes the lock a
    /// moment before its row is committed, so a run that is just starting
    /// is looked for a few times before giving up on naming it.
    async fn lock_holder(&self, repository: &str) -> Result<Option<RunningRun>, StoreError> {
        for attempt in 0..5 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            if let Some(running) = self.running_run(repository).await? {
                return Ok(Some(running));
            }
        }
        Ok(None)
    }

    /// Marks as `failed` the runs left `running` by a snag that ended without
    /// finishing them (killed, crashed, or cut off from the database): their
    /// lease is free. What they stored is kept. Returns how many there were.
    pub async fn fail_abandoned_runs(&self) -> Result<u64, StoreError> {
        let result = sqlx::query(&format!(
            "UPDATE index_runs SET status = 'failed', finished_at = now(), status_message = \
               'abandoned: the snag running it ended without finishing it (killed, crashed or cut off \
               from the database); the files stored before are kept' \
             WHERE status = 'running' AND pg_try_advisory_xact_lock({})",
            run_lock("run_id")
        ))
        .execute(self.pool())
        .await?;
        Ok(result.rows_affected())
    }

    pub async fn get_run(&self, run_id: i64) -> Result<Option<RunRecord>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {RUN_COLUMNS} FROM index_runs WHERE run_id = $1"
        ))
        .bind(run_id)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Runs, newest first, optionally of one repository.
    pub async fn list_runs(
        &self,
        repository: Option<&str>,
        limit: i64,
    ) -> Result<Vec<RunRecord>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {RUN_COLUMNS} FROM index_runs WHERE ($1::text IS NULL OR repository = $1) \
             ORDER BY started_at DESC, run_id DESC LIMIT $2"
        ))
        .bind(repository)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// Every repository that has a run, by name.
    pub async fn repositories(&self) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT DISTINCT repository FROM index_runs ORDER BY repository")
                .fetch_all(self.pool())
                .await?,
        )
    }

    /// The newest run of a repository.
    pub async fn latest_run(&self, repository: &str) -> Result<Option<RunRecord>, StoreError> {
        Ok(self
            .list_runs(Some(repository), 1)
            .await?
            .into_iter()
            .next())
    }

    /// The directory each run's files lie under, as a client of the
    /// original service named it: the directory given to the start
    /// endpoint, or the run's root for runs started otherwise.
    pub async fn run_directories(
        &self,
        run_ids: &[i64],
    ) -> Result<BTreeMap<i64, String>, StoreError> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT run_id, COALESCE(options->>'directory', root) FROM index_runs \
             WHERE run_id = ANY($1)",
        )
        .bind(run_ids)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// The run of the same repository that started just before `run_id`.
    pub async fn previous_run(
        &self,
        repository: &str,
        run_id: i64,
    ) -> Result<Option<RunRecord>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {RUN_COLUMNS} FROM index_runs WHERE repository = $1 AND run_id < $2 \
             ORDER BY run_id DESC LIMIT 1"
        ))
        .bind(repository)
        .bind(run_id)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Error counts of one run by type, as the run stored them (from its
    /// groups: one error per file and type, each counted by its own group).
    pub async fn run_error_counts(
        &self,
        run_id: i64,
    ) -> Result<BTreeMap<ErrorType, i64>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT error_type, sum(errors)::bigint FROM run_groups WHERE run_id = $1 GROUP BY error_type",
        )
        .bind(run_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(name, n)| Some((name.parse().ok()?, n)))
            .collect())
    }
}

/// This machine's name, to say where a run is going.
fn host_name() -> Option<String> {
    let mut buffer = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most
    // that many bytes.
    let status = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    if status != 0 {
        return None;
    }
    let end = buffer.iter().position(|b| *b == 0).unwrap_or(buffer.len());
    Some(String::from_utf8_lossy(&buffer[..end]).into_owned()).filter(|h| !h.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(status: RunStatus, started_at: DateTime<Utc>) -> RunRecord {
        RunRecord {
            files_total: 40,
            files_discovered: Some(100),
            files_indexed: 35,
            files_partial: 2,
            files_failed: 2,
            files_skipped: 1,
            files_reused: 0,
            errors_total: 4,
            chunks_total: 400,
            bytes_total: 2_000_000,
            started_at,
            ..RunRecord::example(status)
        }
    }

    #[test]
    fn a_running_runs_row_gives_its_progress_and_eta() {
        let now = DateTime::UNIX_EPOCH + chrono::Duration::seconds(1_000);
        let f = run(RunStatus::Running, now - chrono::Duration::seconds(10)).figures(now);
        assert_eq!((f.done, f.total), (40, Some(100)));
        assert_eq!((f.indexed, f.partial, f.failed, f.skipped), (35, 2, 2, 1));
        assert_eq!((f.errors, f.chunks, f.bytes), (4, 400, 2_000_000));
        assert_eq!(f.elapsed, Duration::from_secs(10));
        assert_eq!(f.fraction(), Some(0.4));
        // 40 files in 10 s: 60 left at 4 files/s.
        assert_eq!(f.eta(), Some(Duration::from_secs(15)));
        let walking = RunRecord {
            files_discovered: None,
            files_total: 0,
            ..run(RunStatus::Running, now)
        };
        assert_eq!(walking.figures(now).total, None);
        assert_eq!(walking.figures(now).eta(), None);
    }

    #[test]
    fn an_ended_runs_row_gives_its_final_figures() {
        let started = DateTime::UNIX_EPOCH;
        let ended = RunRecord {
            finished_at: Some(started + chrono::Duration::milliseconds(3_200)),
            ..run(RunStatus::Cancelled, started)
        };
        let f = ended.figures(started + chrono::Duration::days(1));
        assert_eq!(f.status, RunStatus::Cancelled);
        assert_eq!(f.elapsed, Duration::from_millis(3_200));
        assert_eq!(f.eta(), None);
        // A clock behind the database's never makes time negative.
        let running = run(RunStatus::Running, started + chrono::Duration::seconds(5));
        assert_eq!(running.figures(started).elapsed, Duration::ZERO);
    }
}
