//! Incremental runs: a file whose result would be what is stored already is
//! not parsed again. A result is identified by its key: the file's decoded
//! text as this snag's chunker and grammars see it (its source key), snag's
//! version and the settings that shape a result. A file whose key equals
//! the one stored with its last result keeps that result.

use std::collections::HashMap;

use super::outcome::{ErrorType, FailureKind, Outcome, Verdict};
use super::process::{FileReport, ProcessSettings};
use super::syntax::ParseHealth;

/// A file's current stored result, as much of it as a run that keeps it
/// needs: its key, and what it adds to the run's counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResult {
    pub key: i64,
    pub outcome: Outcome,
    pub chunks: u64,
    /// It has errors (to count in the run's groups).
    pub failing: bool,
    pub failure_kind: Option<FailureKind>,
    /// The parse health stored with it; None when it was not parsed.
    pub health: Option<ParseHealth>,
}

/// The current result of each file of a repository that may be kept, by
/// stored path.
#[derive(Debug, Default)]
pub struct StoredResults {
    results: HashMap<String, StoredResult>,
}

impl StoredResults {
    pub fn new(results: HashMap<String, StoredResult>) -> Self {
        StoredResults { results }
    }

    /// `rel_path`'s stored result, if it has this key.
    pub fn kept(&self, rel_path: &str, key: i64) -> Option<&StoredResult> {
        self.results
            .get(crate::store::text::storable(rel_path).as_ref())
            .filter(|r| r.key == key)
    }
}

/// Whether a result is what parsing the same text again would give. A
/// parse or a verdict that ran out of time, or an undecided verdict (the
/// reference parser may have been cut short), could come out otherwise
/// next time, on a less busy machine: such files are parsed again.
pub fn settled(report: &FileReport) -> bool {
    report.errors.iter().all(|e| {
        e.error_type != ErrorType::TimeoutError
            && e.verdict
                .as_ref()
                .is_none_or(|v| v.verdict != Verdict::Unknown)
    })
}

/// What a stored result holds; results stored in an older form are parsed
/// again (2: with their parse health).
const RESULT_FORM: u32 = 2;

/// The key of the result a file with this source key gets under `settings`
/// from this build of snag. The grammars are in the source key.
pub fn result_key(source_key: i64, settings: &ProcessSettings) -> i64 {
    let shape = format!(
        "{source_key} {RESULT_FORM} {} {} {} {}",
        env!("CARGO_PKG_VERSION"),
        settings.verdicts,
        settings.max_file_size,
        settings.parse_timeout.as_millis(),
    );
    // The bits as they are: PostgreSQL's BIGINT is signed.
    xxhash_rust::xxh3::xxh3_64(shape.as_bytes()) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::discover::SourceFile;

    #[test]
    fn the_key_changes_with_the_text_and_every_setting() {
        let settings = ProcessSettings::default();
        let key = result_key(42, &settings);
        assert_eq!(key, result_key(42, &settings));
        assert_ne!(key, result_key(43, &settings));
        let changed = [
            ProcessSettings {
                verdicts: false,
                ..settings
            },
            ProcessSettings {
                max_file_size: 1,
                ..settings
            },
            ProcessSettings {
                parse_timeout: std::time::Duration::from_millis(1),
                ..settings
            },
        ];
        for other in changed {
            assert_ne!(key, result_key(42, &other));
        }
        let result = StoredResult {
            key,
            outcome: Outcome::Indexed,
            chunks: 2,
            failing: false,
            failure_kind: None,
            health: None,
        };
        let stored = StoredResults::new([("a.ts".to_owned(), result.clone())].into());
        assert_eq!(stored.kept("a.ts", key), Some(&result));
        assert_eq!(stored.kept("a.ts", key ^ 1), None);
        assert_eq!(stored.kept("b.ts", key), None);
    }

    #[test]
    fn results_that_ran_out_of_time_are_parsed_again() {
        use crate::index::outcome::FileError;
        let file = SourceFile {
            path: "/nowhere/a.ts".into(),
            rel_path: "a.ts".into(),
            kind: crate::index::language::FileKind::Script(
                crate::index::language::Language::TypeScript,
            ),
        };
        let mut report =
            crate::index::process::FileProcessor::new(ProcessSettings::default()).process(&file);
        assert!(settled(&report), "an unreadable file's error is what it is");
        report.errors.push(FileError::new(
            ErrorType::TimeoutError,
            "parse",
            "out of time",
        ));
        assert!(!settled(&report));
    }
}
