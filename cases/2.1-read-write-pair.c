/*
 * 2.1 read-write-pair: one thread reads a map while another writes it, with
 * no synchronisation.
 *
 * Go:      m := map[int]int{...}                          // filled first
 *          go func() { for i := 0; i < N; i++ { m[i%64] = i; runtime.Gosched() } }()
 *          go func() { for i := 0; i < N; i++ { _ = m[i%64]; runtime.Gosched() } }()
 * Expect:  fatal error: concurrent map read and map write
 * Fix:     a sync.RWMutex: readers share RLock, the writer takes Lock.
 *
 * The article's own example reads an *empty* map, and a read of an empty
 * map returns before it looks at the write flag: in real Go it never fails
 * (0/100). Here the map is filled first, as any map worth reading is.
 */
#include "harness.h"

#define KEYS 64

static gomap *m;
static hz_rwlock mu;
static bool fixed; /* the fixed variant takes the lock; nothing else differs */

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
	*(int64_t *)arg = sum;
}

static void run(void)
{
	m = gomap_make(&gomap_type_i64_i64, KEYS);
	for (int k = 0; k < KEYS; k++)
		gomap_i64_set(m, k, k);
	hz_rwlock_init(&mu);

	/* Forced: the writer holds its window open until the reader looks. */
	hz_force_window(HZ_ARRIVE_READ, 1);
	int64_t sum;
	HZ_RUN(20, {"writer", HZ_HOLDER, writer, NULL}, {"reader", HZ_PARTY, reader, &sum});
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
