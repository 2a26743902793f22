-- Hashes by name, with the directory osquery derives (the hash spec's
-- path and directory examples).
-- columns: path, directory, md5, sha1, sha256
-- expect: row path={exe} directory={exe_dir} sha256={exe_sha256}
SELECT path, directory, md5, sha1, sha256 FROM hash WHERE path LIKE '%/victim';
