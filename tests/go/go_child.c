/*
 * go_child.c -- the programs that Go's process-level map tests run, each in
 * a process of its own (Go: runtime/testdata/testprog/map.go, crash_test.go,
 * and the per-process hash key of hash_test.go).
 *
 *   go_child hash              prints gomap_memhash and gomap_hash64 of fixed
 *                              input with seed 0
 *   go_child order SEED        gomap_seed_random(SEED), then prints the order
 *                              in which a map of 200 keys iterates and the
 *                              first map seed
 *   go_child nilassign         m[1234] = true on a nil map
 *   go_child concurrentMapWrites | concurrentMapReadWrite |
 *            concurrentMapIterateWrite
 *                              two threads misuse one map 10000 times each
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gomap.h"

static gomap *shared;

static void *write5(void *arg)
{
	for (int i = 0; i < 10000; i++) {
		gomap_i64_set(shared, 5, 0);
		sched_yield(); /* Go: runtime.Gosched */
	}
	return NULL;
}

static void *write6(void *arg)
{
	for (int i = 0; i < 10000; i++) {
		gomap_i64_set(shared, 6, 0);
		sched_yield();
	}
	return NULL;
}

static void *read6(void *arg)
{
	for (int i = 0; i < 10000; i++) {
		(void)gomap_i64_get(shared, 6);
		sched_yield();
	}
	return NULL;
}

static void *iterate(void *arg)
{
	for (int i = 0; i < 10000; i++) {
		gomap_iter it;
		for (gomap_iter_init(shared, &it); gomap_iter_next(&it);)
			;
		sched_yield();
	}
	return NULL;
}

static int pair(void *(*a)(void *), void *(*b)(void *))
{
	shared = gomap_make(&gomap_type_i64_i64, 0);
	pthread_t t1, t2;
	pthread_create(&t1, NULL, a, NULL);
	pthread_create(&t2, NULL, b, NULL);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 64;
	const char *what = argv[1];
	if (strcmp(what, "hash") == 0) {
		printf("%llu %llu\n", (unsigned long long)gomap_memhash("gomap", 5, 0),
		       (unsigned long long)gomap_hash64(12345, 0));
		return 0;
	}
	if (strcmp(what, "order") == 0 && argc == 3) {
		gomap_seed_random(strtoull(argv[2], NULL, 0));
		gomap *m = gomap_make(&gomap_type_i64_i64, 0);
		for (int64_t k = 0; k < 200; k++)
			gomap_i64_set(m, k, k);
		gomap_iter it;
		for (gomap_iter_init(m, &it); gomap_iter_next(&it);)
			printf("%lld ", (long long)*(const int64_t *)it.key);
		gomap_stats st;
		gomap_get_stats(m, &st);
		printf("seed %llu\n", (unsigned long long)st.hash0);
		gomap_free(m);
		return 0;
	}
	if (strcmp(what, "nilassign") == 0) {
		gomap *m = NULL;
		gomap_i64_set(m, 1234, 1);
		return 0;
	}
	if (strcmp(what, "concurrentMapWrites") == 0)
		return pair(write5, write6);
	if (strcmp(what, "concurrentMapReadWrite") == 0)
		return pair(write5, read6);
	if (strcmp(what, "concurrentMapIterateWrite") == 0)
		return pair(write5, iterate);
	return 64;
}
