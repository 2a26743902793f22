-- procsnap index: core tables (schema version = PRAGMA user_version, see
-- store.h PS_SCHEMA_VERSION).  Every table carries snapshot_id so one index
-- can hold many snapshots (procsnap merge).  Column sources: schema/README.md.
--
-- Compact by design (issue 9): a captured path is one row of `paths`, stored
-- as integers where it has structure (pid, tid, a dictionary id for the
-- rest); its content (hash, size, offset) is one row of `contents` shared by
-- every path with the same bytes; owner and mode are one row of `stats`
-- shared by every path with the same kind, errno, (mode, uid, gid, mtime).  The view
-- `files` gives all of it back as text, one row per path.

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
  n_errors        INTEGER,   -- paths recorded with an errno
  n_processes     INTEGER,
  n_threads       INTEGER,
  raw_bytes       INTEGER,   -- sum of file sizes
  tar_bytes       INTEGER,   -- uncompressed tar stream length
  hash_mismatches INTEGER,   -- members whose XXH3 differs from the manifest
  n_damaged       INTEGER,   -- paths with a damage mark (files.damage)
  meta_json       TEXT,      -- procsnap/meta.json verbatim
  summary_json    TEXT,      -- procsnap/summary.json verbatim
  snapshot_uuid   TEXT,      -- meta.json snapshot_uuid: minted at capture (random UUID),
                             -- the id of this capture across hosts (export)
  local_timezone  TEXT       -- meta.json local_timezone: the capturer's zone (%Z), time view
);

-- Dictionary of texts: file names below proc/<pid>/ ("status", "fd/3"),
-- whole paths of the system files ("proc/meminfo"), symlink targets,
-- mapping paths...  The names of paths are rows of their own (is_name 1),
-- the only ones indexed by text (strings_text): a path is looked up by them.
CREATE TABLE strings (
  snapshot_id INTEGER NOT NULL,
  str_id      INTEGER NOT NULL,
  text        TEXT NOT NULL,
  is_name     INTEGER,          -- 1: paths.name_id / sys_paths.name_id; else NULL
  PRIMARY KEY (snapshot_id, str_id)
) WITHOUT ROWID;

-- One row per distinct content: the bytes of a file, or a symlink's target.
CREATE TABLE contents (
  snapshot_id INTEGER NOT NULL,
  content_id  INTEGER NOT NULL,
  xxh3        BLOB,           -- XXH3-128, 16 bytes, canonical (big-endian) order
  size        INTEGER,        -- bytes (a link: length of its target)
  data_off    INTEGER,        -- tar offset of the bytes (file; the first copy)
  target_id   INTEGER,        -- strings.str_id of a link's target
  PRIMARY KEY (snapshot_id, content_id)
) WITHOUT ROWID;

-- One row per distinct (kind, errno, mode, uid, gid, mtime, damage) of the
-- captured paths: what a path is and how its read ended, its lstat and its
-- damage mark.  Few distinct rows (a few hundred on a busy host), so a path
-- points to one with a small integer instead of carrying the columns.
CREATE TABLE stats (
  snapshot_id INTEGER NOT NULL,
  stat_id     INTEGER NOT NULL,
  kind        INTEGER NOT NULL, -- 0 file, 1 link, 2 dir, 3 absent
  errno       TEXT,             -- EACCES, ESRCH ... or NULL
  mode        INTEGER,        -- st_mode (type and permission bits); NULL: never stat'ed
  uid         INTEGER,
  gid         INTEGER,
  mtime       INTEGER,        -- st_mtime, seconds
  damage      TEXT,           -- NULL, or why the path cannot be trusted (files.damage)
  PRIMARY KEY (snapshot_id, stat_id)
) WITHOUT ROWID;

-- One row per captured path (one manifest line) below a pid directory,
-- clustered by pid: `WHERE pid = 42` reads one range.  Its manifest line
-- number (files.path_id, 0-based: the capture order) is
-- pid_reads.base_path + seq: a process's paths are contiguous, so seq is
-- small where the line number takes three bytes.
CREATE TABLE paths (
  pid         INTEGER NOT NULL, -- proc/<pid>/...
  snapshot_id INTEGER NOT NULL,
  seq         INTEGER NOT NULL, -- manifest line number - pid_reads.base_path
  tid_off     INTEGER,          -- proc/<pid>/task/<tid>/...: tid - pid (0 for
                                -- the main thread); NULL: not below task/
  name_id     INTEGER NOT NULL, -- strings: the rest of the path ('' for the pid or
                                -- tid directory itself)
  stat_id     INTEGER NOT NULL, -- stats: kind, errno, lstat, damage
  content_id  INTEGER,          -- contents (NULL: dir, absent)
  read_delta_8us INTEGER,       -- when the read finished: after pid_reads.base_us, in
                                -- units of 8 us (rounded down)
  PRIMARY KEY (pid, snapshot_id, seq)
) WITHOUT ROWID;

-- Where each pid's paths begin: the read time and manifest line of its
-- first path.  A process is read in a few ms, so its paths' times are
-- counted from this one in units of 8 us (paths.read_delta_8us: one byte
-- a row where the time since the capture started in us takes three or
-- four), and its line numbers likewise (paths.seq).
CREATE TABLE pid_reads (
  pid         INTEGER NOT NULL,
  snapshot_id INTEGER NOT NULL,
  base_us     INTEGER NOT NULL, -- us since capture start
  base_path   INTEGER NOT NULL, -- manifest line number of the pid's first path
  PRIMARY KEY (pid, snapshot_id)
) WITHOUT ROWID;

-- Per name of the paths below a pid directory (`paths.name_id`): how many
-- rows carry it, and the seq most of them have (a majority vote while the
-- index is built: right when a majority has one, else some seq).  `ls`
-- reads a name's rows by looking at that seq in each pid's range, and
-- knows from `uses` whether it found them all (else it reads `paths`
-- whole).  A name with no row here (an id past the dictionary's 2^18) is
-- always read the whole way.
CREATE TABLE name_stats (
  snapshot_id INTEGER NOT NULL,
  name_id     INTEGER NOT NULL, -- strings.str_id
  uses        INTEGER,          -- paths rows with this name_id (NULL: too many to count)
  usual_seq   INTEGER,          -- paths.seq of most of them (NULL with uses)
  PRIMARY KEY (snapshot_id, name_id)
) WITHOUT ROWID;

-- The same for every other path (system files, procsnap/*): name_id is the
-- whole path, path_id the manifest line number.
CREATE TABLE sys_paths (
  snapshot_id INTEGER NOT NULL,
  path_id     INTEGER NOT NULL,
  name_id     INTEGER NOT NULL,
  stat_id     INTEGER NOT NULL,
  content_id  INTEGER,
  read_us     INTEGER,
  PRIMARY KEY (snapshot_id, path_id)
) WITHOUT ROWID;

-- Every captured path, including those that could not be read (kind
-- 'absent', errno set): what earlier versions stored as the tables `files`
-- and `members`.
CREATE VIEW files AS
SELECT p.snapshot_id AS snapshot_id,
       'proc/' || p.pid || CASE WHEN p.tid_off IS NULL THEN '' ELSE '/task/' || (p.pid + p.tid_off) END
         || CASE n.text WHEN '' THEN '' ELSE '/' || n.text END AS path,
       CASE s.kind WHEN 0 THEN 'file' WHEN 1 THEN 'link' WHEN 2 THEN 'dir' ELSE 'absent' END AS kind,
       s.mode AS mode, s.uid AS uid, s.gid AS gid,
       coalesce(c.size, 0) AS size,
       lower(hex(c.xxh3)) AS xxh3,
       t.text AS link_target,
       s.errno AS errno,
       (r.base_us + p.read_delta_8us * 8) * 1000 AS read_ns,
       p.pid AS pid,
       p.pid + p.tid_off AS tid,
       CASE s.kind WHEN 0 THEN c.data_off END AS data_off,
       s.mtime AS mtime,
       s.damage AS damage,
       r.base_path + p.seq AS path_id
FROM paths p
JOIN strings n ON n.snapshot_id = p.snapshot_id AND n.str_id = p.name_id
LEFT JOIN stats s ON s.snapshot_id = p.snapshot_id AND s.stat_id = p.stat_id
LEFT JOIN contents c ON c.snapshot_id = p.snapshot_id AND c.content_id = p.content_id
LEFT JOIN strings t ON t.snapshot_id = c.snapshot_id AND t.str_id = c.target_id
LEFT JOIN pid_reads r ON r.pid = p.pid AND r.snapshot_id = p.snapshot_id
UNION ALL
SELECT p.snapshot_id, n.text,
       CASE s.kind WHEN 0 THEN 'file' WHEN 1 THEN 'link' WHEN 2 THEN 'dir' ELSE 'absent' END,
       s.mode, s.uid, s.gid, coalesce(c.size, 0), lower(hex(c.xxh3)), t.text, s.errno,
       p.read_us * 1000, NULL, NULL, CASE s.kind WHEN 0 THEN c.data_off END, s.mtime,
       s.damage, p.path_id
FROM sys_paths p
JOIN strings n ON n.snapshot_id = p.snapshot_id AND n.str_id = p.name_id
LEFT JOIN stats s ON s.snapshot_id = p.snapshot_id AND s.stat_id = p.stat_id
LEFT JOIN contents c ON c.snapshot_id = p.snapshot_id AND c.content_id = p.content_id
LEFT JOIN strings t ON t.snapshot_id = c.snapshot_id AND t.str_id = c.target_id;
-- Columns of files: path (archive path, e.g. proc/42/status), kind
-- (file|link|dir|absent), mode/uid/gid/mtime (lstat, as in the tar header),
-- size (bytes read; a link: its target's length), xxh3 (XXH3-128, 32 hex
-- digits, canonical order; NULL for dir/absent), link_target (readlink
-- text), errno (EACCES...), read_ns (ns since capture start, at 8 us
-- resolution below a pid directory, 1 us else), pid/tid (from the path), data_off (tar offset of the bytes;
-- a hardlink: of the first copy), damage (NULL, or mismatch | lost |
-- missing | unlisted: see README "verify"), path_id (manifest line number).

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
