//! `snag index`: the engine without the UI, for CI.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use std::collections::HashSet;

use futures_util::StreamExt;

use anyhow::bail;

use crate::cli::{Baseline, IndexArgs, IndexFormat, grammar_sources};
use crate::index::grammar::{GrammarSource, Grammars};
use crate::index::progress::{ProgressSnapshot, RunProgress, RunStatus};
use crate::report::baseline::BaselineJudge;
use crate::report::baseline::BaselineVerdict;
use crate::report::ci::{self, CiFormat, CiRun};
use crate::report::gate::{Gated, Thresholds};
use crate::report::github;
use crate::report::known::{self, KnownFailures, KnownVerdict};
use crate::report::run::summary_text;
use crate::runner::{self, RunError, RunHandle, RunRequest, RunSummary};
use crate::sanitize;
use crate::store::ErrorRecord;
use crate::store::{Store, StoreError};
use crate::words::{count, duration};

/// The conventional exit status after SIGINT.
const INTERRUPTED: u8 = 130;
/// How often plain (non-terminal) progress lines are printed.
const PLAIN_PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// How often a run waiting for its repository (`--wait`) tries again.
const WAIT_POLL: Duration = Duration::from_secs(1);

pub async fn run(store: &Store, args: IndexArgs) -> anyhow::Result<ExitCode> {
    // A list that cannot be read stops the command before the run.
    let known = match &args.known_failures {
        Some(path) => Some(KnownFailures::read(path)?),
        None => None,
    };
    let grammars = grammars_for(grammar_sources(&args.grammars, &args.grammar_libs)).await?;
    let Some(handle) = start(store, &args, grammars).await? else {
        eprintln!("snag: interrupted while waiting; nothing was indexed");
        return Ok(ExitCode::from(INTERRUPTED));
    };
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

    // The summary and the thresholds come from counts; a baseline and the
    // per-error documents read the run's errors one at a time. Memory does
    // not grow with the run.
    let verdict = match args.baseline {
        Some(baseline) => {
            baseline_verdict(store, &summary, baseline, args.ignore_grammar_gaps).await?
        }
        None => None,
    };
    // Only a complete run says which files fail.
    let complete = summary.status == RunStatus::Completed;
    if args.write_known_failures.is_some() && !complete {
        eprintln!("snag: the run did not complete; the known failures were not written");
    }
    let known_verdict = match (&known, &args.write_known_failures) {
        (None, None) => None,
        _ if !complete => None,
        _ => {
            let files = store.list_files(summary.run_id, None).await?;
            if let Some(path) = &args.write_known_failures {
                known::write(path, &files, &summary.repository)?;
            }
            known.map(|list| list.judge(&files))
        }
    };
    let mut out = output(args.output.as_deref())?;
    match args.format {
        IndexFormat::Json => {
            let mut document = serde_json::to_value(&summary)?;
            if let Some(known) = &known_verdict {
                document["known_failures"] = serde_json::to_value(known)?;
            }
            serde_json::to_writer_pretty(&mut out, &document)?;
            out.write_all(b"\n")?;
        }
        IndexFormat::Text => {
            let groups = store.top_groups_for_run(summary.run_id, 5).await?;
            let mut text = summary_text(&summary, &groups);
            if let Some(verdict) = &verdict {
                text.push_str(&baseline_line(verdict));
            }
            if let Some(known) = &known_verdict {
                text.push_str(&known.line());
            }
            out.write_all(text.as_bytes())?;
        }
        IndexFormat::Sarif | IndexFormat::Junit | IndexFormat::Github => {
            let run = CiRun {
                summary: &summary,
                baseline: verdict.as_ref(),
            };
            ci_document(store, &run, args.format, &mut out).await?;
        }
    }
    out.flush()
        .map_err(|e| anyhow::anyhow!("cannot write the result: {e}"))?;

    if summary.status == RunStatus::Cancelled {
        return Ok(ExitCode::from(INTERRUPTED));
    }
    let thresholds = Thresholds {
        max_failure_rate: args.max_failure_rate,
        max_errors: args.max_errors,
    };
    let gated = Gated::new(&summary, verdict.as_ref(), args.ignore_grammar_gaps);
    let crossed: Vec<String> = [
        gated.crossed(&thresholds),
        known_verdict.as_ref().and_then(KnownVerdict::crossed),
    ]
    .into_iter()
    .flatten()
    .collect();
    for why in &crossed {
        eprintln!("snag: {why}");
    }
    Ok(match crossed.is_empty() {
        true => ExitCode::SUCCESS,
        false => ExitCode::from(1),
    })
}

/// Starts the run; with `--wait`, once the run already going in the
/// repository has ended. `None` when Ctrl-C came first.
async fn start(
    store: &Store,
    args: &IndexArgs,
    grammars: &'static Grammars,
) -> anyhow::Result<Option<RunHandle>> {
    let mut said = None;
    loop {
        let mut request = request_from(args);
        request.settings.grammars = grammars;
        match runner::start(store.clone(), request).await {
            Ok(handle) => return Ok(Some(handle)),
            Err(RunError::Store(busy @ StoreError::RepositoryBusy { .. })) if args.wait => {
                let message = busy.to_string();
                if said.as_ref() != Some(&message) {
                    eprintln!("snag: {message}; waiting for it to end (Ctrl-C to give up)");
                    said = Some(message);
                }
            }
            Err(RunError::Store(busy @ StoreError::RepositoryBusy { .. })) => {
                bail!("{busy}; wait for it with --wait, or cancel it")
            }
            Err(e) => return Err(e.into()),
        }
        tokio::select! {
            () = tokio::time::sleep(WAIT_POLL) => {}
            _ = tokio::signal::ctrl_c() => return Ok(None),
        }
    }
}

/// The grammars `--grammar` and `--grammar-lib` name, built or loaded
/// before the run starts; building says so on standard error, since a
/// grammar's first build takes a while.
pub async fn grammars_for(sources: Vec<GrammarSource>) -> anyhow::Result<&'static Grammars> {
    if sources
        .iter()
        .any(|s| matches!(s, GrammarSource::Folder(_)))
    {
        eprintln!(
            "snag: loading the grammars from source (a first build takes seconds; later runs use the cache)"
        );
    }
    Ok(runner::load_grammars(sources).await?)
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
    request.discovery.respect_ignore_files = !args.no_ignore;
    request.full = args.full;
    if let Some(jobs) = args.jobs {
        request.jobs = usize::from(jobs);
    }
    request.settings.max_file_size = args.max_file_size;
    request.settings.parse_timeout = Duration::from_secs_f64(args.parse_timeout);
    request
}

/// The verdict against `--baseline`, or `None` without one (or when
/// `latest` finds no earlier run, which is said on standard error).
async fn baseline_verdict(
    store: &Store,
    summary: &RunSummary,
    baseline: Baseline,
    ignore_gaps: bool,
) -> anyhow::Result<Option<BaselineVerdict>> {
    let repository = &summary.repository;
    let baseline_run = match baseline {
        Baseline::Latest => match store.previous_run(repository, summary.run_id).await? {
            Some(run) => run,
            None => {
                eprintln!(
                    "snag: no earlier run of {} to compare with: every failure counts",
                    sanitize::line(repository)
                );
                return Ok(None);
            }
        },
        Baseline::Run(id) => match store.get_run(id).await? {
            Some(run) if &run.repository == repository => run,
            Some(run) => bail!(
                "baseline run {id} belongs to repository `{}`, not `{}`",
                sanitize::line(&run.repository),
                sanitize::line(repository)
            ),
            None => bail!("there is no baseline run {id}"),
        },
    };
    let compared = store
        .failing_in_either(repository, baseline_run.run_id, summary.run_id)
        .await?;
    let reopened: HashSet<String> = store.resolved_fingerprints(repository).await?;
    let mut judge = BaselineJudge::new(baseline_run.run_id, &compared, reopened);
    // File by file, so that a file whose every error is a grammar gap can be
    // left out with --ignore-grammar-gaps.
    let mut errors = store.run_errors_by_file(summary.run_id);
    let mut file: Vec<ErrorRecord> = Vec::new();
    while let Some(error) = errors.next().await {
        let error = error?;
        if file.first().is_some_and(|f| f.file_path != error.file_path) {
            judge.file(&file, ignore_gaps);
            file.clear();
        }
        file.push(error);
    }
    judge.file(&file, ignore_gaps);
    Ok(Some(judge.finish()))
}

fn baseline_line(verdict: &BaselineVerdict) -> String {
    format!(
        "  baseline run {}: {} in {}, {} known\n",
        verdict.baseline_run_id,
        count(verdict.new_error_count(), "new error"),
        count(verdict.new_failing_files, "file"),
        verdict.known_errors
    )
}

/// SARIF, JUnit or GitHub annotations, written as the run's errors are
/// read; for GitHub also the step summary.
async fn ci_document(
    store: &Store,
    run: &CiRun<'_>,
    format: IndexFormat,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let format = match format {
        IndexFormat::Sarif => CiFormat::Sarif,
        IndexFormat::Junit => CiFormat::Junit,
        _ => {
            if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
                let groups = store.top_groups_for_run(run.summary.run_id, 5).await?;
                let markdown = github::step_summary(run, &groups);
                append(std::path::Path::new(&path), &markdown)?;
            }
            CiFormat::Github {
                path_prefix: workspace_prefix(&run.summary.root),
            }
        }
    };
    ci::write_document(store, run, &format, out).await?;
    Ok(())
}

/// Where the result goes: `--output FILE`, else standard output.
fn output(path: Option<&std::path::Path>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match path {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(super::stdout::Stdout)),
    })
}

fn append(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    writeln!(file, "{text}").map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}

/// Annotations need paths relative to the checkout: the indexed root's
/// place inside `$GITHUB_WORKSPACE`, if it is inside.
fn workspace_prefix(root: &str) -> String {
    let Some(workspace) = std::env::var_os("GITHUB_WORKSPACE") else {
        return String::new();
    };
    let workspace = std::fs::canonicalize(&workspace).unwrap_or_else(|_| workspace.into());
    match std::path::Path::new(root).strip_prefix(&workspace) {
        Ok(inside) if !inside.as_os_str().is_empty() => {
            format!("{}/", inside.to_string_lossy().trim_end_matches('/'))
        }
        _ => String::new(),
    }
}

/// A progress bar on a terminal, a plain line every few seconds otherwise;
/// both on standard error, so standard output holds only the result.
async fn report_progress(progress: Arc<RunProgress>) {
    if std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{bar:30}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        let _clear_on_exit = ClearOnDrop(bar.clone());
        loop {
            let p = progress.snapshot();
            bar.set_length(p.discovered);
            bar.set_position(p.done());
            bar.set_message(progress_line(&p));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    } else {
        loop {
            tokio::time::sleep(PLAIN_PROGRESS_EVERY).await;
            eprintln!("snag: {}", progress_line(&progress.snapshot()));
        }
    }
}

/// How far the run is, how fast it goes and how long it has left.
fn progress_line(p: &ProgressSnapshot) -> String {
    if !p.discovery_finished {
        return format!(
            "discovering files: {} found in {}",
            p.discovered,
            duration(p.elapsed)
        );
    }
    let eta = p
        .eta()
        .map(|d| format!(", ETA {}", duration(d)))
        .unwrap_or_default();
    format!(
        "{} of {} done in {} ({:.0} files/s, {:.1} MB/s{eta})",
        p.done(),
        count(p.discovered, "file"),
        duration(p.elapsed),
        p.files_per_sec(),
        p.mb_per_sec()
    )
}

struct ClearOnDrop(ProgressBar);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_reads_in_words() {
        let walking = ProgressSnapshot {
            discovered: 1200,
            elapsed: Duration::from_millis(850),
            ..ProgressSnapshot::default()
        };
        assert_eq!(
            progress_line(&walking),
            "discovering files: 1200 found in 850 ms"
        );
        let going = ProgressSnapshot {
            discovered: 360,
            discovery_finished: true,
            indexed: 119,
            skipped: 1,
            bytes: 2_000_000,
            elapsed: Duration::from_secs(4),
            processing: Duration::from_secs(3),
            ..ProgressSnapshot::default()
        };
        assert_eq!(
            progress_line(&going),
            "120 of 360 files done in 4.0 s (30 files/s, 0.5 MB/s, ETA 6.0 s)"
        );
        let one = ProgressSnapshot {
            discovered: 1,
            discovery_finished: true,
            elapsed: Duration::from_secs(1328),
            ..ProgressSnapshot::default()
        };
        assert_eq!(
            progress_line(&one),
            "0 of 1 file done in 22 min 8 s (0 files/s, 0.0 MB/s)"
        );
    }
}
