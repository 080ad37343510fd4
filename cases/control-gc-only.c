/*
 * control-gc-only: the article's 3.3 example: one goroutine writes a map
 * while the garbage collector runs. The article blames the GC mark phase;
 * real Go never fails here (0/100).
 *
 * Go:      go func() { for { runtime.GC() } }()
 *          for i := 0; i < N; i++ { m[i] = make([]byte, 64) }   // one writer only
 * Expect:  no error: prints DONE, exit 0.
 *
 * The collector scans the map's memory directly; it never calls mapaccess
 * or mapassign, so it never looks at (or sets) the write flag. The stand-in
 * here is a "collector" thread that churns and walks the heap (allocating,
 * touching and freeing memory, as a collector does) while the one owner
 * writes and grows the map. Nothing but the owner touches the map API.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static atomic_bool stop;

static void collector(void *arg)
{
	void *heap[64] = {0};
	for (unsigned i = 0; !atomic_load(&stop); i++) {
		size_t slot = i % 64;
		free(heap[slot]);
		heap[slot] = malloc(64 + hz_rand_below(4096));
		memset(heap[slot], (int)i, 64);
		hz_yield();
	}
	for (int k = 0; k < 64; k++)
		free(heap[k]);
}

static void run_control(void)
{
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	hz_wg wg;
	hz_wg_init(&wg);
	hz_go(&wg, "collector", HZ_NONE, collector, NULL);
	for (int64_t i = 0; i < hz_loops(20000); i++) {
		gomap_i64_set(m, i, i); /* grows the table again and again */
		if (i % 64 == 0)
			hz_yield();
	}
	atomic_store(&stop, true);
	hz_wg_wait(&wg);
	if (gomap_len(m) != (size_t)hz_loops(20000))
		hz_die("len %zu after %d writes", gomap_len(m), hz_loops(20000));
	gomap_free(m);
}

HZ_CASE({"control", run_control})
