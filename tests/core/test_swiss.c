/*
 * test_swiss.c -- the Swiss-table map's own structure (Go 1.26,
 * internal/runtime/maps): small map, tables, directory, tombstones,
 * iteration across grows and splits, seeds, and the detector's new line.
 *
 * Built only with GOMAP_GENERATION=swiss. Keys are chosen by their hash:
 * gomap_hash64 with the map's seed (gomap_get_stats) is the hash the map
 * uses for int64 keys, so a test can put keys into the group it wants.
 */
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

/* ---- helpers ----------------------------------------------------------- */

static gomap_table_info table0(gomap *m)
{
	gomap_table_info t[1];
	cr_assert(gomap_get_tables(m, t, 1) >= 1, "no table");
	return t[0];
}

/* The next key from *next on whose probe sequence starts at `group` of a
 * table of `ngroups` groups (Go: h1(hash) & lengthMask). */
static int64_t key_in_group(gomap *m, uint64_t group, uint64_t ngroups, int64_t *next)
{
	uint64_t seed = stats_of(m).hash0;
	for (;; (*next)++)
		if (((gomap_hash64((uint64_t)*next, seed) >> 7) & (ngroups - 1)) == group)
			return (*next)++;
}

/* ---- the small map ----------------------------------------------------- */

Test(swiss, small_map_allocates_on_first_write_and_becomes_a_table_at_the_ninth)
{
	gomap *m = gomap_make(&gomap_type_i64_i64, 8); /* hint <= 8: nothing yet */
	cr_assert(not(stats_of(m).allocated));
	cr_assert(eq(i64, gomap_i64_get(m, 1), 0));
	cr_assert(not(stats_of(m).allocated), "a read allocated");
	for (int64_t k = 1; k <= 8; k++) {
		set_i64(m, k, k);
		gomap_stats st = stats_of(m);
		cr_assert(st.allocated && st.small, "entry %lld", (long long)k);
		cr_assert(eq(sz, st.capacity, 8));
	}
	set_i64(m, 9, 9);
	gomap_stats st = stats_of(m);
	cr_assert(not(st.small), "the ninth entry kept the small group");
	cr_assert(eq(sz, st.dir_len, 1));
	cr_assert(eq(sz, st.tables, 1));
	cr_assert(eq(sz, st.capacity, 16));
	gomap_table_info t = table0(m);
	cr_assert(eq(u32, t.used, 9));
	cr_assert(eq(u32, t.growth_left, 14 - 9));
	for (int64_t k = 1; k <= 9; k++)
		expect_i64(m, k, k);
	gomap_free(m);
}

Test(swiss, hint_above_eight_sizes_tables_at_seven_eighths)
{
	/* Go: NewMap. 9 -> 10 slots wanted -> 16; 1000 -> 1142 -> two
	 * tables of 1024 (571 each, rounded up). */
	gomap *m = gomap_make(&gomap_type_i64_i64, 9);
	cr_assert(eq(sz, stats_of(m).capacity, 16));
	gomap_free(m);
	m = gomap_make(&gomap_type_i64_i64, 1000);
	gomap_stats st = stats_of(m);
	cr_assert(eq(sz, st.dir_len, 2));
	cr_assert(eq(u32, st.global_depth, 1));
	cr_assert(eq(sz, st.capacity, 2048));
	gomap_free(m);
	m = gomap_make(&gomap_type_i64_i64, SIZE_MAX); /* bogus: ignored */
	cr_assert(not(stats_of(m).allocated));
	gomap_free(m);
}

/* ---- tables and the directory ------------------------------------------ */

Test(swiss, a_table_doubles_until_1024_slots_then_splits)
{
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	int64_t k = 0;
	/* 1024 * 7/8 entries fill one table. */
	for (; k < 896; k++)
		set_i64(m, k, k);
	gomap_stats st = stats_of(m);
	cr_assert(eq(sz, st.tables, 1));
	cr_assert(eq(sz, st.capacity, 1024));
	cr_assert(eq(u32, table0(m).growth_left, 0));
	set_i64(m, k, k); /* the table can neither take it nor double */
	st = stats_of(m);
	cr_assert(eq(sz, st.tables, 2), "no split at 1024 slots");
	cr_assert(eq(sz, st.dir_len, 2));
	gomap_table_info t[2];
	cr_assert(eq(sz, gomap_get_tables(m, t, 2), 2));
	for (int i = 0; i < 2; i++) {
		cr_assert(eq(u32, t[i].capacity, 1024));
		cr_assert(eq(u32, t[i].local_depth, 1));
	}
	cr_assert(eq(u32, t[0].used + t[1].used, 897));
	for (int64_t j = 0; j <= k; j++)
		expect_i64(m, j, j);
	gomap_free(m);
}

Test(swiss, splitting_a_table_that_owns_one_entry_doubles_the_directory)
{
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	int64_t k = 0;
	while (stats_of(m).tables < 3)
		set_i64(m, k, k), k++;
	gomap_stats st = stats_of(m);
	cr_assert(eq(sz, st.dir_len, 4));
	cr_assert(eq(u32, st.global_depth, 2));
	/* One table kept localDepth 1 and is shared by two entries. */
	gomap_table_info t[3];
	cr_assert(eq(sz, gomap_get_tables(m, t, 3), 3));
	int shared = 0;
	for (int i = 0; i < 3; i++)
		shared += t[i].local_depth == 1;
	cr_assert(eq(int, shared, 1));
	for (int64_t j = 0; j < k; j++)
		expect_i64(m, j, j);
	gomap_free(m);
}

/* ---- tombstones -------------------------------------------------------- */

/* A table of 16 slots (two groups): group 0 full with 8 keys, `in1` keys in
 * group 1. The keys go to g0[] and g1[]. */
static gomap *two_groups(int64_t g0[8], int64_t *g1, int in1)
{
	gomap *m = gomap_make(&gomap_type_i64_i64, 9); /* one table of 16 slots */
	int64_t next = 1;
	for (int i = 0; i < 8; i++)
		set_i64(m, g0[i] = key_in_group(m, 0, 2, &next), 1);
	for (int i = 0; i < in1; i++)
		set_i64(m, g1[i] = key_in_group(m, 1, 2, &next), 1);
	cr_assert(eq(u32, table0(m).capacity, 16));
	return m;
}

Test(swiss, delete_leaves_a_tombstone_only_in_a_group_without_an_empty_slot)
{
	int64_t g0[8], g1[1];
	gomap *m = two_groups(g0, g1, 1);
	cr_assert(eq(u32, table0(m).growth_left, 14 - 9));
	del_i64(m, g1[0]); /* group 1 has empty slots: the slot becomes empty */
	cr_assert(eq(u32, table0(m).tombstones, 0));
	cr_assert(eq(u32, table0(m).growth_left, 14 - 8));
	del_i64(m, g0[3]); /* group 0 is full: a tombstone */
	cr_assert(eq(u32, table0(m).tombstones, 1));
	cr_assert(eq(u32, table0(m).growth_left, 14 - 8), "a tombstone gave back room");
	expect_no_i64(m, g0[3]);
	for (int i = 0; i < 8; i++)
		if (i != 3)
			expect_i64(m, g0[i], 1);
	gomap_free(m);
}

Test(swiss, insert_reuses_the_first_tombstone_on_its_probe_path)
{
	int64_t g0[8], g1[1];
	gomap *m = two_groups(g0, g1, 1);
	del_i64(m, g0[5]);
	cr_assert(eq(u32, table0(m).tombstones, 1));
	uint16_t before = (uint16_t)table0(m).growth_left;
	int64_t next = 100000;
	int64_t k = key_in_group(m, 0, 2, &next); /* probes group 0, then 1 */
	set_i64(m, k, 7);
	cr_assert(eq(u32, table0(m).tombstones, 0), "the tombstone was not reused");
	cr_assert(eq(u32, table0(m).growth_left, before), "reusing a tombstone used room");
	expect_i64(m, k, 7);
	gomap_free(m);
}

Test(swiss, tombstones_are_pruned_instead_of_growing)
{
	/* Go issue 70886: two tombstones in the full group 0 (12.5% of 16
	 * slots) that no probe sequence needs. Filling group 1 uses the last
	 * room; the next insert prunes them and stays at 16 slots. */
	int64_t g0[8], g1[8];
	gomap *m = two_groups(g0, g1, 1);
	del_i64(m, g0[1]);
	del_i64(m, g0[6]);
	cr_assert(eq(u32, table0(m).tombstones, 2));
	int64_t next = 200000;
	while (table0(m).growth_left > 0)
		set_i64(m, key_in_group(m, 1, 2, &next), 2);
	set_i64(m, key_in_group(m, 1, 2, &next), 3);
	gomap_table_info t = table0(m);
	cr_assert(eq(u32, t.capacity, 16), "grew instead of pruning");
	cr_assert(eq(u32, t.tombstones, 0));
	cr_assert(eq(u32, t.growth_left, 1));
	gomap_free(m);
}

Test(swiss, too_few_prunable_tombstones_make_the_table_grow)
{
	/* One tombstone is under 10% of 16 slots: Go grows instead. */
	int64_t g0[8], g1[1];
	gomap *m = two_groups(g0, g1, 1);
	del_i64(m, g0[2]);
	int64_t next = 300000;
	while (table0(m).growth_left > 0)
		set_i64(m, key_in_group(m, 1, 2, &next), 2);
	set_i64(m, key_in_group(m, 1, 2, &next), 3);
	cr_assert(eq(u32, table0(m).capacity, 32));
	cr_assert(eq(u32, table0(m).tombstones, 0), "a grow keeps no tombstone");
	gomap_free(m);
}

/* ---- iteration --------------------------------------------------------- */

Test(swiss, iteration_across_grows_and_splits_with_deletes_visits_each_remaining_once)
{
	uint64_t rng = test_seed(42);
	enum { N = 800, NEW = 3000 };
	static unsigned char seen[N + NEW], deleted[N];
	memset(seen, 0, sizeof seen);
	memset(deleted, 0, sizeof deleted);
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	for (int64_t k = 0; k < N; k++)
		gomap_i64_set(m, k, k);
	gomap_iter it;
	gomap_iter_init(m, &it);
	int steps = 0;
	bool changed = false;
	while (gomap_iter_next(&it)) {
		int64_t k = *(const int64_t *)it.key;
		cr_assert(k >= 0 && k < N + NEW, "key %lld", (long long)k);
		cr_assert(eq(int, seen[k], 0), "key %lld visited twice", (long long)k);
		seen[k] = 1;
		if (k < N) {
			cr_assert(not(deleted[k]), "deleted key %lld visited", (long long)k);
			/* After the change, a stale table still holds the old
			 * value: the iterator must return the live one. */
			int64_t want = changed ? -k : k;
			cr_assert(eq(i64, *(const int64_t *)it.elem, want), "value of key %lld",
			          (long long)k);
		}
		if (++steps == 20) {
			/* Grow and split the table the iteration is walking, then
			 * delete a third of the originals not yet seen and give
			 * the rest new values. */
			for (int64_t n = N; n < N + NEW; n++)
				gomap_i64_set(m, n, n);
			cr_assert(stats_of(m).tables >= 4, "no split happened");
			for (int64_t d = 0; d < N; d++) {
				if (rng_next(&rng) % 3 == 0 && !seen[d]) {
					deleted[d] = 1;
					gomap_i64_delete(m, d);
				} else {
					gomap_i64_set(m, d, -d);
				}
			}
			CHECK_INVARIANTS(m);
			changed = true;
		}
	}
	for (int64_t k = 0; k < N; k++)
		if (!deleted[k])
			cr_assert(eq(int, seen[k], 1), "remaining key %lld not visited",
			          (long long)k);
	gomap_free(m);
}

Test(swiss, iteration_of_a_small_map_that_became_a_table_returns_live_values)
{
	gomap *m = make_i64_filled(0, 8);
	gomap_iter it;
	gomap_iter_init(m, &it);
	cr_assert(gomap_iter_next(&it));
	int64_t first = *(const int64_t *)it.key;
	for (int64_t k = 1; k <= 8; k++)
		set_i64(m, k, -k); /* overwrite */
	set_i64(m, 100, 100);      /* the ninth: now a table */
	int64_t gone = first == 1 ? 2 : 1;
	del_i64(m, gone);
	int n = 1;
	while (gomap_iter_next(&it)) {
		int64_t k = *(const int64_t *)it.key;
		cr_assert(k != gone, "a deleted key was returned");
		if (k != 100)
			cr_assert(eq(i64, *(const int64_t *)it.elem, -k), "a stale value");
		n++;
	}
	cr_assert(n == 7 || n == 8, "%d entries", n);
	gomap_free(m);
}

/* ---- seeds -------------------------------------------------------------- */

Test(swiss, seed_is_redrawn_when_a_delete_empties_the_map_and_at_every_clear)
{
	gomap *m = make_i64_filled(0, 20);
	uint64_t s0 = stats_of(m).hash0;
	for (int64_t k = 1; k < 20; k++)
		del_i64(m, k);
	cr_assert(eq(u64, stats_of(m).hash0, s0), "a delete that left entries changed the seed");
	del_i64(m, 20);
	uint64_t s1 = stats_of(m).hash0;
	cr_assert(s1 != s0, "emptying delete kept the seed");
	set_i64(m, 5, 5);
	clear_map(m);
	uint64_t s2 = stats_of(m).hash0;
	cr_assert(s2 != s1, "clear kept the seed");
	/* Go 1.26 clears (and re-seeds) a map with tombstones and no entry. */
	int64_t g0[8], g1[1];
	gomap *t = two_groups(g0, g1, 1);
	for (int i = 0; i < 8; i++)
		del_i64(t, g0[i]);
	del_i64(t, g1[0]);
	cr_assert(eq(sz, gomap_len(t), 0));
	uint64_t s3 = stats_of(t).hash0;
	clear_map(t);
	cr_assert(stats_of(t).hash0 != s3, "clear of a map with only tombstones kept the seed");
	cr_assert(eq(sz, stats_of(t).tombstones, 0));
	gomap_free(t);
	gomap_free(m);
}

/* ---- clone -------------------------------------------------------------- */

Test(swiss, clone_copies_the_table_layout_and_seed)
{
	gomap *m = make_i64_filled(0, 2000);
	for (int64_t k = 1; k <= 1500; k++)
		del_i64(m, k);
	gomap *c = gomap_clone(m);
	CHECK_INVARIANTS(c);
	gomap_stats a = stats_of(m), b = stats_of(c);
	cr_assert(eq(sz, a.dir_len, b.dir_len));
	cr_assert(eq(sz, a.capacity, b.capacity));
	cr_assert(eq(u64, a.hash0, b.hash0));
	for (int64_t k = 1501; k <= 2000; k++)
		expect_i64(c, k, k * 10);
	gomap_free(m);
	gomap_free(c);
}

/* ---- the detector ------------------------------------------------------- */

/* Runs `fn` in a child process; returns its stderr and wait status. */
static int run_child(void (*fn)(void), char *out, size_t cap)
{
	int p[2];
	cr_assert(pipe(p) == 0);
	fflush(NULL);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 2);
		close(p[0]);
		alarm(20);
		fn();
		_exit(0);
	}
	close(p[1]);
	size_t n = 0;
	ssize_t r;
	while (n + 1 < cap && (r = read(p[0], out + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(p[0]);
	int status;
	waitpid(pid, &status, 0);
	return status;
}

static void expect_first_line(void (*fn)(void), const char *line)
{
	static char out[65536];
	int status = run_child(fn, out, sizeof out);
	bool exit2 = WIFEXITED(status) && WEXITSTATUS(status) == 2;
	cr_assert(exit2, "status %d, stderr:\n%s", status, out);
	size_t n = strlen(line);
	cr_assert(strncmp(out, line, n) == 0 && out[n] == '\n', "first line:\n%s", out);
}

/* A map type whose hash is the key itself, so H2 = key & 0x7f, and whose
 * hash and equal can hold a thread at the exact moment a scenario needs. */
static sem_t in_hash, go_on, b_done;
static int hold_hash_of; /* the thread whose next hash waits */
static int hold_equal_of;

static uint64_t ident_hash(const void *k, uint64_t seed)
{
	(void)seed;
	if (hold_hash_of != 0 && gomap_thread_id() == hold_hash_of) {
		hold_hash_of = 0;
		sem_post(&in_hash);
		sem_wait(&go_on);
	}
	return (uint64_t) * (const int64_t *)k;
}

static bool ident_equal(const void *a, const void *b)
{
	if (hold_equal_of != 0 && gomap_thread_id() == hold_equal_of) {
		hold_equal_of = 0;
		sem_post(&go_on);  /* the other writer may go on ... */
		sem_wait(&b_done); /* ... until it has filled the group */
	}
	return *(const int64_t *)a == *(const int64_t *)b;
}

static const gomap_type ident_type = {.name = "map[ident]int64",
                                      .keysize = 8,
                                      .elemsize = 8,
                                      .kind = GOMAP_KEY_GENERIC,
                                      .hash = ident_hash,
                                      .equal = ident_equal};

static gomap *M;
static int b_id;

static void put(int64_t k)
{
	gomap_assign(M, &k, &k);
}

/* The second writer: passes the entry check, waits in its hash. */
static void *writer_b(void *arg)
{
	b_id = gomap_thread_id();
	hold_hash_of = b_id;
	put((int64_t)(intptr_t)arg);
	return NULL;
}

/* B, at the end of its write: let A go on and never finish. */
static void park_b(gomap_event ev, gomap *m, gomap_op op, void *arg)
{
	if (gomap_thread_id() != b_id)
		return;
	sem_post(&b_done);
	for (;;)
		pause();
}

static void start_b(int64_t key)
{
	sem_init(&in_hash, 0, 0);
	sem_init(&go_on, 0, 0);
	sem_init(&b_done, 0, 0);
	(void)gomap_thread_id(); /* the main thread is 1 */
	pthread_t t;
	pthread_create(&t, NULL, writer_b, (void *)(intptr_t)key);
	sem_wait(&in_hash); /* B passed its entry check */
}

/* Writer A finds the small group full although only 7 entries were counted
 * when it looked: B, which passed its entry check before A set the flag,
 * put the 8th entry while A compared keys. */
static void small_group_filled_by_another_writer(void)
{
	M = gomap_make(&ident_type, 0);
	for (int64_t k = 1; k <= 7; k++)
		put(k); /* H2 1..7 */
	gomap_set_hook(GOMAP_EV_WRITE_CLEAR, park_b, NULL);
	start_b(8);
	hold_equal_of = gomap_thread_id();
	put(129); /* H2 1: compares with key 1, and waits there */
}

Test(swiss, a_full_small_group_reports_small_map_with_no_empty_slot)
{
	expect_first_line(small_group_filled_by_another_writer,
	                  "fatal error: small map with no empty slot (concurrent map writes?)");
}

/* A: flag set, B toggles it back (XOR), A's exit check finds it clear. */
static void a_lets_b_toggle(gomap_event ev, gomap *m, gomap_op op, void *arg)
{
	if (gomap_thread_id() == b_id)
		return;
	sem_post(&go_on);  /* B's hash returns and B toggles the flag */
	sem_wait(&b_done); /* B parks at its own WRITE_SET */
}

static void b_parks_after_its_toggle(gomap_event ev, gomap *m, gomap_op op, void *arg)
{
	if (gomap_thread_id() != b_id)
		return;
	sem_post(&b_done);
	for (;;)
		pause();
}

static void a_or_b(gomap_event ev, gomap *m, gomap_op op, void *arg)
{
	if (gomap_thread_id() == b_id)
		b_parks_after_its_toggle(ev, m, op, arg);
	else
		a_lets_b_toggle(ev, m, op, arg);
}

static void two_writers_toggle_the_flag_back(void)
{
	M = gomap_make(&ident_type, 0);
	for (int64_t k = 1; k <= 20; k++)
		put(k);
	start_b(21);
	gomap_set_hook(GOMAP_EV_WRITE_SET, a_or_b, NULL);
	put(22);
}

Test(swiss, two_writers_toggle_the_flag_back_and_the_first_to_exit_reports)
{
	expect_first_line(two_writers_toggle_the_flag_back, "fatal error: concurrent map writes");
}
