/*
 * scheduler.c -- explore mode's controlled scheduler, in an explorer's
 * child or in a --schedule replay (explorer.c runs the children).
 *
 * The controlled scheduler. Exactly one thread of the program runs at a
 * time: it holds the baton. Every thread has its own semaphore; handing the
 * baton over is one sem_post to the next thread and one sem_wait on the
 * thread's own (no spinning, so it works pinned to one CPU). The baton
 * changes hands only at scheduling points:
 *   - every instrumentation point of the core (write entry, write flag set,
 *     write flag cleared, read entry, iteration step, clone entry, and the
 *     exit of each of those operations) and hz_len;
 *   - the harness's thread start (in the spawner, after the new thread
 *     exists) and end, lock and unlock, wait group wait, cancel, a poll
 *     of a cancel token not yet fired (a yield), hz_yield and hz_sleep_us.
 * At a point the scheduler lists the runnable threads. A thread that waits
 * on the parking spot of a harness object (lock, wait group, cancel token;
 * wait.c) is not runnable until the object's release wakes the spot; a
 * finished thread never is.
 * Where more than one thread could run next the point is a choice point,
 * and the thread to run is taken from the schedule being followed, or else
 * from the default policy: keep running the current thread; at a yield,
 * sleep, block or end, the next runnable thread after it in start order.
 *
 * Costs. Switching away from a thread that could have continued is a
 * preemption. At a yield or sleep the yielding thread is not a candidate
 * while another thread can run (Go's Gosched puts the goroutine at the back
 * of the queue; this also keeps polling loops finite), and at a block or end
 * the thread cannot continue: switching there is free, and every other
 * runnable thread is still explored as an alternative.
 *
 * Overlaps. The hooks keep, per thread, the map it is inside an operation
 * on (from the arrival event to GOMAP_EV_OP_EXIT) and whether that
 * operation writes. When a thread enters an operation on a map that another
 * thread is still inside, and one of the two writes, the schedule has an
 * unprotected overlap. A range loop counts step by step: between two steps
 * the ranging thread is outside the map.
 *
 * Recording. The scheduler notes every choice point (the runnable set,
 * the current thread, the choice, the default, whether a switch there is a
 * preemption) and the overlap flag in memory the explorer shares, and ends
 * a schedule the program cannot go on with by one line on stderr.
 *
 * Replays. --schedule follows one schedule in this process, with the
 * normal output and report. A detecting replay run with GOMAP_TIMELINE=1
 * ends with the core's flight recorder, printed by the report; a blind spot
 * has no report, so a replay under GOMAP_TIMELINE=1 keeps its own record of
 * the map events the hooks see and, once the first unprotected overlap is
 * over (no thread is inside that map any more) without a report, prints
 * that map's last events in the recorder's format: the lane chart of an
 * ordering the detector misses.
 */
#define _GNU_SOURCE
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "explore.h"

#define STEP_LIMIT 2000000 /* scheduling points per schedule */

enum xstate { X_RUNNABLE, X_BLOCKED, X_FINISHED };

typedef struct xthr {
	sem_t baton;
	enum xstate state;
	const void *blocked_on;
	const void *in_map; /* the map it is inside an operation on, or NULL */
	bool in_write;
} xthr;

bool hz_x_on_;

static struct {
	xthr thr[MAX_THREADS];
	int nthr;
	int cur;
	xshared *sh;
	/* the schedule to follow: a full prefix of choices (explorer) ... */
	const xchoice *prefix;
	uint32_t nprefix;
	/* ... or the deviations from the default policy (replay) */
	xdevs dev;
	size_t nextdev;
	/* a replay under GOMAP_TIMELINE=1: its record of map events, the map
	 * of the first unprotected overlap, and whether that map's events have
	 * been printed */
	bool record;
	const void *overlap_map;
	bool overlap_shown;
} X;

/* A replay's record of map events (a ring, all maps together). */
#define REC_LEN   1024
#define REC_SHOWN 64 /* the core's recorder keeps as many per map */
typedef struct xevent {
	uint64_t ns;
	const void *map;
	int tid;
	uint8_t op;
	uint8_t phase; /* index into rec_phases */
	char name[16];
} xevent;
static xevent rec[REC_LEN];
static uint64_t nrec;
static const char *const rec_phases[] = {"entered", "write flag set", "write flag cleared"};

static _Thread_local int self_idx = -1;

/* Ends a schedule the program cannot go on with. `cut`: a limit of the
 * scheduler stopped it (the program itself might have gone on to more
 * orderings), so the exploration cannot count as exhausted. */
static _Noreturn void child_end(const char *what, bool cut)
{
	X.sh->cut = cut;
	/* One line on stderr: the explorer classifies the schedule by it. */
	dprintf(2, "explore: %s\n", what);
	_exit(3);
}

static uint64_t runnable_mask(void)
{
	uint64_t m = 0;
	for (int i = 0; i < X.nthr; i++)
		if (X.thr[i].state == X_RUNNABLE)
			m |= 1ull << i;
	return m;
}

/* The first thread of `cand` after `me` in start order, wrapping. */
static int next_after(uint64_t cand, int me)
{
	for (int k = 1; k <= X.nthr; k++) {
		int i = (me + k) % X.nthr;
		if (cand & (1ull << i))
			return i;
	}
	return -1;
}

static int pick(int me, uint64_t cand, bool costly)
{
	int dflt = (cand & (1ull << me)) ? me : next_after(cand, me);
	if (__builtin_popcountll(cand) == 1)
		return dflt;
	uint32_t j = X.sh->n;
	if (j >= MAX_CHOICES)
		child_end("too many choice points", true);
	int chosen = dflt;
	if (j < X.nprefix) {
		if (X.prefix[j].cand != cand || X.prefix[j].cur != me) {
			X.sh->diverged = 1;
			child_end("the schedule does not fit this program (not deterministic?)",
			          false);
		}
		chosen = X.prefix[j].chosen;
	} else if (X.nextdev < X.dev.n && X.dev.at[X.nextdev] == j) {
		chosen = X.dev.to[X.nextdev++];
		if (!(cand & (1ull << chosen)))
			child_end("the schedule names a thread that cannot run there", false);
	}
	X.sh->c[j] = (xchoice){cand, (uint8_t)me, (uint8_t)chosen, (uint8_t)dflt, costly};
	X.sh->n = j + 1;
	return chosen;
}

enum point_kind { P_COSTLY, P_YIELD, P_BLOCK, P_END };

/* A scheduling point of the thread that holds the baton. */
static void point(enum point_kind kind)
{
	int me = self_idx;
	if (me < 0)
		return;
	if (++X.sh->steps > STEP_LIMIT)
		child_end("step limit", true);
	uint64_t cand = runnable_mask();
	if (kind == P_YIELD && (cand & ~(1ull << me)))
		cand &= ~(1ull << me);
	if (cand == 0)
		child_end("hang: no thread can run", false);
	int next = pick(me, cand, kind == P_COSTLY && (cand & (1ull << me)));
	if (next == me)
		return;
	X.cur = next;
	sem_post(&X.thr[next].baton);
	if (kind == P_END)
		return;
	while (sem_wait(&X.thr[me].baton) != 0)
		;
}

int hz_x_spawn_(void)
{
	if (!hz_x_on_)
		return -1;
	if (X.nthr == MAX_THREADS)
		hz_die("explore mode runs at most %d threads", MAX_THREADS);
	int i = X.nthr++;
	sem_init(&X.thr[i].baton, 0, 0);
	X.thr[i].state = X_RUNNABLE;
	return i;
}

void hz_x_spawned_(void)
{
	point(P_COSTLY); /* the new thread may run first */
}

void hz_x_started_(int idx)
{
	self_idx = idx;
	while (sem_wait(&X.thr[idx].baton) != 0)
		;
}

void hz_x_exit_(void)
{
	if (self_idx < 0)
		return;
	X.thr[self_idx].state = X_FINISHED;
	point(P_END);
	self_idx = -1;
}

void hz_x_yield_(void)
{
	point(P_YIELD);
}

void hz_x_point_(void)
{
	point(P_COSTLY);
}

void hz_x_block_(const void *obj)
{
	xthr *t = &X.thr[self_idx];
	t->state = X_BLOCKED;
	t->blocked_on = obj;
	point(P_BLOCK);
}

void hz_x_wake_(const void *obj)
{
	for (int i = 0; i < X.nthr; i++)
		if (X.thr[i].state == X_BLOCKED && X.thr[i].blocked_on == obj) {
			X.thr[i].state = X_RUNNABLE;
			X.thr[i].blocked_on = NULL;
		}
}

/* Enters an operation on `m`; notes an unprotected overlap. */
static void enter_op(const void *m, bool write)
{
	int me = self_idx;
	for (int i = 0; i < X.nthr; i++)
		if (i != me && X.thr[i].in_map == m && (write || X.thr[i].in_write)) {
			X.sh->overlap = 1;
			if (!X.overlap_map)
				X.overlap_map = m;
		}
	X.thr[me].in_map = m;
	X.thr[me].in_write = write;
}

size_t hz_x_len_(gomap *m)
{
	if (self_idx < 0)
		return gomap_len(m);
	if (m)
		enter_op(m, false);
	point(P_COSTLY);
	size_t n = gomap_len(m);
	X.thr[self_idx].in_map = NULL;
	point(P_COSTLY);
	return n;
}

/* A replay's record: one map event (only the baton holder runs, so no lock). */
static void record(gomap_event ev, const gomap *m, gomap_op op)
{
	uint8_t phase = ev == GOMAP_EV_WRITE_SET ? 1 : ev == GOMAP_EV_WRITE_CLEAR ? 2 : 0;
	xevent *e = &rec[nrec++ % REC_LEN];
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	e->ns = (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
	e->map = m;
	e->tid = gomap_thread_id();
	e->op = (uint8_t)op;
	e->phase = phase;
	if (pthread_getname_np(pthread_self(), e->name, sizeof e->name) != 0)
		e->name[0] = '\0';
}

/* Once no thread is inside the map of the first unprotected overlap, the
 * overlap is over and nothing reported it: print that map's last events in
 * the format of the core's flight recorder. */
static void overlap_ended(const void *m)
{
	for (int i = 0; i < X.nthr; i++)
		if (X.thr[i].in_map == m)
			return;
	X.overlap_shown = true;
	uint64_t first = nrec > REC_LEN ? nrec - REC_LEN : 0, from = nrec, n = 0;
	while (from > first && n < REC_SHOWN)
		if (rec[--from % REC_LEN].map == m)
			n++;
	fprintf(stderr, "explore: an unprotected overlap on the map ended without a report\n"
	                "\nmap timeline, oldest first (GOMAP_TIMELINE=1):\n");
	uint64_t t0 = 0;
	bool any = false;
	for (uint64_t k = from; k < nrec; k++) {
		const xevent *e = &rec[k % REC_LEN];
		if (e->map != m)
			continue;
		if (!any)
			t0 = e->ns;
		any = true;
		fprintf(stderr, "  +%.3fus thread %d%s%s%s %s: %s\n", (double)(e->ns - t0) / 1000.0,
		        e->tid, e->name[0] ? " \"" : "", e->name, e->name[0] ? "\"" : "",
		        gomap_op_name((gomap_op)e->op), rec_phases[e->phase]);
	}
	fflush(stderr);
}

static void hook(gomap_event ev, gomap *m, gomap_op op, void *arg)
{
	(void)arg;
	if (self_idx < 0)
		return;
	if (X.record && ev != GOMAP_EV_OP_EXIT && ev != GOMAP_EV_DETECTED)
		record(ev, m, op);
	switch (ev) {
	case GOMAP_EV_WRITE_ENTRY:
		enter_op(m, true);
		break;
	case GOMAP_EV_READ_ENTRY:
	case GOMAP_EV_ITER_STEP:
	case GOMAP_EV_CLONE_ENTRY:
		enter_op(m, false);
		break;
	case GOMAP_EV_OP_EXIT:
		X.thr[self_idx].in_map = NULL;
		if (X.record && X.overlap_map == m && !X.overlap_shown)
			overlap_ended(m);
		break;
	case GOMAP_EV_DETECTED:
		return; /* the report ends the process; no more switching */
	default:
		break;
	}
	point(P_COSTLY);
}

/* Starts the scheduler in this process with the calling thread as thread 0. */
static void start_scheduler(xshared *sh)
{
	X.sh = sh;
	X.nthr = 1;
	X.cur = 0;
	sem_init(&X.thr[0].baton, 0, 0);
	X.thr[0].state = X_RUNNABLE;
	self_idx = 0;
	hz_x_on_ = true;
	static const gomap_event watched[] = {GOMAP_EV_WRITE_ENTRY, GOMAP_EV_WRITE_SET,
	                                      GOMAP_EV_WRITE_CLEAR, GOMAP_EV_READ_ENTRY,
	                                      GOMAP_EV_ITER_STEP,   GOMAP_EV_CLONE_ENTRY,
	                                      GOMAP_EV_OP_EXIT,     GOMAP_EV_DETECTED};
	for (size_t i = 0; i < sizeof(watched) / sizeof(watched[0]); i++)
		gomap_set_hook(watched[i], hook, NULL);
}

void hz_x_replay_(const char *schedule)
{
	if (!hz_x_parse_schedule_(schedule, &X.dev))
		hz_die("bad schedule '%s' (\"-\" or \"j:t,j:t,...\", j increasing)", schedule);
	xshared *sh = calloc(1, sizeof *sh);
	if (!sh)
		hz_die("out of memory");
	gomap_seed_random(hz_run_seed_() | 1);
	const char *tl = getenv("GOMAP_TIMELINE");
	X.record = tl != NULL && tl[0] != '\0' && strcmp(tl, "0") != 0;
	start_scheduler(sh);
}

void hz_x_child_start_(xshared *sh, const xchoice *prefix, uint32_t nprefix)
{
	X.prefix = prefix;
	X.nprefix = nprefix;
	start_scheduler(sh);
}
