//! GitHub Actions: `::error` workflow commands for the first errors, and a
//! Markdown summary for `$GITHUB_STEP_SUMMARY`.

use std::fmt::Write;

use super::ci::{self, CiRun};
use super::markdown::text;
use crate::sanitize;
use crate::store::ErrorRecord;
use crate::store::files::RunGroup;
use crate::words::count;

/// GitHub shows only so many annotations; more would be noise.
pub const MAX_ANNOTATIONS: usize = 50;

/// A workflow command's message: `%`, CR and LF escaped.
pub fn escape_data(value: &str) -> String {
    value
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value: also `:` and `,`.
pub fn escape_property(value: &str) -> String {
    escape_data(value).replace(':', "%3A").replace(',', "%2C")
}

/// The errors worth annotating, chosen as the run's errors go by: the first
/// [`MAX_ANNOTATIONS`] that gate CI, then, to fill up, the first known ones.
pub struct FirstAnnotations<'a> {
    run: &'a CiRun<'a>,
    new: Vec<ErrorRecord>,
    known: Vec<ErrorRecord>,
}

impl<'a> FirstAnnotations<'a> {
    pub fn new(run: &'a CiRun<'a>) -> Self {
        FirstAnnotations {
            run,
            new: Vec::new(),
            known: Vec::new(),
        }
    }

    pub fn offer(&mut self, error: ErrorRecord) {
        let kept = if self.run.counts(&error) {
            &mut self.new
        } else {
            &mut self.known
        };
        if kept.len() < MAX_ANNOTATIONS {
            kept.push(error);
        }
    }

    /// New errors first, at most [`MAX_ANNOTATIONS`].
    pub fn into_errors(self) -> Vec<ErrorRecord> {
        let mut errors = self.new;
        errors.extend(self.known);
        errors.truncate(MAX_ANNOTATIONS);
        errors
    }
}

/// One line per problem of a syntax error (its verdict and construct in
/// the title), one per other error of `errors` (see [`FirstAnnotations`]),
/// at most [`MAX_ANNOTATIONS`] in all; then a notice saying how many of the
/// run's errors were left out. `path_prefix` turns paths relative to the
/// indexed root into paths relative to the workspace (`web/` when `web`
/// was indexed).
pub fn annotations(run: &CiRun<'_>, errors: &[ErrorRecord], path_prefix: &str) -> String {
    let mut out = String::new();
    let mut lines = 0;
    let mut annotated = 0u64;
    for error in errors {
        if lines >= MAX_ANNOTATIONS {
            break;
        }
        annotated += 1;
        let command = if run.counts(error) { "error" } else { "notice" };
        let known = if run.counts(error) {
            ""
        } else {
            " (known: also in the baseline run)"
        };
        let file = format!(
            "file={}",
            escape_property(&sanitize::line(&format!(
                "{path_prefix}{}",
                crate::stored_path::display(&error.file_path)
            )))
        );
        let per_problem = !error.details.problems.is_empty();
        let sites = ci::sites(error);
        let sites = if per_problem {
            &sites[..]
        } else {
            &sites[..sites.len().min(1)]
        };
        for site in sites.iter().take(MAX_ANNOTATIONS - lines) {
            let mut properties = vec![file.clone()];
            let mut add = |name: &str, value: Option<i64>| {
                if let Some(value) = value.filter(|v| *v >= 1) {
                    properties.push(format!("{name}={value}"));
                }
            };
            add("line", site.line);
            add("col", site.column);
            add("endLine", site.end_line);
            add("endColumn", site.end_column);
            let (title, message) = if per_problem {
                (site.title.as_str(), site.message.as_str())
            } else {
                (site.title.as_str(), error.error_message.as_str())
            };
            let title = format!("{}: {title}{known}", error.error_type);
            properties.push(format!(
                "title={}",
                escape_property(&sanitize::line(&title))
            ));
            let _ = writeln!(
                out,
                "::{command} {}::{}",
                properties.join(","),
                escape_data(&sanitize::line(message))
            );
            lines += 1;
        }
    }
    let total = run.errors_total();
    let shown = annotated;
    if total > shown {
        let _ = writeln!(
            out,
            "::notice::{} not annotated; see the job summary or `snag errors {}`",
            crate::words::count(total - shown, "more error"),
            escape_data(&sanitize::line(&run.summary.repository))
        );
    }
    out
}

/// The Markdown appended to `$GITHUB_STEP_SUMMARY`.
pub fn step_summary(run: &CiRun<'_>, groups: &[RunGroup]) -> String {
    let s = run.summary;
    let f = &s.files;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## snag: {} (run {}, {})\n",
        text(&s.repository),
        s.run_id,
        s.status.as_str()
    );
    out.push_str("| Files | Indexed | Partial | Failed | Skipped | Errors |\n");
    out.push_str("|---:|---:|---:|---:|---:|---:|\n");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} |",
        f.total,
        f.indexed,
        f.partial,
        f.failed,
        f.skipped,
        run.errors_total()
    );
    if let Some(verdict) = run.baseline {
        let _ = writeln!(
            out,
            "\nCompared with baseline run {}: **{}** in {}, {} known.",
            verdict.baseline_run_id,
            count(verdict.new_error_count(), "new error"),
            count(verdict.new_failing_files, "file"),
            verdict.known_errors
        );
    }
    if !s.errors_by_type.is_empty() {
        out.push_str("\n| Error type | Count |\n|---|---:|\n");
        for (error_type, count) in &s.errors_by_type {
            let _ = writeln!(out, "| {error_type} | {count} |");
        }
    }
    if !groups.is_empty() {
        out.push_str("\n**Most common problems**\n\n");
        for g in groups {
            let line = g.example_line.map(|l| format!(":{l}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "- {}: {} ({}), e.g. {}{line}",
                count(g.files, "file"),
                text(&g.title),
                g.error_type,
                text(&g.example_path)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_summary_agrees_in_number() {
        let summary = crate::runner::RunSummary::example();
        let run = CiRun {
            summary: &summary,
            baseline: None,
        };
        let group = |files, title: &str| RunGroup {
            fingerprint: "f".into(),
            error_type: crate::index::outcome::ErrorType::ParsingError,
            title: title.into(),
            files,
            example_path: "src/a.ts".into(),
            example_line: Some(3),
        };
        let markdown = step_summary(&run, &[group(1, "one"), group(2, "two")]);
        assert!(
            markdown.contains("- 1 file: one (parsing_error), e.g. src/a.ts:3\n"),
            "{markdown}"
        );
        assert!(
            markdown.contains("- 2 files: two (parsing_error), e.g. src/a.ts:3\n"),
            "{markdown}"
        );
    }

    #[test]
    fn escaping() {
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }
}
