-- id: deleted-exe
-- severity: high
-- title: Running executable deleted from disk
-- description: The process's exe link ends in " (deleted)", or its path does not exist
--   in the process's own mount namespace (on_disk = 0).  Malware often deletes its
--   binary after start; a package upgrade that replaced a running binary shows here too.
--   Kernel threads (no exe) and memfd executables (rule memfd-exe) are left out.
-- reference: osquery processes.on_disk; Velociraptor Linux.Sys.Pslist Deleted; UAC deleted.yaml
-- attack: T1070.004
SELECT p.snapshot_id, p.pid, p.name,
       coalesce(p.path, '?') ||
         CASE WHEN p.exe_deleted = 1 THEN ' (deleted)'
              ELSE ' (not found in its mount namespace)' END AS detail,
       p.path AS exe, p.exe_deleted, p.on_disk
FROM processes p
WHERE (p.exe_deleted = 1 OR p.on_disk = 0)
  AND coalesce(p.kthread, 0) = 0
  AND coalesce(p.path, '') NOT GLOB '/memfd:*'
ORDER BY p.snapshot_id, p.pid;
