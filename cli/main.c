/*
 * main.c - procsnap [-v|-q] <command> [options] [args]
 * One static command table (as git.c); stdout is checked before exit.
 */
#include "cli.h"

#include "common.h"

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct cmd {
	const char *name;
	int (*fn)(const struct ps_cli *, int, char **);
	const char *summary;
};

static const struct cmd commands[] = {
    {"capture", cmd_capture, "snapshot /proc into one .tar.zst archive (+ its index)"},
    {"index", cmd_index, "rebuild the SQLite index of an archive"},
    {"info", cmd_info, "show a snapshot's metadata and counts"},
    {"ls", cmd_ls, "list captured paths (optionally matching a glob)"},
    {"cat", cmd_cat, "print the exact bytes of a captured path"},
    {"query", cmd_query, "run SQL over one or many snapshots (read-only)"},
    {"merge", cmd_merge, "combine snapshots into one index"},
    {"export", cmd_export, "write snapshots' tables as NDJSON/CSV files for other engines"},
    {"verify", cmd_verify, "re-hash an archive against its manifest and recorded SHA-256"},
    {"diff", cmd_diff, "what changed between two snapshots (processes, system files)"},
    {"pagemap", cmd_pagemap, "page residency of one process, per mapping or page runs"},
    {"triage", cmd_triage, "run the incident-response rule pack over snapshots"},
    {"ps", cmd_ps, "the processes of a snapshot as ps(1) shows them (--tree, -L)"},
    {"report", cmd_report, "one self-contained HTML file to read a snapshot (or two)"},
    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: procsnap [-v|-q] <command> [options] [args]\n\ncommands:\n");
	for (const struct cmd *c = commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\n'procsnap help <command>' or '<command> --help' for its options.\n"
		   "Exit status: 0 ok, 1 a finding (differences, mismatches), 2 trouble.\n");
}

/* "procsnap: cmd: message" on one line: a message may name a path or a
 * value from a snapshot, so it is escaped for the terminal as a whole. */
static void vmessage(const char *cmd, int try_help, const char *fmt, va_list ap)
{
	struct ps_buf m = PS_BUF_INIT, out = PS_BUF_INIT;
	ps_buf_vaddf(&m, fmt, ap);
	ps_buf_addf(&out, "procsnap: %s: ", cmd);
	ps_buf_add_term(&out, m.buf, m.len);
	if (try_help)
		ps_buf_addf(&out, " (try 'procsnap help %s')", cmd);
	ps_buf_addc(&out, '\n');
	fwrite(out.buf, 1, out.len, stderr);
	ps_buf_release(&m);
	ps_buf_release(&out);
}

int cli_fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(cmd, 0, fmt, ap);
	va_end(ap);
	return 2;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(cmd, 1, fmt, ap);
	va_end(ap);
	return 2;
}

int cli_bad_option(const char *cmd, const char *optstring, const struct option *longopts,
		   char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : NULL;
	if (arg && strncmp(arg, "--", 2) == 0) {
		/* a long option getopt_long knows failed only by its argument */
		size_t n = strcspn(arg + 2, "=");
		for (const struct option *o = longopts; o && o->name; o++)
			if (strlen(o->name) == n && strncmp(o->name, arg + 2, n) == 0)
				return o->has_arg == no_argument
					   ? cli_usage(cmd, "option '--%s' takes no argument",
						       o->name)
					   : cli_usage(cmd, "option '--%s' needs an argument",
						       o->name);
		return cli_usage(cmd, "unknown option '%.*s'", (int)(n + 2), arg);
	}
	const char *o = optopt > 0 && optopt < 128 ? strchr(optstring, optopt) : NULL;
	if (o && o[1] == ':')
		return cli_usage(cmd, "option '-%c' needs an argument", optopt);
	if (optopt > 32 && optopt < 127)
		return cli_usage(cmd, "unknown option '-%c'", optopt);
	return cli_usage(cmd, "unknown option '%s'", arg ? arg : "?");
}

int cli_refuse_input(const char *cmd, const char *out, char *const *inputs, int n)
{
	struct stat o, st;
	if (!out || strcmp(out, "-") == 0 || stat(out, &o) != 0)
		return 0;
	struct ps_buf b = PS_BUF_INIT;
	int rc = 0;
	for (int i = 0; i < n && !rc; i++) {
		size_t l = strlen(inputs[i]);
		for (int k = 0; k < 3 && !rc; k++) {
			ps_buf_reset(&b);
			if (k == 0)
				ps_buf_adds(&b, inputs[i]);
			else if (k == 1)
				ps_buf_addf(&b, "%s.db", inputs[i]);
			else if (l > 3 && strcmp(inputs[i] + l - 3, ".db") == 0)
				ps_buf_add(&b, inputs[i], l - 3);
			else
				continue;
			if (stat(b.buf, &st) != 0 || st.st_dev != o.st_dev || st.st_ino != o.st_ino)
				continue;
			rc = strcmp(out, b.buf) == 0
				 ? cli_fail(cmd,
					    "%s is read by this command: refusing to replace it",
					    out)
				 : cli_fail(cmd,
					    "%s is %s, which this command reads: refusing to "
					    "replace it",
					    out, b.buf);
		}
	}
	ps_buf_release(&b);
	return rc;
}

int cli_no_options(const char *cmd, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (argv[i][0] == '-' && argv[i][1])
			return cli_usage(cmd, "unknown option '%s'", argv[i]);
	}
	return 0;
}

int cli_want_help(int argc, char **argv, const char *help)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(help, stdout);
			return 1;
		}
	}
	return 0;
}

/* "procsnap: <what> '<arg>' (try 'procsnap help')": before any command, one
 * line, the argument escaped for the terminal. */
static int top_fail(const char *what, const char *arg)
{
	struct ps_buf m = PS_BUF_INIT;
	ps_buf_add_term(&m, arg, strlen(arg));
	fprintf(stderr, "procsnap: %s '%s' (try 'procsnap help')\n", what, m.buf);
	ps_buf_release(&m);
	return 2;
}

static const struct cmd *find(const char *name)
{
	for (const struct cmd *c = commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int main(int argc, char **argv)
{
	struct ps_cli cli = {1, argv[0]};
	/* A fixed mmap threshold: glibc's adaptive one moves ~1 MiB buffers
	 * (read buffers, batches, frames) onto the heap once one is freed, and
	 * the heap then fragments with the host's size (capture at 5,000
	 * processes: 71-75 MiB peak RSS instead of 51; same speed). */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	/* Every SQLite connection is used by one thread at a time (the index
	 * builder hands its connection over only after joining): no mutexes,
	 * and no global memory statistics (a mutex per allocation). */
	sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0)
			cli.verbosity = 0;
		else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0)
			cli.verbosity = 2;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("procsnap %s\n", PROCSNAP_VERSION);
			return 0;
		} else {
			return top_fail("unknown option", argv[i]);
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	/* Commands name a bad option themselves (cli_bad_option), in one line. */
	opterr = 0;
	const struct cmd *c;
	int rc;
	if (strcmp(argv[i], "help") == 0) {
		if (i + 1 >= argc) {
			usage(stdout);
			return 0;
		}
		c = find(argv[i + 1]);
		if (!c)
			return cli_fail("help", "no command '%s'", argv[i + 1]);
		char *hv[] = {argv[i + 1], (char *)"--help", NULL};
		rc = c->fn(&cli, 2, hv);
	} else {
		c = find(argv[i]);
		if (!c)
			return top_fail("no command", argv[i]);
		rc = c->fn(&cli, argc - i, argv + i);
	}
	/* A full disk or closed pipe on stdout must not look like success. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			fprintf(stderr, "procsnap: %s: cannot write to stdout: %s\n", c->name,
				strerror(errno));
		return 2;
	}
	return rc;
}
