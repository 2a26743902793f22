-- System V shared memory segments (shared_memory).
-- columns: shmid, owner_uid, creator_pid, permissions, size, attached, status
-- expect: rows>=0
SELECT shmid, owner_uid, creator_pid, permissions, size, attached, status FROM shared_memory;
