/*
 * internal.h -- the core's private structures: hmap, bmap and bucket arrays.
 *
 * Picture of one map (Go: hmap, bmap):
 *
 *   gomap (hmap)                       barray (one bucket array)
 *   +--------------+                   +-----------------------------+
 *   | count        |    buckets ---->  | header: B, nbuckets, nalloc |
 *   | flags        |                   +-----------------------------+
 *   | B, hash0     |                   | bucket 0 | bucket 1 | ...   |  2^B main buckets
 *   | buckets      |                   +-----------------------------+
 *   | oldbuckets --+--> previous       | preallocated overflow ...   |  2^(B-4) when B >= 4
 *   | nevacuate    |    barray while   +-----------------------------+
 *   | allocs       |    growing
 *   +--------------+
 *
 *   bucket (bmap): | tophash[8] | key 0..7 | elem 0..7 | overflow * |
 *
 * Invariants (cited by number in map.c):
 *  (1) A barray never changes size and carries its own B, nbuckets and
 *      nalloc; every index into it is masked or checked with its own
 *      numbers, never with h->B. A racing reader that loads `buckets` while a
 *      grow replaces it therefore stays in bounds.
 *  (2) Nothing the map allocates is freed before gomap_free: every bucket
 *      array, overflow bucket and string-key chunk is pushed on h->allocs when
 *      it is allocated and released only there. Old arrays are "retired", not
 *      freed, so a racing reader or iterator never touches freed memory. This
 *      stands in for Go's garbage collector.
 *  (3) Every walk of an overflow chain is bounded by the number of buckets
 *      the map has ever allocated (h->total_buckets): a longer walk means a
 *      cycle that only racing writers can create, and is reported as such.
 *  (4) In a slot, tophash >= minTopHash means the key and elem are live;
 *      emptyRest means this slot and every later slot of the chain is empty.
 *  (5) count is the number of live slots in buckets plus the live slots of
 *      old buckets that are not yet evacuated.
 *  (6) A string key slot holds one 64-bit word: the address of an immutable
 *      record (length then bytes) in a map-owned chunk in its low 48 bits,
 *      and the key's length, capped at GM_STRLEN_CAP, in its high 16 bits.
 *      A racing reader loads the word in one go and can never pair one
 *      key's bytes with another key's length. Zero is an empty slot.
 */
#ifndef GOMAP_INTERNAL_H
#define GOMAP_INTERNAL_H

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

/* Bucket geometry (Go: bucketCntBits, bucketCnt). */
#define BUCKET_CNT_BITS 3
#define BUCKET_CNT      8
/* Growth triggers at an average of 6.5 entries per bucket (Go: loadFactorNum
 * and loadFactorDen). */
#define LOAD_FACTOR_NUM 13
#define LOAD_FACTOR_DEN 2

/* tophash markers (Go: emptyRest ... minTopHash). */
enum {
	EMPTY_REST = 0,      /* this slot is empty, and so is every later one in the chain */
	EMPTY_ONE = 1,       /* this slot is empty */
	EVACUATED_X = 2,     /* entry moved to the first half of the bigger array */
	EVACUATED_Y = 3,     /* entry moved to the second half */
	EVACUATED_EMPTY = 4, /* slot was empty when its bucket was evacuated */
	MIN_TOP_HASH = 5,    /* the smallest tophash of a live entry */
};

/* h->flags bits (Go: iterator, oldIterator, hashWriting, sameSizeGrow). */
enum {
	FLAG_ITERATOR = 1,       /* there may be an iterator using buckets */
	FLAG_OLD_ITERATOR = 2,   /* there may be an iterator using oldbuckets */
	FLAG_HASH_WRITING = 4,   /* a thread is writing to the map */
	FLAG_SAME_SIZE_GROW = 8, /* the current grow keeps the size */
};

/* Every allocation the map makes starts with this link (invariant 2). */
typedef struct gm_alloc {
	struct gm_alloc *next;
} gm_alloc;

/* One bucket array: immutable geometry, then the buckets (invariant 1). */
typedef struct barray {
	gm_alloc link;
	uint64_t nbuckets; /* 2^B main buckets */
	uint64_t nalloc;   /* main buckets plus preallocated overflow buckets */
	uint64_t next_ovf; /* index of the next unused preallocated overflow bucket */
	uint8_t B;
	_Alignas(16) unsigned char data[];
} barray;

/* A string key record (invariant 6). */
typedef struct gm_strrec {
	size_t len;
	char bytes[];
} gm_strrec;

/* The word in a string key slot (invariant 6). Go keeps a string's pointer
 * and length side by side in the slot; the core keeps one word so that a
 * racing reader loads both at once, and the length in it lets an iteration
 * step or a key compare learn the length without reading the record (a
 * cache miss per entry in a big map). Only a key of GM_STRLEN_CAP bytes or
 * more sends the reader to the record for its length. Chunks are checked to
 * lie below 2^48 when they are allocated (gm_str_copy). */
#define GM_STRREC_BITS 48
#define GM_STRREC_MASK ((UINT64_C(1) << GM_STRREC_BITS) - 1)
#define GM_STRLEN_CAP  0xFFFFu

GM_INLINE uint64_t gm_strword_make(const gm_strrec *r, size_t len)
{
	uint64_t cap = len < GM_STRLEN_CAP ? len : GM_STRLEN_CAP;
	return (uint64_t)(uintptr_t)r | cap << GM_STRREC_BITS;
}
/* Loads a slot's word; acquire pairs with the release in key_store, so the
 * record's bytes are visible once its word is. */
GM_INLINE uint64_t gm_strword_load(const void *slot)
{
	return __atomic_load_n((const uint64_t *)slot, __ATOMIC_ACQUIRE);
}
GM_INLINE const gm_strrec *gm_strword_rec(uint64_t w)
{
	return (const gm_strrec *)(uintptr_t)(w & GM_STRREC_MASK);
}
/* The key's length: from the word, or from the record for long keys. */
GM_INLINE size_t gm_strword_len(uint64_t w)
{
	size_t len = (size_t)(w >> GM_STRREC_BITS);
	return GM_LIKELY(len < GM_STRLEN_CAP) ? len : GM_LOAD(&gm_strword_rec(w)->len);
}

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

/* The map header (Go: hmap). */
struct gomap {
	size_t count;       /* live entries (len); plain on purpose, see gomap_len */
	uint8_t flags;      /* FLAG_*: accessed only through GM_LOAD/GM_STORE and atomic OR */
	uint8_t B;          /* log2 of the number of main buckets */
	uint16_t noverflow; /* approximate number of overflow buckets (Go: incrnoverflow) */
	uint64_t hash0;     /* hash seed, re-drawn when the map becomes empty */
	barray *buckets;    /* 2^B buckets; NULL until the first write if made with hint 0 */
	barray *oldbuckets; /* previous array while growing, else NULL */
	uint64_t nevacuate; /* old buckets below this index are evacuated */
	uint64_t clears;    /* how many clears emptied the map (see gm_iter_next) */

	const gomap_type *t;
	uint8_t kind;   /* copy of t->kind */
	size_t keysize; /* bytes per key slot (8 for I64 and STR) */
	size_t elemsize;
	size_t bucketsize;
	size_t elemoff; /* offset of elem 0 in a bucket */
	size_t ovfoff;  /* offset of the overflow pointer in a bucket */

	gm_alloc *allocs;        /* every allocation (invariant 2) */
	uint64_t total_buckets;  /* buckets ever allocated (invariant 3) */
	uint64_t arrays_retired; /* bucket arrays replaced by a grow */
	gm_chunk *chunk;         /* current string-key chunk */

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
};

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

/* ---- buckets ---- */

GM_INLINE unsigned char *bucket_at(const barray *a, size_t bucketsize, uint64_t i)
{
	return (unsigned char *)a->data + i * bucketsize;
}
GM_INLINE uint8_t *tophash_of(unsigned char *b)
{
	return (uint8_t *)b;
}
GM_INLINE void *key_at(unsigned char *b, size_t keysize, unsigned i)
{
	return b + BUCKET_CNT + (size_t)i * keysize;
}
GM_INLINE void *elem_at(const gomap *h, unsigned char *b, unsigned i)
{
	return b + h->elemoff + (size_t)i * h->elemsize;
}
GM_INLINE unsigned char *overflow_of(const gomap *h, unsigned char *b)
{
	return GM_LOAD((unsigned char **)(b + h->ovfoff));
}
GM_INLINE void set_overflow(const gomap *h, unsigned char *b, unsigned char *ovf)
{
	GM_STORE((unsigned char **)(b + h->ovfoff), ovf);
}
GM_INLINE bool is_empty(uint8_t top)
{
	return top <= EMPTY_ONE;
}
GM_INLINE bool evacuated(unsigned char *b)
{
	uint8_t h = tophash_of(b)[0];
	return h > EMPTY_ONE && h < MIN_TOP_HASH;
}
/* Go: tophash */
GM_INLINE uint8_t tophash(uint64_t hash)
{
	uint8_t top = (uint8_t)(hash >> 56);
	return top < MIN_TOP_HASH ? (uint8_t)(top + MIN_TOP_HASH) : top;
}
/* Go: overLoadFactor */
GM_INLINE bool over_load_factor(size_t count, uint8_t B)
{
	return count > BUCKET_CNT &&
	       count > (size_t)LOAD_FACTOR_NUM * (((size_t)1 << B) / LOAD_FACTOR_DEN);
}
/* Go: tooManyOverflowBuckets */
GM_INLINE bool too_many_overflow_buckets(uint16_t noverflow, uint8_t B)
{
	if (B > 15)
		B = 15;
	return noverflow >= (uint16_t)(1u << (B & 15));
}

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

/* ---- shared internals (map.c) ---- */

uint64_t gm_fastrand(void);
void gm_hashkey_init(uint64_t seed);
gm_strrec *gm_str_copy(gomap *h, const char *p, size_t n);
void gm_grow_work(gomap *h, uint64_t bucket);
void gm_hash_grow(gomap *h);
unsigned char *gm_newoverflow(gomap *h, unsigned char *b);
void gm_first_array(gomap *h);
bool gm_lookup_slotkey(gomap *h, const void *slotkey, const void **k, const void **e);

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
	gm_writer *w = &h->writer[(GM_LOAD(&h->writer_seq) - 1) % GM_WRITERS];
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
#define GM_RACE_READ(h)  ((void)*(volatile char *)&(h)->race_word)
#define GM_RACE_WRITE(h) (*(volatile char *)&(h)->race_word = 0)
#else
#define GM_RACE_READ(h)  ((void)0)
#define GM_RACE_WRITE(h) ((void)0)
#endif

/* ---- the detector (Go: the hashWriting checks in map.go) ---- */

#define GM_CALLER_PC() ((uintptr_t)__builtin_return_address(0))

#if GOMAP_DETECTOR
/* Entry check of a reader-like operation: a writer holds the flag. */
#define GM_CHECK_NOT_WRITING(h, msg, op)                                                           \
	do {                                                                                       \
		if (GM_UNLIKELY(GM_LOAD(&(h)->flags) & FLAG_HASH_WRITING))                         \
			gm_fatal_misuse(msg, h, op);                                               \
	} while (0)
/* Go: h.flags ^= hashWriting. A plain load and store, not an atomic
 * read-modify-write: two writers that both passed the entry check toggle
 * the bit twice, and the first one to finish finds it clear at exit. */
#define GM_SET_WRITING(ins, h, api, pc)                                                            \
	do {                                                                                       \
		gm_record_writer(h, api, pc);                                                      \
		GM_STORE(&(h)->flags, (uint8_t)(GM_LOAD(&(h)->flags) ^ FLAG_HASH_WRITING));        \
		gm_hook(ins, GOMAP_EV_WRITE_SET, h, (api)->op);                                    \
	} while (0)
/* Go: the exit check and h.flags &^= hashWriting. */
#define GM_CLEAR_WRITING(ins, h, op)                                                               \
	do {                                                                                       \
		gm_hook(ins, GOMAP_EV_WRITE_CLEAR, h, op);                                         \
		uint8_t f_ = GM_LOAD(&(h)->flags);                                                 \
		if (GM_UNLIKELY(!(f_ & FLAG_HASH_WRITING)))                                        \
			gm_fatal_flag_lost(h, op);                                                 \
		GM_STORE(&(h)->flags, (uint8_t)(f_ & ~FLAG_HASH_WRITING));                         \
		gm_hook(ins, GM_EV_CLEARED, h, op);                                                \
	} while (0)
#else
#define GM_CHECK_NOT_WRITING(h, msg, op) ((void)0)
#define GM_SET_WRITING(ins, h, api, pc)  gm_hook(ins, GOMAP_EV_WRITE_SET, h, (api)->op)
#define GM_CLEAR_WRITING(ins, h, op)     gm_hook(ins, GOMAP_EV_WRITE_CLEAR, h, op)
#endif

#endif /* GOMAP_INTERNAL_H */
