-- id: memfd-exe
-- severity: high
-- title: Executable running from a memfd (fileless)
-- description: The process's exe link points to a memfd ("/memfd:NAME (deleted)"): the
--   program was loaded from anonymous memory with memfd_create + fexecve and never
--   existed as a file.  A few runtimes and sandboxes do this on purpose; anything else is
--   fileless malware.
-- reference: Velociraptor Linux.Detection.MemFD; aquasecurity/tracee TRC-5
-- attack: T1620, T1027.011
SELECT p.snapshot_id, p.pid, p.name,
       p.path || CASE WHEN p.exe_deleted = 1 THEN ' (deleted)' ELSE '' END AS detail,
       p.path AS exe
FROM processes p
WHERE p.path GLOB '/memfd:*'
  AND coalesce(p.kthread, 0) = 0
ORDER BY p.snapshot_id, p.pid;
