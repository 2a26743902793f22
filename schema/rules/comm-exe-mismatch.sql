-- id: comm-exe-mismatch
-- severity: low
-- title: Process name does not match its executable
-- description: The name (comm) is neither the start of the exe's file name (comm keeps 15
--   bytes) nor found in the command line, and the exe is no interpreter or multi-call
--   binary (ref_interpreters, schema/30_ir_reference.sql: scripts get the script's name,
--   busybox applets and symlinks the link's).  A
--   process renamed with prctl(PR_SET_NAME) or exec'ed under a misleading name.
--   Kernel threads and memfd executables are left out.  Some programs rename
--   themselves on purpose, hence low.
-- reference: osquery-defense-kit name_path_mismatch.sql
-- attack: T1036.005, T1036.004
WITH x AS (
  SELECT p.snapshot_id, p.pid, p.name, p.path, p.cmdline,
         substr(p.path, length(rtrim(p.path, replace(p.path, '/', ''))) + 1) AS base
  FROM processes p
  WHERE coalesce(p.kthread, 0) = 0
    AND coalesce(p.name, '') != '' AND coalesce(p.path, '') != ''
    AND p.path NOT GLOB '/memfd:*'
)
SELECT x.snapshot_id, x.pid, x.name,
       'name ' || quote(x.name) || ', exe ' || x.path AS detail,
       x.path AS exe, x.base AS exe_name
FROM x
WHERE substr(CAST(x.base AS BLOB), 1, length(CAST(x.name AS BLOB))) != CAST(x.name AS BLOB)
  AND instr(CAST(coalesce(x.cmdline, '') AS BLOB), CAST(x.name AS BLOB)) = 0
  AND NOT EXISTS (SELECT 1 FROM ref_interpreters r WHERE x.base GLOB r.pattern)
ORDER BY x.snapshot_id, x.pid;
