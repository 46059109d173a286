//! The write path: storing what the engine reports, batch by batch, and
//! folding a run's results together when it ends.
//!
//! A file's result is valid over a range of runs (see the history
//! migration): a file parsed again retires its previous result and moves
//! its errors to the history; a file whose stored result holds keeps it,
//! and nothing is written for it but its share of the run's counts.
//!
//! Storing a file costs the same however much the store already holds:
//! every statement below finds its rows through an index that matches it
//! (`tests/write_plans.rs` explains each one against a full store), and what
//! the end of a run needs (counts, groups) is kept up to date batch by batch
//! instead of being recomputed from all of its rows. The files gone are
//! found at a completed run's end, from the repository's current results
//! and the files the run kept. The engine's threads have already computed
//! every fingerprint and detail; this module only writes.

use std::collections::{HashMap, HashSet};

use sqlx::postgres::PgArguments;
use sqlx::query::{Query, QueryScalar};
use sqlx::{Connection, PgConnection, Postgres, Transaction};

use super::chunk_rows::{COPY_CHUNKS, ChunkRows};
use super::errors::{NewError, log_errors_in};
use super::text::storable;
use super::{Store, StoreError};
use crate::index::discover::PassedOver;
use crate::index::outcome::{ErrorType, FailureKind, FileError, Outcome};
use crate::index::process::FileReport;
use crate::index::progress::{FileTally, RunStatus};
use crate::index::reuse::{StoredResult, StoredResults};
use crate::index::syntax::ParseHealth;

/// The files of a batch whose stored chunks all carry the key the file has
/// now, in the same number: rewriting them would store identical rows.
pub const UNCHANGED_FILES: &str = "SELECT p.path FROM UNNEST($2::text[], $3::bigint[], $4::bigint[]) AS p(path, key, n) \
     WHERE (SELECT count(*) = p.n AND bool_and(c.source_key IS NOT DISTINCT FROM p.key) \
            FROM code_chunks c WHERE c.repository = $1 AND c.file_path = p.path)";

/// The rows of `$table` of repository `$1` whose path is in `$2`, by ctid.
///
/// Each path is looked up on its own (a lateral subquery the planner may
/// not flatten), so its equality on `(repository, file_path)` is always an
/// index condition. Written as `file_path = ANY($2)`, a planner that
/// thinks the repository small (a new repository, a store never analyzed)
/// reads every row of the repository and filters the paths instead, once
/// per batch: a run's cost then grows with the square of its files.
macro_rules! rows_by_path {
    ($table:literal) => {
        rows_by_path!($table, "")
    };
    ($table:literal, $condition:literal) => {
        concat!(
            "ctid = ANY(ARRAY(SELECT r.ctid FROM UNNEST($2::text[]) AS p(path), \
             LATERAL (SELECT ctid FROM ",
            $table,
            " WHERE repository = $1 AND file_path = p.path",
            $condition,
            " OFFSET 0) AS r))"
        )
    };
}

/// Every column of `indexing_errors`, as the history repeats them.
macro_rules! error_columns {
    () => {
        "error_id, repository, file_path, error_type, error_message, error_traceback, chunk_type, \
         language, occurred_at, run_id, line, \"column\", end_line, end_column, fingerprint, details, \
         verdict, problem_groups"
    };
}

/// A file's previous chunks, before its new ones are stored.
pub const DELETE_CHUNKS: &str = concat!(
    "DELETE FROM code_chunks WHERE ",
    rows_by_path!("code_chunks")
);

/// A file's errors, replaced by its new result (or gone with the file):
/// kept in the history, valid until run `$3`, for the runs that saw them.
/// Errors recorded outside a run belong to no run's history.
pub const RETIRE_ERRORS: &str = concat!(
    "WITH retired AS (DELETE FROM indexing_errors WHERE ",
    rows_by_path!("indexing_errors"),
    " RETURNING *) INSERT INTO indexing_errors_history (",
    error_columns!(),
    ", until_run) SELECT ",
    error_columns!(),
    ", $3 FROM retired WHERE run_id < $3"
);

/// A file's current result, replaced by its new one (or gone with the
/// file): valid until run `$3`.
pub const RETIRE_FILES: &str = concat!(
    "UPDATE indexed_files SET until_run = $3 WHERE ",
    rows_by_path!("indexed_files", " AND until_run IS NULL")
);

/// One result row per file parsed: the file's current result from this run on.
pub const INSERT_FILES: &str = "INSERT INTO indexed_files (run_id, repository, file_path, outcome, skip_reason, \
       language, bytes, chunks, duration_us, error_type, fingerprint, failure_kind, result_key, \
       error_bytes, missing_nodes) \
     SELECT $1, $13, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::int[], \
       $8::bigint[], $9::text[], $10::text[], $11::text[], $12::bigint[], $14::bigint[], $15::int[])";

/// The current result of every file of a repository: what an incremental
/// run compares files with, and what a kept file adds to the run's counts.
pub const STORED_RESULTS: &str = "SELECT file_path, result_key, outcome, chunks, \
       error_type IS NOT NULL AS failing, failure_kind, error_bytes, missing_nodes \
     FROM indexed_files WHERE repository = $1 AND until_run IS NULL";

/// The errors of files whose results are kept, for the run's groups.
pub const KEPT_ERRORS: &str = concat!(
    "SELECT e.* FROM UNNEST($2::text[]) AS p(path), LATERAL (SELECT ",
    error_columns!(),
    " FROM indexing_errors WHERE repository = $1 AND file_path = p.path OFFSET 0) AS e"
);

/// The batch's errors added to the run's groups: files per problem group,
/// and errors per group they are known by.
pub const ADD_RUN_GROUPS: &str = "INSERT INTO run_groups AS g (run_id, fingerprint, error_type, title, files, errors, \
       example_path, example_line) \
     SELECT $1, fingerprint, min(error_type), min(title), count(*), count(*) FILTER (WHERE is_primary), \
       min(file_path), (array_agg(line ORDER BY file_path))[1] \
     FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::bool[]) \
       AS e(fingerprint, error_type, title, file_path, line, is_primary) \
     GROUP BY fingerprint \
     ON CONFLICT (run_id, fingerprint) DO UPDATE SET files = g.files + EXCLUDED.files, \
       errors = g.errors + EXCLUDED.errors, last_at = now(), \
       example_line = CASE WHEN EXCLUDED.example_path < g.example_path \
         THEN EXCLUDED.example_line ELSE g.example_line END, \
       example_path = LEAST(g.example_path, EXCLUDED.example_path)";

/// The batch added to the run's counts, which therefore are live for every
/// process that reads the run, and exact for a run that never finishes.
pub const COUNT_BATCH: &str = "UPDATE index_runs SET files_total = files_total + $2, files_indexed = files_indexed + $3, \
       files_partial = files_partial + $4, files_failed = files_failed + $5, \
       files_skipped = files_skipped + $6, errors_total = errors_total + $7, \
       chunks_total = chunks_total + $8, bytes_total = bytes_total + $9, \
       files_reused = files_reused + $10, parsed_bytes = parsed_bytes + $11, \
       error_bytes = error_bytes + $12, missing_nodes = missing_nodes + $13 \
     WHERE run_id = $1";

/// The number of files discovery found, once its walk is over: with the
/// counts, what another process needs to show the run's progress.
pub const RECORD_DISCOVERY: &str =
    "UPDATE index_runs SET files_discovered = $2, passed_over = $3 WHERE run_id = $1";

/// The run's groups folded into the repository's. A resolved group seen
/// again is `regressed`.
pub const FOLD_GROUPS: &str = "INSERT INTO error_groups (repository, fingerprint, error_type, title, first_seen_run, \
       first_seen_at, last_seen_run, last_seen_at, occurrences, last_run_files) \
     SELECT $2, fingerprint, error_type, title, $1, first_at, $1, last_at, files, files \
     FROM run_groups WHERE run_id = $1 \
     ON CONFLICT (repository, fingerprint) DO UPDATE SET \
       last_seen_run = EXCLUDED.last_seen_run, last_seen_at = EXCLUDED.last_seen_at, \
       occurrences = error_groups.occurrences + EXCLUDED.occurrences, \
       last_run_files = EXCLUDED.last_run_files, \
       status = CASE WHEN error_groups.status = 'resolved' THEN 'regressed' ELSE error_groups.status END";

/// After a complete run: the groups it did not see affect no file now.
pub const QUIET_GROUPS: &str = "UPDATE error_groups SET last_run_files = 0 \
     WHERE repository = $1 AND last_run_files > 0 AND last_seen_run < $2";

/// After a complete run: a page of the repository's current results in
/// path order after `$2`, with the runs that stored them (those an earlier
/// run stored are the files this one kept, and those gone).
pub const CURRENT_FILES: &str = "SELECT run_id, file_path FROM indexed_files \
     WHERE repository = $1 AND file_path > $2 AND until_run IS NULL \
     ORDER BY file_path LIMIT $3";

/// The run's end.
pub const END_RUN: &str = "UPDATE index_runs SET status = $2, status_message = $3, finished_at = now() \
     WHERE run_id = $1";

/// Every statement of the write path, for checking their plans, but the
/// COPY of chunks, which only adds rows.
pub const WRITE_PATH: &[&str] = &[
    UNCHANGED_FILES,
    STORED_RESULTS,
    KEPT_ERRORS,
    DELETE_CHUNKS,
    RETIRE_ERRORS,
    RETIRE_FILES,
    INSERT_FILES,
    super::errors::INSERT_ERRORS,
    ADD_RUN_GROUPS,
    COUNT_BATCH,
    RECORD_DISCOVERY,
    FOLD_GROUPS,
    QUIET_GROUPS,
    CURRENT_FILES,
    END_RUN,
];

/// Current results are read this many at a time at a run's end, so memory
/// does not grow with the repository.
const CURRENT_PER_STEP: i64 = 1000;

/// A connection of a run's own for storing its batches. When the database
/// goes away, the next write fails at once; through the pool it would wait
/// for the pool to give up reconnecting (its whole acquire timeout).
pub struct WriteConnection {
    connection: PgConnection,
}

impl WriteConnection {
    /// [`Store::write_reports`] on this connection.
    pub async fn write_reports(
        &mut self,
        run_id: i64,
        repository: &str,
        reports: &[&FileReport],
    ) -> Result<Vec<FileTally>, StoreError> {
        let mut tx = self.connection.begin().await?;
        let tallies = write_reports_in(&mut tx, run_id, repository, reports).await?;
        tx.commit().await?;
        Ok(tallies)
    }

    /// Records how many files the run's discovery found, and what it left
    /// out.
    pub async fn record_discovery(
        &mut self,
        run_id: i64,
        files: u64,
        passed_over: PassedOver,
    ) -> Result<(), StoreError> {
        planned_now(RECORD_DISCOVERY)
            .bind(run_id)
            .bind(i32::try_from(files).unwrap_or(i32::MAX))
            .bind(sqlx::types::Json(passed_over))
            .execute(&mut self.connection)
            .await?;
        Ok(())
    }

    /// [`Store::write_persistence_failure`] on this connection.
    pub async fn write_persistence_failure(
        &mut self,
        run_id: i64,
        repository: &str,
        report: &FileReport,
        cause: &StoreError,
    ) -> Result<FileReport, StoreError> {
        let failed = report.persistence_failure(&cause.to_string());
        self.write_reports(run_id, repository, &[&failed]).await?;
        Ok(failed)
    }

    pub async fn close(self) {
        let _ = self.connection.close().await;
    }
}

impl Store {
    /// A connection for a run's writes (see [`WriteConnection`]).
    pub async fn write_connection(&self) -> Result<WriteConnection, StoreError> {
        Ok(WriteConnection {
            connection: self.pool().acquire().await?.detach(),
        })
    }

    /// Stores a batch of file reports in one transaction: their results
    /// (retiring the file's previous ones), their chunks (replacing the
    /// file's previous ones), their errors (moving the file's previous ones
    /// to the history), the run's groups and counts; a file whose stored
    /// result holds keeps it, and is only counted.
    /// Gives what each file adds to the run's progress.
    pub async fn write_reports(
        &self,
        run_id: i64,
        repository: &str,
        reports: &[&FileReport],
    ) -> Result<Vec<FileTally>, StoreError> {
        let mut tx = self.pool().begin().await?;
        let tallies = write_reports_in(&mut tx, run_id, repository, reports).await?;
        tx.commit().await?;
        Ok(tallies)
    }

    /// The current result of every file of `repository` that may be kept:
    /// what an incremental run compares files with.
    pub async fn stored_results(&self, repository: &str) -> Result<StoredResults, StoreError> {
        let mut tx = self.pool().begin().await?;
        prefer_index_lookups(&mut tx).await?;
        let rows: Vec<StoredRow> = sqlx::query_as(STORED_RESULTS)
            .persistent(false)
            .bind(storable(repository).as_ref())
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        // A result without a key is never kept.
        let results = rows.into_iter().filter_map(|row| {
            let result = StoredResult {
                key: row.result_key?,
                outcome: row.outcome,
                chunks: row.chunks.max(0) as u64,
                failing: row.failing,
                failure_kind: row.failure_kind,
                health: row.health(),
            };
            Some((row.file_path, result))
        });
        Ok(StoredResults::new(results.collect()))
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
        let failed = report.persistence_failure(&cause.to_string());
        self.write_reports(run_id, repository, &[&failed]).await?;
        Ok(failed)
    }

    /// Marks a run as ended and nothing else: one short statement, for a
    /// run whose writing failed (its groups stay in `run_groups`, unfolded,
    /// as an abandoned run's do).
    pub async fn mark_run_ended(
        &self,
        run_id: i64,
        status: RunStatus,
        message: Option<&str>,
    ) -> Result<(), StoreError> {
        planned_now(END_RUN)
            .bind(run_id)
            .bind(status.as_str())
            .bind(message.map(|m| storable(m).into_owned()))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Ends a run: its groups folded into the repository's and, for a
    /// completed run, the files that are gone retired (their chunks
    /// removed, their results and errors kept for the runs that saw them).
    /// `kept` are the stored paths of the files whose results the run kept:
    /// with those it stored, the files it saw. Reads the run's groups and
    /// the files it did not store only.
    pub async fn finish_run(
        &self,
        run_id: i64,
        repository: &str,
        status: RunStatus,
        message: Option<&str>,
        kept: &HashSet<String>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        prefer_index_lookups(&mut tx).await?;
        planned_now(FOLD_GROUPS)
            .bind(run_id)
            .bind(repository)
            .execute(&mut *tx)
            .await?;
        if status == RunStatus::Completed {
            planned_now(QUIET_GROUPS)
                .bind(repository)
                .bind(run_id)
                .execute(&mut *tx)
                .await?;
            retire_gone_files(&mut tx, run_id, repository, kept).await?;
        }
        planned_now(END_RUN)
            .bind(run_id)
            .bind(status.as_str())
            .bind(message.map(|m| storable(m).into_owned()))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// How every write transaction plans its statements, so that each finds
/// its rows through its index whatever the statistics say. A repository the
/// statistics have not seen yet (a first run, or one before the next
/// ANALYZE) looks like a single row, and a table holding few runs or
/// repositories makes `run_id = $1` look like half the table: either way the
/// planner would read every row and filter, once per batch. The generic plan
/// does not guess from the values, and without sequential scans a matching
/// index is always taken.
pub const PLAN_SETTINGS: &str = "SELECT set_config('plan_cache_mode', 'force_generic_plan', true), \
     set_config('enable_seqscan', 'off', true)";

/// A write statement, planned when it runs rather than once per connection:
/// a plan made while a table was empty (a new database's first batch) reads
/// and filters rows by other indexes, which costs nothing then and grows
/// with every batch after.
fn planned_now<'q>(sql: &'q str) -> Query<'q, Postgres, PgArguments> {
    sqlx::query(sql).persistent(false)
}

fn planned_now_scalar<'q, T>(sql: &'q str) -> QueryScalar<'q, Postgres, T, PgArguments>
where
    (T,): for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    sqlx::query_scalar(sql).persistent(false)
}

async fn prefer_index_lookups(tx: &mut Transaction<'_, Postgres>) -> Result<(), StoreError> {
    sqlx::query(PLAN_SETTINGS).execute(&mut **tx).await?;
    Ok(())
}

/// Retires the files a completed run did not see: they are gone from the
/// repository.
async fn retire_gone_files(
    tx: &mut Transaction<'_, Postgres>,
    run_id: i64,
    repository: &str,
    kept: &HashSet<String>,
) -> Result<(), StoreError> {
    let mut after = String::new();
    loop {
        let current: Vec<(i64, String)> = sqlx::query_as(CURRENT_FILES)
            .persistent(false)
            .bind(repository)
            .bind(&after)
            .bind(CURRENT_PER_STEP)
            .fetch_all(&mut **tx)
            .await?;
        let Some((_, last)) = current.last() else {
            return Ok(());
        };
        after = last.clone();
        let gone: Vec<&String> = current
            .iter()
            .filter(|(stored_by, path)| *stored_by < run_id && !kept.contains(path))
            .map(|(_, path)| path)
            .collect();
        if !gone.is_empty() {
            retire(tx, run_id, repository, &gone, &gone).await?;
        }
    }
}

/// Retires the current results of `paths` as of this run: their errors
/// moved to the history and their results closed, both valid until this
/// run; the chunks of `chunked` deleted.
async fn retire(
    tx: &mut Transaction<'_, Postgres>,
    run_id: i64,
    repository: &str,
    paths: &[&String],
    chunked: &[&String],
) -> Result<(), StoreError> {
    if !chunked.is_empty() {
        planned_now(DELETE_CHUNKS)
            .bind(repository)
            .bind(chunked)
            .execute(&mut **tx)
            .await?;
    }
    for statement in [RETIRE_ERRORS, RETIRE_FILES] {
        planned_now(statement)
            .bind(repository)
            .bind(paths)
            .bind(run_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The files of a batch whose chunks can stay as they are.
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
    let unchanged: Vec<String> = planned_now_scalar(UNCHANGED_FILES)
        .bind(repository)
        .bind(&candidates)
        .bind(&keys)
        .bind(&counts)
        .fetch_all(&mut **tx)
        .await?;
    Ok(unchanged.into_iter().collect())
}

/// Stores a batch: the files whose stored results it keeps, then those
/// parsed. Gives what each file adds to the run's progress, in the batch's
/// order.
async fn write_reports_in(
    tx: &mut Transaction<'_, Postgres>,
    run_id: i64,
    repository: &str,
    reports: &[&FileReport],
) -> Result<Vec<FileTally>, StoreError> {
    prefer_index_lookups(tx).await?;
    let (kept, parsed): (Vec<&FileReport>, Vec<&FileReport>) =
        reports.iter().partition(|r| r.reused.is_some());
    let mut kept_tallies = keep_results(tx, run_id, repository, &kept).await?;
    if !parsed.is_empty() {
        write_parsed_in(tx, run_id, repository, &parsed).await?;
    }
    Ok(reports
        .iter()
        .map(|report| {
            kept_tallies
                .remove(report.rel_path.as_str())
                .unwrap_or_else(|| FileTally::of(report))
        })
        .collect())
}

/// A file's current result, as `STORED_RESULTS` reads it.
#[derive(sqlx::FromRow)]
struct StoredRow {
    file_path: String,
    result_key: Option<i64>,
    #[sqlx(try_from = "String")]
    outcome: Outcome,
    chunks: i32,
    failing: bool,
    #[sqlx(try_from = "crate::vocabulary::NullableWord")]
    failure_kind: Option<FailureKind>,
    error_bytes: Option<i64>,
    missing_nodes: Option<i32>,
}

impl StoredRow {
    fn health(&self) -> Option<ParseHealth> {
        Some(ParseHealth {
            error_bytes: self.error_bytes?.max(0) as u64,
            missing_nodes: self.missing_nodes?.max(0) as u64,
        })
    }
}

/// Counts the files whose stored results the run keeps: their results stay
/// as they are (valid for this run too), nothing is written per file. Their
/// errors are read, for the run's groups and counts. Gives each kept
/// file's tally by path.
async fn keep_results<'r>(
    tx: &mut Transaction<'_, Postgres>,
    run_id: i64,
    repository: &str,
    reports: &[&'r FileReport],
) -> Result<HashMap<&'r str, FileTally>, StoreError> {
    let mut tallies = HashMap::new();
    if reports.is_empty() {
        return Ok(tallies);
    }
    // Only files with errors have errors to read: most have none.
    let failing: Vec<String> = reports
        .iter()
        .filter(|r| r.reused.as_ref().is_some_and(|kept| kept.failing))
        .map(|r| storable(&r.rel_path).into_owned())
        .collect();
    let errors: Vec<NewError> = if failing.is_empty() {
        Vec::new()
    } else {
        let records: Vec<super::ErrorRecord> = sqlx::query_as(KEPT_ERRORS)
            .persistent(false)
            .bind(repository)
            .bind(&failing)
            .fetch_all(&mut **tx)
            .await?;
        records.into_iter().map(NewError::from).collect()
    };
    add_run_groups(tx, run_id, &errors).await?;
    // Each file's errors, read once rather than searched for per file.
    let mut by_file: HashMap<&str, Vec<_>> = HashMap::new();
    for e in &errors {
        by_file
            .entry(e.file_path.as_str())
            .or_default()
            .push((e.error_type, e.verdict));
    }
    let mut counts = BatchCounts::default();
    for report in reports {
        let Some(kept) = &report.reused else {
            continue;
        };
        counts.add(kept.outcome, kept.chunks as i64, report.bytes as i64);
        counts.add_health(kept.health, report.bytes);
        let path = storable(&report.rel_path);
        tallies.insert(
            report.rel_path.as_str(),
            FileTally {
                outcome: kept.outcome,
                bytes: report.bytes,
                chunks: kept.chunks,
                errors: by_file.remove(path.as_ref()).unwrap_or_default(),
                failure_kind: kept.failure_kind,
                verdict_micros: 0,
                reused: true,
                health: kept.health,
            },
        );
    }
    counts.errors = errors.len() as i32;
    counts.reused = tallies.len() as i32;
    count_batch(tx, run_id, &counts).await?;
    Ok(tallies)
}

/// Stores files that were parsed: their outcome rows, chunks (replacing
/// the file's previous ones unless identical), errors (replacing the
/// file's previous ones), the run's groups and counts.
async fn write_parsed_in(
    tx: &mut Transaction<'_, Postgres>,
    run_id: i64,
    repository: &str,
    reports: &[&FileReport],
) -> Result<(), StoreError> {
    let paths: Vec<String> = reports
        .iter()
        .map(|r| storable(&r.rel_path).into_owned())
        .collect();
    let unchanged = unchanged_files(tx, repository, reports, &paths).await?;
    let changed: Vec<&String> = paths.iter().filter(|p| !unchanged.contains(*p)).collect();
    retire(
        tx,
        run_id,
        repository,
        &paths.iter().collect::<Vec<_>>(),
        &changed,
    )
    .await?;

    let mut batch = BatchRows::default();
    for (report, path) in reports.iter().zip(&paths) {
        batch.push(run_id, repository, report, path, !unchanged.contains(path));
    }
    planned_now(INSERT_FILES)
        .bind(run_id)
        .bind(&paths)
        .bind(&batch.files.outcome)
        .bind(&batch.files.skip_reason)
        .bind(&batch.files.language)
        .bind(&batch.files.bytes)
        .bind(&batch.files.chunks)
        .bind(&batch.files.duration_us)
        .bind(&batch.files.error_type)
        .bind(&batch.files.fingerprint)
        .bind(&batch.files.failure_kind)
        .bind(&batch.files.result_key)
        .bind(repository)
        .bind(&batch.files.error_bytes)
        .bind(&batch.files.missing_nodes)
        .execute(&mut **tx)
        .await?;
    if !batch.chunks.is_empty() {
        let mut copy = tx.copy_in_raw(COPY_CHUNKS).await?;
        copy.send(batch.chunks.finish()).await?;
        copy.finish().await?;
    }
    log_errors_in(&mut **tx, &batch.errors).await?;
    add_run_groups(tx, run_id, &batch.errors).await?;
    batch.counts.errors = batch.errors.len() as i32;
    count_batch(tx, run_id, &batch.counts).await
}

/// Adds a batch to its run's counts.
async fn count_batch(
    tx: &mut Transaction<'_, Postgres>,
    run_id: i64,
    counts: &BatchCounts,
) -> Result<(), StoreError> {
    planned_now(COUNT_BATCH)
        .bind(run_id)
        .bind(counts.outcomes.iter().sum::<i32>())
        .bind(counts.outcomes[0])
        .bind(counts.outcomes[1])
        .bind(counts.outcomes[2])
        .bind(counts.outcomes[3])
        .bind(counts.errors)
        .bind(counts.chunks)
        .bind(counts.bytes)
        .bind(counts.reused)
        .bind(counts.parsed_bytes)
        .bind(counts.error_bytes)
        .bind(counts.missing_nodes)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Adds errors to the run's groups: files and errors per group.
async fn add_run_groups(
    tx: &mut Transaction<'_, Postgres>,
    run_id: i64,
    errors: &[NewError],
) -> Result<(), StoreError> {
    if errors.is_empty() {
        return Ok(());
    }
    let groups = GroupColumns::of(errors);
    planned_now(ADD_RUN_GROUPS)
        .bind(run_id)
        .bind(&groups.fingerprint)
        .bind(&groups.error_type)
        .bind(&groups.title)
        .bind(&groups.file_path)
        .bind(&groups.line)
        .bind(&groups.primary)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Everything a batch writes, in the shapes its statements take.
#[derive(Default)]
struct BatchRows {
    files: FileColumns,
    chunks: ChunkRows,
    errors: Vec<NewError>,
    counts: BatchCounts,
}

/// What a batch adds to its run's counts.
#[derive(Default)]
struct BatchCounts {
    /// Files by outcome, in `Outcome::ALL` order.
    outcomes: [i32; 4],
    errors: i32,
    chunks: i64,
    bytes: i64,
    /// Files carried over from an earlier run.
    reused: i32,
    /// Bytes of the files tree-sitter parsed, and of those the ERROR nodes
    /// inside them.
    parsed_bytes: i64,
    error_bytes: i64,
    missing_nodes: i64,
}

impl BatchRows {
    fn push(
        &mut self,
        run_id: i64,
        repository: &str,
        report: &FileReport,
        path: &str,
        write_chunks: bool,
    ) {
        self.files.push(report);
        if write_chunks {
            for chunk in &report.chunks {
                self.chunks.push(repository, path, run_id, report, chunk);
            }
        }
        self.errors.extend(
            report
                .errors
                .iter()
                .map(|error| new_error(run_id, repository, report, error)),
        );
        self.counts.add(
            report.outcome,
            report.chunks.len() as i64,
            report.bytes as i64,
        );
        self.counts.add_health(report.health, report.bytes);
    }
}

impl BatchCounts {
    fn add(&mut self, outcome: Outcome, chunks: i64, bytes: i64) {
        let index = Outcome::ALL.iter().position(|o| *o == outcome);
        self.outcomes[index.unwrap_or(0)] += 1;
        self.chunks += chunks;
        self.bytes += bytes;
    }

    fn add_health(&mut self, health: Option<ParseHealth>, bytes: u64) {
        if let Some(health) = health {
            self.parsed_bytes += bytes as i64;
            self.error_bytes += health.error_bytes as i64;
            self.missing_nodes += health.missing_nodes as i64;
        }
    }
}

fn new_error(run_id: i64, repository: &str, report: &FileReport, error: &FileError) -> NewError {
    NewError {
        error_traceback: error.traceback.clone(),
        chunk_type: error.chunk_type.clone(),
        language: report.language.map(|l| l.as_str().to_owned()),
        run_id: Some(run_id),
        line: error.span.map(|s| s.line as i32),
        column: error.span.map(|s| s.column as i32),
        end_line: error.span.map(|s| s.end_line as i32),
        end_column: error.span.map(|s| s.end_column as i32),
        fingerprint: Some(error.group().id),
        details: error.details.clone(),
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
    result_key: Vec<Option<i64>>,
    error_bytes: Vec<Option<i64>>,
    missing_nodes: Vec<Option<i32>>,
}

impl FileColumns {
    fn push(&mut self, report: &FileReport) {
        self.outcome.push(report.outcome.as_str());
        self.skip_reason
            .push(report.skip_reason.map(|r| r.as_str()));
        self.language.push(report.language.map(|l| l.as_str()));
        self.bytes.push(report.bytes as i64);
        self.chunks.push(report.chunks.len() as i32);
        self.duration_us.push(report.duration.as_micros() as i64);
        // The file's first error, kept with its outcome for comparing runs.
        let first = report.errors.first();
        self.error_type
            .push(first.map(|e| ErrorType::as_str(e.error_type)));
        self.fingerprint.push(first.map(|e| e.group().id));
        self.failure_kind
            .push(FailureKind::of(&report.errors).map(FailureKind::as_str));
        self.result_key.push(report.result_key);
        let health = report.health;
        self.error_bytes.push(health.map(|h| h.error_bytes as i64));
        self.missing_nodes
            .push(health.map(|h| h.missing_nodes.min(i32::MAX as u64) as i32));
    }
}

/// The batch's errors as the run's group statement takes them: one row per
/// group an error is in (its own, and its other problems'), so groups count
/// files per problem group; `primary` marks the error's own group.
#[derive(Default)]
struct GroupColumns {
    fingerprint: Vec<String>,
    error_type: Vec<&'static str>,
    title: Vec<String>,
    file_path: Vec<String>,
    line: Vec<Option<i32>>,
    primary: Vec<bool>,
}

impl GroupColumns {
    fn of(errors: &[NewError]) -> Self {
        let mut columns = GroupColumns::default();
        for e in errors {
            let own = e.fingerprint.clone().unwrap_or_default();
            let title = Some(e.details.title.as_str()).filter(|t| !t.is_empty());
            columns.push(
                e,
                own.clone(),
                title.unwrap_or(&e.error_message),
                e.line,
                true,
            );
            let mut seen = vec![own];
            for problem in &e.details.problems {
                if seen.contains(&problem.fingerprint) {
                    continue;
                }
                seen.push(problem.fingerprint.clone());
                let line = Some(problem.span.line as i32);
                columns.push(e, problem.fingerprint.clone(), &problem.title, line, false);
            }
        }
        columns
    }

    fn push(&mut self, e: &NewError, group: String, title: &str, line: Option<i32>, primary: bool) {
        self.fingerprint.push(group);
        self.error_type.push(e.error_type.as_str());
        self.title.push(storable(title).into_owned());
        self.file_path.push(storable(&e.file_path).into_owned());
        self.line.push(line);
        self.primary.push(primary);
    }
}
