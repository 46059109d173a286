-- What a run's discovery left out, by reason (test files, other
-- extensions, components, --exclude, ignore files, symbolic links, always
-- excluded folders): recorded with files_discovered once the walk is over.
-- NULL until then, and for runs stored before.
ALTER TABLE index_runs ADD COLUMN passed_over JSONB;
