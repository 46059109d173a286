//! Incremental runs: a file unchanged since its last stored result is not
//! parsed again, and what is stored is exactly what a full run of the same
//! tree stores. Files are edited, fixed, broken, added, deleted and renamed
//! between runs; every row of the incremental repository is compared with
//! a repository indexed from scratch. Every earlier run still reads as it
//! did when it ended, and a run that changes nothing adds no rows.

mod support;

use support::{TestDb, hostile_corpus, snag_index, write_files};

const FINE: &str = "export function fine(a: number): number {\n  return a + 1;\n}\n";
const FINE_TOO: &str = "export const values = [1, 2, 3].map((x) => x * 2);\n";
const BAD_PARAMS: &str = "export function bad(a: number {\n  return a;\n}\n";
const BAD_CLASS: &str = "export class Broken {\n  method() {\n    return 1;\n  \n";

/// Every row a repository's latest run left, without what differs by
/// nature between two runs (ids, run ids, times, durations), sorted.
async fn rows(db: &TestDb, repository: &str) -> Vec<(String, Vec<String>)> {
    rows_of(db, repository, latest(db, repository).await).await
}

async fn latest(db: &TestDb, repository: &str) -> i64 {
    sqlx::query_scalar("SELECT max(run_id) FROM index_runs WHERE repository = $1")
        .bind(repository)
        .fetch_one(db.store.pool())
        .await
        .unwrap()
}

/// [`rows`] of one run, as it reads now. Chunks are only kept for the
/// files as they are now.
async fn rows_of(db: &TestDb, repository: &str, run: i64) -> Vec<(String, Vec<String>)> {
    let queries = [
        (
            "indexed_files",
            "SELECT (to_jsonb(f) - 'run_id' - 'duration_us' - 'repository' - 'until_run')::text \
             FROM run_files($2) f",
        ),
        (
            "indexing_errors",
            // How long the reference parser took is the one detail of its own.
            "SELECT ((to_jsonb(e) - 'error_id' - 'repository' - 'occurred_at' - 'run_id') \
               #- '{details,reference,duration_us}')::text \
             FROM run_errors($2) e",
        ),
        (
            "code_chunks",
            "SELECT (to_jsonb(c) - 'chunk_id' - 'repository' - 'run_id' - 'indexed_at')::text \
             FROM code_chunks c WHERE repository = $1",
        ),
        (
            "run_groups",
            "SELECT (to_jsonb(g) - 'run_id' - 'first_at' - 'last_at')::text FROM run_groups g WHERE run_id = $2",
        ),
        (
            "error_groups",
            "SELECT jsonb_build_object('fingerprint', fingerprint, 'error_type', error_type, \
               'title', title, 'status', status, 'last_run_files', last_run_files)::text \
             FROM error_groups WHERE repository = $1 AND last_run_files > 0",
        ),
        (
            "index_runs",
            "SELECT jsonb_build_object('files_total', files_total, 'files_indexed', files_indexed, \
               'files_partial', files_partial, 'files_failed', files_failed, \
               'files_skipped', files_skipped, 'errors_total', errors_total, \
               'chunks_total', chunks_total, 'bytes_total', bytes_total, 'status', status)::text \
             FROM index_runs WHERE run_id = $2",
        ),
        (
            "error_counts",
            "SELECT jsonb_build_object('error_type', error_type, 'verdict', verdict, \
               'errors', sum(errors))::text \
             FROM run_error_totals($2) GROUP BY error_type, verdict HAVING sum(errors) > 0",
        ),
    ];
    let mut all = Vec::new();
    for (table, sql) in queries {
        let mut found: Vec<String> = sqlx::query_scalar(sql)
            .bind(repository)
            .bind(run)
            .fetch_all(db.store.pool())
            .await
            .unwrap_or_else(|e| panic!("{table}: {e}"));
        found.sort();
        all.push((table.to_owned(), found));
    }
    all
}

async fn reused(db: &TestDb, repository: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT files_reused::bigint FROM index_runs WHERE repository = $1 ORDER BY run_id DESC LIMIT 1",
    )
    .bind(repository)
    .fetch_one(db.store.pool())
    .await
    .unwrap()
}

fn assert_same(incremental: &[(String, Vec<String>)], full: &[(String, Vec<String>)]) {
    for ((table, a), (_, b)) in incremental.iter().zip(full) {
        assert!(!b.is_empty() || table == "error_counts", "{table} has rows");
        assert_eq!(a, b, "{table} differs from a full run's");
    }
}

/// An earlier run reads as it did when it ended (but the chunks, which
/// only the files as they are now keep).
fn assert_as_it_was(now: &[(String, Vec<String>)], then: &[(String, Vec<String>)]) {
    for ((table, a), (_, b)) in now.iter().zip(then) {
        if table != "code_chunks" && table != "error_groups" {
            assert_eq!(a, b, "{table} of an earlier run changed");
        }
    }
}

/// Rows stored for a repository's files and errors, current and replaced.
async fn stored_rows(db: &TestDb, repository: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM indexed_files WHERE repository = $1) \
           + (SELECT count(*) FROM indexing_errors WHERE repository = $1) \
           + (SELECT count(*) FROM indexing_errors_history WHERE repository = $1)",
    )
    .bind(repository)
    .fetch_one(db.store.pool())
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edited_tree_stores_what_a_full_run_stores() {
    let db = TestDb::new().await;
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path();
    let mut files: Vec<(String, String)> = (0..40)
        .map(|i| {
            (
                format!("src/pkg{}/m{i}.ts", i % 4),
                format!("export const v{i} = {i};\n"),
            )
        })
        .collect();
    files.extend([
        ("src/a.ts".to_owned(), FINE.to_owned()),
        ("src/b.ts".to_owned(), BAD_PARAMS.to_owned()),
        ("src/c.ts".to_owned(), BAD_CLASS.to_owned()),
        ("src/d.ts".to_owned(), FINE_TOO.to_owned()),
        ("src/e.js".to_owned(), "export const e = 1;\n".to_owned()),
        ("src/broken-too.ts".to_owned(), BAD_PARAMS.to_owned()),
    ]);
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    write_files(root, &refs);
    // Another repository shares the store.
    let other = tempfile::tempdir().unwrap();
    write_files(other.path(), &[("x.ts", BAD_PARAMS), ("y.ts", FINE)]);
    snag_index(&db, other.path(), "other", &[]);

    snag_index(&db, root, "inc", &[]);
    assert_eq!(
        reused(&db, "inc").await,
        0,
        "nothing to reuse in a first run"
    );
    let first = rows(&db, "inc").await;

    // Nothing changed: every file keeps its result, the run reads as the
    // first one did, and nothing was stored for it but its groups and counts.
    let first_run = latest(&db, "inc").await;
    let stored = stored_rows(&db, "inc").await;
    let said = snag_index(&db, root, "inc", &[]);
    assert_eq!(stored_rows(&db, "inc").await, stored);
    assert_eq!(reused(&db, "inc").await, files.len() as i64);
    assert!(
        said.contains(&format!("reused   {} files unchanged", files.len())),
        "{said}"
    );
    assert_same(&rows(&db, "inc").await, &first);

    // a breaks, b is fixed, c fails another way, d is deleted, e is renamed,
    // f is new and broken.
    write_files(
        root,
        &[
            ("src/a.ts", BAD_PARAMS),
            ("src/b.ts", FINE),
            ("src/c.ts", BAD_PARAMS),
            ("src/f.ts", BAD_CLASS),
        ],
    );
    std::fs::remove_file(root.join("src/d.ts")).unwrap();
    std::fs::rename(root.join("src/e.js"), root.join("src/e2.js")).unwrap();
    let unchanged_run = latest(&db, "inc").await;
    let before_edits = rows(&db, "inc").await;
    snag_index(&db, root, "inc", &[]);
    // 40 + broken-too unchanged; a, b, c, e2 and f parsed.
    assert_eq!(reused(&db, "inc").await, 41);
    snag_index(&db, root, "full", &["--full"]);
    assert_eq!(reused(&db, "full").await, 0);
    let edited = rows(&db, "inc").await;
    assert_same(&edited, &rows(&db, "full").await);
    // The runs before the edits still read as they ended.
    assert_as_it_was(&rows_of(&db, "inc", first_run).await, &first);
    assert_as_it_was(&rows_of(&db, "inc", unchanged_run).await, &before_edits);
    let edited_run = latest(&db, "inc").await;

    // --full parses every file again, and stores the same.
    snag_index(&db, root, "inc", &["--full"]);
    assert_eq!(reused(&db, "inc").await, 0);
    assert_same(&rows(&db, "inc").await, &rows(&db, "full").await);
    // Other settings shape other results: nothing is reused across them.
    snag_index(&db, root, "inc", &["--parse-timeout", "9"]);
    assert_eq!(reused(&db, "inc").await, 0);
    snag_index(&db, root, "inc", &["--parse-timeout", "9"]);
    assert_eq!(reused(&db, "inc").await, 46);
    assert_as_it_was(&rows_of(&db, "inc", edited_run).await, &edited);
    assert_as_it_was(&rows_of(&db, "inc", first_run).await, &first);

    // The other repository is untouched by all of it.
    snag_index(&db, other.path(), "other", &[]);
    assert_eq!(reused(&db, "other").await, 2);
}

/// The hostile corpus (invalid bytes, odd names, deep nesting, huge files)
/// indexed again without change keeps every outcome.
#[tokio::test(flavor = "multi_thread")]
async fn the_hostile_corpus_is_carried_over_as_it_was_stored() {
    let db = TestDb::new().await;
    let tree = tempfile::tempdir().unwrap();
    let corpus = tree.path().join("corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    hostile_corpus(&corpus);
    snag_index(&db, &corpus, "hostile", &[]);
    snag_index(&db, &corpus, "hostile", &[]);
    assert!(reused(&db, "hostile").await > 10);
    let again = rows(&db, "hostile").await;
    snag_index(&db, &corpus, "fresh", &["--full"]);
    assert_same(&again, &rows(&db, "fresh").await);
}

/// An earlier run's error list, half of whose errors a later run replaced,
/// pages through the current errors and the replaced ones as one list, in
/// every order, from either end.
#[tokio::test(flavor = "multi_thread")]
async fn an_earlier_runs_errors_page_as_one_list() {
    use snag::store::{ErrorQuery, ErrorSort};
    let db = TestDb::new().await;
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path();
    let names: Vec<String> = (0..12).map(|i| format!("src/m{i:02}.ts")).collect();
    let files: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), BAD_PARAMS)).collect();
    write_files(root, &files);
    snag_index(&db, root, "paged", &[]);
    let earlier = latest(&db, "paged").await;
    let edited: Vec<(&str, &str)> = names
        .iter()
        .step_by(2)
        .map(|n| (n.as_str(), BAD_CLASS))
        .collect();
    write_files(root, &edited);
    snag_index(&db, root, "paged", &[]);
    let replaced: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM indexing_errors_history WHERE repository = 'paged' AND run_id = $1",
    )
    .bind(earlier)
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert_eq!(replaced, 6, "the edited files' errors were replaced");

    let mut ids: Vec<i64> = db
        .store
        .run_errors(earlier)
        .await
        .unwrap()
        .iter()
        .map(|e| e.error_id)
        .collect();
    ids.sort();
    assert_eq!(ids.len(), 12);
    for sort in [ErrorSort::Newest, ErrorSort::Path, ErrorSort::Type] {
        let query = ErrorQuery {
            repository: "paged".into(),
            run_id: Some(earlier),
            sort,
            ..Default::default()
        };
        let whole = db.store.list_errors(&query, 100, 0).await.unwrap();
        assert_eq!(whole.total, 12);
        let order: Vec<i64> = whole.errors.iter().map(|e| e.error_id).collect();
        let mut found = order.clone();
        found.sort();
        assert_eq!(found, ids, "{sort:?}: every error of the run, once");
        // One at a time: the first half from the start, the rest from the
        // end of the list, as the pages are read.
        for (offset, id) in order.iter().enumerate() {
            let page = db
                .store
                .list_errors(&query, 1, offset as i64)
                .await
                .unwrap();
            assert_eq!(page.errors.len(), 1);
            assert_eq!(page.errors[0].error_id, *id, "{sort:?} at {offset}");
        }
        let pages = db.store.list_errors(&query, 5, 5).await.unwrap();
        let five: Vec<i64> = pages.errors.iter().map(|e| e.error_id).collect();
        assert_eq!(five, order[5..10], "{sort:?}: a page across both tables");
    }
}
