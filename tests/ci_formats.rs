//! `snag index --format sarif|junit|github` and `--baseline`, through the
//! binary against a real PostgreSQL.

mod support;

use std::path::Path;
use std::process::Output;

use serde_json::Value;
use snag::store::groups::GroupStatus;
use support::{TestDb, hostile_corpus, snag};

fn index(db: &TestDb, dir: &Path, args: &[&str]) -> Output {
    snag()
        .arg("--database-url")
        .arg(db.url())
        .arg("index")
        .arg(dir)
        .args(args)
        .output()
        .expect("run snag index")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.code().is_some_and(|c| c <= 1),
        "snag failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

fn broken(dir: &Path, name: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, "export function f(a: number {\n  return a;\n}\n").unwrap();
}

#[tokio::test]
async fn sarif_is_valid_and_has_a_result_per_site() {
    let dir = tempfile::tempdir().unwrap();
    hostile_corpus(dir.path());
    std::fs::write(
        dir.path().join("src/several.ts"),
        "const a = ;\nexport const ok = 1;\nconst b = ;\nfunction f( {\n",
    )
    .unwrap();
    let db = TestDb::new().await;
    let output = index(&db, dir.path(), &["--repo", "h", "--format", "sarif"]);
    let log: Value = serde_json::from_str(&stdout(&output)).expect("SARIF is JSON");

    let schema: Value = serde_json::from_str(include_str!("fixtures/sarif-schema-2.1.0.json"))
        .expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let problems: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(problems.is_empty(), "not valid SARIF 2.1.0: {problems:#?}");
    assert_eq!(log["version"], "2.1.0");

    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    let run_id = run["properties"]["runId"].as_i64().unwrap();
    let errors = db.store.run_errors(run_id).await.unwrap();
    // A judged syntax error has a result per problem, others per site.
    let per_error = |e: &snag::store::ErrorRecord| match e.details.problems.len() {
        0 => e.details.sites.len().max(1),
        n => n,
    };
    let sites: usize = errors.iter().map(per_error).sum();
    assert_eq!(results.len(), sites, "one result per problem or site");
    assert!(
        results.len() > errors.len(),
        "some file has several problems"
    );

    let mut ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let fingerprints: std::collections::BTreeSet<&str> = errors
        .iter()
        .flat_map(|e| match e.details.problems.as_slice() {
            [] => e.fingerprint.iter().map(String::as_str).collect::<Vec<_>>(),
            problems => problems.iter().map(|p| p.fingerprint.as_str()).collect(),
        })
        .collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        fingerprints.into_iter().collect::<Vec<_>>(),
        "a rule per (problem) group"
    );
    let several = results
        .iter()
        .filter(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/several.ts"
        })
        .collect::<Vec<_>>();
    assert!(several.len() >= 2, "{several:?}");
    assert!(
        several
            .iter()
            .all(|r| r["properties"]["verdict"] == "invalid_source"),
        "{several:?}"
    );
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uriBaseId"], "SRCROOT");
        assert!(
            !location["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .starts_with('/')
        );
        if let Some(region) = location.get("region") {
            assert!(region["startLine"].as_i64().unwrap() >= 1);
        }
    }
    let encoding = results
        .iter()
        .find(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "enc/latin1.ts"
        })
        .expect("the encoding error is a result");
    assert!(
        encoding["message"]["text"]
            .as_str()
            .unwrap()
            .contains("UTF-8")
    );
}

#[tokio::test]
async fn junit_has_a_test_case_per_file() {
    let dir = tempfile::tempdir().unwrap();
    hostile_corpus(dir.path());
    let db = TestDb::new().await;
    let output = index(&db, dir.path(), &["--repo", "h", "--format", "junit"]);
    let xml = stdout(&output);
    let report = quick_junit::Report::deserialize_from_str(&xml).expect("valid JUnit XML");
    let suite = &report.test_suites[0];
    let run = db.store.latest_run("h").await.unwrap().unwrap();
    assert_eq!(suite.test_cases.len() as i32, run.files_total);
    let failures = suite
        .test_cases
        .iter()
        .filter(|c| matches!(c.status, quick_junit::TestCaseStatus::NonSuccess { .. }))
        .count();
    assert_eq!(failures as i32, run.files_failed + run.files_partial);
    let skipped = suite
        .test_cases
        .iter()
        .filter(|c| matches!(c.status, quick_junit::TestCaseStatus::Skipped { .. }))
        .count();
    assert_eq!(skipped as i32, run.files_skipped);
    let latin1 = suite
        .test_cases
        .iter()
        .find(|c| c.name.as_str() == "enc/latin1.ts")
        .expect("a test case for the latin-1 file");
    match &latin1.status {
        quick_junit::TestCaseStatus::NonSuccess { message, ty, .. } => {
            assert!(message.as_ref().unwrap().as_str().contains("UTF-8"));
            assert_eq!(ty.as_ref().unwrap().as_str(), "encoding_error");
        }
        other => panic!("latin-1 file is not a failure: {other:?}"),
    }
    assert!(!xml.contains('\x1b'));
}

#[tokio::test]
async fn github_annotations_are_escaped_and_capped() {
    let dir = tempfile::tempdir().unwrap();
    broken(dir.path(), "a/odd,na:me%.ts");
    for i in 0..55 {
        broken(dir.path(), &format!("gen/file{i:02}.ts"));
    }
    let summary = dir.path().join("summary.md");
    let db = TestDb::new().await;
    let output = snag()
        .arg("--database-url")
        .arg(db.url())
        .args(["index", "--repo", "gh", "--format", "github"])
        .arg(dir.path())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env_remove("GITHUB_WORKSPACE")
        .output()
        .unwrap();
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 51, "50 annotations and a notice: {text}");
    assert!(lines[..50].iter().all(|l| l.starts_with("::error file=")));
    assert!(
        lines[50].starts_with("::notice::6 more errors"),
        "{}",
        lines[50]
    );
    let odd = lines
        .iter()
        .find(|l| l.contains("odd"))
        .expect("the odd file is annotated");
    assert!(
        odd.starts_with("::error file=a/odd%2Cna%3Ame%25.ts,line=1,col="),
        "{odd}"
    );
    assert!(odd.contains(",title=parsing_error%3A "), "{odd}");
    let (_, message) = odd.split_once("::").unwrap().1.split_once("::").unwrap();
    // tree-sitter's missing `)`, which the reference parser accepts once
    // inserted, and where the reference parser noticed.
    assert!(
        odd.contains(",line=1,col=28,") && odd.contains("title=parsing_error%3A invalid source%3A"),
        "{odd}"
    );
    assert!(
        message.contains("invalid source: missing `)` in formal_parameters")
            && message.contains("noticed at 1:29: Expected `,` or `)`"),
        "{message}"
    );

    let markdown = std::fs::read_to_string(&summary).expect("the step summary was written");
    assert!(markdown.starts_with("## snag: gh"), "{markdown}");
    assert!(markdown.contains("| 56 |"), "{markdown}");
}

#[tokio::test]
async fn baseline_counts_only_new_failures() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ok.ts"), "export const ok = 1;\n").unwrap();
    broken(dir.path(), "a.ts");
    broken(dir.path(), "b.ts");
    let db = TestDb::new().await;
    let gate = [
        "--repo",
        "b",
        "--max-errors",
        "0",
        "--max-failure-rate",
        "0",
    ];
    let with_baseline = |extra: &[&str]| {
        let mut args = gate.to_vec();
        args.extend_from_slice(extra);
        index(&db, dir.path(), &args)
    };

    let first = with_baseline(&["--baseline", "latest"]);
    assert_eq!(
        first.status.code(),
        Some(1),
        "no earlier run: every failure counts"
    );
    assert!(String::from_utf8_lossy(&first.stderr).contains("no earlier run"));

    let same = with_baseline(&["--baseline", "latest"]);
    assert_eq!(
        same.status.code(),
        Some(0),
        "nothing new: {}",
        String::from_utf8_lossy(&same.stderr)
    );
    assert!(String::from_utf8_lossy(&same.stdout).contains("0 new errors in 0 files, 2 known"));
    assert_eq!(
        index(&db, dir.path(), &gate).status.code(),
        Some(1),
        "without a baseline"
    );

    broken(dir.path(), "c.ts");
    let worse = with_baseline(&["--baseline", "latest"]);
    assert_eq!(worse.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&worse.stderr);
    assert!(stderr.contains("new failure rate"), "{stderr}");

    // Against the first run, c.ts is new too; against the one before, not.
    let runs = db.store.list_runs(Some("b"), 10).await.unwrap();
    let oldest = runs.last().unwrap().run_id.to_string();
    let newest = runs[0].run_id.to_string();
    assert_eq!(
        with_baseline(&["--baseline", &oldest]).status.code(),
        Some(1)
    );
    assert_eq!(
        with_baseline(&["--baseline", &newest]).status.code(),
        Some(0)
    );

    // A group marked resolved that is back counts again.
    let group = db
        .store
        .list_groups("b", &Default::default(), 10, 0)
        .await
        .unwrap()
        .0
        .remove(0);
    db.store
        .set_group_status(group.group_id, GroupStatus::Resolved)
        .await
        .unwrap();
    assert_eq!(
        with_baseline(&["--baseline", "latest"]).status.code(),
        Some(1)
    );

    let missing = with_baseline(&["--baseline", "999999"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no baseline run 999999"));
}
