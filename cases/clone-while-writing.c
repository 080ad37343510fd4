/*
 * clone-while-writing: one thread clones a map (Go 1.21: maps.Clone) while
 * another writes it.
 *
 * Go:      go func() { for i := 0; i < N; i++ { m[i%64] = i; runtime.Gosched() } }()
 *          go func() { for i := 0; i < N; i++ { c := maps.Clone(m); _ = c } }()
 * Expect:  fatal error: concurrent map clone and map write
 * Fix:     a sync.RWMutex: clone under RLock, write under Lock.
 *
 * A clone reads the whole table, so it checks the write flag first.
 */
#include "harness.h"

#define KEYS 64

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

static void cloner(void *arg)
{
	for (int i = 0; i < hz_loops(250); i++) {
		if (fixed)
			hz_rwlock_rdlock(&mu);
		gomap *c = gomap_clone(m);
		if (fixed)
			hz_rwlock_unlock(&mu);
		gomap_free(c);
		hz_yield();
	}
}

static void run(void)
{
	m = gomap_make(&gomap_type_i64_i64, KEYS);
	for (int k = 0; k < KEYS; k++)
		gomap_i64_set(m, k, k);
	hz_rwlock_init(&mu);

	/* Forced: the writer holds its write open until the clone looks. */
	hz_force_window(HZ_ARRIVE_CLONE, 1);
	HZ_RUN(20, {"writer", HZ_HOLDER, writer, NULL}, {"cloner", HZ_PARTY, cloner, NULL});
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
