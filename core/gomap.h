/*
 * gomap.h -- a C port of Go's runtime map, with Go's concurrent-misuse detector.
 *
 * The map behaves like a Go `map[K]V`, in one of two generations chosen when
 * the library is built (CMake: GOMAP_GENERATION; gomap_generation() tells):
 * Go 1.19's bucket map (src/runtime/map.go, the default) or Go 1.26's
 * Swiss-table map (src/internal/runtime/maps). Either has Go's layout,
 * growth rules, iteration order rules and, above all, the same best-effort
 * detector that makes Go programs die with
 *
 *     fatal error: concurrent map writes
 *     fatal error: concurrent map read and map write
 *     fatal error: concurrent map iteration and map write
 *     fatal error: concurrent map clone and map write
 *     panic: assignment to entry in nil map
 *
 * and, when racing writers break the table itself, Go's "fatal error: bad
 * map state" where Go 1.19 notices the damage (evacuate), Go 1.26's "fatal
 * error: small map with no empty slot (concurrent map writes?)" where the
 * Swiss map notices it, else "fatal error: <what broke> (concurrent map
 * writes?)", as Go 1.24 words its own.
 *
 * A NULL `gomap *` is Go's nil map: reads give the zero value, len is 0, an
 * iteration visits nothing, delete and clear do nothing, and assign panics.
 *
 * Thread safety: none, exactly like Go. Using one map from several threads
 * without synchronisation is the misuse that the detector reports. The map
 * stays memory-safe under that misuse: a racing reader may see stale or torn
 * data, but never freed or out-of-bounds memory, and never loops forever.
 *
 * Glossary of the bucket map (Go's vocabulary, used throughout the core;
 * core/swiss_internal.h has the Swiss map's: groups, ctrl, H1/H2, probeSeq,
 * tables, localDepth, globalDepth, growthLeft, tombstone, clearSeq):
 *   hmap       the map header (struct gomap)
 *   bmap       one bucket: 8 tophash bytes, 8 keys, 8 elems, an overflow pointer
 *   B          log2 of the number of buckets
 *   tophash    the top byte of a key's hash, or a marker for an empty slot
 *   oldbuckets the previous bucket array while a grow is in progress
 *   nevacuate  how many old buckets have been moved to the new array
 *   hashWriting the flag a writer holds for the whole of its operation
 */
#ifndef GOMAP_H
#define GOMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Types (Go: maptype)                                                      */
/* ------------------------------------------------------------------------ */

/* Which specialised code path a map type takes. Like Go's mapaccess1_fast64
 * and mapaccess1_faststr, the two common key kinds avoid indirect calls. */
typedef enum gomap_key_kind {
	GOMAP_KEY_GENERIC = 0, /* hash and equal through the function pointers */
	GOMAP_KEY_I64 = 1,     /* int64_t keys */
	GOMAP_KEY_STR = 2,     /* byte strings (gomap_str), copied into the map */
} gomap_key_kind;

/* A byte-string key: pointer and length. The map copies the bytes when it
 * stores a new key, so the caller's buffer may be reused at once. */
typedef struct gomap_str {
	const char *ptr;
	size_t len;
} gomap_str;

typedef uint64_t (*gomap_hash_fn)(const void *key, uint64_t seed);
typedef bool (*gomap_equal_fn)(const void *a, const void *b);

/* The description of a map type, like Go's maptype. Keys and elems are
 * stored inline in the buckets and copied with memcpy, whatever their size
 * (Go stores a key or elem of more than 128 bytes through a pointer; that
 * changes the bucket size, not what the map does). A GENERIC key may have
 * size 0 (Go: map[struct{}]V): such a map holds at most one key, and its
 * hash and equal must treat every key as the same.
 *
 * The two flags carry what Go's compiler tells the runtime about a key type.
 * Both default to false, Go's answer for integers, pointers and byte arrays,
 * so a description that leaves them out keeps working:
 *
 *   needkeyupdate  equal keys may differ in their bytes (floats: +0 and -0;
 *                  structs holding floats): an assign that finds an equal key
 *                  overwrites the stored key too (Go: needkeyupdate, used by
 *                  mapassign; TestNegativeZero).
 *   notreflexive   a key may be unequal to itself (a float NaN, or a struct
 *                  holding one; Go: !reflexivekey). Every assign of such a
 *                  key adds an entry that no lookup or delete ever finds;
 *                  iteration, grow (evacuate) and clone keep and return those
 *                  entries without looking them up.
 *
 * The core's own kinds set neither: int64 keys are reflexive and equal only
 * when identical. Go marks strings needkeyupdate because two equal strings
 * may live in different memory; a GOMAP_KEY_STR key is copied into a record
 * the map owns, and equal strings have the same bytes, so there is nothing
 * to update. */
typedef struct gomap_type {
	const char *name;     /* shown in reports, e.g. "map[int64]int64" */
	size_t keysize;       /* bytes per key (16 for GOMAP_KEY_STR) */
	size_t elemsize;      /* bytes per elem (may be 0) */
	gomap_key_kind kind;  /* selects the specialised paths */
	gomap_hash_fn hash;   /* hash(key, seed); required for GENERIC */
	gomap_equal_fn equal; /* equal(a, b); required for GENERIC */
	bool needkeyupdate;   /* GENERIC only: see above; default false */
	bool notreflexive;    /* GENERIC only: see above; default false */
} gomap_type;

/* Ready types. */
extern const gomap_type gomap_type_i64_i64; /* map[int64]int64 */
extern const gomap_type gomap_type_str_i64; /* map[string]int64 */

/* Fill `t` for 64-bit integer or byte-string keys with any elem size. */
void gomap_type_init_i64(gomap_type *t, size_t elemsize, const char *name);
void gomap_type_init_str(gomap_type *t, size_t elemsize, const char *name);

/* The seeded hash the core uses for its own key kinds; generic types may
 * use it too (Go: memhash). Resists hash flooding when the seed is secret. */
uint64_t gomap_memhash(const void *p, size_t n, uint64_t seed);
uint64_t gomap_hash64(uint64_t key, uint64_t seed);

/* Makes every random choice of the core reproducible (testing and schedule
 * exploration only). Go draws map seeds, iteration starting points and its
 * per-process hash key at random (fastrand, hashkey); so does the core, from
 * the kernel. With a nonzero `seed`, each thread's stream is instead derived
 * from `seed` and the order in which threads first draw (the calling thread
 * restarts its stream and the next thread to draw is second), and the
 * per-process hash key is derived from `seed`. The same seed and the same
 * order of first draws then give the same map seeds, the same iteration
 * orders and the same hashes. Seed 0, the default, keeps kernel randomness.
 * Call it before any map is made and before other threads use the core:
 * maps made earlier keep their seeds, threads that drew earlier keep their
 * streams. */
void gomap_seed_random(uint64_t seed);

/* ------------------------------------------------------------------------ */
/* The map (Go: hmap and the map* functions)                                */
/* ------------------------------------------------------------------------ */

typedef struct gomap gomap;

/* make(map[K]V, hint). Never returns NULL (aborts when out of memory). A
 * hint whose buckets could not be allocated (hint times the bucket size
 * above 2^48 bytes, Go's maxAlloc), such as SIZE_MAX or (size_t)-1 from a
 * negative int, is ignored and gives an empty map, as in Go's makemap (the
 * Swiss map: Go 1.26's NewMap rule, which also allocates nothing for a
 * hint of 8 or less). */
gomap *gomap_make(const gomap_type *t, size_t hint);
/* Releases the map and every bucket array (or table) it ever used. NULL is a no-op.
 * The only operation with no Go counterpart; never call it while another
 * thread may still use the map. */
void gomap_free(gomap *m);
const gomap_type *gomap_typeof(const gomap *m);

/* v := m[k]: copies the elem, or zeroes `elem_out` when absent. A nil map
 * has no type and so no elem size: `elem_out` is then left untouched. */
void gomap_access1(gomap *m, const void *key, void *elem_out);
/* v, ok := m[k]: as gomap_access1, and returns ok. elem_out may be NULL. */
bool gomap_access2(gomap *m, const void *key, void *elem_out);
/* m[k] = v. On a nil map: panic "assignment to entry in nil map". A key or
 * elem of size 0 may be passed as NULL. */
void gomap_assign(gomap *m, const void *key, const void *elem);
/* delete(m, k) */
void gomap_delete(gomap *m, const void *key);
/* clear(m) (Go 1.21) */
void gomap_clear(gomap *m);
/* maps.Clone(m) (Go 1.21): NULL for a nil map. */
gomap *gomap_clone(gomap *m);
/* len(m): no detector check at all, like Go. */
size_t gomap_len(const gomap *m);

/* Typed helpers for map[int64]int64-shaped maps (GOMAP_KEY_I64, elemsize 8).
 * They take the fast paths (Go: map_fast64.go). */
int64_t gomap_i64_get(gomap *m, int64_t key);
bool gomap_i64_lookup(gomap *m, int64_t key, int64_t *val);
void gomap_i64_set(gomap *m, int64_t key, int64_t val);
void gomap_i64_delete(gomap *m, int64_t key);

/* Typed helpers for map[string]int64-shaped maps (GOMAP_KEY_STR, elemsize 8).
 * Go: map_faststr.go. `len` bytes at `key`, embedded NULs allowed. */
int64_t gomap_str_get(gomap *m, const char *key, size_t len);
bool gomap_str_lookup(gomap *m, const char *key, size_t len, int64_t *val);
void gomap_str_set(gomap *m, const char *key, size_t len, int64_t val);
void gomap_str_delete(gomap *m, const char *key, size_t len);

/* ------------------------------------------------------------------------ */
/* Iteration (Go: hiter, mapiterinit, mapiternext)                          */
/* ------------------------------------------------------------------------ */

/* Go's hiter (bucket map) or Iter (Swiss-table map). Fields after `elem`
 * are private: one part per generation, in a union, so the struct has the
 * same public fields and lives on the caller's stack with either core. */
typedef struct gomap_iter {
	const void *key;  /* current key, valid after gomap_iter_next returned true;
	                   * for string keys it points to a gomap_str */
	const void *elem; /* current elem */
	/* private */
	union {
		struct { /* the bucket map (Go 1.19: hiter) */
			gomap *h;
			const void
			        *buckets; /* bucket array at init time (it carries its own size) */
			void *bptr;       /* current bucket */
			uint64_t startBucket;
			uint64_t bucket;
			uint64_t checkBucket;
			uint64_t steps;  /* buckets visited, bounded against a damaged map */
			uint64_t clears; /* the map's clear count when the iteration began */
			gomap_str strkey;
			uint8_t offset;
			uint8_t B;
			uint8_t i;
			bool wrapped;
		};
		struct { /* the Swiss-table map (Go 1.26: Iter) */
			gomap *m;
			uint64_t entryOffset; /* random start slot */
			uint64_t dirOffset;   /* random start directory entry */
			uint64_t clearSeq;    /* the map's clearSeq at init */
			uint64_t entryIdx;    /* slots of the current table done */
			uint64_t steps;       /* bounded against a damaged map */
			int64_t dirIdx;       /* directory entries done; -1 for a small map */
			void *tab;            /* the table being walked, kept if it goes stale */
			void *group;          /* a small map's group at init */
			gomap_str strkey;
			uint8_t globalDepth; /* the directory depth dirIdx counts in */
		} sw;
	};
} gomap_iter;

/* for k, v := range m { ... }: start an iteration at a random bucket and slot.
 * Deleting during the iteration is allowed: each remaining entry is still
 * visited exactly once. An entry inserted during the iteration may or may not
 * be visited. */
void gomap_iter_init(gomap *m, gomap_iter *it);
/* Advances; returns false at the end. Checks the write flag on every step:
 * "concurrent map iteration and map write". */
bool gomap_iter_next(gomap_iter *it);

/* ------------------------------------------------------------------------ */
/* Threads in reports                                                       */
/* ------------------------------------------------------------------------ */

/* The small number that names the calling thread in reports ("thread 3"),
 * assigned on first use; the main thread is 1. */
int gomap_thread_id(void);
/* Names the calling thread in reports (also sets the OS thread name). */
void gomap_thread_set_name(const char *name);

/* ------------------------------------------------------------------------ */
/* Instrumentation points                                                   */
/* ------------------------------------------------------------------------ */

/* The map operations, as named in reports and passed to hooks. */
typedef enum gomap_op {
	GOMAP_OP_NONE = 0,
	GOMAP_OP_ACCESS, /* read: m[k], v, ok := m[k] */
	GOMAP_OP_ASSIGN, /* write: m[k] = v */
	GOMAP_OP_DELETE, /* delete(m, k) */
	GOMAP_OP_CLEAR,  /* clear(m) */
	GOMAP_OP_CLONE,  /* maps.Clone(m) */
	GOMAP_OP_ITER,   /* range m (one step of mapiternext) */
	GOMAP_OP_COUNT_
} gomap_op;

const char *gomap_op_name(gomap_op op); /* "map write", "map read", ... */

/* The moments a hook can observe. Arrival events fire on entry, after the
 * nil/empty early returns and just before the write-flag check, so a hook
 * there sees exactly the operations that the detector could catch. Every
 * operation that fired an arrival (WRITE_ENTRY, READ_ENTRY, ITER_STEP,
 * CLONE_ENTRY) fires OP_EXIT once when it returns, so a hook can tell which
 * threads are inside an operation on a map at any moment. */
typedef enum gomap_event {
	GOMAP_EV_WRITE_ENTRY = 0, /* assign/delete/clear: before the entry check */
	GOMAP_EV_WRITE_SET,       /* the writer has just set hashWriting */
	GOMAP_EV_WRITE_CLEAR,     /* the writer is about to check and clear it */
	GOMAP_EV_READ_ENTRY,      /* access: before the check */
	GOMAP_EV_ITER_STEP,       /* iter_next: before the check */
	GOMAP_EV_CLONE_ENTRY,     /* clone: before the check */
	GOMAP_EV_DETECTED,        /* the detector fired; about to report */
	GOMAP_EV_OP_EXIT,         /* an operation that fired an arrival event is done */
	GOMAP_EV_COUNT_
} gomap_event;

typedef void (*gomap_hook_fn)(gomap_event ev, gomap *m, gomap_op op, void *arg);

/* Installs (or with fn == NULL removes) the process-wide hook for `ev`.
 * A hook runs on the thread doing the map operation. With no hook installed
 * an instrumentation point costs one predictable branch. */
void gomap_set_hook(gomap_event ev, gomap_hook_fn fn, void *arg);

/* ------------------------------------------------------------------------ */
/* Reports and checks                                                       */
/* ------------------------------------------------------------------------ */

/* Walks the whole structure and checks every invariant the core relies on.
 * Returns NULL when all hold, or a static description of the first broken
 * one. Single-threaded use only (tests). */
const char *gomap_check_invariants(gomap *m);

/* Internal statistics for tests and the benchmark. Fields marked "bucket"
 * are filled by the bucket map only, "swiss" by the Swiss-table map only
 * (the other generation leaves them 0); "both" by either. */
typedef struct gomap_stats {
	size_t count;          /* both: live entries */
	unsigned B;            /* bucket: log2 buckets */
	size_t noverflow;      /* bucket: Go's approximate overflow count */
	bool growing;          /* bucket: oldbuckets != NULL */
	bool same_size_grow;   /* bucket: current grow is same-size */
	size_t nevacuate;      /* bucket: evacuation progress */
	uint64_t hash0;        /* both: current seed (Swiss: Map.seed) */
	size_t arrays_retired; /* both: bucket arrays, or tables, kept until gomap_free */
	bool allocated;        /* swiss: a group or directory exists (lazy allocation) */
	bool small;            /* swiss: no table yet (dirLen == 0) */
	size_t dir_len;        /* swiss: directory entries (0 for a small map) */
	unsigned global_depth; /* swiss: log2 dir_len */
	size_t tables;         /* swiss: distinct tables in the directory */
	size_t capacity;       /* swiss: slots of those tables (8 for a small map) */
	size_t tombstones;     /* swiss: deleted slots in those tables */
} gomap_stats;
void gomap_get_stats(gomap *m, gomap_stats *st);

/* One table of a Swiss-table map, for tests (Go: the table fields that
 * map_test.go reads through export_test.go). */
typedef struct gomap_table_info {
	unsigned capacity;    /* slots */
	unsigned used;        /* full slots */
	unsigned growth_left; /* inserts left before a rehash */
	unsigned tombstones;  /* deleted slots */
	unsigned local_depth; /* hash bits the table's keys share */
	size_t index;         /* its first directory entry */
} gomap_table_info;

/* For tests only. Fills out[0 .. max-1] with the distinct tables of `m` in
 * directory order and returns how many there are (may exceed max). 0 for
 * a nil map, a small map, and any map of the bucket generation. */
size_t gomap_get_tables(gomap *m, gomap_table_info *out, size_t max);

/* The map generation this library was built with: "bucket" (Go 1.19's
 * map) or "swiss" (Go 1.26's Swiss-table map); CMake's GOMAP_GENERATION. */
const char *gomap_generation(void);

/* 1 when the detector is compiled in (the default), 0 when built with
 * -DGOMAP_DETECTOR=0 (benchmark only). */
int gomap_detector_enabled(void);

#ifdef __cplusplus
}
#endif
#endif /* GOMAP_H */
