/*
 * testmain.c -- just enough of Go's testing package for case 4.4: a parent
 * test that runs its subtests in parallel (t.Run + t.Parallel) and reports
 * each one the way `go test -v` does.
 *
 * A subtest that finds its own check failed ends the program the way
 * t.Fatal ends a Go test: hz_die("--- FAIL: Parent/name"), so stderr's first
 * line is "harness: --- FAIL: TestScores/dave" and the exit status is 70.
 * That line and status are the failed-check marker (expected/FORMAT.md):
 * without a detector report the runner calls such a run unseen corruption,
 * the map broken by racing writers that the detector never caught.
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

void hz_test_run(const char *parent, const hz_subtest *t, size_t n)
{
	n = (size_t)hz_threads((int)n); /* explore mode: fewer subtests */
	hz_wg wg;
	hz_wg_init(&wg);
	printf("=== RUN   %s\n", parent);
	for (size_t i = 0; i < n; i++) {
		printf("=== RUN   %s/%s\n=== PAUSE %s/%s\n", parent, t[i].name, parent, t[i].name);
		/* The first subtest holds the forced window, the rest may arrive. */
		hz_go(&wg, t[i].name, i == 0 ? HZ_HOLDER : HZ_PARTY, t[i].fn, t[i].arg);
	}
	fflush(stdout);
	hz_wg_wait(&wg);
	hz_wg_destroy(&wg);
	printf("--- PASS: %s\n", parent);
	for (size_t i = 0; i < n; i++)
		printf("    --- PASS: %s/%s\n", parent, t[i].name);
	printf("ok  \t%s\n", parent);
	fflush(stdout);
}
