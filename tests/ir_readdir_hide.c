/*
 * ir_readdir_hide.c - an LD_PRELOAD library that hides one directory entry
 * from libc's readdir()/readdir64(), as userland rootkits (libprocesshider)
 * hide a pid from ps: the entry named $IR_HIDE_PID is skipped.  tests/test_ir.c
 * preloads it into procsnap to prove that the capture, which lists /proc with
 * raw getdents64, still sees the pid (and that self-preload reports it).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

static const char *hidden(void)
{
	const char *h = getenv("IR_HIDE_PID");
	return h && *h ? h : NULL;
}

struct dirent *readdir(DIR *d)
{
	static struct dirent *(*next)(DIR *);
	if (!next)
		next = (struct dirent * (*)(DIR *)) dlsym(RTLD_NEXT, "readdir");
	const char *h = hidden();
	struct dirent *e;
	while ((e = next(d)) && h && strcmp(e->d_name, h) == 0)
		;
	return e;
}

struct dirent64 *readdir64(DIR *d)
{
	static struct dirent64 *(*next)(DIR *);
	if (!next)
		next = (struct dirent64 * (*)(DIR *)) dlsym(RTLD_NEXT, "readdir64");
	const char *h = hidden();
	struct dirent64 *e;
	while ((e = next(d)) && h && strcmp(e->d_name, h) == 0)
		;
	return e;
}
