/*
 * test_str.c -- string keys (Go: map_faststr.go). The map copies a new
 * key's bytes, so the caller may reuse or free its buffer at once; keys are
 * byte strings with a length, so embedded NULs are ordinary bytes.
 */
#include "test_util.h"

static int64_t get(gomap *m, const char *k, size_t len)
{
	int64_t v = -1;
	cr_assert(gomap_str_lookup(m, k, len, &v), "key of %zu bytes missing", len);
	return v;
}

static bool has(gomap *m, const char *k, size_t len)
{
	int64_t v;
	return gomap_str_lookup(m, k, len, &v);
}

Test(str, caller_buffer_can_be_reused_at_once)
{
	gomap *m = gomap_make(&gomap_type_str_i64, 0);
	char buf[32];
	for (int i = 0; i < 1000; i++) {
		int n = snprintf(buf, sizeof buf, "reused-%d", i);
		set_str(m, buf, (size_t)n, i);
		memset(buf, 'X', sizeof buf);
	}
	cr_assert(eq(sz, gomap_len(m), 1000));
	for (int i = 0; i < 1000; i++) {
		int n = snprintf(buf, sizeof buf, "reused-%d", i);
		cr_assert(eq(i64, get(m, buf, (size_t)n), i));
	}
	cr_assert(not(has(m, "XXXXXXXX", 8)));
	gomap_free(m);
}

Test(str, caller_buffer_can_be_freed_at_once)
{
	gomap *m = gomap_make(&gomap_type_str_i64, 0);
	for (int i = 0; i < 200; i++) {
		char *heap = malloc(40);
		int n = snprintf(heap, 40, "heap key %d", i);
		set_str(m, heap, (size_t)n, i);
		free(heap);
	}
	char buf[40];
	for (int i = 0; i < 200; i++) {
		int n = snprintf(buf, sizeof buf, "heap key %d", i);
		cr_assert(eq(i64, get(m, buf, (size_t)n), i));
	}
	gomap_free(m);
}

Test(str, iteration_keys_point_at_the_map_copy)
{
	gomap *m = gomap_make(&gomap_type_str_i64, 0);
	char buf[16] = "abcdef";
	set_str(m, buf, 6, 1);
	gomap_iter it;
	gomap_iter_init(m, &it);
	cr_assert(gomap_iter_next(&it));
	const gomap_str *k = it.key;
	cr_assert(k->ptr != buf, "the map kept the caller's pointer");
	cr_assert(eq(sz, k->len, 6));
	cr_assert(memcmp(k->ptr, "abcdef", 6) == 0);
	cr_assert(not(gomap_iter_next(&it)));
	gomap_free(m);
}

Test(str, embedded_nuls_are_ordinary_bytes)
{
	gomap *m = gomap_make(&gomap_type_str_i64, 0);
	set_str(m, "a\0b", 3, 1);
	set_str(m, "a\0c", 3, 2);
	set_str(m, "a", 1, 3);
	set_str(m, "a\0", 2, 4);
	set_str(m, "\0", 1, 5);
	set_str(m, "\0\0", 2, 6);
	cr_assert(eq(sz, gomap_len(m), 6));
	cr_assert(eq(i64, get(m, "a\0b", 3), 1));
	cr_assert(eq(i64, get(m, "a\0c", 3), 2));
	cr_assert(eq(i64, get(m, "a", 1), 3));
	cr_assert(eq(i64, get(m, "a\0", 2), 4));
	cr_assert(eq(i64, get(m, "\0", 1), 5));
	cr_assert(eq(i64, get(m, "\0\0", 2), 6));
	cr_assert(not(has(m, "a\0d", 3)));
	cr_assert(not(has(m, "", 0)));
	del_str(m, "a\0", 2);
	cr_assert(not(has(m, "a\0", 2)));
	cr_assert(eq(i64, get(m, "a", 1), 3));
	cr_assert(eq(i64, get(m, "a\0b", 3), 1));
	gomap_free(m);
}

Test(str, the_empty_string_is_a_key)
{
	gomap *m = gomap_make(&gomap_type_str_i64, 0);
	cr_assert(not(has(m, "", 0)));
	set_str(m, "", 0, 42);
	cr_assert(eq(i64, get(m, "", 0), 42));
	cr_assert(eq(i64, get(m, "unused", 0), 42), "only the length counts for \"\"");
	cr_assert(eq(sz, gomap_len(m), 1));
	del_str(m, "", 0);
	cr_assert(eq(sz, gomap_len(m), 0));
	gomap_free(m);
}

Test(str, long_keys_differing_in_their_last_byte)
{
	enum { LEN = 4096 };
	char *a = malloc(LEN), *b = malloc(LEN);
	memset(a, 'q', LEN);
	memset(b, 'q', LEN);
	b[LEN - 1] = 'r';
	gomap *m = gomap_make(&gomap_type_str_i64, 0);
	set_str(m, a, LEN, 1);
	set_str(m, b, LEN, 2);
	set_str(m, a, LEN - 1, 3); /* a prefix of both */
	cr_assert(eq(sz, gomap_len(m), 3));
	cr_assert(eq(i64, get(m, a, LEN), 1));
	cr_assert(eq(i64, get(m, b, LEN), 2));
	cr_assert(eq(i64, get(m, b, LEN - 1), 3));
	free(a);
	free(b);
	gomap_free(m);
}

/* A slot keeps a key's length only up to 65534 and reads longer ones from
 * the key's record (internal.h, invariant 6): keys on both sides of that
 * cap, and keys that agree in their first 65535 bytes, stay apart. */
Test(str, keys_around_the_inline_length_cap)
{
	static const size_t lens[] = {65534, 65535, 65536, 65537, 200000};
	enum { NLENS = sizeof lens / sizeof lens[0] };
	char *a = malloc(200000);
	memset(a, 'z', 200000);
	gomap *m = gomap_make(&gomap_type_str_i64, 0);
	for (int i = 0; i < NLENS; i++)
		set_str(m, a, lens[i], i);
	cr_assert(eq(sz, gomap_len(m), NLENS));
	for (int i = 0; i < NLENS; i++)
		cr_assert(eq(i64, get(m, a, lens[i]), i));
	cr_assert(not(has(m, a, 65538)));
	gomap_iter it;
	int seen = 0;
	gomap_iter_init(m, &it);
	while (gomap_iter_next(&it)) {
		const gomap_str *k = it.key;
		int64_t v;
		memcpy(&v, it.elem, sizeof v);
		cr_assert(eq(sz, k->len, lens[v]), "iteration gave the wrong length");
		seen++;
	}
	cr_assert(eq(int, seen, NLENS));
	del_str(m, a, 65536);
	cr_assert(not(has(m, a, 65536)));
	cr_assert(eq(i64, get(m, a, 65537), 3));
	free(a);
	gomap_free(m);
}

Test(str, same_bytes_from_another_buffer_overwrite)
{
	gomap *m = gomap_make(&gomap_type_str_i64, 0);
	char one[8] = "key", two[8] = "key";
	set_str(m, one, 3, 1);
	set_str(m, two, 3, 2);
	cr_assert(eq(sz, gomap_len(m), 1));
	cr_assert(eq(i64, get(m, one, 3), 2));
	del_str(m, two, 3);
	cr_assert(eq(sz, gomap_len(m), 0));
	gomap_free(m);
}

Test(str, typed_and_generic_calls_agree)
{
	gomap *m = gomap_make(&gomap_type_str_i64, 0);
	gomap_str k = {"generic", 7};
	int64_t v = 9, out = 0;
	gomap_assign(m, &k, &v);
	CHECK_INVARIANTS(m);
	cr_assert(eq(i64, gomap_str_get(m, "generic", 7), 9));
	set_str(m, "typed", 5, 11);
	gomap_str t = {"typed", 5};
	cr_assert(gomap_access2(m, &t, &out));
	cr_assert(eq(i64, out, 11));
	gomap_delete(m, &k);
	CHECK_INVARIANTS(m);
	cr_assert(not(has(m, "generic", 7)));
	gomap_free(m);
}

Test(str, absent_lookup_zeroes_the_value)
{
	gomap *m = gomap_make(&gomap_type_str_i64, 0);
	set_str(m, "x", 1, 5);
	int64_t v = 77;
	cr_assert(not(gomap_str_lookup(m, "y", 1, &v)));
	cr_assert(eq(i64, v, 0), "v, ok := m[k] gives the zero value");
	cr_assert(eq(i64, gomap_str_get(m, "y", 1), 0));
	gomap_free(m);
}

Test(str, string_set_with_other_elem_sizes)
{
	gomap_type set_type, wide_type;
	gomap_type_init_str(&set_type, 0, "map[string]struct{}");
	gomap_type_init_str(&wide_type, 24, "map[string][24]byte");
	gomap *set = gomap_make(&set_type, 0);
	gomap *wide = gomap_make(&wide_type, 0);
	char buf[32], dummy = 0;
	for (int i = 0; i < 300; i++) {
		gomap_str k = {buf, (size_t)snprintf(buf, sizeof buf, "member %d", i)};
		gomap_assign(set, &k, &dummy);
		char elem[24];
		memset(elem, i & 0x7f, sizeof elem);
		gomap_assign(wide, &k, elem);
		memset(buf, 0, sizeof buf);
	}
	CHECK_INVARIANTS(set);
	CHECK_INVARIANTS(wide);
	for (int i = 0; i < 300; i++) {
		gomap_str k = {buf, (size_t)snprintf(buf, sizeof buf, "member %d", i)};
		cr_assert(gomap_access2(set, &k, NULL), "member %d", i);
		char elem[24];
		cr_assert(gomap_access2(wide, &k, elem));
		cr_assert(eq(int, elem[0], i & 0x7f));
		cr_assert(eq(int, elem[23], i & 0x7f));
	}
	gomap_free(set);
	gomap_free(wide);
}

Test(str, many_keys_with_shared_prefixes)
{
	gomap *m = gomap_make(&gomap_type_str_i64, 0);
	char buf[64];
	memset(buf, 'p', sizeof buf);
	/* Keys "", "p", "pp", ... and each with one byte changed. */
	for (int len = 0; len < 64; len++) {
		set_str(m, buf, (size_t)len, len);
		if (len > 0) {
			buf[len - 1] = 'z';
			set_str(m, buf, (size_t)len, 1000 + len);
			buf[len - 1] = 'p';
		}
	}
	cr_assert(eq(sz, gomap_len(m), 64 + 63));
	for (int len = 0; len < 64; len++) {
		cr_assert(eq(i64, get(m, buf, (size_t)len), len));
		if (len > 0) {
			buf[len - 1] = 'z';
			cr_assert(eq(i64, get(m, buf, (size_t)len), 1000 + len));
			buf[len - 1] = 'p';
		}
	}
	gomap_free(m);
}
