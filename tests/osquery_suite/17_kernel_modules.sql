-- Loaded kernel modules (kernel_modules); none in a container is fine.
-- columns: name, size, used_by, status, address
-- expect: rows>=0
SELECT name, size, used_by, status, address FROM kernel_modules ORDER BY name;
