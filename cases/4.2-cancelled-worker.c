/*
 * 4.2 cancelled-worker: a worker checks its cancellation only between
 * batches of writes; the owner cancels and at once reads the map, without
 * waiting for the worker to notice and stop.
 *
 * Go:      ctx, cancel := context.WithCancel(context.Background())
 *          go func() {            // checks its context too late
 *                  for ctx.Err() == nil {
 *                          for j := 0; j < 64; j++ { results[j] = j }
 *                  }
 *          }()
 *          time.Sleep(d); cancel()
 *          for j := 0; j < 64; j++ {   // the worker may still be writing
 *                  total += results[j]; runtime.Gosched()
 *          }
 * Expect:  fatal error: concurrent map read and map write
 * Fix:     cancellation that is waited for: cancel(), then wg.Wait() (or
 *          <-done) before the owner touches the map.
 *
 * cancel() only asks; it does not stop anything. Real Go, article's
 * program: 93/100 "concurrent map read and map write".
 */
#include "harness.h"

#define KEYS hz_size(64) /* explore mode: a few */

static gomap *results;

static void worker(void *arg)
{
	hz_cancel *ctx = arg;
	do {
		for (int j = 0; j < KEYS; j++) {
			gomap_i64_set(results, j, j);
			hz_yield();
		}
	} while (!hz_cancelled(ctx)); /* the check comes only after a whole batch */
}

/* One job: start the worker, let it run a while, cancel, read the results. */
static void job(bool wait_for_worker)
{
	hz_cancel ctx;
	hz_cancel_init(&ctx);
	hz_wg wg;
	hz_wg_init(&wg);
	hz_go(&wg, "worker", HZ_HOLDER, worker, &ctx);

	if (hz_natural())
		hz_sleep_us(50 + (unsigned)hz_rand_below(200));
	hz_cancel_fire(&ctx);
	if (wait_for_worker)
		hz_wg_wait(&wg);
	int64_t total = 0;
	for (int j = 0; j < KEYS; j++) { /* report each result, as a user would */
		total += gomap_i64_get(results, j);
		hz_yield();
	}
	(void)total;

	hz_wg_wait(&wg); /* before the next job; the bad variant's damage is done above */
	hz_wg_destroy(&wg);
	hz_cancel_destroy(&ctx);
}

static void run(bool wait_for_worker)
{
	results = gomap_make(&gomap_type_i64_i64, KEYS);
	for (int j = 0; j < KEYS; j++)
		gomap_i64_set(results, j, 0);

	/* Forced: the worker holds its write open until the owner reads. */
	hz_force_window(HZ_ARRIVE_READ, 1);
	hz_set_role(HZ_PARTY); /* main is the owner */
	/* Natural: many jobs, one after another, as a server runs them; the
	 * forced schedule needs only one. */
	int jobs = hz_natural() ? 100 : 1;
	for (int i = 0; i < jobs; i++)
		job(wait_for_worker);
	gomap_free(results);
}

static void run_bad(void)
{
	run(false);
}

static void run_fixed(void)
{
	run(true);
}

HZ_CASE({"bad", run_bad}, {"fixed", run_fixed})
