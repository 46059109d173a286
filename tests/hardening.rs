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
        .filter(|l| !l.contains(" files done ("))
        .collect();
    assert_eq!(said.len(), 1, "{stderr}");
    assert!(
        said[0].starts_with("snag: the database went away during run ")
            && said[0].contains("files were stored before that and are kept"),
        "{stderr}"
    );
    cluster.stop().ok();
}
