/*
 * internal.h -- what the harness's own files share and cases never see.
 */
#ifndef HARNESS_INTERNAL_H
#define HARNESS_INTERNAL_H

#include "harness.h"

/* One thread's standing in the forced schedule. Lives as long as the
 * process (a finished thread's record is kept: its counts still matter). */
typedef struct hz_thr {
	hz_role role;
	const void *parked_on; /* the harness object it waits for, or NULL */
	bool finished;         /* its body returned */
} hz_thr;

/* The calling thread's record, or NULL when it has no role. */
hz_thr *hz_self_(void);

/* Registers a record for a thread about to start with `role` (called by
 * the spawner, so the registration happens before the thread runs).
 * NULL when the thread has no part to play (role HZ_NONE, natural mode). */
hz_thr *hz_sched_register_(hz_role role);
/* Binds a registered record to the calling thread. */
void hz_sched_bind_(hz_thr *t);
/* Parking, precisely: a thread is parked only while it waits for a harness
 * object (lock, wait group, cancel token) that is not available.
 *   waiter:   lock inner; while (unavailable) { hz_park_(obj); wait; }
 *             unlock inner; hz_unpark_();
 *   releaser: change the state under inner; broadcast; hz_wake_(obj).
 * hz_wake_ unparks every waiter of obj at once, so a waiter that is about
 * to take the object never counts as parked; one that finds the object
 * taken again parks again. */
void hz_park_(const void *obj);
void hz_unpark_(void);
void hz_wake_(const void *obj);
/* The calling thread's body returned. */
void hz_sched_finish_(void);
/* Installs the hooks (forced mode only: a natural run has no help). */
void hz_sched_install_(void);
/* True once the detector has fired in a forced run. */
bool hz_detected_(void);
/* How many waits of the forced schedule ended at their safety-net deadline
 * (none in a correct run; tests/harness checks that). */
unsigned hz_sched_deadlines_(void);

/* Per-thread random stream for a thread started with start order `n`. */
void hz_rand_seed_thread_(uint64_t n);

#endif /* HARNESS_INTERNAL_H */
