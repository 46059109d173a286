//! Runs started through the API and still going: their live progress for
//! the status endpoint, and a way to cancel them all when the server stops.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::index::progress::{ProgressSnapshot, RunProgress};
use crate::runner::RunHandle;

/// A run in progress in this server.
#[derive(Debug, Clone)]
pub struct LiveJob {
    pub run_id: i64,
    /// Files discovery found before the run started.
    pub total_files: u64,
    progress: Arc<RunProgress>,
}

impl LiveJob {
    pub fn snapshot(&self) -> ProgressSnapshot {
        self.progress.snapshot()
    }
}

struct Entry {
    job: LiveJob,
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
}

/// The runs this server started that have not finished, by repository.
#[derive(Clone, Default)]
pub struct Jobs {
    inner: Arc<Mutex<HashMap<String, Entry>>>,
}

impl Jobs {
    /// The live run of a repository, if one is going.
    pub fn get(&self, repository: &str) -> Option<LiveJob> {
        let jobs = self.inner.lock().ok()?;
        jobs.get(repository).map(|entry| entry.job.clone())
    }

    /// Whether a run of this repository is going (reserved or started).
    pub fn is_running(&self, repository: &str) -> bool {
        self.inner
            .lock()
            .map(|jobs| jobs.contains_key(repository))
            .unwrap_or(false)
    }

    /// Keeps a started run and forgets it once it has ended (its row in
    /// `index_runs` is final by then). `false`, and the run is cancelled, when
    /// another run of the repository got in first.
    pub fn adopt(&self, handle: RunHandle, total_files: u64) -> bool {
        let Ok(mut jobs) = self.inner.lock() else {
            handle.cancel();
            return false;
        };
        if jobs.contains_key(&handle.repository) {
            handle.cancel();
            return false;
        }
        let repository = handle.repository.clone();
        let job = LiveJob {
            run_id: handle.run_id,
            total_files,
            progress: Arc::clone(&handle.progress),
        };
        let cancel = handle.canceller();
        let registry = Arc::clone(&self.inner);
        let key = repository.clone();
        let run_id = handle.run_id;
        let task = tokio::spawn(async move {
            match handle.wait().await {
                Ok(summary) => tracing::info!(
                    "run {run_id} of {} ended {}",
                    crate::sanitize::line(&summary.repository),
                    summary.status.as_str()
                ),
                Err(e) => tracing::error!("run {run_id} failed: {e}"),
            }
            if let Ok(mut jobs) = registry.lock()
                && jobs
                    .get(&key)
                    .is_some_and(|entry| entry.job.run_id == run_id)
            {
                jobs.remove(&key);
            }
        });
        jobs.insert(
            repository,
            Entry {
                job,
                cancel,
                task: Some(task),
            },
        );
        true
    }

    /// Cancels every run and waits until each has stored what it did.
    pub async fn shutdown(&self) {
        let tasks: Vec<JoinHandle<()>> = match self.inner.lock() {
            Ok(mut jobs) => jobs
                .values_mut()
                .filter_map(|entry| {
                    entry.cancel.cancel();
                    entry.task.take()
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        for task in tasks {
            let _ = task.await;
        }
    }
}
