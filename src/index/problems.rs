//! A failing file's problems. tree-sitter reports sites (where its grammar
//! gave up); one problem often yields several (the cascade after it), and a
//! file can hold problems of different kinds: valid code the grammar cannot
//! parse, and real mistakes. Each site is judged by the reference parser,
//! the sites that belong together are merged, and each problem gets its own
//! verdict, construct, location and group.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::fingerprint::normalise;
use super::lines::LineIndex;
use super::outcome::{ErrorType, Span, Verdict};
use super::verdict::{NamedConstruct, SiteJudgement, SitesVerdict};

/// A site after a grammar gap joins the gap's problem when it starts within
/// this many lines of the problem's last site (tree-sitter's cascade).
const CASCADE_LINES: u32 = 2;

/// One problem of a file, as stored in `details.problems`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    pub verdict: Verdict,
    /// For a grammar gap the construct the grammar cannot parse; otherwise
    /// the syntactic construct tree-sitter was in.
    pub construct: String,
    /// One line: the reference parser's complaint for a mistake, the
    /// construct for a grammar gap, tree-sitter's for an undecided site.
    pub message: String,
    /// Where it is: the reference parser's position for a mistake, the
    /// construct's start for a grammar gap, the first site otherwise.
    #[serde(flatten)]
    pub span: Span,
    /// How many of tree-sitter's sites it accounts for.
    pub sites: u32,
    /// Its group's id and title.
    pub fingerprint: String,
    pub title: String,
}

/// The problem a file is known by: its first mistake, else its first.
pub fn primary_problem(problems: &[Problem]) -> Option<&Problem> {
    problems
        .iter()
        .find(|p| p.verdict == Verdict::InvalidSource)
        .or_else(|| problems.first())
}

/// One of tree-sitter's sites, as problems are made from it.
#[derive(Debug, Clone)]
pub struct SiteInput {
    pub bytes: Range<usize>,
    /// The node kind tree-sitter was in (`formal_parameters`), or `program`.
    pub construct: String,
    /// tree-sitter's words for it ("unexpected `{` in formal_parameters").
    pub description: String,
    /// The token tree-sitter found missing there (`)`, `;`), if any.
    pub missing: Option<String>,
}

/// The problems of a file with these sites, in source order: one per
/// mistake the reference parser found (with the sites that went away when
/// it was blanked), then the sites that stayed, merged into gaps (or
/// undecided problems) where they follow one another.
pub fn problems(
    error_type: ErrorType,
    text: &str,
    sites: &[SiteInput],
    survived: &[bool],
    verdict: &SitesVerdict,
) -> Vec<Problem> {
    let lines = LineIndex::new(text);
    let span_of = |bytes: &Range<usize>| lines.span(text, bytes.start, bytes.end);
    let mut problems: Vec<(usize, Problem)> = Vec::new();

    // Mistakes, each with the sites that were gone once it was blanked: a
    // site belongs to the last mistake before it (cascades run forward).
    let in_mistake = |i: usize| {
        !verdict.mistakes.is_empty()
            && (!survived.get(i).copied().unwrap_or(true)
                || matches!(verdict.sites.get(i), Some(SiteJudgement::InMistake)))
    };
    let mut by_mistake: Vec<Vec<usize>> = vec![Vec::new(); verdict.mistakes.len()];
    for (i, site) in sites.iter().enumerate() {
        if !in_mistake(i) {
            continue;
        }
        let owner = verdict
            .mistakes
            .iter()
            .enumerate()
            .filter(|(_, m)| m.offset <= site.bytes.start)
            .max_by_key(|(_, m)| m.offset)
            .or_else(|| {
                verdict
                    .mistakes
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, m)| m.offset)
            })
            .map_or(0, |(at, _)| at);
        by_mistake[owner].push(i);
    }
    for (mistake, owned) in verdict.mistakes.iter().zip(&by_mistake) {
        let construct = owned
            .first()
            .map_or("source", |i| sites[*i].construct.as_str());
        // Located by tree-sitter's site: its words, and where the reference
        // parser noticed.
        let (message, words) = match mistake.located_by_site {
            Some((site, line, column)) => (
                format!(
                    "{}; the reference parser noticed at {line}:{column}: {}",
                    sites[site].description, mistake.message
                ),
                sites[site].description.clone(),
            ),
            None => (mistake.message.clone(), mistake.message.clone()),
        };
        // Where the mistake is, in the text's own lines and columns.
        let span = lines.span(text, mistake.offset, mistake.offset);
        problems.push((
            mistake.offset,
            problem(
                error_type,
                Verdict::InvalidSource,
                construct,
                (&message, &words),
                span,
                owned.len(),
            ),
        ));
    }

    // The sites that stayed: grammar gaps once the mistakes are out of the
    // way, or undecided.
    let stayed = sites.iter().enumerate().filter(|(i, _)| !in_mistake(*i));
    let mut open: Option<Open> = None;
    for (i, site) in stayed {
        let site_span = span_of(&site.bytes);
        let (verdict_here, construct, message, span, node) = match verdict.sites.get(i) {
            Some(SiteJudgement::Valid(named)) => (
                Verdict::GrammarGap,
                named.name.clone(),
                named.name.clone(),
                named.span,
                Some(named.clone()),
            ),
            Some(SiteJudgement::Undecided(reason)) => (
                Verdict::Unknown,
                site.construct.clone(),
                format!("{} ({reason})", site.description),
                site_span,
                None,
            ),
            Some(SiteJudgement::InMistake) | None => (
                Verdict::Unknown,
                site.construct.clone(),
                site.description.clone(),
                site_span,
                None,
            ),
        };
        if let Some(current) = &mut open
            && current.continues(verdict_here, &construct, node.as_ref(), site_span)
        {
            current.sites += 1;
            current.last = site_span;
            continue;
        }
        if let Some(done) = open.take() {
            problems.push(done.finish(error_type));
        }
        open = Some(Open {
            offset: site.bytes.start,
            verdict: verdict_here,
            construct,
            message,
            span,
            node_span: node.map(|n| n.span),
            last: site_span,
            sites: 1,
        });
    }
    if let Some(done) = open {
        problems.push(done.finish(error_type));
    }
    problems.sort_by_key(|(offset, _)| *offset);
    problems.into_iter().map(|(_, p)| p).collect()
}

/// A problem still taking the sites that follow it.
struct Open {
    offset: usize,
    verdict: Verdict,
    construct: String,
    message: String,
    span: Span,
    /// The construct's node, for a grammar gap.
    node_span: Option<Span>,
    /// The last site it took.
    last: Span,
    sites: usize,
}

impl Open {
    /// Whether a site is part of this problem's cascade: the same verdict
    /// and construct, inside the construct's node or within a couple of
    /// lines of the last site.
    fn continues(
        &self,
        verdict: Verdict,
        construct: &str,
        node: Option<&NamedConstruct>,
        site: Span,
    ) -> bool {
        if verdict != self.verdict {
            return false;
        }
        let near = site.line <= self.last.end_line + CASCADE_LINES;
        let inside = self.node_span.is_some_and(|n| {
            (n.line, n.column) <= (site.line, site.column) && site.line <= n.end_line
        });
        let same = construct == self.construct;
        // A gap's cascade may land in another node of the construct's
        // statement; a known gap nearby is a new problem, not a cascade.
        let known_elsewhere = node.is_some_and(|n| n.known && Some(n.span) != self.node_span);
        (same && (near || inside)) || (near && !known_elsewhere && verdict == Verdict::GrammarGap)
    }

    fn finish(self, error_type: ErrorType) -> (usize, Problem) {
        (
            self.offset,
            problem(
                error_type,
                self.verdict,
                &self.construct,
                (&self.message, &self.message),
                self.span,
                self.sites,
            ),
        )
    }
}

/// A problem; `message` is what it says, and the words its group is
/// titled by (the message without what differs from file to file).
fn problem(
    error_type: ErrorType,
    verdict: Verdict,
    construct: &str,
    (message, words): (&str, &str),
    span: Span,
    sites: usize,
) -> Problem {
    let title = match verdict {
        Verdict::GrammarGap => format!("grammar gap: {construct}"),
        Verdict::InvalidSource => format!("invalid source: {}", normalise(words)),
        Verdict::Unknown => format!("undecided: {}", normalise(words)),
    };
    // The verdict and the construct are part of the group: a group never
    // mixes them. (A gap's key is the one gaps always had.)
    let key = match verdict {
        Verdict::GrammarGap => format!("{error_type}\ngrammar_gap\n{construct}"),
        _ => format!("{error_type}\n{}\n{construct}\n{title}", verdict.as_str()),
    };
    Problem {
        verdict,
        construct: construct.to_owned(),
        message: message.to_owned(),
        span,
        sites: sites as u32,
        fingerprint: format!("{:016x}", xxhash_rust::xxh3::xxh3_64(key.as_bytes())),
        title,
    }
}
