//! The original service's own tests, ported to black-box HTTP calls against
//! `snag serve` on a real PostgreSQL: the same requests and the same
//! assertions as its `tests/routes/test_indexing_error_routes.py`,
//! `tests/services/test_indexing_error_service.py`, the batch producer's
//! unit and Redis tests, the consumer loop's, the end-to-end batch tests
//! and the worker's error capture. Where the original called a Python
//! function, the test asks the endpoint that shows its result.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use snag::index::outcome::ErrorType;
use snag::store::NewError;
use sqlx::Connection;
use support::{TestDb, free_address, snag, wait_for_listener};

/// `snag serve` on its own database, allowed to index `root`.
struct Service {
    db: TestDb,
    root: tempfile::TempDir,
    address: SocketAddr,
    server: Child,
}

impl Service {
    async fn start() -> Service {
        let db = TestDb::new().await;
        let root = tempfile::tempdir().unwrap();
        let address = free_address();
        let server = snag()
            .args(["serve", "--bind", &address.to_string(), "--allow-root"])
            .arg(root.path())
            .env("DATABASE_URL", db.url())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_listener(address, Duration::from_secs(60));
        Service {
            db,
            root,
            address,
            server,
        }
    }

    /// The directory to index, with `files` written in it.
    fn directory(&self, name: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
        let directory = std::fs::canonicalize(self.root.path()).unwrap().join(name);
        std::fs::create_dir_all(&directory).unwrap();
        for (path, text) in files {
            let path = directory.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        directory
    }

    async fn insert(&self, rows: &[(&str, &str, ErrorType)]) {
        let errors: Vec<NewError> = rows
            .iter()
            .map(|(repository, path, error_type)| NewError {
                error_traceback: Some("at line 10".into()),
                chunk_type: Some("function".into()),
                language: Some("typescript".into()),
                ..NewError::new(*repository, *path, *error_type, "Unexpected token")
            })
            .collect();
        self.db.store.log_errors(&errors).await.unwrap();
    }

    fn get(&self, path: &str) -> (u16, Value) {
        self.call("GET", path, None)
    }

    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.call("POST", path, Some(&body.to_string()))
    }

    fn start_job(&self, body: Value) -> (u16, Value) {
        self.post("/api/v1/indexing/batch/start", &body)
    }

    fn status(&self, repository: &str) -> Value {
        let (code, body) = self.get(&format!("/api/v1/indexing/batch/status/{repository}"));
        assert_eq!(code, 200);
        body
    }

    /// Polls the status until the job is over.
    fn finished(&self, repository: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let status = self.status(repository);
            if !["pending", "processing"].contains(&status["status"].as_str().unwrap()) {
                return status;
            }
            assert!(Instant::now() < deadline, "the job did not finish");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
        let mut stream = TcpStream::connect(self.address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let body = body.unwrap_or("");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.address,
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let code = answer.split(' ').nth(1).unwrap().parse().unwrap();
        let text = answer.split_once("\r\n\r\n").map_or("", |(_, body)| body);
        let value = serde_json::from_str(text).unwrap_or_else(|_| panic!("{answer}"));
        (code, value)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

fn ts_files(n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| {
            (
                format!("file{i:03}.ts"),
                format!("export const value{i} = {i};\n"),
            )
        })
        .collect()
}

fn refs(files: &[(String, String)]) -> Vec<(&str, &str)> {
    files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect()
}

// tests/routes/test_indexing_error_routes.py

#[tokio::test(flavor = "multi_thread")]
async fn test_get_errors_endpoint_empty_repository() {
    let service = Service::start().await;
    let (code, data) = service.get("/api/v1/indexing/batch/errors/nonexistent_repo");
    assert_eq!(code, 200);
    assert_eq!(data["repository"], "nonexistent_repo");
    assert_eq!(data["total"], 0);
    assert_eq!(data["errors"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn test_get_errors_endpoint_with_data() {
    let service = Service::start().await;
    service
        .insert(&[("test_repo", "/test/file.ts", ErrorType::ParsingError)])
        .await;
    let (code, data) = service.get("/api/v1/indexing/batch/errors/test_repo");
    assert_eq!(code, 200);
    assert_eq!(data["total"], 1);
    assert_eq!(data["errors"].as_array().unwrap().len(), 1);
    let error = &data["errors"][0];
    assert_eq!(error["file_path"], "/test/file.ts");
    assert_eq!(error["error_type"], "parsing_error");
    assert_eq!(error["error_message"], "Unexpected token");
    assert_eq!(error["error_traceback"], "at line 10");
    assert_eq!(error["chunk_type"], "function");
    assert_eq!(error["language"], "typescript");
}

#[tokio::test(flavor = "multi_thread")]
async fn test_get_errors_filtered_by_type() {
    let service = Service::start().await;
    service
        .insert(&[
            ("test_repo", "/test/file1.ts", ErrorType::ParsingError),
            ("test_repo", "/test/file2.ts", ErrorType::ChunkingError),
        ])
        .await;
    let (code, data) =
        service.get("/api/v1/indexing/batch/errors/test_repo?error_type=parsing_error");
    assert_eq!(code, 200);
    assert_eq!(data["total"], 1);
    assert_eq!(data["errors"][0]["error_type"], "parsing_error");
}

#[tokio::test(flavor = "multi_thread")]
async fn test_get_errors_pagination() {
    let service = Service::start().await;
    let paths: Vec<String> = (0..10).map(|i| format!("/test/file{i}.ts")).collect();
    let rows: Vec<(&str, &str, ErrorType)> = paths
        .iter()
        .map(|p| ("test_repo", p.as_str(), ErrorType::ParsingError))
        .collect();
    service.insert(&rows).await;
    let (_, page1) = service.get("/api/v1/indexing/batch/errors/test_repo?limit=5&offset=0");
    assert_eq!(page1["total"], 10);
    assert_eq!(page1["errors"].as_array().unwrap().len(), 5);
    let (_, page2) = service.get("/api/v1/indexing/batch/errors/test_repo?limit=5&offset=5");
    assert_eq!(page2["errors"].as_array().unwrap().len(), 5);
    let ids = |page: &Value| -> Vec<i64> {
        page["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["error_id"].as_i64().unwrap())
            .collect()
    };
    let (one, two) = (ids(&page1), ids(&page2));
    assert!(one.iter().all(|id| !two.contains(id)), "pages overlap");
}

// tests/services/test_indexing_error_service.py, through the summary

#[tokio::test(flavor = "multi_thread")]
async fn test_get_summary() {
    let service = Service::start().await;
    service
        .insert(&[
            ("test_repo", "/test/a.ts", ErrorType::ParsingError),
            ("test_repo", "/test/b.ts", ErrorType::ChunkingError),
            ("test_repo", "/test/c.ts", ErrorType::ChunkingError),
            ("other_repo", "/test/d.ts", ErrorType::ParsingError),
        ])
        .await;
    let (code, data) = service.get("/api/v1/indexing/batch/errors/test_repo/summary");
    assert_eq!(code, 200);
    assert_eq!(data["repository"], "test_repo");
    assert_eq!(
        data["summary"],
        json!({"chunking_error": 2, "parsing_error": 1})
    );
    assert_eq!(data["total_errors"], 3);
}

// tests/unit/test_batch_producer.py and tests/integration/test_batch_producer_redis.py

#[tokio::test(flavor = "multi_thread")]
async fn test_create_batches() {
    let service = Service::start().await;
    for (n, batches) in [(100, 3), (80, 2), (10, 1)] {
        let directory = service.directory(&format!("repo{n}"), &refs(&ts_files(n)));
        let (code, result) = service.start_job(json!({
            "directory": directory, "repository": format!("repo{n}")
        }));
        assert_eq!(code, 201, "{result}");
        assert_eq!(result["total_files"], n);
        assert_eq!(result["total_batches"], batches);
        assert_eq!(result["status"], "pending");
        assert!(!result["job_id"].as_str().unwrap().is_empty());
        let done = service.finished(&format!("repo{n}"));
        assert_eq!(done["current_batch"], batches);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn test_scan_files_filters_by_extension() {
    let service = Service::start().await;
    let directory = service.directory(
        "repo",
        &[
            ("file1.ts", "export const a = 1;\n"),
            ("file2.js", "export const b = 2;\n"),
            ("file3.py", "c = 3\n"),
            ("file4.md", "# d\n"),
        ],
    );
    let (code, result) = service.start_job(json!({
        "directory": directory, "repository": "repo", "extensions": [".ts", ".js"]
    }));
    assert_eq!(code, 201);
    assert_eq!(result["total_files"], 2);
}

/// The first status of a job, before any file is done: the original's
/// `test_get_status_returns_dict`. The files are held back by locking the
/// table the run stores them in.
#[tokio::test(flavor = "multi_thread")]
async fn test_get_status_returns_dict() {
    let service = Service::start().await;
    let directory = service.directory("test-repo", &refs(&ts_files(50)));
    let mut lock = sqlx::PgConnection::connect(&service.db.url())
        .await
        .unwrap();
    sqlx::query("BEGIN").execute(&mut lock).await.unwrap();
    sqlx::query("LOCK TABLE indexed_files IN EXCLUSIVE MODE")
        .execute(&mut lock)
        .await
        .unwrap();
    let (code, _) = service.start_job(json!({"directory": directory, "repository": "test-repo"}));
    assert_eq!(code, 201);
    let status = service.status("test-repo");
    assert_eq!(status["progress"], "0/50");
    assert_eq!(status["current_batch"], 0);
    assert_eq!(status["total_batches"], 2);
    assert_eq!(status["status"], "pending");
    assert_eq!(status["processed_files"], 0);
    assert_eq!(status["failed_files"], 0);
    assert!(!status["started_at"].as_str().unwrap().is_empty());
    assert_eq!(status["completed_at"], "");
    sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();

    let done = service.finished("test-repo");
    assert_eq!(done["status"], "completed");
    assert_eq!(done["progress"], "50/50");
    assert_eq!(done["progress_percent"], 100.0);
    assert_eq!(done["current_batch"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn test_status_of_an_unknown_repository() {
    let service = Service::start().await;
    assert_eq!(
        service.status("never-started"),
        json!({"job_id": null, "repository": "never-started", "total_files": 0,
               "processed_files": 0, "failed_files": 0, "current_batch": 0, "total_batches": 0,
               "status": "not_found", "progress": "0/0", "progress_percent": 0.0,
               "started_at": null, "completed_at": null})
    );
}

// tests/unit/test_batch_producer_exclusions.py and
// tests/integration/test_batch_indexing_e2e_fixes.py

#[tokio::test(flavor = "multi_thread")]
async fn test_scan_files_excludes_dist_directory() {
    let service = Service::start().await;
    let directory = service.directory(
        "repo",
        &[
            ("src/app.ts", "export const app = 1;\n"),
            ("dist/app.js", "var app = 1;\n"),
            ("dist/app.d.ts", "export declare const app: number;\n"),
        ],
    );
    let (_, result) = service.start_job(json!({"directory": directory, "repository": "repo"}));
    assert_eq!(result["total_files"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn test_scan_files_excludes_nested_dist_directory() {
    let service = Service::start().await;
    let directory = service.directory(
        "repo",
        &[
            ("packages/core/src/index.ts", "export const core = 1;\n"),
            ("packages/core/dist/index.js", "var core = 1;\n"),
        ],
    );
    let (_, result) = service.start_job(json!({"directory": directory, "repository": "repo"}));
    assert_eq!(result["total_files"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn test_calculator_without_its_build_output() {
    let service = Service::start().await;
    let directory = service.directory(
        "repo",
        &[
            (
                "src/calculator.ts",
                "export function add(a: number, b: number): number { return a + b; }\n",
            ),
            (
                "dist/calculator.js",
                "function add(a, b) { return a + b; }\n",
            ),
            (
                "dist/calculator.d.ts",
                "export declare function add(a: number, b: number): number;\n",
            ),
        ],
    );
    let (_, result) = service.start_job(json!({"directory": directory, "repository": "repo"}));
    assert_eq!(result["total_files"], 1);
}

// tests/unit/test_batch_producer_include_tests.py

#[tokio::test(flavor = "multi_thread")]
async fn test_excludes_tests_by_default_and_includes_them_on_request() {
    let service = Service::start().await;
    let directory = service.directory(
        "repo",
        &[
            ("src/app.ts", "export const app = 1;\n"),
            ("__tests__/app.spec.ts", "test('a', () => {});\n"),
        ],
    );
    let (_, without) = service.start_job(json!({"directory": directory, "repository": "without"}));
    assert_eq!(without["total_files"], 1);
    let (_, with) = service
        .start_job(json!({"directory": directory, "repository": "with", "include_tests": true}));
    assert_eq!(with["total_files"], 2);
    assert!(
        with["message"]
            .as_str()
            .unwrap()
            .contains("(including test files)")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn test_detects_various_test_patterns() {
    let service = Service::start().await;
    let directory = service.directory(
        "repo",
        &[
            ("app.spec.ts", "test('a', () => {});\n"),
            ("app.test.ts", "test('b', () => {});\n"),
            ("__tests__/unit.ts", "test('c', () => {});\n"),
            ("vitest.config.ts", "export default {};\n"),
        ],
    );
    let (_, with) = service
        .start_job(json!({"directory": directory, "repository": "with", "include_tests": true}));
    assert_eq!(with["total_files"], 4);
    let (code, without) =
        service.start_job(json!({"directory": directory, "repository": "without"}));
    assert_eq!(code, 400);
    assert_eq!(
        without["detail"],
        format!(
            "No files found in {} with extensions ['.ts', '.js']",
            directory.display()
        )
    );
}

// tests/e2e/test_batch_indexing_full.py and tests/integration/test_batch_consumer_loop.py

#[tokio::test(flavor = "multi_thread")]
async fn test_batch_indexing_empty_directory() {
    let service = Service::start().await;
    let directory = service.directory("empty", &[]);
    let (code, result) = service.start_job(json!({"directory": directory, "repository": "empty"}));
    assert_eq!(code, 400);
    assert!(
        result["detail"]
            .as_str()
            .unwrap()
            .starts_with("No files found in ")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn test_batch_indexing_small_batch() {
    let service = Service::start().await;
    let directory = service.directory("small", &refs(&ts_files(5)));
    let (code, result) = service.start_job(json!({"directory": directory, "repository": "small"}));
    assert_eq!(code, 201);
    assert_eq!(result["total_batches"], 1);
    let status = service.finished("small");
    assert_eq!(status["status"], "completed");
    assert_eq!(status["processed_files"], 5);
    assert_eq!(status["failed_files"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn test_process_repository_completes_all_batches() {
    let service = Service::start().await;
    let directory = service.directory("three", &refs(&ts_files(3)));
    let (_, result) = service.start_job(json!({"directory": directory, "repository": "three"}));
    assert_eq!(result["total_batches"], 1);
    let status = service.finished("three");
    assert_eq!(status["status"], "completed");
    assert_eq!(status["processed_files"], 3);
    assert_eq!(status["current_batch"], 1);
}

// tests/integration/test_batch_worker_error_capture.py

#[tokio::test(flavor = "multi_thread")]
async fn test_worker_captures_errors_with_the_files_path() {
    let service = Service::start().await;
    let directory = service.directory(
        "test_worker_error_capture",
        &[
            ("broken.ts", "function broken( {\n  return 1;\n"),
            ("fine.ts", "export const fine = 1;\n"),
        ],
    );
    let broken_file = directory.join("broken.ts");
    // Given with a trailing slash and a doubled one, as pathlib would take it.
    let given = format!("{}//", directory.display()).replacen("/test_worker", "//test_worker", 1);
    let (code, _) = service.start_job(json!({"directory": given, "repository": "capture"}));
    assert_eq!(code, 201);
    let status = service.finished("capture");
    assert_eq!(status["processed_files"], 1);
    assert_eq!(status["failed_files"], 1);
    assert_eq!(status["progress"], "1/2");
    assert_eq!(status["progress_percent"], 50.0);

    let (_, data) = service.get("/api/v1/indexing/batch/errors/capture");
    assert!(data["total"].as_i64().unwrap() >= 1);
    let errors = data["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .all(|e| e["file_path"] == path_text(&broken_file))
    );
    assert!(
        errors
            .iter()
            .all(|e| ["parsing_error", "chunking_error"]
                .contains(&e["error_type"].as_str().unwrap()))
    );
    let occurred_at = errors[0]["occurred_at"].as_str().unwrap();
    assert!(
        chrono::NaiveDateTime::parse_from_str(occurred_at, "%Y-%m-%dT%H:%M:%S%.f").is_ok(),
        "{occurred_at}"
    );
}

fn path_text(path: &Path) -> String {
    path.display().to_string()
}
