-- Which text, cut by which snag, a chunk came from. A re-run that finds a
-- file's chunks under the same key leaves them in place instead of deleting
-- and rewriting identical rows. NULL for chunks written before this column.
ALTER TABLE code_chunks ADD COLUMN source_key BIGINT;
