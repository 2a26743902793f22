-- The files a process holds open (process_open_files example): paths only,
-- no sockets or pipes.
-- columns: pid, fd, path
-- expect: row pid={pid} fd={file_fd} path={file}
-- expect: no-row pid={pid} fd={sock_fd}
-- expect: no-row pid={pid} fd={pipe_r}
SELECT pid, fd, path FROM process_open_files
WHERE pid IN (SELECT pid FROM processes WHERE name = 'victim');
