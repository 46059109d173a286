//! `snag gc`: old runs go with the rows only they saw; every run that
//! remains reads exactly as before (its files, its errors, what changed
//! since the run before it); the latest run, runs going on and other
//! repositories stay.

mod support;

use snag::store::runs::NewRun;
use support::{TestDb, count, snag, snag_index, write_files};

const BAD: &str = "export function bad(a: number {\n  return a;\n}\n";

fn gc(db: &TestDb, args: &[&str]) -> std::process::Output {
    snag()
        .args(["--database-url", &db.url(), "gc"])
        .args(args)
        .output()
        .unwrap()
}

async fn runs(db: &TestDb, repository: &str) -> Vec<i64> {
    sqlx::query_scalar("SELECT run_id FROM index_runs WHERE repository = $1 ORDER BY run_id")
        .bind(repository)
        .fetch_all(db.store.pool())
        .await
        .unwrap()
}

/// Everything a run of `web` shows: its files, its errors (but the run
/// that produced each, which retention may move to a later run) and their
/// counts by type and verdict.
async fn seen_by(db: &TestDb, run_id: i64) -> String {
    let files = db.store.list_files(run_id, None).await.unwrap();
    let mut errors = db.store.run_errors(run_id).await.unwrap();
    for e in &mut errors {
        e.run_id = None;
    }
    let facets = db.store.run_error_facets(run_id).await.unwrap();
    assert!(!files.is_empty());
    format!("{files:#?}\n{errors:#?}\n{facets:#?}")
}

/// What changed in `web` between two runs.
async fn changes(db: &TestDb, before: i64, after: i64) -> String {
    let files = db.store.failing_in_either("web", before, after).await;
    format!("{:#?}", files.unwrap())
}

/// Rows of `table` in repository `web` that no run of it sees.
async fn unseen(db: &TestDb, table: &str) -> i64 {
    count(
        db,
        &format!(
            "SELECT count(*) FROM {table} f WHERE repository = 'web' AND NOT EXISTS \
             (SELECT 1 FROM index_runs r WHERE r.repository = 'web' AND f.run_id <= r.run_id \
              AND (f.until_run IS NULL OR f.until_run > r.run_id))"
        ),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn old_runs_go_and_every_remaining_run_reads_as_before() {
    let db = TestDb::new().await;
    let tree = tempfile::tempdir().unwrap();
    for i in 0..30 {
        let text = if i % 5 == 0 {
            BAD.to_owned()
        } else {
            format!("export const v{i} = {i};\n")
        };
        std::fs::write(tree.path().join(format!("m{i}.ts")), text).unwrap();
    }
    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("x.ts"), BAD).unwrap();
    // Five runs with a change before each of the next three: history to
    // keep and history to drop.
    snag_index(&db, tree.path(), "web", &[]);
    write_files(tree.path(), &[("m1.ts", BAD)]);
    snag_index(&db, tree.path(), "web", &[]);
    write_files(tree.path(), &[("m0.ts", "export const fixed = 0;\n")]);
    snag_index(&db, tree.path(), "web", &[]);
    std::fs::remove_file(tree.path().join("m2.ts")).unwrap();
    snag_index(&db, tree.path(), "web", &[]);
    snag_index(&db, tree.path(), "web", &[]);
    snag_index(&db, other.path(), "other", &[]);
    snag_index(&db, other.path(), "other", &[]);
    let web = runs(&db, "web").await;
    let before = [seen_by(&db, web[3]).await, seen_by(&db, web[4]).await];
    let changed = changes(&db, web[3], web[4]).await;
    assert_ne!(before[0], seen_by(&db, web[2]).await, "m2 went in run 4");
    let only_old = |table: &str| {
        format!(
            "SELECT count(*) FROM {table} WHERE repository = 'web' AND until_run <= {}",
            web[3]
        )
    };
    let old_results = count(&db, &only_old("indexed_files")).await;
    let old_errors = count(&db, &only_old("indexing_errors_history")).await;
    assert_eq!(old_results, 3, "m1 and m0 replaced, m2 gone, before run 4");
    assert!(old_errors > 0, "m0's error was replaced");

    // A run going on (its lease held here) is never deleted, even with a
    // newer run of its repository.
    let going = db
        .store
        .start_run(NewRun {
            repository: "stale",
            root: "/s",
            options: serde_json::json!({}),
            grammar_versions: serde_json::json!({}),
        })
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO index_runs (repository, root, status, tool_version) \
         VALUES ('stale', '/s', 'completed', '0')",
    )
    .execute(db.store.pool())
    .await
    .unwrap();

    // Nothing to keep said: a usage error.
    let bare = gc(&db, &[]);
    assert_eq!(bare.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bare.stderr).contains("--keep-runs N"));

    let dry = gc(&db, &["--keep-runs", "2", "--dry-run"]);
    assert!(dry.status.success());
    let said = String::from_utf8(dry.stdout).unwrap();
    assert!(said.starts_with("would delete 3 runs\n"), "{said}");
    assert!(
        said.contains(&format!("  run {} of web, started ", web[0])),
        "{said}"
    );
    assert_eq!(runs(&db, "web").await.len(), 5, "a dry run deletes nothing");

    let done = gc(&db, &["--repo", "web", "--keep-runs", "2"]);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let said = String::from_utf8(done.stdout).unwrap();
    let expected = format!(
        "deleted 3 runs ({old_results} file results, {old_errors} replaced error{} and ",
        if old_errors == 1 { "" } else { "s" }
    );
    assert!(said.starts_with(&expected), "{said}");
    assert_eq!(runs(&db, "web").await, web[3..]);
    for gone in &web[..3] {
        for table in [
            "indexed_files",
            "indexing_errors",
            "indexing_errors_history",
            "run_groups",
            "error_counts",
            "error_history_counts",
        ] {
            let left = count(
                &db,
                &format!("SELECT count(*) FROM {table} WHERE run_id = {gone}"),
            )
            .await;
            assert_eq!(left, 0, "{table} rows of run {gone}");
        }
    }
    for table in ["indexed_files", "indexing_errors_history"] {
        assert_eq!(unseen(&db, table).await, 0, "{table} rows no run sees");
    }
    // What remains reads as before.
    assert_eq!(seen_by(&db, web[3]).await, before[0]);
    assert_eq!(seen_by(&db, web[4]).await, before[1]);
    assert_eq!(changes(&db, web[3], web[4]).await, changed);
    assert_eq!(
        runs(&db, "other").await.len(),
        2,
        "another repository is untouched"
    );

    // Every repository's latest run and a running one stay.
    let all = gc(&db, &["--keep-runs", "1", "--older-than", "0m"]);
    assert!(all.status.success());
    assert_eq!(runs(&db, "web").await, web[4..]);
    assert_eq!(runs(&db, "other").await.len(), 1);
    assert_eq!(runs(&db, "stale").await.len(), 2, "running and latest");
    assert_eq!(seen_by(&db, web[4]).await, before[1]);
    for table in ["indexed_files", "indexing_errors_history"] {
        assert_eq!(unseen(&db, table).await, 0, "{table} rows no run sees");
    }
    going.release().await;
}
