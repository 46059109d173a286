//! The engine on all cores: a discovery thread fills a bounded queue, worker
//! threads (parsing is CPU work, kept off the async runtime) process files
//! and hand their reports to a bounded channel read by the one writer.
//! Both queues are bounded, so memory does not grow with the repository.

use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use super::discover::{Discovery, SourceFile, Unreadable};
use super::process::{FileProcessor, FileReport, ProcessSettings};
use super::progress::{IndexEvent, RunProgress};

/// Deep trees are walked iteratively, but tree-sitter and the chunker still
/// get room to breathe.
const WORKER_STACK: usize = 8 * 1024 * 1024;

/// What one run's engine needs besides the files.
pub struct PipelineContext {
    pub settings: ProcessSettings,
    pub jobs: usize,
    pub progress: Arc<RunProgress>,
    pub events: broadcast::Sender<IndexEvent>,
    pub cancel: CancellationToken,
}

/// The engine's threads; dropping the report receiver or cancelling stops them.
pub struct Pipeline {
    threads: Vec<JoinHandle<()>>,
}

impl Pipeline {
    pub fn start(
        discovery: Discovery,
        context: PipelineContext,
        reports: mpsc::Sender<FileReport>,
    ) -> std::io::Result<Self> {
        let jobs = context.jobs.max(1);
        let (work_tx, work_rx) =
            crossbeam_channel::bounded::<Result<SourceFile, Unreadable>>(jobs * 4);
        let context = Arc::new(context);
        let mut threads = Vec::with_capacity(jobs + 1);

        let walker = Arc::clone(&context);
        threads.push(
            std::thread::Builder::new()
                .name("snag-discovery".into())
                .spawn(move || {
                    let mut total = 0;
                    discovery.walk(|item| {
                        if walker.cancel.is_cancelled() {
                            return false;
                        }
                        total += 1;
                        walker.progress.discovered(total, false);
                        if total % 256 == 0 {
                            let _ = walker.events.send(IndexEvent::Discovered {
                                total,
                                finished: false,
                            });
                        }
                        work_tx.send(item).is_ok()
                    });
                    walker.progress.discovered(total, true);
                    let _ = walker.events.send(IndexEvent::Discovered {
                        total,
                        finished: true,
                    });
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
                    let mut processor = FileProcessor::new(context.settings);
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
        Ok(Pipeline { threads })
    }

    /// Waits for every thread (blocking).
    pub fn join(self) {
        for thread in self.threads {
            let _ = thread.join();
        }
    }
}
