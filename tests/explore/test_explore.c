/*
 * test_explore.c -- explore mode, end to end, on tiny.c's programs.
 *
 * The schedules of `pair` counted by hand. Main reaches these scheduling
 * points while the other thread T can run: its start of T (S), its write's
 * entry (E), write flag set (F), write flag cleared (C) and exit (X), and
 * its wait for T (W); it then blocks until T has ended. With bound 0 main is
 * never preempted: 1 schedule. With bound 1 one more schedule per point
 * where T can be switched in, and T then runs to its end (no preemption is
 * left), so 1 + 6 = 7 schedules:
 *   at S, X, W  T's write does not meet main's: clean, no overlap
 *   at E        main is inside, flag not yet set: T writes unseen (blind spot)
 *   at F, C     main holds the flag: T's entry check fires
 * So 2 end with "concurrent map writes", 5 are clean, 3 overlap, 1 is a
 * blind spot.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
/* Comparisons are written as plain expressions: Criterion 2.4.1's gt()
 * holds for equal values too (gt(long, 0, 0) passes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define MAX_OUT 8192

/* Runs tiny with `args`; its stdout (and stderr with both) into out. */
static int run_tiny(const char *args, bool both, char *out)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "%s %s%s", TINY_PATH, args, both ? " 2>&1" : " 2>/dev/null");
	FILE *p = popen(cmd, "r");
	cr_assert(p != NULL);
	size_t n = fread(out, 1, MAX_OUT - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The integer after "key": in a one-line JSON object, or -1. */
static long jint(const char *json, const char *key)
{
	char pat[256];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *p = strstr(json, pat);
	return p ? strtol(p + strlen(pat), NULL, 10) : -1;
}

static bool jtrue(const char *json, const char *key)
{
	char pat[256];
	snprintf(pat, sizeof pat, "\"%s\":true", key);
	return strstr(json, pat) != NULL;
}

/* The string value of "key", copied into out; false when null or absent. */
static bool jstr(const char *json, const char *key, char *out, size_t cap)
{
	char pat[256];
	snprintf(pat, sizeof pat, "\"%s\":\"", key);
	const char *p = strstr(json, pat);
	if (!p)
		return false;
	p += strlen(pat);
	size_t n = strcspn(p, "\"");
	cr_assert(n < cap);
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

static void explore(const char *variant, int bound, char *out)
{
	char args[256];
	snprintf(args, sizeof args, "--mode explore --variant %s --bound %d", variant, bound);
	cr_assert(eq(int, run_tiny(args, false, out), 0), "explore: %s", out);
}

Test(explore, bound_0_runs_main_first_to_the_end)
{
	char out[MAX_OUT];
	explore("pair", 0, out);
	cr_assert(eq(long, jint(out, "schedules"), 1), "%s", out);
	cr_assert(jtrue(out, "exhausted"));
	cr_assert(eq(long, jint(out, "clean"), 1));
	cr_assert(eq(long, jint(out, "overlapping"), 0));
}

Test(explore, bound_1_gives_the_hand_counted_schedules)
{
	char out[MAX_OUT];
	explore("pair", 1, out);
	cr_assert(eq(long, jint(out, "schedules"), 7), "%s", out);
	cr_assert(jtrue(out, "exhausted"));
	cr_assert(eq(long, jint(out, "fatal error: concurrent map writes"), 2), "%s", out);
	cr_assert(eq(long, jint(out, "clean"), 5));
	cr_assert(eq(long, jint(out, "reported"), 2));
	cr_assert(eq(long, jint(out, "overlapping"), 3));
	cr_assert(eq(long, jint(out, "blind_spots"), 1));
	cr_assert(eq(long, jint(out, "other"), 0));
}

Test(explore, replaying_a_schedule_gives_its_end)
{
	char out[MAX_OUT], detecting[256], blind[256], args[512];
	explore("pair", 2, out);
	cr_assert(jstr(out, "shortest_detecting", detecting, sizeof detecting), "%s", out);
	cr_assert(jstr(out, "blind_spot_example", blind, sizeof blind), "%s", out);

	snprintf(args, sizeof args, "--mode explore --variant pair --schedule %s", detecting);
	cr_assert(eq(int, run_tiny(args, true, out), 2), "%s", out);
	cr_assert(eq(int, strncmp(out, "fatal error: concurrent map writes\n", 35), 0), "%s", out);

	snprintf(args, sizeof args, "--mode explore --variant pair --schedule %s", blind);
	cr_assert(eq(int, run_tiny(args, true, out), 0), "%s", out);
	cr_assert(eq(str, out, "DONE\n"));

	/* the default order: main first, no report */
	cr_assert(eq(int, run_tiny("--mode explore --variant pair --schedule -", true, out), 0));
	cr_assert(eq(str, out, "DONE\n"));
}

Test(explore, a_lock_removes_every_overlap)
{
	char out[MAX_OUT];
	explore("locked", 2, out);
	cr_assert(jint(out, "schedules") > 7, "%s", out);
	cr_assert(jtrue(out, "exhausted"));
	cr_assert(eq(long, jint(out, "overlapping"), 0), "%s", out);
	cr_assert(eq(long, jint(out, "reported"), 0));
	cr_assert(eq(long, jint(out, "clean"), jint(out, "schedules")));
}

/* Everything but the timing fields. */
static void strip_timing(char *json)
{
	char *p = strstr(json, ",\"elapsed_s\":");
	char *q = strstr(json, ",\"ends\":");
	cr_assert(p && q && p < q);
	memmove(p, q, strlen(q) + 1);
}

Test(explore, the_same_exploration_gives_the_same_counts)
{
	char a[MAX_OUT], b[MAX_OUT];
	explore("pair", 2, a);
	explore("pair", 2, b);
	strip_timing(a);
	strip_timing(b);
	cr_assert(eq(str, a, b));
}

Test(explore, the_cap_stops_an_exploration_unexhausted)
{
	char out[MAX_OUT];
	cr_assert(eq(int, run_tiny("--mode explore --variant pair --max-schedules 3", false, out),
	             0));
	cr_assert(eq(long, jint(out, "schedules"), 3), "%s", out);
	cr_assert(not(jtrue(out, "exhausted")));
}

Test(explore, a_deadlock_is_another_end_with_an_example)
{
	char out[MAX_OUT], ex[256];
	explore("deadlock", 2, out);
	long n = jint(out, "schedules");
	cr_assert(n > 0, "%s", out);
	cr_assert(eq(long, jint(out, "explore: hang: no thread can run"), n), "%s", out);
	cr_assert(eq(long, jint(out, "other"), n));
	cr_assert(jstr(out, "example", ex, sizeof ex));
	char args[512];
	snprintf(args, sizeof args, "--mode explore --variant deadlock --schedule %s", ex);
	cr_assert(eq(int, run_tiny(args, true, out), 3), "%s", out);
	cr_assert(eq(str, out, "explore: hang: no thread can run\n"));
}

Test(explore, options_need_explore_mode)
{
	char out[MAX_OUT];
	cr_assert(eq(int, run_tiny("--mode forced --bound 1", true, out), 64), "%s", out);
	cr_assert(eq(int, run_tiny("--bound 2", true, out), 64), "%s", out);
	cr_assert(eq(int, run_tiny("--mode natural --schedule -", true, out), 64), "%s", out);
	cr_assert(eq(int, run_tiny("--mode explore --schedule 1:x", true, out), 70), "%s", out);
}

Test(explore, a_busy_poll_of_a_cancel_token_runs_to_its_end)
{
	/* A poll that finds the token not fired yields, so the poller lets the
	 * canceller run instead of spinning until the child's alarm. */
	char out[MAX_OUT];
	explore("busy-poll", 2, out);
	cr_assert(jint(out, "schedules") > 1, "%s", out);
	cr_assert(eq(long, jint(out, "clean"), jint(out, "schedules")), "%s", out);
	cr_assert(eq(long, jint(out, "cut_short"), 0), "%s", out);
	cr_assert(jtrue(out, "exhausted"), "%s", out);
}

Test(explore, a_schedule_cut_short_by_a_limit_leaves_the_space_unexhausted)
{
	/* The program never ends: the orderings past the step limit are not
	 * explored, so the summary must not say exhausted. */
	char out[MAX_OUT];
	explore("endless", 2, out);
	cr_assert(eq(long, jint(out, "explore: step limit"), 1), "%s", out);
	cr_assert(eq(long, jint(out, "cut_short"), 1), "%s", out);
	cr_assert(not(jtrue(out, "exhausted")), "%s", out);
}

Test(explore, ends_past_the_table_are_counted_together_and_keep_the_others)
{
	char out[MAX_OUT];
	explore("many-ends", 2, out);
	const char *ends = strstr(out, "\"ends\":{");
	cr_assert(ends != NULL, "%s", out);
	ends += strlen("\"ends\":{");
	size_t len = strcspn(ends, "}");
	long kept = 0, total = 0, overflow = -1;
	for (const char *p = ends; p < ends + len;) {
		const char *colon = strstr(p, "\":");
		long n = strtol(colon + 2, NULL, 10);
		if (strncmp(p, "\"turns ", 7) == 0)
			kept++;
		else if (strncmp(p, "\"explore: too many different ends\"", 34) == 0)
			overflow = n;
		total += n;
		p = colon + 2 + strcspn(colon + 2, ",}");
		p += *p == ',';
	}
	cr_assert(eq(long, kept, 32), "32 ends keep their names: %s", out);
	cr_assert(overflow > 0, "%s", out);
	cr_assert(eq(long, total, jint(out, "schedules")), "every schedule counted once: %s", out);
}

Test(explore, a_spot_wake_makes_every_waiter_runnable)
{
	/* Two threads wait on one parking spot; one wake must release both in
	 * every ordering (a lost wake would end as a hang). */
	char out[MAX_OUT];
	explore("spot", 2, out);
	cr_assert(jint(out, "schedules") > 1, "%s", out);
	cr_assert(eq(long, jint(out, "clean"), jint(out, "schedules")), "%s", out);
	cr_assert(jtrue(out, "exhausted"), "%s", out);
}
