/*
 * 3.3 background-scanner: a background thread walks a map through the map
 * API (a metrics exporter, a snapshotter) while the owner keeps writing it.
 *
 * Go:      go func() { for i := 0; i < N; i++ { metrics[i%64] = i } }()    // owner
 *          go func() { for { for k, v := range metrics { export(k, v) } } }() // exporter
 * Expect:  fatal error: concurrent map iteration and map write
 * Fix:     copy-on-write: the owner publishes a new version every batch of
 *          updates (clone, change, store the pointer); the exporter ranges
 *          over the published version, which nobody writes.
 *
 * The article blames the garbage collector's mark phase. The collector
 * never goes through the map API, so it cannot trip the detector (0/100
 * in real Go with GC running during the writes; see control-gc-only). What
 * does trip it is a background walker of your own, as here.
 */
#include "harness.h"

#define KEYS  hz_size(64) /* explore mode: a few */
#define BATCH 16          /* updates per published version (fixed) */

static gomap *metrics; /* bad: written and walked in place */
static hz_cowmap cow;  /* fixed: versions */
static bool fixed;

static void apply_batch(gomap *m, void *arg)
{
	int64_t first = *(int64_t *)arg;
	for (int64_t i = first; i < first + BATCH; i++)
		gomap_i64_set(m, i % KEYS, i);
}

static void owner(void *arg)
{
	for (int64_t i = 0; i < hz_loops(500); i += fixed ? BATCH : 1) {
		if (fixed)
			hz_cowmap_update(&cow, apply_batch, &i);
		else
			gomap_i64_set(metrics, i % KEYS, i);
		hz_yield();
	}
}

static void exporter(void *arg)
{
	int64_t exported = 0;
	for (int i = 0; i < hz_loops(100); i++) {
		gomap_iter it;
		for (gomap_iter_init(fixed ? hz_cowmap_load(&cow) : metrics, &it);
		     gomap_iter_next(&it);)
			exported += *(const int64_t *)it.elem;
		hz_yield();
	}
	(void)exported;
}

static void run(void)
{
	metrics = gomap_make(&gomap_type_i64_i64, KEYS);
	for (int k = 0; k < KEYS; k++)
		gomap_i64_set(metrics, k, k);
	hz_cowmap_init(&cow, fixed ? gomap_clone(metrics) : NULL);

	/* Forced: the owner holds its write open until a range step looks. */
	hz_force_window(HZ_ARRIVE_ITER, 1);
	HZ_RUN(20, {"owner", HZ_HOLDER, owner, NULL}, {"exporter", HZ_PARTY, exporter, NULL});
	hz_cowmap_destroy(&cow);
	gomap_free(metrics);
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
