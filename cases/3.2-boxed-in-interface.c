/*
 * 3.2 boxed-in-interface: a map handle is boxed in a type-erased value
 * (Go: interface{}), handed to two threads, unboxed, and written by both.
 *
 * Go:      var v interface{} = map[int]int{}
 *          work := func(v interface{}) {
 *                  m := v.(map[int]int)
 *                  for i := 0; i < N; i++ { m[i%64] = i }
 *          }
 *          go work(v); go work(v)
 * Expect:  fatal error: concurrent map writes
 * Fix:     box a value that carries its own lock (*SafeMap), so whoever
 *          unboxes it gets the mutex along with the map.
 *
 * Boxing copies the handle, not the table: the detector still sees both
 * writers. Real Go, article's program: 17/100 "concurrent map writes".
 */
#include <string.h>

#include "harness.h"

typedef struct any { /* interface{}: a type name and a pointer */
	const char *type;
	void *ptr;
} any;

typedef struct safe_map { /* the fixed variant boxes one of these */
	hz_mutex mu;
	gomap *m;
} safe_map;

static void *unbox(any v, const char *type) /* v.(T) */
{
	if (strcmp(v.type, type) != 0)
		hz_die("interface conversion: interface {} is %s, not %s", v.type, type);
	return v.ptr;
}

static void worker(void *arg)
{
	any v = *(any *)arg;
	for (int i = 0; i < hz_loops(500); i++) {
		if (strcmp(v.type, "*SafeMap") == 0) {
			safe_map *s = unbox(v, "*SafeMap");
			hz_mutex_lock(&s->mu);
			gomap_i64_set(s->m, i % 64, i);
			hz_mutex_unlock(&s->mu);
		} else {
			gomap_i64_set(unbox(v, "map[int]int"), i % 64, i);
		}
		hz_yield();
	}
}

static void run(any v)
{
	/* Forced: worker-1 holds its write open until worker-2 writes. */
	hz_force_window(HZ_ARRIVE_WRITE, 1);
	HZ_RUN(20, {"worker-1", HZ_HOLDER, worker, &v}, {"worker-2", HZ_PARTY, worker, &v});
}

static void run_bad(void)
{
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	run((any){"map[int]int", m});
	gomap_free(m);
}

static void run_fixed(void)
{
	safe_map s = {.m = gomap_make(&gomap_type_i64_i64, 0)};
	hz_mutex_init(&s.mu);
	run((any){"*SafeMap", &s});
	gomap_free(s.m);
}

HZ_CASE({"bad", run_bad}, {"fixed", run_fixed})
