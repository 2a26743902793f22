-- id: census-mismatch
-- severity: medium
-- title: Kernel process counts disagree with the /proc listing
-- description: Two counts the kernel keeps itself disagree with what the raw getdents64
--   listing of /proc shows, in every one of up to 5 census passes: the link count of /proc
--   (2 + its directories + nr_processes(), the thread groups) against the pid entries
--   listed, or loadavg's task total against the sum of every task/ link count.  A
--   readdir-hooking rootkit hides pids from the listing but not from these counters.  The
--   capture then probes every pid up to pid_max (sweep_full); the pids it finds are
--   hidden-pid findings, what it cannot find stays unexplained.  Only compared when the
--   root is the initial pid namespace's procfs; a hidepid mount as a non-root user shows
--   here too (named in the detail).
-- reference: volatility3 linux.pidhashtable / psxview (cross-view of pid sources); UAC hidden_pids_for_ps_command; fs/proc/root.c proc_root_getattr
-- attack: T1014, T1564
WITH c AS (
  SELECT snapshot_id,
         max(CASE WHEN key = 'comparable' THEN value END) AS comparable,
         max(CASE WHEN key = 'thread_groups_nlink' THEN value END) AS tg_nlink,
         max(CASE WHEN key = 'thread_groups_listed' THEN value END) AS tg_listed,
         max(CASE WHEN key = 'threads_loadavg' THEN value END) AS th_loadavg,
         max(CASE WHEN key = 'threads_task' THEN value END) AS th_task,
         max(CASE WHEN key = 'attempts' THEN value END) AS attempts,
         max(CASE WHEN key = 'sweep_full' THEN value END) AS sweep_full,
         max(CASE WHEN key = 'sweep_to' THEN value END) AS sweep_to,
         max(CASE WHEN key = 'sweep_found' THEN value END) AS sweep_found,
         max(CASE WHEN key = 'sweep_ns' THEN value END) AS sweep_ns,
         max(CASE WHEN key = 'root_options' THEN text END) AS root_options
  FROM system_kv WHERE source = 'census'
  GROUP BY snapshot_id
)
SELECT c.snapshot_id, NULL AS pid, NULL AS name,
       'kernel counts ' || c.tg_nlink || ' thread groups (/proc link count), the listing has ' ||
         c.tg_listed || '; ' || c.th_loadavg || ' tasks (loadavg), ' || c.th_task ||
         ' in task/ listings; ' || c.attempts || ' census passes; sweep to pid ' ||
         coalesce(c.sweep_to, '?') || ' found ' || coalesce(c.sweep_found, '?') ||
         ' hidden pid(s) in ' || coalesce(c.sweep_ns / 1000000, '?') || ' ms' ||
         CASE WHEN c.root_options GLOB '*hidepid=*' THEN ' (the proc root has hidepid: ' ||
              c.root_options || ')' ELSE '' END AS detail,
       c.tg_nlink AS thread_groups_nlink, c.tg_listed AS thread_groups_listed,
       c.th_loadavg AS threads_loadavg, c.th_task AS threads_task, c.sweep_found
FROM c
WHERE c.comparable = 1 AND (c.tg_nlink != c.tg_listed OR c.th_loadavg != c.th_task)
ORDER BY c.snapshot_id;
