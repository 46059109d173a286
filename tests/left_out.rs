//! Every run says what discovery left out, by reason, with the flag that
//! would take it in: in the summary, `--format json`, the run's row and
//! the report; and the flags do take it in.

mod support;

use serde_json::Value;
use support::{TestDb, count, snag, snag_index, write_files};

#[tokio::test(flavor = "multi_thread")]
async fn a_run_says_what_it_left_out_and_the_flags_take_it_in() {
    let db = TestDb::new().await;
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path().join("app");
    write_files(
        &root,
        &[
            ("src/main.ts", "export const main = 1;\n"),
            ("src/main.test.ts", "test('x', () => {});\n"),
            ("src/__tests__/util.ts", "export const u = 1;\n"),
            (
                "src/App.vue",
                "<script setup lang=\"ts\">const a = 1;</script>\n",
            ),
            ("src/Card.svelte", "<script>let b = 2;</script>\n"),
            ("generated/api.ts", "export const api = 1;\n"),
            ("node_modules/lib/index.js", "module.exports = 1;\n"),
            ("README.md", "# app\n"),
            (".gitignore", "generated/\n"),
        ],
    );

    let text = snag_index(&db, &root, "app", &[]);
    assert!(
        text.contains(
            "  left out 2 test files (--include-tests), 1 ignored file (--no-ignore), \
             1 folder always excluded"
        ),
        "{text}"
    );
    // Components are indexed like any file.
    assert!(text.contains("files    3 total: 3 indexed"), "{text}");

    let json: Value =
        serde_json::from_str(&snag_index(&db, &root, "app", &["--format", "json"])).unwrap();
    let passed = &json["passed_over"];
    assert_eq!(passed["test_files"], 2, "{json}");
    assert_eq!(passed["ignored"], 1);
    assert_eq!(passed["excluded_folders"], 1);
    assert_eq!(passed["other_extensions"], 0);
    // --ext narrows, and says what it left out.
    let narrowed: Value = serde_json::from_str(&snag_index(
        &db,
        &root,
        "app",
        &["--format", "json", "--ext", "ts,js"],
    ))
    .unwrap();
    assert_eq!(narrowed["files"]["total"], 1, "{narrowed}");
    assert_eq!(narrowed["passed_over"]["other_extensions"], 2);
    // The run's row keeps it, for the dashboard and the report.
    let run = json["run_id"].as_i64().unwrap();
    let recorded = count(
        &db,
        &format!(
            "SELECT (passed_over->>'test_files')::bigint FROM index_runs WHERE run_id = {run}"
        ),
    )
    .await;
    assert_eq!(recorded, 2);
    let report = snag()
        .args(["--database-url", &db.url(), "report", "app"])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&report.stdout);
    assert!(
        report.contains("- **Left out:** 2 test files (--include-tests)"),
        "{report}"
    );

    // The flags take the files in, and nothing is left to say of them.
    let json: Value = serde_json::from_str(&snag_index(
        &db,
        &root,
        "app",
        &["--format", "json", "--include-tests", "--no-ignore"],
    ))
    .unwrap();
    assert_eq!(json["files"]["total"], 6, "{json}");
    assert_eq!(json["passed_over"]["test_files"], 0);
    assert_eq!(json["passed_over"]["ignored"], 0);
    let text = snag_index(&db, &root, "app", &["--include-tests", "--no-ignore"]);
    assert!(!text.contains("test files"), "{text}");
}
