//! Retention: deleting old runs and what only they reference. A run is
//! deleted step by step, each step a short transaction of a bounded number
//! of rows, so a run going on (of any repository) never waits long on it.
//!
//! A run is never deleted while it is going, while it is its repository's
//! latest, while it still holds errors (the current errors of files no
//! later run reached), or while it holds a file's last stored result (what
//! an incremental run carries over).

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
    /// Its outcome rows, one per file it saw.
    pub files: i64,
}

/// What deleting runs removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Removed {
    pub runs: u64,
    pub file_rows: u64,
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
       AND NOT EXISTS (SELECT 1 FROM indexing_errors e \
                       WHERE e.repository = r.repository AND e.run_id = r.run_id) \
       AND NOT EXISTS (SELECT 1 FROM repository_files f \
                       WHERE f.repository = r.repository AND f.last_seen_run = r.run_id) \
     ORDER BY r.run_id";

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

    /// Deletes a run and the rows only it references (its files' outcome
    /// rows, its groups, its kept error counts), a step at a time. A run
    /// that started going again or holds errors now is left alone
    /// (`Ok(None)`).
    pub async fn delete_run(&self, run_id: i64) -> Result<Option<Removed>, StoreError> {
        let mut removed = Removed::default();
        for (table, counter) in [
            ("indexed_files", &mut removed.file_rows),
            ("run_groups", &mut removed.group_rows),
        ] {
            let sql = format!(
                "DELETE FROM {table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {table} \
                 WHERE run_id = $1 LIMIT $2))"
            );
            loop {
                // Checked at every step: the run must still be deletable.
                if !self.still_deletable(run_id).await? {
                    return Ok(None);
                }
                let done = sqlx::query(&sql)
                    .bind(run_id)
                    .bind(STEP)
                    .execute(self.pool())
                    .await?
                    .rows_affected();
                *counter += done;
                if done == 0 {
                    break;
                }
            }
        }
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM error_counts WHERE run_id = $1 AND errors = 0")
            .bind(run_id)
            .execute(&mut *tx)
            .await?;
        removed.runs = sqlx::query(
            "DELETE FROM index_runs r WHERE run_id = $1 AND status <> 'running' \
             AND NOT EXISTS (SELECT 1 FROM indexing_errors e \
                             WHERE e.repository = r.repository AND e.run_id = r.run_id)",
        )
        .bind(run_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(Some(removed))
    }

    async fn still_deletable(&self, run_id: i64) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM index_runs r WHERE run_id = $1 AND status <> 'running' \
             AND NOT EXISTS (SELECT 1 FROM indexing_errors e \
                             WHERE e.repository = r.repository AND e.run_id = r.run_id) \
             AND NOT EXISTS (SELECT 1 FROM repository_files f \
                             WHERE f.repository = r.repository AND f.last_seen_run = r.run_id))",
        )
        .bind(run_id)
        .fetch_one(self.pool())
        .await?)
    }
}
