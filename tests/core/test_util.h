/*
 * test_util.h -- small helpers shared by the core's unit tests.
 *
 * Every helper here fails the running Criterion test with a message that
 * shows the values involved. The "checked" mutators run the invariant walker
 * (gomap_check_invariants) after the mutation, so every small semantic test
 * inspects the whole structure after every change it makes.
 */
#ifndef CORE_TEST_UTIL_H
#define CORE_TEST_UTIL_H

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gomap.h"

/* Fails the test, naming the first broken invariant. */
#define CHECK_INVARIANTS(m)                                                                        \
	do {                                                                                       \
		const char *why_ = gomap_check_invariants(m);                                      \
		cr_assert(why_ == NULL, "invariant broken: %s", why_ ? why_ : "");                 \
	} while (0)

/* The generation under test (gomap_generation()). The tests run on both;
 * the few that pin internals only the bucket map has (B, oldbuckets,
 * incremental evacuation, overflow buckets) skip in the Swiss build, and
 * say so. Go 1.26 has no bucket map: its Swiss table grows whole tables at
 * once, so "during a grow" has no meaning there. */
static inline bool is_swiss(void)
{
	return strcmp(gomap_generation(), "swiss") == 0;
}
#define BUCKET_ONLY(why)                                                                           \
	do {                                                                                       \
		if (is_swiss())                                                                    \
			cr_skip_test("bucket map only: %s", why);                                  \
	} while (0)
#define NO_INCREMENTAL_GROW "the Swiss-table map has no grow in progress"

/* Go: overLoadFactor. count > bucketCnt && count > loadFactorNum * (2^B / loadFactorDen),
 * with loadFactorNum = 13 and loadFactorDen = 2 (6.5 entries per bucket). The
 * integer division is Go's: for B = 0 the right-hand side is 0. */
static inline bool go_over_load_factor(size_t count, unsigned B)
{
	return count > 8 && count > 13 * (((size_t)1 << B) / 2);
}

/* Go: the loop in makemap that picks B for a hint. It is also the B a map
 * has after `count` inserts into a map made without a hint, because each grow
 * finishes long before the next threshold is reached. */
static inline unsigned go_B_for(size_t count)
{
	unsigned B = 0;
	while (go_over_load_factor(count, B))
		B++;
	return B;
}

static inline gomap_stats stats_of(gomap *m)
{
	gomap_stats st;
	memset(&st, 0xa5, sizeof st);
	gomap_get_stats(m, &st);
	return st;
}

/* splitmix64: a small, seedable generator for reproducible random tests. */
static inline uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The seed for a random test: GOMAP_TEST_SEED when set, else `fallback`. */
static inline uint64_t test_seed(uint64_t fallback)
{
	const char *s = getenv("GOMAP_TEST_SEED");
	if (s && *s)
		return strtoull(s, NULL, 0);
	return fallback;
}

/* ---- checked mutators: mutate, then walk the whole structure ---------- */

static inline void set_i64(gomap *m, int64_t k, int64_t v)
{
	gomap_i64_set(m, k, v);
	CHECK_INVARIANTS(m);
}

static inline void del_i64(gomap *m, int64_t k)
{
	gomap_i64_delete(m, k);
	CHECK_INVARIANTS(m);
}

static inline void set_str(gomap *m, const char *k, size_t len, int64_t v)
{
	gomap_str_set(m, k, len, v);
	CHECK_INVARIANTS(m);
}

static inline void del_str(gomap *m, const char *k, size_t len)
{
	gomap_str_delete(m, k, len);
	CHECK_INVARIANTS(m);
}

static inline void clear_map(gomap *m)
{
	gomap_clear(m);
	CHECK_INVARIANTS(m);
}

/* Fails unless key k is present with value v. */
static inline void expect_i64(gomap *m, int64_t k, int64_t v)
{
	int64_t got = -1;
	bool ok = gomap_i64_lookup(m, k, &got);
	cr_assert(ok, "key %lld missing (expected value %lld)", (long long)k, (long long)v);
	cr_assert(eq(i64, got, v), "value of key %lld", (long long)k);
}

/* Fails unless key k is absent. */
static inline void expect_no_i64(gomap *m, int64_t k)
{
	int64_t got = 0;
	bool ok = gomap_i64_lookup(m, k, &got);
	cr_assert(not(ok), "key %lld present with value %lld, expected absent", (long long)k,
	          (long long)got);
}

/* A map[int64]int64 holding keys 1..n with value k*10. */
static inline gomap *make_i64_filled(size_t hint, int64_t n)
{
	gomap *m = gomap_make(&gomap_type_i64_i64, hint);
	for (int64_t k = 1; k <= n; k++)
		set_i64(m, k, k * 10);
	return m;
}

#endif /* CORE_TEST_UTIL_H */
