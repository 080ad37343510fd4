/*
 * cores.h -- the two map generations side by side in one fuzzer.
 *
 * The bucket map (core/map*.c) and the Swiss-table map (core/swiss_*.c)
 * export the same names. The fuzzer's build links each generation, with
 * the shared files it needs, as one object whose global symbols carry a
 * prefix (bench/rename-symbols.sh): bucket_gomap_make, swiss_gomap_make,
 * and so on. A `core` gathers one generation's entry points, so the
 * fuzzer runs the same program against either through `C->`.
 *
 * The key hashes a map type carries (gomap_memhash, gomap_hash64) and the
 * type helpers come from the bucket copy: a gomap_type is plain data that
 * either generation accepts.
 */
#ifndef FUZZ_CORES_H
#define FUZZ_CORES_H

#include "gomap.h"

typedef struct core {
	const char *name; /* gomap_generation() of this copy */
	gomap *(*make)(const gomap_type *t, size_t hint);
	void (*free)(gomap *m);
	const gomap_type *(*type_of)(const gomap *m);
	void (*access1)(gomap *m, const void *key, void *elem_out);
	bool (*access2)(gomap *m, const void *key, void *elem_out);
	void (*assign)(gomap *m, const void *key, const void *elem);
	void (*delete_)(gomap *m, const void *key);
	void (*clear)(gomap *m);
	gomap *(*clone)(gomap *m);
	size_t (*len)(const gomap *m);
	int64_t (*i64_get)(gomap *m, int64_t key);
	bool (*i64_lookup)(gomap *m, int64_t key, int64_t *val);
	void (*i64_set)(gomap *m, int64_t key, int64_t val);
	void (*i64_delete)(gomap *m, int64_t key);
	int64_t (*str_get)(gomap *m, const char *key, size_t len);
	bool (*str_lookup)(gomap *m, const char *key, size_t len, int64_t *val);
	void (*str_set)(gomap *m, const char *key, size_t len, int64_t val);
	void (*str_delete)(gomap *m, const char *key, size_t len);
	void (*iter_init)(gomap *m, gomap_iter *it);
	bool (*iter_next)(gomap_iter *it);
	const char *(*check_invariants)(gomap *m);
	void (*get_stats)(gomap *m, gomap_stats *st);
	const char *(*generation)(void);
} core;

/* The prototypes of one renamed copy, and a `core` that points at it. */
#define FUZZ_CORE_DECLARE(p)                                                                       \
	gomap *p##gomap_make(const gomap_type *t, size_t hint);                                    \
	void p##gomap_free(gomap *m);                                                              \
	const gomap_type *p##gomap_typeof(const gomap *m);                                         \
	void p##gomap_access1(gomap *m, const void *key, void *elem_out);                          \
	bool p##gomap_access2(gomap *m, const void *key, void *elem_out);                          \
	void p##gomap_assign(gomap *m, const void *key, const void *elem);                         \
	void p##gomap_delete(gomap *m, const void *key);                                           \
	void p##gomap_clear(gomap *m);                                                             \
	gomap *p##gomap_clone(gomap *m);                                                           \
	size_t p##gomap_len(const gomap *m);                                                       \
	int64_t p##gomap_i64_get(gomap *m, int64_t key);                                           \
	bool p##gomap_i64_lookup(gomap *m, int64_t key, int64_t *val);                             \
	void p##gomap_i64_set(gomap *m, int64_t key, int64_t val);                                 \
	void p##gomap_i64_delete(gomap *m, int64_t key);                                           \
	int64_t p##gomap_str_get(gomap *m, const char *key, size_t len);                           \
	bool p##gomap_str_lookup(gomap *m, const char *key, size_t len, int64_t *val);             \
	void p##gomap_str_set(gomap *m, const char *key, size_t len, int64_t val);                 \
	void p##gomap_str_delete(gomap *m, const char *key, size_t len);                           \
	void p##gomap_iter_init(gomap *m, gomap_iter *it);                                         \
	bool p##gomap_iter_next(gomap_iter *it);                                                   \
	const char *p##gomap_check_invariants(gomap *m);                                           \
	void p##gomap_get_stats(gomap *m, gomap_stats *st);                                        \
	const char *p##gomap_generation(void)

#define FUZZ_CORE(p, label)                                                                        \
	{                                                                                          \
		label, p##gomap_make, p##gomap_free, p##gomap_typeof, p##gomap_access1,            \
		        p##gomap_access2, p##gomap_assign, p##gomap_delete, p##gomap_clear,        \
		        p##gomap_clone, p##gomap_len, p##gomap_i64_get, p##gomap_i64_lookup,       \
		        p##gomap_i64_set, p##gomap_i64_delete, p##gomap_str_get,                   \
		        p##gomap_str_lookup, p##gomap_str_set, p##gomap_str_delete,                \
		        p##gomap_iter_init, p##gomap_iter_next, p##gomap_check_invariants,         \
		        p##gomap_get_stats, p##gomap_generation                                    \
	}

FUZZ_CORE_DECLARE(bucket_);
FUZZ_CORE_DECLARE(swiss_);

/* The helpers a type is built with, from the bucket copy (see above). */
uint64_t bucket_gomap_memhash(const void *p, size_t n, uint64_t seed);
uint64_t bucket_gomap_hash64(uint64_t key, uint64_t seed);
void bucket_gomap_type_init_i64(gomap_type *t, size_t elemsize, const char *name);
void bucket_gomap_type_init_str(gomap_type *t, size_t elemsize, const char *name);
extern const gomap_type bucket_gomap_type_i64_i64;
extern const gomap_type bucket_gomap_type_str_i64;

#endif /* FUZZ_CORES_H */
