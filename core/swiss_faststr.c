/*
 * swiss_faststr.c -- entry points for byte-string keys of the Swiss-table
 * map (Go: runtime_faststr.go).
 *
 * The algorithms are those of swiss_impl.h with the key kind fixed at
 * compile time. They expect a map made with a GOMAP_KEY_STR type whose
 * elems are int64_t. The map copies a key's bytes when it stores a new key
 * (invariant 6).
 */
#include "swiss_impl.h"

int64_t gomap_str_get(gomap *m, const char *key, size_t len)
{
	gomap_str k = {key, len};
	const int64_t *e = sw_access(m, GOMAP_KEY_STR, &k);
	return e ? *e : 0;
}

bool gomap_str_lookup(gomap *m, const char *key, size_t len, int64_t *val)
{
	gomap_str k = {key, len};
	const int64_t *e = sw_access(m, GOMAP_KEY_STR, &k);
	if (val != NULL)
		*val = e ? *e : 0;
	return e != NULL;
}

void gomap_str_set(gomap *m, const char *key, size_t len, int64_t val)
{
	gomap_str k = {key, len};
	static const gm_api api = {"gomap_str_set", GOMAP_OP_ASSIGN};
	sw_assign(m, GOMAP_KEY_STR, &k, &val, &api, GM_CALLER_PC());
}

void gomap_str_delete(gomap *m, const char *key, size_t len)
{
	gomap_str k = {key, len};
	static const gm_api api = {"gomap_str_delete", GOMAP_OP_DELETE};
	sw_delete(m, GOMAP_KEY_STR, &k, &api, GM_CALLER_PC());
}
