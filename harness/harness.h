/*
 * harness.h -- the small library every case program uses.
 *
 * Each case is a Go program retold in C. The harness supplies the pieces of
 * Go that a case needs and C lacks, so that a case reads like its Go original:
 *
 *   Go                                C (this header)
 *   --------------------------------  ------------------------------------------
 *   go f(x)                           hz_go(&wg, "name", role, f, x): a named thread
 *   sync.WaitGroup                    hz_wg: hz_wg_add, hz_wg_done, hz_wg_wait
 *   runtime.Gosched()                 hz_yield()
 *   defer f(x)                        HZ_DEFER(f, x): runs f(x) when the scope ends
 *   ctx, cancel := context.WithCancel hz_cancel: hz_cancel_fire, hz_cancelled,
 *                                     hz_cancel_wait (<-ctx.Done())
 *   sync.Mutex, sync.RWMutex          hz_mutex, hz_rwlock
 *   sync.Map                          hz_syncmap: read-mostly concurrent map
 *   (a map split over N mutexes)      hz_shardmap: sharded-lock map
 *   atomic.Pointer[map] (read-copy)   hz_cowmap: copy-on-write map
 *   testing.T, t.Run, t.Parallel      hz_test_run: parallel subtests
 *   func main()                       HZ_CASE(...) + hz_main(): command line, variants
 *
 * Every case program shares one command line (see hz_main):
 *   --variant bad|fixed|control  --mode forced|natural|explore  --seed N
 *   --bound N  --max-schedules N  --schedule S   (explore mode only)
 *   --list-variants  --banner  --help
 *
 * Three run modes:
 *   natural  no help at all: Go-like loops with yields, as a user's program
 *            would run. The overlap that triggers a failure is a matter of
 *            luck, as it is in Go. A run repeats its scenario a few times in
 *            fresh threads (hz_rounds), like `go test -count=N`.
 *   forced   the overlap is made certain through the core's instrumentation
 *            points (gomap_set_hook), in the spirit of ThreadSanitizer's test
 *            barriers: one thread, the window HOLDER, stops inside its first
 *            map write just after it set the write flag, and keeps the window
 *            open until another thread, a PARTY, has arrived at an operation
 *            that checks the flag. Which thread holds and which operation
 *            counts as an arrival is chosen by each case (hz_force_window), so
 *            that exactly the expected message fires.
 *
 *   explore  every ordering of the scenario's scheduling points with at
 *            most --bound preemptions (default 2), one child process per
 *            schedule, under a scheduler that runs one thread at a time
 *            (scheduler.c, explorer.c). Loops, threads and key counts are cut to
 *            HZ_EXPLORE_LOOPS, HZ_EXPLORE_THREADS and HZ_EXPLORE_SIZE so
 *            that the space is finite. Prints one JSON line on stdout and
 *            exits 0 (70 when the explorer itself fails); --schedule S runs
 *            only schedule S, in process, with the normal output and report.
 *
 * The forced schedule never relies on timing and never spins: every wait is
 * a condition variable, so it works pinned to one CPU. In a race-free twin
 * a party can never arrive while the window is open (a lock keeps it out);
 * the holder then stops waiting as soon as every party is parked on a
 * harness lock (or wait group, cancel token) that someone else holds,
 * or has finished. Those primitives announce "parked" for exactly this
 * reason. A hard cap of a few seconds exists only as a safety net.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gomap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* The run: mode, variant, seed                                             */
/* ------------------------------------------------------------------------ */

typedef enum hz_mode { HZ_FORCED = 0, HZ_NATURAL = 1, HZ_EXPLORE = 2 } hz_mode;

/* Explore mode: hz_loops gives at most this many iterations, hz_rounds one
 * round, so that the space of orderings is finite and small. */
#define HZ_EXPLORE_LOOPS   2
/* Explore mode: at most this many threads per hz_run_threads, hz_test_run
 * or hz_threads, and at most this many keys or items per hz_size. */
#define HZ_EXPLORE_THREADS 2
#define HZ_EXPLORE_SIZE    4
/* Explore mode's seed unless --seed is given (the core's random choices and
 * the harness's streams): the same exploration gives the same counts. */
#define HZ_EXPLORE_SEED    1

/* One runnable variant of a case: "bad", "fixed" or "control". */
typedef struct hz_variant {
	const char *name;
	void (*run)(void);
} hz_variant;

/* What a case tells the harness about itself. */
typedef struct hz_case {
	const char *id;    /* e.g. "2.1-read-write-pair" */
	const char *title; /* the trigger in one line */
	const hz_variant *variants;
	size_t nvariants;
} hz_case;

/* The case's id and title, from the catalogue registry (cases/manifest.tsv):
 * the build generates them for each case program, so a source never
 * restates them. */
extern const char hz_case_id_[];
extern const char hz_case_title_[];

/* Declares the case's variants and its main(). Usage:
 *   HZ_CASE({"bad", run_bad}, {"fixed", run_fixed})
 */
#define HZ_CASE(...)                                                                               \
	static const hz_variant hz_variants_[] = {__VA_ARGS__};                                    \
	static const hz_case hz_case_ = {hz_case_id_, hz_case_title_, hz_variants_,                \
	                                 sizeof(hz_variants_) / sizeof(hz_variants_[0])};          \
	int main(int argc, char **argv)                                                            \
	{                                                                                          \
		return hz_main(argc, argv, &hz_case_);                                             \
	}

/* Parses the command line, names the main thread "main", installs the
 * forced schedule when asked, runs the variant. When the variant returns,
 * prints "DONE" on stdout and returns 0. A bad command line: one line on
 * stderr and 64. */
int hz_main(int argc, char **argv, const hz_case *c);

/* Explore mode's summary: one JSON object on one line of stdout, fields in
 * this order:
 *   case, variant         the case id and the variant explored
 *   mode                  "explore"
 *   bound                 preemptions allowed per schedule
 *   max_schedules         the cap (--max-schedules)
 *   seed                  the seed of the core's and the harness's random
 *                         choices (HZ_EXPLORE_SEED unless --seed)
 *   loops, threads, size  HZ_EXPLORE_LOOPS, HZ_EXPLORE_THREADS, HZ_EXPLORE_SIZE
 *   schedules             schedules run
 *   exhausted             true: every schedule within the bound was run to
 *                         its own end; false: the cap stopped the
 *                         exploration, or a limit cut a schedule short
 *                         (cut_short), hiding the orderings after the cut
 *   elapsed_s             seconds, schedules_per_s: schedules / elapsed_s
 *   ends                  {end: count} for every end seen, in byte order of
 *                         the end: "clean" (exit 0, nothing on stderr), a
 *                         report's first line ("fatal error: concurrent map
 *                         writes", "panic: assignment to entry in nil map"),
 *                         or another end: another first line of stderr,
 *                         "explore: hang: no thread can run", "explore: step
 *                         limit", "explore: timeout after 20 s", "crash:
 *                         signal N (name)", "exit status N"; past 32
 *                         different ends, each further one counts as
 *                         "explore: too many different ends"
 *   clean                 schedules that ended clean
 *   reported              schedules that ended with a report (exit status 2
 *                         and a first line starting "fatal error: " or
 *                         "panic: ")
 *   overlapping           schedules in which a thread entered an operation
 *                         on a map another thread was inside, one of the two
 *                         a write (whatever the end)
 *   blind_spots           overlapping schedules that ended clean
 *   other                 schedules that ended neither clean nor reported
 *   cut_short             of those, schedules a limit stopped: the 20 s
 *                         timeout, the step limit, too many choice points
 *   other_ends            [{end, count, example}] for each such end
 *   shortest_detecting    the least reported schedule (fewest choices that
 *                         differ from the default, then fewest choice points),
 *                         or null
 *   blind_spot_example    the least blind-spot schedule, or null
 *   max_choice_points     the most choice points one schedule had
 * A schedule is "-" (the default policy throughout) or "j:t,j:t,...": at
 * choice point j (from 0) thread t ran (0 is main, then start order). */

hz_mode hz_run_mode(void);
bool hz_natural(void);

/* How many times a Go-like loop runs: `natural` in natural mode, a handful
 * in forced mode (where the first overlap is certain, and a race-free twin
 * only needs to show it stays clean), at most HZ_EXPLORE_LOOPS in explore
 * mode. */
int hz_loops(int natural);

/* How many times a scenario repeats in one run: `natural` in natural mode,
 * once in forced and explore mode. Natural runs start the threads afresh each round,
 * like `go test -count=N`: two threads that happen to start on one CPU and
 * take turns there through yields never overlap, and a fresh pair gets a
 * fresh placement. (Measured on 2 busy cores, case 2.1: 1 round of 10,000
 * operations reproduced in 10/100 runs, 10 rounds of 1,000 in 48/100.) */
int hz_rounds(int natural);

/* How many threads (hz_threads) or keys and items (hz_size) a scenario
 * uses: `n`, except in explore mode, where at most HZ_EXPLORE_THREADS and
 * HZ_EXPLORE_SIZE, since each one multiplies the orderings to explore. */
int hz_threads(int n);
int hz_size(int n);

/* The calling thread's pseudo-random stream. Each thread started with hz_go
 * gets its own stream derived from the run's seed and the thread's start
 * order, so a seed reproduces every choice a thread makes. */
uint64_t hz_rand(void);
uint64_t hz_rand_below(uint64_t n); /* uniform in [0, n), n > 0 */

/* ------------------------------------------------------------------------ */
/* Goroutines: named threads and wait groups                                */
/* ------------------------------------------------------------------------ */

/* Where threads wait for a harness object's state to change: every
 * primitive below that can make a thread wait is its state plus a spot
 * (wait.c has the interface; cases never use a spot directly). */
typedef struct hz_spot {
	pthread_mutex_t mu; /* guards the owner's state (free-running modes) */
	pthread_cond_t cv;  /* its waiters sleep here (free-running modes) */
} hz_spot;

/* sync.WaitGroup. hz_wg_wait parks (see the forced schedule). */
typedef struct hz_wg {
	hz_spot spot;
	int n; /* outstanding hz_wg_done calls; never negative */
} hz_wg;

void hz_wg_init(hz_wg *wg);
void hz_wg_add(hz_wg *wg, int delta);
void hz_wg_done(hz_wg *wg);
void hz_wg_wait(hz_wg *wg);
void hz_wg_destroy(hz_wg *wg);

/* The part a thread plays in a forced schedule. */
typedef enum hz_role {
	HZ_NONE = 0,   /* not part of the schedule: its map operations pass freely */
	HZ_PARTY = 1,  /* may arrive while the window is open */
	HZ_HOLDER = 2, /* its first map write holds the window open */
} hz_role;

/* go fn(arg): starts a detached thread named `name` (seen in reports) with
 * the given role, after hz_wg_add(wg, 1); the thread calls hz_wg_done(wg)
 * when fn returns. wg may be NULL. */
void hz_go(hz_wg *wg, const char *name, hz_role role, void (*fn)(void *), void *arg);

/* One thread of a scenario, for hz_run_threads. */
typedef struct hz_thread_spec {
	const char *name;
	hz_role role;
	void (*fn)(void *);
	void *arg;
} hz_thread_spec;

/* go t[0].fn(...); go t[1].fn(...); ...; wg.Wait(): starts the threads and
 * waits for them all, hz_rounds(rounds) times over (once in forced mode).
 * Explore mode starts the first hz_threads(n) of them. */
void hz_run_threads(int rounds, const hz_thread_spec *t, size_t n);
#define HZ_RUN(rounds, ...)                                                                        \
	hz_run_threads((rounds), (const hz_thread_spec[]){__VA_ARGS__},                            \
	               sizeof((const hz_thread_spec[]){__VA_ARGS__}) / sizeof(hz_thread_spec))

/* Gives the calling thread (typically main) a role in the forced schedule. */
void hz_set_role(hz_role role);

/* runtime.Gosched(). In natural mode, while the running threads fit on the
 * process's CPUs, it stays on the CPU for what Gosched costs instead of
 * calling sched_yield(), which would hand the CPU to other processes; under
 * ThreadSanitizer it stays sched_yield() (harness.c says why). In explore
 * mode it is a scheduling point. */
void hz_yield(void);

/* Sleeps `us` microseconds (time.Sleep). */
void hz_sleep_us(unsigned us);

/* ------------------------------------------------------------------------ */
/* defer                                                                    */
/* ------------------------------------------------------------------------ */

/* HZ_DEFER(fn, arg) runs fn(arg) when the enclosing scope ends, last
 * declared first, like Go's defer (which is per function, not per block:
 * put HZ_DEFER at function scope to get Go's behaviour). */
struct hz_defer {
	void (*fn)(void *);
	void *arg;
};
void hz_defer_run_(struct hz_defer *d);
#define HZ_CAT2_(a, b) a##b
#define HZ_CAT_(a, b)  HZ_CAT2_(a, b)
#define HZ_DEFER(fn_, arg_)                                                                        \
	struct hz_defer HZ_CAT_(hz_defer_, __LINE__)                                               \
	        __attribute__((cleanup(hz_defer_run_), unused)) = {(fn_), (arg_)}

/* ------------------------------------------------------------------------ */
/* context.WithCancel                                                       */
/* ------------------------------------------------------------------------ */

typedef struct hz_cancel {
	atomic_bool done; /* atomic: hz_cancelled reads it without the spot */
	hz_spot spot;
} hz_cancel;

void hz_cancel_init(hz_cancel *c);
void hz_cancel_fire(hz_cancel *c); /* cancel() */
/* ctx.Err() != nil. In explore mode a poll that returns false is a yield,
 * so that a busy poll lets the canceller run. */
bool hz_cancelled(const hz_cancel *c);
void hz_cancel_wait(hz_cancel *c); /* <-ctx.Done(); parks */
void hz_cancel_destroy(hz_cancel *c);

/* ------------------------------------------------------------------------ */
/* Locks that tell the forced schedule when they block                      */
/* ------------------------------------------------------------------------ */

/* Built on a parking spot rather than wrapping pthread_mutex_t, so that
 * "parked" is exact: a thread counts as parked only while the lock is
 * actually taken by someone else. */
typedef struct hz_mutex {
	hz_spot spot;
	bool locked;
} hz_mutex;
void hz_mutex_init(hz_mutex *m);
void hz_mutex_lock(hz_mutex *m);
void hz_mutex_unlock(hz_mutex *m);
void hz_mutex_destroy(hz_mutex *m);

/* Writer-preferring, so a stream of readers cannot starve a writer. */
typedef struct hz_rwlock {
	hz_spot spot;
	int readers;         /* holding it shared */
	int writers_waiting; /* while > 0, new readers wait */
	bool writer;         /* held exclusively */
} hz_rwlock;
void hz_rwlock_init(hz_rwlock *l);
void hz_rwlock_rdlock(hz_rwlock *l);
void hz_rwlock_wrlock(hz_rwlock *l);
void hz_rwlock_unlock(hz_rwlock *l);
void hz_rwlock_destroy(hz_rwlock *l);

/* ------------------------------------------------------------------------ */
/* The forced schedule                                                      */
/* ------------------------------------------------------------------------ */

/* Which operations of a party count as an arrival in the open window. */
#define HZ_ARRIVE_READ  (1u << GOMAP_EV_READ_ENTRY)  /* m[k] */
#define HZ_ARRIVE_WRITE (1u << GOMAP_EV_WRITE_ENTRY) /* m[k] = v, delete, clear */
#define HZ_ARRIVE_ITER  (1u << GOMAP_EV_ITER_STEP)   /* one step of range */
#define HZ_ARRIVE_CLONE (1u << GOMAP_EV_CLONE_ENTRY) /* maps.Clone */

/* In forced mode: the next window the HOLDER opens waits for one of the
 * `arrive` operations by a PARTY on the same map; `parties` is how many
 * PARTY threads (main included, when it has the role) will take part, so
 * that the holder knows when "all parked or finished" is final. No-op in
 * natural mode. Call it before starting the threads. */
void hz_force_window(unsigned arrive, int parties);

/* A manual arrival for an operation that has no instrumentation point
 * (len): counts as an arrival on `m`, then returns at once. */
void hz_force_arrive(gomap *m);

/* ------------------------------------------------------------------------ */
/* Concurrency-safe maps built on gomap (the remedies)                      */
/* ------------------------------------------------------------------------ */

/* len(m), seen by the schedules: a manual arrival in forced mode; in
 * explore mode a read of `m` with a scheduling point on each side, so that
 * its overlaps with writes are counted. */
size_t hz_len(gomap *m);

/* A map[int64]int64 split over HZ_SHARDS maps, each with its own mutex:
 * writers of different keys rarely contend. */
#define HZ_SHARDS 16
typedef struct hz_shardmap {
	struct hz_shard {
		hz_mutex mu;
		gomap *m;
	} shard[HZ_SHARDS];
} hz_shardmap;
void hz_shardmap_init(hz_shardmap *s);
void hz_shardmap_set(hz_shardmap *s, int64_t k, int64_t v);
bool hz_shardmap_get(hz_shardmap *s, int64_t k, int64_t *v);
size_t hz_shardmap_len(hz_shardmap *s);
void hz_shardmap_destroy(hz_shardmap *s);

/* sync.Map's shape: int64 keys to pointer values. Loads of settled keys
 * read an immutable snapshot map with no lock at all; new keys go to a
 * locked "dirty" map, which becomes the next snapshot after enough misses
 * (Go: sync.Map.missLocked). Published snapshots are never written again,
 * so concurrent readers of a snapshot never overlap a write. Values are
 * updated in place through atomic entries. Retired snapshots are freed by
 * hz_syncmap_destroy. No delete (not needed by the cases). */
typedef struct hz_syncmap hz_syncmap;
hz_syncmap *hz_syncmap_new(void);
void *hz_syncmap_load(hz_syncmap *s, int64_t k);
void hz_syncmap_store(hz_syncmap *s, int64_t k, void *v);
void hz_syncmap_destroy(hz_syncmap *s);

/* Copy-on-write map[int64]int64: readers take the current version with one
 * atomic load and read it freely (a published version is never written);
 * a writer clones the current version under a mutex, changes the clone and
 * publishes it. Old versions stay alive until hz_cowmap_destroy, so a
 * reader never holds a freed map. */
typedef struct hz_cowmap {
	_Atomic(gomap *) cur;
	hz_mutex wmu;
	void **retired; /* earlier versions, kept for readers that still hold one */
	size_t nretired, capretired;
} hz_cowmap;
void hz_cowmap_init(hz_cowmap *c, gomap *initial); /* takes ownership; NULL: empty */
gomap *hz_cowmap_load(hz_cowmap *c);               /* read only */
void hz_cowmap_update(hz_cowmap *c, void (*fn)(gomap *m, void *arg), void *arg);
void hz_cowmap_destroy(hz_cowmap *c);

/* ------------------------------------------------------------------------ */
/* A tiny test main: parallel subtests                                      */
/* ------------------------------------------------------------------------ */

typedef struct hz_subtest {
	const char *name;
	void (*fn)(void *arg);
	void *arg;
} hz_subtest;

/* t.Run(name, func(t) { t.Parallel(); ... }) for each subtest, then waits
 * for all; prints "--- PASS: <parent>/<name>" per subtest and
 * "ok  <parent>" on stdout. Subtest threads are named after the subtest;
 * the first holds the forced window, the others are parties. */
void hz_test_run(const char *parent, const hz_subtest *t, size_t n);

/* Prints a fatal harness error (misuse of the harness itself) and exits 70. */
_Noreturn void hz_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#ifdef __cplusplus
}
#endif
#endif /* HARNESS_H */
