/*
 * 3.1 value-receiver-copy: a struct holding a map is passed by value (Go: a
 * method with a value receiver). Each copy looks independent, yet all
 * copies share one map table, one write flag.
 *
 * Go:      type Tracker struct{ seen map[int]int }
 *          func (t Tracker) Mark(k, v int) { t.seen[k] = v }   // value receiver
 *          t := Tracker{seen: map[int]int{}}
 *          go func(t Tracker) { for i := 0; i < N; i++ { t.Mark(i%64, i) } }(t)   // a copy
 *          go func(t Tracker) { for i := 0; i < N; i++ { t.Mark(i%64, i) } }(t)   // another
 * Expect:  fatal error: concurrent map writes
 * Fix:     one shared *Tracker with a mutex inside and a pointer receiver:
 *          func (t *Tracker) Mark(k, v int) { t.mu.Lock(); defer t.mu.Unlock(); ... }
 *
 * Copying the struct copies the map *handle* (a pointer to the header), not
 * the table. Real Go, article's program: 80/100 "concurrent map writes".
 */
#include "harness.h"

typedef struct tracker {
	gomap *seen; /* map[int64]int64; copying the struct copies this pointer */
} tracker;

static void tracker_mark(tracker t, int64_t k, int64_t v) /* value receiver */
{
	gomap_i64_set(t.seen, k, v);
}

typedef struct safe_tracker {
	hz_mutex mu;
	gomap *seen;
} safe_tracker;

static void safe_tracker_mark(safe_tracker *t, int64_t k, int64_t v) /* pointer receiver */
{
	hz_mutex_lock(&t->mu);
	gomap_i64_set(t->seen, k, v);
	hz_mutex_unlock(&t->mu);
}

static void marker(void *arg)
{
	tracker t = *(tracker *)arg; /* this thread's own copy */
	for (int i = 0; i < hz_loops(500); i++) {
		tracker_mark(t, i % 64, i);
		hz_yield();
	}
}

static void safe_marker(void *arg)
{
	safe_tracker *t = arg; /* everyone shares the one tracker */
	for (int i = 0; i < hz_loops(500); i++) {
		safe_tracker_mark(t, i % 64, i);
		hz_yield();
	}
}

static void run(void (*body)(void *), void *arg)
{
	/* Forced: marker-1 holds its write open until marker-2 writes. */
	hz_force_window(HZ_ARRIVE_WRITE, 1);
	HZ_RUN(20, {"marker-1", HZ_HOLDER, body, arg}, {"marker-2", HZ_PARTY, body, arg});
}

static void run_bad(void)
{
	tracker t = {gomap_make(&gomap_type_i64_i64, 0)};
	run(marker, &t);
	gomap_free(t.seen);
}

static void run_fixed(void)
{
	safe_tracker t = {.seen = gomap_make(&gomap_type_i64_i64, 0)};
	hz_mutex_init(&t.mu);
	run(safe_marker, &t);
	gomap_free(t.seen);
}

HZ_CASE({"bad", run_bad}, {"fixed", run_fixed})
