//! The analysis report as Markdown. Every text that comes from a repository
//! (paths, messages, titles) is sanitized and escaped, so it can neither
//! drive a terminal nor break the document's structure.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use super::analysis::{Comparison, GroupChange, RunAnalysis};
use crate::sanitize;
use crate::words::{count, noun};

/// The report as a Markdown document.
pub fn render(report: &RunAnalysis) -> String {
    let mut out = String::new();
    header(&mut out, report);
    distribution(&mut out, report);
    failing_files(&mut out, report);
    patterns(&mut out, report);
    recommendations(&mut out, report);
    comparison(&mut out, report);
    if !report.notes.is_empty() {
        out.push_str("\n## Notes\n\n");
        for note in &report.notes {
            let _ = writeln!(out, "- {}", text(note));
        }
    }
    out
}

/// Untrusted text for Markdown: one line, no control characters, and the
/// characters Markdown would interpret escaped (titles hold `<name>`).
pub fn text(raw: &str) -> String {
    let clean = sanitize::line(raw);
    let mut out = String::with_capacity(clean.len());
    for c in clean.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~' | '!' | '&'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn when(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn location(path: &str, line: Option<i32>) -> String {
    match line {
        Some(line) => format!("{}:{line}", text(&crate::stored_path::display(path))),
        None => text(&crate::stored_path::display(path)),
    }
}

fn header(out: &mut String, r: &RunAnalysis) {
    let f = &r.files;
    let _ = writeln!(out, "# Indexing report: {}\n", text(&r.repository));
    let _ = writeln!(out, "- **Date:** {}", when(r.generated_at));
    let finished = r
        .run
        .finished_at
        .map(|t| format!(", finished {}", when(t)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "- **Run:** {} ({}), started {}{finished}, snag {}",
        r.run.run_id,
        r.run.status.as_str(),
        when(r.run.started_at),
        text(&r.run.tool_version)
    );
    let _ = writeln!(out, "- **Repository root:** {}", text(&r.run.root));
    let _ = writeln!(out, "- **Grammars:** {}", text(&r.run.grammar));
    let _ = writeln!(
        out,
        "- **Files:** {} discovered: {} indexed, {} partial, {} failed, {} skipped",
        f.total, f.indexed, f.partial, f.failed, f.skipped
    );
    let _ = writeln!(
        out,
        "- **Success rate:** {:.1}% ({} of {} indexed cleanly, skipped files left out)",
        r.success_rate,
        f.indexed,
        count(f.considered, "file")
    );
    let _ = writeln!(
        out,
        "- **Failure rate:** {:.1}% ({} failed, {} partial)",
        r.failure_rate, f.failed, f.partial
    );
    let x = &r.failures;
    let _ = writeln!(
        out,
        "- **Failing files by kind:** {} (valid code the grammar cannot parse), \
         {} invalid source, {} other",
        count(x.grammar_gaps, "grammar gap"),
        x.invalid_source,
        x.other
    );
    let _ = writeln!(
        out,
        "- **Success rate excluding grammar gaps:** {:.1}%",
        r.success_rate_excluding_grammar_gaps
    );
    if let Some(left_out) = r.passed_over.map(|p| p.reasons())
        && !left_out.is_empty()
    {
        let _ = writeln!(out, "- **Left out:** {}", text(&left_out.join(", ")));
    }
    let health = &r.parse_health;
    if health.parsed_bytes > 0 {
        let _ = writeln!(
            out,
            "- **Parse health:** {} ({} with syntax errors)",
            health.describe(),
            count(health.files_with_syntax_errors, "file")
        );
    }
}

fn distribution(out: &mut String, r: &RunAnalysis) {
    out.push_str("\n## Error distribution\n\n");
    if r.error_distribution.is_empty() {
        out.push_str("No errors.\n");
        return;
    }
    out.push_str("| Error type | Files | Percent |\n|---|---:|---:|\n");
    for share in &r.error_distribution {
        let _ = writeln!(
            out,
            "| {} | {} | {:.1}% |",
            share.error_type, share.count, share.percent
        );
    }
    let _ = writeln!(out, "| **Total** | {} | 100.0% |", r.total_errors);
}

fn failing_files(out: &mut String, r: &RunAnalysis) {
    if r.top_failing_files.is_empty() {
        return;
    }
    out.push_str("\n## Top failing files\n\n");
    out.push_str("| File | Outcome | Errors | Sites | First error |\n|---|---|---|---:|---|\n");
    for f in &r.top_failing_files {
        let types: Vec<&str> = f.error_types.iter().map(|t| t.as_str()).collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            location(&f.file_path, f.line),
            f.outcome,
            types.join(", "),
            f.sites,
            f.message.as_deref().map(text).unwrap_or_default()
        );
    }
}

fn patterns(out: &mut String, r: &RunAnalysis) {
    if r.patterns.is_empty() {
        return;
    }
    out.push_str("\n## Common error patterns\n");
    for (i, p) in r.patterns.iter().enumerate() {
        let _ = writeln!(
            out,
            "\n### {}. {} ({})\n",
            i + 1,
            text(&p.title),
            count(p.files, "file")
        );
        let construct = p
            .construct
            .as_deref()
            .map(|c| format!(" · construct {}", text(c)))
            .unwrap_or_default();
        let status = p
            .status
            .map(|s| format!(" · status {s}"))
            .unwrap_or_default();
        let construct = match p.verdict {
            Some(v) => format!("{construct} · verdict {}", text(v.as_str())),
            None => construct,
        };
        let _ = writeln!(
            out,
            "- {}{construct}{status} · group {}",
            p.error_type,
            text(&p.fingerprint)
        );
        if let Some(note) = &p.note {
            let _ = writeln!(out, "- Note: {}", text(note));
        }
        let examples: Vec<String> = p
            .examples
            .iter()
            .map(|e| location(&e.file_path, e.line))
            .collect();
        let _ = writeln!(out, "- Examples: {}", examples.join(", "));
    }
}

fn recommendations(out: &mut String, r: &RunAnalysis) {
    if r.recommendations.is_empty() {
        return;
    }
    out.push_str(
        "\n## Recommendations\n\nRanked by how many files each fix would make index cleanly.\n\n",
    );
    for rec in &r.recommendations {
        let affects = count(rec.affects, "file");
        let unblocks = match (rec.unblocks, rec.affects) {
            (1, 1) => "the 1 file".to_owned(),
            (n, m) if n == m => format!("all {affects}"),
            (n, _) => format!("{n} of the {affects}"),
        };
        let _ = writeln!(
            out,
            "{}. **{}** ({}): unblocks {unblocks} it affects. {}",
            rec.rank,
            text(&rec.title),
            rec.error_type,
            text(&rec.action)
        );
    }
}

fn comparison(out: &mut String, r: &RunAnalysis) {
    let Some(c) = &r.comparison else {
        out.push_str(
            "\n## Compared with the previous run\n\nThis is the repository's first run.\n",
        );
        return;
    };
    let Comparison {
        previous_run_id,
        previous_started_at,
        previous_success_rate,
        success_rate_change,
        files,
        ..
    } = c;
    let _ = writeln!(
        out,
        "\n## Compared with run {previous_run_id} ({})\n",
        when(*previous_started_at)
    );
    let _ = writeln!(
        out,
        "- Success rate: {previous_success_rate:.1}% → {:.1}% ({success_rate_change:+.1} points)",
        r.success_rate
    );
    let _ = writeln!(
        out,
        "- Files: {} newly failing, {} fixed, {} gone, {} with another problem, {} with another verdict \
         (`snag diff {previous_run_id} {}` lists them)",
        files.newly_failing,
        files.fixed,
        files.gone,
        files.another_problem,
        files.another_verdict,
        r.run.run_id
    );
    changes(out, "Fixed", &c.fixed);
    changes(out, "New", &c.new);
    changes(out, "Regressed", &c.regressed);
}

fn changes(out: &mut String, heading: &str, list: &[GroupChange]) {
    let _ = writeln!(out, "\n### {heading} ({})\n", list.len());
    if list.is_empty() {
        out.push_str("None.\n");
        return;
    }
    for g in list {
        let _ = writeln!(
            out,
            "- {} ({}): {} → {} {}",
            text(&g.title),
            g.error_type,
            g.files_before,
            g.files_now,
            noun(g.files_now, "file")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_text_is_inert() {
        assert_eq!(text("unexpected `<name>`"), "unexpected \\`\\<name\\>\\`");
        assert_eq!(text("a|b\nc\x1b[2J"), "a\\|b␊c␛\\[2J");
    }
}
