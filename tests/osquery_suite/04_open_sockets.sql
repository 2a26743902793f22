-- Every inet socket of a process, with its state (process_open_sockets
-- example, osquery specs).
-- columns: pid, fd, socket, family, protocol, local_address, local_port, remote_port, state, path
-- expect: row pid={pid} fd={sock_fd} protocol=6 local_port={port} remote_port=0 state=LISTEN path=
SELECT pid, fd, socket, family, protocol, local_address, local_port, remote_port, state, path
FROM process_open_sockets
WHERE family IN (2, 10)
  AND pid IN (SELECT pid FROM processes WHERE name = 'victim');
