-- Secondary indexes, created after the bulk load (faster than maintaining
-- them row by row).  Only where a measured query needs one (bench/).
-- A path is looked up by name (cat, ls of one path, diff of one file).
CREATE INDEX strings_text ON strings(text, snapshot_id);
CREATE INDEX capture_processes_pid ON capture_processes(snapshot_id, pid);
