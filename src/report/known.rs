//! `snag index --known-failures FILE`, the grammar maintainers' way: a list
//! of files expected to fail (tree-sitter's `known_failures.txt`: one path
//! per line, `#` comments). A run passes when the files that fail are
//! exactly those listed: a failure not on the list is a regression, and a
//! listed file that now parses means the list must shrink, so it stays
//! honest. `--write-known-failures FILE` writes the list a run would pass.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

use crate::index::outcome::Outcome;
use crate::sanitize;
use crate::store::files::FileRecord;
use crate::words::count;

/// The paths of a known-failures list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownFailures {
    paths: BTreeSet<String>,
}

/// A run judged against a known-failures list (in `snag index --format
/// json` as `known_failures`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct KnownVerdict {
    /// Failing files not on the list.
    pub unexpected: Vec<String>,
    /// Listed files the run indexed without failing.
    pub now_passing: Vec<String>,
    /// Listed files the run does not judge: it does not have them
    /// (deleted, or not discovered) or skipped them.
    pub missing: Vec<String>,
    /// Listed files that still fail.
    pub still_failing: usize,
}

/// Paths named in a message, at most this many.
const NAMED: usize = 5;

impl KnownFailures {
    /// The list in `text`: one path per line; blank lines and lines
    /// starting with `#` are skipped, and a path's surrounding spaces.
    pub fn parse(text: &str) -> Self {
        let paths = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(|line| line.trim_start_matches("./").to_owned())
            .collect();
        KnownFailures { paths }
    }

    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!(
                "cannot read the known failures {}: {e}",
                sanitize::path(&path.display().to_string())
            )
        })?;
        Ok(Self::parse(&text))
    }

    /// Judges a run's files: failed and partial files fail, grammar gaps
    /// included (they are what a grammar's list is about).
    pub fn judge(&self, files: &[FileRecord]) -> KnownVerdict {
        let mut verdict = KnownVerdict::default();
        let mut seen = BTreeSet::new();
        for file in files.iter().filter(|f| f.outcome != Outcome::Skipped) {
            seen.insert(file.file_path.as_str());
            let listed = self.paths.contains(&file.file_path);
            match (file.outcome.is_failure(), listed) {
                (true, true) => verdict.still_failing += 1,
                (true, false) => verdict.unexpected.push(file.file_path.clone()),
                (false, true) => verdict.now_passing.push(file.file_path.clone()),
                (false, false) => {}
            }
        }
        verdict.missing = self
            .paths
            .iter()
            .filter(|p| !seen.contains(p.as_str()))
            .cloned()
            .collect();
        verdict.unexpected.sort();
        verdict.now_passing.sort();
        verdict
    }
}

impl KnownVerdict {
    /// Why the run fails its list, if it does.
    pub fn crossed(&self) -> Option<String> {
        let mut why = Vec::new();
        if !self.unexpected.is_empty() {
            why.push(format!(
                "{} not in the known failures ({})",
                count(self.unexpected.len() as u64, "failing file"),
                named(&self.unexpected)
            ));
        }
        if !self.now_passing.is_empty() {
            why.push(format!(
                "{} listed as known failures now {} ({}): take {} off the list",
                count(self.now_passing.len() as u64, "file"),
                if self.now_passing.len() == 1 {
                    "passes"
                } else {
                    "pass"
                },
                named(&self.now_passing),
                if self.now_passing.len() == 1 {
                    "it"
                } else {
                    "them"
                }
            ));
        }
        (!why.is_empty()).then(|| why.join("; "))
    }

    /// One line for the text summary.
    pub fn line(&self) -> String {
        let mut line = format!(
            "  known    {} still failing, {} not on the list, {} now passing",
            self.still_failing,
            self.unexpected.len(),
            self.now_passing.len()
        );
        if !self.missing.is_empty() {
            line.push_str(&format!(
                ", {} listed but not in this run ({})",
                self.missing.len(),
                named(&self.missing)
            ));
        }
        line.push('\n');
        line
    }
}

/// The first few paths, and how many more.
fn named(paths: &[String]) -> String {
    let mut shown: Vec<String> = paths
        .iter()
        .take(NAMED)
        .map(|p| sanitize::path(p).into_owned())
        .collect();
    if paths.len() > NAMED {
        shown.push(format!("and {} more", paths.len() - NAMED));
    }
    shown.join(", ")
}

/// Writes the list a run passes (its failed and partial files, sorted) to
/// `path`, through a file beside it renamed into place: a reader never
/// sees half a list.
pub fn write(path: &Path, files: &[FileRecord], repository: &str) -> anyhow::Result<()> {
    let shown = sanitize::path(&path.display().to_string()).into_owned();
    let failing: BTreeSet<&str> = files
        .iter()
        .filter(|f| f.outcome.is_failure())
        .map(|f| f.file_path.as_str())
        .collect();
    let mut text = format!(
        "# Files of {} that snag expects to fail (failed or partial), one per line.\n\
         # Written by `snag index --write-known-failures`; checked by --known-failures.\n",
        sanitize::line(repository)
    );
    for path in failing {
        text.push_str(path);
        text.push('\n');
    }
    let directory = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(directory)
        .map_err(|e| anyhow::anyhow!("cannot write the known failures {shown}: {e}"))?;
    file.write_all(text.as_bytes())
        .map_err(|e| anyhow::anyhow!("cannot write the known failures {shown}: {e}"))?;
    file.persist(path)
        .map_err(|e| anyhow::anyhow!("cannot write the known failures {shown}: {}", e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, outcome: Outcome) -> FileRecord {
        FileRecord {
            file_path: path.into(),
            outcome,
            skip_reason: None,
            language: None,
            bytes: 1,
            chunks: 0,
            error_type: None,
            duration_us: 0,
            error_bytes: None,
            missing_nodes: None,
        }
    }

    #[test]
    fn a_run_passes_when_exactly_the_listed_files_fail() {
        let list =
            KnownFailures::parse("# known\n\n  src/a.ts  \n./src/b.ts\nsrc/gone.ts\n# src/c.ts\n");
        let files = [
            file("src/a.ts", Outcome::Partial),
            file("src/b.ts", Outcome::Indexed),
            file("src/c.ts", Outcome::Failed),
            file("src/d.ts", Outcome::Indexed),
        ];
        let verdict = list.judge(&files);
        assert_eq!(verdict.still_failing, 1);
        assert_eq!(verdict.unexpected, ["src/c.ts"]);
        assert_eq!(verdict.now_passing, ["src/b.ts"]);
        assert_eq!(verdict.missing, ["src/gone.ts"]);
        let why = verdict.crossed().unwrap();
        assert!(
            why.contains("1 failing file not in the known failures (src/c.ts)"),
            "{why}"
        );
        assert!(
            why.contains("1 file listed as known failures now passes (src/b.ts)"),
            "{why}"
        );
        let exact = KnownFailures::parse("src/a.ts\nsrc/c.ts\n").judge(&files);
        assert_eq!(exact.crossed(), None);
    }

    #[test]
    fn the_written_list_is_what_the_run_passes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_failures.txt");
        let files = [
            file("src/z.ts", Outcome::Failed),
            file("src/a.ts", Outcome::Partial),
            file("src/ok.ts", Outcome::Indexed),
        ];
        write(&path, &files, "web").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with("src/a.ts\nsrc/z.ts\n"), "{text}");
        let list = KnownFailures::read(&path).unwrap();
        assert_eq!(list.judge(&files).crossed(), None);
    }
}
