//! `POST /api/v1/indexing/batch/start` and `GET .../status/{repository}`:
//! the original service's job endpoints, backed by snag's runs (a job is a
//! run; its id is the run id).

use std::path::PathBuf;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::ApiState;
use crate::api::error::{ApiError, ErrorBody, FieldError, ValidationBody};
use crate::api::extract::{ApiJson, ApiPath, RequestText, name_error};
use crate::api::roots::RootError;
use crate::index::discover::{Discovery, DiscoveryError, DiscoveryOptions};
use crate::index::progress::RunStatus;
use crate::runner::{self, RunError, RunRequest};
use crate::store::StoreError;
use crate::store::runs::RunRecord;

/// Body of the start request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StartRequest {
    /// Directory to index; must lie inside one of the server's allowed roots.
    #[schema(example = "/srv/code/web")]
    pub directory: String,
    /// Name to store the results under.
    #[schema(example = "web")]
    pub repository: String,
    /// Extensions to index, with or without the dot (default: `.ts` and `.js`, as
    /// the original service).
    #[serde(default = "default_extensions")]
    #[schema(default = json!([".ts", ".js"]), example = json!([".ts", ".tsx", ".js"]))]
    pub extensions: Vec<String>,
    /// Index test files (`*.test.*`, `*.spec.*`, `__tests__/`) too.
    #[serde(default)]
    pub include_tests: bool,
}

impl RequestText for StartRequest {
    fn text_errors(&self) -> Vec<FieldError> {
        let mut errors: Vec<FieldError> = [
            name_error(["body", "directory"], &self.directory),
            name_error(["body", "repository"], &self.repository),
        ]
        .into_iter()
        .flatten()
        .collect();
        errors.extend(
            self.extensions
                .iter()
                .find_map(|e| name_error(["body", "extensions"], e)),
        );
        errors
    }
}

fn default_extensions() -> Vec<String> {
    vec![".ts".to_owned(), ".js".to_owned()]
}

/// Answer to a start request (201).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StartResponse {
    /// The run's id, as text.
    pub job_id: String,
    pub repository: String,
    /// Files found to index.
    pub total_files: u64,
    /// `processing`: the run has started.
    pub status: String,
    pub message: String,
}

/// The latest job of a repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatusResponse {
    /// The run's id as text; null when the repository has no runs.
    pub job_id: Option<String>,
    pub repository: String,
    pub total_files: u64,
    /// Files finished, whatever their outcome (skipped and failed included).
    pub processed_files: u64,
    /// Finished files with errors (outcome `failed` or `partial`).
    pub failed_files: u64,
    /// `processing`, `completed`, `cancelled`, `failed`, or `not_found` when
    /// the repository has no runs.
    pub status: String,
    /// "processed/total".
    pub progress: String,
    /// 0 to 100, two decimals.
    pub progress_percent: f64,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
}

/// Start indexing a directory in the background
///
/// The files are counted first, so `total_files` is known at once; the run
/// then goes on in the server. Follow it with the status endpoint.
#[utoipa::path(
    post,
    path = "/api/v1/indexing/batch/start",
    tag = "Batch Indexing",
    request_body = StartRequest,
    responses(
        (status = 201, description = "The run has started", body = StartResponse),
        (status = 400, description = "The directory does not exist or holds no files to index", body = ErrorBody),
        (status = 403, description = "The directory is outside the allowed roots", body = ErrorBody),
        (status = 409, description = "A run of this repository is already going", body = ErrorBody),
        (status = 413, description = "The body is larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "The body is not valid JSON, lacks a field, or has control characters in a name", body = ValidationBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn start(
    State(state): State<ApiState>,
    ApiJson(body): ApiJson<StartRequest>,
) -> Result<(StatusCode, Json<StartResponse>), ApiError> {
    let repository = body.repository.trim().to_owned();
    if repository.is_empty() {
        return Err(ApiError::invalid(
            "string_too_short",
            ["body", "repository"],
            "the repository name must not be empty",
            Some(&body.repository),
        ));
    }
    if body.extensions.is_empty() {
        return Err(ApiError::invalid(
            "too_short",
            ["body", "extensions"],
            "give at least one extension",
            None,
        ));
    }
    let directory = state.roots.admit(&body.directory).map_err(|e| match e {
        RootError::Outside(_) => ApiError::Forbidden(e.to_string()),
        other => ApiError::BadRequest(other.to_string()),
    })?;
    // Counting the files can take a while: a run already going, in this
    // process or any other on the same database, is refused first. The
    // repository's lock, taken when the run starts, is what guarantees it.
    if let Some(running) = state.store.running_run(&repository).await? {
        return Err(ApiError::Store(StoreError::RepositoryBusy {
            repository,
            running: Some(running),
        }));
    }
    let options = DiscoveryOptions {
        extensions: body.extensions.clone(),
        excludes: Vec::new(),
        include_tests: body.include_tests,
    };
    let total_files = count_files(directory.clone(), options.clone()).await?;
    if total_files == 0 {
        return Err(ApiError::BadRequest(format!(
            "No files found in {} with extensions {:?}",
            body.directory, body.extensions
        )));
    }

    let mut request = RunRequest::new(&directory);
    request.repository = repository.clone();
    request.discovery = options;
    let handle = runner::start(state.store.clone(), request)
        .await
        .map_err(|e| match e {
            RunError::Discovery(e) => ApiError::BadRequest(e.to_string()),
            RunError::Store(busy @ StoreError::RepositoryBusy { .. }) => ApiError::Store(busy),
            other => ApiError::Internal(format!("cannot start the run: {other}")),
        })?;
    let run_id = handle.run_id;
    if !state.jobs.adopt(handle, total_files) {
        return Err(already_running(&repository));
    }
    let mut message = format!("Batch indexing started. Found {total_files} files.");
    if body.include_tests {
        message.push_str(" (including test files)");
    }
    // The original service's words, the name as given.
    message.push_str(&format!(
        " Use GET /status/{repository} to monitor progress."
    ));
    Ok((
        StatusCode::CREATED,
        Json(StartResponse {
            job_id: run_id.to_string(),
            repository,
            total_files,
            status: "processing".to_owned(),
            message,
        }),
    ))
}

fn already_running(repository: &str) -> ApiError {
    ApiError::Conflict(format!(
        "a run of repository `{repository}` is already going; wait for it to finish"
    ))
}

/// Discovery's count of the files a run would index (unreadable entries
/// included: they become `io_error` files).
async fn count_files(directory: PathBuf, options: DiscoveryOptions) -> Result<u64, ApiError> {
    let counted = tokio::task::spawn_blocking(move || {
        let discovery = Discovery::new(&directory, &options)?;
        let mut total = 0u64;
        discovery.walk(|_| {
            total += 1;
            true
        });
        Ok::<u64, DiscoveryError>(total)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("counting the files failed: {e}")))?;
    counted.map_err(|e| match e {
        DiscoveryError::UnsupportedExtension { .. } => {
            ApiError::invalid("value_error", ["body", "extensions"], e.to_string(), None)
        }
        other => ApiError::BadRequest(other.to_string()),
    })
}

/// Status of a repository's latest job
///
/// Counts are live while the run goes on in this server, and come from the
/// stored run otherwise. Every finished file counts as processed, so a run
/// with failures still reaches 100%. A repository without runs answers 200
/// with status `not_found`, as the original service did.
#[utoipa::path(
    get,
    path = "/api/v1/indexing/batch/status/{repository}",
    tag = "Batch Indexing",
    params(("repository" = String, Path, description = "Repository name; URL-encode a `/` as `%2F`")),
    responses(
        (status = 200, description = "The latest job's progress", body = StatusResponse),
        (status = 422, description = "The repository name has control characters", body = ValidationBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn status(
    State(state): State<ApiState>,
    ApiPath(repository): ApiPath<String>,
) -> Result<Json<StatusResponse>, ApiError> {
    let Some(run) = state.store.latest_run(&repository).await? else {
        return Ok(Json(not_found(repository)));
    };
    let live = state
        .jobs
        .get(&repository)
        .filter(|job| job.run_id == run.run_id && run.status == RunStatus::Running);
    let counts = match live {
        Some(job) => {
            let p = job.snapshot();
            Counts {
                total: job.total_files.max(p.discovered),
                processed: p.done(),
                failed: p.failed + p.partial,
            }
        }
        None if run.status == RunStatus::Running => {
            // Running elsewhere (another snag): what its row says so far,
            // the total as soon as its discovery is over.
            let f = run.figures(Utc::now());
            Counts {
                total: f.total.unwrap_or(f.done).max(f.done),
                processed: f.done,
                failed: f.failed + f.partial,
            }
        }
        None => stored_counts(&run),
    };
    Ok(Json(status_body(repository, &run, counts)))
}

struct Counts {
    total: u64,
    processed: u64,
    failed: u64,
}

fn stored_counts(run: &RunRecord) -> Counts {
    let total = run.files_total.max(0) as u64;
    Counts {
        total,
        processed: total,
        failed: (run.files_failed + run.files_partial).max(0) as u64,
    }
}

fn status_body(repository: String, run: &RunRecord, counts: Counts) -> StatusResponse {
    let percent = if counts.total > 0 {
        (counts.processed as f64 / counts.total as f64 * 10_000.0).round() / 100.0
    } else if run.status == RunStatus::Running {
        0.0
    } else {
        100.0
    };
    StatusResponse {
        job_id: Some(run.run_id.to_string()),
        repository,
        total_files: counts.total,
        processed_files: counts.processed,
        failed_files: counts.failed,
        status: job_status(run.status).to_owned(),
        progress: format!("{}/{}", counts.processed, counts.total),
        progress_percent: percent.min(100.0),
        started_at: Some(run.started_at),
        completed_at: run.finished_at,
    }
}

/// The original service's word for a run that is going is `processing`.
fn job_status(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Running => "processing",
        other => other.as_str(),
    }
}

fn not_found(repository: String) -> StatusResponse {
    StatusResponse {
        job_id: None,
        repository,
        total_files: 0,
        processed_files: 0,
        failed_files: 0,
        status: "not_found".to_owned(),
        progress: "0/0".to_owned(),
        progress_percent: 0.0,
        started_at: None,
        completed_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_counts_every_finished_file() {
        let run = RunRecord::example;
        let counts = |total, processed, failed| Counts {
            total,
            processed,
            failed,
        };
        let body = status_body("web".into(), &run(RunStatus::Running), counts(3, 1, 1));
        assert_eq!(body.status, "processing");
        assert_eq!(body.progress, "1/3");
        assert_eq!(body.progress_percent, 33.33);
        assert_eq!(body.job_id.as_deref(), Some("3"));
        let done = status_body("web".into(), &run(RunStatus::Completed), counts(3, 3, 2));
        assert_eq!((done.progress_percent, done.failed_files), (100.0, 2));
        let nothing = status_body("web".into(), &run(RunStatus::Completed), counts(0, 0, 0));
        assert_eq!(nothing.progress_percent, 100.0);
        let starting = status_body("web".into(), &run(RunStatus::Running), counts(0, 0, 0));
        assert_eq!(starting.progress_percent, 0.0);
    }
}
