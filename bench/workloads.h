/*
 * workloads.h -- one round of every workload, for one build of the core.
 *
 * Included by gomap_bench.c once per build of the core, with
 *   GB_API(name)   the name under which that build exports `name`
 *   GB_SUFFIX      a suffix for the functions defined here
 * so that both builds run exactly the same loops, calling their own copy
 * of the map directly (no function pointers inside the timed loops).
 *
 * Needs from the includer: keyset, skey, the W_* indices, now_ns, CHECK.
 */

#define GB_CAT2(a, b) a##_##b
#define GB_CAT(a, b)  GB_CAT2(a, b)
#define GB_FN(name)   GB_CAT(name, GB_SUFFIX)

/* Sums the elems with the core's own iteration (Go: for _, v := range m). */
static int64_t GB_FN(iterate_sum)(gomap *m)
{
	gomap_iter it;
	uint64_t sum = 0;

	GB_API(gomap_iter_init)(m, &it);
	while (GB_API(gomap_iter_next)(&it)) {
		int64_t v;
		memcpy(&v, it.elem, sizeof v);
		sum += (uint64_t)v;
	}
	return (int64_t)sum;
}

/* One round of every workload on int64 keys; adds the elapsed ns to acc. */
static void GB_FN(round_i64)(const keyset *k, uint64_t *acc)
{
	const uint32_t n = k->n;
	const int64_t want = (int64_t)((uint64_t)n * (n + 1) / 2);
	uint64_t t0, found = 0;
	int64_t sum = 0, v;
	gomap *m = GB_API(gomap_make)(&GB_API(gomap_type_i64_i64), 0);

	t0 = now_ns();
	for (uint32_t i = 0; i < n; i++)
		GB_API(gomap_i64_set)(m, k->ins[i], (int64_t)i + 1);
	acc[W_INSERT] += now_ns() - t0;
	CHECK(GB_API(gomap_len)(m) == n, "i64 len after insert");

	t0 = now_ns();
	for (uint32_t i = 0; i < n; i++) {
		if (GB_API(gomap_i64_lookup)(m, k->hit[i], &v)) {
			found++;
			sum += v;
		}
	}
	acc[W_HIT] += now_ns() - t0;
	CHECK(found == n && sum == want, "i64 lookup_hit");

	found = 0;
	t0 = now_ns();
	for (uint32_t i = 0; i < n; i++)
		found += GB_API(gomap_i64_lookup)(m, k->miss[i], &v);
	acc[W_MISS] += now_ns() - t0;
	CHECK(found == 0, "i64 lookup_miss");

	t0 = now_ns();
	sum = GB_FN(iterate_sum)(m);
	acc[W_ITERATE] += now_ns() - t0;
	CHECK(sum == want, "i64 iterate");

	t0 = now_ns();
	for (uint32_t i = 0; i < n; i++)
		GB_API(gomap_i64_delete)(m, k->hit[i]);
	acc[W_DELETE] += now_ns() - t0;
	CHECK(GB_API(gomap_len)(m) == 0, "i64 len after delete");
	GB_API(gomap_free)(m);

	m = GB_API(gomap_make)(&GB_API(gomap_type_i64_i64), n);
	t0 = now_ns();
	for (uint32_t i = 0; i < n; i++)
		GB_API(gomap_i64_set)(m, k->ins[i], (int64_t)i + 1);
	acc[W_INSERT_HINT] += now_ns() - t0;
	CHECK(GB_API(gomap_len)(m) == n && GB_API(gomap_i64_get)(m, k->ins[n - 1]) == (int64_t)n,
	      "i64 insert with hint");
	GB_API(gomap_free)(m);
}

/* The same round on byte-string keys. */
static void GB_FN(round_str)(const keyset *k, uint64_t *acc)
{
	const uint32_t n = k->n;
	const int64_t want = (int64_t)((uint64_t)n * (n + 1) / 2);
	uint64_t t0, found = 0;
	int64_t sum = 0, v;
	gomap *m = GB_API(gomap_make)(&GB_API(gomap_type_str_i64), 0);

	t0 = now_ns();
	for (uint32_t i = 0; i < n; i++)
		GB_API(gomap_str_set)(m, k->s_ins[i].ptr, k->s_ins[i].len, (int64_t)i + 1);
	acc[W_INSERT] += now_ns() - t0;
	CHECK(GB_API(gomap_len)(m) == n, "str len after insert");

	t0 = now_ns();
	for (uint32_t i = 0; i < n; i++) {
		if (GB_API(gomap_str_lookup)(m, k->s_hit[i].ptr, k->s_hit[i].len, &v)) {
			found++;
			sum += v;
		}
	}
	acc[W_HIT] += now_ns() - t0;
	CHECK(found == n && sum == want, "str lookup_hit");

	found = 0;
	t0 = now_ns();
	for (uint32_t i = 0; i < n; i++)
		found += GB_API(gomap_str_lookup)(m, k->s_miss[i].ptr, k->s_miss[i].len, &v);
	acc[W_MISS] += now_ns() - t0;
	CHECK(found == 0, "str lookup_miss");

	t0 = now_ns();
	sum = GB_FN(iterate_sum)(m);
	acc[W_ITERATE] += now_ns() - t0;
	CHECK(sum == want, "str iterate");

	t0 = now_ns();
	for (uint32_t i = 0; i < n; i++)
		GB_API(gomap_str_delete)(m, k->s_hit[i].ptr, k->s_hit[i].len);
	acc[W_DELETE] += now_ns() - t0;
	CHECK(GB_API(gomap_len)(m) == 0, "str len after delete");
	GB_API(gomap_free)(m);

	m = GB_API(gomap_make)(&GB_API(gomap_type_str_i64), n);
	t0 = now_ns();
	for (uint32_t i = 0; i < n; i++)
		GB_API(gomap_str_set)(m, k->s_ins[i].ptr, k->s_ins[i].len, (int64_t)i + 1);
	acc[W_INSERT_HINT] += now_ns() - t0;
	CHECK(GB_API(gomap_len)(m) == n && GB_API(gomap_str_get)(m, k->s_ins[n - 1].ptr,
	                                                         k->s_ins[n - 1].len) == (int64_t)n,
	      "str insert with hint");
	GB_API(gomap_free)(m);
}

#undef GB_FN
#undef GB_CAT
#undef GB_CAT2
