-- id: partial-capture
-- severity: info
-- title: Process captured only in part
-- description: The process exited while it was being captured, or some of its paths
--   failed with ESRCH: files are missing from the snapshot, so another rule may miss it.
--   Kernel threads are left out (their memory files always give ESRCH).
-- reference: DESIGN 3 (a process that exits mid-capture is marked partial, not dropped)
-- attack: none
SELECT c.snapshot_id, c.pid, p.name,
       CASE WHEN c.partial = 1 THEN 'exited during capture' ELSE 'vanished during capture' END ||
         ', ' || (SELECT count(*) FROM files f
                  WHERE f.snapshot_id = c.snapshot_id AND f.pid = c.pid
                    AND f.errno = 'ESRCH') || ' paths failed with ESRCH' AS detail
FROM capture_processes c
LEFT JOIN processes p ON p.snapshot_id = c.snapshot_id AND p.pid = c.pid
WHERE c.partial = 1 OR (p.partial = 1 AND coalesce(p.kthread, 0) = 0)
ORDER BY c.snapshot_id, c.pid;
