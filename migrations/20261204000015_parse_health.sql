-- Parse health: how much of a file tree-sitter could not parse. Per file,
-- the bytes inside ERROR nodes (nested ones counted once) and the MISSING
-- nodes (tokens the parser assumed); NULL when the file was not parsed.
-- Per run, their sums over the files it parsed or kept, with those files'
-- bytes: `error_bytes / parsed_bytes` is the share of the run's code the
-- grammar could not read. Runs stored before have zeros.
ALTER TABLE indexed_files ADD COLUMN error_bytes BIGINT, ADD COLUMN missing_nodes INTEGER;
ALTER TABLE index_runs
    ADD COLUMN parsed_bytes BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN error_bytes BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN missing_nodes BIGINT NOT NULL DEFAULT 0;
