//! The error store: recording failures and reading them back page by page.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{Postgres, QueryBuilder};

use super::text::{
    MAX_MESSAGE_CHARS, MAX_TRACEBACK_CHARS, storable, storable_json, storable_truncated,
};
use super::{Store, StoreError};
use crate::index::details::ErrorDetails;
use crate::index::outcome::{ErrorType, Verdict};
use crate::vocabulary::NullableWord;

/// One failure to record. Only the first four fields are required.
#[derive(Debug, Clone, PartialEq)]
pub struct NewError {
    pub repository: String,
    pub file_path: String,
    pub error_type: ErrorType,
    pub error_message: String,
    pub error_traceback: Option<String>,
    pub chunk_type: Option<String>,
    pub language: Option<String>,
    /// Defaults to the time of insertion.
    pub occurred_at: Option<DateTime<Utc>>,
    pub run_id: Option<i64>,
    pub line: Option<i32>,
    pub column: Option<i32>,
    pub end_line: Option<i32>,
    pub end_column: Option<i32>,
    pub fingerprint: Option<String>,
    pub details: ErrorDetails,
    /// Syntax errors only: the reference parser's verdict.
    pub verdict: Option<Verdict>,
}

/// A stored error as it would be stored again: the same row but its id.
impl From<ErrorRecord> for NewError {
    fn from(e: ErrorRecord) -> Self {
        NewError {
            repository: e.repository,
            file_path: e.file_path,
            error_type: e.error_type,
            error_message: e.error_message,
            error_traceback: e.error_traceback,
            chunk_type: e.chunk_type,
            language: e.language,
            occurred_at: Some(e.occurred_at),
            run_id: e.run_id,
            line: e.line,
            column: e.column,
            end_line: e.end_line,
            end_column: e.end_column,
            fingerprint: e.fingerprint,
            details: e.details,
            verdict: e.verdict,
        }
    }
}

impl ErrorRecord {
    /// The groups runs are compared by: the error's own (its type when it
    /// has none), then those of its other problems, each once.
    pub fn compared_groups(&self) -> Vec<String> {
        let own = self
            .fingerprint
            .clone()
            .unwrap_or_else(|| self.error_type.as_str().to_owned());
        with_problem_groups(vec![own], &self.details)
    }
}

/// `own`, then the groups of the error's other problems, each once.
fn with_problem_groups(mut groups: Vec<String>, details: &ErrorDetails) -> Vec<String> {
    for problem in &details.problems {
        if !groups.contains(&problem.fingerprint) {
            groups.push(problem.fingerprint.clone());
        }
    }
    groups
}

impl NewError {
    /// The groups the error belongs to: its own first, then those of its
    /// other problems, each once.
    pub fn groups(&self) -> Vec<String> {
        with_problem_groups(self.fingerprint.iter().cloned().collect(), &self.details)
    }

    pub fn new(
        repository: impl Into<String>,
        file_path: impl Into<String>,
        error_type: ErrorType,
        error_message: impl Into<String>,
    ) -> Self {
        NewError {
            repository: repository.into(),
            file_path: file_path.into(),
            error_type,
            error_message: error_message.into(),
            error_traceback: None,
            chunk_type: None,
            language: None,
            occurred_at: None,
            run_id: None,
            line: None,
            column: None,
            end_line: None,
            end_column: None,
            fingerprint: None,
            details: ErrorDetails::default(),
            verdict: None,
        }
    }
}

/// A stored failure, as the API and `snag errors` return it.
#[derive(
    Debug, Clone, PartialEq, Serialize, serde::Deserialize, sqlx::FromRow, utoipa::ToSchema,
)]
pub struct ErrorRecord {
    pub error_id: i64,
    pub repository: String,
    pub file_path: String,
    #[sqlx(try_from = "String")]
    pub error_type: ErrorType,
    pub error_message: String,
    pub error_traceback: Option<String>,
    pub chunk_type: Option<String>,
    pub language: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub run_id: Option<i64>,
    pub line: Option<i32>,
    pub column: Option<i32>,
    pub end_line: Option<i32>,
    pub end_column: Option<i32>,
    pub fingerprint: Option<String>,
    /// Everything else known about the failure: for syntax errors every site
    /// (`sites`, with line/column/end_line/end_column), the group's `title`
    /// and `construct`, the `verdict` and what the reference parser said
    /// (`reference`: its message and position, or why it could not decide).
    #[schema(value_type = Object)]
    #[sqlx(try_from = "sqlx::types::Json<serde_json::Value>")]
    pub details: ErrorDetails,
    /// Syntax errors only: `grammar_gap` (the reference parser accepts the
    /// file), `invalid_source` (it rejects it too) or `unknown`.
    #[sqlx(try_from = "NullableWord")]
    pub verdict: Option<Verdict>,
}

#[cfg(test)]
impl ErrorRecord {
    /// A parsing error of `path` in repository `r`, run 1, for unit tests
    /// to change what they are about.
    pub(crate) fn example(error_id: i64, path: &str) -> ErrorRecord {
        ErrorRecord {
            error_id,
            repository: "r".into(),
            file_path: path.into(),
            error_type: ErrorType::ParsingError,
            error_message: "m".into(),
            error_traceback: None,
            chunk_type: None,
            language: None,
            occurred_at: DateTime::UNIX_EPOCH,
            run_id: Some(1),
            line: None,
            column: None,
            end_line: None,
            end_column: None,
            fingerprint: None,
            details: Default::default(),
            verdict: None,
        }
    }
}

const RECORD_COLUMNS: &str = "error_id, repository, file_path, error_type, error_message, error_traceback, \
     chunk_type, language, occurred_at, run_id, line, \"column\", end_line, end_column, fingerprint, details, \
     verdict";

/// A validated page request: limit 1..=1000, offset >= 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PageRequest {
    pub limit: i64,
    pub offset: i64,
}

impl PageRequest {
    pub const MAX_LIMIT: i64 = 1000;
    pub const DEFAULT_LIMIT: i64 = 100;

    pub fn new(limit: i64, offset: i64) -> Result<Self, StoreError> {
        if !(1..=Self::MAX_LIMIT).contains(&limit) {
            return Err(StoreError::BadRequest(format!(
                "limit must be between 1 and {}, got {limit}",
                Self::MAX_LIMIT
            )));
        }
        if offset < 0 {
            return Err(StoreError::BadRequest(format!(
                "offset must be 0 or more, got {offset}"
            )));
        }
        Ok(PageRequest { limit, offset })
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            limit: Self::DEFAULT_LIMIT,
            offset: 0,
        }
    }
}

/// One page of errors and how many match in all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ErrorPage {
    pub errors: Vec<ErrorRecord>,
    pub total: i64,
}

/// The columns of a batch, one vector per column, for a single UNNEST insert.
#[derive(Default)]
struct ErrorColumns {
    repository: Vec<String>,
    file_path: Vec<String>,
    error_type: Vec<&'static str>,
    error_message: Vec<String>,
    error_traceback: Vec<Option<String>>,
    chunk_type: Vec<Option<String>>,
    language: Vec<Option<String>>,
    occurred_at: Vec<Option<DateTime<Utc>>>,
    run_id: Vec<Option<i64>>,
    line: Vec<Option<i32>>,
    column: Vec<Option<i32>>,
    end_line: Vec<Option<i32>>,
    end_column: Vec<Option<i32>>,
    fingerprint: Vec<Option<String>>,
    details: Vec<String>,
    verdict: Vec<Option<&'static str>>,
    /// The error's groups, separated by spaces (fingerprints have none).
    problem_groups: Vec<String>,
}

impl ErrorColumns {
    fn push(&mut self, e: &NewError) {
        let text = |s: &str| storable(s).into_owned();
        let opt = |s: &Option<String>| s.as_deref().map(text);
        self.repository.push(text(&e.repository));
        self.file_path.push(text(&e.file_path));
        self.error_type.push(e.error_type.as_str());
        self.error_message
            .push(storable_truncated(&e.error_message, MAX_MESSAGE_CHARS));
        self.error_traceback.push(
            e.error_traceback
                .as_deref()
                .map(|t| storable_truncated(t, MAX_TRACEBACK_CHARS)),
        );
        self.chunk_type.push(opt(&e.chunk_type));
        self.language.push(opt(&e.language));
        self.occurred_at.push(e.occurred_at);
        self.run_id.push(e.run_id);
        self.line.push(e.line);
        self.column.push(e.column);
        self.end_line.push(e.end_line);
        self.end_column.push(e.end_column);
        self.fingerprint.push(opt(&e.fingerprint));
        let details = serde_json::to_value(&e.details).unwrap_or_default();
        self.details.push(storable_json(&details).to_string());
        self.verdict.push(e.verdict.map(Verdict::as_str));
        self.problem_groups.push(e.groups().join(" "));
    }
}

/// Inserts a batch of errors, one array per column.
pub const INSERT_ERRORS: &str = r#"
INSERT INTO indexing_errors (repository, file_path, error_type, error_message, error_traceback,
    chunk_type, language, occurred_at, run_id, line, "column", end_line, end_column, fingerprint, details,
    verdict, problem_groups)
SELECT repository, file_path, error_type, error_message, error_traceback,
    chunk_type, language, COALESCE(occurred_at, now()), run_id, line, "column", end_line, end_column,
    fingerprint, details::jsonb, verdict, string_to_array(problem_groups, ' ')
FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
    $8::timestamptz[], $9::bigint[], $10::int[], $11::int[], $12::int[], $13::int[], $14::text[], $15::text[],
    $16::text[], $17::text[])
    AS t(repository, file_path, error_type, error_message, error_traceback, chunk_type, language,
         occurred_at, run_id, line, "column", end_line, end_column, fingerprint, details, verdict,
         problem_groups)
RETURNING error_id
"#;

impl Store {
    /// Records one failure and returns its id.
    pub async fn log_error(&self, error: &NewError) -> Result<i64, StoreError> {
        let ids = self.log_errors(std::slice::from_ref(error)).await?;
        Ok(ids[0])
    }

    /// Records many failures in one round trip; ids come back in input order.
    pub async fn log_errors(&self, errors: &[NewError]) -> Result<Vec<i64>, StoreError> {
        log_errors_in(self.pool(), errors).await
    }

    /// A page of a repository's errors, newest first, and the total count.
    pub async fn get_errors(
        &self,
        repository: &str,
        error_type: Option<ErrorType>,
        page: PageRequest,
    ) -> Result<ErrorPage, StoreError> {
        self.get_errors_by_verdict(repository, error_type, None, page)
            .await
    }

    /// [`Store::get_errors`], optionally only syntax errors with one verdict.
    pub async fn get_errors_by_verdict(
        &self,
        repository: &str,
        error_type: Option<ErrorType>,
        verdict: Option<Verdict>,
        page: PageRequest,
    ) -> Result<ErrorPage, StoreError> {
        let query = ErrorQuery {
            repository: repository.to_owned(),
            error_types: error_type.into_iter().collect(),
            verdict,
            ..Default::default()
        };
        self.list_errors(&query, page.limit, page.offset).await
    }

    /// Every error of one run's files as the run left them (those a later
    /// run replaced included), by file and type.
    pub async fn run_errors(&self, run_id: i64) -> Result<Vec<ErrorRecord>, StoreError> {
        self.run_errors_by_file(run_id).try_collect().await
    }

    /// [`Store::run_errors`] one at a time, as they are consumed, so that
    /// a run with a million errors is never held in memory. Paths are in
    /// byte order (as [`Store::run_files_by_path`] gives them).
    pub fn run_errors_by_file(
        &self,
        run_id: i64,
    ) -> BoxStream<'_, Result<ErrorRecord, StoreError>> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "SELECT {RECORD_COLUMNS} FROM run_errors($1) \
                 ORDER BY file_path COLLATE \"C\", error_type, error_id"
            )
        });
        sqlx::query_as::<_, ErrorRecord>(SQL.as_str())
            .bind(run_id)
            .fetch(self.pool())
            .map_err(StoreError::from)
            .boxed()
    }

    /// A run's errors as the run left them, by type and by verdict, from
    /// the kept counts: what an error list of the run finds under each type
    /// and verdict filter.
    pub async fn run_error_facets(&self, run_id: i64) -> Result<ErrorFacets, StoreError> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT error_type, verdict, sum(errors)::bigint FROM run_error_totals($1) \
             GROUP BY 1, 2 HAVING sum(errors) > 0",
        )
        .bind(run_id)
        .fetch_all(self.pool())
        .await?;
        let mut facets = ErrorFacets::default();
        for (error_type, verdict, n) in rows {
            if let Ok(error_type) = error_type.parse::<ErrorType>() {
                *facets.types.entry(error_type).or_default() += n;
            }
            if let Ok(verdict) = verdict.parse::<Verdict>() {
                *facets.verdicts.entry(verdict).or_default() += n;
            }
        }
        Ok(facets)
    }

    /// How many errors a repository has, by type (types with none are absent).
    pub async fn get_error_summary(
        &self,
        repository: &str,
    ) -> Result<BTreeMap<ErrorType, i64>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT error_type, sum(errors)::bigint FROM error_counts WHERE repository = $1 \
             GROUP BY error_type HAVING sum(errors) > 0",
        )
        .bind(repository)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(name, count)| {
                let error_type = name
                    .parse::<ErrorType>()
                    .map_err(|e| StoreError::Corrupt(format!("an indexing_errors row has {e}")))?;
                Ok((error_type, count))
            })
            .collect()
    }
}

/// Inserts a batch on any executor, so the engine's writer can use it inside
/// its own transaction.
pub async fn log_errors_in<'e, E>(executor: E, errors: &[NewError]) -> Result<Vec<i64>, StoreError>
where
    E: sqlx::PgExecutor<'e>,
{
    if errors.is_empty() {
        return Ok(Vec::new());
    }
    let mut c = ErrorColumns::default();
    for error in errors {
        c.push(error);
    }
    let ids = sqlx::query_scalar(INSERT_ERRORS)
        .bind(c.repository)
        .bind(c.file_path)
        .bind(c.error_type)
        .bind(c.error_message)
        .bind(c.error_traceback)
        .bind(c.chunk_type)
        .bind(c.language)
        .bind(c.occurred_at)
        .bind(c.run_id)
        .bind(c.line)
        .bind(c.column)
        .bind(c.end_line)
        .bind(c.end_column)
        .bind(c.fingerprint)
        .bind(c.details)
        .bind(c.verdict)
        .bind(c.problem_groups)
        .fetch_all(executor)
        .await?;
    Ok(ids)
}

/// How the error list is ordered; every order ends in `error_id` so pages
/// never overlap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorSort {
    #[default]
    Newest,
    Path,
    Type,
}

impl ErrorSort {
    pub fn next(self) -> Self {
        match self {
            ErrorSort::Newest => ErrorSort::Path,
            ErrorSort::Path => ErrorSort::Type,
            ErrorSort::Type => ErrorSort::Newest,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ErrorSort::Newest => "newest",
            ErrorSort::Path => "path",
            ErrorSort::Type => "type",
        }
    }

    fn order_by(self) -> &'static str {
        match self {
            ErrorSort::Newest => "occurred_at DESC, error_id DESC",
            ErrorSort::Path => "file_path, line NULLS FIRST, error_id",
            ErrorSort::Type => "error_type, file_path, error_id",
        }
    }

    /// The same order backwards, to read a page from the list's end.
    fn reversed(self) -> &'static str {
        match self {
            ErrorSort::Newest => "occurred_at, error_id",
            ErrorSort::Path => "file_path DESC, line DESC NULLS LAST, error_id DESC",
            ErrorSort::Type => "error_type DESC, file_path DESC, error_id DESC",
        }
    }
}

/// A run's errors by type and by verdict.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ErrorFacets {
    pub types: BTreeMap<ErrorType, i64>,
    pub verdicts: BTreeMap<Verdict, i64>,
}

/// The filters of the triage list: any of several types, a run, a group, and
/// text found in the path or the message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ErrorQuery {
    pub repository: String,
    pub run_id: Option<i64>,
    /// Empty means every type.
    pub error_types: Vec<ErrorType>,
    pub fingerprint: Option<String>,
    pub text: Option<String>,
    /// Only syntax errors with this verdict.
    pub verdict: Option<Verdict>,
    pub sort: ErrorSort,
}

/// A text or group filter matching at most this many errors has its page
/// sorted from all of them, found through the filter's inverted index
/// (trigrams, problem groups): a bounded cost. Walking the list's order and
/// testing each row finds more matches sooner, but no bound holds for it:
/// matches need not be spread evenly (a path typed into `/` matches files
/// that were indexed one after another), so the walk can pass most of the
/// list before the first match.
const SORT_MATCHES_AT_MOST: i64 = 20_000;

/// How many errors match a query, as far as they were counted: counting
/// every match of a text filter reads every error it matches, so a caller
/// that only shows the first pages can stop at [`COUNT_UP_TO`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub n: i64,
    /// False when counting stopped at `n`: at least that many match.
    pub exact: bool,
}

impl Count {
    pub fn exact(n: i64) -> Count {
        Count { n, exact: true }
    }
}

/// Where [`Store::count_errors_up_to`] stops: one past the number of
/// matches a page is sorted from, so a count under it is exact and small.
pub const COUNT_UP_TO: i64 = SORT_MATCHES_AT_MOST + 1;

impl Store {
    /// A page of errors matching `query`, and how many match in all.
    ///
    /// The total comes from the kept counts when only the repository, run,
    /// types and verdict filter; the page's ids are found in an index alone
    /// (rows skipped by the offset are never read) and, past the middle of
    /// the list, from its other end, so no query skips more than half of it.
    ///
    /// Both statements are planned with their values each time, never from
    /// a plan cached on the connection: a cached plan cannot tell a text
    /// filter that every row matches (one or two letters, read by a scan)
    /// from a rare one (found through the trigram indexes), and after a few
    /// keystrokes took the trigram indexes for both, seconds for `/sr` over
    /// a million errors.
    pub async fn list_errors(
        &self,
        query: &ErrorQuery,
        limit: i64,
        offset: i64,
    ) -> Result<ErrorPage, StoreError> {
        let total = self.count_errors(query).await?;
        let errors = self
            .error_page(query, limit, offset, Count::exact(total))
            .await?;
        Ok(ErrorPage { errors, total })
    }

    /// The page [`Store::list_errors`] gives, for a caller that knows the
    /// total already ([`Store::count_errors`] or
    /// [`Store::count_errors_up_to`] of the same query): a list paged under
    /// one filter need not count its matches for every page, which for a
    /// text filter reads every error it matches. With a count that stopped
    /// short, pages come from the start of the list.
    pub async fn error_page(
        &self,
        query: &ErrorQuery,
        limit: i64,
        offset: i64,
        total: Count,
    ) -> Result<Vec<ErrorRecord>, StoreError> {
        let end = match total.exact {
            true => offset.saturating_add(limit).min(total.n),
            false => offset.saturating_add(limit),
        };
        if offset >= end {
            return Ok(Vec::new());
        }
        let from_the_end = total.exact && offset > total.n / 2;
        let (order, skip) = if from_the_end {
            (query.sort.reversed(), total.n - end)
        } else {
            (query.sort.order_by(), offset)
        };
        let searched = query.fingerprint.is_some() || has_text(query);
        let mut page = QueryBuilder::new(format!("SELECT {RECORD_COLUMNS} FROM "));
        push_source(&mut page, query);
        page.push(" WHERE error_id = ANY(ARRAY(");
        if searched && total.exact && total.n <= SORT_MATCHES_AT_MOST {
            page.push(
                "WITH matching AS MATERIALIZED (\
                 SELECT error_id, occurred_at, file_path, line, error_type FROM ",
            );
            push_source(&mut page, query);
            page.push(" WHERE ");
            push_filter(&mut page, query);
            page.push(") SELECT error_id FROM matching");
        } else if let Some(run_id) = query.run_id {
            // A run's errors are the current ones and those replaced after
            // it: each table gives its first rows in the list's order, found
            // in its own index, and the page is taken from their merge. (As
            // one union, the planner sorts every error of the run.)
            page.push("SELECT error_id FROM (");
            for (i, history) in [false, true].into_iter().enumerate() {
                if i > 0 {
                    page.push(" UNION ALL ");
                }
                page.push("(SELECT error_id, occurred_at, file_path, line, error_type FROM ");
                page.push(match history {
                    false => "indexing_errors",
                    true => "indexing_errors_history",
                });
                page.push(" WHERE ");
                push_filter(&mut page, query);
                page.push(" AND run_id <= ").push_bind(run_id);
                if history {
                    page.push(" AND until_run > ").push_bind(run_id);
                }
                page.push(format!(" ORDER BY {order} LIMIT "))
                    .push_bind(skip + (end - offset))
                    .push(")");
            }
            page.push(") AS run_errors");
        } else {
            page.push("SELECT error_id FROM indexing_errors WHERE ");
            push_filter(&mut page, query);
        }
        page.push(format!(" ORDER BY {order} LIMIT "))
            .push_bind(end - offset)
            .push(" OFFSET ")
            .push_bind(skip)
            .push(format!(")) ORDER BY {}", query.sort.order_by()));
        Ok(page
            .build_query_as::<ErrorRecord>()
            .persistent(false)
            .fetch_all(self.pool())
            .await?)
    }

    /// How many errors match `query`, counting at most [`COUNT_UP_TO`]
    /// of a text or group filter's matches (the kept counts answer the
    /// other filters exactly at once).
    pub async fn count_errors_up_to(&self, query: &ErrorQuery) -> Result<Count, StoreError> {
        if query.fingerprint.is_none() && !has_text(query) {
            return Ok(Count::exact(self.count_errors(query).await?));
        }
        let mut sql = QueryBuilder::new("SELECT count(*) FROM (SELECT 1 FROM ");
        push_source(&mut sql, query);
        sql.push(" WHERE ");
        push_filter(&mut sql, query);
        sql.push(" LIMIT ")
            .push_bind(COUNT_UP_TO)
            .push(") AS counted");
        let n: i64 = sql
            .build_query_scalar()
            .persistent(false)
            .fetch_one(self.pool())
            .await?;
        Ok(Count {
            n,
            exact: n < COUNT_UP_TO,
        })
    }

    /// How many errors match `query`: the total of [`Store::list_errors`].
    pub async fn count_errors(&self, query: &ErrorQuery) -> Result<i64, StoreError> {
        let counted = query.fingerprint.is_none() && !has_text(query);
        let mut count = if counted {
            let mut sql = QueryBuilder::new("SELECT COALESCE(sum(errors), 0)::bigint FROM ");
            match query.run_id {
                Some(run_id) => {
                    sql.push("run_error_totals(")
                        .push_bind(run_id)
                        .push(") WHERE TRUE");
                }
                None => {
                    sql.push("error_counts WHERE repository = ")
                        .push_bind(&query.repository);
                }
            }
            push_types(&mut sql, &query.error_types);
            if let Some(verdict) = query.verdict {
                sql.push(" AND verdict = ").push_bind(verdict.as_str());
            }
            sql
        } else {
            let mut sql = QueryBuilder::new("SELECT count(*) FROM ");
            push_source(&mut sql, query);
            sql.push(" WHERE ");
            push_filter(&mut sql, query);
            sql
        };
        Ok(count
            .build_query_scalar::<i64>()
            .persistent(false)
            .fetch_one(self.pool())
            .await?)
    }
}

fn has_text(query: &ErrorQuery) -> bool {
    query.text.as_deref().is_some_and(|t| !t.is_empty())
}

/// `AND error_type = …` for one type (so an index on the type serves the
/// order), `= ANY(…)` for several, nothing for none.
fn push_types(sql: &mut QueryBuilder<'_, Postgres>, types: &[ErrorType]) {
    match types {
        [] => {}
        [one] => {
            sql.push(" AND error_type = ").push_bind(one.as_str());
        }
        many => {
            let names: Vec<&'static str> = many.iter().map(|t| t.as_str()).collect();
            sql.push(" AND error_type = ANY(")
                .push_bind(names)
                .push(")");
        }
    }
}

/// Where a query's errors are: a run's errors as it left them, or the
/// errors the repository's files have now.
fn push_source(sql: &mut QueryBuilder<'_, Postgres>, query: &ErrorQuery) {
    match query.run_id {
        Some(run_id) => {
            sql.push("run_errors(").push_bind(run_id).push(")");
        }
        None => {
            sql.push("indexing_errors");
        }
    }
}

/// Only the filters in use reach the SQL, so the planner can pick the index
/// each combination needs; every value is a bound parameter.
fn push_filter<'q>(sql: &mut QueryBuilder<'q, Postgres>, query: &'q ErrorQuery) {
    sql.push("repository = ").push_bind(&query.repository);
    // Only syntax errors have a verdict (a CHECK constraint says so): with
    // one, the type is said too, so the run's type indexes serve the sorts.
    let syntax_only = [ErrorType::ParsingError];
    let types = match query.verdict {
        Some(_) if query.error_types.is_empty() || query.error_types.contains(&syntax_only[0]) => {
            &syntax_only[..]
        }
        _ => &query.error_types[..],
    };
    push_types(sql, types);
    // A group's errors: every error one of whose problems is in it.
    if let Some(fingerprint) = &query.fingerprint {
        sql.push(" AND problem_groups @> ARRAY[")
            .push_bind(fingerprint)
            .push("]::text[]");
    }
    if let Some(text) = query.text.as_deref().filter(|t| !t.is_empty()) {
        let pattern = format!("%{}%", super::groups::escape_like(text));
        sql.push(" AND (file_path ILIKE ")
            .push_bind(pattern.clone())
            .push(" OR error_message ILIKE ")
            .push_bind(pattern)
            .push(")");
    }
    if let Some(verdict) = query.verdict {
        sql.push(" AND verdict = ").push_bind(verdict.as_str());
    }
}
