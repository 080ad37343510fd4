/*
 * 4.3 plugin-global-map: a dynamically loaded module (dlopen) owns a global
 * map and exports functions that use it without a lock; the host calls them
 * from several threads.
 *
 * Go:      p, _ := plugin.Open("store.so")
 *          put, _ := p.Lookup("Put") // func Put(k string, v int64) { cache[k] = v }
 *          for w := 0; w < 2; w++ {
 *                  go func(w int) {
 *                          for i := 0; i < N; i++ {
 *                                  put.(func(string, int64))(key(w, i), i)
 *                          }
 *                  }(w)
 *          }
 * Expect:  fatal error: concurrent map writes
 *          (natural runs may also end with "concurrent map read and map write")
 * Fix:     the module that owns the state guards it: its exported functions
 *          take the module's own mutex (here store_put_locked/store_get_locked).
 *
 * A module's global is shared by every caller in the process, and nothing
 * in a symbol says whether it is safe to call concurrently. Real Go,
 * article's program: 49/100 (43 "concurrent map writes", 6 "... read and
 * map write"). The module is cases/plugin/4.3-plugin-store.c.
 */
#include <dlfcn.h>
#include <stdio.h>

#include "harness.h"
#include "plugin/store.h"

static void (*put)(const char *key, int64_t val); /* found with dlsym */
static int64_t (*get)(const char *key);

static void host(void *arg)
{
	int w = (int)(intptr_t)arg;
	int64_t sum = 0;
	char key[32];
	for (int i = 0; i < hz_loops(500); i++) {
		snprintf(key, sizeof(key), "w%d-k%d", w, i % 32);
		put(key, i);
		sum += get(key);
		hz_yield();
	}
	(void)sum;
}

static void run(const char *put_name, const char *get_name)
{
	/* PLUGIN_PATH: the module's build path, set by cases/CMakeLists.txt. */
	void *h = dlopen(PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		hz_die("dlopen: %s", dlerror());
	*(void **)&put = dlsym(h, put_name);
	*(void **)&get = dlsym(h, get_name);
	if (!put || !get)
		hz_die("dlsym: %s", dlerror());

	/* Forced: host-1 holds its write open until host-2 writes. */
	hz_force_window(HZ_ARRIVE_WRITE, 1);
	HZ_RUN(20, {"host-1", HZ_HOLDER, host, (void *)1}, {"host-2", HZ_PARTY, host, (void *)2});
	dlclose(h);
}

static void run_bad(void)
{
	run("store_put", "store_get");
}

static void run_fixed(void)
{
	run("store_put_locked", "store_get_locked");
}

HZ_CASE({"bad", run_bad}, {"fixed", run_fixed})
