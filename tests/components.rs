//! Vue and Svelte single-file components, indexed like any file: a folder
//! of real-world-shaped components (tests/fixtures/components, with the
//! outcomes, chunks and error locations expected of each in its
//! expected.json) through the engine, then through a real run on
//! PostgreSQL, the drill-down's file and highlighting, and `snag repro`.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use snag::index::discover::{Discovery, DiscoveryOptions};
use snag::index::process::{FileProcessor, FileReport, ProcessSettings};
use support::{TestDb, count, snag, snag_index, snag_json};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/components")
}

fn expected() -> BTreeMap<String, Value> {
    let text = std::fs::read_to_string(fixture().join("expected.json")).unwrap();
    let expected: Value = serde_json::from_str(&text).unwrap();
    expected["files"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, case)| (path.clone(), case.clone()))
        .collect()
}

fn chunk_labels(report: &FileReport) -> Vec<String> {
    report
        .chunks
        .iter()
        .map(|c| {
            format!(
                "{}:{}@{}-{}",
                c.chunk_type.as_str(),
                c.name,
                c.start_line,
                c.end_line
            )
        })
        .collect()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| i.as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_fixture_keeps_its_line_endings() {
    let crlf = std::fs::read(fixture().join("src/views/WindowsLineEndings.vue")).unwrap();
    let breaks = crlf.iter().filter(|b| **b == b'\n').count();
    let crlfs = crlf.windows(2).filter(|w| w == b"\r\n").count();
    assert!(breaks > 10 && crlfs == breaks, "{crlfs} of {breaks}");
}

#[test]
fn every_component_gets_its_outcome_chunks_and_error_location() {
    let discovery = Discovery::new(&fixture(), &DiscoveryOptions::default()).unwrap();
    let found = discovery.collect(|_| true).unwrap();
    let mut processor = FileProcessor::new(ProcessSettings::default());
    let mut seen = BTreeMap::new();
    for file in found.into_items() {
        let file = file.unwrap();
        seen.insert(file.rel_path.clone(), processor.process(&file));
    }
    let expected = expected();
    assert_eq!(
        seen.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "discovery finds every component by default"
    );
    for (path, case) in &expected {
        let report = &seen[path];
        let label = format!("{path} ({})", case["case"]);
        assert_eq!(report.outcome.as_str(), case["outcome"], "{label}");
        assert_eq!(
            report.skip_reason.map(|r| r.as_str()),
            case["skip_reason"].as_str(),
            "{label}"
        );
        assert_eq!(
            report.language.map(|l| l.as_str()),
            case["language"].as_str(),
            "{label}"
        );
        assert_eq!(chunk_labels(report), strings(&case["chunks"]), "{label}");
        let error = report
            .errors
            .iter()
            .find(|e| e.error_type.as_str() == "parsing_error");
        let Some(want) = case.get("error") else {
            assert!(report.errors.is_empty(), "{label}: {:?}", report.errors);
            continue;
        };
        let error = error.unwrap_or_else(|| panic!("{label}: a syntax error"));
        let span = error.span.unwrap();
        assert_eq!(
            (span.line, span.column),
            (
                want["line"].as_u64().unwrap() as u32,
                want["column"].as_u64().unwrap() as u32
            ),
            "{label}: {}",
            error.message
        );
        assert_eq!(
            span.utf16_column.map(u64::from),
            want["utf16_column"].as_u64(),
            "{label}"
        );
        let verdict = error.verdict.as_ref().unwrap().verdict;
        assert_eq!(verdict.as_str(), want["verdict"], "{label}");
        // The traceback names the component and shows its own line.
        let traceback = error.traceback.as_deref().unwrap();
        assert!(traceback.contains(path.as_str()), "{traceback}");
    }
    // A component's chunk is the whole file, template and styles too.
    let counter = &seen["src/components/Counter.vue"];
    let whole = std::fs::read_to_string(fixture().join("src/components/Counter.vue")).unwrap();
    assert_eq!(counter.chunks[0].source, whole);
    assert!(counter.chunks[0].metadata.exported);
    let imports: Vec<&str> = counter.chunks[0]
        .metadata
        .imports
        .iter()
        .map(|i| i.name.as_str())
        .collect();
    assert!(
        imports.contains(&"ref") && imports.contains(&"computed"),
        "{imports:?}"
    );
    // Every other chunk's text is the file's own, at its own bytes.
    for report in seen.values().filter(|r| r.rel_path.ends_with(".vue")) {
        let text = std::fs::read_to_string(fixture().join(&report.rel_path)).unwrap();
        for chunk in report.chunks.iter().filter(|c| c.name != "module") {
            assert_eq!(
                chunk.source,
                text[chunk.start_byte..chunk.end_byte],
                "{}",
                report.rel_path
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_stores_components_and_the_drill_down_shows_them() {
    let db = TestDb::new().await;
    let root = fixture();
    let expected = expected();
    let summary: Value =
        serde_json::from_str(&snag_index(&db, &root, "components", &["--format", "json"])).unwrap();
    let files = &summary["files"];
    assert_eq!(
        (
            &files["total"],
            &files["indexed"],
            &files["partial"],
            &files["skipped"]
        ),
        (
            &Value::from(12),
            &Value::from(7),
            &Value::from(4),
            &Value::from(1)
        ),
        "{summary}"
    );
    let run_id = summary["run_id"].as_i64().unwrap();

    // Each file's row: its outcome, skip reason and grammar.
    let stored = snag_json(&db, &["files", "components", "--format", "json"]);
    let stored = stored["files"].as_array().unwrap();
    assert_eq!(stored.len(), expected.len());
    for row in stored {
        let path = row["file_path"].as_str().unwrap();
        let case = &expected[path];
        assert_eq!(row["outcome"], case["outcome"], "{path}");
        assert_eq!(row["skip_reason"], case["skip_reason"], "{path}");
        assert_eq!(row["language"], case["language"], "{path}");
    }

    // Each error where it is in the file, with its verdict.
    let errors = snag_json(&db, &["errors", "components", "--format", "json"]);
    let errors = errors["errors"].as_array().unwrap();
    let with_errors = expected.values().filter(|c| c.get("error").is_some());
    assert_eq!(errors.len(), with_errors.count());
    for error in errors {
        let path = error["file_path"].as_str().unwrap();
        let want = &expected[path]["error"];
        assert_eq!(
            (&error["line"], &error["column"], &error["verdict"]),
            (&want["line"], &want["column"], &want["verdict"]),
            "{path}"
        );
        let problem = &error["details"]["problems"][0];
        assert_eq!(problem["utf16_column"], want["utf16_column"], "{path}");
    }

    // A component chunk per component indexed cleanly, named after it.
    let components = count(
        &db,
        &format!(
            "SELECT count(*) FROM code_chunks WHERE repository = 'components' \
             AND chunk_type = 'component' AND run_id = {run_id}"
        ),
    )
    .await;
    assert_eq!(components, 6);

    // The drill-down opens the component itself, highlighted as Svelte,
    // with the error on the line and column it names.
    let records = db.store.run_errors(run_id).await.unwrap();
    let badge = records
        .iter()
        .find(|e| e.file_path == "src/views/Badge.svelte")
        .unwrap();
    let file = snag::tui::loader::load_file(Some(&root), badge, None);
    assert_eq!(file.extension, "svelte");
    let line = badge.line.unwrap() as usize;
    let column = badge.column.unwrap() as usize;
    let error_line = &file.lines[line - 1];
    assert!(
        error_line.starts_with("<i>😀</i><script lang=\"ts\">"),
        "{error_line}"
    );
    assert_eq!(
        error_line.chars().nth(column - 1),
        Some(';'),
        "{error_line}"
    );
    let window = snag::tui::highlight::highlight_window(
        &file.lines,
        &file.extension,
        Some("Monokai Extended"),
        0,
        file.lines.len(),
    );
    let colours: std::collections::HashSet<_> = window.lines[line - 1]
        .spans
        .iter()
        .filter_map(|s| s.style.fg)
        .collect();
    assert!(colours.len() >= 3, "{:?}", window.lines[line - 1]);

    // The grammar gap reduces to its script, as TypeScript.
    let gap = errors
        .iter()
        .find(|e| e["verdict"] == "grammar_gap")
        .unwrap();
    let fingerprint = gap["fingerprint"].as_str().unwrap();
    let output = snag()
        .args(["--database-url", &db.url(), "repro", fingerprint])
        .args(["--repo", "components", "--timeout", "30"])
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        printed.contains("interface Box<") && printed.contains("out T>"),
        "{printed}"
    );
    assert!(!printed.contains("<script"), "{printed}");
}
