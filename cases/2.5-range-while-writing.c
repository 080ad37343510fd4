/*
 * 2.5 range-while-writing: one thread iterates over a map while another
 * writes it.
 *
 * Go:      go func() { for i := 0; i < N; i++ { m[i%64] = i; runtime.Gosched() } }()
 *          go func() { for i := 0; i < N; i++ { for k, v := range m { sum += k + v } } }()
 * Expect:  fatal error: concurrent map iteration and map write
 * Fix:     a sync.RWMutex: the range holds RLock from start to end, the
 *          writer takes Lock.
 *
 * Every step of a range looks at the write flag, so a long range is a big
 * target. The article's example (0/100 in real Go) ranges once, and the
 * range is over before the writer goroutine has even started.
 */
#include "harness.h"

#define KEYS hz_size(64) /* explore mode: a few */

static gomap *m;
static hz_rwlock mu;
static bool fixed;

static void writer(void *arg)
{
	for (int i = 0; i < hz_loops(500); i++) {
		if (fixed)
			hz_rwlock_wrlock(&mu);
		gomap_i64_set(m, i % KEYS, i);
		if (fixed)
			hz_rwlock_unlock(&mu);
		hz_yield();
	}
}

static void ranger(void *arg)
{
	int64_t sum = 0;
	for (int i = 0; i < hz_loops(100); i++) {
		if (fixed)
			hz_rwlock_rdlock(&mu);
		gomap_iter it;
		for (gomap_iter_init(m, &it); gomap_iter_next(&it);)
			sum += *(const int64_t *)it.key + *(const int64_t *)it.elem;
		if (fixed)
			hz_rwlock_unlock(&mu);
		hz_yield();
	}
	(void)sum;
}

static void run(void)
{
	m = gomap_make(&gomap_type_i64_i64, KEYS);
	for (int k = 0; k < KEYS; k++)
		gomap_i64_set(m, k, k);
	hz_rwlock_init(&mu);

	/* Forced: the writer holds its write open until a range step looks. */
	hz_force_window(HZ_ARRIVE_ITER, 1);
	HZ_RUN(20, {"writer", HZ_HOLDER, writer, NULL}, {"ranger", HZ_PARTY, ranger, NULL});
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
