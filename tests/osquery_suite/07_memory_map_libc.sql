-- Executable mappings of the C library (process_memory_map example, with a
-- path filter).
-- columns: pid, start, end, permissions, path, pseudo
-- expect: rows>=1
-- expect: row pid={pid} pseudo=0
SELECT pid, start, "end", permissions, path, pseudo
FROM process_memory_map
WHERE path LIKE '%/libc%' AND permissions LIKE '__x_'
  AND pid IN (SELECT pid FROM processes WHERE name = 'victim');
