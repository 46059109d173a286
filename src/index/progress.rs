//! A run's progress: counters any thread can bump and any view can read
//! without locks, plus the events the views subscribe to.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::outcome::{ErrorType, FailureKind, Outcome, Verdict};
use super::process::FileReport;
use crate::vocabulary::vocabulary;

/// Something that happened in a run. Views refresh on these; the counts
/// themselves are read from [`RunProgress`], so a receiver that lags behind
/// and misses events still shows exact numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexEvent {
    /// Discovery found more files (`finished` once the walk is over).
    Discovered { total: u64, finished: bool },
    /// A file went through the engine and its results were stored.
    FileDone {
        path: String,
        outcome: Outcome,
        error_types: Vec<ErrorType>,
    },
    /// The run ended with this status (`completed`, `cancelled`, `failed`).
    Finished { status: RunStatus },
}

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
    current_file: Mutex<String>,
}

impl Default for RunProgress {
    fn default() -> Self {
        RunProgress {
            started: Instant::now(),
            processing_started: OnceLock::new(),
            discovered: AtomicU64::new(0),
            discovery_finished: AtomicBool::new(false),
            outcomes: Default::default(),
            errors_by_type: Default::default(),
            failure_kinds: Default::default(),
            verdicts: Default::default(),
            verdict_micros: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            chunks: AtomicU64::new(0),
            current_file: Mutex::new(String::new()),
        }
    }
}

impl RunProgress {
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
        let outcome = Outcome::ALL
            .iter()
            .position(|o| *o == report.outcome)
            .unwrap_or(0);
        self.outcomes[outcome].fetch_add(1, Relaxed);
        for error in &report.errors {
            let index = ErrorType::ALL
                .iter()
                .position(|t| *t == error.error_type)
                .unwrap_or(0);
            self.errors_by_type[index].fetch_add(1, Relaxed);
            if let Some(verdict) = &error.verdict {
                let index = Verdict::ALL
                    .iter()
                    .position(|v| *v == verdict.verdict)
                    .unwrap_or(0);
                self.verdicts[index].fetch_add(1, Relaxed);
                self.verdict_micros
                    .fetch_add(verdict.reference.duration_us, Relaxed);
            }
        }
        if let Some(kind) = FailureKind::of(&report.errors) {
            let index = FailureKind::ALL
                .iter()
                .position(|k| *k == kind)
                .unwrap_or(0);
            self.failure_kinds[index].fetch_add(1, Relaxed);
        }
        // Throughput counts the text that went through the engine.
        if report.outcome != Outcome::Skipped {
            self.bytes.fetch_add(report.bytes, Relaxed);
        }
        self.chunks.fetch_add(report.chunks.len() as u64, Relaxed);
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
            current_file: self
                .current_file
                .lock()
                .map(|c| c.clone())
                .unwrap_or_default(),
        }
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
        self.done() as f64 / self.elapsed.as_secs_f64().max(1e-3)
    }

    pub fn mb_per_sec(&self) -> f64 {
        self.bytes as f64 / 1_000_000.0 / self.elapsed.as_secs_f64().max(1e-3)
    }

    /// Time left at the rate files have been done since discovery ended:
    /// known from the first stored file on, since the total is known before
    /// any file is processed.
    pub fn eta(&self) -> Option<Duration> {
        if !self.discovery_finished || self.done() == 0 {
            return None;
        }
        let rate = self.done() as f64 / self.processing.as_secs_f64().max(1e-3);
        let left = self.discovered.saturating_sub(self.done());
        Some(Duration::from_secs_f64(left as f64 / rate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eta_is_known_from_the_first_file_done_at_the_processing_rate() {
        let progress = RunProgress::default();
        progress.discovered(300, false);
        let walking = progress.snapshot();
        assert_eq!(walking.processing, Duration::ZERO);
        assert_eq!(walking.eta(), None);
        progress.discovered(360, true);
        assert_eq!(
            progress.snapshot().eta(),
            None,
            "no rate before a file is done"
        );
        let report = FileReport::unreadable(crate::index::discover::Unreadable {
            rel_path: "a.ts".into(),
            message: "gone".into(),
        });
        progress.record(&report);
        std::thread::sleep(Duration::from_millis(2));
        let p = progress.snapshot();
        assert!(p.discovery_finished && p.discovered == 360 && p.done() == 1);
        assert!(p.processing > Duration::ZERO && p.processing <= p.elapsed);
        assert!(p.eta().is_some_and(|eta| eta > Duration::ZERO));
        // 2 files in 100 ms after discovery: 98 left at 20 files/s.
        let two = ProgressSnapshot {
            discovered: 100,
            discovery_finished: true,
            indexed: 2,
            elapsed: Duration::from_millis(600),
            processing: Duration::from_millis(100),
            ..ProgressSnapshot::default()
        };
        assert_eq!(two.eta().map(|eta| eta.as_millis()), Some(4900));
    }
}
