//! Synthetic errors in bulk, shaped as the engine stores them, for the
//! benchmarks that need a large store quickly.

use snag::store::Store;

/// Inserts `n` errors of `repository` spread over `runs` new completed runs,
/// as the engine would store them: mostly syntax errors (each with a
/// verdict: six in ten grammar gaps, three invalid source, one unknown), a
/// few other types, 40 groups, numbered paths over 97 packages, newest last.
/// Returns the runs' ids, oldest first.
pub async fn errors(
    store: &Store,
    repository: &str,
    n: i64,
    runs: i64,
) -> anyhow::Result<Vec<i64>> {
    let run_ids: Vec<i64> = sqlx::query_scalar(
        "INSERT INTO index_runs (repository, root, tool_version, status) \
         SELECT $1, '/bench', 'bench', 'completed' FROM generate_series(1, $2) RETURNING run_id",
    )
    .bind(repository)
    .bind(runs)
    .fetch_all(store.pool())
    .await?;
    sqlx::query(
        "INSERT INTO indexing_errors (repository, file_path, error_type, error_message, run_id, line, \
           \"column\", fingerprint, problem_groups, details, verdict, occurred_at) \
         SELECT $1, 'packages/p' || (i % 97) || '/src/module' || i || '.ts', error_type, \
           (i % 500 + 1) || ':' || (i % 80 + 1) || ' unexpected `{` in formal_parameters', \
           ($2::bigint[])[i % cardinality($2::bigint[]) + 1], i % 500 + 1, i % 80 + 1, 'group' || (i % 40), \
           CASE WHEN i % 3 = 0 THEN ARRAY['group' || (i % 40), 'gap' || (i % 7)] \
             ELSE ARRAY['group' || (i % 40)] END, \
           jsonb_build_object('title', 'problem ' || (i % 40)), \
           CASE WHEN error_type = 'parsing_error' THEN \
             (ARRAY['grammar_gap', 'grammar_gap', 'grammar_gap', 'grammar_gap', 'grammar_gap', \
               'grammar_gap', 'invalid_source', 'invalid_source', 'invalid_source', 'unknown'])[i / 5 % 10 + 1] \
           END, \
           now() - interval '1 day' + i * interval '1 millisecond' \
         FROM generate_series(1, $3) i, LATERAL (SELECT \
           (ARRAY['parsing_error', 'parsing_error', 'parsing_error', 'encoding_error', 'timeout_error'])[i % 5 + 1] \
           AS error_type) t",
    )
    .bind(repository)
    .bind(&run_ids)
    .bind(n)
    .execute(store.pool())
    .await?;
    sqlx::query(
        "INSERT INTO error_groups (repository, fingerprint, error_type, title, occurrences, last_run_files) \
         SELECT $1, fingerprint, min(error_type), min(details->>'title'), count(*), count(*) \
         FROM indexing_errors WHERE repository = $1 GROUP BY fingerprint",
    )
    .bind(repository)
    .execute(store.pool())
    .await?;
    Ok(run_ids)
}
