/*
 * test_harness.c - proves tests/t.h can fail.  Not run as a whole: each
 * CTest in tests/harness.cmake runs some of these cases and checks the exit
 * status (an unknown case name is an error, a failed CHECK is a failure, a
 * skip is never a silent pass, a file skip after a failure is a failure).
 */
#include "t.h"

static void passes(void)
{
	CHECK_INT(1 + 1, 2);
}

static void fails(void)
{
	CHECK_INT(1 + 1, 3);
}

static void skips(void)
{
	T_SKIP_CASE("this case cannot run here (on purpose)");
}

static void fails_then_skips(void)
{
	CHECK_STR("a", "b");
	T_SKIP_CASE("a skip does not hide the failure above");
}

static void skips_file(void)
{
	T_SKIP("the whole file cannot run here (on purpose)");
}

static const struct t_case t_cases[] = {T(passes),	     T(fails),	    T(skips),
					T(fails_then_skips), T(skips_file), {0, 0}};
T_MAIN(t_cases)
