/*
 * report_child.c -- scenarios whose report test_report.c reads, one per
 * argument, each in a fresh process (each ends with the detector's report).
 * Built with the case programs' compile options (hz_case_frames in
 * harness/CMakeLists.txt), so its frames are named as a case's would be.
 *
 *   writer-keeps-writing  a reader meets a writer's flag; the writer then
 *                         writes 500 more times before the report prints
 *                         the flight recorder (run with GOMAP_TIMELINE=1).
 *   cloned-function       the same overlap, but the reader's map read is
 *                         made by a function that GCC, left to itself,
 *                         clones for its constant arguments
 *                         (read_twice.constprop.0): the report must name
 *                         read_twice.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "gomap.h"

static gomap *m;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool flag_set, detected, writes_done;
static _Thread_local bool is_writer;

#define LATER_WRITES 500 /* the ring keeps 64 events */

static void wait_for(bool *cond)
{
	pthread_mutex_lock(&mu);
	while (!*cond)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static void announce(bool *cond)
{
	pthread_mutex_lock(&mu);
	*cond = true;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

/* The writer's first write holds its flag until the reader has detected. */
static void on_write_set(gomap_event ev, gomap *h, gomap_op op, void *arg)
{
	(void)ev, (void)h, (void)op, (void)arg;
	if (!is_writer || flag_set)
		return;
	announce(&flag_set);
	wait_for(&detected);
}

/* The reader checks the flag only once it is set. */
static void on_read_entry(gomap_event ev, gomap *h, gomap_op op, void *arg)
{
	(void)ev, (void)h, (void)op, (void)arg;
	if (!is_writer)
		wait_for(&flag_set);
}

/* The report is made only after the writer's later writes. */
static void on_detected(gomap_event ev, gomap *h, gomap_op op, void *arg)
{
	(void)ev, (void)h, (void)op, (void)arg;
	announce(&detected);
	wait_for(&writes_done);
}

static void *writer(void *arg)
{
	(void)arg;
	is_writer = true;
	gomap_thread_set_name("writer");
	gomap_i64_set(m, 1, 1);
	for (int i = 0; i < LATER_WRITES; i++)
		gomap_i64_set(m, 2, i);
	announce(&writes_done);
	for (;;)
		gomap_i64_set(m, 2, 0); /* as a user's loop would, until the end */
	return NULL;
}

/* Called with constants only: a candidate for interprocedural cloning. */
static int64_t read_twice(gomap *h, int64_t k, int times)
{
	int64_t sum = 0;
	for (int i = 0; i < times; i++)
		sum += gomap_i64_get(h, k);
	return sum;
}

static bool cloned;

static void *reader(void *arg)
{
	(void)arg;
	gomap_thread_set_name("reader");
	if (cloned)
		printf("sum %lld\n", (long long)read_twice(m, 1, 2));
	else
		(void)gomap_i64_get(m, 1);
	return NULL;
}

static int overlap(void)
{
	m = gomap_make(&gomap_type_i64_i64, 0);
	gomap_i64_set(m, 1, 0);
	gomap_set_hook(GOMAP_EV_WRITE_SET, on_write_set, NULL);
	gomap_set_hook(GOMAP_EV_READ_ENTRY, on_read_entry, NULL);
	gomap_set_hook(GOMAP_EV_DETECTED, on_detected, NULL);
	pthread_t w, r;
	pthread_create(&w, NULL, writer, NULL);
	pthread_create(&r, NULL, reader, NULL);
	pthread_join(r, NULL);
	return 1; /* not reached: the report ends the process */
}

int main(int argc, char **argv)
{
	gomap_thread_set_name("main");
	if (argc == 2 && strcmp(argv[1], "writer-keeps-writing") == 0)
		return overlap();
	if (argc == 2 && strcmp(argv[1], "cloned-function") == 0) {
		cloned = true;
		return overlap();
	}
	fprintf(stderr, "usage: %s writer-keeps-writing|cloned-function\n", argv[0]);
	return 64;
}
