/*
 * fixcost.c -- what each fix of the catalogue costs, in C: the harness's
 * remedies over the map core, used as the cases' fixed variants use them.
 *
 *   mutex    hz_mutex around every operation   (2.4, 3.1, 3.2, 4.1, 4.3, delete-while-writing)
 *   rwmutex  hz_rwlock: read lock to read       (2.1, 2.5, clear-while-reading,
 *            write lock to write                  clone-while-writing)
 *   syncmap  hz_syncmap (sync.Map's shape)      (2.3's outer map)
 *   shard    hz_shardmap, 16 mutexes            (2.2)
 *   cow      hz_cowmap, copy-on-write           (2.3's inner map, 3.3)
 *
 * Each cell: a map[int64]int64 of -n keys (0..n-1), T threads that each
 * draw a key uniformly and read it (with the -r probability) or store into
 * it, until the cell's time is up. ns/op is the cell's wall time divided by
 * all threads' operations together, as Go's b.RunParallel reports it, and
 * every line is printed in Go's benchmark format so that benchstat reads
 * it:
 *
 *   BenchmarkFix/fix=mutex/read=95-2   <ops>   <ns> ns/op
 *
 * (no -T suffix for one thread, as Go prints GOMAXPROCS=1). The cells of
 * one sample run one after another in a rotating order, so a slow phase of
 * the machine does not always hit the same fix.
 *
 *   gomap-fixcost [-f mutex,rwmutex,syncmap,shard,cow] [-r 100,95,50]
 *                 [-t 1,2,8] [-n 1000] [-s 6] [-m 100]
 *
 * Copy-on-write keeps every retired version until the map is destroyed
 * (harness.h), so a cow cell also ends after COW_MAX_WRITES writes.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

#define MAX_LIST       16
#define COW_MAX_WRITES 4096

enum fix { MUTEX, RWMUTEX, SYNCMAP, SHARD, COW, NFIX };
static const char *const fix_names[NFIX] = {"mutex", "rwmutex", "syncmap", "shard", "cow"};

/* One fix, filled; only the members of its kind are used. */
typedef struct store {
	enum fix fix;
	gomap *m; /* mutex, rwmutex */
	hz_mutex mu;
	hz_rwlock rw;
	hz_syncmap *sm;
	hz_shardmap sh;
	hz_cowmap cow;
} store;

static void store_init(store *s, enum fix fix, int64_t n)
{
	memset(s, 0, sizeof(*s));
	s->fix = fix;
	switch (fix) {
	case MUTEX:
	case RWMUTEX:
		hz_mutex_init(&s->mu);
		hz_rwlock_init(&s->rw);
		s->m = gomap_make(&gomap_type_i64_i64, 0);
		for (int64_t k = 0; k < n; k++)
			gomap_i64_set(s->m, k, k);
		break;
	case SYNCMAP:
		s->sm = hz_syncmap_new();
		for (int64_t k = 0; k < n; k++)
			hz_syncmap_store(s->sm, k, (void *)(intptr_t)(k + 1));
		/* Misses until the dirty map is promoted: every key then sits
		 * in the lock-free snapshot, as after a warm-up. */
		for (int64_t i = 0; i <= n; i++)
			hz_syncmap_load(s->sm, -1);
		break;
	case SHARD:
		hz_shardmap_init(&s->sh);
		for (int64_t k = 0; k < n; k++)
			hz_shardmap_set(&s->sh, k, k);
		break;
	case COW: {
		gomap *m = gomap_make(&gomap_type_i64_i64, 0);
		for (int64_t k = 0; k < n; k++)
			gomap_i64_set(m, k, k);
		hz_cowmap_init(&s->cow, m);
		break;
	}
	case NFIX:
		break;
	}
}

static void store_destroy(store *s)
{
	switch (s->fix) {
	case MUTEX:
	case RWMUTEX:
		gomap_free(s->m);
		hz_mutex_destroy(&s->mu);
		hz_rwlock_destroy(&s->rw);
		break;
	case SYNCMAP:
		hz_syncmap_destroy(s->sm);
		break;
	case SHARD:
		hz_shardmap_destroy(&s->sh);
		break;
	case COW:
		hz_cowmap_destroy(&s->cow);
		break;
	case NFIX:
		break;
	}
}

static void cow_set(gomap *m, void *arg)
{
	const int64_t *kv = arg;
	gomap_i64_set(m, kv[0], kv[1]);
}

static int64_t store_load(store *s, int64_t k)
{
	int64_t v = 0;
	switch (s->fix) {
	case MUTEX:
		hz_mutex_lock(&s->mu);
		gomap_i64_lookup(s->m, k, &v);
		hz_mutex_unlock(&s->mu);
		break;
	case RWMUTEX:
		hz_rwlock_rdlock(&s->rw);
		gomap_i64_lookup(s->m, k, &v);
		hz_rwlock_unlock(&s->rw);
		break;
	case SYNCMAP:
		v = (int64_t)(intptr_t)hz_syncmap_load(s->sm, k);
		break;
	case SHARD:
		hz_shardmap_get(&s->sh, k, &v);
		break;
	case COW:
		gomap_i64_lookup(hz_cowmap_load(&s->cow), k, &v);
		break;
	case NFIX:
		break;
	}
	return v;
}

static void store_set(store *s, int64_t k, int64_t v)
{
	switch (s->fix) {
	case MUTEX:
		hz_mutex_lock(&s->mu);
		gomap_i64_set(s->m, k, v);
		hz_mutex_unlock(&s->mu);
		break;
	case RWMUTEX:
		hz_rwlock_wrlock(&s->rw);
		gomap_i64_set(s->m, k, v);
		hz_rwlock_unlock(&s->rw);
		break;
	case SYNCMAP:
		hz_syncmap_store(s->sm, k, (void *)(intptr_t)(v | 1));
		break;
	case SHARD:
		hz_shardmap_set(&s->sh, k, v);
		break;
	case COW: {
		int64_t kv[2] = {k, v};
		hz_cowmap_update(&s->cow, cow_set, kv);
		break;
	}
	case NFIX:
		break;
	}
}

/* One cell's shared state. */
typedef struct cell {
	store st;
	int64_t keys;
	unsigned read_pct;
	atomic_bool stop;
	atomic_int ready;
	atomic_bool go;
	atomic_llong writes;
} cell;

typedef struct worker {
	cell *c;
	uint64_t seed;
	long long ops;
	int64_t sum;
} worker;

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static void *work(void *arg)
{
	worker *w = arg;
	cell *c = w->c;
	uint64_t r = w->seed;
	long long ops = 0, writes = 0;
	int64_t sum = 0;
	atomic_fetch_add(&c->ready, 1);
	while (!atomic_load_explicit(&c->go, memory_order_acquire))
		;
	while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
		for (int i = 0; i < 64; i++) {
			uint64_t x = splitmix(&r);
			int64_t k = (int64_t)((x >> 8) % (uint64_t)c->keys);
			if ((x & 0xff) * 100 < (uint64_t)c->read_pct * 256) {
				sum += store_load(&c->st, k);
			} else {
				store_set(&c->st, k, sum);
				writes++;
			}
		}
		ops += 64;
		if (c->st.fix == COW && writes) {
			if (atomic_fetch_add(&c->writes, writes) + writes >= COW_MAX_WRITES)
				atomic_store(&c->stop, true);
			writes = 0;
		}
	}
	w->ops = ops;
	w->sum = sum;
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int64_t checksum;

/* Runs one cell and prints its line. */
static void run_cell(enum fix fix, unsigned read_pct, int threads, int64_t keys, unsigned ms,
                     uint64_t seed)
{
	static cell c;
	memset(&c, 0, sizeof(c));
	store_init(&c.st, fix, keys);
	c.keys = keys;
	c.read_pct = read_pct;
	pthread_t tid[64];
	worker w[64];
	for (int i = 0; i < threads; i++) {
		w[i] = (worker){.c = &c, .seed = seed + (uint64_t)i * 0x632BE59BD9B4E019ULL};
		if (pthread_create(&tid[i], NULL, work, &w[i]) != 0)
			hz_die("pthread_create failed");
	}
	while (atomic_load(&c.ready) < threads)
		sched_yield();
	double t0 = now_s();
	atomic_store_explicit(&c.go, true, memory_order_release);
	while (!atomic_load(&c.stop) && (now_s() - t0) * 1000 < ms) {
		struct timespec slice = {0, 1000000L}; /* 1 ms: notices a cow cell's early stop */
		nanosleep(&slice, NULL);
	}
	atomic_store(&c.stop, true);
	long long ops = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		ops += w[i].ops;
		checksum += w[i].sum;
	}
	double el = now_s() - t0;
	store_destroy(&c.st);
	char suffix[16] = "";
	if (threads > 1)
		snprintf(suffix, sizeof(suffix), "-%d", threads);
	printf("BenchmarkFix/fix=%s/read=%u%s\t%lld\t%.2f ns/op\n", fix_names[fix], read_pct,
	       suffix, ops, ops ? el * 1e9 / (double)ops : 0.0);
	fflush(stdout);
}

/* Parses a comma-separated list of numbers; returns how many. */
static int parse_list(const char *s, unsigned *out)
{
	int n = 0;
	for (const char *p = s; *p && n < MAX_LIST;) {
		char *end;
		unsigned long v = strtoul(p, &end, 10);
		if (end == p)
			hz_die("fixcost: bad number list: %s", s);
		out[n++] = (unsigned)v;
		p = *end == ',' ? end + 1 : end;
	}
	return n;
}

static void usage(void)
{
	fprintf(stderr, "usage: gomap-fixcost [-f mutex,rwmutex,syncmap,shard,cow] "
	                "[-r 100,95,50] [-t 1,2,8] [-n keys] [-s samples] [-m ms]\n");
	exit(64);
}

int main(int argc, char **argv)
{
	bool use[NFIX] = {true, true, true, true, true};
	unsigned reads[MAX_LIST] = {100, 95, 50}, threads[MAX_LIST] = {1, 2, 8};
	int nreads = 3, nthreads = 3, samples = 6;
	unsigned ms = 100;
	int64_t keys = 1000;
	int opt;
	while ((opt = getopt(argc, argv, "f:r:t:n:s:m:h")) != -1) {
		switch (opt) {
		case 'f':
			memset(use, 0, sizeof(use));
			for (int f = 0; f < NFIX; f++) {
				const char *p = strstr(optarg, fix_names[f]);
				size_t len = strlen(fix_names[f]);
				/* whole names only: "mutex" is not found inside "rwmutex" */
				while (p && ((p != optarg && p[-1] != ',') ||
				             (p[len] != ',' && p[len] != '\0')))
					p = strstr(p + 1, fix_names[f]);
				use[f] = p != NULL;
			}
			break;
		case 'r':
			nreads = parse_list(optarg, reads);
			break;
		case 't':
			nthreads = parse_list(optarg, threads);
			break;
		case 'n':
			keys = strtoll(optarg, NULL, 10);
			break;
		case 's':
			samples = atoi(optarg);
			break;
		case 'm':
			ms = (unsigned)atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (keys < 1 || samples < 1 || ms < 1)
		usage();
	for (int i = 0; i < nthreads; i++)
		if (threads[i] < 1 || threads[i] > 64)
			hz_die("fixcost: threads must be 1..64");
	for (int i = 0; i < nreads; i++)
		if (reads[i] > 100)
			hz_die("fixcost: a read ratio is a percentage");

	int ncells = 0;
	struct {
		enum fix fix;
		unsigned read, threads;
	} cells[NFIX * MAX_LIST * MAX_LIST];
	for (int f = 0; f < NFIX; f++)
		for (int r = 0; r < nreads; r++)
			for (int t = 0; t < nthreads; t++)
				if (use[f])
					cells[ncells++] =
					        (typeof(cells[0])){f, reads[r], threads[t]};
	printf("goos: linux\npkg: gomap-repro/bench/fixcost (C, harness remedies)\n");
	printf("keys: %lld\n", (long long)keys);
	uint64_t seed = 0x0123456789ABCDEFULL;
	for (int s = 0; s < samples; s++)
		for (int i = 0; i < ncells; i++) {
			int j = (i + s * 7) % ncells; /* rotate the order sample by sample */
			run_cell(cells[j].fix, cells[j].read, (int)cells[j].threads, keys, ms,
			         splitmix(&seed));
		}
	fprintf(stderr, "checksum %lld\n", (long long)checksum);
	return 0;
}
