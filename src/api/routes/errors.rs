//! `GET /api/v1/indexing/batch/errors/{repository}` and its `/summary`:
//! the original service's bodies, field for field.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::ApiState;
use crate::api::error::{ApiError, ValidationBody};
use crate::api::extract::{ApiPath, QueryParams};
use crate::api::original;
use crate::index::outcome::{ErrorType, Verdict};
use crate::report::errors::{ErrorFilters, ErrorListBody, SummaryBody};
use crate::store::{ErrorPage, PageRequest};
use crate::stored_path;

/// A page of a repository's errors, newest first
///
/// Each error has the original service's nine fields, in its order: the
/// path under the directory the run was started on (as the original stored
/// it) and `occurred_at` as a naive UTC time. With `fields=all`, each error
/// is snag's own record instead: seventeen fields, the path relative to the
/// run's root, line and column, fingerprint, details and verdict, times in
/// RFC 3339. Errors are ordered by `occurred_at` then `error_id`, newest
/// first, so pages never overlap. An unknown repository has no errors.
#[utoipa::path(
    get,
    path = "/api/v1/indexing/batch/errors/{repository}",
    tag = "error-tracking",
    params(
        ("repository" = String, Path, description = "Repository name (one path segment: as in the original service, a `/` cannot be given, even as `%2F`)"),
        ("error_type" = Option<String>, Query, description = "Only errors of this type; as in the original service, an empty value is no filter and an unknown type matches nothing (both echoed in `filters`)"),
        ("verdict" = Option<Verdict>, Query, description = "Only syntax errors with this verdict of the reference parser: `grammar_gap`, `invalid_source` or `unknown`"),
        ("limit" = Option<i64>, Query, description = "Page size, 1 to 1000 (default 100)", minimum = 1, maximum = 1000),
        ("offset" = Option<i64>, Query, description = "Errors to skip (default 0)", minimum = 0),
        ("fields" = Option<String>, Query, description = "`all` for snag's full record of each error (see above)"),
    ),
    responses(
        (status = 200, description = "A page of errors: the original's nine fields each, or snag's record with `fields=all` (`ErrorListBody`)", body = OriginalErrorList),
        (status = 422, description = "A parameter is out of range or unknown, or text with control characters", body = ValidationBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn list_errors(
    State(state): State<ApiState>,
    ApiPath(repository): ApiPath<String>,
    mut query: QueryParams,
) -> Result<Response, ApiError> {
    let all_fields = query.parsed::<Fields>("fields", &["all"]).is_some();
    let body = find_errors(&state, &repository, query).await?;
    if all_fields {
        return Ok(Json(body).into_response());
    }
    let mut run_ids: Vec<i64> = body.errors.iter().filter_map(|e| e.run_id).collect();
    run_ids.sort_unstable();
    run_ids.dedup();
    let directories = state.store.run_directories(&run_ids).await?;
    Ok(Json(OriginalErrorList::new(body, &directories)).into_response())
}

/// A page of a repository's errors, newest first, as snag records them
///
/// The same list as the original service's error list with `fields=all`,
/// for any repository name (a `/` given as `%2F`).
#[utoipa::path(
    get,
    path = "/api/v1/repositories/{repository}/errors",
    tag = "error-tracking",
    params(
        ("repository" = String, Path, description = "Repository name; URL-encode a `/` as `%2F`"),
        ("error_type" = Option<String>, Query, description = "Only errors of this type; an empty value is no filter and an unknown type matches nothing"),
        ("verdict" = Option<Verdict>, Query, description = "Only syntax errors with this verdict of the reference parser: `grammar_gap`, `invalid_source` or `unknown`"),
        ("limit" = Option<i64>, Query, description = "Page size, 1 to 1000 (default 100)", minimum = 1, maximum = 1000),
        ("offset" = Option<i64>, Query, description = "Errors to skip (default 0)", minimum = 0),
    ),
    responses(
        (status = 200, description = "A page of errors", body = ErrorListBody),
        (status = 422, description = "A parameter is out of range or unknown, or text with control characters", body = ValidationBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn list_repository_errors(
    State(state): State<ApiState>,
    ApiPath(repository): ApiPath<String>,
    query: QueryParams,
) -> Result<Json<ErrorListBody>, ApiError> {
    find_errors(&state, &repository, query).await.map(Json)
}

/// The page the query asks for.
async fn find_errors(
    state: &ApiState,
    repository: &str,
    mut query: QueryParams,
) -> Result<ErrorListBody, ApiError> {
    // As the original service: the type is not checked. An empty one is no
    // filter, an unknown one a filter nothing matches; both echoed.
    let asked_type = query.raw("error_type").map(str::to_owned);
    let error_type = match asked_type.as_deref() {
        None | Some("") => TypeFilter::Any,
        Some(name) => name
            .parse::<ErrorType>()
            .map_or(TypeFilter::Nothing, TypeFilter::Only),
    };
    let verdict = query.parsed::<Verdict>("verdict", &Verdict::ALL.map(Verdict::as_str));
    let limit = query.integer(
        "limit",
        PageRequest::DEFAULT_LIMIT,
        1,
        Some(PageRequest::MAX_LIMIT),
    );
    let offset = query.integer("offset", 0, 0, None);
    query.finish()?;
    let page = PageRequest::new(limit, offset)?;
    let found = match error_type {
        TypeFilter::Nothing => ErrorPage::default(),
        TypeFilter::Any => {
            state
                .store
                .get_errors_by_verdict(repository, None, verdict, page)
                .await?
        }
        TypeFilter::Only(t) => {
            state
                .store
                .get_errors_by_verdict(repository, Some(t), verdict, page)
                .await?
        }
    };
    Ok(ErrorListBody::new(repository, None, page, found)
        .with_error_type_as_given(asked_type.as_deref())
        .with_verdict(verdict))
}

/// `fields=all`.
struct Fields;

impl std::str::FromStr for Fields {
    type Err = ();

    fn from_str(word: &str) -> Result<Self, ()> {
        (word == "all").then_some(Fields).ok_or(())
    }
}

/// The error list as the original service wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OriginalErrorList {
    pub errors: Vec<OriginalError>,
    pub total: i64,
    pub repository: String,
    pub filters: ErrorFilters,
}

/// An error as the original service wrote it: its nine fields, in its order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OriginalError {
    pub error_id: i64,
    pub repository: String,
    /// The file under the directory its run was started on:
    /// `/srv/code/web/src/a.ts` (the original stored the path it was given).
    pub file_path: String,
    pub error_type: String,
    pub error_message: String,
    pub error_traceback: Option<String>,
    pub chunk_type: Option<String>,
    pub language: Option<String>,
    /// A naive UTC time: `2025-11-03T06:39:32.123456`.
    pub occurred_at: String,
}

impl OriginalErrorList {
    fn new(body: ErrorListBody, directories: &BTreeMap<i64, String>) -> Self {
        let errors = body
            .errors
            .into_iter()
            .map(|e| OriginalError {
                file_path: match e.run_id.and_then(|run| directories.get(&run)) {
                    Some(directory) => under(directory, &e.file_path),
                    None => stored_path::display(&e.file_path).into_owned(),
                },
                error_id: e.error_id,
                repository: e.repository,
                error_type: e.error_type.as_str().to_owned(),
                error_message: e.error_message,
                error_traceback: e.error_traceback,
                chunk_type: e.chunk_type,
                language: e.language,
                occurred_at: original::naive_time(e.occurred_at),
            })
            .collect();
        OriginalErrorList {
            errors,
            total: body.total,
            repository: body.repository,
            filters: body.filters,
        }
    }
}

/// `str(Path(directory) / stored)`.
fn under(directory: &str, stored: &str) -> String {
    let path = stored_path::display(stored);
    match directory {
        _ if path.starts_with('/') => path.into_owned(),
        "." | "" => path.into_owned(),
        _ if directory.ends_with('/') => format!("{directory}{path}"),
        _ => format!("{directory}/{path}"),
    }
}

/// The type filter of the error list.
enum TypeFilter {
    Any,
    Only(ErrorType),
    /// A type that does not exist: nothing matches.
    Nothing,
}

/// Error counts of a repository by type
#[utoipa::path(
    get,
    path = "/api/v1/indexing/batch/errors/{repository}/summary",
    tag = "error-tracking",
    params(("repository" = String, Path, description = "Repository name (one path segment: as in the original service, a `/` cannot be given, even as `%2F`)")),
    responses(
        (status = 200, description = "Counts by error type (types with none are absent)", body = SummaryBody),
        (status = 422, description = "The repository name has control characters", body = ValidationBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn error_summary(
    State(state): State<ApiState>,
    ApiPath(repository): ApiPath<String>,
) -> Result<Json<SummaryBody>, ApiError> {
    let counts = state.store.get_error_summary(&repository).await?;
    Ok(Json(SummaryBody::new(&repository, counts)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_lie_under_the_directory_as_pathlib_joins_them() {
        assert_eq!(under("/srv/web", "src/a.ts"), "/srv/web/src/a.ts");
        assert_eq!(under("/", "a.ts"), "/a.ts");
        assert_eq!(under(".", "a.ts"), "a.ts");
        assert_eq!(under("code", "100%25.ts"), "code/100%.ts");
        assert_eq!(under("/srv/web", "/test/file.ts"), "/test/file.ts");
    }
}
