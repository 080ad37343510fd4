/*
 * test_generic.c -- maps whose key type brings its own hash and equality
 * (GOMAP_KEY_GENERIC), with keys and elems of any size, including elem
 * size 0 (a set, Go's map[K]struct{}).
 */
#include "test_util.h"

/* ---- a 24-byte struct key ------------------------------------------------- */

typedef struct point3 {
	int64_t x, y, z;
} point3;

static uint64_t last_seed_seen;

static uint64_t point3_hash(const void *key, uint64_t seed)
{
	last_seed_seen = seed;
	return gomap_memhash(key, sizeof(point3), seed);
}

static bool point3_equal(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(point3)) == 0;
}

static const gomap_type point3_to_i64 = {
        .name = "map[point3]int64",
        .keysize = sizeof(point3),
        .elemsize = sizeof(int64_t),
        .kind = GOMAP_KEY_GENERIC,
        .hash = point3_hash,
        .equal = point3_equal,
};

static const gomap_type point3_set = {
        .name = "map[point3]struct{}",
        .keysize = sizeof(point3),
        .elemsize = 0,
        .kind = GOMAP_KEY_GENERIC,
        .hash = point3_hash,
        .equal = point3_equal,
};

static point3 pt(int64_t i)
{
	return (point3){i, i * 31 - 7, -i};
}

Test(generic, struct_keys_store_and_find)
{
	gomap *m = gomap_make(&point3_to_i64, 0);
	cr_assert(eq(ptr, (void *)gomap_typeof(m), (void *)&point3_to_i64));
	for (int64_t i = 0; i < 3000; i++) {
		point3 k = pt(i);
		int64_t v = i * 2;
		gomap_assign(m, &k, &v);
		CHECK_INVARIANTS(m);
	}
	CHECK_INVARIANTS(m);
	cr_assert(eq(sz, gomap_len(m), 3000));
	for (int64_t i = 0; i < 3000; i++) {
		point3 k = pt(i);
		int64_t v = -1;
		cr_assert(gomap_access2(m, &k, &v), "key %lld missing", (long long)i);
		cr_assert(eq(i64, v, i * 2));
		gomap_access1(m, &k, &v);
		cr_assert(eq(i64, v, i * 2));
	}
	point3 absent = {1, 1, 1};
	int64_t v = 5;
	cr_assert(not(gomap_access2(m, &absent, &v)));
	cr_assert(eq(i64, v, 0), "absent key must zero the output");
	cr_assert(not(gomap_access2(m, &absent, NULL)), "elem_out may be NULL");
	gomap_free(m);
}

Test(generic, delete_and_overwrite)
{
	gomap *m = gomap_make(&point3_to_i64, 0);
	for (int64_t i = 0; i < 500; i++) {
		point3 k = pt(i);
		gomap_assign(m, &k, &i);
		CHECK_INVARIANTS(m);
	}
	for (int64_t i = 0; i < 500; i += 2) {
		point3 k = pt(i);
		gomap_delete(m, &k);
		CHECK_INVARIANTS(m);
	}
	for (int64_t i = 1; i < 500; i += 2) {
		point3 k = pt(i);
		int64_t v = -i;
		gomap_assign(m, &k, &v);
		CHECK_INVARIANTS(m);
	}
	cr_assert(eq(sz, gomap_len(m), 250));
	for (int64_t i = 0; i < 500; i++) {
		point3 k = pt(i);
		int64_t v;
		bool ok = gomap_access2(m, &k, &v);
		cr_assert(eq(int, ok, i % 2), "presence of key %lld", (long long)i);
		if (ok)
			cr_assert(eq(i64, v, -i));
	}
	gomap_free(m);
}

Test(generic, hash_is_called_with_the_map_seed)
{
	gomap *m = gomap_make(&point3_to_i64, 0);
	point3 k = pt(1);
	int64_t v = 1;
	last_seed_seen = 0;
	gomap_assign(m, &k, &v);
	cr_assert(eq(u64, last_seed_seen, stats_of(m).hash0));
	gomap_free(m);
}

Test(generic, elem_size_zero_is_a_set)
{
	gomap *m = gomap_make(&point3_set, 0);
	char dummy = 0;
	for (int64_t i = 0; i < 1000; i++) {
		point3 k = pt(i);
		gomap_assign(m, &k, &dummy);
		gomap_assign(m, &k, &dummy);
		CHECK_INVARIANTS(m);
	}
	cr_assert(eq(sz, gomap_len(m), 1000));
	for (int64_t i = 0; i < 1200; i++) {
		point3 k = pt(i);
		cr_assert(eq(int, gomap_access2(m, &k, NULL), i < 1000), "membership of %lld",
		          (long long)i);
	}
	int steps = 0;
	gomap_iter it;
	gomap_iter_init(m, &it);
	while (gomap_iter_next(&it)) {
		const point3 *k = it.key;
		cr_assert(k->x >= 0 && k->x < 1000 && k->y == k->x * 31 - 7 && k->z == -k->x);
		steps++;
	}
	cr_assert(eq(int, steps, 1000));
	gomap *c = gomap_clone(m);
	cr_assert(eq(sz, gomap_len(c), 1000));
	CHECK_INVARIANTS(c);
	gomap_free(c);
	for (int64_t i = 0; i < 1000; i++) {
		point3 k = pt(i);
		gomap_delete(m, &k);
	}
	CHECK_INVARIANTS(m);
	cr_assert(eq(sz, gomap_len(m), 0));
	gomap_free(m);
}

/* ---- equality decides, not the bytes -------------------------------------- */

typedef struct tagged {
	int64_t id;
	int64_t scratch; /* ignored by hash and equal */
} tagged;

static uint64_t tagged_hash(const void *key, uint64_t seed)
{
	return gomap_hash64((uint64_t)((const tagged *)key)->id, seed);
}

static bool tagged_equal(const void *a, const void *b)
{
	return ((const tagged *)a)->id == ((const tagged *)b)->id;
}

static const gomap_type tagged_type = {
        .name = "map[tagged]int64",
        .keysize = sizeof(tagged),
        .elemsize = sizeof(int64_t),
        .kind = GOMAP_KEY_GENERIC,
        .hash = tagged_hash,
        .equal = tagged_equal,
};

Test(generic, keys_equal_by_the_type_equality_are_one_key)
{
	gomap *m = gomap_make(&tagged_type, 0);
	tagged a = {7, 100}, b = {7, 999};
	int64_t v1 = 1, v2 = 2, got = 0;
	gomap_assign(m, &a, &v1);
	gomap_assign(m, &b, &v2);
	CHECK_INVARIANTS(m);
	cr_assert(eq(sz, gomap_len(m), 1));
	tagged probe = {7, -5};
	cr_assert(gomap_access2(m, &probe, &got));
	cr_assert(eq(i64, got, 2));
	gomap_delete(m, &probe);
	cr_assert(eq(sz, gomap_len(m), 0));
	gomap_free(m);
}

/* ---- odd sizes -------------------------------------------------------------- */

typedef struct big_elem {
	unsigned char bytes[200];
} big_elem;

static uint64_t bytes3_hash(const void *key, uint64_t seed)
{
	return gomap_memhash(key, 3, seed);
}

static bool bytes3_equal(const void *a, const void *b)
{
	return memcmp(a, b, 3) == 0;
}

Test(generic, unaligned_sizes_and_big_elems_round_trip)
{
	gomap_type t = {
	        .name = "map[[3]byte][200]byte",
	        .keysize = 3,
	        .elemsize = sizeof(big_elem),
	        .kind = GOMAP_KEY_GENERIC,
	        .hash = bytes3_hash,
	        .equal = bytes3_equal,
	};
	gomap *m = gomap_make(&t, 0);
	for (int i = 0; i < 600; i++) {
		unsigned char key[3] = {(unsigned char)i, (unsigned char)(i >> 8), 0x5a};
		big_elem e;
		memset(e.bytes, i & 0xff, sizeof e.bytes);
		e.bytes[199] = 0x77;
		gomap_assign(m, key, &e);
		CHECK_INVARIANTS(m);
	}
	CHECK_INVARIANTS(m);
	for (int i = 0; i < 600; i++) {
		unsigned char key[3] = {(unsigned char)i, (unsigned char)(i >> 8), 0x5a};
		big_elem e;
		cr_assert(gomap_access2(m, key, &e), "key %d", i);
		cr_assert(eq(int, e.bytes[0], i & 0xff));
		cr_assert(eq(int, e.bytes[198], i & 0xff));
		cr_assert(eq(int, e.bytes[199], 0x77));
	}
	gomap_free(m);
}

/* ---- a hash that sends every key to one bucket ------------------------------ */

static uint64_t constant_hash(const void *key, uint64_t seed)
{
	(void)key;
	(void)seed;
	return 0x1234567890abcdefull;
}

static bool i64_equal(const void *a, const void *b)
{
	return *(const int64_t *)a == *(const int64_t *)b;
}

Test(generic, one_long_overflow_chain_still_works)
{
	gomap_type t = {
	        .name = "map[collider]int64",
	        .keysize = 8,
	        .elemsize = 8,
	        .kind = GOMAP_KEY_GENERIC,
	        .hash = constant_hash,
	        .equal = i64_equal,
	};
	gomap *m = gomap_make(&t, 0);
	for (int64_t k = 0; k < 400; k++) {
		int64_t v = k + 1;
		gomap_assign(m, &k, &v);
		CHECK_INVARIANTS(m);
	}
	for (int64_t k = 0; k < 400; k += 3) {
		gomap_delete(m, &k);
		CHECK_INVARIANTS(m);
	}
	for (int64_t k = 0; k < 400; k++) {
		int64_t v = 0;
		bool ok = gomap_access2(m, &k, &v);
		cr_assert(eq(int, ok, k % 3 != 0), "presence of key %lld", (long long)k);
		if (ok)
			cr_assert(eq(i64, v, k + 1));
	}
	int steps = 0;
	gomap_iter it;
	gomap_iter_init(m, &it);
	while (gomap_iter_next(&it))
		steps++;
	cr_assert(eq(int, steps, 400 - 134));
	gomap_free(m);
}

Test(generic, init_helpers_fill_the_type)
{
	gomap_type t;
	gomap_type_init_i64(&t, 0, "map[int64]struct{}");
	cr_assert(eq(int, t.kind, GOMAP_KEY_I64));
	cr_assert(eq(sz, t.keysize, 8));
	cr_assert(eq(sz, t.elemsize, 0));
	gomap_type_init_str(&t, 24, "map[string][24]byte");
	cr_assert(eq(int, t.kind, GOMAP_KEY_STR));
	cr_assert(eq(sz, t.keysize, sizeof(gomap_str)));
	cr_assert(eq(sz, t.elemsize, 24));
	cr_assert(eq(sz, gomap_type_i64_i64.keysize, 8));
	cr_assert(eq(sz, gomap_type_i64_i64.elemsize, 8));
	cr_assert(eq(int, gomap_type_i64_i64.kind, GOMAP_KEY_I64));
	cr_assert(eq(sz, gomap_type_str_i64.keysize, 16));
	cr_assert(eq(int, gomap_type_str_i64.kind, GOMAP_KEY_STR));
}

Test(generic, i64_set_type_through_the_generic_calls)
{
	gomap_type t;
	gomap_type_init_i64(&t, 0, "map[int64]struct{}");
	gomap *m = gomap_make(&t, 0);
	char dummy = 0;
	for (int64_t k = -500; k < 500; k++) {
		gomap_assign(m, &k, &dummy);
		CHECK_INVARIANTS(m);
	}
	for (int64_t k = -600; k < 600; k++)
		cr_assert(eq(int, gomap_access2(m, &k, NULL), k >= -500 && k < 500), "key %lld",
		          (long long)k);
	gomap_free(m);
}
