//! Runs and their per-file outcomes (beyond the original service).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::ApiState;
use crate::api::error::{ApiError, ErrorBody, ValidationBody};
use crate::api::extract::{ApiPath, QueryParams};
use crate::index::outcome::{ErrorType, Outcome};
use crate::report::analysis::ReportError;
use crate::report::diff::{self, RunDiff};
use crate::report::run::{FileFilters, FileListBody};
use crate::store::PageRequest;
use crate::store::runs::RunRecord;

const DEFAULT_RUNS: i64 = 50;
const MAX_RUNS: i64 = 1000;

/// Body of `GET /api/v1/runs`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RunListBody {
    pub runs: Vec<RunRecord>,
    pub repository: Option<String>,
    pub limit: i64,
}

/// Body of `GET /api/v1/runs/{run_id}`: the run and its errors by type.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RunDetailBody {
    #[serde(flatten)]
    pub run: RunRecord,
    pub errors_by_type: BTreeMap<ErrorType, i64>,
}

/// Runs, newest first
#[utoipa::path(
    get,
    path = "/api/v1/runs",
    tag = "runs",
    params(
        ("repository" = Option<String>, Query, description = "Only runs of this repository"),
        ("limit" = Option<i64>, Query, description = "At most this many, 1 to 1000 (default 50)", minimum = 1, maximum = 1000),
    ),
    responses(
        (status = 200, description = "Runs, newest first", body = RunListBody),
        (status = 422, description = "A parameter is out of range, or text with control characters", body = ValidationBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn list_runs(
    State(state): State<ApiState>,
    mut query: QueryParams,
) -> Result<Json<RunListBody>, ApiError> {
    let limit = query.integer("limit", DEFAULT_RUNS, 1, Some(MAX_RUNS));
    let repository = query.text("repository").map(str::to_owned);
    query.finish()?;
    let runs = state.store.list_runs(repository.as_deref(), limit).await?;
    Ok(Json(RunListBody {
        runs,
        repository,
        limit,
    }))
}

/// What changed from run `a` to run `b`
///
/// Files failing in either run, grouped by problem group: newly failing,
/// fixed, gone (not in run `b`), failing with another problem or another
/// verdict; with counts of each and of files still failing alike. Both runs
/// must be of one repository. `snag diff A B --format json` prints the same.
#[utoipa::path(
    get,
    path = "/api/v1/runs/{a}/diff/{b}",
    tag = "runs",
    params(
        ("a" = i64, Path, description = "The earlier run's id"),
        ("b" = i64, Path, description = "The later run's id"),
    ),
    responses(
        (status = 200, description = "The changes", body = RunDiff),
        (status = 400, description = "The runs are of different repositories", body = ErrorBody),
        (status = 404, description = "No such run", body = ErrorBody),
        (status = 422, description = "An id is not a number", body = ValidationBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn run_diff(
    State(state): State<ApiState>,
    ApiPath((a, b)): ApiPath<(i64, i64)>,
) -> Result<Json<RunDiff>, ApiError> {
    let (from, to) = diff::resolve(&state.store, None, Some(a), Some(b))
        .await
        .map_err(|e| match e {
            ReportError::Store(e) => ApiError::Store(e),
            ReportError::NoSuchRun(id) => no_run(id),
            other => ApiError::BadRequest(other.to_string()),
        })?;
    let changes = diff::load(&state.store, &from, &to)
        .await
        .map_err(|e| match e {
            ReportError::Store(e) => ApiError::Store(e),
            other => ApiError::Internal(other.to_string()),
        })?;
    Ok(Json(changes))
}

/// One run, with its error counts by type
#[utoipa::path(
    get,
    path = "/api/v1/runs/{run_id}",
    tag = "runs",
    params(("run_id" = i64, Path, description = "The run's id (a job_id of the batch endpoints)")),
    responses(
        (status = 200, description = "The run", body = RunDetailBody),
        (status = 404, description = "No such run", body = ErrorBody),
        (status = 422, description = "The id is not a number", body = ValidationBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn get_run(
    State(state): State<ApiState>,
    ApiPath(run_id): ApiPath<i64>,
) -> Result<Json<RunDetailBody>, ApiError> {
    let run = state
        .store
        .get_run(run_id)
        .await?
        .ok_or_else(|| no_run(run_id))?;
    let errors_by_type = state.store.run_error_counts(run_id).await?;
    Ok(Json(RunDetailBody {
        run,
        errors_by_type,
    }))
}

/// A page of the files of a run with their outcomes, in path order
///
/// Paths are unique within a run, so pages never overlap; `total` counts the
/// matching files over all pages.
#[utoipa::path(
    get,
    path = "/api/v1/runs/{run_id}/files",
    tag = "runs",
    params(
        ("run_id" = i64, Path, description = "The run's id"),
        ("outcome" = Option<Outcome>, Query, description = "Only files with this outcome"),
        ("limit" = Option<i64>, Query, description = "Page size, 1 to 1000 (default 100)", minimum = 1, maximum = 1000),
        ("offset" = Option<i64>, Query, description = "Files to skip (default 0)", minimum = 0),
    ),
    responses(
        (status = 200, description = "A page of the run's files (the body of `snag files --format json`, which lists them all)", body = FileListBody),
        (status = 404, description = "No such run", body = ErrorBody),
        (status = 422, description = "Unknown outcome, a limit or offset out of range, or a run id that is not a number", body = ValidationBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn run_files(
    State(state): State<ApiState>,
    ApiPath(run_id): ApiPath<i64>,
    mut query: QueryParams,
) -> Result<Json<FileListBody>, ApiError> {
    let outcome = query.parsed::<Outcome>("outcome", &Outcome::ALL.map(Outcome::as_str));
    let limit = query.integer(
        "limit",
        PageRequest::DEFAULT_LIMIT,
        1,
        Some(PageRequest::MAX_LIMIT),
    );
    let offset = query.integer("offset", 0, 0, None);
    query.finish()?;
    let page = PageRequest::new(limit, offset)?;
    let run = state
        .store
        .get_run(run_id)
        .await?
        .ok_or_else(|| no_run(run_id))?;
    let (files, total) = state.store.list_files_page(run_id, outcome, page).await?;
    Ok(Json(FileListBody {
        files,
        total,
        repository: run.repository,
        run_id,
        filters: FileFilters {
            outcome,
            limit: Some(limit),
            offset,
        },
    }))
}

fn no_run(run_id: i64) -> ApiError {
    ApiError::NotFound(format!("there is no run {run_id}"))
}
