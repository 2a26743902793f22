-- id: jit-exec-memory
-- severity: info
-- title: Executable anonymous memory of a JIT runtime
-- description: Writable+executable or executable anonymous mappings in a process whose exe
--   is a known JIT compiler (ref_jit_runtimes: Java, Node.js, browsers, .NET, LuaJIT...):
--   expected, listed for context with a lower severity than rwx-anon-mapping and
--   exec-anon-mapping, which leave these processes out.  An injected payload in a JIT
--   process hides here: compare with a baseline of the same runtime.
-- reference: volatility3 linux.malfind; schema/30_ir_reference.sql ref_jit_runtimes
-- attack: T1055, T1620
WITH m AS (
  SELECT m.*, p.name AS pname,
         substr(p.path, length(rtrim(p.path, replace(p.path, '/', ''))) + 1) AS exe_base
  FROM process_memory_map m
  JOIN processes p ON p.snapshot_id = m.snapshot_id AND p.pid = m.pid
  WHERE m.permissions GLOB '??x*'
    AND (coalesce(m.path, '') = ''
         OR (m.pseudo = 1 AND m.path NOT IN ('[vdso]', '[vvar]', '[vvar_vclock]', '[vsyscall]',
                                              '[uprobes]')))
)
SELECT m.snapshot_id, m.pid, m.pname AS name,
       (SELECT runtime FROM ref_jit_runtimes j WHERE m.exe_base GLOB j.pattern LIMIT 1) || ': ' ||
         count(*) || ' executable anonymous mapping' || CASE WHEN count(*) > 1 THEN 's' ELSE '' END ||
         ' (' || sum(m.permissions GLOB 'rwx*') || ' rwx), ' ||
         sum(coalesce(m.size_kb, (m.end_addr - m.start_addr) / 1024)) || ' kB' AS detail,
       count(*) AS mappings
FROM m
WHERE EXISTS (SELECT 1 FROM ref_jit_runtimes j WHERE m.exe_base GLOB j.pattern)
GROUP BY m.snapshot_id, m.pid
ORDER BY m.snapshot_id, m.pid;
