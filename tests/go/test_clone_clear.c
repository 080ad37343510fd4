/*
 * test_clone_clear.c -- Go's tests of clone, clear and iteration added after
 * Go 1.19 (maps.Clone and clear arrived in Go 1.21), run against the core.
 *
 * Go 1.19's tree, the only one on this machine, does not hold them, so they
 * are ported from Go's later sources as remembered: src/maps/maps_test.go
 * (TestClone, TestCloneNil, TestCloneWithDelete, TestCloneWithMapAssign,
 * TestCloneLarge), runtime's TestMapIterDeleteReplace, and
 * test/fixedbugs/issue59411.go (clear during range). The tests of NaN keys
 * under clear and clone and of a clone taken during a grow port the intent
 * of Go's fixes for those cases; their names describe the case
 * (docs/go-map-tests.md says which names are Go's).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>

#include "go_types.h"

#define CHECK_INVARIANTS(m)                                                                        \
	do {                                                                                       \
		const char *why_ = gomap_check_invariants(m);                                      \
		cr_assert(why_ == NULL, "invariant broken: %s", why_ ? why_ : "");                 \
	} while (0)

/* Go's maps.Equal for map[int64]int64. */
static bool equal_i64(gomap *a, gomap *b)
{
	if (gomap_len(a) != gomap_len(b))
		return false;
	gomap_iter it;
	for (gomap_iter_init(a, &it); gomap_iter_next(&it);) {
		int64_t v;
		if (!gomap_i64_lookup(b, *(const int64_t *)it.key, &v) ||
		    v != *(const int64_t *)it.elem) {
			it.h = NULL;
			return false;
		}
	}
	return true;
}

/* Go: TestClone (maps). The clone is equal, and independent. */
Test(maps_test, TestClone)
{
	gomap *m1 = gomap_make(&gomap_type_i64_i64, 0);
	int64_t kv[][2] = {{1, 2}, {2, 4}, {4, 8}, {8, 16}};
	for (int i = 0; i < 4; i++)
		gomap_i64_set(m1, kv[i][0], kv[i][1]);
	gomap *mc = gomap_clone(m1);
	cr_assert(equal_i64(mc, m1), "Clone differs from the original");
	gomap_i64_set(mc, 16, 32);
	cr_assert(not(equal_i64(mc, m1)), "Clone shares storage with the original");
	cr_assert(eq(sz, gomap_len(m1), 4));
	gomap_free(m1);
	gomap_free(mc);
}

/* Go: TestCloneNil (maps). */
Test(maps_test, TestCloneNil)
{
	cr_assert(gomap_clone(NULL) == NULL, "Clone(nil) is not nil");
}

/* Go: TestCloneWithDelete (maps). */
Test(maps_test, TestCloneWithDelete)
{
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	for (int64_t i = 0; i < 32; i++)
		gomap_i64_set(m, i, i);
	for (int64_t i = 8; i < 32; i++)
		gomap_i64_delete(m, i);
	gomap *m2 = gomap_clone(m);
	cr_assert(eq(sz, gomap_len(m2), 8));
	for (int64_t i = 0; i < 8; i++)
		cr_assert(eq(i64, gomap_i64_get(m2, i), gomap_i64_get(m, i)));
	CHECK_INVARIANTS(m2);
	gomap_free(m);
	gomap_free(m2);
}

/* Go: TestCloneWithMapAssign (maps). */
Test(maps_test, TestCloneWithMapAssign)
{
	enum { N = 25 };
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	for (int64_t i = 0; i < N; i++)
		gomap_i64_set(m, i, i);
	gomap *m2 = gomap_clone(m);
	cr_assert(eq(sz, gomap_len(m2), N));
	for (int64_t i = 0; i < N; i++)
		cr_assert(eq(i64, gomap_i64_get(m2, i), gomap_i64_get(m, i)));
	gomap_free(m);
	gomap_free(m2);
}

/* Go: TestCloneLarge (maps; Go issue 64474). Keys and elems of 17 float64s,
 * above Go's 128-byte inline limit: after cloning, updating the original's
 * key to -0 must change neither the clone's key nor its elem. Three shapes:
 * one entry, two buckets, and in the middle of the 4 -> 8 bucket grow. */
typedef struct f17 {
	double v[17];
} f17;

static uint64_t f17_hash(const void *k, uint64_t seed)
{
	const f17 *x = k;
	for (int i = 0; i < 17; i++)
		seed = go_f64hash(x->v[i], seed);
	return seed;
}

static bool f17_equal(const void *a, const void *b)
{
	const f17 *x = a, *y = b;
	for (int i = 0; i < 17; i++)
		if (x->v[i] != y->v[i])
			return false;
	return true;
}

static const gomap_type f17_type = {.name = "map[K]V",
                                    .keysize = sizeof(f17),
                                    .elemsize = sizeof(f17),
                                    .kind = GOMAP_KEY_GENERIC,
                                    .hash = f17_hash,
                                    .equal = f17_equal,
                                    .needkeyupdate = true,
                                    .notreflexive = true};

Test(maps_test, TestCloneLarge)
{
	for (int tst = 0; tst < 3; tst++) {
		gomap *m = gomap_make(&f17_type, 0);
		f17 k1 = {{0}}, v1 = {{0}}, zero = {{0}};
		gomap_assign(m, &k1, &v1);
		int more = tst == 0 ? 0 : tst == 1 ? 7 + 1 : 7 + 5 + 13 + 1;
		for (int i = 0; i < more; i++) {
			f17 k = {{(double)i + 1}};
			gomap_assign(m, &k, &zero);
		}
		gomap_stats st;
		gomap_get_stats(m, &st);
		/* The shapes Go 1.19's test aims at; the Swiss map has neither. */
		if (tst == 1 && !go_is_swiss())
			cr_assert(eq(u32, st.B, 1), "tst1: not two buckets");
		if (tst == 2 && !go_is_swiss())
			cr_assert(st.growing && st.B == 3, "tst2: not in the 4 -> 8 grow");
		gomap *c = gomap_clone(m);
		f17 k2 = k1, v2 = v1;
		k2.v[0] = go_negzero();
		v2.v[0] = 1.0;
		gomap_assign(m, &k2, &v2);
		size_t n = 0;
		gomap_iter it;
		for (gomap_iter_init(c, &it); gomap_iter_next(&it); n++) {
			const f17 *k = it.key, *v = it.elem;
			cr_assert(not(go_signbit(k->v[0])), "tst%d: sign bit of key changed", tst);
			if (k->v[0] == 0)
				cr_assert(memcmp(v, &v1, sizeof v1) == 0, "tst%d: value changed",
				          tst);
		}
		cr_assert(eq(sz, n, (size_t)more + 1), "tst%d: clone lost entries", tst);
		/* The original did take the update. */
		f17 got;
		gomap_access1(m, &k1, &got);
		cr_assert(eq(dbl, got.v[0], 1.0));
		gomap_free(m);
		gomap_free(c);
	}
}

/* A map[float64]int64 holding `nan` NaN keys (values 0..nan-1) and `num`
 * ordinary keys (values 1000..), started into a grow when `grow` is set
 * (the Swiss map grows whole tables at once: there, just after one). */
static gomap *nan_map(int nan, int num, bool grow)
{
	gomap_type *t = malloc(sizeof *t); /* freed by the caller with the map */
	*t = go_f64_type(8);
	gomap *m = gomap_make(t, 0);
	double n = go_nan();
	for (int64_t i = 0; i < nan; i++)
		gomap_assign(m, &n, &i);
	for (int64_t i = 0; i < num; i++) {
		double k = (double)i;
		int64_t v = 1000 + i;
		gomap_assign(m, &k, &v);
	}
	if (grow) {
		/* Insert then delete keys until an insert starts a grow. */
		gomap_stats st;
		gomap_get_stats(m, &st);
		size_t retired = st.arrays_retired;
		/* Bucket map: insert and delete one key at a time until an
		 * insert starts a grow. Swiss map: a delete frees the slot
		 * again, so insert keys until one rehashes the table, then
		 * delete them all. */
		double k = -1;
		for (;; k--) {
			int64_t v = 0;
			gomap_assign(m, &k, &v);
			if (!go_is_swiss())
				gomap_delete(m, &k);
			gomap_get_stats(m, &st);
			if (go_is_swiss() ? st.arrays_retired != retired : st.growing)
				break;
			cr_assert(k > -1000, "no grow started");
		}
		for (double d = -1; go_is_swiss() && d >= k; d--)
			gomap_delete(m, &d);
	}
	return m;
}

static void free_nan_map(gomap *m)
{
	const gomap_type *t = gomap_typeof(m);
	gomap_free(m);
	free((void *)t);
}

/* Every value of a nan_map present exactly once. */
static void expect_nan_map(gomap *c, int nan, int num, const char *what)
{
	cr_assert(eq(sz, gomap_len(c), (size_t)(nan + num)), "%s: len", what);
	static char seen[4096];
	memset(seen, 0, sizeof seen);
	size_t n = 0;
	gomap_iter it;
	for (gomap_iter_init(c, &it); gomap_iter_next(&it); n++) {
		double k = *(const double *)it.key;
		int64_t v = *(const int64_t *)it.elem;
		int idx = k != k ? (int)v : nan + (int)(v - 1000);
		cr_assert(idx >= 0 && idx < nan + num, "%s: value %lld", what, (long long)v);
		if (k == k)
			cr_assert(eq(dbl, k, (double)(v - 1000)), "%s: key and value apart", what);
		cr_assert(not(seen[idx]), "%s: entry %d twice", what, idx);
		seen[idx] = 1;
	}
	cr_assert(eq(sz, n, (size_t)(nan + num)), "%s: iteration found %zu of %d", what, n,
	          nan + num);
}

/* Go's mapclone keeps NaN keys: the clone holds every entry, NaN or not. */
Test(maps_test, TestCloneNaN)
{
	gomap *m = nan_map(100, 100, false);
	gomap *c = gomap_clone(m);
	expect_nan_map(c, 100, 100, "clone");
	expect_nan_map(m, 100, 100, "original");
	CHECK_INVARIANTS(c);
	free_nan_map(m);
	gomap_free(c);
}

/* A clone taken in the middle of a grow (Go: mapclone of a growing map
 * copies the old buckets' entries), with NaN keys among them: 104 NaN keys
 * fill 16 buckets, the 105th entry starts the grow. */
Test(maps_test, TestCloneDuringGrow)
{
	for (int nan = 0; nan <= 104; nan += 104) {
		gomap *m = nan_map(nan, 104 - nan, true);
		gomap *c = gomap_clone(m);
		expect_nan_map(c, nan, 104 - nan, "clone during grow");
		CHECK_INVARIANTS(c);
		/* The clone is a map of its own: growing the original further
		 * leaves it alone. */
		for (int64_t i = 0; i < 500; i++) {
			double k = 10000.0 + (double)i;
			gomap_assign(m, &k, &i);
		}
		expect_nan_map(c, nan, 104 - nan, "clone after the original grew");
		free_nan_map(m);
		gomap_free(c);
	}
}

/* clear removes NaN keys too (a delete never can), in a plain map and in a
 * growing one, and the map is empty and usable afterwards. */
Test(maps_test, TestMapClearNaN)
{
	for (int grow = 0; grow < 2; grow++) {
		gomap *m = nan_map(84, 20, grow); /* 104 entries fill 16 buckets */
		double nan = go_nan();
		gomap_delete(m, &nan);
		cr_assert(eq(sz, gomap_len(m), 104), "delete removed a NaN key");
		gomap_clear(m);
		cr_assert(eq(sz, gomap_len(m), 0));
		gomap_iter it;
		gomap_iter_init(m, &it);
		cr_assert(not(gomap_iter_next(&it)), "an entry left after clear");
		CHECK_INVARIANTS(m);
		int64_t v = 7;
		gomap_assign(m, &nan, &v);
		cr_assert(eq(sz, gomap_len(m), 1));
		free_nan_map(m);
	}
}

/* clear(m) on maps of several sizes: empty, same buckets reused, and
 * every old key gone (Go 1.21 mapclear). */
Test(maps_test, TestMapClear)
{
	static const int sizes[] = {0, 1, 8, 9, 100, 1000};
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		gomap *m = gomap_make(&gomap_type_i64_i64, 0);
		for (int64_t i = 0; i < sizes[s]; i++)
			gomap_i64_set(m, i, i);
		gomap_clear(m);
		cr_assert(eq(sz, gomap_len(m), 0), "size %d", sizes[s]);
		for (int64_t i = 0; i < sizes[s]; i++)
			cr_assert(not(gomap_i64_lookup(m, i, NULL)), "key %lld after clear",
			          (long long)i);
		gomap_i64_set(m, 5, 50);
		cr_assert(eq(i64, gomap_i64_get(m, 5), 50));
		CHECK_INVARIANTS(m);
		gomap_free(m);
	}
}

/* Go: TestMapIterDeleteReplace. Deleting each key the iteration returns and
 * putting it back: the loop ends, and afterwards every entry holds the new
 * value. Go's sizes are 0 .. 9999 step 1 (step 100 with -short); here every
 * size below 200, then every 97th, for the run time. */
Test(maps_test, TestMapIterDeleteReplace, .timeout = 120)
{
	for (int64_t i = 0; i < 10000; i += (i < 200 ? 1 : 97)) {
		gomap *m = gomap_make(&gomap_type_i64_i64, 0);
		for (int64_t j = 0; j < i; j++)
			gomap_i64_set(m, j, 0);
		gomap_iter it;
		size_t steps = 0;
		for (gomap_iter_init(m, &it); gomap_iter_next(&it); steps++) {
			int64_t k = *(const int64_t *)it.key;
			gomap_i64_delete(m, k);
			gomap_i64_set(m, k, 1);
			cr_assert(steps < 3 * (size_t)i + 10, "size %lld: the loop does not end",
			          (long long)i);
		}
		cr_assert(eq(sz, gomap_len(m), (size_t)i));
		for (gomap_iter_init(m, &it); gomap_iter_next(&it);)
			cr_assert(eq(i64, *(const int64_t *)it.elem, 1), "m[%lld] got 0 want 1",
			          (long long)*(const int64_t *)it.key);
		gomap_free(m);
	}
}

/* Go: test/fixedbugs/issue59411.go (Go 1.21). clear(m) during a range over
 * a map with many entries: the loop ends, no entry comes twice, and none
 * comes after the clear (an entry removed before the loop reaches it is
 * not produced). With NaN keys, whose entries no lookup can find, and with
 * the clear in the middle of a grow. */
Test(maps_test, TestIssue59411)
{
	for (int round = 0; round < 100; round++) {
		/* 832 entries fill 128 buckets: one more starts a grow. */
		int nan = round % 2 ? 832 : 0;
		bool grow = round % 4 >= 2;
		gomap *m = nan_map(nan, 832 - nan, grow);
		int after = 0, seen = 0;
		int clear_at = round % 50;
		gomap_iter it;
		for (gomap_iter_init(m, &it); gomap_iter_next(&it);) {
			seen++;
			if (seen > clear_at + 1)
				after++;
			if (seen == clear_at + 1)
				gomap_clear(m);
			cr_assert(seen <= 832 + 2, "round %d: the loop does not end", round);
		}
		cr_assert(eq(int, after, 0), "round %d: %d entries after clear", round, after);
		cr_assert(eq(int, seen, clear_at + 1));
		cr_assert(eq(sz, gomap_len(m), 0));
		free_nan_map(m);
	}
}

/* The case the fuzzer found: an iteration starts on a one-bucket map of NaN
 * entries, an insert grows the map and the grow finishes at once (one old
 * bucket), so the iterator now walks a retired array whose slots say
 * "evacuated" and still hold the NaN entries; then clear. Nothing may come
 * after the clear (issue59411's rule), and nothing twice before it. */
Test(maps_test, TestIssue59411RetiredArray)
{
	for (int round = 0; round < 200; round++) {
		gomap_type t = go_f64_type(8);
		gomap *m = gomap_make(&t, 7);
		double nan = go_nan();
		for (int64_t i = 0; i < 8; i++)
			gomap_assign(m, &nan, &i);
		gomap_iter it;
		gomap_iter_init(m, &it);
		cr_assert(gomap_iter_next(&it));
		double k = 1.0;
		int64_t v = 100;
		gomap_assign(m, &k, &v); /* the ninth entry: grows 1 -> 2 buckets */
		gomap_stats st;
		gomap_get_stats(m, &st);
		if (!go_is_swiss()) { /* the Swiss map: small group -> table */
			cr_assert(eq(u32, st.B, 1));
			cr_assert(not(st.growing), "the grow did not finish at once");
		}
		gomap_clear(m);
		int after = 0;
		while (gomap_iter_next(&it))
			after++;
		cr_assert(eq(int, after, 0), "round %d: %d entries after clear", round, after);
		gomap_free(m);
	}
}
