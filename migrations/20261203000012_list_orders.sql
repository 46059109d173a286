-- The triage list's verdict filter and its other sorts answer as fast with
-- a million errors in a run as its first page does.

-- No error is written while the counts are rebuilt below.
LOCK TABLE indexing_errors IN SHARE MODE;

-- The kept counts also say how many of each run's syntax errors have each
-- verdict ('' for none), so the verdict filter's total is a sum of a few
-- rows instead of a count of every matching error.
ALTER TABLE error_counts ADD COLUMN verdict TEXT NOT NULL DEFAULT '';
ALTER TABLE error_counts DROP CONSTRAINT error_counts_pkey;
DELETE FROM error_counts;
INSERT INTO error_counts (repository, run_id, error_type, verdict, errors)
SELECT repository, COALESCE(run_id, 0), error_type, COALESCE(verdict, ''), count(*)
FROM indexing_errors GROUP BY 1, 2, 3, 4;
ALTER TABLE error_counts ADD PRIMARY KEY (repository, run_id, error_type, verdict);

CREATE OR REPLACE FUNCTION error_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO error_counts AS c (repository, run_id, error_type, verdict, errors)
    SELECT repository, COALESCE(run_id, 0), error_type, COALESCE(verdict, ''), count(*)
    FROM changed GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (repository, run_id, error_type, verdict)
        DO UPDATE SET errors = c.errors + EXCLUDED.errors;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION error_counts_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO error_counts AS c (repository, run_id, error_type, verdict, errors)
    SELECT repository, COALESCE(run_id, 0), error_type, COALESCE(verdict, ''), -count(*)
    FROM changed GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (repository, run_id, error_type, verdict)
        DO UPDATE SET errors = c.errors + EXCLUDED.errors;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION error_counts_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO error_counts AS c (repository, run_id, error_type, verdict, errors)
    SELECT repository, run_id, error_type, verdict, sum(n) FROM (
        SELECT repository, COALESCE(run_id, 0) AS run_id, error_type,
            COALESCE(verdict, '') AS verdict, -1 AS n FROM before_change
        UNION ALL
        SELECT repository, COALESCE(run_id, 0), error_type, COALESCE(verdict, ''), 1 FROM after_change
    ) moved
    GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT (repository, run_id, error_type, verdict)
        DO UPDATE SET errors = c.errors + EXCLUDED.errors;
    RETURN NULL;
END
$$;

-- A run's list sorted by path and by type, read from an index in order
-- (without them every error of the run was sorted for each page, and
-- pages of the path sort read each skipped row to check its run).
CREATE INDEX indexing_errors_run_path_idx
    ON indexing_errors (repository, run_id, file_path, line NULLS FIRST, error_id);
CREATE INDEX indexing_errors_run_type_path_idx
    ON indexing_errors (repository, run_id, error_type, file_path, error_id);
