/*
 * harness.c -- the command line every case shares, and Go's concurrency
 * vocabulary in C: named threads, wait groups, defer, cancel tokens,
 * and locks that announce when they park (see forced.c for why).
 */
#define _GNU_SOURCE /* sched_getaffinity */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* ------------------------------------------------------------------------ */
/* The run                                                                  */
/* ------------------------------------------------------------------------ */

static hz_mode run_mode = HZ_FORCED;
static uint64_t run_seed;
static atomic_uint_fast64_t threads_started; /* start order of hz_go threads */
/* hz_go threads not yet finished. Only a hint for hz_yield, so every access
 * is relaxed: an ordered access would be an acquire or release that
 * ThreadSanitizer takes as synchronisation between the case's threads, and
 * would hide the very races the cases commit. */
static atomic_int threads_running;
static int ncpus = 1; /* CPUs this process may run on */

hz_mode hz_run_mode(void)
{
	return run_mode;
}

bool hz_natural(void)
{
	return run_mode == HZ_NATURAL;
}

uint64_t hz_run_seed_(void)
{
	return run_seed;
}

int hz_loops(int natural)
{
	if (run_mode == HZ_EXPLORE)
		return natural < HZ_EXPLORE_LOOPS ? natural : HZ_EXPLORE_LOOPS;
	return run_mode == HZ_NATURAL ? natural : 16;
}

int hz_threads(int n)
{
	return run_mode == HZ_EXPLORE && n > HZ_EXPLORE_THREADS ? HZ_EXPLORE_THREADS : n;
}

int hz_size(int n)
{
	return run_mode == HZ_EXPLORE && n > HZ_EXPLORE_SIZE ? HZ_EXPLORE_SIZE : n;
}

int hz_rounds(int natural)
{
	return run_mode == HZ_NATURAL ? natural : 1;
}

_Noreturn void hz_die(const char *fmt, ...)
{
	va_list ap;
	fputs("harness: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(70);
}

/* ------------------------------------------------------------------------ */
/* Random streams (splitmix64: tiny, and every seed gives a good stream)    */
/* ------------------------------------------------------------------------ */

static _Thread_local uint64_t rng_state;

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void hz_rand_seed_thread_(uint64_t n)
{
	uint64_t s = run_seed ^ (n * 0xd1b54a32d192ed03ULL);
	rng_state = splitmix64(&s);
}

uint64_t hz_rand(void)
{
	return splitmix64(&rng_state);
}

uint64_t hz_rand_below(uint64_t n)
{
	/* Lemire's multiply-shift; the tiny bias is irrelevant here. */
	return (uint64_t)(((unsigned __int128)hz_rand() * n) >> 64);
}

/* ------------------------------------------------------------------------ */
/* Threads and wait groups                                                  */
/* ------------------------------------------------------------------------ */

struct start {
	void (*fn)(void *);
	void *arg;
	hz_wg *wg;
	hz_thr *thr;
	int x; /* explore mode: the thread's number, else -1 */
	uint64_t order;
	char name[32];
};

static void *trampoline(void *p)
{
	struct start s = *(struct start *)p;
	free(p);
	if (s.x >= 0)
		hz_x_started_(s.x); /* before anything that depends on the order */
	gomap_thread_set_name(s.name);
	hz_rand_seed_thread_(s.order);
	hz_sched_bind_(s.thr);
	atomic_fetch_add_explicit(&threads_running, 1, memory_order_relaxed);
	s.fn(s.arg);
	atomic_fetch_sub_explicit(&threads_running, 1, memory_order_relaxed);
	hz_sched_finish_();
	if (s.wg)
		hz_wg_done(s.wg);
	hz_x_exit_();
	return NULL;
}

void hz_go(hz_wg *wg, const char *name, hz_role role, void (*fn)(void *), void *arg)
{
	struct start *s = calloc(1, sizeof(*s));
	if (!s)
		hz_die("out of memory");
	s->fn = fn;
	s->arg = arg;
	s->wg = wg;
	s->order = atomic_fetch_add(&threads_started, 1) + 1;
	snprintf(s->name, sizeof(s->name), "%s", name);
	/* Registered here, before the thread exists, so the schedule counts
	 * it from the start. */
	s->thr = hz_sched_register_(role);
	if (wg)
		hz_wg_add(wg, 1);
	int x = s->x = hz_x_spawn_(); /* s is the new thread's once it starts */

	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_t tid;
	int err = pthread_create(&tid, &attr, trampoline, s);
	pthread_attr_destroy(&attr);
	if (err)
		hz_die("pthread_create: %s", strerror(err));
	if (x >= 0)
		hz_x_spawned_();
}

void hz_run_threads(int rounds, const hz_thread_spec *t, size_t n)
{
	for (int r = 0; r < hz_rounds(rounds); r++) {
		hz_wg wg;
		hz_wg_init(&wg);
		for (size_t i = 0; i < (size_t)hz_threads((int)n); i++)
			hz_go(&wg, t[i].name, t[i].role, t[i].fn, t[i].arg);
		hz_wg_wait(&wg);
		hz_wg_destroy(&wg);
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* What one runtime.Gosched() costs when no other goroutine is waiting:
 * 175-178 ns per call, Go 1.19, a loop of 10^6 calls on the 2-core test
 * machine. */
#define GOSCHED_NS 175

/* Under ThreadSanitizer a natural yield stays sched_yield(): with the
 * shorter yield, TSan reported no race in 3% of natural runs of 4.2 and of
 * the len control (194 and 195 of 200; with sched_yield 200 of 200 each),
 * and there the race report, not the rate, is what a run is judged by. */
#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif

/* runtime.Gosched() lets the process's other goroutines run; it never
 * hands the CPU to another process. sched_yield() does: on a busy machine
 * it cost 1.7-2.0 us per call (load 11 on 2 cores, against 175 ns for
 * Gosched), which stretched every natural loop tenfold. So in natural mode,
 * while the case's threads fit on the CPUs (as goroutines on their own Ps
 * would), a yield stays on the CPU for what Gosched costs; with more
 * threads than CPUs it lets the others run (and under ThreadSanitizer, see
 * UNDER_TSAN). Forced mode is untouched. */
void hz_yield(void)
{
	if (HZ_EXPLORING()) {
		hz_x_yield_();
		return;
	}
	if (run_mode == HZ_NATURAL && !UNDER_TSAN &&
	    atomic_load_explicit(&threads_running, memory_order_relaxed) <= ncpus) {
		uint64_t until = now_ns() + GOSCHED_NS;
		while (now_ns() < until)
			;
		return;
	}
	sched_yield();
}

void hz_sleep_us(unsigned us)
{
	if (HZ_EXPLORING()) {
		hz_x_yield_(); /* no real time passes under the scheduler */
		return;
	}
	struct timespec ts = {us / 1000000u, (long)(us % 1000000u) * 1000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Each primitive below is written once on the parking spot (wait.c), the
 * same code in every mode: a waiter passes a scheduling point, then waits on
 * the spot while the state says so; a releaser changes the state, wakes the
 * spot's waiters, then passes a scheduling point. */

void hz_wg_init(hz_wg *wg)
{
	hz_spot_init_(&wg->spot);
	wg->n = 0;
}

void hz_wg_add(hz_wg *wg, int delta)
{
	/* No scheduling point: hz_go adds before the thread exists, and a
	 * thread's done is followed by its end, which is one. */
	hz_spot_enter_(&wg->spot);
	wg->n += delta;
	if (wg->n < 0)
		hz_die("sync: negative WaitGroup counter");
	if (wg->n == 0)
		hz_spot_wake_all_(&wg->spot);
	hz_spot_leave_(&wg->spot);
}

void hz_wg_done(hz_wg *wg)
{
	hz_wg_add(wg, -1);
}

void hz_wg_wait(hz_wg *wg)
{
	hz_spot_point_();
	hz_spot_enter_(&wg->spot);
	while (wg->n > 0)
		hz_spot_wait_(&wg->spot);
	hz_spot_leave_(&wg->spot);
}

void hz_wg_destroy(hz_wg *wg)
{
	hz_spot_destroy_(&wg->spot);
}

void hz_defer_run_(struct hz_defer *d)
{
	d->fn(d->arg);
}

/* ------------------------------------------------------------------------ */
/* Cancel token                                                             */
/* ------------------------------------------------------------------------ */

void hz_cancel_init(hz_cancel *c)
{
	atomic_init(&c->done, false);
	hz_spot_init_(&c->spot);
}

void hz_cancel_fire(hz_cancel *c)
{
	hz_spot_enter_(&c->spot);
	atomic_store(&c->done, true);
	hz_spot_wake_all_(&c->spot);
	hz_spot_leave_(&c->spot);
	hz_spot_point_();
}

/* In explore mode a poll that finds the token not yet fired is a yield: a
 * Go-style busy poll (`for ctx.Err() == nil {}`) makes no other scheduling
 * point, and would otherwise keep the baton until the child's alarm. As at
 * any yield, the poller then runs again only when no other thread can. */
bool hz_cancelled(const hz_cancel *c)
{
	bool done = atomic_load(&c->done);
	if (!done && HZ_EXPLORING())
		hz_x_yield_();
	return done;
}

void hz_cancel_wait(hz_cancel *c)
{
	hz_spot_point_();
	hz_spot_enter_(&c->spot);
	while (!atomic_load(&c->done))
		hz_spot_wait_(&c->spot);
	hz_spot_leave_(&c->spot);
}

void hz_cancel_destroy(hz_cancel *c)
{
	hz_spot_destroy_(&c->spot);
}

/* ------------------------------------------------------------------------ */
/* Locks on a parking spot: parked exactly while someone else has it        */
/* ------------------------------------------------------------------------ */

void hz_mutex_init(hz_mutex *m)
{
	hz_spot_init_(&m->spot);
	m->locked = false;
}

void hz_mutex_lock(hz_mutex *m)
{
	hz_spot_point_();
	hz_spot_enter_(&m->spot);
	while (m->locked)
		hz_spot_wait_(&m->spot);
	m->locked = true;
	hz_spot_leave_(&m->spot);
}

void hz_mutex_unlock(hz_mutex *m)
{
	hz_spot_enter_(&m->spot);
	if (!m->locked)
		hz_die("sync: unlock of unlocked mutex");
	m->locked = false;
	/* Every waiter wakes and looks: one takes it, the others park again. */
	hz_spot_wake_all_(&m->spot);
	hz_spot_leave_(&m->spot);
	hz_spot_point_();
}

void hz_mutex_destroy(hz_mutex *m)
{
	hz_spot_destroy_(&m->spot);
}

void hz_rwlock_init(hz_rwlock *l)
{
	hz_spot_init_(&l->spot);
	l->readers = l->writers_waiting = 0;
	l->writer = false;
}

void hz_rwlock_rdlock(hz_rwlock *l)
{
	hz_spot_point_();
	hz_spot_enter_(&l->spot);
	while (l->writer || l->writers_waiting > 0)
		hz_spot_wait_(&l->spot);
	l->readers++;
	hz_spot_leave_(&l->spot);
}

void hz_rwlock_wrlock(hz_rwlock *l)
{
	hz_spot_point_();
	hz_spot_enter_(&l->spot);
	l->writers_waiting++;
	while (l->writer || l->readers > 0)
		hz_spot_wait_(&l->spot);
	l->writers_waiting--;
	l->writer = true;
	hz_spot_leave_(&l->spot);
}

void hz_rwlock_unlock(hz_rwlock *l)
{
	hz_spot_enter_(&l->spot);
	if (l->writer)
		l->writer = false;
	else if (l->readers > 0)
		l->readers--;
	else
		hz_die("sync: unlock of unlocked RWMutex");
	hz_spot_wake_all_(&l->spot);
	hz_spot_leave_(&l->spot);
	hz_spot_point_();
}

void hz_rwlock_destroy(hz_rwlock *l)
{
	hz_spot_destroy_(&l->spot);
}

/* ------------------------------------------------------------------------ */
/* The command line                                                         */
/* ------------------------------------------------------------------------ */

static void usage(FILE *f, const char *prog, const hz_case *c)
{
	fprintf(f,
	        "usage: %s [--variant V] [--mode forced|natural] [--seed N] [--banner]\n"
	        "       %s [--variant V] --mode explore [--bound N] [--max-schedules N]\n"
	        "                         [--schedule S] [--seed N]\n"
	        "       %s --list-variants | --help\n"
	        "\n"
	        "%s: %s\n"
	        "\n"
	        "  --variant V      which program to run:",
	        prog, prog, prog, c->id, c->title);
	for (size_t i = 0; i < c->nvariants; i++)
		fprintf(f, " %s", c->variants[i].name);
	fprintf(f, " (default %s)\n", c->variants[0].name);
	fputs("  --mode M         forced: the triggering overlap is made certain (default)\n"
	      "                   natural: no help, as a user's program would run\n"
	      "                   explore: every ordering up to a preemption bound, one\n"
	      "                   child process per schedule; prints one JSON summary line\n"
	      "  --bound N        explore: preemptions per schedule (default 2)\n"
	      "  --max-schedules N  explore: stop after N schedules (default 1000000)\n"
	      "  --schedule S     explore: run only schedule S (as the summary prints it),\n"
	      "                   in this process, with the normal output and report\n"
	      "  --seed N         seed for the run's random choices (decimal; default from\n"
	      "                   time and pid)\n"
	      "  --banner         print 'case ID variant V mode M seed N generation G' first\n"
	      "                   on stderr (G: the map generation, bucket or swiss)\n"
	      "  --list-variants  print the variants, one per line\n"
	      "  --help           print this text\n"
	      "\n"
	      "A bad variant ends with Go's fatal error and exit status 2; a race-free\n"
	      "variant prints DONE and exits 0.\n",
	      f);
}

static _Noreturn void bad_usage(const char *prog, const char *fmt, const char *what)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, what);
	fputs(" (try --help)\n", stderr);
	exit(64);
}

static bool parse_u64(const char *s, uint64_t *out)
{
	if (!*s || *s == '-' || *s == '+')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

/* Accepts "--opt value" and "--opt=value"; returns the value or NULL when
 * argv[*i] is not `opt`. */
static const char *option_value(int argc, char **argv, int *i, const char *opt)
{
	size_t n = strlen(opt);
	const char *a = argv[*i];
	if (strncmp(a, opt, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= argc)
		bad_usage(argv[0], "option %s needs a value", opt);
	return argv[++*i];
}

static uint64_t default_seed(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t s = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	s ^= (uint64_t)getpid() << 32;
	return splitmix64(&s);
}

int hz_main(int argc, char **argv, const hz_case *c)
{
	/* The main thread is "thread 1" in reports; claim the number first. */
	gomap_thread_set_name("main");

	const hz_variant *variant = &c->variants[0];
	bool banner = false, have_seed = false;
	uint64_t bound = 2, max_schedules = 1000000;
	const char *schedule = NULL;
	bool explore_option = false; /* --bound, --max-schedules or --schedule */
	const char *v;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout, argv[0], c);
			return 0;
		} else if (strcmp(a, "--list-variants") == 0) {
			for (size_t k = 0; k < c->nvariants; k++)
				printf("%s\n", c->variants[k].name);
			return 0;
		} else if (strcmp(a, "--banner") == 0) {
			banner = true;
		} else if ((v = option_value(argc, argv, &i, "--variant"))) {
			variant = NULL;
			for (size_t k = 0; k < c->nvariants; k++)
				if (strcmp(v, c->variants[k].name) == 0)
					variant = &c->variants[k];
			if (!variant)
				bad_usage(argv[0], "unknown variant '%s'", v);
		} else if ((v = option_value(argc, argv, &i, "--mode"))) {
			if (strcmp(v, "forced") == 0)
				run_mode = HZ_FORCED;
			else if (strcmp(v, "natural") == 0)
				run_mode = HZ_NATURAL;
			else if (strcmp(v, "explore") == 0)
				run_mode = HZ_EXPLORE;
			else
				bad_usage(argv[0], "unknown mode '%s' (forced, natural or explore)",
				          v);
		} else if ((v = option_value(argc, argv, &i, "--bound"))) {
			if (!parse_u64(v, &bound) || bound > 64)
				bad_usage(argv[0], "bad bound '%s' (0 to 64)", v);
			explore_option = true;
		} else if ((v = option_value(argc, argv, &i, "--max-schedules"))) {
			if (!parse_u64(v, &max_schedules) || max_schedules == 0)
				bad_usage(argv[0], "bad schedule count '%s' (a positive number)",
				          v);
			explore_option = true;
		} else if ((v = option_value(argc, argv, &i, "--schedule"))) {
			schedule = v;
			explore_option = true;
		} else if ((v = option_value(argc, argv, &i, "--seed"))) {
			if (!parse_u64(v, &run_seed))
				bad_usage(argv[0], "bad seed '%s' (a decimal number)", v);
			have_seed = true;
		} else {
			bad_usage(argv[0], "unknown argument '%s'", a);
		}
	}
	if (explore_option && run_mode != HZ_EXPLORE)
		bad_usage(argv[0], "%s",
		          "--bound, --max-schedules and --schedule need --mode explore");
	if (!have_seed) /* an exploration must give the same counts every time */
		run_seed = run_mode == HZ_EXPLORE ? HZ_EXPLORE_SEED : default_seed();
	hz_rand_seed_thread_(0);
	cpu_set_t cpus;
	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0)
		ncpus = CPU_COUNT(&cpus);

	if (banner) {
		static const char *const modes[] = {"forced", "natural", "explore"};
		fprintf(stderr, "case %s variant %s mode %s seed %" PRIu64 " generation %s\n",
		        c->id, variant->name, modes[run_mode], run_seed, gomap_generation());
		fflush(stderr);
	}
	if (run_mode == HZ_FORCED)
		hz_sched_install_();
	if (run_mode == HZ_EXPLORE && schedule)
		hz_x_replay_(schedule);
	else if (run_mode == HZ_EXPLORE)
		hz_x_explore_(c, variant, (int)bound, max_schedules); /* returns in a child */

	variant->run();

	/* A thread that detected misuse is printing its report and will end
	 * the process with status 2: never race it with a clean exit. */
	if (run_mode == HZ_FORCED && hz_detected_())
		for (;;)
			pause();
	printf("DONE\n");
	fflush(stdout);
	/* An exploration's child (the explorer itself never gets here): its
	 * status is all that counts, and the other threads may still be parked
	 * mid-scenario, so no exit handlers (a leak check would only slow it). */
	if (run_mode == HZ_EXPLORE && !schedule)
		_exit(0);
	return 0;
}
