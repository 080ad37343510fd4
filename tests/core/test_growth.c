/*
 * test_growth.c -- when the bucket array doubles, and how the move is spread
 * over later writes (Go: overLoadFactor, hashGrow, growWork, evacuate).
 *
 * Go grows a map on an insert of a new key when count+1 > 8 and
 * count+1 > 6.5 * 2^B, and only when no grow is already in progress. The
 * move of the entries is incremental: each later assign or delete evacuates
 * the old bucket it needs plus the next one in order; reads never move
 * anything.
 */
#include "test_util.h"

Test(growth, make_hint_picks_smallest_B_without_overload)
{
	static const struct {
		size_t hint;
		unsigned B;
	} table[] = {
	        {0, 0},   {1, 0},   {8, 0},    {9, 1},    {13, 1},   {14, 2},
	        {26, 2},  {27, 3},  {52, 3},   {53, 4},   {104, 4},  {105, 5},
	        {208, 5}, {209, 6}, {1000, 8}, {1664, 8}, {1665, 9}, {100000, 14},
	};
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		gomap *m = gomap_make(&gomap_type_i64_i64, table[i].hint);
		gomap_stats st = stats_of(m);
		cr_assert(eq(uint, st.B, table[i].B), "B for make hint %zu", table[i].hint);
		cr_assert(eq(sz, st.count, 0));
		cr_assert(not(st.growing), "a new map is not growing");
		CHECK_INVARIANTS(m);
		gomap_free(m);
	}
}

Test(growth, make_hint_matches_go_rule_for_every_hint_to_2000)
{
	for (size_t hint = 0; hint <= 2000; hint++) {
		gomap *m = gomap_make(&gomap_type_str_i64, hint);
		cr_assert(eq(uint, stats_of(m).B, go_B_for(hint)), "B for make hint %zu", hint);
		gomap_free(m);
	}
}

Test(growth, doubling_thresholds_match_go)
{
	/* count after the insert -> B; growth happens on the 9th, 14th, 27th,
	 * 53rd and 105th insert. */
	static const struct {
		int64_t count;
		unsigned B;
	} table[] = {
	        {1, 0},  {8, 0},  {9, 1},  {13, 1},  {14, 2},  {26, 2},
	        {27, 3}, {52, 3}, {53, 4}, {104, 4}, {105, 5},
	};
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	int64_t next = 1;
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		while (next <= table[i].count) {
			set_i64(m, next, next);
			next++;
		}
		cr_assert(eq(uint, stats_of(m).B, table[i].B), "B after %lld inserts",
		          (long long)table[i].count);
	}
	gomap_free(m);
}

Test(growth, B_after_each_insert_follows_load_factor)
{
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	for (int64_t n = 1; n <= 2000; n++) {
		set_i64(m, n * 7919, n);
		gomap_stats st = stats_of(m);
		cr_assert(eq(sz, st.count, (size_t)n));
		cr_assert(eq(uint, st.B, go_B_for((size_t)n)), "B after %lld inserts",
		          (long long)n);
	}
	for (int64_t n = 1; n <= 2000; n++)
		expect_i64(m, n * 7919, n);
	gomap_free(m);
}

Test(growth, string_keys_grow_at_the_same_counts)
{
	gomap *m = gomap_make(&gomap_type_str_i64, 0);
	char buf[32];
	for (int n = 1; n <= 500; n++) {
		int len = snprintf(buf, sizeof buf, "key-%d", n);
		set_str(m, buf, (size_t)len, n);
		cr_assert(eq(uint, stats_of(m).B, go_B_for((size_t)n)), "B after %d inserts", n);
	}
	gomap_free(m);
}

Test(growth, overwriting_at_the_threshold_does_not_grow)
{
	gomap *m = make_i64_filled(0, 8);
	for (int round = 0; round < 3; round++)
		for (int64_t k = 1; k <= 8; k++)
			set_i64(m, k, k + round);
	cr_assert(eq(uint, stats_of(m).B, 0), "overwrites are not inserts");
	set_i64(m, 9, 9);
	cr_assert(eq(uint, stats_of(m).B, 1), "the 9th new key grows");
	gomap_free(m);
}

Test(growth, filling_a_map_to_its_hint_never_grows)
{
	static const size_t hints[] = {8, 13, 26, 52, 104, 1000};
	for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++) {
		gomap *m = gomap_make(&gomap_type_i64_i64, hints[i]);
		unsigned B0 = stats_of(m).B;
		for (size_t k = 0; k < hints[i]; k++) {
			set_i64(m, (int64_t)k, 1);
			cr_assert(not(stats_of(m).growing), "grew at insert %zu of hint %zu", k + 1,
			          hints[i]);
		}
		cr_assert(eq(uint, stats_of(m).B, B0), "B for hint %zu", hints[i]);
		gomap_free(m);
	}
}

Test(growth, growth_from_one_bucket_finishes_within_the_insert)
{
	/* One old bucket: the triggering insert evacuates it, so the grow ends
	 * at once (Go: growWork then advanceEvacuationMark). */
	gomap *m = make_i64_filled(0, 8);
	set_i64(m, 9, 90);
	gomap_stats st = stats_of(m);
	cr_assert(eq(uint, st.B, 1));
	cr_assert(not(st.growing), "growth of a one-bucket map is finished by the same insert");
	for (int64_t k = 1; k <= 9; k++)
		expect_i64(m, k, k * 10);
	gomap_free(m);
}

Test(growth, growth_is_incremental_and_finished_by_later_writes)
{
	gomap *m = make_i64_filled(0, 26);
	cr_assert(eq(uint, stats_of(m).B, 2));
	set_i64(m, 27, 270); /* 27 > 6.5 * 4: grow to 8 buckets */
	gomap_stats st = stats_of(m);
	cr_assert(eq(uint, st.B, 3));
	cr_assert(st.growing, "four old buckets cannot all move in one insert");
	cr_assert(not(st.same_size_grow), "a load-factor grow doubles");
	cr_assert(st.nevacuate < 4, "nevacuate %zu", st.nevacuate);

	/* Every write moves at least the bucket at nevacuate: three more
	 * overwrites finish a grow from four buckets. */
	int writes = 0;
	size_t last = st.nevacuate;
	while (stats_of(m).growing) {
		cr_assert(writes < 3, "grow still running after %d more writes", writes);
		set_i64(m, 1, 10);
		writes++;
		st = stats_of(m);
		cr_assert(st.nevacuate > last || !st.growing,
		          "write %d moved nothing (nevacuate %zu)", writes, st.nevacuate);
		last = st.nevacuate;
	}
	cr_assert(eq(uint, stats_of(m).B, 3));
	for (int64_t k = 1; k <= 27; k++)
		expect_i64(m, k, k * 10);
	gomap_free(m);
}

Test(growth, reads_never_advance_evacuation)
{
	gomap *m = make_i64_filled(0, 52);
	set_i64(m, 53, 530); /* 8 -> 16 buckets */
	gomap_stats before = stats_of(m);
	cr_assert(before.growing);
	for (int round = 0; round < 10; round++) {
		for (int64_t k = 1; k <= 53; k++) {
			cr_assert(eq(i64, gomap_i64_get(m, k), k * 10), "key %lld mid-grow",
			          (long long)k);
			int64_t v;
			cr_assert(not(gomap_i64_lookup(m, -k, &v)), "key %lld should be absent",
			          (long long)-k);
		}
	}
	gomap_stats after = stats_of(m);
	cr_assert(after.growing, "reads finished the grow");
	cr_assert(eq(sz, after.nevacuate, before.nevacuate), "reads moved buckets");
	CHECK_INVARIANTS(m);
	gomap_free(m);
}

Test(growth, deleting_a_missing_key_still_advances_evacuation)
{
	/* Go: mapdelete calls growWork before it searches for the key. */
	gomap *m = make_i64_filled(0, 52);
	set_i64(m, 53, 530);
	gomap_stats before = stats_of(m);
	cr_assert(before.growing);
	del_i64(m, -12345);
	gomap_stats after = stats_of(m);
	cr_assert(eq(sz, after.count, 53));
	cr_assert(after.nevacuate > before.nevacuate || !after.growing,
	          "delete moved nothing: nevacuate %zu -> %zu", before.nevacuate, after.nevacuate);
	gomap_free(m);
}

Test(growth, deletes_never_shrink_the_table)
{
	gomap *m = make_i64_filled(0, 1000);
	unsigned B = stats_of(m).B;
	cr_assert(eq(uint, B, go_B_for(1000)));
	for (int64_t k = 2; k <= 1000; k++)
		del_i64(m, k);
	gomap_stats st = stats_of(m);
	cr_assert(eq(sz, st.count, 1));
	cr_assert(eq(uint, st.B, B), "B after deleting all but one key");
	expect_i64(m, 1, 10);
	gomap_free(m);
}

Test(growth, every_key_survives_many_grows)
{
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	for (int64_t k = 0; k < 5000; k++) {
		gomap_i64_set(m, k * -3 + 1, k);
		CHECK_INVARIANTS(m);
	}
	CHECK_INVARIANTS(m);
	cr_assert(eq(sz, gomap_len(m), 5000));
	for (int64_t k = 0; k < 5000; k++)
		expect_i64(m, k * -3 + 1, k);
	gomap_free(m);
}
