-- id: kernel-tainted
-- severity: medium
-- title: Kernel is tainted
-- description: /proc/sys/kernel/tainted is not 0.  The detail decodes the bits (O
--   out-of-tree module, E unsigned module, P proprietary module, W warning, D oops...);
--   O and E mean code the distribution did not build or sign runs in the kernel.
-- reference: UAC kernel_tainted_state.yaml; osquery-defense-kit unusually-tainted-kernel-linux.sql; Documentation/admin-guide/tainted-kernels.rst
-- attack: T1014, T1547.006
WITH RECURSIVE bit(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM bit WHERE n < 62),
names(n, flag, what) AS (VALUES
  (0, 'P', 'proprietary module'), (1, 'F', 'module force-loaded'),
  (2, 'S', 'out-of-spec system'), (3, 'R', 'module force-unloaded'),
  (4, 'M', 'machine check'), (5, 'B', 'bad page'), (6, 'U', 'taint requested by user'),
  (7, 'D', 'kernel oops or BUG'), (8, 'A', 'ACPI table overridden'),
  (9, 'W', 'kernel warning'), (10, 'C', 'staging driver'),
  (11, 'I', 'firmware bug workaround'), (12, 'O', 'out-of-tree module'),
  (13, 'E', 'unsigned module'), (14, 'L', 'soft lockup'), (15, 'K', 'live patched'),
  (16, 'X', 'auxiliary taint'), (17, 'T', 'struct randomization plugin'),
  (18, 'N', 'in-kernel test'), (19, 'J', 'fwctl debug operation')),
k AS (SELECT snapshot_id, CAST(value AS INTEGER) AS v, text FROM system_kv
      WHERE source = 'sys' AND key = 'kernel/tainted' AND CAST(value AS INTEGER) != 0)
SELECT k.snapshot_id, NULL AS pid, NULL AS name,
       'tainted = ' || k.v || ': ' ||
         (SELECT group_concat(f, ', ') FROM
            (SELECT coalesce(names.flag || ' ' || names.what, 'bit ' || bit.n) AS f
             FROM bit LEFT JOIN names ON names.n = bit.n
             WHERE (k.v >> bit.n) & 1 ORDER BY bit.n)) AS detail,
       k.v AS tainted
FROM k
ORDER BY k.snapshot_id;
