//! `snag index`: the engine without the UI, for CI.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::{IndexArgs, IndexFormat};
use crate::index::progress::{RunProgress, RunStatus};
use crate::report::run::summary_text;
use crate::runner::{self, RunRequest, RunSummary};
use crate::store::Store;

/// The conventional exit status after SIGINT.
const INTERRUPTED: u8 = 130;
/// How often plain (non-terminal) progress lines are printed.
const PLAIN_PROGRESS_EVERY: Duration = Duration::from_secs(5);

pub async fn run(store: &Store, args: IndexArgs) -> anyhow::Result<ExitCode> {
    let request = request_from(&args);
    let handle = runner::start(store.clone(), request).await?;
    let progress = Arc::clone(&handle.progress);
    let cancel = handle.canceller();
    let reporter = tokio::spawn(report_progress(Arc::clone(&progress)));

    let wait = handle.wait();
    tokio::pin!(wait);
    let mut interrupted = false;
    let result = loop {
        tokio::select! {
            result = &mut wait => break result,
            _ = tokio::signal::ctrl_c(), if !interrupted => {
                interrupted = true;
                cancel.cancel();
                eprintln!("snag: interrupted; storing the files already done (Ctrl-C again to quit at once)");
                tokio::spawn(async {
                    if tokio::signal::ctrl_c().await.is_ok() {
                        std::process::exit(i32::from(INTERRUPTED));
                    }
                });
            }
        }
    };
    reporter.abort();
    let _ = reporter.await;
    let summary = result?;

    let document = match args.format {
        IndexFormat::Json => serde_json::to_string_pretty(&summary)? + "\n",
        IndexFormat::Text => {
            let groups = store.top_groups_for_run(summary.run_id, 5).await?;
            summary_text(&summary, &groups)
        }
    };
    match &args.output {
        Some(path) => std::fs::write(path, &document)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
        None => print!("{document}"),
    }

    if summary.status == RunStatus::Cancelled {
        return Ok(ExitCode::from(INTERRUPTED));
    }
    Ok(match threshold_crossed(&summary, &args) {
        Some(why) => {
            eprintln!("snag: {why}");
            ExitCode::from(1)
        }
        None => ExitCode::SUCCESS,
    })
}

fn request_from(args: &IndexArgs) -> RunRequest {
    let mut request = RunRequest::new(&args.path);
    if let Some(repository) = &args.repository {
        request.repository = repository.clone();
    }
    if !args.extensions.is_empty() {
        request.discovery.extensions = args.extensions.clone();
    }
    request.discovery.excludes = args.exclude.clone();
    request.discovery.include_tests = args.include_tests;
    if let Some(jobs) = args.jobs {
        request.jobs = usize::from(jobs);
    }
    request.settings.max_file_size = args.max_file_size;
    request.settings.parse_timeout = Duration::from_secs_f64(args.parse_timeout);
    request
}

/// Failed and partial files count as failures; skipped files don't count.
pub fn failure_rate(summary: &RunSummary) -> f64 {
    let f = &summary.files;
    let considered = f.total.saturating_sub(f.skipped);
    if considered == 0 {
        return 0.0;
    }
    (f.failed + f.partial) as f64 / considered as f64
}

fn threshold_crossed(summary: &RunSummary, args: &IndexArgs) -> Option<String> {
    let rate = failure_rate(summary);
    if let Some(max) = args.max_failure_rate
        && rate > max
    {
        return Some(format!(
            "failure rate {:.2}% is above --max-failure-rate {:.2}%",
            rate * 100.0,
            max * 100.0
        ));
    }
    let errors: u64 = summary.errors_by_type.values().sum();
    match args.max_errors {
        Some(max) if errors > max => Some(format!(
            "{errors} errors recorded, more than --max-errors {max}"
        )),
        _ => None,
    }
}

/// A progress bar on a terminal, a plain line every few seconds otherwise;
/// both on standard error, so standard output holds only the result.
async fn report_progress(progress: Arc<RunProgress>) {
    if std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {elapsed:>4} [{bar:30}] {pos}/{len} files  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        let _clear_on_exit = ClearOnDrop(bar.clone());
        loop {
            let p = progress.snapshot();
            bar.set_length(p.discovered);
            bar.set_position(p.done());
            let eta = p
                .eta()
                .map(|d| format!(", ETA {}s", d.as_secs()))
                .unwrap_or_default();
            bar.set_message(format!(
                "{:.0} files/s, {:.1} MB/s{eta}",
                p.files_per_sec(),
                p.mb_per_sec()
            ));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    } else {
        loop {
            tokio::time::sleep(PLAIN_PROGRESS_EVERY).await;
            let p = progress.snapshot();
            eprintln!(
                "snag: {}/{} files done ({:.0} files/s, {:.1} MB/s)",
                p.done(),
                p.discovered,
                p.files_per_sec(),
                p.mb_per_sec()
            );
        }
    }
}

struct ClearOnDrop(ProgressBar);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}
