//! The engine end to end against a real PostgreSQL: the hostile corpus, the
//! seed's own case, a panicking chunker, re-runs, cancellation and a
//! database that goes away mid-run.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use snag::index::chunk::{Chunk, ChunkError, chunk_file};
use snag::index::outcome::{ErrorType, Outcome};
use snag::index::process::FileReport;
use snag::index::progress::RunStatus;
use snag::runner::{self, RunError, RunRequest, RunSummary};
use snag::store::PageRequest;
use snag::store::files::FileRecord;
use support::{TestDb, count, hostile_corpus, many_files, snag};

async fn index(db: &TestDb, request: RunRequest) -> RunSummary {
    runner::start(db.store.clone(), request)
        .await
        .expect("start")
        .wait()
        .await
        .expect("run")
}

async fn errors_by_file(db: &TestDb, repository: &str) -> HashMap<String, Vec<ErrorType>> {
    let page = db
        .store
        .get_errors(repository, None, PageRequest::new(1000, 0).unwrap())
        .await
        .unwrap();
    let mut by_file: HashMap<String, Vec<ErrorType>> = HashMap::new();
    for e in page.errors {
        by_file.entry(e.file_path).or_default().push(e.error_type);
    }
    by_file
}

#[tokio::test]
async fn hostile_corpus_outcomes_match_expected() {
    let dir = tempfile::tempdir().unwrap();
    let expected = hostile_corpus(dir.path());
    let db = TestDb::new().await;
    let mut request = RunRequest::new(dir.path());
    request.repository = "hostile".into();
    let summary = index(&db, request).await;
    assert_eq!(summary.status, RunStatus::Completed);

    let files: HashMap<String, FileRecord> = db
        .store
        .list_files(summary.run_id, None)
        .await
        .unwrap()
        .into_iter()
        .map(|f| (f.file_path.clone(), f))
        .collect();
    assert_eq!(
        files.len() as u64,
        summary.files.total,
        "one outcome per discovered file"
    );
    let errors = errors_by_file(&db, "hostile").await;

    let mut matched = 0;
    for case in expected.as_array().unwrap() {
        let outcomes: Vec<&str> = case["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o.as_str().unwrap())
            .collect();
        let path = match (case.get("path"), case.get("path_regex")) {
            (Some(path), _) => path.as_str().unwrap().to_owned(),
            (None, Some(pattern)) => {
                let re = regex::Regex::new(pattern.as_str().unwrap()).unwrap();
                files
                    .keys()
                    .find(|p| re.is_match(p))
                    .cloned()
                    .unwrap_or_else(|| panic!("no file matches {re}"))
            }
            _ => panic!("case without a path: {case}"),
        };
        if outcomes == ["excluded"] {
            assert!(
                !files.contains_key(&path),
                "{path} should not be discovered"
            );
            continue;
        }
        let file = files
            .get(&path)
            .unwrap_or_else(|| panic!("{path} was not indexed"));
        assert!(
            outcomes.contains(&file.outcome.as_str()),
            "{path}: outcome {} not in {outcomes:?}",
            file.outcome
        );
        let recorded = errors.get(&path).cloned().unwrap_or_default();
        match case["error"].as_str() {
            None => assert!(
                recorded.is_empty(),
                "{path}: unexpected errors {recorded:?}"
            ),
            Some("*") => {}
            Some(wanted) => assert!(
                recorded.iter().any(|t| t.as_str() == wanted),
                "{path}: wanted {wanted}, recorded {recorded:?}"
            ),
        }
        matched += 1;
    }
    assert!(matched >= 25, "only {matched} cases checked");

    // Every error row carries its run, fingerprint and, for syntax errors, a location.
    let page = db
        .store
        .get_errors(
            "hostile",
            Some(ErrorType::ParsingError),
            PageRequest::default(),
        )
        .await
        .unwrap();
    for e in &page.errors {
        assert_eq!(e.run_id, Some(summary.run_id));
        assert!(e.fingerprint.is_some());
        assert!(e.line.is_some() && e.column.is_some(), "{e:?}");
        assert!(
            e.error_traceback
                .as_deref()
                .is_some_and(|t| t.contains('^'))
        );
        assert!(!e.details.sites.is_empty());
    }
    let missing_brace = page
        .errors
        .iter()
        .find(|e| e.file_path == "broken/missing-brace.ts")
        .unwrap();
    // `function bad( {` reads as a destructured parameter until `2`: the
    // reference parser puts the mistake there, and so does the error
    // (no single repair tree-sitter suggests makes the statement parse).
    assert_eq!(missing_brace.line, Some(4));
    assert!(
        missing_brace.details.sites.iter().any(|s| s.span.line == 3),
        "tree-sitter's own site stays visible: {:?}",
        missing_brace.details.sites
    );
}

#[tokio::test]
async fn seed_case_is_a_parsing_error_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("seed.ts"),
        "class Foo { invalid syntax )))))",
    )
    .unwrap();
    let db = TestDb::new().await;
    let summary = index(&db, RunRequest::new(dir.path())).await;
    let repository = summary.repository.clone();
    let page = db
        .store
        .get_errors(&repository, None, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    let error = &page.errors[0];
    assert_eq!(error.error_type, ErrorType::ParsingError);
    assert_eq!(error.file_path, "seed.ts");
    assert_eq!(error.line, Some(1));
    assert_eq!(error.language.as_deref(), Some("typescript"));
    assert!(
        error.error_message.starts_with("1:"),
        "{}",
        error.error_message
    );
}

fn explosive_chunker(tree: &tree_sitter::Tree, text: &str) -> Result<Vec<Chunk>, ChunkError> {
    if text.contains("detonate") {
        panic!("the chunker hit a bug");
    }
    chunk_file(tree, text)
}

#[tokio::test]
async fn a_panic_in_one_files_chunker_is_recorded_and_the_rest_succeed() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..20 {
        std::fs::write(
            dir.path().join(format!("ok{i}.ts")),
            format!("export function f{i}() {{ return {i}; }}\n"),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("bomb.ts"), "export const detonate = 1;\n").unwrap();
    let db = TestDb::new().await;
    let mut request = RunRequest::new(dir.path());
    request.settings.chunker = explosive_chunker;
    let summary = index(&db, request).await;
    assert_eq!(summary.status, RunStatus::Completed);
    assert_eq!((summary.files.indexed, summary.files.failed), (20, 1));
    let page = db
        .store
        .get_errors(&summary.repository, None, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    let error = &page.errors[0];
    assert_eq!(
        (error.file_path.as_str(), error.error_type),
        ("bomb.ts", ErrorType::UnexpectedError)
    );
    assert!(
        error.error_message.contains("the chunker hit a bug"),
        "{}",
        error.error_message
    );
    assert!(
        error
            .error_traceback
            .as_deref()
            .is_some_and(|t| !t.is_empty())
    );
}

#[tokio::test]
async fn rerunning_an_unchanged_repository_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    hostile_corpus(dir.path());
    let db = TestDb::new().await;
    let first = index(&db, RunRequest::new(dir.path())).await;
    let chunks = count(&db, "SELECT count(*) FROM code_chunks").await;
    let errors = count(&db, "SELECT count(*) FROM indexing_errors").await;
    assert!(chunks > 0 && errors > 0);
    let second = index(&db, RunRequest::new(dir.path())).await;
    assert_eq!(count(&db, "SELECT count(*) FROM code_chunks").await, chunks);
    assert_eq!(
        count(&db, "SELECT count(*) FROM indexing_errors").await,
        errors
    );
    assert_eq!(count(&db, "SELECT count(*) FROM index_runs").await, 2);
    // The same outcomes, the second time carried over for every file that
    // has a result to keep (all but the unreadable and the skipped).
    assert_eq!(first.files.reused, 0);
    assert!(
        second.files.reused >= second.files.indexed,
        "{:?}",
        second.files
    );
    let mut carried = second.files;
    carried.reused = 0;
    assert_eq!(first.files, carried);
    // Groups saw both runs.
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM error_groups WHERE first_seen_run <> last_seen_run"
        )
        .await,
        count(&db, "SELECT count(*) FROM error_groups").await
    );

    // A resolved group that shows up again is regressed.
    sqlx::query("UPDATE error_groups SET status = 'resolved'")
        .execute(db.store.pool())
        .await
        .unwrap();
    index(&db, RunRequest::new(dir.path())).await;
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM error_groups WHERE status = 'regressed'"
        )
        .await,
        count(&db, "SELECT count(*) FROM error_groups").await
    );

    // A file that is gone takes its chunks and errors with it.
    std::fs::remove_file(dir.path().join("broken/late-error.ts")).unwrap();
    index(&db, RunRequest::new(dir.path())).await;
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM code_chunks WHERE file_path = 'broken/late-error.ts'"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM indexing_errors WHERE file_path = 'broken/late-error.ts'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn cancelling_keeps_what_was_done_and_marks_the_run() {
    let dir = tempfile::tempdir().unwrap();
    many_files(dir.path(), 3_000);
    let db = TestDb::new().await;
    let mut request = RunRequest::new(dir.path());
    request.jobs = 1;
    let handle = runner::start(db.store.clone(), request).await.unwrap();
    while handle.progress.snapshot().done() < 20 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    handle.cancel();
    let run_id = handle.run_id;
    let summary = handle.wait().await.unwrap();
    assert_eq!(summary.status, RunStatus::Cancelled);
    assert!(
        summary.files.total >= 20 && summary.files.total < 3_000,
        "{:?}",
        summary.files
    );
    let run = db.store.get_run(run_id).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Cancelled);
    assert_eq!(run.files_total as u64, summary.files.total);
    assert_eq!(
        count(
            &db,
            &format!("SELECT count(*) FROM indexed_files WHERE run_id = {run_id}")
        )
        .await as u64,
        summary.files.total
    );
}

#[tokio::test]
async fn another_process_follows_a_run_from_its_row() {
    let dir = tempfile::tempdir().unwrap();
    many_files(dir.path(), 300);
    let db = TestDb::new().await;
    let observer = db.another_store().await;
    // Holds the run's first batch back, so the run is seen between the end
    // of its discovery and its first stored file, however fast it goes.
    let mut gate = db.store.pool().begin().await.unwrap();
    sqlx::query("LOCK TABLE indexed_files IN SHARE MODE")
        .execute(&mut *gate)
        .await
        .unwrap();
    let mut request = RunRequest::new(dir.path());
    request.jobs = 2;
    let handle = runner::start(db.store.clone(), request).await.unwrap();
    let run_id = handle.run_id;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let discovered = loop {
        let run = observer.get_run(run_id).await.unwrap().unwrap();
        if run.files_discovered.is_some() {
            break run;
        }
        assert!(tokio::time::Instant::now() < deadline, "no total: {run:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(discovered.status, RunStatus::Running);
    assert_eq!(discovered.files_discovered, Some(300));
    assert_eq!(discovered.files_total, 0);
    let figures = discovered.figures(chrono::Utc::now());
    assert_eq!((figures.done, figures.total), (0, Some(300)));
    assert_eq!(figures.fraction(), Some(0.0));
    assert_eq!(figures.eta(), None, "no rate before a file is done");
    gate.rollback().await.unwrap();

    let summary = handle.wait().await.unwrap();
    let run = observer.get_run(run_id).await.unwrap().unwrap();
    assert_eq!(run.files_discovered, Some(300));
    let figures = run.figures(chrono::Utc::now());
    assert_eq!(figures.status, RunStatus::Completed);
    assert_eq!((figures.done, figures.total), (300, Some(300)));
    let f = &summary.files;
    assert_eq!(
        (
            figures.indexed,
            figures.partial,
            figures.failed,
            figures.skipped
        ),
        (f.indexed, f.partial, f.failed, f.skipped)
    );
    assert_eq!(figures.chunks, summary.chunks);
    assert_eq!(figures.errors, summary.errors_by_type.values().sum::<u64>());
    assert_eq!(figures.fraction(), Some(1.0));
    assert_eq!(figures.eta(), None);
    assert!(figures.elapsed > Duration::ZERO);
    observer.close().await;
}

#[tokio::test]
async fn a_database_that_goes_away_stops_the_run_and_keeps_what_was_stored() {
    let dir = tempfile::tempdir().unwrap();
    many_files(dir.path(), 3_000);
    let db = TestDb::new().await;
    let admin = TestDb::new().await;
    let mut request = RunRequest::new(dir.path());
    request.jobs = 1;
    let handle = runner::start(db.store.clone(), request).await.unwrap();
    let run_id = handle.run_id;
    while handle.progress.snapshot().done() < 50 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // No new connections, and the existing ones are cut.
    let name = &db.name;
    sqlx::query(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        .execute(admin.store.pool())
        .await
        .unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
        .bind(name)
        .execute(admin.store.pool())
        .await
        .unwrap();
    // The database comes back a moment later, while the run is ending.
    let reopen = {
        let pool = admin.store.pool().clone();
        let name = name.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(700)).await;
            sqlx::query(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
                .execute(&pool)
                .await
                .unwrap();
        })
    };
    let result = handle.wait().await;
    reopen.await.unwrap();
    let Err(RunError::DatabaseLost { stored, .. }) = result else {
        panic!("expected the run to stop: {result:?}")
    };
    assert!(stored >= 50, "{stored}");
    let kept = count(
        &db,
        &format!("SELECT count(*) FROM indexed_files WHERE run_id = {run_id}"),
    )
    .await;
    assert!(
        kept as u64 >= stored && kept < 3_000,
        "kept {kept}, stored {stored}"
    );
    let run = db.store.get_run(run_id).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    assert!(
        run.status_message
            .unwrap_or_default()
            .contains("database went away")
    );
}

#[tokio::test]
async fn headless_binary_prints_the_json_document_and_sets_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    hostile_corpus(dir.path());
    let db = TestDb::new().await;
    let out = snag()
        .args(["--database-url", &db.url(), "--index"])
        .arg(dir.path())
        .args(["--repo", "web", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "run_id",
        "repository",
        "root",
        "status",
        "files",
        "errors_by_type",
        "chunks",
        "duration_ms",
        "files_per_sec",
        "mb_per_sec",
    ] {
        assert!(doc.get(key).is_some(), "missing {key} in {doc}");
    }
    assert_eq!(doc["repository"], "web");
    assert_eq!(doc["status"], "completed");
    for key in ["total", "indexed", "partial", "failed", "skipped"] {
        assert!(doc["files"][key].is_u64(), "files.{key}");
    }
    assert!(doc["errors_by_type"]["parsing_error"].as_u64().unwrap() >= 4);

    // Thresholds: the corpus has failures, so a zero tolerance exits 1.
    let out = snag()
        .args(["--database-url", &db.url(), "index"])
        .arg(dir.path())
        .args(["--repo", "web", "--max-failure-rate", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--max-failure-rate"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("top error groups") && text.contains("broken/"),
        "{text}"
    );
    let out = snag()
        .args(["--database-url", &db.url(), "index"])
        .arg(dir.path())
        .args(["--max-errors", "1000", "--max-failure-rate", "90%"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));

    // Per-file outcomes.
    let out = snag()
        .args([
            "--database-url",
            &db.url(),
            "files",
            "web",
            "--outcome",
            "partial",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = body["files"].as_array().unwrap();
    assert!(!files.is_empty());
    for file in files {
        assert_eq!(file["outcome"], "partial");
        for key in [
            "file_path",
            "outcome",
            "skip_reason",
            "language",
            "chunks",
            "error_type",
        ] {
            assert!(file.get(key).is_some(), "missing {key}");
        }
    }

    // Usage trouble exits 2 with one line.
    let out = snag()
        .args(["--database-url", &db.url(), "index", "/nonexistent/dir"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a directory"));
    let out = snag()
        .args(["--database-url", &db.url(), "files", "nobody"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn outcomes_of_valid_files_are_never_failures() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        (
            "barrel.ts",
            "export * from './a';\nexport { b } from './b';\n",
        ),
        ("enum.ts", "export enum Color { Red, Green }\n"),
        (
            "types.ts",
            "export type Id = string;\nexport interface User { id: Id }\n",
        ),
        ("config.js", "module.exports = { mode: 'production' };\n"),
        ("a.test.ts", "test('x', () => {});\n"),
    ] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let db = TestDb::new().await;
    let mut request = RunRequest::new(dir.path());
    request.discovery.include_tests = true;
    let summary = index(&db, request).await;
    assert_eq!(summary.files.total, 5);
    assert_eq!(summary.files.indexed, 5, "{:?}", summary.files);
    let files = db
        .store
        .list_files(summary.run_id, Some(Outcome::Indexed))
        .await
        .unwrap();
    assert!(files.iter().all(|f| f.chunks > 0), "{files:?}");
}

#[tokio::test]
async fn chunk_text_is_stored_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let source = "export function tricky(a: string): string {\r\n\treturn a.replace(/\\\\n/g, '\\t') + `\\\\` + 'こんにちは 😀';\r\n}\n";
    std::fs::write(dir.path().join("tricky.ts"), source).unwrap();
    let db = TestDb::new().await;
    let summary = index(&db, RunRequest::new(dir.path())).await;
    assert_eq!(summary.files.indexed, 1);
    let (name, stored, start, end): (String, String, i32, i32) = sqlx::query_as(
        "SELECT name, source_code, start_line, end_line FROM code_chunks WHERE chunk_type = 'function'",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert_eq!(name, "tricky");
    assert_eq!(stored, source.trim_end_matches('\n'));
    assert_eq!((start, end), (1, 3));
    let metadata: serde_json::Value =
        sqlx::query_scalar("SELECT metadata FROM code_chunks WHERE name = 'tricky'")
            .fetch_one(db.store.pool())
            .await
            .unwrap();
    assert_eq!(metadata["qualified_name"], "tricky");
    assert!(
        metadata["calls"]
            .as_array()
            .is_some_and(|c| c.iter().any(|x| x == "a.replace")),
        "{metadata}"
    );
}

#[tokio::test]
async fn nul_in_chunk_text_and_metadata_is_stored_visibly() {
    // tree-sitter stops at a NUL, so chunks with one are built by hand.
    let db = TestDb::new().await;
    let lease = db.store.start_run(new_run("repo")).await.unwrap();
    let run_id = lease.run_id;
    let text = "export function odd() { return run(\"a-b\"); }";
    let mut chunks = chunk_file(&parse_ts(text), text).unwrap();
    for chunk in &mut chunks {
        chunk.source = chunk.source.replace('-', "\0");
        chunk.name.push('\0');
        chunk.metadata.imports.push(snag::index::chunk::ImportRef {
            name: "run".into(),
            source: "./mod\0ule".into(),
        });
    }
    let report = FileReport {
        rel_path: "src/odd\0.ts".into(),
        language: Some(snag::index::language::Language::TypeScript),
        outcome: Outcome::Indexed,
        skip_reason: None,
        bytes: text.len() as u64,
        chunks,
        source_key: None,
        result_key: None,
        reused: None,
        errors: Vec::new(),
        health: None,
        duration: Duration::ZERO,
    };
    db.store
        .write_reports(run_id, "repo", &[&report])
        .await
        .unwrap();
    let (path, name, stored, metadata): (String, String, String, serde_json::Value) =
        sqlx::query_as(
            "SELECT file_path, name, source_code, metadata FROM code_chunks WHERE chunk_type = 'function'",
        )
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(path, "src/odd\u{2400}.ts");
    assert_eq!(name, "odd\u{2400}");
    assert_eq!(
        stored,
        "export function odd() { return run(\"a\u{2400}b\"); }"
    );
    assert_eq!(metadata["imports"][0]["source"], "./mod\u{2400}ule");
    assert_eq!(metadata["calls"][0], "run");
}

fn parse_ts(text: &str) -> tree_sitter::Tree {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(
            snag::index::grammar::Grammars::built_in()
                .language(snag::index::language::Language::TypeScript),
        )
        .unwrap();
    parser.parse(text, None).unwrap()
}

#[tokio::test]
async fn a_rerun_leaves_unchanged_files_chunks_in_place_and_replaces_edited_ones() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("same.ts"),
        "export function kept() { return 1; }\nexport class Box { open() {} }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("edited.ts"),
        "export function before() { return 1; }\n",
    )
    .unwrap();
    let db = TestDb::new().await;
    let ids = |file: &'static str| {
        let pool = db.store.pool().clone();
        async move {
            sqlx::query_as::<_, (i64, String)>(
                "SELECT chunk_id, name FROM code_chunks WHERE file_path = $1 ORDER BY chunk_id",
            )
            .bind(file)
            .fetch_all(&pool)
            .await
            .unwrap()
        }
    };
    let first = index(&db, RunRequest::new(dir.path())).await;
    let same = ids("same.ts").await;
    assert!(same.len() >= 3, "{same:?}");

    std::fs::write(
        dir.path().join("edited.ts"),
        "export function after() { return 2; }\nexport function more() {}\n",
    )
    .unwrap();
    let second = index(&db, RunRequest::new(dir.path())).await;
    assert_eq!(
        ids("same.ts").await,
        same,
        "unchanged chunks are not rewritten"
    );
    let edited: Vec<String> = ids("edited.ts").await.into_iter().map(|(_, n)| n).collect();
    assert!(
        edited.contains(&"after".to_owned()) && edited.contains(&"more".to_owned()),
        "{edited:?}"
    );
    assert!(!edited.contains(&"before".to_owned()), "{edited:?}");
    // Every run still accounts for every chunk of its files.
    assert_eq!(second.chunks, first.chunks + 1);
    assert_eq!(
        count(&db, "SELECT count(*) FROM code_chunks").await as u64,
        second.chunks
    );

    // Chunks whose key does not match (written by an older snag, whose
    // outcome rows have no result key either) are rewritten.
    for sql in [
        "UPDATE code_chunks SET source_key = NULL WHERE file_path = 'same.ts'",
        "UPDATE indexed_files SET result_key = NULL WHERE file_path = 'same.ts'",
    ] {
        sqlx::query(sql).execute(db.store.pool()).await.unwrap();
    }
    index(&db, RunRequest::new(dir.path())).await;
    let rewritten = ids("same.ts").await;
    assert_eq!(rewritten.len(), same.len());
    assert_ne!(rewritten, same);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM code_chunks WHERE source_key IS NULL"
        )
        .await,
        0
    );
}

fn new_run(repository: &str) -> snag::store::runs::NewRun<'_> {
    snag::store::runs::NewRun {
        repository,
        root: "/repo",
        options: serde_json::json!({}),
        grammar_versions: serde_json::json!({}),
    }
}

async fn run_status(db: &TestDb, run_id: i64) -> (String, Option<String>) {
    sqlx::query_as("SELECT status, status_message FROM index_runs WHERE run_id = $1")
        .bind(run_id)
        .fetch_one(db.store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_run_whose_snag_is_gone_is_marked_failed_and_a_live_one_is_not() {
    let db = TestDb::new().await;
    let live = db.store.start_run(new_run("live")).await.unwrap();
    let gone = db.store.start_run(new_run("gone")).await.unwrap();
    let gone_id = gone.run_id;
    // Its connection ends as a killed process's would.
    drop(gone);
    // The server notices the closed connection a moment later.
    let mut reaped = 0;
    for _ in 0..50 {
        reaped += db.store.fail_abandoned_runs().await.unwrap();
        if reaped > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(reaped, 1);
    let (status, message) = run_status(&db, gone_id).await;
    assert_eq!(status, "failed");
    assert!(message.unwrap().starts_with("abandoned"));
    assert_eq!(run_status(&db, live.run_id).await.0, "running");
    live.release().await;
}

#[tokio::test]
async fn a_killed_headless_run_is_failed_by_the_next_snag() {
    let dir = tempfile::tempdir().unwrap();
    many_files(dir.path(), 3000);
    let db = TestDb::new().await;
    let mut child = snag()
        .args(["index", "--jobs", "1", "--format", "json"])
        .arg(dir.path())
        .env("DATABASE_URL", db.url())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until it has stored something, then kill it mid-run.
    let mut stored = 0;
    for _ in 0..600 {
        stored = count(&db, "SELECT count(*) FROM indexed_files").await;
        if stored > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(stored > 0, "the run stored nothing before it was killed");
    let run_id: i64 = sqlx::query_scalar("SELECT run_id FROM index_runs")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    // Read without opening a store, which would already mark it.
    let (status, _) = run_status(&db, run_id).await;
    assert_eq!(status, "running", "killed before it finished");

    // The next snag to open the database says what happened to it.
    let output = snag()
        .args(["summary", "any", "--format", "json"])
        .env("DATABASE_URL", db.url())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(run_status(&db, run_id).await.0, "failed");
    assert!(count(&db, "SELECT count(*) FROM indexed_files").await >= stored);
    // Its counts are what it stored, not zeros.
    let run = db.store.get_run(run_id).await.unwrap().unwrap();
    let files = count(
        &db,
        &format!("SELECT count(*) FROM indexed_files WHERE run_id = {run_id}"),
    )
    .await;
    let chunks = count(
        &db,
        &format!(
            "SELECT COALESCE(sum(chunks), 0)::bigint FROM indexed_files WHERE run_id = {run_id}"
        ),
    )
    .await;
    assert!(files > 0);
    assert_eq!(
        (
            i64::from(run.files_total),
            i64::from(run.files_indexed),
            run.chunks_total
        ),
        (files, files, chunks)
    );

    // Its repository is free again: the lock went with its connection.
    let again = snag()
        .args(["index", "--jobs", "2", "--format", "json"])
        .arg(dir.path())
        .env("DATABASE_URL", db.url())
        .output()
        .unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}
