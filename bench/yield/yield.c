/*
 * yield.c -- what a yield and a thread start cost in C, the figures the
 * harness's natural-mode hz_yield is built on; bench/yield/yield.go
 * measures the same for Go (runtime.Gosched, a goroutine start).
 *
 *   cc -O2 -pthread -o /tmp/yield-c bench/yield/yield.c && /tmp/yield-c
 *
 * Prints the mean cost of one sched_yield() over 10^6 calls and the mean
 * and worst delay from pthread_create() to the new thread's first line,
 * over 200 threads. Both depend on the machine's load: run it beside
 * yield.go, and note `uptime`.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void *started(void *arg)
{
	double *t = arg;
	*t = now_ns() - *t; /* the creator stored its clock here */
	return NULL;
}

int main(void)
{
	enum { YIELDS = 1000000, THREADS = 200 };
	double t = now_ns();
	for (int i = 0; i < YIELDS; i++)
		sched_yield();
	printf("sched_yield: %.0f ns per call\n", (now_ns() - t) / YIELDS);

	double sum = 0, worst = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_t th;
		double d = now_ns();
		if (pthread_create(&th, NULL, started, &d) != 0)
			return 1;
		pthread_join(th, NULL);
		sum += d;
		worst = d > worst ? d : worst;
	}
	printf("thread start: %.1f us mean, %.1f us worst\n", sum / THREADS / 1e3, worst / 1e3);
	return 0;
}
