/*
 * explorer.c -- explore mode's explorer: every ordering of a case's
 * scheduling points within a preemption bound, one child process each.
 *
 * The parent process never runs the variant: for each
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
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "explore.h"

/* Children in flight at once (the DFS's subtrees are independent). */
#define JOBS        2
#define CHILD_ALARM 20 /* seconds: a child that takes longer is stuck */

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
	xitem *stack; /* branches not yet run, deepest on top */
	size_t nstack, capstack;
	xtally t;
} E;

/* Keeps in *best the least of it and the schedule c[0..n). */
static void keep_least(xsched *best, const xchoice *c, uint32_t n)
{
	size_t d = hz_x_deviations_(c, n);
	if (best->s && (d > best->devs || (d == best->devs && n > best->n)))
		return;
	char *s = hz_x_schedule_string_(c, n);
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
	for (int i = 0; i < E.t.nends; i++)
		if (strcmp(E.t.ends[i].sig, sig) == 0)
			return &E.t.ends[i];
	if (E.t.nends >= MAX_ENDS) {
		xend *o = &E.t.ends[MAX_ENDS];
		if (!o->sig)
			o->sig = strdup(OVERFLOW_END);
		E.t.nends = MAX_ENDS + 1;
		return o;
	}
	xend *e = &E.t.ends[E.t.nends++];
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
	E.t.schedules++;
	E.t.clean += clean;
	E.t.reported += report;
	E.t.other += !clean && !report;
	E.t.overlapping += sh->overlap;
	E.t.cut += cut;
	if (sh->n > E.t.max_choices)
		E.t.max_choices = sh->n;
	xend *e = end_slot(sig, report);
	e->count++;
	keep_least(&e->example, sh->c, sh->n);
	if (clean && sh->overlap) {
		E.t.blind++;
		keep_least(&E.t.blind_example, sh->c, sh->n);
	}
	if (report)
		keep_least(&E.t.shortest, sh->c, sh->n);
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

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
	gomap_seed_random(seed);
	hz_x_child_start_(s->sh, s->prefix, s->nprefix);
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
	hz_x_print_summary_(stdout, c, v, bound, cap, E.nstack == 0 && E.t.cut == 0, now_s() - t0,
	                    &E.t);
	exit(0);
}
