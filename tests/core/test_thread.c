/*
 * test_thread.c -- the small thread numbers and names used in reports.
 */
#define _GNU_SOURCE /* pthread_getname_np */
#include <pthread.h>

#include "test_util.h"

static void *number_twice(void *arg)
{
	int *out = arg;
	out[0] = gomap_thread_id();
	out[1] = gomap_thread_id();
	return NULL;
}

Test(thread, a_thread_keeps_its_number)
{
	int first = gomap_thread_id();
	cr_assert(first > 0, "thread number %d", first);
	cr_assert(eq(int, gomap_thread_id(), first));
}

Test(thread, threads_get_distinct_numbers)
{
	enum { N = 4 };
	int ids[N][2];
	pthread_t t[N];
	for (int i = 0; i < N; i++)
		cr_assert(pthread_create(&t[i], NULL, number_twice, ids[i]) == 0);
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	int mine = gomap_thread_id();
	for (int i = 0; i < N; i++) {
		cr_assert(eq(int, ids[i][0], ids[i][1]), "thread %d changed its number", i);
		cr_assert(ids[i][0] > 0);
		cr_assert(ids[i][0] != mine, "thread %d shares number %d with the test thread", i,
		          mine);
		for (int j = 0; j < i; j++)
			cr_assert(ids[i][0] != ids[j][0], "threads %d and %d share number %d", i, j,
			          ids[i][0]);
	}
}

static void *name_self(void *arg)
{
	gomap_thread_set_name("worker-7");
	char *out = arg;
	pthread_getname_np(pthread_self(), out, 16);
	return NULL;
}

Test(thread, set_name_also_names_the_os_thread)
{
	char name[16] = "";
	pthread_t t;
	cr_assert(pthread_create(&t, NULL, name_self, name) == 0);
	pthread_join(t, NULL);
	cr_assert(eq(str, name, "worker-7"));
}
