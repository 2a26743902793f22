-- id: argv0-masquerade
-- severity: medium
-- title: argv[0] names another program than the executable
-- description: The file name in argv[0] (the command line up to the first space or ':',
--   as setproctitle titles read "sshd: user@pts/0"; a login shell's '-' dropped) is not
--   the exe's file name nor a prefix of it either way ("python3" for python3.11), and an
--   absolute argv[0] does not resolve to the exe itself in the process's own root
--   (argv0_is_exe, compared by device and inode at capture, so symlinks such as
--   /usr/bin/vi -> vim.basic pass).  A binary started as "sshd", "[kworker]" or
--   "/usr/sbin/cron" to blend in.  Interpreters and multi-call binaries
--   (ref_interpreters), kernel threads and argv[0] under /proc (re-exec through
--   /proc/self/exe) are left out.  The detail gives all three names: argv[0], exe, comm.
-- reference: volatility3 linux.pslist (comm vs exe vs argv, "process_spoofing"); osquery-defense-kit name_path_mismatch.sql
-- attack: T1036.005, T1036.004
WITH x AS (
  SELECT p.snapshot_id, p.pid, p.name, p.path, p.cmdline, p.argv0_is_exe,
         substr(p.path, length(rtrim(p.path, replace(p.path, '/', ''))) + 1) AS exe_base,
         CASE WHEN instr(p.cmdline, ' ') > 0 THEN substr(p.cmdline, 1, instr(p.cmdline, ' ') - 1)
              ELSE p.cmdline END AS a0
  FROM processes p
  WHERE coalesce(p.kthread, 0) = 0 AND coalesce(p.cmdline, '') != ''
    AND coalesce(p.path, '') != '' AND p.path NOT GLOB '/memfd:*'
),
y AS (
  SELECT x.*,
         ltrim(substr(rtrim(a0, ':'), length(rtrim(rtrim(a0, ':'), replace(rtrim(a0, ':'), '/', ''))) + 1), '-')
           AS a0_base
  FROM x
)
SELECT y.snapshot_id, y.pid, y.name,
       'argv[0] ' || quote(y.a0) || ' names ' || quote(y.a0_base) || ', exe ' || y.path ||
         ', comm ' || quote(y.name) ||
         CASE y.argv0_is_exe WHEN 0 THEN ' (argv[0] is another file or none)' ELSE '' END AS detail,
       y.a0 AS argv0, y.exe_base AS exe_name
FROM y
WHERE y.a0_base != '' AND y.a0 NOT GLOB '/proc/*' AND y.a0 NOT GLOB '[[]*'
  AND y.argv0_is_exe IS NOT 1
  AND substr(CAST(y.exe_base AS BLOB), 1, length(CAST(y.a0_base AS BLOB))) != CAST(y.a0_base AS BLOB)
  AND substr(CAST(y.a0_base AS BLOB), 1, length(CAST(y.exe_base AS BLOB))) != CAST(y.exe_base AS BLOB)
  AND NOT EXISTS (SELECT 1 FROM ref_interpreters r WHERE y.exe_base GLOB r.pattern)
ORDER BY y.snapshot_id, y.pid;
