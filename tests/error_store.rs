//! The error store against a real PostgreSQL: what the original service's
//! test plan covered, and the bugs it had.

mod support;

use std::collections::HashSet;

use chrono::{TimeZone, Utc};
use snag::index::details::ErrorDetails;
use snag::index::outcome::{ErrorType, Verdict};
use snag::store::errors::COUNT_UP_TO;
use snag::store::{Count, ErrorQuery, NewError, PageRequest, StoreError};
use support::TestDb;

fn sample(repository: &str, error_type: ErrorType) -> NewError {
    NewError::new(repository, "src/a.ts", error_type, "something went wrong")
}

#[tokio::test]
async fn model_defaults_and_optional_fields() {
    let e = NewError::new("repo", "src/a.ts", ErrorType::ParsingError, "msg");
    assert_eq!(e.error_traceback, None);
    assert_eq!(e.chunk_type, None);
    assert_eq!(e.language, None);
    assert_eq!(e.occurred_at, None);
    assert_eq!(e.run_id, None);
    assert_eq!(e.line, None);
    assert_eq!(e.details, ErrorDetails::default());

    // Stored with only the required fields, the optional ones read back empty
    // and the time defaults to now.
    let db = TestDb::new().await;
    let before = Utc::now();
    db.store.log_error(&e).await.unwrap();
    let page = db
        .store
        .get_errors("repo", None, PageRequest::default())
        .await
        .unwrap();
    let stored = &page.errors[0];
    assert_eq!(stored.error_traceback, None);
    assert_eq!(stored.chunk_type, None);
    assert_eq!(stored.fingerprint, None);
    assert!(stored.occurred_at >= before - chrono::Duration::seconds(5));
}

#[tokio::test]
async fn logging_creates_a_row_with_every_field() {
    let db = TestDb::new().await;
    let when = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
    let error = NewError {
        error_traceback: Some("Traceback:\n  at line 3".into()),
        chunk_type: Some("function".into()),
        language: Some("typescript".into()),
        occurred_at: Some(when),
        line: Some(3),
        column: Some(21),
        end_line: Some(3),
        end_column: Some(22),
        fingerprint: Some("parsing_error:formal_parameters".into()),
        details: ErrorDetails {
            title: "unexpected `{` in formal_parameters".into(),
            byte_offset: Some(3),
            ..Default::default()
        },
        ..NewError::new(
            "repo",
            "src/bad.ts",
            ErrorType::ParsingError,
            "3:21 unexpected `{`",
        )
    };
    let id = db.store.log_error(&error).await.unwrap();
    let page = db
        .store
        .get_errors("repo", None, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    let stored = &page.errors[0];
    assert_eq!(stored.error_id, id);
    assert_eq!(stored.repository, "repo");
    assert_eq!(stored.file_path, "src/bad.ts");
    assert_eq!(stored.error_type, ErrorType::ParsingError);
    assert_eq!(stored.error_message, "3:21 unexpected `{`");
    assert_eq!(
        stored.error_traceback.as_deref(),
        Some("Traceback:\n  at line 3")
    );
    assert_eq!(stored.chunk_type.as_deref(), Some("function"));
    assert_eq!(stored.language.as_deref(), Some("typescript"));
    assert_eq!(stored.occurred_at, when);
    assert_eq!(
        (
            stored.line,
            stored.column,
            stored.end_line,
            stored.end_column
        ),
        (Some(3), Some(21), Some(3), Some(22))
    );
    assert_eq!(
        stored.fingerprint.as_deref(),
        Some("parsing_error:formal_parameters")
    );
    assert_eq!(stored.details.title, "unexpected `{` in formal_parameters");
    assert_eq!(stored.details.byte_offset, Some(3));
}

#[tokio::test]
async fn listing_is_by_repository() {
    let db = TestDb::new().await;
    db.store
        .log_errors(&[
            sample("mine", ErrorType::ParsingError),
            sample("mine", ErrorType::IoError),
            sample("theirs", ErrorType::ParsingError),
        ])
        .await
        .unwrap();
    let mine = db
        .store
        .get_errors("mine", None, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(mine.total, 2);
    assert!(mine.errors.iter().all(|e| e.repository == "mine"));
    let none = db
        .store
        .get_errors("nobody", None, PageRequest::default())
        .await
        .unwrap();
    assert_eq!((none.total, none.errors.len()), (0, 0));
}

#[tokio::test]
async fn filtering_by_type() {
    let db = TestDb::new().await;
    db.store
        .log_errors(&[
            sample("repo", ErrorType::ParsingError),
            sample("repo", ErrorType::ParsingError),
            sample("repo", ErrorType::EncodingError),
        ])
        .await
        .unwrap();
    let parsing = db
        .store
        .get_errors(
            "repo",
            Some(ErrorType::ParsingError),
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(parsing.total, 2);
    assert!(
        parsing
            .errors
            .iter()
            .all(|e| e.error_type == ErrorType::ParsingError)
    );
}

async fn paginate_ten_in_pages_of_five(db: &TestDb) {
    let first = db
        .store
        .get_errors("repo", None, PageRequest::new(5, 0).unwrap())
        .await
        .unwrap();
    let second = db
        .store
        .get_errors("repo", None, PageRequest::new(5, 5).unwrap())
        .await
        .unwrap();
    assert_eq!((first.total, second.total), (10, 10));
    assert_eq!((first.errors.len(), second.errors.len()), (5, 5));
    let ids: HashSet<i64> = first
        .errors
        .iter()
        .chain(&second.errors)
        .map(|e| e.error_id)
        .collect();
    assert_eq!(ids.len(), 10, "pages overlap");
    // Newest first, ties broken by id.
    let all: Vec<_> = first.errors.iter().chain(&second.errors).collect();
    for pair in all.windows(2) {
        assert!((pair[0].occurred_at, pair[0].error_id) > (pair[1].occurred_at, pair[1].error_id));
    }
}

#[tokio::test]
async fn pagination_of_ten_rows_in_pages_of_five() {
    let db = TestDb::new().await;
    for i in 0..10 {
        let error = NewError {
            occurred_at: Some(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, i).unwrap()),
            ..sample("repo", ErrorType::ParsingError)
        };
        db.store.log_error(&error).await.unwrap();
    }
    paginate_ten_in_pages_of_five(&db).await;
}

#[tokio::test]
async fn same_timestamp_pagination_stays_disjoint() {
    let db = TestDb::new().await;
    let when = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let batch: Vec<NewError> = (0..10)
        .map(|_| NewError {
            occurred_at: Some(when),
            ..sample("repo", ErrorType::ParsingError)
        })
        .collect();
    db.store.log_errors(&batch).await.unwrap();
    paginate_ten_in_pages_of_five(&db).await;
}

#[tokio::test]
async fn summary_counts_by_type() {
    let db = TestDb::new().await;
    let mut batch = vec![sample("repo", ErrorType::ParsingError); 3];
    batch.push(sample("repo", ErrorType::TimeoutError));
    batch.push(sample("other", ErrorType::IoError));
    db.store.log_errors(&batch).await.unwrap();
    let summary = db.store.get_error_summary("repo").await.unwrap();
    assert_eq!(summary.len(), 2);
    assert_eq!(summary[&ErrorType::ParsingError], 3);
    assert_eq!(summary[&ErrorType::TimeoutError], 1);
    assert!(
        db.store
            .get_error_summary("nobody")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn batched_logging_returns_ids_in_order_in_one_call() {
    let db = TestDb::new().await;
    let batch: Vec<NewError> = (0..50)
        .map(|i| {
            NewError::new(
                "repo",
                format!("f{i}.ts"),
                ErrorType::IoError,
                format!("error {i}"),
            )
        })
        .collect();
    let ids = db.store.log_errors(&batch).await.unwrap();
    assert_eq!(ids.len(), 50);
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert!(db.store.log_errors(&[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn nul_and_invalid_text_is_stored_visibly() {
    let db = TestDb::new().await;
    let message = snag::store::text::from_bytes(b"bad \xff byte and a \0 nul");
    let error = NewError {
        error_traceback: Some("trace\0back".into()),
        details: ErrorDetails {
            construct: "a\u{0}b".into(),
            ..Default::default()
        },
        ..NewError::new("repo", "src/\0odd.ts", ErrorType::EncodingError, message)
    };
    db.store.log_error(&error).await.unwrap();
    let stored = &db
        .store
        .get_errors("repo", None, PageRequest::default())
        .await
        .unwrap()
        .errors[0];
    assert_eq!(stored.error_message, "bad \u{FFFD} byte and a \u{2400} nul");
    assert_eq!(stored.error_traceback.as_deref(), Some("trace\u{2400}back"));
    assert_eq!(stored.file_path, "src/\u{2400}odd.ts");
    assert_eq!(stored.details.construct, "a\u{2400}b");
}

#[tokio::test]
async fn long_messages_and_tracebacks_are_cut_with_a_marker() {
    let db = TestDb::new().await;
    let error = NewError {
        error_traceback: Some("t".repeat(20_000)),
        ..NewError::new("repo", "a.ts", ErrorType::ParsingError, "m".repeat(2_000))
    };
    db.store.log_error(&error).await.unwrap();
    let stored = &db
        .store
        .get_errors("repo", None, PageRequest::default())
        .await
        .unwrap()
        .errors[0];
    assert_eq!(stored.error_message.chars().count(), 500);
    assert!(stored.error_message.ends_with("[truncated 2000 chars]"));
    let traceback = stored.error_traceback.as_deref().unwrap();
    assert_eq!(traceback.chars().count(), 10_000);
    assert!(traceback.ends_with("[truncated 20000 chars]"));
}

#[tokio::test]
async fn all_eight_error_types_are_accepted() {
    let db = TestDb::new().await;
    let batch: Vec<NewError> = ErrorType::ALL.iter().map(|t| sample("repo", *t)).collect();
    db.store.log_errors(&batch).await.unwrap();
    let summary = db.store.get_error_summary("repo").await.unwrap();
    assert_eq!(summary.len(), 8);
    assert!(summary.values().all(|n| *n == 1));
}

#[tokio::test]
async fn unknown_type_is_rejected_by_name_and_by_the_database() {
    let err = "syntax_error".parse::<ErrorType>().unwrap_err();
    assert!(err.to_string().contains("expected one of"));
    // The CHECK constraint is the last line of defence for other writers.
    let db = TestDb::new().await;
    let result = sqlx::query(
        "INSERT INTO indexing_errors (repository, file_path, error_type, error_message) VALUES ('r', 'f', 'syntax_error', 'm')",
    )
    .execute(db.store.pool())
    .await;
    assert!(result.is_err());
}

#[tokio::test]
async fn page_limits_are_validated() {
    assert!(matches!(
        PageRequest::new(0, 0),
        Err(StoreError::BadRequest(_))
    ));
    assert!(matches!(
        PageRequest::new(1001, 0),
        Err(StoreError::BadRequest(_))
    ));
    assert!(matches!(
        PageRequest::new(10, -1),
        Err(StoreError::BadRequest(_))
    ));
    assert_eq!(
        PageRequest::new(1000, 7).unwrap(),
        PageRequest {
            limit: 1000,
            offset: 7
        }
    );
}

/// Errors of two repositories over two runs and outside any run: several
/// types, repeated timestamps (the order breaks ties by id), some paths
/// and lines missing, syntax errors with each verdict and some without one
/// (stored before verdicts existed).
async fn varied(db: &TestDb) -> (i64, i64) {
    let run = |repository: &'static str| {
        let store = db.store.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO index_runs (repository, root, tool_version, status) \
                 VALUES ($1, '/r', 't', 'completed') RETURNING run_id",
            )
            .bind(repository)
            .fetch_one(store.pool())
            .await
            .unwrap()
        }
    };
    let (first, second) = (run("repo").await, run("repo").await);
    let base = Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
    let errors: Vec<NewError> = (0..333)
        .map(|i| NewError {
            run_id: [Some(first), Some(second), None][i % 3],
            occurred_at: Some(base + chrono::Duration::seconds((i / 4) as i64)),
            line: (i % 7 != 0).then_some((i % 50) as i32),
            verdict: (i % 4 == 0 && i % 13 != 0).then_some(Verdict::ALL[i / 8 % 3]),
            ..NewError::new(
                if i % 11 == 0 { "other" } else { "repo" },
                format!("src/dir{}/file{}.ts", i % 5, i % 37),
                ErrorType::ALL[i % 4],
                format!("problem number {i}"),
            )
        })
        .collect();
    db.store.log_errors(&errors).await.unwrap();
    (first, second)
}

/// What a plain OFFSET over every matching row gives: the reference.
async fn reference_page(db: &TestDb, filter: &str, order: &str, offset: i64) -> Vec<i64> {
    sqlx::query_scalar(&format!(
        "SELECT error_id FROM indexing_errors WHERE {filter} ORDER BY {order} LIMIT 40 OFFSET {offset}"
    ))
    .fetch_all(db.store.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn every_page_and_total_matches_a_plain_count_and_offset() {
    use snag::store::{ErrorQuery, ErrorSort};
    let db = TestDb::new().await;
    let (first, _) = varied(&db).await;
    let repo = ErrorQuery {
        repository: "repo".into(),
        ..Default::default()
    };
    let cases = [
        (repo.clone(), "repository = 'repo'".to_owned()),
        (
            ErrorQuery {
                run_id: Some(first),
                ..repo.clone()
            },
            format!("repository = 'repo' AND run_id = {first}"),
        ),
        (
            ErrorQuery {
                error_types: vec![ErrorType::EncodingError],
                ..repo.clone()
            },
            "repository = 'repo' AND error_type = 'encoding_error'".to_owned(),
        ),
        (
            ErrorQuery {
                run_id: Some(first),
                error_types: vec![ErrorType::ParsingError, ErrorType::ChunkingError],
                ..repo.clone()
            },
            format!(
                "repository = 'repo' AND run_id = {first} \
                 AND error_type IN ('parsing_error', 'chunking_error')"
            ),
        ),
        (
            ErrorQuery {
                text: Some("dir3".into()),
                ..repo.clone()
            },
            "repository = 'repo' AND (file_path ILIKE '%dir3%' OR error_message ILIKE '%dir3%')"
                .to_owned(),
        ),
        (
            ErrorQuery {
                verdict: Some(Verdict::GrammarGap),
                ..repo.clone()
            },
            "repository = 'repo' AND verdict = 'grammar_gap'".to_owned(),
        ),
        (
            ErrorQuery {
                run_id: Some(first),
                verdict: Some(Verdict::InvalidSource),
                error_types: vec![ErrorType::ParsingError, ErrorType::ChunkingError],
                ..repo.clone()
            },
            format!("repository = 'repo' AND run_id = {first} AND verdict = 'invalid_source'"),
        ),
        (
            ErrorQuery {
                verdict: Some(Verdict::Unknown),
                text: Some("file1".into()),
                ..repo.clone()
            },
            "repository = 'repo' AND verdict = 'unknown' \
             AND (file_path ILIKE '%file1%' OR error_message ILIKE '%file1%')"
                .to_owned(),
        ),
    ];
    let orders = [
        (ErrorSort::Newest, "occurred_at DESC, error_id DESC"),
        (ErrorSort::Path, "file_path, line NULLS FIRST, error_id"),
        (ErrorSort::Type, "error_type, file_path, error_id"),
    ];
    for (query, filter) in &cases {
        let total: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM indexing_errors WHERE {filter}"
        ))
        .fetch_one(db.store.pool())
        .await
        .unwrap();
        assert!(total > 5, "{filter}: {total}");
        for (sort, order) in orders {
            let query = ErrorQuery {
                sort,
                ..query.clone()
            };
            // Every offset near the start, the middle and the end, and past it.
            let mut offsets: Vec<i64> = (0..total + 45).step_by(7).collect();
            offsets.extend([
                total / 2 - 1,
                total / 2,
                total / 2 + 1,
                total - 40,
                total - 1,
            ]);
            assert_eq!(db.store.count_errors(&query).await.unwrap(), total);
            for offset in offsets.into_iter().filter(|o| *o >= 0) {
                let page = db.store.list_errors(&query, 40, offset).await.unwrap();
                assert_eq!(page.total, total, "{filter}");
                let ids: Vec<i64> = page.errors.iter().map(|e| e.error_id).collect();
                assert_eq!(
                    ids,
                    reference_page(&db, filter, order, offset).await,
                    "{filter}, {order}, offset {offset} of {total}"
                );
                // The same page when the total is known already.
                let known = db
                    .store
                    .error_page(&query, 40, offset, Count::exact(total))
                    .await
                    .unwrap();
                assert_eq!(known, page.errors, "{filter}, {order}, offset {offset}");
            }
        }
    }
}

/// A text filter matching more errors than a page is sorted from is
/// answered by walking the list's order instead: the same pages.
#[tokio::test]
async fn a_text_filter_matching_many_errors_pages_as_a_plain_offset() {
    use snag::store::{ErrorQuery, ErrorSort};
    let db = TestDb::new().await;
    let base = Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
    let errors: Vec<NewError> = (0..20_600)
        .map(|i| NewError {
            occurred_at: Some(base + chrono::Duration::seconds((i / 3) as i64)),
            line: (i % 9 != 0).then_some((i % 40) as i32),
            ..NewError::new(
                "repo",
                format!(
                    "src/{}/m{}.ts",
                    if i % 50 == 0 { "few" } else { "many" },
                    i % 700
                ),
                ErrorType::ALL[i % 3],
                format!("problem {i}"),
            )
        })
        .collect();
    for batch in errors.chunks(5_000) {
        db.store.log_errors(batch).await.unwrap();
    }
    let filter =
        "repository = 'repo' AND (file_path ILIKE '%many%' OR error_message ILIKE '%many%')";
    let total: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM indexing_errors WHERE {filter}"
    ))
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert!(total > 20_000, "{total}");
    for (sort, order) in [
        (ErrorSort::Newest, "occurred_at DESC, error_id DESC"),
        (ErrorSort::Path, "file_path, line NULLS FIRST, error_id"),
        (ErrorSort::Type, "error_type, file_path, error_id"),
    ] {
        let query = ErrorQuery {
            repository: "repo".into(),
            text: Some("MANY".into()),
            sort,
            ..Default::default()
        };
        for offset in [0, 7, total / 2 - 3, total / 2 + 3, total - 40, total - 1] {
            let page = db.store.list_errors(&query, 40, offset).await.unwrap();
            assert_eq!(page.total, total);
            let ids: Vec<i64> = page.errors.iter().map(|e| e.error_id).collect();
            assert_eq!(
                ids,
                reference_page(&db, filter, order, offset).await,
                "{order}, offset {offset} of {total}"
            );
        }
    }
}

#[tokio::test]
async fn kept_counts_follow_every_change_to_the_errors() {
    let db = TestDb::new().await;
    varied(&db).await;
    let check = |when: &'static str| {
        let pool = db.store.pool().clone();
        async move {
            let drift: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM (\
                   SELECT repository, COALESCE(run_id, 0) AS run_id, error_type, \
                     COALESCE(verdict, '') AS verdict, count(*) AS n \
                   FROM indexing_errors GROUP BY 1, 2, 3, 4) actual \
                 FULL JOIN (SELECT * FROM error_counts WHERE errors <> 0) kept \
                   USING (repository, run_id, error_type, verdict) \
                 WHERE actual.n IS DISTINCT FROM kept.errors",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            assert_eq!(drift, 0, "counts differ from the rows after {when}");
        }
    };
    check("inserting").await;
    sqlx::query("DELETE FROM indexing_errors WHERE file_path LIKE '%dir1%'")
        .execute(db.store.pool())
        .await
        .unwrap();
    check("deleting").await;
    sqlx::query(
        "UPDATE indexing_errors SET error_type = 'io_error', verdict = NULL, repository = 'moved' \
         WHERE file_path LIKE '%dir2%'",
    )
    .execute(db.store.pool())
    .await
    .unwrap();
    check("updating").await;
    let judged = sqlx::query(
        "UPDATE indexing_errors SET verdict = 'unknown' \
         WHERE error_type = 'parsing_error' AND file_path LIKE '%dir3%'",
    )
    .execute(db.store.pool())
    .await
    .unwrap();
    assert!(judged.rows_affected() > 0);
    check("judging again").await;
    let summary = db.store.get_error_summary("moved").await.unwrap();
    assert!(summary[&ErrorType::IoError] > 0, "{summary:?}");
    sqlx::query("TRUNCATE indexing_errors")
        .execute(db.store.pool())
        .await
        .unwrap();
    check("truncating").await;
    assert!(db.store.get_error_summary("repo").await.unwrap().is_empty());
}

/// A text filter's count stops at `COUNT_UP_TO`, saying so; its pages then
/// come from the start of the list, the same as with the exact total.
#[tokio::test]
async fn counting_a_text_filter_can_stop_early() {
    let db = TestDb::new().await;
    let batch: Vec<NewError> = (0..COUNT_UP_TO + 50)
        .map(|i| {
            NewError::new(
                "many",
                format!("src/f{i:06}.ts"),
                ErrorType::ParsingError,
                "1:1 x",
            )
        })
        .collect();
    for chunk in batch.chunks(5000) {
        db.store.log_errors(chunk).await.unwrap();
    }
    let everything = ErrorQuery {
        repository: "many".into(),
        text: Some("src/".into()),
        ..ErrorQuery::default()
    };
    let counted = db.store.count_errors_up_to(&everything).await.unwrap();
    assert_eq!(
        counted,
        Count {
            n: COUNT_UP_TO,
            exact: false
        }
    );
    for offset in [0, 200, COUNT_UP_TO - 10] {
        let exact = db.store.list_errors(&everything, 40, offset).await.unwrap();
        let early = db
            .store
            .error_page(&everything, 40, offset, counted)
            .await
            .unwrap();
        assert_eq!(early, exact.errors, "offset {offset}");
    }
    let few = ErrorQuery {
        text: Some("f000012".into()),
        ..everything.clone()
    };
    assert_eq!(
        db.store.count_errors_up_to(&few).await.unwrap(),
        Count::exact(1)
    );
    // Filters the kept counts answer are exact however many match.
    let all = ErrorQuery {
        repository: "many".into(),
        ..ErrorQuery::default()
    };
    assert_eq!(
        db.store.count_errors_up_to(&all).await.unwrap(),
        Count::exact(COUNT_UP_TO + 50)
    );
}
