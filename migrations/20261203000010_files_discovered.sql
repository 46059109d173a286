-- The number of files a run's discovery found, set once its walk is over
-- (before any file is processed): with the counts the writer adds batch by
-- batch, any process can show a run's progress and ETA from its row alone.
-- NULL while discovery walks, for runs cancelled during it, and for runs
-- stored before this column existed.
ALTER TABLE index_runs ADD COLUMN files_discovered INTEGER;
