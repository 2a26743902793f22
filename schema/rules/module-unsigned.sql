-- id: module-unsigned
-- severity: medium
-- title: Out-of-tree or unsigned kernel module
-- description: A loaded module whose /proc/modules taint flags include O (built outside the
--   kernel tree) or E (not signed, or signed with an unknown key): DKMS drivers, VirtualBox,
--   ZFS - or a rootkit module.  The module name is in the name column.
-- reference: osquery-defense-kit unexpected-kernel-modules-linux.sql; Velociraptor Linux.Proc.Modules; UAC kernel_tainted_state.yaml
-- attack: T1547.006, T1014
SELECT m.snapshot_id, NULL AS pid, m.name,
       'module ' || m.name || ' (' || m.taint || '):' ||
         CASE WHEN instr(m.taint, 'O') THEN ' out-of-tree' ELSE '' END ||
         CASE WHEN instr(m.taint, 'E') THEN ' unsigned' ELSE '' END ||
         CASE WHEN instr(m.taint, 'P') THEN ' proprietary' ELSE '' END ||
         ', size ' || coalesce(m.size, '?') || ', used by ' || coalesce(m.used_by, '?') AS detail,
       m.taint, m.size, m.used_by
FROM kernel_modules m
WHERE m.taint GLOB '*[OE]*'
ORDER BY m.snapshot_id, m.name;
