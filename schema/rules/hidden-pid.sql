-- id: hidden-pid
-- severity: high
-- title: Process hidden from the /proc listing
-- description: The pid answered stat("/proc/N") but was absent from the /proc directory
--   listing (and is no thread of a listed process): a rootkit hiding it from ps and top.
-- reference: UAC hidden_pids_for_ps_command; osquery-defense-kit pid-hidden-by-rootkit.sql
-- attack: T1014, T1564
SELECT c.snapshot_id, c.pid, p.name,
       'absent from the /proc listing' || coalesce(', exe ' || nullif(p.path, ''), '') ||
         coalesce(', cmdline ' || nullif(p.cmdline, ''), '') AS detail,
       p.path AS exe
FROM capture_processes c
LEFT JOIN processes p ON p.snapshot_id = c.snapshot_id AND p.pid = c.pid
WHERE c.hidden = 1
ORDER BY c.snapshot_id, c.pid;
