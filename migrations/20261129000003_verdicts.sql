-- The reference parser's verdict on each syntax error, and each failing
-- file's kind of failure, so counts can tell grammar gaps from broken
-- source. Rows written before this migration have neither (NULL).
ALTER TABLE indexing_errors
    ADD COLUMN verdict TEXT
        CHECK (verdict IN ('grammar_gap', 'invalid_source', 'unknown')),
    ADD CONSTRAINT indexing_errors_verdict_parsing_only
        CHECK (verdict IS NULL OR error_type = 'parsing_error');
CREATE INDEX indexing_errors_verdict_idx
    ON indexing_errors (repository, verdict, occurred_at DESC, error_id DESC)
    WHERE verdict IS NOT NULL;

ALTER TABLE indexed_files
    ADD COLUMN failure_kind TEXT
        CHECK (failure_kind IN ('grammar_gap', 'invalid_source', 'other'));
