-- id: comm-exe-mismatch
-- severity: low
-- title: Process name does not match its executable
-- description: The name (comm) is neither the start of the exe's file name (comm keeps 15
--   bytes) nor found in the command line, and the exe is no interpreter or multi-call
--   binary (scripts get the script's name, busybox applets and symlinks the link's).  A
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
  AND NOT (x.base GLOB 'python*' OR x.base GLOB 'perl*' OR x.base GLOB 'ruby*'
           OR x.base GLOB 'node*' OR x.base GLOB 'php*' OR x.base GLOB 'lua*'
           OR x.base GLOB 'tclsh*' OR x.base GLOB 'wish*' OR x.base GLOB 'ksh*'
           OR x.base GLOB 'java*' OR x.base GLOB 'mono*' OR x.base GLOB 'ld-linux*'
           OR x.base GLOB 'ld-*.so*' OR x.base GLOB 'qemu-*' OR x.base GLOB 'guile*'
           OR x.base IN ('sh', 'bash', 'dash', 'zsh', 'mksh', 'tcsh', 'csh', 'fish',
                         'busybox', 'toybox', 'env', 'dotnet', 'pwsh', 'awk', 'gawk', 'mawk',
                         'Rscript', 'R', 'sbcl', 'erlexec', 'beam.smp', 'systemd', 'init'))
ORDER BY x.snapshot_id, x.pid;
