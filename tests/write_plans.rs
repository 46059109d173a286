//! Storing a file costs the same however much the store holds: every
//! statement of the write path is planned, as snag runs it (a generic plan),
//! against a store holding 100,000 rows of another repository and 100,000 of
//! the same one in each table that grows with files, and must find its rows
//! through an index condition, never by reading a table or filtering rows.

mod support;

use std::collections::HashMap;

use serde_json::Value;
use sqlx::{Connection, PgConnection};

use snag::store::ingest::{self, PLAN_SETTINGS, WRITE_PATH};
use support::TestDb;

/// Rows per repository in each table below.
const ROWS: i64 = 100_000;
/// The tables whose size grows with files, errors or groups.
const GROWING: &[&str] = &[
    "code_chunks",
    "indexing_errors",
    "indexed_files",
    "indexing_errors_history",
    "run_groups",
    "error_groups",
];

/// The runs: 1 is another repository's, 2 a finished run of `same`, 3 the
/// run of `same` being stored.
const RUNS: &str = "INSERT INTO index_runs (repository, root, tool_version, status) \
     VALUES ('other', '/o', 't', 'completed'), ('same', '/s', 't', 'completed'), \
     ('same', '/s', 't', 'running')";

/// `ROWS` rows of repository `$R` (written by run `$RUN`) in every growing
/// table.
const FILL: &str = r#"
INSERT INTO code_chunks (repository, file_path, language, chunk_type, name, source_code, start_line,
    end_line, run_id, source_key)
SELECT '$R', 'src/f' || i || '.ts', 'typescript', 'function', 'f', 'function f() {}', 1, 1, $RUN, i
FROM generate_series(1, $ROWS) i;
INSERT INTO indexing_errors (repository, file_path, error_type, error_message, run_id, fingerprint, details)
SELECT '$R', 'src/f' || i || '.ts', 'parsing_error', 'unexpected', $RUN, 'fp' || (i % 5000),
    '{"title": "unexpected"}'
FROM generate_series(1, $ROWS) i;
INSERT INTO indexing_errors_history (error_id, repository, file_path, error_type, error_message, run_id,
    fingerprint, until_run)
SELECT -i - $RUN * $ROWS, '$R', 'src/f' || i || '.ts', 'parsing_error', 'unexpected', $RUN, 'fp' || i, $RUN
FROM generate_series(1, $ROWS) i;
INSERT INTO indexed_files (run_id, repository, file_path, outcome, error_type, fingerprint)
SELECT $RUN, '$R', 'src/f' || i || '.ts', 'partial', 'parsing_error', 'fp' || (i % 5000)
FROM generate_series(1, $ROWS) i;
INSERT INTO run_groups (run_id, fingerprint, error_type, title, files, example_path)
SELECT $RUN, 'fp' || i, 'parsing_error', 'unexpected', 1, 'src/f' || i || '.ts'
FROM generate_series(1, $ROWS) i;
INSERT INTO error_groups (repository, fingerprint, error_type, title, last_seen_run, last_run_files)
SELECT '$R', 'fp' || i, 'parsing_error', 'unexpected', $RUN, 1
FROM generate_series(1, $ROWS) i;
"#;

async fn fill(conn: &mut PgConnection, repository: &str, run: i64) {
    let sql = FILL
        .replace("$ROWS", &ROWS.to_string())
        .replace("$RUN", &run.to_string())
        .replace("$R", repository);
    sqlx::raw_sql(&sql).execute(conn).await.unwrap();
}

/// The run being stored.
const RUN: i64 = 3;

/// A batch's paths: half are stored already, half are new.
fn paths() -> Vec<String> {
    (0..512)
        .map(|i| format!("src/f{}.ts", i * 400 + i % 2 * 1_000_000))
        .collect()
}

/// An SQL array of `n` copies of `literal`.
fn array(n: usize, literal: &str, of: &str) -> String {
    format!("ARRAY[{}]::{of}[]", vec![literal; n].join(", "))
}

/// The batch's paths as an SQL array.
fn path_array() -> String {
    let quoted: Vec<String> = paths().iter().map(|p| format!("'{p}'")).collect();
    format!("ARRAY[{}]::text[]", quoted.join(", "))
}

/// Representative arguments for each statement of the write path, as SQL
/// (`EXPLAIN EXECUTE` takes no bound parameters).
fn arguments(sql: &str) -> Vec<String> {
    let n = paths().len();
    let run = RUN.to_string();
    let same = "'same'".to_owned();
    let strings = |text: &str| array(n, &format!("'{text}'"), "text");
    match sql {
        s if s == ingest::UNCHANGED_FILES => vec![
            same,
            path_array(),
            array(n, "7", "bigint"),
            array(n, "1", "bigint"),
        ],
        s if s == ingest::DELETE_CHUNKS || s == ingest::KEPT_ERRORS => vec![same, path_array()],
        s if s == ingest::RETIRE_ERRORS || s == ingest::RETIRE_FILES => {
            vec![same, path_array(), run]
        }
        s if s == ingest::INSERT_FILES => vec![
            run,
            path_array(),
            strings("partial"),
            array(n, "NULL", "text"),
            strings("typescript"),
            array(n, "10", "bigint"),
            array(n, "1", "int"),
            array(n, "5", "bigint"),
            strings("parsing_error"),
            strings("fp1"),
            strings("invalid_source"),
            array(n, "7", "bigint"),
            same,
            array(n, "40", "bigint"),
            array(n, "2", "int"),
        ],
        s if s == snag::store::errors::INSERT_ERRORS => vec![
            strings("same"),
            path_array(),
            strings("parsing_error"),
            strings("unexpected"),
            array(n, "NULL", "text"),
            array(n, "NULL", "text"),
            strings("typescript"),
            array(n, "NULL", "timestamptz"),
            array(n, &run, "bigint"),
            array(n, "1", "int"),
            array(n, "1", "int"),
            array(n, "1", "int"),
            array(n, "2", "int"),
            strings("fp1"),
            strings("{}"),
            strings("invalid_source"),
            strings("fp1 fp2"),
        ],
        s if s == ingest::STORED_RESULTS => vec![same],
        s if s == ingest::ADD_RUN_GROUPS => vec![
            run,
            path_array(),
            strings("parsing_error"),
            strings("unexpected"),
            path_array(),
            array(n, "1", "int"),
            array(n, "true", "bool"),
        ],
        s if s == ingest::COUNT_BATCH => {
            let counts = [
                "512", "256", "256", "0", "0", "256", "1024", "1000000", "0", "900000", "4000",
                "12",
            ];
            std::iter::once(run)
                .chain(counts.iter().map(|c| (*c).to_owned()))
                .collect()
        }
        s if s == ingest::RECORD_DISCOVERY => vec![run, "512".to_owned(), "'{}'".to_owned()],
        s if s == ingest::FOLD_GROUPS => vec![run, same],
        s if s == ingest::QUIET_GROUPS => vec![same, run],
        s if s == ingest::CURRENT_FILES => {
            vec![same, "'src/f1.ts'".to_owned(), "1000".to_owned()]
        }
        s if s == ingest::END_RUN => vec![run, "'completed'".to_owned(), "NULL".to_owned()],
        other => panic!("no arguments for a new write-path statement; add them here:\n{other}"),
    }
}

/// The plan of `sql` as snag's write path gets it: the generic plan, under
/// the write transactions' settings.
async fn generic_plan(conn: &mut PgConnection, sql: &str) -> Value {
    let mut tx = conn.begin().await.unwrap();
    let explain = format!(
        "{PLAN_SETTINGS}; \
         PREPARE write_step AS {sql}; \
         EXPLAIN (FORMAT JSON) EXECUTE write_step({}); \
         DEALLOCATE write_step;",
        arguments(sql).join(", ")
    );
    let rows = sqlx::raw_sql(&explain)
        .fetch_all(&mut *tx)
        .await
        .unwrap_or_else(|e| panic!("explain {sql}: {e}"));
    tx.rollback().await.unwrap();
    let row = rows.last().expect("EXPLAIN answers one row");
    sqlx::Row::get(row, 0)
}

/// The key columns of every index, in order, by index name.
async fn index_columns(conn: &mut PgConnection) -> HashMap<String, Vec<String>> {
    let rows: Vec<(String, Vec<String>)> = sqlx::query_as(
        "SELECT c.relname::text, array_agg(a.attname::text ORDER BY k.n) \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         CROSS JOIN LATERAL unnest(i.indkey[0:i.indnkeyatts - 1]) WITH ORDINALITY AS k(attnum, n) \
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
         GROUP BY c.relname",
    )
    .fetch_all(conn)
    .await
    .unwrap();
    rows.into_iter().collect()
}

/// What is wrong with a plan node and those under it, if anything. A
/// statement that looks a batch's files up one by one (`per_file`) must
/// also bound each lookup by its index's two leading columns: an index
/// scanned on its first column only (the repository) and filtered by a
/// later one reads every row of the repository, once per file.
fn problems(
    node: &Value,
    per_file: bool,
    columns: &HashMap<String, Vec<String>>,
    found: &mut Vec<String>,
) {
    let kind = node["Node Type"].as_str().unwrap_or_default();
    if let Some(table) = node["Relation Name"].as_str()
        && GROWING.contains(&table)
    {
        let reads_all = kind == "Seq Scan"
            || (matches!(kind, "Index Scan" | "Index Only Scan")
                && node.get("Index Cond").is_none());
        if reads_all {
            found.push(format!("{kind} on {table} reads every row"));
        }
        if per_file
            && let (Some(index), Some(condition)) =
                (node["Index Name"].as_str(), node["Index Cond"].as_str())
        {
            let leading = columns.get(index).map_or(&[][..], |c| &c[..c.len().min(2)]);
            for column in leading {
                if !condition.contains(&format!("({column} ")) {
                    found.push(format!(
                        "{kind} on {table} through {index} does not bound its column {column}: \
                         {condition}"
                    ));
                }
            }
        }
        if let Some(filter) = node.get("Filter") {
            found.push(format!("{kind} on {table} filters rows: {filter}"));
        }
    }
    for child in node["Plans"].as_array().into_iter().flatten() {
        problems(child, per_file, columns, found);
    }
}

async fn check_every_statement(conn: &mut PgConnection, when: &str) {
    let mut failures = Vec::new();
    let columns = index_columns(conn).await;
    for sql in WRITE_PATH {
        let plan = generic_plan(conn, sql).await;
        let mut found = Vec::new();
        let per_file = sql.contains("p.path");
        problems(&plan[0]["Plan"], per_file, &columns, &mut found);
        if !found.is_empty() {
            failures.push(format!(
                "{sql}\n  {}\n  plan: {}",
                found.join("\n  "),
                serde_json::to_string_pretty(&plan[0]["Plan"]).unwrap()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{when}: write statements that read rows in proportion to the store:\n\n{}",
        failures.join("\n\n")
    );
}

#[tokio::test]
async fn every_write_statement_finds_its_rows_through_an_index() {
    let db = TestDb::new().await;
    let mut conn = db.store.pool().acquire().await.unwrap().detach();
    sqlx::raw_sql(RUNS).execute(&mut conn).await.unwrap();
    // A first run on a new database, half way: the store holds only this
    // repository and the statistics know nothing of it.
    fill(&mut conn, "same", 2).await;
    check_every_statement(&mut conn, "a store of only this repository, never analyzed").await;
    // Another repository beside it, before and after the statistics know.
    fill(&mut conn, "other", 1).await;
    check_every_statement(&mut conn, "two repositories, before ANALYZE").await;
    sqlx::raw_sql("ANALYZE").execute(&mut conn).await.unwrap();
    check_every_statement(&mut conn, "two repositories, after ANALYZE").await;
}
