/*
 * cli.h - private to cli/: the subcommands.  Each returns the process exit
 * status: 0 ok, 1 a finding (diff: differences, verify: mismatch, triage:
 * findings), 2 trouble (usage, bad input, any failure).  cli/ is the only
 * place that prints diagnostics or exits.
 */
#ifndef PS_CLI_H
#define PS_CLI_H

#include <stdio.h>

struct ps_cli {
	int verbosity; /* -q: 0, default 1, -v: 2 */
	const char *argv0;
};

int cmd_capture(const struct ps_cli *cli, int argc, char **argv);
int cmd_index(const struct ps_cli *cli, int argc, char **argv);
int cmd_info(const struct ps_cli *cli, int argc, char **argv);
int cmd_ls(const struct ps_cli *cli, int argc, char **argv);
int cmd_cat(const struct ps_cli *cli, int argc, char **argv);
int cmd_query(const struct ps_cli *cli, int argc, char **argv);
int cmd_merge(const struct ps_cli *cli, int argc, char **argv);
int cmd_export(const struct ps_cli *cli, int argc, char **argv);
int cmd_verify(const struct ps_cli *cli, int argc, char **argv);
int cmd_diff(const struct ps_cli *cli, int argc, char **argv);
int cmd_pagemap(const struct ps_cli *cli, int argc, char **argv);
int cmd_triage(const struct ps_cli *cli, int argc, char **argv);
int cmd_ps(const struct ps_cli *cli, int argc, char **argv);
int cmd_report(const struct ps_cli *cli, int argc, char **argv);

/* Snapshots opened as `query` opens them (cmd_query.c): each SNAP (archive or
 * index) read-only; one is used as its own index, several through TEMP views
 * that UNION ALL them with snapshot_id renumbered; PRAGMA query_only is on. */
struct ps_snap;
struct sqlite3;
struct cli_snaps {
	int n;
	struct ps_snap **snaps;
	struct sqlite3 *db;
};
/* 0, or 2 with one line printed (prefixed by cmd); release with cli_snaps_close. */
int cli_snaps_open(const char *cmd, int n, char **paths, struct cli_snaps *out);
/* The same with ps_snap_open_with's flags (report: PS_SNAP_ANY_ARCHIVE, as it
 * compares the archive beside the index itself). */
int cli_snaps_open_with(const char *cmd, unsigned flags, int n, char **paths,
			struct cli_snaps *out);
void cli_snaps_close(struct cli_snaps *s);
/* `query`'s output helpers: an aligned-table cell (escaped for the terminal
 * by ps_buf_add_term, *width its display columns; malloc'ed), an RFC 4180
 * field (term: stdout is a terminal, escape it for one first). */
char *cli_table_cell(const unsigned char *s, size_t n, size_t *width);
void cli_csv_field(const char *s, size_t n, int term);
struct ps_buf;
struct sqlite3_stmt;
/* Output formats of query and triage. */
enum fmt { FMT_TABLE, FMT_CSV, FMT_JSON };
/* "table", "csv" or "json" into *out: 0, or -1 if unknown. */
int cli_parse_format(const char *s, enum fmt *out);
/* Append the current row as a JSON object {"column": value, ...}: NULL as
 * null, numbers as numbers, text and blobs as strings (common's JSON writer). */
void cli_json_row(struct ps_buf *b, struct sqlite3_stmt *st);

/* The rule pack (cmd_triage.c) over db, opened by cli_snaps_open: every rule
 * runs, findings counted from severity low, as `procsnap triage --format
 * json` does; the JSON document is appended to out.  Returns triage's exit
 * status (0 no finding, 1 findings, 2 a rule failed: message printed). */
int cli_triage_json(struct sqlite3 *db, struct ps_buf *out);

/* The snapshot_id to show from db (cmd_ps.c): want (>= 0, --snapshot) if
 * the index holds it, else its only snapshot.  0, or 2 with one line
 * printed (no such id; several snapshots and no --snapshot). */
int cli_snapshot_pick(const char *cmd, struct sqlite3 *db, long long want, long long *id);
/* --snapshot ID: 0 and *want, or 2 with a usage line. */
int cli_snapshot_arg(const char *cmd, const char *arg, long long *want);

/*
 * Supervision (supervise.c): every command that writes a file runs its work
 * in a child process, so that SIGINT/SIGTERM/SIGHUP end the command at once
 * whatever the child is stuck in, and remove what it was writing.
 * cli_supervise blocks those signals (call it before any thread exists) and
 * forks: it returns -1 in the child, which does the work and ends with
 * `return cli_supervise_done(rc, stuck)` (or returns rc when no thread can
 * be stuck); in the parent it returns the exit status to return: the
 * child's, or 2 after a signal (one line on stderr, "interrupted by
 * SIGTERM", the child killed, every registered path removed).
 * cli_tmp_add registers a path to remove if a signal ends the command (a
 * file, or a directory with everything in it): call it BEFORE creating the
 * file (0, or -1 when the table of 8 is full), and cli_tmp_del once it is
 * renamed into place (or if creating it failed: it is not ours).
 * cli_tmp_remove removes the path now (a directory with its content) and
 * forgets it.
 * cli_tmp_index registers (add 1) or forgets (add 0) the files store's
 * index writers create beside DB (DB.tmp.PID, its SQLite journals, the
 * builder's DB.tmp.PID.work).
 * cli_tmp_dir makes a private directory, $TMPDIR/procsnap-CMD-RANDOM mode
 * 0700 (TMPDIR unset or empty: /tmp), registered, its path into dir, and
 * returns it: the tmpdir to hand a library; remove it with cli_tmp_remove.
 * When it cannot, dir is left empty and $TMPDIR is returned (the library
 * then fails there, with its own message, if it needs the room).
 */
int cli_supervise(const char *cmd);
int cli_supervise_done(int rc, int stuck);
int cli_tmp_add(const char *path);
void cli_tmp_del(const char *path);
void cli_tmp_remove(const char *path);
void cli_tmp_index(const char *db, int add);
const char *cli_tmp_dir(const char *cmd, struct ps_buf *dir);

/* "procsnap: <cmd>: <msg>\n" on stderr; returns 2. */
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Usage error: the message and "(try 'procsnap help CMD')", one line; returns 2. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* getopt_long returned '?' (opterr is 0): name the option and what is wrong
 * with it (unknown, argument missing or not taken) as a usage error; 2. */
struct option;
int cli_bad_option(const char *cmd, const char *optstring, const struct option *longopts,
		   char **argv);
/* Would writing out (with --force) replace one of the n inputs: a snapshot
 * as named, the index beside an archive or the archive beside an index?
 * Then one line and 2 (evidence is never the output), else 0. */
int cli_refuse_input(const char *cmd, const char *out, char *const *inputs, int n);
/* For commands without options: a usage error naming the first argument
 * that looks like one (before "--"), or 0. */
int cli_no_options(const char *cmd, int argc, char **argv);
/* Does argv ask for --help/-h?  Prints `help` to stdout if so. */
int cli_want_help(int argc, char **argv, const char *help);

#endif
