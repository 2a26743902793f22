-- id: listener-exposed
-- severity: info
-- title: Network listener on a non-loopback address
-- description: Every TCP/UDP socket bound to an address other than loopback (0.0.0.0 and ::
--   included), with its process, for review against what the host should expose.  pid is
--   NULL when no captured process holds the socket.
-- reference: osquery listening_ports; procsnap schema/README.md listening_ports
-- attack: T1571
SELECT l.snapshot_id, nullif(l.pid, -1) AS pid, p.name,
       CASE l.protocol WHEN 6 THEN 'tcp' WHEN 17 THEN 'udp' WHEN 136 THEN 'udplite'
            WHEN 255 THEN 'raw' ELSE 'proto ' || l.protocol END || ' ' ||
         CASE WHEN l.family = 10 THEN '[' || l.address || ']' ELSE l.address END || ':' ||
         l.port || CASE WHEN l.pid = -1 THEN ' (no captured process holds it)'
                        ELSE coalesce(', exe ' || nullif(p.path, ''), '') END AS detail,
       l.protocol, l.address, l.port, l.net_namespace
FROM listening_ports l
LEFT JOIN processes p ON p.snapshot_id = l.snapshot_id AND p.pid = l.pid
WHERE l.family IN (2, 10) AND l.address IS NOT NULL
  AND l.address NOT GLOB '127.*' AND l.address != '::1' AND l.address NOT GLOB '::ffff:127.*'
GROUP BY l.snapshot_id, l.pid, l.protocol, l.address, l.port
ORDER BY l.snapshot_id, l.pid = -1, l.pid, l.port;
