//! `snag errors` and `snag summary` through the real binary.

mod support;

use snag::index::outcome::ErrorType;
use snag::store::NewError;
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
async fn table_fits_80_columns_and_shows_no_escape_sequences() {
    let db = seeded().await;
    let out = run(&db, &["errors", "web"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
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
