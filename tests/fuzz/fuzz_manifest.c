/*
 * fuzz_manifest.c - libFuzzer harness for the manifest line parser
 * (store/reader.c ps_manifest_parse_line) and the path escaping it relies
 * on (common/ ps_escape, ps_unescape).  The input is manifest text, split
 * at newlines.  Contracts (abort on violation): a line that parses has a
 * known kind, a 32-digit hash or none, an errno whose name parses back;
 * its path, escaped again, parses back to the same bytes.
 *
 * The same input goes to the JSON reader (common/json.c ps_jr, which reads
 * crossview.json): a text ps_jr_open accepts is walked to its end value by
 * value, the cursor always within the text and moving on, every value's
 * text inside the input, a decoded string no longer than its literal.
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

static void fzj_walk(struct ps_jr *r, const char *start, const char *end, struct ps_buf *tmp)
{
	enum ps_jtype t = ps_jr_peek(r);
	if (t == PS_JT_ARR || t == PS_JT_OBJ) {
		if (!ps_jr_enter(r))
			fzm_fail("json: a container not entered");
		for (;;) {
			const char *before = r->p;
			if (t == PS_JT_ARR ? !ps_jr_elem(r) : !ps_jr_key(r, tmp))
				break;
			if (ps_jr_peek(r) == PS_JT_END)
				fzm_fail("json: a member without a value");
			fzj_walk(r, start, end, tmp);
			if (r->p <= before)
				fzm_fail("json: the walk does not move on");
		}
	} else {
		struct ps_jval v;
		ps_jr_value(r, &v, tmp);
		if (v.type == PS_JT_END)
			fzm_fail("json: no value where one was checked");
		if (!v.raw || v.raw < start || v.raw + v.raw_len > end)
			fzm_fail("json: a value outside the text");
		if (v.type == PS_JT_STR && (!v.s || v.n > v.raw_len))
			fzm_fail("json: a decoded string longer than its literal");
	}
	if (r->p < start || r->p > end)
		fzm_fail("json: the cursor left the text");
}

static void fz_json_one(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1); /* exact size, for ASan */
	if (!text)
		abort();
	memcpy(text, data, size);
	struct ps_jr r;
	struct ps_buf tmp = PS_BUF_INIT;
	if (ps_jr_open(&r, text, size) == 0) {
		fzj_walk(&r, text, text + size, &tmp);
		if (r.p != r.end)
			fzm_fail("json: a checked text not walked to its end");
	}
	ps_buf_release(&tmp);
	free(text);
}

/* Both readers over one input. */
static int fz_manifest_json_one(const uint8_t *data, size_t size)
{
	fz_json_one(data, size);
	return fz_manifest_one(data, size);
}

#ifndef PS_FUZZ_DRIVER_ONLY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fz_manifest_json_one(data, size);
}
#endif
