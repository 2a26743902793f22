-- id: cwd-in-tmp
-- severity: low
-- title: Working directory in a temporary directory
-- description: The process's cwd is /tmp, /var/tmp, /dev/shm, /run/shm or below, as for a
--   payload started where it was unpacked.  Common for builds and shells too, hence low.
-- reference: osquery-defense-kit hidden-cwd.sql, unexpected-tmp-executables-linux.sql
-- attack: T1074.001
SELECT p.snapshot_id, p.pid, p.name, 'cwd ' || p.cwd AS detail, p.cwd
FROM processes p
WHERE coalesce(p.kthread, 0) = 0
  AND (p.cwd IN ('/tmp', '/var/tmp', '/dev/shm', '/run/shm')
       OR p.cwd GLOB '/tmp/*' OR p.cwd GLOB '/var/tmp/*' OR p.cwd GLOB '/dev/shm/*'
       OR p.cwd GLOB '/run/shm/*')
ORDER BY p.snapshot_id, p.pid;
