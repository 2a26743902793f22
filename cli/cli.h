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
int cmd_verify(const struct ps_cli *cli, int argc, char **argv);
int cmd_diff(const struct ps_cli *cli, int argc, char **argv);

/* "procsnap: <cmd>: <msg>\n" on stderr; returns 2. */
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Usage error: message plus "try 'procsnap help CMD'"; returns 2. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Does argv ask for --help/-h?  Prints `help` to stdout if so. */
int cli_want_help(int argc, char **argv, const char *help);

#endif
