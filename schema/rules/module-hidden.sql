-- id: module-hidden
-- severity: high
-- title: Kernel module missing from one of its two views
-- description: A loadable module that sysfs shows as loaded (sys/module/<name>/initstate
--   live, coming or going) but /proc/modules does not list - the module unlinked itself
--   from the module list, as rootkit modules do - or a module /proc/modules lists that has
--   no sys/module/<name> (its kobject removed).  Compared only when the snapshot holds both
--   views (proc/modules, and sys/module beside the proc root).  A module loading or
--   unloading during the capture can show once; capture again to confirm.
-- reference: volatility3 linux.hidden_modules (module list vs sysfs kobjects); sos report kernel plugin (/sys/module/*/taint); Documentation/ABI/testing/sysfs-module
-- attack: T1014, T1547.006
SELECT s.snapshot_id, NULL AS pid, s.name,
       'module ' || s.name || ' is ' || s.initstate || ' in sys/module' ||
         coalesce(' (taint ' || s.taint || ')', '') || ' but absent from /proc/modules' AS detail,
       'sysfs only' AS seen_in, s.initstate, s.taint
FROM sys_modules s
WHERE s.initstate IS NOT NULL
  AND EXISTS (SELECT 1 FROM files f
              WHERE f.snapshot_id = s.snapshot_id AND f.path = 'proc/modules' AND f.kind = 'file')
  AND NOT EXISTS (SELECT 1 FROM kernel_modules k
                  WHERE k.snapshot_id = s.snapshot_id AND k.name = s.name)
UNION ALL
SELECT k.snapshot_id, NULL, k.name,
       'module ' || k.name || ' is in /proc/modules (' || coalesce(k.status, '?') ||
         ') but has no sys/module/' || k.name,
       'proc/modules only', k.status, k.taint
FROM kernel_modules k
WHERE EXISTS (SELECT 1 FROM sys_modules s2 WHERE s2.snapshot_id = k.snapshot_id)
  AND NOT EXISTS (SELECT 1 FROM sys_modules s
                  WHERE s.snapshot_id = k.snapshot_id AND s.name = k.name)
ORDER BY 1, 3;
