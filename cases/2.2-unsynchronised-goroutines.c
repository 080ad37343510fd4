/*
 * 2.2 unsynchronised-goroutines: several threads write their own keys of
 * one map and read a shared key, with no synchronisation ("the keys are
 * distinct, so the writes cannot conflict").
 *
 * Go:      m := map[int]int{0: 0}
 *          for w := 0; w < 4; w++ {
 *                  go func(w int) {
 *                          for i := 0; i < N; i++ { m[w*1000+i%64] = i; _ = m[0]; runtime.Gosched()
 * }
 *                  }(w)
 *          }
 * Expect:  fatal error: concurrent map writes
 *          (natural runs may also end with "concurrent map read and map write")
 * Fix:     sharded locks: keys spread over 16 maps, each with its own mutex,
 *          so writers of different keys rarely wait for each other.
 *
 * Distinct keys do not help: every write takes the map's one write flag
 * and may move buckets other keys live in. Real Go, article's program:
 * 39/100 runs end with "concurrent map writes".
 */
#include "harness.h"

#define WORKERS 4

static gomap *m;         /* bad: one shared map */
static hz_shardmap safe; /* fixed: the sharded remedy */
static bool fixed;

static void worker(void *arg)
{
	int64_t w = (int64_t)(intptr_t)arg, seen = 0;
	for (int i = 0; i < hz_loops(250); i++) {
		int64_t key = w * 1000 + i % 64;
		if (fixed) {
			hz_shardmap_set(&safe, key, i);
			hz_shardmap_get(&safe, 0, &seen);
		} else {
			gomap_i64_set(m, key, i);
			seen = gomap_i64_get(m, 0);
		}
		hz_yield();
	}
	(void)seen;
}

static void run(void)
{
	m = gomap_make(&gomap_type_i64_i64, 0);
	gomap_i64_set(m, 0, 0);
	hz_shardmap_init(&safe);
	hz_shardmap_set(&safe, 0, 0);

	/* Forced: worker-1 holds its first write open until another writes. */
	hz_force_window(HZ_ARRIVE_WRITE, WORKERS - 1);
	HZ_RUN(20, {"worker-1", HZ_HOLDER, worker, (void *)1},
	       {"worker-2", HZ_PARTY, worker, (void *)2}, {"worker-3", HZ_PARTY, worker, (void *)3},
	       {"worker-4", HZ_PARTY, worker, (void *)4});
	hz_shardmap_destroy(&safe);
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
