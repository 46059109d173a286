//! Several snag processes on one PostgreSQL, as when CI jobs and a shared
//! `snag serve` point at one server: one run per repository at a time,
//! whoever starts it, and writers of different repositories that never
//! deadlock, lose or duplicate a row.

mod support;

use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

use snag::api::{self, AllowedRoots, ApiConfig, Jobs, Limits};
use support::{TestDb, count, free_address, hostile_corpus, http_get, many_files, snag};

/// A repository with every kind of outcome: the hostile corpus, thousands
/// of valid files (so a run lasts a few seconds) and some broken ones.
fn corpus(dir: &Path) {
    hostile_corpus(dir);
    many_files(&dir.join("generated"), 2_000);
    let broken = dir.join("broken-many");
    std::fs::create_dir_all(&broken).unwrap();
    for i in 0..200 {
        let text =
            format!("export function ok{i}() {{ return {i}; }}\nexport function bad{i}( {{\n");
        std::fs::write(broken.join(format!("b{i}.ts")), text).unwrap();
    }
}

fn index(db: &TestDb, dir: &Path, repository: &str, extra: &[&str]) -> Child {
    snag()
        .args([
            "index", "--jobs", "1", "--format", "json", "--repo", repository,
        ])
        .args(extra)
        .arg(dir)
        .env("DATABASE_URL", db.url())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

async fn finish(child: Child) -> Output {
    tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn run_id(output: &Output) -> i64 {
    let summary: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {output:?}"));
    summary["run_id"].as_i64().unwrap()
}

/// Waits until a run of `repository` is `running` and returns its id.
async fn running(db: &TestDb, repository: &str) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT run_id FROM index_runs WHERE repository = $1 AND status = 'running'",
        )
        .bind(repository)
        .fetch_optional(db.store.pool())
        .await
        .unwrap();
        if let Some(id) = id {
            return id;
        }
        assert!(Instant::now() < deadline, "no run of {repository} started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The repository's stored rows are exactly those of its last run: no
/// chunk, error or file row twice, none missing.
async fn assert_exactly_one_run_stored(db: &TestDb, repository: &str) {
    let (run_id, files, chunks, errors): (i64, i32, i64, i32) = sqlx::query_as(
        "SELECT run_id, files_total, chunks_total, errors_total FROM index_runs \
         WHERE repository = $1 AND status = 'completed' ORDER BY run_id DESC LIMIT 1",
    )
    .bind(repository)
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    let stored = |sql: &str| {
        let sql = sql.replace("$R", &format!("'{repository}'"));
        async move { count(db, &sql).await }
    };
    assert!(
        files > 2_000 && errors > 200,
        "{files} files, {errors} errors"
    );
    assert_eq!(
        stored(&format!("SELECT count(*) FROM run_files({run_id})")).await,
        i64::from(files)
    );
    assert_eq!(
        stored("SELECT count(*) FROM indexed_files WHERE repository = $R AND until_run IS NULL")
            .await,
        i64::from(files),
        "one current result per file of {repository}"
    );
    assert_eq!(
        stored("SELECT count(*) FROM code_chunks WHERE repository = $R").await,
        chunks,
        "chunk rows of {repository}"
    );
    assert_eq!(
        stored("SELECT count(*) FROM indexing_errors WHERE repository = $R").await,
        i64::from(errors),
        "error rows of {repository}"
    );
    assert_eq!(
        stored(
            "SELECT count(*) FROM (SELECT 1 FROM indexing_errors WHERE repository = $R \
             GROUP BY file_path, error_type HAVING count(*) > 1) twice"
        )
        .await,
        0,
        "an error stored twice in {repository}"
    );
    assert_eq!(
        stored(
            "SELECT count(*) FROM indexing_errors WHERE repository = $R \
             AND error_type = 'persistence_error'"
        )
        .await,
        0,
        "a write failed in {repository}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_processes_never_run_one_repository_at_once() {
    let dir = tempfile::tempdir().unwrap();
    corpus(dir.path());
    let db = TestDb::new().await;

    // Started together: one runs, the other is refused and says by whom.
    let (a, b) = (
        index(&db, dir.path(), "shared", &[]),
        index(&db, dir.path(), "shared", &[]),
    );
    let (a, b) = (finish(a).await, finish(b).await);
    let (ran, refused) = if a.status.success() { (a, b) } else { (b, a) };
    assert!(ran.status.success(), "{}", stderr(&ran));
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let winner = run_id(&ran);
    let said = stderr(&refused);
    assert!(
        said.contains(&format!(
            "repository `shared` is being indexed by run {winner}, started "
        )) && said.contains(" by pid ")
            && said.contains("--wait"),
        "{said}"
    );
    assert_eq!(said.lines().count(), 1, "{said}");
    assert_eq!(
        count(&db, "SELECT count(*) FROM index_runs").await,
        1,
        "the refused run left no row"
    );

    // With --wait, the second starts once the first has ended.
    let first = index(&db, dir.path(), "shared", &[]);
    let first_id = running(&db, "shared").await;
    let waiting = index(&db, dir.path(), "shared", &["--wait"]);
    let (first, waited) = (finish(first).await, finish(waiting).await);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(waited.status.success(), "{}", stderr(&waited));
    assert!(
        stderr(&waited).contains(&format!("is being indexed by run {first_id}"))
            && stderr(&waited).contains("waiting for it to end"),
        "{}",
        stderr(&waited)
    );
    let after: bool = sqlx::query_scalar(
        "SELECT b.started_at >= a.finished_at FROM index_runs a, index_runs b \
         WHERE a.run_id = $1 AND b.run_id = $2",
    )
    .bind(first_id)
    .bind(run_id(&waited))
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert!(after, "the waiting run started before the first one ended");
    assert_exactly_one_run_stored(&db, "shared").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_refuses_a_run_another_process_is_doing() {
    let dir = tempfile::tempdir().unwrap();
    corpus(dir.path());
    let db = TestDb::new().await;
    let headless = index(&db, dir.path(), "shared", &[]);
    let run_id = running(&db, "shared").await;

    let config = ApiConfig {
        token: None,
        roots: AllowedRoots::new(&[dir.path().to_path_buf()]).unwrap(),
        limits: Limits::default(),
        allowed_hosts: Vec::new(),
        address: None,
        health: Default::default(),
    };
    let app = api::router(db.store.clone(), Jobs::default(), config);
    let body = serde_json::json!({
        "repository": "shared",
        "directory": dir.path().display().to_string(),
    });
    let request = Request::post("/api/v1/indexing/batch/start")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let detail = answer["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("is being indexed by run {run_id}, started ")),
        "{detail}"
    );

    assert!(finish(headless).await.status.success());
    assert_exactly_one_run_stored(&db, "shared").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn four_writers_and_a_server_share_one_database() {
    let dir = tempfile::tempdir().unwrap();
    corpus(dir.path());
    let db = TestDb::new().await;
    let address = free_address();
    let mut server = snag()
        .args(["serve", "--bind", &address.to_string(), "--allow-root"])
        .arg(dir.path())
        .env("DATABASE_URL", db.url())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    support::wait_for_listener(address, Duration::from_secs(60));

    let repositories = ["w1", "w2", "w3", "w4"];
    let writers: Vec<Child> = repositories
        .iter()
        .map(|name| index(&db, dir.path(), name, &[]))
        .collect();
    // Lists asked for as long as the four write.
    let writing = Arc::new(AtomicBool::new(true));
    let still_writing = Arc::clone(&writing);
    let reader = tokio::task::spawn_blocking(move || {
        let mut answers = Vec::new();
        while answers.is_empty() || still_writing.load(Ordering::Relaxed) {
            for name in ["w1", "w2", "w3", "w4"] {
                for path in [
                    format!("/api/v1/indexing/batch/errors/{name}?limit=50"),
                    format!("/api/v1/indexing/batch/errors/{name}/summary"),
                    format!("/api/v1/repositories/{name}/groups"),
                    "/api/v1/runs".to_owned(),
                ] {
                    answers.push((path.clone(), http_get(address, &path).0));
                }
            }
        }
        answers
    });
    let mut outputs = Vec::new();
    for writer in writers {
        outputs.push(finish(writer).await);
    }
    writing.store(false, Ordering::Relaxed);
    let answers = reader.await.unwrap();
    let _ = server.kill();
    let _ = server.wait();

    for output in &outputs {
        assert!(output.status.success(), "{}", stderr(output));
    }
    assert!(answers.len() > 16, "{} requests answered", answers.len());
    let failed: Vec<_> = answers.iter().filter(|(_, code)| *code != 200).collect();
    assert!(failed.is_empty(), "{failed:?}");

    // The same files give the same rows in every repository.
    let mut totals = Vec::new();
    for name in repositories {
        assert_exactly_one_run_stored(&db, name).await;
        let row: (i32, i32, i32, i64, i32) = sqlx::query_as(
            "SELECT files_total, files_failed, files_partial, chunks_total, errors_total \
             FROM index_runs WHERE repository = $1",
        )
        .bind(name)
        .fetch_one(db.store.pool())
        .await
        .unwrap();
        totals.push(row);
    }
    assert!(totals.windows(2).all(|w| w[0] == w[1]), "{totals:?}");
}
