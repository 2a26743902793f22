-- Secondary indexes, created after the bulk load (faster than maintaining
-- them row by row).
CREATE INDEX files_path ON files(snapshot_id, path);
CREATE INDEX files_pid ON files(snapshot_id, pid);
CREATE INDEX capture_processes_pid ON capture_processes(snapshot_id, pid);
