-- Storing a file costs the same however much the store holds: every
-- statement of the write path finds its rows through an index that matches
-- it, and what a run's end needs is kept as the run goes instead of being
-- recomputed from all of its rows.

-- Replacing a file's errors looks them up by path. Without this index the
-- planner walked the repository's fingerprint index and filtered every error
-- of the repository, once per batch.
CREATE INDEX indexing_errors_file_idx ON indexing_errors (repository, file_path);

-- The files a repository has now (those with stored chunks or errors), and
-- the last run that saw each. A completed run removes what it did not see by
-- reading only those rows, instead of every path of the repository.
CREATE TABLE repository_files (
    repository    TEXT NOT NULL,
    file_path     TEXT NOT NULL,
    last_seen_run BIGINT NOT NULL,
    PRIMARY KEY (repository, file_path)
);
CREATE INDEX repository_files_seen_idx ON repository_files (repository, last_seen_run);
INSERT INTO repository_files (repository, file_path, last_seen_run)
SELECT repository, file_path, COALESCE(max(run_id), 0)
FROM (SELECT repository, file_path, run_id FROM code_chunks
      UNION ALL SELECT repository, file_path, run_id FROM indexing_errors) AS stored
GROUP BY repository, file_path;

-- Each run's error groups: files per group and an example, added to as the
-- run's batches are stored. The dashboard, the run's error counts and the
-- end-of-run update of error_groups read these few rows, not the run's errors.
CREATE TABLE run_groups (
    run_id        BIGINT NOT NULL REFERENCES index_runs (run_id) ON DELETE CASCADE,
    fingerprint   TEXT NOT NULL,
    error_type    TEXT NOT NULL,
    title         TEXT NOT NULL,
    files         INTEGER NOT NULL,
    example_path  TEXT NOT NULL,
    example_line  INTEGER,
    first_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, fingerprint)
);
INSERT INTO run_groups (run_id, fingerprint, error_type, title, files, example_path, example_line,
    first_at, last_at)
SELECT run_id, fingerprint, min(error_type), COALESCE(min(details->>'title'), min(error_message)),
    count(*), min(file_path), (array_agg(line ORDER BY file_path))[1], min(occurred_at), max(occurred_at)
FROM indexing_errors
WHERE run_id IS NOT NULL AND fingerprint IS NOT NULL
GROUP BY run_id, fingerprint;

-- A complete run sets the files of the groups it did not see to 0: it finds
-- them among the groups still affecting files.
CREATE INDEX error_groups_active_idx ON error_groups (repository, last_seen_run)
    WHERE last_run_files > 0;

-- Who runs a run, so a second run of the same repository can say whose run
-- it is waiting for; and the running runs, found without reading the others.
ALTER TABLE index_runs ADD COLUMN host TEXT, ADD COLUMN pid INTEGER;
CREATE INDEX index_runs_running_idx ON index_runs (repository) WHERE status = 'running';
