-- Secondary indexes, created after the bulk load (faster than maintaining
-- them row by row).
-- Keyed on the column alone so `WHERE pid = 42` needs no snapshot_id.
CREATE INDEX files_path ON files(path);
CREATE INDEX files_pid ON files(pid);
CREATE INDEX capture_processes_pid ON capture_processes(snapshot_id, pid);
