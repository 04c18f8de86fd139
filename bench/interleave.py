#!/usr/bin/env python3
"""Times commands in turn, one run of each per round, so that a shared
machine's slow minutes fall on all of them alike; prints each command's
wall time and its user CPU (the child's, from getrusage), min and median,
and each one's ratio to the last command (the peer).

Usage: bench/interleave.py [--runs N] [--prepare CMD] CMD... 
  --prepare CMD   run (untimed, through the shell) before every timed run
  --ok CODES      exit codes that count as success (default 0; kbplan
                  analyze exits 3 when a host lacks something: --ok 0,3)
Commands are split on spaces (no shell): bench/interleave.py --runs 21
--prepare 'rm -rf /tmp/o' 'kbplan extract x.cab /tmp/o' 'cabextract -q -d /tmp/o x.cab'
"""
import argparse, resource, statistics, subprocess, time

p = argparse.ArgumentParser()
p.add_argument("--runs", type=int, default=15)
p.add_argument("--prepare")
p.add_argument("--ok", default="0")
p.add_argument("cmds", nargs="+")
a = p.parse_args()
wall = {c: [] for c in a.cmds}
user = {c: [] for c in a.cmds}
for _ in range(a.runs):
    for c in a.cmds:
        if a.prepare:
            subprocess.run(a.prepare, shell=True, check=True)
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        rc = subprocess.run(c.split(), stdout=subprocess.DEVNULL).returncode
        if str(rc) not in a.ok.split(","):
            raise SystemExit("%s: exit code %d (not in --ok %s)" % (c, rc, a.ok))
        wall[c].append((time.perf_counter() - t0) * 1000)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        user[c].append((r1.ru_utime - r0.ru_utime) * 1000)
peer = a.cmds[-1]
for c in a.cmds:
    lo, med = min(wall[c]), statistics.median(wall[c])
    ratio = "" if c == peer else "; peer/this %.2fx (min) %.2fx (median)" % (min(wall[peer]) / lo, statistics.median(wall[peer]) / med)
    print("%-60s wall min %7.1f median %7.1f ms, user min %7.1f median %7.1f ms%s"
          % (c[-60:], lo, med, min(user[c]), statistics.median(user[c]), ratio))
