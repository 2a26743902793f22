#!/usr/bin/env python3
"""report_netlog.py NETLOG.json - the requests a page made, from a Chromium
net log (--log-net-log): the URL of every URL_REQUEST_START_JOB whose
initiator is not the browser itself ("not an origin": its own update and
time checks, which --disable-background-networking does not stop all of).
A file:// page's requests have the initiator "null". One URL a line; no
output: the page requested nothing.  Exit 2 if the log cannot be read."""
import json
import sys

try:
    with open(sys.argv[1], encoding="utf-8") as f:
        log = json.load(f)
    types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    events = log["events"]
except (OSError, ValueError, KeyError, IndexError) as e:
    print("report_netlog: %s" % e, file=sys.stderr)
    sys.exit(2)
for e in events:
    if types.get(e.get("type")) != "URL_REQUEST_START_JOB":
        continue
    p = e.get("params") or {}
    if "url" in p and p.get("initiator") != "not an origin":
        print(p["url"])
