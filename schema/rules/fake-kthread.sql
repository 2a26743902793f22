-- id: fake-kthread
-- severity: high
-- title: User process disguised as a kernel thread
-- description: A process that is not a kernel thread (status Kthread / PF_KTHREAD unset)
--   but whose command line is in brackets, as ps shows kernel threads ("[kworker/0:1]"),
--   or whose name is a kernel thread's (kworker, ksoftirqd, kthreadd, migration/N...).
-- reference: Velociraptor Linux.ExtractKthread (velociraptor-docs PR #896); osquery-defense-kit unusual-process-name-linux.sql
-- attack: T1036.004, T1036.005
SELECT p.snapshot_id, p.pid, p.name,
       'not a kernel thread: name ' || quote(p.name) || ', cmdline ' || quote(p.cmdline) ||
         coalesce(', exe ' || nullif(p.path, ''), '') AS detail,
       p.path AS exe
FROM processes p
WHERE p.kthread = 0
  AND (p.cmdline GLOB '[[]*]*'
       OR p.name GLOB '[[]*'
       OR p.name GLOB 'kworker/*' OR p.name GLOB 'ksoftirqd/*' OR p.name = 'kthreadd'
       OR p.name GLOB 'migration/*' OR p.name GLOB 'rcu_[a-z]*' OR p.name GLOB 'cpuhp/*'
       OR p.name GLOB 'kswapd[0-9]*' OR p.name GLOB 'kcompactd[0-9]*' OR p.name GLOB 'jbd2/*'
       OR p.name GLOB 'irq/[0-9]*' OR p.name GLOB 'watchdog/*' OR p.name = 'khugepaged'
       OR p.name = 'kdevtmpfs' OR p.name = 'kauditd' OR p.name = 'oom_reaper'
       OR p.name = 'ksmd')
ORDER BY p.snapshot_id, p.pid;
