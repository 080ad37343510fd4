/*
 * test_runtime_map.c -- Go's runtime map tests (src/runtime/map_test.go of
 * Go 1.19, and the tests Go 1.26's version adds that do not depend on the
 * implementation) run against the core, on both map generations.
 *
 * One Criterion test per Go test, named after it. Each ports the Go test's
 * intent and every one of its assertions; where Go uses a language feature C
 * has not (m[k] op= v, append, range), the test spells out what the compiler
 * generates (an access, then an assign; an iterator loop). Go tests that do
 * not apply are listed, with the reason, in docs/go-map-tests.md.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "go_types.h"

#define CHECK_INVARIANTS(m)                                                                        \
	do {                                                                                       \
		const char *why_ = gomap_check_invariants(m);                                      \
		cr_assert(why_ == NULL, "invariant broken: %s", why_ ? why_ : "");                 \
	} while (0)

/* ---- map[float64]int64 -------------------------------------------------- */

static void f64_set(gomap *m, double k, int64_t v)
{
	gomap_assign(m, &k, &v);
}

static int64_t f64_get(gomap *m, double k)
{
	int64_t v = -1;
	gomap_access1(m, &k, &v);
	return v;
}

/* m[k] op= x: Go reads m[k] (zero when absent), then assigns. */
static void f64_add(gomap *m, double k, int64_t x)
{
	f64_set(m, k, f64_get(m, k) + x);
}

/* Go: TestNegativeZero. +0 and -0 are one key; the stored key is the one
 * assigned last (needkeyupdate). */
Test(map_test, TestNegativeZero)
{
	gomap_type t = go_f64_type(1);
	bool yes = true;
	gomap *m = gomap_make(&t, 0);
	double pz = +0.0, nz = go_negzero();
	gomap_assign(m, &pz, &yes);
	gomap_assign(m, &nz, &yes); /* overwrites the +0 entry */
	cr_assert(eq(sz, gomap_len(m), 1), "length wrong");
	gomap_iter it;
	int n = 0;
	for (gomap_iter_init(m, &it); gomap_iter_next(&it); n++)
		cr_assert(go_signbit(*(const double *)it.key), "wrong sign: +0 kept after m[-0]");
	cr_assert(eq(int, n, 1));
	gomap_free(m);

	m = gomap_make(&t, 0);
	gomap_assign(m, &nz, &yes);
	gomap_assign(m, &pz, &yes); /* overwrites the -0 entry */
	cr_assert(eq(sz, gomap_len(m), 1), "length wrong");
	n = 0;
	for (gomap_iter_init(m, &it); gomap_iter_next(&it); n++)
		cr_assert(not(go_signbit(*(const double *)it.key)),
		          "wrong sign: -0 kept after m[+0]");
	cr_assert(eq(int, n, 1));
	gomap_free(m);
}

/* Go: testMapNan. Three NaN entries with values 1, 2 and 4. */
static void test_map_nan(gomap *m)
{
	cr_assert(eq(sz, gomap_len(m), 3), "length wrong");
	int64_t s = 0;
	gomap_iter it;
	for (gomap_iter_init(m, &it); gomap_iter_next(&it);) {
		double k = *(const double *)it.key;
		int64_t v = *(const int64_t *)it.elem;
		cr_assert(k != k, "nan disappeared");
		cr_assert(eq(i64, v & (v - 1), 0), "value wrong: %lld", (long long)v);
		s |= v;
	}
	cr_assert(eq(i64, s, 7), "values wrong");
}

/* Go: TestMapAssignmentNan. NaN != NaN: every assign adds an entry. */
Test(map_test, TestMapAssignmentNan)
{
	gomap_type t = go_f64_type(8);
	gomap *m = gomap_make(&t, 0);
	double nan = go_nan();
	f64_set(m, nan, 1);
	f64_set(m, nan, 2);
	f64_set(m, nan, 4);
	test_map_nan(m);
	CHECK_INVARIANTS(m);
	gomap_free(m);
}

/* Go: TestMapOperatorAssignmentNan. m[nan] += x reads zero, then adds. */
Test(map_test, TestMapOperatorAssignmentNan)
{
	gomap_type t = go_f64_type(8);
	gomap *m = gomap_make(&t, 0);
	double nan = go_nan();
	f64_add(m, nan, 1);
	f64_add(m, nan, 2);
	f64_add(m, nan, 4);
	test_map_nan(m);
	gomap_free(m);
}

/* Go: TestMapOperatorAssignment. */
Test(map_test, TestMapOperatorAssignment)
{
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	gomap_i64_set(m, 0, 12345);
	gomap_i64_set(m, 0, gomap_i64_get(m, 0) + 67890);
	gomap_i64_set(m, 0, gomap_i64_get(m, 0) / 123);
	gomap_i64_set(m, 0, gomap_i64_get(m, 0) % 456);
	const int64_t want = (12345 + 67890) / 123 % 456;
	cr_assert(eq(i64, gomap_i64_get(m, 0), want));
	gomap_free(m);
}

/* Go: TestMapAppendAssignment. The elem is a small slice (length and
 * storage); m[0] = append(m[0], ...) reads, extends and writes it back. */
typedef struct small_slice {
	int64_t len;
	int64_t v[8];
} small_slice;

static void append_to(gomap *m, int64_t key, const int64_t *xs, int n)
{
	small_slice s;
	gomap_access1(m, &key, &s);
	for (int i = 0; i < n; i++)
		s.v[s.len++] = xs[i];
	gomap_assign(m, &key, &s);
}

Test(map_test, TestMapAppendAssignment)
{
	gomap_type t;
	gomap_type_init_i64(&t, sizeof(small_slice), "map[int][]int");
	gomap *m = gomap_make(&t, 0);
	int64_t k = 0;
	small_slice nil = {0};
	gomap_assign(m, &k, &nil);
	append_to(m, 0, (int64_t[]){12345}, 1);
	append_to(m, 0, (int64_t[]){67890}, 1);
	append_to(m, 0, (int64_t[]){123, 456}, 2);
	append_to(m, 0, (int64_t[]){7, 8, 9, 0}, 4);
	const int64_t want[] = {12345, 67890, 123, 456, 7, 8, 9, 0};
	small_slice got;
	gomap_access1(m, &k, &got);
	cr_assert(eq(i64, got.len, 8));
	cr_assert(memcmp(got.v, want, sizeof want) == 0, "elements differ");
	gomap_free(m);
}

/* Go: TestAlias. A map value is a reference: copies name the same map. */
Test(map_test, TestAlias)
{
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	gomap_i64_set(m, 0, 5);
	gomap *n = m;
	gomap_i64_set(n, 0, 6);
	cr_assert(eq(i64, gomap_i64_get(m, 0), 6), "alias didn't work");
	gomap_free(m);
}

/* Go: TestGrowWithNaN. NaN entries survive a grow that starts during an
 * iteration, and the iteration returns each of them. */
Test(map_test, TestGrowWithNaN)
{
	gomap_type t = go_f64_type(8);
	gomap *m = gomap_make(&t, 4);
	double nan = go_nan();
	f64_set(m, nan, 1);
	f64_set(m, nan, 2);
	f64_add(m, nan, 4);
	int cnt = 0;
	int64_t s = 0;
	bool growflag = true;
	gomap_iter it;
	for (gomap_iter_init(m, &it); gomap_iter_next(&it);) {
		double k = *(const double *)it.key;
		int64_t v = *(const int64_t *)it.elem;
		if (growflag) {
			/* force a resize */
			for (int i = 0; i < 50; i++)
				f64_set(m, (double)i, i);
			for (int i = 50; i < 100; i++)
				f64_add(m, (double)i, i);
			growflag = false;
		}
		if (k != k) {
			cnt++;
			s |= v;
		}
	}
	cr_assert(eq(int, cnt, 3), "NaN keys lost during grow");
	cr_assert(eq(i64, s, 7), "NaN values lost during grow");
	CHECK_INVARIANTS(m);
	gomap_free(m);
}

/* Go: TestGrowWithNegativeZero. Overwriting +0 keys with -0 during a grow
 * that an iteration straddles: the iteration sees each entry once, and the
 * key it returns goes with the value it returns. */
Test(map_test, TestGrowWithNegativeZero)
{
	gomap_type t = {.name = "map[FloatInt]int",
	                .keysize = sizeof(go_floatint),
	                .elemsize = 8,
	                .kind = GOMAP_KEY_GENERIC,
	                .hash = go_floatint_hash,
	                .equal = go_floatint_equal,
	                .needkeyupdate = true,
	                .notreflexive = true};
	double negzero = go_negzero();
	gomap *m = gomap_make(&t, 4);
#define FI_SET(x_, y_, v_)                                                                         \
	do {                                                                                       \
		go_floatint k_ = {(x_), (y_)};                                                     \
		int64_t v2_ = (v_);                                                                \
		gomap_assign(m, &k_, &v2_);                                                        \
	} while (0)
#define FI_ADD(x_, y_, v_)                                                                         \
	do {                                                                                       \
		go_floatint k_ = {(x_), (y_)};                                                     \
		int64_t old_;                                                                      \
		gomap_access1(m, &k_, &old_);                                                      \
		old_ += (v_);                                                                      \
		gomap_assign(m, &k_, &old_);                                                       \
	} while (0)
	FI_SET(0.0, 0, 1);
	FI_ADD(0.0, 1, 2);
	FI_ADD(0.0, 2, 4);
	FI_SET(0.0, 3, 8);
	bool growflag = true;
	int64_t s = 0;
	int cnt = 0, negcnt = 0;
	gomap_iter it;
	/* The first entry comes with +0; the later ones with -0. */
	for (gomap_iter_init(m, &it); gomap_iter_next(&it);) {
		go_floatint k = *(const go_floatint *)it.key;
		int64_t v = *(const int64_t *)it.elem;
		if (v == 0)
			continue; /* the entries added to grow the table */
		cnt++;
		if (go_signbit(k.x)) {
			cr_assert(eq(i64, v & 16, 16), "key/value not updated together 1");
			negcnt++;
			s |= v & 15;
		} else {
			cr_assert(eq(i64, v & 16, 0), "key/value not updated together 2");
			s |= v;
		}
		if (growflag) {
			for (int i = 0; i < 100; i++)
				FI_SET(3.0, i, 0);
			FI_SET(negzero, 0, 1 | 16);
			FI_SET(negzero, 1, 2 | 16);
			FI_SET(negzero, 2, 4 | 16);
			FI_SET(negzero, 3, 8 | 16);
			growflag = false;
		}
	}
#undef FI_SET
#undef FI_ADD
	cr_assert(eq(i64, s, 15), "entry missing");
	cr_assert(eq(int, cnt, 4), "wrong number of entries returned by iterator");
	cr_assert(eq(int, negcnt, 3), "update to negzero missed by iteration");
	gomap_free(m);
}

/* Go: TestIterGrowAndDelete. */
Test(map_test, TestIterGrowAndDelete)
{
	gomap *m = gomap_make(&gomap_type_i64_i64, 4);
	for (int64_t i = 0; i < 100; i++)
		gomap_i64_set(m, i, i);
	bool growflag = true;
	gomap_iter it;
	for (gomap_iter_init(m, &it); gomap_iter_next(&it);) {
		int64_t k = *(const int64_t *)it.key;
		if (growflag) {
			for (int64_t i = 100; i < 1000; i++)
				gomap_i64_set(m, i, i);
			for (int64_t i = 1; i < 1000; i += 2)
				gomap_i64_delete(m, i);
			growflag = false;
		} else {
			cr_assert(eq(i64, k & 1, 0), "odd value %lld returned", (long long)k);
		}
	}
	CHECK_INVARIANTS(m);
	gomap_free(m);
}

/* Go: TestIterGrowWithGC. Go checks that a collection during the iteration
 * does not free the bucket array the iterator still walks; the core keeps
 * every array until gomap_free (internal.h, invariant 2), so the collection
 * has no counterpart and the rest of the test is ported as is. */
Test(map_test, TestIterGrowWithGC)
{
	gomap *m = gomap_make(&gomap_type_i64_i64, 4);
	for (int64_t i = 0; i < 8; i++)
		gomap_i64_set(m, i, i);
	for (int64_t i = 8; i < 16; i++)
		gomap_i64_set(m, i, gomap_i64_get(m, i) + i);
	bool growflag = true;
	int64_t bitmask = 0;
	gomap_iter it;
	for (gomap_iter_init(m, &it); gomap_iter_next(&it);) {
		int64_t k = *(const int64_t *)it.key;
		if (k < 16)
			bitmask |= (int64_t)1 << k;
		if (growflag) {
			for (int64_t i = 100; i < 1000; i++)
				gomap_i64_set(m, i, i);
			growflag = false;
		}
	}
	cr_assert(eq(i64, bitmask, (1 << 16) - 1), "missing key: %llx", (long long)bitmask);
	gomap_free(m);
}

/* Go: testConcurrentReadsAfterGrowth (without reflect). Many threads read
 * and iterate a map at once while nobody writes: legal, and must neither
 * crash nor report. Go's -short figures (2 loops of 100 grow steps); Go's
 * full figures with GOMAP_GO_TEST_LONG=1. */
typedef struct reader_arg {
	gomap *m;
	int64_t gs;
	bool iterate;
} reader_arg;

static void *reader(void *p)
{
	reader_arg *a = p;
	if (a->iterate) {
		gomap_iter it;
		for (gomap_iter_init(a->m, &it); gomap_iter_next(&it);)
			;
	} else {
		for (int64_t key = 0; key < a->gs; key++)
			(void)gomap_i64_get(a->m, key);
	}
	return NULL;
}

Test(map_test, TestConcurrentReadsAfterGrowth, .timeout = 240)
{
	bool longrun = getenv("GOMAP_GO_TEST_LONG") != NULL;
	int numLoop = longrun ? 10 : 2, numGrowStep = longrun ? 250 : 100;
	enum { numReader = 16 };
	for (int i = 0; i < numLoop; i++) {
		gomap *m = gomap_make(&gomap_type_i64_i64, 0);
		for (int64_t gs = 0; gs < numGrowStep; gs++) {
			gomap_i64_set(m, gs, gs);
			pthread_t th[2 * numReader];
			reader_arg args[2 * numReader];
			for (int nr = 0; nr < 2 * numReader; nr++) {
				args[nr] = (reader_arg){m, gs, nr % 2 == 0};
				cr_assert(eq(int, pthread_create(&th[nr], NULL, reader, &args[nr]),
				             0));
			}
			for (int nr = 0; nr < 2 * numReader; nr++)
				pthread_join(th[nr], NULL);
		}
		cr_assert(eq(sz, gomap_len(m), (size_t)numGrowStep));
		CHECK_INVARIANTS(m);
		gomap_free(m);
	}
}

/* Go: TestBigItems. map[[256]string][256]string: keys and elems far above
 * Go's 128-byte limit for inline storage. A string here is a fixed 16-byte
 * text, which keeps the key plain bytes. */
typedef struct big_item {
	char s[256][16];
} big_item;
GO_BYTES_FNS(big_item, sizeof(big_item))

static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

Test(map_test, TestBigItems)
{
	gomap_type t = {.name = "map[[256]string][256]string",
	                .keysize = sizeof(big_item),
	                .elemsize = sizeof(big_item),
	                .kind = GOMAP_KEY_GENERIC,
	                .hash = big_item_hash,
	                .equal = big_item_equal};
	static big_item key, v;
	for (int i = 0; i < 256; i++)
		strcpy(key.s[i], "foo");
	gomap *m = gomap_make(&t, 4);
	for (int i = 0; i < 100; i++) {
		snprintf(key.s[37], 16, "string%02d", i);
		gomap_assign(m, &key, &key);
	}
	static char keys[100][16], values[100][16];
	int i = 0;
	gomap_iter it;
	for (gomap_iter_init(m, &it); gomap_iter_next(&it);) {
		cr_assert(lt(int, i, 100), "more than 100 entries");
		memcpy(keys[i], ((const big_item *)it.key)->s[37], 16);
		memcpy(values[i], ((const big_item *)it.elem)->s[37], 16);
		i++;
	}
	cr_assert(eq(int, i, 100));
	qsort(keys, 100, 16, cmp_str);
	qsort(values, 100, 16, cmp_str);
	for (i = 0; i < 100; i++) {
		char want[16];
		snprintf(want, sizeof want, "string%02d", i);
		cr_assert(eq(str, keys[i], want), "#%d: missing key", i);
		cr_assert(eq(str, values[i], want), "#%d: missing value", i);
	}
	(void)v;
	gomap_free(m);
}

/* Go: TestMapHugeZero. A missing key reads as a zero elem of 4000 bytes. */
Test(map_test, TestMapHugeZero)
{
	gomap_type t;
	gomap_type_init_i64(&t, 4000, "map[int][4000]byte");
	gomap *m = gomap_make(&t, 0);
	static unsigned char x[4000], zero[4000];
	int64_t k = 0;
	memset(x, 0xaa, sizeof x);
	gomap_access1(m, &k, x);
	cr_assert(memcmp(x, zero, sizeof x) == 0, "map value not zero");
	/* The same on a map that has entries, so the read does look. */
	int64_t other = 1;
	gomap_assign(m, &other, x);
	memset(x, 0xaa, sizeof x);
	bool ok = gomap_access2(m, &k, x);
	cr_assert(not(ok), "map value should be missing");
	cr_assert(memcmp(x, zero, sizeof x) == 0, "map value not zero");
	gomap_free(m);
}

/* Go: TestEmptyKeyAndValue. map[int]struct{}, map[struct{}]int and
 * map[struct{}]struct{}. */
Test(map_test, TestEmptyKeyAndValue)
{
	gomap_type ta, tb, tc;
	gomap_type_init_i64(&ta, 0, "map[int]empty");
	tb = (gomap_type){.name = "map[empty]int",
	                  .keysize = 0,
	                  .elemsize = 8,
	                  .kind = GOMAP_KEY_GENERIC,
	                  .hash = go_empty_hash,
	                  .equal = go_empty_equal};
	tc = tb;
	tc.name = "map[empty]empty";
	tc.elemsize = 0;
	gomap *a = gomap_make(&ta, 4), *b = gomap_make(&tb, 4), *c = gomap_make(&tc, 4);
	int64_t zero = 0, one = 1;
	char nokey;
	gomap_assign(a, &zero, NULL);
	gomap_assign(b, &nokey, &zero);
	gomap_assign(b, &nokey, &one);
	gomap_assign(c, &nokey, NULL);
	cr_assert(eq(sz, gomap_len(a), 1), "empty value insert problem");
	int64_t got = -1;
	gomap_access1(b, &nokey, &got);
	cr_assert(eq(i64, got, 1), "empty key returned wrong value");
	/* Beyond Go's assertions: one key each, found, iterated once. */
	cr_assert(eq(sz, gomap_len(b), 1));
	cr_assert(eq(sz, gomap_len(c), 1));
	cr_assert(gomap_access2(c, &nokey, NULL));
	gomap_iter it;
	int n = 0;
	for (gomap_iter_init(b, &it); gomap_iter_next(&it); n++)
		cr_assert(eq(i64, *(const int64_t *)it.elem, 1));
	cr_assert(eq(int, n, 1));
	gomap_delete(b, &nokey);
	cr_assert(eq(sz, gomap_len(b), 0));
	CHECK_INVARIANTS(a);
	CHECK_INVARIANTS(b);
	CHECK_INVARIANTS(c);
	gomap_free(a);
	gomap_free(b);
	gomap_free(c);
}

/* Go: testMapLookups over map[string]string. */
static void test_map_lookups(const char *const *kv, int n)
{
	gomap_type t;
	gomap_type_init_str(&t, sizeof(const char *), "map[string]string");
	gomap *m = gomap_make(&t, 0);
	for (int i = 0; i < n; i++) {
		gomap_str k = {kv[2 * i], strlen(kv[2 * i])};
		gomap_assign(m, &k, &kv[2 * i + 1]);
	}
	cr_assert(eq(sz, gomap_len(m), (size_t)n));
	cr_assert(eq(u64, (uint64_t)(gomap_len(m) <= 8), 1), "not a single bucket map");
	gomap_iter it;
	for (gomap_iter_init(m, &it); gomap_iter_next(&it);) {
		gomap_str k = *(const gomap_str *)it.key;
		const char *v = *(const char *const *)it.elem;
		const char *got = NULL;
		gomap_access1(m, &k, &got);
		cr_assert(got == v, "m[%.*s] = %s; want %s", (int)k.len, k.ptr, got ? got : "", v);
	}
	gomap_free(m);
}

static char x128[129], y128[129];

static void long_keys(void)
{
	memset(x128, 'x', 128);
	memset(y128, 'y', 128);
}

/* Go: TestSingleBucketMapStringKeys_DupLen. */
Test(map_test, TestSingleBucketMapStringKeys_DupLen)
{
	long_keys();
	const char *kv[] = {"x",      "x1val", "xx",    "x2val", "foo",      "fooval", "bar",
	                    "barval", "xxxx",  "x4val", x128,    "longval1", y128,     "longval2"};
	test_map_lookups(kv, 7);
}

/* Go: TestSingleBucketMapStringKeys_NoDupLen. */
Test(map_test, TestSingleBucketMapStringKeys_NoDupLen)
{
	long_keys();
	const char *kv[] = {"x",     "x1val", "xx",    "x2val",  "foo",   "fooval", "xxxx",
	                    "x4val", "xxxxx", "x5val", "xxxxxx", "x6val", x128,     "longval"};
	test_map_lookups(kv, 7);
}

/* Go: TestMapNanGrowIterator. An iteration that starts during a grow of a
 * map full of NaN keys, and sees the grow finish halfway, returns every
 * entry exactly once. */
Test(map_test, TestMapNanGrowIterator)
{
	gomap_type t = go_f64_type(8);
	gomap *m = gomap_make(&t, 0);
	double nan = go_nan();
	enum { nBuckets = 16 };
	const int nKeys = (int)(nBuckets * 6.5); /* runtime.HashLoad */
	for (int i = 0; i < nKeys; i++)
		f64_set(m, nan, i);
	/* Start a grow. */
	f64_set(m, 1.0, 1);
	double one = 1.0;
	gomap_delete(m, &one);
	gomap_stats st;
	gomap_get_stats(m, &st);
	if (!go_is_swiss()) /* Go 1.26 grows a whole table at once */
		cr_assert(st.growing, "the insert did not start a grow");

	static bool found[104];
	int nfound = 0;
	gomap_iter it;
	for (gomap_iter_init(m, &it); gomap_iter_next(&it);) {
		int64_t v = *(const int64_t *)it.elem;
		if (v != -1) {
			cr_assert(v >= 0 && v < nKeys, "value %lld out of range", (long long)v);
			cr_assert(not(found[v]), "repeat of value %lld", (long long)v);
			found[v] = true;
			nfound++;
		}
		if (nfound == nKeys / 2) {
			/* Halfway through: finish the grow. */
			for (int i = 0; i < nBuckets; i++)
				gomap_delete(m, &one);
		}
	}
	cr_assert(eq(int, nfound, nKeys), "missing value: %d of %d", nfound, nKeys);
	gomap_free(m);
}

/* The keys of one iteration, in order. */
static int ord(gomap *m, int64_t *s)
{
	int n = 0;
	gomap_iter it;
	for (gomap_iter_init(m, &it); gomap_iter_next(&it);)
		s[n++] = *(const int64_t *)it.key;
	return n;
}

/* Go: TestMapIterOrder. Maps of 3, 7, 9 and 15 entries do not iterate in
 * one fixed order. */
Test(map_test, TestMapIterOrder)
{
	static const int ns[] = {3, 7, 9, 15};
	for (int ni = 0; ni < 4; ni++) {
		int n = ns[ni];
		for (int i = 0; i < 1000; i++) {
			gomap *m = gomap_make(&gomap_type_i64_i64, 0);
			for (int64_t k = 0; k < n; k++)
				gomap_i64_set(m, k, 1);
			int64_t first[16], other[16];
			cr_assert(eq(int, ord(m, first), n));
			bool ok = false;
			for (int try = 0; try < 100 && !ok; try++) {
				cr_assert(eq(int, ord(m, other), n));
				ok = memcmp(first, other, (size_t)n * sizeof first[0]) != 0;
			}
			cr_assert(ok, "map with n=%d elements had consistent iteration order", n);
			gomap_free(m);
		}
	}
}

/* Go: TestMapSparseIterOrder (Go issue 8410). 20 entries left in a map
 * that held 1000: the order still varies. */
Test(map_test, TestMapSparseIterOrder)
{
	for (int round = 0; round < 10; round++) {
		gomap *m = gomap_make(&gomap_type_i64_i64, 0);
		for (int64_t i = 0; i < 1000; i++)
			gomap_i64_set(m, i, 1);
		for (int64_t i = 20; i < 1000; i++)
			gomap_i64_delete(m, i);
		int64_t first[20], other[20];
		cr_assert(eq(int, ord(m, first), 20));
		bool changed = false;
		for (int n = 0; n < 800 && !changed; n++) {
			cr_assert(eq(int, ord(m, other), 20));
			changed = memcmp(first, other, sizeof first) != 0;
		}
		cr_assert(changed, "constant iteration order on round %d", round);
		gomap_free(m);
	}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Go: TestMapIterDuplicate (Go 1.24 and later). 20 entries left in a map
 * that held 1000: one iteration produces exactly those 20, none twice, in
 * 1000 fresh maps (a duplicate needs an unlucky start, so one is not
 * enough). */
Test(map_test, TestMapIterDuplicate)
{
	for (int round = 0; round < 1000; round++) {
		gomap *m = gomap_make(&gomap_type_i64_i64, 0);
		for (int64_t i = 0; i < 1000; i++)
			gomap_i64_set(m, i, 1);
		for (int64_t i = 20; i < 1000; i++)
			gomap_i64_delete(m, i);
		int64_t got[21];
		int n = 0;
		gomap_iter it;
		for (gomap_iter_init(m, &it); gomap_iter_next(&it) && n < 21;)
			got[n++] = *(const int64_t *)it.key;
		cr_assert(eq(int, n, 20), "round %d: %d entries, want 20", round, n);
		qsort(got, 20, sizeof got[0], cmp_i64);
		for (int i = 0; i < 20; i++)
			cr_assert(eq(i64, got[i], i), "round %d: sorted keys differ at %d", round,
			          i);
		gomap_free(m);
	}
}

/* Go: TestMapStringBytesLookup. A lookup with a key in a reused buffer.
 * Go's allocation count checks the compiler's string([]byte) optimisation,
 * which has no C counterpart (a gomap_str lookup never copies). */
Test(map_test, TestMapStringBytesLookup)
{
	gomap *m = gomap_make(&gomap_type_str_i64, 0);
	const char *k1 = "1000000000000000000000000000000000000000000000000";
	const char *k2 = "2000000000000000000000000000000000000000000000000";
	gomap_str_set(m, k1, strlen(k1), 1);
	gomap_str_set(m, k2, strlen(k2), 2);
	char buf[64];
	strcpy(buf, k1);
	cr_assert(eq(i64, gomap_str_get(m, buf, strlen(buf)), 1));
	buf[0] = '2';
	cr_assert(eq(i64, gomap_str_get(m, buf, strlen(buf)), 2));
	int64_t y = 0;
	cr_assert(gomap_str_lookup(m, buf, strlen(buf), &y), "!ok");
	cr_assert(eq(i64, y, 2));
	gomap_free(m);
}

/* Go: TestMapLargeKeyNoPointer. 1000 keys of 64 int64s. */
typedef struct large_t {
	int64_t v[64];
} large_t;
GO_BYTES_FNS(large_t, sizeof(large_t))

static large_t large_of(int64_t i)
{
	large_t v;
	for (int j = 0; j < 64; j++)
		v.v[j] = i + j;
	return v;
}

Test(map_test, TestMapLargeKeyNoPointer)
{
	gomap_type t = {.name = "map[T]int",
	                .keysize = sizeof(large_t),
	                .elemsize = 8,
	                .kind = GOMAP_KEY_GENERIC,
	                .hash = large_t_hash,
	                .equal = large_t_equal};
	gomap *m = gomap_make(&t, 0);
	for (int64_t i = 0; i < 1000; i++) {
		large_t k = large_of(i);
		gomap_assign(m, &k, &i);
	}
	for (int64_t i = 0; i < 1000; i++) {
		large_t k = large_of(i);
		int64_t got = -1;
		gomap_access1(m, &k, &got);
		cr_assert(eq(i64, got, i), "corrupted map");
	}
	CHECK_INVARIANTS(m);
	gomap_free(m);
}

/* Go: TestMapLargeValNoPointer. */
Test(map_test, TestMapLargeValNoPointer)
{
	gomap_type t;
	gomap_type_init_i64(&t, sizeof(large_t), "map[int]T");
	gomap *m = gomap_make(&t, 0);
	for (int64_t i = 0; i < 1000; i++) {
		large_t v = large_of(i);
		gomap_assign(m, &i, &v);
	}
	for (int64_t i = 0; i < 1000; i++) {
		large_t want = large_of(i), got;
		gomap_access1(m, &i, &got);
		cr_assert(memcmp(&got, &want, sizeof got) == 0, "corrupted map at %lld",
		          (long long)i);
	}
	gomap_free(m);
}

/* Go: TestIgnoreBogusMapHint (Go issue 19926). A hint of -1 or 1<<62, and
 * SIZE_MAX, gives a small working map at once (the timeout catches a
 * hang). */
Test(map_test, TestIgnoreBogusMapHint, .timeout = 10)
{
	const size_t hints[] = {(size_t)-1, (size_t)1 << 62, SIZE_MAX, (size_t)1 << 48,
	                        SIZE_MAX / 2};
	for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++) {
		gomap *m = gomap_make(&gomap_type_i64_i64, hints[i]);
		gomap_stats st;
		gomap_get_stats(m, &st);
		cr_assert(eq(u32, st.B, 0), "hint %zu gave B=%u", hints[i], st.B);
		for (int64_t k = 0; k < 100; k++)
			gomap_i64_set(m, k, k);
		for (int64_t k = 0; k < 100; k++)
			cr_assert(eq(i64, gomap_i64_get(m, k), k));
		CHECK_INVARIANTS(m);
		gomap_free(m);
	}
}

/* Go: TestMapBuckets, the makemap/makemap64 and nohint rows. The escape
 * and map-literal variants and the nil-bucket checks depend on the Go
 * compiler's stack allocation and have no counterpart. A negative hint
 * arrives as a huge size_t and is ignored. */
Test(map_test, TestMapBuckets)
{
	if (go_is_swiss())
		cr_skip_test("bucket map only: Go 1.26's map_test.go has no TestMapBuckets");
	static const struct {
		long n;
		unsigned buckets;
	} rows[] = {{-(1L << 30), 1}, {-1, 1}, {0, 1},  {1, 1}, {8, 1},
	            {9, 2},           {13, 2}, {14, 4}, {26, 4}};
	for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
		for (int hinted = 0; hinted < 2; hinted++) {
			gomap *m = gomap_make(&gomap_type_i64_i64, hinted ? (size_t)rows[r].n : 0);
			for (long i = 0; i < rows[r].n; i++)
				gomap_i64_set(m, i, i);
			gomap_stats st;
			gomap_get_stats(m, &st);
			cr_assert(eq(u32, 1u << st.B, rows[r].buckets), "%s: n=%ld",
			          hinted ? "makemap" : "nohint", rows[r].n);
			gomap_free(m);
		}
	}
}

/* Go: TestDeferDeleteSlow. Deletes deferred in a loop all run. Go's
 * interface-keyed map holds complex128 keys; here the key is a complex128
 * (two float64s) directly. */
static uint64_t c128_hash(const void *k, uint64_t seed)
{
	const double *d = k;
	return go_f64hash(d[1], go_f64hash(d[0], seed));
}

static bool c128_equal(const void *a, const void *b)
{
	const double *x = a, *y = b;
	return x[0] == y[0] && x[1] == y[1];
}

Test(map_test, TestDeferDeleteSlow)
{
	gomap_type t = {.name = "map[complex128]int",
	                .keysize = 16,
	                .elemsize = 8,
	                .kind = GOMAP_KEY_GENERIC,
	                .hash = c128_hash,
	                .equal = c128_equal,
	                .needkeyupdate = true,
	                .notreflexive = true};
	double ks[4][2] = {{0, 0}, {1, 0}, {2, 0}, {3, 0}};
	gomap *m = gomap_make(&t, 0);
	for (int64_t i = 0; i < 4; i++)
		gomap_assign(m, ks[i], &i);
	cr_assert(eq(sz, gomap_len(m), 4));
	/* The deferred calls run last in, first out. */
	for (int i = 3; i >= 0; i--)
		gomap_delete(m, ks[i]);
	cr_assert(eq(sz, gomap_len(m), 0));
	gomap_free(m);
}

/* Go: TestIncrementAfterDelete* (Go issue 25936): m[k2]++ after deleting
 * another key reads zero, not the deleted value. */
static void increment_after_delete(const gomap_type *t, const void *k1, const void *k2,
                                   size_t esize)
{
	gomap *m = gomap_make(t, 0);
	unsigned char v[8] = {0}, got[8];
	v[0] = 99;
	gomap_assign(m, k1, v);
	gomap_delete(m, k1);
	gomap_access1(m, k2, got);
	got[0]++;
	gomap_assign(m, k2, got);
	memset(got, 0xee, sizeof got);
	gomap_access1(m, k2, got);
	unsigned char want[8] = {1};
	cr_assert(memcmp(got, want, esize) == 0, "incremented 0 to %d", got[0]);
	gomap_free(m);
}

Test(map_test, TestIncrementAfterDeleteValueInt)
{
	int64_t k1 = 12, k2 = 13;
	increment_after_delete(&gomap_type_i64_i64, &k1, &k2, 8);
}

Test(map_test, TestIncrementAfterDeleteValueInt32)
{
	gomap_type t;
	gomap_type_init_i64(&t, 4, "map[int]int32");
	int64_t k1 = 12, k2 = 13;
	increment_after_delete(&t, &k1, &k2, 4);
}

Test(map_test, TestIncrementAfterDeleteValueInt64)
{
	gomap_type t;
	gomap_type_init_i64(&t, 8, "map[int]int64");
	int64_t k1 = 12, k2 = 13;
	increment_after_delete(&t, &k1, &k2, 8);
}

Test(map_test, TestIncrementAfterDeleteKeyStringValueInt)
{
	gomap_str k1 = {"", 0}, k2 = {"x", 1};
	increment_after_delete(&gomap_type_str_i64, &k1, &k2, 8);
}

/* map[string]string: m[key2] += "1" appends to the zero (empty) string. The
 * elem is a short string held inline: length byte, then the bytes. */
Test(map_test, TestIncrementAfterDeleteKeyValueString)
{
	gomap_type t;
	gomap_type_init_str(&t, 8, "map[string]string");
	gomap *m = gomap_make(&t, 0);
	gomap_str k1 = {"", 0}, k2 = {"x", 1};
	char v[8] = {2, '9', '9'}, got[8];
	gomap_assign(m, &k1, v);
	gomap_delete(m, &k1);
	gomap_access1(m, &k2, got);
	got[1 + got[0]] = '1';
	got[0]++;
	gomap_assign(m, &k2, got);
	gomap_access1(m, &k2, got);
	cr_assert(eq(int, got[0], 1), "appended '1' to empty string, got length %d", got[0]);
	cr_assert(eq(chr, got[1], '1'));
	gomap_free(m);
}

/* Go: TestIncrementAfterBulkClearKeyStringValueInt. Delete every key from
 * inside a range loop (the loop Go's compiler turns into mapclear). */
Test(map_test, TestIncrementAfterBulkClearKeyStringValueInt)
{
	gomap *m = gomap_make(&gomap_type_str_i64, 0);
	gomap_str_set(m, "", 0, 99);
	gomap_iter it;
	for (gomap_iter_init(m, &it); gomap_iter_next(&it);)
		gomap_delete(m, it.key);
	gomap_str_set(m, "x", 1, gomap_str_get(m, "x", 1) + 1);
	cr_assert(eq(i64, gomap_str_get(m, "x", 1), 1));
	gomap_free(m);
}

/* Go: TestMapTombstones. After fills and deletes every chain is live and
 * emptyOne slots, then an emptyRest run, whose first slot follows a live
 * one (runtime.MapTombstoneCheck; here part of gomap_check_invariants). */
Test(map_test, TestMapTombstones)
{
	enum { N = 10000 };
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	for (int64_t i = 0; i < N; i++)
		gomap_i64_set(m, i, i);
	CHECK_INVARIANTS(m);
	for (int64_t i = 0; i < N; i += 2)
		gomap_i64_delete(m, i);
	CHECK_INVARIANTS(m);
	for (int64_t i = N; i < 3 * N / 2; i++)
		gomap_i64_set(m, i, i);
	CHECK_INVARIANTS(m);
	for (int64_t i = 0; i < 3 * N / 2; i++)
		gomap_i64_delete(m, i);
	CHECK_INVARIANTS(m);
	cr_assert(eq(sz, gomap_len(m), 0));
	gomap_free(m);
}
