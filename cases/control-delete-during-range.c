/*
 * control-delete-during-range: deleting entries while ranging over the
 * same map, in the *same* thread. A page claims this panics; it never does.
 *
 * Go:      for k := range m { if k%2 == 0 { delete(m, k) } }
 * Expect:  no error: prints DONE, exit 0.
 *
 * The language allows it: a delete finishes (and clears the write flag)
 * before the next range step looks at the flag, and every entry not yet
 * deleted is still visited exactly once. This program checks both.
 */
#include <stdlib.h>

#include "harness.h"

#define KEYS 1000

static void run_control(void)
{
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	for (int64_t k = 0; k < KEYS; k++)
		gomap_i64_set(m, k, k);

	for (int round = 0; round < hz_loops(20); round++) {
		int *visits = calloc(KEYS, sizeof(*visits));
		gomap_iter it;
		for (gomap_iter_init(m, &it); gomap_iter_next(&it);) {
			int64_t k = *(const int64_t *)it.key;
			visits[k]++;
			if (k % 2 == 0)
				gomap_i64_delete(m, k);
		}
		for (int64_t k = 0; k < KEYS; k++) {
			bool present = k % 2 == 1 || round == 0;
			if (present && visits[k] != 1)
				hz_die("key %lld visited %d times, want 1", (long long)k,
				       visits[k]);
		}
		free(visits);
		for (int64_t k = 0; k < KEYS; k += 2) /* put them back for the next round */
			gomap_i64_set(m, k, k);
	}
	if (gomap_len(m) != KEYS)
		hz_die("len %zu, want %d", gomap_len(m), KEYS);
	gomap_free(m);
}

HZ_CASE({"control", run_control})
