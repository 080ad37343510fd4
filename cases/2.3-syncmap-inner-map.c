/*
 * 2.3 syncmap-inner-map: a plain map stored as a value inside a
 * concurrency-safe map is loaded out, then written and read directly by
 * two threads. The outer map is safe; the inner one is not.
 *
 * Go:      var users sync.Map                     // user id -> map[int]int
 *          users.Store(1, map[int]int{...})
 *          go func() { v, _ := users.Load(1); v.(map[int]int)[k] = i }()   // writer
 *          go func() { v, _ := users.Load(1); _ = v.(map[int]int)[k] }()   // reader
 * Expect:  fatal error: concurrent map read and map write
 * Fix:     make the inner value safe too: a copy-on-write map. Readers read
 *          the published version; the writer clones it, changes the clone
 *          and publishes it. A published version is never written.
 *
 * Real Go, article's program (one write, one read): 0/100, because the
 * two rarely overlap; the misuse is real and shows as soon as they loop.
 */
#include "harness.h"

#define KEYS 16
#define USER 1

static hz_syncmap *users; /* sync.Map: int64 -> gomap * (bad) or hz_cowmap * (fixed) */
static bool fixed;

static void set_one(gomap *m, void *arg)
{
	int64_t i = *(int64_t *)arg;
	gomap_i64_set(m, i % KEYS, i);
}

static void writer(void *arg)
{
	for (int64_t i = 0; i < hz_loops(500); i++) {
		void *v = hz_syncmap_load(users, USER);
		if (fixed)
			hz_cowmap_update(v, set_one, &i);
		else
			gomap_i64_set(v, i % KEYS, i);
		hz_yield();
	}
}

static void reader(void *arg)
{
	int64_t sum = 0;
	for (int i = 0; i < hz_loops(500); i++) {
		void *v = hz_syncmap_load(users, USER);
		gomap *inner = fixed ? hz_cowmap_load(v) : v;
		sum += gomap_i64_get(inner, i % KEYS);
		hz_yield();
	}
	(void)sum;
}

static void run(void)
{
	gomap *inner = gomap_make(&gomap_type_i64_i64, KEYS);
	for (int k = 0; k < KEYS; k++)
		gomap_i64_set(inner, k, k);
	hz_cowmap cow;
	hz_cowmap_init(&cow, fixed ? inner : NULL);
	users = hz_syncmap_new();
	hz_syncmap_store(users, USER, fixed ? (void *)&cow : (void *)inner);

	/* Forced: the writer holds its write open until the reader looks. */
	hz_force_window(HZ_ARRIVE_READ, 1);
	HZ_RUN(20, {"writer", HZ_HOLDER, writer, NULL}, {"reader", HZ_PARTY, reader, NULL});
	hz_syncmap_destroy(users);
	hz_cowmap_destroy(&cow);
	if (!fixed)
		gomap_free(inner);
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
