//! CI gating: whether a run crosses `--max-failure-rate` or `--max-errors`,
//! counting every failure, or with a baseline only the new ones, and with
//! `--ignore-grammar-gaps` leaving out the files whose every problem is a
//! grammar gap (a file with a gap and a real mistake still counts).

use super::baseline::BaselineVerdict;
use crate::runner::RunSummary;

/// The limits a run is held to; `None` is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Thresholds {
    /// Failing files over files not skipped, as a fraction.
    pub max_failure_rate: Option<f64>,
    pub max_errors: Option<u64>,
}

/// What the thresholds are checked against.
#[derive(Debug, Clone, PartialEq)]
pub struct Gated {
    pub failure_rate: f64,
    pub errors: u64,
    /// " new" with a baseline, so messages say what was counted.
    qualifier: &'static str,
    /// Said after the numbers when grammar gaps were left out.
    note: &'static str,
}

impl Gated {
    /// What a run is gated on. A baseline's verdict was made without the
    /// gap-only files already when `ignore_gaps` (see
    /// [`super::baseline::BaselineJudge::file`]).
    pub fn new(summary: &RunSummary, verdict: Option<&BaselineVerdict>, ignore_gaps: bool) -> Self {
        let f = &summary.files;
        let gaps = if ignore_gaps {
            summary.failures.grammar_gaps
        } else {
            0
        };
        let considered = f.total.saturating_sub(f.skipped).saturating_sub(gaps);
        let note = if ignore_gaps {
            " (grammar gaps left out)"
        } else {
            ""
        };
        match verdict {
            None => Gated {
                failure_rate: rate((f.failed + f.partial).saturating_sub(gaps), considered),
                // A gap-only file has exactly one error: its parsing_error.
                errors: summary
                    .errors_by_type
                    .values()
                    .sum::<u64>()
                    .saturating_sub(gaps),
                qualifier: "",
                note,
            },
            Some(verdict) => Gated {
                failure_rate: rate(verdict.new_failing_files, considered),
                errors: verdict.new_error_count(),
                qualifier: " new",
                note,
            },
        }
    }

    /// Why the run fails the gate, or `None` when it passes.
    pub fn crossed(&self, thresholds: &Thresholds) -> Option<String> {
        let qualifier = self.qualifier;
        if let Some(max) = thresholds.max_failure_rate
            && self.failure_rate > max
        {
            return Some(
                format!(
                    "{} failure rate {:.2}%{} is above --max-failure-rate {:.2}%",
                    qualifier.trim_start(),
                    self.failure_rate * 100.0,
                    self.note,
                    max * 100.0
                )
                .trim_start()
                .to_owned(),
            );
        }
        match thresholds.max_errors {
            Some(max) if self.errors > max => Some(format!(
                "{}{qualifier} {} recorded{}, more than --max-errors {max}",
                self.errors,
                crate::words::noun(self.errors, "error"),
                self.note
            )),
            _ => None,
        }
    }
}

/// Failing over considered files; 0 of 0 is 0.
fn rate(failing: u64, considered: u64) -> f64 {
    if considered == 0 {
        return 0.0;
    }
    failing as f64 / considered as f64
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::index::outcome::Verdict;
    use crate::report::baseline::BaselineJudge;
    use crate::runner::FileCounts;
    use crate::store::ErrorRecord;

    fn limits(rate: Option<f64>, errors: Option<u64>) -> Thresholds {
        Thresholds {
            max_failure_rate: rate,
            max_errors: errors,
        }
    }

    #[test]
    fn every_failure_counts_without_a_baseline() {
        let gated = Gated::new(&RunSummary::example(), None, false);
        assert_eq!(gated.failure_rate, 10.0 / 90.0);
        assert_eq!(gated.errors, 12);
        assert_eq!(gated.crossed(&limits(Some(0.2), Some(12))), None);
        assert_eq!(
            gated.crossed(&limits(Some(0.1), None)).as_deref(),
            Some("failure rate 11.11% is above --max-failure-rate 10.00%")
        );
        assert_eq!(
            gated.crossed(&limits(None, Some(11))).as_deref(),
            Some("12 errors recorded, more than --max-errors 11")
        );
        assert_eq!(gated.crossed(&Thresholds::default()), None);
    }

    #[test]
    fn gap_only_files_leave_both_sides_of_the_rate() {
        let gated = Gated::new(&RunSummary::example(), None, true);
        assert_eq!(gated.failure_rate, 6.0 / 86.0);
        assert_eq!(gated.errors, 8);
        assert_eq!(
            gated.crossed(&limits(None, Some(7))).as_deref(),
            Some("8 errors recorded (grammar gaps left out), more than --max-errors 7")
        );
    }

    #[test]
    fn an_empty_run_has_no_failure_rate() {
        let mut empty = RunSummary::example();
        empty.files = FileCounts {
            total: 0,
            indexed: 0,
            partial: 0,
            failed: 0,
            skipped: 0,
            reused: 0,
        };
        empty.errors_by_type.clear();
        empty.failures.grammar_gaps = 0;
        let gated = Gated::new(&empty, None, true);
        assert_eq!(gated.failure_rate, 0.0);
        assert_eq!(gated.crossed(&limits(Some(0.0), Some(0))), None);
    }

    fn error(id: i64, path: &str, fingerprint: &str, verdict: Verdict) -> ErrorRecord {
        ErrorRecord {
            fingerprint: Some(fingerprint.into()),
            verdict: Some(verdict),
            ..ErrorRecord::example(id, path)
        }
    }

    #[test]
    fn with_a_baseline_only_new_failures_count_and_gap_only_files_can_be_left_out() {
        // a.ts: only a gap; b.ts: a gap and a mistake (its file verdict is
        // invalid source); c.ts: known from the baseline.
        let files = [
            vec![error(1, "a.ts", "gap", Verdict::GrammarGap)],
            vec![error(2, "b.ts", "mistake", Verdict::InvalidSource)],
            vec![error(3, "c.ts", "old", Verdict::InvalidSource)],
        ];
        let baseline = [crate::store::diff::FileSides::failing_before("c.ts", "old")];
        for (ignore_gaps, new_files) in [(false, 2), (true, 1)] {
            let mut judge = BaselineJudge::new(1, &baseline, HashSet::new());
            for file in &files {
                judge.file(file, ignore_gaps);
            }
            let verdict = judge.finish();
            assert_eq!(verdict.new_failing_files, new_files, "{ignore_gaps}");
            assert_eq!(verdict.is_new(1), !ignore_gaps);
            assert!(verdict.is_new(2) && !verdict.is_new(3));
            let gated = Gated::new(&RunSummary::example(), Some(&verdict), ignore_gaps);
            assert_eq!(gated.errors, new_files);
            let crossed = gated.crossed(&limits(None, Some(0))).unwrap();
            let expected = match new_files {
                1 => "1 new error recorded".to_owned(),
                n => format!("{n} new errors recorded"),
            };
            assert!(crossed.starts_with(&expected), "{crossed}");
        }
    }
}
