-- How long the host had been up, and when the data was taken (uptime, time).
-- columns: days, hours, minutes, seconds, total_seconds, unix_time, iso_8601
-- expect: rows=1
SELECT u.days, u.hours, u.minutes, u.seconds, u.total_seconds, t.unix_time, t.iso_8601
FROM uptime AS u, time AS t;
