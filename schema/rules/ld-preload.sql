-- id: ld-preload
-- severity: medium
-- title: LD_PRELOAD or LD_AUDIT in the environment
-- description: The process was started with LD_PRELOAD (or LD_AUDIT) set: the dynamic
--   loader ran that library's code inside it before main().  A classic userland rootkit
--   and credential-stealer technique; also used by allocators, faketime, sandboxes.
--   Needs environ, which only root (or the owner) can read.
-- reference: Velociraptor Linux.Persistence.LdPreload; UAC chkrootkit/hidden_etc_ld_so_preload.yaml
-- attack: T1574.006
SELECT e.snapshot_id, e.pid, p.name, e.key || '=' || coalesce(e.value, '') AS detail,
       e.key, e.value
FROM process_envs e
LEFT JOIN processes p ON p.snapshot_id = e.snapshot_id AND p.pid = e.pid
WHERE e.key IN ('LD_PRELOAD', 'LD_AUDIT')
ORDER BY e.snapshot_id, e.pid, e.key;
