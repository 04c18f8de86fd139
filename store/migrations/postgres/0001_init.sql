-- kbplan fleet store, schema 1 (PostgreSQL). Times are Unix milliseconds.
CREATE TABLE snapshots (
  id       BIGSERIAL PRIMARY KEY,
  host     TEXT    NOT NULL,          -- the host's key: its name, lower case
  digest   TEXT    NOT NULL UNIQUE,   -- SHA-256 of the upload: ingest is idempotent
  received BIGINT  NOT NULL,
  format   TEXT    NOT NULL,          -- systeminfo, kbplan-bundle, ...
  size     BIGINT  NOT NULL,
  body     BYTEA   NOT NULL           -- the upload as received, to assess again
);
CREATE INDEX snapshots_host ON snapshots (host, id);

CREATE TABLE hosts (
  name           TEXT PRIMARY KEY,    -- lower case
  display        TEXT    NOT NULL,    -- as the host reports it
  snapshot       BIGINT  NOT NULL REFERENCES snapshots (id),
  updated        BIGINT  NOT NULL,
  assessed       BIGINT  NOT NULL,
  catalog        TEXT    NOT NULL,    -- the catalog version the row was assessed with
  product        TEXT    NOT NULL,
  architecture   TEXT    NOT NULL,
  build          INTEGER NOT NULL,
  revision       INTEGER NOT NULL,
  patch_level    TEXT    NOT NULL,    -- YYYY-MM, '' when none
  steps          INTEGER NOT NULL,
  reboots        INTEGER NOT NULL,
  findings       INTEGER NOT NULL,
  critical       INTEGER NOT NULL,
  sha2           INTEGER NOT NULL,
  ssu_current    INTEGER NOT NULL,
  esu_prepared   INTEGER NOT NULL,
  reboot_pending INTEGER NOT NULL,
  cves_open      INTEGER NOT NULL,
  cves_critical  INTEGER NOT NULL,
  cves_exploited INTEGER NOT NULL,
  in_scope       INTEGER NOT NULL
);
CREATE INDEX hosts_build ON hosts (build);
CREATE INDEX hosts_patch_level ON hosts (patch_level);

CREATE TABLE tokens (
  id      TEXT PRIMARY KEY,
  name    TEXT    NOT NULL,
  role    TEXT    NOT NULL,            -- admin, enroll
  hash    TEXT    NOT NULL UNIQUE,     -- SHA-256 of the token: never the token
  created BIGINT  NOT NULL,
  revoked BIGINT                       -- NULL while valid
);

CREATE TABLE users (
  name     TEXT PRIMARY KEY,
  role     TEXT    NOT NULL,           -- admin, viewer
  password TEXT    NOT NULL,           -- bcrypt
  created  BIGINT  NOT NULL
);

CREATE TABLE sessions (
  hash    TEXT PRIMARY KEY,            -- SHA-256 of the cookie value
  username TEXT   NOT NULL REFERENCES users (name) ON DELETE CASCADE,
  csrf    TEXT    NOT NULL,
  expires BIGINT  NOT NULL
);
