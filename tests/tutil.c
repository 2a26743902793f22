#include "tutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
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

static char tmpdir[256];

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
	va_list ap;
	va_start(ap, fmt);
	vfprintf(v->in, fmt, ap);
	va_end(ap);
	fputc('\n', v->in);
	fflush(v->in);
	char line[512];
	if (!fgets(line, sizeof(line), v->out))
		return -1;
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
