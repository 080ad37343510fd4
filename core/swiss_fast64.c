/*
 * swiss_fast64.c -- entry points for 64-bit integer keys of the Swiss-table
 * map (Go: runtime_fast64.go).
 *
 * The algorithms are those of swiss_impl.h with the key kind fixed at
 * compile time. They expect a map made with a GOMAP_KEY_I64 type whose
 * elems are int64_t.
 */
#include "swiss_impl.h"

int64_t gomap_i64_get(gomap *m, int64_t key)
{
	const int64_t *e = sw_access(m, GOMAP_KEY_I64, &key);
	return e ? *e : 0;
}

bool gomap_i64_lookup(gomap *m, int64_t key, int64_t *val)
{
	const int64_t *e = sw_access(m, GOMAP_KEY_I64, &key);
	if (val != NULL)
		*val = e ? *e : 0;
	return e != NULL;
}

void gomap_i64_set(gomap *m, int64_t key, int64_t val)
{
	static const gm_api api = {"gomap_i64_set", GOMAP_OP_ASSIGN};
	sw_assign(m, GOMAP_KEY_I64, &key, &val, &api, GM_CALLER_PC());
}

void gomap_i64_delete(gomap *m, int64_t key)
{
	static const gm_api api = {"gomap_i64_delete", GOMAP_OP_DELETE};
	sw_delete(m, GOMAP_KEY_I64, &key, &api, GM_CALLER_PC());
}
