/*
 * control-len-while-writing: len() racing writes from another thread. A
 * page claims this panics; the runtime never reports it.
 *
 * Go:      go func() { for i := 0; i < N; i++ { m[i] = i } }()
 *          go func() { for i := 0; i < N; i++ { _ = len(m) } }()
 * Expect:  no error from the map: prints DONE, exit 0.
 *
 * len reads the entry count and never looks at the write flag, so the
 * detector cannot see this. It IS a data race all the same (an unsynchronised
 * read of a field another thread writes): Go's -race, or ThreadSanitizer
 * here, reports it, and the value read may be stale. In forced mode the
 * writer even holds its write open while len runs, and still nothing fires.
 */
#include "harness.h"

static gomap *m;

static void writer(void *arg)
{
	for (int64_t i = 0; i < hz_loops(10000); i++) {
		gomap_i64_set(m, i, i);
		hz_yield();
	}
}

static void poller(void *arg)
{
	size_t most = 0;
	for (int i = 0; i < hz_loops(10000); i++) {
		size_t n = hz_len(m); /* len(m): the core has no instrumentation point for it */
		most = n > most ? n : most;
		hz_yield();
	}
	(void)most;
}

static void run_control(void)
{
	m = gomap_make(&gomap_type_i64_i64, 0);
	gomap_i64_set(m, -1, -1);

	/* Forced: the writer holds its write open while the poller calls len. */
	hz_force_window(0, 1);
	hz_wg wg;
	hz_wg_init(&wg);
	hz_go(&wg, "writer", HZ_HOLDER, writer, NULL);
	hz_go(&wg, "poller", HZ_PARTY, poller, NULL);
	hz_wg_wait(&wg);
	gomap_free(m);
}

HZ_CASE({"control", run_control})
