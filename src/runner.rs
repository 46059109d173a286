//! Starting and finishing a run: the engine's threads, the one writer that
//! stores their reports in batches, and the run row. Headless mode, the TUI
//! and the API all start runs through here.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::grammar_cache_dir;
use crate::index::discover::{
    Discovery, DiscoveryError, DiscoveryOptions, DiscoveryRules, PassedOver,
};
use crate::index::grammar::{GrammarError, GrammarInfo, GrammarSource, Grammars};
use crate::index::language::Language;
use crate::index::outcome::{ErrorType, Verdict};
use crate::index::pipeline::{Pipeline, PipelineContext};
use crate::index::process::{FileReport, ProcessSettings};
use crate::index::progress::{ProgressSnapshot, RunHealth, RunProgress, RunStatus};
use crate::store::ingest::WriteConnection;
use crate::store::runs::NewRun;
use crate::store::{Store, StoreError};

/// Files stored per transaction at most: files parsed, whose rows it writes.
const MAX_BATCH_FILES: usize = 512;
/// Reports per transaction at most, counting the files that keep their
/// stored results: those write nothing of their own, so a re-run of a
/// mostly unchanged repository takes few transactions.
const MAX_BATCH_REPORTS: usize = 8192;
/// A batch is written once it holds this much source text...
const BATCH_BYTES: u64 = 1 << 20;
/// ...or once its first report has waited this long. Each transaction costs
/// the server the same work however few files it holds, so the writer
/// gathers rather than writing whatever has just arrived.
const BATCH_WAIT: Duration = Duration::from_millis(100);

/// After the database went away, marking the run as ended is tried this
/// many times, each attempt given [`END_ATTEMPT`], with [`END_PAUSE`]
/// between: at most about 4 s in all.
const END_ATTEMPTS: u32 = 3;
const END_ATTEMPT: Duration = Duration::from_secs(1);
const END_PAUSE: Duration = Duration::from_millis(400);

/// Everything that defines a run.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub root: PathBuf,
    pub repository: String,
    pub discovery: DiscoveryOptions,
    pub settings: ProcessSettings,
    pub jobs: usize,
    /// The directory as a client named it, when that is not `root`: the
    /// original service's start endpoint gives file paths under it.
    pub directory_as_given: Option<String>,
    /// Parse every file. Otherwise a file whose text, snag and settings
    /// are those of its last stored result keeps that result.
    pub full: bool,
}

impl RunRequest {
    /// A run of `root` with default options, named after its directory.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        RunRequest {
            repository: default_repository_name(&root),
            root,
            discovery: DiscoveryOptions::default(),
            settings: ProcessSettings::default(),
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            directory_as_given: None,
            full: false,
        }
    }

    /// The request that made `run`, to index its directory again: its
    /// repository and the options it recorded (defaults for any it did not).
    pub fn again(run: &crate::store::runs::RunRecord) -> Self {
        let mut request = RunRequest::new(&run.root);
        request.repository = run.repository.clone();
        let options = &run.options;
        let strings = |key: &str| -> Option<Vec<String>> {
            serde_json::from_value(options.get(key)?.clone()).ok()
        };
        if let Some(extensions) = strings("extensions") {
            request.discovery.extensions = extensions;
        }
        if let Some(excludes) = strings("excludes") {
            request.discovery.excludes = excludes;
        }
        if let Some(include) = options.get("include_tests").and_then(|v| v.as_bool()) {
            request.discovery.include_tests = include;
        }
        if let Some(respect) = options
            .get("respect_ignore_files")
            .and_then(|v| v.as_bool())
        {
            request.discovery.respect_ignore_files = respect;
        }
        if let Some(rules) = options
            .get("discovery_rules")
            .and_then(|v| v.as_str())
            .and_then(DiscoveryRules::from_name)
        {
            request.discovery.rules = rules;
        }
        if let Some(size) = options.get("max_file_size").and_then(|v| v.as_u64()) {
            request.settings.max_file_size = size;
        }
        if let Some(ms) = options.get("parse_timeout_ms").and_then(|v| v.as_u64()) {
            request.settings.parse_timeout = Duration::from_millis(ms);
        }
        if let Some(verdicts) = options.get("verdicts").and_then(|v| v.as_bool()) {
            request.settings.verdicts = verdicts;
        }
        request.directory_as_given = options
            .get("directory")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        request
    }

    /// [`RunRequest::again`] with the grammars `run` parsed with, loaded
    /// again (built again from their sources when they left the cache).
    pub async fn again_with_grammars(
        run: &crate::store::runs::RunRecord,
    ) -> Result<Self, GrammarError> {
        let mut request = RunRequest::again(run);
        request.settings.grammars = recorded_grammars(run.grammar_versions.clone()).await?;
        Ok(request)
    }

    fn options_json(&self) -> serde_json::Value {
        let mut options = serde_json::json!({
            "extensions": self.discovery.extensions,
            "excludes": self.discovery.excludes,
            "include_tests": self.discovery.include_tests,
            "respect_ignore_files": self.discovery.respect_ignore_files,
            "discovery_rules": self.discovery.rules.name(),
            "max_file_size": self.settings.max_file_size,
            "parse_timeout_ms": self.settings.parse_timeout.as_millis() as u64,
            "verdicts": self.settings.verdicts,
            "jobs": self.jobs,
            "full": self.full,
        });
        if let Some(directory) = &self.directory_as_given {
            options["directory"] = serde_json::Value::from(directory.as_str());
        }
        options
    }
}

/// The directory's own name, or "repository" for `/`.
pub fn default_repository_name(root: &std::path::Path) -> String {
    let absolute = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    absolute
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "repository".to_owned())
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Discovery(#[from] DiscoveryError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot start the indexing threads: {0}")]
    Threads(std::io::Error),
    #[error(
        "the database went away during run {run_id}; {}: {cause}",
        stored_and_kept(*stored)
    )]
    DatabaseLost {
        run_id: i64,
        stored: u64,
        cause: StoreError,
    },
    #[error(
        "run {run_id} stopped: the database refuses to store even a failure for {}; {}: {cause}",
        crate::sanitize::path(path),
        stored_and_kept(*stored)
    )]
    Unstorable {
        run_id: i64,
        path: String,
        stored: u64,
        cause: StoreError,
    },
}

/// "12 files were stored before that and are kept", in the number
/// `stored` asks for.
fn stored_and_kept(stored: u64) -> String {
    let (were, are) = if stored == 1 {
        ("was", "is")
    } else {
        ("were", "are")
    };
    format!(
        "{} {were} stored before that and {are} kept",
        crate::words::count(stored, "file")
    )
}

/// The end of a run, as `snag index --format json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub run_id: i64,
    pub repository: String,
    pub root: String,
    pub status: RunStatus,
    pub files: FileCounts,
    pub errors_by_type: std::collections::BTreeMap<ErrorType, u64>,
    pub chunks: u64,
    pub duration_ms: u64,
    pub files_per_sec: f64,
    pub mb_per_sec: f64,
    /// Failing (failed or partial) files split by kind of failure.
    pub failures: FailureCounts,
    /// Syntax errors by the reference parser's verdict.
    pub verdicts: std::collections::BTreeMap<Verdict, u64>,
    /// Percent of the files that were not skipped that indexed cleanly.
    pub success_rate: f64,
    /// The same, leaving out files whose only failure is a grammar gap.
    pub success_rate_excluding_grammar_gaps: f64,
    /// How much of the parsed code tree-sitter could not read.
    pub parse_health: RunHealth,
    /// The grammar of each language: typescript, tsx, javascript.
    pub grammars: Vec<GrammarInfo>,
    /// What discovery left out, by reason (zeros when the run was
    /// cancelled during the walk).
    pub passed_over: PassedOver,
}

#[cfg(test)]
impl RunSummary {
    /// 100 files: 10 skipped, 80 clean, 10 failing (4 gap-only, 3 invalid,
    /// 3 other), 12 errors; for unit tests to change what they are about.
    pub(crate) fn example() -> RunSummary {
        RunSummary {
            run_id: 2,
            repository: "r".into(),
            root: "/r".into(),
            status: RunStatus::Completed,
            files: FileCounts {
                total: 100,
                indexed: 80,
                partial: 6,
                failed: 4,
                skipped: 10,
                reused: 0,
            },
            errors_by_type: std::collections::BTreeMap::from([
                (ErrorType::ParsingError, 10),
                (ErrorType::EncodingError, 2),
            ]),
            chunks: 0,
            duration_ms: 1,
            files_per_sec: 0.0,
            mb_per_sec: 0.0,
            failures: FailureCounts {
                grammar_gaps: 4,
                invalid_source: 3,
                other: 3,
            },
            verdicts: std::collections::BTreeMap::new(),
            success_rate: 0.0,
            success_rate_excluding_grammar_gaps: 0.0,
            parse_health: RunHealth::default(),
            grammars: Language::ALL
                .iter()
                .map(|l| Grammars::built_in().get(*l).info.clone())
                .collect(),
            passed_over: PassedOver::default(),
        }
    }
}

/// Failing files by kind: they add up to `partial + failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FailureCounts {
    /// Every error of the file is a syntax error the reference parser accepts.
    pub grammar_gaps: u64,
    /// A syntax error the reference parser confirms.
    pub invalid_source: u64,
    /// Anything else (other error types, undecided verdicts).
    pub other: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FileCounts {
    pub total: u64,
    pub indexed: u64,
    pub partial: u64,
    pub failed: u64,
    pub skipped: u64,
    /// Carried over from an earlier run (unchanged), not parsed again; each
    /// is also counted by its outcome above.
    pub reused: u64,
}

impl RunSummary {
    fn new(
        run_id: i64,
        request: &RunRequest,
        root: String,
        status: RunStatus,
        p: &ProgressSnapshot,
    ) -> Self {
        let round = |x: f64| (x * 10.0).round() / 10.0;
        let round2 = |x: f64| (x * 100.0).round() / 100.0;
        RunSummary {
            run_id,
            repository: request.repository.clone(),
            root,
            status,
            files: FileCounts {
                total: p.done(),
                indexed: p.indexed,
                partial: p.partial,
                failed: p.failed,
                skipped: p.skipped,
                reused: p.reused,
            },
            errors_by_type: p.errors_by_type.clone(),
            chunks: p.chunks,
            duration_ms: p.elapsed.as_millis() as u64,
            files_per_sec: round(p.files_per_sec()),
            mb_per_sec: round(p.mb_per_sec()),
            failures: FailureCounts {
                grammar_gaps: p.grammar_gaps,
                invalid_source: p.invalid_source,
                other: p.other_failures,
            },
            verdicts: p.verdicts.clone(),
            success_rate: round2(p.success_rate()),
            success_rate_excluding_grammar_gaps: round2(p.success_rate_excluding_grammar_gaps()),
            parse_health: RunHealth::new(
                p.errors_by_type
                    .get(&ErrorType::ParsingError)
                    .copied()
                    .unwrap_or(0),
                p.parsed_bytes,
                p.error_bytes,
                p.missing_nodes,
            ),
            grammars: Language::ALL
                .iter()
                .map(|l| request.settings.grammars.get(*l).info.clone())
                .collect(),
            passed_over: p.passed_over.unwrap_or_default(),
        }
    }
}

/// A run in progress.
pub struct RunHandle {
    pub run_id: i64,
    pub repository: String,
    pub progress: Arc<RunProgress>,
    cancel: CancellationToken,
    task: JoinHandle<Result<RunSummary, RunError>>,
}

impl RunHandle {
    /// Stop taking new files; what is done is stored and the run ends `cancelled`.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// A token that cancels this run, usable after `wait` took the handle.
    pub fn canceller(&self) -> CancellationToken {
        self.cancel.clone()
    }

    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    pub async fn wait(self) -> Result<RunSummary, RunError> {
        match self.task.await {
            Ok(result) => result,
            Err(e) => Err(RunError::Threads(std::io::Error::other(e.to_string()))),
        }
    }
}

/// The built-in grammars with `sources` in their place; building from
/// source runs the C compiler (its libraries cached under the data
/// directory), on a blocking thread.
pub async fn load_grammars(sources: Vec<GrammarSource>) -> Result<&'static Grammars, GrammarError> {
    if sources.is_empty() {
        return Ok(Grammars::built_in());
    }
    off_the_runtime(move || Grammars::load(&sources, &grammar_cache_dir())).await
}

/// The grammars a run recorded (`index_runs.grammar_versions`), loaded
/// again: see [`Grammars::recorded`].
pub async fn recorded_grammars(
    recorded: serde_json::Value,
) -> Result<&'static Grammars, GrammarError> {
    off_the_runtime(move || Grammars::recorded(&recorded, &grammar_cache_dir())).await
}

/// Loading grammars (which may compile them) on a blocking thread.
async fn off_the_runtime(
    load: impl FnOnce() -> Result<&'static Grammars, GrammarError> + Send + 'static,
) -> Result<&'static Grammars, GrammarError> {
    tokio::task::spawn_blocking(load).await.unwrap_or_else(|e| {
        Err(GrammarError::Load {
            path: String::new(),
            message: format!("loading the grammars stopped: {e}"),
        })
    })
}

/// Validates the request, creates the run row and starts the engine.
pub async fn start(store: Store, mut request: RunRequest) -> Result<RunHandle, RunError> {
    // The name every row of the run carries, as the database can hold it.
    request.repository = crate::store::text::storable(&request.repository).into_owned();
    let discovery = Discovery::new(&request.root, &request.discovery)?;
    let root = std::fs::canonicalize(&request.root)
        .unwrap_or_else(|_| request.root.clone())
        .display()
        .to_string();
    // Opening the store did this too, but the TUI and the API start many
    // runs on one store, long after another snag may have been killed.
    store.fail_abandoned_runs().await?;
    let connection = store.write_connection().await?;
    let lease = store
        .start_run(NewRun {
            repository: &request.repository,
            root: &root,
            options: request.options_json(),
            grammar_versions: request.settings.grammars.describe(),
        })
        .await?;
    let run_id = lease.run_id;
    // Read once the run holds the repository: no other run changes them.
    let stored = if request.full {
        None
    } else {
        Some(Arc::new(store.stored_results(&request.repository).await?))
    };
    let progress = Arc::new(RunProgress::default());
    let cancel = CancellationToken::new();
    let (reports_tx, reports_rx) = mpsc::channel(request.jobs.max(1) * 16);
    let (pipeline, discovered) = Pipeline::start(
        discovery,
        PipelineContext {
            settings: request.settings,
            jobs: request.jobs,
            progress: Arc::clone(&progress),
            cancel: cancel.clone(),
            stored,
        },
        reports_tx,
    )
    .map_err(RunError::Threads)?;
    let writer = Writer {
        store,
        run_id,
        repository: request.repository.clone(),
        progress: Arc::clone(&progress),
        cancel: cancel.clone(),
    };
    let shared_progress = Arc::clone(&progress);
    let repository = request.repository.clone();
    let task = tokio::spawn(async move {
        let result = writer.run(discovered, reports_rx, connection).await;
        lease.release().await;
        // The threads end once the queue is closed or the run is cancelled.
        let _ = tokio::task::spawn_blocking(move || pipeline.join()).await;
        let snapshot = progress.snapshot();
        result.map(|status| RunSummary::new(run_id, &request, root, status, &snapshot))
    });
    Ok(RunHandle {
        run_id,
        repository,
        progress: shared_progress,
        cancel,
        task,
    })
}

/// Receives the next batch: at least one report, then more until the batch
/// is full or [`BATCH_WAIT`] has passed. Zero once the engine is done.
async fn gather(reports: &mut mpsc::Receiver<FileReport>, batch: &mut Vec<FileReport>) -> usize {
    if reports.recv_many(batch, MAX_BATCH_FILES).await == 0 {
        return 0;
    }
    let deadline = tokio::time::Instant::now() + BATCH_WAIT;
    // Files and text to store: a file that keeps its result stores none.
    let stored = |r: &FileReport| r.reused.is_none();
    let text = |r: &FileReport| if stored(r) { r.bytes } else { 0 };
    let mut bytes: u64 = batch.iter().map(text).sum();
    let mut files = batch.iter().filter(|r| stored(r)).count();
    while files < MAX_BATCH_FILES && batch.len() < MAX_BATCH_REPORTS && bytes < BATCH_BYTES {
        let before = batch.len();
        // Every report received may be a file to store.
        let limit = (MAX_BATCH_FILES - files).min(MAX_BATCH_REPORTS - before);
        match tokio::time::timeout_at(deadline, reports.recv_many(batch, limit)).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                bytes += batch[before..].iter().map(text).sum::<u64>();
                files += batch[before..].iter().filter(|r| stored(r)).count();
            }
        }
    }
    batch.len()
}

/// Why the writer stopped before the engine was done.
enum WriteStop {
    /// The database cannot be reached.
    DatabaseLost(StoreError),
    /// It answers, but will not store even this file's `persistence_error`.
    Unstorable { path: String, cause: StoreError },
}

/// The single writer: stores reports in batches.
struct Writer {
    store: Store,
    run_id: i64,
    repository: String,
    progress: Arc<RunProgress>,
    cancel: CancellationToken,
}

impl Writer {
    /// Records the number of files discovery found, then gathers the next
    /// batch while the previous one is being stored, so the parsing threads
    /// do not wait for the database's turn.
    async fn run(
        &self,
        discovered: oneshot::Receiver<u64>,
        reports: mpsc::Receiver<FileReport>,
        mut connection: WriteConnection,
    ) -> Result<RunStatus, RunError> {
        let (batches_tx, mut batches_rx) = mpsc::channel::<Vec<FileReport>>(1);
        let gathering = async move {
            let mut reports = reports;
            loop {
                let mut batch = Vec::with_capacity(MAX_BATCH_FILES);
                let gathered = tokio::select! {
                    n = gather(&mut reports, &mut batch) => n,
                    // Storing stopped: the run is over, stop taking reports.
                    () = batches_tx.closed() => 0,
                };
                if gathered == 0 || batches_tx.send(batch).await.is_err() {
                    break;
                }
            }
        };
        // Storing owns the batches' receiver: when it stops, the receiver
        // goes with it, and gathering stops too instead of waiting to hand
        // over a batch nobody will take.
        let writing = &mut connection;
        let storing = async move {
            let mut stored = 0u64;
            // The files whose stored results the run keeps: with those it
            // stores, what it saw, so its end can tell which files are gone.
            let mut kept = HashSet::new();
            // Discovery ends before any file is processed, so every process
            // that reads the run sees its total before its first batch.
            if let Ok(total) = discovered.await
                && let Err(e) = writing
                    .record_discovery(
                        self.run_id,
                        total,
                        self.progress.snapshot().passed_over.unwrap_or_default(),
                    )
                    .await
            {
                if e.is_connection_lost() {
                    self.cancel.cancel();
                    return Err((stored, WriteStop::DatabaseLost(e)));
                }
                tracing::warn!("cannot record the number of files discovered: {e}");
            }
            while let Some(batch) = batches_rx.recv().await {
                kept.extend(
                    batch
                        .iter()
                        .filter(|r| r.reused.is_some())
                        .map(|r| crate::store::text::storable(&r.rel_path).into_owned()),
                );
                match self.store_batch(writing, &batch).await {
                    Ok(n) => stored += n,
                    Err(stop) => {
                        self.cancel.cancel();
                        return Err((stored, stop));
                    }
                }
            }
            Ok((stored, kept))
        };
        let stored = tokio::join!(gathering, storing).1;
        connection.close().await;
        let (stored, kept) = match stored {
            Ok(stored) => stored,
            Err((stored, stop)) => {
                let (message, error) = match stop {
                    WriteStop::DatabaseLost(cause) => (
                        format!("the database went away: {cause}"),
                        RunError::DatabaseLost {
                            run_id: self.run_id,
                            stored,
                            cause,
                        },
                    ),
                    WriteStop::Unstorable { path, cause } => (
                        format!(
                            "the database refuses to store even a failure for {}: {cause}",
                            crate::sanitize::path(&path)
                        ),
                        RunError::Unstorable {
                            run_id: self.run_id,
                            path,
                            stored,
                            cause,
                        },
                    ),
                };
                self.end(RunStatus::Failed, Some(&message)).await;
                return Err(error);
            }
        };
        let status = if self.cancel.is_cancelled() {
            RunStatus::Cancelled
        } else {
            RunStatus::Completed
        };
        let message = (status == RunStatus::Cancelled)
            .then_some("cancelled by the user; files done so far are kept");
        self.store
            .finish_run(self.run_id, &self.repository, status, message, &kept)
            .await
            .map_err(|cause| RunError::DatabaseLost {
                run_id: self.run_id,
                stored,
                cause,
            })?;
        Ok(status)
    }

    /// One transaction for the batch; if it fails, file by file, so a bad
    /// row costs that file a `persistence_error` and nothing else. Fails
    /// when the database itself is unreachable, or refuses even a file's
    /// `persistence_error`.
    async fn store_batch(
        &self,
        connection: &mut WriteConnection,
        batch: &[FileReport],
    ) -> Result<u64, WriteStop> {
        let all: Vec<&FileReport> = batch.iter().collect();
        match connection
            .write_reports(self.run_id, &self.repository, &all)
            .await
        {
            Ok(tallies) => {
                tallies.iter().for_each(|tally| self.progress.tally(tally));
                return Ok(batch.len() as u64);
            }
            Err(e) if e.is_connection_lost() => return Err(WriteStop::DatabaseLost(e)),
            Err(e) => tracing::warn!("storing a batch failed, retrying file by file: {e}"),
        }
        for report in batch {
            match connection
                .write_reports(self.run_id, &self.repository, &[report])
                .await
            {
                Ok(tallies) => tallies.iter().for_each(|tally| self.progress.tally(tally)),
                Err(e) if e.is_connection_lost() => return Err(WriteStop::DatabaseLost(e)),
                Err(cause) => {
                    let failed = connection
                        .write_persistence_failure(self.run_id, &self.repository, report, &cause)
                        .await
                        .map_err(|cause| match cause.is_connection_lost() {
                            true => WriteStop::DatabaseLost(cause),
                            false => WriteStop::Unstorable {
                                path: report.rel_path.clone(),
                                cause,
                            },
                        })?;
                    self.progress.record(&failed);
                }
            }
        }
        Ok(batch.len() as u64)
    }

    /// Best effort: mark the run as ended even though writing just failed;
    /// the database may be back a moment later. Each attempt is bounded, so
    /// a database that is gone for good stops the run within seconds
    /// instead of after the pool's acquire timeout, several times over.
    async fn end(&self, status: RunStatus, message: Option<&str>) {
        for attempt in 0..END_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(END_PAUSE).await;
            }
            let finished = tokio::time::timeout(
                END_ATTEMPT,
                self.store.mark_run_ended(self.run_id, status, message),
            )
            .await;
            if matches!(finished, Ok(Ok(()))) {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_requested_again_with_the_options_it_recorded() {
        let mut first = RunRequest::new("/src/web");
        first.repository = "web-app".into();
        first.discovery.extensions = vec!["ts".into()];
        first.discovery.excludes = vec!["dist/**".into()];
        first.discovery.include_tests = true;
        first.settings.max_file_size = 1234;
        first.settings.parse_timeout = Duration::from_millis(1500);
        first.settings.verdicts = false;
        first.directory_as_given = Some("/srv/../src/web".into());
        let mut run = crate::store::runs::RunRecord::example(RunStatus::Completed);
        run.repository = "web-app".into();
        run.root = "/src/web".into();
        run.options = first.options_json();
        let again = RunRequest::again(&run);
        assert_eq!(again.root, first.root);
        assert_eq!(again.repository, "web-app");
        assert_eq!(again.discovery, first.discovery);
        assert_eq!(again.settings.max_file_size, 1234);
        assert_eq!(again.settings.parse_timeout, Duration::from_millis(1500));
        assert!(!again.settings.verdicts);
        assert_eq!(again.directory_as_given, first.directory_as_given);
    }

    #[test]
    fn a_run_is_requested_again_with_its_discovery_rules() {
        let mut first = RunRequest::new("/src/web");
        first.discovery.extensions = vec![".ts".into(), ".js".into()];
        first.discovery.rules = DiscoveryRules::OriginalService;
        let mut run = crate::store::runs::RunRecord::example(RunStatus::Completed);
        run.root = "/src/web".into();
        run.options = first.options_json();
        assert_eq!(run.options["discovery_rules"], "original_service");
        assert_eq!(RunRequest::again(&run).discovery, first.discovery);

        // A run recorded before there were two rule sets used snag's.
        run.options
            .as_object_mut()
            .unwrap()
            .remove("discovery_rules");
        assert_eq!(
            RunRequest::again(&run).discovery.rules,
            DiscoveryRules::Snag
        );
        first.discovery.rules = DiscoveryRules::Snag;
        assert_eq!(first.options_json()["discovery_rules"], "snag");
    }

    #[test]
    fn what_was_kept_agrees_in_number() {
        assert_eq!(
            stored_and_kept(1),
            "1 file was stored before that and is kept"
        );
        assert_eq!(
            stored_and_kept(12),
            "12 files were stored before that and are kept"
        );
    }
}
