/*
 * test_tables_psutil.c - every process of the machine: processes.ppid,
 * name, cmdline, threads and state agree with an independent reader,
 * python3-psutil (Debian's), which reads every process over and over from
 * right before a full capture starts until right after it ends.  Processes
 * are matched on (pid, create_time); each value must be one psutil saw
 * (threads come and go while the capture runs); state may differ only when
 * 'R' is on either side; a kworker's name is compared without the
 * workqueue suffix the kernel rewrites as it runs other work.  At least 50
 * processes must be compared.
 */
#include "t.h"
#include "tutil.h"

#include <unistd.h>

/* The reader and the comparison, run with /usr/bin/python3 (the system
 * interpreter, where python3-psutil is installed). */
static const char script[] =
    "import json, os, sqlite3, sys\n"
    "def reading(psutil, p):\n"
    "    with p.oneshot():\n"
    "        d = {'ppid': p.ppid(), 'name': p.name(), 'threads': p.num_threads(),\n"
    "             'status': p.status(), 'create_time': p.create_time()}\n"
    "    try:\n"
    "        d['cmdline'] = ' '.join(p.cmdline()).strip(' ')\n"
    "    except psutil.Error:\n"
    "        pass\n"
    "    return d\n"
    "# Read every process again and again, from before the capture starts (the\n"
    "# `ready` file) until after it ended (the `stop` file): every value seen.\n"
    "def watch(path, stop, ready):\n"
    "    import psutil\n"
    "    seen = {}\n"
    "    while True:\n"
    "        done = os.path.exists(stop)\n"
    "        for p in psutil.process_iter():\n"
    "            try:\n"
    "                d = reading(psutil, p)\n"
    "            except psutil.Error:\n"
    "                continue\n"
    "            l = seen.setdefault(str(p.pid), [])\n"
    "            if d not in l:\n"
    "                l.append(d)\n"
    "        if not os.path.exists(ready):\n"
    "            open(ready, 'w').close()\n"
    "        if done:\n"
    "            break\n"
    "    json.dump(seen, open(path, 'w'))\n"
    "# psutil status strings -> the stat letter\n"
    "LETTER = {'running': 'R', 'sleeping': 'S', 'disk-sleep': 'D', 'stopped': 'T',\n"
    "          'tracing-stop': 't', 'zombie': 'Z', 'dead': 'X', 'wake-kill': 'K',\n"
    "          'waking': 'W', 'idle': 'I', 'parked': 'P', 'locked': 'L', 'waiting': 'W'}\n"
    "def compare(db, seen_path):\n"
    "    seen = json.load(open(seen_path))\n"
    "    con = sqlite3.connect(db)\n"
    "    con.text_factory = lambda x: x.decode('utf-8', 'surrogateescape')\n"
    "    ticks, = con.execute('SELECT clock_ticks FROM snapshots').fetchone()\n"
    "    btime, = con.execute(\"SELECT value FROM system_kv WHERE source='stat' AND \"\n"
    "                         \"key='btime'\").fetchone()\n"
    "    rows = con.execute('SELECT pid, ppid, name, cmdline, threads, state, starttime '\n"
    "                       'FROM processes').fetchall()\n"
    "    compared = bad = 0\n"
    "    for pid, ppid, name, cmdline, threads, state, st in rows:\n"
    "        if st is None: continue\n"
    "        ct = btime + st / ticks\n"
    "        sides = [r for r in seen.get(str(pid), []) if abs(r['create_time'] - ct) < 0.02]\n"
    "        if not sides: continue\n"
    "        compared += 1\n"
    "        def check(field, ours, theirs, ok=None):\n"
    "            nonlocal bad\n"
    "            vals = [t for t in theirs if t is not None]\n"
    "            if not vals: return\n"
    "            if ok(ours, vals) if ok else ours in vals: return\n"
    "            bad += 1\n"
    "            print('MISMATCH pid %d %s: ours %r psutil %r' % (pid, field, ours, vals))\n"
    "        check('ppid', ppid, [s['ppid'] for s in sides])\n"
    "        # psutil extends a 15-byte comm with argv[0]'s basename; a kworker's\n"
    "        # name carries the workqueue it runs right now (wq_worker_comm)\n"
    "        kw = lambda x: x.split('-')[0] if x and x.startswith('kworker/') else x\n"
    "        check('name', name, [s['name'] for s in sides],\n"
    "              lambda o, v: o in v or kw(o) in map(kw, v) or (o is not None and\n"
    "                  len(o.encode('utf-8', 'surrogateescape')) >= 15 and\n"
    "                  any(x.startswith(o) for x in v)))\n"
    "        check('cmdline', cmdline, [s.get('cmdline') for s in sides])\n"
    "        # a count that moved while psutil made its passes (6, then 1) may\n"
    "        # be read by the capture in between (5)\n"
    "        check('threads', threads, [s['threads'] for s in sides],\n"
    "              lambda o, v: o is not None and min(v) <= o <= max(v))\n"
    "        letters = [LETTER.get(s['status'], s['status']) for s in sides]\n"
    "        check('state', state, letters, lambda o, v: o in v or o == 'R' or 'R' in v)\n"
    "    print('compared %d mismatches %d of %d rows' % (compared, bad, len(rows)))\n"
    "    sys.exit(1 if bad else 0)\n"
    "if sys.argv[1] == 'watch': watch(sys.argv[2], sys.argv[3], sys.argv[4])\n"
    "else: compare(sys.argv[2], sys.argv[3])\n";

static void test_all_processes_agree_with_psutil(void)
{
	if (tu_sh(NULL, "/usr/bin/python3 -c 'import psutil' 2>/dev/null") != 0)
		T_SKIP("python3-psutil is not installed");
	const char *d = tu_tmpdir();
	char py[512], snap[512];
	snprintf(py, sizeof(py), "%s/ps.py", d);
	snprintf(snap, sizeof(snap), "%s/all.tar.zst", d);
	FILE *f = fopen(py, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs(script, f);
	fclose(f);
	struct ps_buf out = PS_BUF_INIT;
	/* psutil reads in a loop from before the capture until after it */
	CHECK_INT(tu_sh(NULL,
			"cd %s && { /usr/bin/python3 ps.py watch seen.json stop ready & w=$!; "
			"while [ ! -e ready ] && kill -0 $w 2>/dev/null; do sleep 0.01; done; "
			"%s capture -q -o %s >/dev/null; rc=$?; touch stop; wait $w || rc=9; "
			"exit $rc; }",
			d, tu_procsnap(), snap),
		  0);
	int rc = tu_sh(&out, "/usr/bin/python3 %s compare %s.db %s/seen.json", py, snap, d);
	fputs(out.buf, stdout);
	CHECK_INT(rc, 0);
	const char *c = strstr(out.buf, "compared ");
	CHECK(c != NULL);
	int n = c ? atoi(c + 9) : 0;
	printf("processes compared with psutil: %d\n", n);
	CHECK(n > 50);
	ps_buf_release(&out);
}

static void teardown(void)
{
	tu_cleanup();
}

static const struct t_case t_cases[] = {T(test_all_processes_agree_with_psutil), {NULL, NULL}};
T_MAIN_SETUP(t_cases, NULL, teardown)
