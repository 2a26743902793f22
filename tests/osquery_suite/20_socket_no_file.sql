-- Processes holding network sockets, counted against their open files under
-- /tmp (the shape of published reverse-shell checks: a shell with sockets
-- and no open files).
-- columns: pid, name, sockets, tmp_files
-- expect: row pid={pid} name=victim sockets=1 tmp_files=1
SELECT p.pid, p.name,
       (SELECT count(*) FROM process_open_sockets s WHERE s.pid = p.pid AND s.family IN (2, 10)) AS sockets,
       (SELECT count(*) FROM process_open_files f WHERE f.pid = p.pid AND f.fd > 2
          AND f.path LIKE '/tmp/%') AS tmp_files
FROM processes AS p
WHERE p.name = 'victim';
