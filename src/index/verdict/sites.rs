//! The reference parser's word on each of a file's error sites. A text it
//! accepts is valid: every site is a grammar gap, at the construct it
//! names. A text it rejects is judged statement by statement, each parsed
//! on its own: a valid statement holds grammar gaps; one with a mistake is
//! judged again without the mistake's line, which tells the gaps it also
//! holds, or failing that is all the mistake's. So a file with a gap and a
//! mistake has both, each where it is, and a file with several mistakes
//! has each.

use std::ops::Range;
use std::time::{Duration, Instant};

use super::construct::NamedConstruct;
use super::reference::{self, Diagnostic, Judgement, SourceKind};
use crate::index::lines::LineIndex;

/// A rejected file has at most this many statements judged; the sites of
/// the rest stay undecided.
pub const MAX_STATEMENTS: usize = 10_000;
/// A rejected statement whose complaint's line, left out, does not make
/// it valid has at most this many of tree-sitter's repairs tried.
const MAX_SITE_REPAIRS: usize = 8;
/// How many lines before its complaint the reference parser may have
/// noticed a missing token late.
const NOTICED_LATE: usize = 2;
/// A statement the layout cut short (its text ends inside a bracket or a
/// template) is joined to at most this many after it.
const MAX_JOINED: usize = 4;

/// What the verdict on each site needs to know about a file.
#[derive(Debug, Clone)]
pub struct SitesRequest<'a> {
    pub text: &'a str,
    /// The text lines and columns are counted in: `text` itself, or for a
    /// component the file's own text, of which `text` blanks all but the
    /// scripts (the same bytes wherever there is code, the same lines).
    pub own_text: &'a str,
    /// The file's path (its name decides TypeScript, JSX, declaration file).
    pub rel_path: &'a str,
    /// Every error site of tree-sitter's, as bytes.
    pub sites: &'a [Range<usize>],
    /// For each site, the token tree-sitter found missing there, if any:
    /// inserting it is a repair to try.
    pub missing: &'a [Option<String>],
    /// How deep tree-sitter's tree nests, a floor for the text's nesting.
    pub tree_depth: usize,
    /// Longest the reference parser may take, in all.
    pub budget: Duration,
}

/// A mistake the reference parser found in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mistake {
    pub message: String,
    /// 1-based; the column counts characters.
    pub line: u32,
    pub column: u32,
    /// The byte it points at.
    pub offset: usize,
    /// When the reference parser's complaint was not where the mistake is
    /// (it noticed late, or gave up on a construct it had tried and
    /// complained where that began): the site of tree-sitter's whose line,
    /// left out, makes the statement valid, and where the reference parser
    /// complained. The mistake is then located at that site.
    pub located_by_site: Option<(usize, u32, u32)>,
}

/// The reference parser's word on one site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiteJudgement {
    /// The code around it is valid: a grammar gap, at this construct.
    Valid(NamedConstruct),
    /// Its statement holds a mistake (see [`SitesVerdict::blanked`]).
    InMistake,
    /// It could not decide, and why.
    Undecided(String),
}

/// The reference parser's word on a file's sites.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SitesVerdict {
    /// The mistakes it found, in source order.
    pub mistakes: Vec<Mistake>,
    /// The text with every mistake blanked (its line, or its whole
    /// statement), byte offsets and line breaks unchanged: tree-sitter's
    /// sites that are gone from it were caused by the mistakes.
    pub blanked: Option<String>,
    /// One judgement per site, in the order asked.
    pub sites: Vec<SiteJudgement>,
    /// The text's top-level statements (bytes): the reference parser's
    /// when it accepts the text, else the parts judged one by one.
    pub statements: Vec<Range<usize>>,
    pub duration_us: u64,
}

/// Judges every site of a file (see the module's comment).
pub fn judge_sites(request: &SitesRequest<'_>) -> SitesVerdict {
    let started = Instant::now();
    let judge = Judge {
        text: request.text,
        lines: LineIndex::new(request.text),
        kind: SourceKind::for_path(request.rel_path),
        request,
    };
    let everything = 0..request.text.len();
    let mut verdict = SitesVerdict {
        mistakes: Vec::new(),
        blanked: None,
        sites: Vec::new(),
        statements: Vec::new(),
        duration_us: 0,
    };
    match judge.part(&everything, None) {
        Part::Accepted(constructs, statements) => {
            verdict.sites = constructs.into_iter().map(SiteJudgement::Valid).collect();
            verdict.statements = statements;
        }
        Part::Undecided(reason) => {
            verdict.sites = vec![SiteJudgement::Undecided(reason); request.sites.len()];
        }
        Part::Rejected(complaint) => judge.statement_by_statement(&mut verdict, complaint, started),
    }
    verdict.duration_us = started.elapsed().as_micros() as u64;
    verdict
}

/// Judges sites of a text the reference parser accepted, whose top-level
/// statements are `statements`, by parsing only the statements that hold
/// them: each site is a gap at the construct it names. `None` when a site
/// is in no statement or its statement does not parse on its own (then
/// [`judge_sites`] on the whole text is the answer).
pub fn judge_sites_in(
    request: &SitesRequest<'_>,
    statements: &[Range<usize>],
) -> Option<Vec<SiteJudgement>> {
    let judge = Judge {
        text: request.text,
        lines: LineIndex::new(request.text),
        kind: SourceKind::for_path(request.rel_path),
        request,
    };
    let mut sites: Vec<Option<SiteJudgement>> = vec![None; request.sites.len()];
    for statement in statements {
        let inside = judge.sites_in(statement);
        if inside.is_empty() {
            continue;
        }
        let Part::Accepted(constructs, _) = judge.part(statement, None) else {
            return None;
        };
        for (i, construct) in inside.into_iter().zip(constructs) {
            sites[i] = Some(SiteJudgement::Valid(construct));
        }
    }
    sites.into_iter().collect()
}

/// What the reference parser made of a part of the text, in the whole
/// text's terms.
enum Part {
    Accepted(Vec<NamedConstruct>, Vec<Range<usize>>),
    Rejected(Mistake),
    Undecided(String),
}

struct Judge<'a> {
    text: &'a str,
    lines: LineIndex,
    kind: SourceKind,
    request: &'a SitesRequest<'a>,
}

impl Judge<'_> {
    /// The indices of the sites that start in `part`.
    fn sites_in(&self, part: &Range<usize>) -> Vec<usize> {
        (0..self.request.sites.len())
            .filter(|i| part.contains(&self.request.sites[*i].start))
            .collect()
    }

    /// Parses `part` of the text on its own, or
    /// `edited`, the same part with some of it blanked; the constructs are
    /// named for the sites that start in it.
    fn part(&self, part: &Range<usize>, edited: Option<&str>) -> Part {
        let piece = edited.unwrap_or(&self.text[part.clone()]);
        let sites: Vec<Range<usize>> = self
            .sites_in(part)
            .into_iter()
            .map(|i| {
                let site = &self.request.sites[i];
                site.start - part.start..site.end.min(part.end).max(site.start) - part.start
            })
            .collect();
        let (first_line, first_column) = self.lines.position(self.request.own_text, part.start);
        match reference::check(
            piece,
            self.kind,
            &sites,
            self.request.tree_depth,
            self.request.budget,
        ) {
            Judgement::Accepted {
                mut constructs,
                statements,
            } => {
                // Lines move by the part's; columns on its first line by
                // where it starts in that line.
                for construct in &mut constructs {
                    let span = &mut construct.span;
                    if span.line == 1 {
                        span.column += first_column - 1;
                    }
                    if span.end_line == 1 {
                        span.end_column += first_column - 1;
                    }
                    span.line += first_line - 1;
                    span.end_line += first_line - 1;
                }
                let statements = statements
                    .into_iter()
                    .map(|s| s.start + part.start..s.end + part.start)
                    .collect();
                Part::Accepted(constructs, statements)
            }
            Judgement::Rejected(Diagnostic {
                message, offset, ..
            }) => {
                let offset = (offset + part.start).min(self.text.len());
                let (line, column) = self.lines.position(self.request.own_text, offset);
                Part::Rejected(Mistake {
                    message,
                    line,
                    column,
                    offset,
                    located_by_site: None,
                })
            }
            Judgement::Undecided(reason) => Part::Undecided(reason),
        }
    }

    /// Judges a rejected text's statements one by one, into `verdict`.
    fn statement_by_statement(
        &self,
        verdict: &mut SitesVerdict,
        complaint: Mistake,
        started: Instant,
    ) {
        let text = self.text;
        let pieces = statements(text);
        verdict.sites = vec![
            SiteJudgement::Undecided(format!(
                "the file has more than {MAX_STATEMENTS} statements to judge"
            ));
            self.request.sites.len()
        ];
        let mut blanked = text.to_owned();
        let mut at = 0;
        while at < pieces.len() && verdict.statements.len() < MAX_STATEMENTS {
            if started.elapsed() > self.request.budget {
                let reason = format!(
                    "judging its statements took longer than {} ms",
                    self.request.budget.as_millis()
                );
                for i in self.sites_in(&(pieces[at].start..text.len())) {
                    verdict.sites[i] = SiteJudgement::Undecided(reason.clone());
                }
                break;
            }
            let (part, judged) = self.joined(&pieces, at);
            at = pieces.partition_point(|p| p.start < part.end);
            let inside = self.sites_in(&part);
            let mistake = match judged {
                Part::Accepted(constructs, _) => {
                    for (i, construct) in inside.iter().zip(constructs) {
                        verdict.sites[*i] = SiteJudgement::Valid(construct);
                    }
                    verdict.statements.push(part);
                    continue;
                }
                Part::Undecided(reason) => {
                    for i in &inside {
                        verdict.sites[*i] = SiteJudgement::Undecided(reason.clone());
                    }
                    verdict.statements.push(part);
                    continue;
                }
                Part::Rejected(mistake) => mistake,
            };
            // The mistake's line out of the way, what is left is judged
            // again: valid, it holds gaps; still rejected, the line of one
            // of tree-sitter's sites may be the one to leave out (the
            // mistake is there); failing that, it is all the mistake's.
            let mut mistake = mistake;
            match self.repaired(&part, &inside, &mut mistake) {
                Some((line, constructs)) => {
                    for (i, construct) in inside.iter().zip(constructs) {
                        verdict.sites[*i] =
                            if (line.start..=line.end).contains(&self.request.sites[*i].start) {
                                SiteJudgement::InMistake
                            } else {
                                SiteJudgement::Valid(construct)
                            };
                    }
                    blank(&mut blanked, line);
                }
                None => {
                    blank(&mut blanked, part.clone());
                    for i in &inside {
                        verdict.sites[*i] = SiteJudgement::InMistake;
                    }
                }
            }
            verdict.mistakes.push(mistake);
            verdict.statements.push(part);
        }
        // Every statement parses alone, the whole does not (a statement the
        // layout split in two that both parse): the whole text's complaint.
        if verdict.mistakes.is_empty() {
            let (start, content) = self.lines.line_at(text, complaint.offset);
            blank(&mut blanked, start..start + content.len());
            verdict.mistakes.push(complaint);
        }
        verdict.mistakes.sort_by_key(|m| m.offset);
        verdict.mistakes.dedup_by_key(|m| m.offset);
        verdict.blanked = Some(blanked);
    }

    /// A repair that makes `part` valid, with the constructs of its sites,
    /// and the line to blank in the text. Tried in turn, sites nearest the
    /// complaint first: inserting a token tree-sitter found missing at one
    /// of its sites, leaving out the complaint's line, leaving out tokens
    /// tree-sitter could not place. A repair at a site locates the mistake
    /// there.
    fn repaired(
        &self,
        part: &Range<usize>,
        inside: &[usize],
        mistake: &mut Mistake,
    ) -> Option<(Range<usize>, Vec<NamedConstruct>)> {
        let text = self.text;
        let line_of = |byte: usize| {
            let (start, content) = self.lines.line_at(text, byte);
            start..start + content.len()
        };
        let complaint = line_of(mistake.offset);
        // Sites after the complaint (the parser complained where a
        // construct it gave up on began), and just before it (it noticed a
        // missing token late).
        let complained_at = self.lines.line_of(mistake.offset);
        let mut candidates: Vec<(usize, usize)> = inside
            .iter()
            .map(|i| {
                let at = self.lines.line_of(self.request.sites[*i].start);
                (at.abs_diff(complained_at), *i)
            })
            .filter(|(_, i)| {
                self.lines.line_of(self.request.sites[*i].start) + NOTICED_LATE >= complained_at
            })
            .collect();
        candidates.sort_by_key(|(distance, _)| *distance);
        candidates.truncate(MAX_SITE_REPAIRS);
        let piece = &text[part.clone()];
        // A token tree-sitter found missing, inserted, is the most precise
        // repair; then the complaint's line left out; then tokens
        // tree-sitter could not place, left out.
        let missing = |site: &usize| self.request.missing.get(*site).cloned().flatten();
        let insertions = candidates
            .iter()
            .filter(|(_, site)| missing(site).is_some());
        let deletions = candidates
            .iter()
            .filter(|(_, site)| missing(site).is_none());
        let mut repairs = insertions.map(|(_, site)| Some(*site)).collect::<Vec<_>>();
        repairs.push(None);
        repairs.extend(deletions.map(|(_, site)| Some(*site)));
        for repair in repairs {
            let Some(site) = repair else {
                let mut without = piece.to_owned();
                blank(
                    &mut without,
                    complaint.start - part.start..complaint.end - part.start,
                );
                if let Part::Accepted(constructs, _) = self.part(part, Some(&without)) {
                    return Some((complaint, constructs));
                }
                continue;
            };
            let bytes = &self.request.sites[site];
            let (start, end) = (
                bytes.start - part.start,
                bytes.end.min(part.end) - part.start,
            );
            // Leaving out a whole region would "repair" anything: only tokens
            // on one line are left out.
            let one_line = !piece[start..end].contains('\n') && end - start < piece.len() / 2;
            let edited = match missing(&site) {
                Some(token) => format!("{}{token}{}", &piece[..start], &piece[start..]),
                None if end > start && one_line => {
                    let mut edited = piece.to_owned();
                    blank(&mut edited, start..end);
                    edited
                }
                None => continue,
            };
            if let Part::Accepted(constructs, _) = self.part(part, Some(&edited)) {
                let (line, column) = self.lines.position(self.request.own_text, bytes.start);
                mistake.located_by_site = Some((site, mistake.line, mistake.column));
                (mistake.line, mistake.column, mistake.offset) = (line, column, bytes.start);
                return Some((line_of(bytes.start), constructs));
            }
        }
        None
    }

    /// The statement at `at` judged alone, or joined to the next ones when
    /// the layout cut it short and joining makes it parse.
    fn joined(&self, pieces: &[Range<usize>], at: usize) -> (Range<usize>, Part) {
        let alone = pieces[at].clone();
        let judged = self.part(&alone, None);
        let Part::Rejected(mistake) = &judged else {
            return (alone, judged);
        };
        if !self.cut_short(mistake, &alone) {
            return (alone, judged);
        }
        for end in pieces.iter().skip(at + 1).take(MAX_JOINED) {
            let part = alone.start..end.end;
            match self.part(&part, None) {
                accepted @ Part::Accepted(..) => return (part, accepted),
                Part::Rejected(later) if self.cut_short(&later, &part) => continue,
                _ => break,
            }
        }
        (alone, judged)
    }

    /// Whether a complaint says the part ended too soon: at its last token,
    /// in an unterminated string or template, or at its end.
    fn cut_short(&self, mistake: &Mistake, part: &Range<usize>) -> bool {
        let last = part.start + self.text[part.clone()].trim_end().len();
        mistake.message.contains("`EOF`")
            || mistake.message.starts_with("Unterminated")
            || mistake.offset + 1 >= last
    }
}

/// The text's top-level statements, as bytes, by its layout: a statement
/// starts on a line that starts in the first column with a letter, `_`,
/// `$`, `@`, `#` or `/` (no closing bracket, no operator continuing the
/// line before). Comments before a statement go with it. A file that is
/// one line is one statement.
pub fn statements(text: &str) -> Vec<Range<usize>> {
    let lines = LineIndex::new(text);
    let mut starts = vec![0];
    let mut in_comment = false;
    let mut line = 0;
    loop {
        let start = lines.start_of(line);
        if start >= text.len() {
            break;
        }
        let (_, content) = lines.line_at(text, start);
        let opens = content.starts_with("/*");
        let begins = !in_comment
            && content
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || matches!(c, '@' | '_' | '$' | '/' | '#'));
        if begins && line > 0 && !previous_is_comment(text, &lines, line) {
            starts.push(start);
        }
        if opens || in_comment {
            in_comment = !content.contains("*/") || (opens && content.trim_end() == "/*");
        }
        line += 1;
    }
    starts.push(text.len());
    starts.dedup();
    starts.windows(2).map(|w| w[0]..w[1]).collect()
}

/// Whether the line before `line` is a comment, which goes with the
/// statement after it.
fn previous_is_comment(text: &str, lines: &LineIndex, line: usize) -> bool {
    let (_, before) = lines.line_at(text, lines.start_of(line - 1));
    let before = before.trim_start();
    before.starts_with("//") || before.starts_with('*') || before.starts_with("/*")
}

/// Replaces the bytes of `range` with spaces, keeping line breaks, so every
/// offset and line stays where it was.
fn blank(text: &mut String, range: Range<usize>) {
    let range = range.start.min(text.len())..range.end.min(text.len());
    let blanked: String = text[range.clone()]
        .chars()
        .map(|c| {
            if matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}') {
                c.to_string()
            } else {
                " ".repeat(c.len_utf8())
            }
        })
        .collect();
    text.replace_range(range, &blanked);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(text: &str, path: &str, sites: &[Range<usize>]) -> SitesVerdict {
        judge_sites(&SitesRequest {
            text,
            own_text: text,
            rel_path: path,
            sites,
            missing: &[],
            tree_depth: 0,
            budget: Duration::from_secs(10),
        })
    }

    fn at(text: &str, needle: &str) -> Range<usize> {
        let start = text.find(needle).expect("the needle is in the text");
        start..start + needle.len()
    }

    #[test]
    fn statements_follow_the_layout_with_their_comments() {
        let text = "import a from 'a'\n\n/** doc */\nexport const b = f(\n  1,\n)\nclass C {\n  m() {}\n}\n";
        let parts: Vec<&str> = statements(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(
            parts,
            [
                "import a from 'a'\n\n",
                "/** doc */\nexport const b = f(\n  1,\n)\n",
                "class C {\n  m() {}\n}\n"
            ]
        );
    }

    #[test]
    fn a_valid_text_makes_every_site_a_gap_at_its_construct() {
        let text = "interface I<in out T> { x: T }\nconst a = 1\n";
        let verdict = judged(text, "a.ts", &[at(text, "in out")]);
        assert!(verdict.mistakes.is_empty());
        assert!(verdict.blanked.is_none());
        let [SiteJudgement::Valid(construct)] = verdict.sites.as_slice() else {
            panic!("one valid site: {:?}", verdict.sites);
        };
        assert_eq!(construct.name, "variance annotation on a type parameter");
        assert_eq!(verdict.statements.len(), 2);
    }

    #[test]
    fn a_gap_and_a_mistake_in_one_file_are_told_apart_and_located() {
        let text = "interface I<in out T> { x: T }\n\nexport const f = (a: number => a\n\nexport const g = 2\n";
        let gap = at(text, "in out");
        let broken = at(text, "=> a");
        let verdict = judged(text, "a.ts", &[gap, broken]);
        assert_eq!(verdict.mistakes.len(), 1, "{verdict:?}");
        assert_eq!(verdict.mistakes[0].line, 3);
        assert!(
            matches!(&verdict.sites[0], SiteJudgement::Valid(c) if c.name.contains("variance"))
        );
        assert_eq!(verdict.sites[1], SiteJudgement::InMistake);
        let blanked = verdict.blanked.expect("a rejected text is blanked");
        assert!(blanked.contains("interface I<in out T>"));
        assert!(!blanked.contains("=> a"));
        assert_eq!(blanked.len(), text.len());
    }

    #[test]
    fn several_mistakes_are_each_found() {
        let text = "const a = (1\n\nconst b = 2\n\nconst c = [3\n\nconst d = 4\n";
        let verdict = judged(text, "a.ts", &[]);
        let lines: Vec<u32> = verdict.mistakes.iter().map(|m| m.line).collect();
        assert_eq!(lines, [1, 5], "{verdict:?}");
    }

    #[test]
    fn a_bracket_never_closed_is_missed_right_after_the_last_token() {
        let text = "export const a = f(g(1)\n\n/** doc */\nexport const b = 2\n";
        let verdict = judged(text, "a.ts", &[]);
        assert_eq!(
            (verdict.mistakes[0].line, verdict.mistakes[0].column),
            (1, 24),
            "{verdict:?}"
        );
    }

    #[test]
    fn a_missing_token_is_at_the_end_of_the_line_that_lacks_it() {
        // The parser notices at the `]` that starts line 3.
        let text = "const a = [\n  f(1\n]\n";
        let verdict = judged(text, "a.ts", &[]);
        assert_eq!(
            (verdict.mistakes[0].line, verdict.mistakes[0].column),
            (2, 6),
            "{verdict:?}"
        );
    }

    #[test]
    fn a_mistake_noticed_only_in_the_next_statement_is_found_in_its_own() {
        // The whole text is rejected at `const` on line 3; the statement
        // that lacks its `)` is line 1, where tree-sitter has no site.
        let text = "export const a = f(undefined\n\nconst b = g(2)\n";
        let verdict = judged(text, "a.ts", &[at(text, "const b")]);
        assert_eq!(verdict.mistakes.len(), 1, "{verdict:?}");
        assert_eq!(verdict.mistakes[0].line, 1, "{verdict:?}");
    }

    #[test]
    fn a_token_tree_sitter_found_missing_locates_the_mistake_when_it_repairs_it() {
        // The `)` before `=>` is gone; the reference parser notices at `=>`
        // (3:2), tree-sitter finds the `)` missing at the end of line 2.
        let text = "export type Lookup = (\n  key: string\n => number\n";
        let end_of_line_2 = text.find("\n =>").unwrap();
        let site = end_of_line_2..end_of_line_2;
        let verdict = judge_sites(&SitesRequest {
            text,
            own_text: text,
            rel_path: "a.ts",
            sites: std::slice::from_ref(&site),
            missing: &[Some(")".to_owned())],
            tree_depth: 0,
            budget: Duration::from_secs(10),
        });
        let [mistake] = verdict.mistakes.as_slice() else {
            panic!("one mistake: {verdict:?}");
        };
        assert_eq!((mistake.line, mistake.column), (2, 14), "{mistake:?}");
        assert_eq!(mistake.located_by_site, Some((0, 3, 2)));
        assert_eq!(verdict.sites, [SiteJudgement::InMistake]);
    }

    #[test]
    fn a_statement_the_layout_cut_short_is_joined_to_the_next() {
        // The template's second line starts in the first column.
        let text = "const q = `\nselect 1\n`\nconst r = (2\n";
        let verdict = judged(text, "a.ts", &[]);
        assert_eq!(verdict.mistakes.len(), 1, "{verdict:?}");
        assert_eq!(verdict.mistakes[0].line, 4);
        assert_eq!(verdict.statements[0], 0..at(text, "const r").start);
    }
}
