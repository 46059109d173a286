//! `GET /api/v1/indexing/batch/errors/{repository}` and its `/summary`:
//! the original service's bodies, field for field.

use axum::Json;
use axum::extract::State;

use crate::api::ApiState;
use crate::api::error::{ApiError, ValidationBody};
use crate::api::extract::{ApiPath, QueryParams};
use crate::index::outcome::{ErrorType, Verdict};
use crate::report::errors::{ErrorListBody, SummaryBody};
use crate::store::{ErrorPage, PageRequest};

/// A page of a repository's errors, newest first
///
/// Errors are ordered by `occurred_at` then `error_id`, newest first, so pages
/// never overlap. An unknown repository has no errors (`total` 0).
#[utoipa::path(
    get,
    path = "/api/v1/indexing/batch/errors/{repository}",
    tag = "error-tracking",
    params(
        ("repository" = String, Path, description = "Repository name; URL-encode a `/` as `%2F`"),
        ("error_type" = Option<String>, Query, description = "Only errors of this type; as in the original service, an empty value is no filter and an unknown type matches nothing (both echoed in `filters`)"),
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
pub async fn list_errors(
    State(state): State<ApiState>,
    ApiPath(repository): ApiPath<String>,
    mut query: QueryParams,
) -> Result<Json<ErrorListBody>, ApiError> {
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
                .get_errors_by_verdict(&repository, None, verdict, page)
                .await?
        }
        TypeFilter::Only(t) => {
            state
                .store
                .get_errors_by_verdict(&repository, Some(t), verdict, page)
                .await?
        }
    };
    Ok(Json(
        ErrorListBody::new(&repository, None, page, found)
            .with_error_type_as_given(asked_type.as_deref())
            .with_verdict(verdict),
    ))
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
    params(("repository" = String, Path, description = "Repository name; URL-encode a `/` as `%2F`")),
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
