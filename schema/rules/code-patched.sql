-- id: code-patched
-- severity: high
-- title: Code patched in place
-- description: A private executable mapping of a file holds pages that are no longer the
--   file's: their pagemap entry is present with bit 61 (file page) clear, or swapped, so
--   they were written after being mapped - an inline hook, a patched function, a
--   breakpoint.  The pages are listed by address (process_cow_pages, from pagemap.sections;
--   procsnap capture --suspicious-pages keeps their bytes in mem.sections).  Without
--   pagemap, smaps Anonymous > 0 of such a mapping gives the same finding without
--   addresses (not Private_Dirty: the page-cache pages of a freshly written binary are
--   dirty file pages, not copies).  One finding per mapping.  Debuggers (software
--   breakpoints) and uprobes (bpftrace, perf probe) patch code too.
-- reference: volatility3 linux.malfind (private modified pages of executable VMAs); admin-guide/mm/pagemap.rst (bit 61); proc(5) smaps
-- attack: T1055, T1055.008, T1574
SELECT m.snapshot_id, m.pid, p.name,
       m.raw_path || ' ' || m.start || '-' || m."end" || ' ' || m.permissions || ': ' ||
         CASE WHEN c.pages IS NOT NULL
              THEN c.pages || ' modified page' || CASE WHEN c.pages > 1 THEN 's' ELSE '' END ||
                   ' at ' || c.addresses
              ELSE m.anonymous_kb || ' kB anonymous (smaps; no pagemap addresses)' END AS detail,
       m.start AS map_start, m.raw_path AS file, coalesce(c.pages, 0) AS pages, c.addresses,
       m.anonymous_kb
FROM process_memory_map m
LEFT JOIN process_cow_mappings c
  ON c.snapshot_id = m.snapshot_id AND c.pid = m.pid AND c.map_start = m.start
LEFT JOIN processes p ON p.snapshot_id = m.snapshot_id AND p.pid = m.pid
WHERE m.permissions GLOB '??xp' AND m.raw_path GLOB '/*'
  AND (c.pages > 0 OR m.anonymous_kb > 0)
ORDER BY m.snapshot_id, m.pid, m.start_addr;
