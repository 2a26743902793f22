-- procsnap index: tables parsed from the archive's /proc members (store/tables*.c).
-- Where osquery has a table of the same meaning, its table and column names
-- are used for the shared columns, so osquery queries run unchanged; extra
-- columns are procsnap's.  Every column's /proc source: schema/README.md.
-- A crafted archive may repeat a pid, and that must not stop the index from
-- building: processes has no primary key; the tables keyed by pid (threads,
-- maps, fds) keep the first row of a repeated key (INSERT OR IGNORE).
-- Secondary indexes: 91_tables_indexes.sql.

CREATE TABLE processes (
  snapshot_id   INTEGER NOT NULL,
  pid           INTEGER NOT NULL,
  name          TEXT,
  path          TEXT,
  cmdline       TEXT,
  state         TEXT,
  cwd           TEXT,
  root          TEXT,
  uid INTEGER, gid INTEGER, euid INTEGER, egid INTEGER, suid INTEGER, sgid INTEGER,
  on_disk       INTEGER,
  wired_size    INTEGER,   -- 0, as osquery on Linux (no unpageable counter)
  resident_size INTEGER,
  total_size    INTEGER,
  user_time     INTEGER,
  system_time   INTEGER,
  disk_bytes_read    INTEGER,
  disk_bytes_written INTEGER,
  start_time    INTEGER,
  parent        INTEGER,
  pgroup        INTEGER,
  threads       INTEGER,
  nice          INTEGER,
  cgroup_path   TEXT,
  -- procsnap's own
  ppid          INTEGER,
  starttime     INTEGER,
  session       INTEGER,
  tty_nr        INTEGER,
  tracer_pid    INTEGER,
  seccomp       INTEGER,
  no_new_privs  INTEGER,
  cap_eff TEXT, cap_prm TEXT, cap_bnd TEXT, cap_inh TEXT, cap_amb TEXT,
  oom_score     INTEGER,
  oom_score_adj INTEGER,
  exe_deleted   INTEGER,
  partial       INTEGER,
  hidden        INTEGER,
  comm          TEXT,
  kthread       INTEGER,
  vsize         INTEGER,
  minflt        INTEGER,
  majflt        INTEGER,
  voluntary_ctxt_switches    INTEGER,
  nonvoluntary_ctxt_switches INTEGER,
  fd_count      INTEGER,
  ns_pid        INTEGER,
  net_ns INTEGER, mnt_ns INTEGER, pid_ns INTEGER, user_ns INTEGER,
  uts_ns INTEGER, ipc_ns INTEGER, cgroup_ns INTEGER, time_ns INTEGER,
  env_set       INTEGER,   -- env_sets.set_id of its environ (process_envs)
  limits_set    INTEGER,   -- limit_sets.set_id of its limits (process_limits)
  flags         INTEGER,   -- stat field 9: task->flags (PF_*)
  seen_by       INTEGER,   -- pid_census.seen_by
  argv0_is_exe  INTEGER,   -- argv[0] (a path) resolves to the exe: 1 yes, 0 another or no
                           -- file, NULL unknown
  pid_for_children_ns  INTEGER, -- ns/pid_for_children (process_namespaces)
  time_for_children_ns INTEGER  -- ns/time_for_children
);

-- Keyed by (pid, tid): a thread repeated by a crafted archive is kept once.
CREATE TABLE threads (
  snapshot_id INTEGER NOT NULL,
  pid         INTEGER NOT NULL,
  tid         INTEGER NOT NULL,
  name        TEXT,
  state       TEXT,
  user_time   INTEGER,
  system_time INTEGER,
  starttime   INTEGER,
  processor   INTEGER,
  nice        INTEGER,
  priority    INTEGER,
  policy      INTEGER,
  rt_priority INTEGER,
  minflt      INTEGER,
  majflt      INTEGER,
  voluntary_ctxt_switches    INTEGER,
  nonvoluntary_ctxt_switches INTEGER,
  tracer_pid  INTEGER,
  wchan       TEXT,
  flags       INTEGER,   -- task stat field 9
  PRIMARY KEY (pid, snapshot_id, tid)
) WITHOUT ROWID;

-- Mappings (maps, smaps fields, pagemap counts), compact: one row per
-- mapping of a process naming its values, stored once per distinct set of
-- values (forked workers share nearly all of their mappings, counts
-- included); addresses and sizes as integers, texts in the `strings`
-- dictionary.  The view process_memory_map gives them with osquery's
-- columns.
CREATE TABLE maps (
  pid         INTEGER NOT NULL,
  snapshot_id INTEGER NOT NULL,
  seq         INTEGER NOT NULL, -- order in the process's maps, from 0
  map_id      INTEGER NOT NULL, -- map_info
  PRIMARY KEY (pid, snapshot_id, seq)
) WITHOUT ROWID;

CREATE TABLE map_info (
  snapshot_id INTEGER NOT NULL,
  map_id      INTEGER NOT NULL,
  start_addr  INTEGER,
  len         INTEGER,          -- end - start, bytes
  perms_id    INTEGER,          -- strings: 'r-xp'...
  offset      INTEGER,
  dev         INTEGER,          -- major << 20 | minor
  inode       INTEGER,
  path_id     INTEGER,          -- strings: the pathname column of maps
  -- smaps fields (NULL: maps only); kB
  rss_kb            INTEGER,
  pss_kb            INTEGER,
  pss_dirty_kb      INTEGER,
  shared_clean_kb   INTEGER,
  shared_dirty_kb   INTEGER,
  private_clean_kb  INTEGER,
  private_dirty_kb  INTEGER,
  referenced_kb     INTEGER,
  anonymous_kb      INTEGER,
  vmflags_id        INTEGER,    -- strings: the VmFlags line
  thp_eligible      INTEGER,    -- THPeligible: 0/1
  protection_key    INTEGER,    -- ProtectionKey: (x86 pkeys only; NULL without)
  -- pagemap counts per mapping (from pagemap.sections; NULL when pagemap
  -- was not captured or does not cover the mapping)
  pages          INTEGER,
  present        INTEGER,
  swapped        INTEGER,
  file_or_shared INTEGER,
  exclusive      INTEGER,
  soft_dirty     INTEGER,       -- NULL unless the kernel tracks it
  pfn_visible    INTEGER,
  PRIMARY KEY (snapshot_id, map_id)
) WITHOUT ROWID;

-- The smaps fields that are almost always at one value: map_id -1 holds
-- the snapshot's usual values (4 kB pages, zeros; NULL for a field this
-- kernel does not print), and a mapping has its own row only when one of
-- its values differs (a column of map_info each would cost a header byte
-- on every row).
CREATE TABLE maps_rare (
  snapshot_id INTEGER NOT NULL,
  map_id      INTEGER NOT NULL, -- map_info.map_id, or -1
  kernel_page_size_kb INTEGER,
  mmu_page_size_kb INTEGER,
  ksm_kb INTEGER,
  lazy_free_kb INTEGER,
  anon_huge_pages_kb INTEGER,
  shmem_pmd_mapped_kb INTEGER,
  file_pmd_mapped_kb INTEGER,
  shared_hugetlb_kb INTEGER,
  private_hugetlb_kb INTEGER,
  swap_kb INTEGER,
  swap_pss_kb INTEGER,
  locked_kb INTEGER,
  PRIMARY KEY (snapshot_id, map_id)
) WITHOUT ROWID;

CREATE VIEW process_memory_map AS
SELECT m.snapshot_id AS snapshot_id,
       m.pid AS pid,
       printf('0x%08x', i.start_addr) AS start,
       printf('0x%08x', i.start_addr + i.len) AS "end",
       pe.text AS permissions,
       i.offset AS offset,
       printf('%02x:%02x', i.dev >> 20, i.dev & 1048575) AS device,
       i.inode AS inode,
       -- osquery's path: the file's name, without the " (deleted)" maps adds
       CASE WHEN length(pa.text) > 10 AND substr(pa.text, -10) = ' (deleted)'
            THEN substr(pa.text, 1, length(pa.text) - 10) ELSE pa.text END AS path,
       CAST(coalesce(i.inode = 0 AND length(pa.text) > 0, 0) AS INTEGER) AS pseudo,
       -- procsnap's own
       pa.text AS raw_path,
       i.start_addr AS start_addr,
       i.start_addr + i.len AS end_addr,
       coalesce(length(pa.text) > 10 AND substr(pa.text, -10) = ' (deleted)', 0) AS deleted,
       i.len / 1024 AS size_kb,
       CASE WHEN r.map_id IS NOT NULL THEN r.kernel_page_size_kb WHEN i.rss_kb IS NOT NULL THEN d.kernel_page_size_kb END AS kernel_page_size_kb,
       CASE WHEN r.map_id IS NOT NULL THEN r.mmu_page_size_kb WHEN i.rss_kb IS NOT NULL THEN d.mmu_page_size_kb END AS mmu_page_size_kb,
       i.rss_kb, i.pss_kb, i.pss_dirty_kb, i.shared_clean_kb, i.shared_dirty_kb,
       i.private_clean_kb, i.private_dirty_kb, i.referenced_kb, i.anonymous_kb,
       CASE WHEN r.map_id IS NOT NULL THEN r.ksm_kb WHEN i.rss_kb IS NOT NULL THEN d.ksm_kb END AS ksm_kb,
       CASE WHEN r.map_id IS NOT NULL THEN r.lazy_free_kb WHEN i.rss_kb IS NOT NULL THEN d.lazy_free_kb END AS lazy_free_kb,
       CASE WHEN r.map_id IS NOT NULL THEN r.anon_huge_pages_kb WHEN i.rss_kb IS NOT NULL THEN d.anon_huge_pages_kb END AS anon_huge_pages_kb,
       CASE WHEN r.map_id IS NOT NULL THEN r.shmem_pmd_mapped_kb WHEN i.rss_kb IS NOT NULL THEN d.shmem_pmd_mapped_kb END AS shmem_pmd_mapped_kb,
       CASE WHEN r.map_id IS NOT NULL THEN r.file_pmd_mapped_kb WHEN i.rss_kb IS NOT NULL THEN d.file_pmd_mapped_kb END AS file_pmd_mapped_kb,
       CASE WHEN r.map_id IS NOT NULL THEN r.shared_hugetlb_kb WHEN i.rss_kb IS NOT NULL THEN d.shared_hugetlb_kb END AS shared_hugetlb_kb,
       CASE WHEN r.map_id IS NOT NULL THEN r.private_hugetlb_kb WHEN i.rss_kb IS NOT NULL THEN d.private_hugetlb_kb END AS private_hugetlb_kb,
       CASE WHEN r.map_id IS NOT NULL THEN r.swap_kb WHEN i.rss_kb IS NOT NULL THEN d.swap_kb END AS swap_kb,
       CASE WHEN r.map_id IS NOT NULL THEN r.swap_pss_kb WHEN i.rss_kb IS NOT NULL THEN d.swap_pss_kb END AS swap_pss_kb,
       CASE WHEN r.map_id IS NOT NULL THEN r.locked_kb WHEN i.rss_kb IS NOT NULL THEN d.locked_kb END AS locked_kb,
       i.thp_eligible AS thp_eligible,
       i.protection_key AS protection_key,
       vf.text AS vmflags,
       i.pages, i.present, i.swapped, i.file_or_shared, i.exclusive, i.soft_dirty,
       i.pfn_visible
FROM maps m
JOIN map_info i ON i.snapshot_id = m.snapshot_id AND i.map_id = m.map_id
LEFT JOIN strings pe ON pe.snapshot_id = i.snapshot_id AND pe.str_id = i.perms_id
LEFT JOIN strings pa ON pa.snapshot_id = i.snapshot_id AND pa.str_id = i.path_id
LEFT JOIN strings vf ON vf.snapshot_id = i.snapshot_id AND vf.str_id = i.vmflags_id
LEFT JOIN maps_rare r ON r.snapshot_id = m.snapshot_id AND r.map_id = m.map_id
LEFT JOIN maps_rare d ON d.snapshot_id = m.snapshot_id AND d.map_id = -1;

-- One row per fd: the fd/N link and fdinfo/N.  Views (50_osquery.sql):
-- process_fds (every fd), process_open_files (osquery's: paths only),
-- process_open_pipes.
CREATE TABLE fds (
  pid         INTEGER NOT NULL,
  snapshot_id INTEGER NOT NULL,
  fd          INTEGER NOT NULL,
  open_file   INTEGER,          -- 1: osquery's process_open_files lists it (the target
                                -- has none of "socket:", "anon_inode:", "pipe:"); 0 or
                                -- NULL (no target) not
  path_id     INTEGER,          -- strings: the link target
  type_id     INTEGER,          -- strings: file, socket, pipe, anon_inode...
  inode       INTEGER,
  pos         INTEGER,
  flags       INTEGER,
  mnt_id      INTEGER,
  deleted     INTEGER,
  protocol    TEXT,             -- a socket's protocol (TCP, UDP, UNIX-STREAM, NETLINK...):
                                -- getxattr system.sockprotoname at capture
  PRIMARY KEY (pid, snapshot_id, fd)
) WITHOUT ROWID;

-- Environments and limits are stored once per distinct content (most
-- processes share them) and joined to each process by processes.env_set /
-- processes.limits_set.
CREATE TABLE env_sets (
  snapshot_id INTEGER NOT NULL,
  set_id      INTEGER NOT NULL,
  seq         INTEGER NOT NULL, -- order in environ
  key         TEXT,
  value       TEXT,
  PRIMARY KEY (snapshot_id, set_id, seq)
) WITHOUT ROWID;

CREATE VIEW process_envs AS
SELECT p.snapshot_id AS snapshot_id, p.pid AS pid, e.key AS key, e.value AS value
FROM processes p
JOIN env_sets e ON e.snapshot_id = p.snapshot_id AND e.set_id = p.env_set;

CREATE TABLE limit_sets (
  snapshot_id INTEGER NOT NULL,
  set_id      INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  name        TEXT,
  soft_limit  INTEGER,
  hard_limit  INTEGER,
  units       TEXT,
  PRIMARY KEY (snapshot_id, set_id, seq)
) WITHOUT ROWID;

CREATE VIEW process_limits AS
SELECT p.snapshot_id AS snapshot_id, p.pid AS pid, l.name AS name, l.soft_limit AS soft_limit,
       l.hard_limit AS hard_limit, l.units AS units
FROM processes p
JOIN limit_sets l ON l.snapshot_id = p.snapshot_id AND l.set_id = p.limits_set;

CREATE TABLE process_open_sockets (
  snapshot_id    INTEGER NOT NULL,
  pid            INTEGER,
  fd             INTEGER,
  socket         INTEGER,
  family         INTEGER,
  protocol       INTEGER,
  local_address  TEXT,
  remote_address TEXT,
  local_port     INTEGER,
  remote_port    INTEGER,
  path           TEXT,
  state          TEXT,
  net_namespace  INTEGER,
  -- procsnap's own
  source         TEXT,
  source_pid     INTEGER,
  uid            INTEGER,
  tx_queue       INTEGER,
  rx_queue       INTEGER,
  type           INTEGER,
  unix_state     TEXT       -- unix sockets: LISTEN, UNCONNECTED, CONNECTING, CONNECTED,
                            -- DISCONNECTING (osquery's state is '' for them)
);

-- Every mount of every captured mount namespace (once per namespace).  The
-- view `mounts` (50_osquery.sql) is osquery's: the namespace of pid 1.
CREATE TABLE process_mounts (
  snapshot_id      INTEGER NOT NULL,
  device           TEXT,
  path             TEXT,
  type             TEXT,
  flags            TEXT,
  mount_id        INTEGER,
  parent_id       INTEGER,
  major           INTEGER,
  minor           INTEGER,
  root            TEXT,
  options         TEXT,
  super_options   TEXT,
  optional_fields TEXT,
  mnt_ns          INTEGER,
  pid             INTEGER
);

CREATE TABLE kernel_modules (
  snapshot_id INTEGER NOT NULL,
  name        TEXT,
  size        INTEGER,
  used_by     TEXT,
  status      TEXT,
  address     TEXT,
  -- procsnap's own
  refcount    INTEGER,
  taint       TEXT
);

-- osquery's process_namespaces: the ns/ links of each process whose links
-- were read (the inodes are columns of processes).
CREATE VIEW process_namespaces AS
SELECT snapshot_id,
       pid,
       cgroup_ns AS cgroup_namespace,
       ipc_ns AS ipc_namespace,
       mnt_ns AS mnt_namespace,
       net_ns AS net_namespace,
       pid_ns AS pid_namespace,
       user_ns AS user_namespace,
       uts_ns AS uts_namespace,
       -- procsnap's own
       time_ns AS time_namespace,
       pid_for_children_ns AS pid_for_children_namespace,
       time_for_children_ns AS time_for_children_namespace
FROM processes
WHERE coalesce(cgroup_ns, ipc_ns, mnt_ns, net_ns, pid_ns, user_ns, uts_ns, time_ns,
               pid_for_children_ns, time_for_children_ns) IS NOT NULL;

CREATE TABLE system_kv (
  snapshot_id INTEGER NOT NULL,
  source      TEXT NOT NULL,
  key         TEXT NOT NULL,
  value       NUMERIC,
  text        TEXT,
  unit        TEXT,
  path        TEXT
);
