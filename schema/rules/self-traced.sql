-- id: self-traced
-- severity: high
-- title: procsnap was traced while it captured
-- description: procsnap's own TracerPid was not 0 when the capture started: a debugger,
--   strace or an injector was attached to it with ptrace and could read and rewrite what it
--   captured.
-- reference: proc(5) /proc/self/status TracerPid
-- attack: T1055.008
SELECT snapshot_id, NULL AS pid, 'procsnap' AS name,
       'traced by pid ' || json_extract(meta_json, '$.self.tracer_pid') AS detail,
       json_extract(meta_json, '$.self.tracer_pid') AS tracer_pid
FROM snapshots
WHERE json_valid(meta_json) AND json_extract(meta_json, '$.self.tracer_pid') > 0
ORDER BY snapshot_id;
