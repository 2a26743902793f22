-- procsnap index: tables parsed from the archive's /proc members (store/tables*.c).
-- Where osquery has a table of the same meaning, its table and column names
-- are used for the shared columns, so osquery queries run unchanged; extra
-- columns are procsnap's.  Every column's /proc source: schema/README.md.
-- No primary keys: a crafted archive may repeat a pid, and that must not
-- stop the index from building.  Secondary indexes: 91_tables_indexes.sql.

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
  uts_ns INTEGER, ipc_ns INTEGER, cgroup_ns INTEGER, time_ns INTEGER
);

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
  wchan       TEXT
);

CREATE TABLE process_memory_map (
  snapshot_id INTEGER NOT NULL,
  pid         INTEGER NOT NULL,
  start       TEXT,
  "end"       TEXT,
  permissions TEXT,
  offset      INTEGER,
  device      TEXT,
  inode       INTEGER,
  path        TEXT,
  pseudo      INTEGER,
  -- procsnap's own
  start_addr  INTEGER,
  end_addr    INTEGER,
  deleted     INTEGER,
  size_kb     INTEGER,
  kernel_page_size_kb INTEGER,
  mmu_page_size_kb    INTEGER,
  rss_kb            INTEGER,
  pss_kb            INTEGER,
  pss_dirty_kb      INTEGER,
  shared_clean_kb   INTEGER,
  shared_dirty_kb   INTEGER,
  private_clean_kb  INTEGER,
  private_dirty_kb  INTEGER,
  referenced_kb     INTEGER,
  anonymous_kb      INTEGER,
  ksm_kb            INTEGER,
  lazy_free_kb      INTEGER,
  anon_huge_pages_kb  INTEGER,
  shmem_pmd_mapped_kb INTEGER,
  file_pmd_mapped_kb  INTEGER,
  shared_hugetlb_kb   INTEGER,
  private_hugetlb_kb  INTEGER,
  swap_kb           INTEGER,
  swap_pss_kb       INTEGER,
  locked_kb         INTEGER,
  thp_eligible      INTEGER,
  protection_key    INTEGER,
  vmflags           TEXT,
  -- pagemap counts per mapping (filled from pagemap.sections; NULL when
  -- pagemap was not captured)
  pages          INTEGER,
  present        INTEGER,
  swapped        INTEGER,
  file_or_shared INTEGER,
  exclusive      INTEGER,
  soft_dirty     INTEGER,
  pfn_visible    INTEGER
);

CREATE TABLE process_open_files (
  snapshot_id INTEGER NOT NULL,
  pid         INTEGER NOT NULL,
  fd          INTEGER,
  path        TEXT,
  -- procsnap's own
  type        TEXT,
  inode       INTEGER,
  pos         INTEGER,
  flags       INTEGER,
  mnt_id      INTEGER,
  deleted     INTEGER
);

CREATE TABLE process_envs (
  snapshot_id INTEGER NOT NULL,
  pid         INTEGER NOT NULL,
  key         TEXT,
  value       TEXT
);

CREATE TABLE process_limits (
  snapshot_id INTEGER NOT NULL,
  pid         INTEGER NOT NULL,
  name        TEXT,
  soft_limit  INTEGER,
  hard_limit  INTEGER,
  units       TEXT
);

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
  type           INTEGER
);

CREATE TABLE listening_ports (
  snapshot_id   INTEGER NOT NULL,
  pid           INTEGER,
  port          INTEGER,
  protocol      INTEGER,
  family        INTEGER,
  address       TEXT,
  fd            INTEGER,
  socket        INTEGER,
  path          TEXT,
  net_namespace INTEGER
);

CREATE TABLE mounts (
  snapshot_id      INTEGER NOT NULL,
  device           TEXT,
  device_alias     TEXT,
  path             TEXT,
  type             TEXT,
  blocks_size      INTEGER,
  blocks           INTEGER,
  blocks_free      INTEGER,
  blocks_available INTEGER,
  inodes           INTEGER,
  inodes_free      INTEGER,
  flags            TEXT,
  -- procsnap's own
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

CREATE TABLE process_namespaces (
  snapshot_id         INTEGER NOT NULL,
  pid                 INTEGER NOT NULL,
  cgroup_namespace    INTEGER,
  ipc_namespace       INTEGER,
  mnt_namespace       INTEGER,
  net_namespace       INTEGER,
  pid_namespace       INTEGER,
  user_namespace      INTEGER,
  uts_namespace       INTEGER,
  -- procsnap's own
  time_namespace               INTEGER,
  pid_for_children_namespace   INTEGER,
  time_for_children_namespace  INTEGER
);

CREATE TABLE system_kv (
  snapshot_id INTEGER NOT NULL,
  source      TEXT NOT NULL,
  key         TEXT NOT NULL,
  value       NUMERIC,
  text        TEXT,
  unit        TEXT,
  path        TEXT
);
