/*
 * procsnap report (cli/report/report.js): draws the page from the JSON block
 * #procsnap-data (written by cli/cmd_report.c).
 *
 * Safety: the data is parsed with JSON.parse, never evaluated; every element
 * is made here with createElement and every value from the snapshot goes
 * into a text node (tx), never into markup; links carry only numbers
 * (#p=PID).  Control, C1 and bidirectional characters are shown as escapes
 * (\x1b, \u202e) as procsnap prints them on a terminal.
 *
 * Data layout (compact: see cmd_report.c): D.S is the string table; a table
 * is {c: [columns], r: [rows]} and a column named "$x" holds an index into
 * D.S; a per-process table is {c, rows: [distinct rows], sets: [[row
 * index, ...], ...], by: [pid, set, pid, set, ...]}.
 */
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('procsnap-data').textContent);
  var S = D.S || [];

  /* ---- text and elements ---------------------------------------------- */

  var UNSAFE = /[\\\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
  function escOf(c) {
    if (c === '\\') return '\\\\';
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    var n = c.charCodeAt(0), h = n.toString(16);
    if (n < 0x80) return '\\x' + ('0' + h).slice(-2);
    return '\\u' + ('000' + h).slice(-4);
  }
  /* A node showing s as text: unsafe characters as visible escapes. */
  function tx(s) {
    if (s === null || s === undefined) s = '';
    s = String(s);
    if (!UNSAFE.test(s)) return document.createTextNode(s);
    var f = document.createDocumentFragment(), run = '';
    for (var i = 0; i < s.length; i++) {
      var c = s[i];
      if (UNSAFE.test(c)) {
        if (run) { f.appendChild(document.createTextNode(run)); run = ''; }
        var sp = document.createElement('span');
        sp.className = 'esc';
        sp.textContent = escOf(c);
        f.appendChild(sp);
      } else {
        run += c;
      }
    }
    if (run) f.appendChild(document.createTextNode(run));
    return f;
  }
  /* el('td.n', child...): children are nodes, or values shown with tx. */
  function el(spec) {
    var m = spec.split('.'), e = document.createElement(m[0]);
    if (m.length > 1) e.className = m.slice(1).join(' ');
    for (var i = 1; i < arguments.length; i++) add(e, arguments[i]);
    return e;
  }
  function add(e, c) {
    if (c === null || c === undefined) return;
    if (Array.isArray(c)) { c.forEach(function (x) { add(e, x); }); return; }
    e.appendChild(c instanceof Node ? c : tx(c));
  }
  function $(id) { return document.getElementById(id); }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }
  function link(pid, label) {
    var a = el('a', label === undefined ? String(pid) : label);
    if (typeof pid === 'number' && isFinite(pid) && pid > 0) a.href = '#p=' + pid;
    return a;
  }
  function badge(text, cls) { return el('span.badge' + (cls ? '.' + cls : ''), text); }
  function str(i) { return i === null || i === undefined ? null : S[i]; }

  /* ---- numbers ---------------------------------------------------------- */

  function num(v) { return v === null || v === undefined ? '' : String(v); }
  function bytes(n) {
    if (n === null || n === undefined) return '';
    var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0;
    while (Math.abs(n) >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : String(n)) + ' ' + u[i];
  }
  function pad2(n) { return ('0' + n).slice(-2); }
  function utc(sec) {
    if (sec === null || sec === undefined || !isFinite(sec)) return '';
    var d = new Date(sec * 1000);
    if (isNaN(d.getTime())) return '?';
    return d.getUTCFullYear() + '-' + pad2(d.getUTCMonth() + 1) + '-' + pad2(d.getUTCDate()) +
      ' ' + pad2(d.getUTCHours()) + ':' + pad2(d.getUTCMinutes()) + ':' + pad2(d.getUTCSeconds()) + ' UTC';
  }
  function dhms(s) {
    if (s === null || s === undefined || !isFinite(s)) return '';
    s = Math.max(0, Math.floor(s));
    var d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
    return (d ? d + '-' : '') + pad2(h) + ':' + pad2(m) + ':' + pad2(s % 60);
  }
  var MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  /* As ps(1) shows START: HH:MM within a day of the capture, else MmmDD,
   * else the year (UTC). */
  function startShort(sec) {
    if (typeof sec !== 'number' || !isFinite(sec)) return '';
    var d = new Date(sec * 1000), now = new Date(nowSec * 1000);
    if (isNaN(d.getTime())) return '?';
    if (nowSec - sec < 86400 && sec <= nowSec + 60) return pad2(d.getUTCHours()) + ':' + pad2(d.getUTCMinutes());
    if (d.getUTCFullYear() === now.getUTCFullYear()) return MON[d.getUTCMonth()] + pad2(d.getUTCDate());
    return String(d.getUTCFullYear());
  }
  function famName(f) { return { 1: 'unix', 2: 'ipv4', 10: 'ipv6', 16: 'netlink', 17: 'packet' }[f] || num(f); }
  function protoName(p) { return { 0: '', 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6', 132: 'sctp', 136: 'udplite', 255: 'raw' }[p] || num(p); }
  function hexn(n) { return n === null || n === undefined ? '' : '0x' + Number(n).toString(16); }

  /* ---- tables of the data ---------------------------------------------- */

  function colIndex(t) {
    var ix = {};
    (t.c || []).forEach(function (c, i) { ix[c.charAt(0) === '$' ? c.slice(1) : c] = i; });
    return ix;
  }
  /* Rows as objects, "$" columns resolved through the string table. */
  function objects(t, rows) {
    var cs = t.c || [];
    return rows.map(function (r) {
      var o = {};
      for (var i = 0; i < cs.length; i++) {
        var c = cs[i];
        if (c.charAt(0) === '$') o[c.slice(1)] = str(r[i]); else o[c] = r[i];
      }
      return o;
    });
  }
  function flat(t) { return t ? objects(t, t.r || []) : []; }
  var perPid = {};
  function rowsOf(key, pid) {
    var t = D[key];
    if (!t) return [];
    if (!perPid[key]) {
      var m = new Map(), by = t.by || [];
      for (var i = 0; i + 1 < by.length; i += 2) m.set(by[i], by[i + 1]);
      perPid[key] = m;
    }
    var s = perPid[key].get(pid), rows = t.rows || [];
    if (s === undefined) return [];
    return objects(t, (t.sets[s] || []).map(function (i) { return rows[i] || []; }));
  }
  /* A table element: cols = [[header, key or function(row), class]]. */
  function grid(cols, rows, rowClass) {
    if (!rows.length) return el('p.muted', 'none');
    var tb = el('table'), hr = el('tr');
    cols.forEach(function (c) { hr.appendChild(el('th' + (c[2] ? '.' + c[2] : ''), c[0])); });
    tb.appendChild(el('thead', hr));
    var body = el('tbody');
    rows.forEach(function (r) {
      var tr = el('tr');
      if (rowClass) { var rc = rowClass(r); if (rc) tr.className = rc; }
      cols.forEach(function (c) {
        var v = typeof c[1] === 'function' ? c[1](r) : r[c[1]];
        tr.appendChild(el('td' + (c[2] ? '.' + c[2] : ''), v));
      });
      body.appendChild(tr);
    });
    tb.appendChild(body);
    return tb;
  }
  function kv(pairs) {
    var tb = el('table.kv');
    pairs.forEach(function (p) {
      if (p[1] === null || p[1] === undefined || p[1] === '') return;
      tb.appendChild(el('tr', el('th', p[0]), el('td', p[1])));
    });
    return tb;
  }
  function parseJSON(s) {
    if (typeof s !== 'string') return null;
    try { return JSON.parse(s); } catch (e) { return null; }
  }

  /* ---- the processes ----------------------------------------------------- */

  var snap = D.snap || {};
  var procs = flat(D.P);
  var byPid = new Map();
  procs.forEach(function (p) { byPid.set(p.pid, p); });
  var nowSec = (snap.start_ns || 0) / 1e9;
  var ticks = snap.clock_ticks || 100;
  var memTotalKB = null;
  var kvRows = flat(D.KV);
  kvRows.forEach(function (k) { if (k.source === 'meminfo' && k.key === 'MemTotal') memTotalKB = k.value; });

  var SEV = ['high', 'medium', 'low', 'info'];
  var findingsByPid = new Map();
  var triage = D.triage || { rules: [] };
  (triage.rules || []).forEach(function (r) {
    (r.findings || []).forEach(function (f) {
      if (f.snapshot_id !== undefined && f.snapshot_id !== D.sid) return;
      if (typeof f.pid !== 'number') return;
      if (!findingsByPid.has(f.pid)) findingsByPid.set(f.pid, []);
      findingsByPid.get(f.pid).push({ rule: r, f: f });
    });
  });
  function worstSev(pid) {
    var l = findingsByPid.get(pid);
    if (!l) return null;
    var best = 9;
    l.forEach(function (x) { best = Math.min(best, SEV.indexOf(x.rule.severity)); });
    return SEV[best] || 'info';
  }

  var diff = D.diff || null;
  var started = new Set(), changed = new Map();
  if (diff && diff.processes) {
    (diff.processes.started || []).forEach(function (p) { started.add(p.pid); });
    (diff.processes.changed || []).forEach(function (p) { changed.set(p.pid, p); });
  }

  function pcpu(p) {
    var el_ = nowSec - (p.start_time || 0);
    if (!(el_ > 0)) el_ = 1;
    return ((p.user_time || 0) + (p.system_time || 0)) / 10 / el_;
  }
  function command(p) {
    return p.cmdline ? p.cmdline : '[' + (p.name || '') + ']';
  }

  /* ---- summary ---------------------------------------------------------- */

  function renderSummary() {
    var b = clear($('summary-body'));
    var host = snap.hostname || '?';
    document.title = 'procsnap report: ' + host;
    $('title').textContent = '';
    $('title').appendChild(tx('procsnap report: ' + host + ' - ' + utc(nowSec)));
    var start = snap.start_ns, end = snap.end_ns;
    var meta = parseJSON(snap.meta_json) || {};
    var sum = parseJSON(snap.summary_json) || {};
    var opts = parseJSON(snap.options);
    var optText = '';
    if (opts && typeof opts === 'object') {
      optText = Object.keys(opts).map(function (k) {
        var v = opts[k];
        return k + '=' + (typeof v === 'object' ? JSON.stringify(v) : String(v));
      }).join(' ');
    }
    var capture = kv([
      ['host', snap.hostname], ['kernel', (snap.kernel_release || '') + ' ' + (snap.kernel_version || '')],
      ['boot id', snap.boot_id], ['machine id', snap.machine_id],
      ['capture start', start ? utc(start / 1e9) : ''],
      ['capture end', end ? utc(end / 1e9) : ''],
      ['duration', start && end ? ((end - start) / 1e9).toFixed(3) + ' s' : ''],
      ['captured by', 'uid ' + num(snap.uid) + (snap.cap_eff ? ', CapEff ' + snap.cap_eff : '')],
      ['proc root', snap.proc_root], ['tool', snap.tool_version ? 'procsnap ' + snap.tool_version + ' (format ' + num(snap.format_version) + ')' : ''],
      ['page size', snap.page_size], ['clock ticks', snap.clock_ticks],
      ['soft-dirty', meta.soft_dirty === true ? 'tracked by the kernel' : meta.soft_dirty === false ? 'not tracked (CONFIG_MEM_SOFT_DIRTY off)' : 'unknown'],
      ['options', optText]
    ]);
    var caseT = kv([['case', snap.case_id], ['examiner', snap.examiner], ['evidence', snap.evidence], ['note', snap.note]]);
    var stats = kv([
      ['processes', num(snap.n_processes)], ['threads', num(snap.n_threads)],
      ['files', num(snap.n_files)], ['links', num(snap.n_links)], ['directories', num(snap.n_dirs)],
      ['not read (absent)', num(snap.n_absent)], ['paths with an errno', num(snap.n_errors)],
      ['bytes read', bytes(snap.raw_bytes)], ['tar stream', bytes(snap.tar_bytes)],
      ['archive', snap.archive_name ? snap.archive_name + ' (' + bytes(snap.archive_size) + ')' : ''],
      ['compression', snap.raw_bytes && snap.archive_size ? (snap.raw_bytes / snap.archive_size).toFixed(1) + 'x' : ''],
      ['zstd frames', num(snap.frames)]
    ]);
    var g = el('div.grid',
      el('div', el('h3', 'Capture'), capture),
      el('div', el('h3', 'Case'), caseT.childNodes.length ? caseT : el('p.muted', 'no case fields given (capture --case, --examiner, --evidence, --note)'),
        el('h3', 'Verification'), verifyBlock()),
      el('div', el('h3', 'Statistics'), stats));
    b.appendChild(g);

    /* errors by errno */
    var errs = D.errors || [];
    var eb = el('div', el('h3', 'Paths not read, by errno'));
    if (!errs.length) eb.appendChild(el('p.muted', 'none'));
    else {
      var maxE = Math.max.apply(null, errs.map(function (e) { return e[1]; }));
      eb.appendChild(grid([['errno', 0, 'mono'], ['paths', 1, 'n'], ['', function (e) {
        var s = el('span.errbar'); s.style.width = Math.max(1, Math.round(200 * e[1] / maxE)) + 'px'; return s;
      }]], errs));
    }
    var sb = el('div', el('h3', 'Capture summary'), section('procsnap/summary.json', null, summaryJson(sum)));
    b.appendChild(el('div.grid', eb, sb));
    if ((D.notes || []).length) {
      b.appendChild(el('h3', 'Notes'));
      var ul = el('ul');
      D.notes.forEach(function (n) { ul.appendChild(el('li', n)); });
      b.appendChild(ul);
    }
  }

  function verifyBlock() {
    var v = D.verify || {}, d = el('div'), st = v.state;
    var text = {
      'match': ['SHA-256 of the archive matches the one recorded at capture', 'ok'],
      'mismatch': ['SHA-256 of the archive DIFFERS from the one recorded at capture', 'bad'],
      'no-archive': ['archive not beside the index: its SHA-256 was not checked', 'unk'],
      'not-recorded': ['no SHA-256 recorded in the index to compare with', 'unk'],
      'unreadable': ['archive unreadable (' + (v.error || '?') + ')', 'bad']
    }[st] || ['unknown', 'unk'];
    d.appendChild(el('p', badge(st || '?', text[1]), ' ', text[0]));
    d.appendChild(kv([['archive', v.archive], ['recorded', v.recorded], ['computed', v.computed],
      ['size', v.size !== undefined ? bytes(v.size) : null],
      ['hash mismatches', num(v.hash_mismatches)], ['damaged paths', num(v.damaged)]]));
    if (v.damaged_paths) {
      var rows = flat(v.damaged_paths);
      d.appendChild(grid([['path', 'path', 'mono'], ['damage', 'damage']], rows, function () { return 'del'; }));
    }
    d.appendChild(el('p.muted', 'Checked here: the whole-file SHA-256 and the damage the index recorded. ' +
      'Member by member (XXH3 of every file against the manifest): procsnap verify SNAP.'));
    return d;
  }

  function summaryJson(sum) {
    var pairs = [];
    Object.keys(sum).forEach(function (k) {
      var v = sum[k];
      if (v === null || typeof v !== 'object') pairs.push([k, String(v)]);
      else if (Array.isArray(v)) pairs.push([k, v.length + ' item' + (v.length === 1 ? '' : 's') +
        (v.length ? ': ' + v.slice(0, 20).map(function (x) { return typeof x === 'object' ? JSON.stringify(x) : String(x); }).join(', ') + (v.length > 20 ? ', ...' : '') : '')]);
      else pairs.push([k, JSON.stringify(v)]);
    });
    return pairs.length ? kv(pairs) : el('p.muted', 'not available');
  }

  /* ---- findings ------------------------------------------------------------ */

  function renderFindings() {
    var b = clear($('findings-body'));
    var rules = triage.rules || [], total = 0, empty = [];
    var per = { high: 0, medium: 0, low: 0, info: 0 };
    if (!D.triage) { b.appendChild(el('p.warn', 'The rule pack did not run (see Notes).')); return; }
    rules.forEach(function (r) {
      var fs = (r.findings || []).filter(function (f) { return f.snapshot_id === undefined || f.snapshot_id === D.sid; });
      if (!fs.length) { empty.push(r.id); return; }
      total += fs.length;
      per[r.severity] = (per[r.severity] || 0) + fs.length;
      var box = el('details.rule.' + r.severity);
      if (r.severity === 'high' || r.severity === 'medium') box.open = true;
      box.appendChild(el('summary', badge(r.severity, 'sev-' + r.severity), ' ', el('b', r.id), ' ', r.title,
        ' (' + fs.length + ')', el('span.muted', '  ATT&CK: ' + ((r.attack || []).join(', ') || 'none'))));
      box.appendChild(el('p.muted', r.description));
      box.appendChild(grid([
        ['pid', function (f) { return typeof f.pid === 'number' ? link(f.pid) : '-'; }, 'n'],
        ['name', function (f) { return f.name; }],
        ['detail', function (f) { return f.detail; }]], fs));
      b.appendChild(box);
    });
    b.insertBefore(el('p', total ? total + ' finding' + (total === 1 ? '' : 's') + ': ' +
      SEV.map(function (s) { return per[s] + ' ' + s; }).join(', ') : 'No findings.',
      el('span.muted', '  (' + rules.length + ' rules ran; procsnap triage --format json gives the same)')), b.firstChild);
    if (empty.length) b.appendChild(el('p.muted', 'Nothing found by: ' + empty.join(', ')));
    $('nav-findings').textContent = 'Findings (' + total + ')';
  }

  /* ---- the process tree ------------------------------------------------------ */

  var order = [], depthOf = [], parentIx = [], rowsEl = [], kidsN = [], collapsed = new Set();
  function buildOrder() {
    var kids = new Map(), roots = [];
    procs.forEach(function (p) {
      var par = p.ppid;
      if (typeof par === 'number' && par !== p.pid && byPid.has(par)) {
        if (!kids.has(par)) kids.set(par, []);
        kids.get(par).push(p);
      } else roots.push(p);
    });
    var seen = new Set();
    function walk(startP) {
      var stack = [[startP, 0, -1]];
      while (stack.length) {
        var top = stack.pop(), p = top[0];
        if (seen.has(p.pid)) continue;
        seen.add(p.pid);
        var ix = order.length;
        order.push(p); depthOf.push(top[1]); parentIx.push(top[2]);
        var ks = kids.get(p.pid) || [];
        kidsN.push(ks.length);
        for (var i = ks.length - 1; i >= 0; i--) stack.push([ks[i], top[1] + 1, ix]);
      }
    }
    roots.forEach(walk);
    procs.forEach(function (p) { if (!seen.has(p.pid)) walk(p); }); /* parent cycles */
  }

  function renderTree() {
    buildOrder();
    var tb = el('table'), hr = el('tr');
    [['PID', 'n'], ['UID', 'n'], ['STAT', ''], ['%CPU', 'n'], ['RSS', 'n'], ['START', ''], ['COMMAND', '']].forEach(function (h) {
      hr.appendChild(el('th' + (h[1] ? '.' + h[1] : ''), h[0]));
    });
    tb.appendChild(el('thead', hr));
    var body = el('tbody');
    order.forEach(function (p, i) {
      var tr = el('tr');
      if (started.has(p.pid)) tr.className = 'new';
      else if (changed.has(p.pid)) tr.className = 'changed';
      var tog = el('span.tog', kidsN[i] ? '\u25be' : '');
      var cmd = el('td.cmd');
      cmd.style.paddingLeft = (4 + depthOf[i] * 14) + 'px';
      cmd.appendChild(tog);
      cmd.appendChild(el('span.name', p.name));
      var sev = worstSev(p.pid);
      if (sev) cmd.appendChild(badge(sev, 'sev-' + sev));
      if (p.exe_deleted) cmd.appendChild(badge('deleted exe', 'sev-high'));
      if (p.hidden) cmd.appendChild(badge('hidden', 'sev-high'));
      if (p.partial) cmd.appendChild(badge('partial'));
      if (p.tracer_pid) cmd.appendChild(badge('traced', 'sev-medium'));
      if (started.has(p.pid)) cmd.appendChild(badge('new', 'ok'));
      else if (changed.has(p.pid)) cmd.appendChild(badge('changed', 'sev-low'));
      cmd.appendChild(el('span.cmdline', command(p)));
      tr.appendChild(el('td.n', String(p.pid)));
      tr.appendChild(el('td.n', num(p.uid)));
      tr.appendChild(el('td', p.state));
      tr.appendChild(el('td.n', pcpu(p).toFixed(1)));
      tr.appendChild(el('td.n', p.resident_size !== null ? Math.round(p.resident_size / 1024) : ''));
      tr.appendChild(el('td.nw', startShort(p.start_time)));
      tr.appendChild(cmd);
      tr.addEventListener('click', function (ev) {
        if (ev.target === tog && kidsN[i]) { toggle(i); return; }
        location.hash = '#p=' + p.pid;
      });
      rowsEl.push(tr);
      body.appendChild(tr);
    });
    tb.appendChild(body);
    clear($('tree')).appendChild(tb);
    /* kernel threads start folded (children of kthreadd, pid 2) */
    order.forEach(function (p, i) { if (p.pid === 2 && p.kthread && kidsN[i]) collapsed.add(i); });
    refresh();
    $('nav-processes').textContent = 'Processes (' + procs.length + ')';
    var timer = null;
    $('search').addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 120);
    });
    $('expand').addEventListener('click', function () { collapsed.clear(); refresh(); });
    $('collapse').addEventListener('click', function () {
      order.forEach(function (p, i) { if (kidsN[i] && depthOf[i] > 0) collapsed.add(i); });
      refresh();
    });
  }
  function toggle(i) {
    if (collapsed.has(i)) collapsed.delete(i); else collapsed.add(i);
    refresh();
  }
  /* Visibility: with a search, the matching processes and their ancestors;
   * without, every process not under a folded one. */
  function refresh() {
    var q = $('search').value.trim().toLowerCase(), n = order.length, vis = new Array(n), shown = 0;
    if (q) {
      for (var i = 0; i < n; i++) {
        var p = order[i];
        vis[i] = String(p.pid) === q || [p.name, p.cmdline, p.exe].some(function (s) {
          return typeof s === 'string' && s.toLowerCase().indexOf(q) >= 0;
        });
      }
      var hits = vis.filter(Boolean).length;
      for (var k = n - 1; k >= 0; k--) if (vis[k] && parentIx[k] >= 0) vis[parentIx[k]] = true;
      $('search-count').textContent = hits + ' match' + (hits === 1 ? '' : 'es');
    } else {
      var hid = new Array(n);
      for (var j = 0; j < n; j++) {
        var pi = parentIx[j];
        hid[j] = pi >= 0 && (hid[pi] || collapsed.has(pi));
        vis[j] = !hid[j];
      }
      $('search-count').textContent = '';
    }
    for (var m = 0; m < n; m++) {
      rowsEl[m].hidden = !vis[m];
      if (vis[m]) shown++;
      var t = rowsEl[m].querySelector('.tog');
      if (kidsN[m]) t.textContent = collapsed.has(m) && !q ? '\u25b8' : '\u25be';
    }
    return shown;
  }

  /* ---- one process ---------------------------------------------------------- */

  var RES_COLORS = { empty: '#eceff1', unknown: '#b0bec5', swapped: '#8e24aa', file: '#1e88e5',
    anonExcl: '#fb8c00', anon: '#fdd835', dirty: '#e53935' };
  var ALPHA = '.ABCDEFGHIJKLMNOPQRSTUVWXYZabcde';
  /* "3.B12A" -> [[class, pages], ...]; class -1 = not examined. */
  function decodeRes(s) {
    var out = [], per = 1, i = 0;
    if (s.charAt(0) === '~') {
      var c = s.indexOf(':');
      per = parseInt(s.slice(1, c), 10) || 1;
      i = c + 1;
    }
    var n = '';
    for (; i < s.length; i++) {
      var ch = s.charAt(i);
      if (ch >= '0' && ch <= '9') { n += ch; continue; }
      var cls = ch === '?' ? -1 : ALPHA.indexOf(ch);
      out.push([cls, (n ? parseInt(n, 10) : 1) * per]);
      n = '';
    }
    return { runs: out, coarse: per > 1, per: per };
  }
  function resColor(cls) {
    if (cls < 0) return RES_COLORS.unknown;
    if (cls === 0) return RES_COLORS.empty;
    if (cls & 1) return (cls & 4) ? RES_COLORS.file : (cls & 8) ? RES_COLORS.anonExcl : RES_COLORS.anon;
    if (cls & 2) return RES_COLORS.swapped;
    return RES_COLORS.empty;
  }
  function resCanvas(s, title) {
    var r = decodeRes(s), total = 0;
    r.runs.forEach(function (x) { total += x[1]; });
    var w = 240, h = 12, cv = el('canvas.res');
    cv.width = w; cv.height = h;
    cv.title = title + (r.coarse ? ' (drawn in cells of ' + r.per + ' pages)' : '');
    var g = cv.getContext('2d');
    if (!g || !total) return cv;
    g.fillStyle = RES_COLORS.empty;
    g.fillRect(0, 0, w, h);
    var pos = 0;
    r.runs.forEach(function (x) {
      var x0 = Math.floor(pos * w / total), x1 = Math.max(x0 + 1, Math.ceil((pos + x[1]) * w / total));
      pos += x[1];
      if (x[0] === 0) return;
      g.fillStyle = resColor(x[0]);
      g.fillRect(x0, 0, x1 - x0, h);
      if (x[0] > 0 && (x[0] & 16)) { g.fillStyle = RES_COLORS.dirty; g.fillRect(x0, 0, x1 - x0, 3); }
    });
    return cv;
  }
  function resLegend() {
    var d = el('p.legend.muted', 'Residency (pagemap, one strip per mapping, page 0 at the left):');
    [['present, file or shared', RES_COLORS.file], ['present, private, exclusive', RES_COLORS.anonExcl],
      ['present, anonymous, shared (after fork) or zero page', RES_COLORS.anon], ['swapped', RES_COLORS.swapped],
      ['soft-dirty (top edge)', RES_COLORS.dirty], ['not examined', RES_COLORS.unknown], ['not present', RES_COLORS.empty]]
      .forEach(function (x) { var sw = el('span.sw'); sw.style.background = x[1]; d.appendChild(sw); d.appendChild(tx(x[0])); });
    return d;
  }

  var PF = { 1: 'PFNs visible', 4: 'soft-dirty tracked', 8: 'mappings skipped (--pagemap-max)', 16: 'read cut short' };
  function pmStatus(pid) {
    var pm = (D.M && D.M.pm) || [];
    for (var i = 0; i < pm.length; i++) {
      if (pm[i][0] !== pid) continue;
      if (pm[i][1] === null) return 'pagemap: no picture (' + pm[i][2] + ')';
      var f = pm[i][1], t = [];
      Object.keys(PF).forEach(function (k) { if (f & k) t.push(PF[k]); });
      if ((f & 2) && !(f & 4)) t.push('soft-dirty not tracked by the kernel');
      return 'pagemap: page size ' + pm[i][2] + (t.length ? '; ' + t.join('; ') : '');
    }
    return 'pagemap: not captured';
  }

  function section(title, count, body) {
    var d = el('details', el('summary', el('b', title), count !== null ? el('span.muted', ' (' + count + ')') : null));
    d.appendChild(body);
    return d;
  }

  var selected = -1;
  function showProcess(pid) {
    var box = clear($('proc')), p = byPid.get(pid);
    if (selected >= 0 && rowsEl[selected]) rowsEl[selected].classList.remove('sel');
    if (!p) {
      box.appendChild(el('p.warn', 'Process ' + pid + ' is not in this snapshot' +
        (diff ? ' (see Changes: it may have exited).' : '.')));
      return;
    }
    var ix = order.indexOf(p);
    if (ix >= 0) {
      selected = ix;
      /* unfold its ancestors so that its row shows */
      for (var a = parentIx[ix]; a >= 0; a = parentIx[a]) collapsed.delete(a);
      refresh();
      rowsEl[ix].classList.add('sel');
      /* scroll the tree pane only (not the window) to the row */
      var pane = $('tree'), row = rowsEl[ix];
      if (row.offsetTop < pane.scrollTop || row.offsetTop > pane.scrollTop + pane.clientHeight - row.offsetHeight)
        pane.scrollTop = Math.max(0, row.offsetTop - pane.clientHeight / 3);
    }
    box.appendChild(el('h3', 'PID ' + p.pid + ' ', el('span.name', p.name)));
    var fl = findingsByPid.get(p.pid) || [];
    if (fl.length) {
      box.appendChild(grid([['severity', function (x) { return badge(x.rule.severity, 'sev-' + x.rule.severity); }],
        ['rule', function (x) { return x.rule.id; }], ['ATT&CK', function (x) { return (x.rule.attack || []).join(', '); }],
        ['detail', function (x) { return x.f.detail; }]], fl));
    }
    box.appendChild(el('div', el('b', 'Command line'), el('pre.block', command(p))));
    var par = byPid.get(p.ppid);
    box.appendChild(kv([
      ['parent', p.ppid !== null && p.ppid !== undefined ? el('span', typeof p.ppid === 'number' ? link(p.ppid) : String(p.ppid), par ? ' ' : '', par ? par.name : '') : null],
      ['name (comm)', p.name], ['state', p.state],
      ['exe', p.exe !== null ? el('span', p.exe, p.exe_deleted ? badge('deleted', 'sev-high') : null,
        p.on_disk === 0 ? badge('not on disk', 'sev-high') : null) : null],
      ['cwd', p.cwd], ['root', p.root],
      ['uid / euid / suid', [p.uid, p.euid, p.suid].map(num).join(' / ')],
      ['gid / egid / sgid', [p.gid, p.egid, p.sgid].map(num).join(' / ')],
      ['started', utc(p.start_time) + (p.start_time ? ' (' + dhms(nowSec - p.start_time) + ' before the capture)' : '')],
      ['starttime (ticks)', num(p.starttime)],
      ['CPU time', 'user ' + dhms((p.user_time || 0) / 1000) + ', system ' + dhms((p.system_time || 0) / 1000) +
        ' (' + pcpu(p).toFixed(1) + '% of its lifetime)'],
      ['memory', 'RSS ' + bytes(p.resident_size) + ', VSZ ' + bytes(p.total_size) +
        (memTotalKB && p.resident_size !== null ? ' (' + (p.resident_size / 10.24 / memTotalKB).toFixed(1) + '% of MemTotal)' : '')],
      ['threads', num(p.threads)], ['nice', num(p.nice)], ['tty_nr', num(p.tty_nr)],
      ['session / pgroup', num(p.session) + ' / ' + num(p.pgroup)],
      ['tracer', p.tracer_pid ? link(p.tracer_pid) : num(p.tracer_pid)],
      ['seccomp / no_new_privs', num(p.seccomp) + ' / ' + num(p.no_new_privs)],
      ['CapEff / CapPrm', (p.cap_eff || '') + ' / ' + (p.cap_prm || '')],
      ['CapInh / CapBnd / CapAmb', (p.cap_inh || '') + ' / ' + (p.cap_bnd || '') + ' / ' + (p.cap_amb || '')],
      ['oom_score / adj', num(p.oom_score) + ' / ' + num(p.oom_score_adj)],
      ['cgroup', p.cgroup], ['pid in its namespace', num(p.ns_pid)],
      ['faults (min / maj)', num(p.minflt) + ' / ' + num(p.majflt)],
      ['ctx switches (vol / invol)', num(p.voluntary_ctxt_switches) + ' / ' + num(p.nonvoluntary_ctxt_switches)],
      ['disk read / written', bytes(p.disk_bytes_read) + ' / ' + bytes(p.disk_bytes_written)],
      ['open fds', num(p.fd_count)], ['task flags', hexn(p.flags)],
      ['flags', [p.kthread ? 'kernel thread' : '', p.hidden ? 'hidden from the /proc listing' : '',
        p.partial ? 'exited during the capture' : '', p.argv0_is_exe === 0 ? 'argv[0] is not the exe' : ''].filter(Boolean).join(', ')]
    ]));
    var kids = procs.filter(function (c) { return c.ppid === p.pid && c.pid !== p.pid; });
    if (kids.length) {
      var kd = el('p', el('b', 'Children: '));
      kids.forEach(function (c, i) { if (i) kd.appendChild(tx(', ')); kd.appendChild(link(c.pid)); kd.appendChild(tx(' ' + (c.name || ''))); });
      box.appendChild(kd);
    }
    var ch = changed.get(p.pid);
    if (ch) box.appendChild(section('Changes since the first snapshot', null, changedBody(ch)));
    if (started.has(p.pid)) box.appendChild(el('p', badge('new', 'ok'), ' started between the two snapshots'));

    var env = rowsOf('E', p.pid);
    box.appendChild(section('Environment', env.length, env.length ? grid([['name', 'key', 'mono'], ['value', 'value', 'mono']], env)
      : el('p.muted', 'empty or not readable')));
    var fds = rowsOf('F', p.pid);
    fds.forEach(function (f) { if (f.syn) f.path = f.type + ':[' + f.inode + ']'; });
    box.appendChild(section('Open files', fds.length, grid([['fd', 'fd', 'n'], ['type', 'type'], ['target', 'path', 'mono'],
      ['pos', 'pos', 'n'], ['flags', function (f) { return f.flags === null ? '' : '0' + Number(f.flags).toString(8); }, 'mono'],
      ['inode', 'inode', 'n'], ['', function (f) { return f.deleted ? badge('deleted', 'sev-medium') : (f.protocol || ''); }]], fds)));
    var sk = rowsOf('K', p.pid);
    box.appendChild(section('Sockets', sk.length, grid([['fd', 'fd', 'n'], ['family', function (x) { return famName(x.family); }],
      ['proto', function (x) { return protoName(x.protocol); }],
      ['local', function (s) { return (s.local_address || '') + (s.local_port ? ':' + s.local_port : ''); }, 'mono'],
      ['remote', function (s) { return (s.remote_address || '') + (s.remote_port ? ':' + s.remote_port : ''); }, 'mono'],
      ['state', 'state'], ['path', 'path', 'mono'], ['inode', 'socket', 'n'], ['netns', 'net_namespace', 'n']], sk)));
    var lim = rowsOf('L', p.pid);
    box.appendChild(section('Limits', lim.length, grid([['limit', 'name'], ['soft', function (l) { return l.soft_limit === -1 ? 'unlimited' : num(l.soft_limit); }, 'n'],
      ['hard', function (l) { return l.hard_limit === -1 ? 'unlimited' : num(l.hard_limit); }, 'n'], ['units', 'units']], lim)));
    var ns = rowsOf('N', p.pid)[0];
    box.appendChild(section('Namespaces', null, ns ? kv(Object.keys(ns).map(function (k) { return [k, num(ns[k])]; }))
      : el('p.muted', 'not captured')));
    var th = rowsOf('T', p.pid);
    box.appendChild(section('Threads', th.length, grid([['tid', 'tid', 'n'], ['name', 'name'], ['state', 'state'],
      ['CPU', function (t) { return dhms(((t.user_time || 0) + (t.system_time || 0)) / 1000); }, 'n'],
      ['cpu#', 'processor', 'n'], ['nice', 'nice', 'n'], ['prio', 'priority', 'n'], ['wchan', 'wchan', 'mono'],
      ['tracer', 'tracer_pid', 'n']], th)));
    var maps = rowsOf('M', p.pid);
    var mb = el('div', el('p.muted', pmStatus(p.pid)), resLegend());
    mb.appendChild(grid([['start', 'start', 'mono'], ['size', function (m) { return bytes(m.len); }, 'n'],
      ['perms', 'perms', 'mono'], ['offset', function (m) { return hexn(m.offset); }, 'mono'],
      ['residency', function (m) {
        var t = 'present ' + num(m.present) + ', swapped ' + num(m.swapped) + ', file/shared ' + num(m.file_or_shared) +
          ', exclusive ' + num(m.exclusive) + ', soft-dirty ' + (m.soft_dirty === null ? 'unknown' : m.soft_dirty);
        return m.res !== null ? resCanvas(m.res, t) : el('span.muted', '-');
      }],
      ['present', 'present', 'n'], ['swapped', 'swapped', 'n'], ['RSS kB', 'rss_kb', 'n'], ['dirty kB', 'private_dirty_kb', 'n'],
      ['path', 'path', 'mono']], maps, function (m) { return m.perms && m.perms.indexOf('x') >= 0 && !m.path ? 'chg' : ''; }));
    box.appendChild(section('Memory maps', maps.length, mb));
    box.querySelectorAll('details').forEach(function (d) { d.open = true; });
    box.scrollTop = 0;
  }

  /* ---- system -------------------------------------------------------------- */

  function renderSystem() {
    var b = clear($('system-body')), mi = {};
    kvRows.forEach(function (k) { if (k.source === 'meminfo') mi[k.key] = k.value; });
    b.appendChild(el('h3', 'Memory'));
    if (mi.MemTotal) {
      var t = mi.MemTotal, free = mi.MemFree || 0, buf = mi.Buffers || 0, cache = mi.Cached || 0,
        srec = mi.SReclaimable || 0, used = Math.max(0, t - free - buf - cache - srec);
      var segs = [['used', used, '#e57373'], ['buffers', buf, '#64b5f6'], ['page cache', cache, '#90caf9'],
        ['slab (reclaimable)', srec, '#ce93d8'], ['free', free, '#c8e6c9']];
      var bar = el('div.bar'), leg = el('p.legend');
      segs.forEach(function (s) {
        var d = el('div'); d.style.width = (100 * s[1] / t) + '%'; d.style.background = s[2];
        d.title = s[0] + ': ' + bytes(s[1] * 1024); bar.appendChild(d);
        var sw = el('span.sw'); sw.style.background = s[2]; leg.appendChild(sw);
        leg.appendChild(tx(s[0] + ' ' + bytes(s[1] * 1024)));
      });
      b.appendChild(el('p', 'MemTotal ' + bytes(t * 1024) + ', MemAvailable ' + bytes((mi.MemAvailable || 0) * 1024)));
      b.appendChild(bar); b.appendChild(leg);
      if (mi.SwapTotal) {
        var sbar = el('div.bar'), su = mi.SwapTotal - (mi.SwapFree || 0);
        [[su, '#8e24aa', 'swap used'], [mi.SwapFree || 0, '#e1bee7', 'swap free']].forEach(function (s) {
          var d = el('div'); d.style.width = (100 * s[0] / mi.SwapTotal) + '%'; d.style.background = s[1];
          d.title = s[2] + ': ' + bytes(s[0] * 1024); sbar.appendChild(d);
        });
        b.appendChild(el('p', 'Swap ' + bytes(mi.SwapTotal * 1024) + ', used ' + bytes(su * 1024)));
        b.appendChild(sbar);
      } else b.appendChild(el('p.muted', 'No swap.'));
    } else b.appendChild(el('p.muted', 'meminfo not captured'));
    var load = kvRows.filter(function (k) { return k.source === 'loadavg' || k.source === 'uptime'; });
    if (load.length) b.appendChild(kv(load.map(function (k) {
      return [k.source + ' ' + k.key, k.key === 'uptime' ? dhms(k.value) : num(k.value)];
    })));
    b.appendChild(section('meminfo', Object.keys(mi).length, grid([['key', 'key'], ['value', 'value', 'n'], ['unit', 'unit']],
      kvRows.filter(function (k) { return k.source === 'meminfo'; }))));

    var lp = flat(D.LP);
    /* with a process first, then by port */
    lp.sort(function (x, y) { return ((y.pid > 0) - (x.pid > 0)) || (x.port - y.port); });
    var lsec = section('Listening sockets', lp.length, grid([['proto', function (l) { return protoName(l.protocol); }],
      ['family', function (l) { return famName(l.family); }],
      ['address', function (l) { return l.path || l.address; }, 'mono'], ['port', 'port', 'n'],
      ['pid', function (l) { return typeof l.pid === 'number' && l.pid > 0 ? link(l.pid) : '-'; }, 'n'],
      ['process', function (l) { var q = byPid.get(l.pid); return q ? q.name : ''; }],
      ['fd', function (l) { return l.fd >= 0 ? String(l.fd) : '-'; }, 'n'], ['inode', 'socket', 'n'], ['netns', 'net_namespace', 'n']], lp));
    lsec.open = lp.length <= 40;
    b.appendChild(lsec);

    var mods = flat(D.MOD);
    b.appendChild(section('Kernel modules', mods.length, mods.length ? grid([['name', 'name', 'mono'], ['size', 'size', 'n'],
      ['refs', 'refcount', 'n'], ['used by', 'used_by'], ['status', 'status'], ['taint', 'taint']], mods,
      function (m) { return m.taint ? 'chg' : ''; }) : el('p.muted', 'none (or /proc/modules not captured)')));
    var mnts = flat(D.MNT);
    b.appendChild(section('Mounts', mnts.length, grid([['mnt ns', 'mnt_ns', 'n'], ['device', 'device', 'mono'],
      ['mount point', 'path', 'mono'], ['type', 'type'], ['root', 'root', 'mono'], ['options', 'options', 'mono']], mnts)));
  }

  /* ---- changes (two snapshots) ------------------------------------------------ */

  function lifecycleGrid(list, live) {
    return grid([['pid', function (p) { return live ? link(p.pid) : String(p.pid); }, 'n'], ['name', 'name'],
      ['ppid', 'ppid', 'n'], ['uid', 'uid', 'n'], ['exe', 'exe', 'mono'], ['command line', 'cmdline', 'mono']], list,
      function () { return live ? 'add' : 'del'; });
  }
  function changeClass(c) { return /added|opened|started|resident/.test(c) ? 'add' : /removed|closed|exited|evicted/.test(c) ? 'del' : 'chg'; }
  function changedBody(c) {
    var d = el('div');
    function part(title, rows, cols) {
      if (!rows || !rows.length) return;
      d.appendChild(el('b', title));
      d.appendChild(grid(cols, rows, function (r) { return r.change ? changeClass(r.change) : 'chg'; }));
    }
    part('identity', c.identity, [['field', 'field'], ['before', 'a', 'mono'], ['after', 'b', 'mono']]);
    part('memory', c.memory, [['field', 'field'], ['before', 'a', 'n'], ['after', 'b', 'n'], ['delta', 'delta', 'n']]);
    part('fds', c.fds, [['fd', 'fd', 'n'], ['change', 'change'], ['before', 'a', 'mono'], ['after', 'b', 'mono']]);
    part('mappings', c.mappings, [['change', 'change'], ['start', 'start', 'mono'], ['end', 'end', 'mono'],
      ['perms', 'perms', 'mono'], ['path', 'path', 'mono']]);
    part('pages', c.pages, [['start', 'start', 'mono'], ['size', function (x) { return bytes(x.size); }, 'n'],
      ['path', 'path', 'mono'], ['resident', 'resident', 'n'], ['evicted', 'evicted', 'n'],
      ['swapped out', 'swapped_out', 'n'], ['swapped in', 'swapped_in', 'n']]);
    part('threads', c.threads, [['tid', 'tid', 'n'], ['change', 'change'], ['name', 'name'], ['start (ticks)', 'starttime', 'n']]);
    part('environment', c.environment, [['name', 'name', 'mono'], ['change', 'change'], ['before', 'a', 'mono'], ['after', 'b', 'mono']]);
    part('limits', c.limits, [['limit', 'name'], ['soft before', 'a_soft', 'n'], ['hard before', 'a_hard', 'n'],
      ['soft after', 'b_soft', 'n'], ['hard after', 'b_hard', 'n']]);
    part('counters', c.counters, [['field', 'field'], ['before', 'a', 'n'], ['after', 'b', 'n'], ['delta', 'delta', 'n']]);
    (c.notes || []).forEach(function (n) { d.appendChild(el('p.muted', n.note)); });
    return d;
  }
  function renderDiff() {
    if (!diff) return;
    $('diff').hidden = false;
    $('nav-diff').hidden = false;
    var b = clear($('diff-body')), a = diff.a || {}, bb = diff.b || {};
    b.appendChild(kv([['before (A)', (a.path || '') + ', ' + (a.hostname || '') + ', ' + utc((a.start_ns || 0) / 1e9)],
      ['after (B, described)', (bb.path || '') + ', ' + (bb.hostname || '') + ', ' + utc((bb.start_ns || 0) / 1e9)],
      ['same boot', diff.same_boot ? 'yes' : 'no: no process can be in both'],
      ['differences', num(diff.differences)],
      ['not shown (quiet by default)', Object.keys(diff.hidden || {}).filter(function (k) { return diff.hidden[k]; })
        .map(function (k) { return k + ' ' + diff.hidden[k]; }).join(', ')]]));
    var pr = diff.processes || {};
    b.appendChild(el('h3', 'Started (' + (pr.started || []).length + ')'));
    b.appendChild(lifecycleGrid(pr.started || [], true));
    b.appendChild(el('h3', 'Exited (' + (pr.exited || []).length + ')'));
    b.appendChild(lifecycleGrid(pr.exited || [], false));
    b.appendChild(el('h3', 'Changed (' + (pr.changed || []).length + ')'));
    (pr.changed || []).forEach(function (c) {
      var d = section('', null, changedBody(c));
      var s = d.querySelector('summary');
      clear(s);
      s.appendChild(link(c.pid)); s.appendChild(tx(' ' + (c.name || '') + '  ')); s.appendChild(el('span.muted', c.exe));
      d.open = (pr.changed || []).length <= 20;
      b.appendChild(d);
    });
    if ((diff.own_processes || []).length)
      b.appendChild(el('p.muted', 'procsnap\'s own processes, set apart: ' + diff.own_processes.map(function (o) {
        return o.snapshot + ':' + o.pid + ' ' + (o.name || '') + ' (' + o.role + ')'; }).join(', ')));
    var sys = diff.system || [];
    b.appendChild(el('h3', 'System files (' + sys.length + ')'));
    sys.forEach(function (f) {
      var body = el('div'), ch = f.changes || [];
      if (f.type === 'text') {
        ch.forEach(function (h) {
          var pre = el('pre.block.mono');
          String(h.diff || '').split('\n').forEach(function (line) {
            var c = line.charAt(0) === '+' ? 'diffline-add' : line.charAt(0) === '-' ? 'diffline-del' : line.charAt(0) === '@' ? 'diffline-hunk' : '';
            pre.appendChild(c ? el('span.' + c, line) : tx(line));
            pre.appendChild(tx('\n'));
          });
          body.appendChild(pre);
        });
      } else {
        body.appendChild(grid([['change', 'change'], ['key', 'key', 'mono'], ['before', 'a', 'mono'], ['after', 'b', 'mono'],
          ['delta', function (x) { return x.delta === undefined ? '' : String(x.delta); }, 'n']], ch,
          function (x) { return changeClass(x.change || ''); }));
      }
      var d = section(f.path + ' (' + f.type + ')', ch.length, body);
      d.open = sys.length <= 30 && ch.length <= 20;
      b.appendChild(d);
    });
  }

  /* ---- routing ------------------------------------------------------------ */

  /* #p=PID opens a process; following a link also brings the process
   * section into view (opening the file with #p=PID does not scroll). */
  function route(ev) {
    var m = /^#p=(\d+)$/.exec(location.hash);
    if (!m) return;
    showProcess(parseInt(m[1], 10));
    if (ev) $('processes').scrollIntoView();
  }

  renderSummary();
  renderFindings();
  renderTree();
  renderSystem();
  renderDiff();
  var foot = $('footer');
  foot.appendChild(tx('Made by ' + (D.tool || 'procsnap') + ' on ' + utc((D.made_ns || 0) / 1e9) +
    ' from ' + (snap.archive_name || 'an index') + ' (snapshot ' + D.sid + '). Self-contained: no request leaves this page.'));
  window.addEventListener('hashchange', route);
  route(null);
  document.body.setAttribute('data-ready', '1');
})();
