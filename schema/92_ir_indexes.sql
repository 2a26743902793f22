-- Secondary indexes of the issue 11 tables (20_ir.sql), after the bulk load.
CREATE INDEX socket_inodes_inode ON socket_inodes(inode);
CREATE INDEX pid_census_pid ON pid_census(pid, snapshot_id);
CREATE INDEX bpf_objects_pid ON bpf_objects(pid, snapshot_id);
CREATE INDEX process_cow_pages_pid ON process_cow_pages(pid, snapshot_id, map_start);
CREATE INDEX process_mem_sections_pid ON process_mem_sections(pid, snapshot_id);
