-- Schema 3: who sent each snapshot, what each enrollment token may write,
-- and each snapshot's inventory as read at ingest (so that page views never
-- decode uploads again). NULL or '' for rows stored before schema 3.
ALTER TABLE snapshots ADD COLUMN token TEXT;       -- id of the uploading token
ALTER TABLE snapshots ADD COLUMN remote TEXT;      -- the client's address
ALTER TABLE snapshots ADD COLUMN inventory BLOB;  -- the host as read (JSON), NULL: read the body again
ALTER TABLE snapshots ADD COLUMN readers TEXT;     -- inventory.ReadersVersion that read it
ALTER TABLE tokens ADD COLUMN site TEXT NOT NULL DEFAULT '';   -- '': any site
ALTER TABLE tokens ADD COLUMN hosts TEXT NOT NULL DEFAULT '';  -- host-name pattern, '': any
ALTER TABLE hosts ADD COLUMN site TEXT NOT NULL DEFAULT '';    -- set by the first token that wrote it
