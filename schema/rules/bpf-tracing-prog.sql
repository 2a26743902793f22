-- id: bpf-tracing-prog
-- severity: medium
-- title: Tracing eBPF program held by an unexpected process
-- description: A process holds, through an fd, an eBPF program of a tracing type (kprobe,
--   tracepoint, perf_event, raw_tracepoint, tracing/fentry, lsm; ref_bpf_prog_types) or a
--   link of one, read from fdinfo (bpf_objects), and its exe is not a known tracer or
--   security agent (ref_bpf_tracers: bpftrace, bpftool, perf, systemd, Falco, Tetragon...).
--   eBPF rootkits (TripleCross, ebpfkit, BPFDoor's filters) hook syscalls and hide with
--   such programs.  Programs pinned in bpffs and held by no process are not seen.
-- reference: kernel/bpf/syscall.c bpf_prog_show_fdinfo, bpf_link_show_fdinfo; bpftool prog show (pids); schema/30_ir_reference.sql
-- attack: T1014, T1562.001
WITH b AS (
  SELECT b.*, p.name AS pname, p.path AS exe,
         substr(p.path, length(rtrim(p.path, replace(p.path, '/', ''))) + 1) AS exe_base
  FROM bpf_objects b
  LEFT JOIN processes p ON p.snapshot_id = b.snapshot_id AND p.pid = b.pid
  WHERE (b.kind = 'prog' AND b.prog_type IN (SELECT prog_type FROM ref_bpf_prog_types
                                             WHERE tracing = 1))
     OR (b.kind = 'link' AND b.link_type IN ('kprobe_multi', 'uprobe_multi', 'perf_event',
                                             'raw_tracepoint', 'tracing', 'tracepoint'))
)
SELECT b.snapshot_id, b.pid, b.pname AS name,
       'fd ' || b.fd || ': ' || b.kind || ' ' ||
         coalesce(b.prog_type_name, b.link_type, 'type ' || b.prog_type) ||
         coalesce(' id ' || b.prog_id, '') || coalesce(' tag ' || b.prog_tag, '') ||
         coalesce(', exe ' || nullif(b.exe, ''), '') AS detail,
       b.fd, b.kind, b.prog_type, b.prog_type_name, b.prog_id, b.prog_tag, b.link_type
FROM b
WHERE NOT EXISTS (SELECT 1 FROM ref_bpf_tracers t WHERE b.exe_base GLOB t.pattern)
ORDER BY b.snapshot_id, b.pid, b.fd;
