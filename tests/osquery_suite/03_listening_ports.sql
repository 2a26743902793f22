-- What listens on the network, and who (listening_ports joined to processes,
-- as osquery's incident-response pack does).
-- columns: name, port, protocol, family, address
-- expect: row name=victim port={port} protocol=6 family=2 address=127.0.0.1
SELECT DISTINCT p.name, l.port, l.protocol, l.family, l.address
FROM listening_ports AS l
JOIN processes AS p USING (pid)
WHERE l.family IN (2, 10) AND l.port != 0;
