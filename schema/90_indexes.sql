-- Secondary indexes, created after the bulk load (faster than maintaining
-- them row by row).  Only where a measured query needs one (bench/).
-- A path is looked up by name (cat, ls of one path, diff of one file):
-- only the names are indexed (queries add "is_name = 1").
CREATE INDEX strings_text ON strings(text, snapshot_id) WHERE is_name = 1;
CREATE INDEX capture_processes_pid ON capture_processes(snapshot_id, pid);
