/*
 * gomap_bench.c -- single-thread cost of the map core, in ns per operation,
 * with the detector compiled in and compiled out, measured side by side.
 *
 *   gomap-bench -k i64|str -n N [-r SAMPLES] [-w WARMUPS] [-s SEED] [-b on,off,ctl]
 *
 * One process holds three builds of the core (see CMakeLists.txt):
 *   on   the library `gomap`, as every case links it (detector compiled in);
 *   off  `gomap_nodetect`, the same sources with -DGOMAP_DETECTOR=0, linked
 *        with its symbols renamed to nodetect_*;
 *   ctl  a second copy of `gomap`, renamed to again_*: the A/A control.
 * The builds take turns round by round on the same keys, so a slow phase
 * of the shared machine hits all of them alike, and the ratio of two
 * builds is taken between samples that ran interleaved. The control is
 * the same code as `on` at other addresses: whatever its ratio to `on`
 * shows is code placement and noise, not the detector.
 *
 * Keys follow the peers benchmark kit (../shared/peers), so that numbers
 * from both can sit side by side:
 *   - int key i: the i-th output of splitmix64 started at KEY_SEED;
 *   - string key i: "key-%llu" of a bijective 40-bit mix of i (15..17 bytes,
 *     mostly 16), stored back to back in one buffer;
 *   - keys 0..N-1 are inserted, keys N..2N-1 are the absent keys for misses;
 *   - lookups and deletes walk the present keys in a shuffled order, and
 *     string lookups read a second copy of the bytes (equal contents,
 *     different addresses).
 *
 * One round on a fresh map (workloads.h): insert N keys into
 * gomap_make(t, 0), look all of them up, look up N absent keys, iterate once
 * summing the values, delete all N, then insert the N keys into
 * gomap_make(t, N). Every round checks its results (lengths, hit counts,
 * value sums) and exits with status 3 on a wrong answer. A sample is
 * enough rounds for about 1,000,000 operations per workload; with several
 * rounds (small N) each round is timed on its own, so making and freeing
 * maps stays outside the clock, and the key orders are reshuffled before
 * every round so that the branch predictor cannot learn one fixed sequence.
 *
 * Output (TSV), one row per measured sample, build and workload:
 *   rep <build> <kind> <workload> <n> <sample> <ns/op>
 * then per workload the median (and min, max) of each build:
 *   med <build> <kind> <workload> <n> <median> <min> <max>
 * and the ratios of the medians:
 *   ratio on/<build> <kind> <workload> <n> <ratio>
 * Lines starting with '#' are comments. bench/run.sh turns several runs of
 * this program into one table.
 */
#define _GNU_SOURCE
#include "gomap.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Keys and shuffles (the same sequences as the peers kit)                  */
/* ------------------------------------------------------------------------ */

#define SM64_STEP      0x9E3779B97F4A7C15ull
#define KEY_SEED       0x0123456789ABCDEFull /* int keys */
#define ORDER_SEED     42ull                 /* lookup and delete order */
#define RESHUFFLE_SEED 7ull                  /* per-round reshuffle, small N */
#define OPS_PER_SAMPLE 1000000ull
#define MAX_SAMPLES    64

/* The splitmix64 output function: a bijection on 64-bit words. */
static inline uint64_t sm64_mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static inline uint64_t sm64_next(uint64_t *state)
{
	*state += SM64_STEP;
	return sm64_mix(*state);
}

/* A draw in [0, n) for n < 2^32 from the top half of a random word. */
static inline uint32_t draw_below(uint64_t r, uint32_t n)
{
	return (uint32_t)(((r >> 32) * (uint64_t)n) >> 32);
}

/* Distinct i give distinct keys: the counter steps by an odd constant and
 * the mix is a bijection. */
static inline int64_t int_key(uint64_t i)
{
	return (int64_t)sm64_mix(KEY_SEED + (i + 1) * SM64_STEP);
}

/* A bijection on [0, 2^40): distinct i give distinct string keys. */
static inline uint64_t mix40(uint64_t x)
{
	const uint64_t mask = (1ull << 40) - 1;
	x = (x + 0x9E3779B97Full) & mask;
	x = ((x ^ (x >> 20)) * 0xBF58476D1Dull) & mask;
	x = ((x ^ (x >> 17)) * 0x94D049BB13ull) & mask;
	return x ^ (x >> 19);
}

/* Writes string key i with its NUL into dst; returns its length. */
static int str_key(char *dst, uint64_t i)
{
	return sprintf(dst, "key-%" PRIu64, mix40(i));
}

/* Fisher-Yates over 0..n-1, driven by splitmix64(ORDER_SEED). */
static uint32_t *shuffled_indices(uint32_t n)
{
	uint32_t *p = malloc(sizeof *p * (n ? n : 1));
	uint64_t s = ORDER_SEED;

	if (!p)
		abort();
	for (uint32_t i = 0; i < n; i++)
		p[i] = i;
	for (uint32_t i = n; i > 1; i--) {
		uint32_t j = draw_below(sm64_next(&s), i);
		uint32_t t = p[i - 1];
		p[i - 1] = p[j];
		p[j] = t;
	}
	return p;
}

static void reshuffle_i64(int64_t *a, uint32_t n, uint64_t *s)
{
	for (uint32_t i = n; i > 1; i--) {
		uint32_t j = draw_below(sm64_next(s), i);
		int64_t t = a[i - 1];
		a[i - 1] = a[j];
		a[j] = t;
	}
}

/* A string key as the benchmark holds it: pointer and length. */
typedef struct skey {
	const char *ptr;
	size_t len;
} skey;

static void reshuffle_str(skey *a, uint32_t n, uint64_t *s)
{
	for (uint32_t i = n; i > 1; i--) {
		uint32_t j = draw_below(sm64_next(s), i);
		skey t = a[i - 1];
		a[i - 1] = a[j];
		a[j] = t;
	}
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fprintf(stderr, "gomap-bench: out of memory\n");
		exit(1);
	}
	return p;
}

/* All key arrays of one (kind, N) cell. */
typedef struct keyset {
	uint32_t n;
	int64_t *ins, *hit, *miss; /* int: insert order, shuffled present, absent */
	skey *s_ins, *s_hit, *s_miss;
	char *buf_ins, *buf_hit, *buf_miss; /* string bytes, NUL-separated */
} keyset;

static void keyset_make_i64(keyset *k)
{
	uint32_t *p = shuffled_indices(k->n);

	k->ins = xmalloc(sizeof(int64_t) * k->n);
	k->hit = xmalloc(sizeof(int64_t) * k->n);
	k->miss = xmalloc(sizeof(int64_t) * k->n);
	for (uint32_t i = 0; i < k->n; i++)
		k->ins[i] = int_key(i);
	for (uint32_t i = 0; i < k->n; i++)
		k->hit[i] = k->ins[p[i]];
	for (uint32_t i = 0; i < k->n; i++)
		k->miss[i] = int_key((uint64_t)k->n + i);
	free(p);
}

static void keyset_make_str(keyset *k)
{
	uint32_t *p = shuffled_indices(k->n);
	size_t cap = (size_t)k->n * 18 + 64, off;

	k->buf_ins = xmalloc(cap);
	k->buf_hit = xmalloc(cap);
	k->buf_miss = xmalloc(cap);
	k->s_ins = xmalloc(sizeof(skey) * k->n);
	k->s_hit = xmalloc(sizeof(skey) * k->n);
	k->s_miss = xmalloc(sizeof(skey) * k->n);
	off = 0;
	for (uint32_t i = 0; i < k->n; i++) {
		int len = str_key(k->buf_ins + off, i);
		k->s_ins[i] = (skey){k->buf_ins + off, (size_t)len};
		off += (size_t)len + 1;
	}
	/* The lookup keys are a second copy of the bytes, in shuffled order. */
	off = 0;
	for (uint32_t i = 0; i < k->n; i++) {
		skey src = k->s_ins[p[i]];
		memcpy(k->buf_hit + off, src.ptr, src.len + 1);
		k->s_hit[i] = (skey){k->buf_hit + off, src.len};
		off += src.len + 1;
	}
	off = 0;
	for (uint32_t i = 0; i < k->n; i++) {
		int len = str_key(k->buf_miss + off, (uint64_t)k->n + i);
		k->s_miss[i] = (skey){k->buf_miss + off, (size_t)len};
		off += (size_t)len + 1;
	}
	free(p);
}

static void keyset_free(keyset *k)
{
	free(k->ins);
	free(k->hit);
	free(k->miss);
	free(k->s_ins);
	free(k->s_hit);
	free(k->s_miss);
	free(k->buf_ins);
	free(k->buf_hit);
	free(k->buf_miss);
}

/* ------------------------------------------------------------------------ */
/* Workloads                                                                */
/* ------------------------------------------------------------------------ */

enum workload { W_INSERT, W_INSERT_HINT, W_HIT, W_MISS, W_DELETE, W_ITERATE, W_COUNT };

static const char *const workload_name[W_COUNT] = {
        [W_INSERT] = "insert",    [W_INSERT_HINT] = "insert_hint", [W_HIT] = "lookup_hit",
        [W_MISS] = "lookup_miss", [W_DELETE] = "delete",           [W_ITERATE] = "iterate",
};

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define CHECK(cond, what)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "gomap-bench: wrong result: %s\n", what);                  \
			exit(3);                                                                   \
		}                                                                                  \
	} while (0)

/* The core with the detector compiled in, under its own names. */
#define GB_API(name) name
#define GB_SUFFIX    on
#include "workloads.h"
#undef GB_API
#undef GB_SUFFIX

/* The other two builds are linked under renamed symbols (rename-symbols.sh):
 *   nodetect_*  gomap_nodetect, the detector compiled out;
 *   again_*     a second copy of gomap, the detector compiled in: the A/A
 *               control. Same code, other addresses: its ratio to `on`
 *               shows how far code placement and noise alone move a number.
 * The declarations take their types from gomap.h, so they cannot drift. */
#define DECLARE_RENAMED(prefix)                                                                    \
	extern __typeof__(gomap_type_i64_i64) prefix##gomap_type_i64_i64;                          \
	extern __typeof__(gomap_type_str_i64) prefix##gomap_type_str_i64;                          \
	extern __typeof__(gomap_make) prefix##gomap_make;                                          \
	extern __typeof__(gomap_free) prefix##gomap_free;                                          \
	extern __typeof__(gomap_len) prefix##gomap_len;                                            \
	extern __typeof__(gomap_i64_get) prefix##gomap_i64_get;                                    \
	extern __typeof__(gomap_i64_lookup) prefix##gomap_i64_lookup;                              \
	extern __typeof__(gomap_i64_set) prefix##gomap_i64_set;                                    \
	extern __typeof__(gomap_i64_delete) prefix##gomap_i64_delete;                              \
	extern __typeof__(gomap_str_get) prefix##gomap_str_get;                                    \
	extern __typeof__(gomap_str_lookup) prefix##gomap_str_lookup;                              \
	extern __typeof__(gomap_str_set) prefix##gomap_str_set;                                    \
	extern __typeof__(gomap_str_delete) prefix##gomap_str_delete;                              \
	extern __typeof__(gomap_iter_init) prefix##gomap_iter_init;                                \
	extern __typeof__(gomap_iter_next) prefix##gomap_iter_next;                                \
	extern __typeof__(gomap_detector_enabled) prefix##gomap_detector_enabled

DECLARE_RENAMED(nodetect_);
DECLARE_RENAMED(again_);

#define GB_API(name) nodetect_##name
#define GB_SUFFIX    off
#include "workloads.h"
#undef GB_API
#undef GB_SUFFIX

#define GB_API(name) again_##name
#define GB_SUFFIX    ctl
#include "workloads.h"
#undef GB_API
#undef GB_SUFFIX

/* The builds side by side. */
typedef struct variant {
	const char *name;
	int detector; /* what the build must report through gomap_detector_enabled */
	int (*detector_enabled)(void);
	void (*round_i64)(const keyset *k, uint64_t *acc);
	void (*round_str)(const keyset *k, uint64_t *acc);
} variant;

enum { V_ON, V_OFF, V_CTL, V_COUNT };

static const variant variants[V_COUNT] = {
        [V_ON] = {"on", 1, gomap_detector_enabled, round_i64_on, round_str_on},
        [V_OFF] = {"off", 0, nodetect_gomap_detector_enabled, round_i64_off, round_str_off},
        [V_CTL] = {"ctl", 1, again_gomap_detector_enabled, round_i64_ctl, round_str_ctl},
};

/* ------------------------------------------------------------------------ */
/* Driver                                                                   */
/* ------------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median_of(double *v, int k)
{
	qsort(v, (size_t)k, sizeof *v, cmp_double);
	return (k & 1) ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

/* Parses "on,off,ctl" (any subset, any order) into run[]; 0 on error. */
static int parse_builds(const char *list, int *run)
{
	char buf[64];
	int any = 0;

	if (strlen(list) >= sizeof buf)
		return 0;
	strcpy(buf, list);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		int found = 0;
		for (int v = 0; v < V_COUNT; v++) {
			if (strcmp(tok, variants[v].name) == 0) {
				run[v] = 1;
				found = any = 1;
			}
		}
		if (!found)
			return 0;
	}
	return any;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: gomap-bench -k i64|str -n N [-r SAMPLES] [-w WARMUPS] [-s SEED]\n"
	           "                   [-b on,off,ctl]\n"
	           "  -k  key kind: i64 (int64 keys) or str (~16-byte string keys)\n"
	           "  -n  entries per map, 1..2^31-1\n"
	           "  -r  measured samples (default 5, at most 64); -w warm-up samples (1)\n"
	           "  -s  seed of the per-round reshuffle at small N (default 7)\n"
	           "  -b  builds of the core to run, taking turns round by round: on\n"
	           "      (detector compiled in), off (compiled out), ctl (a second copy\n"
	           "      of `on`: the A/A control); default on,off,ctl\n");
}

int main(int argc, char **argv)
{
	const char *kind = "i64", *builds = "on,off,ctl";
	unsigned long long n = 1000000, seed = RESHUFFLE_SEED;
	int samples = 5, warmups = 1, c, run[V_COUNT] = {0};

	while ((c = getopt(argc, argv, "k:n:r:w:s:b:h")) != -1) {
		switch (c) {
		case 'k':
			kind = optarg;
			break;
		case 'n':
			n = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			samples = atoi(optarg);
			break;
		case 'w':
			warmups = atoi(optarg);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 10);
			break;
		case 'b':
			builds = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 64;
		}
	}
	const int is_str = strcmp(kind, "str") == 0;
	if ((!is_str && strcmp(kind, "i64") != 0) || n == 0 || n > 0x7fffffffull || samples < 1 ||
	    samples > MAX_SAMPLES || warmups < 0 || optind != argc || !parse_builds(builds, run)) {
		usage(stderr);
		return 64;
	}
	for (int v = 0; v < V_COUNT; v++) {
		if (variants[v].detector_enabled() != variants[v].detector) {
			fprintf(stderr, "gomap-bench: the '%s' build reports detector=%d\n",
			        variants[v].name, variants[v].detector_enabled());
			return 1;
		}
	}
	int order[V_COUNT], nrun = 0;
	for (int v = 0; v < V_COUNT; v++)
		if (run[v])
			order[nrun++] = v;

	keyset k = {.n = (uint32_t)n};
	if (is_str)
		keyset_make_str(&k);
	else
		keyset_make_i64(&k);

	const uint64_t rounds = n >= OPS_PER_SAMPLE ? 1 : OPS_PER_SAMPLE / n;
	static double result[V_COUNT][W_COUNT][MAX_SAMPLES];
	uint64_t rs = seed, turn = 0;

	printf("# gomap-bench kind=%s n=%llu builds=%s rounds_per_sample=%" PRIu64
	       " samples=%d warmups=%d\n",
	       kind, n, builds, rounds, samples, warmups);
	for (int s = -warmups; s < samples; s++) {
		uint64_t acc[V_COUNT][W_COUNT] = {{0}};
		for (uint64_t r = 0; r < rounds; r++) {
			if (rounds > 1) {
				if (is_str) {
					reshuffle_str(k.s_ins, k.n, &rs);
					reshuffle_str(k.s_hit, k.n, &rs);
					reshuffle_str(k.s_miss, k.n, &rs);
				} else {
					reshuffle_i64(k.ins, k.n, &rs);
					reshuffle_i64(k.hit, k.n, &rs);
					reshuffle_i64(k.miss, k.n, &rs);
				}
			}
			/* Every build runs the same key order; who goes first rotates. */
			for (int i = 0; i < nrun; i++) {
				int v = order[(turn + (uint64_t)i) % (uint64_t)nrun];
				if (is_str)
					variants[v].round_str(&k, acc[v]);
				else
					variants[v].round_i64(&k, acc[v]);
			}
			turn++;
		}
		if (s < 0)
			continue;
		for (int i = 0; i < nrun; i++) {
			int v = order[i];
			for (int w = 0; w < W_COUNT; w++) {
				result[v][w][s] = (double)acc[v][w] / (double)(rounds * n);
				printf("rep\t%s\t%s\t%s\t%llu\t%d\t%.3f\n", variants[v].name, kind,
				       workload_name[w], n, s, result[v][w][s]);
			}
		}
		fflush(stdout);
	}
	/* Summary: the median of each build, and the ratios to `on`. */
	for (int w = 0; w < W_COUNT; w++) {
		double med[V_COUNT] = {0};
		for (int i = 0; i < nrun; i++) {
			int v = order[i];
			med[v] = median_of(result[v][w], samples);
			printf("med\t%s\t%s\t%s\t%llu\t%.3f\t%.3f\t%.3f\n", variants[v].name, kind,
			       workload_name[w], n, med[v], result[v][w][0],
			       result[v][w][samples - 1]);
		}
		for (int v = V_OFF; v < V_COUNT; v++)
			if (run[V_ON] && run[v])
				printf("ratio\ton/%s\t%s\t%s\t%llu\t%.4f\n", variants[v].name, kind,
				       workload_name[w], n, med[V_ON] / med[v]);
	}
	keyset_free(&k);
	return 0;
}
