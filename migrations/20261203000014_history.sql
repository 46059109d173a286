-- History that lasts: every run's outcomes and errors stay as they were,
-- and storage grows with what changed, not with runs times files.
--
-- A file's result (its indexed_files row) is valid over a range of runs of
-- its repository: from the run that stored it (run_id) until the run that
-- replaced it or found the file gone (until_run, NULL while it is the
-- file's current result). A run that keeps a file's result writes nothing
-- for it. A run's files are those whose range holds it: `run_files(run)`.
--
-- Errors hang off results the same way. indexing_errors keeps the errors
-- files have now (its contract with other readers is unchanged); a result
-- that is replaced moves its errors to indexing_errors_history, stamped
-- with the run that replaced it. A run's errors are those of both tables
-- whose range holds it: `run_errors(run)`.
--
-- Run ids grow in the order runs take their repository's lock (a run's row
-- is created once it holds the lock), so a range of ids is a range of the
-- repository's history.

ALTER TABLE indexed_files ADD COLUMN repository TEXT, ADD COLUMN until_run BIGINT;

-- The rows stored so far were one per file and run: each covers its own
-- run, up to the repository's next one, but the file's current result,
-- which stays open.
WITH next_runs AS (
    SELECT run_id, repository,
        lead(run_id) OVER (PARTITION BY repository ORDER BY run_id) AS next_run
    FROM index_runs
)
UPDATE indexed_files f SET repository = n.repository, until_run = n.next_run
FROM next_runs n WHERE n.run_id = f.run_id;
UPDATE indexed_files f SET until_run = NULL
FROM repository_files t
WHERE t.repository = f.repository AND t.file_path = f.file_path AND t.last_seen_run = f.run_id;
ALTER TABLE indexed_files ALTER COLUMN repository SET NOT NULL;

-- A file's results by path, its current one (until_run IS NULL) among
-- them. This replaces repository_files, which a run had to stamp for every
-- file it saw. No other index of the table leads with the repository: an
-- index that did would serve a file's lookup by reading every row of the
-- repository, and a planner that thinks the table small (a new database's
-- first run) takes the smaller index.
CREATE INDEX indexed_files_path_idx ON indexed_files (repository, file_path, until_run);
DROP INDEX indexed_files_outcome_idx;
DROP TABLE repository_files;

CREATE FUNCTION run_files(run BIGINT) RETURNS SETOF indexed_files
LANGUAGE sql STABLE AS $$
    SELECT f.* FROM indexed_files f
    WHERE f.repository = (SELECT repository FROM index_runs WHERE run_id = run)
      AND f.run_id <= run AND (f.until_run IS NULL OR f.until_run > run)
$$;

-- Errors a result had before it was replaced; the columns of
-- indexing_errors, in its order, then the run that replaced them.
CREATE TABLE indexing_errors_history (LIKE indexing_errors INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE indexing_errors_history
    ADD COLUMN until_run BIGINT NOT NULL,
    ADD PRIMARY KEY (error_id),
    ADD FOREIGN KEY (run_id) REFERENCES index_runs (run_id) ON DELETE CASCADE;
-- A run's errors: those replaced after it (none for a repository's latest
-- run, found at once).
CREATE INDEX indexing_errors_history_run_idx
    ON indexing_errors_history (repository, until_run, run_id);
-- Retention moves or deletes a run's rows.
CREATE INDEX indexing_errors_history_from_idx ON indexing_errors_history (run_id);
-- A file's errors in a run, for comparing runs file by file.
CREATE INDEX indexing_errors_history_path_idx ON indexing_errors_history (repository, file_path);

-- Every column of indexing_errors is listed here: a column added to it
-- must be added to the history and to this function.
CREATE FUNCTION run_errors(run BIGINT) RETURNS SETOF indexing_errors
LANGUAGE sql STABLE AS $$
    SELECT e.* FROM indexing_errors e
    WHERE e.repository = (SELECT repository FROM index_runs WHERE run_id = run)
      AND e.run_id <= run
    UNION ALL
    SELECT h.error_id, h.repository, h.file_path, h.error_type, h.error_message, h.error_traceback,
        h.chunk_type, h.language, h.occurred_at, h.run_id, h.line, h."column", h.end_line,
        h.end_column, h.fingerprint, h.details, h.verdict, h.problem_groups
    FROM indexing_errors_history h
    WHERE h.repository = (SELECT repository FROM index_runs WHERE run_id = run)
      AND h.until_run > run AND h.run_id <= run
$$;

-- How many replaced errors each range of runs holds, by type and verdict,
-- kept by triggers as error_counts is: a run's totals add these to the
-- current errors' counts of its run and the runs before it.
CREATE TABLE error_history_counts (
    repository TEXT NOT NULL,
    run_id     BIGINT NOT NULL,
    until_run  BIGINT NOT NULL,
    error_type TEXT NOT NULL,
    verdict    TEXT NOT NULL,
    errors     BIGINT NOT NULL,
    PRIMARY KEY (repository, until_run, run_id, error_type, verdict)
);

CREATE FUNCTION error_history_counts_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO error_history_counts AS c (repository, run_id, until_run, error_type, verdict, errors)
    SELECT repository, run_id, until_run, error_type, verdict, sum(n) FROM (
        SELECT repository, run_id, until_run, error_type, COALESCE(verdict, '') AS verdict, -1 AS n
        FROM before_change
        UNION ALL
        SELECT repository, run_id, until_run, error_type, COALESCE(verdict, ''), 1 FROM after_change
    ) changed
    GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (repository, until_run, run_id, error_type, verdict)
        DO UPDATE SET errors = c.errors + EXCLUDED.errors;
    RETURN NULL;
END
$$;

-- Rows added count up, rows deleted count down: both statements name
-- their rows `changed`.
CREATE FUNCTION error_history_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO error_history_counts AS c (repository, run_id, until_run, error_type, verdict, errors)
    SELECT repository, run_id, until_run, error_type, COALESCE(verdict, ''),
        count(*) * CASE WHEN TG_OP = 'DELETE' THEN -1 ELSE 1 END
    FROM changed GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (repository, until_run, run_id, error_type, verdict)
        DO UPDATE SET errors = c.errors + EXCLUDED.errors;
    RETURN NULL;
END
$$;

CREATE TRIGGER indexing_errors_history_counted_insert AFTER INSERT ON indexing_errors_history
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION error_history_counts_apply();
CREATE TRIGGER indexing_errors_history_counted_delete AFTER DELETE ON indexing_errors_history
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION error_history_counts_apply();
CREATE TRIGGER indexing_errors_history_counted_update AFTER UPDATE ON indexing_errors_history
    REFERENCING OLD TABLE AS before_change NEW TABLE AS after_change
    FOR EACH STATEMENT EXECUTE FUNCTION error_history_counts_change();

-- A run's errors by type and verdict: the current errors of its run and the
-- runs before it, and the replaced errors whose range holds it.
CREATE FUNCTION run_error_totals(run BIGINT)
RETURNS TABLE (error_type TEXT, verdict TEXT, errors BIGINT)
LANGUAGE sql STABLE AS $$
    SELECT c.error_type, c.verdict, c.errors FROM error_counts c
    WHERE c.repository = (SELECT repository FROM index_runs WHERE run_id = run)
      AND c.run_id BETWEEN 1 AND run
    UNION ALL
    SELECT h.error_type, h.verdict, h.errors FROM error_history_counts h
    WHERE h.repository = (SELECT repository FROM index_runs WHERE run_id = run)
      AND h.until_run > run AND h.run_id <= run
$$;

-- Errors are no longer moved from run to run, and a run's list is a range
-- of runs: the lists by run give way to the repository's lists, which
-- carry the run so the range is tested in the index alone.
DROP INDEX indexing_errors_run_list_idx;
DROP INDEX indexing_errors_run_type_idx;
DROP INDEX indexing_errors_run_path_idx;
DROP INDEX indexing_errors_run_type_path_idx;
DROP INDEX indexing_errors_file_idx;
DROP INDEX indexing_errors_list_idx;
DROP INDEX indexing_errors_type_idx;
DROP INDEX indexing_errors_verdict_idx;
CREATE INDEX indexing_errors_list_idx
    ON indexing_errors (repository, occurred_at DESC, error_id DESC) INCLUDE (run_id);
CREATE INDEX indexing_errors_type_idx
    ON indexing_errors (repository, error_type, occurred_at DESC, error_id DESC) INCLUDE (run_id);
CREATE INDEX indexing_errors_verdict_idx
    ON indexing_errors (repository, verdict, occurred_at DESC, error_id DESC) INCLUDE (run_id)
    WHERE verdict IS NOT NULL;
CREATE INDEX indexing_errors_path_idx
    ON indexing_errors (repository, file_path, line NULLS FIRST, error_id) INCLUDE (run_id);
CREATE INDEX indexing_errors_type_path_idx
    ON indexing_errors (repository, error_type, file_path, error_id) INCLUDE (run_id);
-- Retention moves a deleted run's errors to the next run, and the run's
-- foreign key looks for them when it goes.
CREATE INDEX indexing_errors_run_idx ON indexing_errors (run_id);
