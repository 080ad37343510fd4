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
 *     exists) and end, lock and unlock, wait group wait, cancel, once,
 *     hz_yield and hz_sleep_us.
 * At a point the scheduler lists the runnable threads. A thread that waits
 * for a harness object (lock, wait group, cancel token, once) is not
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
 * choice point (the runnable set, the current thread, the choice, whether a
 * switch there is a preemption) and the overlap flag in a shared mapping.
 * The child's stderr goes to a memory file the parent reads; stdout goes to
 * /dev/null. The parent classifies the end by the exit status and the first
 * line of stderr, then backtracks: the deepest choice point with an untried
 * alternative whose preemptions so far stay within the bound becomes the end
 * of the next prefix. When there is none, the space is exhausted. The core's
 * random choices (map seeds, iteration starts) and the harness's random
 * streams are seeded with a fixed value, so a schedule is a pure function of
 * its choices and two explorations give the same counts.
 *
 * A schedule is printed as the choices that differ from the default policy:
 * "-" for none, else "j:t,j:t,..." (choice point j, counting from 0, ran
 * thread t; thread 0 is main, the others count in start order). --schedule
 * replays one in this process, with the normal output and report.
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
} X;

static _Thread_local int self_idx = -1;

/* ------------------------------------------------------------------------ */
/* The controlled scheduler (runs in the child, or in a replay)             */
/* ------------------------------------------------------------------------ */

static _Noreturn void child_end(const char *what)
{
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
		child_end("too many choice points");
	int chosen = dflt;
	if (j < X.nprefix) {
		if (X.prefix[j].cand != cand || X.prefix[j].cur != me) {
			X.sh->diverged = 1;
			child_end("the schedule does not fit this program (not deterministic?)");
		}
		chosen = X.prefix[j].chosen;
	} else if (X.nextdev < X.ndev && X.dev_at[X.nextdev] == j) {
		chosen = X.dev_to[X.nextdev++];
		if (!(cand & (1ull << chosen)))
			child_end("the schedule names a thread that cannot run there");
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
		child_end("step limit");
	uint64_t cand = runnable_mask();
	if (kind == P_YIELD && (cand & ~(1ull << me)))
		cand &= ~(1ull << me);
	if (cand == 0)
		child_end("hang: no thread can run");
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
		if (i != me && X.thr[i].in_map == m && (write || X.thr[i].in_write))
			X.sh->overlap = 1;
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

static void hook(gomap_event ev, gomap *m, gomap_op op, void *arg)
{
	(void)op;
	(void)arg;
	if (self_idx < 0)
		return;
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
/* Harness primitives under the scheduler (one thread runs: no inner locks) */
/* ------------------------------------------------------------------------ */

void hz_x_mutex_lock_(hz_mutex *m)
{
	point(P_COSTLY);
	while (m->locked)
		hz_x_block_(m);
	m->locked = true;
}

void hz_x_mutex_unlock_(hz_mutex *m)
{
	if (!m->locked)
		hz_die("sync: unlock of unlocked mutex");
	m->locked = false;
	hz_x_wake_(m);
	point(P_COSTLY);
}

void hz_x_rdlock_(hz_rwlock *l)
{
	point(P_COSTLY);
	while (l->writer || l->writers_waiting > 0)
		hz_x_block_(l);
	l->readers++;
}

void hz_x_wrlock_(hz_rwlock *l)
{
	point(P_COSTLY);
	l->writers_waiting++;
	while (l->writer || l->readers > 0)
		hz_x_block_(l);
	l->writers_waiting--;
	l->writer = true;
}

void hz_x_rwunlock_(hz_rwlock *l)
{
	if (l->writer)
		l->writer = false;
	else if (l->readers > 0)
		l->readers--;
	else
		hz_die("sync: unlock of unlocked RWMutex");
	hz_x_wake_(l);
	point(P_COSTLY);
}

void hz_x_wg_wait_(hz_wg *wg)
{
	point(P_COSTLY);
	while (wg->n > 0)
		hz_x_block_(wg);
}

void hz_x_cancel_wait_(hz_cancel *c)
{
	point(P_COSTLY);
	while (!atomic_load(&c->done))
		hz_x_block_(c);
}

void hz_x_once_do_(hz_once *o, void (*fn)(void *), void *arg)
{
	point(P_COSTLY);
	if (atomic_load(&o->state) == 0) {
		atomic_store(&o->state, 1);
		fn(arg);
		atomic_store(&o->state, 2);
		hz_x_wake_(o);
		return;
	}
	while (atomic_load(&o->state) != 2)
		hz_x_block_(o);
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
	gomap_seed_random(hz_seed() | 1);
	start_scheduler(sh);
}

/* ------------------------------------------------------------------------ */
/* The explorer (the parent process)                                        */
/* ------------------------------------------------------------------------ */

typedef struct xend {
	char *sig;   /* first line of stderr, "clean", or the explorer's word */
	bool report; /* the detector's (or the nil map's) report */
	uint64_t count;
	char *example; /* one schedule that ended so */
} xend;

static struct {
	xchoice *c; /* the current path of choice points */
	uint64_t *tried;
	uint32_t n;
	xend ends[MAX_ENDS];
	int nends;
	uint64_t schedules, clean, reported, overlapping, blind, other;
	char *shortest; /* fewest deviations among detecting schedules */
	size_t shortest_devs;
	uint32_t shortest_choices;
	char *blind_example;
	uint32_t max_choices;
} E;

static size_t deviations(const xchoice *c, uint32_t n)
{
	size_t d = 0;
	for (uint32_t j = 0; j < n; j++)
		d += c[j].chosen != c[j].dflt;
	return d;
}

static xend *end_slot(const char *sig, bool report)
{
	for (int i = 0; i < E.nends; i++)
		if (strcmp(E.ends[i].sig, sig) == 0)
			return &E.ends[i];
	if (E.nends == MAX_ENDS)
		sig = "explore: too many different ends";
	for (int i = 0; i < E.nends; i++)
		if (strcmp(E.ends[i].sig, sig) == 0)
			return &E.ends[i];
	xend *e = &E.ends[E.nends < MAX_ENDS ? E.nends++ : MAX_ENDS - 1];
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
	bool report = false;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && line[0] == '\0') {
		snprintf(sig, sizeof sig, "clean");
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 2 && is_report(line)) {
		snprintf(sig, sizeof sig, "%s", line);
		report = true;
	} else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
		snprintf(sig, sizeof sig, "explore: timeout after %d s", CHILD_ALARM);
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
	if (sh->n > E.max_choices)
		E.max_choices = sh->n;
	xend *e = end_slot(sig, report);
	e->count++;
	if (!e->example)
		e->example = schedule_string(sh->c, sh->n);
	if (clean && sh->overlap) {
		E.blind++;
		if (!E.blind_example)
			E.blind_example = schedule_string(sh->c, sh->n);
	}
	if (report) {
		size_t d = deviations(sh->c, sh->n);
		if (!E.shortest || d < E.shortest_devs ||
		    (d == E.shortest_devs && sh->n < E.shortest_choices)) {
			free(E.shortest);
			E.shortest = schedule_string(sh->c, sh->n);
			E.shortest_devs = d;
			E.shortest_choices = sh->n;
		}
	}
}

/* Takes the child's path from `from` on; returns false when no prefix is
 * left within the bound, else sets E.n to the next prefix's length. */
static bool backtrack(const xshared *sh, uint32_t from, int bound)
{
	for (uint32_t j = from; j < sh->n; j++) {
		E.c[j] = sh->c[j];
		E.tried[j] = 1ull << sh->c[j].chosen;
	}
	uint32_t n = sh->n > from ? sh->n : from;
	/* preemptions before each point */
	static int pre[MAX_CHOICES + 1];
	pre[0] = 0;
	for (uint32_t j = 0; j < n; j++)
		pre[j + 1] = pre[j] + (E.c[j].costly && E.c[j].chosen != E.c[j].cur);
	for (uint32_t j = n; j-- > 0;) {
		uint64_t left = E.c[j].cand & ~E.tried[j];
		while (left) {
			int t = __builtin_ctzll(left);
			left &= left - 1;
			int cost = E.c[j].costly && t != E.c[j].cur;
			if (pre[j] + cost > bound)
				continue;
			E.tried[j] |= 1ull << t;
			E.c[j].chosen = (uint8_t)t;
			E.n = j + 1;
			return true;
		}
	}
	return false;
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

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void summary(const hz_case *c, const hz_variant *v, int bound, uint64_t cap, bool exhausted,
                    double secs)
{
	FILE *f = stdout;
	fputs("{\"case\":", f);
	json_str(f, c->id);
	fputs(",\"variant\":", f);
	json_str(f, v->name);
	fprintf(f,
	        ",\"mode\":\"explore\",\"bound\":%d,\"max_schedules\":%" PRIu64 ",\"seed\":%" PRIu64
	        ",\"loops\":%d,\"rounds\":%d,\"schedules\":%" PRIu64
	        ",\"exhausted\":%s,\"elapsed_s\":%.3f,\"schedules_per_s\":%.0f",
	        bound, cap, hz_seed(), hz_loops(1000000), hz_rounds(1000000), E.schedules,
	        exhausted ? "true" : "false", secs, secs > 0 ? (double)E.schedules / secs : 0.0);
	fputs(",\"ends\":{", f);
	for (int i = 0; i < E.nends; i++) {
		if (i)
			fputc(',', f);
		json_str(f, E.ends[i].sig);
		fprintf(f, ":%" PRIu64, E.ends[i].count);
	}
	fprintf(f,
	        "},\"clean\":%" PRIu64 ",\"reported\":%" PRIu64 ",\"overlapping\":%" PRIu64
	        ",\"blind_spots\":%" PRIu64 ",\"other\":%" PRIu64 ",\"other_ends\":[",
	        E.clean, E.reported, E.overlapping, E.blind, E.other);
	bool first = true;
	for (int i = 0; i < E.nends; i++) {
		if (E.ends[i].report || strcmp(E.ends[i].sig, "clean") == 0)
			continue;
		fputs(first ? "{\"end\":" : ",{\"end\":", f);
		first = false;
		json_str(f, E.ends[i].sig);
		fprintf(f, ",\"count\":%" PRIu64 ",\"example\":", E.ends[i].count);
		json_str(f, E.ends[i].example);
		fputc('}', f);
	}
	fputs("],\"shortest_detecting\":", f);
	if (E.shortest)
		json_str(f, E.shortest);
	else
		fputs("null", f);
	fputs(",\"blind_spot_example\":", f);
	if (E.blind_example)
		json_str(f, E.blind_example);
	else
		fputs("null", f);
	fprintf(f, ",\"max_choice_points\":%" PRIu32 "}\n", E.max_choices);
	fflush(f);
}

void hz_x_explore_(const hz_case *c, const hz_variant *v, int bound, uint64_t cap)
{
	xshared *sh =
	        mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		hz_die("explore: mmap: %s", strerror(errno));
	int errfd = memfd_create("explore-stderr", 0);
	int nullfd = open("/dev/null", O_WRONLY);
	E.c = calloc(MAX_CHOICES, sizeof *E.c);
	E.tried = calloc(MAX_CHOICES, sizeof *E.tried);
	if (errfd < 0 || nullfd < 0 || !E.c || !E.tried)
		hz_die("explore: cannot set up: %s", strerror(errno));
	uint64_t seed = hz_seed() | 1;
	double t0 = now_s();
	bool exhausted = false;
	E.n = 0;
	for (;;) {
		if (E.schedules >= cap)
			break;
		sh->n = 0;
		sh->overlap = sh->diverged = 0;
		sh->steps = 0;
		fflush(stdout);
		fflush(stderr);
		pid_t pid = fork();
		if (pid < 0)
			hz_die("explore: fork: %s", strerror(errno));
		if (pid == 0) {
			dup2(errfd, 2);
			dup2(nullfd, 1);
			close(errfd);
			close(nullfd);
			setenv("GOTRACEBACK", "none", 1); /* the first line is all we read */
			alarm(CHILD_ALARM);
			X.prefix = E.c;
			X.nprefix = E.n;
			gomap_seed_random(seed);
			start_scheduler(sh);
			return; /* the child runs the variant */
		}
		int status;
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR)
				hz_die("explore: waitpid: %s", strerror(errno));
		char line[512];
		first_line(errfd, line, sizeof line);
		if (sh->diverged) {
			fprintf(stderr, "harness: explore: %s\n", line);
			exit(70);
		}
		classify(status, line, sh);
		if (!backtrack(sh, E.n, bound)) {
			exhausted = true;
			break;
		}
	}
	summary(c, v, bound, cap, exhausted, now_s() - t0);
	exit(0);
}

size_t hz_len(gomap *m)
{
	if (HZ_EXPLORING())
		return hz_x_len_(m);
	hz_force_arrive(m);
	return gomap_len(m);
}
