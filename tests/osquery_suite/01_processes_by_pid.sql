-- The process table, one process (osquery specs/processes.table example).
-- columns: pid, name, path, cmdline, state, parent, uid, on_disk, cgroup_path
-- expect: row pid={pid} name=victim state=S on_disk=1
SELECT pid, name, path, cmdline, state, parent, uid, on_disk, cgroup_path
FROM processes
WHERE name = 'victim';
