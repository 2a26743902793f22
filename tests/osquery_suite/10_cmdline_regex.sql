-- A value out of the command line with osquery's regex_match.
-- columns: pid, mark
-- expect: row pid={pid} mark=suite
SELECT pid, regex_match(cmdline, '--mark=(\w+)', 1) AS mark
FROM processes
WHERE cmdline LIKE '%--mark=%';
