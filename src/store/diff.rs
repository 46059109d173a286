//! What changed between two runs, file by file: every file that fails in
//! either run, with its problem in each: the file's first error's type and
//! group, every group its errors are in, and its kind of failure. It is read
//! from each run's results and errors (`run_files`, `run_errors`), which
//! stay as they were however many runs follow, so any two runs still
//! compare alike.

use serde::{Deserialize, Serialize};

use super::{Store, StoreError};
use crate::index::outcome::{ErrorType, FailureKind, Outcome};
use crate::vocabulary::NullableWord;

/// A file's problem in one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FileProblem {
    /// `failed` or `partial`.
    pub outcome: Outcome,
    pub error_type: ErrorType,
    /// The problem group of the file's first error.
    pub fingerprint: Option<String>,
    pub title: Option<String>,
    /// `grammar_gap`, `invalid_source` or `other` (`None` for runs stored
    /// before verdicts).
    pub failure_kind: Option<FailureKind>,
    /// Every group the file's errors are in, for each of their problems (an
    /// error without a group counts by its type), sorted. Only the first
    /// error's group when both runs read the same result of the file (the
    /// others are not read then: they are the same in both).
    pub groups: Vec<String>,
}

impl FileProblem {
    /// Whether the file had this group (or, without one, this type) of error.
    pub fn has(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }
}

/// How many files changed, by kind of change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DiffCounts {
    pub newly_failing: u64,
    pub fixed: u64,
    pub gone: u64,
    pub another_problem: u64,
    pub another_verdict: u64,
    /// Failing in both runs with the same problem and verdict.
    pub still_failing: u64,
}

impl DiffCounts {
    /// The counts of these files' changes.
    pub fn of(files: &[FileSides]) -> Self {
        let mut counts = DiffCounts::default();
        for file in files {
            match file.change() {
                Change::NewlyFailing => counts.newly_failing += 1,
                Change::Fixed => counts.fixed += 1,
                Change::Gone => counts.gone += 1,
                Change::AnotherProblem => counts.another_problem += 1,
                Change::AnotherVerdict => counts.another_verdict += 1,
                Change::StillFailing => counts.still_failing += 1,
            }
        }
        counts
    }
}

/// What happened to a file failing in at least one of two runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Fails now and did not (it was fine, or is new).
    NewlyFailing,
    /// Failed and is fine now.
    Fixed,
    /// Failed, and the later run does not have it.
    Gone,
    /// Fails in both runs, now with a problem (a group) it did not have.
    AnotherProblem,
    /// No new problem, but another kind of failure.
    AnotherVerdict,
    /// No new problem (it may have lost some), the same kind of failure.
    StillFailing,
}

/// A file failing in at least one of two runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSides {
    pub file_path: String,
    /// Its problem in the first run, if it failed there.
    pub before: Option<FileProblem>,
    pub after: Option<FileProblem>,
    /// Whether each run has the file at all (failing or not).
    pub in_before: bool,
    pub in_after: bool,
    /// Both runs read the same stored result of the file: nothing about it
    /// changed (its groups are then not read, as they are the same).
    pub same_result: bool,
}

impl FileSides {
    /// A file that failed in `group` in the earlier run and is fine in the
    /// later one, for unit tests.
    #[cfg(test)]
    pub(crate) fn failing_before(path: &str, group: &str) -> FileSides {
        FileSides {
            file_path: path.into(),
            before: Some(FileProblem {
                outcome: Outcome::Partial,
                error_type: ErrorType::ParsingError,
                fingerprint: Some(group.into()),
                title: None,
                failure_kind: None,
                groups: vec![group.into()],
            }),
            after: None,
            in_before: true,
            in_after: true,
            same_result: false,
        }
    }

    /// The groups the file fails in now that it did not fail in before.
    pub fn new_groups(&self) -> Vec<&str> {
        let Some(now) = self.after.as_ref().filter(|_| !self.same_result) else {
            return Vec::new();
        };
        now.groups
            .iter()
            .filter(|g| self.before.as_ref().is_none_or(|was| !was.has(g)))
            .map(String::as_str)
            .collect()
    }
}

impl FileSides {
    pub fn change(&self) -> Change {
        match (&self.before, &self.after) {
            (None, _) => Change::NewlyFailing,
            (Some(_), None) if self.in_after => Change::Fixed,
            (Some(_), None) => Change::Gone,
            (Some(_), Some(_)) if self.same_result => Change::StillFailing,
            (Some(was), Some(now)) if now.groups.iter().any(|g| !was.has(g)) => {
                Change::AnotherProblem
            }
            (Some(was), Some(now)) if was.failure_kind != now.failure_kind => {
                Change::AnotherVerdict
            }
            (Some(_), Some(_)) => Change::StillFailing,
        }
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    file_path: String,
    a_outcome: NullableWord,
    a_type: NullableWord,
    a_fingerprint: Option<String>,
    a_title: Option<String>,
    a_kind: NullableWord,
    a_groups: Option<Vec<String>>,
    in_a: bool,
    b_outcome: NullableWord,
    b_type: NullableWord,
    b_fingerprint: Option<String>,
    b_title: Option<String>,
    b_kind: NullableWord,
    b_groups: Option<Vec<String>>,
    in_b: bool,
    same_result: bool,
}

/// Both runs' failing files side by side (a full join of the two runs'
/// failing rows), with whether the other run had the file at all. A
/// file's groups are read where its result differs between the runs: a
/// result both runs read has the same groups in each.
const FAILING_IN_EITHER: &str = "WITH a AS (SELECT file_path, run_id, outcome, error_type, fingerprint, \
       failure_kind FROM run_files($1) WHERE error_type IS NOT NULL), \
     b AS (SELECT file_path, run_id, outcome, error_type, fingerprint, failure_kind \
       FROM run_files($2) WHERE error_type IS NOT NULL), \
     both_runs AS (SELECT COALESCE(a.file_path, b.file_path) AS file_path, \
       a.outcome AS a_outcome, a.error_type AS a_type, a.fingerprint AS a_fingerprint, \
       a.failure_kind AS a_kind, \
       b.outcome AS b_outcome, b.error_type AS b_type, b.fingerprint AS b_fingerprint, \
       b.failure_kind AS b_kind, \
       (a.file_path IS NOT NULL OR EXISTS \
         (SELECT 1 FROM run_files($1) x WHERE x.file_path = b.file_path)) AS in_a, \
       (b.file_path IS NOT NULL OR EXISTS \
         (SELECT 1 FROM run_files($2) x WHERE x.file_path = a.file_path)) AS in_b, \
       COALESCE(a.run_id = b.run_id, false) AS same_result \
     FROM a FULL JOIN b ON a.file_path = b.file_path) \
     SELECT s.*, ga.title AS a_title, gb.title AS b_title, \
       CASE WHEN s.a_outcome IS NOT NULL AND NOT s.same_result THEN ARRAY(SELECT DISTINCT g FROM run_errors($1) e, \
         unnest(array_prepend(COALESCE(e.fingerprint, e.error_type), e.problem_groups)) AS g \
         WHERE e.file_path = s.file_path) END AS a_groups, \
       CASE WHEN s.b_outcome IS NOT NULL AND NOT s.same_result THEN ARRAY(SELECT DISTINCT g FROM run_errors($2) e, \
         unnest(array_prepend(COALESCE(e.fingerprint, e.error_type), e.problem_groups)) AS g \
         WHERE e.file_path = s.file_path) END AS b_groups \
     FROM both_runs s \
     LEFT JOIN error_groups ga ON ga.repository = $3 AND ga.fingerprint = s.a_fingerprint \
     LEFT JOIN error_groups gb ON gb.repository = $3 AND gb.fingerprint = s.b_fingerprint \
     ORDER BY 1";

impl Store {
    /// The titles of a repository's groups, by fingerprint.
    pub async fn group_titles(
        &self,
        repository: &str,
        fingerprints: &[String],
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT fingerprint, title FROM error_groups \
             WHERE repository = $1 AND fingerprint = ANY($2)",
        )
        .bind(repository)
        .bind(fingerprints)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// Every file failing in run `before` or run `after` (both of
    /// `repository`), in path order.
    pub async fn failing_in_either(
        &self,
        repository: &str,
        before: i64,
        after: i64,
    ) -> Result<Vec<FileSides>, StoreError> {
        let rows: Vec<Row> = sqlx::query_as(FAILING_IN_EITHER)
            .bind(before)
            .bind(after)
            .bind(super::text::storable(repository).as_ref())
            .fetch_all(self.pool())
            .await?;
        rows.into_iter().map(sides).collect()
    }
}

fn sides(row: Row) -> Result<FileSides, StoreError> {
    let corrupt = |e: crate::vocabulary::UnknownWord| {
        StoreError::Corrupt(format!("an indexed_files row of {}: {e}", row.file_path))
    };
    let problem = |outcome: NullableWord,
                   error_type: NullableWord,
                   fingerprint: Option<String>,
                   title: Option<String>,
                   kind: NullableWord,
                   groups: Option<Vec<String>>|
     -> Result<Option<FileProblem>, StoreError> {
        let (Some(outcome), Some(error_type)) = (
            Option::<Outcome>::try_from(outcome).map_err(corrupt)?,
            Option::<ErrorType>::try_from(error_type).map_err(corrupt)?,
        ) else {
            return Ok(None);
        };
        let mut groups = groups.unwrap_or_default();
        if groups.is_empty() {
            // A run stored before every run kept its errors: its first
            // error's group is all that is known.
            groups.push(
                fingerprint
                    .clone()
                    .unwrap_or_else(|| error_type.as_str().into()),
            );
        }
        groups.sort();
        Ok(Some(FileProblem {
            outcome,
            error_type,
            fingerprint,
            title,
            failure_kind: Option::<FailureKind>::try_from(kind).map_err(corrupt)?,
            groups,
        }))
    };
    Ok(FileSides {
        before: problem(
            row.a_outcome,
            row.a_type,
            row.a_fingerprint,
            row.a_title,
            row.a_kind,
            row.a_groups,
        )?,
        after: problem(
            row.b_outcome,
            row.b_type,
            row.b_fingerprint,
            row.b_title,
            row.b_kind,
            row.b_groups,
        )?,
        in_before: row.in_a,
        in_after: row.in_b,
        same_result: row.same_result,
        file_path: row.file_path,
    })
}
