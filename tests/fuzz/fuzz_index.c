/*
 * fuzz_index.c - libFuzzer harness for opening an index (store.h
 * ps_index_open): the input bytes are written as an index file, opened as
 * every command opens an index (defensive, immutable, schema compared with
 * procsnap's own), and, when that succeeds, the snapshots and processes
 * tables are read row by row, every column as text.  Besides "no crash, no
 * sanitizer report, no leak", a failure must come with a message.
 *
 * Seeds: indexes built from samples/ (see .ci/run).  tests/test_index_malformed.c
 * includes this file with PS_FUZZ_DRIVER_ONLY defined to run the same driver
 * over mutated indexes without libFuzzer.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

/* Rows read per table: enough to walk a real sample, bounded for speed. */
#define FZ_MAX_ROWS 2000

static char fz_path[4096];

static void fz_unlink(void)
{
	if (fz_path[0])
		unlink(fz_path);
}

/* A scratch file for the index bytes ($TMPDIR or /tmp), made once and
 * removed at exit. */
static const char *fz_file(void)
{
	if (!fz_path[0]) {
		const char *t = getenv("TMPDIR");
		snprintf(fz_path, sizeof(fz_path), "%s/fuzz-index-XXXXXX", t && *t ? t : "/tmp");
		int fd = mkstemp(fz_path);
		if (fd < 0)
			abort();
		close(fd);
		atexit(fz_unlink);
	}
	return fz_path;
}

static void fz_read_table(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return;
	int n = 0;
	while (n++ < FZ_MAX_ROWS && sqlite3_step(q) == SQLITE_ROW) {
		for (int c = 0; c < sqlite3_column_count(q); c++) {
			const unsigned char *t = sqlite3_column_text(q, c);
			int len = sqlite3_column_bytes(q, c);
			if (t && (len < 0 || strlen((const char *)t) > (size_t)len))
				abort(); /* SQLite's text contract */
		}
	}
	sqlite3_finalize(q);
}

/* One input: 0 if the index opened, 1 if it was refused (message set). */
int fz_index_one(const uint8_t *data, size_t size)
{
	const char *path = fz_file();
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	if (fclose(f) != 0)
		abort();
	sqlite3 *db = NULL;
	struct ps_err err = {0, ""};
	if (ps_index_open(path, &db, &err) < 0) {
		if (!err.msg[0])
			abort(); /* a refusal says why */
		return 1;
	}
	fz_read_table(db, "SELECT * FROM snapshots");
	fz_read_table(db, "SELECT * FROM processes");
	sqlite3_close(db);
	return 0;
}

#ifndef PS_FUZZ_DRIVER_ONLY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_index_one(data, size);
	return 0;
}
#endif
