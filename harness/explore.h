/*
 * explore.h -- what explore mode's files share, and nothing else sees.
 *
 *   scheduler.c     the controlled scheduler: one thread runs at a time,
 *                   and the baton moves only at scheduling points (in an
 *                   explorer's child, or in a --schedule replay)
 *   explorer.c      the parent: a child per schedule, the bounded
 *                   depth-first walk over their choice points, the tally
 *   schedule.c      schedules as text: "-" or "j:t,j:t,..."
 *   explore_json.c  the summary: one JSON object on one line
 */
#ifndef HARNESS_EXPLORE_H
#define HARNESS_EXPLORE_H

#include <stdio.h>

#include "internal.h"

#define MAX_THREADS 64        /* runnable sets are 64-bit masks */
#define MAX_CHOICES (1 << 16) /* choice points recorded per schedule */
#define MAX_ENDS    32        /* distinct end signatures kept by name */

/* One choice point as the child saw it. */
typedef struct xchoice {
	uint64_t cand;  /* runnable threads that may run next */
	uint8_t cur;    /* the thread that reached the point */
	uint8_t chosen; /* the thread that ran next */
	uint8_t dflt;   /* the default policy's pick */
	uint8_t costly; /* a switch away from `cur` is a preemption */
} xchoice;

/* Written by the child, read by the parent after the child has ended. */
typedef struct xshared {
	uint32_t n;       /* choice points recorded */
	uint8_t overlap;  /* an unprotected overlap happened */
	uint8_t diverged; /* the prefix did not fit: the program is not deterministic */
	uint8_t cut;      /* stopped by a limit of the scheduler, not by its own end */
	uint64_t steps;   /* scheduling points passed */
	xchoice c[MAX_CHOICES];
} xshared;

/* ---- scheduler.c ---- */

/* Starts the scheduler in an explorer's child, with the calling thread as
 * thread 0: it follows prefix[0..nprefix), then the default policy, and
 * records every choice point in sh. */
void hz_x_child_start_(xshared *sh, const xchoice *prefix, uint32_t nprefix);

/* ---- schedule.c ---- */

/* A replayed schedule: at choice point at[i], thread to[i] runs. */
typedef struct xdevs {
	uint32_t *at; /* strictly increasing */
	uint8_t *to;
	size_t n;
} xdevs;

/* Parses "-" or "j:t,j:t,..." into d (its arrays malloc'ed); false when s
 * is not one. */
bool hz_x_parse_schedule_(const char *s, xdevs *d);
/* The choices of c[0..n) that differ from the default, as a malloc'ed
 * string. */
char *hz_x_schedule_string_(const xchoice *c, uint32_t n);
/* How many of the choices c[0..n) differ from the default. */
size_t hz_x_deviations_(const xchoice *c, uint32_t n);

/* ---- explore_json.c ---- */

/* A schedule as a string, and the order that picks examples: fewer
 * deviations from the default first, then fewer choice points, then the
 * string. The order does not depend on which child finished first, so the
 * examples an exhausted exploration prints are always the same. */
typedef struct xsched {
	char *s;
	size_t devs;
	uint32_t n;
} xsched;

typedef struct xend {
	char *sig;   /* first line of stderr, "clean", or the explorer's word */
	bool report; /* the detector's (or the nil map's) report */
	uint64_t count;
	xsched example; /* the least schedule that ended so */
} xend;

/* What an exploration found, as the summary prints it. */
typedef struct xtally {
	xend ends[MAX_ENDS + 1]; /* the last one for the overflow end */
	int nends;
	uint64_t schedules, clean, reported, overlapping, blind, other;
	uint64_t cut; /* schedules a limit stopped (timeout, step limit, choice points) */
	xsched shortest, blind_example;
	uint32_t max_choices;
} xtally;

/* Prints the summary line (harness.h lists its fields) on f; sorts t's
 * ends into byte order. */
void hz_x_print_summary_(FILE *f, const hz_case *c, const hz_variant *v, int bound, uint64_t cap,
                         bool exhausted, double secs, xtally *t);

#endif /* HARNESS_EXPLORE_H */
