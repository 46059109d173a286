//! An error as a Markdown issue, ready to paste into a tracker: the
//! problem, where it is, a snippet of the source around it and the
//! verdict, so the reader can tell a grammar gap from broken code.

use std::fmt::Write;

use super::command::FileText;
use crate::index::outcome::Verdict;
use crate::sanitize;
use crate::store::ErrorRecord;
use crate::store::groups::GroupRecord;

/// Lines of source shown on each side of the problem.
const CONTEXT: usize = 3;

/// The issue for `error`, at its problem number `site` (the primary one
/// when it has none); `file` adds a snippet, `group` its triage state.
pub fn markdown(
    error: &ErrorRecord,
    file: Option<&FileText>,
    group: Option<&GroupRecord>,
    site: usize,
) -> String {
    let problem = error.details.problems.get(site);
    let title = match problem {
        Some(p) => p.title.clone(),
        None if !error.details.title.is_empty() => error.details.title.clone(),
        None => error.error_message.clone(),
    };
    let (line, column) = match problem {
        Some(p) => (Some(p.span.line), Some(p.span.column)),
        None => (error.line.map(|l| l as u32), error.column.map(|c| c as u32)),
    };
    let verdict = problem.map(|p| p.verdict).or(error.verdict);
    let mut out = String::new();
    let _ = writeln!(out, "### {}", inline(&title));
    let _ = writeln!(out);
    let place = match (line, column) {
        (Some(l), Some(c)) => format!("{}:{l}:{c}", error.file_path),
        (Some(l), None) => format!("{}:{l}", error.file_path),
        _ => error.file_path.clone(),
    };
    let _ = writeln!(out, "- **Where:** {}", inline(&place));
    let _ = writeln!(out, "- **Error type:** `{}`", error.error_type);
    if let Some(verdict) = verdict {
        let _ = writeln!(out, "- **Verdict:** {}", verdict_words(verdict));
    }
    let construct = problem.map_or(error.details.construct.as_str(), |p| p.construct.as_str());
    if !construct.is_empty() {
        let _ = writeln!(out, "- **Construct:** {}", inline(construct));
    }
    if let Some(reference) = &error.details.reference
        && let Some(message) = &reference.message
    {
        let _ = writeln!(
            out,
            "- **{}:** {}",
            inline(&reference.parser),
            inline(message)
        );
    }
    if let Some(group) = group {
        let _ = writeln!(
            out,
            "- **Group:** {} ({}, {}, fingerprint `{}`)",
            inline(&group.title),
            group.status,
            crate::words::count(group.last_run_files, "file"),
            group.fingerprint
        );
    }
    if let Some(run) = error.run_id {
        let _ = writeln!(out, "- **Run:** {run} of `{}`", inline(&error.repository));
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "> {}", inline(&error.error_message));
    if let (Some(file), Some(line)) = (file, line)
        && !file.lines.is_empty()
    {
        let at = (line as usize).saturating_sub(1).min(file.lines.len() - 1);
        let from = at.saturating_sub(CONTEXT);
        let to = (at + CONTEXT + 1).min(file.lines.len());
        let fence = fence_for(&file.lines[from..to]);
        let _ = writeln!(out);
        let _ = writeln!(out, "{fence}{}", file.extension);
        for (index, text) in file.lines[from..to].iter().enumerate() {
            let number = from + index + 1;
            let marker = if number == line as usize { ">" } else { " " };
            let _ = writeln!(
                out,
                "{marker}{number:>5} | {}",
                sanitize::line(text.trim_end_matches(['\r', '\n']))
            );
        }
        let _ = writeln!(out, "{fence}");
    }
    out
}

fn verdict_words(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::GrammarGap => {
            "grammar gap: the reference parser accepts the code, the grammar does not"
        }
        Verdict::InvalidSource => "invalid source: the reference parser rejects the code too",
        Verdict::Unknown => "unknown: the reference parser could not decide",
    }
}

/// Attacker text on one Markdown line: sanitized, and every character
/// Markdown would read as syntax escaped (the report's own rule).
fn inline(text: &str) -> String {
    crate::report::markdown::text(text)
}

/// A code fence longer than any run of backticks in the snippet.
fn fence_for(lines: &[String]) -> String {
    let longest = lines
        .iter()
        .flat_map(|l| l.split(|c| c != '`'))
        .map(str::len)
        .max()
        .unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_names_the_problem_its_place_and_verdict_with_a_snippet() {
        let mut error = ErrorRecord::example(1, "src/a.ts");
        error.error_message = "3:21 unexpected `{`".into();
        error.line = Some(3);
        error.column = Some(21);
        error.verdict = Some(Verdict::InvalidSource);
        let file = FileText {
            path: "/src/web/src/a.ts".into(),
            extension: "ts".into(),
            lines: [
                "one",
                "two",
                "export function f(id: string {",
                "```",
                "five",
            ]
            .map(String::from)
            .to_vec(),
            notice: None,
        };
        let text = markdown(&error, Some(&file), None, 0);
        assert!(text.contains("- **Where:** src/a.ts:3:21"), "{text}");
        assert!(text.contains("- **Verdict:** invalid source"), "{text}");
        assert!(
            text.contains(">    3 | export function f(id: string {"),
            "{text}"
        );
        assert!(
            text.contains("\n````ts\n"),
            "a fence longer than the snippet's:\n{text}"
        );
        assert!(
            text.contains("> 3:21 unexpected \\`{\\`"),
            "Markdown in the message is inert:\n{text}"
        );
    }
}
