-- id: exec-map-deleted
-- severity: low
-- title: Code mapped from a deleted file
-- description: An executable mapping whose file was deleted (" (deleted)", not a memfd and
--   not the process's own exe): a payload removed after it was loaded - or, far more
--   often, a library replaced by a package upgrade while the process kept running (hence
--   low; a path under /tmp or /dev/shm is also exec-map-tmp).  One finding per process and
--   file.
-- reference: UAC deleted.yaml; Velociraptor Linux.Sys.Maps Deleted
-- attack: T1070.004, T1620
SELECT m.snapshot_id, m.pid, p.name, min(m.raw_path) AS detail, min(m.raw_path) AS file,
       count(*) AS mappings
FROM process_memory_map m
LEFT JOIN processes p ON p.snapshot_id = m.snapshot_id AND p.pid = m.pid
WHERE m.permissions GLOB '??x*' AND m.deleted = 1 AND m.raw_path NOT GLOB '/memfd:*'
  AND m.raw_path IS NOT (p.path || ' (deleted)')
GROUP BY m.snapshot_id, m.pid, m.raw_path
ORDER BY m.snapshot_id, m.pid, m.raw_path;
