-- procsnap index: core tables (schema version = PRAGMA user_version, see
-- store.h PS_SCHEMA_VERSION).  Every table carries snapshot_id so one index
-- can hold many snapshots (procsnap merge).  Column sources: schema/README.md.

CREATE TABLE snapshots (
  snapshot_id     INTEGER PRIMARY KEY,
  format_version  INTEGER,   -- meta.json format_version
  tool_version    TEXT,      -- meta.json tool_version
  hostname        TEXT,      -- uname nodename
  kernel_release  TEXT,      -- uname release
  kernel_version  TEXT,      -- uname version
  boot_id         TEXT,      -- /proc/sys/kernel/random/boot_id
  machine_id      TEXT,      -- /etc/machine-id
  start_ns        INTEGER,   -- capture start, UTC ns since the epoch
  end_ns          INTEGER,   -- capture end (summary.json)
  uid             INTEGER,   -- capturer's uid
  cap_eff         TEXT,      -- capturer's CapEff (hex)
  proc_root       TEXT,      -- /proc root captured (--root)
  page_size       INTEGER,
  clock_ticks     INTEGER,   -- sysconf(_SC_CLK_TCK)
  case_id         TEXT,      -- --case
  examiner        TEXT,      -- --examiner
  evidence        TEXT,      -- --evidence
  note            TEXT,      -- --note
  options         TEXT,      -- JSON of the capture options
  archive_name    TEXT,      -- file name of the archive when indexed
  archive_size    INTEGER,   -- bytes
  archive_sha256  TEXT,      -- SHA-256 of the whole archive file
  n_files INTEGER, n_links INTEGER, n_dirs INTEGER, n_absent INTEGER,
  n_errors        INTEGER,   -- manifest lines with an errno
  n_processes     INTEGER,
  n_threads       INTEGER,
  raw_bytes       INTEGER,   -- sum of file sizes
  tar_bytes       INTEGER,   -- uncompressed tar stream length
  hash_mismatches INTEGER,   -- members whose XXH3 differs from the manifest
  meta_json       TEXT,      -- procsnap/meta.json verbatim
  summary_json    TEXT       -- procsnap/summary.json verbatim
);

-- One row per manifest line: every captured path, including those that
-- could not be read (kind 'absent', errno set).
CREATE TABLE files (
  snapshot_id INTEGER NOT NULL,
  path        TEXT NOT NULL,  -- archive path, e.g. proc/42/status
  kind        TEXT NOT NULL,  -- file | link | dir | absent
  mode        INTEGER,        -- lstat st_mode (tar header)
  uid         INTEGER,
  gid         INTEGER,
  size        INTEGER,        -- bytes read (link: target length)
  xxh3        TEXT,           -- XXH3-128, 32 hex digits, canonical order; NULL for dir/absent
  link_target TEXT,           -- readlink text for kind 'link'
  errno       TEXT,           -- EACCES, ESRCH ... or NULL
  read_ns     INTEGER,        -- ns since capture start when the read finished
  pid         INTEGER,        -- from the path: proc/<pid>/...
  tid         INTEGER,        -- from the path: proc/<pid>/task/<tid>/...
  data_off    INTEGER         -- tar offset of the content (hardlinks: of the first copy)
);

-- Tar layout of each member (what the archive holds, as read back).
CREATE TABLE members (
  snapshot_id INTEGER NOT NULL,
  path        TEXT NOT NULL,
  type        TEXT NOT NULL,  -- file | link | dir | hardlink
  mode        INTEGER, uid INTEGER, gid INTEGER, mtime INTEGER,
  size        INTEGER,        -- content bytes (hardlink: of its target)
  xxh3        TEXT,           -- computed from the bytes read back
  link_target TEXT,
  hardlink_to TEXT,
  header_off  INTEGER,        -- tar offset of the first header block
  data_off    INTEGER,        -- tar offset of the data
  PRIMARY KEY (snapshot_id, path)
);

-- zstd frames of the archive (also in its seekable-format trailer).
CREATE TABLE frames (
  snapshot_id INTEGER NOT NULL,
  frame       INTEGER NOT NULL,
  c_off       INTEGER,        -- offset in the .tar.zst file
  c_size      INTEGER,
  t_off       INTEGER,        -- offset in the tar stream
  t_size      INTEGER
);

-- procsnap/processes.tsv: what capture learned about each process.
CREATE TABLE capture_processes (
  snapshot_id INTEGER NOT NULL,
  pid         INTEGER NOT NULL,
  starttime   INTEGER,        -- stat field 22 (clock ticks since boot)
  partial     INTEGER,        -- exited during capture
  hidden      INTEGER,        -- absent from the /proc listing
  nthreads    INTEGER,        -- task/ entries captured
  on_disk     INTEGER         -- exe exists in its own mount ns: 1, 0, -1 unknown
);
