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

#include <float.h>

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
	/* Keys unequal to themselves (float NaN), for types that have them:
	 * add_nan stores one more (value NAN_VAL); is_nan tells them apart
	 * in an iteration. The reference does not track them: every one is a
	 * new entry that no lookup or delete finds and only clear removes. */
	void (*add_nan)(struct subject *s);
	bool (*is_nan)(const void *key);
	size_t nan; /* NaN entries in m */
} subject;

#define NAN_VAL ((int64_t)-7)

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

/* What len(m) must be. */
static size_t want_len(const walk *w)
{
	return w->ref.count + w->s->nan;
}

/* A NaN entry met by an iteration: its value is NAN_VAL. */
static bool nan_entry(walk *w, const gomap_iter *it)
{
	if (w->s->is_nan == NULL || !w->s->is_nan(it->key))
		return false;
	int64_t v;
	memcpy(&v, it->elem, sizeof v);
	cr_assert(eq(i64, v, NAN_VAL), "value of a NaN entry " CTX, CTXARGS(w));
	return true;
}

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
	cr_assert(eq(sz, gomap_len(m), want_len(w)), "len " CTX, CTXARGS(w));
	gomap_iter it;
	gomap_iter_init(m, &it);
	size_t steps = 0, nans = 0;
	while (gomap_iter_next(&it)) {
		if (nan_entry(w, &it)) {
			nans++;
			continue;
		}
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
	cr_assert(eq(sz, nans, w->s->nan), "NaN entries visited " CTX, CTXARGS(w));
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
	size_t nans = 0;
	while (gomap_iter_next(&it)) {
		if (nan_entry(w, &it)) {
			nans++; /* none is added or can be deleted during the loop */
			continue;
		}
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
	cr_assert(eq(sz, nans, w->s->nan), "NaN entries visited " CTX, CTXARGS(w));
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
	w->s->nan = 0; /* clear alone removes NaN keys */
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
				s->nan = 0;
				w->range = DOMAIN;
			}
		}
		if (w->fifo && rnd(w, 2) == 0) {
			do_set(w, (int)(w->head % DOMAIN));
			do_del(w, (int)((w->head + DOMAIN - w->target) % DOMAIN));
			w->head++;
			cr_assert(eq(sz, gomap_len(s->m), want_len(w)), "len " CTX, CTXARGS(w));
			continue;
		}
		int idx = (int)rnd(w, (unsigned)w->range);
		unsigned r = rnd(w, 1000);
		bool below = w->ref.count < w->target;
		if (r < 350) {
			if (s->add_nan != NULL && rnd(w, 64) == 0 && s->nan < 2000) {
				s->add_nan(s);
				s->nan++;
			} else if (below || rnd(w, 4) == 0)
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
		cr_assert(eq(sz, gomap_len(s->m), want_len(w)), "len " CTX, CTXARGS(w));
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

/* ---- map[float64]int64 with Go's float semantics ------------------------- */

/* Sorted, distinct by ==: one zero (index f64_zero), the infinities, the
 * smallest subnormal, and random finite doubles. The zero is stored as +0
 * or -0, whichever was assigned last (Go: needkeyupdate); every write,
 * read and delete of it picks a sign at random, since both are one key.
 * NaN keys come on the side (add_nan). */
static double f64_keys[DOMAIN];
static int f64_zero;
static bool f64_zero_neg; /* the sign of the zero key last assigned */
static unsigned f64_turn;

static int cmp_f64(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void make_f64_domain(uint64_t seed)
{
	uint64_t rng = seed ^ 0xf64;
	int n = 0;
	f64_keys[n++] = 0.0;
	f64_keys[n++] = __builtin_inf();
	f64_keys[n++] = -__builtin_inf();
	f64_keys[n++] = DBL_TRUE_MIN;
	f64_keys[n++] = -DBL_TRUE_MIN;
	while (n < DOMAIN) {
		while (n < DOMAIN) {
			uint64_t r = rng_next(&rng);
			double d = (r & 1) ? (double)(int64_t)(r >> 40) / 8.0 - 1000.0
			                   : (double)(int64_t)r * 1e-9;
			if (d == d && d != 0)
				f64_keys[n++] = d;
		}
		qsort(f64_keys, (size_t)n, sizeof f64_keys[0], cmp_f64);
		int out = 0;
		for (int i = 0; i < n; i++)
			if (out == 0 || f64_keys[out - 1] != f64_keys[i])
				f64_keys[out++] = f64_keys[i];
		n = out;
	}
	qsort(f64_keys, DOMAIN, sizeof f64_keys[0], cmp_f64);
	for (int i = 0; i < DOMAIN; i++)
		if (f64_keys[i] == 0)
			f64_zero = i;
}

/* Go: f64hash. +0 and -0 hash alike; NaN to a new value every time. */
static uint64_t f64_hash(const void *key, uint64_t seed)
{
	static uint64_t nan_draws;
	double f;
	memcpy(&f, key, sizeof f);
	if (f != f)
		return gomap_hash64(++nan_draws, seed ^ 0x9e37);
	if (f == 0)
		f = 0;
	uint64_t bits;
	memcpy(&bits, &f, sizeof bits);
	return gomap_hash64(bits, seed);
}

static bool f64_equal(const void *x, const void *y)
{
	double a, b;
	memcpy(&a, x, sizeof a);
	memcpy(&b, y, sizeof b);
	return a == b;
}

static const gomap_type f64_type = {
        .name = "map[float64]int64",
        .keysize = 8,
        .elemsize = 8,
        .kind = GOMAP_KEY_GENERIC,
        .hash = f64_hash,
        .equal = f64_equal,
        .needkeyupdate = true,
        .notreflexive = true,
};

/* The key for index idx; the zero gets a sign at random. */
static double f64_key(int idx, bool *neg)
{
	double k = f64_keys[idx];
	*neg = false;
	if (idx == f64_zero && (f64_turn++ * 0x9e3779b9u) >> 31) {
		k = -0.0;
		*neg = true;
	}
	return k;
}

/* A produced zero with the wrong sign is a foreign key. */
static int64_t f64_key_index(const void *key)
{
	double k;
	memcpy(&k, key, sizeof k);
	if (k == 0 && (__builtin_signbit(k) != 0) != f64_zero_neg)
		return -1;
	const double *p = bsearch(&k, f64_keys, DOMAIN, sizeof k, cmp_f64);
	return p ? p - f64_keys : -1;
}

static void f64_set(subject *s, int idx, int64_t v)
{
	bool neg;
	double k = f64_key(idx, &neg);
	gomap_assign(s->m, &k, &v);
	if (idx == f64_zero)
		f64_zero_neg = neg;
}

static bool f64_lookup(subject *s, int idx, int64_t *v)
{
	bool neg;
	double k = f64_key(idx, &neg);
	return gomap_access2(s->m, &k, v);
}

static void f64_del(subject *s, int idx)
{
	bool neg;
	double k = f64_key(idx, &neg);
	gomap_delete(s->m, &k);
}

static void f64_add_nan(subject *s)
{
	double k = __builtin_nan("");
	int64_t v = NAN_VAL;
	gomap_assign(s->m, &k, &v);
}

static bool f64_is_nan(const void *key)
{
	double k;
	memcpy(&k, key, sizeof k);
	return k != k;
}

Test(differential, f64_map_with_nan_and_signed_zeros_matches_reference, .timeout = 240)
{
	uint64_t seed = test_seed(20260404);
	make_f64_domain(seed);
	subject s = {
	        .m = gomap_make(&f64_type, 0),
	        .what = "map[float64]int64",
	        .key_index = f64_key_index,
	        .set = f64_set,
	        .lookup = f64_lookup,
	        .del = f64_del,
	        .has_elem = true,
	        .add_nan = f64_add_nan,
	        .is_nan = f64_is_nan,
	};
	run_walk(&s, seed, 400000);
	gomap_free(s.m);
}
