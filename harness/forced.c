/*
 * forced.c -- the forced schedule: make the triggering overlap certain.
 *
 * The detector fires only when one thread looks at a map's write flag while
 * another holds it. A forced run arranges exactly that, through the core's
 * instrumentation points and nothing else:
 *
 *   holder                                  party
 *   ------                                  -----
 *   m[k] = v                                 (arrival op, e.g. m[k])
 *     sets hashWriting                         hook: window not open yet?
 *     hook WRITE_SET: open the window  ---->     wait for it
 *       wait for an arrival            <----   hook: arrive, return
 *       (window stays open)                    checks the flag: fatal error
 *
 * The schedule is one-shot: the holder's first write opens the window, and
 * once that window closes (after an arrival, or because no arrival can
 * come) every later operation runs freely.
 *
 * Phases:
 *   WAITING  the holder has not opened its window; a party's arrival
 *            operation waits here, so it cannot slip past before the window
 *            opens, unless the holder is parked or finished (then the
 *            party holds something the holder needs, and must go on).
 *   OPEN     the holder sits in its WRITE_SET hook with the flag set. The
 *            first arrival on the same map is recorded and returns to its
 *            check. The holder stays until the arriver has moved on (in a
 *            race-free twin) or the detector has fired (then forever: the
 *            report ends the process). Without an arrival it leaves as soon
 *            as every party is parked or finished: in a race-free twin
 *            nobody can arrive, and waiting would only slow the run.
 *   DONE     the window has closed; nothing is held back any more.
 *
 * Every wait is a condition variable with a deadline, never a spin, so a
 * run pinned to one CPU behaves like a run on many. The deadlines are a
 * safety net only: no correct run reaches one.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"

/* Safety nets; no correct run waits this long. */
#define WAIT_FOR_PEER_NS (2 * 1000000000LL) /* holder for an arrival, party for the window */
#define HOLD_AFTER_NS    (200 * 1000000LL)  /* holder after the arrival */

enum phase { WAITING, OPEN, DONE };

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;    /* CLOCK_MONOTONIC; broadcast on every change below */
	bool installed;       /* forced mode: hooks in place */
	unsigned arrive;      /* HZ_ARRIVE_* mask: what counts as an arrival */
	int parties_expected; /* PARTY threads the case announced */
	int parties;          /* PARTY threads registered so far */
	int parties_idle;     /* of those, parked or finished */
	hz_thr *holder;       /* the HOLDER thread, NULL until registered */
	hz_thr **all;         /* every registered thread (for hz_wake_) */
	size_t nall, capall;
	enum phase phase;
	gomap *target;      /* the map whose window is open (OPEN, DONE) */
	hz_thr *arriver;    /* the party that arrived, NULL until then */
	bool arriver_moved; /* the arriver reached its next event: it passed the check */
	bool detected;      /* the detector fired; the process is ending */
	unsigned deadlines; /* waits that ended at their safety net (tests read it) */
} S = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static _Thread_local hz_thr *self;

hz_thr *hz_self_(void)
{
	return self;
}

static bool idle(const hz_thr *t)
{
	return t->parked_on || t->finished;
}

static struct timespec deadline_after(long long ns)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ns += ts.tv_nsec;
	ts.tv_sec += ns / 1000000000LL;
	ts.tv_nsec = ns % 1000000000LL;
	return ts;
}

/* Waits on S.cv; returns false once the deadline has passed. */
static bool wait_until(const struct timespec *dl)
{
	if (pthread_cond_timedwait(&S.cv, &S.mu, dl) != ETIMEDOUT)
		return true;
	S.deadlines++;
	return false;
}

/* The process is going down with a report: never come back. */
static void wait_forever(void)
{
	for (;;)
		pthread_cond_wait(&S.cv, &S.mu);
}

/* ------------------------------------------------------------------------ */
/* Registration and parking                                                 */
/* ------------------------------------------------------------------------ */

hz_thr *hz_sched_register_(hz_role role)
{
	/* Only a thread with a part in a forced schedule needs a record. */
	if (role == HZ_NONE || !S.installed)
		return NULL;
	hz_thr *t = calloc(1, sizeof(*t));
	if (!t)
		hz_die("out of memory");
	t->role = role;
	pthread_mutex_lock(&S.mu);
	if (S.nall == S.capall) {
		S.capall = S.capall ? 2 * S.capall : 16;
		S.all = realloc(S.all, S.capall * sizeof(*S.all));
		if (!S.all)
			hz_die("out of memory");
	}
	S.all[S.nall++] = t;
	if (role == HZ_HOLDER) {
		if (S.holder)
			hz_die("a forced schedule has one holder; a second was started");
		S.holder = t;
	} else {
		S.parties++;
	}
	pthread_cond_broadcast(&S.cv);
	pthread_mutex_unlock(&S.mu);
	return t;
}

void hz_sched_bind_(hz_thr *t)
{
	self = t;
}

void hz_set_role(hz_role role)
{
	hz_sched_bind_(hz_sched_register_(role));
}

/* Changes a thread's state, keeping the idle count; with S.mu held. */
static void set_state_locked(hz_thr *t, const void *parked_on, bool finished)
{
	bool was = idle(t);
	t->parked_on = parked_on;
	t->finished = finished;
	bool now = idle(t);
	if (t->role == HZ_PARTY && was != now)
		S.parties_idle += now ? 1 : -1;
	pthread_cond_broadcast(&S.cv);
}

static void set_state(const void *parked_on, bool finished)
{
	hz_thr *t = self;
	if (!t || t->role == HZ_NONE || !S.installed)
		return;
	pthread_mutex_lock(&S.mu);
	set_state_locked(t, parked_on, finished);
	pthread_mutex_unlock(&S.mu);
}

void hz_park_(const void *obj)
{
	set_state(obj, false);
}

void hz_unpark_(void)
{
	if (self && self->parked_on)
		set_state(NULL, false);
}

void hz_wake_(const void *obj)
{
	if (!S.installed)
		return;
	pthread_mutex_lock(&S.mu);
	for (size_t i = 0; i < S.nall; i++)
		if (S.all[i]->parked_on == obj)
			set_state_locked(S.all[i], NULL, S.all[i]->finished);
	pthread_mutex_unlock(&S.mu);
}

void hz_sched_finish_(void)
{
	set_state(NULL, true);
}

/* ------------------------------------------------------------------------ */
/* The two sides of the window                                              */
/* ------------------------------------------------------------------------ */

static bool all_parties_idle(void)
{
	return S.parties >= S.parties_expected && S.parties_idle == S.parties;
}

/* The holder, in its first WRITE_SET hook, with S.mu held. */
static void hold_window(gomap *m)
{
	S.phase = OPEN;
	S.target = m;
	pthread_cond_broadcast(&S.cv);

	struct timespec dl = deadline_after(WAIT_FOR_PEER_NS);
	while (!S.arriver && !S.detected && !all_parties_idle())
		if (!wait_until(&dl))
			break;

	if (S.arriver || S.detected) {
		dl = deadline_after(HOLD_AFTER_NS);
		while (!S.detected && !S.arriver_moved && !idle(S.arriver))
			if (!wait_until(&dl))
				break;
		if (S.detected)
			wait_forever();
	}
	S.phase = DONE;
	pthread_cond_broadcast(&S.cv);
}

/* A party's event on `m`, with S.mu held. `manual` marks hz_force_arrive. */
static void party_event(gomap_event ev, gomap *m, bool manual)
{
	if (S.phase == OPEN && S.arriver == self) {
		S.arriver_moved = true;
		pthread_cond_broadcast(&S.cv);
		return;
	}
	if (!manual && !(S.arrive & (1u << ev)))
		return;
	if (S.phase == WAITING) {
		struct timespec dl = deadline_after(WAIT_FOR_PEER_NS);
		while (S.phase == WAITING && !(S.holder && idle(S.holder)))
			if (!wait_until(&dl))
				break;
	}
	if (S.phase == OPEN && m == S.target && !S.arriver) {
		S.arriver = self;
		pthread_cond_broadcast(&S.cv);
	}
}

static void hook(gomap_event ev, gomap *m, gomap_op op, void *arg)
{
	(void)op;
	(void)arg;
	hz_thr *me = self;
	if (!me || me->role == HZ_NONE)
		return;
	pthread_mutex_lock(&S.mu);
	if (me->role == HZ_HOLDER) {
		if (ev == GOMAP_EV_WRITE_SET && S.phase == WAITING)
			hold_window(m);
	} else {
		party_event(ev, m, false);
	}
	pthread_mutex_unlock(&S.mu);
}

static void on_detected(gomap_event ev, gomap *m, gomap_op op, void *arg)
{
	(void)ev;
	(void)m;
	(void)op;
	(void)arg;
	pthread_mutex_lock(&S.mu);
	S.detected = true;
	pthread_cond_broadcast(&S.cv);
	pthread_mutex_unlock(&S.mu);
}

void hz_force_arrive(gomap *m)
{
	hz_thr *me = self;
	if (!S.installed || !me || me->role != HZ_PARTY)
		return;
	pthread_mutex_lock(&S.mu);
	party_event(GOMAP_EV_COUNT_, m, true);
	pthread_mutex_unlock(&S.mu);
}

void hz_force_window(unsigned arrive, int parties)
{
	if (!S.installed)
		return;
	pthread_mutex_lock(&S.mu);
	S.arrive = arrive;
	S.parties_expected = parties;
	pthread_mutex_unlock(&S.mu);
}

void hz_sched_install_(void)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&S.cv, &ca);
	pthread_condattr_destroy(&ca);
	S.installed = true;
	static const gomap_event watched[] = {GOMAP_EV_WRITE_ENTRY, GOMAP_EV_WRITE_SET,
	                                      GOMAP_EV_WRITE_CLEAR, GOMAP_EV_READ_ENTRY,
	                                      GOMAP_EV_ITER_STEP,   GOMAP_EV_CLONE_ENTRY};
	for (size_t i = 0; i < sizeof(watched) / sizeof(watched[0]); i++)
		gomap_set_hook(watched[i], hook, NULL);
	gomap_set_hook(GOMAP_EV_DETECTED, on_detected, NULL);
}

unsigned hz_sched_deadlines_(void)
{
	pthread_mutex_lock(&S.mu);
	unsigned n = S.deadlines;
	pthread_mutex_unlock(&S.mu);
	return n;
}

bool hz_detected_(void)
{
	pthread_mutex_lock(&S.mu);
	bool d = S.detected;
	pthread_mutex_unlock(&S.mu);
	return d;
}
