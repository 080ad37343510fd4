/*
 * 4.3-plugin-store.c -- the module case 4.3 loads with dlopen(). It owns a
 * global map, made when the module is loaded, and exports functions that
 * use it.
 *
 * Go:      // plugin package main
 *          var cache = map[string]int64{}
 *          func Put(k string, v int64) { cache[k] = v }
 *          func Get(k string) int64   { return cache[k] }
 *
 * Like a Go plugin, which shares the host's runtime, the module uses the
 * host's map core and harness: it is linked against neither, and its
 * gomap_* and hz_* references resolve to the host executable's own copies
 * (the host exports them), so there is one detector and one set of hooks.
 */
#include <string.h>

#include "gomap.h"
#include "harness.h"
#include "store.h"

static gomap *cache; /* the module's global map[string]int64 */
static hz_mutex mu;  /* guards cache in the *_locked functions */

__attribute__((constructor)) static void store_load(void) /* Go: package init */
{
	cache = gomap_make(&gomap_type_str_i64, 0);
	hz_mutex_init(&mu);
}

__attribute__((destructor)) static void store_unload(void)
{
	gomap_free(cache);
	hz_mutex_destroy(&mu);
}

void store_put(const char *key, int64_t val)
{
	gomap_str_set(cache, key, strlen(key), val);
}

int64_t store_get(const char *key)
{
	return gomap_str_get(cache, key, strlen(key));
}

void store_put_locked(const char *key, int64_t val)
{
	hz_mutex_lock(&mu);
	store_put(key, val);
	hz_mutex_unlock(&mu);
}

int64_t store_get_locked(const char *key)
{
	hz_mutex_lock(&mu);
	int64_t v = store_get(key);
	hz_mutex_unlock(&mu);
	return v;
}
