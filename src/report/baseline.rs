//! `snag index --baseline`: which of this run's errors are new compared
//! with an earlier run, so that only those gate CI. The earlier run is read
//! through `snag diff`'s comparison (`Store::failing_in_either`): the
//! groups each file failed in there.

use std::collections::HashSet;

use crate::index::outcome::Verdict;
use crate::store::ErrorRecord;
use crate::store::diff::FileSides;

/// This run's errors judged against a baseline run.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineVerdict {
    pub baseline_run_id: i64,
    new_errors: HashSet<i64>,
    /// Files with at least one new error.
    pub new_failing_files: u64,
    pub known_errors: u64,
}

impl BaselineVerdict {
    /// The verdict on `errors`, in any order (see [`BaselineJudge`]).
    pub fn new(
        baseline_run_id: i64,
        errors: &[ErrorRecord],
        baseline: &[FileSides],
        reopened_groups: &HashSet<String>,
    ) -> Self {
        let mut judge = BaselineJudge::new(baseline_run_id, baseline, reopened_groups.clone());
        let mut by_file: Vec<&ErrorRecord> = errors.iter().collect();
        by_file.sort_by(|a, b| a.file_path.cmp(&b.file_path));
        for error in by_file {
            judge.error(error);
        }
        judge.finish()
    }

    pub fn is_new(&self, error_id: i64) -> bool {
        self.new_errors.contains(&error_id)
    }

    pub fn new_error_count(&self) -> u64 {
        self.new_errors.len() as u64
    }
}

/// Judges a run's errors one at a time, as they are read. An error is new
/// unless the baseline had the same file failing in each of its groups (its
/// own and its other problems'), none of them resolved since (a resolved
/// group that is back is `regressed`, and counts as new). Holds the baseline's failures and the
/// ids of new errors, not the errors.
pub struct BaselineJudge {
    verdict: BaselineVerdict,
    known: HashSet<(String, String)>,
    /// Files whose result is the baseline's: every error of theirs is known.
    unchanged: HashSet<String>,
    reopened_groups: HashSet<String>,
    /// The last file counted as newly failing: errors come file by file.
    last_new_file: Option<String>,
}

impl BaselineJudge {
    /// A judge of errors against the baseline's side of a diff between it
    /// and the judged run.
    pub fn new(
        baseline_run_id: i64,
        baseline: &[FileSides],
        reopened_groups: HashSet<String>,
    ) -> Self {
        let known = baseline
            .iter()
            .filter_map(|f| Some((&f.file_path, f.before.as_ref()?)))
            .flat_map(|(path, was)| was.groups.iter().map(|g| (path.clone(), g.clone())))
            .collect();
        let unchanged = baseline
            .iter()
            .filter(|f| f.same_result)
            .map(|f| f.file_path.clone())
            .collect();
        BaselineJudge {
            verdict: BaselineVerdict {
                baseline_run_id,
                new_errors: HashSet::new(),
                new_failing_files: 0,
                known_errors: 0,
            },
            known,
            unchanged,
            reopened_groups,
            last_new_file: None,
        }
    }

    /// Judges the next error; errors come file by file.
    pub fn error(&mut self, e: &ErrorRecord) {
        let unchanged = self.unchanged.contains(&e.file_path);
        let is_known = e.compared_groups().into_iter().all(|group| {
            !self.reopened_groups.contains(&group)
                && (unchanged || self.known.contains(&(e.file_path.clone(), group)))
        });
        if is_known {
            self.verdict.known_errors += 1;
            return;
        }
        self.verdict.new_errors.insert(e.error_id);
        if self.last_new_file.as_deref() != Some(e.file_path.as_str()) {
            self.verdict.new_failing_files += 1;
            self.last_new_file = Some(e.file_path.clone());
        }
    }

    /// Judges one file's errors; with `ignore_gaps`, a file whose every
    /// error is a grammar gap (every problem of it a gap) is left out.
    pub fn file(&mut self, errors: &[ErrorRecord], ignore_gaps: bool) {
        let gaps_only = errors
            .iter()
            .all(|e| e.verdict == Some(Verdict::GrammarGap));
        if !(ignore_gaps && gaps_only) {
            errors.iter().for_each(|e| self.error(e));
        }
    }

    pub fn finish(self) -> BaselineVerdict {
        self.verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(id: i64, path: &str, fingerprint: &str) -> ErrorRecord {
        ErrorRecord {
            fingerprint: Some(fingerprint.into()),
            ..ErrorRecord::example(id, path)
        }
    }

    fn failure(path: &str, fingerprint: &str) -> FileSides {
        FileSides::failing_before(path, fingerprint)
    }

    #[test]
    fn only_unknown_or_reopened_errors_are_new() {
        let errors = [
            error(1, "a.ts", "g1"), // known
            error(2, "b.ts", "g1"), // same group, file not failing before
            error(3, "a.ts", "g2"), // new group in a known file
            error(4, "c.ts", "g3"), // known, but its group was resolved and is back
        ];
        let baseline = [
            failure("a.ts", "g1"),
            failure("c.ts", "g3"),
            failure("d.ts", "g4"),
        ];
        let reopened: HashSet<String> = ["g3".to_owned()].into();
        let verdict = BaselineVerdict::new(1, &errors, &baseline, &reopened);
        assert!(!verdict.is_new(1));
        assert!(verdict.is_new(2) && verdict.is_new(3) && verdict.is_new(4));
        assert_eq!(verdict.new_error_count(), 3);
        assert_eq!(verdict.known_errors, 1);
        assert_eq!(verdict.new_failing_files, 3);
    }
}
