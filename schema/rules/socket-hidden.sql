-- id: socket-hidden
-- severity: medium
-- title: Socket held by a process but listed in no /proc/net table
-- description: An fd holds a socket of a protocol that /proc/net lists (TCP, UDP,
--   UDP-Lite, RAW, PING, UNIX, NETLINK, PACKET; v4 and v6; the protocol is the socket's own,
--   getxattr system.sockprotoname at capture) whose inode appears in no net/ table of any
--   network namespace the snapshot captured.  A rootkit filtering /proc/net/tcp (or
--   netstat/ss) hides its sockets this way; so does a socket living in a network namespace
--   that no process is in any more.  A TCP/UDP socket that is not bound yet, or was closed
--   by TCP and not yet by its owner, is in no table either: check the process.  Sockets
--   of other families (vsock, AF_ALG, XDP...) have no table and are not reported.
-- reference: osquery process_open_sockets; procsnap process_fds; Velociraptor Linux.Forensics.ProcFD; net/socket.c sockfs_xattr_get
-- attack: T1014, T1564
SELECT f.snapshot_id, f.pid, p.name,
       'fd ' || f.fd || ': ' || f.protocol || ' socket:[' || f.inode || '] is in no net/ table of ' ||
         (SELECT count(DISTINCT coalesce(s.net_namespace, -s.pid)) FROM socket_inodes s
          WHERE s.snapshot_id = f.snapshot_id) || ' captured network namespace(s)' ||
         coalesce(' (the process is in net:[' || p.net_ns || '])', '') AS detail,
       f.fd, f.inode AS socket, f.protocol
FROM process_fds f
LEFT JOIN processes p ON p.snapshot_id = f.snapshot_id AND p.pid = f.pid
WHERE f.type = 'socket'
  AND f.protocol IN ('TCP', 'TCPv6', 'UDP', 'UDPv6', 'UDP-Lite', 'UDPLITEv6', 'RAW', 'RAWv6',
                     'PING', 'PINGv6', 'UNIX', 'UNIX-STREAM', 'NETLINK', 'PACKET')
  AND EXISTS (SELECT 1 FROM socket_inodes s WHERE s.snapshot_id = f.snapshot_id)
  AND NOT EXISTS (SELECT 1 FROM socket_inodes s
                  WHERE s.snapshot_id = f.snapshot_id AND s.inode = f.inode)
ORDER BY f.snapshot_id, f.pid, f.fd;
