-- Network and mount namespace of each process (process_namespaces example).
-- columns: pid, name, net_namespace, mnt_namespace
-- expect: row pid={pid} name=victim
SELECT p.pid, p.name, n.net_namespace, n.mnt_namespace
FROM processes AS p
JOIN process_namespaces AS n USING (pid);
