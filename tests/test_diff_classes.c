/*
 * test_diff_classes.c - the classes of system files (diff/sysclass.conf).
 *
 * The rules themselves: the built-in table parses, a few known files get the
 * class the README promises, the first matching line wins, a glob ending in a slash-star also
 * matches the directory, a malformed line is refused with its number.
 *
 * The machine: capture the live /proc (as root; pid 1 only, so every system
 * file and pid 1's network namespace) and fail on any system path - every
 * path outside proc/<pid>/, and the per-namespace net/... and mountinfo -
 * that no line classifies.  A new kernel's files are then classified in
 * sysclass.conf, not guessed.
 */
#include "t.h"
#include "tutil.h"

#include "diff.h"

#include <sqlite3.h>
#include <unistd.h>

static struct ps_diff_classes *cls;

static void test_rules(void)
{
	struct ps_err err = {0, ""};
	CHECK_INT(ps_diff_classes_open(NULL, 0, &cls, &err), 0);
	static const struct {
		const char *rel;
		enum ps_diff_class want;
	} cases[] = {
	    {"meminfo", PS_DIFF_COUNTERS},
	    {"vmstat", PS_DIFF_COUNTERS},
	    {"stat", PS_DIFF_COUNTERS},
	    {"loadavg", PS_DIFF_COUNTERS},
	    {"pressure/io", PS_DIFF_COUNTERS},
	    {"diskstats", PS_DIFF_COUNTERS},
	    {"softirqs", PS_DIFF_COUNTERS},
	    {"irq/42/spurious", PS_DIFF_COUNTERS},
	    {"net/dev", PS_DIFF_COUNTERS},
	    {"net/stat/arp_cache", PS_DIFF_COUNTERS},
	    {"sys/fs/file-nr", PS_DIFF_COUNTERS},
	    {"sys/fs/dentry-state", PS_DIFF_COUNTERS},
	    {"sys/kernel/ns_last_pid", PS_DIFF_COUNTERS},
	    {"timer_list", PS_DIFF_VOLATILE},
	    {"slabinfo", PS_DIFF_VOLATILE},
	    {"vmallocinfo", PS_DIFF_VOLATILE},
	    {"zoneinfo", PS_DIFF_VOLATILE},
	    {"buddyinfo", PS_DIFF_VOLATILE},
	    {"pagetypeinfo", PS_DIFF_VOLATILE},
	    {"sys/kernel/random/uuid", PS_DIFF_VOLATILE},
	    {"self", PS_DIFF_VOLATILE},
	    {"thread-self", PS_DIFF_VOLATILE},
	    {"fs/ext4/vda/mb_groups", PS_DIFF_VOLATILE},
	    {"sys/kernel/tainted", PS_DIFF_STATE},
	    {"sys/kernel/random/boot_id", PS_DIFF_STATE},
	    {"sys/net/ipv4/ip_forward", PS_DIFF_STATE},
	    {"sys", PS_DIFF_STATE},
	    {"modules", PS_DIFF_STATE},
	    {"mounts", PS_DIFF_STATE},
	    {"mountinfo", PS_DIFF_STATE},
	    {"net/tcp", PS_DIFF_STATE},
	    {"net/unix", PS_DIFF_STATE},
	    {"net/packet", PS_DIFF_STATE},
	    {"cmdline", PS_DIFF_STATE},
	    {"irq/42", PS_DIFF_STATE},
	    {"irq", PS_DIFF_STATE},
	    {"interrupts", PS_DIFF_STATE},
	    {"cpuinfo", PS_DIFF_STATE},
	    {"procsnap/meta.json", PS_DIFF_STATE},
	    {"no-such-file", PS_DIFF_CLASS_UNKNOWN},
	    {"net/no-such-table", PS_DIFF_CLASS_UNKNOWN},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum ps_diff_class got = ps_diff_class_of(cls, cases[i].rel);
		if (got != cases[i].want) {
			fprintf(stderr, "%s: class %s, want %s\n", cases[i].rel,
				ps_diff_class_name(got), ps_diff_class_name(cases[i].want));
			t_failures++;
		}
	}

	/* first match wins; "a/<star>" also matches a itself; drop lines are not
	 * classes */
	struct ps_diff_classes *c = NULL;
	const char *t = "# comment\n\nvolatile  a/b\nstate a/*\ndrop x  some prefix\ncounters x\n";
	CHECK_INT(ps_diff_classes_open(t, strlen(t), &c, &err), 0);
	CHECK_INT(ps_diff_class_of(c, "a/b"), PS_DIFF_VOLATILE);
	CHECK_INT(ps_diff_class_of(c, "a/c/d"), PS_DIFF_STATE);
	CHECK_INT(ps_diff_class_of(c, "a"), PS_DIFF_STATE);
	CHECK_INT(ps_diff_class_of(c, "x"), PS_DIFF_COUNTERS);
	CHECK_INT(ps_diff_class_of(c, "ab"), PS_DIFF_CLASS_UNKNOWN);
	ps_diff_classes_close(c);
	/* malformed lines: named by number */
	static const char *const bad[] = {"state\n", "fuzzy x\n", "state a\ndrop b\n",
					  "state a b c\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = NULL;
		CHECK_INT(ps_diff_classes_open(bad[i], strlen(bad[i]), &c, &err), -1);
		CHECK(c == NULL);
		CHECK(strstr(err.msg, "sysclass.conf line ") != NULL);
	}
	CHECK(strstr(err.msg, "line 1:") != NULL);
}

/* Every system path of a capture of this machine has a class. */
static void test_machine(void)
{
	if (geteuid() != 0)
		T_SKIP("needs root (a capture of the whole /proc)");
	const char *dir = tu_tmpdir();
	CHECK_INT(tu_sh(NULL, "cd %s && %s capture -q --pid 1 -o m.tar.zst >/dev/null 2>&1", dir,
			tu_procsnap()),
		  0);
	char db[512];
	snprintf(db, sizeof(db), "%s/m.tar.zst.db", dir);
	sqlite3 *h = NULL;
	CHECK_INT(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *q = NULL;
	CHECK_INT(sqlite3_prepare_v2(
		      h,
		      "SELECT CASE WHEN path GLOB 'proc/*' THEN substr(path, 6) ELSE path END "
		      "FROM files WHERE pid IS NULL AND path != 'proc' "
		      "UNION SELECT substr(path, length('proc/' || pid || '/') + 1) FROM files "
		      "WHERE pid IS NOT NULL AND tid IS NULL AND (path GLOB 'proc/[0-9]*/net/*' "
		      "OR path GLOB 'proc/[0-9]*/mountinfo') ORDER BY 1",
		      -1, &q, NULL),
		  SQLITE_OK);
	size_t n = 0, unknown = 0, by[3] = {0, 0, 0};
	while (q && sqlite3_step(q) == SQLITE_ROW) {
		const char *rel = (const char *)sqlite3_column_text(q, 0);
		enum ps_diff_class k = ps_diff_class_of(cls, rel ? rel : "");
		n++;
		if (k == PS_DIFF_CLASS_UNKNOWN) {
			if (unknown++ < 50)
				fprintf(stderr, "unclassified system file: %s\n", rel ? rel : "?");
		} else {
			by[k]++;
		}
	}
	sqlite3_finalize(q);
	sqlite3_close(h);
	if (unknown) {
		fprintf(stderr,
			"%zu of %zu system paths of this machine match no line of "
			"diff/sysclass.conf: classify them there (README, diff)\n",
			unknown, n);
		t_failures++;
	}
	/* a real machine has all three classes */
	CHECK(n > 100);
	CHECK(by[PS_DIFF_STATE] > 0 && by[PS_DIFF_COUNTERS] > 0 && by[PS_DIFF_VOLATILE] > 0);
}

static void teardown(void)
{
	ps_diff_classes_close(cls);
	tu_cleanup();
}

static const struct t_case t_cases[] = {T(test_rules), T(test_machine), {0, 0}};
T_MAIN_SETUP(t_cases, NULL, teardown)
