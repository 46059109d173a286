//! `snag diff` and `GET /api/v1/runs/{a}/diff/{b}`: what changed between
//! two runs of a repository, grouped by problem group. A file is
//! - **newly failing**: it fails in the later run and did not in the earlier
//!   one (it was fine, or is new);
//! - **fixed**: it failed and is now fine;
//! - **gone**: it failed and the later run does not have it;
//! - **another problem**: it fails in both runs, now with a problem in a
//!   group it had none in (its first problem may be the same);
//! - **another verdict**: no new problem, but its kind of failure changed
//!   (a grammar gap now judged broken source, say).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::analysis::ReportError;
use crate::index::outcome::{ErrorType, FailureKind};
use crate::index::progress::{RunHealth, RunStatus};
use crate::sanitize;
use crate::store::Store;
use crate::store::diff::{Change, FileProblem, FileSides};
use crate::store::runs::RunRecord;
use crate::words::count;

/// The two runs compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DiffRun {
    pub run_id: i64,
    pub status: RunStatus,
    pub started_at: DateTime<Utc>,
    /// The grammars it parsed with, in one line (`built-in`, or each
    /// grammar's name, version and origin): comparing two grammars is
    /// comparing two runs of one corpus.
    pub grammar: String,
    /// How much of the parsed code tree-sitter could not read.
    pub parse_health: RunHealth,
}

impl DiffRun {
    /// `run`, whose files with syntax errors are counted by the caller.
    pub fn new(run: &RunRecord, files_with_syntax_errors: u64) -> Self {
        DiffRun {
            run_id: run.run_id,
            status: run.status,
            started_at: run.started_at,
            grammar: run.grammar_label(),
            parse_health: run.health(files_with_syntax_errors),
        }
    }
}

/// What two runs did to one problem group (one construct, for grammar
/// gaps), counted in problems: a file with the group's problem in one run
/// and not the other is one problem fixed or one new, whether or not the
/// file still fails for something else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConstructDiff {
    /// The group's fingerprint, or the error type of errors without one.
    pub group: String,
    pub title: String,
    /// Files that had the problem and do not now (fixed, gone, or failing
    /// for something else only).
    pub fixed: u64,
    /// Files that have the problem now and did not.
    pub new: u64,
    /// Files with the problem in both runs.
    pub unchanged: u64,
}

pub use crate::store::diff::DiffCounts;

/// A file failing now in another group than before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProblemChange {
    pub file_path: String,
    pub was: FileProblem,
}

/// A file whose kind of failure changed within one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VerdictChange {
    pub file_path: String,
    pub was: Option<FailureKind>,
    pub now: Option<FailureKind>,
}

/// One problem group's changes. A file counts in the group it fails in
/// now (newly failing, another problem or verdict) or failed in before
/// (fixed, gone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GroupDiff {
    pub fingerprint: Option<String>,
    pub error_type: ErrorType,
    pub title: String,
    pub newly_failing: Vec<String>,
    pub fixed: Vec<String>,
    pub gone: Vec<String>,
    pub another_problem: Vec<ProblemChange>,
    pub another_verdict: Vec<VerdictChange>,
}

impl GroupDiff {
    fn new(problem: &FileProblem) -> Self {
        GroupDiff {
            fingerprint: problem.fingerprint.clone(),
            error_type: problem.error_type,
            title: problem
                .title
                .clone()
                .unwrap_or_else(|| problem.error_type.to_string()),
            newly_failing: Vec::new(),
            fixed: Vec::new(),
            gone: Vec::new(),
            another_problem: Vec::new(),
            another_verdict: Vec::new(),
        }
    }

    fn files(&self) -> usize {
        self.newly_failing.len()
            + self.fixed.len()
            + self.gone.len()
            + self.another_problem.len()
            + self.another_verdict.len()
    }
}

/// What changed from one run to another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunDiff {
    pub repository: String,
    pub from: DiffRun,
    pub to: DiffRun,
    pub counts: DiffCounts,
    /// The groups with changes, those with the most changed files first.
    pub groups: Vec<GroupDiff>,
    /// Every problem group of either run with its problems fixed, new and
    /// unchanged, the most changed first.
    pub constructs: Vec<ConstructDiff>,
}

/// The two runs to compare: given, or found from the repository.
pub async fn resolve(
    store: &Store,
    repository: Option<&str>,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<(RunRecord, RunRecord), ReportError> {
    let run = |id: i64| async move {
        let run = store.get_run(id).await?.ok_or(ReportError::NoSuchRun(id))?;
        match repository {
            Some(name) if name != run.repository => Err(ReportError::OtherRepository {
                run_id: id,
                actual: run.repository,
                requested: name.to_owned(),
            }),
            _ => Ok(run),
        }
    };
    match (from, to) {
        (Some(a), Some(b)) => {
            let (a, b) = (run(a).await?, run(b).await?);
            if a.repository != b.repository {
                return Err(ReportError::OtherRepository {
                    run_id: b.run_id,
                    actual: b.repository,
                    requested: a.repository,
                });
            }
            Ok((a, b))
        }
        (Some(b), None) | (None, Some(b)) => {
            let b = run(b).await?;
            let a = store
                .previous_run(&b.repository, b.run_id)
                .await?
                .ok_or(ReportError::NothingBefore(b.run_id))?;
            Ok((a, b))
        }
        (None, None) => {
            let name = repository.ok_or(ReportError::NoRepository)?;
            let b = store
                .latest_run(name)
                .await?
                .ok_or_else(|| ReportError::NoRuns(name.to_owned()))?;
            let a = store
                .previous_run(name, b.run_id)
                .await?
                .ok_or(ReportError::NothingBefore(b.run_id))?;
            Ok((a, b))
        }
    }
}

/// The diff of two runs of one repository.
pub async fn load(store: &Store, from: &RunRecord, to: &RunRecord) -> Result<RunDiff, ReportError> {
    let files = store
        .failing_in_either(&from.repository, from.run_id, to.run_id)
        .await?;
    let side = async |run: &RunRecord| -> Result<DiffRun, ReportError> {
        let counts = store.run_error_counts(run.run_id).await?;
        let with_syntax_errors = counts.get(&ErrorType::ParsingError).copied();
        Ok(DiffRun::new(
            run,
            with_syntax_errors.unwrap_or(0).max(0) as u64,
        ))
    };
    let (from_side, to_side) = (side(from).await?, side(to).await?);
    let mut diff = RunDiff::new(&from.repository, from_side, to_side, files);
    let groups: Vec<String> = diff.constructs.iter().map(|c| c.group.clone()).collect();
    let titles = store.group_titles(&from.repository, &groups).await?;
    for construct in &mut diff.constructs {
        if let Some(title) = titles.get(&construct.group) {
            construct.title = title.clone();
        }
    }
    Ok(diff)
}

/// Problems per group: fixed, new and unchanged between the two sides of
/// each file. A result both runs read alike has its groups unread (they
/// are the same): its first error's group stands for them.
fn constructs(files: &[FileSides]) -> Vec<ConstructDiff> {
    let mut by_group: BTreeMap<String, ConstructDiff> = BTreeMap::new();
    for file in files {
        let (before, after) = if file.same_result {
            let shared = groups_of(file.after.as_ref(), true);
            (shared.clone(), shared)
        } else {
            (
                groups_of(file.before.as_ref(), false),
                groups_of(file.after.as_ref(), false),
            )
        };
        for group in before.union(&after) {
            let title = [&file.after, &file.before]
                .into_iter()
                .flatten()
                .find(|p| p.fingerprint.as_deref() == Some(*group))
                .and_then(|p| p.title.clone());
            let counted = by_group
                .entry((*group).to_owned())
                .or_insert_with(|| ConstructDiff {
                    group: (*group).to_owned(),
                    title: title.unwrap_or_else(|| (*group).to_owned()),
                    fixed: 0,
                    new: 0,
                    unchanged: 0,
                });
            match (before.contains(group), after.contains(group)) {
                (true, true) => counted.unchanged += 1,
                (true, false) => counted.fixed += 1,
                _ => counted.new += 1,
            }
        }
    }
    let mut constructs: Vec<ConstructDiff> = by_group.into_values().collect();
    constructs.sort_by(|a, b| {
        (b.fixed + b.new)
            .cmp(&(a.fixed + a.new))
            .then_with(|| b.unchanged.cmp(&a.unchanged))
            .then_with(|| a.title.cmp(&b.title))
    });
    constructs
}

/// The groups of a file's problem in one run: every group its errors are
/// in, or only its first error's when those were not read (`primary`).
fn groups_of(problem: Option<&FileProblem>, primary: bool) -> BTreeSet<&str> {
    let Some(problem) = problem else {
        return BTreeSet::new();
    };
    let first = problem
        .fingerprint
        .as_deref()
        .unwrap_or(problem.error_type.as_str());
    if primary || problem.groups.is_empty() {
        return BTreeSet::from([first]);
    }
    problem.groups.iter().map(String::as_str).collect()
}

type Groups = BTreeMap<(Option<String>, ErrorType), GroupDiff>;

/// The changes of `problem`'s group.
fn group_of<'a>(groups: &'a mut Groups, problem: &FileProblem) -> &'a mut GroupDiff {
    groups
        .entry((problem.fingerprint.clone(), problem.error_type))
        .or_insert_with(|| GroupDiff::new(problem))
}

impl RunDiff {
    pub fn new(repository: &str, from: DiffRun, to: DiffRun, files: Vec<FileSides>) -> Self {
        let counts = DiffCounts::of(&files);
        let constructs = constructs(&files);
        let mut groups = Groups::new();
        for file in files {
            let change = file.change();
            let path = file.file_path;
            match (change, file.before, file.after) {
                (Change::NewlyFailing, _, Some(now)) => {
                    group_of(&mut groups, &now).newly_failing.push(path);
                }
                (Change::Fixed, Some(was), _) => group_of(&mut groups, &was).fixed.push(path),
                (Change::Gone, Some(was), _) => group_of(&mut groups, &was).gone.push(path),
                (Change::AnotherProblem, Some(was), Some(now)) => group_of(&mut groups, &now)
                    .another_problem
                    .push(ProblemChange {
                        file_path: path,
                        was,
                    }),
                (Change::AnotherVerdict, Some(was), Some(now)) => group_of(&mut groups, &now)
                    .another_verdict
                    .push(VerdictChange {
                        file_path: path,
                        was: was.failure_kind,
                        now: now.failure_kind,
                    }),
                _ => {}
            }
        }
        let mut groups: Vec<GroupDiff> = groups.into_values().collect();
        groups.sort_by(|a, b| {
            b.files()
                .cmp(&a.files())
                .then_with(|| a.title.cmp(&b.title))
        });
        RunDiff {
            repository: repository.to_owned(),
            from,
            to,
            counts,
            groups,
            constructs,
        }
    }

    /// Files that fail now and did not, or fail with another problem: what
    /// `--fail-on-new` gates on.
    pub fn new_failures(&self) -> u64 {
        self.counts.newly_failing + self.counts.another_problem
    }

    /// One line of counts: `run 12 → run 13 of web: 3 newly failing, ...`.
    pub fn headline(&self) -> String {
        let c = &self.counts;
        format!(
            "run {} → run {} of {}: {} newly failing, {} fixed, {} gone, {} with another problem, \
             {} with another verdict, {} still failing",
            self.from.run_id,
            self.to.run_id,
            sanitize::line(&self.repository),
            c.newly_failing,
            c.fixed,
            c.gone,
            c.another_problem,
            c.another_verdict,
            c.still_failing
        )
    }

    /// For the terminal: the headline, then each group with a line per file
    /// (`+` newly failing, `-` fixed or gone, `~` another problem or verdict).
    pub fn to_text(&self) -> String {
        let mut out = self.headline();
        out.push('\n');
        if let Some(note) = self.incomplete_note() {
            out.push_str(&note);
            out.push('\n');
        }
        let _ = writeln!(out, "grammars  {}", sanitize::line(&self.grammars_line()));
        let _ = writeln!(out, "health    {}", self.health_line());
        if !self.constructs.is_empty() {
            let _ = writeln!(out, "\nproblems  fixed    new  unchanged  group");
            for c in self.changed_constructs() {
                let _ = writeln!(
                    out,
                    "         {:>6} {:>6} {:>10}  {}",
                    c.fixed,
                    c.new,
                    c.unchanged,
                    sanitize::line(&c.title)
                );
            }
            if let Some(line) = self.unchanged_constructs() {
                let _ = writeln!(out, "          {line}");
            }
        }
        for group in &self.groups {
            let _ = write!(
                out,
                "\n{} ({}, {})\n",
                sanitize::line(&group.title),
                group.error_type,
                count(group.files() as u64, "file")
            );
            for line in group_lines(group) {
                let _ = writeln!(
                    out,
                    "  {} {}  {}",
                    line.mark,
                    sanitize::path(&line.path),
                    line.said
                );
            }
        }
        out
    }

    /// For a pull request comment or a CI summary.
    pub fn to_markdown(&self) -> String {
        let mut out = format!(
            "## {}\n\n| newly failing | fixed | gone | another problem | another verdict | still failing |\n\
             |---|---|---|---|---|---|\n| {} | {} | {} | {} | {} | {} |\n",
            md(&format!(
                "{}: run {} → run {}",
                self.repository, self.from.run_id, self.to.run_id
            )),
            self.counts.newly_failing,
            self.counts.fixed,
            self.counts.gone,
            self.counts.another_problem,
            self.counts.another_verdict,
            self.counts.still_failing
        );
        if let Some(note) = self.incomplete_note() {
            let _ = write!(out, "\n> {}\n", md(&note));
        }
        let _ = write!(
            out,
            "\n- **Grammars:** {}\n- **Parse health:** {}\n",
            md(&self.grammars_line()),
            md(&self.health_line())
        );
        if !self.constructs.is_empty() {
            out.push_str("\n| problem group | fixed | new | unchanged |\n|---|---|---|---|\n");
            for c in self.changed_constructs() {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    md(&c.title),
                    c.fixed,
                    c.new,
                    c.unchanged
                );
            }
            if let Some(line) = self.unchanged_constructs() {
                let _ = writeln!(out, "\n{}", md(&line));
            }
        }
        for group in &self.groups {
            let _ = write!(
                out,
                "\n### {} (`{}`, {})\n\n",
                md(&group.title),
                group.error_type,
                count(group.files() as u64, "file")
            );
            for line in group_lines(group) {
                let path = crate::stored_path::display(&line.path);
                let _ = writeln!(out, "- {} — {}", md(&path), md(&line.said));
            }
        }
        out
    }

    /// The groups with problems fixed or new.
    fn changed_constructs(&self) -> impl Iterator<Item = &ConstructDiff> {
        self.constructs.iter().filter(|c| c.fixed + c.new > 0)
    }

    /// The groups whose problems stayed as they were, in one sentence.
    fn unchanged_constructs(&self) -> Option<String> {
        let unchanged: Vec<&ConstructDiff> = self
            .constructs
            .iter()
            .filter(|c| c.fixed + c.new == 0)
            .collect();
        (!unchanged.is_empty()).then(|| {
            format!(
                "{} unchanged ({})",
                count(unchanged.len() as u64, "group"),
                count(
                    unchanged.iter().map(|c| c.unchanged).sum::<u64>(),
                    "problem"
                )
            )
        })
    }

    /// The grammars of both runs: once when they are the same.
    pub fn grammars_line(&self) -> String {
        if self.from.grammar == self.to.grammar {
            return format!("{} in both runs", self.from.grammar);
        }
        format!(
            "run {}: {} → run {}: {}",
            self.from.run_id, self.from.grammar, self.to.run_id, self.to.grammar
        )
    }

    /// Both runs' parse health, side by side.
    pub fn health_line(&self) -> String {
        let (a, b) = (&self.from.parse_health, &self.to.parse_health);
        format!(
            "{}% → {}% of the parsed bytes in ERROR nodes, MISSING nodes {} → {}, \
             files with syntax errors {} → {}",
            a.error_byte_percent,
            b.error_byte_percent,
            a.missing_nodes,
            b.missing_nodes,
            a.files_with_syntax_errors,
            b.files_with_syntax_errors
        )
    }

    /// Said when the later run did not complete: its missing files may only
    /// not have been reached.
    fn incomplete_note(&self) -> Option<String> {
        (self.to.status != RunStatus::Completed).then(|| {
            format!(
                "run {} is {}: files it did not reach show their earlier results",
                self.to.run_id,
                self.to.status.as_str()
            )
        })
    }
}

struct Line {
    mark: char,
    path: String,
    said: String,
}

fn group_lines(group: &GroupDiff) -> Vec<Line> {
    let line = |mark, path: &str, said: String| Line {
        mark,
        path: path.to_owned(),
        said,
    };
    let mut lines = Vec::new();
    for path in &group.newly_failing {
        lines.push(line('+', path, "newly failing".into()));
    }
    for change in &group.another_problem {
        let was = change
            .was
            .title
            .as_deref()
            .unwrap_or(change.was.error_type.as_str());
        let said = if change.was.fingerprint == group.fingerprint {
            "another problem besides this one".to_owned()
        } else {
            format!("another problem (was: {})", sanitize::line(was))
        };
        lines.push(line('~', &change.file_path, said));
    }
    for change in &group.another_verdict {
        let kind = |k: Option<FailureKind>| k.map_or("no verdict", FailureKind::as_str);
        lines.push(line(
            '~',
            &change.file_path,
            format!("{} → {}", kind(change.was), kind(change.now)),
        ));
    }
    for path in &group.fixed {
        lines.push(line('-', path, "fixed".into()));
    }
    for path in &group.gone {
        lines.push(line('-', path, "gone".into()));
    }
    lines
}

/// Attacker text (titles, paths) for Markdown: it cannot add markup.
fn md(text: &str) -> String {
    super::markdown::text(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::outcome::Outcome;

    fn problem(fingerprint: &str, kind: FailureKind) -> FileProblem {
        FileProblem {
            outcome: Outcome::Partial,
            error_type: ErrorType::ParsingError,
            fingerprint: Some(fingerprint.into()),
            title: Some(format!("title <{fingerprint}>")),
            failure_kind: Some(kind),
            groups: vec![fingerprint.into()],
        }
    }

    fn file(path: &str, before: Option<FileProblem>, after: Option<FileProblem>) -> FileSides {
        FileSides {
            file_path: path.into(),
            in_before: true,
            in_after: true,
            same_result: false,
            before,
            after,
        }
    }

    fn run(run_id: i64, status: RunStatus) -> DiffRun {
        DiffRun {
            run_id,
            status,
            started_at: DateTime::UNIX_EPOCH,
            grammar: "built-in".into(),
            parse_health: RunHealth::default(),
        }
    }

    #[test]
    fn each_file_counts_once_in_the_group_it_fails_in() {
        use FailureKind::{GrammarGap, InvalidSource};
        let files = vec![
            file(
                "gap-now-broken.ts",
                Some(problem("g", GrammarGap)),
                Some(problem("g", InvalidSource)),
            ),
            file(
                "same.ts",
                Some(problem("g", GrammarGap)),
                Some(problem("g", GrammarGap)),
            ),
            file(
                "moved.ts",
                Some(problem("g", GrammarGap)),
                Some(problem("h", GrammarGap)),
            ),
            file("new.ts", None, Some(problem("h", GrammarGap))),
            file("fixed.ts", Some(problem("g", GrammarGap)), None),
            FileSides {
                in_after: false,
                ..file("gone.ts", Some(problem("h", InvalidSource)), None)
            },
        ];
        let diff = RunDiff::new(
            "web",
            run(1, RunStatus::Completed),
            run(2, RunStatus::Completed),
            files,
        );
        assert_eq!(
            diff.counts,
            DiffCounts {
                newly_failing: 1,
                fixed: 1,
                gone: 1,
                another_problem: 1,
                another_verdict: 1,
                still_failing: 1,
            }
        );
        assert_eq!(diff.new_failures(), 2);
        let g = diff
            .groups
            .iter()
            .find(|g| g.fingerprint.as_deref() == Some("g"))
            .unwrap();
        assert_eq!(g.fixed, ["fixed.ts"]);
        assert_eq!(g.another_verdict[0].now, Some(InvalidSource));
        let h = diff
            .groups
            .iter()
            .find(|g| g.fingerprint.as_deref() == Some("h"))
            .unwrap();
        assert_eq!(
            (h.newly_failing.len(), h.another_problem.len(), h.gone.len()),
            (1, 1, 1)
        );
        assert_eq!(
            diff.groups[0].fingerprint.as_deref(),
            Some("h"),
            "most files first"
        );

        let text = diff.to_text();
        assert!(
            text.contains("  ~ gap-now-broken.ts  grammar_gap → invalid_source"),
            "{text}"
        );
        assert!(
            text.contains("  ~ moved.ts  another problem (was: title <g>)"),
            "{text}"
        );
        let markdown = diff.to_markdown();
        assert!(markdown.contains("### title \\<h\\>"), "{markdown}");
    }

    #[test]
    fn a_later_run_that_did_not_complete_is_said() {
        let diff = RunDiff::new(
            "web",
            run(1, RunStatus::Completed),
            run(2, RunStatus::Cancelled),
            Vec::new(),
        );
        assert!(
            diff.to_text()
                .contains("run 2 is cancelled: files it did not reach show their earlier results")
        );
        assert_eq!(diff.new_failures(), 0);
    }
}
