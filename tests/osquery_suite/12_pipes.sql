-- Pipes and the process at their other end (process_open_pipes example):
-- here a process talking to itself.
-- columns: pid, fd, mode, partner_pid, partner_fd, partner_mode
-- expect: row pid={pid} fd={pipe_r} mode=r partner_pid={pid} partner_fd={pipe_w} partner_mode=w
SELECT pid, fd, mode, partner_pid, partner_fd, partner_mode
FROM process_open_pipes
WHERE pid = partner_pid;
