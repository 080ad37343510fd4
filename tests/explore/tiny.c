/*
 * tiny.c -- the smallest programs explore mode can run, small enough that
 * their schedules can be counted by hand (see test_explore.c).
 *
 *   pair     main starts one thread; each writes one key of a shared map
 *            once, with no lock; main then waits for the thread.
 *   locked   the same, each write under one hz_mutex.
 *   deadlock main holds a mutex while it waits for a thread that needs it.
 */
#include "harness.h"

static gomap *m;
static hz_mutex mu;
static bool locked;

static void write_once(int64_t k)
{
	if (locked)
		hz_mutex_lock(&mu);
	gomap_i64_set(m, k, k);
	if (locked)
		hz_mutex_unlock(&mu);
}

static void other(void *arg)
{
	(void)arg;
	write_once(2);
}

static void run(void)
{
	m = gomap_make(&gomap_type_i64_i64, 0);
	gomap_i64_set(m, 0, 0);
	hz_mutex_init(&mu);
	hz_wg wg;
	hz_wg_init(&wg);
	hz_go(&wg, "other", HZ_NONE, other, NULL);
	write_once(1);
	hz_wg_wait(&wg);
	gomap_free(m);
}

static void run_pair(void)
{
	run();
}

static void run_locked(void)
{
	locked = true;
	run();
}

static void needs_lock(void *arg)
{
	(void)arg;
	hz_mutex_lock(&mu);
	hz_mutex_unlock(&mu);
}

static void run_deadlock(void)
{
	hz_mutex_init(&mu);
	hz_mutex_lock(&mu);
	hz_wg wg;
	hz_wg_init(&wg);
	hz_go(&wg, "needs-lock", HZ_NONE, needs_lock, NULL);
	hz_wg_wait(&wg); /* never returns: the thread waits for mu */
	hz_mutex_unlock(&mu);
}

/* A case program gets these from the catalogue; this one is not in it. */
const char hz_case_id_[] = "explore-tiny";
const char hz_case_title_[] = "hand-countable programs for explore mode";

HZ_CASE({"pair", run_pair}, {"locked", run_locked}, {"deadlock", run_deadlock})
