//! Markdown issues, ready to paste into a tracker. An error's (the triage
//! UI copies it): the problem, where it is, a snippet of the source around
//! it and the verdict, so the reader can tell a grammar gap from broken
//! code. A grammar gap's, for the grammar's maintainers (`snag repro
//! --format issue`): the grammar, the reduced input, tree-sitter's tree
//! around the error and the reference parser's word.

use std::fmt::Write;

use crate::index::outcome::Verdict;
use crate::index::verdict::REFERENCE_PARSER;
use crate::repro::Reduced;
use crate::sanitize;
use crate::store::ErrorRecord;
use crate::store::groups::GroupRecord;

/// Source lines shown around a problem.
#[derive(Debug, Clone, Copy)]
pub struct Snippet<'a> {
    /// The file's extension, naming the code fence's language.
    pub extension: &'a str,
    /// The file's lines.
    pub lines: &'a [String],
}

/// Lines of source shown on each side of the problem.
const CONTEXT: usize = 3;

/// The issue for `error`, at its problem number `site` (the primary one
/// when it has none); `file` adds a snippet, `group` its triage state.
pub fn markdown(
    error: &ErrorRecord,
    file: Option<Snippet<'_>>,
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

/// The upstream issue for a grammar gap's reduced example: the title
/// names the construct; the body the grammar (name, version, origin and
/// hash), the minimal input, tree-sitter's tree around the error, the
/// reference parser's acceptance and where snag met it.
pub fn grammar_gap(reduced: &Reduced, group: &GroupRecord) -> String {
    let grammar = &reduced.grammar;
    let found = &reduced.reproduction;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### tree-sitter-{}: valid code is not parsed ({})",
        inline(&grammar.name),
        inline(&found.construct)
    );
    let _ = writeln!(out);
    let version = grammar.version.as_deref().unwrap_or("unknown version");
    let origin = match (grammar.origin, &grammar.hash) {
        (crate::index::grammar::Origin::BuiltIn, _) => "the released crate".to_owned(),
        (_, Some(hash)) => format!("built from source, hash `{hash}`"),
        (_, None) => "built from source".to_owned(),
    };
    let _ = writeln!(
        out,
        "- **Grammar:** tree-sitter-{} {} ({origin}), parser ABI {}",
        inline(&grammar.name),
        inline(version),
        grammar.abi
    );
    let _ = writeln!(out, "- **Construct:** {}", inline(&found.construct));
    let _ = writeln!(
        out,
        "- **Reference parser:** {REFERENCE_PARSER} parses the input below without errors"
    );
    let _ = writeln!(
        out,
        "- **Seen in:** {} of `{}` (group `{}`, {})",
        crate::words::count(group.last_run_files, "file"),
        inline(&group.repository),
        group.fingerprint,
        inline(&group.title)
    );
    let lines: Vec<String> = found.text.lines().map(str::to_owned).collect();
    let fence = fence_for(&lines);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "#### Input ({}, reduced from {} by `snag repro`)",
        crate::words::count(found.text.len(), "byte"),
        crate::words::count(found.original_bytes, "byte")
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "{fence}{}", reduced.extension);
    for line in &lines {
        let _ = writeln!(out, "{}", sanitize::line(line));
    }
    let _ = writeln!(out, "{fence}");
    let _ = writeln!(out);
    let _ = writeln!(out, "#### tree-sitter's tree");
    let _ = writeln!(out);
    let tree: Vec<String> = reduced.tree.lines().map(str::to_owned).collect();
    let tree_fence = fence_for(&tree);
    let _ = writeln!(out, "{tree_fence}query");
    for line in &tree {
        let _ = writeln!(out, "{}", sanitize::line(line));
    }
    let _ = writeln!(out, "{tree_fence}");
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "#### Expected\n\nA tree without ERROR or MISSING nodes: {REFERENCE_PARSER} accepts this input."
    );
    out
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
        let lines = [
            "one",
            "two",
            "export function f(id: string {",
            "```",
            "five",
        ]
        .map(String::from);
        let file = Snippet {
            extension: "ts",
            lines: &lines,
        };
        let text = markdown(&error, Some(file), None, 0);
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
