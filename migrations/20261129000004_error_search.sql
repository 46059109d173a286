-- The triage list's text filter looks for a substring of the path or the
-- message. Trigram indexes answer that without reading every row; where the
-- pg_trgm extension cannot be installed, the filter still works, slower.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX indexing_errors_path_trgm_idx ON indexing_errors USING gin (file_path gin_trgm_ops);
    CREATE INDEX indexing_errors_message_trgm_idx ON indexing_errors USING gin (error_message gin_trgm_ops);
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%); text search will scan', SQLERRM;
END
$$;
