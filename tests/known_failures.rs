//! `snag index --known-failures FILE` and `--write-known-failures FILE`:
//! a run passes when exactly the listed files fail.

mod support;

use support::{TestDb, count, snag, write_files};

const BAD: &str = "export function bad(a: number {\n  return a;\n}\n";
const FINE: &str = "export const fine = 1;\n";

fn index(db: &TestDb, root: &std::path::Path, extra: &[&str]) -> std::process::Output {
    snag()
        .args(["--database-url", &db.url(), "index"])
        .arg(root)
        .args(["--repo", "grammar"])
        .args(extra)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_passes_when_exactly_the_listed_files_fail() {
    let db = TestDb::new().await;
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path().join("corpus");
    write_files(&root, &[("src/a.ts", BAD), ("src/b.ts", FINE)]);
    let list = tree.path().join("known_failures.txt");
    let list_arg = list.to_str().unwrap();

    let written = index(&db, &root, &["--write-known-failures", list_arg]);
    assert_eq!(written.status.code(), Some(0));
    let text = std::fs::read_to_string(&list).unwrap();
    assert!(text.starts_with("# Files of grammar"), "{text}");
    assert!(text.ends_with("\nsrc/a.ts\n"), "{text}");

    let checked = index(&db, &root, &["--known-failures", list_arg]);
    assert_eq!(checked.status.code(), Some(0));
    let said = String::from_utf8_lossy(&checked.stdout);
    assert!(
        said.contains("known    1 still failing, 0 not on the list, 0 now passing"),
        "{said}"
    );

    // The JSON document says the same.
    let document = index(
        &db,
        &root,
        &["--known-failures", list_arg, "--format", "json"],
    );
    assert_eq!(document.status.code(), Some(0));
    let document: serde_json::Value = serde_json::from_slice(&document.stdout).unwrap();
    let known = &document["known_failures"];
    assert_eq!(known["still_failing"], 1, "{document}");
    assert_eq!(known["unexpected"], serde_json::json!([]));
    assert_eq!(known["now_passing"], serde_json::json!([]));

    // A regression: a file not on the list fails.
    write_files(&root, &[("src/b.ts", BAD)]);
    let regressed = index(&db, &root, &["--known-failures", list_arg]);
    assert_eq!(regressed.status.code(), Some(1));
    let said = String::from_utf8_lossy(&regressed.stderr);
    assert!(
        said.contains("1 failing file not in the known failures (src/b.ts)"),
        "{said}"
    );

    // A fix: the listed file passes now, and the list must say so.
    write_files(&root, &[("src/a.ts", FINE), ("src/b.ts", FINE)]);
    let fixed = index(&db, &root, &["--known-failures", list_arg]);
    assert_eq!(fixed.status.code(), Some(1));
    let said = String::from_utf8_lossy(&fixed.stderr);
    assert!(
        said.contains("1 file listed as known failures now passes (src/a.ts): take it off"),
        "{said}"
    );

    // A list that cannot be read stops before any run.
    let runs = count(&db, "SELECT count(*) FROM index_runs").await;
    let missing = index(&db, &root, &["--known-failures", "/nonexistent/known.txt"]);
    assert_eq!(missing.status.code(), Some(2));
    let said = String::from_utf8_lossy(&missing.stderr);
    assert!(said.contains("cannot read the known failures"), "{said}");
    assert_eq!(count(&db, "SELECT count(*) FROM index_runs").await, runs);
}
