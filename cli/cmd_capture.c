/*
 * cmd_capture.c - procsnap capture: connects capture (the /proc walk) to the
 * store's writer, then builds the index from the finished archive.
 *
 * Output safety: the archive is created mode 0600 under a temporary name in
 * the target directory and renamed into place only when complete (with
 * RENAME_NOREPLACE unless --force); on any failure the temporary file is
 * removed and the exit status is 2.
 */
#include "cli.h"

#include "capture.h"
#include "common.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char help[] =
    "usage: procsnap capture [options]\n"
    "Snapshot the whole /proc tree into one .tar.zst archive and index it.\n\n"
    "  -o, --output FILE|-   archive to write (default procsnap-HOST-UTCTIME.tar.zst;\n"
    "                        '-' streams to stdout, no index is written then)\n"
    "  -f, --force           replace an existing output (and its index)\n"
    "  -p, --pid PID         capture only this process (repeatable)\n"
    "  -x, --exclude GLOB    skip archive paths matching GLOB, e.g. 'proc/*/environ'\n"
    "      --no-threads      skip task/<tid>/ directories\n"
    "      --no-smaps        skip smaps (smaps_rollup is kept)\n"
    "      --no-pagemap      skip pagemap sections\n"
    "      --numa-maps       also read numa_maps (costly)\n"
    "      --pagemap-max N   per-process cap on pagemap entry bytes (default 256 MiB)\n"
    "      --exe-bodies none|deleted|all\n"
    "                        keep the bytes of executables (exe.body) and open fds\n"
    "                        (fd/N.body) that are deleted or memfd-backed (default\n"
    "                        deleted; 'all' adds every executable)\n"
    "      --exe-body-max N  cap per body (default 64M; a cut is listed in summary.json)\n"
    "      --suspicious-pages\n"
    "                        also read the pages the in-memory tampering rules flag\n"
    "                        (code patched in place, executable anonymous or memfd\n"
    "                        memory) into proc/<pid>/mem.sections: the one exception\n"
    "                        to never reading process memory (off by default)\n"
    "      --suspicious-pages-max N\n"
    "                        page bytes read per capture (default 16M; a sixteenth\n"
    "                        of it per process)\n"
    "      --hash-max N      bytes read to hash executables (SHA-256, SHA-1, MD5 of\n"
    "                        every exe and executable mapping: the hash table),\n"
    "                        per capture (default 512M; a file that does not fit is\n"
    "                        listed, not hashed)\n"
    "      --no-hash         hash nothing\n"
    "      --root DIR        capture a proc tree mounted at DIR (default /proc)\n"
    "      --no-index        do not build the SQLite index (procsnap index later)\n"
    "      --no-read-ahead   read every file on the walk's thread (no thread reading\n"
    "                        the next processes' files ahead)\n"
    "      --read-timeout S  give up an open/read/readlink/stat that has not returned\n"
    "                        after S seconds (default 5; fractions allowed): the path\n"
    "                        is recorded absent with ETIMEDOUT and the capture goes on\n"
    "      --deadline S      stop walking S seconds after the start; what was not\n"
    "                        reached is recorded absent with ETIMEDOUT, the archive is\n"
    "                        finished normally (deadline_reached in summary.json)\n"
    "      --case ID  --examiner NAME  --evidence ID  --note TEXT\n"
    "                        case fields recorded in procsnap/meta.json\n"
    "  -q, --quiet           no progress line and no summary (the SHA-256 line stays)\n\n"
    "On stderr: a progress line on a terminal, then a one-line summary and\n"
    "'sha256 <hex>  <archive>' (the chain-of-custody hash, also in the index).\n"
    "Exit status: 0 done (unreadable and timed-out paths are recorded, not fatal;\n"
    "also when the deadline was reached), 2 failure.  SIGINT/SIGTERM/SIGHUP end the\n"
    "capture within a second, with status 2, no temporary file left.\n";

enum {
	OPT_NO_THREADS = 256,
	OPT_NO_SMAPS,
	OPT_NO_PAGEMAP,
	OPT_NUMA,
	OPT_PAGEMAP_MAX,
	OPT_ROOT,
	OPT_NO_INDEX,
	OPT_CASE,
	OPT_EXAMINER,
	OPT_EVIDENCE,
	OPT_NOTE,
	OPT_EXE_BODIES,
	OPT_EXE_BODY_MAX,
	OPT_READ_TIMEOUT,
	OPT_DEADLINE,
	OPT_SUSPICIOUS,
	OPT_SUSPICIOUS_MAX,
	OPT_HASH_MAX,
	OPT_NO_HASH,
	OPT_NO_READ_AHEAD,
};

struct sink_ctx {
	struct ps_writer *w;
	struct ps_buf procs; /* processes.tsv */
	int progress;
	uint64_t start_ns;
	uint64_t nprocs, nthreads, npartial, nhidden, ntrunc;
	struct ps_buf hidden; /* JSON list */
	struct ps_buf trunc;  /* JSON list of paths cut at a size cap (first 1000) */
	uint64_t ntimedout;
	struct ps_buf timedout;	 /* JSON list of paths recorded ETIMEDOUT (first 1000) */
	struct ps_buf ondisk_to; /* JSON list of pids whose on-disk check timed out */
	struct ps_buf hashes;	 /* hashes.tsv (its header first), or its tail */
	uint64_t nhashes;
	/* hashes.tsv past HASHES_MEM goes on into an unlinked file in spill_dir
	 * (one row per body: it grows with the number of processes) */
	int spill_dir, hashes_fd;
	uint64_t hashes_spilled;
	int hashes_err;
};

#define HASHES_MEM ((size_t)256 << 10)

static int on_record(void *vctx, const struct ps_capture_record *r, struct ps_err *err)
{
	struct sink_ctx *c = vctx;
	if (r->truncated && c->ntrunc++ < 1000) {
		if (c->trunc.len)
			ps_buf_addc(&c->trunc, ',');
		ps_buf_add_json(&c->trunc, r->path, strlen(r->path));
	}
	if (r->kind == PS_KIND_ABSENT && r->err == ETIMEDOUT && c->ntimedout++ < 1000) {
		if (c->timedout.len)
			ps_buf_addc(&c->timedout, ',');
		ps_buf_add_json(&c->timedout, r->path, strlen(r->path));
	}
	struct ps_member m = {
	    .path = r->path,
	    .kind = (enum ps_member_kind)r->kind,
	    .mode = r->mode,
	    .uid = r->uid,
	    .gid = r->gid,
	    .mtime = r->mtime,
	    .target = r->target,
	    .data = r->data,
	    .len = r->len,
	    .err = r->err,
	    .read_ns = r->read_ns,
	    .spilled = r->spilled,
	    .spill_fd = r->spill_fd,
	};
	return ps_writer_add(c->w, &m, err);
}

static int on_process(void *vctx, const struct ps_capture_proc *p, struct ps_err *err)
{
	(void)err;
	struct sink_ctx *c = vctx;
	ps_buf_addf(&c->procs, "%d\t%llu\t%d\t%d\t%d\t%d\n", p->pid,
		    (unsigned long long)p->starttime, p->partial, p->hidden, p->nthreads,
		    p->on_disk);
	c->nprocs++;
	c->nthreads += (uint64_t)p->nthreads;
	c->npartial += p->partial != 0;
	if (p->on_disk_err == ETIMEDOUT)
		ps_buf_addf(&c->ondisk_to, "%s%d", c->ondisk_to.len ? "," : "", p->pid);
	if (p->hidden) {
		ps_buf_addf(&c->hidden, "%s%d", c->nhidden ? "," : "", p->pid);
		c->nhidden++;
	}
	return 0;
}

/* procsnap/hashes.tsv: path member source pid dev ino mtime_ns size md5 sha1
 * sha256 status; texts escaped as the manifest's paths, '-' for none. */
static int on_hash(void *vctx, const struct ps_capture_hash *h, struct ps_err *err)
{
	(void)err;
	struct sink_ctx *c = vctx;
	struct ps_buf *b = &c->hashes;
	ps_escape(b, h->path, strlen(h->path));
	ps_buf_addc(b, '\t');
	if (h->member)
		ps_escape(b, h->member, strlen(h->member));
	else
		ps_buf_addc(b, '-');
	ps_buf_addf(b, "\t%s\t%d\t%llu\t%llu\t%lld\t%llu\t", h->source, h->pid,
		    (unsigned long long)h->dev, (unsigned long long)h->ino, (long long)h->mtime_ns,
		    (unsigned long long)h->size);
	if (h->have_hash) {
		char hex[65];
		ps_hex(hex, h->md5, sizeof(h->md5));
		ps_buf_addf(b, "%s\t", hex);
		ps_hex(hex, h->sha1, sizeof(h->sha1));
		ps_buf_addf(b, "%s\t", hex);
		ps_hex(hex, h->sha256, sizeof(h->sha256));
		ps_buf_addf(b, "%s\t", hex);
	} else {
		ps_buf_adds(b, "-\t-\t-\t");
	}
	ps_buf_addf(b, "%s\n", h->status ? h->status : "-");
	c->nhashes++;
	if (b->len >= HASHES_MEM && c->spill_dir >= 0 && !c->hashes_err) {
		if (c->hashes_fd < 0)
			c->hashes_fd =
			    openat(c->spill_dir, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		int e = c->hashes_fd < 0 ? errno : ps_write_all(c->hashes_fd, b->buf, b->len);
		if (e) {
			c->hashes_err = e; /* the capture fails at the end, as for the archive */
		} else {
			c->hashes_spilled += b->len;
			ps_buf_reset(b);
		}
	}
	return 0;
}

static void on_progress(void *vctx, int done, int total, uint64_t files, uint64_t bytes)
{
	struct sink_ctx *c = vctx;
	if (!c->progress)
		return;
	char hb[32];
	ps_human_bytes(hb, sizeof(hb), bytes);
	fprintf(stderr, "\rprocsnap: %d/%d processes, %llu files, %s, %.1f s   ", done, total,
		(unsigned long long)files, hb, (double)(ps_mono_ns() - c->start_ns) / 1e9);
	fflush(stderr);
}

static void json_kv_str(struct ps_buf *b, const char *k, const char *v)
{
	ps_buf_addf(b, "\"%s\":", k);
	if (v)
		ps_buf_add_json(b, v, strlen(v));
	else
		ps_buf_adds(b, "null");
	ps_buf_adds(b, ",\n");
}

static int add_json_member(struct ps_writer *w, const char *path, const struct ps_buf *b,
			   uint64_t read_ns, struct ps_err *err)
{
	struct ps_member m = {.path = path,
			      .kind = PS_M_FILE,
			      .mode = 0100444,
			      .mtime = (int64_t)(ps_real_ns() / 1000000000u),
			      .data = b->buf,
			      .len = b->len,
			      .read_ns = read_ns};
	return ps_writer_add(w, &m, err);
}

/* A random (version 4) UUID, the snapshot's id across hosts and captures
 * (export): 0, or -1 when the kernel gives no randomness. */
static int mint_uuid(char out[37])
{
	unsigned char u[16];
	size_t got = 0;
	while (got < sizeof(u)) {
		ssize_t n = getrandom(u + got, sizeof(u) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40); /* version 4 */
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	char hex[33];
	ps_hex(hex, u, sizeof(u));
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
	return 0;
}

/* Seconds, fractions allowed, > 0 and at most a year: into ns. */
static int parse_seconds(const char *s, uint64_t *ns)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 366.0 * 86400)
		return -1;
	*ns = (uint64_t)(v * 1e9 + 0.5);
	return *ns ? 0 : -1;
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return -1;
	switch (*end) {
	case 'k':
	case 'K':
		v <<= 10;
		end++;
		break;
	case 'm':
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'g':
	case 'G':
		v <<= 30;
		end++;
		break;
	default:
		break;
	}
	if (*end)
		return -1;
	*out = v;
	return 0;
}

/* What `capture` was asked (parse_args). */
struct cap_args {
	struct ps_capture_opts o;
	const char *out, *case_id, *examiner, *evidence, *note;
	int force, quiet, no_index;
	int *pids;
	size_t npids;
	const char **excl;
	size_t nexcl;
};

/* Done with a: its arrays freed; rc passed through. */
static int args_done(struct cap_args *a, int rc)
{
	free(a->pids);
	free(a->excl);
	a->pids = NULL;
	a->excl = NULL;
	return rc;
}

/* The options of capture (argv) into *a: -1 to go on, else the exit
 * status (usage printed, or --help); a's arrays are then freed. */
static int parse_args(const struct ps_cli *cli, int argc, char **argv, struct cap_args *a)
{
	static const struct option longopts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"force", no_argument, NULL, 'f'},
	    {"pid", required_argument, NULL, 'p'},
	    {"exclude", required_argument, NULL, 'x'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"no-threads", no_argument, NULL, OPT_NO_THREADS},
	    {"no-smaps", no_argument, NULL, OPT_NO_SMAPS},
	    {"no-pagemap", no_argument, NULL, OPT_NO_PAGEMAP},
	    {"numa-maps", no_argument, NULL, OPT_NUMA},
	    {"pagemap-max", required_argument, NULL, OPT_PAGEMAP_MAX},
	    {"root", required_argument, NULL, OPT_ROOT},
	    {"no-index", no_argument, NULL, OPT_NO_INDEX},
	    {"case", required_argument, NULL, OPT_CASE},
	    {"examiner", required_argument, NULL, OPT_EXAMINER},
	    {"evidence", required_argument, NULL, OPT_EVIDENCE},
	    {"note", required_argument, NULL, OPT_NOTE},
	    {"exe-bodies", required_argument, NULL, OPT_EXE_BODIES},
	    {"exe-body-max", required_argument, NULL, OPT_EXE_BODY_MAX},
	    {"read-timeout", required_argument, NULL, OPT_READ_TIMEOUT},
	    {"deadline", required_argument, NULL, OPT_DEADLINE},
	    {"suspicious-pages", no_argument, NULL, OPT_SUSPICIOUS},
	    {"suspicious-pages-max", required_argument, NULL, OPT_SUSPICIOUS_MAX},
	    {"hash-max", required_argument, NULL, OPT_HASH_MAX},
	    {"no-hash", no_argument, NULL, OPT_NO_HASH},
	    {"no-read-ahead", no_argument, NULL, OPT_NO_READ_AHEAD},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	memset(a, 0, sizeof(*a));
	a->quiet = cli->verbosity == 0;
	struct ps_capture_opts *o = &a->o;
	o->root = "/proc";
	o->pagemap_max = 256u << 20;
	o->exe_bodies = PS_EXE_BODIES_DELETED;
	o->exe_body_max = 64u << 20;
	o->read_timeout_ns = 5000000000ull;
	o->hash_max = PS_HASH_MAX_DEFAULT;
	/* Plain pagemap reads, never PAGEMAP_SCAN: for tests (the outputs
	 * must be identical) and for measuring (bench/). */
	const char *noscan = getenv("PROCSNAP_NO_PAGEMAP_SCAN");
	o->no_pagemap_scan = noscan && *noscan && strcmp(noscan, "0") != 0;

	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:fp:x:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			a->out = optarg;
			break;
		case 'f':
			a->force = 1;
			break;
		case 'p': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v <= 0 || v > INT_MAX)
				return args_done(a, cli_usage("capture", "bad pid '%s'", optarg));
			a->pids = ps_xrealloc(a->pids, (a->npids + 1) * sizeof(*a->pids));
			a->pids[a->npids++] = (int)v;
			break;
		}
		case 'x':
			a->excl = ps_xrealloc(a->excl, (a->nexcl + 1) * sizeof(*a->excl));
			a->excl[a->nexcl++] = optarg;
			break;
		case 'q':
			a->quiet = 1;
			break;
		case OPT_NO_THREADS:
			o->no_threads = 1;
			break;
		case OPT_NO_SMAPS:
			o->no_smaps = 1;
			break;
		case OPT_NO_PAGEMAP:
			o->no_pagemap = 1;
			break;
		case OPT_NUMA:
			o->numa_maps = 1;
			break;
		case OPT_PAGEMAP_MAX:
			if (parse_size(optarg, &o->pagemap_max) < 0)
				return args_done(a, cli_usage("capture", "bad size '%s'", optarg));
			break;
		case OPT_ROOT:
			o->root = optarg;
			break;
		case OPT_NO_INDEX:
			a->no_index = 1;
			break;
		case OPT_CASE:
			a->case_id = optarg;
			break;
		case OPT_EXAMINER:
			a->examiner = optarg;
			break;
		case OPT_EVIDENCE:
			a->evidence = optarg;
			break;
		case OPT_NOTE:
			a->note = optarg;
			break;
		case OPT_EXE_BODIES:
			if (strcmp(optarg, "none") == 0)
				o->exe_bodies = PS_EXE_BODIES_NONE;
			else if (strcmp(optarg, "deleted") == 0)
				o->exe_bodies = PS_EXE_BODIES_DELETED;
			else if (strcmp(optarg, "all") == 0)
				o->exe_bodies = PS_EXE_BODIES_ALL;
			else
				return args_done(
				    a, cli_usage("capture",
						 "--exe-bodies takes none, deleted or all"));
			break;
		case OPT_EXE_BODY_MAX:
			if (parse_size(optarg, &o->exe_body_max) < 0)
				return args_done(a, cli_usage("capture", "bad size '%s'", optarg));
			break;
		case OPT_READ_TIMEOUT:
		case OPT_DEADLINE:
			if (parse_seconds(optarg, c == OPT_DEADLINE ? &o->deadline_ns
								    : &o->read_timeout_ns) < 0)
				return args_done(
				    a, cli_usage("capture", "bad number of seconds '%s'", optarg));
			break;
		case OPT_SUSPICIOUS:
			o->suspicious_pages = 1;
			break;
		case OPT_SUSPICIOUS_MAX:
			if (parse_size(optarg, &o->suspicious_max) < 0 || o->suspicious_max == 0)
				return args_done(a, cli_usage("capture", "bad size '%s'", optarg));
			break;
		case OPT_HASH_MAX:
			if (parse_size(optarg, &o->hash_max) < 0)
				return args_done(a, cli_usage("capture", "bad size '%s'", optarg));
			o->no_hash = o->hash_max == 0;
			break;
		case OPT_NO_HASH:
			o->no_hash = 1;
			break;
		case OPT_NO_READ_AHEAD:
			o->no_read_ahead = 1;
			break;
		case 'h':
			fputs(help, stdout);
			return args_done(a, 0);
		default:
			return args_done(a, cli_bad_option("capture", "o:fp:x:qh", longopts, argv));
		}
	}
	if (optind < argc)
		return args_done(a, cli_usage("capture", "unexpected argument '%s'", argv[optind]));
	a->o.pids = a->pids;
	a->o.npids = a->npids;
	a->o.excludes = a->excl;
	a->o.nexcludes = a->nexcl;
	return -1;
}

/* procsnap/meta.json: the capture's identity, host, case and options. */
static void meta_json(struct ps_buf *meta, const struct cap_args *a,
		      const struct ps_capture_opts *o, uint64_t start_real)
{
	ps_buf_addf(meta, "{\n\"format_version\":%d,\n", PS_FORMAT_VERSION);
	json_kv_str(meta, "tool_version", PROCSNAP_VERSION);
	char uuid[37];
	json_kv_str(meta, "snapshot_uuid", mint_uuid(uuid) == 0 ? uuid : NULL);
	ps_buf_addf(meta, "\"start_ns\":%llu,\n", (unsigned long long)start_real);
	{
		/* the capturer's zone, for osquery's time.local_timezone */
		time_t now = (time_t)(start_real / 1000000000u);
		struct tm lt;
		char tz[64] = "";
		if (localtime_r(&now, &lt))
			strftime(tz, sizeof(tz), "%Z", &lt);
		json_kv_str(meta, "local_timezone", tz[0] ? tz : NULL);
	}
	/* procsnap's own process and its parent (diff sets them apart); only
	 * for the live /proc, where these pids are the captured ones */
	if (strcmp(o->root, "/proc") == 0)
		ps_buf_addf(meta, "\"capture_pid\":%d,\n\"capture_ppid\":%d,\n", (int)getpid(),
			    (int)getppid());
	ps_capture_host_facts(o->root, meta);
	json_kv_str(meta, "case_id", a->case_id);
	json_kv_str(meta, "examiner", a->examiner);
	json_kv_str(meta, "evidence", a->evidence);
	json_kv_str(meta, "note", a->note);
	ps_buf_addf(meta,
		    "\"never_read\":[\"kcore\",\"kmsg\",\"vmcore\",\"sysrq-trigger\","
		    "\"kpageflags\",\"kpagecount\",\"kpagecgroup\",\"<pid>/mem%s\","
		    "\"<pid>/clear_refs\",\"write-only files\"],\n",
		    o->suspicious_pages ? " (but the pages --suspicious-pages flags)" : "");
	ps_buf_adds(meta, "\"options\":{\"pids\":[");
	for (size_t i = 0; i < a->npids; i++)
		ps_buf_addf(meta, "%s%d", i ? "," : "", a->pids[i]);
	ps_buf_adds(meta, "],\"exclude\":[");
	for (size_t i = 0; i < a->nexcl; i++) {
		if (i)
			ps_buf_addc(meta, ',');
		ps_buf_add_json(meta, a->excl[i], strlen(a->excl[i]));
	}
	static const char *const bodies[] = {"none", "deleted", "all"};
	ps_buf_addf(
	    meta,
	    "],\"threads\":%s,\"smaps\":%s,\"pagemap\":%s,\"numa_maps\":%s,"
	    "\"pagemap_max\":%llu,\"exe_bodies\":\"%s\",\"exe_body_max\":%llu,"
	    "\"suspicious_pages\":%s,\"suspicious_pages_max\":%llu,"
	    "\"hash\":%s,\"hash_max\":%llu,\"read_ahead\":%s,\"read_timeout_ms\":%llu,"
	    "\"deadline_ms\":",
	    o->no_threads ? "false" : "true", o->no_smaps ? "false" : "true",
	    o->no_pagemap ? "false" : "true", o->numa_maps ? "true" : "false",
	    (unsigned long long)o->pagemap_max, bodies[o->exe_bodies],
	    (unsigned long long)o->exe_body_max, o->suspicious_pages ? "true" : "false",
	    (unsigned long long)(o->suspicious_max ? o->suspicious_max : PS_SUSPICIOUS_MAX_DEFAULT),
	    o->no_hash ? "false" : "true", (unsigned long long)o->hash_max,
	    o->no_read_ahead ? "false" : "true",
	    (unsigned long long)(o->read_timeout_ns / 1000000u));
	if (o->deadline_ns)
		ps_buf_addf(meta, "%llu", (unsigned long long)(o->deadline_ns / 1000000u));
	else
		ps_buf_adds(meta, "null");
	ps_buf_adds(meta, ",\"root\":");
	ps_buf_add_json(meta, o->root, strlen(o->root));
	ps_buf_adds(meta, "}\n}\n");
}

/* procsnap/summary.json: counts, errors by errno, what was not captured. */
static void summary_json(struct ps_buf *summary, const struct sink_ctx *sc,
			 const struct ps_writer_stats *ws, const struct ps_capture_stats *cst,
			 uint64_t start_real)
{
	uint64_t end_real = ps_real_ns();
	ps_buf_addf(summary,
		    "{\n\"end_ns\":%llu,\n\"duration_ns\":%llu,\n\"processes\":%llu,\n"
		    "\"threads\":%llu,\n\"partial_processes\":%llu,\n\"hidden_pids\":[%s],\n"
		    "\"files\":%llu,\n\"links\":%llu,\n\"dirs\":%llu,\n\"absent\":%llu,\n"
		    "\"raw_bytes\":%llu,\n\"truncated_count\":%llu,\n\"truncated\":[%s],\n"
		    "\"errors\":{",
		    (unsigned long long)end_real, (unsigned long long)(end_real - start_real),
		    (unsigned long long)sc->nprocs, (unsigned long long)sc->nthreads,
		    (unsigned long long)sc->npartial, sc->hidden.buf, (unsigned long long)ws->files,
		    (unsigned long long)ws->links, (unsigned long long)ws->dirs,
		    (unsigned long long)ws->absent, (unsigned long long)ws->raw_bytes,
		    (unsigned long long)sc->ntrunc, sc->trunc.buf);
	int first = 1;
	for (int e = 1; e < 160; e++) {
		if (!ws->errors[e])
			continue;
		ps_buf_addf(summary, "%s\"%s\":%llu", first ? "" : ",",
			    e == 159 ? "other" : ps_errno_name(e),
			    (unsigned long long)ws->errors[e]);
		first = 0;
	}
	ps_buf_addf(summary,
		    "},\n\"deadline_reached\":%s,\n\"not_captured\":%llu,\n\"timeouts\":%llu,\n"
		    "\"timed_out\":[%s],\n\"on_disk_timed_out\":[%s],\n"
		    "\"hash\":{\"rows\":%llu,\"files\":%llu,\"ahead\":%llu,\"bytes\":%llu,"
		    "\"over_budget\":%llu,\"ns\":%llu},\n\"read_ahead\":{\"files\":%llu}\n}\n",
		    cst->deadline_reached ? "true" : "false", (unsigned long long)cst->not_captured,
		    (unsigned long long)cst->timeouts, sc->timedout.buf, sc->ondisk_to.buf,
		    (unsigned long long)sc->nhashes, (unsigned long long)cst->hash_files,
		    (unsigned long long)cst->hash_ahead, (unsigned long long)cst->hash_bytes,
		    (unsigned long long)cst->hash_over, (unsigned long long)cst->hash_ns,
		    (unsigned long long)cst->read_ahead);
}

/* The one-line summary on stderr (not with -q). */
static void summary_line(const struct sink_ctx *sc, const struct ps_writer_stats *fin,
			 const struct ps_capture_stats *cst, double secs)
{
	char raw[32], comp[32];
	ps_human_bytes(raw, sizeof(raw), fin->raw_bytes);
	ps_human_bytes(comp, sizeof(comp), fin->out_bytes);
	struct ps_buf line = PS_BUF_INIT;
	ps_buf_addf(&line,
		    "procsnap: captured %llu processes (%llu partial, %llu hidden), %llu "
		    "threads, %llu files, %llu links, %llu dirs, %llu unreadable; errors:",
		    (unsigned long long)sc->nprocs, (unsigned long long)sc->npartial,
		    (unsigned long long)sc->nhidden, (unsigned long long)sc->nthreads,
		    (unsigned long long)fin->files, (unsigned long long)fin->links,
		    (unsigned long long)fin->dirs, (unsigned long long)fin->absent);
	int any = 0;
	for (int e = 1; e < 160; e++)
		if (fin->errors[e]) {
			ps_buf_addf(&line, " %s %llu", e == 159 ? "other" : ps_errno_name(e),
				    (unsigned long long)fin->errors[e]);
			any = 1;
		}
	if (!any)
		ps_buf_adds(&line, " none");
	ps_buf_addf(&line, "; %s raw -> %s (%llu hardlinks, %llu frames) in %.2f s", raw, comp,
		    (unsigned long long)fin->hardlinks, (unsigned long long)fin->frames, secs);
	if (cst->timeouts)
		ps_buf_addf(&line, "; %llu timed out", (unsigned long long)cst->timeouts);
	if (cst->deadline_reached)
		ps_buf_addf(&line, "; deadline reached, %llu processes not captured",
			    (unsigned long long)cst->not_captured);
	ps_buf_addc(&line, '\n');
	fputs(line.buf, stderr);
	ps_buf_release(&line);
}

int cmd_capture(const struct ps_cli *cli, int argc, char **argv)
{
	struct cap_args args;
	int arc = parse_args(cli, argc, argv, &args);
	if (arc >= 0)
		return arc;
	struct ps_capture_opts o = args.o;
	const char *out = args.out;
	int force = args.force, quiet = args.quiet, no_index = args.no_index, rc = 2;

	/* From here on the work runs in a child process; this one waits for
	 * it or for a signal (supervise.c). */
	int src = cli_supervise("capture");
	if (src >= 0)
		return args_done(&args, src);

	struct ps_buf defname = PS_BUF_INIT, tmp = PS_BUF_INIT, meta = PS_BUF_INIT,
		      summary = PS_BUF_INIT, dbpath = PS_BUF_INIT, stale = PS_BUF_INIT;
	struct sink_ctx sc;
	struct ps_err err = {0, ""};
	struct ps_writer *w = NULL;
	int fd = -1, dirfd = -1, to_stdout = 0;
	struct ps_capture_stats cst;
	memset(&cst, 0, sizeof(cst));
	memset(&sc, 0, sizeof(sc));
	ps_buf_init(&sc.timedout);
	ps_buf_init(&sc.ondisk_to);
	ps_buf_init(&sc.procs);
	ps_buf_init(&sc.hidden);
	ps_buf_init(&sc.trunc);
	ps_buf_init(&sc.hashes);
	ps_buf_adds(&sc.hashes, "# path\tmember\tsource\tpid\tdev\tino\tmtime_ns\tsize\tmd5\tsha1\t"
				"sha256\tstatus\n");
	sc.spill_dir = -1;
	sc.hashes_fd = -1;
	signal(SIGPIPE, SIG_IGN);

	uint64_t start_real = ps_real_ns();
	o.start_ns = sc.start_ns = ps_mono_ns();
	if (!out) {
		char host[256] = "host";
		gethostname(host, sizeof(host) - 1);
		time_t now = (time_t)(start_real / 1000000000u);
		struct tm tm;
		gmtime_r(&now, &tm);
		char ts[32];
		strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
		ps_buf_addf(&defname, "procsnap-%s-%s.tar.zst", host, ts);
		out = defname.buf;
	}
	if (strcmp(out, "-") == 0) {
		to_stdout = 1;
		no_index = 1;
		if (isatty(STDOUT_FILENO)) {
			rc = cli_fail("capture", "refusing to write an archive to a terminal "
						 "(redirect stdout or use -o FILE)");
			goto out;
		}
		fd = STDOUT_FILENO;
		/* Nothing beside the output to spool into: the manifest and large
		 * members go to unlinked files in $TMPDIR, so memory stays bounded
		 * on a pipe too. */
		const char *tmpdir = getenv("TMPDIR");
		dirfd =
		    open(tmpdir && *tmpdir ? tmpdir : "/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0) {
			rc = cli_fail("capture", "cannot use %s for temporary files: %s",
				      tmpdir && *tmpdir ? tmpdir : "/tmp", strerror(errno));
			goto out;
		}
	} else {
		if (!force && access(out, F_OK) == 0) {
			rc = cli_fail("capture", "%s exists (use --force to replace it)", out);
			goto out;
		}
		/* With --no-index an index already beside the output would
		 * describe another archive: refused, or removed with --force. */
		if (no_index) {
			ps_buf_addf(&stale, "%s.db", out);
			if (!force && access(stale.buf, F_OK) == 0) {
				rc = cli_fail("capture",
					      "%s exists, an index of another archive (use --force "
					      "to remove it)",
					      stale.buf);
				goto out;
			}
		}
		char *dcopy = ps_xstrdup(out), *bcopy = ps_xstrdup(out);
		const char *dir = dirname(dcopy), *base = basename(bcopy);
		dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0) {
			rc = cli_fail("capture", "cannot write to %s: %s", dir, strerror(errno));
			free(dcopy);
			free(bcopy);
			goto out;
		}
		ps_buf_addf(&tmp, "%s/.%s.%d.tmp", dir, base, (int)getpid());
		free(dcopy);
		free(bcopy);
		cli_tmp_add(tmp.buf);
		fd = open(tmp.buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			rc = cli_fail("capture", "cannot create %s: %s", tmp.buf, strerror(errno));
			/* not ours (EEXIST): never removed */
			cli_tmp_del(tmp.buf);
			ps_buf_reset(&tmp);
			goto out;
		}
		/* Evidence holds environments and command lines: owner only. */
		fchmod(fd, 0600);
	}

	/* The index is built in the same pipeline, from the same members. */
	const char *slash = strrchr(out, '/');
	if (!no_index)
		ps_buf_addf(&dbpath, "%s.db", out);
	struct ps_writer_opts wo = {.level = 1,
				    .frame_size = 1 << 20,
				    .spill_dirfd = dirfd,
				    .index_path = no_index ? NULL : dbpath.buf,
				    .index_force = force,
				    .archive_name = slash ? slash + 1 : out};
	/* Content over 1 MiB (a 60k-mapping smaps, an exe body) is read into an
	 * unlinked file beside the output, not into memory (issue 9): a member
	 * in memory is held by the walk, a batch and the index builder, and
	 * anything larger is rare in /proc. */
	o.spill_min = (size_t)1 << 20;
	o.spill_dirfd = dirfd;
	if (dbpath.len)
		cli_tmp_index(dbpath.buf, 1); /* the builder's temporary file, from here on */
	if (ps_writer_open(&w, fd, &wo, &err) < 0)
		goto fail;

	/* procsnap/meta.json: first member. */
	meta_json(&meta, &args, &o, start_real);
	if (add_json_member(w, PS_META_PATH, &meta, ps_mono_ns() - o.start_ns, &err) < 0)
		goto fail;

	sc.w = w;
	sc.spill_dir = dirfd;
	sc.progress = !quiet && isatty(STDERR_FILENO);
	struct ps_capture_sink sink = {&sc, on_record, on_process, on_progress, on_hash};
	if (ps_capture_run(&o, &sink, &cst, &err) < 0)
		goto fail;
	if (sc.progress)
		fputs("\r\033[K", stderr);

	struct ps_buf procs_hdr = PS_BUF_INIT;
	ps_buf_adds(&procs_hdr, "# pid\tstarttime\tpartial\thidden\tnthreads\ton_disk\n");
	ps_buf_add(&procs_hdr, sc.procs.buf, sc.procs.len);
	int prc = add_json_member(w, PS_PROCS_PATH, &procs_hdr, ps_mono_ns() - o.start_ns, &err);
	ps_buf_release(&procs_hdr);
	if (prc < 0)
		goto fail;
	if (sc.nhashes && sc.hashes_fd < 0) {
		if (add_json_member(w, PS_HASHES_PATH, &sc.hashes, ps_mono_ns() - o.start_ns,
				    &err) < 0)
			goto fail;
	} else if (sc.nhashes) {
		/* the spill file, handed to the writer (which closes it) */
		int e = sc.hashes_err ? sc.hashes_err
				      : ps_write_all(sc.hashes_fd, sc.hashes.buf, sc.hashes.len);
		if (e) {
			ps_err_set(&err, e, "hashes spool: %s", strerror(e));
			goto fail;
		}
		struct ps_member m = {.path = PS_HASHES_PATH,
				      .kind = PS_M_FILE,
				      .mode = 0100444,
				      .mtime = (int64_t)(ps_real_ns() / 1000000000u),
				      .len = (size_t)(sc.hashes_spilled + sc.hashes.len),
				      .read_ns = ps_mono_ns() - o.start_ns,
				      .spilled = 1,
				      .spill_fd = sc.hashes_fd};
		sc.hashes_fd = -1;
		if (ps_writer_add(w, &m, &err) < 0)
			goto fail;
	}

	summary_json(&summary, &sc, ps_writer_peek(w), &cst, start_real);
	if (add_json_member(w, PS_SUMMARY_PATH, &summary, ps_mono_ns() - o.start_ns, &err) < 0)
		goto fail;

	struct ps_writer_stats fin;
	if (ps_writer_finish(w, &fin, &err) < 0)
		goto fail;
	if (!to_stdout) {
		if (fsync(fd) < 0 && errno != EINVAL) {
			ps_err_set(&err, errno, "fsync %s: %s", tmp.buf, strerror(errno));
			goto fail;
		}
		if (close(fd) < 0) {
			fd = -1;
			ps_err_set(&err, errno, "close %s: %s", tmp.buf, strerror(errno));
			goto fail;
		}
		fd = -1;
		if (renameat2(AT_FDCWD, tmp.buf, AT_FDCWD, out, force ? 0 : RENAME_NOREPLACE) < 0) {
			ps_err_set(&err, errno, "cannot rename to %s: %s", out, strerror(errno));
			goto fail;
		}
		if (stale.len && unlink(stale.buf) < 0 && errno != ENOENT) {
			ps_err_set(&err, errno,
				   "archive %s written, but %s (another archive's index) "
				   "could not be removed: %s",
				   out, stale.buf, strerror(errno));
			goto fail;
		}
		fsync(dirfd);
		cli_tmp_del(tmp.buf);
		ps_buf_reset(&tmp);
	}

	char shahex[65];
	ps_hex(shahex, fin.sha256, 32);
	double secs = (double)(ps_mono_ns() - o.start_ns) / 1e9;
	if (!quiet)
		summary_line(&sc, &fin, &cst, secs);
	fprintf(stderr, "sha256 %s  %s\n", shahex, to_stdout ? "-" : out);

	rc = 0;
	if (!no_index) {
		if (ps_writer_index_publish(w, &err) < 0)
			rc = cli_fail("capture", "archive %s written, but its index failed: %s",
				      out, err.msg);
		else if (!quiet)
			fprintf(stderr, "procsnap: index %s\n", dbpath.buf);
	}
	goto out;

fail:
	if (sc.progress)
		fputs("\n", stderr);
	rc = cli_fail("capture", "%s", err.msg);
out:
	ps_writer_free(w); /* removes the index's temporary file unless published */
	if (dbpath.len)
		cli_tmp_index(dbpath.buf, 0);
	if (fd >= 0 && !to_stdout)
		close(fd);
	if (tmp.len) {
		unlink(tmp.buf);
		cli_tmp_del(tmp.buf);
	}
	if (dirfd >= 0)
		close(dirfd);
	ps_buf_release(&defname);
	ps_buf_release(&tmp);
	ps_buf_release(&stale);
	ps_buf_release(&meta);
	ps_buf_release(&summary);
	ps_buf_release(&dbpath);
	ps_buf_release(&sc.procs);
	ps_buf_release(&sc.hidden);
	ps_buf_release(&sc.trunc);
	ps_buf_release(&sc.timedout);
	ps_buf_release(&sc.ondisk_to);
	ps_buf_release(&sc.hashes);
	if (sc.hashes_fd >= 0)
		close(sc.hashes_fd);
	/* Threads abandoned in the kernel may keep this process from ending. */
	return cli_supervise_done(args_done(&args, rc), cst.stuck > 0);
}
