-- Secondary indexes of the parsed tables, created after the bulk load.
-- Keyed on pid first so `WHERE pid = 42` is a point query (DESIGN 8) with
-- or without a snapshot_id, also through the UNION ALL views of `query`
-- over several snapshots.
CREATE INDEX processes_pid ON processes(pid, snapshot_id);
CREATE INDEX process_open_sockets_pid ON process_open_sockets(pid, snapshot_id);
CREATE INDEX process_open_sockets_socket ON process_open_sockets(socket);
CREATE INDEX system_kv_key ON system_kv(key, source);
