/*
 * test_seed.c -- the per-map hash seed, hash0 (Go: makemap, mapdelete,
 * mapclear; Go issue 25237).
 *
 * Each map draws its own random seed. When a map becomes empty through
 * delete or clear, Go draws a new one, so an attacker who learned which keys
 * collide cannot keep reusing them. Nothing else changes the seed: not
 * growth, not overwrites, not a delete that leaves entries, and not the
 * operations that return early on an empty map.
 */
#include "test_util.h"

static uint64_t seed_of(gomap *m)
{
	return stats_of(m).hash0;
}

Test(seed, every_map_draws_its_own_seed)
{
	enum { N = 16 };
	gomap *maps[N];
	for (int i = 0; i < N; i++)
		maps[i] = gomap_make(&gomap_type_i64_i64, 0);
	for (int i = 0; i < N; i++)
		for (int j = i + 1; j < N; j++)
			cr_assert(seed_of(maps[i]) != seed_of(maps[j]),
			          "maps %d and %d share seed 0x%llx", i, j,
			          (unsigned long long)seed_of(maps[i]));
	for (int i = 0; i < N; i++)
		gomap_free(maps[i]);
}

Test(seed, deleting_the_last_key_draws_a_new_seed)
{
	gomap *m = make_i64_filled(0, 3);
	uint64_t s0 = seed_of(m);
	del_i64(m, 1);
	del_i64(m, 2);
	cr_assert(eq(u64, seed_of(m), s0), "a delete that leaves entries changed the seed");
	del_i64(m, 3);
	cr_assert(eq(sz, gomap_len(m), 0));
	cr_assert(seed_of(m) != s0, "the map became empty through delete, seed kept 0x%llx",
	          (unsigned long long)s0);
	gomap_free(m);
}

Test(seed, every_emptying_delete_draws_again)
{
	gomap *m = gomap_make(&gomap_type_str_i64, 0);
	uint64_t prev = seed_of(m);
	for (int round = 0; round < 8; round++) {
		set_str(m, "only", 4, round);
		cr_assert(eq(u64, seed_of(m), prev), "an insert changed the seed");
		del_str(m, "only", 4);
		uint64_t now = seed_of(m);
		cr_assert(now != prev, "round %d: emptying delete kept the seed", round);
		prev = now;
	}
	gomap_free(m);
}

Test(seed, deleting_a_missing_key_keeps_the_seed)
{
	gomap *m = make_i64_filled(0, 5);
	uint64_t s0 = seed_of(m);
	del_i64(m, 1000);
	cr_assert(eq(u64, seed_of(m), s0));
	gomap_free(m);
}

Test(seed, delete_on_an_empty_map_keeps_the_seed)
{
	/* Go: mapdelete returns before anything else when count == 0. */
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	uint64_t s0 = seed_of(m);
	del_i64(m, 1);
	cr_assert(eq(u64, seed_of(m), s0));
	gomap_free(m);
}

Test(seed, clear_draws_a_new_seed)
{
	gomap *m = make_i64_filled(0, 100);
	uint64_t s0 = seed_of(m);
	clear_map(m);
	cr_assert(seed_of(m) != s0, "clear kept the seed 0x%llx", (unsigned long long)s0);
	gomap_free(m);
}

Test(seed, clear_of_an_empty_map_keeps_the_seed)
{
	/* Go: mapclear returns at once for count == 0. */
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	uint64_t s0 = seed_of(m);
	clear_map(m);
	cr_assert(eq(u64, seed_of(m), s0));
	gomap_free(m);
}

Test(seed, growth_and_overwrites_keep_the_seed)
{
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	uint64_t s0 = seed_of(m);
	for (int64_t k = 0; k < 1000; k++) {
		set_i64(m, k, k);
		set_i64(m, k, k + 1);
	}
	if (is_swiss())
		cr_assert(stats_of(m).tables >= 2, "1000 entries need more than one table");
	else
		cr_assert(eq(uint, stats_of(m).B, go_B_for(1000)));
	cr_assert(eq(u64, seed_of(m), s0));
	gomap_free(m);
}

Test(seed, emptying_delete_during_a_grow_draws_a_new_seed_and_the_map_still_works)
{
	gomap *m = make_i64_filled(0, 53); /* bucket map: growing 8 -> 16 */
	if (!is_swiss())
		cr_assert(stats_of(m).growing);
	uint64_t s0 = seed_of(m);
	for (int64_t k = 1; k <= 53; k++)
		del_i64(m, k);
	cr_assert(eq(sz, gomap_len(m), 0));
	cr_assert(seed_of(m) != s0);
	for (int64_t k = 1; k <= 200; k++)
		set_i64(m, k, -k);
	for (int64_t k = 1; k <= 200; k++)
		expect_i64(m, k, -k);
	for (int64_t k = 201; k <= 260; k++)
		expect_no_i64(m, k);
	gomap_free(m);
}

Test(seed, a_reseeded_string_map_finds_every_key)
{
	gomap *m = gomap_make(&gomap_type_str_i64, 0);
	char buf[32];
	for (int round = 0; round < 3; round++) {
		for (int k = 0; k < 300; k++)
			set_str(m, buf, (size_t)snprintf(buf, sizeof buf, "r%d-%d", round, k), k);
		for (int k = 0; k < 300; k++)
			cr_assert(eq(i64,
			             gomap_str_get(
			                     m, buf,
			                     (size_t)snprintf(buf, sizeof buf, "r%d-%d", round, k)),
			             k));
		uint64_t s = seed_of(m);
		for (int k = 0; k < 300; k++)
			del_str(m, buf, (size_t)snprintf(buf, sizeof buf, "r%d-%d", round, k));
		cr_assert(seed_of(m) != s, "round %d", round);
	}
	gomap_free(m);
}

/* The order of one iteration of keys 1..n, written into order[]. */
static void iteration_order(int64_t *order, int64_t n)
{
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	for (int64_t k = 1; k <= n; k++)
		gomap_i64_set(m, k, k);
	gomap_iter it;
	int64_t i = 0;
	gomap_iter_init(m, &it);
	while (gomap_iter_next(&it) && i < n)
		order[i++] = *(const int64_t *)it.key;
	cr_assert(eq(i64, i, n));
	gomap_free(m);
}

/* The seed a new map draws. */
static uint64_t next_map_seed(void)
{
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	uint64_t s = seed_of(m);
	gomap_free(m);
	return s;
}

Test(seed, a_fixed_random_seed_repeats_seeds_orders_and_hashes)
{
	enum { N = 500 };
	static int64_t a[N], b[N];
	gomap_seed_random(0x5eed);
	uint64_t h1 = gomap_memhash("key", 3, 0);
	uint64_t s1 = next_map_seed();
	iteration_order(a, N);
	gomap_seed_random(0x5eed);
	cr_assert(eq(u64, gomap_memhash("key", 3, 0), h1), "same seed, other hash key");
	cr_assert(eq(u64, next_map_seed(), s1));
	iteration_order(b, N);
	cr_assert(memcmp(a, b, sizeof a) == 0, "same seed, other iteration order");
	gomap_seed_random(0x5eee);
	cr_assert(gomap_memhash("key", 3, 0) != h1, "another seed, same hash key");
	cr_assert(next_map_seed() != s1);
	/* Seed 0: the kernel again, so two runs differ (the start bucket and
	 * offset are two of 64 * 8 choices; ten tries all equal would mean
	 * the stream repeats). */
	int differ = 0;
	for (int t = 0; t < 10 && !differ; t++) {
		gomap_seed_random(0);
		iteration_order(a, N);
		gomap_seed_random(0);
		iteration_order(b, N);
		differ = memcmp(a, b, sizeof a) != 0;
	}
	cr_assert(differ, "seed 0 repeated the iteration order ten times");
}
