-- Incremental runs. A file whose text, snag and settings are those of its
-- last stored result is not parsed again: its outcome row is carried into
-- the new run and its errors and chunks stay as they are.

-- The key of a file's result: its text as this snag's chunker and grammars
-- see it, and the settings that shape the result. Null for results never
-- to be reused (unreadable files, persistence failures, older runs).
ALTER TABLE indexed_files ADD COLUMN result_key BIGINT;

-- How many of a run's files were carried over from an earlier run.
ALTER TABLE index_runs ADD COLUMN files_reused INTEGER NOT NULL DEFAULT 0;
