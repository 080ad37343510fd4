/*
 * test_wait.c -- the parking spot (harness/wait.c), the one wait/wake
 * interface under the harness's primitives, in its free-running form; its
 * explore form is tested through tests/explore (tiny.c's `spot`). Each test
 * runs in a process of its own (Criterion's default), so installing the
 * forced schedule in one test leaves the others untouched.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <pthread.h>
#include <time.h>

#include "../../harness/internal.h"

static hz_spot spot;
static bool ready;     /* the state the waiters wait for; guarded by the spot */
static int woken;      /* waiters that saw `ready`; guarded by the spot */
static hz_thr *waiter; /* the waiter's forced-schedule record, if any */

static void *wait_ready(void *arg)
{
	hz_sched_bind_(arg);
	hz_spot_enter_(&spot);
	while (!ready)
		hz_spot_wait_(&spot);
	woken++;
	hz_spot_leave_(&spot);
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void set_ready(void)
{
	hz_spot_enter_(&spot);
	ready = true;
	hz_spot_wake_all_(&spot);
	hz_spot_leave_(&spot);
}

static int woken_now(void)
{
	hz_spot_enter_(&spot);
	int n = woken;
	hz_spot_leave_(&spot);
	return n;
}

Test(spot, a_waiter_sleeps_until_the_state_changes_and_a_wake_comes, .timeout = 10)
{
	hz_spot_init_(&spot);
	pthread_t t;
	pthread_create(&t, NULL, wait_ready, NULL);
	sleep_ms(50);
	cr_assert(eq(int, woken_now(), 0), "the waiter went on before the state changed");
	set_ready();
	pthread_join(t, NULL);
	cr_assert(eq(int, woken, 1));
	hz_spot_destroy_(&spot);
}

Test(spot, a_wake_wakes_every_waiter, .timeout = 10)
{
	hz_spot_init_(&spot);
	pthread_t t[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, wait_ready, NULL);
	sleep_ms(50);
	set_ready();
	for (int i = 0; i < 100 && woken_now() < 3; i++)
		sleep_ms(10);
	cr_assert(eq(int, woken_now(), 3), "one wake must wake all three waiters");
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	hz_spot_destroy_(&spot);
}

Test(spot, a_state_already_set_needs_no_wake, .timeout = 10)
{
	hz_spot_init_(&spot);
	ready = true;
	wait_ready(NULL);
	cr_assert(eq(int, woken, 1));
	hz_spot_destroy_(&spot);
}

/* The forced schedule's holder trusts "parked": it must hold exactly while
 * the waiter sleeps on the spot, and end with the wake itself (before the
 * waiter has even run), so that a waiter about to go on never counts. */
Test(spot, a_waiter_is_parked_on_the_spot_exactly_while_it_waits, .timeout = 10)
{
	hz_sched_install_();
	hz_spot_init_(&spot);
	waiter = hz_sched_register_(HZ_PARTY);
	cr_assert(waiter != NULL);
	pthread_t t;
	pthread_create(&t, NULL, wait_ready, waiter);
	const void *on = NULL;
	for (int i = 0; i < 200 && !on; i++) {
		sleep_ms(10);
		hz_spot_enter_(&spot);
		on = __atomic_load_n(&waiter->parked_on, __ATOMIC_RELAXED);
		hz_spot_leave_(&spot);
	}
	cr_assert(eq(ptr, (void *)on, &spot), "the waiter never showed as parked on the spot");

	hz_spot_enter_(&spot);
	ready = true;
	hz_spot_wake_all_(&spot);
	on = __atomic_load_n(&waiter->parked_on, __ATOMIC_RELAXED);
	hz_spot_leave_(&spot);
	cr_assert(eq(ptr, (void *)on, NULL), "still parked after the wake");
	pthread_join(t, NULL);
	cr_assert(eq(ptr, (void *)waiter->parked_on, NULL));
	cr_assert(eq(int, woken, 1));
	hz_spot_destroy_(&spot);
}
