-- id: rwx-anon-mapping
-- severity: medium
-- title: Writable and executable anonymous memory
-- description: A mapping that is readable, writable and executable at once and backed by no
--   file (anonymous, or a pseudo region such as [heap] or [stack]): where injected or
--   unpacked code runs.  JIT engines (Java, some JavaScript and regex engines) also make
--   such mappings: processes whose exe is a known JIT runtime (ref_jit_runtimes,
--   schema/30_ir_reference.sql) are left out (jit-exec-memory).  One finding per process:
--   count and total size.
-- reference: volatility3 linux.malfind (vma.is_suspicious); osquery process_memory_map.permissions
-- attack: T1055, T1620
SELECT m.snapshot_id, m.pid, p.name,
       count(*) || ' rwx anonymous mapping' || CASE WHEN count(*) > 1 THEN 's' ELSE '' END ||
         ', ' || sum(coalesce(m.size_kb, (m.end_addr - m.start_addr) / 1024)) || ' kB, first at ' ||
         min(m.start) || CASE WHEN max(m.pseudo) = 1 THEN ' (incl. ' || max(m.path) || ')' ELSE '' END
         AS detail,
       count(*) AS mappings,
       sum(coalesce(m.size_kb, (m.end_addr - m.start_addr) / 1024)) AS size_kb
FROM process_memory_map m
LEFT JOIN processes p ON p.snapshot_id = m.snapshot_id AND p.pid = m.pid
WHERE m.permissions GLOB 'rwx*'
  AND (coalesce(m.path, '') = '' OR m.pseudo = 1)
  AND NOT EXISTS (SELECT 1 FROM ref_jit_runtimes j
                  WHERE substr(p.path, length(rtrim(p.path, replace(p.path, '/', ''))) + 1)
                        GLOB j.pattern)
GROUP BY m.snapshot_id, m.pid
ORDER BY m.snapshot_id, m.pid;
