//! `snag report`: the analysis on fixed data (snapshots), and on real runs
//! of the hostile corpus compared run to run.

mod support;

use chrono::{DateTime, TimeZone, Utc};
use snag::index::outcome::{ErrorType, FailureKind, Outcome, Verdict};
use snag::index::progress::RunStatus;
use snag::report::analysis::{self, AnalysisInput, PreviousRun, RunAnalysis};
use snag::report::diff::DiffCounts;
use snag::report::markdown;
use snag::runner::{self, RunRequest};
use snag::store::files::{FailureRow, OutcomeCounts};
use snag::store::groups::{GroupRecord, GroupStatus};
use snag::store::runs::RunRecord;
use support::{TestDb, hostile_corpus, snag};

fn at(hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 14, hour, minute, 0).unwrap()
}

fn run(run_id: i64, started: DateTime<Utc>) -> RunRecord {
    RunRecord {
        run_id,
        repository: "acme/web".into(),
        root: "/srv/acme/web".into(),
        status: RunStatus::Completed,
        status_message: None,
        files_total: 0,
        files_discovered: None,
        files_indexed: 0,
        files_partial: 0,
        files_failed: 0,
        files_skipped: 0,
        files_reused: 0,
        errors_total: 0,
        chunks_total: 0,
        bytes_total: 0,
        parsed_bytes: 20_000,
        error_bytes: 150,
        missing_nodes: 2,
        options: serde_json::json!({}),
        started_at: started,
        finished_at: Some(started + chrono::Duration::seconds(42)),
        tool_version: "0.1.0".into(),
        grammar_versions: serde_json::json!({}),
        passed_over: Some(serde_json::json!({"test_files": 12, "other_extensions": 4})),
    }
}

fn failure(
    path: &str,
    outcome: Outcome,
    error_type: ErrorType,
    fingerprint: &str,
    title: &str,
    line: Option<i32>,
    sites: i32,
) -> FailureRow {
    FailureRow {
        file_path: path.into(),
        outcome,
        error_type,
        fingerprint: Some(fingerprint.into()),
        title: Some(title.into()),
        construct: title.rsplit_once(" in ").map(|(_, node)| node.to_owned()),
        line,
        message: Some(match line {
            Some(l) => format!("{l}:5 {title}"),
            None => title.to_owned(),
        }),
        sites,
        verdict: None,
        failure_kind: None,
    }
}

fn group(
    id: i64,
    fingerprint: &str,
    title: &str,
    status: GroupStatus,
    first_run: i64,
) -> GroupRecord {
    GroupRecord {
        group_id: id,
        repository: "acme/web".into(),
        fingerprint: fingerprint.into(),
        error_type: ErrorType::ParsingError,
        title: title.into(),
        status,
        note: None,
        first_seen_run: Some(first_run),
        first_seen_at: at(9, 0),
        last_seen_run: Some(7),
        last_seen_at: at(10, 0),
        occurrences: 3,
        last_run_files: 2,
    }
}

/// Run 7 of acme/web against run 6: one group fixed, one new, one back.
fn fixed_input() -> AnalysisInput {
    use ErrorType::*;
    use Outcome::*;
    let variance = "unexpected `in` in type_parameters";
    let mut failures = vec![
        failure(
            "src/a.ts",
            Partial,
            ParsingError,
            "aaaa",
            variance,
            Some(3),
            2,
        ),
        failure(
            "src/b.ts",
            Partial,
            ParsingError,
            "aaaa",
            variance,
            Some(10),
            1,
        ),
        failure(
            "src/c.ts",
            Partial,
            ParsingError,
            "aaaa",
            variance,
            Some(1),
            1,
        ),
        failure(
            "src/c.ts",
            Failed,
            TimeoutError,
            "cccc",
            "parsing took longer than N ms",
            None,
            1,
        ),
        failure(
            "src/<weird>|name.ts",
            Failed,
            EncodingError,
            "eeee",
            "invalid UTF-8 at byte N",
            None,
            1,
        ),
        failure(
            "lib/back.ts",
            Partial,
            ParsingError,
            "rrrr",
            "missing `}` in class_body",
            Some(8),
            1,
        ),
    ];
    // The reference parser accepts the variance files and rejects back.ts;
    // c.ts also timed out, so it is an "other" failure.
    for f in &mut failures {
        if f.fingerprint.as_deref() == Some("aaaa") {
            f.verdict = Some(Verdict::GrammarGap);
            f.construct = Some("variance annotation on a type parameter".into());
        }
        if f.fingerprint.as_deref() == Some("rrrr") {
            f.verdict = Some(Verdict::InvalidSource);
        }
        f.failure_kind = Some(match f.file_path.as_str() {
            "src/a.ts" | "src/b.ts" => FailureKind::GrammarGap,
            "lib/back.ts" => FailureKind::InvalidSource,
            _ => FailureKind::Other,
        });
    }
    let previous_failures = vec![
        failure(
            "src/a.ts",
            Partial,
            ParsingError,
            "aaaa",
            variance,
            Some(3),
            2,
        ),
        failure(
            "src/old.ts",
            Failed,
            ChunkingError,
            "ffff",
            "chunker panicked",
            None,
            1,
        ),
    ];
    let mut variance_group = group(1, "aaaa", variance, GroupStatus::Open, 5);
    variance_group.note = Some("tree-sitter grammar gap, reported upstream".into());
    AnalysisInput {
        run: run(7, at(10, 0)),
        counts: OutcomeCounts {
            indexed: 40,
            partial: 4,
            failed: 2,
            skipped: 4,
        },
        failures,
        groups: vec![
            variance_group,
            group(
                2,
                "rrrr",
                "missing `}` in class_body",
                GroupStatus::Regressed,
                2,
            ),
            group(3, "eeee", "invalid UTF-8 at byte N", GroupStatus::Open, 7),
            group(
                4,
                "cccc",
                "parsing took longer than N ms",
                GroupStatus::Ignored,
                7,
            ),
        ],
        previous: Some(PreviousRun {
            run: run(6, at(9, 0)),
            counts: OutcomeCounts {
                indexed: 44,
                partial: 1,
                failed: 1,
                skipped: 4,
            },
            failures: previous_failures,
            changes: DiffCounts {
                newly_failing: 4,
                fixed: 1,
                gone: 0,
                another_problem: 0,
                another_verdict: 0,
                still_failing: 1,
            },
        }),
    }
}

#[test]
fn report_on_fixed_data() {
    let report = RunAnalysis::build(fixed_input(), at(12, 30));
    assert_eq!(report.files.considered, 46);
    let f = &report.failures;
    assert_eq!((f.grammar_gaps, f.invalid_source, f.other), (2, 1, 3));
    assert_eq!(report.success_rate_excluding_grammar_gaps, 90.91);
    assert!(report.recommendations[0].action.contains("snag repro aaaa"));
    assert_eq!(
        report.patterns[0].files, 3,
        "the variance group has most files"
    );
    let first = &report.recommendations[0];
    assert_eq!(
        (first.fingerprint.as_str(), first.unblocks, first.affects),
        ("aaaa", 2, 3),
        "c.ts also times out: fixing the variance group unblocks a.ts and b.ts"
    );
    assert!(
        report
            .recommendations
            .iter()
            .all(|r| r.fingerprint != "cccc"),
        "ignored groups are not recommended"
    );
    let comparison = report.comparison.as_ref().unwrap();
    let names = |list: &[analysis::GroupChange]| -> Vec<String> {
        list.iter().map(|g| g.fingerprint.clone()).collect()
    };
    assert_eq!(names(&comparison.fixed), ["ffff"]);
    assert_eq!(names(&comparison.regressed), ["rrrr"]);
    assert_eq!(names(&comparison.new), ["cccc", "eeee"]);
    insta::assert_snapshot!("report_markdown", markdown::render(&report));
    insta::assert_json_snapshot!("report_json", report);
}

#[test]
fn first_run_has_no_comparison() {
    let mut input = fixed_input();
    input.previous = None;
    let report = RunAnalysis::build(input, at(12, 30));
    assert!(report.comparison.is_none());
    assert!(markdown::render(&report).contains("This is the repository's first run."));
}

async fn index(db: &TestDb, dir: &std::path::Path) -> i64 {
    let mut request = RunRequest::new(dir);
    request.repository = "hostile".into();
    runner::start(db.store.clone(), request)
        .await
        .unwrap()
        .wait()
        .await
        .unwrap()
        .run_id
}

#[tokio::test]
async fn report_compares_real_runs() {
    let dir = tempfile::tempdir().unwrap();
    hostile_corpus(dir.path());
    let db = TestDb::new().await;
    let first = index(&db, dir.path()).await;

    // Fix one broken file, break a new one.
    std::fs::write(
        dir.path().join("broken/missing-brace.ts"),
        "export class Fixed {\n  run(): number {\n    return 1;\n  }\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("src/new-break.ts"),
        "export function f(a: number {\n  return a;\n}\n",
    )
    .unwrap();
    let second = index(&db, dir.path()).await;

    let report = analysis::load(&db.store, "hostile", None, Utc::now())
        .await
        .unwrap();
    assert_eq!(report.run.run_id, second);
    assert!(report.files.considered > 0);
    assert!(report.success_rate > 0.0 && report.failure_rate > 0.0);
    assert!((report.success_rate + report.failure_rate - 100.0).abs() < 0.05);
    let distribution: u64 = report.error_distribution.iter().map(|s| s.count).sum();
    assert_eq!(distribution, report.total_errors);
    assert!(report.patterns.iter().all(|p| {
        (1..=analysis::MAX_EXAMPLES).contains(&p.examples.len())
            && p.examples.len() as u64 <= p.files
    }));
    assert!(
        report
            .patterns
            .iter()
            .flat_map(|p| &p.examples)
            .any(|e| e.line.is_some()),
        "examples carry lines"
    );
    let ranks: Vec<usize> = report.recommendations.iter().map(|r| r.rank).collect();
    assert_eq!(ranks, (1..=ranks.len()).collect::<Vec<_>>());
    assert!(
        report
            .recommendations
            .windows(2)
            .all(|w| w[0].unblocks >= w[1].unblocks)
    );

    let comparison = report.comparison.as_ref().expect("a previous run");
    assert_eq!(comparison.previous_run_id, first);
    // The file-level changes are `snag diff`'s: one fixed, one new and broken.
    assert_eq!(comparison.files.fixed, 1);
    assert_eq!(comparison.files.newly_failing, 1);
    assert_eq!(comparison.files.gone, 0);
    let changes = snag::report::diff::load(
        &db.store,
        &db.store.get_run(first).await.unwrap().unwrap(),
        &db.store.get_run(second).await.unwrap().unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(comparison.files, changes.counts);
    let new_fingerprint = db
        .store
        .run_failures(second)
        .await
        .unwrap()
        .into_iter()
        .find(|f| f.file_path == "src/new-break.ts")
        .and_then(|f| f.fingerprint)
        .expect("the new file fails");
    let first_run_fingerprints: Vec<String> = db
        .store
        .run_failures(first)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|f| f.fingerprint)
        .collect();
    if !first_run_fingerprints.contains(&new_fingerprint) {
        assert!(
            comparison
                .new
                .iter()
                .any(|g| g.fingerprint == new_fingerprint),
            "{comparison:?}"
        );
    }

    // Reports of the older run still work after its error rows were replaced.
    let older = analysis::load(&db.store, "hostile", Some(first), Utc::now())
        .await
        .unwrap();
    assert!(older.comparison.is_none());
    assert!(older.total_errors > 0);

    // Through the binary, both formats.
    let body = support::snag_json(&db, &["report", "hostile", "--format", "json"]);
    for key in [
        "generated_at",
        "repository",
        "files",
        "success_rate",
        "failure_rate",
        "error_distribution",
        "top_failing_files",
        "patterns",
        "recommendations",
        "comparison",
    ] {
        assert!(body.get(key).is_some(), "no {key} in the JSON report");
    }
    let markdown = snag()
        .args([
            "--database-url",
            &db.url(),
            "report",
            "hostile",
            "--run",
            &first.to_string(),
        ])
        .output()
        .unwrap();
    assert!(markdown.status.success());
    let text = String::from_utf8(markdown.stdout).unwrap();
    for heading in [
        "# Indexing report: hostile",
        "## Error distribution",
        "## Top failing files",
        "## Common error patterns",
        "## Recommendations",
        "## Compared with the previous run",
    ] {
        assert!(text.contains(heading), "no {heading:?} in\n{text}");
    }
    assert!(
        !text.contains('\x1b'),
        "escape sequences reach the terminal"
    );

    let unknown = snag()
        .args(["--database-url", &db.url(), "report", "nobody"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("has no runs"));
}
