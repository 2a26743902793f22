-- procsnap index: reference data the triage rules of issue 11 read (data,
-- not code: edit these lists, rebuild the index, the rules follow).  Views
-- over constants, so every index carries its own copy; they have no
-- snapshot_id (a query over several snapshots sees each row once per index,
-- which the rules' EXISTS / IN tests do not mind).

-- Executables known to generate machine code at run time (JIT compilers):
-- their writable+executable or executable anonymous memory is expected, so
-- rwx-anon-mapping and exec-anon-mapping leave them out and jit-exec-memory
-- reports them at info.  `pattern` is a GLOB on the exe's file name.
CREATE VIEW ref_jit_runtimes(pattern, runtime) AS VALUES
  ('java', 'Java (HotSpot, OpenJ9)'),
  ('jsvc', 'Java (Apache Commons Daemon)'),
  ('node', 'Node.js (V8)'),
  ('nodejs', 'Node.js (V8)'),
  ('deno', 'Deno (V8)'),
  ('bun', 'Bun (JavaScriptCore)'),
  ('chrome', 'Chrome (V8)'),
  ('chromium', 'Chromium (V8)'),
  ('chromium-browser', 'Chromium (V8)'),
  ('electron', 'Electron (V8)'),
  ('code', 'VS Code (Electron, V8)'),
  ('slack', 'Slack (Electron, V8)'),
  ('firefox*', 'Firefox (SpiderMonkey)'),
  ('thunderbird*', 'Thunderbird (SpiderMonkey)'),
  ('gjs*', 'GJS (SpiderMonkey)'),
  ('gnome-shell', 'GNOME Shell (SpiderMonkey)'),
  ('dotnet', '.NET (RyuJIT)'),
  ('pwsh', 'PowerShell (.NET)'),
  ('mono*', 'Mono'),
  ('luajit*', 'LuaJIT'),
  ('pypy*', 'PyPy'),
  ('julia', 'Julia (LLVM)'),
  ('ruby*', 'Ruby (YJIT)'),
  ('php*', 'PHP (opcache JIT)'),
  ('beam.smp', 'Erlang/OTP (BeamAsm)'),
  ('qemu-*', 'QEMU (TCG)'),
  ('wasmtime', 'Wasmtime (Cranelift)'),
  ('wasmer', 'Wasmer'),
  ('valgrind*', 'Valgrind'),
  ('memcheck-*', 'Valgrind'),
  ('postgres', 'PostgreSQL (LLVM JIT, when enabled)');

-- Interpreters, shells and multi-call binaries: the program they run is
-- named by argv (a script's name, a busybox applet, a symlink's name), not
-- by the exe, so comm-exe-mismatch and argv0-masquerade leave them out.
-- `pattern` is a GLOB on the exe's file name.
CREATE VIEW ref_interpreters(pattern) AS VALUES
  ('python*'), ('perl*'), ('ruby*'), ('node*'), ('php*'), ('lua*'), ('tclsh*'), ('wish*'),
  ('ksh*'), ('java*'), ('mono*'), ('ld-linux*'), ('ld-*.so*'), ('qemu-*'), ('guile*'),
  ('sh'), ('bash'), ('dash'), ('zsh'), ('mksh'), ('tcsh'), ('csh'), ('fish'), ('busybox'),
  ('toybox'), ('env'), ('dotnet'), ('pwsh'), ('awk'), ('gawk'), ('mawk'), ('Rscript'), ('R'),
  ('sbcl'), ('erlexec'), ('beam.smp'), ('systemd'), ('init');

-- enum bpf_prog_type (include/uapi/linux/bpf.h); tracing = 1 for the types
-- that observe or hook the kernel's execution: kprobe, tracepoint,
-- perf_event, raw_tracepoint(_writable), tracing (fentry/fexit/fmod_ret/
-- iter), lsm.
CREATE VIEW ref_bpf_prog_types(prog_type, name, tracing) AS VALUES
  (0, 'unspec', 0), (1, 'socket_filter', 0), (2, 'kprobe', 1), (3, 'sched_cls', 0),
  (4, 'sched_act', 0), (5, 'tracepoint', 1), (6, 'xdp', 0), (7, 'perf_event', 1),
  (8, 'cgroup_skb', 0), (9, 'cgroup_sock', 0), (10, 'lwt_in', 0), (11, 'lwt_out', 0),
  (12, 'lwt_xmit', 0), (13, 'sock_ops', 0), (14, 'sk_skb', 0), (15, 'cgroup_device', 0),
  (16, 'sk_msg', 0), (17, 'raw_tracepoint', 1), (18, 'cgroup_sock_addr', 0),
  (19, 'lwt_seg6local', 0), (20, 'lirc_mode2', 0), (21, 'sk_reuseport', 0),
  (22, 'flow_dissector', 0), (23, 'cgroup_sysctl', 0), (24, 'raw_tracepoint_writable', 1),
  (25, 'cgroup_sockopt', 0), (26, 'tracing', 1), (27, 'struct_ops', 0), (28, 'ext', 0),
  (29, 'lsm', 1), (30, 'sk_lookup', 0), (31, 'syscall', 0), (32, 'netfilter', 0);

-- Programs expected to hold tracing BPF programs (observability and
-- security agents, tracing tools).  `pattern` is a GLOB on the exe's file
-- name.  A tracing program held by anything else is bpf-tracing-prog.
CREATE VIEW ref_bpf_tracers(pattern, tool) AS VALUES
  ('bpftrace', 'bpftrace'), ('bpftool', 'bpftool'), ('perf', 'perf'),
  ('systemd', 'systemd (RestrictFileSystems=, LSM BPF)'),
  ('falco', 'Falco'), ('tracee*', 'Tracee'), ('tetragon', 'Tetragon'),
  ('cilium-agent', 'Cilium'), ('pem', 'Pixie'), ('system-probe', 'Datadog'),
  ('datadog-agent', 'Datadog'), ('parca-agent', 'Parca'), ('pyroscope', 'Pyroscope'),
  ('beyla', 'Grafana Beyla'), ('ebpf-profiler', 'OpenTelemetry eBPF profiler'),
  ('sysdig', 'Sysdig'), ('bpfman*', 'bpfman'), ('ig', 'Inspektor Gadget'),
  ('gadgettracermanager', 'Inspektor Gadget'), ('kepler', 'Kepler'),
  ('osqueryd', 'osquery'), ('sysmon', 'Sysmon for Linux'), ('falcon-sensor', 'CrowdStrike'),
  ('wdavdaemon', 'Microsoft Defender'), ('s1-agent', 'SentinelOne'),
  ('elastic-endpoint', 'Elastic Defend'), ('retsnoop', 'retsnoop');

-- task->flags bits (stat field 9) that include/linux/sched.h does NOT define
-- (PF__HOLE__*), per kernel range [from, to] as major*1000+minor.  Only bits
-- that are holes in EVERY release of the range are listed (a conservative
-- subset where a range is uncertain); kernels outside the ranges are not
-- checked (newer ones too: add a row once their sched.h is read).  6.18 verified on the machine this was written on: no task has
-- any of 0x43800000.  Rootkits have set unused bits to tag hidden tasks
-- (Diamorphine's PF_INVISIBLE 0x10000000, since reused by the kernel as
-- PF_MEMALLOC_PIN; others 0x01000000).
CREATE VIEW ref_pf_undefined(from_version, to_version, mask, bits) AS VALUES
  (6001, 6003, 1669414912, '0x00004000 0x00010000 0x00800000 0x01000000 0x02000000 0x20000000 0x40000000'),
  (6004, 6008, 1669398528, '0x00010000 0x00800000 0x01000000 0x02000000 0x20000000 0x40000000'),
  (6009, 6010, 1132527616, '0x00010000 0x00800000 0x01000000 0x02000000 0x40000000'),
  (6011, 6014, 1107296256, '0x02000000 0x40000000'),
  (6015, 6018, 1132462080, '0x00800000 0x01000000 0x02000000 0x40000000');
