/*
 * wait.c -- the one wait/wake interface under the harness's primitives.
 *
 * Every primitive that can make a thread wait (mutex, read-write lock, wait
 * group, cancel token) is a little state guarded by a parking spot, and is
 * written once, in harness.c, on the spot's five operations:
 *
 *   waiter                                 releaser
 *   ------                                 --------
 *   hz_spot_point_()                       hz_spot_enter_(s)
 *   hz_spot_enter_(s)                      change the state
 *   while (the state says wait)            hz_spot_wake_all_(s)
 *           hz_spot_wait_(s)               hz_spot_leave_(s)
 *   take what the state gives              hz_spot_point_()
 *   hz_spot_leave_(s)
 *
 * Underneath there are two implementations, chosen per call:
 *
 *   free-running (natural and forced mode): the spot is a mutex and a
 *   condition variable. A waiter announces itself parked on the spot to the
 *   forced schedule (hz_park_) before it sleeps, and unparked once it has
 *   left; a wake unparks every waiter of the spot (hz_wake_) as it
 *   broadcasts, so a waiter about to take the object never counts as
 *   parked, and one that finds it taken again parks again. "Parked" is then
 *   exact, which the forced schedule's holder relies on (forced.c).
 *
 *   explore mode: one thread runs at a time and holds the baton, so the
 *   spot needs no lock: enter and leave do nothing, a wait marks the thread
 *   blocked on the spot and hands the baton on (hz_x_block_), a wake makes
 *   every thread blocked on it runnable again (hz_x_wake_), and
 *   hz_spot_point_ is a scheduling point.
 *
 * There is no wake-one: every waiter wakes and looks, and all but one park
 * again. The harness's waits are short and few, and a broadcast keeps
 * "parked" exact without tracking which waiter a signal reached.
 */
#include "internal.h"

void hz_spot_init_(hz_spot *s)
{
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
}

void hz_spot_destroy_(hz_spot *s)
{
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
}

void hz_spot_point_(void)
{
	if (HZ_EXPLORING())
		hz_x_point_();
}

void hz_spot_enter_(hz_spot *s)
{
	if (!HZ_EXPLORING())
		pthread_mutex_lock(&s->mu);
}

void hz_spot_leave_(hz_spot *s)
{
	if (HZ_EXPLORING())
		return;
	pthread_mutex_unlock(&s->mu);
	hz_unpark_(); /* a waiter that parked is running again */
}

void hz_spot_wait_(hz_spot *s)
{
	if (HZ_EXPLORING()) {
		hz_x_block_(s);
		return;
	}
	hz_park_(s);
	pthread_cond_wait(&s->cv, &s->mu);
}

void hz_spot_wake_all_(hz_spot *s)
{
	if (HZ_EXPLORING()) {
		hz_x_wake_(s);
		return;
	}
	pthread_cond_broadcast(&s->cv);
	hz_wake_(s);
}
