/*
 * peers-adapter.c -- the map core as one more peer of the peer benchmark kit
 * (../shared/peers: Go's map, abseil, GLib, khash, uthash on identical keys).
 *
 * bench/peers-run.sh builds it once per core generation: for each it writes
 * a small adapter file whose kit tags (PEER-NAME gomap-bucket or
 * gomap-swiss, the sources, definitions and include directories of CMake's
 * target gomap for that generation) come from CMake, and which includes this
 * file. The kit compiles those sources with its own flags (-O2 -DNDEBUG, the
 * same for every C peer), the detector compiled in as the project builds it,
 * plus the frame pointers the project keeps; the report loads libdw with
 * dlopen, hence -ldl.
 */
#include "gomap.h" /* core/, on the include path from CMake */
#include "peer.h"  /* the kit's harness/ is on the include path */

#include <string.h>

/* Both kinds, real pre-sizing (make(map, hint)), and string keys are copied
 * into the map (gomap_str_set stores its own copy of the bytes). */
unsigned peer_caps(void)
{
	return PEER_I64 | PEER_STR | PEER_PRESIZE | PEER_STR_COPIES;
}

/* Sums the elems with the core's iteration (Go: for _, v := range m). */
static int64_t sum_elems(gomap *m)
{
	gomap_iter it;
	uint64_t sum = 0;

	gomap_iter_init(m, &it);
	while (gomap_iter_next(&it)) {
		int64_t v;
		memcpy(&v, it.elem, sizeof v);
		sum += (uint64_t)v;
	}
	return (int64_t)sum;
}

/* ---- int64 keys: map[int64]int64 through the fast64 helpers ---- */

void *im_new(size_t hint)
{
	return gomap_make(&gomap_type_i64_i64, hint);
}

void im_free(void *m)
{
	gomap_free(m);
}

void im_put(void *m, int64_t key, int64_t val)
{
	gomap_i64_set(m, key, val);
}

int im_get(void *m, int64_t key, int64_t *val)
{
	return gomap_i64_lookup(m, key, val);
}

/* Go's delete reports nothing; the change of len tells whether the key was
 * there (len is a plain field read, no second probe). */
int im_del(void *m, int64_t key)
{
	size_t before = gomap_len(m);

	gomap_i64_delete(m, key);
	return gomap_len(m) != before;
}

size_t im_len(void *m)
{
	return gomap_len(m);
}

int64_t im_sum(void *m)
{
	return sum_elems(m);
}

/* ---- byte-string keys: map[string]int64 through the faststr helpers ---- */

void *sm_new(size_t hint)
{
	return gomap_make(&gomap_type_str_i64, hint);
}

void sm_free(void *m)
{
	gomap_free(m);
}

void sm_put(void *m, const char *key, size_t len, int64_t val)
{
	gomap_str_set(m, key, len, val);
}

int sm_get(void *m, const char *key, size_t len, int64_t *val)
{
	return gomap_str_lookup(m, key, len, val);
}

int sm_del(void *m, const char *key, size_t len)
{
	size_t before = gomap_len(m);

	gomap_str_delete(m, key, len);
	return gomap_len(m) != before;
}

size_t sm_len(void *m)
{
	return gomap_len(m);
}

int64_t sm_sum(void *m)
{
	return sum_elems(m);
}
