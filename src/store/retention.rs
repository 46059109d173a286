//! Retention: deleting old runs and what only they reference. A run is
//! deleted step by step, each step a short transaction of a bounded number
//! of rows, so a run going on (of any repository) never waits long on it.
//!
//! A run is never deleted while it is going or while it is its
//! repository's latest. A file result or error is valid over a range of
//! runs (see the history migration): one that only deleted runs saw goes
//! with them; one a later run still sees is moved to begin at that run, so
//! every run that remains reads exactly what it read before.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::text::storable;
use super::{Store, StoreError};

/// Which runs may go: those beyond each repository's `keep_runs` newest and
/// started before `older_than`; an option not given keeps nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Retention {
    /// Only this repository's runs.
    pub repository: Option<String>,
    pub keep_runs: Option<u32>,
    pub older_than: Option<DateTime<Utc>>,
}

/// A run to delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Doomed {
    pub run_id: i64,
    pub repository: String,
    pub started_at: DateTime<Utc>,
    /// The file results it stored (those later runs still see are kept).
    pub files: i64,
}

/// What deleting runs removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Removed {
    pub runs: u64,
    /// File results only the deleted runs saw.
    pub file_rows: u64,
    /// Replaced errors only the deleted runs saw.
    pub error_rows: u64,
    pub group_rows: u64,
}

/// The runs a policy lets go, oldest first.
const DOOMED: &str = "SELECT r.run_id, r.repository, r.started_at, \
       (SELECT count(*) FROM indexed_files f WHERE f.run_id = r.run_id) AS files \
     FROM (SELECT run_id, repository, started_at, status, \
             row_number() OVER (PARTITION BY repository ORDER BY run_id DESC) AS newer \
           FROM index_runs WHERE $1::text IS NULL OR repository = $1) AS r \
     WHERE r.status <> 'running' AND r.newer > 1 \
       AND ($2::bigint IS NULL OR r.newer > $2) \
       AND ($3::timestamptz IS NULL OR r.started_at < $3) \
     ORDER BY r.run_id";

/// The run of the same repository after `$1`, while `$1` may still go:
/// it is not going and is not its repository's latest.
const NEXT_RUN: &str = "SELECT n.run_id FROM index_runs r JOIN LATERAL \
       (SELECT run_id FROM index_runs WHERE repository = r.repository AND run_id > r.run_id \
        ORDER BY run_id LIMIT 1) AS n ON true \
     WHERE r.run_id = $1 AND r.status <> 'running'";

/// Rows deleted per step.
const STEP: i64 = 5000;

impl Store {
    /// The runs `retention` lets go, oldest first (nothing is deleted).
    pub async fn runs_to_delete(&self, retention: &Retention) -> Result<Vec<Doomed>, StoreError> {
        if retention.keep_runs.is_none() && retention.older_than.is_none() {
            return Err(StoreError::BadRequest(
                "say which runs to keep: --keep-runs N, --older-than AGE, or both".into(),
            ));
        }
        Ok(sqlx::query_as(DOOMED)
            .bind(retention.repository.as_deref().map(storable))
            .bind(retention.keep_runs.map(i64::from))
            .bind(retention.older_than)
            .fetch_all(self.pool())
            .await?)
    }

    /// Deletes a run and the rows only it references (file results and
    /// replaced errors only it saw, its groups, its kept error counts), a
    /// step at a time; the rows later runs still see begin at the next run
    /// instead. A run that started going again is left alone (`Ok(None)`).
    pub async fn delete_run(&self, run_id: i64) -> Result<Option<Removed>, StoreError> {
        let mut removed = Removed::default();
        // Checked at every step: the run must still be deletable.
        let Some(next) = self.next_run(run_id).await? else {
            return Ok(None);
        };
        for (table, counter) in [
            ("indexed_files", &mut removed.file_rows),
            ("indexing_errors_history", &mut removed.error_rows),
        ] {
            let only_seen = format!(
                "DELETE FROM {table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {table} \
                 WHERE run_id = $1 AND until_run <= $2 LIMIT $3))"
            );
            *counter += self.in_steps(&only_seen, run_id, Some(next)).await?;
        }
        for table in [
            "indexed_files",
            "indexing_errors_history",
            "indexing_errors",
        ] {
            let still_seen = format!(
                "UPDATE {table} SET run_id = $2 WHERE ctid = ANY(ARRAY(SELECT ctid FROM {table} \
                 WHERE run_id = $1 LIMIT $3))"
            );
            self.in_steps(&still_seen, run_id, Some(next)).await?;
        }
        let groups = "DELETE FROM run_groups WHERE ctid = ANY(ARRAY(SELECT ctid FROM run_groups \
             WHERE run_id = $1 LIMIT $2))";
        removed.group_rows = self.in_steps(groups, run_id, None).await?;
        let mut tx = self.pool().begin().await?;
        for counts in ["error_counts", "error_history_counts"] {
            sqlx::query(&format!(
                "DELETE FROM {counts} WHERE run_id = $1 AND errors = 0"
            ))
            .bind(run_id)
            .execute(&mut *tx)
            .await?;
        }
        removed.runs =
            sqlx::query("DELETE FROM index_runs WHERE run_id = $1 AND status <> 'running'")
                .bind(run_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        tx.commit().await?;
        Ok(Some(removed))
    }

    /// Runs `sql` (binding the run, the next run if given and a step's
    /// size) until it changes no row; gives the rows it changed.
    async fn in_steps(&self, sql: &str, run_id: i64, next: Option<i64>) -> Result<u64, StoreError> {
        let mut changed = 0;
        loop {
            let mut query = sqlx::query(sql).bind(run_id);
            if let Some(next) = next {
                query = query.bind(next);
            }
            let done = query.bind(STEP).execute(self.pool()).await?.rows_affected();
            changed += done;
            if done == 0 {
                return Ok(changed);
            }
        }
    }

    /// The run of the same repository after `run_id`, while `run_id` may
    /// be deleted.
    async fn next_run(&self, run_id: i64) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(NEXT_RUN)
            .bind(run_id)
            .fetch_optional(self.pool())
            .await?)
    }
}
