//! Per-file outcomes of a run, and the run's most common error groups.

use serde::{Deserialize, Serialize};

use super::{Store, StoreError};
use crate::index::outcome::{ErrorType, Outcome};

/// One discovered file of a run, as `snag files` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
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

impl Store {
    /// A run's files in path order, optionally of one outcome.
    pub async fn list_files(
        &self,
        run_id: i64,
        outcome: Option<Outcome>,
    ) -> Result<Vec<FileRecord>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT file_path, outcome, skip_reason, language, bytes, chunks, error_type, duration_us \
             FROM indexed_files WHERE run_id = $1 AND ($2::text IS NULL OR outcome = $2) ORDER BY file_path",
        )
        .bind(run_id)
        .bind(outcome.map(Outcome::as_str))
        .fetch_all(self.pool())
        .await?)
    }

    /// The run's error groups with the most files first.
    pub async fn top_groups_for_run(
        &self,
        run_id: i64,
        limit: i64,
    ) -> Result<Vec<RunGroup>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT fingerprint, min(error_type) AS error_type, min(details->>'title') AS title, \
               count(DISTINCT file_path) AS files, min(file_path) AS example_path, \
               (array_agg(line ORDER BY file_path))[1] AS example_line \
             FROM indexing_errors WHERE run_id = $1 AND fingerprint IS NOT NULL \
             GROUP BY fingerprint ORDER BY files DESC, fingerprint LIMIT $2",
        )
        .bind(run_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }
}
