/*
 * fuzz_core.c -- differential fuzzing of the map core (libFuzzer).
 *
 * The input bytes are a program of map operations. The program drives three
 * maps at once, each mirrored by a reference that is too simple to be wrong
 * (an array indexed by key number, holding "present" and the value):
 *
 *   i64  int64 keys: map[int64]int64 through the typed helpers and the
 *        generic entry points, or int64 keys with 0- or 16-byte elems
 *   str  byte-string keys: "", keys with NUL bytes, keys sharing long
 *        prefixes, one key longer than a string chunk (64 KiB)
 *   gen  12-byte struct keys with our own hash and equal, elems of 0 or 24
 *        bytes; the hash is chosen per map among a good one and three bad
 *        ones (four hash values in all; one tophash for every key; the key
 *        number itself, ignoring the seed), so that long overflow chains,
 *        tophash collisions and same-size growth are common
 *   f64  float64 keys with Go's semantics (needkeyupdate, not reflexive):
 *        key 0 is +0 and key 1 is -0, the same key, whose stored sign
 *        follows the last assign; key 2 is NaN, of which every assign adds
 *        an entry that no read or delete finds and only clear removes; then
 *        the infinities, the smallest subnormal and k + 0.5
 *   zst  a key of size 0 (Go: map[struct{}]V): one key in all
 *
 * After every mutation the map must pass gomap_check_invariants and agree
 * with the reference on len; every read is compared with the reference.
 * Clones are compared entry by entry. An iteration may delete, insert,
 * overwrite, clear and grow the map between its steps, and must then obey
 * Go's rules (the spec's "For statements with range clause"):
 *   - an entry present when the iteration began and never deleted during it
 *     is produced exactly once;
 *   - an entry deleted before it was reached is not produced;
 *   - an entry inserted during the iteration may or may not be produced, but
 *     not twice, and a produced entry carries its current value.
 * A divergence prints what was expected and what the map did, then aborts,
 * which libFuzzer records as a crash with the input that caused it.
 *
 * Key spaces are small (the make op chooses 4 to 4096 keys) so that the same
 * keys come back, buckets collide and grows happen at every stage: bulk
 * inserts cross several doublings, churn (insert a run, delete it, move on)
 * piles up overflow buckets until a same-size grow, and hints up to 2^16
 * start maps large.
 *
 * Both map generations run every input (fuzz/cores.h): the bucket map
 * first, then the Swiss-table map, each against its own fresh reference.
 * Both must agree with the same reference on every read, len and clone,
 * so they agree with each other; only iteration order, and which entries
 * inserted during an iteration are produced, may differ, as Go allows.
 * FUZZ_CORE=bucket or FUZZ_CORE=swiss runs one generation only (to replay
 * a finding).
 *
 * Set FUZZ_TRACE=1 to print every operation of a run to stderr.
 */
#define _GNU_SOURCE
#include "cores.h"

#include <float.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	NKEYS = 4096,         /* key numbers 0 .. NKEYS-1 for every map kind */
	HUGE_KEY_LEN = 70000, /* longer than one string chunk of the core */
	WALK_CHEAP = 128,     /* entries + buckets: an invariant walk after every mutation */
	MAX_ESIZE = 24,       /* the largest elem used */
	MAX_OPS = 4096,       /* operations per input */
	HUGE_KEY = 7,         /* the string key number of the long key */
	GEN_FOUR_RANGE = 256  /* key range cap with a four-value hash (slow) */
};

/* ------------------------------------------------------------------------ */
/* Reading the program                                                      */
/* ------------------------------------------------------------------------ */

typedef struct reader {
	const uint8_t *p;
	size_t n;
	size_t pos;
} reader;

static bool rd_more(const reader *r)
{
	return r->pos < r->n;
}

/* Past the end every read gives 0: the program simply winds down. */
static unsigned rd_u8(reader *r)
{
	return r->pos < r->n ? r->p[r->pos++] : 0;
}

static unsigned rd_u16(reader *r)
{
	unsigned lo = rd_u8(r);
	return lo | rd_u8(r) << 8;
}

/* ------------------------------------------------------------------------ */
/* Divergences                                                              */
/* ------------------------------------------------------------------------ */

static bool trace;
static unsigned op_no;

/* The generation the current run drives (fuzz/cores.h). */
static const core cores[] = {FUZZ_CORE(bucket_, "bucket"), FUZZ_CORE(swiss_, "swiss")};
enum { NCORES = sizeof cores / sizeof cores[0] };
static const core *C = &cores[0];
static bool core_on[NCORES];

#define TRACE(...)                                                                                 \
	do {                                                                                       \
		if (trace)                                                                         \
			fprintf(stderr, __VA_ARGS__);                                              \
	} while (0)

__attribute__((format(printf, 1, 2), noreturn)) static void diverge(const char *fmt, ...);

static void diverge(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "\nDIVERGENCE (%s map) at operation %u: ", C->name, op_no);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

/* ------------------------------------------------------------------------ */
/* The key universe: key number -> key, and back                            */
/* ------------------------------------------------------------------------ */

enum { K_I64, K_STR, K_GEN, K_F64, K_ZST, K_COUNT };
static const char *const kind_name[K_COUNT] = {"i64", "str", "gen", "f64", "zst"};

/* The f64 key numbers with a meaning of their own. */
enum { F_PZERO = 0, F_NZERO = 1, F_NAN = 2, F_PINF = 3, F_NINF = 4, F_TINY = 5, F_FIRST = 6 };
/* NaN entries a map may hold at once: an assign beyond is skipped. */
enum { MAX_NAN = 256 };

typedef struct genkey {
	uint32_t a, b, c;
} genkey;

/* A gen key with a tail: the half of the gen types whose keys are over
 * Go's 128-byte inline limit use the whole of it (Go stores such a key
 * through a pointer; the core stores it in the slot). The tail is derived
 * from the key number, so equal heads mean equal keys. */
typedef struct bigkey {
	genkey head;
	uint32_t tail[33];
} bigkey;

static int64_t i64_keys[NKEYS];
static gomap_str str_keys[NKEYS];
static bigkey gen_keys[NKEYS];
static double f64_keys[NKEYS];
static char zst_key; /* a key of size 0: its address is all there is */
/* Key numbers sorted by key, for the first three kinds, to map a key back
 * to its number. */
static uint16_t sorted[K_F64][NKEYS];

static const void *key_ptr(int kind, unsigned idx)
{
	switch (kind) {
	case K_I64:
		return &i64_keys[idx];
	case K_STR:
		return &str_keys[idx];
	case K_F64:
		return &f64_keys[idx];
	case K_ZST:
		return &zst_key;
	default:
		return &gen_keys[idx];
	}
}

/* The number of an f64 key (the sign of a zero is checked apart). */
static int f64_index(double k)
{
	if (k != k)
		return F_NAN;
	if (k == 0)
		return F_PZERO;
	if (k == __builtin_inf())
		return F_PINF;
	if (k == -__builtin_inf())
		return F_NINF;
	if (k == f64_keys[F_TINY])
		return F_TINY;
	double i = k - 0.5;
	if (i >= F_FIRST && i < NKEYS && (double)(int)i == i)
		return (int)i;
	return -1;
}

static int key_cmp(int kind, const void *a, const void *b)
{
	if (kind == K_I64) {
		int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
		return (x > y) - (x < y);
	}
	if (kind == K_STR) {
		const gomap_str *x = a, *y = b;
		if (x->len != y->len)
			return x->len < y->len ? -1 : 1;
		return x->len ? memcmp(x->ptr, y->ptr, x->len) : 0;
	}
	const genkey *x = a, *y = b;
	if (x->a != y->a)
		return x->a < y->a ? -1 : 1;
	if (x->b != y->b)
		return x->b < y->b ? -1 : 1;
	return (x->c > y->c) - (x->c < y->c);
}

static int sort_cmp(const void *a, const void *b, void *kindp)
{
	int kind = *(const int *)kindp;
	return key_cmp(kind, key_ptr(kind, *(const uint16_t *)a),
	               key_ptr(kind, *(const uint16_t *)b));
}

/* The key number of a key produced by an iterator, or -1. */
static int key_index(int kind, const void *key)
{
	size_t lo = 0, hi = NKEYS;
	genkey g;
	if (kind == K_F64) {
		double k;
		memcpy(&k, key, 8);
		return f64_index(k);
	}
	if (kind == K_ZST)
		return 0;
	if (kind == K_GEN) {
		memcpy(&g, key, sizeof g); /* a bucket slot is only 4-aligned */
		key = &g;
	}
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = key_cmp(kind, key_ptr(kind, sorted[kind][mid]), key);
		if (c == 0)
			return sorted[kind][mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static char str_store[NKEYS * 48 + HUGE_KEY_LEN];

/* String keys: number 0 is "",
 * number HUGE_KEY is longer than a string chunk of the core,
 * the others are 2 to 320 bytes with the number in two bytes, at the front
 * or at the end behind a filler that keys of the same length share. Filler
 * bytes include NUL. */
static void make_str_keys(void)
{
	size_t used = 0;
	for (unsigned i = 0; i < NKEYS; i++) {
		size_t len;
		if (i == 0)
			len = 0;
		else if (i == HUGE_KEY)
			len = HUGE_KEY_LEN;
		else if (i % 5 == 0)
			len = 20 + (i * 7) % 300;
		else
			len = 2 + i % 13;
		if (used + len > sizeof str_store)
			abort(); /* str_store too small */
		char *p = str_store + used;
		for (size_t j = 0; j < len; j++)
			p[j] = (char)((len * 3 + j * 7) % 11 == 0 ? 0 : 'a' + (len + j) % 26);
		if (len >= 2) {
			size_t at = i % 3 == 0 ? len - 2 : 0;
			p[at] = (char)(i & 0xff);
			p[at + 1] = (char)(i >> 8 | 0x40);
		}
		str_keys[i].ptr = p;
		str_keys[i].len = len;
		used += len;
	}
}

static void init_keys(void)
{
	static const int64_t special[] = {0, 1, -1, INT64_MIN, INT64_MAX, 8, 0x100000000, -4096};
	for (unsigned i = 0; i < NKEYS; i++) {
		i64_keys[i] = i < 8 ? special[i] : (int64_t)((uint64_t)i * 0x9e3779b97f4a7c15ull);
		gen_keys[i].head = (genkey){i, i * 2654435761u, i ^ 0xa5a5a5a5u};
		for (unsigned j = 0; j < 33; j++)
			gen_keys[i].tail[j] = (i + 1) * (j + 7) * 0x9e3779b9u;
		f64_keys[i] = (double)i + 0.5;
	}
	f64_keys[F_PZERO] = 0.0;
	f64_keys[F_NZERO] = -0.0;
	f64_keys[F_NAN] = __builtin_nan("");
	f64_keys[F_PINF] = __builtin_inf();
	f64_keys[F_NINF] = -__builtin_inf();
	f64_keys[F_TINY] = DBL_TRUE_MIN;
	make_str_keys();
	for (int k = 0; k < K_F64; k++) {
		for (unsigned i = 0; i < NKEYS; i++)
			sorted[k][i] = (uint16_t)i;
		qsort_r(sorted[k], NKEYS, sizeof sorted[k][0], sort_cmp, &k);
		for (unsigned i = 1; i < NKEYS; i++) {
			if (key_cmp(k, key_ptr(k, sorted[k][i - 1]), key_ptr(k, sorted[k][i])) ==
			    0) {
				fprintf(stderr, "fuzz_core: %s keys %u and %u are equal\n",
				        kind_name[k], sorted[k][i - 1], sorted[k][i]);
				abort();
			}
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Map types                                                                */
/* ------------------------------------------------------------------------ */

/* Field by field: bucket slots of 12-byte keys are only 4-aligned. */
static bool genkey_equal(const void *a, const void *b)
{
	genkey x, y;
	memcpy(&x, a, sizeof x);
	memcpy(&y, b, sizeof y);
	return x.a == y.a && x.b == y.b && x.c == y.c;
}

static uint32_t genkey_a(const void *k)
{
	genkey g;
	memcpy(&g, k, sizeof g);
	return g.a;
}

/* A good hash. */
static uint64_t gh_good(const void *k, uint64_t seed)
{
	return bucket_gomap_memhash(k, sizeof(genkey), seed);
}

/* A good hash of a whole big key. */
static uint64_t gh_good_big(const void *k, uint64_t seed)
{
	return bucket_gomap_memhash(k, sizeof(bigkey), seed);
}

static bool bigkey_equal(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(bigkey)) == 0;
}

/* Four hash values for the whole key space: chains of collisions. */
static uint64_t gh_four(const void *k, uint64_t seed)
{
	return bucket_gomap_hash64(genkey_a(k) & 3, seed);
}

/* One tophash for every key: every probe must compare keys. */
static uint64_t gh_onetop(const void *k, uint64_t seed)
{
	return (0xa7ull << 56) | (bucket_gomap_hash64(genkey_a(k), seed) >> 8);
}

/* The key number itself, ignoring the seed: tophash 0 (stored as the
 * smallest live marker) and splits decided by the number's bits. The
 * Swiss map picks a table by the top bits of the hash, which are all 0
 * here: no split could ever separate the keys, and a directory doubled
 * forever would be the outcome (in Go too). For it the number is copied
 * into the top bits as well. */
static uint64_t gh_identity(const void *k, uint64_t seed)
{
	(void)seed;
	uint64_t a = genkey_a(k);
	return C == &cores[1] ? a | a << 52 : a;
}

static const gomap_hash_fn gen_hashes[] = {gh_good, gh_four, gh_onetop, gh_identity};

/* float64 as Go hashes it (f64hash): +0 and -0 alike, NaN at random. */
static uint64_t f64_hash(const void *k, uint64_t seed)
{
	static uint64_t nan_draws;
	double f;
	memcpy(&f, k, 8);
	if (f != f)
		return bucket_gomap_hash64(++nan_draws, seed ^ 0x5bd1e995u);
	if (f == 0)
		f = 0;
	uint64_t bits;
	memcpy(&bits, &f, 8);
	return bucket_gomap_hash64(bits, seed);
}

/* Few hash values: NaN and zeros in long chains with other keys. */
static uint64_t f64_hash_four(const void *k, uint64_t seed)
{
	return bucket_gomap_hash64(f64_hash(k, 0) & 3, seed);
}

static bool f64_equal(const void *a, const void *b)
{
	double x, y;
	memcpy(&x, a, 8);
	memcpy(&y, b, 8);
	return x == y;
}

static uint64_t zst_hash(const void *k, uint64_t seed)
{
	return bucket_gomap_hash64(0, seed);
}

static bool zst_equal(const void *a, const void *b)
{
	return true;
}
enum { NGENHASH = sizeof gen_hashes / sizeof gen_hashes[0] };

/* Per kind, the types a map can be made with: [kind][variant]. gen has
 * every hash with two elem sizes, first with 12-byte keys, then with
 * big keys. */
enum { NVARIANT = NGENHASH * 4 };
static gomap_type types[K_COUNT][NVARIANT];

static void init_types(void)
{
	/* i64: the ready type (typed helpers allowed), 0- and 16-byte elems */
	types[K_I64][0] = bucket_gomap_type_i64_i64;
	bucket_gomap_type_init_i64(&types[K_I64][1], 0, "map[int64]struct{}");
	bucket_gomap_type_init_i64(&types[K_I64][2], 16, "map[int64][2]int64");
	/* str: the ready type, 0- and 24-byte elems */
	types[K_STR][0] = bucket_gomap_type_str_i64;
	bucket_gomap_type_init_str(&types[K_STR][1], 0, "map[string]struct{}");
	bucket_gomap_type_init_str(&types[K_STR][2], 24, "map[string][3]int64");
	for (int v = 3; v < NVARIANT; v++) {
		types[K_I64][v] = types[K_I64][v % 3];
		types[K_STR][v] = types[K_STR][v % 3];
	}
	/* gen: every hash with 0- and 24-byte elems */
	for (int h = 0; h < NGENHASH; h++) {
		for (int e = 0; e < 2; e++) {
			types[K_GEN][h * 2 + e] = (gomap_type){
			        .name = e ? "map[gkey][3]int64" : "map[gkey]struct{}",
			        .keysize = sizeof(genkey),
			        .elemsize = e ? 24 : 0,
			        .kind = GOMAP_KEY_GENERIC,
			        .hash = gen_hashes[h],
			        .equal = genkey_equal,
			};
			types[K_GEN][NGENHASH * 2 + h * 2 + e] = (gomap_type){
			        .name = e ? "map[bigkey][3]int64" : "map[bigkey]struct{}",
			        .keysize = sizeof(bigkey),
			        .elemsize = e ? 24 : 0,
			        .kind = GOMAP_KEY_GENERIC,
			        .hash = h == 0 ? gh_good_big : gen_hashes[h],
			        .equal = bigkey_equal,
			};
		}
	}
	/* f64: a good and a bad hash, 0- and 24-byte elems; zst: 0, 8 and 24 */
	for (int v = 0; v < NVARIANT; v++) {
		int e = v & 1, h = (v >> 1) & 1;
		types[K_F64][v] = (gomap_type){
		        .name = e ? "map[float64][3]int64" : "map[float64]struct{}",
		        .keysize = 8,
		        .elemsize = e ? 24 : 0,
		        .kind = GOMAP_KEY_GENERIC,
		        .hash = h ? f64_hash_four : f64_hash,
		        .equal = f64_equal,
		        .needkeyupdate = true,
		        .notreflexive = true,
		};
		static const size_t zst_esize[] = {0, 8, 24};
		types[K_ZST][v] = (gomap_type){
		        .name = "map[struct{}]V",
		        .keysize = 0,
		        .elemsize = zst_esize[v % 3],
		        .kind = GOMAP_KEY_GENERIC,
		        .hash = zst_hash,
		        .equal = zst_equal,
		};
	}
}

/* ------------------------------------------------------------------------ */
/* A map under test and its reference                                       */
/* ------------------------------------------------------------------------ */

typedef struct subject {
	int kind;
	gomap *m; /* NULL: Go's nil map */
	const gomap_type *t;
	size_t esize;
	bool typed;     /* the typed helpers fit this map's type */
	unsigned range; /* keys in use: 0 .. range-1 */
	size_t count;   /* reference len */
	bool present[NKEYS];
	uint64_t val[NKEYS];
	bool zero_neg; /* f64: the stored zero key is -0 */
	unsigned nnan; /* f64: NaN entries */
	uint64_t nan_val[MAX_NAN];
} subject;

/* The reference slot of key number idx: -0 is +0's slot (f64). */
static unsigned ref_slot(const subject *s, unsigned idx)
{
	return s->kind == K_F64 && idx == F_NZERO ? F_PZERO : idx;
}

static bool is_nan_key(const subject *s, unsigned idx)
{
	return s->kind == K_F64 && idx == F_NAN;
}

static subject subjects[K_COUNT];

/* An elem's bytes for value v: eight-byte words derived from v. */
static void elem_fill(unsigned char *out, size_t esize, uint64_t v)
{
	for (size_t j = 0; j < esize / 8; j++) {
		uint64_t w = v ^ (j * 0x9e3779b97f4a7c15ull);
		memcpy(out + 8 * j, &w, 8);
	}
}

static void check_elem(const subject *s, unsigned idx, const void *elem, const char *what)
{
	unsigned char want[MAX_ESIZE];
	elem_fill(want, s->esize, s->val[idx]);
	if (s->esize && memcmp(want, elem, s->esize) != 0) {
		uint64_t got;
		memcpy(&got, elem, 8);
		diverge("%s map: %s of key %u gave value %#" PRIx64 ", want %#" PRIx64,
		        kind_name[s->kind], what, idx, got, s->val[idx]);
	}
}

static void check_zero(const subject *s, const unsigned char *elem, unsigned idx, const char *what)
{
	for (size_t j = 0; j < s->esize; j++)
		if (elem[j] != 0)
			diverge("%s map: %s of absent key %u did not zero the elem",
			        kind_name[s->kind], what, idx);
}

/* A big key comes back whole, tail and all. */
static void check_key_tail(const subject *s, unsigned idx, const void *key, const char *what)
{
	if (s->kind == K_GEN && s->t->keysize == sizeof(bigkey) &&
	    memcmp(key, &gen_keys[idx], sizeof(bigkey)) != 0)
		diverge("gen map: %s produced big key %u with a damaged tail", what, idx);
}

static void check_map(subject *s, const char *after)
{
	const char *err = C->check_invariants(s->m);
	if (err != NULL)
		diverge("%s map: invariant broken after %s: %s", kind_name[s->kind], after, err);
	size_t n = C->len(s->m);
	if (n != s->count)
		diverge("%s map: len %zu after %s, want %zu", kind_name[s->kind], n, after,
		        s->count);
}

/* Inside a run of inserts or deletes: after every one while a walk is
 * cheap, else about 8 times per walk's worth of mutations (a walk looks at
 * every bucket and looks every entry up, so a run stays linear even on a
 * map made with a hint of 2^16); always once at the end of the run. Single
 * operations are always followed by a walk. */
static bool check_due(const subject *s, unsigned k)
{
	gomap_stats st;
	C->get_stats(s->m, &st);
	/* buckets (bucket map) or groups (Swiss map; B is 0 there) */
	size_t cost = s->count + ((size_t)1 << st.B) + st.capacity / 8;
	return cost <= WALK_CHEAP || k % (cost / 8) == 0;
}

/* ---- the operations, each on map and reference ---- */

/* Copy of a string key in a scratch buffer that is scribbled over after the
 * call: the map must have copied the bytes. */
static char scratch[HUGE_KEY_LEN];

/* Per NaN entry during one iteration (f64), by its place in nan_val. */
static bool it_nan_must[MAX_NAN], it_nan_produced[MAX_NAN];

/* The first NaN entry of s, not yet marked in `seen`, whose elem is `elem`
 * (any such entry for elems of size 0), or -1. */
static int nan_match(const subject *s, const void *elem, const bool *seen)
{
	unsigned char want[MAX_ESIZE];
	for (unsigned j = 0; j < s->nnan; j++) {
		if (seen[j])
			continue;
		elem_fill(want, s->esize, s->nan_val[j]);
		if (s->esize == 0 || memcmp(want, elem, s->esize) == 0)
			return (int)j;
	}
	return -1;
}

/* A produced zero key (f64) must carry the sign assigned last. */
static void check_zero_sign(const subject *s, int idx, const void *key, const char *what)
{
	if (s->kind != K_F64 || idx != F_PZERO)
		return;
	double k;
	memcpy(&k, key, 8);
	if ((__builtin_signbit(k) != 0) != s->zero_neg)
		diverge("f64 map: %s produced %s0, the last assign stored %s0", what,
		        __builtin_signbit(k) ? "-" : "+", s->zero_neg ? "-" : "+");
}

static void op_set(subject *s, unsigned idx, uint64_t v, bool typed)
{
	if (s->m == NULL)
		return; /* assignment to a nil map panics: not a fuzzable outcome */
	unsigned char e[MAX_ESIZE];
	elem_fill(e, s->esize, v);
	if (is_nan_key(s, idx)) {
		/* NaN != NaN: a new entry every time (Go: mapassign) */
		if (s->nnan == MAX_NAN)
			return;
		C->assign(s->m, &f64_keys[F_NAN], e);
		it_nan_must[s->nnan] = false;
		it_nan_produced[s->nnan] = false;
		s->nan_val[s->nnan++] = v;
		s->count++;
		return;
	}
	if (s->kind == K_F64 && ref_slot(s, idx) == F_PZERO)
		s->zero_neg = idx == F_NZERO; /* Go: needkeyupdate */
	unsigned slot = ref_slot(s, idx);
	if (s->kind == K_STR) {
		gomap_str k = {scratch, str_keys[idx].len};
		memcpy(scratch, str_keys[idx].ptr, k.len);
		if (typed && s->typed)
			C->str_set(s->m, k.ptr, k.len, (int64_t)v);
		else
			C->assign(s->m, &k, e);
		memset(scratch, 0xee, k.len);
	} else if (s->kind == K_I64 && typed && s->typed) {
		C->i64_set(s->m, i64_keys[idx], (int64_t)v);
	} else {
		C->assign(s->m, key_ptr(s->kind, idx), e);
	}
	if (!s->present[slot]) {
		s->present[slot] = true;
		s->count++;
	}
	s->val[slot] = v;
}

static void op_delete(subject *s, unsigned idx, bool typed)
{
	if (is_nan_key(s, idx)) {
		C->delete_(s->m, &f64_keys[F_NAN]); /* finds nothing */
		return;
	}
	if (typed && s->typed && s->kind == K_I64)
		C->i64_delete(s->m, i64_keys[idx]);
	else if (typed && s->typed && s->kind == K_STR)
		C->str_delete(s->m, str_keys[idx].ptr, str_keys[idx].len);
	else
		C->delete_(s->m, key_ptr(s->kind, idx)); /* f64: -0 deletes +0 too */
	idx = ref_slot(s, idx);
	if (s->present[idx]) {
		s->present[idx] = false;
		s->count--;
	}
}

/* One read of key idx, by one of the read entry points (how: 0..4). */
static void op_read(subject *s, unsigned idx, unsigned how)
{
	unsigned char out[MAX_ESIZE + 8];
	unsigned slot = ref_slot(s, idx);
	bool want = !is_nan_key(s, idx) && s->present[slot];
	how %= 5;
	if (how >= 3 && !s->typed)
		how -= 3;
	if (how >= 3) {
		/* typed helpers: get gives 0 when absent, lookup says so */
		int64_t v = 0;
		bool ok = true;
		if (how == 3)
			v = s->kind == K_I64
			            ? C->i64_get(s->m, i64_keys[idx])
			            : C->str_get(s->m, str_keys[idx].ptr, str_keys[idx].len);
		else
			ok = s->kind == K_I64 ? C->i64_lookup(s->m, i64_keys[idx], &v)
			                      : C->str_lookup(s->m, str_keys[idx].ptr,
			                                      str_keys[idx].len, &v);
		if (how == 4 && ok != want)
			diverge("%s map: lookup of key %u says %s", kind_name[s->kind], idx,
			        ok ? "present" : "absent");
		if ((uint64_t)v != (want ? s->val[idx] : 0))
			diverge("%s map: typed read of key %u gave %" PRId64 ", want %" PRId64,
			        kind_name[s->kind], idx, v, want ? (int64_t)s->val[idx] : 0);
		return;
	}
	memset(out, 0x5a, sizeof out);
	if (how == 0) {
		C->access1(s->m, key_ptr(s->kind, idx), out);
	} else {
		bool ok = C->access2(s->m, key_ptr(s->kind, idx), how == 1 ? out : NULL);
		if (ok != want)
			diverge("%s map: access2 of key %u says %s", kind_name[s->kind], idx,
			        ok ? "present" : "absent");
		if (how == 2)
			return;
	}
	if (s->m == NULL && !want) {
		/* a nil map has no type to zero elems by: nothing is written */
		return;
	}
	if (want)
		check_elem(s, slot, out, "read");
	else
		check_zero(s, out, idx, "read");
	if (out[s->esize] != 0x5a)
		diverge("%s map: read of key %u wrote past the elem", kind_name[s->kind], idx);
}

static void op_clear(subject *s)
{
	C->clear(s->m);
	memset(s->present, 0, sizeof s->present);
	s->count = 0;
	s->nnan = 0; /* clear alone removes NaN keys */
}

/* Every key of the range, read and compared. */
static void verify_all(subject *s, unsigned how)
{
	for (unsigned i = 0; i < s->range; i++)
		op_read(s, i, how + i);
}

static const size_t hints[] = {0, 1, 7, 8, 9, 13, 14, 27, 52, 53, 100, 1000, 4096, 65536};
static const unsigned ranges[] = {4, 9, 16, 64, 256, 1024, 4096};

static void op_make(subject *s, unsigned sel, unsigned hsel, unsigned rsel)
{
	C->free(s->m);
	memset(s->present, 0, sizeof s->present);
	s->count = 0;
	s->nnan = 0;
	s->zero_neg = false;
	s->range = s->kind == K_ZST ? 1 : ranges[rsel % (sizeof ranges / sizeof ranges[0])];
	if (sel == 0xff) {
		s->m = NULL; /* var m map[K]V */
		TRACE("  nil map, range %u\n", s->range);
		return;
	}
	int variant = (int)(sel % NVARIANT);
	s->t = &types[s->kind][variant];
	s->esize = s->t->elemsize;
	s->typed = (s->kind == K_I64 || s->kind == K_STR) && s->esize == 8;
	size_t hint =
	        (hsel & 0x80) ? (hsel & 0x7f) : hints[hsel % (sizeof hints / sizeof hints[0])];
	if ((s->t->hash == gh_four || s->t->hash == f64_hash_four) && s->range > GEN_FOUR_RANGE)
		s->range = GEN_FOUR_RANGE; /* chains of range/4 keys: keep them short */
	s->m = C->make(s->t, hint);
	TRACE("  make %s hint %zu range %u\n", s->t->name, hint, s->range);
}

/* Compares a whole map with the reference by iterating it, with no
 * mutation in between. */
static void compare_by_iteration(subject *s, gomap *m, const char *what)
{
	static bool seen[NKEYS], nan_seen[MAX_NAN];
	memset(seen, 0, sizeof seen);
	memset(nan_seen, 0, sizeof nan_seen);
	gomap_iter it;
	size_t n = 0;
	C->iter_init(m, &it);
	while (C->iter_next(&it)) {
		int idx = key_index(s->kind, it.key);
		if (idx < 0)
			diverge("%s map: %s produced a key that was never stored",
			        kind_name[s->kind], what);
		check_key_tail(s, (unsigned)idx, it.key, what);
		if (is_nan_key(s, (unsigned)idx)) {
			int j = nan_match(s, it.elem, nan_seen);
			if (j < 0)
				diverge("f64 map: %s produced a NaN entry that is not in the map, "
				        "or one twice",
				        what);
			nan_seen[j] = true;
			if (++n > s->count)
				break;
			continue;
		}
		check_zero_sign(s, idx, it.key, what);
		if (!s->present[idx])
			diverge("%s map: %s produced absent key %d", kind_name[s->kind], what, idx);
		if (seen[idx])
			diverge("%s map: %s produced key %d twice", kind_name[s->kind], what, idx);
		seen[idx] = true;
		check_elem(s, (unsigned)idx, it.elem, what);
		if (++n > s->count)
			break;
	}
	if (n != s->count)
		diverge("%s map: %s produced %zu entries, want %zu", kind_name[s->kind], what, n,
		        s->count);
}

static void op_clone(subject *s, unsigned how)
{
	gomap *c = C->clone(s->m);
	if (s->m == NULL) {
		if (c != NULL)
			diverge("%s map: clone of a nil map is not nil", kind_name[s->kind]);
		return;
	}
	if (c == NULL)
		diverge("%s map: clone of a non-nil map is nil", kind_name[s->kind]);
	if (C->type_of(c) != s->t)
		diverge("%s map: clone has another type", kind_name[s->kind]);
	const char *err = C->check_invariants(c);
	if (err != NULL)
		diverge("%s map: invariant broken in a clone: %s", kind_name[s->kind], err);
	if (C->len(c) != s->count)
		diverge("%s map: clone has len %zu, want %zu", kind_name[s->kind], C->len(c),
		        s->count);
	compare_by_iteration(s, c, "iterating a clone");
	if (how & 1) {
		/* Go on with the clone; the original must not share its memory
		 * (ASan would see a use after free if it did). */
		C->free(s->m);
		s->m = c;
	} else {
		/* Write to the clone; the original must not change. */
		unsigned char e[MAX_ESIZE];
		elem_fill(e, s->esize, ~(uint64_t)0);
		C->clear(c);
		C->assign(c, key_ptr(s->kind, 0), e);
		C->free(c);
		compare_by_iteration(s, s->m, "iterating the original after a clone");
	}
}

/* ---- iteration with mutations between steps ---- */

/* Per key during one iteration. */
static bool it_must[NKEYS];     /* present at the start, not deleted since: must be produced */
static bool it_produced[NKEYS]; /* produced since it was (re)inserted */

static void iter_note_delete(subject *s, unsigned idx)
{
	if (is_nan_key(s, idx))
		return; /* a delete never finds a NaN key */
	idx = ref_slot(s, idx);
	if (s->present[idx])
		it_must[idx] = false;
}

/* A new NaN entry gets its flags in op_set. */
static void iter_note_insert(subject *s, unsigned idx)
{
	if (is_nan_key(s, idx))
		return;
	idx = ref_slot(s, idx);
	if (!s->present[idx])
		it_produced[idx] = false; /* a new entry: may be produced once */
}

/* Checks an entry an iteration produced; returns its key number. */
static int check_produced(subject *s, const void *key, const void *elem)
{
	int idx = key_index(s->kind, key);
	if (idx < 0)
		diverge("%s map: iteration produced a key that was never stored",
		        kind_name[s->kind]);
	check_key_tail(s, (unsigned)idx, key, "iteration");
	TRACE("    iter: step -> %d\n", idx);
	if (is_nan_key(s, (unsigned)idx)) {
		int j = nan_match(s, elem, it_nan_produced);
		if (j < 0)
			diverge("f64 map: iteration produced a NaN entry that is not in the map, "
			        "or one twice");
		it_nan_produced[j] = true;
		return idx;
	}
	check_zero_sign(s, idx, key, "iteration");
	if (!s->present[idx])
		diverge("%s map: iteration produced key %d, which is not in the map",
		        kind_name[s->kind], idx);
	if (it_produced[idx])
		diverge("%s map: iteration produced key %d twice", kind_name[s->kind], idx);
	it_produced[idx] = true;
	check_elem(s, (unsigned)idx, elem, "iteration");
	return idx;
}

static unsigned pick_key(reader *r, const subject *s)
{
	return (s->range > 256 ? rd_u16(r) : rd_u8(r)) % s->range;
}

static void op_iterate(subject *s, reader *r)
{
	/* keys outside the range are never present (op_make resets) */
	memset(it_produced, 0, sizeof it_produced);
	memcpy(it_must, s->present, s->range * sizeof it_must[0]);
	for (unsigned j = 0; j < s->nnan; j++) {
		it_nan_must[j] = true;
		it_nan_produced[j] = false;
	}
	gomap_iter it;
	C->iter_init(s->m, &it);
	int last = -1;
	/* Each entry is produced at most once per insertion: a bound on the
	 * steps of a correct iteration. */
	size_t steps = 0, bound = s->count + 1;
	for (;;) {
		/* What happens before the next step (c & 15): 0-6 nothing,
		 * 7-8 delete a key, 9 delete the current key, 10-12 assign,
		 * 13 a run of inserts, 14 clear, 15 by bits 4-5: a read, leave
		 * the loop, or run to the end without mutations. Bit 4 also
		 * selects the typed helpers. With the input used up, only steps. */
		unsigned c = rd_more(r) ? rd_u8(r) : 0;
		unsigned what = c & 15;
		if (what < 7 || s->m == NULL) {
			/* a step */
		} else if (what < 9) {
			unsigned idx = pick_key(r, s);
			TRACE("    iter: delete %u\n", idx);
			iter_note_delete(s, idx);
			op_delete(s, idx, c & 16);
			check_map(s, "a delete during an iteration");
			continue;
		} else if (what == 9) {
			if (last >= 0) {
				TRACE("    iter: delete current %d\n", last);
				iter_note_delete(s, (unsigned)last);
				op_delete(s, (unsigned)last, c & 16);
				check_map(s, "deleting the current key during an iteration");
			}
			continue;
		} else if (what < 13) {
			unsigned idx = pick_key(r, s);
			uint64_t v = rd_u16(r) | (uint64_t)op_no << 16;
			TRACE("    iter: set %u = %#" PRIx64 "\n", idx, v);
			bound++;
			iter_note_insert(s, idx);
			op_set(s, idx, v, c & 16);
			check_map(s, "an assignment during an iteration");
			continue;
		} else if (what == 13) {
			/* a run of inserts: the map grows under the iterator */
			unsigned start = pick_key(r, s), n = rd_u8(r) % 64 + 1;
			TRACE("    iter: insert %u from %u\n", n, start);
			for (unsigned k = 0; k < n; k++) {
				unsigned idx = (start + k) % s->range;
				bound++;
				iter_note_insert(s, idx);
				op_set(s, idx, (uint64_t)k << 32 | op_no, c & 16);
				if (check_due(s, k))
					check_map(s, "an insert run during an iteration");
			}
			check_map(s, "an insert run during an iteration");
			continue;
		} else if (what == 14) {
			TRACE("    iter: clear\n");
			memset(it_must, 0, sizeof it_must);
			memset(it_nan_must, 0, sizeof it_nan_must);
			op_clear(s);
			check_map(s, "a clear during an iteration");
			continue;
		} else if ((c >> 4 & 3) == 0) {
			TRACE("    iter: read\n");
			op_read(s, pick_key(r, s), rd_u8(r));
			continue;
		} else if ((c >> 4 & 3) == 1) {
			TRACE("    iter: break\n");
			return; /* leave the loop early */
		} else {
			/* run to the end with no more mutations; the program goes on
			 * after the loop */
			TRACE("    iter: drain\n");
			while (C->iter_next(&it)) {
				if (++steps > bound)
					diverge("%s map: iteration does not end",
					        kind_name[s->kind]);
				check_produced(s, it.key, it.elem);
			}
			break;
		}
		if (++steps > bound)
			diverge("%s map: iteration does not end", kind_name[s->kind]);
		if (!C->iter_next(&it))
			break;
		last = check_produced(s, it.key, it.elem);
	}
	for (unsigned i = 0; i < s->range; i++) {
		if (it_must[i] && !it_produced[i])
			diverge("%s map: iteration missed key %u, present throughout",
			        kind_name[s->kind], i);
	}
	for (unsigned j = 0; j < s->nnan; j++) {
		if (it_nan_must[j] && !it_nan_produced[j])
			diverge("f64 map: iteration missed NaN entry %u, present throughout", j);
	}
	if (C->iter_next(&it))
		diverge("%s map: an ended iteration produced more", kind_name[s->kind]);
}

/* ---- bulk operations: growth at every stage ---- */

static void op_bulk_set(subject *s, unsigned start, unsigned n, uint64_t v, bool typed)
{
	for (unsigned k = 0; k < n; k++) {
		op_set(s, (start + k) % s->range, v + k, typed);
		if (check_due(s, k))
			check_map(s, "an insert run");
	}
}

static void op_bulk_delete(subject *s, unsigned start, unsigned n, bool typed)
{
	for (unsigned k = 0; k < n; k++) {
		op_delete(s, (start + k) % s->range, typed);
		if (check_due(s, k))
			check_map(s, "a delete run");
	}
}

/* Insert a run of keys and delete it again, moving on through the key
 * space: the overflow count only grows, until a same-size grow. */
static void op_churn(subject *s, unsigned start, unsigned n, unsigned rounds, bool typed)
{
	for (unsigned k = 0; k < rounds; k++) {
		unsigned at = (start + k * n) % s->range;
		op_bulk_set(s, at, n, (uint64_t)k << 40, typed);
		op_bulk_delete(s, at, n, typed);
	}
}

/* ------------------------------------------------------------------------ */
/* The program                                                              */
/* ------------------------------------------------------------------------ */

enum {
	OP_MAKE,
	OP_SET,
	OP_SET2,
	OP_READ,
	OP_READ2,
	OP_DELETE,
	OP_CLEAR,
	OP_CLONE,
	OP_LEN,
	OP_ITERATE,
	OP_BULK_SET,
	OP_BULK_DELETE,
	OP_CHURN,
	OP_VERIFY,
	OP_SWITCH,
	OP_COUNT
};

static void run_op(reader *r, subject **cur)
{
	subject *s = *cur;
	unsigned c = rd_u8(r);
	unsigned op = c % OP_COUNT;
	bool typed = c & 0x80;
	op_no++;
	switch (op) {
	case OP_MAKE: {
		unsigned sel = rd_u8(r), hsel = rd_u8(r), rsel = rd_u8(r);
		TRACE("%u %s make\n", op_no, kind_name[s->kind]);
		op_make(s, sel, hsel, rsel);
		check_map(s, "make");
		break;
	}
	case OP_SET:
	case OP_SET2: {
		unsigned idx = pick_key(r, s);
		uint64_t v = rd_u16(r) | (uint64_t)op_no << 16;
		TRACE("%u %s set %u = %#" PRIx64 "%s\n", op_no, kind_name[s->kind], idx, v,
		      typed ? " (typed)" : "");
		op_set(s, idx, v, typed);
		check_map(s, "an assignment");
		break;
	}
	case OP_READ:
	case OP_READ2: {
		unsigned idx = pick_key(r, s), how = rd_u8(r);
		TRACE("%u %s read %u (%u)\n", op_no, kind_name[s->kind], idx, how % 5);
		op_read(s, idx, how);
		break;
	}
	case OP_DELETE: {
		unsigned idx = pick_key(r, s);
		TRACE("%u %s delete %u\n", op_no, kind_name[s->kind], idx);
		op_delete(s, idx, typed);
		check_map(s, "a delete");
		break;
	}
	case OP_CLEAR:
		TRACE("%u %s clear\n", op_no, kind_name[s->kind]);
		op_clear(s);
		check_map(s, "a clear");
		break;
	case OP_CLONE: {
		unsigned how = rd_u8(r);
		TRACE("%u %s clone (%u)\n", op_no, kind_name[s->kind], how & 1);
		op_clone(s, how);
		check_map(s, "a clone");
		break;
	}
	case OP_LEN:
		if (C->len(s->m) != s->count)
			diverge("%s map: len %zu, want %zu", kind_name[s->kind], C->len(s->m),
			        s->count);
		break;
	case OP_ITERATE:
		TRACE("%u %s iterate over %zu\n", op_no, kind_name[s->kind], s->count);
		op_iterate(s, r);
		check_map(s, "an iteration");
		break;
	case OP_BULK_SET: {
		unsigned start = pick_key(r, s), n = rd_u16(r) % (s->range + 1);
		TRACE("%u %s insert %u from %u\n", op_no, kind_name[s->kind], n, start);
		op_bulk_set(s, start, n, (uint64_t)op_no << 32, typed);
		check_map(s, "an insert run");
		break;
	}
	case OP_BULK_DELETE: {
		unsigned start = pick_key(r, s), n = rd_u16(r) % (s->range + 1);
		TRACE("%u %s delete %u from %u\n", op_no, kind_name[s->kind], n, start);
		op_bulk_delete(s, start, n, typed);
		check_map(s, "a delete run");
		break;
	}
	case OP_CHURN: {
		unsigned start = pick_key(r, s), n = rd_u8(r) % 64 + 1, rounds = rd_u8(r) % 32 + 1;
		TRACE("%u %s churn %u x %u from %u\n", op_no, kind_name[s->kind], rounds, n, start);
		op_churn(s, start, n, rounds, typed);
		check_map(s, "a churn");
		break;
	}
	case OP_VERIFY:
		TRACE("%u %s verify\n", op_no, kind_name[s->kind]);
		verify_all(s, c >> 4);
		if (s->m != NULL)
			compare_by_iteration(s, s->m, "a plain iteration");
		break;
	default:
		*cur = &subjects[(c >> 4) % K_COUNT];
		TRACE("%u switch to %s\n", op_no, kind_name[(*cur)->kind]);
		break;
	}
}

/* One run of the program against the generation C. */
static void run_program(const uint8_t *data, size_t size)
{
	reader r = {data, size, 0};
	op_no = 0;
	/* Every map starts made with no hint and a small key range. */
	for (int k = 0; k < K_COUNT; k++) {
		subject *s = &subjects[k];
		s->kind = k;
		s->m = NULL;
		op_make(s, 0, 0, 1);
	}
	subject *cur = &subjects[K_I64];
	while (rd_more(&r) && op_no < MAX_OPS)
		run_op(&r, &cur);
	for (int k = 0; k < K_COUNT; k++) {
		subject *s = &subjects[k];
		check_map(s, "the program");
		verify_all(s, 0);
		if (s->m != NULL)
			compare_by_iteration(s, s->m, "the final iteration");
		C->free(s->m);
		s->m = NULL;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool inited;
	if (!inited) {
		init_keys();
		init_types();
		const char *t = getenv("FUZZ_TRACE");
		trace = t != NULL && *t == '1';
		const char *only = getenv("FUZZ_CORE");
		for (int i = 0; i < NCORES; i++) {
			if (strcmp(cores[i].generation(), cores[i].name) != 0) {
				fprintf(stderr, "fuzz_core: the %s copy says it is %s\n",
				        cores[i].name, cores[i].generation());
				abort();
			}
			core_on[i] = only == NULL || *only == 0 || strcmp(only, cores[i].name) == 0;
		}
		inited = true;
	}
	for (int i = 0; i < NCORES; i++) {
		if (!core_on[i])
			continue;
		C = &cores[i];
		TRACE("== %s map\n", C->name);
		run_program(data, size);
	}
	return 0;
}
