//! Verdicts through a real run and PostgreSQL: stored on the error rows,
//! split three ways in the summary, filtered in `snag errors`, used by
//! `--ignore-grammar-gaps` and reproduced by `snag repro`.

mod support;

use snag::index::outcome::{ErrorType, Verdict};
use snag::runner::{self, RunRequest};
use support::{TestDb, snag};

/// Two files with grammar gaps (the same one), one broken file, one valid.
fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut padded = String::new();
    for i in 0..30 {
        padded.push_str(&format!(
            "export function helper{i}(a: number): number {{\n  return a + {i};\n}}\n"
        ));
    }
    padded.push_str("export interface Sink<in T> {\n  put(value: T): void;\n}\n");
    let files = [
        (
            "src/producer.ts",
            "export interface Producer<out T> {\n  make(): T;\n}\n".to_owned(),
        ),
        ("src/sink.ts", padded),
        (
            "src/broken.ts",
            "class Foo { invalid syntax )))))".to_owned(),
        ),
        ("src/valid.ts", "export const answer = 42;\n".to_owned()),
    ];
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn run_snag(db: &TestDb, args: &[&str]) -> std::process::Output {
    snag()
        .arg("--database-url")
        .arg(db.url())
        .args(args)
        .output()
        .expect("run snag")
}

#[tokio::test]
async fn verdicts_are_stored_counted_and_shown() {
    let db = TestDb::new().await;
    let dir = repository();
    let mut request = RunRequest::new(dir.path());
    request.repository = "web".into();
    let summary = runner::start(db.store.clone(), request)
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    let f = &summary.failures;
    assert_eq!((f.grammar_gaps, f.invalid_source, f.other), (2, 1, 0));
    assert_eq!(summary.files.indexed, 1);
    assert_eq!(summary.success_rate, 25.0);
    assert_eq!(summary.success_rate_excluding_grammar_gaps, 50.0);
    assert_eq!(summary.verdicts.get(&Verdict::GrammarGap), Some(&2));
    assert_eq!(summary.verdicts.get(&Verdict::InvalidSource), Some(&1));

    let errors = db.store.run_errors(summary.run_id).await.unwrap();
    assert_eq!(errors.len(), 3);
    for e in &errors {
        assert_eq!(e.error_type, ErrorType::ParsingError);
        let expected = if e.file_path == "src/broken.ts" {
            Verdict::InvalidSource
        } else {
            Verdict::GrammarGap
        };
        assert_eq!(e.verdict, Some(expected), "{}", e.file_path);
        assert_eq!(e.details.verdict, Some(expected));
        let reference = e.details.reference.as_ref().unwrap();
        assert_eq!(reference.parser, "oxc_parser 0.146");
    }
    let broken = errors
        .iter()
        .find(|e| e.file_path == "src/broken.ts")
        .unwrap();
    let reference = broken.details.reference.as_ref().unwrap();
    assert_eq!(reference.line, Some(1));
    assert!(reference.message.is_some());
    // The two variance files are one group, titled by the construct.
    let gaps: Vec<_> = errors
        .iter()
        .filter(|e| e.verdict == Some(Verdict::GrammarGap))
        .collect();
    assert_eq!(gaps[0].fingerprint, gaps[1].fingerprint);
    assert_eq!(
        gaps[0].details.title,
        "grammar gap: variance annotation on a type parameter"
    );
    let split = db.store.run_failure_split(summary.run_id).await.unwrap();
    assert_eq!(
        (split.grammar_gaps, split.invalid_source, split.other),
        (2, 1, 0)
    );

    // `snag errors --verdict` filters, and says so in `filters`.
    let out = run_snag(
        &db,
        &[
            "errors",
            "web",
            "--verdict",
            "grammar_gap",
            "--format",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["total"], 2);
    assert_eq!(body["filters"]["verdict"], "grammar_gap");
    assert!(
        body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["verdict"] == "grammar_gap")
    );

    // `snag repro` cuts the padded example down to the gap itself.
    let fingerprint = gaps[0].fingerprint.clone().unwrap();
    let out = run_snag(&db, &["repro", &fingerprint, "--timeout", "30"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snippet = String::from_utf8(out.stdout).unwrap();
    assert!(snippet.len() <= 40, "{snippet:?}");
    assert!(
        snippet.contains("in ") || snippet.contains("out "),
        "{snippet:?}"
    );
    let note = String::from_utf8_lossy(&out.stderr);
    assert!(note.contains("variance annotation"), "{note}");
    // The snippet still is a grammar gap: tree-sitter errors, oxc accepts.
    let repro_dir = tempfile::tempdir().unwrap();
    std::fs::write(repro_dir.path().join("repro.ts"), &snippet).unwrap();
    let report = snag::index::process::FileProcessor::new(Default::default()).process(
        &snag::index::discover::SourceFile {
            path: repro_dir.path().join("repro.ts"),
            rel_path: "repro.ts".into(),
            kind: snag::index::language::FileKind::Script(
                snag::index::language::Language::TypeScript,
            ),
        },
    );
    assert_eq!(
        report.errors[0].verdict.as_ref().map(|v| v.verdict),
        Some(Verdict::GrammarGap)
    );

    // A broken file's group cannot be reproduced as a gap.
    let out = run_snag(&db, &["repro", broken.fingerprint.as_deref().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a grammar gap"));
}

#[tokio::test]
async fn ignore_grammar_gaps_keeps_gap_only_files_out_of_the_thresholds() {
    let db = TestDb::new().await;
    let dir = repository();
    std::fs::remove_file(dir.path().join("src/broken.ts")).unwrap();
    let path = dir.path().to_str().unwrap();
    let strict = run_snag(
        &db,
        &[
            "index",
            path,
            "--repo",
            "web",
            "--max-failure-rate",
            "0",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        strict.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&strict.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&strict.stdout).unwrap();
    for key in [
        "run_id",
        "repository",
        "root",
        "status",
        "files",
        "errors_by_type",
        "chunks",
    ] {
        assert!(json.get(key).is_some(), "{key} kept");
    }
    assert_eq!(json["failures"]["grammar_gaps"], 2);
    assert_eq!(json["verdicts"]["grammar_gap"], 2);
    assert_eq!(json["success_rate_excluding_grammar_gaps"], 100.0);

    let lenient = run_snag(
        &db,
        &[
            "index",
            path,
            "--repo",
            "web",
            "--max-failure-rate",
            "0",
            "--max-errors",
            "0",
            "--ignore-grammar-gaps",
        ],
    );
    let text = String::from_utf8_lossy(&lenient.stdout);
    assert_eq!(
        lenient.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&lenient.stderr)
    );
    assert!(
        text.contains("2 grammar gaps (valid code), 0 invalid source, 0 other"),
        "{text}"
    );
    assert!(text.contains("100.0% excluding grammar gaps"), "{text}");

    // Broken source still counts with the flag.
    std::fs::write(dir.path().join("src/broken.ts"), "const = ;\n").unwrap();
    let broken = run_snag(
        &db,
        &[
            "index",
            path,
            "--repo",
            "web",
            "--max-errors",
            "0",
            "--ignore-grammar-gaps",
        ],
    );
    assert_eq!(broken.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&broken.stderr).contains("grammar gaps left out"),
        "{}",
        String::from_utf8_lossy(&broken.stderr)
    );

    // Against a baseline: a new file whose only failure is a grammar gap is
    // left out with the flag and counts without it; the known broken file
    // counts in neither.
    let baseline = support::count(&db, "SELECT max(run_id) FROM index_runs")
        .await
        .to_string();
    std::fs::write(
        dir.path().join("src/consumer.ts"),
        "export interface Consumer<in T> {\n  take(value: T): void;\n}\n",
    )
    .unwrap();
    let against = |extra: &[&str]| {
        let mut args = vec!["index", path, "--repo", "web", "--max-errors", "0"];
        args.extend(["--baseline", baseline.as_str()]);
        args.extend(extra);
        run_snag(&db, &args)
    };
    let lenient = against(&["--ignore-grammar-gaps"]);
    assert_eq!(
        lenient.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&lenient.stderr)
    );
    let strict = against(&[]);
    assert_eq!(strict.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&strict.stderr).contains("1 new error recorded"),
        "{}",
        String::from_utf8_lossy(&strict.stderr)
    );
}
