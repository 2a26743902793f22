-- id: masked-pid
-- severity: high
-- title: /proc/<pid> masked by a mount
-- description: Something is mounted over /proc/<pid> (or a file in it): a bind mount of
--   another pid's directory or a tmpfs shows ps and top a decoy instead of the process.
--   Found in procsnap's own mountinfo (how = mount), by the pid directory's device (device)
--   or by a stat that names another pid (identity).  The real directory is read through a
--   private procfs instance that procsnap creates and attaches nowhere (route =
--   private-procfs: exe and cmdline in the detail are the real ones); without
--   CAP_SYS_ADMIN (or before Linux 5.2) nothing of the process is captured (route none).
-- reference: MITRE ATT&CK T1564.013 Bind Mounts; fs/proc/base.c; fsopen(2), fsmount(2)
-- attack: T1564.013, T1014
SELECT m.snapshot_id, m.pid, p.name,
       '/proc/' || m.pid || ' masked (' || m.how || coalesce(': ' || m.mount, '') || '); ' ||
         CASE m.route
           WHEN 'private-procfs' THEN 'real process read through a private procfs: exe ' ||
             coalesce(nullif(p.path, ''), '?') || ', cmdline ' || quote(coalesce(p.cmdline, ''))
           ELSE 'real process not captured (no private procfs instance)' END AS detail,
       m.how, m.route, m.mount, p.path AS exe
FROM masked_pids m
LEFT JOIN processes p ON p.snapshot_id = m.snapshot_id AND p.pid = m.pid
ORDER BY m.snapshot_id, m.pid;
