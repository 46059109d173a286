//! A finished run for people (the headless summary) and per-file listings.

use serde::{Deserialize, Serialize};

use crate::runner::RunSummary;
use crate::sanitize;
use crate::store::files::{FileRecord, RunGroup};
use crate::words::{count, millis};

/// The summary `snag index` prints at the end of a run.
pub fn summary_text(summary: &RunSummary, groups: &[RunGroup]) -> String {
    let f = &summary.files;
    let mut out = format!(
        "run {} of {} ({}) {} in {}\n",
        summary.run_id,
        sanitize::line(&summary.repository),
        sanitize::line(&summary.root),
        summary.status.as_str(),
        millis(summary.duration_ms)
    );
    out.push_str(&format!(
        "  files    {} total: {} indexed, {} partial, {} failed, {} skipped\n",
        f.total, f.indexed, f.partial, f.failed, f.skipped
    ));
    if f.reused > 0 {
        out.push_str(&format!(
            "  reused   {} unchanged since an earlier run, not parsed again (--full parses every file)\n",
            count(f.reused, "file")
        ));
    }
    out.push_str(&format!(
        "  grammars {}\n",
        sanitize::line(&crate::index::grammar::label(&summary.grammars))
    ));
    let failing = f.failed + f.partial;
    if failing > 0 {
        let x = &summary.failures;
        out.push_str(&format!(
            "  failing  {}: {} (valid code), {} invalid source, {} other\n",
            count(failing, "file"),
            count(x.grammar_gaps, "grammar gap"),
            x.invalid_source,
            x.other
        ));
    }
    let health = &summary.parse_health;
    if health.parsed_bytes > 0 {
        out.push_str(&format!("  health   {}\n", health.describe()));
    }
    let left_out = summary.passed_over.reasons();
    if !left_out.is_empty() {
        out.push_str(&format!("  left out {}\n", left_out.join(", ")));
    }
    let considered = f.total - f.skipped;
    if considered > 0 {
        out.push_str(&format!(
            "  success  {:.1}% of {} indexed cleanly; {:.1}% excluding grammar gaps\n",
            summary.success_rate,
            count(considered, "file"),
            summary.success_rate_excluding_grammar_gaps
        ));
    }
    if summary.errors_by_type.is_empty() {
        out.push_str("  errors   none\n");
    } else {
        let errors: Vec<String> = summary
            .errors_by_type
            .iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect();
        out.push_str(&format!("  errors   {}\n", errors.join(", ")));
    }
    if !summary.verdicts.is_empty() {
        let verdicts: Vec<String> = summary
            .verdicts
            .iter()
            .map(|(v, n)| format!("{v} {n}"))
            .collect();
        out.push_str(&format!(
            "  verdicts {} (syntax errors checked by {})\n",
            verdicts.join(", "),
            crate::index::verdict::REFERENCE_PARSER
        ));
    }
    out.push_str(&format!("  chunks   {}\n", summary.chunks));
    out.push_str(&format!(
        "  speed    {:.1} files/s, {:.1} MB/s\n",
        summary.files_per_sec, summary.mb_per_sec
    ));
    if !groups.is_empty() {
        out.push_str("  top error groups (files, type, what, example):\n");
        for g in groups {
            let line = g.example_line.map(|l| format!(":{l}")).unwrap_or_default();
            out.push_str(&format!(
                "    {:>5}  {}  {}  {}{line}\n",
                g.files,
                g.error_type,
                sanitize::line(&g.title),
                sanitize::path(&g.example_path)
            ));
        }
    }
    out
}

/// Body of `snag files --format json` (every file) and of
/// `GET /api/v1/runs/{run_id}/files` (a page of them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FileListBody {
    pub files: Vec<FileRecord>,
    /// Files matching the filter, over all pages.
    pub total: i64,
    pub repository: String,
    pub run_id: i64,
    pub filters: FileFilters,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FileFilters {
    pub outcome: Option<crate::index::outcome::Outcome>,
    /// The page size; null when every file is listed (`snag files`).
    pub limit: Option<i64>,
    /// Files skipped before the page starts.
    pub offset: i64,
}

impl FileListBody {
    pub fn to_table(&self, width: Option<u16>) -> String {
        let mut table = super::table(width, ["FILE", "OUTCOME", "CHUNKS", "ERROR / REASON"]);
        for file in &self.files {
            let why = file
                .error_type
                .as_deref()
                .or(file.skip_reason.as_deref())
                .unwrap_or("");
            table.add_row([
                sanitize::path(&file.file_path).into_owned(),
                file.outcome.to_string(),
                file.chunks.to_string(),
                why.to_owned(),
            ]);
        }
        let repository = sanitize::line(&self.repository);
        format!(
            "{table}\n{} in run {} of {repository}",
            count(self.total, "file"),
            self.run_id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{FailureCounts, FileCounts};

    #[test]
    fn the_summary_reads_in_words() {
        let mut summary = RunSummary::example();
        summary.duration_ms = 1_328_200;
        let text = summary_text(&summary, &[]);
        assert!(
            text.starts_with("run 2 of r (/r) completed in 22 min 8 s\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "  failing  10 files: 4 grammar gaps (valid code), 3 invalid source, 3 other\n"
            ),
            "{text}"
        );
        assert!(text.contains("of 90 files indexed cleanly"), "{text}");

        summary.duration_ms = 850;
        summary.files = FileCounts {
            total: 2,
            indexed: 0,
            partial: 1,
            failed: 0,
            skipped: 1,
            reused: 0,
        };
        summary.failures = FailureCounts {
            grammar_gaps: 1,
            invalid_source: 0,
            other: 0,
        };
        let text = summary_text(&summary, &[]);
        assert!(
            text.starts_with("run 2 of r (/r) completed in 850 ms\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "  failing  1 file: 1 grammar gap (valid code), 0 invalid source, 0 other\n"
            ),
            "{text}"
        );
        assert!(text.contains("of 1 file indexed cleanly"), "{text}");
    }
}
