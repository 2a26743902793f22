-- Secondary indexes of the parsed tables, created after the bulk load.
-- Keyed on pid first so `WHERE pid = 42` is a point query (DESIGN 8) with
-- or without a snapshot_id, also through the UNION ALL views of `query`
-- over several snapshots.
-- processes_pid carries name: a join of processes to another table by pid
-- that groups by name (processes x open files, issue 9) reads the index
-- alone, not a table row per joined row.
CREATE INDEX processes_pid ON processes(pid, snapshot_id, name);
-- processes_name: a join of processes to another table by pid that groups
-- by name (processes x open files, issue 9) reads the processes in name
-- order and each one's rows by pid, and needs no sort: at N=10,000 the
-- sort held the 80k joined rows (3 MiB of fresh memory: 750 page faults,
-- ~13 ms on a VM where one costs 18 us).  ~25 bytes a process.
CREATE INDEX processes_name ON processes(name, pid, snapshot_id);
-- fds_open: the open files alone (osquery's process_open_files, 40% of the
-- fds), open_file included so the index covers a count or a join on pid:
-- processes x open files at N=10,000 reads 80k index entries, not 200k
-- table rows (45 -> 36 ms in sqlite3); ~9 bytes an open file.
CREATE INDEX fds_open ON fds(pid, snapshot_id, open_file) WHERE open_file = 1;
CREATE INDEX process_open_sockets_pid ON process_open_sockets(pid, snapshot_id);
CREATE INDEX process_open_sockets_socket ON process_open_sockets(socket);
CREATE INDEX system_kv_key ON system_kv(key, source);
