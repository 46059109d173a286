//! Error groups: the same problem across files and runs, with the triage
//! status and note a developer gives it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::text::storable;
use super::{Store, StoreError};
use crate::index::outcome::ErrorType;
use crate::vocabulary::vocabulary;

/// Where a group stands in triage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupStatus {
    Open,
    Ignored,
    Resolved,
    /// Was resolved, then seen again.
    Regressed,
}

vocabulary!(GroupStatus, "group status", {
    Open => "open",
    Ignored => "ignored",
    Resolved => "resolved",
    Regressed => "regressed",
});

/// Where a group's example file is.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GroupExample {
    pub file_path: String,
    pub root: String,
    pub language: Option<String>,
    pub run_id: i64,
}

/// A group as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct GroupRecord {
    pub group_id: i64,
    pub repository: String,
    pub fingerprint: String,
    #[sqlx(try_from = "String")]
    pub error_type: ErrorType,
    pub title: String,
    #[sqlx(try_from = "String")]
    pub status: GroupStatus,
    pub note: Option<String>,
    pub first_seen_run: Option<i64>,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_run: Option<i64>,
    pub last_seen_at: DateTime<Utc>,
    /// Errors recorded over all runs.
    pub occurrences: i64,
    /// Files affected in the latest run that saw it (0 once a complete run no
    /// longer does).
    pub last_run_files: i32,
}

const GROUP_COLUMNS: &str = "group_id, repository, fingerprint, error_type, title, status, note, first_seen_run, \
     first_seen_at, last_seen_run, last_seen_at, occurrences, last_run_files";

/// Which groups to list.
#[derive(Debug, Clone, Default)]
pub struct GroupQuery {
    pub error_types: Vec<ErrorType>,
    /// Any of these statuses; all when empty.
    pub statuses: Vec<GroupStatus>,
    /// Case-insensitive substring of the title.
    pub text: Option<String>,
    /// Only groups first seen in this run: new in it.
    pub first_seen_run: Option<i64>,
    /// Only groups this run saw (the last to see them).
    pub last_seen_run: Option<i64>,
}

/// What a run changed in its repository's groups.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupChanges {
    pub regressed: Vec<GroupRecord>,
    pub regressed_total: i64,
    pub new: Vec<GroupRecord>,
    pub new_total: i64,
}

impl Store {
    /// A repository's groups, those affecting the most files first.
    pub async fn list_groups(
        &self,
        repository: &str,
        query: &GroupQuery,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<GroupRecord>, i64), StoreError> {
        let types: Vec<&str> = query.error_types.iter().map(|t| t.as_str()).collect();
        let statuses: Vec<&str> = query.statuses.iter().map(|s| s.as_str()).collect();
        let filter = "repository = $1 AND (cardinality($2::text[]) = 0 OR error_type = ANY($2)) \
             AND (cardinality($3::text[]) = 0 OR status = ANY($3)) \
             AND ($4::text IS NULL OR title ILIKE '%' || $4 || '%') \
             AND ($5::bigint IS NULL OR first_seen_run = $5) \
             AND ($6::bigint IS NULL OR last_seen_run = $6)";
        let text = query.text.as_deref().map(escape_like);
        let total: i64 =
            sqlx::query_scalar(&format!("SELECT count(*) FROM error_groups WHERE {filter}"))
                .bind(repository)
                .bind(&types)
                .bind(&statuses)
                .bind(&text)
                .bind(query.first_seen_run)
                .bind(query.last_seen_run)
                .fetch_one(self.pool())
                .await?;
        let groups = sqlx::query_as(&format!(
            "SELECT {GROUP_COLUMNS} FROM error_groups WHERE {filter} \
             ORDER BY last_run_files DESC, occurrences DESC, group_id LIMIT $7 OFFSET $8"
        ))
        .bind(repository)
        .bind(&types)
        .bind(&statuses)
        .bind(&text)
        .bind(query.first_seen_run)
        .bind(query.last_seen_run)
        .bind(limit)
        .bind(offset)
        .fetch_all(self.pool())
        .await?;
        Ok((groups, total))
    }

    /// What a run changed in its repository's groups: the groups it
    /// brought back after they were resolved, and those it saw first; at
    /// most `limit` of each, the most files first, with their totals.
    pub async fn group_changes(
        &self,
        repository: &str,
        run_id: i64,
        limit: i64,
    ) -> Result<GroupChanges, StoreError> {
        // Regressed groups this run saw; older regressions are not its news.
        let regressed = GroupQuery {
            statuses: vec![GroupStatus::Regressed],
            last_seen_run: Some(run_id),
            ..GroupQuery::default()
        };
        let new = GroupQuery {
            first_seen_run: Some(run_id),
            ..GroupQuery::default()
        };
        let ((regressed, regressed_total), (new, new_total)) = tokio::try_join!(
            self.list_groups(repository, &regressed, limit, 0),
            self.list_groups(repository, &new, limit, 0),
        )?;
        Ok(GroupChanges {
            regressed,
            regressed_total,
            new,
            new_total,
        })
    }

    pub async fn get_group(&self, group_id: i64) -> Result<Option<GroupRecord>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {GROUP_COLUMNS} FROM error_groups WHERE group_id = $1"
        ))
        .bind(group_id)
        .fetch_optional(self.pool())
        .await?)
    }

    pub async fn find_group(
        &self,
        repository: &str,
        fingerprint: &str,
    ) -> Result<Option<GroupRecord>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {GROUP_COLUMNS} FROM error_groups WHERE repository = $1 AND fingerprint = $2"
        ))
        .bind(repository)
        .bind(fingerprint)
        .fetch_optional(self.pool())
        .await?)
    }

    /// The repository's groups with these fingerprints (unknown ones are absent).
    pub async fn groups_by_fingerprints(
        &self,
        repository: &str,
        fingerprints: &[String],
    ) -> Result<Vec<GroupRecord>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {GROUP_COLUMNS} FROM error_groups WHERE repository = $1 AND fingerprint = ANY($2) \
             ORDER BY group_id"
        ))
        .bind(repository)
        .bind(fingerprints)
        .fetch_all(self.pool())
        .await?)
    }

    /// The fingerprints of the repository's groups that were resolved (and
    /// may be back: `regressed`).
    pub async fn resolved_fingerprints(
        &self,
        repository: &str,
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT fingerprint FROM error_groups \
             WHERE repository = $1 AND status IN ('resolved', 'regressed')",
        )
        .bind(repository)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// Groups with this fingerprint, in any repository.
    pub async fn groups_with_fingerprint(
        &self,
        fingerprint: &str,
    ) -> Result<Vec<GroupRecord>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {GROUP_COLUMNS} FROM error_groups WHERE fingerprint = $1 ORDER BY repository"
        ))
        .bind(fingerprint)
        .fetch_all(self.pool())
        .await?)
    }

    /// The group's first example, from the newest run that has one: the
    /// file's path, the run's root and the error's language.
    pub async fn group_example(
        &self,
        group: &GroupRecord,
    ) -> Result<Option<GroupExample>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT e.file_path, r.root, e.language, e.run_id FROM indexing_errors e \
             JOIN index_runs r ON r.run_id = e.run_id \
             WHERE e.repository = $1 AND e.problem_groups @> ARRAY[$2]::text[] \
             ORDER BY e.run_id DESC, e.file_path LIMIT 1",
        )
        .bind(&group.repository)
        .bind(&group.fingerprint)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Sets a group's triage status; `None` when there is no such group.
    pub async fn set_group_status(
        &self,
        group_id: i64,
        status: GroupStatus,
    ) -> Result<Option<GroupRecord>, StoreError> {
        Ok(self.set_groups_status(&[group_id], status).await?.pop())
    }

    /// Sets the triage status of several groups at once; the groups that
    /// exist come back, changed.
    pub async fn set_groups_status(
        &self,
        group_ids: &[i64],
        status: GroupStatus,
    ) -> Result<Vec<GroupRecord>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "UPDATE error_groups SET status = $2 WHERE group_id = ANY($1) \
             RETURNING {GROUP_COLUMNS}"
        ))
        .bind(group_ids)
        .bind(status.as_str())
        .fetch_all(self.pool())
        .await?)
    }

    /// Replaces a group's note (an empty note removes it).
    pub async fn set_group_note(
        &self,
        group_id: i64,
        note: &str,
    ) -> Result<Option<GroupRecord>, StoreError> {
        Ok(self.set_groups_note(&[group_id], note).await?.pop())
    }

    /// Replaces the note of several groups at once.
    pub async fn set_groups_note(
        &self,
        group_ids: &[i64],
        note: &str,
    ) -> Result<Vec<GroupRecord>, StoreError> {
        let note = Some(storable(note.trim_end()).into_owned()).filter(|n| !n.is_empty());
        Ok(sqlx::query_as(&format!(
            "UPDATE error_groups SET note = $2 WHERE group_id = ANY($1) \
             RETURNING {GROUP_COLUMNS}"
        ))
        .bind(group_ids)
        .bind(note)
        .fetch_all(self.pool())
        .await?)
    }
}

/// `%` and `_` in a user's search text are literal.
pub(crate) fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
