/*
 * test_clear_clone.c -- clear(m) and maps.Clone(m) (Go 1.21: mapclear,
 * mapclone2).
 *
 * clear empties the map in place: the bucket array keeps its size (B), a
 * grow in progress is dropped, the overflow count goes to zero and the seed
 * is drawn again. maps.Clone makes an independent map sized for the count
 * (make(map, len(src))), with the source's seed; the clone is never in the
 * middle of a grow.
 */
#include "test_util.h"

/* Asserts that m holds exactly keys 1..n with values k*10 (via iteration
 * and lookups). */
static void expect_exactly(gomap *m, int64_t n)
{
	cr_assert(eq(sz, gomap_len(m), (size_t)n));
	unsigned char *seen = calloc((size_t)n + 1, 1);
	gomap_iter it;
	gomap_iter_init(m, &it);
	int64_t steps = 0;
	while (gomap_iter_next(&it)) {
		int64_t k, v;
		memcpy(&k, it.key, sizeof k);
		memcpy(&v, it.elem, sizeof v);
		cr_assert(k >= 1 && k <= n, "unexpected key %lld", (long long)k);
		cr_assert(eq(int, seen[k], 0), "key %lld twice", (long long)k);
		seen[k] = 1;
		cr_assert(eq(i64, v, k * 10), "value of key %lld", (long long)k);
		steps++;
	}
	cr_assert(eq(i64, steps, n));
	for (int64_t k = 1; k <= n; k++)
		expect_i64(m, k, k * 10);
	free(seen);
}

/* ---- clear ---------------------------------------------------------------- */

Test(clear, empties_the_map_and_keeps_its_size)
{
	gomap *m = make_i64_filled(0, 1000);
	unsigned B = stats_of(m).B;
	clear_map(m);
	gomap_stats st = stats_of(m);
	cr_assert(eq(sz, st.count, 0));
	cr_assert(eq(sz, gomap_len(m), 0));
	cr_assert(eq(uint, st.B, B), "clear keeps the bucket array");
	cr_assert(eq(sz, st.noverflow, 0));
	cr_assert(not(st.growing));
	for (int64_t k = 1; k <= 1000; k++)
		expect_no_i64(m, k);
	gomap_iter it;
	gomap_iter_init(m, &it);
	cr_assert(not(gomap_iter_next(&it)));
	gomap_free(m);
}

Test(clear, the_map_is_usable_afterwards)
{
	gomap *m = make_i64_filled(0, 300);
	clear_map(m);
	for (int64_t k = 1; k <= 500; k++)
		set_i64(m, k, k * 10);
	expect_exactly(m, 500);
	gomap_free(m);
}

Test(clear, drops_a_grow_in_progress)
{
	BUCKET_ONLY(NO_INCREMENTAL_GROW);
	gomap *m = make_i64_filled(0, 53);
	gomap_stats before = stats_of(m);
	cr_assert(before.growing);
	clear_map(m);
	gomap_stats st = stats_of(m);
	cr_assert(not(st.growing), "clear must drop oldbuckets");
	cr_assert(not(st.same_size_grow));
	cr_assert(eq(sz, st.nevacuate, 0));
	cr_assert(eq(uint, st.B, before.B));
	cr_assert(eq(sz, st.count, 0));
	for (int64_t k = 1; k <= 53; k++)
		expect_no_i64(m, k);
	gomap_free(m);
}

Test(clear, clears_string_maps)
{
	gomap *m = gomap_make(&gomap_type_str_i64, 0);
	char buf[16];
	for (int k = 0; k < 100; k++)
		set_str(m, buf, (size_t)snprintf(buf, sizeof buf, "s%d", k), k);
	clear_map(m);
	cr_assert(eq(sz, gomap_len(m), 0));
	for (int k = 0; k < 100; k++) {
		int64_t v;
		size_t len = (size_t)snprintf(buf, sizeof buf, "s%d", k);
		cr_assert(not(gomap_str_lookup(m, buf, len, &v)), "key s%d survived clear", k);
	}
	set_str(m, "s1", 2, 5);
	cr_assert(eq(i64, gomap_str_get(m, "s1", 2), 5));
	gomap_free(m);
}

/* ---- clone ---------------------------------------------------------------- */

Test(clone, copies_every_entry)
{
	static const int64_t sizes[] = {1, 8, 9, 13, 14, 100, 1000};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		gomap *m = make_i64_filled(0, sizes[i]);
		gomap *c = gomap_clone(m);
		cr_assert(c != NULL && c != m);
		CHECK_INVARIANTS(c);
		expect_exactly(c, sizes[i]);
		expect_exactly(m, sizes[i]);
		cr_assert(eq(ptr, (void *)gomap_typeof(c), (void *)gomap_typeof(m)));
		gomap_free(c);
		gomap_free(m);
	}
}

Test(clone, is_independent_of_its_source)
{
	gomap *m = make_i64_filled(0, 200);
	gomap *c = gomap_clone(m);
	set_i64(c, 1, -1);
	del_i64(c, 2);
	set_i64(c, 1000, 1);
	expect_exactly(m, 200);
	set_i64(m, 3, -3);
	del_i64(m, 4);
	expect_i64(c, 3, 30);
	expect_i64(c, 4, 40);
	expect_i64(c, 1, -1);
	expect_no_i64(c, 2);
	cr_assert(eq(sz, gomap_len(c), 200));
	gomap_free(m);
	gomap_free(c);
}

Test(clone, keeps_the_source_seed)
{
	gomap *m = make_i64_filled(0, 50);
	gomap *c = gomap_clone(m);
	cr_assert(eq(u64, stats_of(c).hash0, stats_of(m).hash0));
	gomap *e = gomap_make(&gomap_type_i64_i64, 0);
	gomap *ec = gomap_clone(e);
	cr_assert(eq(u64, stats_of(ec).hash0, stats_of(e).hash0),
	          "Go copies hash0 before the empty-map return");
	gomap_free(m);
	gomap_free(c);
	gomap_free(e);
	gomap_free(ec);
}

Test(clone, is_sized_for_its_count)
{
	/* Go 1.26's Map.Clone copies the source's tables as they are. */
	BUCKET_ONLY("Go 1.26 clones the table layout, not a map sized for the count");
	/* Go: mapclone2 starts with makemap(t, src.count). */
	gomap *m = make_i64_filled(0, 1000);
	for (int64_t k = 11; k <= 1000; k++)
		del_i64(m, k);
	cr_assert(eq(uint, stats_of(m).B, go_B_for(1000)));
	gomap *c = gomap_clone(m);
	cr_assert(eq(uint, stats_of(c).B, go_B_for(10)), "clone of 10 entries");
	expect_exactly(c, 10);
	gomap_free(m);
	gomap_free(c);
}

Test(clone, of_a_growing_map_is_complete_and_not_growing)
{
	static const int64_t sizes[] = {27, 53, 105, 209};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		gomap *m = make_i64_filled(0, sizes[i]);
		bool bucket = !is_swiss(); /* the Swiss map has no grow in progress */
		if (bucket)
			cr_assert(stats_of(m).growing, "size %lld", (long long)sizes[i]);
		gomap *c = gomap_clone(m);
		CHECK_INVARIANTS(c);
		cr_assert(not(stats_of(c).growing));
		if (bucket)
			cr_assert(stats_of(m).growing, "clone must not move the source's buckets");
		expect_exactly(c, sizes[i]);
		gomap_free(m);
		gomap_free(c);
	}
}

Test(clone, of_a_growing_map_with_deletions_mid_grow)
{
	gomap *m = make_i64_filled(0, 209); /* 32 -> 64 buckets, growing */
	for (int64_t k = 199; k <= 209; k++)
		del_i64(m, k); /* 11 deletes move at most 22 of the 32 old buckets */
	if (!is_swiss())
		cr_assert(stats_of(m).growing);
	gomap *c = gomap_clone(m);
	CHECK_INVARIANTS(c);
	expect_exactly(c, 198);
	gomap_free(m);
	gomap_free(c);
}

Test(clone, of_a_string_map_outlives_its_source)
{
	gomap *m = gomap_make(&gomap_type_str_i64, 0);
	char buf[64];
	for (int k = 0; k < 200; k++)
		set_str(m, buf, (size_t)snprintf(buf, sizeof buf, "a fairly long key number %d", k),
		        k);
	gomap *c = gomap_clone(m);
	gomap_free(m);
	CHECK_INVARIANTS(c);
	for (int k = 0; k < 200; k++) {
		size_t len = (size_t)snprintf(buf, sizeof buf, "a fairly long key number %d", k);
		cr_assert(eq(i64, gomap_str_get(c, buf, len), k), "key %d", k);
	}
	gomap_iter it;
	gomap_iter_init(c, &it);
	int steps = 0;
	while (gomap_iter_next(&it)) {
		const gomap_str *key = it.key;
		cr_assert(key->len > 25 && memcmp(key->ptr, "a fairly long key number ", 25) == 0,
		          "clone key damaged after the source was freed");
		steps++;
	}
	cr_assert(eq(int, steps, 200));
	gomap_free(c);
}

Test(clone, of_an_empty_map_is_an_empty_map)
{
	gomap *m = make_i64_filled(0, 5);
	for (int64_t k = 1; k <= 5; k++)
		del_i64(m, k);
	gomap *c = gomap_clone(m);
	cr_assert(c != NULL);
	cr_assert(eq(sz, gomap_len(c), 0));
	set_i64(c, 1, 1);
	cr_assert(eq(sz, gomap_len(m), 0), "the source saw an insert into its clone");
	gomap_free(m);
	gomap_free(c);
}
