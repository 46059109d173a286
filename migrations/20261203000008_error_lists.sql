-- Error lists answer as fast with a million errors as with a thousand.

-- How many errors each repository has, per run and type, kept by triggers
-- on every statement that changes indexing_errors, whoever runs it (the
-- engine's writer, the original API's inserts, a cleanup). A list's total
-- then sums a few of these rows instead of counting every matching error.
-- run_id 0 stands for errors recorded outside a run.
CREATE TABLE error_counts (
    repository TEXT NOT NULL,
    run_id     BIGINT NOT NULL,
    error_type TEXT NOT NULL,
    errors     BIGINT NOT NULL,
    PRIMARY KEY (repository, run_id, error_type)
);
INSERT INTO error_counts (repository, run_id, error_type, errors)
SELECT repository, COALESCE(run_id, 0), error_type, count(*)
FROM indexing_errors GROUP BY 1, 2, 3;

-- Counters are locked in key order within each statement, so two
-- statements never wait for each other's counters in opposite orders.
CREATE FUNCTION error_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO error_counts AS c (repository, run_id, error_type, errors)
    SELECT repository, COALESCE(run_id, 0), error_type, count(*)
    FROM changed GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (repository, run_id, error_type) DO UPDATE SET errors = c.errors + EXCLUDED.errors;
    RETURN NULL;
END
$$;

CREATE FUNCTION error_counts_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO error_counts AS c (repository, run_id, error_type, errors)
    SELECT repository, COALESCE(run_id, 0), error_type, -count(*)
    FROM changed GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (repository, run_id, error_type) DO UPDATE SET errors = c.errors + EXCLUDED.errors;
    RETURN NULL;
END
$$;

CREATE FUNCTION error_counts_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO error_counts AS c (repository, run_id, error_type, errors)
    SELECT repository, run_id, error_type, sum(n) FROM (
        SELECT repository, COALESCE(run_id, 0) AS run_id, error_type, -1 AS n FROM before_change
        UNION ALL
        SELECT repository, COALESCE(run_id, 0), error_type, 1 FROM after_change
    ) moved
    GROUP BY 1, 2, 3 HAVING sum(n) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (repository, run_id, error_type) DO UPDATE SET errors = c.errors + EXCLUDED.errors;
    RETURN NULL;
END
$$;

CREATE FUNCTION error_counts_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM error_counts;
    RETURN NULL;
END
$$;

CREATE TRIGGER indexing_errors_counted_insert AFTER INSERT ON indexing_errors
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION error_counts_add();
CREATE TRIGGER indexing_errors_counted_delete AFTER DELETE ON indexing_errors
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION error_counts_remove();
CREATE TRIGGER indexing_errors_counted_update AFTER UPDATE ON indexing_errors
    REFERENCING OLD TABLE AS before_change NEW TABLE AS after_change
    FOR EACH STATEMENT EXECUTE FUNCTION error_counts_move();
CREATE TRIGGER indexing_errors_counted_truncate AFTER TRUNCATE ON indexing_errors
    FOR EACH STATEMENT EXECUTE FUNCTION error_counts_clear();

-- A run's error list, newest first, with and without a type filter, in the
-- same shape as the repository's two list indexes.
DROP INDEX indexing_errors_run_idx;
CREATE INDEX indexing_errors_run_list_idx
    ON indexing_errors (repository, run_id, occurred_at DESC, error_id DESC);
CREATE INDEX indexing_errors_run_type_idx
    ON indexing_errors (repository, run_id, error_type, occurred_at DESC, error_id DESC);
