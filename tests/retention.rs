//! `snag gc`: old runs go with the rows only they reference; the latest
//! run, runs going on, runs that still hold errors or files' last results,
//! and other repositories stay.

mod support;

use snag::store::runs::NewRun;
use support::{TestDb, count, snag, snag_index};

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

#[tokio::test(flavor = "multi_thread")]
async fn old_runs_go_and_what_is_still_needed_stays() {
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
    for _ in 0..5 {
        snag_index(&db, tree.path(), "web", &[]);
    }
    snag_index(&db, other.path(), "other", &[]);
    snag_index(&db, other.path(), "other", &[]);
    let web = runs(&db, "web").await;
    let errors = count(
        &db,
        "SELECT count(*) FROM indexing_errors WHERE repository = 'web'",
    )
    .await;
    let latest_files = count(
        &db,
        &format!(
            "SELECT count(*) FROM indexed_files WHERE run_id = {}",
            web[4]
        ),
    )
    .await;

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
    assert!(
        said.starts_with("deleted 3 runs (90 file outcome rows"),
        "{said}"
    );
    assert_eq!(runs(&db, "web").await, web[3..]);
    for gone in &web[..3] {
        for table in ["indexed_files", "run_groups", "error_counts"] {
            let left = count(
                &db,
                &format!("SELECT count(*) FROM {table} WHERE run_id = {gone}"),
            )
            .await;
            assert_eq!(left, 0, "{table} rows of run {gone}");
        }
    }
    // What remains reads as before.
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM indexing_errors WHERE repository = 'web'"
        )
        .await,
        errors
    );
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT count(*) FROM indexed_files WHERE run_id = {}",
                web[4]
            )
        )
        .await,
        latest_files
    );
    assert_eq!(
        runs(&db, "other").await.len(),
        2,
        "another repository is untouched"
    );
    let list = snag()
        .args([
            "--database-url",
            &db.url(),
            "errors",
            "web",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(body["total"], errors);

    // A run that still holds errors (a file no later run reached) stays,
    // and so does every repository's latest run and a running one.
    sqlx::query(&format!(
        "UPDATE indexing_errors SET run_id = {} WHERE repository = 'web' AND file_path = 'm0.ts'",
        web[3]
    ))
    .execute(db.store.pool())
    .await
    .unwrap();
    let all = gc(&db, &["--keep-runs", "1", "--older-than", "0m"]);
    assert!(all.status.success());
    assert_eq!(
        runs(&db, "web").await,
        web[3..],
        "run {} holds errors",
        web[3]
    );
    assert_eq!(runs(&db, "other").await.len(), 1);
    assert_eq!(runs(&db, "stale").await.len(), 2, "running and latest");
    going.release().await;
}
