/*
 * clear-while-reading: one thread clears a map (Go 1.21: clear(m)) and
 * refills it, while another thread reads it.
 *
 * Go:      go func() { for i := 0; i < N; i++ { clear(m); for k := 0; k < 8; k++ { m[k] = i } } }()
 *          go func() { for i := 0; i < N; i++ { _ = m[i%8] } }()
 * Expect:  fatal error: concurrent map read and map write
 * Fix:     a sync.RWMutex: reads under RLock; clear and refill under one
 *          Lock, so a reader never sees the map half refilled either.
 *
 * clear is a write. The refill matters for the demonstration only: a read
 * of an empty map returns before the check, so a map that stays cleared
 * is never reported.
 */
#include "harness.h"

#define KEYS 8

static gomap *m;
static hz_rwlock mu;
static bool fixed;

static void clearer(void *arg)
{
	for (int i = 0; i < hz_loops(250); i++) {
		if (fixed)
			hz_rwlock_wrlock(&mu);
		gomap_clear(m);
		for (int k = 0; k < KEYS; k++)
			gomap_i64_set(m, k, i);
		if (fixed)
			hz_rwlock_unlock(&mu);
		hz_yield();
	}
}

static void reader(void *arg)
{
	int64_t sum = 0;
	for (int i = 0; i < hz_loops(500); i++) {
		if (fixed)
			hz_rwlock_rdlock(&mu);
		sum += gomap_i64_get(m, i % KEYS);
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

	/* Forced: the clearer's first clear stays open until the reader looks. */
	hz_force_window(HZ_ARRIVE_READ, 1);
	HZ_RUN(20, {"clearer", HZ_HOLDER, clearer, NULL}, {"reader", HZ_PARTY, reader, NULL});
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
