/*
 * instrument.c -- the instrumentation points' one switch and the hook registry.
 *
 * Every map operation loads one word, gm_instrumented, once; while it is
 * zero an instrumentation point costs a single predictable branch
 * (gm_hook in internal.h). The word has one bit per listener: hooks
 * installed through gomap_set_hook (the harness's forced schedule, tests)
 * and the flight recorder (timeline.c). When a bit is set, gm_instrument
 * feeds the event to the recorder and to the hook installed for it.
 */
#include "common.h"

gomap_hook_fn gm_hooks[GOMAP_EV_COUNT_];
void *gm_hook_args[GOMAP_EV_COUNT_];
unsigned gm_instrumented;

void gomap_set_hook(gomap_event ev, gomap_hook_fn fn, void *arg)
{
	if ((unsigned)ev >= GOMAP_EV_COUNT_)
		return;
	__atomic_store_n(&gm_hook_args[ev], arg, __ATOMIC_RELAXED);
	__atomic_store_n(&gm_hooks[ev], fn, __ATOMIC_RELEASE);
	bool any = false;
	for (int i = 0; i < GOMAP_EV_COUNT_; i++)
		any |= __atomic_load_n(&gm_hooks[i], __ATOMIC_RELAXED) != NULL;
	if (any)
		__atomic_fetch_or(&gm_instrumented, GM_INSTR_HOOKS, __ATOMIC_RELEASE);
	else
		__atomic_fetch_and(&gm_instrumented, ~(unsigned)GM_INSTR_HOOKS, __ATOMIC_RELEASE);
}

void gm_instrument(unsigned ev, gomap *h, gomap_op op)
{
	if (gm_hooks_off != 0)
		return; /* the core writing to a map of its own (gomap_clone) */
	if (GM_LOAD(&gm_instrumented) & GM_INSTR_TIMELINE) {
		static const uint8_t phase_of[GOMAP_EV_COUNT_ + 1] = {
		        [GOMAP_EV_WRITE_ENTRY] = GM_PHASE_ENTERED,
		        [GOMAP_EV_WRITE_SET] = GM_PHASE_SET,
		        [GOMAP_EV_READ_ENTRY] = GM_PHASE_ENTERED,
		        [GOMAP_EV_ITER_STEP] = GM_PHASE_ENTERED,
		        [GOMAP_EV_CLONE_ENTRY] = GM_PHASE_ENTERED,
		        [GOMAP_EV_DETECTED] = GM_PHASE_DETECTED,
		        [GM_EV_CLEARED] = GM_PHASE_CLEARED,
		};
		if (h != NULL && phase_of[ev] != 0)
			gm_timeline_record(h, op, (gm_phase)phase_of[ev]);
	}
	if (ev < GOMAP_EV_COUNT_) {
		gomap_hook_fn f = GM_LOAD(&gm_hooks[ev]);
		if (f != NULL)
			f((gomap_event)ev, h, op, GM_LOAD(&gm_hook_args[ev]));
	}
}
