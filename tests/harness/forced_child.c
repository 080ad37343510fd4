/*
 * forced_child.c -- small scenarios of the forced schedule, one per variant,
 * run by test_forced.c in a fresh process each (a scenario may end the
 * process with the detector's report or a harness error).
 *
 * The program is built like a case: HZ_CASE and hz_main, so a scenario runs
 * with exactly the schedule a case gets in forced mode. Every scenario has a
 * HOLDER thread, which opens the window with its first map write, and one or
 * more PARTY threads. A scenario that ends normally prints
 * "deadlines <n>": how many waits of the schedule ended at their safety-net
 * deadline instead of at the event they waited for.
 */
#include <stdio.h>

#include "../../harness/internal.h"

const char hz_case_id_[] = "forced-child";
const char hz_case_title_[] = "scenarios of the forced schedule, for its tests";

static gomap *m;
static hz_mutex mu;
static hz_cancel ready; /* fired by the thread that went first */

static void setup(unsigned arrive, int parties)
{
	m = gomap_make(&gomap_type_i64_i64, 0);
	/* A read of an empty map returns before the write flag is checked (and
	 * before its instrumentation point), as in Go: give it an entry. main
	 * has no role, so this write is not part of the schedule. */
	gomap_i64_set(m, 1, 0);
	hz_mutex_init(&mu);
	hz_cancel_init(&ready);
	hz_force_window(arrive, parties);
}

static void report_deadlines(void)
{
	printf("deadlines %u\n", hz_sched_deadlines_());
}

/* ---- the holder leaves when every party is parked ----------------------- */

/* Takes the lock first, then writes while the party waits for the lock. */
static void holder_with_lock(void *arg)
{
	hz_mutex_lock(&mu);
	hz_cancel_fire(&ready);
	gomap_i64_set(m, 1, 1);
	hz_mutex_unlock(&mu);
}

static void party_after_lock(void *arg)
{
	hz_cancel_wait(&ready);
	hz_mutex_lock(&mu);
	(void)gomap_i64_get(m, 1);
	hz_mutex_unlock(&mu);
}

static void parked_party(void)
{
	setup(HZ_ARRIVE_READ | HZ_ARRIVE_WRITE, 1);
	HZ_RUN(1, {"holder", HZ_HOLDER, holder_with_lock, NULL},
	       {"party", HZ_PARTY, party_after_lock, NULL});
	report_deadlines();
}

/* ---- the holder leaves when every party has finished -------------------- */

static void holder_writes(void *arg)
{
	gomap_i64_set(m, 1, 1);
}

static void party_idle(void *arg) {}

static void finished_party(void)
{
	setup(HZ_ARRIVE_READ | HZ_ARRIVE_WRITE, 1);
	HZ_RUN(1, {"holder", HZ_HOLDER, holder_writes, NULL},
	       {"party", HZ_PARTY, party_idle, NULL});
	report_deadlines();
}

/* ---- an arrival waits for the window, then the detector fires ----------- */

/* Writes only after a pause, so that the party's read comes first. */
static void holder_writes_late(void *arg)
{
	hz_sleep_us(50 * 1000);
	gomap_i64_set(m, 1, 1);
}

static void party_reads(void *arg)
{
	(void)gomap_i64_get(m, 1);
}

static void read_before_window(void)
{
	setup(HZ_ARRIVE_READ, 1);
	HZ_RUN(1, {"holder", HZ_HOLDER, holder_writes_late, NULL},
	       {"party", HZ_PARTY, party_reads, NULL});
	report_deadlines();
}

static void party_writes(void *arg)
{
	gomap_i64_set(m, 2, 2);
}

static void write_in_window(void)
{
	setup(HZ_ARRIVE_WRITE, 1);
	HZ_RUN(1, {"holder", HZ_HOLDER, holder_writes, NULL},
	       {"party", HZ_PARTY, party_writes, NULL});
	report_deadlines();
}

/* ---- a party goes on when the holder is parked --------------------------- */

/* The party holds the lock the holder needs, and reads before the holder
 * could ever open its window. */
static void party_with_lock(void *arg)
{
	hz_mutex_lock(&mu);
	hz_cancel_fire(&ready);
	(void)gomap_i64_get(m, 1);
	hz_mutex_unlock(&mu);
}

static void holder_after_lock(void *arg)
{
	hz_cancel_wait(&ready);
	hz_mutex_lock(&mu);
	gomap_i64_set(m, 1, 1);
	hz_mutex_unlock(&mu);
}

static void parked_holder(void)
{
	setup(HZ_ARRIVE_READ | HZ_ARRIVE_WRITE, 1);
	HZ_RUN(1, {"holder", HZ_HOLDER, holder_after_lock, NULL},
	       {"party", HZ_PARTY, party_with_lock, NULL});
	report_deadlines();
}

/* ---- a manual arrival: the holder leaves once the arriver moved on ------- */

static void party_counts(void *arg)
{
	hz_force_arrive(m);
	(void)gomap_len(m); /* no instrumentation point: the reason for the manual arrival */
}

static void manual_arrival(void)
{
	setup(HZ_ARRIVE_READ, 1);
	HZ_RUN(1, {"holder", HZ_HOLDER, holder_writes, NULL},
	       {"party", HZ_PARTY, party_counts, NULL});
	report_deadlines();
}

/* ---- a race-free run with several parties ------------------------------- */

static void locked_writer(void *arg)
{
	for (int i = 0; i < hz_loops(0); i++) {
		hz_mutex_lock(&mu);
		gomap_i64_set(m, (int64_t)(intptr_t)arg * 100 + i, i);
		(void)gomap_i64_get(m, 1);
		hz_mutex_unlock(&mu);
		hz_yield();
	}
}

static void race_free(void)
{
	setup(HZ_ARRIVE_READ | HZ_ARRIVE_WRITE, 3);
	HZ_RUN(1, {"holder", HZ_HOLDER, locked_writer, (void *)1},
	       {"party-1", HZ_PARTY, locked_writer, (void *)2},
	       {"party-2", HZ_PARTY, locked_writer, (void *)3},
	       {"party-3", HZ_PARTY, locked_writer, (void *)4});
	report_deadlines();
}

/* ---- misuse of the schedule --------------------------------------------- */

static void two_holders(void)
{
	setup(HZ_ARRIVE_WRITE, 1);
	HZ_RUN(1, {"holder-1", HZ_HOLDER, holder_writes, NULL},
	       {"holder-2", HZ_HOLDER, holder_writes, NULL});
	report_deadlines();
}

HZ_CASE({"parked-party", parked_party}, {"finished-party", finished_party},
        {"read-before-window", read_before_window}, {"write-in-window", write_in_window},
        {"parked-holder", parked_holder}, {"manual-arrival", manual_arrival},
        {"race-free", race_free}, {"two-holders", two_holders})
