/*
 * test_same_size_growth.c -- the "grow" that keeps the bucket count and only
 * compacts overflow chains (Go: tooManyOverflowBuckets, hashGrow with
 * sameSizeGrow, incrnoverflow).
 *
 * Go counts every overflow bucket it links in (exactly, while B < 16) and
 * never frees one until a grow. When an insert of a new key finds
 * noverflow >= 2^min(B,15) and no grow running, it starts a grow to the same
 * B; the evacuation packs the live entries into fresh chains.
 *
 * To place keys in chosen buckets the tests use a generic key type whose
 * hash is the bucket number in the low bits, ignoring the seed.
 */
#include "test_util.h"

typedef struct placed_key {
	uint64_t bucket; /* lands in this bucket for any B whose mask covers it */
	uint64_t id;
	uint64_t pad;
} placed_key;

static uint64_t placed_hash(const void *key, uint64_t seed)
{
	const placed_key *k = key;
	(void)seed;
	return k->bucket | (k->id << 16);
}

static bool placed_equal(const void *a, const void *b)
{
	const placed_key *x = a, *y = b;
	return x->bucket == y->bucket && x->id == y->id && x->pad == y->pad;
}

static const gomap_type placed_type = {
        .name = "map[placed_key]int64",
        .keysize = sizeof(placed_key),
        .elemsize = sizeof(int64_t),
        .kind = GOMAP_KEY_GENERIC,
        .hash = placed_hash,
        .equal = placed_equal,
};

static void put(gomap *m, uint64_t bucket, uint64_t id)
{
	placed_key k = {bucket, id, ~id};
	int64_t v = (int64_t)(bucket * 1000 + id);
	gomap_assign(m, &k, &v);
	CHECK_INVARIANTS(m);
}

static void drop(gomap *m, uint64_t bucket, uint64_t id)
{
	placed_key k = {bucket, id, ~id};
	gomap_delete(m, &k);
	CHECK_INVARIANTS(m);
}

static bool has(gomap *m, uint64_t bucket, uint64_t id)
{
	placed_key k = {bucket, id, ~id};
	int64_t v = -1;
	bool ok = gomap_access2(m, &k, &v);
	if (ok)
		cr_assert(eq(i64, v, (int64_t)(bucket * 1000 + id)), "value of key %llu/%llu",
		          (unsigned long long)bucket, (unsigned long long)id);
	return ok;
}

/* Fills one bucket's chain with n keys, then deletes them all: the chain's
 * overflow buckets stay behind, empty. */
static void churn_bucket(gomap *m, uint64_t bucket, uint64_t n)
{
	for (uint64_t id = 1; id <= n; id++)
		put(m, bucket, id);
	for (uint64_t id = 1; id <= n; id++)
		drop(m, bucket, id);
}

Test(same_size_growth, every_linked_overflow_bucket_is_counted)
{
	gomap *m = gomap_make(&placed_type, 104);
	cr_assert(eq(uint, stats_of(m).B, 4));
	cr_assert(eq(sz, stats_of(m).noverflow, 0));
	/* Keys 9, 17, 25, ... of one chain each need a new overflow bucket. */
	for (uint64_t id = 1; id <= 64; id++) {
		put(m, 0, id);
		cr_assert(eq(sz, stats_of(m).noverflow, (size_t)((id - 1) / 8)),
		          "noverflow after %llu keys in one bucket", (unsigned long long)id);
	}
	gomap_free(m);
}

Test(same_size_growth, deleting_keeps_overflow_buckets_until_a_grow)
{
	gomap *m = gomap_make(&placed_type, 104);
	churn_bucket(m, 0, 64);
	gomap_stats st = stats_of(m);
	cr_assert(eq(sz, st.count, 0));
	cr_assert(eq(sz, st.noverflow, 7), "empty overflow buckets are kept and counted");
	/* Refilling the same chain reuses the empty slots: nothing new. */
	for (uint64_t id = 100; id < 164; id++)
		put(m, 0, id);
	cr_assert(eq(sz, stats_of(m).noverflow, 7));
	gomap_free(m);
}

Test(same_size_growth, too_many_overflow_buckets_start_a_same_size_grow)
{
	/* B = 4: the threshold is 16 overflow buckets. Two churned chains of
	 * 64 keys leave 14; a third chain adds one at its 9th and 17th key. */
	gomap *m = gomap_make(&placed_type, 104);
	churn_bucket(m, 0, 64);
	churn_bucket(m, 1, 64);
	cr_assert(eq(sz, stats_of(m).noverflow, 14));
	for (uint64_t id = 1; id <= 17; id++)
		put(m, 2, id);
	gomap_stats st = stats_of(m);
	cr_assert(eq(sz, st.noverflow, 16));
	cr_assert(not(st.growing),
	          "the check runs before the insert, so 16 is only seen next time");

	put(m, 2, 18);
	st = stats_of(m);
	cr_assert(st.growing, "the 18th key found 16 overflow buckets: grow");
	cr_assert(st.same_size_grow, "the load factor is fine, so the grow keeps the size");
	cr_assert(eq(uint, st.B, 4));
	cr_assert(eq(sz, st.count, 18));

	/* Each write moves at least one more of the 16 old buckets. */
	int writes = 0;
	while (stats_of(m).growing) {
		cr_assert(writes < 16, "same-size grow still running after %d writes", writes);
		put(m, 2, 1);
		writes++;
	}
	st = stats_of(m);
	cr_assert(not(st.same_size_grow), "the flag goes when the grow ends");
	cr_assert(eq(uint, st.B, 4));
	cr_assert(eq(sz, st.count, 18));
	/* 18 keys in one chain: a main bucket and two overflow buckets. */
	cr_assert(eq(sz, st.noverflow, 2), "only the repacked chain's overflow buckets remain");
	for (uint64_t id = 1; id <= 18; id++)
		cr_assert(has(m, 2, id), "key 2/%llu lost in the same-size grow",
		          (unsigned long long)id);
	for (uint64_t id = 1; id <= 64; id++) {
		cr_assert(not(has(m, 0, id)), "deleted key 0/%llu came back",
		          (unsigned long long)id);
		cr_assert(not(has(m, 1, id)), "deleted key 1/%llu came back",
		          (unsigned long long)id);
	}
	gomap_free(m);
}

Test(same_size_growth, lookups_work_while_a_same_size_grow_runs)
{
	gomap *m = gomap_make(&placed_type, 104);
	churn_bucket(m, 0, 64);
	churn_bucket(m, 1, 64);
	for (uint64_t id = 1; id <= 18; id++)
		put(m, 2, id);
	for (uint64_t id = 1; id <= 5; id++)
		put(m, 7, id);
	cr_assert(stats_of(m).same_size_grow);
	for (uint64_t id = 1; id <= 18; id++)
		cr_assert(has(m, 2, id), "key 2/%llu mid-grow", (unsigned long long)id);
	for (uint64_t id = 1; id <= 5; id++)
		cr_assert(has(m, 7, id), "key 7/%llu mid-grow", (unsigned long long)id);
	gomap_free(m);
}

Test(same_size_growth, random_churn_keeps_B_and_compacts_overflow)
{
	/* A steady population of 100 keys with inserts of new keys and deletes
	 * of old ones: the table must not double (101 <= 6.5 * 16), and the
	 * overflow buckets that churn leaves behind are reclaimed by
	 * same-size grows instead of piling up. */
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	int64_t oldest = 0, next = 0;
	while (next < 100)
		set_i64(m, next++, 1);
	cr_assert(eq(uint, stats_of(m).B, 4));

	int same_size_grows = 0;
	bool was_growing = false;
	size_t max_noverflow = 0;
	for (int step = 0; step < 50000; step++) {
		gomap_i64_set(m, next++, 1);
		gomap_i64_delete(m, oldest++);
		gomap_stats st = stats_of(m);
		cr_assert(eq(uint, st.B, 4), "B changed at step %d", step);
		if (st.growing && !was_growing) {
			cr_assert(st.same_size_grow, "a grow at step %d was not same-size", step);
			same_size_grows++;
		}
		was_growing = st.growing;
		if (st.noverflow > max_noverflow)
			max_noverflow = st.noverflow;
		CHECK_INVARIANTS(m);
	}
	CHECK_INVARIANTS(m);
	cr_assert(same_size_grows > 0, "50000 churn steps never grew same-size");
	/* Without same-size growth the count would only rise; with it the
	 * count stays near the threshold of 2^B = 16. */
	cr_assert(max_noverflow <= 40, "noverflow reached %zu", max_noverflow);
	cr_assert(eq(sz, gomap_len(m), 100));
	for (int64_t k = oldest; k < next; k++)
		expect_i64(m, k, 1);
	gomap_free(m);
}
