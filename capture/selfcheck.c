/*
 * selfcheck.c - procsnap's own integrity, for meta.json (issue 11 item 3).
 *
 * A capture is only as honest as the process taking it: a library preloaded
 * into procsnap (LD_PRELOAD, LD_AUDIT, /etc/ld.so.preload) can filter what
 * it reads, a tracer can rewrite its memory.  What procsnap can see of that
 * from inside is recorded under "self" in meta.json, and triage flags it
 * (rules self-preload, ld-so-preload, self-foreign-code, self-traced):
 *
 *   loader_env       LD_* and GLIBC_TUNABLES from /proc/self/environ (the
 *                    kernel's copy of the initial environment: unsetenv()
 *                    after loading does not hide a preload there);
 *   ld_so_preload    the content of /etc/ld.so.preload (null when absent);
 *   static           no PT_INTERP in our program headers: no dynamic loader
 *                    ran, nothing could be preloaded;
 *   tracer_pid       TracerPid of /proc/self/status (or of the supervising
 *                    procsnap that started this worker, cli/supervise.c);
 *   foreign_objects  loaded objects (dl_iterate_phdr, the loader's link map)
 *                    that are not in the DT_NEEDED closure of the executable:
 *                    preloaded, audit or dlopen'ed libraries (procsnap itself
 *                    dlopens nothing before this runs);
 *   foreign_mappings executable file mappings of /proc/self/maps that lie in
 *                    no loaded object's PT_LOAD segments: code mapped by
 *                    hand (an injector), invisible to the link map.
 * This reads our own /proc/self, never the --root tree.
 */
#include "capture.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "procfs.h"

#define PRELOAD_MAX  (64u << 10)
#define NAME_MAX_LEN 4096

struct seg {
	uintptr_t start, end;
};

struct obj {
	char *path;   /* dlpi_name, or the exe's path for the main program */
	char *soname; /* DT_SONAME, or NULL */
	char **needed;
	size_t nneeded;
	struct seg *segs;
	size_t nsegs;
	int main, vdso, interp, in_closure;
};

struct objs {
	struct obj *v;
	size_t n;
};

/* A NUL-terminated string at p inside one of o's segments, or NULL. */
static const char *seg_str(const struct obj *o, uintptr_t p)
{
	for (size_t i = 0; i < o->nsegs; i++) {
		if (p < o->segs[i].start || p >= o->segs[i].end)
			continue;
		size_t room = o->segs[i].end - p;
		const char *s = (const char *)p;
		size_t n = strnlen(s, room < NAME_MAX_LEN ? room : NAME_MAX_LEN);
		return n < room && n < NAME_MAX_LEN ? s : NULL;
	}
	return NULL;
}

static int collect(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct objs *os = arg;
	os->v = ps_xrealloc(os->v, (os->n + 1) * sizeof(*os->v));
	struct obj *o = &os->v[os->n++];
	memset(o, 0, sizeof(*o));
	o->main = os->n == 1; /* the link map starts with the main program */
	const ElfW(Phdr) *dyn = NULL;
	for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD) {
			o->segs = ps_xrealloc(o->segs, (o->nsegs + 1) * sizeof(*o->segs));
			o->segs[o->nsegs].start = info->dlpi_addr + ph->p_vaddr;
			o->segs[o->nsegs].end = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
			o->nsegs++;
		} else if (ph->p_type == PT_DYNAMIC) {
			dyn = ph;
		}
	}
	const char *name = info->dlpi_name;
	o->vdso = !o->main && name && strncmp(name, "linux-vdso", 10) == 0;
	/* the dynamic loader itself (PT_INTERP), at AT_BASE */
	o->interp = !o->main && getauxval(AT_BASE) != 0 && info->dlpi_addr == getauxval(AT_BASE);
	o->path = ps_xstrdup(name ? name : "");
	if (!dyn)
		return 0;
	/* The loader relocates d_ptr in place for most objects, not for
	 * read-only dynamic sections (the vDSO) nor under musl: a value below
	 * the load address is still relative. */
	const ElfW(Dyn) *d = (const ElfW(Dyn) *)(info->dlpi_addr + dyn->p_vaddr);
	uintptr_t strtab = 0;
	size_t nd = dyn->p_memsz / sizeof(*d);
	for (size_t i = 0; i < nd && d[i].d_tag != DT_NULL; i++)
		if (d[i].d_tag == DT_STRTAB)
			strtab = d[i].d_un.d_ptr;
	if (!strtab)
		return 0;
	if (strtab < info->dlpi_addr)
		strtab += info->dlpi_addr;
	for (size_t i = 0; i < nd && d[i].d_tag != DT_NULL; i++) {
		if (d[i].d_tag != DT_NEEDED && d[i].d_tag != DT_SONAME)
			continue;
		const char *s = seg_str(o, strtab + d[i].d_un.d_val);
		if (!s)
			continue;
		if (d[i].d_tag == DT_SONAME) {
			free(o->soname);
			o->soname = ps_xstrdup(s);
		} else {
			o->needed = ps_xrealloc(o->needed, (o->nneeded + 1) * sizeof(*o->needed));
			o->needed[o->nneeded++] = ps_xstrdup(s);
		}
	}
	return 0;
}

static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* Is object o what the name `want` (a DT_NEEDED entry) loads? */
static int names(const struct obj *o, const char *want)
{
	if (o->soname && strcmp(o->soname, want) == 0)
		return 1;
	return strcmp(base(o->path), base(want)) == 0;
}

/* Mark the DT_NEEDED closure of the main program (a fixpoint over the
 * small link map). */
static void closure(struct objs *os)
{
	for (size_t i = 0; i < os->n; i++)
		os->v[i].in_closure = os->v[i].main || os->v[i].vdso || os->v[i].interp;
	for (int changed = 1; changed;) {
		changed = 0;
		for (size_t i = 0; i < os->n; i++) {
			if (!os->v[i].in_closure)
				continue;
			for (size_t k = 0; k < os->v[i].nneeded; k++)
				for (size_t j = 0; j < os->n; j++)
					if (!os->v[j].in_closure &&
					    names(&os->v[j], os->v[i].needed[k])) {
						os->v[j].in_closure = 1;
						changed = 1;
					}
		}
	}
}

static int covered(const struct objs *os, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < os->n; i++)
		for (size_t k = 0; k < os->v[i].nsegs; k++)
			if (start < os->v[i].segs[k].end && end > os->v[i].segs[k].start)
				return 1;
	return 0;
}

static void free_objs(struct objs *os)
{
	for (size_t i = 0; i < os->n; i++) {
		free(os->v[i].path);
		free(os->v[i].soname);
		for (size_t k = 0; k < os->v[i].nneeded; k++)
			free(os->v[i].needed[k]);
		free(os->v[i].needed);
		free(os->v[i].segs);
	}
	free(os->v);
}

/* Do our own program headers name an interpreter? */
static int has_interp(void)
{
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *)getauxval(AT_PHDR);
	unsigned long n = getauxval(AT_PHNUM);
	if (!ph)
		return -1;
	for (unsigned long i = 0; i < n; i++)
		if (ph[i].p_type == PT_INTERP)
			return 1;
	return 0;
}

static void loader_env(struct ps_buf *out, struct ps_buf *b)
{
	ps_buf_adds(out, "\"loader_env\":{");
	int first = 1;
	if (ps_read_at(AT_FDCWD, "/proc/self/environ", b, 1u << 20, NULL) == 0) {
		for (size_t i = 0; i < b->len;) {
			const char *s = b->buf + i;
			const char *nul = memchr(s, '\0', b->len - i);
			size_t n = nul ? (size_t)(nul - s) : b->len - i;
			const char *eq = memchr(s, '=', n);
			i += n + 1;
			if (!eq)
				continue;
			size_t kl = (size_t)(eq - s);
			if (!((kl > 3 && memcmp(s, "LD_", 3) == 0) ||
			      (kl == 14 && memcmp(s, "GLIBC_TUNABLES", 14) == 0)))
				continue;
			if (!first)
				ps_buf_addc(out, ',');
			first = 0;
			ps_buf_add_json(out, s, kl);
			ps_buf_addc(out, ':');
			ps_buf_add_json(out, eq + 1, n - kl - 1);
		}
	}
	ps_buf_adds(out, "},");
}

void ps_capture_self_facts(struct ps_buf *out)
{
	struct ps_buf b = PS_BUF_INIT;
	ps_buf_adds(out, "\"self\":{");
	loader_env(out, &b);

	int trunc = 0;
	int e = ps_read_at(AT_FDCWD, "/etc/ld.so.preload", &b, PRELOAD_MAX, &trunc);
	ps_buf_adds(out, "\"ld_so_preload\":");
	if (e == 0)
		ps_buf_add_json(out, b.buf, b.len);
	else
		ps_buf_adds(out, "null");
	ps_buf_adds(out, ",\"ld_so_preload_errno\":");
	if (e && e != ENOENT)
		ps_buf_addf(out, "\"%s\"", ps_errno_name(e));
	else
		ps_buf_adds(out, "null");

	int interp = has_interp();
	ps_buf_addf(out, ",\"static\":%s", interp < 0 ? "null" : interp ? "false" : "true");

	/* Our TracerPid; when this process is the worker of a supervising
	 * procsnap (cli/supervise.c: the one the user started, our parent,
	 * the same executable), a tracer of that one counts as well. */
	long long tracer = -1;
	struct stat se, pe;
	char ppath[64];
	int supervised = stat("/proc/self/exe", &se) == 0 && getppid() > 1 &&
			 snprintf(ppath, sizeof(ppath), "/proc/%d/exe", (int)getppid()) > 0 &&
			 stat(ppath, &pe) == 0 && se.st_dev == pe.st_dev && se.st_ino == pe.st_ino;
	for (int who = 0; who < 1 + supervised && tracer <= 0; who++) {
		snprintf(ppath, sizeof(ppath), who ? "/proc/%d/status" : "/proc/self/status",
			 (int)getppid());
		if (ps_read_at(AT_FDCWD, ppath, &b, 0, NULL) == 0) {
			struct ps_status st;
			ps_status_parse(b.buf, b.len, &st);
			if (st.tracer_pid != PS_I64_UNKNOWN)
				tracer = (long long)st.tracer_pid;
		}
	}
	if (tracer >= 0)
		ps_buf_addf(out, ",\"tracer_pid\":%lld", tracer);
	else
		ps_buf_adds(out, ",\"tracer_pid\":null");

	struct objs os = {NULL, 0};
	dl_iterate_phdr(collect, &os);
	closure(&os);
	ps_buf_adds(out, ",\"objects\":");
	ps_buf_addf(out, "%zu", os.n);
	ps_buf_adds(out, ",\"foreign_objects\":[");
	int first = 1;
	for (size_t i = 0; i < os.n; i++) {
		if (os.v[i].in_closure)
			continue;
		if (!first)
			ps_buf_addc(out, ',');
		first = 0;
		ps_buf_add_json(out, os.v[i].path, strlen(os.v[i].path));
	}
	ps_buf_adds(out, "],\"foreign_mappings\":[");
	first = 1;
	if (ps_read_at(AT_FDCWD, "/proc/self/maps", &b, 64u << 20, NULL) == 0) {
		size_t pos = 0;
		struct ps_map m;
		int r;
		while ((r = ps_maps_next(b.buf, b.len, &pos, &m)) != 0) {
			if (r < 0 || m.perms[2] != 'x' || m.path.len == 0 || m.path.p[0] != '/')
				continue;
			if (covered(&os, m.start, m.end))
				continue;
			if (!first)
				ps_buf_addc(out, ',');
			first = 0;
			struct ps_buf line = PS_BUF_INIT;
			ps_buf_addf(&line, "%llx-%llx %s ", (unsigned long long)m.start,
				    (unsigned long long)m.end, m.perms);
			ps_buf_add(&line, m.path.p, m.path.len);
			ps_buf_add_json(out, line.buf, line.len);
			ps_buf_release(&line);
		}
	}
	ps_buf_adds(out, "]},\n");
	free_objs(&os);
	ps_buf_release(&b);
}
