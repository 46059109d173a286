//! A run's progress: counters any thread can bump and any view can read
//! without locks; views poll them (and the run's row, for a run going on
//! in another process).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::discover::PassedOver;
use super::outcome::{ErrorType, FailureKind, Outcome, Verdict};
use super::process::FileReport;
use super::syntax::ParseHealth;
use crate::vocabulary::vocabulary;

/// How a run ended, or that it has not yet.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Completed,
    Cancelled,
    Failed,
}

vocabulary!(RunStatus, "run status", {
    Running => "running",
    Completed => "completed",
    Cancelled => "cancelled",
    Failed => "failed",
});

/// Live counters of one run. Outcomes count files whose results are stored.
#[derive(Debug)]
pub struct RunProgress {
    started: Instant,
    /// When discovery's walk was over and processing began.
    processing_started: OnceLock<Instant>,
    discovered: AtomicU64,
    discovery_finished: AtomicBool,
    /// What discovery left out, once its walk is over.
    passed_over: OnceLock<PassedOver>,
    outcomes: [AtomicU64; 4],
    errors_by_type: [AtomicU64; 8],
    /// Failing files by [`FailureKind`], in `FailureKind::ALL` order.
    failure_kinds: [AtomicU64; 3],
    /// Syntax errors by [`Verdict`], in `Verdict::ALL` order.
    verdicts: [AtomicU64; 3],
    /// Time spent on verdicts, summed over files.
    verdict_micros: AtomicU64,
    bytes: AtomicU64,
    chunks: AtomicU64,
    reused: AtomicU64,
    /// Parse health: bytes of the files tree-sitter parsed, bytes inside
    /// their ERROR nodes, MISSING nodes.
    parsed_bytes: AtomicU64,
    error_bytes: AtomicU64,
    missing_nodes: AtomicU64,
    current_file: Mutex<String>,
}

impl Default for RunProgress {
    fn default() -> Self {
        RunProgress {
            started: Instant::now(),
            processing_started: OnceLock::new(),
            discovered: AtomicU64::new(0),
            discovery_finished: AtomicBool::new(false),
            passed_over: OnceLock::new(),
            outcomes: Default::default(),
            errors_by_type: Default::default(),
            failure_kinds: Default::default(),
            verdicts: Default::default(),
            verdict_micros: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            chunks: AtomicU64::new(0),
            reused: AtomicU64::new(0),
            parsed_bytes: AtomicU64::new(0),
            error_bytes: AtomicU64::new(0),
            missing_nodes: AtomicU64::new(0),
            current_file: Mutex::new(String::new()),
        }
    }
}

impl RunProgress {
    /// What discovery's walk left out, once it is over.
    pub fn passed_over(&self, passed: PassedOver) {
        let _ = self.passed_over.set(passed);
    }

    /// Discovery has found `total` files so far; `finished` once its walk
    /// is over, before any file is processed.
    pub fn discovered(&self, total: u64, finished: bool) {
        self.discovered.store(total, Relaxed);
        if finished {
            self.processing_started.get_or_init(Instant::now);
        }
        self.discovery_finished.store(finished, Relaxed);
    }

    pub fn working_on(&self, path: &str) {
        if let Ok(mut current) = self.current_file.lock() {
            current.clear();
            current.push_str(path);
        }
    }

    /// Counts a file whose results are stored.
    pub fn record(&self, report: &FileReport) {
        self.tally(&FileTally::of(report));
    }

    /// Counts a stored file, parsed or carried over.
    pub fn tally(&self, file: &FileTally) {
        let position = |o: Outcome| Outcome::ALL.iter().position(|x| *x == o).unwrap_or(0);
        self.outcomes[position(file.outcome)].fetch_add(1, Relaxed);
        for (error_type, verdict) in &file.errors {
            let index = ErrorType::ALL
                .iter()
                .position(|t| t == error_type)
                .unwrap_or(0);
            self.errors_by_type[index].fetch_add(1, Relaxed);
            if let Some(verdict) = verdict {
                let index = Verdict::ALL.iter().position(|v| v == verdict).unwrap_or(0);
                self.verdicts[index].fetch_add(1, Relaxed);
            }
        }
        self.verdict_micros.fetch_add(file.verdict_micros, Relaxed);
        if let Some(kind) = file.failure_kind {
            let index = FailureKind::ALL
                .iter()
                .position(|k| *k == kind)
                .unwrap_or(0);
            self.failure_kinds[index].fetch_add(1, Relaxed);
        }
        // Throughput counts the text that went through the engine.
        if file.outcome != Outcome::Skipped {
            self.bytes.fetch_add(file.bytes, Relaxed);
        }
        self.chunks.fetch_add(file.chunks, Relaxed);
        if file.reused {
            self.reused.fetch_add(1, Relaxed);
        }
        if let Some(health) = file.health {
            self.parsed_bytes.fetch_add(file.bytes, Relaxed);
            self.error_bytes.fetch_add(health.error_bytes, Relaxed);
            self.missing_nodes.fetch_add(health.missing_nodes, Relaxed);
        }
    }

    pub fn snapshot(&self) -> ProgressSnapshot {
        let outcome = |o: Outcome| {
            self.outcomes[Outcome::ALL.iter().position(|x| *x == o).unwrap_or(0)].load(Relaxed)
        };
        ProgressSnapshot {
            elapsed: self.started.elapsed(),
            processing: self
                .processing_started
                .get()
                .map_or(Duration::ZERO, Instant::elapsed),
            discovered: self.discovered.load(Relaxed),
            discovery_finished: self.discovery_finished.load(Relaxed),
            passed_over: self.passed_over.get().copied(),
            indexed: outcome(Outcome::Indexed),
            partial: outcome(Outcome::Partial),
            failed: outcome(Outcome::Failed),
            skipped: outcome(Outcome::Skipped),
            errors_by_type: ErrorType::ALL
                .iter()
                .zip(&self.errors_by_type)
                .map(|(t, n)| (*t, n.load(Relaxed)))
                .filter(|(_, n)| *n > 0)
                .collect(),
            grammar_gaps: self.failure_kinds[0].load(Relaxed),
            invalid_source: self.failure_kinds[1].load(Relaxed),
            other_failures: self.failure_kinds[2].load(Relaxed),
            verdicts: Verdict::ALL
                .iter()
                .zip(&self.verdicts)
                .map(|(v, n)| (*v, n.load(Relaxed)))
                .filter(|(_, n)| *n > 0)
                .collect(),
            verdict_time: Duration::from_micros(self.verdict_micros.load(Relaxed)),
            bytes: self.bytes.load(Relaxed),
            chunks: self.chunks.load(Relaxed),
            reused: self.reused.load(Relaxed),
            parsed_bytes: self.parsed_bytes.load(Relaxed),
            error_bytes: self.error_bytes.load(Relaxed),
            missing_nodes: self.missing_nodes.load(Relaxed),
            current_file: self
                .current_file
                .lock()
                .map(|c| c.clone())
                .unwrap_or_default(),
        }
    }
}

/// What one stored file adds to a run's progress: from its report, or for
/// a file carried over from an earlier run, from what that run stored.
#[derive(Debug, Clone, PartialEq)]
pub struct FileTally {
    pub outcome: Outcome,
    pub bytes: u64,
    pub chunks: u64,
    /// Each error's type and, for syntax errors, its verdict.
    pub errors: Vec<(ErrorType, Option<Verdict>)>,
    pub failure_kind: Option<FailureKind>,
    /// Time the reference parser took on the file's verdicts.
    pub verdict_micros: u64,
    /// Carried over from an earlier run.
    pub reused: bool,
    /// None when the file was not parsed.
    pub health: Option<ParseHealth>,
}

impl FileTally {
    pub fn of(report: &FileReport) -> Self {
        FileTally {
            outcome: report.outcome,
            bytes: report.bytes,
            chunks: report.chunks.len() as u64,
            errors: report
                .errors
                .iter()
                .map(|e| (e.error_type, e.verdict.as_ref().map(|v| v.verdict)))
                .collect(),
            failure_kind: FailureKind::of(&report.errors),
            verdict_micros: report
                .errors
                .iter()
                .filter_map(|e| e.verdict.as_ref())
                .map(|v| v.reference.duration_us)
                .sum(),
            reused: false,
            health: report.health,
        }
    }
}

/// A run's parse health: how much of the code it parsed tree-sitter could
/// not read, beside how many files have syntax errors.
#[derive(
    Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
pub struct RunHealth {
    /// Files with a syntax error (`parsing_error`).
    pub files_with_syntax_errors: u64,
    /// Bytes of the files tree-sitter parsed (this run or, kept, before).
    pub parsed_bytes: u64,
    /// Bytes of those inside ERROR nodes, nested ones counted once.
    pub error_bytes: u64,
    /// `error_bytes` in percent of `parsed_bytes`, to 3 decimals.
    pub error_byte_percent: f64,
    /// MISSING nodes: tokens the parser had to assume.
    pub missing_nodes: u64,
}

impl RunHealth {
    pub fn new(
        files_with_syntax_errors: u64,
        parsed_bytes: u64,
        error_bytes: u64,
        missing_nodes: u64,
    ) -> Self {
        RunHealth {
            files_with_syntax_errors,
            parsed_bytes,
            error_bytes,
            error_byte_percent: (percent(error_bytes, parsed_bytes) * 1000.0).round() / 1000.0,
            missing_nodes,
        }
    }

    /// `0.412% of 1.2 MB in ERROR nodes, 3 MISSING nodes`.
    pub fn describe(&self) -> String {
        format!(
            "{}% of {} in ERROR nodes, {}",
            self.error_byte_percent,
            crate::words::bytes(self.parsed_bytes),
            crate::words::count(self.missing_nodes, "MISSING node")
        )
    }
}

/// `part` of `whole` in percent; 0 of 0 is 0.
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    100.0 * part as f64 / whole as f64
}

/// A consistent-enough copy of the counters for display.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProgressSnapshot {
    /// Since the run started.
    pub elapsed: Duration,
    /// Since discovery's walk was over (zero before): the time spent on files.
    pub processing: Duration,
    pub discovered: u64,
    pub discovery_finished: bool,
    /// What discovery left out, once its walk is over.
    pub passed_over: Option<PassedOver>,
    pub indexed: u64,
    pub partial: u64,
    pub failed: u64,
    pub skipped: u64,
    pub errors_by_type: BTreeMap<ErrorType, u64>,
    /// Failing files whose every error is a grammar gap.
    pub grammar_gaps: u64,
    /// Failing files with a syntax error the reference parser confirms.
    pub invalid_source: u64,
    /// The other failing files.
    pub other_failures: u64,
    /// Syntax errors by verdict.
    pub verdicts: BTreeMap<Verdict, u64>,
    /// Time spent on verdicts, summed over files (and so over threads).
    pub verdict_time: Duration,
    pub bytes: u64,
    pub chunks: u64,
    /// Files carried over from an earlier run, not parsed again.
    pub reused: u64,
    pub parsed_bytes: u64,
    pub error_bytes: u64,
    pub missing_nodes: u64,
    pub current_file: String,
}

impl ProgressSnapshot {
    pub fn done(&self) -> u64 {
        self.indexed + self.partial + self.failed + self.skipped
    }

    /// Percent of the files that were not skipped that indexed cleanly.
    pub fn success_rate(&self) -> f64 {
        percent(self.indexed, self.done().saturating_sub(self.skipped))
    }

    /// The same, leaving out files whose only failure is a grammar gap:
    /// their code is valid, the grammar is wrong.
    pub fn success_rate_excluding_grammar_gaps(&self) -> f64 {
        let considered = self.done().saturating_sub(self.skipped);
        percent(self.indexed, considered.saturating_sub(self.grammar_gaps))
    }

    pub fn files_per_sec(&self) -> f64 {
        self.figures().files_per_sec()
    }

    pub fn mb_per_sec(&self) -> f64 {
        self.figures().mb_per_sec()
    }

    /// Time left at the rate files have been done since discovery ended:
    /// known from the first stored file on, since the total is known before
    /// any file is processed.
    pub fn eta(&self) -> Option<Duration> {
        self.figures().eta()
    }

    /// The figures every view of a run shows, for this live run.
    pub fn figures(&self) -> RunFigures {
        RunFigures {
            status: RunStatus::Running,
            done: self.done(),
            total: self.discovery_finished.then_some(self.discovered),
            indexed: self.indexed,
            partial: self.partial,
            failed: self.failed,
            skipped: self.skipped,
            reused: self.reused,
            errors: self.errors_by_type.values().sum(),
            chunks: self.chunks,
            bytes: self.bytes,
            elapsed: self.elapsed,
            processing: self.processing,
        }
    }
}

/// What a view shows of a run, from either source: the engine's counters of
/// a run going on in this process ([`ProgressSnapshot::figures`]), or the
/// run's row, which the writer keeps up to date batch by batch, for a run
/// going on anywhere ([`crate::store::runs::RunRecord::figures`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RunFigures {
    pub status: RunStatus,
    /// Files whose results are stored, whatever their outcome.
    pub done: u64,
    /// Files discovery found: `None` until its walk is over.
    pub total: Option<u64>,
    pub indexed: u64,
    pub partial: u64,
    pub failed: u64,
    pub skipped: u64,
    /// Files carried over from an earlier run (each also counted by its
    /// outcome above).
    pub reused: u64,
    /// Errors stored: one per failing file and error type.
    pub errors: u64,
    pub chunks: u64,
    /// Source text that went through the engine (skipped files left out).
    pub bytes: u64,
    /// Since the run started; until it ended, for a run that has.
    pub elapsed: Duration,
    /// The part of `elapsed` spent on files (after discovery), when known;
    /// else all of it.
    pub processing: Duration,
}

impl RunFigures {
    /// `done` over `total`, 0 to 1, once the total is known.
    pub fn fraction(&self) -> Option<f64> {
        let total = self.total?;
        Some(if total == 0 {
            1.0
        } else {
            (self.done as f64 / total as f64).min(1.0)
        })
    }

    /// Files done per second of the run.
    pub fn files_per_sec(&self) -> f64 {
        self.done as f64 / self.elapsed.as_secs_f64().max(1e-3)
    }

    pub fn mb_per_sec(&self) -> f64 {
        self.bytes as f64 / 1_000_000.0 / self.elapsed.as_secs_f64().max(1e-3)
    }

    /// Time left at the rate files have been done so far, for a running
    /// run whose total is known and which has done a file.
    pub fn eta(&self) -> Option<Duration> {
        let total = self.total?;
        if self.status != RunStatus::Running || self.done == 0 {
            return None;
        }
        let rate = self.done as f64 / self.processing.as_secs_f64().max(1e-3);
        let left = total.saturating_sub(self.done);
        Some(Duration::from_secs_f64(left as f64 / rate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(done: u64, total: Option<u64>, processing_ms: u64) -> RunFigures {
        RunFigures {
            status: RunStatus::Running,
            done,
            total,
            indexed: done,
            partial: 0,
            failed: 0,
            skipped: 0,
            reused: 0,
            errors: 0,
            chunks: 0,
            bytes: 0,
            elapsed: Duration::from_millis(processing_ms + 500),
            processing: Duration::from_millis(processing_ms),
        }
    }

    #[test]
    fn the_eta_is_known_from_the_first_file_done_at_the_processing_rate() {
        assert_eq!(figures(0, Some(100), 1000).eta(), None);
        assert_eq!(figures(10, None, 1000).eta(), None);
        // 2 files in 100 ms after discovery: 98 left at 20 files/s.
        let eta = figures(2, Some(100), 100).eta().unwrap();
        assert_eq!(eta.as_millis(), 4900);
        assert_eq!(figures(100, Some(100), 1000).eta(), Some(Duration::ZERO));
        let ended = RunFigures {
            status: RunStatus::Completed,
            ..figures(50, Some(100), 1000)
        };
        assert_eq!(ended.eta(), None);
    }

    #[test]
    fn the_fraction_needs_the_total() {
        assert_eq!(figures(5, None, 10).fraction(), None);
        assert_eq!(figures(5, Some(20), 10).fraction(), Some(0.25));
        assert_eq!(figures(0, Some(0), 10).fraction(), Some(1.0));
    }

    #[test]
    fn a_live_run_knows_its_total_and_eta_once_discovery_is_over() {
        let progress = RunProgress::default();
        progress.discovered(300, false);
        let walking = progress.snapshot();
        assert_eq!(walking.figures().total, None);
        assert_eq!(walking.processing, Duration::ZERO);
        assert_eq!(walking.eta(), None);
        progress.discovered(360, true);
        let report = FileReport::unreadable(crate::index::discover::Unreadable {
            rel_path: "a.ts".into(),
            message: "gone".into(),
        });
        progress.record(&report);
        std::thread::sleep(Duration::from_millis(2));
        let p = progress.snapshot();
        assert_eq!(p.figures().total, Some(360));
        assert_eq!(p.figures().done, 1);
        assert!(p.processing > Duration::ZERO && p.processing <= p.elapsed);
        assert!(p.eta().is_some_and(|eta| eta > Duration::ZERO));
    }
}
