-- snag's schema. Table names and the seed's columns of indexing_errors are a
-- contract relied on outside this code base.

CREATE TABLE index_runs (
    run_id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repository       TEXT NOT NULL,
    root             TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'running'
                     CHECK (status IN ('running', 'completed', 'cancelled', 'failed')),
    status_message   TEXT,
    files_total      INTEGER NOT NULL DEFAULT 0,
    files_indexed    INTEGER NOT NULL DEFAULT 0,
    files_partial    INTEGER NOT NULL DEFAULT 0,
    files_failed     INTEGER NOT NULL DEFAULT 0,
    files_skipped    INTEGER NOT NULL DEFAULT 0,
    errors_total     INTEGER NOT NULL DEFAULT 0,
    chunks_total     BIGINT  NOT NULL DEFAULT 0,
    bytes_total      BIGINT  NOT NULL DEFAULT 0,
    options          JSONB   NOT NULL DEFAULT '{}'::jsonb,
    started_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at      TIMESTAMPTZ,
    tool_version     TEXT NOT NULL,
    grammar_versions JSONB NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX index_runs_repository_idx ON index_runs (repository, started_at DESC, run_id DESC);
CREATE INDEX index_runs_started_idx ON index_runs (started_at DESC, run_id DESC);

CREATE TABLE indexed_files (
    run_id      BIGINT NOT NULL REFERENCES index_runs (run_id) ON DELETE CASCADE,
    file_path   TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('indexed', 'partial', 'failed', 'skipped')),
    skip_reason TEXT,
    language    TEXT,
    bytes       BIGINT NOT NULL DEFAULT 0,
    chunks      INTEGER NOT NULL DEFAULT 0,
    duration_us BIGINT NOT NULL DEFAULT 0,
    -- The file's first error, kept per run so runs can be compared after
    -- indexing_errors has moved on to newer runs.
    error_type  TEXT,
    fingerprint TEXT,
    PRIMARY KEY (run_id, file_path),
    CHECK ((outcome = 'skipped') = (skip_reason IS NOT NULL))
);
CREATE INDEX indexed_files_outcome_idx ON indexed_files (run_id, outcome);

CREATE TABLE indexing_errors (
    error_id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repository      TEXT NOT NULL,
    file_path       TEXT NOT NULL,
    error_type      TEXT NOT NULL CHECK (error_type IN (
                        'parsing_error', 'encoding_error', 'chunking_error', 'embedding_error',
                        'persistence_error', 'io_error', 'timeout_error', 'unexpected_error')),
    error_message   TEXT NOT NULL,
    error_traceback TEXT,
    chunk_type      TEXT,
    language        TEXT,
    occurred_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    run_id          BIGINT REFERENCES index_runs (run_id) ON DELETE CASCADE,
    line            INTEGER,
    "column"        INTEGER,
    end_line        INTEGER,
    end_column      INTEGER,
    fingerprint     TEXT,
    details         JSONB NOT NULL DEFAULT '{}'::jsonb
);
-- Listing: by repository (optionally by type), newest first, total order.
CREATE INDEX indexing_errors_list_idx
    ON indexing_errors (repository, occurred_at DESC, error_id DESC);
CREATE INDEX indexing_errors_type_idx
    ON indexing_errors (repository, error_type, occurred_at DESC, error_id DESC);
CREATE INDEX indexing_errors_run_idx ON indexing_errors (run_id, error_type);
CREATE INDEX indexing_errors_fingerprint_idx ON indexing_errors (repository, fingerprint);

CREATE TABLE code_chunks (
    chunk_id    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repository  TEXT NOT NULL,
    file_path   TEXT NOT NULL,
    language    TEXT NOT NULL,
    chunk_type  TEXT NOT NULL,
    name        TEXT NOT NULL,
    source_code TEXT NOT NULL,
    start_line  INTEGER NOT NULL,
    end_line    INTEGER NOT NULL,
    metadata    JSONB NOT NULL DEFAULT '{}'::jsonb,
    run_id      BIGINT REFERENCES index_runs (run_id) ON DELETE SET NULL,
    indexed_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX code_chunks_file_idx ON code_chunks (repository, file_path);

CREATE TABLE error_groups (
    group_id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repository     TEXT NOT NULL,
    fingerprint    TEXT NOT NULL,
    error_type     TEXT NOT NULL,
    title          TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'open'
                   CHECK (status IN ('open', 'ignored', 'resolved', 'regressed')),
    note           TEXT,
    first_seen_run BIGINT REFERENCES index_runs (run_id) ON DELETE SET NULL,
    first_seen_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_run  BIGINT REFERENCES index_runs (run_id) ON DELETE SET NULL,
    last_seen_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    occurrences    BIGINT NOT NULL DEFAULT 0,
    last_run_files INTEGER NOT NULL DEFAULT 0,
    UNIQUE (repository, fingerprint)
);
CREATE INDEX error_groups_list_idx ON error_groups (repository, last_run_files DESC);
