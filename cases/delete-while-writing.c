/*
 * delete-while-writing: two threads delete from one map ("delete only
 * removes, so it is safe"). A delete is a write.
 *
 * Go:      for w := 0; w < 2; w++ {
 *                  go func(w int) { for i := 0; i < N; i++ { delete(m, 2*i+w) } }(w)
 *          }
 * Expect:  fatal error: concurrent map writes
 * Fix:     a sync.Mutex around every delete, like any other write.
 *
 * Each thread deletes its own keys, and the map is filled so that it never
 * runs empty (a delete on an empty map returns before the check).
 */
#include "harness.h"

static gomap *m;
static hz_mutex mu;
static bool fixed;

static void deleter(void *arg)
{
	int64_t w = (int64_t)(intptr_t)arg;
	for (int64_t i = 0; i < hz_loops(500); i++) {
		if (fixed)
			hz_mutex_lock(&mu);
		gomap_i64_delete(m, 2 * i + w);
		if (fixed)
			hz_mutex_unlock(&mu);
		hz_yield();
	}
}

static void run(void)
{
	int64_t n = 2 * hz_loops(500) + 64;
	m = gomap_make(&gomap_type_i64_i64, (size_t)n);
	for (int64_t k = 0; k < n; k++)
		gomap_i64_set(m, k, k);
	hz_mutex_init(&mu);

	/* Forced: deleter-1 holds its delete open until deleter-2 deletes. */
	hz_force_window(HZ_ARRIVE_WRITE, 1);
	HZ_RUN(20, {"deleter-1", HZ_HOLDER, deleter, (void *)0},
	       {"deleter-2", HZ_PARTY, deleter, (void *)1});
	gomap_free(m);
}

static void run_bad(void)
{
	run();
}

static void run_fixed(void)
{
	fixed = true;
	run();
}

HZ_CASE({"bad", run_bad}, {"fixed", run_fixed})
