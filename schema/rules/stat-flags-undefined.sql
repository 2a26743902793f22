-- id: stat-flags-undefined
-- severity: high
-- title: Task flags the kernel does not define
-- description: stat field 9 (task->flags) of a process or thread has a bit that
--   include/linux/sched.h of the captured kernel does not define (a PF__HOLE__ bit): the
--   kernel never sets it, so something wrote task_struct - rootkits tag the tasks they
--   hide this way (0x10000000 in Diamorphine, before the kernel took that bit; 0x01000000
--   in others).  The undefined bits per kernel version are data (ref_pf_undefined,
--   schema/30_ir_reference.sql: 6.1 to 6.18, a conservative subset where a range is
--   uncertain); other kernels are not checked.
-- reference: include/linux/sched.h PF_* (PF__HOLE__*); proc(5) /proc/pid/stat field 9; m0nad/Diamorphine
-- attack: T1014
WITH v AS (
  SELECT snapshot_id, kernel_release,
         CAST(kernel_release AS INTEGER) * 1000 +
           CAST(substr(kernel_release, instr(kernel_release, '.') + 1) AS INTEGER) AS ver
  FROM snapshots
),
k AS (
  SELECT v.snapshot_id, v.kernel_release,
         (SELECT r.mask FROM ref_pf_undefined r
          WHERE v.ver BETWEEN r.from_version AND r.to_version LIMIT 1) AS mask
  FROM v
),
t AS (
  SELECT snapshot_id, pid, NULL AS tid, name, flags FROM processes WHERE flags IS NOT NULL
  UNION ALL
  SELECT snapshot_id, pid, tid, name, flags FROM threads WHERE flags IS NOT NULL AND tid != pid
)
SELECT t.snapshot_id, t.pid, t.name,
       coalesce('thread ' || t.tid || ': ', '') ||
         printf('flags 0x%08x have 0x%08x set, undefined in Linux %s', t.flags,
                t.flags & k.mask, k.kernel_release) AS detail,
       t.tid, t.flags, t.flags & k.mask AS undefined_bits
FROM t JOIN k ON k.snapshot_id = t.snapshot_id
WHERE k.mask IS NOT NULL AND (t.flags & k.mask) != 0
ORDER BY t.snapshot_id, t.pid, t.tid;
