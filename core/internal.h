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
 *  (6) A string key slot holds one pointer to an immutable record (length
 *      then bytes) in a map-owned chunk: a racing reader loads it in one go
 *      and can never pair a pointer with another key's length.
 */
#ifndef GOMAP_INTERNAL_H
#define GOMAP_INTERNAL_H

#include "common.h"

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

/* One bucket array: immutable geometry, then the buckets (invariant 1). */
typedef struct barray {
	gm_alloc link;
	uint64_t nbuckets; /* 2^B main buckets */
	uint64_t nalloc;   /* main buckets plus preallocated overflow buckets */
	uint64_t next_ovf; /* index of the next unused preallocated overflow bucket */
	uint8_t B;
	_Alignas(16) unsigned char data[];
} barray;

/* The map header (Go: hmap). */
struct gomap {
	gm_maphdr hdr; /* shared with the Swiss-table map: first, see common.h */

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

	uint64_t total_buckets;  /* buckets ever allocated (invariant 3) */
	uint64_t arrays_retired; /* bucket arrays replaced by a grow */
};

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

/* ---- shared internals (map.c) ---- */

void gm_grow_work(gomap *h, uint64_t bucket);
void gm_hash_grow(gomap *h);
unsigned char *gm_newoverflow(gomap *h, unsigned char *b);
void gm_first_array(gomap *h);
bool gm_lookup_slotkey(gomap *h, const void *slotkey, const void **k, const void **e);

/* ---- the detector (Go: the hashWriting checks in map.go) ---- */

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
