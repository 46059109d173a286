//! `snag errors` and `snag summary` through the real binary.

mod support;

use snag::index::outcome::ErrorType;
use snag::store::NewError;
use std::io::Read;

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use support::{TestDb, snag};

fn run(db: &TestDb, args: &[&str]) -> std::process::Output {
    snag()
        .arg("--database-url")
        .arg(db.url())
        .args(args)
        .output()
        .expect("run snag")
}

async fn seeded() -> TestDb {
    let db = TestDb::new().await;
    let mut batch: Vec<NewError> = (0..3)
        .map(|i| NewError {
            line: Some(i + 1),
            ..NewError::new(
                "web",
                format!("src/deeply/nested/folder/file{i}.ts"),
                ErrorType::ParsingError,
                "3:21 unexpected `{` in formal_parameters; 2 more syntax errors",
            )
        })
        .collect();
    batch.push(NewError::new(
        "web",
        "src/evil.ts",
        ErrorType::EncodingError,
        "title \x1b]0;pwned\x07 and \x1b[2J clear",
    ));
    db.store.log_errors(&batch).await.unwrap();
    db
}

#[tokio::test]
async fn json_is_the_http_body() {
    let db = seeded().await;
    let out = run(
        &db,
        &[
            "errors",
            "web",
            "--type",
            "parsing_error",
            "--limit",
            "2",
            "--offset",
            "1",
            "--format",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["total"], 3);
    assert_eq!(body["repository"], "web");
    assert_eq!(
        body["filters"],
        serde_json::json!({"error_type": "parsing_error", "limit": 2, "offset": 1})
    );
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2);
    for key in [
        "error_id",
        "repository",
        "file_path",
        "error_type",
        "error_message",
        "error_traceback",
        "chunk_type",
        "language",
        "occurred_at",
    ] {
        assert!(errors[0].get(key).is_some(), "missing {key}");
    }

    let out = run(&db, &["summary", "web", "--format", "json"]);
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"repository": "web", "summary": {"parsing_error": 3, "encoding_error": 1}, "total_errors": 4})
    );
}

#[tokio::test]
async fn table_fits_an_80_column_terminal_and_shows_no_escape_sequences() {
    let db = seeded().await;
    let (out, code) = on_a_terminal(&["--database-url", &db.url(), "errors", "web"], 80);
    assert_eq!(code, 0);
    let text = String::from_utf8(out).unwrap().replace("\r\n", "\n");
    assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
    assert!(text.contains("␛]0;pwned␇"), "{text}");
    for line in text.lines() {
        assert!(line.chars().count() <= 80, "too wide: {line}");
    }
    assert!(text.contains("errors 1-4 of 4 in web"), "{text}");

    let summary = String::from_utf8(run(&db, &["summary", "web"]).stdout).unwrap();
    assert!(
        summary.contains("parsing_error") && summary.contains("75.0%"),
        "{summary}"
    );
}

#[tokio::test]
async fn piped_tables_keep_each_row_on_its_line() {
    let db = seeded().await;
    let out = run(&db, &["errors", "web"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = text.lines().filter(|l| l.contains("file")).collect();
    assert_eq!(rows.len(), 3, "{text}");
    for row in rows {
        assert!(row.chars().count() > 80, "{row}");
        assert!(row.contains("src/deeply/nested/folder/file"), "{row}");
        assert!(
            row.contains("unexpected `{` in formal_parameters; 2 more syntax errors"),
            "{row}"
        );
    }
}

#[tokio::test]
async fn empty_repository_is_not_an_error() {
    let db = TestDb::new().await;
    let out = run(&db, &["errors", "nobody", "--format", "json"]);
    assert!(out.status.success());
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            body["total"].as_i64(),
            body["errors"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );
}

#[tokio::test]
async fn a_mistyped_repository_is_said_to_have_no_runs_with_the_names_close_to_it() {
    let db = TestDb::new().await;
    let tree = tempfile::tempdir().unwrap();
    support::write_files(tree.path(), &[("a.ts", "export const a = 1;\n")]);
    for name in ["web", "web-admin", "api"] {
        support::snag_index(&db, tree.path(), name, &[]);
    }
    for command in [
        vec!["errors", "wbe"],
        vec!["summary", "wbe"],
        vec!["files", "wbe"],
        vec!["report", "wbe"],
        vec!["diff", "--repo", "wbe"],
    ] {
        let out = run(&db, &command);
        assert_eq!(out.status.code(), Some(2), "{command:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            stderr.trim_end(),
            "snag: repository `wbe` has no runs: index it with `snag index PATH --repo wbe`; \
             did you mean `web`?",
            "{command:?}"
        );
    }
    let out = run(&db, &["errors", "Web"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .trim_end()
            .ends_with("did you mean `web` or `web-admin`?"),
        "{stderr}"
    );
    // Nothing close: the hint alone.
    let out = run(&db, &["errors", "mnemo"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.trim_end().ends_with("--repo mnemo`"), "{stderr}");
    // JSON stays the API's body: an empty list.
    let out = run(&db, &["summary", "wbe", "--format", "json"]);
    assert!(out.status.success());
    // A known repository without errors is clean, not unknown.
    let out = run(&db, &["errors", "api"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_theme_is_offered_only_where_a_ui_opens() {
    let help = |args: &[&str]| {
        let out = snag().args(args).arg("--help").output().unwrap();
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    for command in [&["db"][..], &["index"], &["errors"], &["serve"]] {
        assert!(!help(command).contains("--theme"), "{command:?}");
    }
    assert!(help(&["tui"]).contains("--theme"));
    assert!(help(&[]).contains("--theme"));
}

#[test]
fn usage_and_database_trouble_exit_2_with_one_clear_line() {
    let out = snag()
        .args(["errors", "web", "--type", "syntax_error"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown error type `syntax_error`"));

    let out = snag()
        .args([
            "--database-url",
            "postgres://nobody@127.0.0.1:1/none",
            "errors",
            "web",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(
            "snag: cannot connect to PostgreSQL at postgres://nobody@127.0.0.1:1/none"
        ),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

#[test]
fn help_lists_every_command() {
    let out = snag().arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for command in ["errors", "summary", "db"] {
        assert!(help.contains(command), "{help}");
    }
}

/// An argument that sets the terminal's title when printed raw.
const HOSTILE: &str = "x\x1b]0;pwned\x07";
const SHOWN: &str = "x␛]0;pwned␇";

fn assert_inert(stderr: &[u8]) -> String {
    let text = String::from_utf8(stderr.to_vec()).unwrap();
    assert!(
        !text.contains('\x1b') && !text.contains('\x07'),
        "raw control characters: {text:?}"
    );
    text
}

#[test]
fn clap_errors_echo_arguments_through_the_sanitizer() {
    for args in [
        vec!["errors", "web", "--format", HOSTILE],
        vec!["errors", "web", "--limit", HOSTILE],
        vec!["files", "web", HOSTILE],
        vec!["index", ".", "--max-file-size", HOSTILE],
        vec![HOSTILE],
    ] {
        let out = snag().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = assert_inert(&out.stderr);
        assert!(stderr.contains(SHOWN), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // A carriage return would let the rest of the line overwrite the start.
    let out = snag()
        .args(["errors", "web", "--format", "x\rsnag: all good"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = assert_inert(&out.stderr);
    assert!(
        !stderr.contains('\r') && stderr.contains("x␍snag: all good"),
        "{stderr}"
    );
    // Help and version are still answers, not errors.
    for args in [vec!["--help"], vec!["errors", "--help"], vec!["--version"]] {
        let out = snag().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(!out.stdout.is_empty(), "{args:?}");
    }
    // A missing subcommand shows the help on stderr, as a usage error.
    let out = snag().arg("db").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Usage"));
}

#[tokio::test]
async fn snags_own_errors_echo_arguments_through_the_sanitizer() {
    let db = TestDb::new().await;
    let url = db.url();
    for args in [
        vec!["files", HOSTILE],
        vec!["report", HOSTILE],
        vec!["index", HOSTILE],
        vec!["repro", HOSTILE],
    ] {
        let out = run(&db, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = assert_inert(&out.stderr);
        assert!(stderr.contains(SHOWN), "{args:?}: {stderr}");
    }
    // A database URL is printed as given, but never raw.
    let out = snag()
        .args(["--database-url", &format!("{url}{HOSTILE}"), "db", "url"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let shown = assert_inert(&out.stdout);
    assert!(shown.contains(SHOWN), "{shown}");
}

/// What `snag ARGS` writes to a terminal, raw, and its exit code.
fn on_a_terminal(args: &[&str], cols: u16) -> (Vec<u8>, u32) {
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 24,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_snag"));
    command.args(args);
    command.env("TERM", "xterm-256color");
    command.env_remove("NO_COLOR");
    command.env_remove("DATABASE_URL");
    let mut child = pty.slave.spawn_command(command).unwrap();
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().unwrap();
    let reading = std::thread::spawn(move || {
        let mut out = Vec::new();
        // Ends with EIO once the child has gone: what came before is kept.
        let _ = reader.read_to_end(&mut out);
        out
    });
    let status = child.wait().unwrap();
    drop(pty.master);
    (reading.join().unwrap(), status.exit_code())
}

/// On a terminal clap would write the argument as typed: the title changes.
#[test]
fn clap_errors_reach_a_terminal_inert() {
    let (out, code) = on_a_terminal(&["errors", "web", "--format", HOSTILE], 200);
    assert_eq!(code, 2);
    let text = String::from_utf8_lossy(&out);
    assert!(!text.contains("\x1b]0;pwned"), "{text:?}");
    assert!(text.contains(SHOWN), "{text:?}");
}

/// `snag ARGS` with standard output a pipe that is closed before snag
/// writes to it, as after `| head -0`.
fn with_stdout_closed(
    db_url: &str,
    args: &[&str],
    data_dir: &std::path::Path,
) -> std::process::Output {
    let mut child = snag()
        .arg("--database-url")
        .arg(db_url)
        .args(args)
        .env("SNAG_DATA_DIR", data_dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

/// What is wrong with how a command ended, if anything: it must exit 0
/// without a word about the pipe.
fn not_quiet_success(out: &std::process::Output) -> Option<String> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let noisy = ["panicked", "Broken pipe", "broken pipe", "RUST_BACKTRACE"]
        .iter()
        .any(|noise| stderr.contains(noise));
    (out.status.code() != Some(0) || noisy).then(|| format!("{}: {stderr}", out.status))
}

#[tokio::test]
async fn a_closed_pipe_ends_every_printing_command_quietly() {
    let db = TestDb::new().await;
    let data_dir = tempfile::tempdir().unwrap();
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(
        repo.path().join("producer.ts"),
        "export interface Producer<out T> {\n  make(): T;\n}\n",
    )
    .unwrap();
    std::fs::write(repo.path().join("broken.ts"), "class Foo { invalid )))))\n").unwrap();
    std::fs::write(repo.path().join("valid.ts"), "export const answer = 42;\n").unwrap();
    let indexed = run(
        &db,
        &["index", repo.path().to_str().unwrap(), "--repo", "web"],
    );
    assert!(
        indexed.status.success(),
        "{}",
        String::from_utf8_lossy(&indexed.stderr)
    );
    let gap: String = sqlx::query_scalar(
        "SELECT fingerprint FROM error_groups WHERE title LIKE 'grammar gap%' LIMIT 1",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap();

    let repo_path = repo.path().to_str().unwrap();
    let url = db.url();
    let mut failures: Vec<String> = Vec::new();
    for args in [
        vec!["files", "web"],
        vec!["files", "web", "--format", "json"],
        vec!["errors", "web"],
        vec!["errors", "web", "--format", "json"],
        vec!["summary", "web"],
        vec!["summary", "web", "--format", "json"],
        vec!["report", "web"],
        vec!["report", "web", "--format", "json"],
        vec!["repro", &gap],
        vec!["index", repo_path, "--repo", "web"],
        vec!["index", repo_path, "--repo", "web", "--format", "json"],
        vec!["index", repo_path, "--repo", "web", "--format", "sarif"],
        vec!["index", repo_path, "--repo", "web", "--format", "junit"],
        vec!["index", repo_path, "--repo", "web", "--format", "github"],
        vec!["db", "url"],
        vec!["db", "status"],
        vec!["--help"],
        vec!["--version"],
    ] {
        let out = with_stdout_closed(&url, &args, data_dir.path());
        if let Some(why) = not_quiet_success(&out) {
            failures.push(format!("{args:?}: {why}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `snag files web | head -1` on a run with many files: the reader goes
/// after the first line, while snag is still writing.
#[tokio::test]
async fn a_pipe_closed_after_the_first_line_ends_quietly() {
    use std::io::BufRead;
    let db = TestDb::new().await;
    let run_id: i64 = sqlx::query_scalar(
        "INSERT INTO index_runs (repository, root, status, tool_version) \
         VALUES ('web', '/srv/web', 'completed', '0') RETURNING run_id",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO indexed_files (run_id, repository, file_path, outcome) \
         SELECT $1, 'web', format('src/module%s.ts', i), 'indexed' FROM generate_series(1, 20000) i",
    )
    .bind(run_id)
    .execute(db.store.pool())
    .await
    .unwrap();
    for format in ["table", "json"] {
        let mut child = snag()
            .args([
                "--database-url",
                &db.url(),
                "files",
                "web",
                "--format",
                format,
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty());
        let out = child.wait_with_output().unwrap();
        assert_eq!(not_quiet_success(&out), None, "--format {format}");
    }
}

/// However a URL carries its password, errors and logs do not repeat it.
#[test]
fn database_url_credentials_are_never_shown() {
    for url in [
        "postgres://u@127.0.0.1:1/db?password=hunter2",
        "postgres://127.0.0.1:1/db?user=u&password=hunter2",
        "postgres://u@127.0.0.1:1/db?sslpassword=hunter2",
        "postgres://u:hunter2@127.0.0.1:1/db",
        "postgres://u@127.0.0.1:1/db?pass%77ord=hunter2",
    ] {
        // Warnings included: nothing logged may hold the secret either.
        let out = snag()
            .args(["--database-url", url, "summary", "x"])
            .env("SNAG_LOG", "trace")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{url}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("cannot connect to PostgreSQL at"),
            "{url}: {stderr}"
        );
        assert!(!stderr.contains("hunter2"), "{url}: {stderr}");
        assert!(out.stdout.is_empty(), "{url}");
    }
}
