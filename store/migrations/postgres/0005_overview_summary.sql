-- Schema 5: the overview from a summary, not a scan of hosts. Every write
-- of a host row (and every group change) logs the host's summary key it
-- left and took (summary_log), in the write's transaction; Fold adds the
-- log into summary, once per key. A key is what the overview counts by:
-- state, build, patch level, the UTC day of the host's newest upload
-- (Unix milliseconds / 86,400,000: the overview counts hosts silent for 30
-- days), and flags (1 in scope, 2 SHA-2, 4 SSU
-- current, 8 ESU prepared, 16 restart pending, 32 an open CVE, 64 an open
-- critical CVE, 128 an open exploited CVE, 256 a contradicted kit install).
CREATE TABLE summary_log (
  id            BIGSERIAL PRIMARY KEY,
  grp           TEXT    NOT NULL,
  state         TEXT    NOT NULL,
  build         INTEGER NOT NULL,
  patch_level   TEXT    NOT NULL,
  day           BIGINT  NOT NULL,
  flags         INTEGER NOT NULL,
  n             INTEGER NOT NULL,
  cves_open     BIGINT  NOT NULL,
  cves_critical BIGINT  NOT NULL,
  cves_exploited BIGINT NOT NULL
);
CREATE TABLE summary (
  grp           TEXT    NOT NULL,
  state         TEXT    NOT NULL,
  build         INTEGER NOT NULL,
  patch_level   TEXT    NOT NULL,
  day           BIGINT  NOT NULL,
  flags         INTEGER NOT NULL,
  n             INTEGER NOT NULL,
  cves_open     BIGINT  NOT NULL,
  cves_critical BIGINT  NOT NULL,
  cves_exploited BIGINT NOT NULL,
  PRIMARY KEY (grp, state, build, patch_level, day, flags)
);
-- The overview's one question a summary cannot answer: the hosts at the
-- oldest patch levels; and the host list's silent hosts.
CREATE INDEX hosts_scope_level ON hosts (in_scope, patch_level, name);
CREATE INDEX hosts_updated ON hosts (updated);
-- Hosts stored before schema 5, summarised once.
INSERT INTO summary_log (grp, state, build, patch_level, day, flags, n, cves_open, cves_critical, cves_exploited)
  SELECT '', state, build, patch_level, updated / 86400000,
    in_scope + 2*sha2 + 4*ssu_current + 8*esu_prepared + 16*reboot_pending + CASE WHEN cves_open > 0 THEN 32 ELSE 0 END
    + CASE WHEN cves_critical > 0 THEN 64 ELSE 0 END + CASE WHEN cves_exploited > 0 THEN 128 ELSE 0 END + CASE WHEN contradicted > 0 THEN 256 ELSE 0 END,
    1, cves_open, cves_critical, cves_exploited FROM hosts;
INSERT INTO summary_log (grp, state, build, patch_level, day, flags, n, cves_open, cves_critical, cves_exploited)
  SELECT m.grp, h.state, h.build, h.patch_level, h.updated / 86400000,
    h.in_scope + 2*h.sha2 + 4*h.ssu_current + 8*h.esu_prepared + 16*h.reboot_pending + CASE WHEN h.cves_open > 0 THEN 32 ELSE 0 END
    + CASE WHEN h.cves_critical > 0 THEN 64 ELSE 0 END + CASE WHEN h.cves_exploited > 0 THEN 128 ELSE 0 END + CASE WHEN h.contradicted > 0 THEN 256 ELSE 0 END,
    1, h.cves_open, h.cves_critical, h.cves_exploited FROM host_groups m JOIN hosts h ON h.name = m.host;
