/*
 * test_report.c - `procsnap report` (issue 13, items 2 and 3), in a real
 * browser.
 *
 * A victim runs under a hostile name (its exe copied to a temp dir as
 * `<script>x"'` + ESC: comm and cmdline carry it), with a hostile argument
 * (</script><img src=x onerror=...>) and environment (<b>, &amp;, a bidi
 * override).  Snapshot A holds it; then it opens a file and starts a
 * thread, a second victim starts, and snapshot B holds both.  The report of
 * B and the report of A -> B are checked as files (the data cannot close
 * its <script> block, two scripts only, a CSP naming the script's hash, the
 * verification state, the residency runs of the victim's touched pages),
 * then rendered by headless Chromium (--dump-dom): the
 * victim's row, name and command line are in the page as text (no element
 * was made from them), its finding (exe-in-tmp: its exe is in /tmp) links
 * to it, its details (environment, maps with residency strips) render, and
 * the page requested nothing (a net log, checked by report_netlog.py,
 * which must see the requests of a control page that makes two).  The
 * screenshots stay in the build tree: tests/report-artifacts/.
 * Without /usr/bin/chromium the browser cases are skipped (CI installs it).
 */
#include "t.h"
#include "tutil.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define VICTIM	  PS_BINARY_DIR "/tests/victim"
#define NETLOG	  PS_SOURCE_DIR "/tests/report_netlog.py"
#define DATA	  PS_SOURCE_DIR "/tests/report_data.py"
#define ARTIFACTS PS_BINARY_DIR "/tests/report-artifacts"
#define CHROMIUM  "/usr/bin/chromium"
#define EVIL_ARG  "</script><img src=x onerror=alert(1)>"
#define EVIL_ENV  "EVIL=<b>bold</b>&amp;\xe2\x80\xae!"

static char dir[512], evil_exe[600], a[600], b[600], html[600], html2[600], opened[600];
static struct tu_victim v, v2;
static int ok, started2;
static struct ps_buf out = PS_BUF_INIT, dom = PS_BUF_INIT;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s", tu_tmpdir());
	snprintf(a, sizeof(a), "%s/a.tar.zst", dir);
	snprintf(b, sizeof(b), "%s/b.tar.zst", dir);
	snprintf(html, sizeof(html), "%s/b.html", dir);
	snprintf(html2, sizeof(html2), "%s/ab.html", dir);
	snprintf(opened, sizeof(opened), "%s/opened-after-A", dir);
	if (tu_hostile_victim(dir, evil_exe, sizeof(evil_exe)) != 0 ||
	    tu_sh(NULL, "echo x > %s", opened) != 0)
		return;
	static const char *const env[] = {"PATH=/bin", EVIL_ENV, NULL};
	static const char *const args[] = {EVIL_ARG, NULL};
	tu_victim_bin = evil_exe;
	if (tu_victim_start(&v, VICTIM, args, env) != 0)
		return;
	tu_victim_bin = NULL;
	if (tu_sh(NULL, "%s capture -q --pid %d -o %s 2>/dev/null", tu_procsnap(), (int)v.pid, a))
		return;
	if (tu_victim_cmd(&v, NULL, 0, "open %s", opened) || tu_victim_cmd(&v, NULL, 0, "thread"))
		return;
	static const char *const env2[] = {"PATH=/bin", NULL};
	if (tu_victim_start(&v2, VICTIM, NULL, env2) != 0)
		return;
	started2 = 1;
	if (tu_sh(NULL, "%s capture -q --pid %d --pid %d -o %s 2>/dev/null", tu_procsnap(),
		  (int)v.pid, (int)v2.pid, b))
		return;
	ok = tu_sh(NULL, "%s report -o %s %s", tu_procsnap(), html, b) == 0 &&
	     tu_sh(NULL, "%s report -o %s %s %s", tu_procsnap(), html2, a, b) == 0;
	tu_sh(NULL, "mkdir -p %s", ARTIFACTS);
}

static void teardown(void)
{
	tu_victim_stop(&v);
	if (started2)
		tu_victim_stop(&v2);
	ps_buf_release(&out);
	ps_buf_release(&dom);
	tu_cleanup();
}

static size_t count(const char *hay, size_t n, const char *needle)
{
	size_t c = 0, l = strlen(needle);
	for (const char *p = hay; (p = memmem(p, n - (size_t)(p - hay), needle, l)); p += l)
		c++;
	return c;
}

/* The page without its JSON data block. */
static void template_part(const struct ps_buf *page, struct ps_buf *t)
{
	const char *open =
	    strstr(page->buf, "<script type=\"application/json\" id=\"procsnap-data\">");
	const char *close = open ? strstr(open, "</script>") : NULL;
	ps_buf_reset(t);
	if (!open || !close) {
		ps_buf_add(t, page->buf, page->len);
		return;
	}
	ps_buf_add(t, page->buf, (size_t)(open - page->buf));
	ps_buf_adds(t, close);
}

static void html_file(void)
{
	if (!ok)
		T_SKIP_CASE("setup failed (victims, captures or reports)");
	struct stat st;
	CHECK(stat(html, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(tu_slurp(html, &out) == 0);
	/* the data cannot close its block or open an element: exactly the two
	 * script elements of the template, no <img, no raw ESC or RLO */
	CHECK_INT(count(out.buf, out.len, "<script"), 2);
	CHECK_INT(count(out.buf, out.len, "</script"), 2);
	CHECK_INT(count(out.buf, out.len, "<img"), 0);
	CHECK(!memchr(out.buf, 0x1b, out.len));
	CHECK_INT(count(out.buf, out.len, "\xe2\x80\xae"), 0);
	/* the hostile values are in the data, escaped */
	CHECK(count(out.buf, out.len, "\\u003cscript\\u003ex\\\"'\\u001b") > 0);
	CHECK(count(out.buf, out.len,
		    "\\u003c/script\\u003e\\u003cimg src=x onerror=alert(1)\\u003e") > 0);
	CHECK(count(out.buf, out.len, "\\u003cb\\u003ebold\\u003c/b\\u003e\\u0026amp;\\u202e!") >
	      0);
	/* a CSP that allows no request and only the script by its hash */
	CHECK(count(out.buf, out.len, "content=\"default-src 'none'; script-src 'sha256-") == 1);
	/* nothing external in the page itself (data may hold any text) */
	struct ps_buf t = PS_BUF_INIT;
	template_part(&out, &t);
	CHECK(t.len > 1000 && t.len < out.len);
	CHECK_INT(count(t.buf, t.len, "http:"), 0);
	CHECK_INT(count(t.buf, t.len, "https:"), 0);
	ps_buf_release(&t);
	/* the archive beside the index was checked against its recorded SHA-256 */
	CHECK(count(out.buf, out.len, "\"state\":\"match\"") == 1);
	/* the residency picture of the victim's 64-page mapping: pages 0, 3 and
	 * 7 present, private and exclusive (class 1|8: 'I'), the rest absent */
	ps_buf_reset(&out);
	CHECK_INT(tu_sh(&out, "python3 %s %s %d %lx 12", DATA, html, (int)v.pid, v.map), 0);
	CHECK_STR(out.buf, "I..I...I....\n");
}

static void output_rules(void)
{
	if (!ok)
		T_SKIP_CASE("setup failed");
	/* an existing file is kept without --force */
	CHECK(tu_slurp(html, &out) == 0);
	size_t len = out.len;
	CHECK_INT(tu_sh(NULL, "%s report -o %s %s 2>/dev/null", tu_procsnap(), html, b), 2);
	struct stat st;
	CHECK(stat(html, &st) == 0 && (size_t)st.st_size == len);
	CHECK_INT(tu_sh(NULL, "%s report --force -o %s %s", tu_procsnap(), html, b), 0);
	/* to a pipe */
	ps_buf_reset(&out);
	CHECK_INT(tu_sh(&out, "%s report -o - %s", tu_procsnap(), b), 0);
	CHECK(strncmp(out.buf, "<!DOCTYPE html>", 15) == 0);
	/* the default name: the snapshot's base name + .html, in the cwd */
	CHECK_INT(tu_sh(NULL, "mkdir -p %s/cwd && cd %s/cwd && %s report %s && test -s b.html", dir,
			dir, tu_procsnap(), b),
		  0);
	/* usage and bad input */
	CHECK_INT(tu_sh(NULL, "%s report 2>/dev/null", tu_procsnap()), 2);
	CHECK_INT(
	    tu_sh(NULL, "%s report -o %s/x.html %s %s %s 2>/dev/null", tu_procsnap(), dir, a, b, b),
	    2);
	CHECK_INT(tu_sh(NULL, "%s report -o %s/x.html %s/nosuch.tar.zst 2>/dev/null", tu_procsnap(),
			dir, dir),
		  2);
	char x[700];
	snprintf(x, sizeof(x), "%s/x.html", dir);
	CHECK(access(x, F_OK) != 0);
}

static void verify_states(void)
{
	if (!ok)
		T_SKIP_CASE("setup failed");
	/* a changed archive: its SHA-256 no longer matches the recorded one */
	CHECK_INT(
	    tu_sh(NULL,
		  "mkdir -p %s/t %s/lone && cp %s %s/t/t.tar.zst && cp %s.db %s/t/t.tar.zst.db && "
		  "printf x >> %s/t/t.tar.zst && cp %s.db %s/lone/lone.db",
		  dir, dir, b, dir, b, dir, dir, b, dir),
	    0);
	ps_buf_reset(&out);
	CHECK_INT(tu_sh(&out, "%s report -o - %s/t/t.tar.zst", tu_procsnap(), dir), 0);
	CHECK_INT(count(out.buf, out.len, "\"state\":\"mismatch\""), 1);
	/* an index alone: no archive to hash, no pictures, and the page says so */
	ps_buf_reset(&out);
	CHECK_INT(tu_sh(&out, "cd / && %s report -o - %s/lone/lone.db", tu_procsnap(), dir), 0);
	CHECK_INT(count(out.buf, out.len, "\"state\":\"no-archive\""), 1);
	CHECK(count(out.buf, out.len, "the archive is not beside the index") == 1);
}

/* Render url with headless Chromium into dom (--dump-dom); netlog: where
 * the net log goes (NULL: none).  0 or the exit status. */
static int chromium(const char *url, const char *netlog, const char *shot, int height)
{
	char ud[700];
	snprintf(ud, sizeof(ud), "%s/chromium.XXXXXX", dir);
	if (!mkdtemp(ud))
		return -1;
	struct ps_buf cmd = PS_BUF_INIT;
	ps_buf_addf(&cmd,
		    "timeout 120 " CHROMIUM " --headless --no-sandbox --disable-gpu --disable-quic "
		    "--no-first-run --disable-background-networking --disable-component-update "
		    "--disable-sync --user-data-dir=%s --host-resolver-rules='MAP * ~NOTFOUND' "
		    "--window-size=1400,%d",
		    ud, height);
	if (netlog)
		ps_buf_addf(&cmd, " --log-net-log=%s", netlog);
	if (shot)
		ps_buf_addf(&cmd, " --screenshot=%s", shot);
	else
		ps_buf_adds(&cmd, " --dump-dom");
	ps_buf_addf(&cmd, " '%s' 2>/dev/null", url);
	ps_buf_reset(&dom);
	int rc = tu_sh(shot ? NULL : &dom, "%s", cmd.buf);
	ps_buf_release(&cmd);
	tu_sh(NULL, "rm -rf %s", ud);
	return rc;
}

static int have_chromium(void)
{
	return access(CHROMIUM, X_OK) == 0;
}

/* A crafted index: mappings that overlap, cover the whole address space or
 * have a negative length, and a parent loop.  The report is still made
 * (residency drawn where it can be, the loop's processes in the tree). */
static void hostile_index(void)
{
	if (!ok)
		T_SKIP_CASE("setup failed");
	char src[700], db[700], sql[512], page[700];
	snprintf(src, sizeof(src), "%s.db", b);
	snprintf(sql, sizeof(sql),
		 "UPDATE map_info SET start_addr = 0, len = 9223372036854775807 "
		 "WHERE map_id %% 3 = 0;"
		 "UPDATE map_info SET len = -4096 WHERE map_id %% 3 = 1;"
		 "UPDATE processes SET parent = %d WHERE pid = %d;"
		 "UPDATE processes SET parent = %d WHERE pid = %d;",
		 (int)v2.pid, (int)v.pid, (int)v.pid, (int)v2.pid);
	CHECK_INT(tu_crafted_index(src, "crafted.tar.zst.db", sql, db, sizeof(db)), 0);
	CHECK_INT(tu_sh(NULL, "cp %s %s/crafted.tar.zst", b, dir), 0);
	snprintf(page, sizeof(page), "%s/crafted.html", dir);
	CHECK_INT(tu_sh(NULL, "%s report -o %s %s/crafted.tar.zst", tu_procsnap(), page, dir), 0);
	if (!have_chromium())
		return;
	char url[800], s[128];
	snprintf(url, sizeof(url), "file://%s#p=%d", page, (int)v.pid);
	CHECK_INT(chromium(url, NULL, NULL, 2000), 0);
	CHECK(strstr(dom.buf, "data-ready=\"1\"") != NULL);
	snprintf(s, sizeof(s), "<td class=\"n\">%d</td>", (int)v.pid);
	CHECK(strstr(dom.buf, s) != NULL);
	snprintf(s, sizeof(s), "<td class=\"n\">%d</td>", (int)v2.pid);
	CHECK(strstr(dom.buf, s) != NULL);
}

static void browser_dom(void)
{
	if (!ok)
		T_SKIP_CASE("setup failed");
	if (!have_chromium())
		T_SKIP_CASE(CHROMIUM " not installed (apt-get install chromium)");
	char url[700], s[256], netlog[700];
	snprintf(url, sizeof(url), "file://%s#p=%d", html, (int)v.pid);
	snprintf(netlog, sizeof(netlog), "%s/net-report.json", dir);
	CHECK_INT(chromium(url, netlog, NULL, 2000), 0);
	/* the script ran (so the CSP let it, by its hash) and drew the page */
	CHECK(strstr(dom.buf, "data-ready=\"1\"") != NULL);
	/* the victim's tree row, its name and command line as text */
	snprintf(s, sizeof(s), "<td class=\"n\">%d</td>", (int)v.pid);
	CHECK(strstr(dom.buf, s) != NULL);
	CHECK(strstr(dom.buf, "<span class=\"name\">&lt;script&gt;x\"'<span "
			      "class=\"esc\">\\x1b</span></span>") != NULL);
	CHECK(strstr(dom.buf, "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;") != NULL);
	/* no element was made from them: still the template's two scripts, no
	 * image; every link is an anchor in the page, nothing has a src */
	CHECK_INT(count(dom.buf, dom.len, "<script"), 2);
	CHECK_INT(count(dom.buf, dom.len, "<img"), 0);
	CHECK_INT(count(dom.buf, dom.len, " src=\""), 0); /* an attribute: quoted */
	CHECK_INT(count(dom.buf, dom.len, "href=\""), count(dom.buf, dom.len, "href=\"#"));
	CHECK(!memchr(dom.buf, 0x1b, dom.len));
	/* its finding, linking to it */
	CHECK(strstr(dom.buf, "<b>exe-in-tmp</b>") != NULL);
	snprintf(s, sizeof(s), "<a href=\"#p=%d\">%d</a>", (int)v.pid, (int)v.pid);
	CHECK(strstr(dom.buf, s) != NULL);
	/* its details (#p=PID): heading, environment, fds, maps with pictures */
	snprintf(s, sizeof(s), "<h3>PID %d <span class=\"name\">&lt;script&gt;", (int)v.pid);
	CHECK(strstr(dom.buf, s) != NULL);
	CHECK(strstr(dom.buf,
		     "&lt;b&gt;bold&lt;/b&gt;&amp;amp;<span class=\"esc\">\\u202e</span>!") !=
	      NULL);
	CHECK(strstr(dom.buf, opened) != NULL); /* the file it opened (an fd) */
	CHECK(count(dom.buf, dom.len, "<canvas class=\"res\"") >= 5);
	/* ... and the page requested nothing */
	ps_buf_reset(&out);
	CHECK_INT(tu_sh(&out, "python3 %s %s", NETLOG, netlog), 0);
	CHECK_STR(out.buf, "");
}

/* The net log check sees a page's requests: a control page makes two. */
static void netlog_control(void)
{
	if (!have_chromium())
		T_SKIP_CASE(CHROMIUM " not installed (apt-get install chromium)");
	char page[700], url[800], netlog[700];
	snprintf(page, sizeof(page), "%s/control.html", dir);
	snprintf(url, sizeof(url), "file://%s", page);
	snprintf(netlog, sizeof(netlog), "%s/net-control.json", dir);
	FILE *f = fopen(page, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs("<!DOCTYPE html><html><body><img src=\"http://control.invalid/x.png\">"
	      "<script>fetch('https://control.invalid/y').catch(function () {});</script>"
	      "</body></html>\n",
	      f);
	fclose(f);
	CHECK_INT(chromium(url, netlog, NULL, 2000), 0);
	ps_buf_reset(&out);
	CHECK_INT(tu_sh(&out, "python3 %s %s", NETLOG, netlog), 0);
	CHECK(strstr(out.buf, "http://control.invalid/x.png\n") != NULL);
	CHECK(strstr(out.buf, "https://control.invalid/y\n") != NULL);
}

static void browser_diff(void)
{
	if (!ok)
		T_SKIP_CASE("setup failed");
	if (!have_chromium())
		T_SKIP_CASE(CHROMIUM " not installed (apt-get install chromium)");
	char url[700], s[256];
	snprintf(url, sizeof(url), "file://%s", html2);
	CHECK_INT(chromium(url, NULL, NULL, 2000), 0);
	CHECK(strstr(dom.buf, "data-ready=\"1\"") != NULL);
	/* the Changes section is shown, with v2 started and v changed */
	CHECK(strstr(dom.buf, "<section id=\"diff\">") != NULL);
	CHECK(strstr(dom.buf, "<h3>Started (1)</h3>") != NULL);
	CHECK(strstr(dom.buf, "<h3>Exited (0)</h3>") != NULL);
	CHECK(strstr(dom.buf, "<h3>Changed (1)</h3>") != NULL);
	snprintf(s, sizeof(s), "<tr class=\"add\"><td class=\"n\"><a href=\"#p=%d\">%d</a>",
		 (int)v2.pid, (int)v2.pid);
	CHECK(strstr(dom.buf, s) != NULL);
	CHECK(strstr(dom.buf, opened) != NULL);
	CHECK(strstr(dom.buf, "<td>opened</td>") != NULL);
	/* in the tree: v2 new, v changed */
	snprintf(s, sizeof(s), "<tr class=\"new\"><td class=\"n\">%d</td>", (int)v2.pid);
	CHECK(strstr(dom.buf, s) != NULL);
	snprintf(s, sizeof(s), "<tr class=\"changed\"><td class=\"n\">%d</td>", (int)v.pid);
	CHECK(strstr(dom.buf, s) != NULL);
	CHECK_INT(count(dom.buf, dom.len, "<script"), 2);
}

static void browser_screenshot(void)
{
	if (!ok)
		T_SKIP_CASE("setup failed");
	if (!have_chromium())
		T_SKIP_CASE(CHROMIUM " not installed (apt-get install chromium)");
	char url[700];
	const char *shots[2] = {ARTIFACTS "/report.png", ARTIFACTS "/report-diff.png"};
	for (int i = 0; i < 2; i++) {
		unlink(shots[i]);
		if (i == 0)
			snprintf(url, sizeof(url), "file://%s#p=%d", html, (int)v.pid);
		else
			snprintf(url, sizeof(url), "file://%s", html2);
		CHECK_INT(chromium(url, NULL, shots[i], i ? 3600 : 2000), 0);
		struct stat st;
		/* a blank page of this size compresses to a few KiB */
		CHECK(stat(shots[i], &st) == 0 && st.st_size > 30000);
		printf("screenshot: %s (%lld bytes)\n", shots[i], (long long)st.st_size);
	}
	tu_sh(NULL, "cp %s %s/report.html && cp %s %s/report-diff.html", html, ARTIFACTS, html2,
	      ARTIFACTS);
}

static const struct t_case t_cases[] = {T(html_file),	  T(output_rules),	 T(verify_states),
					T(hostile_index), T(browser_dom),	 T(netlog_control),
					T(browser_diff),  T(browser_screenshot), {NULL, NULL}};
T_MAIN_SETUP(t_cases, setup, teardown)
