-- procsnap index: page residency totals per process (issue 4).
-- The per-mapping counts are columns of process_memory_map (pages, present,
-- swapped, file_or_shared, exclusive, soft_dirty, pfn_visible), filled from
-- proc/<pid>/pagemap.sections (format: schema/pagemap.md).  A mapping's
-- counts are NULL when pagemap was not captured (--no-pagemap, unreadable,
-- kernel thread) or the mapping lies past a --pagemap-max cut; soft_dirty is
-- NULL unless the kernel tracks it (CONFIG_MEM_SOFT_DIRTY): never "clean".
CREATE VIEW process_pagemap_totals AS
SELECT snapshot_id,
       pid,
       count(*)            AS mappings,        -- rows of process_memory_map
       count(pages)        AS mappings_counted, -- of those, with pagemap counts
       sum(pages)          AS pages,
       sum(present)        AS present,
       sum(swapped)        AS swapped,
       sum(file_or_shared) AS file_or_shared,
       sum(exclusive)      AS exclusive,
       sum(soft_dirty)     AS soft_dirty,      -- NULL when not tracked
       max(pfn_visible)    AS pfn_visible
FROM maps
GROUP BY snapshot_id, pid;
