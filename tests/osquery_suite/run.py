#!/usr/bin/env python3
"""Run the osquery-style suite: every *.sql beside this file, unchanged,
through `procsnap query -F csv -f FILE SNAP`; check the header of each
(`-- columns: a, b` the result's columns; `-- expect:` lines) against the
result.  Expectations (their {key} filled from the KEY=VALUE arguments):
  row k=v k2=v2 ...     some row has these values (compared as text, NULL as '')
  no-row k=v ...        no row has them
  rows=N, rows>=N       the number of rows
  none                  no row at all
usage: run.py PROCSNAP SNAP [KEY=VALUE]...   exit 0 when every query passes."""
import csv
import io
import os
import re
import subprocess
import sys


def pairs(spec):
    out = {}
    for tok in re.split(r"\s+(?=[A-Za-z_][A-Za-z0-9_]*=)", spec.strip()):
        k, _, v = tok.partition("=")
        out[k] = v
    return out


def check(expect, rows):
    kind, _, rest = expect.partition(" ")
    if kind in ("row", "no-row"):
        want = pairs(rest)
        hit = any(all(r.get(k) == v for k, v in want.items()) for r in rows)
        if hit != (kind == "row"):
            return "%s %s: not so in %d rows: %s" % (kind, want, len(rows), rows[:5])
    elif kind.startswith("rows>="):
        if len(rows) < int(kind[6:]):
            return "%d rows, want >= %s" % (len(rows), kind[6:])
    elif kind.startswith("rows="):
        if len(rows) != int(kind[5:]):
            return "%d rows, want %s" % (len(rows), kind[5:])
    elif kind == "none":
        if rows:
            return "%d rows, want none: %s" % (len(rows), rows[:5])
    else:
        return "unknown expectation %r" % expect
    return None


def main():
    procsnap, snap = sys.argv[1:3]
    vals = dict(a.split("=", 1) for a in sys.argv[3:])
    here = os.path.dirname(os.path.abspath(__file__))
    fails = n = 0
    for name in sorted(f for f in os.listdir(here) if f.endswith(".sql")):
        path = os.path.join(here, name)
        cols, expects = None, []
        for line in open(path, encoding="utf-8"):
            if line.startswith("-- columns:"):
                cols = [c.strip() for c in line[len("-- columns:"):].split(",")]
            elif line.startswith("-- expect:"):
                expects.append(line[len("-- expect:"):].strip().format(**vals))
        n += 1
        p = subprocess.run([procsnap, "query", "-F", "csv", "-f", path, snap],
                           capture_output=True)
        why = None
        if p.returncode != 0:
            why = "exit %d: %s" % (p.returncode, p.stderr.decode(errors="replace").strip())
        else:
            table = list(csv.reader(io.StringIO(p.stdout.decode("utf-8"), newline="")))
            if not table:
                why = "no output (no header)"
            elif cols is not None and table[0] != cols:
                why = "columns %s, want %s" % (table[0], cols)
            else:
                rows = [dict(zip(table[0], r)) for r in table[1:]]
                for e in expects:
                    why = why or check(e, rows)
        if why:
            fails += 1
            print("FAIL %s: %s" % (name, why))
        else:
            print("ok   %s" % name)
    print("%d queries, %d failed" % (n, fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
