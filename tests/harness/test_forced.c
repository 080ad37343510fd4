/*
 * test_forced.c -- the forced schedule (harness/forced.c), the piece that
 * makes every forced run of a bad variant fail and keeps every forced run of
 * a race-free twin clean and quick.
 *
 * Each test runs one scenario of forced_child in a fresh process (a scenario
 * may end with the detector's report or a harness error) and checks how it
 * ended. A scenario that ends normally prints how many waits reached their
 * safety-net deadline: none may, so a schedule that forgot to release a
 * thread shows up as a deadline, not as a slow but passing run.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <string.h>

#include "../core/child_run.h"

static void run(const char *scenario, child_result *r)
{
	char arg[64];
	snprintf(arg, sizeof arg, "--variant=%s", scenario);
	child_run(arg, NULL, r);
}

/* A clean end: exit 0, DONE, and no wait that ran into its deadline. */
static void assert_clean(const char *scenario)
{
	child_result r;
	run(scenario, &r);
	cr_assert(child_exited_with(&r, 0), "%s: %s, want exit 0\nstderr:\n%s", scenario,
	          child_status_text(&r), r.err);
	cr_assert(strstr(r.out, "DONE\n") != NULL, "%s: no DONE on stdout:\n%s", scenario, r.out);
	long deadlines = child_fact(&r, "deadlines");
	cr_assert(eq(long, deadlines, 0), "%s: %ld waits reached their safety-net deadline",
	          scenario, deadlines);
	child_result_free(&r);
}

/* The detector's report: exit 2, Go's line first, the party caught and the
 * holder named as the other party. */
static void assert_detected(const char *scenario, const char *first_line)
{
	child_result r;
	run(scenario, &r);
	cr_assert(child_exited_with(&r, 2), "%s: %s, want exit 2\nstderr:\n%s", scenario,
	          child_status_text(&r), r.err);
	cr_assert(r.nlines > 0 && strcmp(r.lines[0], first_line) == 0,
	          "%s: first line '%s', want '%s'", scenario, r.nlines ? r.lines[0] : "",
	          first_line);
	bool caught = false, named = false;
	for (size_t i = 0; i < r.nlines; i++) {
		caught |= strstr(r.lines[i], "\"party\" [running]:") != NULL &&
		          strncmp(r.lines[i], "thread ", 7) == 0;
		named |= strncmp(r.lines[i], "write flag held by thread ", 26) == 0 &&
		         strstr(r.lines[i], "\"holder\" [map write]:") != NULL;
	}
	cr_assert(caught, "%s: the report does not show the party caught:\n%s", scenario, r.err);
	cr_assert(named, "%s: the report does not name the holder:\n%s", scenario, r.err);
	child_result_free(&r);
}

Test(forced, holder_leaves_its_window_when_every_party_is_parked)
{
	/* The party waits for the lock the holder keeps across its write. */
	assert_clean("parked-party");
}

Test(forced, holder_leaves_its_window_when_every_party_has_finished)
{
	assert_clean("finished-party");
}

Test(forced, an_arrival_waits_for_the_window_to_open)
{
	/* The party reads 50 ms before the holder writes: only a read that
	 * waited for the window meets the write flag. */
	assert_detected("read-before-window", "fatal error: concurrent map read and map write");
}

Test(forced, a_party_arriving_in_the_window_is_caught_by_the_detector)
{
	assert_detected("write-in-window", "fatal error: concurrent map writes");
}

Test(forced, a_party_goes_on_when_the_holder_is_parked)
{
	/* The party holds the lock the holder needs: waiting for a window the
	 * holder cannot open would only end at the deadline. */
	assert_clean("parked-holder");
}

Test(forced, holder_leaves_once_a_manual_arrival_has_moved_on)
{
	assert_clean("manual-arrival");
}

Test(forced, no_wait_reaches_its_deadline_in_a_race_free_run)
{
	assert_clean("race-free");
}

Test(forced, a_second_holder_is_a_harness_error)
{
	child_result r;
	run("two-holders", &r);
	cr_assert(child_exited_with(&r, 70), "two-holders: %s, want exit 70 (hz_die)\nstderr:\n%s",
	          child_status_text(&r), r.err);
	cr_assert(r.nlines > 0 && strcmp(r.lines[0], "harness: a forced schedule has one holder; "
	                                             "a second was started") == 0,
	          "two-holders: stderr:\n%s", r.err);
	child_result_free(&r);
}
