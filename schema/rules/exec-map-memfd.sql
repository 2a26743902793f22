-- id: exec-map-memfd
-- severity: high
-- title: Code mapped from a memfd
-- description: An executable mapping of a memfd ("/memfd:NAME (deleted)") other than the
--   process's own exe: a library that never existed as a file, loaded from anonymous
--   memory (memfd_create + dlopen of /proc/self/fd/N) - fileless in-memory loading.  Its
--   bytes can be read from the memfd (fd/N.body when the process still holds it) or with
--   --suspicious-pages.  One finding per process and memfd.
-- reference: Velociraptor Linux.Detection.MemFD; aquasecurity/tracee TRC-5; volatility3 linux.malfind
-- attack: T1620, T1027.011
SELECT m.snapshot_id, m.pid, p.name, min(m.raw_path) AS detail, min(m.raw_path) AS file,
       count(*) AS mappings, min(m.start) AS first
FROM process_memory_map m
LEFT JOIN processes p ON p.snapshot_id = m.snapshot_id AND p.pid = m.pid
WHERE m.permissions GLOB '??x*' AND m.raw_path GLOB '/memfd:*'
  AND m.raw_path IS NOT p.path AND m.raw_path IS NOT (p.path || ' (deleted)')
GROUP BY m.snapshot_id, m.pid, m.raw_path
ORDER BY m.snapshot_id, m.pid, m.raw_path;
