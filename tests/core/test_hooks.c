/*
 * test_hooks.c -- the instrumentation points (gomap_set_hook).
 *
 * Arrival events fire after the nil and empty early returns and just before
 * the write-flag check, so a hook sees exactly the operations the detector
 * could catch: a read of an empty map, a delete or clear of an empty map and
 * a clone of an empty map never arrive, and len never does. Every operation
 * that arrived ends with one exit event; the tests of arrivals leave the exit
 * hook out (record_all) and one test counts exits on their own.
 */
#include "test_util.h"

typedef struct record {
	int count[GOMAP_EV_COUNT_];
	gomap_event order[64];
	gomap_op ops[64];
	gomap *maps[64];
	int n;
} record;

static void recorder(gomap_event ev, gomap *m, gomap_op op, void *arg)
{
	record *r = arg;
	r->count[ev]++;
	if (r->n < 64) {
		r->order[r->n] = ev;
		r->ops[r->n] = op;
		r->maps[r->n] = m;
		r->n++;
	}
}

static void record_all(record *r)
{
	memset(r, 0, sizeof *r);
	for (int ev = 0; ev < GOMAP_EV_COUNT_; ev++)
		if (ev != GOMAP_EV_DETECTED && ev != GOMAP_EV_OP_EXIT)
			gomap_set_hook((gomap_event)ev, recorder, r);
}

static void record_none(void)
{
	for (int ev = 0; ev < GOMAP_EV_COUNT_; ev++)
		gomap_set_hook((gomap_event)ev, NULL, NULL);
}

static int total(const record *r)
{
	int n = 0;
	for (int ev = 0; ev < GOMAP_EV_COUNT_; ev++)
		n += r->count[ev];
	return n;
}

Test(hooks, a_write_fires_entry_set_clear_in_order)
{
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	record r;
	record_all(&r);
	gomap_i64_set(m, 1, 1);
	record_none();
	cr_assert(eq(int, r.n, 3), "events for one assign");
	cr_assert(eq(int, r.order[0], GOMAP_EV_WRITE_ENTRY));
	cr_assert(eq(int, r.order[1], GOMAP_EV_WRITE_SET));
	cr_assert(eq(int, r.order[2], GOMAP_EV_WRITE_CLEAR));
	for (int i = 0; i < 3; i++) {
		cr_assert(eq(int, r.ops[i], GOMAP_OP_ASSIGN), "op of event %d", i);
		cr_assert(eq(ptr, r.maps[i], m), "map of event %d", i);
	}
	gomap_free(m);
}

Test(hooks, delete_and_clear_fire_with_their_ops)
{
	gomap *m = make_i64_filled(0, 5);
	record r;
	record_all(&r);
	gomap_i64_delete(m, 1);
	gomap_i64_delete(m, 1000); /* missing key: still a write */
	gomap_clear(m);
	record_none();
	cr_assert(eq(int, r.n, 9));
	for (int i = 0; i < 6; i++)
		cr_assert(eq(int, r.ops[i], GOMAP_OP_DELETE), "op of event %d", i);
	for (int i = 6; i < 9; i++)
		cr_assert(eq(int, r.ops[i], GOMAP_OP_CLEAR), "op of event %d", i);
	cr_assert(eq(int, r.order[6], GOMAP_EV_WRITE_ENTRY));
	cr_assert(eq(int, r.order[7], GOMAP_EV_WRITE_SET));
	cr_assert(eq(int, r.order[8], GOMAP_EV_WRITE_CLEAR));
	gomap_free(m);
}

Test(hooks, reads_of_a_nonempty_map_arrive_once_each)
{
	gomap *m = make_i64_filled(0, 5);
	record r;
	record_all(&r);
	int64_t k = 2, v;
	gomap_i64_get(m, 1);
	gomap_i64_lookup(m, 99, &v);
	gomap_access1(m, &k, &v);
	gomap_access2(m, &k, &v);
	record_none();
	cr_assert(eq(int, r.count[GOMAP_EV_READ_ENTRY], 4));
	cr_assert(eq(int, total(&r), 4));
	for (int i = 0; i < 4; i++)
		cr_assert(eq(int, r.ops[i], GOMAP_OP_ACCESS), "op of event %d", i);
	gomap_free(m);
}

Test(hooks, operations_on_an_empty_map_return_before_arriving)
{
	gomap *m = gomap_make(&gomap_type_i64_i64, 0);
	record r;
	record_all(&r);
	int64_t k = 1, v;
	gomap_i64_get(m, 1);
	gomap_i64_lookup(m, 1, &v);
	gomap_access2(m, &k, &v);
	gomap_str_get(NULL, "a", 1);
	gomap_i64_delete(m, 1);
	gomap_clear(m);
	record_none();
	cr_assert(eq(int, total(&r), 0), "an empty map fired %d events (first: %d)", total(&r),
	          r.n ? (int)r.order[0] : -1);
	/* Go 1.19's mapclone returns an empty copy before its check; Go
	 * 1.26's Map.Clone checks first, so it arrives. */
	record_all(&r);
	gomap *c = gomap_clone(m);
	record_none();
	int expect = is_swiss() ? 1 : 0; /* OP_EXIT is not recorded here */
	cr_assert(eq(int, total(&r), expect), "clone of an empty map fired %d events", total(&r));
	if (is_swiss())
		cr_assert(eq(int, r.count[GOMAP_EV_CLONE_ENTRY], 1));
	gomap_free(c);
	gomap_free(m);
}

Test(hooks, a_nil_map_fires_nothing)
{
	record r;
	record_all(&r);
	int64_t k = 1, v;
	gomap_i64_get(NULL, 1);
	gomap_access2(NULL, &k, &v);
	gomap_i64_delete(NULL, 1);
	gomap_clear(NULL);
	gomap_clone(NULL);
	gomap_iter it;
	gomap_iter_init(NULL, &it);
	gomap_iter_next(&it);
	record_none();
	cr_assert(eq(int, total(&r), 0));
}

Test(hooks, len_never_arrives)
{
	gomap *m = make_i64_filled(0, 5);
	record r;
	record_all(&r);
	for (int i = 0; i < 10; i++)
		cr_assert(eq(sz, gomap_len(m), 5));
	record_none();
	cr_assert(eq(int, total(&r), 0));
	gomap_free(m);
}

Test(hooks, every_iteration_step_arrives)
{
	gomap *m = make_i64_filled(0, 10);
	record r;
	record_all(&r);
	gomap_iter it;
	gomap_iter_init(m, &it);
	int steps = 0;
	while (gomap_iter_next(&it))
		steps++;
	record_none();
	cr_assert(eq(int, steps, 10));
	cr_assert(eq(int, r.count[GOMAP_EV_ITER_STEP], 11), "ten entries and the final step");
	cr_assert(eq(int, total(&r), 11), "iter_init must not arrive");
	cr_assert(eq(int, r.ops[0], GOMAP_OP_ITER));
	gomap_free(m);
}

Test(hooks, clone_of_a_nonempty_map_arrives_once)
{
	gomap *m = make_i64_filled(0, 10);
	record r;
	record_all(&r);
	gomap *c = gomap_clone(m);
	record_none();
	cr_assert(eq(int, r.count[GOMAP_EV_CLONE_ENTRY], 1));
	cr_assert(eq(int, total(&r), 1), "a clone is not a read or a write of the source");
	cr_assert(eq(int, r.ops[0], GOMAP_OP_CLONE));
	cr_assert(eq(ptr, r.maps[0], m));
	gomap_free(c);
	gomap_free(m);
}

/* One exit per operation that arrived, after its last other event, with the
 * operation and map of its entry; none for the operations that never arrive. */
Test(hooks, every_arrived_operation_exits_once)
{
	gomap *m = make_i64_filled(0, 4);
	record r;
	memset(&r, 0, sizeof r);
	for (int ev = 0; ev < GOMAP_EV_COUNT_; ev++)
		if (ev != GOMAP_EV_DETECTED)
			gomap_set_hook((gomap_event)ev, recorder, &r);
	gomap_i64_set(m, 9, 9);    /* entry, set, clear, exit */
	gomap_i64_get(m, 1);       /* entry, exit */
	gomap_i64_delete(m, 9);    /* entry, set, clear, exit */
	gomap *c = gomap_clone(m); /* entry, exit */
	gomap_iter it;
	gomap_iter_init(m, &it);
	int steps = 0;
	while (gomap_iter_next(&it)) /* 4 entries + the final step: 5 x (entry, exit) */
		steps++;
	gomap_clear(c);     /* entry, set, clear, exit */
	gomap_clear(c);     /* empty: nothing */
	(void)gomap_len(m); /* nothing */
	record_none();
	cr_assert(eq(int, steps, 4));
	cr_assert(eq(int, r.count[GOMAP_EV_OP_EXIT], 3 + 1 + 1 + 5));
	cr_assert(eq(int, total(&r), 4 + 2 + 4 + 2 + 10 + 4));
	static const gomap_op ops[] = {GOMAP_OP_ASSIGN, GOMAP_OP_ACCESS, GOMAP_OP_DELETE,
	                               GOMAP_OP_CLONE,  GOMAP_OP_ITER,   GOMAP_OP_CLEAR};
	static const int at[] = {3, 5, 9, 11, 13, 25};
	for (int i = 0; i < 6; i++) {
		cr_assert(eq(int, r.order[at[i]], GOMAP_EV_OP_EXIT), "event %d", at[i]);
		cr_assert(eq(int, r.ops[at[i]], ops[i]), "op of exit %d", i);
		cr_assert(eq(ptr, r.maps[at[i]], i == 5 ? c : m), "map of exit %d", i);
	}
	gomap_free(c);
	gomap_free(m);
}

Test(hooks, a_removed_hook_stops_firing)
{
	gomap *m = make_i64_filled(0, 3);
	record r;
	record_all(&r);
	gomap_i64_get(m, 1);
	gomap_set_hook(GOMAP_EV_READ_ENTRY, NULL, NULL);
	gomap_i64_get(m, 1);
	record_none();
	cr_assert(eq(int, r.count[GOMAP_EV_READ_ENTRY], 1));
	gomap_free(m);
}

Test(hooks, op_names_match_the_report)
{
	cr_assert(eq(str, (char *)gomap_op_name(GOMAP_OP_ASSIGN), "map write"));
	cr_assert(eq(str, (char *)gomap_op_name(GOMAP_OP_DELETE), "map delete"));
	cr_assert(eq(str, (char *)gomap_op_name(GOMAP_OP_CLEAR), "map clear"));
	cr_assert(eq(str, (char *)gomap_op_name(GOMAP_OP_ACCESS), "map read"));
}

Test(hooks, detector_is_compiled_in)
{
	cr_assert(eq(int, gomap_detector_enabled(), 1));
}
