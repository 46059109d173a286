-- Source text is stored by the megabyte on every run. lz4 compresses it
-- several times faster than the default pglz, which otherwise dominates the
-- server's share of a run. Servers built without lz4 keep the default.
DO $$
BEGIN
    ALTER TABLE code_chunks ALTER COLUMN source_code SET COMPRESSION lz4;
    ALTER TABLE indexing_errors ALTER COLUMN error_traceback SET COMPRESSION lz4;
    ALTER TABLE indexing_errors ALTER COLUMN details SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 is not available; keeping the default compression';
END
$$;
