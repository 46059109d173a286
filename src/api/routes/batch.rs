//! `POST /api/v1/indexing/batch/start` and `GET .../status/{repository}`:
//! the original service's job endpoints, backed by snag's runs (a job is a
//! run; its id is the run id).

use std::path::PathBuf;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::ApiState;
use crate::api::error::{ApiError, ErrorBody, FieldError, ValidationBody};
use crate::api::extract::{ApiJson, ApiPath, BodyModel, name_error};
use crate::api::original;
use crate::api::pydantic::{Field, Shape};
use crate::api::roots::RootError;
use crate::index::discover::{Discovery, DiscoveryError, DiscoveryOptions, DiscoveryRules};
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
    /// Index test files too: paths containing `__tests__`, `.spec.`,
    /// `.test.`, `vitest.config` or `vitest.setup`, as the original service.
    #[serde(default)]
    pub include_tests: bool,
}

impl BodyModel for StartRequest {
    const FIELDS: &'static [Field] = &[
        Field::required("directory", Shape::Text),
        Field::required("repository", Shape::Text),
        Field::defaulted("extensions", Shape::TextList),
        Field::defaulted("include_tests", Shape::Flag),
    ];

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
    /// The name as given.
    pub repository: String,
    /// Files found to index.
    pub total_files: u64,
    /// Batches of [`BATCH_SIZE`] files the original service would cut the
    /// files into: `ceil(total_files / 40)`.
    pub total_batches: u64,
    /// `pending`: the run has not finished a file yet.
    pub status: String,
    pub message: String,
}

/// The latest job of a repository, counted as the original service counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatusResponse {
    /// The run's id as text; null when the repository has no runs.
    pub job_id: Option<String>,
    pub repository: String,
    pub total_files: u64,
    /// Files indexed without an error (skipped ones included).
    pub processed_files: u64,
    /// Files with errors (outcome `failed` or `partial`).
    pub failed_files: u64,
    /// The batch of 40 files being worked on, from 1; 0 before the first
    /// file is done.
    pub current_batch: u64,
    pub total_batches: u64,
    /// `pending` (no file done yet), `processing`, `completed`, `cancelled`,
    /// `failed`, or `not_found` when the repository has no runs.
    pub status: String,
    /// "processed/total": a run whose files failed ends below 100%.
    pub progress: String,
    /// `round(processed / total * 100, 2)`; 0.0 without files.
    pub progress_percent: f64,
    /// `2025-11-03T06:39:32.123456+00:00`.
    pub started_at: Option<String>,
    /// Empty until the run has ended, then a naive UTC time
    /// (`2025-11-03T06:41:07.000042`); null only for `not_found`.
    pub completed_at: Option<String>,
}

/// The original service cut a job's files into batches of this many.
pub const BATCH_SIZE: u64 = 40;

fn batches(files: u64) -> u64 {
    files.div_ceil(BATCH_SIZE)
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
        (status = 422, description = "Every problem with the body at once, as Pydantic words it: not JSON (by its Content-Type) or not valid JSON, not an object, a missing field or one of the wrong shape, a blank repository name, an extension snag cannot parse, or control characters in a name", body = ValidationBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn start(
    State(state): State<ApiState>,
    ApiJson(body): ApiJson<StartRequest>,
) -> Result<(StatusCode, Json<StartResponse>), ApiError> {
    // The name as given, as the original service keeps it; one that is
    // blank could never be asked for again.
    let repository = body.repository.clone();
    if repository.trim().is_empty() {
        return Err(ApiError::invalid(
            "string_too_short",
            ["body", "repository"],
            "the repository name must not be blank",
            Some(&body.repository),
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
        respect_ignore_files: false,
        rules: DiscoveryRules::OriginalService,
    };
    let total_files = count_files(directory.clone(), options.clone()).await?;
    if total_files == 0 {
        return Err(ApiError::BadRequest(format!(
            "No files found in {} with extensions {}",
            body.directory,
            original::list_repr(&body.extensions)
        )));
    }

    let mut request = RunRequest::new(&directory);
    request.repository = repository.clone();
    request.discovery = options;
    request.directory_as_given = Some(original::pure_path(&body.directory));
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
            total_batches: batches(total_files),
            status: "pending".to_owned(),
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
/// Counted as the original service counts: `processed_files` are the files
/// indexed without an error and `failed_files` those with errors, so a run
/// with failures ends below 100%. Counts are live while the run goes on (in
/// this server or another process) and come from the stored run once it has
/// ended. A repository without runs answers 200 with status `not_found`.
#[utoipa::path(
    get,
    path = "/api/v1/indexing/batch/status/{repository}",
    tag = "Batch Indexing",
    params(("repository" = String, Path, description = "Repository name (one path segment: as in the original service, a `/` cannot be given, even as `%2F`)")),
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
            let failed = p.failed + p.partial;
            Counts {
                total: job.total_files.max(p.discovered),
                processed: p.done() - failed,
                failed,
            }
        }
        // Running elsewhere (another snag) or ended: what its row says.
        None => stored_counts(&run),
    };
    Ok(Json(status_body(repository, &run, counts)))
}

/// A job's files as the original counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counts {
    total: u64,
    /// Done without an error.
    processed: u64,
    /// Done with errors.
    failed: u64,
}

impl Counts {
    fn done(&self) -> u64 {
        self.processed + self.failed
    }
}

fn stored_counts(run: &RunRecord) -> Counts {
    let count = |n: i32| n.max(0) as u64;
    let done = count(run.files_total);
    let failed = count(run.files_failed) + count(run.files_partial);
    Counts {
        // The total is known once discovery is over; until then, what is done.
        total: run.files_discovered.map_or(done, count).max(done),
        processed: done.saturating_sub(failed),
        failed,
    }
}

fn status_body(repository: String, run: &RunRecord, counts: Counts) -> StatusResponse {
    let total_batches = batches(counts.total);
    let running = run.status == RunStatus::Running;
    let status = match run.status {
        RunStatus::Running if counts.done() == 0 => "pending",
        RunStatus::Running => "processing",
        other => other.as_str(),
    };
    // The original numbers a batch as it begins it and keeps the last one's.
    let current_batch = match (running, counts.done()) {
        (true, 0) => 0,
        (true, done) => (done / BATCH_SIZE + 1).min(total_batches),
        (false, _) => total_batches,
    };
    let progress_percent = if counts.total > 0 {
        original::round2(counts.processed as f64 / counts.total as f64 * 100.0)
    } else {
        0.0
    };
    StatusResponse {
        job_id: Some(run.run_id.to_string()),
        repository,
        total_files: counts.total,
        processed_files: counts.processed,
        failed_files: counts.failed,
        current_batch,
        total_batches,
        status: status.to_owned(),
        progress: format!("{}/{}", counts.processed, counts.total),
        progress_percent,
        started_at: Some(original::utc_time(run.started_at)),
        completed_at: Some(match run.finished_at {
            Some(finished) if !running => original::naive_time(finished),
            _ => String::new(),
        }),
    }
}

fn not_found(repository: String) -> StatusResponse {
    StatusResponse {
        job_id: None,
        repository,
        total_files: 0,
        processed_files: 0,
        failed_files: 0,
        current_batch: 0,
        total_batches: 0,
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

    fn counts(total: u64, processed: u64, failed: u64) -> Counts {
        Counts {
            total,
            processed,
            failed,
        }
    }

    #[test]
    fn a_job_is_pending_until_a_file_is_done_then_processing() {
        let run = RunRecord::example(RunStatus::Running);
        let fresh = status_body("web".into(), &run, counts(100, 0, 0));
        assert_eq!(fresh.status, "pending");
        assert_eq!((fresh.current_batch, fresh.total_batches), (0, 3));
        assert_eq!(fresh.progress, "0/100");
        assert_eq!(fresh.completed_at.as_deref(), Some(""));
        let going = status_body("web".into(), &run, counts(100, 40, 1));
        assert_eq!(going.status, "processing");
        assert_eq!((going.current_batch, going.total_batches), (2, 3));
        assert_eq!(going.progress, "40/100");
        assert_eq!(going.progress_percent, 40.0);
        let last = status_body("web".into(), &run, counts(100, 99, 0));
        assert_eq!(last.current_batch, 3);
    }

    #[test]
    fn failures_keep_a_finished_job_below_100_percent() {
        let mut run = RunRecord::example(RunStatus::Completed);
        run.finished_at = Some(run.started_at);
        let done = status_body("web".into(), &run, counts(2, 1, 1));
        assert_eq!(done.status, "completed");
        assert_eq!(
            (done.progress.as_str(), done.progress_percent),
            ("1/2", 50.0)
        );
        assert_eq!((done.current_batch, done.total_batches), (1, 1));
        assert!(done.started_at.unwrap().ends_with("+00:00"));
        let completed_at = done.completed_at.unwrap();
        assert!(
            !completed_at.is_empty() && !completed_at.ends_with('Z'),
            "{completed_at}"
        );
        let nothing = status_body("web".into(), &run, counts(0, 0, 0));
        assert_eq!((nothing.progress_percent, nothing.total_batches), (0.0, 0));
    }

    #[test]
    fn stored_runs_count_successes_and_failures_apart() {
        let mut run = RunRecord::example(RunStatus::Running);
        run.files_total = 30;
        run.files_failed = 2;
        run.files_partial = 1;
        run.files_discovered = None;
        assert_eq!(stored_counts(&run), counts(30, 27, 3));
        run.files_discovered = Some(90);
        assert_eq!(stored_counts(&run), counts(90, 27, 3));
    }

    #[test]
    fn batches_are_forty_files() {
        assert_eq!([0, 1, 40, 41, 80, 100].map(batches), [0, 1, 1, 2, 2, 3]);
    }
}
