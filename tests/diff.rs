//! `snag diff` and `GET /api/v1/runs/{a}/diff/{b}` on two real runs of a
//! tree edited between them, on a store that holds another repository too.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use snag::api::{self, AllowedRoots, ApiConfig, Jobs};
use support::{TestDb, snag, snag_index, write_files};
use tower::ServiceExt;

const FINE: &str = "export function fine(a: number): number {\n  return a + 1;\n}\n";
const BAD_PARAMS: &str = "export function bad(a: number {\n  return a;\n}\n";
const BAD_CLASS: &str = "export class Broken {\n  method() {\n    return 1;\n  \n";

fn diff(db: &TestDb, args: &[&str]) -> std::process::Output {
    snag()
        .args(["--database-url", &db.url(), "diff"])
        .args(args)
        .output()
        .unwrap()
}

fn paths(group: &Value, kind: &str) -> Vec<String> {
    group[kind]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| match p {
            Value::String(path) => path.clone(),
            change => change["file_path"].as_str().unwrap().to_owned(),
        })
        .collect()
}

/// Every path of one kind of change, over all groups.
fn all(diff: &Value, kind: &str) -> Vec<String> {
    let mut found: Vec<String> = diff["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| paths(g, kind))
        .collect();
    found.sort();
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn two_runs_of_an_edited_tree_compare_file_by_file() {
    let db = TestDb::new().await;
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path();
    write_files(
        root,
        &[
            ("src/a.ts", FINE),
            ("src/b.ts", BAD_PARAMS),
            ("src/c.ts", BAD_PARAMS),
            ("src/d.ts", BAD_PARAMS),
            ("src/e.ts", FINE),
        ],
    );
    // Another repository in the same store, with failures of its own.
    let other = tempfile::tempdir().unwrap();
    write_files(other.path(), &[("x.ts", BAD_PARAMS), ("y.ts", BAD_CLASS)]);
    snag_index(&db, other.path(), "other", &[]);
    snag_index(&db, root, "web", &[]);

    // a breaks, b is fixed, c fails another way, d is deleted, f is new and broken.
    write_files(
        root,
        &[
            ("src/a.ts", BAD_PARAMS),
            ("src/b.ts", FINE),
            ("src/c.ts", BAD_CLASS),
            ("src/f.ts", BAD_PARAMS),
        ],
    );
    std::fs::remove_file(root.join("src/d.ts")).unwrap();
    snag_index(&db, other.path(), "other", &[]);
    snag_index(&db, root, "web", &[]);

    let output = diff(&db, &["--repo", "web", "--format", "json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let changes: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(changes["repository"], "web");
    assert_eq!(
        changes["counts"],
        serde_json::json!({"newly_failing": 2, "fixed": 1, "gone": 1, "another_problem": 1,
            "another_verdict": 0, "still_failing": 0})
    );
    assert_eq!(all(&changes, "newly_failing"), ["src/a.ts", "src/f.ts"]);
    assert_eq!(all(&changes, "fixed"), ["src/b.ts"]);
    assert_eq!(all(&changes, "gone"), ["src/d.ts"]);
    assert_eq!(all(&changes, "another_problem"), ["src/c.ts"]);
    // Grouped: a and f fail in one group, the one b and d failed in.
    let groups = changes["groups"].as_array().unwrap();
    let params = groups
        .iter()
        .find(|g| paths(g, "newly_failing").contains(&"src/a.ts".to_owned()))
        .unwrap();
    assert_eq!(paths(params, "newly_failing"), ["src/a.ts", "src/f.ts"]);
    assert_eq!(paths(params, "fixed"), ["src/b.ts"]);
    let class = groups
        .iter()
        .find(|g| paths(g, "another_problem").contains(&"src/c.ts".to_owned()))
        .unwrap();
    assert_ne!(class["fingerprint"], params["fingerprint"]);
    assert_eq!(
        class["another_problem"][0]["was"]["fingerprint"],
        params["fingerprint"]
    );
    let (from, to) = (
        changes["from"]["run_id"].as_i64().unwrap(),
        changes["to"]["run_id"].as_i64().unwrap(),
    );

    // The dashboard of the later run counts the same changes.
    let dashboard = db.store.run_dashboard(to, 10).await.unwrap().unwrap();
    let since = dashboard
        .since
        .expect("a run that ended, with one before it");
    assert_eq!(since.run_id, from);
    assert_eq!(
        serde_json::to_value(since.counts).unwrap(),
        changes["counts"]
    );

    // The same with the runs named, in the text and Markdown forms, and as a gate.
    let named = diff(
        &db,
        &[&from.to_string(), &to.to_string(), "--format", "json"],
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&named.stdout).unwrap(),
        changes
    );
    let only_later = diff(&db, &[&to.to_string(), "--format", "json"]);
    assert_eq!(
        serde_json::from_slice::<Value>(&only_later.stdout).unwrap(),
        changes
    );
    let text = String::from_utf8(diff(&db, &["--repo", "web"]).stdout).unwrap();
    assert!(
        text.starts_with(&format!(
            "run {from} → run {to} of web: 2 newly failing, 1 fixed, 1 gone, 1 with another problem"
        )),
        "{text}"
    );
    assert!(text.contains("  + src/a.ts  newly failing"), "{text}");
    assert!(text.contains("  - src/b.ts  fixed"), "{text}");
    assert!(text.contains("  - src/d.ts  gone"), "{text}");
    assert!(
        text.contains("  ~ src/c.ts  another problem (was: "),
        "{text}"
    );
    let markdown =
        String::from_utf8(diff(&db, &["--repo", "web", "--format", "markdown"]).stdout).unwrap();
    assert!(
        markdown.starts_with(&format!("## web: run {from} → run {to}\n")),
        "{markdown}"
    );
    assert!(markdown.contains("| 2 | 1 | 1 | 1 | 0 | 0 |"), "{markdown}");
    let gate = diff(&db, &["--repo", "web", "--fail-on-new"]);
    assert_eq!(gate.status.code(), Some(1));
    let backwards = diff(&db, &[&to.to_string(), &from.to_string(), "--fail-on-new"]);
    assert_eq!(
        backwards.status.code(),
        Some(1),
        "c fails another way in either direction"
    );

    // The API gives the same body.
    let app = api::router(
        db.store.clone(),
        Jobs::default(),
        ApiConfig {
            roots: AllowedRoots::new(&[std::env::temp_dir()]).unwrap(),
            ..ApiConfig::default()
        },
    );
    let get = |uri: String| {
        let app = app.clone();
        async move {
            let response = app
                .oneshot(Request::get(uri).body(Body::empty()).unwrap())
                .await
                .unwrap();
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .unwrap();
            (status, serde_json::from_slice::<Value>(&bytes).unwrap())
        }
    };
    let (status, body) = get(format!("/api/v1/runs/{from}/diff/{to}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, changes);
    let (status, _) = get(format!("/api/v1/runs/{from}/diff/999999")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let other_run = db.store.latest_run("other").await.unwrap().unwrap().run_id;
    let (status, body) = get(format!("/api/v1/runs/{from}/diff/{other_run}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Each run's errors as it left them: the later run's are the errors the
    // files have now; the earlier run's are still its own, edited files and
    // all.
    let errors = |args: &[&str]| {
        snag()
            .args([
                "--database-url",
                &db.url(),
                "errors",
                "web",
                "--format",
                "json",
            ])
            .args(args)
            .output()
            .unwrap()
    };
    let all = errors(&[]);
    let all: Value = serde_json::from_slice(&all.stdout).unwrap();
    let held = errors(&["--run", &to.to_string()]);
    let held: Value = serde_json::from_slice(&held.stdout).unwrap();
    assert_eq!(held["total"], all["total"]);
    assert_eq!(held["filters"]["run_id"], to);
    let earlier = errors(&["--run", &from.to_string()]);
    assert!(earlier.status.success());
    let body: Value = serde_json::from_slice(&earlier.stdout).unwrap();
    let from_run = db.store.get_run(from).await.unwrap().unwrap();
    assert_eq!(body["total"], i64::from(from_run.errors_total));
    let to_run = db.store.get_run(to).await.unwrap().unwrap();
    assert_eq!(held["total"], i64::from(to_run.errors_total));
    assert_ne!(body["errors"], held["errors"], "the runs' errors differ");
    let elsewhere = errors(&["--run", &other_run.to_string()]);
    assert_eq!(elsewhere.status.code(), Some(2));

    // Nothing to compare with: a clear message and exit 2.
    let first = db.store.list_runs(Some("other"), 10).await.unwrap();
    let first = first.last().unwrap().run_id;
    let alone = diff(&db, &[&first.to_string()]);
    assert_eq!(alone.status.code(), Some(2));
    let said = String::from_utf8_lossy(&alone.stderr);
    assert!(said.contains("no earlier run to compare it with"), "{said}");
    let nothing = diff(&db, &[]);
    assert_eq!(nothing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&nothing.stderr).contains("--repo NAME"));
}

/// A file that already failed and gains a problem in another group fails
/// anew: `snag diff --fail-on-new` and `snag index --baseline` both say so,
/// and a file that keeps its problems (two of them, unchanged) does not.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_problem_in_a_failing_file_is_new() {
    const ONE: &str = "export function bad(a: number {\n  return a;\n}\n";
    let two = format!("{ONE}const x = [1, 2;\nlet = 5;\n");
    let db = TestDb::new().await;
    let tree = tempfile::tempdir().unwrap();
    write_files(tree.path(), &[("a.ts", ONE), ("b.ts", &two)]);
    snag_index(&db, tree.path(), "two", &[]);
    let baseline = db.store.latest_run("two").await.unwrap().unwrap().run_id;
    write_files(tree.path(), &[("a.ts", &two)]);
    let gated = snag()
        .args(["--database-url", &db.url(), "index"])
        .arg(tree.path())
        .args(["--repo", "two", "--max-errors", "0"])
        .args(["--baseline", &baseline.to_string()])
        .output()
        .unwrap();
    assert_eq!(gated.status.code(), Some(1));
    let said = String::from_utf8_lossy(&gated.stderr);
    assert!(said.contains("1 new error recorded"), "{said}");

    let compared = diff(&db, &["--repo", "two", "--fail-on-new"]);
    assert_eq!(compared.status.code(), Some(1));
    let text = String::from_utf8_lossy(&compared.stdout);
    assert!(text.contains("1 with another problem"), "{text}");
    assert!(
        text.contains("~ a.ts  another problem besides this one"),
        "{text}"
    );
    assert!(!text.contains("b.ts"), "b.ts kept its problems: {text}");
}
