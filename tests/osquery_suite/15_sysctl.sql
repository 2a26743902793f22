-- One kernel setting (system_controls).
-- columns: name, subsystem, current_value
-- expect: row name=kernel.pid_max subsystem=kernel current_value={pid_max}
SELECT name, subsystem, current_value FROM system_controls WHERE name = 'kernel.pid_max';
