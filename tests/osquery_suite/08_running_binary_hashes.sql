-- SHA-256 of what runs: processes joined to hash on the executable's path.
-- columns: pid, name, path, sha256
-- expect: row pid={pid} name=victim sha256={exe_sha256}
SELECT p.pid, p.name, p.path, h.sha256
FROM processes AS p
JOIN hash AS h ON h.path = p.path
WHERE p.name = 'victim';
