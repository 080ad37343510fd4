/*
 * control-nil-map-read: reading, len, range, delete, clear and clone on a
 * nil map, from several threads at once. All of them are fine.
 *
 * Go:      var m map[string]int                      // nil
 *          _ = m["a"]; _, ok := m["a"]; _ = len(m)
 *          for range m {}; delete(m, "a"); clear(m); _ = maps.Clone(m)
 * Expect:  no error: prints DONE, exit 0.
 *
 * A nil map behaves as an empty map that cannot be written; only
 * assignment panics (see nil-map-assign). A nil map has no header and so
 * no write flag: concurrent use of it cannot be misuse.
 */
#include <stdio.h>

#include "harness.h"

static void reader(void *arg)
{
	gomap *m = NULL;
	for (int i = 0; i < hz_loops(2000); i++) {
		int64_t v = 1;
		if (gomap_str_get(m, "a", 1) != 0 || gomap_str_lookup(m, "a", 1, &v) || v != 0 ||
		    gomap_len(m) != 0)
			hz_die("a nil map read returned something");
		gomap_iter it;
		gomap_iter_init(m, &it);
		if (gomap_iter_next(&it))
			hz_die("range over a nil map visited an entry");
		gomap_str_delete(m, "a", 1);
		gomap_clear(m);
		if (gomap_clone(m) != NULL)
			hz_die("maps.Clone(nil) is not nil");
		hz_yield();
	}
}

static void run_control(void)
{
	hz_wg wg;
	hz_wg_init(&wg);
	for (int r = 1; r <= hz_threads(4); r++) {
		char name[32];
		snprintf(name, sizeof(name), "reader-%d", r);
		hz_go(&wg, name, HZ_NONE, reader, NULL);
	}
	hz_wg_wait(&wg);
}

HZ_CASE({"control", run_control})
