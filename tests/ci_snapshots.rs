//! The SARIF, JUnit and GitHub documents of one shared fixture, as
//! snapshots: files with several problems of different verdicts, a gap-only
//! file, a broken one, an undecodable one and a clean one, each indexed by
//! the real engine. A change to any renderer shows here as a diff.
//!
//! After an intended change: `INSTA_UPDATE=always cargo test --test
//! ci_snapshots`, then review the `.snap` files.

use std::collections::BTreeMap;

use snag::index::discover::SourceFile;
use snag::index::grammar::Grammars;
use snag::index::language::{FileKind, Language};
use snag::index::outcome::{ErrorType, Outcome, Verdict};
use snag::index::process::{FileProcessor, FileReport, ProcessSettings};
use snag::index::progress::{RunHealth, RunStatus};
use snag::report::baseline::BaselineJudge;
use snag::report::ci::CiRun;
use snag::report::{github, junit, sarif};
use snag::runner::{FailureCounts, FileCounts, RunSummary};
use snag::store::ErrorRecord;
use snag::store::diff::{FileProblem, FileSides};
use snag::store::files::FileRecord;

/// The fixture: path and bytes.
const FILES: &[(&str, &[u8])] = &[
    (
        "src/multi.ts",
        b"export interface Box<in out T> {\n  value: T\n}\n\nexport const broken = (a: number => a\n\nexport interface Factory {\n  name: string\n  <T>(value: T): T\n}\n",
    ),
    (
        "src/gaps.ts",
        b"export interface Producer<out T> {\n  make(): T\n}\n\nexport let things: import(\"./things\").Thing[] = []\n",
    ),
    (
        "src/broken.ts",
        b"export function f(a: number {\n  return a;\n}\n",
    ),
    ("src/latin1.ts", b"export const name = \"caf\xe9\";\n"),
    ("src/clean.ts", b"export const ok = 1;\n"),
];

struct Fixture {
    summary: RunSummary,
    files: Vec<FileRecord>,
    errors: Vec<ErrorRecord>,
}

/// The fixture indexed by the engine, as the store would hand it back.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut processor = FileProcessor::new(ProcessSettings::default());
    let mut reports: Vec<FileReport> = Vec::new();
    for (path, bytes) in FILES {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(&full, bytes).unwrap();
        reports.push(processor.process(&SourceFile {
            path: full.clone(),
            rel_path: (*path).to_owned(),
            kind: FileKind::for_path(&full).unwrap(),
        }));
    }
    reports.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    let mut errors = Vec::new();
    let mut files = Vec::new();
    for report in &reports {
        files.push(FileRecord {
            file_path: report.rel_path.clone(),
            outcome: report.outcome,
            skip_reason: None,
            language: report.language.map(|l| l.as_str().to_owned()),
            bytes: report.bytes as i64,
            chunks: report.chunks.len() as i32,
            error_type: report
                .errors
                .first()
                .map(|e| e.error_type.as_str().to_owned()),
            duration_us: 1_000,
            error_bytes: report.health.map(|h| h.error_bytes as i64),
            missing_nodes: report.health.map(|h| h.missing_nodes as i32),
        });
        for error in &report.errors {
            errors.push(ErrorRecord {
                error_id: errors.len() as i64 + 1,
                repository: "fixture".into(),
                file_path: report.rel_path.clone(),
                error_type: error.error_type,
                error_message: error.message.clone(),
                error_traceback: error.traceback.clone(),
                chunk_type: error.chunk_type.clone(),
                language: report.language.map(|l| l.as_str().to_owned()),
                occurred_at: chrono::DateTime::UNIX_EPOCH,
                run_id: Some(7),
                line: error.span.map(|s| s.line as i32),
                column: error.span.map(|s| s.column as i32),
                end_line: error.span.map(|s| s.end_line as i32),
                end_column: error.span.map(|s| s.end_column as i32),
                fingerprint: Some(error.group().id),
                details: error.details.clone(),
                verdict: error.verdict.as_ref().map(|v| v.verdict),
            });
        }
    }
    let count = |outcome: Outcome| reports.iter().filter(|r| r.outcome == outcome).count() as u64;
    let mut errors_by_type: BTreeMap<ErrorType, u64> = BTreeMap::new();
    for error in &errors {
        *errors_by_type.entry(error.error_type).or_default() += 1;
    }
    let summary = RunSummary {
        run_id: 7,
        repository: "fixture".into(),
        root: "/work/fixture".into(),
        status: RunStatus::Completed,
        files: FileCounts {
            total: reports.len() as u64,
            indexed: count(Outcome::Indexed),
            partial: count(Outcome::Partial),
            failed: count(Outcome::Failed),
            skipped: count(Outcome::Skipped),
            reused: 0,
        },
        errors_by_type,
        chunks: 0,
        duration_ms: 12,
        files_per_sec: 0.0,
        mb_per_sec: 0.0,
        failures: FailureCounts {
            grammar_gaps: 1,
            invalid_source: 2,
            other: 1,
        },
        verdicts: BTreeMap::new(),
        success_rate: 0.0,
        success_rate_excluding_grammar_gaps: 0.0,
        parse_health: RunHealth::new(3, 4_000, 120, 1),
        grammars: Language::ALL
            .iter()
            .map(|l| Grammars::built_in().get(*l).info.clone())
            .collect(),
        passed_over: Default::default(),
    };
    Fixture {
        summary,
        files,
        errors,
    }
}

/// The version in the documents does not make a snapshot stale.
fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(env!("CARGO_PKG_VERSION"), "[version]");
    settings
}

#[test]
fn the_fixture_has_files_with_several_problems_of_different_verdicts() {
    let fixture = fixture();
    let multi = fixture
        .errors
        .iter()
        .find(|e| e.file_path == "src/multi.ts")
        .unwrap();
    let verdicts: Vec<Verdict> = multi.details.problems.iter().map(|p| p.verdict).collect();
    assert!(verdicts.contains(&Verdict::GrammarGap), "{verdicts:?}");
    assert!(verdicts.contains(&Verdict::InvalidSource), "{verdicts:?}");
    // The file is known by its mistake, where the reference parser puts it.
    assert_eq!(multi.verdict, Some(Verdict::InvalidSource));
    assert_eq!(multi.line, Some(5));
    let gaps = fixture
        .errors
        .iter()
        .find(|e| e.file_path == "src/gaps.ts")
        .unwrap();
    assert!(
        gaps.details.problems.len() >= 2,
        "{:?}",
        gaps.details.problems
    );
    let groups: std::collections::HashSet<&str> = gaps
        .details
        .problems
        .iter()
        .map(|p| p.fingerprint.as_str())
        .collect();
    assert_eq!(
        groups.len(),
        gaps.details.problems.len(),
        "one group per gap"
    );
}

#[test]
fn sarif() {
    let fixture = fixture();
    let run = CiRun {
        summary: &fixture.summary,
        baseline: None,
    };
    let document = sarif::render(&run, &fixture.errors).unwrap();
    settings().bind(|| insta::assert_snapshot!(document));
}

#[test]
fn junit() {
    let fixture = fixture();
    let run = CiRun {
        summary: &fixture.summary,
        baseline: None,
    };
    let document = junit::render(&run, &fixture.files, &fixture.errors).unwrap();
    settings().bind(|| insta::assert_snapshot!(document));
}

#[test]
fn github_with_a_baseline() {
    let fixture = fixture();
    // The baseline knew broken.ts as it is: its annotation is a notice.
    let broken = fixture
        .errors
        .iter()
        .find(|e| e.file_path == "src/broken.ts")
        .unwrap();
    let known = [FileSides {
        file_path: broken.file_path.clone(),
        before: Some(FileProblem {
            outcome: Outcome::Partial,
            error_type: broken.error_type,
            fingerprint: broken.fingerprint.clone(),
            title: None,
            failure_kind: None,
            groups: broken.fingerprint.clone().into_iter().collect(),
        }),
        after: None,
        in_before: true,
        in_after: true,
        same_result: false,
    }];
    let mut judge = BaselineJudge::new(6, &known, Default::default());
    for error in &fixture.errors {
        judge.error(error);
    }
    let verdict = judge.finish();
    let run = CiRun {
        summary: &fixture.summary,
        baseline: Some(&verdict),
    };
    let document = github::annotations(&run, &fixture.errors, "web/");
    settings().bind(|| insta::assert_snapshot!(document));
}
