#!/usr/bin/env python3
"""report_data.py FILE.html PID ADDR N - the residency of N pages of process
PID from address ADDR (hex), as the report's data block says (the maps
table's "$res" runs, cli/cmd_report.c): one character a page, the class
letter ('.' absent, '?' not examined, 'A'+class-1 else), or '-' where no
mapping of PID covers the page.  Exit 2 if the page holds no data block."""
import json
import re
import sys

ALPHA = ".ABCDEFGHIJKLMNOPQRSTUVWXYZabcde"


def pages(res):
    per, i = 1, 0
    if res.startswith("~"):
        c = res.index(":")
        per, i = int(res[1:c]), c + 1
    out, n = [], ""
    for ch in res[i:]:
        if ch.isdigit():
            n += ch
            continue
        out.extend(ch * ((int(n) if n else 1) * per))
        n = ""
    return out


def main():
    html, pid, addr, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3], 16), int(sys.argv[4])
    with open(html, encoding="utf-8") as f:
        m = re.search(r'<script type="application/json" id="procsnap-data">(.*?)</script>',
                      f.read(), re.S)
    if not m:
        sys.exit(2)
    d = json.loads(m.group(1))
    t, strings = d["M"], d["S"]
    col = {c.lstrip("$"): i for i, c in enumerate(t["c"])}
    by = dict(zip(t["by"][0::2], t["by"][1::2]))
    rows = [t["rows"][r] for r in t["sets"][by[pid]]] if pid in by else []
    out = ""
    for k in range(count):
        a, ch = addr + k * 4096, "-"
        for r in rows:
            start, size = int(r[col["start"]], 16), r[col["len"]] or 0
            if start <= a < start + size and r[col["res"]] is not None:
                p = pages(strings[r[col["res"]]])
                i = (a - start) // 4096
                ch = p[i] if i < len(p) else "-"
        out += ch
    print(out)


main()
