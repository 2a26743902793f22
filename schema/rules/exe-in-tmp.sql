-- id: exe-in-tmp
-- severity: high
-- title: Executable under a world-writable temporary directory
-- description: The process's exe is under /tmp, /var/tmp, /dev/shm or /run/shm, where any
--   user can drop a file and where droppers unpack their payload.  (Builds and tests run
--   from /tmp show here too.)
-- reference: osquery-defense-kit unexpected-tmp-executables-linux.sql, unexpected-dev-executables-linux.sql; tracee TRC-5
-- attack: T1036.005, T1204.002
SELECT p.snapshot_id, p.pid, p.name,
       p.path || CASE WHEN p.exe_deleted = 1 THEN ' (deleted)' ELSE '' END AS detail,
       p.path AS exe
FROM processes p
WHERE coalesce(p.kthread, 0) = 0
  AND (p.path GLOB '/tmp/*' OR p.path GLOB '/var/tmp/*' OR p.path GLOB '/dev/shm/*'
       OR p.path GLOB '/run/shm/*')
ORDER BY p.snapshot_id, p.pid;
