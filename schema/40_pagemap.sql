-- procsnap index: page residency totals per process (issue 4).
-- The per-mapping counts are columns of process_memory_map (pages, present,
-- swapped, file_or_shared, exclusive, soft_dirty, pfn_visible), filled from
-- proc/<pid>/pagemap.sections (format: schema/pagemap.md).  A mapping's
-- counts are NULL when pagemap was not captured (--no-pagemap, unreadable,
-- kernel thread) or the mapping lies past a --pagemap-max cut; soft_dirty is
-- NULL unless the kernel tracks it (CONFIG_MEM_SOFT_DIRTY): never "clean".
CREATE VIEW process_pagemap_totals AS
SELECT m.snapshot_id AS snapshot_id,
       m.pid AS pid,
       count(*)              AS mappings,        -- rows of process_memory_map
       count(i.pages)        AS mappings_counted, -- of those, with pagemap counts
       sum(i.pages)          AS pages,
       sum(i.present)        AS present,
       sum(i.swapped)        AS swapped,
       sum(i.file_or_shared) AS file_or_shared,
       sum(i.exclusive)      AS exclusive,
       sum(i.soft_dirty)     AS soft_dirty,      -- NULL when not tracked
       max(i.pfn_visible)    AS pfn_visible
FROM maps m
JOIN map_info i ON i.snapshot_id = m.snapshot_id AND i.map_id = m.map_id
GROUP BY m.snapshot_id, m.pid;
