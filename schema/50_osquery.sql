-- procsnap index: osquery's tables where procsnap's own hold the data
-- (issue 12).  Names, columns and semantics are osquery's Linux ones
-- (specs/**/*.table and its Linux implementation; the column list is
-- checked by tests/test_osquery_columns.c against tests/data/
-- osquery_columns.tsv), so published osquery queries run unchanged; the
-- columns after "procsnap's own" are extra.  Most are views over compact
-- base tables.  Where osquery's meaning is not procsnap's, procsnap keeps
-- every row in a table of its own (process_fds, process_mounts).
-- Column sources: schema/README.md.

-- Every fd/N: the link, its kind, fdinfo/N.  The texts are scalar
-- subqueries, not joins: SQLite evaluates one only when its column is used,
-- so a count or a join on pid reads fds alone.
CREATE VIEW process_fds AS
SELECT f.snapshot_id AS snapshot_id,
       f.pid AS pid,
       f.fd AS fd,
       (SELECT p.text FROM strings p WHERE p.snapshot_id = f.snapshot_id AND p.str_id = f.path_id)
         AS path,
       (SELECT t.text FROM strings t WHERE t.snapshot_id = f.snapshot_id AND t.str_id = f.type_id)
         AS type,
       f.inode AS inode,
       f.pos AS pos,
       f.flags AS flags,
       f.mnt_id AS mnt_id,
       f.deleted AS deleted,
       f.protocol AS protocol,
       f.open_file AS open_file
FROM fds f;

-- osquery's process_open_files (osquery/tables/system/linux/
-- process_open_files.cpp): the fds whose link names a path, i.e. every link
-- that does not hold "socket:", "anon_inode:" or "pipe:" (osquery tests
-- the substring anywhere: fds.open_file, decided when the index is built).
-- " (deleted)" stays, as readlink gives it.
CREATE VIEW process_open_files AS
SELECT snapshot_id, pid, fd, path,
       -- procsnap's own
       type, inode, pos, flags, mnt_id, deleted, protocol
FROM process_fds
WHERE open_file = 1;

-- osquery's process_open_pipes (process_open_pipes.cpp): one row per pipe
-- end and each end of the other side (a reader and a writer, or an "rw"
-- end); an end alone on its pipe has NULL partners.  mode from fdinfo/N
-- flags (O_RDONLY r, O_WRONLY w, O_RDWR rw; '-' unknown, as osquery when
-- lstat fails).  Anonymous pipes only (pipe:[N]): a named FIFO opened by
-- path cannot be told from a file in a snapshot (its target is not stat'ed).
CREATE VIEW process_open_pipes AS
WITH ends AS (
  SELECT f.snapshot_id AS snapshot_id, f.pid AS pid, f.fd AS fd, f.inode AS inode,
         CASE f.flags & 3 WHEN 0 THEN 'r' WHEN 1 THEN 'w' WHEN 2 THEN 'rw' ELSE '-' END AS mode
  FROM fds f JOIN strings t ON t.snapshot_id = f.snapshot_id AND t.str_id = f.type_id
  WHERE t.text = 'pipe'
),
alone AS (
  SELECT snapshot_id, inode FROM ends GROUP BY snapshot_id, inode HAVING count(*) = 1
)
SELECT e.snapshot_id AS snapshot_id, e.pid AS pid, e.fd AS fd, e.mode AS mode,
       e.inode AS inode, 'anonymous' AS type, NULL AS partner_pid, NULL AS partner_fd,
       NULL AS partner_mode
FROM ends e JOIN alone a ON a.snapshot_id = e.snapshot_id AND a.inode = e.inode
UNION ALL
SELECT e.snapshot_id, e.pid, e.fd, e.mode, e.inode, 'anonymous', p.pid, p.fd, p.mode
FROM ends e JOIN ends p ON p.snapshot_id = e.snapshot_id AND p.inode = e.inode
WHERE NOT (p.pid = e.pid AND p.fd = e.fd AND p.mode = e.mode)
  AND (e.mode != p.mode OR e.mode = 'rw');

-- Computed numbers are CAST so they keep INTEGER affinity: `port = '22'`
-- compares as a number, as on a table column.

-- osquery's listening_ports (osquery/tables/networking/listening_ports.cpp)
-- over process_open_sockets: every socket but an unnamed unix one and an
-- inet one with a remote port; a unix socket has port 0, socket 0, its
-- path and no address; the others their address, port and inode.
CREATE VIEW listening_ports AS
SELECT snapshot_id, pid,
       CAST(CASE WHEN family = 1 THEN 0 ELSE local_port END AS INTEGER) AS port,
       protocol, family,
       CASE WHEN family = 1 THEN NULL ELSE local_address END AS address,
       fd,
       CAST(CASE WHEN family = 1 THEN 0 ELSE socket END AS INTEGER) AS socket,
       CASE WHEN family = 1 THEN path END AS path,
       net_namespace,
       -- procsnap's own
       socket AS inode
FROM process_open_sockets
WHERE CASE family WHEN 1 THEN coalesce(path, '') != '' WHEN 2 THEN remote_port = 0
                  WHEN 10 THEN remote_port = 0 ELSE 1 END;

-- osquery's mounts (/proc/mounts of osquery's own mount namespace, the
-- host's): the mount namespace of pid 1, or of the lowest captured pid when
-- pid 1 was not captured (--pid).  statfs(2) counts are not in a snapshot.
CREATE VIEW mounts AS
SELECT m.snapshot_id AS snapshot_id, m.device AS device, NULL AS device_alias,
       m.path AS path, m.type AS type, NULL AS blocks_size, NULL AS blocks,
       NULL AS blocks_free, NULL AS blocks_available, NULL AS inodes, NULL AS inodes_free,
       m.flags AS flags,
       -- procsnap's own
       m.mount_id AS mount_id, m.parent_id AS parent_id, m.major AS major, m.minor AS minor,
       m.root AS root, m.options AS options, m.super_options AS super_options,
       m.optional_fields AS optional_fields, m.mnt_ns AS mnt_ns, m.pid AS pid
FROM process_mounts m
JOIN (SELECT snapshot_id, min(pid) AS pid FROM process_mounts GROUP BY snapshot_id) f
  ON f.snapshot_id = m.snapshot_id AND f.pid = m.pid;

-- osquery's shared_memory, from proc/sysvipc/shm (ipc/shm.c).
CREATE TABLE shared_memory (
  snapshot_id INTEGER NOT NULL,
  shmid       INTEGER,  -- column shmid
  owner_uid   INTEGER,  -- column uid
  creator_uid INTEGER,  -- column cuid
  pid         INTEGER,  -- column lpid: last shmat/shmdt
  creator_pid INTEGER,  -- column cpid
  atime       INTEGER,  -- column atime (seconds since the epoch, 0 never)
  dtime       INTEGER,
  ctime       INTEGER,
  permissions TEXT,     -- column perms as osquery's lsperms: 4 octal digits ('0600';
                        -- the first one carries SHM_DEST 1 and SHM_LOCKED 2)
  size        INTEGER,  -- bytes
  attached    INTEGER,  -- column nattch
  status      TEXT,     -- 'dest' when marked for destruction (SHM_DEST), else ''
  locked      INTEGER,  -- SHM_LOCKED: 1, else 0
  -- procsnap's own
  key         INTEGER,  -- column key (IPC_PRIVATE 0)
  gid         INTEGER,
  creator_gid INTEGER,
  rss         INTEGER,  -- bytes resident (Linux 2.6.28+)
  swap        INTEGER   -- bytes swapped
);

-- Every /proc/sys file captured: its dotted name and content (trimmed of
-- white space at both ends, as osquery); NULL when it could not be read.
CREATE TABLE sysctls (
  snapshot_id   INTEGER NOT NULL,
  name          TEXT NOT NULL,  -- path below proc/sys/ with '.' for '/': kernel.pid_max
  current_value TEXT
);

-- osquery's system_controls (sysctl_utils.cpp on Linux): no oid, no config
-- value (osquery reads /etc/sysctl.conf of the live host; not in a
-- snapshot), type always 'string'.
CREATE VIEW system_controls AS
SELECT snapshot_id, name, NULL AS oid,
       CASE WHEN instr(name, '.') > 0 THEN substr(name, 1, instr(name, '.') - 1) ELSE name END
         AS subsystem,
       current_value, NULL AS config_value, 'string' AS type, NULL AS field_name
FROM sysctls;

-- osquery's uptime, from proc/uptime (system_kv): whole seconds.
CREATE VIEW uptime AS
SELECT snapshot_id, CAST(s / 86400 AS INTEGER) AS days, CAST((s / 3600) % 24 AS INTEGER) AS hours,
       CAST((s / 60) % 60 AS INTEGER) AS minutes, CAST(s % 60 AS INTEGER) AS seconds,
       s AS total_seconds
FROM (SELECT snapshot_id, CAST(value AS INTEGER) AS s FROM system_kv
      WHERE source = 'uptime' AND key = 'uptime');

-- osquery's time, at the capture's start (snapshots.start_ns), in UTC as
-- osquery 5 reports it; local_timezone is the capturer's zone (meta.json).
CREATE VIEW time AS
SELECT snapshot_id,
       CASE CAST(strftime('%w', t, 'unixepoch') AS INTEGER)
         WHEN 0 THEN 'Sunday' WHEN 1 THEN 'Monday' WHEN 2 THEN 'Tuesday'
         WHEN 3 THEN 'Wednesday' WHEN 4 THEN 'Thursday' WHEN 5 THEN 'Friday'
         ELSE 'Saturday' END AS weekday,
       CAST(strftime('%Y', t, 'unixepoch') AS INTEGER) AS year,
       CAST(strftime('%m', t, 'unixepoch') AS INTEGER) AS month,
       CAST(strftime('%d', t, 'unixepoch') AS INTEGER) AS day,
       CAST(strftime('%H', t, 'unixepoch') AS INTEGER) AS hour,
       CAST(strftime('%M', t, 'unixepoch') AS INTEGER) AS minutes,
       CAST(strftime('%S', t, 'unixepoch') AS INTEGER) AS seconds,
       'UTC' AS timezone,
       NULL AS local_time,  -- osquery 5 no longer sets it
       coalesce(nullif(local_timezone, ''), 'UTC') AS local_timezone,
       CAST(t AS INTEGER) AS unix_time,
       -- asctime(3) of UTC plus " UTC": "Wed Jan  1 00:00:00 2025 UTC"
       substr('SunMonTueWedThuFriSat', 1 + 3 * CAST(strftime('%w', t, 'unixepoch') AS INTEGER), 3)
         || ' ' || substr('JanFebMarAprMayJunJulAugSepOctNovDec',
                          1 + 3 * (CAST(strftime('%m', t, 'unixepoch') AS INTEGER) - 1), 3)
         || printf('%3d', CAST(strftime('%d', t, 'unixepoch') AS INTEGER)) || ' '
         || strftime('%H:%M:%S %Y', t, 'unixepoch') || ' UTC' AS timestamp,
       strftime('%Y-%m-%dT%H:%M:%SZ', t, 'unixepoch') AS datetime,
       strftime('%Y-%m-%dT%H:%M:%SZ', t, 'unixepoch') AS iso_8601,
       -- procsnap's own
       start_ns
FROM (SELECT snapshot_id, start_ns / 1000000000 AS t, start_ns, local_timezone FROM snapshots);

-- procsnap/hashes.tsv (capture/hash.c): SHA-256, SHA-1 and MD5 of every
-- distinct executable of a captured process, every file it mapped
-- executable, and every body kept (exe.body, fd/N.body); one row per
-- (file, name).  Digests as 16/20/32-byte blobs; names in `strings`.
CREATE TABLE hashes (
  snapshot_id INTEGER NOT NULL,
  path_id     INTEGER,  -- strings: the file's name as the process knew it (exe link or maps
                        -- pathname, without " (deleted)")
  member_id   INTEGER,  -- strings: a body's archive path below proc/<pid>/ (exe.body,
                        -- fd/3.body: the name `paths` has for it); else NULL
  source      INTEGER,  -- 0 exe, 1 map (an executable mapping), 2 body
  pid         INTEGER,  -- the process it was first read through
  dev         INTEGER,  -- st_dev, major << 20 | minor (maps' encoding)
  inode       INTEGER,
  mtime_ns    INTEGER,  -- st_mtim
  size        INTEGER,  -- st_size; a body: the bytes kept
  digest_id   INTEGER,  -- digests (NULL: not hashed)
  status      TEXT      -- NULL hashed whole; budget (over --hash-max, not read), changed (the
                        -- file at that name is not the mapped one), truncated (a body cut at
                        -- --exe-body-max), or an errno name (ETIMEDOUT...)
);

-- The three digests of a content, once per distinct content (the same
-- memfd or library in a thousand workers).
CREATE TABLE digests (
  snapshot_id INTEGER NOT NULL,
  digest_id   INTEGER NOT NULL,
  md5         BLOB,
  sha1        BLOB,
  sha256      BLOB,
  PRIMARY KEY (snapshot_id, digest_id)
) WITHOUT ROWID;

-- osquery's hash: path, directory and the three digests in lowercase hex,
-- for what ran at capture (osquery hashes any path asked for, at query
-- time).  `directory` is the path up to its last '/' (osquery's
-- parent_path).
CREATE VIEW hash AS
SELECT h.snapshot_id AS snapshot_id,
       p.text AS path,
       CASE WHEN instr(p.text, '/') = 0 THEN NULL
            WHEN rtrim(p.text, replace(p.text, '/', '')) = '/' THEN '/'
            ELSE substr(rtrim(p.text, replace(p.text, '/', '')), 1,
                        length(rtrim(p.text, replace(p.text, '/', ''))) - 1) END AS directory,
       CASE WHEN d.md5 IS NULL THEN NULL ELSE lower(hex(d.md5)) END AS md5,
       CASE WHEN d.sha1 IS NULL THEN NULL ELSE lower(hex(d.sha1)) END AS sha1,
       CASE WHEN d.sha256 IS NULL THEN NULL ELSE lower(hex(d.sha256)) END AS sha256,
       -- procsnap's own
       CASE WHEN h.dev IS NULL THEN NULL
            ELSE printf('%02x:%02x', h.dev >> 20, h.dev & 1048575) END AS device,
       h.inode AS inode,
       CAST(h.mtime_ns / 1000000000 AS INTEGER) AS mtime,
       h.size AS size,
       h.pid AS pid,
       CASE h.source WHEN 0 THEN 'exe' WHEN 1 THEN 'map' ELSE 'body' END AS source,
       CASE WHEN m.text GLOB 'proc/*' THEN m.text ELSE 'proc/' || h.pid || '/' || m.text END
         AS member,
       h.status AS status
FROM hashes h
LEFT JOIN strings p ON p.snapshot_id = h.snapshot_id AND p.str_id = h.path_id
LEFT JOIN strings m ON m.snapshot_id = h.snapshot_id AND m.str_id = h.member_id
LEFT JOIN digests d ON d.snapshot_id = h.snapshot_id AND d.digest_id = h.digest_id;
