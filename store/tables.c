/*
 * tables.c - parsed index tables.  Placeholder until the parsed tables land:
 * accepts every member and writes nothing.
 */
#include "store.h"
#include "store_int.h"

#include <stdlib.h>

struct ps_tables {
	struct sqlite3 *db;
};

int ps_tables_wants(const char *path)
{
	(void)path;
	return 0;
}

struct ps_tables *ps_tables_begin(struct sqlite3 *db, struct ps_err *err)
{
	(void)err;
	struct ps_tables *t = ps_xcalloc(1, sizeof(*t));
	t->db = db;
	return t;
}

int ps_tables_member(struct ps_tables *t, const struct ps_rmember *m, struct ps_err *err)
{
	(void)t;
	(void)m;
	(void)err;
	return 0;
}

int ps_tables_end(struct ps_tables *t, struct ps_err *err)
{
	(void)err;
	free(t);
	return 0;
}

void ps_tables_abort(struct ps_tables *t)
{
	free(t);
}
