-- procsnap index: cross-views and in-memory tampering (issue 11), filled by
-- store/tables_ir.c.  Sources: procsnap/crossview.json (schema/crossview.md),
-- sys/module/*, fdinfo of bpf fds, net/* of each captured namespace,
-- pagemap.sections, mem.sections (schema/mem-sections.md).  Column sources:
-- schema/README.md.  Also adds columns to processes, threads and
-- process_open_files (10_tables.sql): seen_by, argv0_is_exe, flags,
-- protocol.

-- One row per pid any view of the process table saw (not the threads a
-- task/ listing alone saw).
CREATE TABLE pid_census (
  snapshot_id INTEGER NOT NULL,
  pid         INTEGER NOT NULL,
  seen_by     INTEGER,  -- bitmask of views: 1 listed, 2 opened, 4 task, 8 swept, 16 census,
                        -- 32 children, 64 parent, 128 private (schema/crossview.md)
  views       TEXT,     -- the same as names, 'listed,opened,task,census'
  unreachable INTEGER,  -- 1: named by another process (a children file, a parent link),
                        -- still named so and still not found by any lookup when
                        -- re-checked at the end
  named_by    INTEGER,  -- that process (unreachable only)
  named_by_tid INTEGER, -- children view: the thread whose task/<tid>/children named it
  named_view  TEXT      -- children, or parent (named_by's stat field 4)
);

-- Pids masked by a mount over /proc/<pid> (or a file in it).
CREATE TABLE masked_pids (
  snapshot_id INTEGER NOT NULL,
  pid         INTEGER NOT NULL,
  how         TEXT,     -- mount (in mountinfo), device (pid dir on another st_dev),
                        -- identity (its stat names another pid: a bind of another pid dir)
  route       TEXT,     -- private-procfs (real data captured through it) or none
  mount       TEXT      -- mount point (fstype source root) from mountinfo, ';'-separated
);

-- Every socket inode of every captured net/* table, per network namespace
-- (tcp, tcp6, udp, udp6, udplite*, raw*, icmp*, unix, netlink, packet).
CREATE TABLE socket_inodes (
  snapshot_id   INTEGER NOT NULL,
  inode         INTEGER NOT NULL,
  source        TEXT,     -- the net/ file
  net_namespace INTEGER,  -- ns/net inode of the pid it was captured under
  pid           INTEGER   -- that pid
);

-- eBPF objects held by an fd (fd/N -> anon_inode:bpf-prog|bpf-map|bpf-link),
-- from fdinfo/N (kernel/bpf/syscall.c bpf_prog_show_fdinfo & co).
CREATE TABLE bpf_objects (
  snapshot_id    INTEGER NOT NULL,
  pid            INTEGER NOT NULL,
  fd             INTEGER,
  kind           TEXT,     -- prog, map, link
  prog_type      INTEGER,  -- fdinfo prog_type (enum bpf_prog_type); link: of its program
  prog_type_name TEXT,     -- ref_bpf_prog_types.name
  prog_tag       TEXT,     -- fdinfo prog_tag (hex)
  prog_id        INTEGER,  -- fdinfo prog_id (prog and link)
  prog_jited     INTEGER,
  map_type       INTEGER,
  map_id         INTEGER,
  key_size       INTEGER,
  value_size     INTEGER,
  max_entries    INTEGER,
  link_type      TEXT,     -- fdinfo link_type (printed as a name: tracing, perf_event...)
  link_id        INTEGER,
  attach_type    INTEGER,
  memlock        INTEGER,
  run_time_ns    INTEGER,
  run_cnt        INTEGER,
  verified_insns INTEGER,
  fdinfo         TEXT      -- the fdinfo text after the common pos/flags/mnt_id/ino lines
);

-- sys/module/<name> (directories) with initstate and taint when present:
-- the sysfs view of modules, against /proc/modules (kernel_modules).
CREATE TABLE sys_modules (
  snapshot_id INTEGER NOT NULL,
  name        TEXT NOT NULL,
  initstate   TEXT,  -- live, coming, going; NULL for a built-in module
  taint       TEXT   -- e.g. OE; NULL when absent or empty
);

-- Code patched in place: the pages of each private executable file mapping
-- that are anonymous now (pagemap entry present with bit 61 clear, or
-- swapped), i.e. written after they were mapped.  From pagemap.sections.
CREATE TABLE process_cow_pages (
  snapshot_id INTEGER NOT NULL,
  pid         INTEGER NOT NULL,
  map_start   TEXT,     -- process_memory_map.start of the mapping
  path        TEXT,     -- its file
  permissions TEXT,
  addr        TEXT,     -- the page's address, hex (0x...)
  addr_int    INTEGER,
  file_offset INTEGER,  -- offset of the page in the file (mapping offset + addr - start)
  swapped     INTEGER   -- 1 when the entry is a swap entry (the page was anonymous)
);

-- proc/<pid>/mem.sections (--suspicious-pages): one row per section.
CREATE TABLE process_mem_sections (
  snapshot_id INTEGER NOT NULL,
  pid         INTEGER NOT NULL,
  start       TEXT,     -- hex
  start_int   INTEGER,
  pages       INTEGER,
  bytes       INTEGER,
  reason      TEXT,     -- cow, anon-exec, fileless
  data_off    INTEGER   -- offset of the section's bytes inside the member
);

-- Per mapping: the COW'd page addresses listed (for the code-patched rule).
CREATE VIEW process_cow_mappings AS
SELECT snapshot_id, pid, map_start, path, permissions,
       count(*) AS pages,
       group_concat(addr, ' ') AS addresses
FROM (SELECT * FROM process_cow_pages ORDER BY snapshot_id, pid, addr_int)
GROUP BY snapshot_id, pid, map_start;

-- Columns of the tables of 10_tables.sql filled for issue 11: processes.flags,
-- seen_by, argv0_is_exe; threads.flags; fds.protocol (process_open_files).
