-- Processes whose executable is gone from disk (the classic "find the shell"
-- check on processes.on_disk).
-- columns: pid, name, path
-- expect: none
SELECT pid, name, path FROM processes WHERE on_disk = 0;
