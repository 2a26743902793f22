-- id: traced
-- severity: medium
-- title: Process under ptrace
-- description: TracerPid is not 0 for the process or one of its threads: another process is
--   attached with ptrace and can read and write its memory and registers (debugger,
--   strace, or code injection).  The tracer is named when it was captured.
-- reference: /proc/PID/status TracerPid (proc(5)); Velociraptor Linux.Persistence.LdPreload parses it
-- attack: T1055.008
WITH t AS (
  SELECT snapshot_id, pid, tracer_pid AS tracer FROM processes WHERE tracer_pid != 0
  UNION
  SELECT snapshot_id, pid, tracer_pid FROM threads WHERE tracer_pid != 0
)
SELECT t.snapshot_id, t.pid, p.name,
       'traced by pid ' || t.tracer || coalesce(' (' || tp.name || ')', ' (not captured)') ||
         CASE WHEN p.tracer_pid IS t.tracer THEN '' ELSE ', some threads only' END AS detail,
       t.tracer AS tracer_pid, tp.name AS tracer_name
FROM t
LEFT JOIN processes p ON p.snapshot_id = t.snapshot_id AND p.pid = t.pid
LEFT JOIN processes tp ON tp.snapshot_id = t.snapshot_id AND tp.pid = t.tracer
ORDER BY t.snapshot_id, t.pid, t.tracer;
