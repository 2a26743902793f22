/*
 * fuzz_manifest.c - libFuzzer harness for the manifest line parser
 * (store/reader.c ps_manifest_parse_line) and the path escaping it relies
 * on (common/ ps_escape, ps_unescape).  The input is manifest text, split
 * at newlines.  Contracts (abort on violation): a line that parses has a
 * known kind, a 32-digit hash or none, an errno whose name parses back;
 * its path, escaped again, parses back to the same bytes.
 *
 * tests/test_fuzz_regress.c includes this file with PS_FUZZ_DRIVER_ONLY.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "store.h"

static void fzm_fail(const char *what)
{
	fprintf(stderr, "manifest contract violated: %s\n", what);
	abort();
}

static int fz_manifest_one(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct ps_buf path = PS_BUF_INIT, esc = PS_BUF_INIT, back = PS_BUF_INIT;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		/* an exact-size copy, so ASan sees any read past the line */
		char *line = malloc(len ? len : 1);
		if (!line)
			abort();
		memcpy(line, p, len);
		struct ps_manifest_line ml;
		if (ps_manifest_parse_line(line, len, &path, &ml) == 0) {
			if (ps_member_kind_name(ml.kind) == NULL ||
			    ps_member_kind_parse(ps_member_kind_name(ml.kind),
						 strlen(ps_member_kind_name(ml.kind))) !=
				(int)ml.kind)
				fzm_fail("kind does not round-trip");
			if (ml.err < 0 || ps_errno_parse(ps_errno_name(ml.err)) != ml.err)
				fzm_fail("errno does not round-trip");
			if (path.len == 0)
				fzm_fail("empty path accepted");
			ps_buf_reset(&esc);
			ps_buf_reset(&back);
			ps_escape(&esc, path.buf, path.len);
			if (memchr(esc.buf, '\t', esc.len) || memchr(esc.buf, '\n', esc.len))
				fzm_fail("escaped path holds a separator");
			if (ps_unescape(&back, esc.buf, esc.len) != 0 || back.len != path.len ||
			    memcmp(back.buf, path.buf, path.len) != 0)
				fzm_fail("path does not round-trip");
		}
		free(line);
		p += len + 1;
	}
	ps_buf_release(&path);
	ps_buf_release(&esc);
	ps_buf_release(&back);
	return 0;
}

#ifndef PS_FUZZ_DRIVER_ONLY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fz_manifest_one(data, size);
}
#endif
