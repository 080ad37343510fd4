/*
 * detector_child.c -- single misuses of a map, one per run, for the
 * detector tests (test_detector.c, test_nil.c).
 *
 * Usage: detector_child <scenario>
 *
 * Most scenarios are single-threaded: a hook on GOMAP_EV_WRITE_SET runs
 * while a write holds the map's hashWriting flag, and from there performs a
 * second operation on the same map, exactly as a second thread would if it
 * arrived at that moment. The "thread-" scenarios use a real second thread
 * that is parked inside its write window.
 *
 * Stdout carries facts for the parent: "tid <who> <n>" (thread numbers) and
 * "line <function> <n>" (the source line of the map call made in that
 * function, which the report must show). A scenario whose misuse went
 * unreported prints "NO-DETECTION" and exits 0; a scenario that must not be
 * reported prints "DONE" and exits 0.
 *
 * This file is built without optimisation so that every function below
 * keeps its own stack frame.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "gomap.h"

static gomap *M;
static gomap_iter IT;
static volatile int64_t sink;
static int armed; /* the hook acts once, on the first write after arming */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > 0 && write(1, buf, (size_t)n) < 0)
		_exit(120);
}

/* Reports the line of `call` under `fn`, then makes the call on that line. */
#define AT(fn, call)                                                                               \
	do {                                                                                       \
		say("line %s %d\n", fn, __LINE__);                                                 \
		call;                                                                              \
	} while (0)

/* ---- maps --------------------------------------------------------------- */

typedef struct triple {
	int64_t a, b, c;
} triple;

static uint64_t triple_hash(const void *key, uint64_t seed)
{
	return gomap_memhash(key, sizeof(triple), seed);
}

static bool triple_equal(const void *x, const void *y)
{
	return memcmp(x, y, sizeof(triple)) == 0;
}

static const gomap_type triple_type = {
        .name = "map[triple]int64",
        .keysize = sizeof(triple),
        .elemsize = sizeof(int64_t),
        .kind = GOMAP_KEY_GENERIC,
        .hash = triple_hash,
        .equal = triple_equal,
};

static void setup_i64(void)
{
	M = gomap_make(&gomap_type_i64_i64, 0);
	for (int64_t k = 1; k <= 20; k++)
		gomap_i64_set(M, k, k);
}

static void setup_str(void)
{
	M = gomap_make(&gomap_type_str_i64, 0);
	char buf[16];
	for (int k = 1; k <= 20; k++)
		gomap_str_set(M, buf, (size_t)snprintf(buf, sizeof buf, "k%d", k), k);
}

static void setup_triple(void)
{
	M = gomap_make(&triple_type, 0);
	for (int64_t k = 1; k <= 20; k++) {
		triple t = {k, -k, k * 3};
		gomap_assign(M, &t, &k);
	}
}

/* ---- the window holders: each makes one write -------------------------- */

static void hold_set(void)
{
	AT("hold_set", gomap_i64_set(M, 1, 100));
}

static void hold_str_set(void)
{
	AT("hold_str_set", gomap_str_set(M, "k1", 2, 100));
}

static void hold_assign(void)
{
	triple t = {1, -1, 3};
	int64_t v = 100;
	AT("hold_assign", gomap_assign(M, &t, &v));
}

static void hold_delete(void)
{
	AT("hold_delete", gomap_i64_delete(M, 2));
}

static void hold_clear(void)
{
	AT("hold_clear", gomap_clear(M));
}

/* ---- hooks: the second party, acting inside the window ----------------- */

#define HOOK(name) static void name(gomap_event ev, gomap *m, gomap_op op, void *arg)
#define ONCE()                                                                                     \
	do {                                                                                       \
		if (!armed)                                                                        \
			return;                                                                    \
		armed = 0;                                                                         \
	} while (0)

HOOK(hook_get)
{
	ONCE();
	AT("hook_get", sink = gomap_i64_get(m, 3));
}

HOOK(hook_lookup)
{
	ONCE();
	int64_t v;
	AT("hook_lookup", sink = gomap_i64_lookup(m, 3, &v));
}

HOOK(hook_access2)
{
	ONCE();
	int64_t k = 3, v;
	AT("hook_access2", sink = gomap_access2(m, &k, &v));
}

HOOK(hook_str_get)
{
	ONCE();
	AT("hook_str_get", sink = gomap_str_get(m, "k3", 2));
}

HOOK(hook_access1)
{
	ONCE();
	triple t = {3, -3, 9};
	int64_t v;
	AT("hook_access1", gomap_access1(m, &t, &v); sink = v);
}

HOOK(hook_set)
{
	ONCE();
	AT("hook_set", gomap_i64_set(m, 4, 400); sink = 1);
}

HOOK(hook_delete)
{
	ONCE();
	AT("hook_delete", gomap_i64_delete(m, 5); sink = 1);
}

HOOK(hook_clear)
{
	ONCE();
	AT("hook_clear", gomap_clear(m); sink = 1);
}

HOOK(hook_iter_next)
{
	ONCE();
	AT("hook_iter_next", sink = gomap_iter_next(&IT));
}

HOOK(hook_clone)
{
	ONCE();
	gomap *c;
	AT("hook_clone", c = gomap_clone(m); sink = (int64_t)gomap_len(c));
}

HOOK(hook_len)
{
	ONCE();
	AT("hook_len", sink = (int64_t)gomap_len(m));
}

HOOK(hook_iter_init)
{
	ONCE();
	gomap_iter_init(m, &IT);
}

/* Writes on stderr, so the parent can see it came before the report. */
HOOK(hook_detected)
{
	char buf[64];
	int n = snprintf(buf, sizeof buf, "detected-hook same-map %d\n", m == M);
	if (write(2, buf, (size_t)n) < 0)
		_exit(121);
}

/* Arms `fn` on the write window and runs `holder` under it. */
static void misuse(gomap_hook_fn fn, void (*holder)(void))
{
	gomap_set_hook(GOMAP_EV_WRITE_SET, fn, NULL);
	armed = 1;
	holder();
}

/* ---- single-threaded scenarios ----------------------------------------- */

static void deep(int depth)
{
	if (depth == 0) {
		misuse(hook_get, hold_set);
		return;
	}
	deep(depth - 1);
	sink = depth;
}

static int run_single(const char *s)
{
	if (!strcmp(s, "read-in-write")) {
		setup_i64();
		misuse(hook_get, hold_set);
	} else if (!strcmp(s, "lookup-in-write")) {
		setup_i64();
		misuse(hook_lookup, hold_set);
	} else if (!strcmp(s, "access2-in-write")) {
		setup_i64();
		misuse(hook_access2, hold_set);
	} else if (!strcmp(s, "str-read-in-write")) {
		setup_str();
		misuse(hook_str_get, hold_str_set);
	} else if (!strcmp(s, "generic-read-in-write")) {
		setup_triple();
		misuse(hook_access1, hold_assign);
	} else if (!strcmp(s, "write-in-write")) {
		setup_i64();
		misuse(hook_set, hold_set);
	} else if (!strcmp(s, "delete-in-write")) {
		setup_i64();
		misuse(hook_delete, hold_set);
	} else if (!strcmp(s, "clear-in-write")) {
		setup_i64();
		misuse(hook_clear, hold_set);
	} else if (!strcmp(s, "write-in-delete")) {
		setup_i64();
		misuse(hook_set, hold_delete);
	} else if (!strcmp(s, "read-in-clear")) {
		setup_i64();
		misuse(hook_get, hold_clear);
	} else if (!strcmp(s, "iter-in-write")) {
		setup_i64();
		gomap_iter_init(M, &IT);
		misuse(hook_iter_next, hold_set);
	} else if (!strcmp(s, "clone-in-write")) {
		setup_i64();
		misuse(hook_clone, hold_set);
	} else if (!strcmp(s, "detected-hook")) {
		setup_i64();
		gomap_set_hook(GOMAP_EV_DETECTED, hook_detected, NULL);
		misuse(hook_get, hold_set);
	} else if (!strcmp(s, "deep-read-in-write")) {
		setup_i64();
		deep(3000);
	} else {
		return -1;
	}
	say("NO-DETECTION\n");
	return 0;
}

/* ---- nil map ------------------------------------------------------------ */

static void nil_i64_set(void)
{
	AT("nil_i64_set", gomap_i64_set(NULL, 1, 1); sink = 1);
}

static void nil_str_set(void)
{
	AT("nil_str_set", gomap_str_set(NULL, "a", 1, 1); sink = 1);
}

static void nil_assign(void)
{
	int64_t k = 1, v = 1;
	AT("nil_assign", gomap_assign(NULL, &k, &v); sink = 1);
}

static int run_nil(const char *s)
{
	if (!strcmp(s, "nil-i64-set"))
		nil_i64_set();
	else if (!strcmp(s, "nil-str-set"))
		nil_str_set();
	else if (!strcmp(s, "nil-assign"))
		nil_assign();
	else
		return -1;
	say("NO-DETECTION\n");
	return 0;
}

/* ---- operations Go never reports --------------------------------------- */

static int run_silent(const char *s)
{
	if (!strcmp(s, "empty-read-in-first-insert")) {
		/* The read sees count == 0 and returns before the check. */
		M = gomap_make(&gomap_type_i64_i64, 0);
		misuse(hook_get, hold_set);
	} else if (!strcmp(s, "empty-delete-in-first-insert")) {
		M = gomap_make(&gomap_type_i64_i64, 0);
		misuse(hook_delete, hold_set);
	} else if (!strcmp(s, "empty-clone-in-first-insert")) {
		M = gomap_make(&gomap_type_i64_i64, 0);
		misuse(hook_clone, hold_set);
	} else if (!strcmp(s, "len-in-write")) {
		setup_i64();
		misuse(hook_len, hold_set);
	} else if (!strcmp(s, "iter-init-in-write")) {
		/* Go: mapiterinit has no check; only the steps do. */
		setup_i64();
		misuse(hook_iter_init, hold_set);
		int n = 0;
		while (gomap_iter_next(&IT))
			n++;
		if (n != 20) {
			say("iteration saw %d entries, expected 20\n", n);
			return 1;
		}
	} else if (!strcmp(s, "delete-during-range")) {
		setup_i64();
		gomap_iter it;
		gomap_iter_init(M, &it);
		while (gomap_iter_next(&it)) {
			int64_t k;
			memcpy(&k, it.key, sizeof k);
			gomap_i64_delete(M, k);
		}
		if (gomap_len(M) != 0) {
			say("len %zu after deleting every key\n", gomap_len(M));
			return 1;
		}
	} else {
		return -1;
	}
	say("DONE\n");
	return 0;
}

/* ---- two real threads --------------------------------------------------- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int holder_inside;
static void (*holder_op)(void);

/* Parks the holder inside its window until the process ends (bounded). */
HOOK(hook_park)
{
	ONCE();
	pthread_mutex_lock(&mu);
	holder_inside = 1;
	pthread_cond_broadcast(&cv);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	while (pthread_cond_timedwait(&cv, &mu, &until) == 0)
		;
	pthread_mutex_unlock(&mu);
}

static void *holder_main(void *arg)
{
	(void)arg;
	gomap_thread_set_name("holder");
	say("tid holder %d\n", gomap_thread_id());
	holder_op();
	return NULL;
}

static void probe_get(void)
{
	AT("probe_get", sink = gomap_i64_get(M, 3));
}

static void probe_set(void)
{
	AT("probe_set", gomap_i64_set(M, 4, 4); sink = 1);
}

/*
 * Both writers past the entry check: the prober's hash function (which runs
 * between the entry check and the flag update, as in Go) waits until the
 * holder has set the flag and parked. The prober then toggles the flag back
 * to clear, and its exit check fails: Go's "concurrent map writes" from
 * the end of mapassign, with the holder as the other party.
 */
static int hash_waits;

static uint64_t waiting_hash(const void *key, uint64_t seed)
{
	if (hash_waits && gomap_thread_id() == 1) {
		hash_waits = 0;
		pthread_t t;
		if (pthread_create(&t, NULL, holder_main, NULL) != 0)
			_exit(121);
		pthread_mutex_lock(&mu);
		while (!holder_inside)
			pthread_cond_wait(&cv, &mu);
		pthread_mutex_unlock(&mu);
	}
	return gomap_memhash(key, sizeof(triple), seed);
}

static const gomap_type waiting_type = {
        .name = "map[triple]int64",
        .keysize = sizeof(triple),
        .elemsize = sizeof(int64_t),
        .kind = GOMAP_KEY_GENERIC,
        .hash = waiting_hash,
        .equal = triple_equal,
};

static void hold_waiting_assign(void)
{
	triple t = {2, -2, 6};
	int64_t v = 200;
	AT("hold_waiting_assign", gomap_assign(M, &t, &v));
}

static void probe_waiting_assign(void)
{
	triple t = {1, -1, 3};
	int64_t v = 100;
	AT("probe_waiting_assign", gomap_assign(M, &t, &v));
}

static int run_flag_lost(void)
{
	M = gomap_make(&waiting_type, 0);
	for (int64_t k = 1; k <= 20; k++) {
		triple t = {k, -k, k * 3};
		gomap_assign(M, &t, &k);
	}
	holder_op = hold_waiting_assign;
	gomap_set_hook(GOMAP_EV_WRITE_SET, hook_park, NULL);
	armed = 1;
	hash_waits = 1;
	probe_waiting_assign();
	say("NO-DETECTION\n");
	return 0;
}

static int run_threads(const char *s)
{
	void (*probe)(void);
	if (!strcmp(s, "thread-writes-both-inside"))
		return run_flag_lost();
	if (!strcmp(s, "thread-read")) {
		holder_op = hold_set;
		probe = probe_get;
	} else if (!strcmp(s, "thread-write")) {
		holder_op = hold_set;
		probe = probe_set;
	} else if (!strcmp(s, "thread-read-in-delete")) {
		holder_op = hold_delete;
		probe = probe_get;
	} else {
		return -1;
	}
	setup_i64();
	gomap_set_hook(GOMAP_EV_WRITE_SET, hook_park, NULL);
	armed = 1;
	pthread_t t;
	if (pthread_create(&t, NULL, holder_main, NULL) != 0)
		return 1;
	pthread_mutex_lock(&mu);
	while (!holder_inside)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	probe();
	pthread_join(t, NULL);
	say("NO-DETECTION\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: detector_child <scenario>\n");
		return 64;
	}
	/* GOTRACEBACK=crash ends in SIGABRT: no core files from tests. */
	struct rlimit no_core = {0, 0};
	setrlimit(RLIMIT_CORE, &no_core);
	alarm(30); /* a hang is a failure, not a stuck test run */

	gomap_thread_set_name("prober");
	say("tid prober %d\n", gomap_thread_id());

	int rc;
	if ((rc = run_single(argv[1])) >= 0)
		return rc;
	if ((rc = run_nil(argv[1])) >= 0)
		return rc;
	if ((rc = run_silent(argv[1])) >= 0)
		return rc;
	if ((rc = run_threads(argv[1])) >= 0)
		return rc;
	fprintf(stderr, "detector_child: unknown scenario '%s'\n", argv[1]);
	return 64;
}
