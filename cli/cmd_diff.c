/*
 * cmd_diff.c - procsnap diff A B: what changed between two snapshots
 * (diff/diff.h).  Exit status as diff(1): 0 same, 1 different, 2 trouble.
 */
#include "cli.h"

#include "common.h"
#include "diff.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char diff_help[] =
    "usage: procsnap diff [--json] [--pid PID]... [--processes-only|--system-only]\n"
    "                     [--path GLOB]... [--counters|--all] [--context N] A B\n"
    "Compare snapshot A (before) with B (after); each is an archive or its index\n"
    "(an archive without its index is indexed in $TMPDIR first).\n"
    "\n"
    "Processes are matched by (boot id, pid, starttime): a reused pid is one exit\n"
    "and one start.  For a process in both: changed identity (exe, cmdline, cwd,\n"
    "root, uids, gids, capabilities, namespaces, cgroup, tracer, seccomp...), fds\n"
    "opened/closed/retargeted, mappings added/removed/re-protected/resized, pages\n"
    "newly resident, evicted, swapped or dirtied, threads started/exited,\n"
    "environment and limit changes.  System files: key/value files as numeric\n"
    "deltas, tables (modules, mounts, listeners, ...) as rows added/removed/changed\n"
    "by key, anything else as a unified diff.  Files with equal XXH3 are skipped\n"
    "without reading them.  procsnap's own capture processes are left out (named\n"
    "in one note).\n"
    "\n"
    "Quiet by default: what changes by itself on an idle machine is counted in a\n"
    "last line, not shown.  --counters adds counters (process cpu time, faults,\n"
    "io; counter files such as meminfo, vmstat, stat, diskstats, pressure; small\n"
    "page ranges); --all adds everything else (volatile files such as timer_list\n"
    "or slabinfo, socket connections, kernel worker threads).\n"
    "\n"
    "  --json             one JSON document (schema/diff.schema.json)\n"
    "  --pid PID          only this process (repeatable)\n"
    "  --processes-only   no system files\n"
    "  --system-only      no processes\n"
    "  --path GLOB        only paths matching GLOB, relative to the proc root\n"
    "                     ('meminfo', 'sys/kernel/*', '42/fd/*'; '*' matches '/')\n"
    "  --counters         also show counters (an rss or vsize change of more\n"
    "                     than 10% and 16 MiB is always shown)\n"
    "  --all              show everything that changed (implies --counters)\n"
    "  --context N        lines of context in text diffs (default 3)\n"
    "  --color WHEN       auto (default: on a terminal, unless NO_COLOR is set),\n"
    "                     always, never\n"
    "\n"
    "Exit status: 0 no differences, 1 differences, 2 trouble.\n";

enum { OPT_JSON = 256, OPT_PROC, OPT_SYS, OPT_PATH, OPT_COUNTERS, OPT_ALL, OPT_CONTEXT, OPT_COLOR };

int cmd_diff(const struct ps_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {{"json", no_argument, NULL, OPT_JSON},
						 {"pid", required_argument, NULL, 'p'},
						 {"processes-only", no_argument, NULL, OPT_PROC},
						 {"system-only", no_argument, NULL, OPT_SYS},
						 {"path", required_argument, NULL, OPT_PATH},
						 {"counters", no_argument, NULL, OPT_COUNTERS},
						 {"all", no_argument, NULL, OPT_ALL},
						 {"context", required_argument, NULL, OPT_CONTEXT},
						 {"color", required_argument, NULL, OPT_COLOR},
						 {"colour", required_argument, NULL, OPT_COLOR},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	struct ps_diff_opts o;
	memset(&o, 0, sizeof(o));
	o.context = 3;
	int json = 0, c, rc = 2, color = -1;
	int64_t *pids = ps_xmalloc((size_t)argc * sizeof(*pids));
	const char **globs = ps_xmalloc((size_t)argc * sizeof(*globs));
	size_t npids = 0, nglobs = 0;
	struct ps_buf tmpdir = PS_BUF_INIT;
	uint64_t v;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			json = 1;
			break;
		case 'p':
			if (ps_parse_u64(optarg, strlen(optarg), &v) < 0 || v > INT32_MAX) {
				rc = cli_usage("diff", "--pid expects a process id, not '%s'",
					       optarg);
				goto out;
			}
			pids[npids++] = (int64_t)v;
			break;
		case OPT_PROC:
			if (o.scope == PS_DIFF_SYSTEM)
				goto both;
			o.scope = PS_DIFF_PROCESSES;
			break;
		case OPT_SYS:
			if (o.scope == PS_DIFF_PROCESSES)
				goto both;
			o.scope = PS_DIFF_SYSTEM;
			break;
		case OPT_PATH:
			globs[nglobs++] = optarg;
			break;
		case OPT_COUNTERS:
			o.counters = 1;
			break;
		case OPT_ALL:
			o.all = 1;
			break;
		case OPT_CONTEXT:
			if (ps_parse_u64(optarg, strlen(optarg), &v) < 0 || v > 100000) {
				rc = cli_usage("diff", "--context expects a number of lines");
				goto out;
			}
			o.context = (int)v;
			break;
		case OPT_COLOR:
			if (strcmp(optarg, "always") == 0)
				color = 1;
			else if (strcmp(optarg, "never") == 0)
				color = 0;
			else if (strcmp(optarg, "auto") == 0)
				color = -1;
			else {
				rc = cli_usage("diff", "--color expects auto, always or never");
				goto out;
			}
			break;
		case 'h':
			fputs(diff_help, stdout);
			rc = 0;
			goto out;
		default:
			rc = cli_bad_option("diff", "h", longopts, argv);
			goto out;
		}
	}
	if (argc - optind != 2) {
		rc = cli_usage("diff", "expects two snapshots, A and B");
		goto out;
	}
	o.pids = pids;
	o.npids = npids;
	o.globs = globs;
	o.nglobs = nglobs;
	/* The work runs in a child (supervise.c).  An archive without its index
	 * is indexed below a private directory, registered so that a signal
	 * removes it with the temporary index. */
	rc = cli_supervise("diff");
	if (rc >= 0)
		goto out;
	o.tmpdir = cli_tmp_dir("diff", &tmpdir);
	rc = 2;
	if (color < 0) {
		const char *nc = getenv("NO_COLOR");
		color = !json && isatty(STDOUT_FILENO) && !(nc && *nc);
	}
	struct ps_err err = {0, ""};
	struct ps_diff *d = NULL;
	uint64_t t0 = ps_mono_ns();
	if (ps_diff_compute(argv[optind], argv[optind + 1], &o, &d, &err) < 0) {
		rc = cli_fail("diff", "%s", err.msg);
		goto out;
	}
	int w =
	    json ? ps_diff_write_json(d, stdout) : ps_diff_write_text(d, stdout, color && !json);
	if (cli->verbosity > 1) {
		struct ps_diff_stats st;
		ps_diff_get_stats(d, &st);
		fprintf(stderr,
			"procsnap: diff: %llu changed paths; read %llu+%llu members, %llu+%llu "
			"zstd frames; %.3f s\n",
			(unsigned long long)st.changed_paths, (unsigned long long)st.fetched[0],
			(unsigned long long)st.fetched[1], (unsigned long long)st.frames[0],
			(unsigned long long)st.frames[1], (double)(ps_mono_ns() - t0) / 1e9);
	}
	rc = w < 0 ? 2 : ps_diff_count(d) ? 1 : 0;
	ps_diff_free(d);
	goto out;
both:
	rc = cli_usage("diff", "--processes-only and --system-only exclude each other");
out:
	if (tmpdir.len)
		cli_tmp_remove(tmpdir.buf);
	ps_buf_release(&tmpdir);
	free(pids);
	free(globs);
	return rc;
}
