/*
 * common.h -- what both map generations share: the common part of the map
 * header (writer records, race word, flight-recorder ring, allocation
 * list), hashing, randomness, instrumentation, thread names, symbols and
 * the report.
 *
 * Each generation has its own private header that includes this one and
 * defines `struct gomap` with a gm_maphdr as its first member:
 * internal.h for the bucket map (Go 1.19), swiss_internal.h for the
 * Swiss-table map (Go 1.26). The shared .c files (hash.c, instrument.c,
 * timeline.c, thread.c, symbols.c, report.c, common.c) include only this
 * header, so they serve either generation unchanged.
 *
 * Invariants (2) and (6) of internal.h hold for both generations: nothing a
 * map allocates is freed before gomap_free, and a string key slot holds one
 * pointer to an immutable record.
 */
#ifndef GOMAP_COMMON_H
#define GOMAP_COMMON_H

#include "gomap.h"

#include <stdatomic.h>
#include <string.h>

#ifndef GOMAP_DETECTOR
#define GOMAP_DETECTOR 1
#endif

#define GM_LIKELY(x)   __builtin_expect(!!(x), 1)
#define GM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define GM_INLINE      static inline __attribute__((always_inline))
#define GM_NOINLINE    __attribute__((noinline))

/* Loads and stores of the fields that racing threads share. Relaxed atomics
 * make the compiler read each field exactly once (no re-load that could see a
 * different array than the one just bounds-checked) and cost nothing more
 * than a plain access on x86-64. Bucket contents stay plain memory, so a race
 * detector still sees the data races of a misused map. */
#define GM_LOAD(p)     __atomic_load_n((p), __ATOMIC_RELAXED)
#define GM_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
/* Every allocation the map makes starts with this link (invariant 2). */
typedef struct gm_alloc {
	struct gm_alloc *next;
} gm_alloc;

/* A string key record (invariant 6). */
typedef struct gm_strrec {
	size_t len;
	char bytes[];
} gm_strrec;

/* Record addresses fit in 48 bits: the bucket map packs a key's length
 * into the top 16 bits of its slot word (core/internal.h, invariant 6), so
 * gm_str_copy checks every chunk it allocates against this. */
#define GM_STRREC_BITS 48

/* Short byte strings without a call into the C library. Keys of 8 to 32
 * bytes (most string keys) are read and written as overlapping 8-byte words
 * that never reach outside the n bytes (n - 8 wraps around for n < 8, so
 * one compare picks the range); anything else goes to memcmp and memcpy. */
GM_INLINE uint64_t gm_word_at(const char *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
	return w;
}
GM_INLINE bool gm_bytes_equal(const char *a, const char *b, size_t n)
{
	if (GM_LIKELY(n - 8 <= 24)) {
		uint64_t d = (gm_word_at(a) ^ gm_word_at(b)) |
		             (gm_word_at(a + n - 8) ^ gm_word_at(b + n - 8));
		if (n > 16)
			d |= (gm_word_at(a + 8) ^ gm_word_at(b + 8)) |
			     (gm_word_at(a + n - 16) ^ gm_word_at(b + n - 16));
		return d == 0;
	}
	return memcmp(a, b, n) == 0;
}
GM_INLINE void gm_bytes_copy(char *dst, const char *src, size_t n)
{
	if (GM_LIKELY(n - 8 <= 24)) {
		uint64_t w0 = gm_word_at(src), w1 = gm_word_at(src + n - 8);
		if (n > 16) {
			uint64_t w2 = gm_word_at(src + 8), w3 = gm_word_at(src + n - 16);
			memcpy(dst + 8, &w2, 8);
			memcpy(dst + n - 16, &w3, 8);
		}
		memcpy(dst, &w0, 8);
		memcpy(dst + n - 8, &w1, 8);
		return;
	}
	memcpy(dst, src, n);
}

/* A chunk that string key records are carved from (invariant 2). */
typedef struct gm_chunk {
	gm_alloc link;
	size_t cap;
	size_t used;
	_Alignas(16) unsigned char data[];
} gm_chunk;

/* A public entry point that writes, as the report names it. */
typedef struct gm_api {
	const char *name; /* e.g. "gomap_i64_set" */
	gomap_op op;      /* GOMAP_OP_ASSIGN, _DELETE or _CLEAR */
} gm_api;

/* The record of who holds the write flag, for the report's "other party". */
#define GM_WRITERS 4 /* write-flag setters a map remembers for its report */

typedef struct gm_writer {
	int id;            /* gm_thread_id of the writer, 0 before any write */
	const gm_api *api; /* what it called */
	uintptr_t pc;      /* return address into the caller of the map API */
} gm_writer;

/* The part of the map header both generations share, the first member of
 * either `struct gomap`, so the report, the flight recorder and the writer
 * records reach it from a `gomap *` without knowing which map it is (C lets
 * a pointer to a struct be converted to a pointer to its first member). */
typedef struct gm_maphdr {
	gm_alloc *allocs; /* every allocation, freed only by gomap_free (invariant 2) */
	gm_chunk *chunk;  /* current string-key chunk (invariant 6) */

	/* The last GM_WRITERS write-flag setters, newest at (writer_seq - 1) %
	 * GM_WRITERS; a setter other than the newest claims a slot of its own
	 * with an atomic increment of writer_seq, so two racing setters never
	 * share or overwrite each other's record. */
	gm_writer writer[GM_WRITERS];
	unsigned writer_seq; /* records made; 0 before any write */

	char race_word; /* touched by GM_RACE_READ/WRITE under ThreadSanitizer only */

	struct gm_event *timeline; /* ring of the last GM_TIMELINE_LEN events, then the
	                            * first detection's, or NULL */
	uint64_t timeline_pos;     /* events recorded so far; the ring index is pos % len */
	bool timeline_frozen;      /* the detection is recorded: nothing is recorded after it */
} gm_maphdr;

/* The shared header of any map. */
#define GM_HDR(h) ((gm_maphdr *)(void *)(h))

/* One entry of the flight recorder (GOMAP_TIMELINE=1). */
enum { GM_TIMELINE_LEN = 64 };
typedef struct gm_event {
	uint64_t tsc;  /* timestamp counter (converted to ns in the report) */
	uint32_t tid;  /* gm_thread_id of the thread */
	uint8_t op;    /* gomap_op */
	uint8_t phase; /* gm_phase */
} gm_event;
typedef enum gm_phase {
	GM_PHASE_ENTERED = 1,
	GM_PHASE_SET,
	GM_PHASE_CLEARED,
	GM_PHASE_DETECTED,
} gm_phase;

/* ---- hashing (hash.c has the out-of-line versions) ---- */

/* Odd 64-bit constants with well-spread bits, for the hashes and the
 * random generator. */
#define GM_P0 0xa0761d6478bd642full
#define GM_P1 0xe7037ed1a0b428dbull
#define GM_P2 0x8ebc6af09c88c6e3ull
#define GM_P3 0x589965cc75374cc3ull

/* The multiply-fold step: a 64x64->128-bit product, halves xored. */
GM_INLINE uint64_t gm_mix(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;
	return (uint64_t)(r >> 64) ^ (uint64_t)r;
}

/* The per-process hash key (Go: hashkey), drawn when the core is loaded
 * (hash.c) or derived from gomap_seed_random's seed. Every hash mixes it in,
 * so a hash with a known seed is still unknown outside the process. */
extern uint64_t gm_hashkey;

/* Go: memhash64. */
GM_INLINE uint64_t gm_hash64(uint64_t key, uint64_t seed)
{
	return gm_mix(GM_P3 ^ 8, gm_mix(key ^ GM_P1, key ^ seed ^ GM_LOAD(&gm_hashkey) ^ GM_P0));
}

/* Go: memhash, for keys of 8 to 16 bytes, the common string key: the first
 * and the last 8 bytes (overlapping when shorter than 16) and the length.
 * Inline so that the typed string entry points hash without a call;
 * gomap_memhash takes the same path for these lengths, so the two always
 * agree. */
GM_INLINE uint64_t gm_memhash_8to16(const char *p, size_t n, uint64_t seed)
{
	seed ^= GM_P0 ^ GM_LOAD(&gm_hashkey);
	return gm_mix(GM_P1 ^ n, gm_mix(gm_word_at(p) ^ GM_P1, gm_word_at(p + n - 8) ^ seed));
}

/* A key's hash, by kind (both generations): the key arrives in its caller's
 * form (`int64_t *`, `gomap_str *`, or the raw bytes of a GENERIC key).
 * Most string keys are 8 to 16 bytes and hash inline, on the same path
 * gomap_memhash takes for them. */
GM_INLINE uint64_t gm_key_hash(const gomap_type *t, int kind, const void *key, uint64_t seed)
{
	if (kind == GOMAP_KEY_I64)
		return gm_hash64((uint64_t) * (const int64_t *)key, seed);
	if (kind == GOMAP_KEY_STR) {
		const gomap_str *s = key;
		if (GM_LIKELY(s->len - 8 <= 8))
			return gm_memhash_8to16(s->ptr, s->len, seed);
		return gomap_memhash(s->ptr, s->len, seed);
	}
	return t->hash(key, seed);
}

/* ---- shared internals (common.c) ---- */

uint64_t gm_fastrand(void);
void gm_hashkey_init(uint64_t seed);
/* calloc that ends the process, Go-style, when memory runs out. */
void *gm_xcalloc(size_t n);
/* Remember an allocation of `h` until gomap_free (invariant 2). */
void gm_register_alloc(gomap *h, gm_alloc *a);
/* Frees every allocation of `h` and its flight-recorder ring, not `h`. */
void gm_free_allocs(gomap *h);
gm_strrec *gm_str_copy(gomap *h, const char *p, size_t n);

/* ---- instrumentation (instrument.c) ---- */

extern gomap_hook_fn gm_hooks[GOMAP_EV_COUNT_];
extern void *gm_hook_args[GOMAP_EV_COUNT_];
extern _Thread_local int gm_hooks_off;
/* Non-zero while a hook is installed or the timeline is recording. */
extern unsigned gm_instrumented;
enum {
	GM_INSTR_HOOKS = 1,    /* some hook is installed */
	GM_INSTR_TIMELINE = 2, /* GOMAP_TIMELINE=1: record map events */
};
/* An internal instrumentation point with no public hook: the writer has
 * just cleared the write flag (timeline only). */
#define GM_EV_CLEARED GOMAP_EV_COUNT_

void gm_instrument(unsigned ev, gomap *h, gomap_op op);

/* The instrumentation word, loaded once per map operation. */
GM_INLINE unsigned gm_instr(void)
{
	return GM_LOAD(&gm_instrumented);
}

/* An instrumentation point: one predictable branch when nothing listens.
 * `ins` is the operation's gm_instr(). */
GM_INLINE void gm_hook(unsigned ins, unsigned ev, gomap *h, gomap_op op)
{
	if (GM_UNLIKELY(ins != 0))
		gm_instrument(ev, h, op);
}

/* ---- the flight recorder (timeline.c) ---- */

/* Appends one event to the ring of `h` (allocated on first use). */
void gm_timeline_record(gomap *h, gomap_op op, gm_phase phase);
/* Prints the ring of `h` as part of a report (nothing when it has none). */
void gm_print_timeline(gomap *h);

/* ---- thread identity (thread.c) ---- */

enum { GM_NAME_LEN = 32 }; /* a thread name's bytes, '\0' included */

int gm_thread_id_slow(void);
extern _Thread_local int gm_my_thread_id;

/* The calling thread's number in reports, assigned on first use. */
GM_INLINE int gm_thread_id(void)
{
	int id = gm_my_thread_id;
	return GM_LIKELY(id != 0) ? id : gm_thread_id_slow();
}

/* The name given to thread `id`, or "" (out: GM_NAME_LEN bytes). */
void gm_thread_name(int id, char *out);

/* ---- symbols (symbols.c) ---- */

typedef struct gm_frame {
	const char *func; /* NULL when unknown */
	const char *file; /* NULL when unknown */
	int line;
	uintptr_t off;
	uintptr_t pc;
} gm_frame;

/* Loads libdw and reads this process's modules; without libdw frames keep
 * their addresses only. */
void gm_symbols_open(void);
/* A frame from a return address: its function name, its source line, or
 * both (see symbols.c for why they are separate). */
void gm_symbolise_name(uintptr_t pc, gm_frame *f);
void gm_symbolise_line(gm_frame *f);
void gm_symbolise(uintptr_t pc, gm_frame *f);

/* ---- the report (report.c) ---- */

/* Formats onto stderr with write(2): no stdio buffer, no lock. */
void gm_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Misuse by the caller (Go: fatal), caught by an entry check: the thread
 * that set the write flag last holds it, and is named as the other party. */
_Noreturn void gm_fatal_misuse(const char *msg, gomap *h, gomap_op op);
/* A writer found the flag clear at exit: another writer toggled it while
 * both were inside. The other party is the last other thread that set it. */
_Noreturn void gm_fatal_flag_lost(gomap *h, gomap_op op);
/* Broken internal state that only racing writers can cause. `msg` is the
 * whole text after "fatal error: ": Go's own words where Go 1.19 notices the
 * same damage ("bad map state", from evacuate), else GM_DAMAGE(what). */
_Noreturn void gm_fatal_damaged(const char *msg, gomap *h);
/* The core's words for damage Go itself never notices (a looping overflow
 * chain, an iteration that does not end), with the hint Go 1.24 appends to
 * its own damage reports. */
#define GM_DAMAGE(what) what " (concurrent map writes?)"
/* Go's panic for m[k] = v on a nil map. */
_Noreturn void gm_panic_nil_assign(void);

gm_writer *gm_record_other_writer(gomap *h, int id);

/* Record the calling thread as the holder of the write flag, just before it
 * sets the flag, so that a thread that sees the flag set finds the record.
 * A thread that writes again pays two loads, a compare and two stores. */
GM_INLINE void gm_record_writer(gomap *h, const gm_api *api, uintptr_t pc)
{
	int id = gm_thread_id();
	gm_maphdr *c = GM_HDR(h);
	gm_writer *w = &c->writer[(GM_LOAD(&c->writer_seq) - 1) % GM_WRITERS];
	if (GM_UNLIKELY(GM_LOAD(&w->id) != id))
		w = gm_record_other_writer(h, id);
	GM_STORE(&w->api, api);
	GM_STORE(&w->pc, pc);
}

/* ---- race-detector annotations (Go: racereadpc, racewritepc) ---- */

/* Under Go's -race every map operation reads or writes the map header as
 * a whole, so two operations that touch different buckets still race in
 * the race detector's eyes. The core does the same under ThreadSanitizer
 * with a plain access to one byte of the header; in other builds the
 * macros are empty. */
#if defined(__SANITIZE_THREAD__)
#define GM_RACE_ANNOTATE 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GM_RACE_ANNOTATE 1
#endif
#endif
#ifdef GM_RACE_ANNOTATE
#define GM_RACE_READ(h)  ((void)*(volatile char *)&GM_HDR(h)->race_word)
#define GM_RACE_WRITE(h) (*(volatile char *)&GM_HDR(h)->race_word = 0)
#else
#define GM_RACE_READ(h)  ((void)0)
#define GM_RACE_WRITE(h) ((void)0)
#endif

/* ---- the detector (Go: the hashWriting checks in map.go) ---- */

#define GM_CALLER_PC() ((uintptr_t)__builtin_return_address(0))

#endif /* GOMAP_COMMON_H */
