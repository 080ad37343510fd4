/*
 * explore.c -- explore mode: a controlled scheduler and a bounded
 * depth-first explorer of the orderings a case can run in.
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
 *     exists) and end, lock and unlock, wait group wait, cancel,
 *     hz_yield and hz_sleep_us.
 * At a point the scheduler lists the runnable threads. A thread that waits
 * for a harness object (lock, wait group, cancel token) is not
 * runnable until the object's release wakes it; a finished thread never is.
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
 * The explorer. The parent process never runs the variant: for each
 * schedule it forks a child, which runs the variant under the controlled
 * scheduler, following the choices the parent gives it for its first choice
 * points (a prefix) and the default policy after that, and records every
 * choice point (the runnable set, the current thread, the choice, the
 * default, whether a switch there is a preemption) and the overlap flag in a
 * shared mapping. The child's stderr goes to a memory file the parent reads;
 * stdout goes to /dev/null. The parent classifies the end by the exit status
 * and the first line of stderr. Every untried alternative at a point the
 * child reached on its own whose preemptions so far stay within the bound
 * is a branch: the child's path up to that point, then the alternative.
 * Branches wait on a stack (deepest on top, as in a depth-first walk); two
 * children run at once. The space is exhausted when the stack is empty. The
 * core's random choices (map seeds, iteration starts, hash key) and the
 * harness's random streams are seeded with a fixed value, so a schedule is a
 * pure function of its choices and two explorations give the same counts.
 *
 * A schedule is printed as the choices that differ from the default policy:
 * "-" for none, else "j:t,j:t,..." (choice point j, counting from 0, ran
 * thread t; thread 0 is main, the others count in start order). --schedule
 * replays one in this process, with the normal output and report. A
 * detecting replay run with GOMAP_TIMELINE=1 ends with the core's flight
 * recorder, printed by the report; a blind spot has no report, so a replay
 * under GOMAP_TIMELINE=1 keeps its own record of the map events the hooks
 * see and, once the first unprotected overlap is over (no thread is inside
 * that map any more) without a report, prints that map's last events in the
 * recorder's format: the lane chart of an ordering the detector misses.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define MAX_THREADS 64        /* runnable sets are 64-bit masks */
#define MAX_CHOICES (1 << 16) /* choice points recorded per schedule */
#define STEP_LIMIT  2000000   /* scheduling points per schedule */
#define CHILD_ALARM 20        /* seconds: a child that takes longer is stuck */
#define MAX_ENDS    32        /* distinct end signatures kept */

enum xstate { X_RUNNABLE, X_BLOCKED, X_FINISHED };

typedef struct xthr {
	sem_t baton;
	enum xstate state;
	const void *blocked_on;
	const void *in_map; /* the map it is inside an operation on, or NULL */
	bool in_write;
} xthr;

/* One choice point as the child saw it. */
typedef struct xchoice {
	uint64_t cand;  /* runnable threads that may run next */
	uint8_t cur;    /* the thread that reached the point */
	uint8_t chosen; /* the thread that ran next */
	uint8_t dflt;   /* the default policy's pick */
	uint8_t costly; /* a switch away from `cur` is a preemption */
} xchoice;

/* Written by the child, read by the parent after the child has ended. */
typedef struct xshared {
	uint32_t n;       /* choice points recorded */
	uint8_t overlap;  /* an unprotected overlap happened */
	uint8_t diverged; /* the prefix did not fit: the program is not deterministic */
	uint8_t cut;      /* stopped by a limit of the scheduler, not by its own end */
	uint64_t steps;   /* scheduling points passed */
	xchoice c[MAX_CHOICES];
} xshared;

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
	uint32_t *dev_at;
	uint8_t *dev_to;
	size_t ndev, nextdev;
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

/* ------------------------------------------------------------------------ */
/* The controlled scheduler (runs in the child, or in a replay)             */
/* ------------------------------------------------------------------------ */

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
	} else if (X.nextdev < X.ndev && X.dev_at[X.nextdev] == j) {
		chosen = X.dev_to[X.nextdev++];
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

/* ------------------------------------------------------------------------ */
/* Schedule strings                                                         */
/* ------------------------------------------------------------------------ */

/* Parses "-" or "j:t,j:t,..." with strictly increasing j. */
static bool parse_schedule(const char *s)
{
	X.ndev = X.nextdev = 0;
	if (strcmp(s, "-") == 0)
		return true;
	size_t cap = 1;
	for (const char *p = s; *p; p++)
		cap += *p == ',';
	X.dev_at = calloc(cap, sizeof *X.dev_at);
	X.dev_to = calloc(cap, sizeof *X.dev_to);
	if (!X.dev_at || !X.dev_to)
		hz_die("out of memory");
	const char *p = s;
	for (;;) {
		char *end;
		errno = 0;
		unsigned long j = strtoul(p, &end, 10);
		if (end == p || *end != ':' || errno || j >= MAX_CHOICES)
			return false;
		p = end + 1;
		unsigned long t = strtoul(p, &end, 10);
		if (end == p || t >= MAX_THREADS)
			return false;
		if (X.ndev > 0 && j <= X.dev_at[X.ndev - 1])
			return false;
		X.dev_at[X.ndev] = (uint32_t)j;
		X.dev_to[X.ndev] = (uint8_t)t;
		X.ndev++;
		if (*end == '\0')
			return true;
		if (*end != ',')
			return false;
		p = end + 1;
	}
}

/* The choices of `c[0..n)` that differ from the default, as a string. */
static char *schedule_string(const xchoice *c, uint32_t n)
{
	size_t cap = 16, len = 0;
	char *s = malloc(cap);
	if (!s)
		hz_die("out of memory");
	s[0] = '\0';
	for (uint32_t j = 0; j < n; j++) {
		if (c[j].chosen == c[j].dflt)
			continue;
		char item[32];
		int k = snprintf(item, sizeof item, "%s%" PRIu32 ":%u", len ? "," : "", j,
		                 (unsigned)c[j].chosen);
		while (len + (size_t)k + 1 > cap) {
			cap *= 2;
			s = realloc(s, cap);
			if (!s)
				hz_die("out of memory");
		}
		memcpy(s + len, item, (size_t)k + 1);
		len += (size_t)k;
	}
	if (len == 0)
		strcpy(s, "-");
	return s;
}

void hz_x_replay_(const char *schedule)
{
	if (!parse_schedule(schedule))
		hz_die("bad schedule '%s' (\"-\" or \"j:t,j:t,...\", j increasing)", schedule);
	xshared *sh = calloc(1, sizeof *sh);
	if (!sh)
		hz_die("out of memory");
	gomap_seed_random(hz_run_seed_() | 1);
	const char *tl = getenv("GOMAP_TIMELINE");
	X.record = tl != NULL && tl[0] != '\0' && strcmp(tl, "0") != 0;
	start_scheduler(sh);
}

/* ------------------------------------------------------------------------ */
/* The explorer (the parent process)                                        */
/* ------------------------------------------------------------------------ */

/* Children in flight at once (the DFS's subtrees are independent). */
#define JOBS 2

/* A schedule as a string, and the order that picks examples: fewer
 * deviations from the default first, then fewer choice points, then the
 * string. The order does not depend on which child finished first, so the
 * examples an exhausted exploration prints are always the same. */
typedef struct xsched {
	char *s;
	size_t devs;
	uint32_t n;
} xsched;

typedef struct xend {
	char *sig;   /* first line of stderr, "clean", or the explorer's word */
	bool report; /* the detector's (or the nil map's) report */
	uint64_t count;
	xsched example; /* the least schedule that ended so */
} xend;

/* One finished schedule's choice points, shared by the work items that
 * branch off it. */
typedef struct xrun {
	int refs;
	uint32_t n;
	xchoice c[];
} xrun;

/* Work: run the path of `run` up to choice point j, choose t there, then
 * follow the default policy. run == NULL: the first schedule. */
typedef struct xitem {
	xrun *run;
	uint32_t j;
	uint8_t t;
} xitem;

typedef struct xslot {
	pid_t pid; /* 0: free */
	xshared *sh;
	int errfd;
	xchoice *prefix;
	uint32_t nprefix;
} xslot;

static struct {
	xitem *stack;
	size_t nstack, capstack;
	xend ends[MAX_ENDS + 1]; /* the last one for OVERFLOW_END */
	int nends;
	uint64_t schedules, clean, reported, overlapping, blind, other;
	uint64_t cut; /* schedules a limit stopped (timeout, step limit, choice points) */
	xsched shortest, blind_example;
	uint32_t max_choices;
} E;

static size_t deviations(const xchoice *c, uint32_t n)
{
	size_t d = 0;
	for (uint32_t j = 0; j < n; j++)
		d += c[j].chosen != c[j].dflt;
	return d;
}

/* Keeps in *best the least of it and the schedule c[0..n). */
static void keep_least(xsched *best, const xchoice *c, uint32_t n)
{
	size_t d = deviations(c, n);
	if (best->s && (d > best->devs || (d == best->devs && n > best->n)))
		return;
	char *s = schedule_string(c, n);
	if (best->s && d == best->devs && n == best->n && strcmp(s, best->s) >= 0) {
		free(s);
		return;
	}
	free(best->s);
	*best = (xsched){s, d, n};
}

/* The end with signature `sig`, made on first sight. Past MAX_ENDS distinct
 * ends, every new one is counted in one more end, OVERFLOW_END, which has
 * a slot of its own: the ends already kept keep their names and counts. */
#define OVERFLOW_END "explore: too many different ends"
static xend *end_slot(const char *sig, bool report)
{
	for (int i = 0; i < E.nends; i++)
		if (strcmp(E.ends[i].sig, sig) == 0)
			return &E.ends[i];
	if (E.nends >= MAX_ENDS) {
		xend *o = &E.ends[MAX_ENDS];
		if (!o->sig)
			o->sig = strdup(OVERFLOW_END);
		E.nends = MAX_ENDS + 1;
		return o;
	}
	xend *e = &E.ends[E.nends++];
	e->sig = strdup(sig);
	e->report = report;
	return e;
}

/* The first line of the memory file, then empties it for the next child. */
static void first_line(int fd, char *buf, size_t cap)
{
	ssize_t r = pread(fd, buf, cap - 1, 0);
	buf[r > 0 ? r : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
		hz_die("explore: cannot reset the stderr file: %s", strerror(errno));
}

static bool is_report(const char *line)
{
	return strncmp(line, "fatal error: ", 13) == 0 || strncmp(line, "panic: ", 7) == 0;
}

static void classify(int status, const char *line, const xshared *sh)
{
	char sig[600];
	bool report = false, cut = sh->cut;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && line[0] == '\0') {
		snprintf(sig, sizeof sig, "clean");
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 2 && is_report(line)) {
		snprintf(sig, sizeof sig, "%s", line);
		report = true;
	} else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
		snprintf(sig, sizeof sig, "explore: timeout after %d s", CHILD_ALARM);
		cut = true;
	} else if (WIFSIGNALED(status)) {
		snprintf(sig, sizeof sig, "crash: signal %d (%s)", WTERMSIG(status),
		         strsignal(WTERMSIG(status)));
	} else if (line[0]) {
		snprintf(sig, sizeof sig, "%s", line);
	} else {
		snprintf(sig, sizeof sig, "exit status %d", WEXITSTATUS(status));
	}
	bool clean = strcmp(sig, "clean") == 0;
	E.schedules++;
	E.clean += clean;
	E.reported += report;
	E.other += !clean && !report;
	E.overlapping += sh->overlap;
	E.cut += cut;
	if (sh->n > E.max_choices)
		E.max_choices = sh->n;
	xend *e = end_slot(sig, report);
	e->count++;
	keep_least(&e->example, sh->c, sh->n);
	if (clean && sh->overlap) {
		E.blind++;
		keep_least(&E.blind_example, sh->c, sh->n);
	}
	if (report)
		keep_least(&E.shortest, sh->c, sh->n);
}

static void push(xrun *run, uint32_t j, int t)
{
	if (E.nstack == E.capstack) {
		E.capstack = E.capstack ? 2 * E.capstack : 256;
		E.stack = realloc(E.stack, E.capstack * sizeof *E.stack);
		if (!E.stack)
			hz_die("out of memory");
	}
	E.stack[E.nstack++] = (xitem){run, j, (uint8_t)t};
	run->refs++;
}

/* A child followed `nprefix` given choices and recorded sh->n: push every
 * alternative at the points it reached on its own, within the bound. The
 * deepest go on top, so the stack stays as short as a depth-first walk's. */
static void branch(const xshared *sh, uint32_t nprefix, int bound)
{
	uint32_t n = sh->n;
	xrun *run = malloc(sizeof *run + n * sizeof(xchoice));
	if (!run)
		hz_die("out of memory");
	run->refs = 0;
	run->n = n;
	memcpy(run->c, sh->c, n * sizeof(xchoice));
	int pre = 0; /* preemptions before point j */
	for (uint32_t j = 0; j < n; j++) {
		const xchoice *c = &run->c[j];
		if (j >= nprefix) {
			for (uint64_t left = c->cand & ~(1ull << c->chosen); left;
			     left &= left - 1) {
				int t = __builtin_ctzll(left);
				if (pre + (c->costly && t != c->cur) <= bound)
					push(run, j, t);
			}
		}
		pre += c->costly && c->chosen != c->cur;
	}
	if (run->refs == 0)
		free(run);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void json_str_or_null(FILE *f, const char *s)
{
	if (s)
		json_str(f, s);
	else
		fputs("null", f);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int by_sig(const void *a, const void *b)
{
	return strcmp(((const xend *)a)->sig, ((const xend *)b)->sig);
}

static void summary(const hz_case *c, const hz_variant *v, int bound, uint64_t cap, bool exhausted,
                    double secs)
{
	qsort(E.ends, (size_t)E.nends, sizeof E.ends[0], by_sig);
	FILE *f = stdout;
	fputs("{\"case\":", f);
	json_str(f, c->id);
	fputs(",\"variant\":", f);
	json_str(f, v->name);
	fprintf(f,
	        ",\"mode\":\"explore\",\"bound\":%d,\"max_schedules\":%" PRIu64 ",\"seed\":%" PRIu64
	        ",\"loops\":%d,\"threads\":%d,\"size\":%d,\"schedules\":%" PRIu64
	        ",\"exhausted\":%s,\"elapsed_s\":%.3f,\"schedules_per_s\":%.0f",
	        bound, cap, hz_run_seed_(), HZ_EXPLORE_LOOPS, HZ_EXPLORE_THREADS, HZ_EXPLORE_SIZE,
	        E.schedules, exhausted ? "true" : "false", secs,
	        secs > 0 ? (double)E.schedules / secs : 0.0);
	fputs(",\"ends\":{", f);
	for (int i = 0; i < E.nends; i++) {
		if (i)
			fputc(',', f);
		json_str(f, E.ends[i].sig);
		fprintf(f, ":%" PRIu64, E.ends[i].count);
	}
	fprintf(f,
	        "},\"clean\":%" PRIu64 ",\"reported\":%" PRIu64 ",\"overlapping\":%" PRIu64
	        ",\"blind_spots\":%" PRIu64 ",\"other\":%" PRIu64 ",\"cut_short\":%" PRIu64
	        ",\"other_ends\":[",
	        E.clean, E.reported, E.overlapping, E.blind, E.other, E.cut);
	bool first = true;
	for (int i = 0; i < E.nends; i++) {
		if (E.ends[i].report || strcmp(E.ends[i].sig, "clean") == 0)
			continue;
		fputs(first ? "{\"end\":" : ",{\"end\":", f);
		first = false;
		json_str(f, E.ends[i].sig);
		fprintf(f, ",\"count\":%" PRIu64 ",\"example\":", E.ends[i].count);
		json_str(f, E.ends[i].example.s);
		fputc('}', f);
	}
	fputs("],\"shortest_detecting\":", f);
	json_str_or_null(f, E.shortest.s);
	fputs(",\"blind_spot_example\":", f);
	json_str_or_null(f, E.blind_example.s);
	fprintf(f, ",\"max_choice_points\":%" PRIu32 "}\n", E.max_choices);
	fflush(f);
}

/* Starts the schedule of the top work item in `s`. Returns only in the
 * child (true); in the parent, false. */
static bool start_child(xslot *s, int nullfd, uint64_t seed)
{
	xitem it = E.stack[--E.nstack];
	s->nprefix = 0;
	if (it.run) {
		memcpy(s->prefix, it.run->c, (it.j + 1) * sizeof(xchoice));
		s->prefix[it.j].chosen = it.t;
		s->nprefix = it.j + 1;
		if (--it.run->refs == 0)
			free(it.run);
	}
	s->sh->n = 0;
	s->sh->overlap = s->sh->diverged = s->sh->cut = 0;
	s->sh->steps = 0;
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		hz_die("explore: fork: %s", strerror(errno));
	if (pid > 0) {
		s->pid = pid;
		return false;
	}
	dup2(s->errfd, 2);
	dup2(nullfd, 1);
	setenv("GOTRACEBACK", "none", 1); /* the first line is all the explorer reads */
	alarm(CHILD_ALARM);
	X.prefix = s->prefix;
	X.nprefix = s->nprefix;
	gomap_seed_random(seed);
	start_scheduler(s->sh);
	return true;
}

void hz_x_explore_(const hz_case *c, const hz_variant *v, int bound, uint64_t cap)
{
	xslot slots[JOBS];
	int nullfd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (nullfd < 0)
		hz_die("explore: /dev/null: %s", strerror(errno));
	for (int i = 0; i < JOBS; i++) {
		slots[i].pid = 0;
		slots[i].sh = mmap(NULL, sizeof(xshared), PROT_READ | PROT_WRITE,
		                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		slots[i].errfd = memfd_create("explore-stderr", MFD_CLOEXEC);
		slots[i].prefix = calloc(MAX_CHOICES, sizeof(xchoice));
		if (slots[i].sh == MAP_FAILED || slots[i].errfd < 0 || !slots[i].prefix)
			hz_die("explore: cannot set up: %s", strerror(errno));
	}
	uint64_t seed = hz_run_seed_() | 1, started = 0;
	int inflight = 0;
	double t0 = now_s();
	xrun *root = calloc(1, sizeof *root);
	if (!root)
		hz_die("out of memory");
	push(root, 0, 0);
	E.stack[0].run = NULL; /* the first schedule: no prefix */
	free(root);
	for (;;) {
		for (int i = 0; i < JOBS && E.nstack > 0 && started < cap; i++) {
			if (slots[i].pid != 0)
				continue;
			if (start_child(&slots[i], nullfd, seed))
				return; /* the child runs the variant */
			started++;
			inflight++;
		}
		if (inflight == 0)
			break;
		int status;
		pid_t pid = waitpid(-1, &status, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			hz_die("explore: waitpid: %s", strerror(errno));
		}
		xslot *s = NULL;
		for (int i = 0; i < JOBS; i++)
			if (slots[i].pid == pid)
				s = &slots[i];
		if (!s)
			continue;
		s->pid = 0;
		inflight--;
		char line[512];
		first_line(s->errfd, line, sizeof line);
		if (s->sh->diverged) {
			fprintf(stderr, "harness: explore: %s\n", line);
			exit(70);
		}
		classify(status, line, s->sh);
		branch(s->sh, s->nprefix, bound);
	}
	/* A schedule a limit cut short hides the orderings after the cut: the
	 * space is exhausted only when every schedule ran to its own end. */
	summary(c, v, bound, cap, E.nstack == 0 && E.cut == 0, now_s() - t0);
	exit(0);
}
