/*
 * test_nil.c -- the nil map (a NULL gomap *), and the empty one.
 *
 * Go: reading a nil map gives the zero value, len is 0, range visits
 * nothing, delete and clear do nothing, maps.Clone returns nil; only an
 * assignment fails, with the ordinary panic "assignment to entry in nil
 * map" (exit status 2 when nothing recovers it). A made but empty map reads
 * the same way and is never nil.
 */
#include <sys/wait.h>

#include "child_run.h"
#include "test_util.h"

Test(nil, reads_give_the_zero_value)
{
	/* A nil map has no type, so the generic calls cannot know how many
	 * bytes a zero elem has; the typed calls below give Go's zero value. */
	int64_t key = 7, v = 0;
	gomap_access1(NULL, &key, &v);
	cr_assert(not(gomap_access2(NULL, &key, &v)), "access2 found a key in a nil map");
	cr_assert(not(gomap_access2(NULL, &key, NULL)), "access2 with no output");

	cr_assert(eq(i64, gomap_i64_get(NULL, 7), 0));
	v = 99;
	cr_assert(not(gomap_i64_lookup(NULL, 7, &v)));
	cr_assert(eq(i64, v, 0), "i64_lookup must zero the output like v, ok := m[k]");
	cr_assert(eq(i64, gomap_str_get(NULL, "k", 1), 0));
	v = 99;
	cr_assert(not(gomap_str_lookup(NULL, "k", 1, &v)));
	cr_assert(eq(i64, v, 0), "str_lookup must zero the output like v, ok := m[k]");
}

Test(nil, len_is_zero)
{
	cr_assert(eq(sz, gomap_len(NULL), 0));
}

Test(nil, iteration_visits_nothing)
{
	gomap_iter it;
	gomap_iter_init(NULL, &it);
	cr_assert(not(gomap_iter_next(&it)));
	cr_assert(not(gomap_iter_next(&it)));
}

Test(nil, delete_and_clear_do_nothing)
{
	int64_t key = 1;
	gomap_delete(NULL, &key);
	gomap_i64_delete(NULL, 1);
	gomap_str_delete(NULL, "a", 1);
	gomap_clear(NULL);
	cr_assert(eq(sz, gomap_len(NULL), 0));
}

Test(nil, clone_is_nil)
{
	cr_assert(eq(ptr, gomap_clone(NULL), NULL));
}

Test(nil, free_is_a_no_op)
{
	gomap_free(NULL);
	cr_assert(eq(sz, gomap_len(NULL), 0));
}

Test(nil, an_empty_map_is_not_nil_and_reads_the_same)
{
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	cr_assert(m != NULL);
	int64_t v = 99;
	cr_assert(not(gomap_i64_lookup(m, 3, &v)));
	cr_assert(eq(i64, v, 0));
	cr_assert(eq(i64, gomap_i64_get(m, 3), 0));
	cr_assert(eq(sz, gomap_len(m), 0));
	gomap_iter it;
	gomap_iter_init(m, &it);
	cr_assert(not(gomap_iter_next(&it)));
	del_i64(m, 3);
	clear_map(m);
	gomap *c = gomap_clone(m);
	cr_assert(c != NULL, "a clone of an empty map is an empty map, not nil");
	cr_assert(eq(sz, gomap_len(c), 0));
	CHECK_INVARIANTS(c);
	gomap_free(c);
	gomap_free(m);
}

/* ---- assignment panics ---------------------------------------------------- */

#define NIL_PANIC "panic: assignment to entry in nil map"

static void expect_nil_panic(const char *scenario, const char *api, const char *fn)
{
	child_result r;
	child_run(scenario, NULL, &r);
	child_assert_report(&r, &(expected_report){.first_line = NIL_PANIC,
	                                           .detect_api = api,
	                                           .detect_fn = fn,
	                                           .detect_who = "prober"});
	child_result_free(&r);
}

Test(nil, i64_assignment_panics)
{
	expect_nil_panic("nil-i64-set", "gomap_i64_set", "nil_i64_set");
}

Test(nil, string_assignment_panics)
{
	expect_nil_panic("nil-str-set", "gomap_str_set", "nil_str_set");
}

Test(nil, generic_assignment_panics)
{
	expect_nil_panic("nil-assign", "gomap_assign", "nil_assign");
}

Test(nil, assignment_panic_with_gotraceback_none_prints_one_line)
{
	child_result r;
	child_run("nil-i64-set", "none", &r);
	cr_assert(child_exited_with(&r, 2), "ended with %s", child_status_text(&r));
	cr_assert(eq(str, r.err, NIL_PANIC "\n"));
	child_result_free(&r);
}
