-- id: pid-unreachable
-- severity: high
-- title: Process named by another one but not reachable in /proc
-- description: A pid that a captured process names - in a task/<tid>/children file (the
--   kernel's own list of that thread's children) or as its parent (stat field 4) - that
--   no lookup of /proc/<pid> reached, and that is still named so, and still not found,
--   when re-checked at the end of the capture (so not a process that merely exited).  A
--   rootkit hiding a process from lookups as well as from the listing; hidden-pid covers
--   the pids a lookup does reach.
-- reference: volatility3 linux.pslist vs linux.pstree (parent/child links as a second view); osquery-defense-kit parent-pid-missing-from-procfs.sql; proc(5) /proc/pid/task/tid/children
-- attack: T1014, T1564
SELECT c.snapshot_id, c.pid, NULL AS name,
       CASE WHEN c.named_view = 'parent'
            THEN 'the parent (stat field 4) of pid ' || c.named_by
            ELSE 'named in /proc/' || c.named_by || '/task/' || c.named_by_tid || '/children'
       END ||
         coalesce(' (' || p.name || coalesce(', exe ' || nullif(p.path, ''), '') || ')', '') ||
         ' but /proc/' || c.pid || ' does not resolve (re-checked); views: ' ||
         coalesce(c.views, '') AS detail,
       c.named_by, c.named_view, c.seen_by
FROM pid_census c
LEFT JOIN processes p ON p.snapshot_id = c.snapshot_id AND p.pid = c.named_by
WHERE c.unreachable = 1
ORDER BY c.snapshot_id, c.pid;
