-- A run's groups say their verdict (a group's key includes it), so a run's
-- errors by verdict are summed over its groups, not counted over its
-- errors: the error list's filter bar and the dashboard read them at once
-- whatever the number of errors.
ALTER TABLE run_groups ADD COLUMN verdict TEXT;
UPDATE run_groups g SET verdict = e.verdict
FROM (
    SELECT DISTINCT ON (run_id, fingerprint) run_id, fingerprint, verdict
    FROM indexing_errors
    WHERE verdict IS NOT NULL AND run_id IS NOT NULL AND fingerprint IS NOT NULL
) e
WHERE g.run_id = e.run_id AND g.fingerprint = e.fingerprint;
