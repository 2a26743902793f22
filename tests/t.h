/*
 * t.h - a tiny test harness.  One executable per test file, registered with
 * CTest by tests/CMakeLists.txt.  Each TEST(name) is run by main() in order;
 * a failed CHECK prints file:line and the values, the test goes on, and the
 * process exits 1 at the end.
 *
 * `test_x NAME...` runs only the named cases; a name that is not a case is
 * an error (exit 2), never an empty success.
 *
 * Skips are never silent:
 *   T_SKIP(reason)       the whole file cannot run here: prints the reason
 *                        and exits 77 (CTest SKIP_RETURN_CODE), or 1 if a
 *                        case already failed;
 *   T_SKIP_CASE(reason)  this case cannot run here: prints "skip NAME:
 *                        reason" and returns from the case.  The file exits
 *                        77 when every case it ran was skipped, else it
 *                        passes and says how many were skipped.
 */
#ifndef PS_T_H
#define PS_T_H
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int t_failures;
extern const char *t_argv0;
extern const char *t_current; /* name of the running case */
extern int t_case_skipped;    /* set by T_SKIP_CASE */
void t_skip_file(const char *reason) __attribute__((noreturn));
void t_skip_case(const char *reason);
extern const char *t_srcdir; /* PS_SOURCE_DIR, the project root */
extern const char *t_bindir; /* PS_BINARY_DIR, the build root */

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c);      \
			t_failures++;                                                              \
		}                                                                                  \
	} while (0)
#define CHECK_INT(a, b)                                                                            \
	do {                                                                                       \
		long long t_a_ = (long long)(a), t_b_ = (long long)(b);                            \
		if (t_a_ != t_b_) {                                                                \
			fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__,        \
				__LINE__, #a, #b, t_a_, t_b_);                                     \
			t_failures++;                                                              \
		}                                                                                  \
	} while (0)
#define CHECK_U64(a, b)                                                                            \
	do {                                                                                       \
		unsigned long long t_a_ = (unsigned long long)(a), t_b_ = (unsigned long long)(b); \
		if (t_a_ != t_b_) {                                                                \
			fprintf(stderr, "%s:%d: %s == %s failed: %llu != %llu\n", __FILE__,        \
				__LINE__, #a, #b, t_a_, t_b_);                                     \
			t_failures++;                                                              \
		}                                                                                  \
	} while (0)
#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *t_a_ = (a), *t_b_ = (b);                                               \
		if (!t_a_ || !t_b_ || strcmp(t_a_, t_b_) != 0) {                                   \
			fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__,    \
				__LINE__, #a, #b, t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)"); \
			t_failures++;                                                              \
		}                                                                                  \
	} while (0)
/* Compare a (ptr,len) slice with a C string. */
#define CHECK_MEM(p, n, s)                                                                         \
	do {                                                                                       \
		const char *t_p_ = (const char *)(p), *t_s_ = (s);                                 \
		size_t t_n_ = (size_t)(n);                                                         \
		if (t_n_ != strlen(t_s_) || (t_n_ && memcmp(t_p_, t_s_, t_n_) != 0)) {             \
			fprintf(stderr, "%s:%d: %s == \"%s\" failed: got \"%.*s\"\n", __FILE__,    \
				__LINE__, #p, t_s_, (int)t_n_, t_p_ ? t_p_ : "");                  \
			t_failures++;                                                              \
		}                                                                                  \
	} while (0)
#define T_SKIP(reason) t_skip_file(reason)
#define T_SKIP_CASE(reason)                                                                        \
	do {                                                                                       \
		t_skip_case(reason);                                                               \
		return;                                                                            \
	} while (0)

/* Read samples/procfs/NAME whole into a malloc'ed, NUL-terminated buffer;
 * a missing file counts as a failure and yields an empty buffer. */
static inline char *t_load_sample(const char *name, size_t *len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/samples/procfs/%s", t_srcdir, name);
	FILE *f = fopen(path, "rb");
	char *b = NULL;
	size_t n = 0, cap = 0;
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		t_failures++;
	} else {
		for (;;) {
			if (n + 4096 + 1 > cap) {
				cap = cap ? cap * 2 : 65536;
				char *nb = realloc(b, cap);
				if (!nb)
					abort();
				b = nb;
			}
			size_t r = fread(b + n, 1, cap - n - 1, f);
			if (r == 0)
				break;
			n += r;
		}
		fclose(f);
	}
	if (!b && !(b = malloc(1)))
		abort();
	b[n] = '\0';
	*len = n;
	return b;
}

struct t_case {
	const char *name;
	void (*fn)(void);
};
/* Each test file defines: static const struct t_case t_cases[] = {T(foo), T(bar), {0,0}}; */
#define T(fn)                                                                                      \
	{                                                                                          \
#fn, fn                                                                            \
	}
#define T_MAIN(cases) T_MAIN_SETUP(cases, NULL, NULL)
/* setup() runs before the first test, teardown() after the last (also when
 * the file is skipped with T_SKIP). */
#define T_MAIN_SETUP(cases, setup, teardown)                                                       \
	int t_failures, t_case_skipped;                                                            \
	const char *t_argv0, *t_current = "", *t_srcdir = PS_SOURCE_DIR,                           \
			     *t_bindir = PS_BINARY_DIR;                                            \
	static void (*t_teardown_)(void) = (teardown);                                             \
	void t_skip_file(const char *reason)                                                       \
	{                                                                                          \
		printf("SKIP: %s\n", reason);                                                      \
		fflush(stdout);                                                                    \
		if (t_teardown_)                                                                   \
			t_teardown_();                                                             \
		exit(t_failures ? 1 : 77);                                                         \
	}                                                                                          \
	void t_skip_case(const char *reason)                                                       \
	{                                                                                          \
		printf("skip %s: %s\n", t_current, reason);                                        \
		t_case_skipped = 1;                                                                \
	}                                                                                          \
	int main(int argc, char **argv)                                                            \
	{                                                                                          \
		void (*t_setup_)(void) = (setup);                                                  \
		int t_ran_ = 0, t_skipped_ = 0;                                                    \
		t_argv0 = argv[0];                                                                 \
		for (int t_a_ = 1; t_a_ < argc; t_a_++) {                                          \
			const struct t_case *t_c_ = (cases);                                       \
			while (t_c_->name && strcmp(t_c_->name, argv[t_a_]) != 0)                  \
				t_c_++;                                                            \
			if (!t_c_->name) {                                                         \
				fprintf(stderr, "%s: no test case '%s'; the cases are:", argv[0],  \
					argv[t_a_]);                                               \
				for (t_c_ = (cases); t_c_->name; t_c_++)                           \
					fprintf(stderr, " %s", t_c_->name);                        \
				fputc('\n', stderr);                                               \
				return 2;                                                          \
			}                                                                          \
		}                                                                                  \
		if (t_setup_)                                                                      \
			t_setup_();                                                                \
		for (const struct t_case *t_c_ = (cases); t_c_->name; t_c_++) {                    \
			int t_asked_ = argc == 1;                                                  \
			for (int t_a_ = 1; t_a_ < argc && !t_asked_; t_a_++)                       \
				t_asked_ = strcmp(argv[t_a_], t_c_->name) == 0;                    \
			if (!t_asked_)                                                             \
				continue;                                                          \
			int t_before_ = t_failures;                                                \
			t_current = t_c_->name;                                                    \
			t_case_skipped = 0;                                                        \
			t_c_->fn();                                                                \
			t_ran_++;                                                                  \
			if (t_failures != t_before_)                                               \
				printf("FAIL %s\n", t_c_->name);                                   \
			else if (t_case_skipped)                                                   \
				t_skipped_++;                                                      \
			else                                                                       \
				printf("ok   %s\n", t_c_->name);                                   \
			fflush(stdout);                                                            \
		}                                                                                  \
		if (t_teardown_)                                                                   \
			t_teardown_();                                                             \
		if (t_failures)                                                                    \
			return 1;                                                                  \
		if (t_ran_ > 0 && t_skipped_ == t_ran_) {                                          \
			printf("SKIP: every case asked for was skipped\n");                        \
			return 77;                                                                 \
		}                                                                                  \
		if (t_skipped_)                                                                    \
			printf("%d of %d cases skipped (reasons above)\n", t_skipped_, t_ran_);    \
		return 0;                                                                          \
	}
#endif
