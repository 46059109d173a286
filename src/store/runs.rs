//! Runs: their rows, and storing what the engine reports about each file.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{Connection, PgConnection, Postgres, Transaction};

use super::chunk_rows::{COPY_CHUNKS, ChunkRows};
use super::errors::{NewError, log_errors_in};
use super::text::storable;
use super::{Store, StoreError};
use crate::index::fingerprint::fingerprint;
use crate::index::outcome::{ErrorType, FailureKind, Outcome};
use crate::index::process::FileReport;
use crate::index::progress::RunStatus;

/// A run as stored.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RunRecord {
    pub run_id: i64,
    pub repository: String,
    pub root: String,
    #[sqlx(try_from = "String")]
    pub status: RunStatus,
    pub status_message: Option<String>,
    pub files_total: i32,
    pub files_indexed: i32,
    pub files_partial: i32,
    pub files_failed: i32,
    pub files_skipped: i32,
    pub errors_total: i32,
    pub chunks_total: i64,
    pub bytes_total: i64,
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub tool_version: String,
    #[schema(value_type = Object)]
    pub grammar_versions: serde_json::Value,
}

const RUN_COLUMNS: &str = "run_id, repository, root, status, status_message, files_total, files_indexed, \
     files_partial, files_failed, files_skipped, errors_total, chunks_total, bytes_total, options, started_at, \
     finished_at, tool_version, grammar_versions";

/// The arguments of a run lease's advisory lock for the run id expression
/// `id`: the class "snag" in ASCII, then the id as a 32-bit key.
fn run_lock(id: &str) -> String {
    format!("{}, ({id} % 2147483648)::int", 0x736e_6167)
}

/// Says a run is going: a session advisory lock on its id, held on a
/// connection of its own. PostgreSQL releases it when that connection ends,
/// however the process ends, so a `running` run whose lock is free was
/// abandoned.
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

/// Whether a failed write is worth retrying file by file, or the database
/// itself is gone.
pub fn is_connection_error(error: &StoreError) -> bool {
    match error {
        StoreError::Query(e) => {
            matches!(
                e,
                sqlx::Error::Io(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::WorkerCrashed
                    | sqlx::Error::Tls(_)
                    | sqlx::Error::Protocol(_)
            ) || matches!(e, sqlx::Error::Database(db) if db.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P")))
        }
        StoreError::Connect { .. } => true,
        _ => false,
    }
}

impl Store {
    /// Creates the run row, `running`, and the lease that says so for as
    /// long as this process lives.
    pub async fn start_run(&self, run: NewRun<'_>) -> Result<RunLease, StoreError> {
        let mut connection = self.pool().acquire().await?.detach();
        // The row and the lock become visible together: nobody can see the
        // run `running` without its lock held.
        let mut tx = connection.begin().await?;
        let run_id: i64 = sqlx::query_scalar(
            "INSERT INTO index_runs (repository, root, options, tool_version, grammar_versions) \
             VALUES ($1, $2, $3, $4, $5) RETURNING run_id",
        )
        .bind(storable(run.repository).as_ref())
        .bind(storable(run.root).as_ref())
        .bind(&run.options)
        .bind(env!("CARGO_PKG_VERSION"))
        .bind(&run.grammar_versions)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(&format!("SELECT pg_advisory_lock({})", run_lock("$1")))
            .bind(run_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(RunLease { run_id, connection })
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

    /// Stores a batch of file reports in one transaction: their outcome rows,
    /// their chunks (replacing the file's previous ones) and their errors
    /// (replacing the file's previous ones in this repository).
    pub async fn write_reports(
        &self,
        run_id: i64,
        repository: &str,
        reports: &[&FileReport],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        write_reports_in(&mut tx, run_id, repository, reports).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records that a file's results could not be stored: the file is
    /// `failed` with a `persistence_error` saying why.
    pub async fn write_persistence_failure(
        &self,
        run_id: i64,
        repository: &str,
        report: &FileReport,
        cause: &StoreError,
    ) -> Result<FileReport, StoreError> {
        let mut failed = FileReport {
            chunks: Vec::new(),
            errors: Vec::new(),
            outcome: Outcome::Failed,
            skip_reason: None,
            ..report.clone()
        };
        failed.errors.push(crate::index::outcome::FileError::new(
            ErrorType::PersistenceError,
            "store",
            format!("cannot store this file's results: {cause}"),
        ));
        self.write_reports(run_id, repository, &[&failed]).await?;
        Ok(failed)
    }

    /// Ends a run: counts from what was stored, error groups updated, and,
    /// for a completed run, chunks and errors of files that are gone removed.
    pub async fn finish_run(
        &self,
        run_id: i64,
        repository: &str,
        status: RunStatus,
        message: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        update_groups(&mut tx, run_id, repository, status == RunStatus::Completed).await?;
        if status == RunStatus::Completed {
            prune_vanished_files(&mut tx, run_id, repository).await?;
        }
        sqlx::query(
            "UPDATE index_runs r SET status = $2, status_message = $3, finished_at = now(), \
               files_total = c.total, files_indexed = c.indexed, files_partial = c.partial, \
               files_failed = c.failed, files_skipped = c.skipped, chunks_total = c.chunks, \
               bytes_total = c.bytes, errors_total = (SELECT count(*) FROM indexing_errors e WHERE e.run_id = $1) \
             FROM (SELECT count(*) AS total, \
                     count(*) FILTER (WHERE outcome = 'indexed') AS indexed, \
                     count(*) FILTER (WHERE outcome = 'partial') AS partial, \
                     count(*) FILTER (WHERE outcome = 'failed') AS failed, \
                     count(*) FILTER (WHERE outcome = 'skipped') AS skipped, \
                     COALESCE(sum(chunks), 0) AS chunks, COALESCE(sum(bytes), 0) AS bytes \
                   FROM indexed_files WHERE run_id = $1) c \
             WHERE r.run_id = $1",
        )
        .bind(run_id)
        .bind(status.as_str())
        .bind(message.map(|m| storable(m).into_owned()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
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

    /// The newest run of a repository.
    pub async fn latest_run(&self, repository: &str) -> Result<Option<RunRecord>, StoreError> {
        Ok(self
            .list_runs(Some(repository), 1)
            .await?
            .into_iter()
            .next())
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

    /// Error counts of one run by type.
    pub async fn run_error_counts(
        &self,
        run_id: i64,
    ) -> Result<BTreeMap<ErrorType, i64>, StoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT error_type, count(*) FROM indexing_errors WHERE run_id = $1 GROUP BY error_type")
                .bind(run_id)
                .fetch_all(self.pool())
                .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(name, n)| Some((name.parse().ok()?, n)))
            .collect())
    }
}

/// Removes the chunks and errors of files a completed run did not see: they
/// are gone from the repository. Found per path (an index-only scan), not
/// per row.
async fn prune_vanished_files(
    tx: &mut Transaction<'_, Postgres>,
    run_id: i64,
    repository: &str,
) -> Result<(), StoreError> {
    let gone: Vec<String> = sqlx::query_scalar(
        "(SELECT DISTINCT file_path FROM code_chunks WHERE repository = $1 \
          UNION SELECT DISTINCT file_path FROM indexing_errors WHERE repository = $1) \
         EXCEPT SELECT file_path FROM indexed_files WHERE run_id = $2",
    )
    .bind(repository)
    .bind(run_id)
    .fetch_all(&mut **tx)
    .await?;
    if !gone.is_empty() {
        delete_files(tx, repository, &gone).await?;
    }
    Ok(())
}

/// Deletes the chunks and errors of these files of a repository.
async fn delete_files(
    tx: &mut Transaction<'_, Postgres>,
    repository: &str,
    paths: &[String],
) -> Result<(), StoreError> {
    prefer_index_lookups(tx).await?;
    delete_rows(tx, "code_chunks", repository, paths).await?;
    delete_rows(tx, "indexing_errors", repository, paths).await
}

/// A repository the statistics have not seen yet (a first run, or one since
/// the last ANALYZE) looks like a single row to the planner, which then reads
/// every row of the repository and filters the paths, once per batch. The
/// generic plan looks each path up in the index.
async fn prefer_index_lookups(tx: &mut Transaction<'_, Postgres>) -> Result<(), StoreError> {
    sqlx::query("SET LOCAL plan_cache_mode = force_generic_plan")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn delete_rows(
    tx: &mut Transaction<'_, Postgres>,
    table: &str,
    repository: &str,
    paths: &[String],
) -> Result<(), StoreError> {
    if !paths.is_empty() {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE repository = $1 AND file_path = ANY($2)"
        ))
        .bind(repository)
        .bind(paths)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The files of a batch whose stored chunks are all cut from the same text
/// by the same snag (equal source keys, same count): rewriting them would
/// store identical rows, so they are left in place.
async fn unchanged_files(
    tx: &mut Transaction<'_, Postgres>,
    repository: &str,
    reports: &[&FileReport],
    paths: &[String],
) -> Result<HashSet<String>, StoreError> {
    let (mut candidates, mut keys, mut counts) = (Vec::new(), Vec::new(), Vec::new());
    for (report, path) in reports.iter().zip(paths) {
        if let Some(key) = report.source_key.filter(|_| !report.chunks.is_empty()) {
            candidates.push(path.as_str());
            keys.push(key);
            counts.push(report.chunks.len() as i64);
        }
    }
    if candidates.is_empty() {
        return Ok(HashSet::new());
    }
    let unchanged: Vec<String> = sqlx::query_scalar(
        "SELECT p.path FROM UNNEST($2::text[], $3::bigint[], $4::bigint[]) AS p(path, key, n) \
         WHERE (SELECT count(*) = p.n AND bool_and(c.source_key IS NOT DISTINCT FROM p.key) \
                FROM code_chunks c WHERE c.repository = $1 AND c.file_path = p.path)",
    )
    .bind(repository)
    .bind(&candidates)
    .bind(&keys)
    .bind(&counts)
    .fetch_all(&mut **tx)
    .await?;
    Ok(unchanged.into_iter().collect())
}

async fn write_reports_in(
    tx: &mut Transaction<'_, Postgres>,
    run_id: i64,
    repository: &str,
    reports: &[&FileReport],
) -> Result<(), StoreError> {
    let paths: Vec<String> = reports
        .iter()
        .map(|r| storable(&r.rel_path).into_owned())
        .collect();
    prefer_index_lookups(tx).await?;
    let unchanged = unchanged_files(tx, repository, reports, &paths).await?;
    let changed: Vec<String> = paths
        .iter()
        .filter(|p| !unchanged.contains(*p))
        .cloned()
        .collect();
    delete_rows(tx, "code_chunks", repository, &changed).await?;
    delete_rows(tx, "indexing_errors", repository, &paths).await?;

    let mut errors = Vec::new();
    let mut files = FileColumns::default();
    let mut chunks = ChunkRows::default();
    for (report, path) in reports.iter().zip(&paths) {
        let mut first_error: Option<(ErrorType, String)> = None;
        for error in &report.errors {
            let group = fingerprint(error);
            first_error.get_or_insert((error.error_type, group.id.clone()));
            errors.push(new_error(run_id, repository, report, error, group));
        }
        files.push(report, first_error);
        if !unchanged.contains(path) {
            for chunk in &report.chunks {
                chunks.push(repository, path, run_id, report, chunk);
            }
        }
    }

    sqlx::query(
        "INSERT INTO indexed_files (run_id, file_path, outcome, skip_reason, language, bytes, chunks, \
           duration_us, error_type, fingerprint, failure_kind) \
         SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::int[], \
           $8::bigint[], $9::text[], $10::text[], $11::text[])",
    )
    .bind(run_id)
    .bind(&paths)
    .bind(&files.outcome)
    .bind(&files.skip_reason)
    .bind(&files.language)
    .bind(&files.bytes)
    .bind(&files.chunks)
    .bind(&files.duration_us)
    .bind(&files.error_type)
    .bind(&files.fingerprint)
    .bind(&files.failure_kind)
    .execute(&mut **tx)
    .await?;

    if !chunks.is_empty() {
        let mut copy = tx.copy_in_raw(COPY_CHUNKS).await?;
        copy.send(chunks.finish()).await?;
        copy.finish().await?;
    }

    log_errors_in(&mut **tx, &errors).await?;
    Ok(())
}

fn new_error(
    run_id: i64,
    repository: &str,
    report: &FileReport,
    error: &crate::index::outcome::FileError,
    group: crate::index::fingerprint::Fingerprint,
) -> NewError {
    let mut details = error.details.clone();
    if let serde_json::Value::Object(map) = &mut details {
        map.insert("title".into(), group.title.into());
        map.insert("construct".into(), error.construct.clone().into());
        if let Some(verdict) = &error.verdict {
            map.insert("verdict".into(), verdict.verdict.as_str().into());
            map.insert(
                "reference".into(),
                serde_json::to_value(&verdict.reference).unwrap_or_default(),
            );
        }
    }
    NewError {
        error_traceback: error.traceback.clone(),
        chunk_type: error.chunk_type.clone(),
        language: report.language.map(|l| l.as_str().to_owned()),
        run_id: Some(run_id),
        line: error.span.map(|s| s.line as i32),
        column: error.span.map(|s| s.column as i32),
        end_line: error.span.map(|s| s.end_line as i32),
        end_column: error.span.map(|s| s.end_column as i32),
        fingerprint: Some(group.id),
        details,
        verdict: error.verdict.as_ref().map(|v| v.verdict),
        ..NewError::new(
            repository,
            report.rel_path.clone(),
            error.error_type,
            error.message.clone(),
        )
    }
}

#[derive(Default)]
struct FileColumns {
    outcome: Vec<&'static str>,
    skip_reason: Vec<Option<&'static str>>,
    language: Vec<Option<&'static str>>,
    bytes: Vec<i64>,
    chunks: Vec<i32>,
    duration_us: Vec<i64>,
    error_type: Vec<Option<&'static str>>,
    fingerprint: Vec<Option<String>>,
    failure_kind: Vec<Option<&'static str>>,
}

impl FileColumns {
    fn push(&mut self, report: &FileReport, first_error: Option<(ErrorType, String)>) {
        self.outcome.push(report.outcome.as_str());
        self.skip_reason
            .push(report.skip_reason.map(|r| r.as_str()));
        self.language.push(report.language.map(|l| l.as_str()));
        self.bytes.push(report.bytes as i64);
        self.chunks.push(report.chunks.len() as i32);
        self.duration_us.push(report.duration.as_micros() as i64);
        let (error_type, fingerprint) = first_error.unzip();
        self.error_type.push(error_type.map(ErrorType::as_str));
        self.fingerprint.push(fingerprint);
        self.failure_kind
            .push(FailureKind::of(&report.errors).map(FailureKind::as_str));
    }
}

/// Folds the run's errors into their groups. A resolved group seen again
/// is `regressed`.
async fn update_groups(
    tx: &mut Transaction<'_, Postgres>,
    run_id: i64,
    repository: &str,
    completed: bool,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO error_groups (repository, fingerprint, error_type, title, first_seen_run, first_seen_at, \
           last_seen_run, last_seen_at, occurrences, last_run_files) \
         SELECT $2, fingerprint, min(error_type), min(details->>'title'), $1, min(occurred_at), $1, \
           max(occurred_at), count(*), count(DISTINCT file_path) \
         FROM indexing_errors WHERE run_id = $1 AND fingerprint IS NOT NULL GROUP BY fingerprint \
         ON CONFLICT (repository, fingerprint) DO UPDATE SET \
           last_seen_run = EXCLUDED.last_seen_run, last_seen_at = EXCLUDED.last_seen_at, \
           occurrences = error_groups.occurrences + EXCLUDED.occurrences, \
           last_run_files = EXCLUDED.last_run_files, \
           status = CASE WHEN error_groups.status = 'resolved' THEN 'regressed' ELSE error_groups.status END",
    )
    .bind(run_id)
    .bind(repository)
    .execute(&mut **tx)
    .await?;
    if completed {
        // Groups this complete run did not see no longer affect any file.
        sqlx::query(
            "UPDATE error_groups SET last_run_files = 0 \
             WHERE repository = $1 AND last_seen_run IS DISTINCT FROM $2",
        )
        .bind(repository)
        .bind(run_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
