-- Schema 2: each snapshot keeps the summary it was assessed to when it
-- arrived, so that a host's history shows how it changed (build, patch
-- level, plan size). NULL for snapshots stored before schema 2.
ALTER TABLE snapshots ADD COLUMN build INTEGER;
ALTER TABLE snapshots ADD COLUMN revision INTEGER;
ALTER TABLE snapshots ADD COLUMN patch_level TEXT;
ALTER TABLE snapshots ADD COLUMN steps INTEGER;
