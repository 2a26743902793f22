#include "tutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <grp.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int tu_sh(struct ps_buf *out, const char *fmt, ...)
{
	struct ps_buf cmd = PS_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	ps_buf_vaddf(&cmd, fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd.buf, "r");
	ps_buf_release(&cmd);
	if (!p)
		return -1;
	if (out)
		ps_buf_reset(out);
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		if (out)
			ps_buf_add(out, buf, n);
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

const char *tu_procsnap(void)
{
	const char *p = getenv("PROCSNAP");
	return p ? p : PS_BINARY_DIR "/cli/procsnap";
}

int tu_run_rss(char *const argv[], long *kib, double *secs)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t p = fork();
	if (p == 0) {
		int nul = open("/dev/null", O_RDWR);
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	int st;
	struct rusage ru;
	if (p < 0 || wait4(p, &st, 0, &ru) != p)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*kib = ru.ru_maxrss;
	if (secs)
		*secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char tmpdir[256];

pid_t tu_spawn(const char *tmp_dir, const char *errfile, const char *const *argv)
{
	pid_t p = fork();
	if (p == 0) {
		int e = open(errfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (e < 0 || nul < 0)
			_exit(127);
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(e, 2);
		if (tmp_dir)
			setenv("TMPDIR", tmp_dir, 1);
		execv(tu_procsnap(), (char *const *)argv);
		_exit(127);
	}
	return p;
}

int tu_wait_for(pid_t pid, double secs, void (*release)(void), double *took)
{
	double start = tu_now_s();
	int st, rc = -1;
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid) {
			rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			break;
		}
		if ((r < 0 && errno != EINTR) || tu_now_s() - start > secs) {
			fprintf(stderr, "pid %d still running after %.1f s: killed\n", (int)pid,
				secs);
			kill(pid, SIGKILL);
			if (release)
				release();
			waitpid(pid, NULL, 0);
			break;
		}
		tu_sleep_ms(5);
	}
	if (took)
		*took = tu_now_s() - start;
	return rc;
}

double tu_now_s(void)
{
	return (double)ps_mono_ns() / 1e9;
}

void tu_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

const char *tu_tmpdir(void)
{
	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/procsnap-test-XXXXXX");
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			exit(2);
		}
	}
	return tmpdir;
}

void tu_cleanup(void)
{
	if (tmpdir[0] && !getenv("PS_TEST_KEEP")) {
		tu_sh(NULL, "umount -q %s/* 2>/dev/null; rm -rf %s", tmpdir, tmpdir);
	} else if (tmpdir[0]) {
		fprintf(stderr, "kept %s\n", tmpdir);
	}
}

const char *tu_victim_bin;

int tu_victim_start(struct tu_victim *v, const char *file, const char *const *args,
		    const char *const *env)
{
	return tu_victim_start_as(v, -1, -1, file, args, env);
}

int tu_victim_start_as(struct tu_victim *v, int uid, int gid, const char *file,
		       const char *const *args, const char *const *env)
{
	int in[2], out[2];
	memset(v, 0, sizeof(*v));
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		const char *argv[32];
		int n = 0;
		argv[n++] = tu_victim_bin ? tu_victim_bin : PS_BINARY_DIR "/tests/victim";
		argv[n++] = file;
		for (int i = 0; args && args[i] && n < 31; i++)
			argv[n++] = args[i];
		argv[n] = NULL;
		dup2(in[0], 0);
		dup2(out[1], 1);
		if (gid >= 0 && (setgroups(0, NULL) < 0 || setgid((gid_t)gid) < 0))
			_exit(126);
		if (uid >= 0 && setuid((uid_t)uid) < 0)
			_exit(126);
		execve(argv[0], (char *const *)argv, (char *const *)env);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	v->pid = pid;
	v->in = fdopen(in[1], "w");
	v->out = fdopen(out[0], "r");
	char line[512];
	if (!fgets(line, sizeof(line), v->out))
		return -1;
	int rpid;
	if (sscanf(
		line,
		"ready pid=%d port=%d file_fd=%d pipe_r=%d pipe_w=%d sock_fd=%d map=%lx pages=%d",
		&rpid, &v->port, &v->file_fd, &v->pipe_r, &v->pipe_w, &v->sock_fd, &v->map,
		&v->pages) != 8)
		return -1;
	return rpid == pid ? 0 : -1;
}

int tu_victim_cmd(struct tu_victim *v, char *reply, size_t n, const char *fmt, ...)
{
	/* A victim that died must fail the case with a message, not kill the
	 * test with SIGPIPE: the signal is blocked around the write and a
	 * pending one taken back. */
	sigset_t pipe_set, old;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(v->in, fmt, ap);
	va_end(ap);
	fputc('\n', v->in);
	int werr = fflush(v->in) != 0 || ferror(v->in);
	if (werr) {
		struct timespec zero = {0, 0};
		sigtimedwait(&pipe_set, NULL, &zero);
		clearerr(v->in);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	char line[512];
	if (werr || !fgets(line, sizeof(line), v->out)) {
		int st = 0;
		pid_t w = waitpid(v->pid, &st, WNOHANG);
		fprintf(stderr, "victim %d: no reply to '%s'%s", (int)v->pid, fmt,
			w == v->pid ? ": it ended" : "\n");
		if (w == v->pid) {
			fprintf(stderr, WIFSIGNALED(st) ? " by signal %d\n" : " with status %d\n",
				WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
			v->pid = -1;
		}
		return -1;
	}
	line[strcspn(line, "\n")] = '\0';
	if (reply)
		snprintf(reply, n, "%s", line);
	return strncmp(line, "ok", 2) == 0 ? 0 : -1;
}

void tu_victim_stop(struct tu_victim *v)
{
	if (v->pid > 0) {
		kill(v->pid, SIGKILL);
		waitpid(v->pid, NULL, 0);
		v->pid = 0;
	}
	if (v->in)
		fclose(v->in);
	if (v->out)
		fclose(v->out);
	v->in = v->out = NULL;
}

/* 0 and the value as text; 1 when the value is NULL (out empty); -1 on an
 * error or no row. */
static int vsql(const char *db, char *out, size_t n, const char *fmt, va_list ap)
{
	sqlite3 *d;
	sqlite3_stmt *q;
	int rc = -1;
	char *sql = sqlite3_vmprintf(fmt, ap);
	out[0] = '\0';
	if (sqlite3_open_v2(db, &d, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "tu_sql: cannot open %s\n", db);
		sqlite3_close(d);
		sqlite3_free(sql);
		return -1;
	}
	if (sqlite3_prepare_v2(d, sql, -1, &q, NULL) != SQLITE_OK) {
		fprintf(stderr, "tu_sql: %s: %s\n", sql, sqlite3_errmsg(d));
	} else {
		if (sqlite3_step(q) == SQLITE_ROW) {
			const unsigned char *t = sqlite3_column_text(q, 0);
			snprintf(out, n, "%s", t ? (const char *)t : "");
			rc = t ? 0 : 1;
		} else {
			fprintf(stderr, "tu_sql: %s: no row\n", sql);
		}
		sqlite3_finalize(q);
	}
	sqlite3_free(sql);
	sqlite3_close(d);
	return rc;
}

int tu_sql(const char *db, char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vsql(db, out, n, fmt, ap);
	va_end(ap);
	return r < 0 ? -1 : 0;
}

long long tu_sql_int(const char *db, const char *fmt, ...)
{
	char buf[64];
	va_list ap;
	va_start(ap, fmt);
	int r = vsql(db, buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* An error, no row or NULL is a value no check expects: a NULL must
	 * never pass for 0. */
	if (r != 0)
		return r < 0 ? -999999 : -999998;
	char *end;
	long long v = strtoll(buf, &end, 10);
	if (end == buf || *end) {
		fprintf(stderr, "tu_sql_int: not an integer: '%s'\n", buf);
		return -999997;
	}
	return v;
}

int tu_index_same(const char *captured, const char *rebuilt)
{
	static int n;
	char d[600];
	snprintf(d, sizeof(d), "%s/same.%d", tu_tmpdir(), n++);
	if (tu_sql_int(captured, "SELECT count(*) FROM snapshots WHERE archive_sha256 IS NULL") !=
		0 ||
	    tu_sql_int(rebuilt,
		       "SELECT count(*) FROM snapshots WHERE archive_sha256 IS NOT NULL") != 0)
		return -1;
	return tu_sh(
		   NULL,
		   "mkdir %s && cp %s %s/c.db && sqlite3 %s/c.db 'UPDATE snapshots SET "
		   "archive_sha256 = NULL' && sqlite3 %s/c.db .dump > %s/c.sql && sqlite3 %s .dump "
		   "> %s/r.sql && test -s %s/r.sql && cmp -s %s/c.sql %s/r.sql && rm -r %s",
		   d, captured, d, d, d, d, rebuilt, d, d, d, d, d) == 0
		   ? 0
		   : -1;
}

int tu_slurp(const char *path, struct ps_buf *b)
{
	ps_buf_reset(b);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	int e = ps_read_fd(fd, b, 0, NULL);
	close(fd);
	return e ? -1 : 0;
}

/* ---- triage CSV ----------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort the lines of b (no trailing newline), in place. */
void tu_sort_lines(struct ps_buf *b)
{
	char **v = NULL;
	size_t n = 0;
	char *save = NULL, *copy = ps_xstrndup(b->buf, b->len);
	for (char *t = strtok_r(copy, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
		v = ps_xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = t;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	ps_buf_reset(b);
	for (size_t i = 0; i < n; i++) {
		if (i)
			ps_buf_addc(b, '\n');
		ps_buf_adds(b, v[i]);
	}
	free(v);
	free(copy);
}

/* The findings of a CSV triage output as sorted "rule pid" lines, only the
 * rows of snapshot snap (0: any) and pid (0: any).  Into res. */
void tu_triage_rows(const char *csv, long long snap, long long pid, struct ps_buf *res)
{
	ps_buf_reset(res);
	const char *p = strstr(csv, "\r\n");
	while (p && p[2]) {
		const char *line = p + 2, *f[5];
		p = strstr(line, "\r\n");
		f[0] = line;
		for (int k = 1; k < 5; k++) {
			f[k] = strchr(f[k - 1], ',');
			if (!f[k])
				return;
			f[k]++;
		}
		long long s = strtoll(f[2], NULL, 10);
		int has_pid = f[3][0] != ',';
		long long q = has_pid ? strtoll(f[3], NULL, 10) : 0;
		if ((snap && s != snap) || (pid && (!has_pid || q != pid)))
			continue;
		if (res->len)
			ps_buf_addc(res, '\n');
		ps_buf_add(res, f[0], (size_t)(f[1] - 1 - f[0]));
		if (has_pid)
			ps_buf_addf(res, " %lld", q);
		else
			ps_buf_adds(res, " -");
	}
	tu_sort_lines(res);
}

/* The detail column of the first CSV row of rule `id` for pid (0: any). */
void tu_triage_detail(const char *csv, const char *id, long long pid, char *d, size_t n)
{
	d[0] = '\0';
	size_t il = strlen(id);
	for (const char *p = strstr(csv, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
		const char *line = p + 2;
		if (strncmp(line, id, il) != 0 || line[il] != ',')
			continue;
		const char *f = line;
		for (int k = 0; k < 3 && f; k++)
			f = strchr(f + 1, ',');
		if (!f || (pid && strtoll(f + 1, NULL, 10) != pid))
			continue;
		const char *name = strchr(f + 1, ',');
		if (!name)
			return;
		/* name may be quoted; detail is the last field */
		const char *end = strstr(line, "\r\n"), *q = name + 1;
		if (*q == '"') {
			q++;
			while (q < end && !(*q == '"' && q[1] != '"'))
				q += *q == '"' ? 2 : 1;
			q++;
		} else {
			while (q < end && *q != ',')
				q++;
		}
		q++; /* past the comma */
		size_t l = (size_t)(end - q);
		if (l && *q == '"' && q[l - 1] == '"') {
			q++;
			l -= 2;
		}
		snprintf(d, n, "%.*s", (int)l, q);
		return;
	}
}

int tu_crafted_index(const char *src, const char *name, const char *sql, char *db, size_t n)
{
	snprintf(db, n, "%s/%s", tu_tmpdir(), name);
	if (tu_sh(NULL, "cp '%s' '%s'", src, db) != 0)
		return -1;
	sqlite3 *h = NULL;
	char *msg = NULL;
	int rc =
	    sqlite3_open(db, &h) == SQLITE_OK && sqlite3_exec(h, sql, NULL, NULL, &msg) == SQLITE_OK
		? 0
		: -1;
	if (rc)
		fprintf(stderr, "crafted %s: %s\n", name, msg ? msg : sqlite3_errmsg(h));
	sqlite3_free(msg);
	sqlite3_close(h);
	return rc;
}

int tu_victim_exec(struct tu_victim *v, const char *exe, const char *const *argv,
		   const char *const *env, int (*pre)(void), char *line, size_t n, int *status)
{
	int in[2], out[2];
	memset(v, 0, sizeof(*v));
	if (status)
		*status = 0;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		if (chdir("/") < 0)
			_exit(126);
		int r = pre ? pre() : 0;
		if (r)
			_exit(r);
		execve(exe, (char *const *)argv, (char *const *)env);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	v->pid = pid;
	v->in = fdopen(in[1], "w");
	v->out = fdopen(out[0], "r");
	if (!fgets(line, (int)n, v->out)) {
		int st = 0;
		waitpid(pid, &st, 0);
		v->pid = 0;
		tu_victim_stop(v);
		if (status)
			*status = st;
		return -1;
	}
	return 0;
}

int tu_under_tmp(const char *path)
{
	static const char *const dirs[] = {"/tmp/", "/var/tmp/", "/dev/shm/", "/run/shm/"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (strncmp(path, dirs[i], strlen(dirs[i])) == 0)
			return 1;
	return 0;
}

int tu_hostile_victim(const char *dir, char *out, size_t n)
{
	snprintf(out, n, "%s/" TU_HOSTILE_NAME, dir);
	/* the shell's printf makes the name: no quoting of it on a command line */
	return tu_sh(NULL,
		     "cp %s/tests/victim '%s/v.tmp' && mv '%s/v.tmp' "
		     "\"$(printf '%%s/<script>x\\042\\047\\033' '%s')\"",
		     PS_BINARY_DIR, dir, dir, dir) == 0
		   ? 0
		   : -1;
}
