-- The first octet of each listening IPv4 address, with osquery's split.
-- columns: pid, first_octet, port
-- expect: row pid={pid} first_octet=127 port={port}
SELECT pid, split(local_address, '.', 0) AS first_octet, local_port AS port
FROM process_open_sockets
WHERE family = 2 AND state = 'LISTEN';
