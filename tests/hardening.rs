//! Faults and hostile input found by probing snag as an attacker and as an
//! unlucky user would, each through a real run on a real PostgreSQL: file
//! names that used to collide, rows the database refuses, files swapped
//! after discovery, line breaks other than LF, abandoned runs' counts, a
//! database that dies mid-run, UTF-16 without a byte order mark.

mod support;

use std::path::Path;

use snag::index::outcome::ErrorType;
use snag::index::progress::RunStatus;
use snag::runner::{self, RunError, RunRequest, RunSummary};
use sqlx::Connection;
use support::{TestDb, count, many_files};

async fn index(db: &TestDb, dir: &Path) -> RunSummary {
    let mut request = RunRequest::new(dir);
    request.repository = "repo".into();
    runner::start(db.store.clone(), request)
        .await
        .expect("start")
        .wait()
        .await
        .expect("run")
}

async fn outcome_of(db: &TestDb, run_id: i64, path: &str) -> Option<(String, Option<String>)> {
    sqlx::query_as(
        "SELECT outcome, error_type FROM indexed_files WHERE run_id = $1 AND file_path = $2",
    )
    .bind(run_id)
    .bind(path)
    .fetch_optional(db.store.pool())
    .await
    .unwrap()
}

#[cfg(unix)]
#[tokio::test]
async fn names_that_once_collided_are_three_files_and_the_drill_down_opens_each() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    many_files(dir.path(), 3_000);
    let byte_name = std::ffi::OsStr::from_bytes(b"n_\xff.ts");
    // Each broken, so each has an error to open in the drill-down.
    std::fs::write(dir.path().join(byte_name), "const byte = ;\n").unwrap();
    std::fs::write(dir.path().join("n_\\xff.ts"), "const spelled = ;\n").unwrap();
    std::fs::write(dir.path().join("n_%FF.ts"), "const percent = ;\n").unwrap();
    let db = TestDb::new().await;
    let summary = index(&db, dir.path()).await;
    assert_eq!(summary.status, RunStatus::Completed);
    assert_eq!(summary.files.total, 3_003);
    assert_eq!(summary.files.partial + summary.files.failed, 3);
    for stored in ["n_%FF.ts", "n_\\xff.ts", "n_%25FF.ts"] {
        let (outcome, error) = outcome_of(&db, summary.run_id, stored)
            .await
            .unwrap_or_else(|| panic!("{stored} stored"));
        assert_ne!(outcome, "indexed", "{stored}");
        assert_eq!(error.as_deref(), Some("parsing_error"), "{stored}");
    }
    let errors = db.store.run_errors(summary.run_id).await.unwrap();
    for (stored, text) in [
        ("n_%FF.ts", "const byte = ;"),
        ("n_\\xff.ts", "const spelled = ;"),
        ("n_%25FF.ts", "const percent = ;"),
    ] {
        let error = errors.iter().find(|e| e.file_path == stored).unwrap();
        let file = snag::tui::loader::load_file(Some(dir.path()), error, None);
        assert_eq!(file.notice, None, "{stored}");
        assert_eq!(file.lines, [text], "{stored}");
    }
    assert_eq!(
        snag::sanitize::path("n_%FF.ts"),
        "n_\\xFF.ts",
        "shown with the byte spelled out"
    );
}

/// Makes the database refuse `table` rows of one path, as a constraint or a
/// full tablespace would.
async fn refuse(db: &TestDb, table: &str, path: &str) {
    sqlx::raw_sql(&format!(
        "CREATE FUNCTION refuse_row() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN RAISE EXCEPTION 'refused by a check' USING ERRCODE = 'check_violation'; END $$; \
         CREATE TRIGGER refuse_row BEFORE INSERT ON {table} FOR EACH ROW \
         WHEN (NEW.file_path = '{path}') EXECUTE FUNCTION refuse_row();"
    ))
    .execute(db.store.pool())
    .await
    .unwrap();
}

#[tokio::test]
async fn a_row_the_database_refuses_costs_only_its_file_a_persistence_error() {
    let dir = tempfile::tempdir().unwrap();
    many_files(dir.path(), 1_200);
    std::fs::write(
        dir.path().join("poison.ts"),
        "export function f() { return 1; }\n",
    )
    .unwrap();
    let db = TestDb::new().await;
    refuse(&db, "code_chunks", "poison.ts").await;
    let summary = index(&db, dir.path()).await;
    assert_eq!(summary.status, RunStatus::Completed);
    assert_eq!(summary.files.total, 1_201);
    assert_eq!(summary.files.indexed, 1_200);
    assert_eq!(
        outcome_of(&db, summary.run_id, "poison.ts").await,
        Some(("failed".into(), Some("persistence_error".into())))
    );
    let errors = db.store.run_errors(summary.run_id).await.unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].error_type, ErrorType::PersistenceError);
    assert!(
        errors[0].error_message.contains("refused by a check"),
        "{}",
        errors[0].error_message
    );
}

#[tokio::test]
async fn a_file_whose_failure_cannot_be_stored_stops_the_run_saying_which() {
    let dir = tempfile::tempdir().unwrap();
    many_files(dir.path(), 1_200);
    std::fs::write(dir.path().join("zz-poison.ts"), "export const z = 1;\n").unwrap();
    let db = TestDb::new().await;
    refuse(&db, "indexed_files", "zz-poison.ts").await;
    let mut request = RunRequest::new(dir.path());
    request.repository = "repo".into();
    let handle = runner::start(db.store.clone(), request).await.unwrap();
    let run_id = handle.run_id;
    let result = handle.wait().await;
    let Err(error @ RunError::Unstorable { .. }) = result else {
        panic!("expected the run to stop: {result:?}")
    };
    let said = error.to_string();
    assert!(
        said.contains("refuses to store even a failure for zz-poison.ts")
            && said.contains("refused by a check"),
        "{said}"
    );
    let run = db.store.get_run(run_id).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    assert!(
        run.status_message
            .unwrap_or_default()
            .contains("zz-poison.ts"),
        "the run says which file"
    );
    // What came before it is kept.
    let kept = count(
        &db,
        &format!("SELECT count(*) FROM indexed_files WHERE run_id = {run_id}"),
    )
    .await;
    assert!(kept >= 1_000, "{kept}");
    assert_eq!(
        i64::from(run.files_total),
        kept,
        "the run's counts are what was stored"
    );
}

#[tokio::test]
async fn a_run_whose_database_dies_stops_within_seconds_with_one_clear_line() {
    use std::os::unix::fs::PermissionsExt;
    use std::time::{Duration, Instant};
    // A cluster of this test's own, to kill.
    let base = tempfile::tempdir().unwrap();
    std::fs::set_permissions(base.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data_dir = base.path().join("data");
    let corpus = tempfile::tempdir().unwrap();
    many_files(corpus.path(), 3_000);
    let child = support::snag()
        .env("SNAG_DATA_DIR", &data_dir)
        .args(["index", "--jobs", "1", "--repo", "doomed"])
        .arg(corpus.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let cluster = snag::store::cluster::LocalCluster::default_for_user(&data_dir);
    let options = cluster.connect_options(snag::store::cluster::CLUSTER_DATABASE);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let stored: Option<i64> = async {
            let mut conn = sqlx::PgConnection::connect_with(&options).await.ok()?;
            sqlx::query_scalar("SELECT count(*) FROM indexed_files")
                .fetch_one(&mut conn)
                .await
                .ok()
        }
        .await;
        if stored.is_some_and(|n| n > 0) {
            break;
        }
        assert!(Instant::now() < deadline, "the run never stored a file");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The server dies at once, as a crash or `pg_ctl stop -m immediate` does.
    let pid_file = data_dir.join("postgres/data/postmaster.pid");
    let pid: i32 = std::fs::read_to_string(pid_file)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let killed = Instant::now();
    // SAFETY: signalling a process by pid.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGQUIT) }, 0);
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let took = killed.elapsed();
    eprintln!("stopped {took:?} after the server died");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        took < Duration::from_secs(5),
        "took {took:?} to stop: {stderr}"
    );
    let said: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.contains(" done in ") && !l.starts_with("snag: discovering files"))
        .collect();
    assert_eq!(said.len(), 1, "{stderr}");
    assert!(
        said[0].starts_with("snag: the database went away during run ")
            && said[0].contains("files were stored before that and are kept"),
        "{stderr}"
    );
    cluster.stop().ok();
}

#[tokio::test]
async fn lines_end_where_typescript_ends_them_in_every_stored_and_shown_line() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("lf.ts", "const a=1;\nconst b=;\n"),
        ("cr.ts", "const a=1;\rconst b=;\r"),
        ("crlf.ts", "const a=1;\r\nconst b=;\r\n"),
        ("ls.ts", "const a=1;\u{2028}const b=;\u{2028}"),
        ("ps.ts", "const a=1;\u{2029}const b=;\u{2029}"),
        (
            "chunks.ts",
            "export function a() { return 1; }\rexport function b() {\r  return 2;\r}\r",
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let db = TestDb::new().await;
    let summary = index(&db, dir.path()).await;
    let errors = db.store.run_errors(summary.run_id).await.unwrap();
    let lf = errors.iter().find(|e| e.file_path == "lf.ts").unwrap();
    assert_eq!(lf.line, Some(2), "{}", lf.error_message);
    for name in ["cr.ts", "crlf.ts", "ls.ts", "ps.ts"] {
        let error = errors
            .iter()
            .find(|e| e.file_path == name)
            .unwrap_or_else(|| panic!("{name} has its syntax error"));
        // tree-sitter may flag another token of the line than with LF (`=`
        // rather than `;`); its column counts from the line's start all the
        // same.
        assert_eq!(error.line, Some(2), "{name}: {}", error.error_message);
        let column = error.column.unwrap_or_default();
        assert!(
            (8..=9).contains(&column) && error.error_message.starts_with(&format!("2:{column} ")),
            "{name}: {}",
            error.error_message
        );
        assert!(
            error
                .error_traceback
                .as_deref()
                .is_some_and(|t| t.contains("2 | const b=;")),
            "{name}: the excerpt is the line itself: {:?}",
            error.error_traceback
        );
        let file = snag::tui::loader::load_file(Some(dir.path()), error, None);
        assert_eq!(file.lines, ["const a=1;", "const b=;"], "{name}");
    }
    let chunks: Vec<(String, i32, i32)> = sqlx::query_as(
        "SELECT name, start_line, end_line FROM code_chunks \
         WHERE file_path = 'chunks.ts' AND chunk_type = 'function' ORDER BY start_line",
    )
    .fetch_all(db.store.pool())
    .await
    .unwrap();
    assert_eq!(
        chunks,
        [("a".to_owned(), 1, 1), ("b".to_owned(), 2, 4)],
        "chunk lines count CR"
    );
}

/// Processes `name` as if discovery had found it a regular file a moment
/// before it was replaced by what `swap` puts there, on a thread of its own
/// so that a hang fails the test instead of stalling it.
fn process_swapped(swap: impl FnOnce(&Path)) -> snag::index::process::FileReport {
    use snag::index::discover::SourceFile;
    use snag::index::language::{FileKind, Language};
    use snag::index::process::{FileProcessor, ProcessSettings};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("swapped.ts");
    std::fs::write(&path, "export const a = 1;\n").unwrap();
    let file = SourceFile {
        path: path.clone(),
        rel_path: "swapped.ts".into(),
        kind: FileKind::Script(Language::TypeScript),
    };
    std::fs::remove_file(&path).unwrap();
    swap(&path);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let settings = ProcessSettings {
            max_file_size: 1 << 20,
            ..Default::default()
        };
        let _ = tx.send(FileProcessor::new(settings).process(&file));
    });
    let report = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("reading a swapped file must not hang");
    drop(dir);
    report
}

#[cfg(unix)]
#[test]
fn a_file_swapped_after_discovery_is_skipped_saying_why_never_waited_on() {
    use snag::index::outcome::SkipReason;
    let fifo = process_swapped(|path| {
        let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid C string for the new FIFO's path.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o644) }, 0);
    });
    assert_eq!(
        (fifo.outcome, fifo.skip_reason),
        (
            snag::index::outcome::Outcome::Skipped,
            Some(SkipReason::NotAFile)
        )
    );
    let endless = process_swapped(|path| std::os::unix::fs::symlink("/dev/zero", path).unwrap());
    assert_eq!(endless.skip_reason, Some(SkipReason::Symlink));
    let to_source = process_swapped(|path| {
        let elsewhere = path.with_file_name("real.ts");
        std::fs::write(&elsewhere, "export const b = 2;\n").unwrap();
        std::os::unix::fs::symlink(elsewhere, path).unwrap();
    });
    assert_eq!(to_source.skip_reason, Some(SkipReason::Symlink));
    let directory = process_swapped(|path| std::fs::create_dir(path).unwrap());
    assert_eq!(directory.skip_reason, Some(SkipReason::NotAFile));
    let grown = process_swapped(|path| std::fs::write(path, vec![b' '; 2 << 20]).unwrap());
    assert_eq!(grown.skip_reason, Some(SkipReason::TooLarge));
    assert!(grown.errors.is_empty() && fifo.errors.is_empty());
}

#[tokio::test]
async fn utf16_without_a_byte_order_mark_is_indexed() {
    let dir = tempfile::tempdir().unwrap();
    let source = "export function wide(): string {\n  return 'w';\n}\n";
    let le: Vec<u8> = source.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let be: Vec<u8> = source.encode_utf16().flat_map(u16::to_be_bytes).collect();
    std::fs::write(dir.path().join("le.ts"), le).unwrap();
    std::fs::write(dir.path().join("be.ts"), be).unwrap();
    let db = TestDb::new().await;
    let summary = index(&db, dir.path()).await;
    assert_eq!((summary.files.total, summary.files.indexed), (2, 2));
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM code_chunks WHERE chunk_type = 'function' ORDER BY file_path",
    )
    .fetch_all(db.store.pool())
    .await
    .unwrap();
    assert_eq!(names, ["wide", "wide"]);
}

#[tokio::test]
async fn serve_restarts_its_crashed_private_cluster_and_answers_503_meanwhile() {
    use std::os::unix::fs::PermissionsExt;
    use std::time::{Duration, Instant};
    let base = tempfile::tempdir().unwrap();
    std::fs::set_permissions(base.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data_dir = base.path().join("data");
    let address = support::free_address();
    let mut server = support::snag()
        .env("SNAG_DATA_DIR", &data_dir)
        .current_dir(base.path())
        .args(["serve", "--bind", &address.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let get = move || support::http_get(address, "/api/v1/runs");
    support::wait_for_listener(address, Duration::from_secs(120));
    assert_eq!(tokio::task::spawn_blocking(get).await.unwrap().0, 200);

    // The cluster's server dies.
    let pid_file = data_dir.join("postgres/data/postmaster.pid");
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // SAFETY: signalling a process by pid.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGQUIT) }, 0);

    // Every answer comes at once: 503 saying so while it is down, 200 once
    // serve has started it again.
    let answers = tokio::task::spawn_blocking(move || {
        let mut answers = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let asked = Instant::now();
            let (status, body) = get();
            answers.push((status, body, asked.elapsed()));
            if status == 200 && answers.len() > 1 {
                return answers;
            }
            assert!(
                Instant::now() < deadline,
                "never answered again: {answers:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    })
    .await
    .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    for (status, body, took) in &answers {
        assert!(
            *took < Duration::from_secs(5),
            "an answer took {took:?}: {answers:?}"
        );
        assert!(matches!(status, 200 | 503), "{answers:?}");
        if *status == 503 {
            assert!(body.contains("the database is not answering"), "{body}");
        }
    }
    assert!(
        answers.iter().any(|(status, _, _)| *status == 503),
        "the outage was noticed: {answers:?}"
    );
    snag::store::cluster::LocalCluster::default_for_user(&data_dir)
        .stop()
        .ok();
}

#[tokio::test]
async fn a_run_refused_at_its_first_file_stops_saying_which() {
    // The file the database refuses comes first: storing stops while the
    // next batches are still being gathered.
    let dir = tempfile::tempdir().unwrap();
    many_files(dir.path(), 2_000);
    std::fs::write(dir.path().join("aa-poison.ts"), "export const a = 1;\n").unwrap();
    let db = TestDb::new().await;
    refuse(&db, "indexed_files", "aa-poison.ts").await;
    let mut request = RunRequest::new(dir.path());
    request.repository = "repo".into();
    let handle = runner::start(db.store.clone(), request).await.unwrap();
    let result = tokio::time::timeout(std::time::Duration::from_secs(60), handle.wait())
        .await
        .expect("the run ends");
    assert!(
        matches!(result, Err(RunError::Unstorable { ref path, .. }) if path == "aa-poison.ts"),
        "{result:?}"
    );
}
