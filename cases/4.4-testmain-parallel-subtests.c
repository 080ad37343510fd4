/*
 * 4.4 testmain-parallel-subtests: a test main fills a shared map once, then
 * parallel subtests (threads) update it.
 *
 * Go:      var fixtures map[string]int
 *          func TestMain(m *testing.M) { fixtures = map[string]int{"base": 1}; os.Exit(m.Run()) }
 *          func TestScores(t *testing.T) {
 *                  for _, name := range []string{"alice", "bob", "carol", "dave"} {
 *                          name := name
 *                          t.Run(name, func(t *testing.T) {
 *                                  t.Parallel()
 *                                  fixtures[name] = score(name)              // shared!
 *                                  if fixtures[name] != score(name) { t.Fatal() }
 *                          })
 *                  }
 *          }
 * Expect:  fatal error: concurrent map writes
 *          (natural runs may also end with "concurrent map read and map write")
 * Fix:     per-subtest state: each subtest works on its own map, a clone
 *          of the fixtures taken at its start; the shared fixtures are only
 *          read once TestMain has built them (build, then freeze).
 *
 * t.Parallel() makes the subtests run at the same time; setup that was
 * safe in a sequential test becomes shared mutable state. Real Go,
 * article's program: 57/100 "concurrent map writes".
 */
#include <string.h>

#include "harness.h"

static gomap *fixtures; /* map[string]int64, built by the test main */
static bool fixed;

static int64_t score(const char *name)
{
	return (int64_t)strlen(name) * 10;
}

static void subtest(void *arg)
{
	const char *name = arg;
	size_t n = strlen(name);
	/* fixed: this subtest's own copy; cloning only reads the frozen fixtures */
	gomap *m = fixed ? gomap_clone(fixtures) : fixtures;
	for (int i = 0; i < hz_loops(250); i++) {
		gomap_str_set(m, name, n, score(name) + i);
		if (gomap_str_get(m, name, n) < score(name))
			hz_die("--- FAIL: TestScores/%s", name);
		hz_yield();
	}
	if (fixed)
		gomap_free(m);
}

static void run(void)
{
	/* TestMain: build the fixtures before any subtest starts. */
	fixtures = gomap_make(&gomap_type_str_i64, 0);
	gomap_str_set(fixtures, "base", 4, 1);

	static const hz_subtest tests[] = {
	        {"alice", subtest, "alice"},
	        {"bob", subtest, "bob"},
	        {"carol", subtest, "carol"},
	        {"dave", subtest, "dave"},
	};
	/* Forced: the first subtest's write holds until another writes. */
	hz_force_window(HZ_ARRIVE_WRITE, 3);
	for (int r = 0; r < hz_rounds(20); r++) /* go test -count=20 */
		hz_test_run("TestScores", tests, sizeof(tests) / sizeof(tests[0]));
	gomap_free(fixtures);
}

static void run_bad(void)
{
	run();
}

static void run_fixed(void)
{
	fixed = true;
	run();
}

HZ_CASE({"bad", run_bad}, {"fixed", run_fixed})
