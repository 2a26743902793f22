-- Environment variables of processes, the join osquery's process_envs spec
-- shows, narrowed to one variable.
-- columns: pid, key, value
-- expect: row pid={pid} key=PS_SUITE_MARK value=osquery suite
SELECT pe.pid, pe.key, pe.value
FROM process_envs AS pe, (SELECT * FROM processes) AS p
WHERE p.pid = pe.pid AND pe.key = 'PS_SUITE_MARK';
