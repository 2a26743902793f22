-- id: exec-map-tmp
-- severity: medium
-- title: Code mapped from a temporary directory
-- description: An executable file mapping (a shared library, usually injected with
--   LD_PRELOAD or dlopen) whose file is under /tmp, /var/tmp, /dev/shm or /run/shm.  The
--   process's own exe is left out (rule exe-in-tmp).  One finding per process and file.
-- reference: UAC deleted.yaml; Velociraptor Linux.Sys.Maps
-- attack: T1574.006, T1129
SELECT m.snapshot_id, m.pid, p.name, min(m.raw_path) AS detail, min(m.raw_path) AS file
FROM process_memory_map m
LEFT JOIN processes p ON p.snapshot_id = m.snapshot_id AND p.pid = m.pid
WHERE m.permissions GLOB '??x*'
  AND (m.raw_path GLOB '/tmp/*' OR m.raw_path GLOB '/var/tmp/*' OR m.raw_path GLOB '/dev/shm/*'
       OR m.raw_path GLOB '/run/shm/*')
  AND m.raw_path IS NOT p.path AND m.raw_path IS NOT (p.path || ' (deleted)')
GROUP BY m.snapshot_id, m.pid, m.raw_path
ORDER BY m.snapshot_id, m.pid, m.raw_path;
