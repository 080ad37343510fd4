/*
 * 2.4 deferred-read: a deferred read of a map (cleanup that logs a total)
 * runs while another thread writes the map.
 *
 * Go:      func handle(stats map[string]int) {
 *                  defer func() { log.Println(stats["total"]) }()   // reads at exit
 *                  ... work ...
 *          }
 *          go func() { for i := 0; i < N; i++ { stats["total"] = i } }()
 *          go func() { for i := 0; i < N; i++ { handle(stats) } }()
 * Expect:  fatal error: concurrent map read and map write
 * Fix:     the deferred read runs under the writer's mutex:
 *          mu.Lock(); defer mu.Unlock(); defer logTotal()   (last deferred runs first)
 *
 * The article's own example defers the read in the *same* goroutine as the
 * write: a deferred call runs after the body on that goroutine, so it can
 * never overlap the write (0/100 in real Go; see control-same-goroutine-defer).
 * The failure needs the write on another thread, as here.
 */
#include "harness.h"

static gomap *stats; /* map[string]int64 */
static hz_mutex mu;
static bool fixed;
static int64_t logged;
static volatile int work;

static void log_total(void *arg)
{
	logged += gomap_str_get(stats, "total", 5);
}

static void unlock_if_fixed(void *arg)
{
	if (fixed)
		hz_mutex_unlock(&mu);
}

static void handle(int i)
{
	if (fixed)
		hz_mutex_lock(&mu);
	HZ_DEFER(unlock_if_fixed, NULL); /* runs second */
	HZ_DEFER(log_total, NULL);       /* runs first */
	for (int k = 0; k < 16; k++)     /* the request's own work */
		work += k * i;
}

static void writer(void *arg)
{
	for (int i = 0; i < hz_loops(500); i++) {
		if (fixed)
			hz_mutex_lock(&mu);
		gomap_str_set(stats, "total", 5, i);
		if (fixed)
			hz_mutex_unlock(&mu);
		hz_yield();
	}
}

static void handler(void *arg)
{
	for (int i = 0; i < hz_loops(500); i++) {
		handle(i);
		hz_yield();
	}
}

static void run(void)
{
	stats = gomap_make(&gomap_type_str_i64, 0);
	gomap_str_set(stats, "total", 5, 0);
	hz_mutex_init(&mu);

	/* Forced: the writer holds its write open until the deferred read. */
	hz_force_window(HZ_ARRIVE_READ, 1);
	HZ_RUN(20, {"writer", HZ_HOLDER, writer, NULL}, {"handler", HZ_PARTY, handler, NULL});
	gomap_free(stats);
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
