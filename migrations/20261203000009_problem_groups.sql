-- Each problem of a syntax error (a grammar gap, a real mistake) belongs to
-- a group of its own, so a file with three problems is in three groups.

-- The groups an error belongs to: its own (its primary problem's) first,
-- then those of its other problems. A group's files are found through it.
ALTER TABLE indexing_errors ADD COLUMN problem_groups TEXT[] NOT NULL DEFAULT '{}';
UPDATE indexing_errors SET problem_groups = ARRAY[fingerprint] WHERE fingerprint IS NOT NULL;
CREATE INDEX indexing_errors_problem_groups_idx ON indexing_errors USING gin (problem_groups);

-- A run's groups count files per problem group; how many of the run's
-- errors are known by each group (their primary problem's) is kept apart,
-- so the run's errors by type still count one error per file and type.
ALTER TABLE run_groups ADD COLUMN errors BIGINT NOT NULL DEFAULT 0;
UPDATE run_groups SET errors = files;
