//! Per-file outcomes of a run, and the run's most common error groups.

use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use super::{PageRequest, Store, StoreError};
use crate::index::outcome::{ErrorType, FailureKind, Outcome, Verdict};
use crate::vocabulary::NullableWord;

const FILE_COLUMNS: &str = "file_path, outcome, skip_reason, language, bytes, chunks, error_type, \
     duration_us, error_bytes, missing_nodes";

/// A run's files (`$1`) in byte order of their paths.
const FILES_BY_PATH: &str = "SELECT file_path, outcome, skip_reason, language, bytes, chunks, \
     error_type, duration_us, error_bytes, missing_nodes FROM run_files($1) \
     ORDER BY file_path COLLATE \"C\"";

/// A run's files (`$1`), of one outcome when `$2` is not null.
const RUN_FILES: &str = "run_files($1) WHERE ($2::text IS NULL OR outcome = $2)";

/// One discovered file of a run, as `snag files` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct FileRecord {
    pub file_path: String,
    #[sqlx(try_from = "String")]
    pub outcome: Outcome,
    pub skip_reason: Option<String>,
    pub language: Option<String>,
    pub bytes: i64,
    pub chunks: i32,
    pub error_type: Option<String>,
    pub duration_us: i64,
    /// Parse health: bytes inside ERROR nodes (nested ones counted once)
    /// and MISSING nodes; null when the file was not parsed (or was stored
    /// before snag measured them).
    pub error_bytes: Option<i64>,
    pub missing_nodes: Option<i32>,
}

/// A group of errors within one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct RunGroup {
    pub fingerprint: String,
    #[sqlx(try_from = "String")]
    pub error_type: ErrorType,
    pub title: String,
    pub files: i64,
    /// One file of the group, with the line of its first error.
    pub example_path: String,
    pub example_line: Option<i32>,
}

/// How many of a run's files have each outcome so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct OutcomeCounts {
    pub indexed: i64,
    pub partial: i64,
    pub failed: i64,
    pub skipped: i64,
}

impl OutcomeCounts {
    pub fn total(&self) -> i64 {
        self.indexed + self.partial + self.failed + self.skipped
    }
}

/// One failure of one file in a run, as the report and CI formats read it.
/// For runs stored before errors were kept for every run, a file whose
/// errors a later run replaced has only its first error (from
/// `indexed_files`), without line or message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct FailureRow {
    pub file_path: String,
    #[sqlx(try_from = "String")]
    pub outcome: Outcome,
    #[sqlx(try_from = "String")]
    pub error_type: ErrorType,
    pub fingerprint: Option<String>,
    pub title: Option<String>,
    pub construct: Option<String>,
    pub line: Option<i32>,
    pub message: Option<String>,
    /// Syntax error sites in the file (1 for other errors).
    pub sites: i32,
    /// Syntax errors: the reference parser's verdict.
    #[sqlx(try_from = "NullableWord")]
    pub verdict: Option<Verdict>,
    /// The file's kind of failure (`None` for runs stored before verdicts).
    #[sqlx(try_from = "NullableWord")]
    pub failure_kind: Option<FailureKind>,
}

/// A run's failing files split by kind: grammar gaps (valid code the
/// grammar cannot parse), broken source, and everything else.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    sqlx::FromRow,
    utoipa::ToSchema,
)]
pub struct FailureSplit {
    pub grammar_gaps: i64,
    pub invalid_source: i64,
    /// Other error types, undecided verdicts, and failing files of runs
    /// stored before verdicts existed.
    pub other: i64,
}

impl FailureSplit {
    pub fn total(&self) -> i64 {
        self.grammar_gaps + self.invalid_source + self.other
    }
}

/// What a run's dashboard shows from the database.
#[derive(Debug, Clone, PartialEq)]
pub struct RunDashboard {
    pub run: super::runs::RunRecord,
    pub counts: std::collections::BTreeMap<ErrorType, i64>,
    pub split: FailureSplit,
    pub groups: Vec<RunGroup>,
    /// Groups the run brought back or saw first.
    pub changes: super::groups::GroupChanges,
    /// For a run that has ended: what changed, file by file, since the run
    /// of its repository before it (none for a first run).
    pub since: Option<FilesSince>,
}

/// What changed file by file since an earlier run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilesSince {
    pub run_id: i64,
    pub counts: super::diff::DiffCounts,
}

impl Store {
    /// A run's dashboard: its row, error counts by type, failing files by
    /// kind and its `top_groups` largest groups, read at once on separate
    /// connections. `None` when there is no such run.
    pub async fn run_dashboard(
        &self,
        run_id: i64,
        top_groups: i64,
    ) -> Result<Option<RunDashboard>, StoreError> {
        let (run, counts, split, groups) = tokio::try_join!(
            self.get_run(run_id),
            self.run_error_counts(run_id),
            self.run_failure_split(run_id),
            self.top_groups_for_run(run_id, top_groups),
        )?;
        let Some(run) = run else {
            return Ok(None);
        };
        let changes = self
            .group_changes(&run.repository, run_id, top_groups)
            .await?;
        // Read once the run has ended: while it goes on its files are not
        // all there, and the dashboard reloads every second.
        let since = match run.status {
            crate::index::progress::RunStatus::Running => None,
            _ => match self.previous_run(&run.repository, run_id).await? {
                Some(previous) => {
                    let files = self
                        .failing_in_either(&run.repository, previous.run_id, run_id)
                        .await?;
                    Some(FilesSince {
                        run_id: previous.run_id,
                        counts: super::diff::DiffCounts::of(&files),
                    })
                }
                None => None,
            },
        };
        Ok(Some(RunDashboard {
            run,
            counts,
            split,
            groups,
            changes,
            since,
        }))
    }

    /// Outcome counts of the files of a run stored so far.
    pub async fn run_outcome_counts(&self, run_id: i64) -> Result<OutcomeCounts, StoreError> {
        Ok(sqlx::query_as(
            "SELECT count(*) FILTER (WHERE outcome = 'indexed') AS indexed, \
               count(*) FILTER (WHERE outcome = 'partial') AS partial, \
               count(*) FILTER (WHERE outcome = 'failed') AS failed, \
               count(*) FILTER (WHERE outcome = 'skipped') AS skipped \
             FROM run_files($1)",
        )
        .bind(run_id)
        .fetch_one(self.pool())
        .await?)
    }

    /// A run's failing (failed or partial) files by kind of failure.
    pub async fn run_failure_split(&self, run_id: i64) -> Result<FailureSplit, StoreError> {
        Ok(sqlx::query_as(
            "SELECT count(*) FILTER (WHERE failure_kind = 'grammar_gap') AS grammar_gaps, \
               count(*) FILTER (WHERE failure_kind = 'invalid_source') AS invalid_source, \
               count(*) FILTER (WHERE failure_kind IS DISTINCT FROM 'grammar_gap' \
                 AND failure_kind IS DISTINCT FROM 'invalid_source') AS other \
             FROM run_files($1) WHERE outcome IN ('failed', 'partial')",
        )
        .bind(run_id)
        .fetch_one(self.pool())
        .await?)
    }

    /// Every failure of a run, by file path and error type.
    pub async fn run_failures(&self, run_id: i64) -> Result<Vec<FailureRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT e.file_path, COALESCE(f.outcome, 'failed') AS outcome, e.error_type, e.fingerprint, \
               COALESCE(e.details->>'title', g.title) AS title, e.details->>'construct' AS construct, \
               e.line, e.error_message AS message, \
               CASE WHEN jsonb_typeof(e.details->'total_sites') = 'number' \
                 THEN (e.details->>'total_sites')::int ELSE 1 END AS sites, \
               e.verdict, f.failure_kind \
             FROM run_errors($1) e \
             LEFT JOIN run_files($1) f ON f.file_path = e.file_path \
             LEFT JOIN error_groups g ON g.repository = e.repository AND g.fingerprint = e.fingerprint \
             UNION ALL \
             SELECT f.file_path, f.outcome, f.error_type, f.fingerprint, g.title, NULL, NULL, NULL, 1, \
               NULL, f.failure_kind \
             FROM run_files($1) f \
             LEFT JOIN error_groups g ON g.repository = f.repository AND g.fingerprint = f.fingerprint \
             WHERE f.error_type IS NOT NULL AND NOT EXISTS \
               (SELECT 1 FROM run_errors($1) e WHERE e.file_path = f.file_path) \
             ORDER BY 1, 3",
        )
        .bind(run_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// A run's files in byte order of their paths, one at a time as they
    /// are consumed.
    pub fn run_files_by_path(&self, run_id: i64) -> BoxStream<'_, Result<FileRecord, StoreError>> {
        sqlx::query_as::<_, FileRecord>(FILES_BY_PATH)
            .bind(run_id)
            .fetch(self.pool())
            .map_err(StoreError::from)
            .boxed()
    }

    /// A run's files in path order, optionally of one outcome: all of them.
    pub async fn list_files(
        &self,
        run_id: i64,
        outcome: Option<Outcome>,
    ) -> Result<Vec<FileRecord>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {FILE_COLUMNS} FROM {RUN_FILES} ORDER BY file_path"
        ))
        .bind(run_id)
        .bind(outcome.map(Outcome::as_str))
        .fetch_all(self.pool())
        .await?)
    }

    /// One page of a run's files in path order (paths are unique in a run,
    /// so pages never overlap), optionally of one outcome, and how many
    /// files match over all pages.
    pub async fn list_files_page(
        &self,
        run_id: i64,
        outcome: Option<Outcome>,
        page: PageRequest,
    ) -> Result<(Vec<FileRecord>, i64), StoreError> {
        let outcome = outcome.map(Outcome::as_str);
        let count_sql = format!("SELECT count(*) FROM {RUN_FILES}");
        let page_sql = format!(
            "SELECT {FILE_COLUMNS} FROM {RUN_FILES} \
             ORDER BY file_path LIMIT $3 OFFSET $4"
        );
        let total = sqlx::query_scalar(&count_sql)
            .bind(run_id)
            .bind(outcome)
            .fetch_one(self.pool());
        let files = sqlx::query_as(&page_sql)
            .bind(run_id)
            .bind(outcome)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(self.pool());
        let (total, files) = tokio::try_join!(total, files)?;
        Ok((files, total))
    }

    /// The run's error groups with the most files first, as the run stored
    /// them (live while it goes on).
    pub async fn top_groups_for_run(
        &self,
        run_id: i64,
        limit: i64,
    ) -> Result<Vec<RunGroup>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT fingerprint, error_type, title, files::bigint AS files, example_path, example_line \
             FROM run_groups WHERE run_id = $1 ORDER BY files DESC, fingerprint LIMIT $2",
        )
        .bind(run_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }
}
