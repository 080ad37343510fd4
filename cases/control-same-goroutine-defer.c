/*
 * control-same-goroutine-defer: the article's 2.4 example as written: the
 * write and the deferred read are in the *same* goroutine. Never fails.
 *
 * Go:      go func() {
 *                  defer func() { _ = m["total"] }()   // runs after the body, same goroutine
 *                  for i := 0; i < N; i++ { m["total"] = i }
 *          }()
 * Expect:  no error: prints DONE, exit 0.
 *
 * A deferred call runs on the goroutine that deferred it, after the body
 * has returned: the body's writes are all finished, so the read cannot
 * overlap them. 2.4-deferred-read shows what does fail: a write on
 * another thread.
 */
#include "harness.h"

static gomap *totals; /* map[string]int64 */
static int64_t seen;

static void read_total(void *arg)
{
	seen = gomap_str_get(totals, "total", 5);
}

static void update(int n)
{
	HZ_DEFER(read_total, NULL);
	for (int i = 0; i < n; i++)
		gomap_str_set(totals, "total", 5, i);
}

static void worker(void *arg)
{
	for (int round = 0; round < hz_loops(2000); round++) {
		update(8);
		if (seen != 7)
			hz_die("deferred read saw %lld, want 7", (long long)seen);
		hz_yield();
	}
}

static void run_control(void)
{
	totals = gomap_make(&gomap_type_str_i64, 0);
	hz_wg wg;
	hz_wg_init(&wg);
	hz_go(&wg, "worker", HZ_NONE, worker, NULL);
	hz_wg_wait(&wg);
	gomap_free(totals);
}

HZ_CASE({"control", run_control})
