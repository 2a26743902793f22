-- id: ld-so-preload
-- severity: high
-- title: /etc/ld.so.preload is not empty
-- description: /etc/ld.so.preload lists libraries the dynamic loader injects into every
--   dynamically linked program on the host - the persistence of userland rootkits
--   (Jynx, Azazel, libprocesshider) that hide processes and files from ps, ls and netstat.
--   Read by procsnap from its own mount namespace at capture start (meta.json
--   self.ld_so_preload); lines that are blank or comments are ignored.
-- reference: UAC chkrootkit/hidden_etc_ld_so_preload.yaml, bin/linux/linux_dump_etc_ld_so_preload.sh; osquery-defense-kit unexpected-ld-so-files-linux.sql; ld.so(8)
-- attack: T1574.006, T1014
WITH RECURSIVE s AS (
  SELECT snapshot_id, json_extract(meta_json, '$.self.ld_so_preload') AS body
  FROM snapshots WHERE json_valid(meta_json)
),
lines(snapshot_id, line, rest) AS (
  SELECT snapshot_id, '', body || char(10) FROM s WHERE typeof(body) = 'text'
  UNION ALL
  SELECT snapshot_id, trim(substr(rest, 1, instr(rest, char(10)) - 1), ' ' || char(9, 13)),
         substr(rest, instr(rest, char(10)) + 1)
  FROM lines WHERE rest != ''
)
SELECT snapshot_id, NULL AS pid, NULL AS name,
       '/etc/ld.so.preload: ' || group_concat(line, ' ') AS detail,
       count(*) AS entries
FROM lines
WHERE line != '' AND line NOT GLOB '#*'
GROUP BY snapshot_id
ORDER BY snapshot_id;
