/*
 * test_report.c -- what the report of a case-like program shows
 * (report_child.c, one scenario per fresh process).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/child_run.h"

/* The index of the line that starts the flight recorder's section, or -1. */
static long timeline_start(const child_result *r)
{
	return child_find_line(r, 0, r->nlines, "map timeline, oldest first (GOMAP_TIMELINE=1):");
}

Test(report, the_timeline_ends_with_the_detection_while_the_writer_keeps_writing)
{
	/* The writer writes 500 times between the detection and the printing
	 * of the ring, which keeps 64 events: only a ring frozen at the
	 * detection still holds the detection and the reader's entry. */
	setenv("GOMAP_TIMELINE", "1", 1);
	child_result r;
	child_run("writer-keeps-writing", NULL, &r);
	unsetenv("GOMAP_TIMELINE");
	cr_assert(child_exited_with(&r, 2), "%s\n%s", child_status_text(&r), r.err);
	cr_assert(eq(str, r.lines[0], "fatal error: concurrent map read and map write"));
	long t = timeline_start(&r);
	cr_assert(ge(long, t, 0), "no timeline:\n%s", r.err);
	bool reader_entered = false;
	long detected = -1;
	for (size_t i = (size_t)t + 1; i < r.nlines && r.lines[i][0] != '\0'; i++) {
		reader_entered |= strstr(r.lines[i], "\"reader\" map read: entered") != NULL;
		if (strstr(r.lines[i], "\"reader\" map read: detected"))
			detected = (long)i;
	}
	cr_assert(reader_entered, "the reader's entry is not in the timeline:\n%s", r.err);
	cr_assert(ge(long, detected, 0), "the detection is not in the timeline:\n%s", r.err);
	child_result_free(&r);
}

Test(report, a_frame_is_named_for_its_source_function)
{
	/* read_twice is called with constants only; compiled like a case, it
	 * keeps its name (no read_twice.constprop.0). */
	child_result r;
	child_run("cloned-function", NULL, &r);
	cr_assert(child_exited_with(&r, 2), "%s\n%s", child_status_text(&r), r.err);
	cr_assert(child_find_line(&r, 0, r.nlines, "read_twice(...)") >= 0,
	          "no frame read_twice(...):\n%s", r.err);
	for (size_t i = 0; i < r.nlines; i++)
		cr_assert(not(strstr(r.lines[i], ".constprop.") || strstr(r.lines[i], ".isra.") ||
		              strstr(r.lines[i], ".part.") || strstr(r.lines[i], ".cold")),
		          "a clone's name in the report: %s\n%s", r.lines[i], r.err);
	child_result_free(&r);
}
