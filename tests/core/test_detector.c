/*
 * test_detector.c -- Go's concurrent-misuse detector and its report.
 *
 * Each test runs one scenario of detector_child in a fresh process (the
 * detector ends the process) and checks: exit status 2, the first line byte
 * for byte as Go prints it, the detecting thread and the frame of the call
 * that was caught, and the other party, the thread holding the write flag,
 * with its operation and the frame of its call.
 *
 * The single-threaded scenarios re-enter the map from a hook that runs
 * inside a write window (GOMAP_EV_WRITE_SET), which is exactly what a second
 * thread arriving at that moment would do. The "thread" tests park a real
 * second thread inside its window and let the main thread run into it.
 */
#include <signal.h>
#include <sys/wait.h>

#include "child_run.h"
#include "test_util.h"

#define READ_WRITE "fatal error: concurrent map read and map write"
#define WRITES     "fatal error: concurrent map writes"
#define ITER_WRITE "fatal error: concurrent map iteration and map write"
#define CLONE      "fatal error: concurrent map clone and map write"

static void expect_report(const char *scenario, const expected_report *e)
{
	child_result r;
	child_run(scenario, NULL, &r);
	child_assert_report(&r, e);
	child_result_free(&r);
}

/* A scenario in which the prober, inside the prober's own write window,
 * makes `api` from `fn`; the window was opened by `holder_api` in `holder_fn`. */
#define SAME_THREAD(first, api, fn, op, h_api, h_fn)                                               \
	(&(expected_report){.first_line = first,                                                   \
	                    .detect_api = api,                                                     \
	                    .detect_fn = fn,                                                       \
	                    .detect_who = "prober",                                                \
	                    .holder_op = op,                                                       \
	                    .holder_api = h_api,                                                   \
	                    .holder_fn = h_fn,                                                     \
	                    .holder_who = "prober"})

/* ---- each message, with the other party named -------------------------- */

Test(detector, read_inside_a_write_reports_read_and_map_write)
{
	expect_report("read-in-write", SAME_THREAD(READ_WRITE, "gomap_i64_get", "hook_get",
	                                           "map write", "gomap_i64_set", "hold_set"));
}

Test(detector, lookup_inside_a_write_reports_read_and_map_write)
{
	expect_report("lookup-in-write", SAME_THREAD(READ_WRITE, "gomap_i64_lookup", "hook_lookup",
	                                             "map write", "gomap_i64_set", "hold_set"));
}

Test(detector, generic_access2_inside_a_write_reports_read_and_map_write)
{
	expect_report("access2-in-write", SAME_THREAD(READ_WRITE, "gomap_access2", "hook_access2",
	                                              "map write", "gomap_i64_set", "hold_set"));
}

Test(detector, string_read_inside_a_string_write_reports_read_and_map_write)
{
	expect_report("str-read-in-write",
	              SAME_THREAD(READ_WRITE, "gomap_str_get", "hook_str_get", "map write",
	                          "gomap_str_set", "hold_str_set"));
}

Test(detector, generic_key_read_inside_a_generic_write_reports_read_and_map_write)
{
	expect_report("generic-read-in-write",
	              SAME_THREAD(READ_WRITE, "gomap_access1", "hook_access1", "map write",
	                          "gomap_assign", "hold_assign"));
}

Test(detector, write_inside_a_write_reports_concurrent_map_writes)
{
	expect_report("write-in-write", SAME_THREAD(WRITES, "gomap_i64_set", "hook_set",
	                                            "map write", "gomap_i64_set", "hold_set"));
}

Test(detector, delete_inside_a_write_reports_concurrent_map_writes)
{
	expect_report("delete-in-write", SAME_THREAD(WRITES, "gomap_i64_delete", "hook_delete",
	                                             "map write", "gomap_i64_set", "hold_set"));
}

Test(detector, clear_inside_a_write_reports_concurrent_map_writes)
{
	expect_report("clear-in-write", SAME_THREAD(WRITES, "gomap_clear", "hook_clear",
	                                            "map write", "gomap_i64_set", "hold_set"));
}

Test(detector, write_inside_a_delete_names_the_delete)
{
	expect_report("write-in-delete",
	              SAME_THREAD(WRITES, "gomap_i64_set", "hook_set", "map delete",
	                          "gomap_i64_delete", "hold_delete"));
}

Test(detector, read_inside_a_clear_names_the_clear)
{
	expect_report("read-in-clear", SAME_THREAD(READ_WRITE, "gomap_i64_get", "hook_get",
	                                           "map clear", "gomap_clear", "hold_clear"));
}

Test(detector, iteration_step_inside_a_write_reports_iteration_and_map_write)
{
	expect_report("iter-in-write", SAME_THREAD(ITER_WRITE, "gomap_iter_next", "hook_iter_next",
	                                           "map write", "gomap_i64_set", "hold_set"));
}

Test(detector, clone_inside_a_write_reports_clone_and_map_write)
{
	expect_report("clone-in-write", SAME_THREAD(CLONE, "gomap_clone", "hook_clone", "map write",
	                                            "gomap_i64_set", "hold_set"));
}

/* ---- threads ------------------------------------------------------------ */

Test(detector, the_main_thread_is_thread_1)
{
	child_result r;
	child_run("read-in-write", NULL, &r);
	cr_assert(eq(long, child_fact(&r, "tid prober"), 1), "stdout:\n%s", r.out);
	cr_assert(r.nlines >= 3, "stderr:\n%s", r.err);
	cr_assert(eq(str, r.lines[2], "thread 1 \"prober\" [running]:"), "report:\n%s", r.err);
	child_result_free(&r);
}

#define OTHER_THREAD(first, api, fn, op, h_api, h_fn)                                              \
	(&(expected_report){.first_line = first,                                                   \
	                    .detect_api = api,                                                     \
	                    .detect_fn = fn,                                                       \
	                    .detect_who = "prober",                                                \
	                    .holder_op = op,                                                       \
	                    .holder_api = h_api,                                                   \
	                    .holder_fn = h_fn,                                                     \
	                    .holder_who = "holder"})

Test(detector, read_while_another_thread_writes_names_that_thread)
{
	expect_report("thread-read", OTHER_THREAD(READ_WRITE, "gomap_i64_get", "probe_get",
	                                          "map write", "gomap_i64_set", "hold_set"));
}

Test(detector, write_while_another_thread_writes_names_that_thread)
{
	expect_report("thread-write", OTHER_THREAD(WRITES, "gomap_i64_set", "probe_set",
	                                           "map write", "gomap_i64_set", "hold_set"));
}

Test(detector, read_while_another_thread_deletes_names_the_delete)
{
	expect_report("thread-read-in-delete",
	              OTHER_THREAD(READ_WRITE, "gomap_i64_get", "probe_get", "map delete",
	                           "gomap_i64_delete", "hold_delete"));
}

Test(detector, two_writers_inside_make_the_exit_check_fail_and_name_the_other)
{
	expect_report("thread-writes-both-inside",
	              OTHER_THREAD(WRITES, "gomap_assign", "probe_waiting_assign", "map write",
	                           "gomap_assign", "hold_waiting_assign"));
}

Test(detector, the_two_threads_have_different_numbers)
{
	child_result r;
	child_run("thread-read", NULL, &r);
	long prober = child_fact(&r, "tid prober"), holder = child_fact(&r, "tid holder");
	cr_assert(prober > 0 && holder > 0, "stdout:\n%s", r.out);
	cr_assert(prober != holder, "both threads are number %ld", prober);
	child_result_free(&r);
}

/* ---- the report itself --------------------------------------------------- */

Test(detector, detected_hook_runs_just_before_the_report)
{
	child_result r;
	child_run("detected-hook", NULL, &r);
	cr_assert(child_exited_with(&r, 2), "ended with %s", child_status_text(&r));
	cr_assert(r.nlines >= 2, "stderr:\n%s", r.err);
	cr_assert(eq(str, r.lines[0], "detected-hook same-map 1"), "stderr:\n%s", r.err);
	cr_assert(eq(str, r.lines[1], READ_WRITE), "stderr:\n%s", r.err);
	child_result_free(&r);
}

Test(detector, gotraceback_none_prints_only_the_first_line)
{
	child_result r;
	child_run("write-in-write", "none", &r);
	cr_assert(child_exited_with(&r, 2), "ended with %s", child_status_text(&r));
	cr_assert(eq(str, r.err, WRITES "\n"));
	child_result_free(&r);
}

Test(detector, gotraceback_crash_ends_with_sigabrt)
{
	child_result r;
	child_run("write-in-write", "crash", &r);
	cr_assert(child_killed_by(&r, SIGABRT), "expected SIGABRT, got %s; stderr:\n%s",
	          child_status_text(&r), r.err);
	cr_assert(r.nlines >= 1);
	cr_assert(eq(str, r.lines[0], WRITES));
	child_result_free(&r);
}

Test(detector, gotraceback_single_and_all_keep_the_report)
{
	static const char *const levels[] = {"single", "all"};
	for (size_t i = 0; i < 2; i++) {
		child_result r;
		child_run("read-in-write", levels[i], &r);
		child_assert_report(&r, SAME_THREAD(READ_WRITE, "gomap_i64_get", "hook_get",
		                                    "map write", "gomap_i64_set", "hold_set"));
		child_result_free(&r);
	}
}

Test(detector, report_stays_bounded_on_a_deep_stack)
{
	/* 3000 nested calls before the misuse: the report must still end
	 * with the other party, within REPORT_MAX_LINES. */
	expect_report("deep-read-in-write", SAME_THREAD(READ_WRITE, "gomap_i64_get", "hook_get",
	                                                "map write", "gomap_i64_set", "hold_set"));
}

/* ---- what Go never reports ------------------------------------------------ */

static void expect_silent(const char *scenario)
{
	child_result r;
	child_run(scenario, NULL, &r);
	cr_assert(child_exited_with(&r, 0),
	          "%s: expected a clean exit, got %s\n--- stdout:\n%s--- stderr:\n%s", scenario,
	          child_status_text(&r), r.out, r.err);
	cr_assert(strstr(r.out, "DONE\n") != NULL, "%s: stdout:\n%s", scenario, r.out);
	cr_assert(eq(str, r.err, ""), "%s wrote on stderr", scenario);
	child_result_free(&r);
}

Test(detector, read_of_an_empty_map_inside_its_first_insert_is_not_reported)
{
	expect_silent("empty-read-in-first-insert");
}

Test(detector, delete_on_an_empty_map_inside_its_first_insert_is_not_reported)
{
	expect_silent("empty-delete-in-first-insert");
}

/* Go 1.19's mapclone returns an empty copy before its check; Go 1.26's
 * Map.Clone checks first, so there the clone is caught. */
Test(detector, clone_of_an_empty_map_inside_its_first_insert_is_reported_only_by_go_1_26)
{
	if (is_swiss())
		expect_report("empty-clone-in-first-insert",
		              SAME_THREAD(CLONE, "gomap_clone", "hook_clone", "map write",
		                          "gomap_i64_set", "hold_set"));
	else
		expect_silent("empty-clone-in-first-insert");
}

Test(detector, len_inside_a_write_is_not_reported)
{
	expect_silent("len-in-write");
}

Test(detector, starting_an_iteration_inside_a_write_is_not_reported)
{
	expect_silent("iter-init-in-write");
}

Test(detector, deleting_during_range_on_one_thread_is_not_reported)
{
	expect_silent("delete-during-range");
}
