-- Schema 4: groups, the by-update view, install results and the audit
-- record. Times are Unix milliseconds.

-- A host's state (assess and its kit runs: current, behind, restart,
-- cannot-update, out-of-scope), the plan's own state, its update profile
-- and how many installs its kit reported that a later inventory lacks.
ALTER TABLE hosts ADD COLUMN state TEXT NOT NULL DEFAULT '';
ALTER TABLE hosts ADD COLUMN plan_state TEXT NOT NULL DEFAULT '';
ALTER TABLE hosts ADD COLUMN profile BIGINT NOT NULL DEFAULT 0;
ALTER TABLE hosts ADD COLUMN contradicted INTEGER NOT NULL DEFAULT 0;
CREATE INDEX hosts_state ON hosts (state);
CREATE INDEX hosts_profile ON hosts (profile);

-- An update profile is a set of (KB, state) a host is in: needed (a plan
-- step), conditional, installed. Hosts built and patched alike share one.
-- Profiles never change once written (their digest is their content).
CREATE TABLE profiles (
  id      BIGSERIAL PRIMARY KEY,
  digest  TEXT   NOT NULL UNIQUE,
  created BIGINT NOT NULL
);
CREATE TABLE profile_updates (
  profile BIGINT NOT NULL,
  kb      TEXT   NOT NULL,
  state   TEXT   NOT NULL,  -- needed, conditional, installed
  PRIMARY KEY (profile, kb)
);
CREATE INDEX profile_updates_kb ON profile_updates (kb, state, profile);
-- The by-update view of each group ('' is every host): how many hosts
-- need, may need and have each KB. A write of a host row (or a group
-- change) only logs which profile a host left and joined, in its
-- transaction (count_log); Fold applies the log to kb_counts, once per
-- profile whatever the number of hosts that moved (the server folds every
-- second, and every read of the view folds first), so a page view reads
-- one row per KB.
CREATE TABLE count_log (
  id      BIGSERIAL PRIMARY KEY,
  grp     TEXT    NOT NULL,
  profile BIGINT  NOT NULL,
  n       INTEGER NOT NULL
);
CREATE TABLE kb_counts (
  grp         TEXT    NOT NULL,
  kb          TEXT    NOT NULL,
  needed      INTEGER NOT NULL,
  conditional INTEGER NOT NULL,
  installed   INTEGER NOT NULL,
  PRIMARY KEY (grp, kb)
);

CREATE TABLE groups (
  name    TEXT PRIMARY KEY,
  created BIGINT NOT NULL,
  rule    TEXT   NOT NULL DEFAULT ''  -- host-name pattern; hosts matching it join
);
CREATE TABLE host_groups (
  host TEXT NOT NULL,
  grp  TEXT NOT NULL REFERENCES groups (name) ON DELETE CASCADE,
  PRIMARY KEY (host, grp)
);
CREATE INDEX host_groups_grp ON host_groups (grp, host);

-- Each results upload of a kit's install.cmd, as received and as read.
CREATE TABLE runs (
  id       BIGSERIAL PRIMARY KEY,
  host     TEXT    NOT NULL,  -- lower case
  kit      TEXT    NOT NULL,
  digest   TEXT    NOT NULL UNIQUE,
  received BIGINT  NOT NULL,
  token    TEXT    NOT NULL,
  remote   TEXT    NOT NULL,
  event    TEXT    NOT NULL,  -- what made install.cmd send it
  status   TEXT    NOT NULL,  -- finished, restart, failed, refused, stopped, checked, running
  detail   TEXT    NOT NULL,
  steps    INTEGER NOT NULL,
  done     INTEGER NOT NULL,
  failed   INTEGER NOT NULL,
  boots    INTEGER NOT NULL,
  body     BYTEA   NOT NULL
);
CREATE INDEX runs_host ON runs (host, id);
-- Each host's newest outcome per KB. flag: failed (the newest run failed
-- on it and no inventory since shows it), contradicted (a run installed
-- it and a later inventory lacks it), '' otherwise.
CREATE TABLE host_outcomes (
  host     TEXT    NOT NULL,
  kb       TEXT    NOT NULL,
  outcome  TEXT    NOT NULL,
  code     BIGINT  NOT NULL,
  run      BIGINT  NOT NULL,
  received BIGINT  NOT NULL,
  flag     TEXT    NOT NULL DEFAULT '',
  PRIMARY KEY (host, kb)
);
CREATE INDEX host_outcomes_flag ON host_outcomes (flag, kb);

-- Who changed what (uploads are recorded in snapshots and runs).
CREATE TABLE audit (
  id     BIGSERIAL PRIMARY KEY,
  at     BIGINT NOT NULL,
  actor  TEXT   NOT NULL,
  action TEXT   NOT NULL,
  target TEXT   NOT NULL,
  detail TEXT   NOT NULL,
  remote TEXT   NOT NULL
);
CREATE INDEX audit_at ON audit (at);
