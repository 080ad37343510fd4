/*
 * test_internal_maps.c -- the tests of Go 1.26's Swiss-table map
 * (src/internal/runtime/maps/map_test.go) run against the core's Swiss
 * generation.
 *
 * Built only with GOMAP_GENERATION=swiss (tests/go/CMakeLists.txt). Go's
 * tests drive the package's Map directly and read its tables through
 * export_test.go; these drive the public API and read the same fields
 * through swiss_export.h. One Criterion test per Go test, named after it;
 * Go's subtests are loops here. Go's map[uint32]V and map[big]big are
 * described as generic types hashed as plain bytes, as Go's compiler
 * describes them (memhash). Comparisons use plain > where they need one:
 * Criterion 2.4.1's gt() passes on equal values.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>

#include "go_types.h"
#include "swiss_export.h"

#define CHECK_INVARIANTS(m)                                                                        \
	do {                                                                                       \
		const char *why_ = gomap_check_invariants(m);                                      \
		cr_assert(why_ == NULL, "invariant broken: %s", why_ ? why_ : "");                 \
	} while (0)

/* ---- the key and elem types of Go's tests ------------------------------ */

GO_BYTES_FNS(go_u32, 4)

static gomap_type u32_type(size_t elemsize)
{
	return (gomap_type){.name = elemsize == 8 ? "map[uint32]uint64" : "map[uint32]uint32",
	                    .keysize = 4,
	                    .elemsize = elemsize,
	                    .kind = GOMAP_KEY_GENERIC,
	                    .hash = go_u32_hash,
	                    .equal = go_u32_equal};
}

/* Go: abi.MapMaxKeyBytes + abi.MapMaxElemBytes, the size of TestMapIndirect's
 * `big`: over the limit up to which Go stores keys and elems in the slot. */
enum { BIG = 128 + 128 };
GO_BYTES_FNS(go_big, BIG)

static const gomap_type big_type = {.name = "map[big]big",
                                    .keysize = BIG,
                                    .elemsize = BIG,
                                    .kind = GOMAP_KEY_GENERIC,
                                    .hash = go_big_hash,
                                    .equal = go_big_equal};

static const gomap_type empty_type = {.name = "map[struct{}]struct{}",
                                      .kind = GOMAP_KEY_GENERIC,
                                      .hash = go_empty_hash,
                                      .equal = go_empty_equal};

/* Go's tests put keys 1..n with elems 257..256+n. */
static void put_u32(gomap *m, uint32_t key, uint64_t elem)
{
	gomap_assign(m, &key, &elem);
	CHECK_INVARIANTS(m);
}

static void fill_u32(gomap *m, uint32_t n)
{
	for (uint32_t k = 1; k <= n; k++)
		put_u32(m, k, 256 + k);
}

/* Every key 1..n is there with its elem 256 + k. */
static void expect_u32(gomap *m, uint32_t n)
{
	for (uint32_t k = 1; k <= n; k++) {
		uint64_t got = 0;
		cr_expect(gomap_access2(m, &k, &got), "Get(%u): ok false", k);
		cr_expect(eq(u64, got, 256 + (uint64_t)k), "Get(%u)", k);
	}
}

/* ---- tests ------------------------------------------------------------- */

/* Go: TestCtrlSize. A group's control word holds one byte per slot: the
 * SWAR matching loads it as one 8-byte word for 8 slots. */
Test(internal_maps_test, TestCtrlSize)
{
	unsigned char group[8] = {0};
	cr_assert(eq(sz, sizeof sw_ctrl(group), SW_GROUP_SLOTS));
}

/* Go: TestMapPut. 31 puts into a map made for 8 (a small group, then a
 * table that doubles twice); every key reads back. */
Test(internal_maps_test, TestMapPut)
{
	gomap_type t = u32_type(8);
	gomap *m = gomap_make(&t, 8);
	fill_u32(m, 31);
	cr_assert(eq(sz, gomap_len(m), 31), "Used()");
	expect_u32(m, 31);
	gomap_free(m);
}

/* Go: TestMapSplit. Twice a full table's worth of keys: the table splits. */
Test(internal_maps_test, TestMapSplit)
{
	gomap_type t = u32_type(8);
	gomap *m = gomap_make(&t, 0);
	fill_u32(m, 2 * SW_MAX_TABLE_CAPACITY);
	cr_assert(eq(sz, gomap_len(m), 2 * SW_MAX_TABLE_CAPACITY), "Used()");
	cr_assert(TableCount(m) > 1, "no split happened");
	expect_u32(m, 2 * SW_MAX_TABLE_CAPACITY);
	gomap_free(m);
}

/* Go: TestMapDelete. Deleting every key leaves nothing to find. */
Test(internal_maps_test, TestMapDelete)
{
	gomap_type t = u32_type(8);
	gomap *m = gomap_make(&t, 32);
	fill_u32(m, 31);
	for (uint32_t k = 1; k <= 31; k++) {
		gomap_delete(m, &k);
		CHECK_INVARIANTS(m);
	}
	cr_assert(eq(sz, gomap_len(m), 0), "Used()");
	for (uint32_t k = 1; k <= 31; k++)
		cr_expect(not(gomap_access2(m, &k, NULL)), "Get(%u): ok true", k);
	gomap_free(m);
}

/* Go: TestTableClear. A clear of a table leaves nothing to find. */
Test(internal_maps_test, TestTableClear)
{
	gomap_type t = u32_type(8);
	gomap *m = gomap_make(&t, 32);
	fill_u32(m, 31);
	gomap_clear(m);
	CHECK_INVARIANTS(m);
	cr_assert(eq(sz, gomap_len(m), 0), "Used()");
	for (uint32_t k = 1; k <= 31; k++)
		cr_expect(not(gomap_access2(m, &k, NULL)), "Get(%u): ok true", k);
	gomap_free(m);
}

/* Go: TestTableKeyUpdate. Overwriting +0 with -0 finds the one entry and
 * must store the new key's bytes too: the sign shows in iteration. */
Test(internal_maps_test, TestTableKeyUpdate)
{
	gomap_type t = go_f64_type(8);
	gomap *m = gomap_make(&t, 8);
	double zero = 0.0, negzero = go_negzero();
	uint64_t elem = 0;
	gomap_assign(m, &zero, &elem);
	elem = 1;
	gomap_assign(m, &negzero, &elem);
	CHECK_INVARIANTS(m);
	cr_assert(eq(sz, gomap_len(m), 1), "Used()");
	gomap_iter it;
	gomap_iter_init(m, &it);
	cr_assert(gomap_iter_next(&it), "no entry");
	cr_expect(go_signbit(*(const double *)it.key), "map key has positive sign");
	cr_expect(eq(u64, *(const uint64_t *)it.elem, 1), "map elem");
	gomap_free(m);
}

/* Go: TestTablePutDelete. A put reuses the first deleted slot on its probe
 * path instead of an empty one: deleting a key from a full group leaves a
 * tombstone, and putting the key back takes it without spending
 * growthLeft or growing the table. */
Test(internal_maps_test, TestTablePutDelete)
{
	gomap_type t = u32_type(4);
	gomap *m = gomap_make(&t, 16); /* a table from the start */
	uint32_t key = 0, elem;
	const void *full;
	/* Put until some group is full (it may hold any keys: a grow
	 * rebuilds the table, so the last key put need not be in it). */
	do {
		key++;
		elem = 256 + key;
		gomap_assign(m, &key, &elem);
		CHECK_INVARIANTS(m);
		cr_assert(lt(u32, key, 100000), "no group ever filled");
	} while ((full = KeyFromFullGroup(m)) == NULL);
	memcpy(&key, full, 4);
	elem = 256 + key;

	gomap_delete(m, &key);
	CHECK_INVARIANTS(m);
	sw_table *want = TableFor(m, &key);
	uint64_t growthLeftWant = GrowthLeft(want);
	uint64_t tables = TablesAllocated(m);

	gomap_assign(m, &key, &elem);
	CHECK_INVARIANTS(m);
	sw_table *got = TableFor(m, &key);
	cr_expect(eq(ptr, got, want), "Put(%u) grew the table", key);
	cr_expect(eq(u64, TablesAllocated(m), tables), "Put(%u) made a table", key);
	cr_expect(eq(u64, GrowthLeft(got), growthLeftWant), "GrowthLeft after Put(%u)", key);
	gomap_free(m);
}

/* Collects one iteration into got[key] (0 = not produced). */
static void iterate_u32(gomap *m, uint64_t *got, size_t n)
{
	gomap_iter it;
	for (gomap_iter_init(m, &it); gomap_iter_next(&it);) {
		uint32_t k;
		memcpy(&k, it.key, 4);
		cr_assert(lt(u32, k, n), "key %u was never put", k);
		cr_assert(eq(u64, got[k], 0), "key %u produced twice", k);
		memcpy(&got[k], it.elem, 8);
	}
}

/* Go: TestTableIteration. An iteration produces every entry with its
 * elem. */
Test(internal_maps_test, TestTableIteration)
{
	gomap_type t = u32_type(8);
	gomap *m = gomap_make(&t, 8);
	fill_u32(m, 31);
	uint64_t got[32] = {0};
	iterate_u32(m, got, 32);
	size_t n = 0;
	for (uint32_t k = 1; k <= 31; k++) {
		cr_expect(eq(u64, got[k], 256 + (uint64_t)k), "iteration key %u", k);
		n += got[k] != 0;
	}
	cr_expect(eq(sz, n, 31), "iteration entries");
	gomap_free(m);
}

/* Go: TestTableIterationDelete and TestTableIterationGrowDelete. After
 * the first entry, delete another key (and, with `grow`, first put 31 more
 * keys, which grows the table under the iterator): the deleted key is
 * never produced, every other original key is, with its elem. */
static void iteration_delete(bool grow)
{
	gomap_type t = u32_type(8);
	gomap *m = gomap_make(&t, 8);
	fill_u32(m, 31);
	uint64_t got[64] = {0};
	uint32_t deleted = 1;
	bool first = true;
	size_t tables = TablesAllocated(m);
	gomap_iter it;
	for (gomap_iter_init(m, &it); gomap_iter_next(&it);) {
		uint32_t k;
		memcpy(&k, it.key, 4);
		cr_assert(lt(u32, k, 64), "key %u was never put", k);
		cr_assert(eq(u64, got[k], 0), "key %u produced twice", k);
		memcpy(&got[k], it.elem, 8);
		if (!first)
			continue;
		first = false;
		if (k == deleted)
			deleted++; /* already produced: delete another one */
		if (grow) {
			for (uint32_t n = 33; n <= 63; n++)
				put_u32(m, n, 256 + n);
			cr_assert(TablesAllocated(m) > tables, "the puts did not grow");
		}
		gomap_delete(m, &deleted);
		CHECK_INVARIANTS(m);
	}
	if (!grow) {
		size_t n = 0;
		for (uint32_t k = 0; k < 64; k++)
			n += got[k] != 0;
		cr_expect(eq(sz, n, 30), "iteration entries");
	}
	/* Entries put during the iteration may or may not come: only the
	 * original ones are checked. */
	for (uint32_t k = 1; k <= 31; k++) {
		if (k == deleted)
			cr_expect(eq(u64, got[k], 0), "deleted key %u produced", k);
		else
			cr_expect(eq(u64, got[k], 256 + (uint64_t)k), "iteration key %u", k);
	}
	gomap_free(m);
}

Test(internal_maps_test, TestTableIterationDelete)
{
	iteration_delete(false);
}

Test(internal_maps_test, TestTableIterationGrowDelete)
{
	iteration_delete(true);
}

/* Go: testTableIterationGrowDuplicate. Halfway through an iteration, put
 * `grow` more keys: no key may come twice, and each with its own elem. */
static void iteration_grow_duplicate(uint32_t grow)
{
	gomap_type t = u32_type(8);
	gomap *m = gomap_make(&t, 8);
	fill_u32(m, 31);
	size_t n = 32 + grow + 1;
	bool *seen = calloc(n, sizeof *seen);
	size_t tables = TablesAllocated(m);
	gomap_iter it;
	int i = 0;
	for (gomap_iter_init(m, &it); gomap_iter_next(&it); i++) {
		uint32_t k;
		uint64_t e;
		memcpy(&k, it.key, 4);
		memcpy(&e, it.elem, 8);
		cr_assert(lt(sz, k, n), "key %u was never put", k);
		cr_expect(eq(u64, e, 256 + (uint64_t)k), "key %u", k);
		cr_assert(not(seen[k]), "key %u produced twice", k);
		seen[k] = true;
		if (i == 16) {
			for (uint32_t j = 33; j < 33 + grow; j++)
				put_u32(m, j, 256 + j);
			cr_assert(TablesAllocated(m) > tables, "the puts did not grow");
		}
	}
	free(seen);
	gomap_free(m);
}

/* Go: TestTableIterationGrowDuplicate, subtests "grow" (a table doubling)
 * and "split" (table splits). */
Test(internal_maps_test, TestTableIterationGrowDuplicate)
{
	iteration_grow_duplicate(32);
	iteration_grow_duplicate(2 * SW_MAX_TABLE_CAPACITY);
}

/* Go: TestAlignUpPow2. */
Test(internal_maps_test, TestAlignUpPow2)
{
	static const struct {
		uint64_t in, want;
		bool overflow;
	} cases[] = {
	        {0, 0, false},
	        {3, 4, false},
	        {4, 4, false},
	        {(uint64_t)1 << 63, (uint64_t)1 << 63, false},
	        {((uint64_t)1 << 63) - 1, (uint64_t)1 << 63, false},
	        {((uint64_t)1 << 63) + 1, 0, true},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bool overflow = !cases[i].overflow;
		uint64_t got = sw_align_up_pow2(cases[i].in, &overflow);
		cr_expect(eq(u64, got, cases[i].want), "alignUpPow2(%#llx)",
		          (unsigned long long)cases[i].in);
		cr_expect(eq(int, overflow, cases[i].overflow), "alignUpPow2(%#llx) overflow",
		          (unsigned long long)cases[i].in);
	}
}

/* Go: TestMapZeroSizeSlot. With key and elem of size 0 every slot is at
 * the end of its group's control word; a pointer to a slot of the last
 * group must still point into the groups' memory. Go checks its one key
 * once; the key lands in a random group of four, so this makes maps until
 * it has seen the key in every group (a bounded number of tries). */
Test(internal_maps_test, TestMapZeroSizeSlot)
{
	bool group_seen[4] = {false};
	int groups_seen = 0;
	for (int try = 0; try < 1000 && groups_seen < 4; try++) {
		gomap *m = gomap_make(&empty_type, 16); /* a table of 4 groups */
		gomap_assign(m, NULL, NULL);
		CHECK_INVARIANTS(m);
		cr_assert(gomap_access2(m, NULL, NULL), "Get: ok false");
		cr_assert(eq(u64, GroupsLength(TableFor(m, NULL)), 4));
		gomap_iter it;
		gomap_iter_init(m, &it);
		cr_assert(gomap_iter_next(&it), "no entry");
		sw_table *tab = TableFor(m, NULL);
		const char *start = GroupsStart(tab);
		const char *end = start + GroupsLength(tab) * GroupSize(m) - 1; /* inclusive */
		const char *got = it.elem;
		cr_assert(got >= start && got <= end,
		          "elem address outside the groups' memory: %p not in [%p, %p]",
		          (const void *)got, (const void *)start, (const void *)end);
		size_t g = (size_t)(got - start) / GroupSize(m);
		if (g < 4 && !group_seen[g]) {
			group_seen[g] = true;
			groups_seen++;
		}
		gomap_free(m);
	}
	cr_expect(eq(int, groups_seen, 4), "the key never landed in some group");
}

/* Go: TestMapIndirect. Keys and elems over Go's inline limit (Go stores
 * them through pointers; the core in the slot) round-trip. */
Test(internal_maps_test, TestMapIndirect)
{
	gomap *m = gomap_make(&big_type, 8);
	unsigned char key[BIG] = {0}, elem[BIG] = {0}, got[BIG];
	elem[0] = 128;
	for (int i = 0; i < 31; i++) {
		key[0]++;
		elem[0]++;
		gomap_assign(m, key, elem);
		CHECK_INVARIANTS(m);
	}
	cr_assert(eq(sz, gomap_len(m), 31), "Used()");
	memset(key, 0, BIG);
	memset(elem, 0, BIG);
	elem[0] = 128;
	for (int i = 0; i < 31; i++) {
		key[0]++;
		elem[0]++;
		cr_expect(gomap_access2(m, key, got), "Get(%d): ok false", key[0]);
		cr_expect(eq(int, memcmp(got, elem, BIG), 0), "Get(%d) elem", key[0]);
	}
	gomap_free(m);
}

/* Go: TestMapDeleteClear (Go issue 25936). A delete zeroes the elem in
 * its slot, so the map keeps nothing the entry referred to. The slot is
 * reached through an iterator, whose elem points into it. */
Test(internal_maps_test, TestMapDeleteClear)
{
	gomap *m = gomap_make(&gomap_type_i64_i64, 8);
	int64_t key = 0, elem = 128;
	gomap_assign(m, &key, &elem);
	cr_assert(eq(i64, gomap_i64_get(m, key), elem), "Get(0)");
	gomap_iter it;
	gomap_iter_init(m, &it);
	cr_assert(gomap_iter_next(&it), "no entry");
	const int64_t *slot = it.elem;
	cr_assert(eq(i64, *slot, elem), "the iterator's elem");
	gomap_delete(m, &key);
	CHECK_INVARIANTS(m);
	cr_expect(eq(i64, *slot, 0), "Delete(0) did not clear the elem");
	gomap_free(m);
}

/* Go: TestTableGroupCount. The directory entries and groups of a
 * map[int]int before and after putting n entries, for maps made without
 * a hint and with hint n. Go's "mapliteral" and "makemap64" rows are the
 * same calls here as "nohint" and "makemap"; a negative n is a hint
 * C sees as a huge size_t, which is ignored. */
typedef struct {
	size_t tables;
	uint64_t groups;
} map_count;

static void check_count(gomap *m, map_count want, const char *when, const char *how, long n)
{
	cr_expect(eq(sz, TableCount(m), want.tables), "%s %s n=%ld: TableCount", how, when, n);
	cr_expect(eq(u64, GroupCount(m), want.groups), "%s %s n=%ld: GroupCount", how, when, n);
}

Test(internal_maps_test, TestTableGroupCount)
{
	enum {
		belowMax = SW_GROUP_SLOTS * 3 / 2, /* 2 groups at 75% */
		atMax = 2 * SW_GROUP_SLOTS * SW_MAX_AVG_GROUP_LOAD / SW_GROUP_SLOTS, /* 2 at 7/8 */
	};
	static const struct {
		long n;
		map_count initialLit, initialHint, after;
	} cases[] = {
	        {-(1L << 30), {0, 0}, {0, 0}, {0, 0}},
	        {-1, {0, 0}, {0, 0}, {0, 0}},
	        {0, {0, 0}, {0, 0}, {0, 0}},
	        {1, {0, 0}, {0, 0}, {0, 1}},
	        {SW_GROUP_SLOTS, {0, 0}, {0, 0}, {0, 1}},
	        {SW_GROUP_SLOTS + 1, {0, 0}, {1, 2}, {1, 2}},
	        {belowMax, {0, 0}, {1, 2}, {1, 2}},
	        {atMax, {0, 0}, {1, 2}, {1, 2}},
	        {atMax + 1, {0, 0}, {1, 4}, {1, 4}},
	        {2 * belowMax, {0, 0}, {1, 4}, {1, 4}},
	        {2 * atMax + 1, {0, 0}, {1, 8}, {1, 8}},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (int hinted = 0; hinted < 2; hinted++) {
			long n = cases[i].n;
			const char *how = hinted ? "makemap" : "nohint";
			gomap *m = gomap_make(&gomap_type_i64_i64, hinted ? (size_t)n : 0);
			check_count(m, hinted ? cases[i].initialHint : cases[i].initialLit,
			            "initial", how, n);
			for (long k = 0; k < n; k++)
				gomap_i64_set(m, k, k);
			CHECK_INVARIANTS(m);
			check_count(m, cases[i].after, "after", how, n);
			gomap_free(m);
		}
	}
}

/* Go: TestTombstoneGrow (Go issue 70886). A map kept at a constant size
 * by deleting one entry and putting a new key, 100000 times, must not
 * keep growing on the tombstones the deletes leave: pruning them has to
 * make room. Go counts allocations (4 for the make, 2 per table grow) and
 * allows one grow, two if the map starts full; the core counts tables. */
Test(internal_maps_test, TestTombstoneGrow)
{
	static const int sizes[] = {16, 32, 64, 128, 256};
	static const char *const loads[] = {"low", "mid", "high"};
	for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
		for (int load = 0; load < 3; load++) {
			int capacity = sizes[si] * 7 / 8;
			int initial = load == 0   ? capacity / 8
			              : load == 1 ? capacity / 2
			                          : capacity;
			gomap *m = gomap_make(&gomap_type_i64_i64, (size_t)capacity);
			uint64_t made = TablesAllocated(m);
			for (int k = 0; k < initial; k++)
				gomap_i64_set(m, k, k);
			int64_t next = initial;
			for (int round = 0; round < 100000; round++) {
				gomap_iter it;
				gomap_iter_init(m, &it);
				if (gomap_iter_next(&it))
					gomap_i64_delete(m, *(const int64_t *)it.key);
				gomap_i64_set(m, next, next);
				next++;
				cr_assert(eq(sz, gomap_len(m), (size_t)initial),
				          "len(m) should remain constant");
			}
			CHECK_INVARIANTS(m);
			uint64_t allowed = 1 + (initial == capacity);
			cr_expect(le(u64, TablesAllocated(m) - made, allowed),
			          "tableSize=%d elems=%d load=%s: %llu grows, allowed %llu",
			          sizes[si], initial, loads[load],
			          (unsigned long long)(TablesAllocated(m) - made),
			          (unsigned long long)allowed);
			gomap_free(m);
		}
	}
}

/* Go: TestGroupSizeZero (runtime/map_test.go, Go 1.24 and later). A group
 * of map[struct{}]struct{} has slots of size 0 but must still be larger
 * than its control word, so that a pointer to a slot of the last group
 * points into the groups' memory (see TestMapZeroSizeSlot). */
Test(internal_maps_test, TestGroupSizeZero)
{
	gomap *m = gomap_make(&empty_type, 0);
	cr_expect(GroupSize(m) > 8, "group size %zu, want more than 8", GroupSize(m));
	gomap_free(m);
}
