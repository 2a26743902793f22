-- id: listener-suspicious
-- severity: high
-- title: Network listener of a deleted, memfd or temp-dir executable
-- description: A TCP/UDP socket bound to a non-loopback address (a bind shell, a C2
--   listener) held by a process whose executable is deleted, a memfd, or under /tmp,
--   /var/tmp, /dev/shm or /run/shm.
-- reference: osquery listening_ports (incident-response pack); Velociraptor Linux.Forensics.ProcFD
-- attack: T1571, T1059.004
SELECT l.snapshot_id, l.pid, p.name,
       CASE l.protocol WHEN 6 THEN 'tcp' WHEN 17 THEN 'udp' WHEN 136 THEN 'udplite'
            WHEN 255 THEN 'raw' ELSE 'proto ' || l.protocol END || ' ' ||
         CASE WHEN l.family = 10 THEN '[' || l.address || ']' ELSE l.address END || ':' ||
         l.port || ', exe ' || p.path ||
         CASE WHEN p.exe_deleted = 1 THEN ' (deleted)' ELSE '' END AS detail,
       l.protocol, l.address, l.port, p.path AS exe
FROM listening_ports l
JOIN processes p ON p.snapshot_id = l.snapshot_id AND p.pid = l.pid
WHERE l.family IN (2, 10) AND l.address IS NOT NULL
  AND l.address NOT GLOB '127.*' AND l.address != '::1' AND l.address NOT GLOB '::ffff:127.*'
  AND (p.exe_deleted = 1 OR p.on_disk = 0 OR p.path GLOB '/memfd:*'
       OR p.path GLOB '/tmp/*' OR p.path GLOB '/var/tmp/*' OR p.path GLOB '/dev/shm/*'
       OR p.path GLOB '/run/shm/*')
GROUP BY l.snapshot_id, l.pid, l.protocol, l.address, l.port
ORDER BY l.snapshot_id, l.pid, l.port;
