/*
 * common.c -- the plumbing both map generations share: the ready types,
 * the random generator behind seeds and iteration starting points, the
 * allocation list that keeps every allocation until gomap_free (invariant
 * 2), and string-key records (invariant 6).
 */
#define _GNU_SOURCE
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Types                                                                    */
/* ------------------------------------------------------------------------ */

const gomap_type gomap_type_i64_i64 = {
        .name = "map[int64]int64", .keysize = 8, .elemsize = 8, .kind = GOMAP_KEY_I64};
const gomap_type gomap_type_str_i64 = {
        .name = "map[string]int64", .keysize = 16, .elemsize = 8, .kind = GOMAP_KEY_STR};

void gomap_type_init_i64(gomap_type *t, size_t elemsize, const char *name)
{
	*t = (gomap_type){.name = name, .keysize = 8, .elemsize = elemsize, .kind = GOMAP_KEY_I64};
}

void gomap_type_init_str(gomap_type *t, size_t elemsize, const char *name)
{
	*t = (gomap_type){.name = name, .keysize = 16, .elemsize = elemsize, .kind = GOMAP_KEY_STR};
}

/* ------------------------------------------------------------------------ */
/* Randomness (Go: fastrand)                                                */
/* ------------------------------------------------------------------------ */

static _Thread_local uint64_t rand_state;

/* gomap_seed_random: 0 draws every thread's state from the kernel; any other
 * value derives the state of the n-th thread to draw from (seed, n). */
static uint64_t random_seed;
static uint64_t threads_drawn;

void gomap_seed_random(uint64_t seed)
{
	GM_STORE(&random_seed, seed);
	GM_STORE(&threads_drawn, 0);
	gm_hashkey_init(seed);
	rand_state = 0; /* the calling thread starts its stream again */
}

/* The first state of the calling thread. */
static uint64_t first_rand_state(void)
{
	uint64_t seed = GM_LOAD(&random_seed);
	if (seed != 0) {
		uint64_t n = __atomic_fetch_add(&threads_drawn, 1, __ATOMIC_RELAXED);
		return gm_mix(seed ^ GM_P2, (n + 1) ^ GM_P3);
	}
	uint64_t s = 0;
	if (getrandom(&s, sizeof s, 0) != sizeof s)
		s = (uint64_t)(uintptr_t)&s ^ 0x9e3779b97f4a7c15ull;
	return s;
}

/* A per-thread generator (wyrand). Seeds and iteration starting points come
 * from here. */
uint64_t gm_fastrand(void)
{
	if (GM_UNLIKELY(rand_state == 0))
		rand_state = first_rand_state() | 1;
	rand_state += GM_P0;
	return gm_mix(rand_state, rand_state ^ GM_P1);
}

/* ------------------------------------------------------------------------ */
/* Allocation (invariant 2)                                                 */
/* ------------------------------------------------------------------------ */

void *gm_xcalloc(size_t n)
{
	void *p = calloc(1, n);
	if (p == NULL) {
		fprintf(stderr, "fatal error: out of memory allocating %zu bytes\n", n);
		_exit(2);
	}
	return p;
}

/* Remember an allocation until gomap_free. A lock-free push, so two racing
 * writers can neither lose an allocation nor register one twice. */
void gm_register_alloc(gomap *h, gm_alloc *a)
{
	gm_alloc *head = __atomic_load_n(&GM_HDR(h)->allocs, __ATOMIC_RELAXED);
	do {
		a->next = head;
	} while (!__atomic_compare_exchange_n(&GM_HDR(h)->allocs, &head, a, true, __ATOMIC_RELEASE,
	                                      __ATOMIC_RELAXED));
}

/* Copies a string key into the map's chunks (invariant 6). Racing writers
 * may both take the same offset; the records then overlap, but both stay
 * inside the chunk, because each checks against the chunk it loaded. */
gm_strrec *gm_str_copy(gomap *h, const char *p, size_t n)
{
	size_t need = (sizeof(gm_strrec) + n + 7) & ~(size_t)7;
	gm_chunk *c = GM_LOAD(&GM_HDR(h)->chunk);
	size_t off = c ? GM_LOAD(&c->used) : 0;
	if (c == NULL || need > c->cap - off) {
		size_t cap = 64 * 1024;
		if (need > cap)
			cap = need;
		c = malloc(sizeof(gm_chunk) + cap);
		if (c == NULL) {
			fprintf(stderr, "fatal error: out of memory allocating %zu bytes\n", cap);
			_exit(2);
		}
		c->cap = cap;
		c->used = 0;
		gm_register_alloc(h, &c->link);
		GM_STORE(&GM_HDR(h)->chunk, c);
		off = 0;
	}
	GM_STORE(&c->used, off + need);
	gm_strrec *r = (gm_strrec *)(c->data + off);
	GM_STORE(&r->len, n);
	memcpy(r->bytes, p, n);
	return r;
}

/* Frees what gm_register_alloc remembered, and the flight recorder's ring. */
void gm_free_allocs(gomap *h)
{
	gm_maphdr *c = GM_HDR(h);
	free(c->timeline);
	gm_alloc *a = c->allocs;
	while (a != NULL) {
		gm_alloc *next = a->next;
		free(a);
		a = next;
	}
}

/* Suppresses hooks while the core writes to a map of its own making (the
 * copy in gomap_clone), so instrumentation sees only the program's calls. */
_Thread_local int gm_hooks_off;

int gomap_detector_enabled(void)
{
	return GOMAP_DETECTOR;
}
