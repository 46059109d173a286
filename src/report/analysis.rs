//! The analysis report of one run: what a maintainer needs to act on the
//! failures without opening another tool. Built from stored data only;
//! [`RunAnalysis::build`] is pure so it can be tested on fixed data.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::diff::DiffCounts;
use crate::index::discover::PassedOver;
use crate::index::grammar::{GrammarInfo, recorded_infos};
use crate::index::outcome::{ErrorType, FailureKind, Outcome, Verdict};
use crate::index::progress::{RunHealth, RunStatus};
use crate::index::verdict::REFERENCE_PARSER;
use crate::store::files::{FailureRow, OutcomeCounts};
use crate::store::groups::{GroupRecord, GroupStatus};
use crate::store::runs::RunRecord;
use crate::store::{Store, StoreError};

/// Patterns, failing files and recommendations shown at most.
pub const MAX_PATTERNS: usize = 15;
pub const MAX_FAILING_FILES: usize = 10;
pub const MAX_RECOMMENDATIONS: usize = 10;
/// Example files per pattern.
pub const MAX_EXAMPLES: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("there is no run {0}")]
    NoSuchRun(i64),
    #[error("run {run_id} belongs to repository `{actual}`, not `{requested}`")]
    OtherRepository {
        run_id: i64,
        actual: String,
        requested: String,
    },
    #[error("repository `{0}` has no runs yet: index it with `snag index PATH --repo {0}`")]
    NoRuns(String),
    #[error("run {0} is its repository's first: there is no earlier run to compare it with")]
    NothingBefore(i64),
    #[error("say which runs to compare (`snag diff RUN_A RUN_B`) or whose (`--repo NAME`)")]
    NoRepository,
}

/// Everything the report is built from.
#[derive(Debug, Clone)]
pub struct AnalysisInput {
    pub run: RunRecord,
    pub counts: OutcomeCounts,
    pub failures: Vec<FailureRow>,
    /// Groups of the fingerprints seen in this run and the previous one.
    pub groups: Vec<GroupRecord>,
    pub previous: Option<PreviousRun>,
}

#[derive(Debug, Clone)]
pub struct PreviousRun {
    pub run: RunRecord,
    pub counts: OutcomeCounts,
    pub failures: Vec<FailureRow>,
    /// What changed from it to this run, file by file, as `snag diff`
    /// counts it.
    pub changes: DiffCounts,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunAnalysis {
    pub generated_at: DateTime<Utc>,
    pub repository: String,
    pub run: RunInfo,
    pub files: FileTotals,
    /// Percent of the files that were not skipped that indexed cleanly.
    pub success_rate: f64,
    /// Percent of the files that were not skipped that failed or were partial.
    pub failure_rate: f64,
    /// The success rate leaving out files whose only failure is a grammar
    /// gap (valid code the grammar cannot parse).
    pub success_rate_excluding_grammar_gaps: f64,
    /// Failing files split three ways, so grammar gaps, broken source and
    /// everything else are never confused.
    pub failures: FailureBreakdown,
    /// How much of the parsed code tree-sitter could not read.
    pub parse_health: RunHealth,
    /// What discovery left out, by reason (null for runs stored before
    /// snag counted it).
    pub passed_over: Option<PassedOver>,
    pub error_distribution: Vec<ErrorShare>,
    pub total_errors: u64,
    pub top_failing_files: Vec<FailingFile>,
    pub patterns: Vec<Pattern>,
    pub recommendations: Vec<Recommendation>,
    pub comparison: Option<Comparison>,
    /// Caveats about the data, in sentences.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunInfo {
    pub run_id: i64,
    pub status: RunStatus,
    pub root: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub tool_version: String,
    /// The grammars it parsed with, in one line.
    pub grammar: String,
    /// Each grammar as the run recorded it (none for runs recorded before
    /// grammars could be chosen: they used the built-in ones).
    pub grammars: Vec<GrammarInfo>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FileTotals {
    pub total: u64,
    pub indexed: u64,
    pub partial: u64,
    pub failed: u64,
    pub skipped: u64,
    /// Files that were not skipped: the base of the rates.
    pub considered: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct FailureBreakdown {
    /// Files whose every error is a syntax error the reference parser accepts.
    pub grammar_gaps: u64,
    /// Files with a syntax error the reference parser confirms.
    pub invalid_source: u64,
    /// Other error types, undecided verdicts, runs stored before verdicts.
    pub other: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorShare {
    pub error_type: ErrorType,
    /// Files with an error of this type.
    pub count: u64,
    pub percent: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailingFile {
    pub file_path: String,
    pub outcome: Outcome,
    pub error_types: Vec<ErrorType>,
    /// Error sites in the file (syntax errors count each place).
    pub sites: u64,
    pub line: Option<i32>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pattern {
    pub fingerprint: String,
    pub error_type: ErrorType,
    pub title: String,
    /// The syntactic construct (or stage) the errors are about.
    pub construct: Option<String>,
    /// Syntax errors: the reference parser's verdict on the group's files.
    pub verdict: Option<Verdict>,
    pub status: Option<GroupStatus>,
    pub note: Option<String>,
    pub files: u64,
    pub examples: Vec<Example>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Example {
    pub file_path: String,
    pub line: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    pub rank: usize,
    pub fingerprint: String,
    pub error_type: ErrorType,
    pub title: String,
    /// Files whose every error is of this group: fixing it makes them clean.
    pub unblocks: u64,
    /// Files with an error of this group.
    pub affects: u64,
    pub action: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub previous_run_id: i64,
    pub previous_started_at: DateTime<Utc>,
    pub previous_success_rate: f64,
    /// Percentage points, this run minus the previous one.
    pub success_rate_change: f64,
    /// What changed file by file, as `snag diff` counts it: newly failing,
    /// fixed, gone, failing with another problem or another verdict.
    pub files: DiffCounts,
    /// Groups of the previous run that this run did not see.
    pub fixed: Vec<GroupChange>,
    /// Groups never seen before this run.
    pub new: Vec<GroupChange>,
    /// Groups that were resolved, or absent from the previous run, and are back.
    pub regressed: Vec<GroupChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupChange {
    pub fingerprint: String,
    pub error_type: ErrorType,
    pub title: String,
    pub files_before: u64,
    pub files_now: u64,
}

/// Builds the report of `run_id` (the repository's latest run by default).
pub async fn load(
    store: &Store,
    repository: &str,
    run_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<RunAnalysis, ReportError> {
    let run = resolve_run(store, repository, run_id).await?;
    let counts = store.run_outcome_counts(run.run_id).await?;
    let failures = store.run_failures(run.run_id).await?;
    let previous = match store.previous_run(repository, run.run_id).await? {
        Some(previous) => Some(PreviousRun {
            counts: store.run_outcome_counts(previous.run_id).await?,
            failures: store.run_failures(previous.run_id).await?,
            changes: super::diff::load(store, &previous, &run).await?.counts,
            run: previous,
        }),
        None => None,
    };
    let fingerprints: BTreeSet<String> = failures
        .iter()
        .chain(previous.iter().flat_map(|p| &p.failures))
        .filter_map(|f| f.fingerprint.clone())
        .collect();
    let fingerprints: Vec<String> = fingerprints.into_iter().collect();
    let groups = store
        .groups_by_fingerprints(repository, &fingerprints)
        .await?;
    Ok(RunAnalysis::build(
        AnalysisInput {
            run,
            counts,
            failures,
            groups,
            previous,
        },
        now,
    ))
}

/// The run `run_id` of `repository`, or its latest run.
pub async fn resolve_run(
    store: &Store,
    repository: &str,
    run_id: Option<i64>,
) -> Result<RunRecord, ReportError> {
    match run_id {
        Some(id) => match store.get_run(id).await? {
            Some(run) if run.repository == repository => Ok(run),
            Some(run) => Err(ReportError::OtherRepository {
                run_id: id,
                actual: run.repository,
                requested: repository.to_owned(),
            }),
            None => Err(ReportError::NoSuchRun(id)),
        },
        None => store
            .latest_run(repository)
            .await?
            .ok_or_else(|| ReportError::NoRuns(repository.to_owned())),
    }
}

impl RunAnalysis {
    pub fn build(input: AnalysisInput, generated_at: DateTime<Utc>) -> RunAnalysis {
        let files = totals(&input.counts);
        let by_group = GroupIndex::new(&input.groups);
        let patterns = patterns(&input.failures, &by_group);
        let recommendations = recommendations(&input.failures, &patterns);
        let (error_distribution, total_errors) = distribution(&input.failures);
        let comparison = input.previous.as_ref().map(|previous| {
            compare(
                input.run.run_id,
                &input.failures,
                files,
                previous,
                &by_group,
            )
        });
        let superseded: BTreeSet<&str> = input
            .failures
            .iter()
            .filter(|f| f.message.is_none())
            .map(|f| f.file_path.as_str())
            .collect();
        let failures = breakdown(&input.failures, files.failed + files.partial);
        let with_syntax_errors: BTreeSet<&str> = input
            .failures
            .iter()
            .filter(|f| f.error_type == ErrorType::ParsingError)
            .map(|f| f.file_path.as_str())
            .collect();
        let parse_health = input.run.health(with_syntax_errors.len() as u64);
        let mut notes = Vec::new();
        if input.run.status == RunStatus::Running {
            notes.push("The run is still going: the numbers are those stored so far.".to_owned());
        }
        if !superseded.is_empty() {
            notes.push(format!(
                "A later run indexed {} of this run's failing files again and replaced their error \
                 details: for those only the first error's group is known (no line, no message).",
                superseded.len()
            ));
        }
        RunAnalysis {
            generated_at,
            repository: input.run.repository.clone(),
            run: RunInfo {
                run_id: input.run.run_id,
                status: input.run.status,
                root: input.run.root.clone(),
                started_at: input.run.started_at,
                finished_at: input.run.finished_at,
                tool_version: input.run.tool_version.clone(),
                grammar: input.run.grammar_label(),
                grammars: recorded_infos(&input.run.grammar_versions),
            },
            success_rate: rate(files.indexed, files.considered),
            failure_rate: rate(files.failed + files.partial, files.considered),
            success_rate_excluding_grammar_gaps: rate(
                files.indexed,
                files.considered.saturating_sub(failures.grammar_gaps),
            ),
            failures,
            parse_health,
            passed_over: input.run.passed_over(),
            files,
            error_distribution,
            total_errors,
            top_failing_files: failing_files(&input.failures),
            patterns: patterns.into_iter().take(MAX_PATTERNS).collect(),
            recommendations,
            comparison,
            notes,
        }
    }
}

fn totals(c: &OutcomeCounts) -> FileTotals {
    let n = |x: i64| x.max(0) as u64;
    FileTotals {
        total: n(c.total()),
        indexed: n(c.indexed),
        partial: n(c.partial),
        failed: n(c.failed),
        skipped: n(c.skipped),
        considered: n(c.total() - c.skipped),
    }
}

/// A percentage with two decimals; 0 of 0 is 0.
fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    (part as f64 / whole as f64 * 10_000.0).round() / 100.0
}

/// Errors without a fingerprint are grouped by their type.
fn group_key(failure: &FailureRow) -> String {
    failure
        .fingerprint
        .clone()
        .unwrap_or_else(|| failure.error_type.as_str().to_owned())
}

struct GroupIndex<'a> {
    by_fingerprint: HashMap<&'a str, &'a GroupRecord>,
}

impl<'a> GroupIndex<'a> {
    fn new(groups: &'a [GroupRecord]) -> Self {
        GroupIndex {
            by_fingerprint: groups.iter().map(|g| (g.fingerprint.as_str(), g)).collect(),
        }
    }

    fn get(&self, fingerprint: &str) -> Option<&'a GroupRecord> {
        self.by_fingerprint.get(fingerprint).copied()
    }
}

/// Failing files by kind, adding up to `failing`: whatever is not known
/// to be a grammar gap or invalid source (files stored before verdicts
/// too) is "other".
fn breakdown(failures: &[FailureRow], failing: u64) -> FailureBreakdown {
    let mut kinds: BTreeMap<&str, Option<FailureKind>> = BTreeMap::new();
    for f in failures {
        kinds.entry(&f.file_path).or_insert(f.failure_kind);
    }
    let count = |kind: FailureKind| kinds.values().filter(|k| **k == Some(kind)).count() as u64;
    let grammar_gaps = count(FailureKind::GrammarGap);
    let invalid_source = count(FailureKind::InvalidSource);
    FailureBreakdown {
        grammar_gaps,
        invalid_source,
        other: failing.saturating_sub(grammar_gaps + invalid_source),
    }
}

fn distribution(failures: &[FailureRow]) -> (Vec<ErrorShare>, u64) {
    let mut counts: BTreeMap<ErrorType, u64> = BTreeMap::new();
    for failure in failures {
        *counts.entry(failure.error_type).or_default() += 1;
    }
    let total: u64 = counts.values().sum();
    let mut shares: Vec<ErrorShare> = counts
        .into_iter()
        .map(|(error_type, count)| ErrorShare {
            error_type,
            count,
            percent: rate(count, total),
        })
        .collect();
    shares.sort_by(|a, b| b.count.cmp(&a.count).then(a.error_type.cmp(&b.error_type)));
    (shares, total)
}

fn failing_files(failures: &[FailureRow]) -> Vec<FailingFile> {
    let mut files: BTreeMap<&str, FailingFile> = BTreeMap::new();
    for f in failures {
        let file = files.entry(&f.file_path).or_insert_with(|| FailingFile {
            file_path: f.file_path.clone(),
            outcome: f.outcome,
            error_types: Vec::new(),
            sites: 0,
            line: None,
            message: None,
        });
        if !file.error_types.contains(&f.error_type) {
            file.error_types.push(f.error_type);
        }
        file.sites += f.sites.max(1) as u64;
        if file.message.is_none() {
            file.line = f.line;
            file.message = f.message.clone();
        }
    }
    let mut files: Vec<FailingFile> = files.into_values().collect();
    files.sort_by(|a, b| {
        b.sites
            .cmp(&a.sites)
            .then(b.error_types.len().cmp(&a.error_types.len()))
            .then(a.file_path.cmp(&b.file_path))
    });
    files.truncate(MAX_FAILING_FILES);
    files
}

fn patterns(failures: &[FailureRow], groups: &GroupIndex<'_>) -> Vec<Pattern> {
    let mut patterns: BTreeMap<String, Pattern> = BTreeMap::new();
    let mut files_seen: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for f in failures {
        let key = group_key(f);
        let group = f.fingerprint.as_deref().and_then(|fp| groups.get(fp));
        let pattern = patterns.entry(key.clone()).or_insert_with(|| Pattern {
            fingerprint: key.clone(),
            error_type: f.error_type,
            title: String::new(),
            construct: None,
            verdict: None,
            status: group.map(|g| g.status),
            note: group.and_then(|g| g.note.clone()),
            files: 0,
            examples: Vec::new(),
        });
        if pattern.title.is_empty() {
            pattern.title = f
                .title
                .clone()
                .or_else(|| group.map(|g| g.title.clone()))
                .or_else(|| f.message.clone())
                .unwrap_or_default();
        }
        if pattern.construct.is_none() {
            pattern.construct = f.construct.clone();
        }
        if pattern.verdict.is_none() {
            pattern.verdict = f.verdict;
        }
        if files_seen.entry(key).or_default().insert(&f.file_path) {
            pattern.files += 1;
            if pattern.examples.len() < MAX_EXAMPLES {
                pattern.examples.push(Example {
                    file_path: f.file_path.clone(),
                    line: f.line,
                });
            }
        }
    }
    let mut patterns: Vec<Pattern> = patterns.into_values().collect();
    patterns.sort_by(|a, b| {
        b.files
            .cmp(&a.files)
            .then(a.fingerprint.cmp(&b.fingerprint))
    });
    patterns
}

fn recommendations(failures: &[FailureRow], patterns: &[Pattern]) -> Vec<Recommendation> {
    let mut groups_of_file: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for f in failures {
        groups_of_file
            .entry(&f.file_path)
            .or_default()
            .insert(group_key(f));
    }
    let mut unblocks: HashMap<&str, u64> = HashMap::new();
    for groups in groups_of_file.values() {
        if let [only] = groups.iter().collect::<Vec<_>>().as_slice() {
            *unblocks.entry(only.as_str()).or_default() += 1;
        }
    }
    let mut ranked: Vec<Recommendation> = patterns
        .iter()
        .filter(|p| p.status != Some(GroupStatus::Ignored))
        .map(|p| Recommendation {
            rank: 0,
            fingerprint: p.fingerprint.clone(),
            error_type: p.error_type,
            title: p.title.clone(),
            unblocks: unblocks.get(p.fingerprint.as_str()).copied().unwrap_or(0),
            affects: p.files,
            action: action(p),
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.unblocks
            .cmp(&a.unblocks)
            .then(b.affects.cmp(&a.affects))
            .then(a.fingerprint.cmp(&b.fingerprint))
    });
    ranked.truncate(MAX_RECOMMENDATIONS);
    for (i, r) in ranked.iter_mut().enumerate() {
        r.rank = i + 1;
    }
    ranked
}

/// What to do about a group, by the kind of failure.
fn action(pattern: &Pattern) -> String {
    let construct = pattern.construct.as_deref().unwrap_or("the construct");
    match (pattern.error_type, pattern.verdict) {
        (ErrorType::ParsingError, Some(Verdict::GrammarGap)) => format!(
            "Valid code: the reference parser ({REFERENCE_PARSER}) accepts these files, so this is \
             a tree-sitter grammar gap ({construct}). Get a minimal reproduction with `snag repro {}` \
             and report it upstream; meanwhile exclude the files (--exclude) or keep them out of CI \
             thresholds with --ignore-grammar-gaps.",
            pattern.fingerprint
        ),
        (ErrorType::ParsingError, Some(Verdict::InvalidSource)) => format!(
            "Broken source: the reference parser ({REFERENCE_PARSER}) rejects these files too. Fix \
             the code at the example lines (`{construct}`)."
        ),
        (ErrorType::ParsingError, _) => format!(
            "Look at `{construct}` in the example lines. If the code is valid TypeScript/JavaScript, \
             this is a tree-sitter grammar gap: report it upstream and exclude the files meanwhile \
             (--exclude); otherwise fix the source."
        ),
        (ErrorType::EncodingError, _) => {
            "Re-save the files as UTF-8 (or UTF-16 with a byte order mark).".to_owned()
        }
        (ErrorType::TimeoutError, _) => {
            "Generated or minified code, most likely: exclude it (--exclude), or raise --parse-timeout."
                .to_owned()
        }
        (ErrorType::IoError, _) => {
            "Make the files readable by the user running snag, then index again.".to_owned()
        }
        (ErrorType::PersistenceError, _) => {
            "The database refused these files' rows: read the messages, fix the cause, index again."
                .to_owned()
        }
        (ErrorType::EmbeddingError, _) => {
            "Check the embedding service the messages name, then index again.".to_owned()
        }
        (ErrorType::ChunkingError | ErrorType::UnexpectedError, _) => {
            "A bug in snag: report it with the traceback of one example (snag errors REPO --type ...)."
                .to_owned()
        }
    }
}

/// Files and groups of a run, by group key.
struct RunGroups<'a> {
    files_by_group: BTreeMap<String, BTreeSet<&'a str>>,
    first: HashMap<String, &'a FailureRow>,
}

impl<'a> RunGroups<'a> {
    fn new(failures: &'a [FailureRow]) -> Self {
        let mut groups = RunGroups {
            files_by_group: BTreeMap::new(),
            first: HashMap::new(),
        };
        for f in failures {
            let key = group_key(f);
            groups
                .files_by_group
                .entry(key.clone())
                .or_default()
                .insert(&f.file_path);
            groups.first.entry(key).or_insert(f);
        }
        groups
    }

    fn files(&self, key: &str) -> u64 {
        self.files_by_group.get(key).map_or(0, |f| f.len() as u64)
    }
}

fn compare(
    run_id: i64,
    failures: &[FailureRow],
    files: FileTotals,
    previous: &PreviousRun,
    groups: &GroupIndex<'_>,
) -> Comparison {
    let now = RunGroups::new(failures);
    let before = RunGroups::new(&previous.failures);
    let change = |key: &str, sample: &FailureRow| GroupChange {
        fingerprint: key.to_owned(),
        error_type: sample.error_type,
        title: sample
            .title
            .clone()
            .or_else(|| groups.get(key).map(|g| g.title.clone()))
            .or_else(|| sample.message.clone())
            .unwrap_or_default(),
        files_before: before.files(key),
        files_now: now.files(key),
    };
    let mut fixed = Vec::new();
    for (key, sample) in &before.first {
        if !now.files_by_group.contains_key(key) {
            fixed.push(change(key, sample));
        }
    }
    let mut new = Vec::new();
    let mut regressed = Vec::new();
    for (key, sample) in &now.first {
        let group = groups.get(key);
        let was_in_previous = before.files_by_group.contains_key(key);
        let reopened = group.is_some_and(|g| g.status == GroupStatus::Regressed);
        let seen_earlier = group
            .and_then(|g| g.first_seen_run)
            .is_some_and(|first| first < run_id);
        if reopened || (!was_in_previous && seen_earlier) {
            regressed.push(change(key, sample));
        } else if !was_in_previous {
            new.push(change(key, sample));
        }
    }
    for list in [&mut fixed, &mut new, &mut regressed] {
        list.sort_by(|a, b| {
            b.files_now
                .max(b.files_before)
                .cmp(&a.files_now.max(a.files_before))
                .then(a.fingerprint.cmp(&b.fingerprint))
        });
    }
    let previous_totals = totals(&previous.counts);
    let previous_success_rate = rate(previous_totals.indexed, previous_totals.considered);
    let success_rate = rate(files.indexed, files.considered);
    Comparison {
        previous_run_id: previous.run.run_id,
        previous_started_at: previous.run.started_at,
        previous_success_rate,
        success_rate_change: ((success_rate - previous_success_rate) * 100.0).round() / 100.0,
        files: previous.changes,
        fixed,
        new,
        regressed,
    }
}
