/*
 * tiny.c -- the smallest programs explore mode can run, small enough that
 * their schedules can be counted by hand (see test_explore.c).
 *
 *   pair     main starts one thread; each writes one key of a shared map
 *            once, with no lock; main then waits for the thread.
 *   locked   the same, each write under one hz_mutex.
 *   deadlock main holds a mutex while it waits for a thread that needs it.
 *   busy-poll main polls a cancel token in an empty loop, Go's
 *            `for ctx.Err() == nil {}`, until a thread fires it.
 *   endless  main yields forever: every schedule meets the step limit.
 *   spot     two threads wait on a parking spot (harness/wait.c) for a flag
 *            that main sets with one wake: every schedule must end clean.
 *   many-ends main and a thread each take turns on a map of their own; main
 *            ends with the order of the turns as its first line of stderr,
 *            so the schedules end in more than MAX_ENDS different ways.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../../harness/internal.h"

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

static hz_cancel token;

static void fire(void *arg)
{
	(void)arg;
	hz_cancel_fire(&token);
}

static void run_busy_poll(void)
{
	hz_cancel_init(&token);
	hz_wg wg;
	hz_wg_init(&wg);
	hz_go(&wg, "canceller", HZ_NONE, fire, NULL);
	while (!hz_cancelled(&token))
		; /* no scheduling point but the poll itself */
	hz_wg_wait(&wg);
}

static void run_endless(void)
{
	for (;;)
		hz_yield();
}

static hz_spot spot;
static bool flag;

static void wait_flag(void *arg)
{
	(void)arg;
	hz_spot_point_();
	hz_spot_enter_(&spot);
	while (!flag)
		hz_spot_wait_(&spot);
	hz_spot_leave_(&spot);
}

static void run_spot(void)
{
	hz_spot_init_(&spot);
	hz_wg wg;
	hz_wg_init(&wg);
	hz_go(&wg, "waiter-1", HZ_NONE, wait_flag, NULL);
	hz_go(&wg, "waiter-2", HZ_NONE, wait_flag, NULL);
	hz_spot_enter_(&spot);
	flag = true;
	hz_spot_wake_all_(&spot);
	hz_spot_leave_(&spot);
	hz_spot_point_();
	hz_wg_wait(&wg);
}

#define TURNS 6
static char turns[2 * TURNS + 1];
static int nturns;

/* TURNS reads of a map of its own: each read is a pair of scheduling
 * points, and the order of the turns is the schedule's signature. */
static void take_turns(char who)
{
	gomap *own = gomap_make(&gomap_type_i64_i64, 0);
	gomap_i64_set(own, 0, 0);
	for (int i = 0; i < TURNS; i++) {
		turns[nturns++] = who;
		(void)gomap_i64_get(own, 0);
	}
}

static void turns_b(void *arg)
{
	(void)arg;
	take_turns('b');
}

static void run_many_ends(void)
{
	hz_wg wg;
	hz_wg_init(&wg);
	hz_go(&wg, "b", HZ_NONE, turns_b, NULL);
	take_turns('a');
	hz_wg_wait(&wg);
	fprintf(stderr, "turns %s\n", turns);
	exit(1);
}

/* A case program gets these from the catalogue; this one is not in it. */
const char hz_case_id_[] = "explore-tiny";
const char hz_case_title_[] = "hand-countable programs for explore mode";

HZ_CASE({"pair", run_pair}, {"locked", run_locked}, {"deadlock", run_deadlock},
        {"busy-poll", run_busy_poll}, {"spot", run_spot}, {"endless", run_endless},
        {"many-ends", run_many_ends})
