-- id: exec-anon-mapping
-- severity: medium
-- title: Executable anonymous memory
-- description: A mapping that is executable but not writable and backed by no file
--   (anonymous, [heap], [stack], [anon:NAME]; not [vdso], [vvar], [vsyscall], [uprobes]):
--   code that was written somewhere writable and then made executable with mprotect -
--   shellcode loaders and reflective loaders keep W^X this way.  rwx mappings are
--   rwx-anon-mapping.  Processes whose exe is a known JIT runtime (ref_jit_runtimes,
--   schema/30_ir_reference.sql) are left out (jit-exec-memory).  One finding per
--   process: count, size, first address.
-- reference: volatility3 linux.malfind (VMA executable, not file-backed); osquery process_memory_map
-- attack: T1055, T1620
WITH m AS (
  SELECT m.*, p.name AS pname,
         substr(p.path, length(rtrim(p.path, replace(p.path, '/', ''))) + 1) AS exe_base
  FROM process_memory_map m
  LEFT JOIN processes p ON p.snapshot_id = m.snapshot_id AND p.pid = m.pid
  WHERE m.permissions GLOB '??x*' AND m.permissions NOT GLOB 'rwx*'
    AND (coalesce(m.path, '') = ''
         OR (m.pseudo = 1 AND m.path NOT IN ('[vdso]', '[vvar]', '[vvar_vclock]', '[vsyscall]',
                                              '[uprobes]')))
)
SELECT m.snapshot_id, m.pid, m.pname AS name,
       count(*) || ' executable anonymous mapping' || CASE WHEN count(*) > 1 THEN 's' ELSE '' END ||
         ', ' || sum(coalesce(m.size_kb, (m.end_addr - m.start_addr) / 1024)) || ' kB, first at ' ||
         min(m.start) || ' ' || min(m.permissions) ||
         CASE WHEN max(m.pseudo) = 1 THEN ' (incl. ' || max(m.path) || ')' ELSE '' END AS detail,
       count(*) AS mappings, sum(coalesce(m.size_kb, (m.end_addr - m.start_addr) / 1024)) AS size_kb,
       min(m.start) AS first
FROM m
WHERE NOT EXISTS (SELECT 1 FROM ref_jit_runtimes j WHERE m.exe_base GLOB j.pattern)
GROUP BY m.snapshot_id, m.pid
ORDER BY m.snapshot_id, m.pid;
