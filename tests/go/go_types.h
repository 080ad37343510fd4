/*
 * go_types.h -- the Go key and elem types that Go's map tests use, described
 * to the core as generic gomap_types.
 *
 * Go's compiler gives the runtime a hash, an equality and two facts about a
 * key type (needkeyupdate, reflexivekey). The descriptions here do what Go's
 * do for the same types:
 *   float64      +0 and -0 are one key (the stored key follows the last
 *                assign); NaN is unequal to everything, itself included, and
 *                hashes to a new random value every time (Go: f64hash).
 *   FloatInt     struct { x float64; y int }: the same, field by field.
 *   struct{}     size 0: every key is the same key.
 *   [N]int64     plain bytes, reflexive, no key update.
 */
#ifndef GO_TYPES_H
#define GO_TYPES_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "gomap.h"

/* The map generation under test. A few ported tests pin internals only Go
 * 1.19's bucket map has (B, a grow left in progress); they check those
 * parts on the bucket build only, and say so where they do. */
static inline bool go_is_swiss(void)
{
	return strcmp(gomap_generation(), "swiss") == 0;
}

/* Go: f64hash. The random part for NaN is a per-thread counter mixed by the
 * core's hash, which is as good as random for bucket choice. */
static inline uint64_t go_f64hash(double f, uint64_t seed)
{
	static _Thread_local uint64_t nan_draws;
	if (f != f)
		return gomap_hash64(++nan_draws ^ (uint64_t)(uintptr_t)&nan_draws, seed);
	if (f == 0)
		f = 0; /* +0 and -0 hash alike */
	uint64_t bits;
	memcpy(&bits, &f, 8);
	return gomap_hash64(bits, seed);
}

static inline uint64_t go_f64_hash(const void *k, uint64_t seed)
{
	double f;
	memcpy(&f, k, 8);
	return go_f64hash(f, seed);
}

static inline bool go_f64_equal(const void *a, const void *b)
{
	double x, y;
	memcpy(&x, a, 8);
	memcpy(&y, b, 8);
	return x == y;
}

typedef struct go_floatint {
	double x;
	int64_t y;
} go_floatint;

static inline uint64_t go_floatint_hash(const void *k, uint64_t seed)
{
	go_floatint v;
	memcpy(&v, k, sizeof v);
	return gomap_hash64((uint64_t)v.y, go_f64hash(v.x, seed));
}

static inline bool go_floatint_equal(const void *a, const void *b)
{
	go_floatint x, y;
	memcpy(&x, a, sizeof x);
	memcpy(&y, b, sizeof y);
	return x.x == y.x && x.y == y.y;
}

/* struct{}: nothing to hash, nothing to compare. */
static inline uint64_t go_empty_hash(const void *k, uint64_t seed)
{
	return gomap_hash64(0, seed);
}

static inline bool go_empty_equal(const void *a, const void *b)
{
	return true;
}

/* Any key compared as plain bytes; the size comes from the type, so each
 * size needs its own pair (see GO_BYTES_TYPE). */
#define GO_BYTES_FNS(name, size)                                                                   \
	static inline uint64_t name##_hash(const void *k, uint64_t seed)                           \
	{                                                                                          \
		return gomap_memhash(k, size, seed);                                               \
	}                                                                                          \
	static inline bool name##_equal(const void *a, const void *b)                              \
	{                                                                                          \
		return memcmp(a, b, size) == 0;                                                    \
	}

/* map[float64]V with elems of `elemsize` bytes. */
static inline gomap_type go_f64_type(size_t elemsize)
{
	return (gomap_type){.name = "map[float64]V",
	                    .keysize = 8,
	                    .elemsize = elemsize,
	                    .kind = GOMAP_KEY_GENERIC,
	                    .hash = go_f64_hash,
	                    .equal = go_f64_equal,
	                    .needkeyupdate = true,
	                    .notreflexive = true};
}

static inline double go_negzero(void)
{
	return -0.0;
}

static inline double go_nan(void)
{
	return __builtin_nan("");
}

static inline bool go_signbit(double f)
{
	return __builtin_signbit(f) != 0;
}

#endif /* GO_TYPES_H */
