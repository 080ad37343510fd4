/*
 * test_iter.c -- range over a map (Go: mapiterinit, mapiternext).
 *
 * What Go promises and what its implementation does, pinned here:
 * - every entry present for the whole iteration is visited exactly once;
 * - an entry deleted before it is reached is not visited;
 * - an entry inserted during the iteration is visited at most once;
 * - the iteration copes with grows that happen while it runs (it keeps the
 *   bucket array it started on and looks moved keys up in the live table);
 * - the order starts at a random bucket and slot, so it differs between
 *   iterations of the same map;
 * - clear during an iteration ends it (Go 1.21 marks the buckets empty).
 */
#include "test_util.h"

#define KEYS 4096

/* Visit counts indexed by key; keys in these tests are 0 .. KEYS-1. */
typedef struct visits {
	unsigned char n[KEYS];
} visits;

static int64_t key_of(const gomap_iter *it)
{
	int64_t k;
	memcpy(&k, it->key, sizeof k);
	cr_assert(k >= 0 && k < KEYS, "iteration produced an unknown key %lld", (long long)k);
	return k;
}

static int64_t elem_of(const gomap_iter *it)
{
	int64_t v;
	memcpy(&v, it->elem, sizeof v);
	return v;
}

static gomap *make_keys(size_t hint, int64_t n)
{
	gomap *m = gomap_make(&gomap_type_i64_i64, hint);
	for (int64_t k = 0; k < n; k++)
		set_i64(m, k, k * 10);
	return m;
}

Test(iter, visits_every_key_exactly_once)
{
	static const int64_t sizes[] = {1, 7, 8, 9, 13, 14, 53, 100, 1000, 4000};
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		gomap *m = make_keys(0, sizes[s]);
		visits seen = {{0}};
		gomap_iter it;
		gomap_iter_init(m, &it);
		size_t steps = 0;
		while (gomap_iter_next(&it)) {
			int64_t k = key_of(&it);
			cr_assert(eq(int, seen.n[k], 0), "key %lld visited twice (size %lld)",
			          (long long)k, (long long)sizes[s]);
			seen.n[k]++;
			cr_assert(eq(i64, elem_of(&it), k * 10), "elem of key %lld", (long long)k);
			steps++;
		}
		cr_assert(eq(sz, steps, (size_t)sizes[s]));
		gomap_free(m);
	}
}

Test(iter, next_keeps_returning_false_after_the_end)
{
	gomap *m = make_keys(0, 20);
	gomap_iter it;
	gomap_iter_init(m, &it);
	while (gomap_iter_next(&it))
		;
	for (int i = 0; i < 3; i++)
		cr_assert(not(gomap_iter_next(&it)), "call %d after the end returned an entry", i);
	gomap_free(m);
}

Test(iter, map_empty_at_start_visits_nothing_even_after_inserts)
{
	/* Go: mapiterinit returns at once for count == 0 and the range ends. */
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	gomap_iter it;
	gomap_iter_init(m, &it);
	set_i64(m, 1, 1);
	cr_assert(not(gomap_iter_next(&it)), "an iteration of an empty map produced an entry");
	gomap_free(m);
}

Test(iter, order_varies_between_iterations)
{
	gomap *m = make_keys(0, 100);
	int64_t first_order[100];
	int differing = 0;
	visits first_keys = {{0}};
	int distinct_first = 0;
	for (int round = 0; round < 64; round++) {
		gomap_iter it;
		gomap_iter_init(m, &it);
		int i = 0;
		bool same = true;
		while (gomap_iter_next(&it)) {
			int64_t k = key_of(&it);
			if (i == 0 && first_keys.n[k]++ == 0)
				distinct_first++;
			if (round == 0)
				first_order[i] = k;
			else if (first_order[i] != k)
				same = false;
			i++;
		}
		cr_assert(eq(int, i, 100));
		if (round > 0 && !same)
			differing++;
	}
	cr_assert(differing > 0, "64 iterations of a 100-key map all had the same order");
	cr_assert(distinct_first >= 3, "only %d distinct first keys in 64 iterations",
	          distinct_first);
	gomap_free(m);
}

Test(iter, order_varies_within_a_single_bucket)
{
	/* Eight keys live in one bucket; the random start slot rotates them. */
	gomap *m = make_keys(0, 8);
	cr_assert(eq(uint, stats_of(m).B, 0));
	visits first_keys = {{0}};
	int distinct_first = 0;
	for (int round = 0; round < 64; round++) {
		gomap_iter it;
		gomap_iter_init(m, &it);
		cr_assert(gomap_iter_next(&it));
		if (first_keys.n[key_of(&it)]++ == 0)
			distinct_first++;
	}
	cr_assert(distinct_first >= 2, "a one-bucket map always started at the same key");
	gomap_free(m);
}

Test(iter, iteration_across_several_grows_visits_each_original_once)
{
	/* 52 keys in 8 buckets; the next insert doubles, and 500 inserts
	 * double the table three more times while the iteration runs. */
	gomap *m = make_keys(0, 52);
	visits seen = {{0}};
	gomap_iter it;
	gomap_iter_init(m, &it);
	int steps = 0;
	int64_t next_new = 52;
	while (gomap_iter_next(&it)) {
		int64_t k = key_of(&it);
		cr_assert(eq(int, seen.n[k], 0), "key %lld visited twice", (long long)k);
		seen.n[k]++;
		cr_assert(eq(i64, elem_of(&it), k * 10), "elem of key %lld", (long long)k);
		if (++steps == 10) {
			for (int i = 0; i < 500; i++, next_new++)
				set_i64(m, next_new, next_new * 10);
			if (!is_swiss())
				cr_assert(eq(uint, stats_of(m).B, go_B_for(552)));
		}
	}
	cr_assert(steps >= 10, "the iteration stopped after %d steps", steps);
	for (int64_t k = 0; k < 52; k++)
		cr_assert(eq(int, seen.n[k], 1), "original key %lld", (long long)k);
	gomap_free(m);
}

Test(iter, iteration_started_during_a_grow_visits_each_key_once)
{
	BUCKET_ONLY(NO_INCREMENTAL_GROW);
	gomap *m = make_keys(0, 53); /* the 53rd insert starts 8 -> 16 */
	cr_assert(stats_of(m).growing);
	visits seen = {{0}};
	gomap_iter it;
	gomap_iter_init(m, &it);
	int steps = 0;
	while (gomap_iter_next(&it)) {
		int64_t k = key_of(&it);
		cr_assert(eq(int, seen.n[k], 0), "key %lld visited twice", (long long)k);
		seen.n[k]++;
		steps++;
	}
	cr_assert(eq(int, steps, 53));
	cr_assert(stats_of(m).growing, "iteration must not move buckets");
	gomap_free(m);
}

Test(iter, writes_finishing_a_grow_mid_iteration_lose_nothing)
{
	BUCKET_ONLY(NO_INCREMENTAL_GROW);
	gomap *m = make_keys(0, 53);
	cr_assert(stats_of(m).growing);
	visits seen = {{0}};
	gomap_iter it;
	gomap_iter_init(m, &it);
	int steps = 0;
	while (gomap_iter_next(&it)) {
		int64_t k = key_of(&it);
		cr_assert(eq(int, seen.n[k], 0), "key %lld visited twice", (long long)k);
		seen.n[k]++;
		steps++;
		/* Overwrites move old buckets without adding keys. */
		set_i64(m, (k * 7) % 53, ((k * 7) % 53) * 10);
	}
	cr_assert(not(stats_of(m).growing), "53 writes should have finished the grow");
	cr_assert(eq(int, steps, 53));
	gomap_free(m);
}

Test(iter, keys_deleted_before_they_are_reached_are_not_visited)
{
	gomap *m = make_keys(0, 1000);
	visits seen = {{0}}, deleted = {{0}};
	uint64_t rng = test_seed(11);
	gomap_iter it;
	gomap_iter_init(m, &it);
	while (gomap_iter_next(&it)) {
		int64_t k = key_of(&it);
		cr_assert(eq(int, seen.n[k], 0), "key %lld visited twice", (long long)k);
		cr_assert(eq(int, deleted.n[k], 0), "key %lld visited after its delete",
		          (long long)k);
		seen.n[k]++;
		/* Delete the current key and one random key, visited or not. */
		del_i64(m, k);
		deleted.n[k] = 1;
		int64_t victim = (int64_t)(rng_next(&rng) % 1000);
		del_i64(m, victim);
		deleted.n[victim] = 1;
	}
	for (int64_t k = 0; k < 1000; k++) {
		if (seen.n[k] == 0)
			cr_assert(deleted.n[k], "key %lld neither deleted nor visited",
			          (long long)k);
		cr_assert(seen.n[k] <= 1, "key %lld visited %d times", (long long)k, seen.n[k]);
	}
	cr_assert(eq(sz, gomap_len(m), 0));
	gomap_free(m);
}

Test(iter, deleting_everything_at_the_first_step_ends_the_iteration)
{
	gomap *m = make_keys(0, 300);
	gomap_iter it;
	gomap_iter_init(m, &it);
	cr_assert(gomap_iter_next(&it));
	for (int64_t k = 0; k < 300; k++)
		del_i64(m, k);
	cr_assert(not(gomap_iter_next(&it)), "an entry was produced after all were deleted");
	gomap_free(m);
}

Test(iter, deletes_during_a_grow_mid_iteration)
{
	gomap *m = make_keys(0, 52);
	visits seen = {{0}}, deleted = {{0}};
	gomap_iter it;
	gomap_iter_init(m, &it);
	int64_t next_new = 52;
	int step = 0;
	while (gomap_iter_next(&it)) {
		int64_t k = key_of(&it);
		cr_assert(eq(int, seen.n[k], 0), "key %lld visited twice", (long long)k);
		cr_assert(eq(int, deleted.n[k], 0), "key %lld visited after its delete",
		          (long long)k);
		seen.n[k]++;
		if (++step == 3)
			for (int i = 0; i < 60; i++, next_new++)
				set_i64(m, next_new, next_new * 10); /* grow */
		if (step % 2 == 0) {
			int64_t victim = (k * 13 + 5) % 52;
			del_i64(m, victim);
			deleted.n[victim] = 1;
		}
	}
	for (int64_t k = 0; k < 52; k++)
		if (!deleted.n[k])
			cr_assert(eq(int, seen.n[k], 1), "original key %lld", (long long)k);
	gomap_free(m);
}

Test(iter, values_updated_before_an_entry_is_reached_are_seen)
{
	gomap *m = make_keys(0, 200);
	gomap_iter it;
	gomap_iter_init(m, &it);
	cr_assert(gomap_iter_next(&it));
	int64_t first = key_of(&it);
	for (int64_t k = 0; k < 200; k++)
		set_i64(m, k, k * 10 + 1);
	int steps = 1;
	while (gomap_iter_next(&it)) {
		int64_t k = key_of(&it);
		cr_assert(k != first, "first key visited twice");
		cr_assert(eq(i64, elem_of(&it), k * 10 + 1), "stale elem for key %lld",
		          (long long)k);
		steps++;
	}
	cr_assert(eq(int, steps, 200));
	gomap_free(m);
}

Test(iter, clear_during_iteration_ends_it)
{
	gomap *m = make_keys(0, 100);
	gomap_iter it;
	gomap_iter_init(m, &it);
	for (int i = 0; i < 5; i++)
		cr_assert(gomap_iter_next(&it));
	clear_map(m);
	cr_assert(not(gomap_iter_next(&it)), "an entry was produced after clear");
	gomap_free(m);
}

Test(iter, clear_during_a_grow_mid_iteration_ends_it)
{
	BUCKET_ONLY(NO_INCREMENTAL_GROW);
	gomap *m = make_keys(0, 53);
	cr_assert(stats_of(m).growing);
	gomap_iter it;
	gomap_iter_init(m, &it);
	for (int i = 0; i < 3; i++)
		cr_assert(gomap_iter_next(&it));
	clear_map(m);
	cr_assert(not(gomap_iter_next(&it)), "an entry was produced after clear");
	gomap_free(m);
}

Test(iter, iteration_started_before_a_grow_and_cleared_after_it_ends)
{
	gomap *m = make_keys(0, 52);
	gomap_iter it;
	gomap_iter_init(m, &it);
	cr_assert(gomap_iter_next(&it));
	set_i64(m, 1000, 1); /* 8 -> 16, the iterator keeps the old array */
	clear_map(m);
	cr_assert(not(gomap_iter_next(&it)), "an entry was produced after clear");
	gomap_free(m);
}

Test(iter, nested_iterations_each_see_the_whole_map)
{
	gomap *m = make_keys(0, 40);
	gomap_iter outer;
	gomap_iter_init(m, &outer);
	int outer_steps = 0;
	while (gomap_iter_next(&outer)) {
		gomap_iter inner;
		gomap_iter_init(m, &inner);
		int inner_steps = 0;
		while (gomap_iter_next(&inner))
			inner_steps++;
		cr_assert(eq(int, inner_steps, 40));
		outer_steps++;
	}
	cr_assert(eq(int, outer_steps, 40));
	gomap_free(m);
}

Test(iter, inserts_during_iteration_are_visited_at_most_once)
{
	gomap *m = make_keys(0, 30);
	visits seen = {{0}};
	gomap_iter it;
	gomap_iter_init(m, &it);
	int64_t next_new = 30;
	while (gomap_iter_next(&it)) {
		int64_t k = key_of(&it);
		cr_assert(eq(int, seen.n[k], 0), "key %lld visited twice", (long long)k);
		seen.n[k]++;
		if (next_new < KEYS - 4)
			for (int i = 0; i < 4; i++, next_new++)
				set_i64(m, next_new, next_new * 10);
	}
	for (int64_t k = 0; k < 30; k++)
		cr_assert(eq(int, seen.n[k], 1), "original key %lld", (long long)k);
	gomap_free(m);
}
