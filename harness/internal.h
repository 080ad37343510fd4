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
/* Parking, precisely: a thread is parked only while it waits on the
 * parking spot of a harness object (lock, wait group, cancel token) that is
 * not available. Called by the spot's free-running side (wait.c) only:
 * hz_park_(obj) before a waiter sleeps, hz_unpark_ once it has left the
 * spot, hz_wake_(obj) as a releaser broadcasts; hz_wake_ unparks every
 * waiter of obj at once. */
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

/* The parking spot (wait.c): the one wait/wake interface the primitives
 * are written on; wait.c's opening comment shows the pattern. */
void hz_spot_init_(hz_spot *s);
void hz_spot_destroy_(hz_spot *s);
/* A scheduling point in explore mode; nothing in the other modes. */
void hz_spot_point_(void);
/* Enter and leave the spot: the owner's state may be read and changed in
 * between. */
void hz_spot_enter_(hz_spot *s);
void hz_spot_leave_(hz_spot *s);
/* Between enter and leave: sleeps until a wake of the spot (or spuriously:
 * the caller rechecks its state in a loop), parked on the spot meanwhile. */
void hz_spot_wait_(hz_spot *s);
/* Between enter and leave: wakes every waiter of the spot. */
void hz_spot_wake_all_(hz_spot *s);

/* Explore mode's controlled scheduler (scheduler.c). While hz_x_on_ is
 * set, one thread runs at a time: the caller of these holds the baton. */
extern bool hz_x_on_;
#define HZ_EXPLORING() __builtin_expect(hz_x_on_, 0)
int hz_x_spawn_(void);       /* a record for a thread about to start, or -1 */
void hz_x_spawned_(void);    /* the spawner, after the thread exists */
void hz_x_started_(int idx); /* first thing the new thread does: wait for its turn */
void hz_x_exit_(void);       /* last thing a thread does */
void hz_x_yield_(void);
void hz_x_point_(void);
void hz_x_block_(const void *obj); /* not runnable until hz_x_wake_(obj) */
void hz_x_wake_(const void *obj);
size_t hz_x_len_(gomap *m);
/* The run's seed (--seed, or the mode's default). */
uint64_t hz_run_seed_(void);
/* Runs the exploration in this process, which becomes the explorer: it
 * returns only in a child, which then runs the variant; the explorer
 * prints the summary and exits. */
void hz_x_explore_(const hz_case *c, const hz_variant *v, int bound, uint64_t cap);
/* Follows one schedule in this process; returns, and the variant runs. */
void hz_x_replay_(const char *schedule);

/* Per-thread random stream for a thread started with start order `n`. */
void hz_rand_seed_thread_(uint64_t n);

#endif /* HARNESS_INTERNAL_H */
