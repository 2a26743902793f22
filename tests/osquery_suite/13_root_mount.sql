-- The root file system (mounts).
-- columns: device, path, type, flags
-- expect: rows=1
SELECT device, path, type, flags FROM mounts WHERE path = '/';
