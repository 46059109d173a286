//! The engine on all cores: a discovery thread walks the whole tree first,
//! so the run's total is known before its first file is processed, then
//! fills a bounded queue; worker threads (parsing is CPU work, kept off the
//! async runtime) process files and hand their reports to a bounded channel
//! read by the one writer. The walk's list is held compactly (its paths'
//! text), and both queues are bounded, so memory grows with the paths'
//! length at most, never with the files' contents or results.

use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::discover::{Discovery, SourceFile, Unreadable};
use super::process::{FileProcessor, FileReport, ProcessSettings};
use super::progress::RunProgress;
use super::reuse::StoredResults;

/// Deep trees are walked iteratively, but tree-sitter and the chunker still
/// get room to breathe.
const WORKER_STACK: usize = 8 * 1024 * 1024;

/// What one run's engine needs besides the files.
pub struct PipelineContext {
    pub settings: ProcessSettings,
    pub jobs: usize,
    pub progress: Arc<RunProgress>,
    pub cancel: CancellationToken,
    /// Stored results files may keep (an incremental run); None to parse
    /// every file.
    pub stored: Option<Arc<StoredResults>>,
}

/// The engine's threads; dropping the report receiver or cancelling stops them.
pub struct Pipeline {
    threads: Vec<JoinHandle<()>>,
}

impl Pipeline {
    /// Starts the threads. The receiver gets the number of files discovery
    /// found once its walk is over, before any of them is processed; it is
    /// closed without a number when the run was cancelled during the walk.
    pub fn start(
        discovery: Discovery,
        context: PipelineContext,
        reports: mpsc::Sender<FileReport>,
    ) -> std::io::Result<(Self, oneshot::Receiver<u64>)> {
        let jobs = context.jobs.max(1);
        let (work_tx, work_rx) =
            crossbeam_channel::bounded::<Result<SourceFile, Unreadable>>(jobs * 4);
        let (discovered_tx, discovered_rx) = oneshot::channel();
        let context = Arc::new(context);
        let mut threads = Vec::with_capacity(jobs + 1);

        let walker = Arc::clone(&context);
        threads.push(
            std::thread::Builder::new()
                .name("snag-discovery".into())
                .spawn(move || {
                    let found = discovery.collect(|total| {
                        walker.progress.discovered(total, false);
                        !walker.cancel.is_cancelled()
                    });
                    // Cancelled during the walk: nothing is processed.
                    let Some(found) = found else { return };
                    let total = found.len();
                    walker.progress.passed_over(found.passed_over);
                    walker.progress.discovered(total, true);
                    let _ = discovered_tx.send(total);
                    for item in found.into_items() {
                        if walker.cancel.is_cancelled() || work_tx.send(item).is_err() {
                            break;
                        }
                    }
                })?,
        );

        for n in 0..jobs {
            let work = work_rx.clone();
            let reports = reports.clone();
            let context = Arc::clone(&context);
            let worker = std::thread::Builder::new()
                .name(format!("snag-worker-{n}"))
                .stack_size(WORKER_STACK)
                .spawn(move || {
                    let mut processor =
                        FileProcessor::new(context.settings).reusing(context.stored.clone());
                    while let Ok(item) = work.recv() {
                        if context.cancel.is_cancelled() {
                            break;
                        }
                        let report = match item {
                            Ok(file) => {
                                context.progress.working_on(&file.rel_path);
                                processor.process(&file)
                            }
                            Err(unreadable) => FileReport::unreadable(unreadable),
                        };
                        if reports.blocking_send(report).is_err() {
                            // The writer is gone: nothing more can be kept.
                            context.cancel.cancel();
                            break;
                        }
                    }
                })?;
            threads.push(worker);
        }
        Ok((Pipeline { threads }, discovered_rx))
    }

    /// Waits for every thread (blocking).
    pub fn join(self) {
        for thread in self.threads {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::discover::DiscoveryOptions;

    /// A pipeline over `files` small files, with its reports' receiver.
    fn start(
        files: usize,
        cancel: CancellationToken,
    ) -> (
        tempfile::TempDir,
        Arc<RunProgress>,
        Pipeline,
        oneshot::Receiver<u64>,
        mpsc::Receiver<FileReport>,
    ) {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..files {
            std::fs::write(dir.path().join(format!("m{i}.ts")), "let a = 1;\n").unwrap();
        }
        let progress = Arc::new(RunProgress::default());
        let (reports_tx, reports_rx) = mpsc::channel(4);
        let discovery = Discovery::new(dir.path(), &DiscoveryOptions::default()).unwrap();
        let context = PipelineContext {
            settings: ProcessSettings::default(),
            jobs: 2,
            progress: Arc::clone(&progress),
            cancel,
            stored: None,
        };
        let (pipeline, discovered) = Pipeline::start(discovery, context, reports_tx).unwrap();
        (dir, progress, pipeline, discovered, reports_rx)
    }

    #[test]
    fn the_total_is_known_before_the_first_file_is_processed() {
        let (_dir, progress, pipeline, discovered, mut reports) =
            start(50, CancellationToken::new());
        assert!(reports.blocking_recv().is_some());
        let p = progress.snapshot();
        assert!(p.discovery_finished);
        assert_eq!(p.discovered, 50);
        assert_eq!(discovered.blocking_recv(), Ok(50));
        let mut reported = 1;
        while reports.blocking_recv().is_some() {
            reported += 1;
        }
        assert_eq!(reported, 50, "one report per discovered file");
        pipeline.join();
    }

    #[test]
    fn a_run_cancelled_during_discovery_processes_nothing() {
        let cancel = CancellationToken::new();
        cancel.cancel();
        let (_dir, progress, pipeline, discovered, mut reports) = start(50, cancel);
        pipeline.join();
        assert!(discovered.blocking_recv().is_err(), "no total was known");
        assert!(reports.blocking_recv().is_none());
        let p = progress.snapshot();
        assert!(!p.discovery_finished);
        assert_eq!(p.done(), 0);
    }
}
