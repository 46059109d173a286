//! The write path: storing what the engine reports, batch by batch, and
//! folding a run's results together when it ends.
//!
//! Storing a file costs the same however much the store already holds:
//! every statement below finds its rows through an index that matches it
//! (`tests/write_plans.rs` explains each one against a full store), and what
//! the end of a run needs (counts, groups, which files are gone) is kept up
//! to date batch by batch instead of being recomputed from all of its rows.
//! The engine's threads have already computed every fingerprint and detail;
//! this module only writes.

use std::collections::HashSet;

use sqlx::postgres::PgArguments;
use sqlx::query::{Query, QueryScalar};
use sqlx::{Connection, PgConnection, Postgres, Transaction};

use super::chunk_rows::{COPY_CHUNKS, ChunkRows};
use super::errors::{NewError, log_errors_in};
use super::text::storable;
use super::{Store, StoreError};
use crate::index::outcome::{ErrorType, FailureKind, FileError, Outcome};
use crate::index::process::FileReport;
use crate::index::progress::{FileTally, RunStatus};

/// The files of a batch whose stored chunks all carry the key the file has
/// now, in the same number: rewriting them would store identical rows.
pub const UNCHANGED_FILES: &str = "SELECT p.path FROM UNNEST($2::text[], $3::bigint[], $4::bigint[]) AS p(path, key, n) \
     WHERE (SELECT count(*) = p.n AND bool_and(c.source_key IS NOT DISTINCT FROM p.key) \
            FROM code_chunks c WHERE c.repository = $1 AND c.file_path = p.path)";

/// Deletes the rows of `$table` of repository `$1` whose path is in `$2`.
///
/// Each path is looked up on its own (a lateral subquery the planner may
/// not flatten), so its equality on `(repository, file_path)` is always an
/// index condition. Written as `file_path = ANY($2)`, a planner that
/// thinks the repository small (a new repository, a store never analyzed)
/// reads every row of the repository and filters the paths instead, once
/// per batch: a run's cost then grows with the square of its files.
macro_rules! delete_by_path {
    ($table:literal) => {
        concat!(
            "DELETE FROM ",
            $table,
            " WHERE ctid = ANY(ARRAY(SELECT r.ctid FROM UNNEST($2::text[]) AS p(path), \
             LATERAL (SELECT ctid FROM ",
            $table,
            " WHERE repository = $1 AND file_path = p.path OFFSET 0) AS r))"
        )
    };
}

/// A file's previous chunks, before its new ones are stored.
pub const DELETE_CHUNKS: &str = delete_by_path!("code_chunks");

/// A file's previous errors, before its new ones are stored.
pub const DELETE_ERRORS: &str = delete_by_path!("indexing_errors");

/// One outcome row per file and run.
pub const INSERT_FILES: &str = "INSERT INTO indexed_files (run_id, file_path, outcome, skip_reason, language, bytes, chunks, \
       duration_us, error_type, fingerprint, failure_kind, result_key) \
     SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::int[], \
       $8::bigint[], $9::text[], $10::text[], $11::text[], $12::bigint[])";

/// The result key of every file of a repository, from the run that stored
/// its last result (null for results never to be reused): what an
/// incremental run compares files with.
///
/// Each file's row is looked up on its own (a lateral subquery the planner
/// may not flatten), so the repository's files are read through the index
/// and never joined against every run's rows.
pub const STORED_RESULTS: &str = "SELECT r.file_path, f.result_key FROM repository_files r, \
     LATERAL (SELECT result_key FROM indexed_files \
       WHERE run_id = r.last_seen_run AND file_path = r.file_path OFFSET 0) AS f \
     WHERE r.repository = $1";

/// Files carried over: each one's last outcome row, copied into this run
/// (with the time this run spent reading it).
pub const CARRY_FILES: &str = "INSERT INTO indexed_files (run_id, file_path, outcome, skip_reason, language, bytes, chunks, \
       duration_us, error_type, fingerprint, failure_kind, result_key) \
     SELECT $1, f.file_path, f.outcome, f.skip_reason, f.language, f.bytes, f.chunks, p.duration_us, \
       f.error_type, f.fingerprint, f.failure_kind, f.result_key \
     FROM UNNEST($3::text[], $4::bigint[]) AS p(path, duration_us), \
     LATERAL (SELECT last_seen_run FROM repository_files \
       WHERE repository = $2 AND file_path = p.path OFFSET 0) AS r, \
     LATERAL (SELECT * FROM indexed_files \
       WHERE run_id = r.last_seen_run AND file_path = p.path OFFSET 0) AS f \
     RETURNING file_path, outcome, bytes, chunks, error_type, failure_kind";

/// The errors of files carried over now belong to this run, as a parse
/// would have written them again (it replaces every error of the file).
pub const CARRY_ERRORS: &str = concat!(
    "UPDATE indexing_errors SET run_id = $1 WHERE ctid = ANY(ARRAY(SELECT e.ctid \
     FROM UNNEST($3::text[]) AS p(path), LATERAL (SELECT ctid FROM indexing_errors \
     WHERE repository = $2 AND file_path = p.path OFFSET 0) AS e)) RETURNING ",
    "error_id, repository, file_path, error_type, error_message, error_traceback, chunk_type, language, \
     occurred_at, run_id, line, \"column\", end_line, end_column, fingerprint, details, verdict"
);

/// The files the repository has now, stamped with the run that saw them.
pub const TRACK_FILES: &str = "INSERT INTO repository_files (repository, file_path, last_seen_run) \
     SELECT $1, path, $3 FROM UNNEST($2::text[]) AS p(path) \
     ON CONFLICT (repository, file_path) DO UPDATE SET last_seen_run = EXCLUDED.last_seen_run";

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
       files_reused = files_reused + $10 \
     WHERE run_id = $1";

/// The number of files discovery found, once its walk is over: with the
/// counts, what another process needs to show the run's progress.
pub const RECORD_DISCOVERY: &str = "UPDATE index_runs SET files_discovered = $2 WHERE run_id = $1";

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

/// After a complete run: some of the files it did not see (they are gone).
pub const VANISHED_FILES: &str = "SELECT file_path FROM repository_files \
     WHERE repository = $1 AND last_seen_run < $2 LIMIT $3";

/// Files that are gone, no longer tracked.
pub const UNTRACK_FILES: &str = delete_by_path!("repository_files");

/// The run's end.
pub const END_RUN: &str = "UPDATE index_runs SET status = $2, status_message = $3, finished_at = now() \
     WHERE run_id = $1";

/// Every statement of the write path, for checking their plans, but the
/// COPY of chunks, which only adds rows.
pub const WRITE_PATH: &[&str] = &[
    UNCHANGED_FILES,
    STORED_RESULTS,
    CARRY_FILES,
    CARRY_ERRORS,
    DELETE_CHUNKS,
    DELETE_ERRORS,
    INSERT_FILES,
    super::errors::INSERT_ERRORS,
    TRACK_FILES,
    ADD_RUN_GROUPS,
    COUNT_BATCH,
    RECORD_DISCOVERY,
    FOLD_GROUPS,
    QUIET_GROUPS,
    VANISHED_FILES,
    UNTRACK_FILES,
    END_RUN,
];

/// Gone files are removed this many at a time, so memory does not grow with
/// how many went.
const VANISHED_PER_STEP: i64 = 1000;

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

    /// Records how many files the run's discovery found.
    pub async fn record_discovery(&mut self, run_id: i64, files: u64) -> Result<(), StoreError> {
        planned_now(RECORD_DISCOVERY)
            .bind(run_id)
            .bind(i32::try_from(files).unwrap_or(i32::MAX))
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

    /// Stores a batch of file reports in one transaction: their outcome rows,
    /// their chunks (replacing the file's previous ones), their errors
    /// (replacing the file's previous ones in this repository), the run's
    /// groups and counts; files whose stored result holds are carried over.
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

    /// The result key of every file of `repository` as its last stored
    /// result recorded it: what an incremental run compares files with.
    pub async fn stored_results(
        &self,
        repository: &str,
    ) -> Result<std::collections::HashMap<String, i64>, StoreError> {
        let mut tx = self.pool().begin().await?;
        prefer_index_lookups(&mut tx).await?;
        let rows: Vec<(String, Option<i64>)> = sqlx::query_as(STORED_RESULTS)
            .persistent(false)
            .bind(storable(repository).as_ref())
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(rows
            .into_iter()
            .filter_map(|(path, key)| Some((path, key?)))
            .collect())
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
    /// completed run, the chunks and errors of files that are gone removed.
    /// Reads the run's groups and the gone files only.
    pub async fn finish_run(
        &self,
        run_id: i64,
        repository: &str,
        status: RunStatus,
        message: Option<&str>,
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
            prune_vanished_files(&mut tx, run_id, repository).await?;
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

/// Removes the chunks and errors of the files a completed run did not see:
/// they are gone from the repository.
async fn prune_vanished_files(
    tx: &mut Transaction<'_, Postgres>,
    run_id: i64,
    repository: &str,
) -> Result<(), StoreError> {
    loop {
        let gone: Vec<String> = planned_now_scalar(VANISHED_FILES)
            .bind(repository)
            .bind(run_id)
            .bind(VANISHED_PER_STEP)
            .fetch_all(&mut **tx)
            .await?;
        if gone.is_empty() {
            return Ok(());
        }
        for statement in [DELETE_CHUNKS, DELETE_ERRORS, UNTRACK_FILES] {
            planned_now(statement)
                .bind(repository)
                .bind(&gone)
                .execute(&mut **tx)
                .await?;
        }
    }
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

/// Stores a batch: the files carried over from an earlier run, then those
/// parsed. Gives what each file adds to the run's progress, in the batch's
/// order.
async fn write_reports_in(
    tx: &mut Transaction<'_, Postgres>,
    run_id: i64,
    repository: &str,
    reports: &[&FileReport],
) -> Result<Vec<FileTally>, StoreError> {
    prefer_index_lookups(tx).await?;
    let (reused, mut parsed): (Vec<&FileReport>, Vec<&FileReport>) =
        reports.iter().partition(|r| r.reused);
    let mut carried = carry_over(tx, run_id, repository, &reused).await?;
    // A stored result that is gone (deleted since the run began) cannot be
    // carried: the file still gets its one outcome.
    let lost: Vec<FileReport> = reused
        .iter()
        .filter(|r| !carried.contains_key(storable(&r.rel_path).as_ref()))
        .map(|r| {
            r.persistence_failure("its stored result is gone from the database; index it again")
        })
        .collect();
    parsed.extend(&lost);
    if !parsed.is_empty() {
        write_parsed_in(tx, run_id, repository, &parsed).await?;
    }
    let mut lost = lost.iter();
    Ok(reports
        .iter()
        .map(
            |report| match carried.remove(storable(&report.rel_path).as_ref()) {
                Some(tally) => tally,
                None if report.reused => lost
                    .next()
                    .map_or_else(|| FileTally::of(report), FileTally::of),
                None => FileTally::of(report),
            },
        )
        .collect())
}

/// A carried file's outcome row, as `CARRY_FILES` returns it.
#[derive(sqlx::FromRow)]
struct CarriedFile {
    file_path: String,
    outcome: String,
    bytes: i64,
    chunks: i32,
    /// Its first error's type: the file has errors to carry.
    error_type: Option<String>,
    failure_kind: Option<String>,
}

/// Carries the files whose stored results still hold into the run: their
/// outcome rows copied, their errors moved to it, counted in its groups and
/// counts. Gives each carried file's tally by stored path.
async fn carry_over(
    tx: &mut Transaction<'_, Postgres>,
    run_id: i64,
    repository: &str,
    reports: &[&FileReport],
) -> Result<std::collections::HashMap<String, FileTally>, StoreError> {
    let mut tallies = std::collections::HashMap::new();
    if reports.is_empty() {
        return Ok(tallies);
    }
    let paths: Vec<String> = reports
        .iter()
        .map(|r| storable(&r.rel_path).into_owned())
        .collect();
    let durations: Vec<i64> = reports
        .iter()
        .map(|r| r.duration.as_micros() as i64)
        .collect();
    let files: Vec<CarriedFile> = sqlx::query_as(CARRY_FILES)
        .persistent(false)
        .bind(run_id)
        .bind(repository)
        .bind(&paths)
        .bind(&durations)
        .fetch_all(&mut **tx)
        .await?;
    if files.is_empty() {
        return Ok(tallies);
    }
    let carried: Vec<String> = files.iter().map(|f| f.file_path.clone()).collect();
    // Only files with errors have errors to move: most have none.
    let failing: Vec<&String> = files
        .iter()
        .filter(|f| f.error_type.is_some())
        .map(|f| &f.file_path)
        .collect();
    let errors: Vec<super::ErrorRecord> = if failing.is_empty() {
        Vec::new()
    } else {
        sqlx::query_as(CARRY_ERRORS)
            .persistent(false)
            .bind(run_id)
            .bind(repository)
            .bind(&failing)
            .fetch_all(&mut **tx)
            .await?
    };
    planned_now(TRACK_FILES)
        .bind(repository)
        .bind(&carried)
        .bind(run_id)
        .execute(&mut **tx)
        .await?;
    let errors: Vec<NewError> = errors.into_iter().map(NewError::from).collect();
    add_run_groups(tx, run_id, &errors).await?;
    // Each file's errors, read once rather than searched for per file.
    let mut by_file: std::collections::HashMap<&str, Vec<_>> = std::collections::HashMap::new();
    for e in &errors {
        by_file
            .entry(e.file_path.as_str())
            .or_default()
            .push((e.error_type, e.verdict));
    }
    let mut counts = BatchCounts::default();
    for file in files {
        let corrupt = |what: &str| StoreError::Corrupt(format!("{what} of {}", file.file_path));
        let outcome: Outcome = file.outcome.parse().map_err(|_| corrupt("an outcome"))?;
        let failure_kind = file
            .failure_kind
            .as_deref()
            .map(str::parse::<FailureKind>)
            .transpose()
            .map_err(|_| corrupt("a failure kind"))?;
        counts.add(outcome, i64::from(file.chunks), file.bytes);
        let file_errors = by_file.remove(file.file_path.as_str()).unwrap_or_default();
        tallies.insert(
            file.file_path,
            FileTally {
                outcome,
                bytes: file.bytes.max(0) as u64,
                chunks: file.chunks.max(0) as u64,
                errors: file_errors,
                failure_kind,
                verdict_micros: 0,
                reused: true,
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
    for (statement, paths) in [
        (DELETE_CHUNKS, changed),
        (DELETE_ERRORS, paths.iter().collect()),
    ] {
        if !paths.is_empty() {
            planned_now(statement)
                .bind(repository)
                .bind(paths)
                .execute(&mut **tx)
                .await?;
        }
    }

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
        .execute(&mut **tx)
        .await?;
    if !batch.chunks.is_empty() {
        let mut copy = tx.copy_in_raw(COPY_CHUNKS).await?;
        copy.send(batch.chunks.finish()).await?;
        copy.finish().await?;
    }
    log_errors_in(&mut **tx, &batch.errors).await?;
    planned_now(TRACK_FILES)
        .bind(repository)
        .bind(&paths)
        .bind(run_id)
        .execute(&mut **tx)
        .await?;
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
    }
}

impl BatchCounts {
    fn add(&mut self, outcome: Outcome, chunks: i64, bytes: i64) {
        let index = Outcome::ALL.iter().position(|o| *o == outcome);
        self.outcomes[index.unwrap_or(0)] += 1;
        self.chunks += chunks;
        self.bytes += bytes;
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
