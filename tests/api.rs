//! The HTTP API against the real router and a real PostgreSQL: the original
//! service's endpoints and bodies, validation, authentication, limits, the
//! start -> status -> errors flow on the hostile corpus, and the OpenAPI
//! document.

mod support;

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use snag::api::{self, AllowedRoots, ApiConfig, Jobs, Limits};
use snag::index::outcome::{ErrorType, Verdict};
use snag::report::errors::ErrorListBody;
use snag::store::{NewError, PageRequest};
use support::{TestDb, hostile_corpus, snag};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

const ERRORS: &str = "/api/v1/indexing/batch/errors";

fn config(roots: &[std::path::PathBuf]) -> ApiConfig {
    ApiConfig {
        token: None,
        roots: AllowedRoots::new(roots).unwrap(),
        limits: Limits::default(),
        allowed_hosts: Vec::new(),
        address: None,
        health: Default::default(),
    }
}

fn app(db: &TestDb, config: ApiConfig) -> Router {
    api::router(db.store.clone(), Jobs::default(), config)
}

fn app_for(db: &TestDb) -> Router {
    app(db, config(&[std::env::temp_dir()]))
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 10 << 20)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        panic!(
            "{status}: body is not JSON: {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    Answer {
        status,
        headers,
        body,
    }
}

async fn get(app: &Router, uri: &str) -> Answer {
    send(app, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn post_json(app: &Router, method: &str, uri: &str, body: &Value) -> Answer {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    send(app, request).await
}

/// The body's text as sent, for checks of key order.
async fn get_text(app: &Router, uri: &str) -> (StatusCode, String) {
    let response = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 10 << 20)
        .await
        .unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

/// 10 parsing errors and 2 encoding errors in `repository`, one second apart.
async fn seed(db: &TestDb, repository: &str) {
    let base = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let errors: Vec<NewError> = (0..12)
        .map(|i| {
            let error_type = if i < 10 {
                ErrorType::ParsingError
            } else {
                ErrorType::EncodingError
            };
            // Syntax errors carry verdicts: every third one is broken source.
            let verdict = (error_type == ErrorType::ParsingError).then_some(if i % 3 == 0 {
                Verdict::InvalidSource
            } else {
                Verdict::GrammarGap
            });
            NewError {
                occurred_at: Some(base + chrono::Duration::seconds(i)),
                line: Some(i as i32 + 1),
                verdict,
                ..NewError::new(repository, format!("src/file{i}.ts"), error_type, "boom")
            }
        })
        .collect();
    db.store.log_errors(&errors).await.unwrap();
}

#[tokio::test]
async fn empty_repository_has_no_errors() {
    let db = TestDb::new().await;
    let app = app_for(&db);

    let list = get(&app, &format!("{ERRORS}/nobody")).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(
        list.body,
        json!({"errors": [], "total": 0, "repository": "nobody",
               "filters": {"error_type": null, "limit": 100, "offset": 0}})
    );
    let summary = get(&app, &format!("{ERRORS}/nobody/summary")).await;
    assert_eq!(summary.status, StatusCode::OK);
    assert_eq!(
        summary.body,
        json!({"repository": "nobody", "summary": {}, "total_errors": 0})
    );
    // No runs: the original service's "not_found" status, byte for byte.
    let (code, status) = get_text(&app, "/api/v1/indexing/batch/status/nobody").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        status,
        "{\"job_id\":null,\"repository\":\"nobody\",\"total_files\":0,\"processed_files\":0,\
         \"failed_files\":0,\"current_batch\":0,\"total_batches\":0,\"status\":\"not_found\",\
         \"progress\":\"0/0\",\"progress_percent\":0.0,\"started_at\":null,\"completed_at\":null}"
    );
    let (_, list) = get_text(&app, &format!("{ERRORS}/nobody")).await;
    assert_eq!(
        list,
        "{\"errors\":[],\"total\":0,\"repository\":\"nobody\",\
         \"filters\":{\"error_type\":null,\"limit\":100,\"offset\":0}}"
    );
}

#[tokio::test]
async fn errors_filter_and_pagination() {
    let db = TestDb::new().await;
    seed(&db, "web").await;
    let app = app_for(&db);

    // The original service's body: nine fields per error, in its order.
    let (status, text) = get_text(&app, &format!("{ERRORS}/web?limit=1")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        text,
        "{\"errors\":[{\"error_id\":12,\"repository\":\"web\",\"file_path\":\"src/file11.ts\",\
         \"error_type\":\"encoding_error\",\"error_message\":\"boom\",\"error_traceback\":null,\
         \"chunk_type\":null,\"language\":null,\"occurred_at\":\"2026-01-01T00:00:11\"}],\
         \"total\":12,\"repository\":\"web\",\"filters\":{\"error_type\":null,\"limit\":1,\"offset\":0}}"
    );

    // snag's own record of each error, on both of its routes.
    let all = get(&app, &format!("{ERRORS}/web?fields=all")).await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(
        keys(&all.body),
        ["errors", "filters", "repository", "total"]
    );
    assert_eq!(all.body["total"], 12);
    let own = get(&app, "/api/v1/repositories/web/errors").await;
    assert_eq!(own.body, all.body);
    // Exactly the body `snag errors --format json` prints.
    let expected = ErrorListBody::new(
        "web",
        None,
        PageRequest::default(),
        db.store
            .get_errors("web", None, PageRequest::default())
            .await
            .unwrap(),
    );
    assert_eq!(all.body, serde_json::to_value(&expected).unwrap());
    let first = &all.body["errors"][0];
    assert_eq!(
        keys(first),
        [
            "chunk_type",
            "column",
            "details",
            "end_column",
            "end_line",
            "error_id",
            "error_message",
            "error_traceback",
            "error_type",
            "file_path",
            "fingerprint",
            "language",
            "line",
            "occurred_at",
            "repository",
            "run_id",
            "verdict"
        ]
    );
    assert_eq!(first["file_path"], "src/file11.ts", "newest first");
    assert_eq!(
        first["verdict"],
        Value::Null,
        "no verdict on other error types"
    );
    assert_eq!(
        all.body["filters"].get("verdict"),
        None,
        "no verdict filter, no key"
    );

    let gaps = get(
        &app,
        &format!("{ERRORS}/web?verdict=grammar_gap&fields=all"),
    )
    .await;
    assert_eq!(gaps.status, StatusCode::OK);
    assert_eq!(gaps.body["total"], 6);
    assert_eq!(gaps.body["filters"]["verdict"], "grammar_gap");
    assert!(
        gaps.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["verdict"] == "grammar_gap" && e["error_type"] == "parsing_error")
    );
    let invalid = get(
        &app,
        &format!("{ERRORS}/web?verdict=invalid_source&error_type=parsing_error"),
    )
    .await;
    assert_eq!(invalid.body["total"], 4);
    let wrong = get(&app, &format!("{ERRORS}/web?verdict=maybe")).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.body["detail"][0]["loc"], json!(["query", "verdict"]));

    let parsing = get(&app, &format!("{ERRORS}/web?error_type=parsing_error")).await;
    assert_eq!(parsing.body["total"], 10);
    assert_eq!(parsing.body["filters"]["error_type"], "parsing_error");
    assert!(
        parsing.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["error_type"] == "parsing_error")
    );

    let page = |offset: i64| {
        let app = app.clone();
        async move {
            get(
                &app,
                &format!("{ERRORS}/web?error_type=parsing_error&limit=5&offset={offset}"),
            )
            .await
        }
    };
    let (one, two) = (page(0).await, page(5).await);
    let ids = |a: &Answer| -> Vec<i64> {
        a.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["error_id"].as_i64().unwrap())
            .collect()
    };
    let (ids_one, ids_two) = (ids(&one), ids(&two));
    assert_eq!((ids_one.len(), ids_two.len()), (5, 5));
    assert!(
        ids_one.iter().all(|id| !ids_two.contains(id)),
        "pages overlap"
    );
    assert_eq!(one.body["total"], 10);
    assert_eq!(
        two.body["filters"],
        json!({"error_type": "parsing_error", "limit": 5, "offset": 5})
    );

    let summary = get(&app, &format!("{ERRORS}/web/summary")).await;
    assert_eq!(
        summary.body,
        json!({"repository": "web",
               "summary": {"parsing_error": 10, "encoding_error": 2},
               "total_errors": 12})
    );
}

#[tokio::test]
async fn invalid_parameters_are_422_naming_the_parameter() {
    let db = TestDb::new().await;
    let app = app_for(&db);
    for (query, parameter, kind) in [
        ("limit=0", "limit", "greater_than_equal"),
        ("limit=1001", "limit", "less_than_equal"),
        ("limit=ten", "limit", "int_parsing"),
        ("offset=-1", "offset", "greater_than_equal"),
    ] {
        let answer = get(&app, &format!("{ERRORS}/web?{query}")).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        let detail = &answer.body["detail"][0];
        assert_eq!(detail["loc"], json!(["query", parameter]), "{query}");
        assert_eq!(detail["type"], kind, "{query}");
        assert!(
            detail["msg"].as_str().is_some_and(|m| !m.is_empty()),
            "{query}"
        );
    }
    // As the original service: the type is not checked. An unknown one
    // matches nothing, an empty one is no filter; both are echoed.
    seed(&db, "web").await;
    let unknown = get(&app, &format!("{ERRORS}/web?error_type=syntax_error")).await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert_eq!(unknown.body["total"], 0);
    assert_eq!(unknown.body["errors"], json!([]));
    assert_eq!(unknown.body["filters"]["error_type"], "syntax_error");
    let empty = get(&app, &format!("{ERRORS}/web?error_type=")).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.body["total"], 12, "no filter");
    assert_eq!(empty.body["filters"]["error_type"], "");
    let none = get(&app, &format!("{ERRORS}/web")).await;
    assert_eq!(none.body["filters"]["error_type"], Value::Null);
    // Every problem at once, in FastAPI's words and shape.
    let both = get(&app, &format!("{ERRORS}/web?limit=abc&offset=-1")).await;
    assert_eq!(
        both.body,
        json!({"detail": [
            {"type": "int_parsing", "loc": ["query", "limit"],
             "msg": "Input should be a valid integer, unable to parse string as an integer", "input": "abc"},
            {"type": "greater_than_equal", "loc": ["query", "offset"],
             "msg": "Input should be greater than or equal to 0", "input": "-1", "ctx": {"ge": 0}}
        ]})
    );
    let zero = get(&app, &format!("{ERRORS}/web?limit=0")).await;
    assert_eq!(
        zero.body,
        json!({"detail": [{"type": "greater_than_equal", "loc": ["query", "limit"],
            "msg": "Input should be greater than or equal to 1", "input": "0", "ctx": {"ge": 1}}]})
    );
    let huge = get(&app, &format!("{ERRORS}/web?limit=99999999999999999999999")).await;
    assert_eq!(huge.body["detail"][0]["type"], "less_than_equal");
    assert_eq!(huge.body["detail"][0]["ctx"], json!({"le": 1000}));
    let empty_limit = get(&app, &format!("{ERRORS}/web?limit=")).await;
    assert_eq!(empty_limit.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(empty_limit.body["detail"][0]["input"], "");
    // The limits themselves are fine, and written as Python reads integers.
    for query in [
        "limit=1",
        "limit=1000&offset=0",
        "error_type=&limit=5.0",
        "limit=+5",
        "limit=1_0",
        "offset=99999999999999999999",
    ] {
        assert_eq!(
            get(&app, &format!("{ERRORS}/web?{query}")).await.status,
            StatusCode::OK,
            "{query}"
        );
    }

    let run = get(&app, "/api/v1/runs/abc").await;
    assert_eq!(run.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(run.body["detail"][0]["loc"], json!(["path", "run_id"]));
    let missing = get(&app, "/api/v1/runs/999999").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.body["detail"], "there is no run 999999");
}

/// The original service's routes match the decoded path, as its router
/// did: a repository with a `/` cannot be named there, and `a%2Fsummary`
/// is the summary of `a`. snag's own routes take it as `%2F`.
#[tokio::test]
async fn a_slash_in_a_repository_name_follows_each_routers_rules() {
    let db = TestDb::new().await;
    seed(&db, "org/web").await;
    seed(&db, "org").await;
    let app = app_for(&db);
    for uri in [
        format!("{ERRORS}/org%2Fweb?limit=3"),
        format!("{ERRORS}/org%2Fweb/summary"),
        "/api/v1/indexing/batch/status/org%2Fweb".to_owned(),
        format!("{ERRORS}/org/web"),
        format!("{ERRORS}/org//summary"),
    ] {
        let answer = get(&app, &uri).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(answer.body, json!({"detail": "Not Found"}), "{uri}");
    }
    let summary = get(&app, &format!("{ERRORS}/org%2Fsummary")).await;
    assert_eq!(summary.status, StatusCode::OK);
    assert_eq!(summary.body["repository"], "org");
    assert_eq!(summary.body["total_errors"], 12);
    let accent = get(&app, &format!("{ERRORS}/caf%C3%A9")).await;
    assert_eq!(accent.body["repository"], "café");

    let errors = get(&app, "/api/v1/repositories/org%2Fweb/errors?limit=3").await;
    assert_eq!(errors.status, StatusCode::OK);
    assert_eq!(errors.body["repository"], "org/web");
    assert_eq!(errors.body["total"], 12);
    let groups = get(&app, "/api/v1/repositories/org%2Fweb/groups").await;
    assert_eq!(groups.status, StatusCode::OK);
    assert_eq!(groups.body["repository"], "org/web");
}

/// A trailing slash is redirected to the route without it (307, the query
/// kept), and HEAD is not a method of the original's GET routes.
#[tokio::test]
async fn trailing_slashes_redirect_and_head_is_not_allowed() {
    let db = TestDb::new().await;
    let app = app_for(&db);
    for (uri, location) in [
        (
            format!("{ERRORS}/web/?limit=5"),
            format!("http://localhost{ERRORS}/web?limit=5"),
        ),
        (
            format!("{ERRORS}/web/summary/"),
            format!("http://localhost{ERRORS}/web/summary"),
        ),
        (
            "/api/v1/indexing/batch/status/web/".to_owned(),
            "http://localhost/api/v1/indexing/batch/status/web".to_owned(),
        ),
        (
            "/api/v1/runs/".to_owned(),
            "http://localhost/api/v1/runs".to_owned(),
        ),
    ] {
        let request = Request::get(&uri)
            .header(header::HOST, "localhost")
            .body(Body::empty())
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT, "{uri}");
        assert_eq!(response.headers()[header::LOCATION], location.as_str());
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        assert!(body.is_empty());
    }
    let response = app
        .clone()
        .oneshot(
            Request::post("/api/v1/indexing/batch/start/")
                .header(header::HOST, "localhost")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    for uri in [
        ERRORS.to_owned(),
        format!("{ERRORS}/"),
        "/api/v1/indexing/batch/status/".to_owned(),
    ] {
        assert_eq!(get(&app, &uri).await.status, StatusCode::NOT_FOUND, "{uri}");
    }

    let head = send(
        &app,
        Request::head(format!("{ERRORS}/web"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(head.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(head.headers[header::ALLOW], "GET");
    let wrong = send(
        &app,
        Request::get("/api/v1/indexing/batch/start")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong.headers[header::ALLOW], "POST");
    assert_eq!(wrong.body, json!({"detail": "Method Not Allowed"}));
}

#[tokio::test]
async fn bearer_token_is_required_on_every_route_when_set() {
    let db = TestDb::new().await;
    let mut config = config(&[std::env::temp_dir()]);
    config.token = Some("s3cret-token".into());
    let app = app(&db, config);
    for uri in [
        format!("{ERRORS}/web"),
        format!("{ERRORS}/web/summary"),
        "/api/v1/indexing/batch/status/web".to_owned(),
        "/api/v1/runs".to_owned(),
        "/api/openapi.json".to_owned(),
    ] {
        let anonymous = get(&app, &uri).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{uri}");
        assert!(anonymous.body["detail"].as_str().is_some(), "{uri}");
        assert_eq!(anonymous.headers[header::WWW_AUTHENTICATE], "Bearer");
        for wrong in [
            "Bearer s3cret",
            "Bearer s3cret-token2",
            "Basic s3cret-token",
        ] {
            let request = Request::get(&uri)
                .header(header::AUTHORIZATION, wrong)
                .body(Body::empty())
                .unwrap();
            assert_eq!(send(&app, request).await.status, StatusCode::UNAUTHORIZED);
        }
        let request = Request::get(&uri)
            .header(header::AUTHORIZATION, "Bearer s3cret-token")
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(&app, request).await.status, StatusCode::OK, "{uri}");
    }
    let start = post_json(&app, "POST", "/api/v1/indexing/batch/start", &json!({})).await;
    assert_eq!(start.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_bodies_get_clean_4xx_answers() {
    let db = TestDb::new().await;
    let app = app_for(&db);
    let start = "/api/v1/indexing/batch/start";

    let raw = |body: &'static str, content_type: &'static str| {
        Request::post(start)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap()
    };
    // Each answer is the original service's (FastAPI on Pydantic 2), byte for byte.
    let broken = send(&app, raw("{bad", "application/json")).await;
    assert_eq!(broken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        broken.body,
        json!({"detail": [{"type": "json_invalid", "loc": ["body", 1], "msg": "JSON decode error",
            "input": {}, "ctx": {"error": "Expecting property name enclosed in double quotes"}}]})
    );
    let cut = send(&app, raw("{\"directory\": ", "application/json")).await;
    assert_eq!(cut.body["detail"][0]["loc"], json!(["body", 14]));
    assert_eq!(cut.body["detail"][0]["ctx"]["error"], "Expecting value");

    let nothing = post_json(&app, "POST", start, &json!({})).await;
    assert_eq!(
        nothing.body,
        json!({"detail": [
            {"type": "missing", "loc": ["body", "directory"], "msg": "Field required", "input": {}},
            {"type": "missing", "loc": ["body", "repository"], "msg": "Field required", "input": {}}
        ]})
    );
    let missing = post_json(&app, "POST", start, &json!({"repository": "r"})).await;
    assert_eq!(
        missing.body,
        json!({"detail": [{"type": "missing", "loc": ["body", "directory"], "msg": "Field required",
            "input": {"repository": "r"}}]})
    );
    let empty = send(&app, raw("", "application/json")).await;
    assert_eq!(
        empty.body,
        json!({"detail": [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": null}]})
    );

    let wrong_types = post_json(
        &app,
        "POST",
        start,
        &json!({"directory": 5, "repository": null, "extensions": "ts", "include_tests": "maybe"}),
    )
    .await;
    assert_eq!(wrong_types.status, StatusCode::UNPROCESSABLE_ENTITY);
    let kinds: Vec<&str> = wrong_types.body["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["string_type", "string_type", "list_type", "bool_parsing"]
    );
    assert_eq!(wrong_types.body["detail"][0]["input"], 5);

    for (body, content_type) in [
        ("directory=/srv/code", "text/plain"),
        ("[1]", "application/json"),
    ] {
        let answer = send(&app, raw(body, content_type)).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{content_type}"
        );
        assert_eq!(answer.body["detail"][0]["type"], "model_attributes_type");
        assert_eq!(
            answer.body["detail"][0]["msg"],
            "Input should be a valid dictionary or object to extract fields from"
        );
    }
    let plain = send(&app, raw("directory=/srv/code", "text/plain")).await;
    assert_eq!(plain.body["detail"][0]["input"], "directory=/srv/code");

    let huge = json!({"directory": "x".repeat(100 * 1024), "repository": "web"});
    let too_large = post_json(&app, "POST", start, &huge).await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        too_large.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("64 KiB"))
    );

    let unknown = get(&app, "/api/v1/nothing/here").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.body, json!({"detail": "Not Found"}));

    let delete = send(
        &app,
        Request::delete(format!("{ERRORS}/web"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(delete.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(delete.body, json!({"detail": "Method Not Allowed"}));
}

/// Text PostgreSQL cannot store (NUL), or that has no place in a name, is
/// refused before any SQL, naming the parameter.
#[tokio::test]
async fn control_characters_and_invalid_text_are_422_before_any_sql() {
    let db = TestDb::new().await;
    seed(&db, "web").await;
    let group_id = insert_group(&db, "web").await;
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("a.ts"), "export const a = 1;\n").unwrap();
    let app = app(&db, config(&[root.path().to_path_buf()]));

    for (uri, loc) in [
        (format!("{ERRORS}/a%00b"), ["path", "repository"]),
        (format!("{ERRORS}/a%00b/summary"), ["path", "repository"]),
        (format!("{ERRORS}/%FF"), ["path", "repository"]),
        (
            "/api/v1/indexing/batch/status/a%00b".to_owned(),
            ["path", "repository"],
        ),
        (
            "/api/v1/repositories/web%1B%5B2J/groups".to_owned(),
            ["path", "repository"],
        ),
        (
            "/api/v1/runs?repository=%00".to_owned(),
            ["query", "repository"],
        ),
        (
            "/api/v1/runs?repository=web%0A".to_owned(),
            ["query", "repository"],
        ),
        (
            "/api/v1/runs?repository=%FF".to_owned(),
            ["query", "repository"],
        ),
        (
            "/api/v1/repositories/web/groups?q=a%00".to_owned(),
            ["query", "q"],
        ),
        (
            format!("{ERRORS}/web?error_type=%00"),
            ["query", "error_type"],
        ),
    ] {
        let answer = get(&app, &uri).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{uri}: {}",
            answer.body
        );
        let detail = &answer.body["detail"][0];
        assert_eq!(detail["loc"], json!(loc), "{uri}");
        assert!(
            detail["msg"]
                .as_str()
                .is_some_and(|m| m.contains("control characters") || m.contains("UTF-8")),
            "{uri}: {detail}"
        );
    }
    // The same names without the control characters are fine.
    let fine = get(&app, "/api/v1/runs?repository=web").await;
    assert_eq!(fine.status, StatusCode::OK);

    let start = "/api/v1/indexing/batch/start";
    let directory = root.path().display().to_string();
    for (body, field) in [
        (
            json!({"directory": directory, "repository": "a\u{0}b"}),
            "repository",
        ),
        (
            json!({"directory": directory, "repository": "web\u{1b}[2J"}),
            "repository",
        ),
        (
            json!({"directory": format!("{directory}\u{0}"), "repository": "web"}),
            "directory",
        ),
        (
            json!({"directory": directory, "repository": "web", "extensions": [".ts\u{0}"]}),
            "extensions",
        ),
    ] {
        let answer = post_json(&app, "POST", start, &body).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            answer.body
        );
        assert_eq!(answer.body["detail"][0]["loc"], json!(["body", field]));
        let input = answer.body["detail"][0]["input"].as_str().unwrap();
        assert!(!input.chars().any(char::is_control), "{input:?}");
    }
    assert!(
        db.store.list_runs(None, 10).await.unwrap().is_empty(),
        "no run was started"
    );

    // A note may span lines, but not hold NUL.
    let group = format!("/api/v1/groups/{group_id}");
    let nul = post_json(&app, "PATCH", &group, &json!({"note": "a\u{0}b"})).await;
    assert_eq!(nul.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", nul.body);
    assert_eq!(nul.body["detail"][0]["loc"], json!(["body", "note"]));
    assert_eq!(get(&app, &group).await.body["note"], Value::Null);
    let lines = post_json(
        &app,
        "PATCH",
        &group,
        &json!({"note": "reported upstream\n\tsee the grammar's issue"}),
    )
    .await;
    assert_eq!(lines.status, StatusCode::OK, "{}", lines.body);
    assert_eq!(
        lines.body["note"],
        "reported upstream\n\tsee the grammar's issue"
    );
}

/// A server that lost its database says so (503, to try again), and keeps
/// the cause (here the database's own words) to its log.
#[tokio::test]
async fn server_errors_do_not_echo_their_cause() {
    let db = TestDb::new().await;
    let app = app_for(&db);
    db.store.close().await;
    for uri in [format!("{ERRORS}/web"), "/api/v1/runs".to_owned()] {
        let answer = get(&app, &uri).await;
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{uri}");
        assert_eq!(
            answer.body,
            json!({"detail": snag::api::error::UNAVAILABLE_DETAIL}),
            "{uri}"
        );
        assert_eq!(answer.headers[header::RETRY_AFTER], "2");
    }
}

#[tokio::test]
async fn start_refuses_what_it_must_not_index() {
    let db = TestDb::new().await;
    let base = tempfile::tempdir().unwrap();
    let allowed = base.path().join("allowed");
    let outside = base.path().join("outside");
    std::fs::create_dir_all(allowed.join("empty")).unwrap();
    std::fs::create_dir_all(allowed.join("python")).unwrap();
    std::fs::write(allowed.join("python/a.py"), "print(1)\n").unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("a.ts"), "export const a = 1;\n").unwrap();
    std::os::unix::fs::symlink(&outside, allowed.join("link")).unwrap();
    let app = app(&db, config(std::slice::from_ref(&allowed)));
    let start = |directory: std::path::PathBuf, extensions: Value| {
        let app = app.clone();
        async move {
            post_json(
                &app,
                "POST",
                "/api/v1/indexing/batch/start",
                &json!({"directory": directory, "repository": "web", "extensions": extensions}),
            )
            .await
        }
    };
    let ts = json!([".ts", ".js"]);

    // Outside is 403 whether the path exists or not: the answer tells nothing
    // about what lies outside.
    for escape in [
        outside.clone(),
        allowed.join("link"),
        allowed.join("empty/../../outside"),
        outside.join("missing"),
        allowed.join("link/missing"),
        allowed.join("missing/../../outside/missing"),
        base.path().join("nowhere/at/all"),
        std::path::PathBuf::from("/root/.ssh"),
    ] {
        let answer = start(escape.clone(), ts.clone()).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", escape.display());
        assert!(
            answer.body["detail"]
                .as_str()
                .is_some_and(|d| d.contains("--allow-root")),
            "{}",
            answer.body
        );
    }
    let missing = start(allowed.join("missing"), ts.clone()).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(
        missing.body["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("Directory not found or invalid"))
    );
    let empty = start(allowed.join("python"), ts.clone()).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        empty.body["detail"],
        format!(
            "No files found in {} with extensions ['.ts', '.js']",
            allowed.join("python").display()
        )
    );
    let unsupported = start(allowed.join("python"), json!([".py"])).await;
    assert_eq!(unsupported.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        unsupported.body["detail"][0]["loc"],
        json!(["body", "extensions"])
    );
    assert!(
        db.store.list_runs(None, 10).await.unwrap().is_empty(),
        "no run was started"
    );
}

/// The original plan's flow: start, poll the status until done, read the errors.
#[tokio::test]
async fn start_status_errors_groups_and_runs_on_the_hostile_corpus() {
    let db = TestDb::new().await;
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("corpus");
    std::fs::create_dir_all(&dir).unwrap();
    hostile_corpus(&dir);
    let app = app(&db, config(&[root.path().to_path_buf()]));

    let all_extensions = json!([".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"]);
    let started = post_json(
        &app,
        "POST",
        "/api/v1/indexing/batch/start",
        &json!({"directory": dir, "repository": "hostile-corpus", "extensions": all_extensions}),
    )
    .await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    assert_eq!(
        keys(&started.body),
        [
            "job_id",
            "message",
            "repository",
            "status",
            "total_batches",
            "total_files"
        ]
    );
    let job_id = started.body["job_id"].as_str().unwrap().to_owned();
    let run_id: i64 = job_id.parse().unwrap();
    let total_files = started.body["total_files"].as_u64().unwrap();
    assert!(total_files >= 25, "{}", started.body);
    assert_eq!(started.body["total_batches"], total_files.div_ceil(40));
    assert_eq!(started.body["repository"], "hostile-corpus");
    assert_eq!(
        started.body["message"],
        format!(
            "Batch indexing started. Found {total_files} files. \
             Use GET /status/hostile-corpus to monitor progress."
        ),
        "the original service's message"
    );

    let status_uri = "/api/v1/indexing/batch/status/hostile-corpus";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let status = loop {
        let status = get(&app, status_uri).await;
        assert_eq!(status.status, StatusCode::OK);
        assert_eq!(
            keys(&status.body),
            [
                "completed_at",
                "current_batch",
                "failed_files",
                "job_id",
                "processed_files",
                "progress",
                "progress_percent",
                "repository",
                "started_at",
                "status",
                "total_batches",
                "total_files"
            ]
        );
        assert_eq!(status.body["job_id"], job_id.as_str());
        let percent = status.body["progress_percent"].as_f64().unwrap();
        assert!((0.0..=100.0).contains(&percent));
        let done = status.body["processed_files"].as_u64().unwrap()
            + status.body["failed_files"].as_u64().unwrap();
        match status.body["status"].as_str().unwrap() {
            "pending" => {
                assert_eq!(done, 0);
                assert_eq!(status.body["current_batch"], 0);
                assert_eq!(status.body["completed_at"], "");
            }
            "processing" => {
                assert!(done > 0);
                assert!(status.body["current_batch"].as_u64().unwrap() >= 1);
                assert_eq!(status.body["completed_at"], "");
            }
            "completed" => break status.body,
            other => panic!("run ended {other}: {}", status.body),
        }
        assert!(tokio::time::Instant::now() < deadline, "run did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // As the original counts: failed files are not processed ones.
    let processed = status["processed_files"].as_u64().unwrap();
    let failed = status["failed_files"].as_u64().unwrap();
    assert_eq!(status["total_files"], total_files);
    assert!(failed > 0);
    assert_eq!(processed + failed, total_files);
    assert_eq!(status["progress"], format!("{processed}/{total_files}"));
    let percent = (processed as f64 / total_files as f64 * 100.0 * 100.0).round() / 100.0;
    assert!((status["progress_percent"].as_f64().unwrap() - percent).abs() < 0.011);
    assert_eq!(status["current_batch"], status["total_batches"]);
    let started_at = status["started_at"].as_str().unwrap();
    assert!(started_at.ends_with("+00:00"), "{started_at}");
    let completed_at = status["completed_at"].as_str().unwrap();
    assert!(
        completed_at.len() >= 19 && !completed_at.contains('+') && !completed_at.ends_with('Z'),
        "{completed_at}"
    );

    // The original's paths: under the directory as it was given.
    let listed = get(&app, &format!("{ERRORS}/hostile-corpus?limit=1000")).await;
    let directory = format!("{}/", dir.display());
    for error in listed.body["errors"].as_array().unwrap() {
        let path = error["file_path"].as_str().unwrap();
        assert!(path.starts_with(&directory), "{path}");
        let at = error["occurred_at"].as_str().unwrap();
        assert!(!at.ends_with('Z') && !at.contains('+'), "{at}");
    }
    let errors = get(
        &app,
        &format!("{ERRORS}/hostile-corpus?error_type=parsing_error&limit=1000&fields=all"),
    )
    .await;
    assert!(errors.body["total"].as_u64().unwrap() > 0);
    let first = &errors.body["errors"][0];
    assert_eq!(first["run_id"], run_id);
    assert!(
        first["details"]["sites"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );
    let summary = get(&app, &format!("{ERRORS}/hostile-corpus/summary")).await;
    assert!(summary.body["summary"]["encoding_error"].as_u64().unwrap() >= 1);

    // Runs.
    let runs = get(&app, "/api/v1/runs?repository=hostile-corpus&limit=5").await;
    assert_eq!(runs.body["runs"][0]["run_id"], run_id);
    assert_eq!(runs.body["runs"][0]["status"], "completed");
    let run = get(&app, &format!("/api/v1/runs/{run_id}")).await;
    assert_eq!(run.body["repository"], "hostile-corpus");
    assert_eq!(run.body["files_total"], total_files);
    assert_eq!(run.body["files_discovered"], total_files);
    assert_eq!(
        run.body["errors_by_type"], summary.body["summary"],
        "one run: the run's counts are the repository's"
    );
    let files = get(&app, &format!("/api/v1/runs/{run_id}/files")).await;
    assert_eq!(files.body["total"], total_files);
    let failed = get(&app, &format!("/api/v1/runs/{run_id}/files?outcome=failed")).await;
    assert!(
        failed.body["files"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["outcome"] == "failed")
    );
    let bad_outcome = get(&app, &format!("/api/v1/runs/{run_id}/files?outcome=broken")).await;
    assert_eq!(bad_outcome.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Groups: list, filter, triage.
    let groups = get(&app, "/api/v1/repositories/hostile-corpus/groups").await;
    let total_groups = groups.body["total"].as_i64().unwrap();
    assert!(total_groups >= 3);
    let group_id = groups.body["groups"][0]["group_id"].as_i64().unwrap();
    let encoding = get(
        &app,
        "/api/v1/repositories/hostile-corpus/groups?error_type=encoding_error,io_error",
    )
    .await;
    assert!(
        encoding.body["groups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["error_type"] == "encoding_error" || g["error_type"] == "io_error")
    );
    let uri = format!("/api/v1/groups/{group_id}");
    let ignored = post_json(&app, "PATCH", &uri, &json!({"status": "ignored"})).await;
    assert_eq!(ignored.status, StatusCode::OK, "{}", ignored.body);
    assert_eq!(ignored.body["status"], "ignored");
    let noted = post_json(
        &app,
        "POST",
        &uri,
        &json!({"note": "grammar gap, reported"}),
    )
    .await;
    assert_eq!(noted.body["note"], "grammar gap, reported");
    assert_eq!(noted.body["status"], "ignored");
    let fetched = get(&app, &uri).await;
    assert_eq!(fetched.body, noted.body);
    let only_ignored = get(
        &app,
        "/api/v1/repositories/hostile-corpus/groups?status=ignored",
    )
    .await;
    assert_eq!(only_ignored.body["total"], 1);
    let bad_status = post_json(&app, "PATCH", &uri, &json!({"status": "closed"})).await;
    assert_eq!(bad_status.status, StatusCode::UNPROCESSABLE_ENTITY);
    let nothing = post_json(&app, "PATCH", &uri, &json!({})).await;
    assert_eq!(nothing.status, StatusCode::UNPROCESSABLE_ENTITY);
    let no_group = post_json(
        &app,
        "PATCH",
        "/api/v1/groups/999999",
        &json!({"status": "open"}),
    )
    .await;
    assert_eq!(no_group.status, StatusCode::NOT_FOUND);
}

/// A completed run of `repository` with `n` files, every tenth one failed.
async fn run_with_files(db: &TestDb, repository: &str, n: i64) -> i64 {
    let run_id: i64 = sqlx::query_scalar(
        "INSERT INTO index_runs (repository, root, status, tool_version, files_total) \
         VALUES ($1, '/srv/web', 'completed', '0', $2) RETURNING run_id",
    )
    .bind(repository)
    .bind(n as i32)
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO indexed_files (run_id, repository, file_path, outcome, error_type, bytes, chunks) \
         SELECT $1, $3, format('src/m%s.ts', lpad(i::text, 5, '0')), \
           CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'indexed' END, \
           CASE WHEN i % 10 = 0 THEN 'parsing_error' END, 100, 1 \
         FROM generate_series(1, $2) i",
    )
    .bind(run_id)
    .bind(n)
    .bind(repository)
    .execute(db.store.pool())
    .await
    .unwrap();
    run_id
}

#[tokio::test]
async fn a_run_going_on_in_another_process_shows_its_rows_progress() {
    let db = TestDb::new().await;
    let app = app_for(&db);
    // As another snag's row reads mid-run: discovery is over, 40 of its
    // 100 files are stored.
    let run_id: i64 = sqlx::query_scalar(
        "INSERT INTO index_runs (repository, root, status, tool_version, files_discovered, \
           files_total, files_indexed, files_partial, files_failed) \
         VALUES ('web', '/srv/web', 'running', '0', 100, 40, 35, 2, 3) RETURNING run_id",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    let status = get(&app, "/api/v1/indexing/batch/status/web").await;
    assert_eq!(status.body["job_id"], run_id.to_string());
    assert_eq!(status.body["status"], "processing");
    assert_eq!(status.body["total_files"], 100);
    // Done without errors, and with them, as the original counts.
    assert_eq!(status.body["processed_files"], 35);
    assert_eq!(status.body["failed_files"], 5);
    assert_eq!(status.body["progress"], "35/100");
    assert_eq!(status.body["progress_percent"], 35.0);
    assert_eq!(status.body["current_batch"], 2);
    assert_eq!(status.body["total_batches"], 3);
    let run = get(&app, &format!("/api/v1/runs/{run_id}")).await;
    assert_eq!(run.body["files_discovered"], 100);
    assert_eq!(run.body["files_total"], 40);

    // A run whose row has no total yet (an older snag never sets it): the
    // files stored so far stand in for it, as before.
    sqlx::query("UPDATE index_runs SET files_discovered = NULL WHERE run_id = $1")
        .bind(run_id)
        .execute(db.store.pool())
        .await
        .unwrap();
    let status = get(&app, "/api/v1/indexing/batch/status/web").await;
    assert_eq!(status.body["progress"], "35/40");
    let run = get(&app, &format!("/api/v1/runs/{run_id}")).await;
    assert_eq!(run.body["files_discovered"], Value::Null);
}

#[tokio::test]
async fn a_runs_files_are_paged() {
    let db = TestDb::new().await;
    let run_id = run_with_files(&db, "web", 2500).await;
    let app = app_for(&db);
    let uri = format!("/api/v1/runs/{run_id}/files");
    let paths = |answer: &Answer| -> Vec<String> {
        answer.body["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["file_path"].as_str().unwrap().to_owned())
            .collect()
    };

    let first = get(&app, &uri).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(
        keys(&first.body),
        ["files", "filters", "repository", "run_id", "total"]
    );
    assert_eq!(first.body["total"], 2500);
    assert_eq!(
        first.body["filters"],
        json!({"outcome": null, "limit": 100, "offset": 0})
    );
    assert_eq!(paths(&first).len(), 100, "the default page");
    assert_eq!(paths(&first)[0], "src/m00001.ts");

    let last = get(&app, &format!("{uri}?limit=1000&offset=2000")).await;
    let last_paths = paths(&last);
    assert_eq!(last_paths.len(), 500);
    assert_eq!(
        (last_paths[0].as_str(), last_paths[499].as_str()),
        ("src/m02001.ts", "src/m02500.ts")
    );
    assert_eq!(last.body["total"], 2500);

    // Consecutive pages follow each other without overlap.
    let one = paths(&get(&app, &format!("{uri}?limit=7")).await);
    let two = paths(&get(&app, &format!("{uri}?limit=7&offset=7")).await);
    let fourteen = paths(&get(&app, &format!("{uri}?limit=14")).await);
    assert_eq!([one, two].concat(), fourteen);

    let failed = get(&app, &format!("{uri}?outcome=failed&limit=10&offset=5")).await;
    assert_eq!(failed.body["total"], 250);
    assert_eq!(
        failed.body["filters"],
        json!({"outcome": "failed", "limit": 10, "offset": 5})
    );
    let failed_paths = paths(&failed);
    assert_eq!(failed_paths.len(), 10);
    assert_eq!(failed_paths[0], "src/m00060.ts");
    assert!(
        failed.body["files"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["outcome"] == "failed")
    );

    let beyond = get(&app, &format!("{uri}?offset=5000")).await;
    assert_eq!(
        (paths(&beyond).len(), beyond.body["total"].as_i64()),
        (0, Some(2500))
    );

    for (query, parameter) in [
        ("limit=1001", "limit"),
        ("limit=0", "limit"),
        ("offset=-1", "offset"),
    ] {
        let wrong = get(&app, &format!("{uri}?{query}")).await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(wrong.body["detail"][0]["loc"], json!(["query", parameter]));
    }

    // `snag files` still prints every file, in the same shape.
    let all = support::snag_json(&db, &["files", "web", "--format", "json"]);
    assert_eq!(keys(&all), keys(&first.body));
    assert_eq!(all["files"].as_array().unwrap().len(), 2500);
    assert_eq!(all["total"], 2500);
    assert_eq!(
        all["filters"],
        json!({"outcome": null, "limit": null, "offset": 0})
    );
    assert_eq!(all["files"][0], first.body["files"][0]);
}

#[tokio::test]
async fn openapi_document_lists_every_route() {
    let db = TestDb::new().await;
    let app = app_for(&db);
    let document = get(&app, "/api/openapi.json").await;
    assert_eq!(document.status, StatusCode::OK);
    assert!(document.body["openapi"].as_str().unwrap().starts_with("3."));
    let paths = document.body["paths"].as_object().unwrap();
    let expected = [
        ("get", "/api/v1/indexing/batch/errors/{repository}"),
        ("get", "/api/v1/indexing/batch/errors/{repository}/summary"),
        ("post", "/api/v1/indexing/batch/start"),
        ("get", "/api/v1/indexing/batch/status/{repository}"),
        ("get", "/api/v1/runs"),
        ("get", "/api/v1/runs/{run_id}"),
        ("get", "/api/v1/runs/{run_id}/files"),
        ("get", "/api/v1/runs/{a}/diff/{b}"),
        ("get", "/api/v1/repositories/{repository}/groups"),
        ("get", "/api/v1/repositories/{repository}/errors"),
        ("get", "/api/v1/groups/{group_id}"),
        ("patch", "/api/v1/groups/{group_id}"),
        ("post", "/api/v1/groups/{group_id}"),
        ("get", "/api/openapi.json"),
    ];
    let documented: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| ["get", "post", "patch", "put", "delete"].contains(&k.as_str()))
                .map(|method| (method.clone(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    for (method, path) in expected {
        assert!(
            documented.contains(&(method.to_owned(), path.to_owned())),
            "{method} {path} is not documented"
        );
    }
    assert_eq!(documented.len(), expected.len(), "{documented:?}");
    assert!(
        document.body["components"]["schemas"]["ErrorListBody"].is_object(),
        "bodies are described"
    );

    // Every documented route is served (none falls through to "Not Found").
    for (method, path) in &documented {
        let uri = path
            .replace("{repository}", "web")
            .replace("{run_id}", "1")
            .replace("{group_id}", "1");
        let request = Request::builder()
            .method(method.to_uppercase().as_str())
            .uri(&uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .unwrap();
        let answer = send(&app, request).await;
        assert_ne!(
            answer.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {uri}"
        );
        assert_ne!(
            answer.body,
            json!({"detail": "Not Found"}),
            "{method} {uri}"
        );
    }
    assert_eq!(
        document.body,
        serde_json::to_value(api::openapi_document()).unwrap()
    );
}

/// A real listener, for what only a socket can show: slow clients.
async fn serve_on_loopback(db: &TestDb, limits: Limits) -> std::net::SocketAddr {
    let mut config = config(&[std::env::temp_dir()]);
    config.limits = limits;
    let app = app(db, config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(api::server::serve(
        listener,
        app,
        limits.header_timeout,
        std::future::pending(),
    ));
    address
}

#[tokio::test]
async fn slow_clients_are_cut_off_cleanly() {
    let db = TestDb::new().await;
    let limits = Limits {
        body_timeout: Duration::from_millis(500),
        header_timeout: Duration::from_millis(500),
        ..Limits::default()
    };
    let address = serve_on_loopback(&db, limits).await;

    // A body that never arrives in full: 408 with a JSON detail.
    let mut slow_body = tokio::net::TcpStream::connect(address).await.unwrap();
    slow_body
        .write_all(
            b"POST /api/v1/indexing/batch/start HTTP/1.1\r\nHost: localhost\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"dir",
        )
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), slow_body.read_to_end(&mut answer))
        .await
        .expect("the server answers and closes")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"detail\""), "{answer}");

    // Headers that never end: the connection is closed.
    let mut slow_headers = tokio::net::TcpStream::connect(address).await.unwrap();
    slow_headers
        .write_all(b"GET /api/openapi.json HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let closed =
        tokio::time::timeout(Duration::from_secs(10), slow_headers.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the connection was left open");

    // And the server still serves.
    let mut fine = tokio::net::TcpStream::connect(address).await.unwrap();
    fine.write_all(b"GET /api/v1/runs HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    fine.read_to_end(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
}

/// An open error group of `repository`, as a run would have left it.
async fn insert_group(db: &TestDb, repository: &str) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO error_groups (repository, fingerprint, error_type, title, occurrences, last_run_files) \
         VALUES ($1, '0123456789abcdef', 'parsing_error', 'unexpected `{`', 1, 1) RETURNING group_id",
    )
    .bind(repository)
    .fetch_one(db.store.pool())
    .await
    .unwrap()
}

fn with_host(method: &str, uri: &str, host: &str, origin: Option<&str>) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, host);
    if let Some(origin) = origin {
        request = request.header(header::ORIGIN, origin);
    }
    if method == "GET" {
        request.body(Body::empty()).unwrap()
    } else {
        request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"status": "ignored"}"#))
            .unwrap()
    }
}

/// DNS rebinding: a page whose name now points at 127.0.0.1 reaches the
/// server with its own name as the Host; a page posting across sites says
/// where it comes from in Origin.
#[tokio::test]
async fn without_a_token_only_its_own_names_and_origin_are_answered() {
    let db = TestDb::new().await;
    seed(&db, "web").await;
    let group_id = insert_group(&db, "web").await;
    let mut config = config(&[std::env::temp_dir()]);
    config.allowed_hosts = vec!["snag.test".to_owned()];
    config.address = Some("127.0.0.1:8001".parse().unwrap());
    let app = app(&db, config);
    let list = format!("{ERRORS}/web");

    for host in [
        "localhost",
        "localhost:8001",
        "127.0.0.1",
        "127.0.0.1:8001",
        "[::1]",
        "[::1]:8001",
        "snag.test",
        "snag.test:8001",
    ] {
        let answer = send(&app, with_host("GET", &list, host, None)).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "Host {host}: {}",
            answer.body
        );
    }
    for host in [
        "evil.example",
        "evil.example:8001",
        "localhost.evil.example",
        "127.0.0.1.evil.example:8001",
        "[::2]:8001",
    ] {
        for uri in [list.as_str(), "/api/openapi.json", "/api/v1/runs"] {
            let answer = send(&app, with_host("GET", uri, host, None)).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "Host {host} {uri}");
            let detail = answer.body["detail"].as_str().unwrap();
            assert!(
                detail.contains(host) && detail.contains("--allow-host"),
                "{detail}"
            );
        }
        let start = send(
            &app,
            with_host("POST", "/api/v1/indexing/batch/start", host, None),
        )
        .await;
        assert_eq!(start.status, StatusCode::FORBIDDEN, "Host {host}");
    }

    // State changes from another site's page are refused, whatever the method.
    let group = format!("/api/v1/groups/{group_id}");
    for origin in [
        "http://evil.example",
        "http://evil.example:8001",
        "null",
        "http://localhost:8002",
        "https://localhost:8001",
    ] {
        for method in ["PATCH", "POST"] {
            let answer = send(
                &app,
                with_host(method, &group, "localhost:8001", Some(origin)),
            )
            .await;
            assert_eq!(
                answer.status,
                StatusCode::FORBIDDEN,
                "{method} from {origin}"
            );
            let detail = answer.body["detail"].as_str().unwrap();
            assert!(
                detail.contains("cross-site") && detail.contains(origin),
                "{detail}"
            );
        }
        let start = send(
            &app,
            with_host(
                "POST",
                "/api/v1/indexing/batch/start",
                "127.0.0.1:8001",
                Some(origin),
            ),
        )
        .await;
        assert_eq!(start.status, StatusCode::FORBIDDEN, "start from {origin}");
    }
    let group_row = get(&app, &group).await;
    assert_eq!(
        group_row.body["status"], "open",
        "no refused change was made"
    );
    assert!(db.store.list_runs(None, 10).await.unwrap().is_empty());
    // Reading from another page is not a change (and the browser keeps the answer from it).
    let read = send(
        &app,
        with_host("GET", &group, "localhost", Some("http://evil.example")),
    )
    .await;
    assert_eq!(read.status, StatusCode::OK);

    // The server's own pages, and clients that send no Origin, may change state.
    for origin in [
        Some("http://localhost:8001"),
        Some("http://127.0.0.1:8001"),
        Some("http://[::1]:8001"),
        Some("http://snag.test:8001"),
        None,
    ] {
        let answer = send(&app, with_host("PATCH", &group, "localhost:8001", origin)).await;
        assert_eq!(answer.status, StatusCode::OK, "{origin:?}: {}", answer.body);
        assert_eq!(answer.body["status"], "ignored");
    }
}

/// With a token the Host does not matter: a page cannot send the token.
#[tokio::test]
async fn with_a_token_any_host_is_answered() {
    let db = TestDb::new().await;
    let mut config = config(&[std::env::temp_dir()]);
    config.token = Some("s3cret-token".into());
    let app = app(&db, config);
    let request = Request::get("/api/v1/runs")
        .header(header::HOST, "snag.example.com")
        .header(header::AUTHORIZATION, "Bearer s3cret-token")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, request).await.status, StatusCode::OK);
}

/// `snag serve --allow-host`, end to end: the bound port is the server's own
/// origin's.
#[tokio::test]
async fn serve_answers_its_loopback_names_and_allowed_hosts_only() {
    let db = TestDb::new().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = snag()
        .args(["--database-url", &db.url(), "serve", "--bind"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["--allow-host", "snag.test", "--allow-root"])
        .arg(std::env::temp_dir())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "snag serve did not listen"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status_of = |request: String| async move {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let code: u16 = answer[9..12].parse().unwrap();
        (code, answer)
    };
    let get_with = |host: &str| {
        format!("GET /api/v1/runs HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
    };
    for host in [
        format!("127.0.0.1:{port}"),
        "localhost".to_owned(),
        "snag.test".to_owned(),
    ] {
        assert_eq!(status_of(get_with(&host)).await.0, 200, "Host {host}");
    }
    let (code, answer) = status_of(get_with("rebound.example")).await;
    assert_eq!(code, 403, "{answer}");
    assert!(answer.contains("\"detail\""), "{answer}");
    let patch_from = |origin: &str| {
        format!(
            "PATCH /api/v1/groups/1 HTTP/1.1\r\nHost: localhost:{port}\r\nOrigin: {origin}\r\n\
             Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
        )
    };
    let (code, answer) = status_of(patch_from("http://evil.example")).await;
    assert_eq!(code, 403, "{answer}");
    // The server's own origin gets past the check to the body's validation.
    let (code, answer) = status_of(patch_from(&format!("http://localhost:{port}"))).await;
    assert_eq!(code, 422, "{answer}");
    let (code, answer) = status_of(patch_from(&format!("http://snag.test:{port}"))).await;
    assert_eq!(code, 422, "{answer}");
    let _ = server.kill();
    let _ = server.wait();
}

/// A body sent a byte at a time never pauses long, but must still have
/// arrived in full within the body timeout, counted from the request's
/// arrival (not the request timeout, much later).
#[tokio::test]
async fn a_trickled_body_gets_408_once_the_body_timeout_is_over() {
    let db = TestDb::new().await;
    let limits = Limits {
        body_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_secs(20),
        ..Limits::default()
    };
    let address = serve_on_loopback(&db, limits).await;
    let stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let started = tokio::time::Instant::now();
    writer
        .write_all(
            b"POST /api/v1/indexing/batch/start HTTP/1.1\r\nHost: localhost\r\n\
              Content-Type: application/json\r\nContent-Length: 400\r\n\r\n",
        )
        .await
        .unwrap();
    let trickle = tokio::spawn(async move {
        for byte in "{\"directory\": \""
            .bytes()
            .chain(std::iter::repeat(b'x'))
            .take(399)
        {
            if writer.write_all(&[byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(15), reader.read_to_end(&mut answer))
        .await
        .expect("the server answers and closes before the trickle ends")
        .unwrap();
    let elapsed = started.elapsed();
    trickle.abort();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"detail\""), "{answer}");
    assert!(
        elapsed >= Duration::from_secs(1) && elapsed < Duration::from_secs(4),
        "answered after {elapsed:?}, the body timeout being 1 s"
    );
}

#[tokio::test]
async fn serve_refuses_a_public_address_without_a_token() {
    let db = TestDb::new().await;
    let output = snag()
        .args(["--database-url", &db.url(), "serve", "--bind", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--token"), "{stderr}");
}

#[tokio::test]
async fn shutdown_cancels_runs_in_progress_and_keeps_their_rows() {
    let db = TestDb::new().await;
    let root = tempfile::tempdir().unwrap();
    for i in 0..300 {
        std::fs::write(
            root.path().join(format!("f{i:03}.ts")),
            format!("export function f{i}(a: number) {{ return a + {i}; }}\n"),
        )
        .unwrap();
    }
    let jobs = Jobs::default();
    let app = api::router(
        db.store.clone(),
        jobs.clone(),
        config(&[root.path().to_path_buf()]),
    );
    let started = post_json(
        &app,
        "POST",
        "/api/v1/indexing/batch/start",
        &json!({"directory": root.path(), "repository": "big"}),
    )
    .await;
    assert_eq!(started.status, StatusCode::CREATED);
    assert_eq!(started.body["total_files"], 300);
    // A second start while the first is going is refused, unless it already ended.
    let again = post_json(
        &app,
        "POST",
        "/api/v1/indexing/batch/start",
        &json!({"directory": root.path(), "repository": "big"}),
    )
    .await;
    assert!(
        again.status == StatusCode::CONFLICT || again.status == StatusCode::CREATED,
        "{}",
        again.body
    );
    tokio::time::timeout(Duration::from_secs(60), jobs.shutdown())
        .await
        .expect("shutdown waits for the runs, not forever");
    assert!(jobs.get("big").is_none());
    let status = get(&app, "/api/v1/indexing/batch/status/big").await;
    let ended = status.body["status"].as_str().unwrap();
    assert!(
        ended == "completed" || ended == "cancelled",
        "{}",
        status.body
    );
    // The run the status is of: the second start's when the first run had
    // already ended.
    let stored = get(
        &app,
        &format!("/api/v1/runs/{}", status.body["job_id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(
        status.body["processed_files"].as_u64().unwrap()
            + status.body["failed_files"].as_u64().unwrap(),
        stored.body["files_total"].as_u64().unwrap(),
        "a finished run's counts are what it stored"
    );
}
