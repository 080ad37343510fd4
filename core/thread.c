/*
 * thread.c -- thread identity: the numbers and names reports print.
 *
 * A thread gets a small number on its first map operation (the main thread
 * is 1, as Go's main goroutine is), and may be given a name
 * (gomap_thread_set_name), which reports show in place of a goroutine's
 * creation site. Names are stored byte by byte with relaxed atomics, so a
 * report made while a thread renames itself reads a torn name at worst.
 * Each writer also records itself as the holder of a map's write flag
 * (gm_record_writer in internal.h), so that a report can name the other
 * party.
 */
#define _GNU_SOURCE
#include "common.h"

#include <pthread.h>
#include <stdio.h>

enum { MAX_NAMED_THREADS = 1024 };

static int next_thread_id = 2; /* 1 is the main thread */
_Thread_local int gm_my_thread_id;
static char thread_names[MAX_NAMED_THREADS][GM_NAME_LEN];

int gm_thread_id_slow(void)
{
	if (gm_my_thread_id == 0)
		gm_my_thread_id = __atomic_fetch_add(&next_thread_id, 1, __ATOMIC_RELAXED);
	return gm_my_thread_id;
}

/* Another thread writes now: the previous writer becomes the candidate
 * other party of a failed exit check. */
/* A new setter claims the next slot for itself: the increment is atomic,
 * so two writers that race through here get two slots and both records
 * survive for the report (with plain copies, the two could leave one
 * thread's id in both places, and a failed exit check then found no other
 * writer to name). The slot's api and pc are stored by the caller. */
gm_writer *gm_record_other_writer(gomap *h, int id)
{
	unsigned seq = __atomic_add_fetch(&GM_HDR(h)->writer_seq, 1, __ATOMIC_RELAXED);
	gm_writer *w = &GM_HDR(h)->writer[(seq - 1) % GM_WRITERS];
	GM_STORE(&w->api, NULL); /* until the caller stores its own */
	GM_STORE(&w->id, id);
	return w;
}

int gomap_thread_id(void)
{
	return gm_thread_id();
}

void gomap_thread_set_name(const char *name)
{
	int id = gm_thread_id();
	if (id < MAX_NAMED_THREADS) {
		char *slot = thread_names[id];
		size_t n = strnlen(name, GM_NAME_LEN - 1);
		for (size_t i = 0; i < n; i++)
			__atomic_store_n(&slot[i], name[i], __ATOMIC_RELAXED);
		__atomic_store_n(&slot[n], '\0', __ATOMIC_RELAXED);
	}
	char os_name[16];
	snprintf(os_name, sizeof os_name, "%s", name);
	pthread_setname_np(pthread_self(), os_name);
}

void gm_thread_name(int id, char *out)
{
	out[0] = '\0';
	if (id <= 0 || id >= MAX_NAMED_THREADS)
		return;
	for (int i = 0; i < GM_NAME_LEN - 1; i++) {
		out[i] = __atomic_load_n(&thread_names[id][i], __ATOMIC_RELAXED);
		if (out[i] == '\0')
			return;
	}
	out[GM_NAME_LEN - 1] = '\0';
}

__attribute__((constructor)) static void thread_init(void)
{
	/* Constructors run on the main thread. The store is volatile because
	 * clang (-O2, ThreadSanitizer build) otherwise folds a constructor that
	 * only stores a constant into the variable's initial value: every thread
	 * then started as thread 1. */
	*(volatile int *)&gm_my_thread_id = 1;
}
