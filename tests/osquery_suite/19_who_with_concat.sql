-- A label per process, with osquery's concat_ws (NULLs skipped).
-- columns: who
-- expect: row who=victim:{pid}
SELECT concat_ws(':', name, NULL, pid) AS who FROM processes WHERE name = 'victim';
