/*
 * test_differential.c -- millions of random operations, each checked against
 * a plain reference map.
 *
 * The reference is as simple as a map can be: a fixed domain of distinct
 * keys, and for each domain index a "present" flag and a value. The random
 * walk changes its target population now and then (down to zero, so the
 * emptying delete and re-seeding happen; up to thousands, so the table
 * grows several times), and besides assign, delete and lookups it runs
 * whole iterations (some deleting, inserting and overwriting while they
 * run), clones and clears. The invariant walker runs every few hundred
 * operations and after every iteration, clone and clear.
 *
 * Seeds are fixed for reproducibility; GOMAP_TEST_SEED overrides them. A
 * failure message names the seed and the operation number.
 */
#include "test_util.h"

#define DOMAIN 4096

/* ---- the map under test, seen through one small interface -------------- */

typedef struct subject {
	gomap *m;
	const char *what;
	int64_t (*key_index)(const void *key); /* domain index of a stored key */
	void (*set)(struct subject *s, int idx, int64_t v);
	bool (*lookup)(struct subject *s, int idx, int64_t *v); /* v may be NULL */
	void (*del)(struct subject *s, int idx);
	bool has_elem; /* false for a set (elem size 0) */
} subject;

typedef struct reference {
	bool present[DOMAIN];
	int64_t val[DOMAIN];
	size_t count;
} reference;

typedef struct walk {
	subject *s;
	reference ref;
	uint64_t seed, rng;
	long op;   /* number of the current operation, for messages */
	int range; /* indices in use: [0, range) */
	size_t target;
	bool fifo;     /* this phase inserts fresh keys and deletes the oldest */
	unsigned head; /* the next fresh index of a fifo phase (mod DOMAIN) */
} walk;

static unsigned rnd(walk *w, unsigned n)
{
	return (unsigned)(rng_next(&w->rng) % n);
}

#define CTX        "(%s, seed %llu, op %ld)"
#define CTXARGS(w) (w)->s->what, (unsigned long long)(w)->seed, (w)->op

static void check_invariants(walk *w, gomap *m)
{
	const char *why = gomap_check_invariants(m);
	cr_assert(why == NULL, "invariant broken: %s " CTX, why ? why : "", CTXARGS(w));
}

static void ref_set(walk *w, int idx, int64_t v)
{
	if (!w->ref.present[idx])
		w->ref.count++;
	w->ref.present[idx] = true;
	w->ref.val[idx] = v;
}

static void ref_del(walk *w, int idx)
{
	if (w->ref.present[idx])
		w->ref.count--;
	w->ref.present[idx] = false;
}

static void do_set(walk *w, int idx)
{
	int64_t v = (int64_t)rng_next(&w->rng);
	w->s->set(w->s, idx, v);
	ref_set(w, idx, w->s->has_elem ? v : 0);
}

static void do_del(walk *w, int idx)
{
	w->s->del(w->s, idx);
	ref_del(w, idx);
}

static void do_lookup(walk *w, int idx)
{
	int64_t v = 12345;
	bool ok = w->s->lookup(w->s, idx, &v);
	cr_assert(eq(int, ok, w->ref.present[idx]), "presence of index %d " CTX, idx, CTXARGS(w));
	if (w->s->has_elem)
		cr_assert(eq(i64, v, w->ref.present[idx] ? w->ref.val[idx] : 0),
		          "value of index %d " CTX, idx, CTXARGS(w));
}

/* Compares a whole map with the reference through one full iteration. */
static void compare_all(walk *w, gomap *m)
{
	static unsigned char seen[DOMAIN];
	memset(seen, 0, sizeof seen);
	cr_assert(eq(sz, gomap_len(m), w->ref.count), "len " CTX, CTXARGS(w));
	gomap_iter it;
	gomap_iter_init(m, &it);
	size_t steps = 0;
	while (gomap_iter_next(&it)) {
		int64_t idx = w->s->key_index(it.key);
		cr_assert(idx >= 0 && idx < DOMAIN, "foreign key " CTX, CTXARGS(w));
		cr_assert(eq(int, seen[idx], 0), "index %lld visited twice " CTX, (long long)idx,
		          CTXARGS(w));
		seen[idx] = 1;
		cr_assert(w->ref.present[idx], "index %lld should be absent " CTX, (long long)idx,
		          CTXARGS(w));
		if (w->s->has_elem) {
			int64_t v;
			memcpy(&v, it.elem, sizeof v);
			cr_assert(eq(i64, v, w->ref.val[idx]), "value of index %lld " CTX,
			          (long long)idx, CTXARGS(w));
		}
		steps++;
	}
	cr_assert(eq(sz, steps, w->ref.count), "entries visited " CTX, CTXARGS(w));
}

/* One iteration that mutates the map while it runs: each step may delete,
 * insert or overwrite. Checks Go's rules: an entry present throughout is
 * visited exactly once with its current value; one deleted before it is
 * reached is not visited; one inserted during the iteration at most once. */
static void mutating_iteration(walk *w, bool inserts)
{
	static unsigned char at_start[DOMAIN], deleted[DOMAIN], inserted[DOMAIN], seen[DOMAIN];
	for (int i = 0; i < DOMAIN; i++) {
		at_start[i] = w->ref.present[i];
		deleted[i] = inserted[i] = seen[i] = 0;
	}
	gomap_iter it;
	gomap_iter_init(w->s->m, &it);
	long step = 0;
	while (gomap_iter_next(&it)) {
		int64_t idx = w->s->key_index(it.key);
		cr_assert(idx >= 0 && idx < DOMAIN, "foreign key " CTX, CTXARGS(w));
		cr_assert(eq(int, seen[idx], 0), "index %lld visited twice " CTX, (long long)idx,
		          CTXARGS(w));
		cr_assert(not(deleted[idx]), "index %lld visited after its delete " CTX,
		          (long long)idx, CTXARGS(w));
		cr_assert(at_start[idx] || inserted[idx], "index %lld came from nowhere " CTX,
		          (long long)idx, CTXARGS(w));
		if (w->s->has_elem) {
			int64_t v;
			memcpy(&v, it.elem, sizeof v);
			cr_assert(eq(i64, v, w->ref.val[idx]), "value of index %lld " CTX,
			          (long long)idx, CTXARGS(w));
		}
		seen[idx] = 1;
		/* it.key and it.elem are not used after this point. About 32
		 * mutations per iteration, whatever the size of the map, so
		 * iterations do not drain big maps. */
		unsigned r = rnd(w, (unsigned)(w->ref.count + 32) * 4 / 32);
		int other = (int)rnd(w, (unsigned)w->range);
		if (r == 0) {
			do_del(w, (int)idx);
			deleted[idx] = 1;
		} else if (r == 1 && w->ref.present[other]) {
			do_del(w, other);
			deleted[other] = 1;
		} else if (r == 2 && inserts && !w->ref.present[other] && !deleted[other]) {
			do_set(w, other);
			inserted[other] = 1;
		} else if (r == 3 && w->ref.present[other] && !deleted[other]) {
			do_set(w, other); /* overwrite: must show when reached */
		}
		if (++step % 512 == 0)
			check_invariants(w, w->s->m);
	}
	for (int i = 0; i < DOMAIN; i++)
		if (at_start[i] && !deleted[i])
			cr_assert(seen[i], "index %d was present throughout but not visited " CTX,
			          i, CTXARGS(w));
	check_invariants(w, w->s->m);
}

static void clone_and_compare(walk *w)
{
	gomap *c = gomap_clone(w->s->m);
	cr_assert(c != NULL, "clone returned nil " CTX, CTXARGS(w));
	check_invariants(w, c);
	compare_all(w, c);
	/* Writing the clone must leave the source alone. */
	gomap *source = w->s->m;
	w->s->m = c;
	int idx = (int)rnd(w, (unsigned)w->range);
	bool was = w->ref.present[idx];
	int64_t old = w->ref.val[idx];
	if (was)
		w->s->del(w->s, idx);
	else
		w->s->set(w->s, idx, 1);
	check_invariants(w, c);
	w->s->m = source;
	int64_t v = 0;
	cr_assert(eq(int, w->s->lookup(w->s, idx, &v), was), "source changed by its clone " CTX,
	          CTXARGS(w));
	if (was && w->s->has_elem)
		cr_assert(eq(i64, v, old), "source value changed by its clone " CTX, CTXARGS(w));
	gomap_free(c);
}

static void do_clear(walk *w)
{
	gomap_clear(w->s->m);
	for (int i = 0; i < DOMAIN; i++)
		w->ref.present[i] = false;
	w->ref.count = 0;
	check_invariants(w, w->s->m);
	cr_assert(eq(sz, gomap_len(w->s->m), 0), "len after clear " CTX, CTXARGS(w));
}

static void run_walk(subject *s, uint64_t seed, long ops)
{
	static const size_t targets[] = {0, 3, 9, 60, 400, 1500, 3500};
	walk *w = calloc(1, sizeof *w);
	w->s = s;
	w->seed = w->rng = seed;
	w->target = 400;
	w->range = 1024;
	for (w->op = 0; w->op < ops; w->op++) {
		if (w->op % 40000 == 0) {
			w->target = targets[rnd(w, sizeof targets / sizeof targets[0])];
			w->range = (int)(w->target * 2 + 16);
			/* Now and then draw keys from the whole domain: with few
			 * keys present, most inserts are of keys not seen for a
			 * long time, which churns overflow buckets and brings
			 * same-size grows. */
			if (w->range > DOMAIN || rnd(w, 3) == 0)
				w->range = DOMAIN;
			/* Some phases churn first-in first-out: each write
			 * inserts a key unused for thousands of operations and
			 * deletes the one inserted `target` writes ago. Old
			 * chains keep their empty slots, new keys land
			 * elsewhere, overflow buckets pile up: same-size grows. */
			w->fifo = w->target > 0 && w->target <= 400 && rnd(w, 2) == 0;
			if (w->fifo) {
				/* A fresh map: Go never shrinks one, and a small
				 * table reaches the threshold (2^B) sooner. */
				const gomap_type *t = gomap_typeof(s->m);
				gomap_free(s->m);
				s->m = gomap_make(t, 0);
				memset(&w->ref, 0, sizeof w->ref);
				w->range = DOMAIN;
			}
		}
		if (w->fifo && rnd(w, 2) == 0) {
			do_set(w, (int)(w->head % DOMAIN));
			do_del(w, (int)((w->head + DOMAIN - w->target) % DOMAIN));
			w->head++;
			cr_assert(eq(sz, gomap_len(s->m), w->ref.count), "len " CTX, CTXARGS(w));
			continue;
		}
		int idx = (int)rnd(w, (unsigned)w->range);
		unsigned r = rnd(w, 1000);
		bool below = w->ref.count < w->target;
		if (r < 350) {
			if (below || rnd(w, 4) == 0)
				do_set(w, idx);
			else
				do_del(w, idx);
		} else if (r < 600) {
			if (below && rnd(w, 4) != 0)
				do_set(w, idx);
			else
				do_del(w, idx);
		} else if (r < 990) {
			do_lookup(w, idx);
		} else if (r < 993) {
			compare_all(w, s->m);
		} else if (r < 995) {
			mutating_iteration(w, false);
		} else if (r < 997) {
			mutating_iteration(w, true);
		} else if (r < 999) {
			clone_and_compare(w);
		} else if (rnd(w, 64) == 0) {
			do_clear(w);
		}
		cr_assert(eq(sz, gomap_len(s->m), w->ref.count), "len " CTX, CTXARGS(w));
		if (w->op % 500 == 0)
			check_invariants(w, s->m);
	}
	check_invariants(w, s->m);
	compare_all(w, s->m);
	free(w);
}

/* ---- map[int64]int64 ------------------------------------------------------ */

static int64_t i64_keys[DOMAIN]; /* sorted, distinct */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void make_i64_domain(uint64_t seed)
{
	static const int64_t special[] = {0, 1, -1, INT64_MIN, INT64_MAX, 2, 3, 4, 5, 8};
	uint64_t rng = seed ^ 0xabcdef;
	int n = 0;
	for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
		i64_keys[n++] = special[i];
	while (n < DOMAIN) {
		while (n < DOMAIN) {
			uint64_t r = rng_next(&rng);
			/* Half small keys (dense), half anywhere in the range. */
			i64_keys[n++] = (r & 1) ? (int64_t)r : (int64_t)((r >> 1) % 100000) - 50000;
		}
		qsort(i64_keys, (size_t)n, sizeof i64_keys[0], cmp_i64);
		int out = 0; /* drop duplicates, then draw again for the gap */
		for (int i = 0; i < n; i++)
			if (out == 0 || i64_keys[out - 1] != i64_keys[i])
				i64_keys[out++] = i64_keys[i];
		n = out;
	}
	qsort(i64_keys, DOMAIN, sizeof i64_keys[0], cmp_i64);
}

static int64_t i64_key_index(const void *key)
{
	int64_t k;
	memcpy(&k, key, sizeof k);
	const int64_t *p = bsearch(&k, i64_keys, DOMAIN, sizeof k, cmp_i64);
	return p ? p - i64_keys : -1;
}

static void i64_set(subject *s, int idx, int64_t v)
{
	gomap_i64_set(s->m, i64_keys[idx], v);
}

static bool i64_lookup(subject *s, int idx, int64_t *v)
{
	/* Alternate between the typed and the generic reads. */
	static unsigned turn;
	switch (turn++ % 3) {
	case 0:
		return gomap_i64_lookup(s->m, i64_keys[idx], v);
	case 1:
		return gomap_access2(s->m, &i64_keys[idx], v);
	default: {
		int64_t got = gomap_i64_get(s->m, i64_keys[idx]);
		bool ok = gomap_i64_lookup(s->m, i64_keys[idx], NULL);
		if (v)
			*v = got;
		return ok;
	}
	}
}

static void i64_del(subject *s, int idx)
{
	gomap_i64_delete(s->m, i64_keys[idx]);
}

Test(differential, i64_map_matches_reference_over_a_million_ops, .timeout = 240)
{
	uint64_t seed = test_seed(20260101);
	make_i64_domain(seed);
	subject s = {
	        .m = gomap_make(&gomap_type_i64_i64, 0),
	        .what = "map[int64]int64",
	        .key_index = i64_key_index,
	        .set = i64_set,
	        .lookup = i64_lookup,
	        .del = i64_del,
	        .has_elem = true,
	};
	run_walk(&s, seed, 1200000);
	gomap_free(s.m);
}

/* ---- map[string]int64 ----------------------------------------------------- */

/* Domain key i: "" for i == 0, else up to 40 bytes drawn from {'a','b',NUL}
 * (so keys share prefixes and contain NULs) followed by i in two bytes. */
static char *str_keys[DOMAIN];
static size_t str_lens[DOMAIN];

static void make_str_domain(uint64_t seed)
{
	static const char alphabet[3] = {'a', 'b', '\0'};
	uint64_t rng = seed ^ 0x5151;
	for (int i = 0; i < DOMAIN; i++) {
		free(str_keys[i]);
		size_t fill = i == 0 ? 0 : (size_t)(rng_next(&rng) % 41);
		size_t len = i == 0 ? 0 : fill + 2;
		str_keys[i] = malloc(len + 1);
		for (size_t j = 0; j < fill; j++)
			str_keys[i][j] = alphabet[rng_next(&rng) % 3];
		if (i > 0) {
			str_keys[i][fill] = (char)(i >> 8);
			str_keys[i][fill + 1] = (char)(i & 0xff);
		}
		str_lens[i] = len;
	}
}

static int64_t str_key_index(const void *key)
{
	const gomap_str *k = key;
	if (k->len == 0)
		return 0;
	if (k->len < 2)
		return -1;
	const unsigned char *p = (const unsigned char *)k->ptr + k->len - 2;
	int idx = (p[0] << 8) | p[1];
	if (idx <= 0 || idx >= DOMAIN || str_lens[idx] != k->len ||
	    memcmp(str_keys[idx], k->ptr, k->len) != 0)
		return -1;
	return idx;
}

/* Passes a fresh heap copy of the key and destroys it right after the
 * call, so a map that kept the caller's bytes would be caught (by value
 * checks, and by AddressSanitizer in that build). */
static char *scratch_copy(int idx)
{
	char *p = malloc(str_lens[idx] ? str_lens[idx] : 1);
	memcpy(p, str_keys[idx], str_lens[idx]);
	return p;
}

static void scratch_drop(char *p, int idx)
{
	memset(p, 0xee, str_lens[idx] ? str_lens[idx] : 1);
	free(p);
}

static void str_set(subject *s, int idx, int64_t v)
{
	char *p = scratch_copy(idx);
	gomap_str_set(s->m, p, str_lens[idx], v);
	scratch_drop(p, idx);
}

static bool str_lookup(subject *s, int idx, int64_t *v)
{
	static unsigned turn;
	char *p = scratch_copy(idx);
	bool ok;
	if (turn++ % 2) {
		ok = gomap_str_lookup(s->m, p, str_lens[idx], v);
	} else {
		gomap_str k = {p, str_lens[idx]};
		ok = gomap_access2(s->m, &k, v);
	}
	scratch_drop(p, idx);
	return ok;
}

static void str_del(subject *s, int idx)
{
	char *p = scratch_copy(idx);
	gomap_str_delete(s->m, p, str_lens[idx]);
	scratch_drop(p, idx);
}

Test(differential, str_map_matches_reference_over_a_million_ops, .timeout = 240)
{
	uint64_t seed = test_seed(20260202);
	make_str_domain(seed);
	subject s = {
	        .m = gomap_make(&gomap_type_str_i64, 0),
	        .what = "map[string]int64",
	        .key_index = str_key_index,
	        .set = str_set,
	        .lookup = str_lookup,
	        .del = str_del,
	        .has_elem = true,
	};
	run_walk(&s, seed, 1000000);
	gomap_free(s.m);
}

/* ---- a set of 24-byte keys with a weak hash -------------------------------- */

/* Only 61 distinct hash values: long overflow chains, shared tophash
 * bytes and frequent same-size grows. */
typedef struct wkey {
	int64_t a, b, c;
} wkey;

static uint64_t weak_hash(const void *key, uint64_t seed)
{
	const wkey *k = key;
	(void)seed;
	uint64_t s = (uint64_t)(k->a % 61);
	return rng_next(&s);
}

static bool weak_equal(const void *x, const void *y)
{
	const wkey *p = x, *q = y;
	return p->a == q->a && p->b == q->b && p->c == q->c;
}

static const gomap_type weak_set_type = {
        .name = "map[wkey]struct{}",
        .keysize = sizeof(wkey),
        .elemsize = 0,
        .kind = GOMAP_KEY_GENERIC,
        .hash = weak_hash,
        .equal = weak_equal,
};

static wkey wkey_of(int idx)
{
	return (wkey){idx, ~(int64_t)idx, (int64_t)idx * 3};
}

static int64_t weak_key_index(const void *key)
{
	const wkey *k = key;
	if (k->a < 0 || k->a >= DOMAIN || k->b != ~k->a || k->c != k->a * 3)
		return -1;
	return k->a;
}

static void weak_set(subject *s, int idx, int64_t v)
{
	wkey k = wkey_of(idx);
	char dummy = 0;
	(void)v;
	gomap_assign(s->m, &k, &dummy);
}

static bool weak_lookup(subject *s, int idx, int64_t *v)
{
	wkey k = wkey_of(idx);
	if (v)
		*v = 0;
	return gomap_access2(s->m, &k, NULL);
}

static void weak_del(subject *s, int idx)
{
	wkey k = wkey_of(idx);
	gomap_delete(s->m, &k);
}

Test(differential, colliding_set_matches_reference, .timeout = 240)
{
	uint64_t seed = test_seed(20260303);
	subject s = {
	        .m = gomap_make(&weak_set_type, 0),
	        .what = "map[wkey]struct{} with 61 hash values",
	        .key_index = weak_key_index,
	        .set = weak_set,
	        .lookup = weak_lookup,
	        .del = weak_del,
	        .has_elem = false,
	};
	run_walk(&s, seed, 300000);
	gomap_free(s.m);
}
