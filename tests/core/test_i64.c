/*
 * test_i64.c -- 64-bit integer keys (Go: map_fast64.go): the typed helpers,
 * the whole key range, and agreement with the generic calls.
 */
#include "test_util.h"

Test(i64, extreme_keys_are_ordinary_keys)
{
	static const int64_t keys[] = {
	        0,         1,           -1, INT64_MIN, INT64_MAX, INT64_MIN + 1, INT64_MAX - 1,
	        1ll << 32, -(1ll << 32)};
	enum { N = sizeof keys / sizeof keys[0] };
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	for (int i = 0; i < N; i++)
		set_i64(m, keys[i], i + 100);
	cr_assert(eq(sz, gomap_len(m), N));
	for (int i = 0; i < N; i++)
		expect_i64(m, keys[i], i + 100);
	for (int i = 0; i < N; i += 2)
		del_i64(m, keys[i]);
	for (int i = 0; i < N; i++) {
		if (i % 2 == 0)
			expect_no_i64(m, keys[i]);
		else
			expect_i64(m, keys[i], i + 100);
	}
	gomap_free(m);
}

Test(i64, absent_key_reads_zero)
{
	gomap *m = make_i64_filled(0, 10);
	cr_assert(eq(i64, gomap_i64_get(m, 11), 0));
	int64_t v = 55;
	cr_assert(not(gomap_i64_lookup(m, 11, &v)));
	cr_assert(eq(i64, v, 0), "v, ok := m[k] gives the zero value");
	gomap_free(m);
}

Test(i64, stored_zero_is_distinguished_from_absent)
{
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	set_i64(m, 5, 0);
	int64_t v = 9;
	cr_assert(gomap_i64_lookup(m, 5, &v));
	cr_assert(eq(i64, v, 0));
	cr_assert(not(gomap_i64_lookup(m, 6, &v)));
	gomap_free(m);
}

Test(i64, typed_and_generic_calls_agree)
{
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	for (int64_t k = 0; k < 300; k++) {
		if (k % 2) {
			set_i64(m, k, k * 3);
		} else {
			int64_t v = k * 3;
			gomap_assign(m, &k, &v);
			CHECK_INVARIANTS(m);
		}
	}
	for (int64_t k = 0; k < 300; k++) {
		int64_t v = -1;
		gomap_access1(m, &k, &v);
		cr_assert(eq(i64, v, k * 3));
		cr_assert(eq(i64, gomap_i64_get(m, k), k * 3));
	}
	for (int64_t k = 0; k < 300; k += 3) {
		gomap_delete(m, &k);
		CHECK_INVARIANTS(m);
	}
	for (int64_t k = 0; k < 300; k++)
		cr_assert(eq(int, gomap_i64_lookup(m, k, NULL), k % 3 != 0), "key %lld",
		          (long long)k);
	cr_assert(eq(sz, gomap_len(m), 200));
	gomap_free(m);
}

Test(i64, len_counts_live_entries)
{
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	for (int64_t k = 0; k < 100; k++) {
		set_i64(m, k, k);
		set_i64(m, k, k + 1);
		cr_assert(eq(sz, gomap_len(m), (size_t)k + 1));
	}
	for (int64_t k = 0; k < 100; k++) {
		del_i64(m, k);
		del_i64(m, k);
		cr_assert(eq(sz, gomap_len(m), (size_t)(99 - k)));
	}
	gomap_free(m);
}

Test(i64, map_with_wider_elems)
{
	gomap_type t;
	gomap_type_init_i64(&t, 40, "map[int64][40]byte");
	gomap *m = gomap_make(&t, 0);
	for (int64_t k = 0; k < 500; k++) {
		unsigned char e[40];
		memset(e, (int)(k & 0xff), sizeof e);
		gomap_assign(m, &k, e);
		CHECK_INVARIANTS(m);
	}
	for (int64_t k = 0; k < 500; k++) {
		unsigned char e[40];
		cr_assert(gomap_access2(m, &k, e));
		cr_assert(eq(int, e[0], (int)(k & 0xff)));
		cr_assert(eq(int, e[39], (int)(k & 0xff)));
	}
	gomap_free(m);
}
