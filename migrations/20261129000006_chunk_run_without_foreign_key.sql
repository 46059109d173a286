-- code_chunks.run_id says which run wrote a chunk. As a foreign key it made
-- PostgreSQL look the run up once per inserted chunk, which was half of the
-- server's work in storing a run. snag never deletes runs, so the check
-- guarded nothing that happens; the column stays, without the constraint.
ALTER TABLE code_chunks DROP CONSTRAINT IF EXISTS code_chunks_run_id_fkey;
