/*
 * timeline.c -- the flight recorder (GOMAP_TIMELINE=1).
 *
 * Switched on at start-up by the environment variable; it then sets its bit
 * in the instrumentation word (instrument.c), which hands it every map
 * event. The report prints the ring of the map it is about (report.c).
 */
#define _GNU_SOURCE
#include "common.h"

#include <stdlib.h>
#include <time.h>

/*
 * Each map keeps its last GM_TIMELINE_LEN events in a ring: who did which
 * operation, and when it entered, set the write flag, cleared it, or was
 * caught. The report prints the ring, so a reader sees the two operations
 * overlap. The ring index is advanced with a plain load and store: racing
 * threads may overwrite each other's entry, which loses an event but never
 * writes outside the ring. Timestamps come from the CPU's timestamp counter
 * (a few cycles) and are converted to nanoseconds when the report is made.
 *
 * The ring freezes at detection: the first detection on a map is kept in a
 * slot of its own past the ring's end (a racing writer's plain store can
 * overwrite a ring slot, and this event must not be lost), and from then
 * on nothing more is recorded for that map. The other party keeps running
 * while the report is made (a writer in a loop can fill the ring many
 * times over in that time), and without the freeze the printed ring would
 * show its later writes instead of the overlap. A thread that passed the
 * check just before the freeze may still add an event after the detection;
 * that event did happen, so it is shown, in its place in time.
 */
static uint64_t tsc_start;
static struct timespec mono_start;

static inline uint64_t read_tsc(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
#endif
}

/* The ring has GM_TIMELINE_LEN slots and then the detection's. */
#define DETECTION_SLOT GM_TIMELINE_LEN

static void fill(gm_event *e, gomap_op op, gm_phase phase)
{
	GM_STORE(&e->tsc, read_tsc());
	GM_STORE(&e->tid, (uint32_t)gm_thread_id());
	GM_STORE(&e->op, (uint8_t)op);
	GM_STORE(&e->phase, (uint8_t)phase);
}

void gm_timeline_record(gomap *h, gomap_op op, gm_phase phase)
{
	if (GM_LOAD(&GM_HDR(h)->timeline_frozen))
		return;
	/* Acquire: the ring another thread allocated is zeroed before use. */
	gm_event *ring = __atomic_load_n(&GM_HDR(h)->timeline, __ATOMIC_ACQUIRE);
	if (ring == NULL) {
		gm_event *fresh = calloc(GM_TIMELINE_LEN + 1, sizeof *fresh);
		if (fresh == NULL)
			return;
		gm_event *none = NULL;
		if (__atomic_compare_exchange_n(&GM_HDR(h)->timeline, &none, fresh, false,
		                                __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			ring = fresh;
		} else {
			free(fresh);
			ring = none;
		}
	}
	if (phase == GM_PHASE_DETECTED) {
		/* The first detection claims the slot; a second one, racing it
		 * on the same map, is not the one the timeline shows. */
		bool no = false;
		if (__atomic_compare_exchange_n(&GM_HDR(h)->timeline_frozen, &no, true, false,
		                                __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			fill(&ring[DETECTION_SLOT], op, phase);
		return;
	}
	uint64_t pos = GM_LOAD(&GM_HDR(h)->timeline_pos);
	GM_STORE(&GM_HDR(h)->timeline_pos, pos + 1);
	fill(&ring[pos % GM_TIMELINE_LEN], op, phase);
}

__attribute__((constructor)) static void timeline_init(void)
{
	const char *tl = getenv("GOMAP_TIMELINE");
	if (tl != NULL && tl[0] != '\0' && strcmp(tl, "0") != 0) {
		tsc_start = read_tsc();
		clock_gettime(CLOCK_MONOTONIC, &mono_start);
		__atomic_fetch_or(&gm_instrumented, GM_INSTR_TIMELINE, __ATOMIC_RELEASE);
	}
}

/* The flight recorder's ring of `h`, oldest event first, with times in
 * microseconds since the oldest event shown: its last GM_TIMELINE_LEN
 * events, the detection among them in its place in time. */
static gm_event load_event(const gm_event *slot)
{
	return (gm_event){GM_LOAD(&slot->tsc), GM_LOAD(&slot->tid), GM_LOAD(&slot->op),
	                  GM_LOAD(&slot->phase)};
}

void gm_print_timeline(gomap *h)
{
	gm_event *ring = __atomic_load_n(&GM_HDR(h)->timeline, __ATOMIC_ACQUIRE);
	if (ring == NULL)
		return;
	/* The events to show: the ring's newest, and the detection placed
	 * before the first of them that came later (a write already under way
	 * when the ring froze). */
	gm_event shown[GM_TIMELINE_LEN];
	gm_event det = load_event(&ring[DETECTION_SLOT]);
	bool has_det = det.phase == GM_PHASE_DETECTED;
	uint64_t pos = GM_LOAD(&GM_HDR(h)->timeline_pos);
	uint64_t room = GM_TIMELINE_LEN - (has_det ? 1 : 0);
	uint64_t n = pos < room ? pos : room, nshown = 0;
	for (uint64_t k = 0; k < n; k++) {
		gm_event e = load_event(&ring[(pos - n + k) % GM_TIMELINE_LEN]);
		if (has_det && (int64_t)(e.tsc - det.tsc) > 0) {
			shown[nshown++] = det;
			has_det = false;
		}
		shown[nshown++] = e;
	}
	if (has_det)
		shown[nshown++] = det;

	/* Calibrate the counter against the monotonic clock since start-up. */
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double ns = (double)(now.tv_sec - mono_start.tv_sec) * 1e9 +
	            (double)(now.tv_nsec - mono_start.tv_nsec);
	uint64_t ticks = read_tsc() - tsc_start;
	double ns_per_tick = ticks > 0 ? ns / (double)ticks : 1.0;
	static const char *const phases[] = {"?", "entered", "write flag set", "write flag cleared",
	                                     "detected"};
	gm_out("\nmap timeline, oldest first (GOMAP_TIMELINE=1):\n");
	for (uint64_t k = 0; k < nshown; k++) {
		const gm_event *e = &shown[k];
		double us = (double)(int64_t)(e->tsc - shown[0].tsc) * ns_per_tick / 1000.0;
		char name[GM_NAME_LEN];
		gm_thread_name((int)e->tid, name);
		gm_out("  +%.3fus thread %u%s%s%s %s: %s\n", us, e->tid, name[0] ? " \"" : "", name,
		       name[0] ? "\"" : "", gomap_op_name((gomap_op)e->op),
		       e->phase <= GM_PHASE_DETECTED ? phases[e->phase] : "?");
	}
}
