-- id: self-preload
-- severity: high
-- title: Code injected into procsnap itself
-- description: The capture ran with something loaded into procsnap that its executable
--   does not link: LD_PRELOAD, LD_AUDIT or LD_LIBRARY_PATH in its own environment (as the
--   kernel recorded it, /proc/self/environ), a loaded library outside the executable's
--   DT_NEEDED closure (dl_iterate_phdr), or an executable file mapping outside every
--   loaded object (/proc/self/maps).  Such code can filter what procsnap reads: treat the
--   snapshot with suspicion and capture again with the static build
--   (meta.json self.static).  procsnap reads /proc with raw syscalls (getdents64,
--   openat), which a preloaded readdir() filter does not see, but a library can hook more.
-- reference: UAC chkrootkit/hidden_etc_ld_so_preload.yaml; Velociraptor Linux.Persistence.LdPreload; ld.so(8)
-- attack: T1574.006
WITH s AS (
  SELECT snapshot_id, json_extract(meta_json, '$.self') AS self
  FROM snapshots WHERE json_valid(meta_json) AND json_type(meta_json, '$.self') = 'object'
),
v AS (
  SELECT s.snapshot_id, 0 AS k, 'environment ' || e.key || '=' || e.value AS what
  FROM s, json_each(s.self, '$.loader_env') e
  WHERE e.key IN ('LD_PRELOAD', 'LD_AUDIT', 'LD_LIBRARY_PATH')
  UNION ALL
  SELECT s.snapshot_id, 1, 'library outside the DT_NEEDED closure: ' || o.value
  FROM s, json_each(s.self, '$.foreign_objects') o
  UNION ALL
  SELECT s.snapshot_id, 2, 'executable mapping outside every loaded object: ' || m.value
  FROM s, json_each(s.self, '$.foreign_mappings') m
)
SELECT v.snapshot_id, NULL AS pid, 'procsnap' AS name,
       group_concat(v.what, '; ') ||
         CASE WHEN json_extract(s.self, '$.static') = 1 THEN ' (static build)'
              ELSE ' (dynamic build)' END AS detail
FROM v JOIN s ON s.snapshot_id = v.snapshot_id
GROUP BY v.snapshot_id
ORDER BY v.snapshot_id;
