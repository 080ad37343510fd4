/*
 * map.c -- Go's runtime map (Go 1.19 src/runtime/map.go), ported to C.
 *
 * Design
 * ------
 * A map is a hash table of 2^B buckets. Each bucket holds up to 8 entries:
 * the low B bits of a key's hash choose the bucket, the top 8 bits
 * ("tophash") are kept per slot so that most non-matching slots are skipped
 * without touching the key. A full bucket chains to overflow buckets.
 *
 * When the table averages more than 6.5 entries per bucket it doubles; when
 * it has about as many overflow buckets as main buckets (after many deletes)
 * it "grows" to the same size, which packs the entries again. Growth is
 * incremental: the new array is allocated at once, but entries move
 * ("evacuate") one old bucket at a time, two buckets per write or delete
 * (growWork), so no single operation pays for the whole table. While a grow
 * is in progress, lookups read the old bucket unless it has been evacuated.
 * In a doubling, old bucket i splits into new buckets i ("X") and
 * i + 2^(B-1) ("Y") according to one more bit of each key's hash.
 *
 * Iteration starts at a random bucket and a random slot offset, so programs
 * cannot depend on an order. An iterator keeps walking the array it started
 * on; if the map grows under it, it reads old buckets that are not yet
 * evacuated (keeping only the keys that belong to the bucket it is at) and
 * looks up keys whose slots were already evacuated, so each live entry is
 * returned exactly once and deleted entries are not returned.
 *
 * The detector
 * ------------
 * A writer (assign, delete, clear) checks the hashWriting flag on entry, sets
 * it once the key is hashed, and checks it again before clearing it on exit.
 * A reader (lookup), an iteration step and a clone only check it on entry. The
 * check is best-effort: it catches only operations that overlap in time, and
 * only on the side that looks at the flag while the other side holds it.
 * Reads and deletes of an empty map, and len, never check. See internal.h
 * for the GM_*_WRITING macros and why the flag is toggled with a plain
 * load and store.
 *
 * Misuse stays memory-safe: see the invariants at the top of internal.h.
 */
#define _GNU_SOURCE
#include "map_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

const gomap_type *gomap_typeof(const gomap *m)
{
	return m ? m->t : NULL;
}

/* ------------------------------------------------------------------------ */
/* Allocation (invariant 2; the list itself is common.c's)                  */
/* ------------------------------------------------------------------------ */

static void count_buckets(gomap *h, uint64_t n)
{
	__atomic_fetch_add(&h->total_buckets, n, __ATOMIC_RELAXED);
}

/* Go: makeBucketArray. 2^B buckets, plus 2^(B-4) overflow buckets kept at
 * the end for later use once B >= 4: big tables need some overflow buckets
 * anyway, and one allocation is cheaper than many. */
static barray *make_bucket_array(gomap *h, uint8_t B)
{
	uint64_t base = (uint64_t)1 << B;
	uint64_t nalloc = base;
	if (B >= 4)
		nalloc += base >> 4;
	barray *a = gm_xcalloc(sizeof(barray) + nalloc * h->bucketsize);
	a->nbuckets = base;
	a->nalloc = nalloc;
	a->next_ovf = base;
	a->B = B;
	count_buckets(h, nalloc);
	gm_register_alloc(h, &a->link);
	return a;
}

/* The first bucket array of a map made with hint 0 (Go allocates it lazily
 * in mapassign). */
void gm_first_array(gomap *h)
{
	GM_STORE(&h->buckets, make_bucket_array(h, GM_LOAD(&h->B)));
}

/* Go: incrnoverflow. Exact below 2^16 buckets; above, counted with
 * probability 1/2^(B-15), which is enough to compare with 2^15. */
static void incr_noverflow(gomap *h)
{
	uint8_t B = GM_LOAD(&h->B);
	if (B < 16) {
		GM_STORE(&h->noverflow, (uint16_t)(GM_LOAD(&h->noverflow) + 1));
		return;
	}
	uint64_t mask = ((uint64_t)1 << (B - 15)) - 1;
	if ((gm_fastrand() & mask) == 0)
		GM_STORE(&h->noverflow, (uint16_t)(GM_LOAD(&h->noverflow) + 1));
}

/* Go: newoverflow. Takes a preallocated overflow bucket of the current
 * array when one is left, else allocates one, and links it after b. */
unsigned char *gm_newoverflow(gomap *h, unsigned char *b)
{
	unsigned char *ovf;
	barray *a = GM_LOAD(&h->buckets);
	uint64_t idx = GM_LOAD(&a->next_ovf);
	if (idx < a->nalloc) {
		GM_STORE(&a->next_ovf, idx + 1);
		ovf = bucket_at(a, h->bucketsize, idx);
	} else {
		gm_alloc *al = gm_xcalloc(sizeof(gm_alloc) + 16 + h->bucketsize);
		gm_register_alloc(h, al);
		count_buckets(h, 1);
		ovf = (unsigned char *)al + 16;
	}
	incr_noverflow(h);
	set_overflow(h, b, ovf);
	return ovf;
}

/* ------------------------------------------------------------------------ */
/* make and free                                                            */
/* ------------------------------------------------------------------------ */

static size_t round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* The largest allocation a hint may ask for (Go: maxAlloc, 2^48 bytes on
 * 64-bit Linux). */
#define GM_MAX_ALLOC ((size_t)1 << 48)

/* Go: makemap. The smallest B that holds `hint` entries without growing;
 * the bucket array is allocated now unless B is 0. A GENERIC key may have
 * size 0 (Go: map[struct{}]V); the core's own kinds have fixed sizes. */
gomap *gomap_make(const gomap_type *t, size_t hint)
{
	if (t == NULL || (t->kind == GOMAP_KEY_GENERIC && (t->hash == NULL || t->equal == NULL)) ||
	    (t->kind != GOMAP_KEY_GENERIC && t->keysize == 0)) {
		fprintf(stderr, "fatal error: gomap_make: invalid map type\n");
		_exit(2);
	}
	gomap *h = gm_xcalloc(sizeof *h);
	h->t = t;
	h->kind = (uint8_t)t->kind;
	/* I64 keys are stored as is; a string key slot is one record pointer. */
	h->keysize = t->kind == GOMAP_KEY_GENERIC ? t->keysize : 8;
	h->elemsize = t->elemsize;
	h->elemoff = round8(BUCKET_CNT + BUCKET_CNT * h->keysize);
	h->ovfoff = round8(h->elemoff + BUCKET_CNT * h->elemsize);
	h->bucketsize = h->ovfoff + sizeof(void *);
	h->hash0 = gm_fastrand();
	/* Go: makemap ignores a hint whose buckets would overflow the size
	 * arithmetic or exceed maxAlloc (Go issue 19926): such a hint, often a
	 * negative int, must neither hang nor abort. It also keeps B below 48,
	 * so the shift in overLoadFactor (Go: bucketShift) never reaches 64. */
	if (hint > GM_MAX_ALLOC / h->bucketsize)
		hint = 0;
	uint8_t B = 0;
	while (over_load_factor(hint, B))
		B++;
	h->B = B;
	if (B != 0)
		h->buckets = make_bucket_array(h, B);
	return h;
}

void gomap_free(gomap *m)
{
	if (m == NULL)
		return;
	gm_free_allocs(m);
	free(m);
}

size_t gomap_len(const gomap *m)
{
	/* Go: len(m) reads h.count with no check at all. The plain read is
	 * deliberate: racing it with writes is a data race that only a race
	 * detector can see, as in Go. */
	return m ? m->count : 0;
}

/* ------------------------------------------------------------------------ */
/* Growth (Go: hashGrow, growWork, evacuate, advanceEvacuationMark)          */
/* ------------------------------------------------------------------------ */

void gm_hash_grow(gomap *h)
{
	uint8_t B = GM_LOAD(&h->B);
	uint8_t bigger = 1;
	uint8_t flags = GM_LOAD(&h->flags);
	if (!over_load_factor(GM_LOAD(&h->count) + 1, B)) {
		/* Too many overflow buckets, not too many entries. */
		bigger = 0;
		flags |= FLAG_SAME_SIZE_GROW;
	}
	barray *old = GM_LOAD(&h->buckets);
	barray *nb = make_bucket_array(h, (uint8_t)(B + bigger));
	/* Iterators of the current array become iterators of the old one. */
	uint8_t nf = (uint8_t)(flags & ~(FLAG_ITERATOR | FLAG_OLD_ITERATOR));
	if (flags & FLAG_ITERATOR)
		nf |= FLAG_OLD_ITERATOR;
	GM_STORE(&h->B, (uint8_t)(B + bigger));
	GM_STORE(&h->flags, nf);
	GM_STORE(&h->oldbuckets, old);
	GM_STORE(&h->buckets, nb);
	GM_STORE(&h->nevacuate, 0);
	GM_STORE(&h->noverflow, 0);
	__atomic_fetch_add(&h->arrays_retired, 1, __ATOMIC_RELAXED);
}

/* Hash of a key as stored in a slot. */
static uint64_t slot_hash(const gomap *h, const void *slot, uint64_t seed)
{
	switch (h->kind) {
	case GOMAP_KEY_I64:
		return gm_hash64((uint64_t) * (const int64_t *)slot, seed);
	case GOMAP_KEY_STR: {
		const gm_strrec *r = __atomic_load_n((gm_strrec *const *)slot, __ATOMIC_ACQUIRE);
		return r ? gomap_memhash(r->bytes, r->len, seed) : 0;
	}
	default:
		return h->t->hash(slot, seed);
	}
}

static bool bucket_evacuated(const gomap *h, barray *old, uint64_t i)
{
	return evacuated(bucket_at(old, h->bucketsize, i));
}

/* Go: advanceEvacuationMark. Moves nevacuate past the evacuated prefix,
 * looking at no more than 1024 buckets; ends the grow when all are done. */
static void advance_evacuation_mark(gomap *h, barray *old)
{
	uint64_t newbit = old->nbuckets;
	uint64_t n = GM_LOAD(&h->nevacuate) + 1;
	uint64_t stop = n + 1024;
	if (stop > newbit)
		stop = newbit;
	while (n < stop && bucket_evacuated(h, old, n))
		n++;
	GM_STORE(&h->nevacuate, n);
	if (n >= newbit) {
		GM_STORE(&h->oldbuckets, NULL);
		GM_STORE(&h->flags, (uint8_t)(GM_LOAD(&h->flags) & ~FLAG_SAME_SIZE_GROW));
	}
}

/* Is the key in `slot` unequal to itself (a NaN)? Only a type marked
 * notreflexive can say yes (Go: !t.reflexivekey() && !t.key.equal(k, k)). */
static bool key_is_nan(const gomap *h, const void *slot)
{
	return h->kind == GOMAP_KEY_GENERIC && h->t->notreflexive && !h->t->equal(slot, slot);
}

/* Where evacuated entries go (Go: evacDst). */
typedef struct evac_dst {
	unsigned char *b;
	unsigned i;
} evac_dst;

static void evacuate(gomap *h, barray *old, barray *nb, uint64_t oldbucket)
{
	if (GM_UNLIKELY(oldbucket >= old->nbuckets))
		gm_fatal_damaged(GM_DAMAGE("evacuation past the end of the old buckets"), h);
	uint64_t newbit = old->nbuckets;
	bool same = nb->nbuckets == old->nbuckets;
	/* (1): the arrays' own sizes must agree with a doubling or a same-size
	 * grow; anything else is two writers growing at once. */
	if (GM_UNLIKELY(!same && nb->nbuckets != 2 * old->nbuckets))
		gm_fatal_damaged(GM_DAMAGE("bucket arrays of unrelated sizes"), h);
	unsigned char *b = bucket_at(old, h->bucketsize, oldbucket);
	if (!evacuated(b)) {
		evac_dst xy[2] = {{bucket_at(nb, h->bucketsize, oldbucket), 0}, {NULL, 0}};
		if (!same)
			xy[1].b = bucket_at(nb, h->bucketsize, oldbucket + newbit);
		uint64_t seed = GM_LOAD(&h->hash0);
		bool iter_may_exist = (GM_LOAD(&h->flags) & FLAG_ITERATOR) != 0;
		uint64_t steps = 0, bound = GM_LOAD(&h->total_buckets) + 1;
		for (; b != NULL; b = overflow_of(h, b)) {
			if (GM_UNLIKELY(++steps > bound))
				gm_fatal_damaged(GM_DAMAGE("overflow chain loops"), h);
			uint8_t *th = tophash_of(b);
			for (unsigned i = 0; i < BUCKET_CNT; i++) {
				uint8_t top = th[i];
				if (is_empty(top)) {
					th[i] = EVACUATED_EMPTY;
					continue;
				}
				if (GM_UNLIKELY(top < MIN_TOP_HASH))
					gm_fatal_damaged("bad map state", h);
				void *k = key_at(b, h->keysize, i);
				unsigned usey = 0;
				if (!same) {
					uint64_t hash = slot_hash(h, k, seed);
					if (GM_UNLIKELY(iter_may_exist && key_is_nan(h, k))) {
						/* Go: evacuate. A key unequal to itself
						 * hashes differently every time, so an
						 * iterator that started during this grow
						 * decides X or Y by the tophash's low bit
						 * (mapiternext); send it the same way, and
						 * give it a fresh tophash, so that such
						 * keys spread over the buckets again. */
						usey = top & 1;
						top = tophash(hash);
					} else if ((hash & newbit) != 0) {
						usey = 1;
					}
				}
				th[i] = (uint8_t)(EVACUATED_X + usey);
				evac_dst *d = &xy[usey];
				if (d->i == BUCKET_CNT) {
					d->b = gm_newoverflow(h, d->b);
					d->i = 0;
				}
				tophash_of(d->b)[d->i] = top;
				if (GM_LIKELY(h->keysize == 8))
					memcpy(key_at(d->b, 8, d->i), k, 8);
				else
					memcpy(key_at(d->b, h->keysize, d->i), k, h->keysize);
				elem_copy(h, elem_at(h, d->b, d->i), elem_at(h, b, i));
				d->i++;
			}
		}
		/* Unlike Go, the old bucket keeps its keys and elems: nothing
		 * here needs clearing for a garbage collector, and iterators
		 * may still read them. */
	}
	if (oldbucket == GM_LOAD(&h->nevacuate))
		advance_evacuation_mark(h, old);
}

/* Go: growWork. Evacuate the old bucket that `bucket` is about to use, and
 * one more, so that the grow finishes after a bounded number of writes. */
void gm_grow_work(gomap *h, uint64_t bucket)
{
	barray *old = GM_LOAD(&h->oldbuckets);
	barray *nb = GM_LOAD(&h->buckets);
	if (old == NULL)
		return;
	evacuate(h, old, nb, bucket & (old->nbuckets - 1));
	old = GM_LOAD(&h->oldbuckets);
	if (old != NULL) {
		uint64_t n = GM_LOAD(&h->nevacuate);
		if (n < old->nbuckets)
			evacuate(h, old, nb, n);
	}
}

/* ------------------------------------------------------------------------ */
/* Generic entry points                                                     */
/* ------------------------------------------------------------------------ */

void gomap_access1(gomap *m, const void *key, void *elem_out)
{
	const void *e = map_access(m, m ? m->kind : 0, key);
	if (e != NULL)
		elem_copy_out(m, elem_out, e);
	else if (m != NULL && m->elemsize != 0)
		memset(elem_out, 0, m->elemsize);
}

bool gomap_access2(gomap *m, const void *key, void *elem_out)
{
	const void *e = map_access(m, m ? m->kind : 0, key);
	if (e != NULL) {
		elem_copy_out(m, elem_out, e);
		return true;
	}
	if (m != NULL && elem_out != NULL)
		memset(elem_out, 0, m->elemsize);
	return false;
}

void gomap_assign(gomap *m, const void *key, const void *elem)
{
	static const gm_api api = {"gomap_assign", GOMAP_OP_ASSIGN};
	map_assign(m, m ? m->kind : 0, key, elem, &api, GM_CALLER_PC());
}

void gomap_delete(gomap *m, const void *key)
{
	static const gm_api api = {"gomap_delete", GOMAP_OP_DELETE};
	map_delete(m, m ? m->kind : 0, key, &api, GM_CALLER_PC());
}

/* mapaccessK for iterators: find a key given in its slot form. */
bool gm_lookup_slotkey(gomap *h, const void *slotkey, const void **k, const void **e)
{
	gomap_str s;
	const void *key = slotkey;
	if (h->kind == GOMAP_KEY_STR) {
		const gm_strrec *r = __atomic_load_n((gm_strrec *const *)slotkey, __ATOMIC_ACQUIRE);
		if (r == NULL)
			return false;
		s.ptr = r->bytes;
		s.len = r->len;
		key = &s;
	}
	void *kslot = NULL;
	void *elem = map_find(h, h->kind, key, &kslot);
	if (elem == NULL)
		return false;
	*k = kslot;
	*e = elem;
	return true;
}

/* ------------------------------------------------------------------------ */
/* clear (Go 1.21: mapclear)                                                */
/* ------------------------------------------------------------------------ */

/* Marks every slot of every chain of an array emptyRest, so that iterators
 * still walking it stop returning entries (Go: markBucketsEmpty, issue
 * 59411). */
static void mark_array_empty(gomap *h, barray *a)
{
	uint64_t bound = GM_LOAD(&h->total_buckets) + 1;
	for (uint64_t i = 0; i < a->nbuckets; i++) {
		uint64_t steps = 0;
		for (unsigned char *b = bucket_at(a, h->bucketsize, i); b != NULL;
		     b = overflow_of(h, b)) {
			if (GM_UNLIKELY(++steps > bound))
				gm_fatal_damaged(GM_DAMAGE("overflow chain loops"), h);
			memset(tophash_of(b), EMPTY_REST, BUCKET_CNT);
		}
	}
}

void gomap_clear(gomap *m)
{
	if (m != NULL)
		GM_RACE_WRITE(m); /* Go: racewritepc */
	if (m == NULL || GM_LOAD(&m->count) == 0)
		return;
	static const gm_api api = {"gomap_clear", GOMAP_OP_CLEAR};
	const unsigned ins = gm_instr();
	gm_hook(ins, GOMAP_EV_WRITE_ENTRY, m, GOMAP_OP_CLEAR);
	GM_CHECK_NOT_WRITING(m, "concurrent map writes", GOMAP_OP_CLEAR);
	GM_SET_WRITING(ins, m, &api, GM_CALLER_PC());

	barray *a = GM_LOAD(&m->buckets);
	barray *old = GM_LOAD(&m->oldbuckets);
	if (a != NULL)
		mark_array_empty(m, a);
	if (old != NULL)
		mark_array_empty(m, old);
	GM_STORE(&m->flags, (uint8_t)(GM_LOAD(&m->flags) & ~FLAG_SAME_SIZE_GROW));
	GM_STORE(&m->oldbuckets, NULL);
	GM_STORE(&m->nevacuate, 0);
	GM_STORE(&m->noverflow, 0);
	GM_STORE(&m->count, 0);
	GM_STORE(&m->clears, GM_LOAD(&m->clears) + 1);
	GM_STORE(&m->hash0, gm_fastrand()); /* Go issue 25237 */
	if (a != NULL) {
		/* Reuse the array: zero it and give back its preallocated
		 * overflow buckets. Dropped overflow buckets stay allocated
		 * until gomap_free (invariant 2). */
		memset(a->data, 0, a->nalloc * m->bucketsize);
		GM_STORE(&a->next_ovf, a->nbuckets);
	}
	GM_CLEAR_WRITING(ins, m, GOMAP_OP_CLEAR);
	gm_hook(ins, GOMAP_EV_OP_EXIT, m, GOMAP_OP_CLEAR);
}

/* ------------------------------------------------------------------------ */
/* Iteration (Go: mapiterinit, mapiternext)                                 */
/* ------------------------------------------------------------------------ */

#define NO_CHECK UINT64_MAX

/* A string key lives in its own record (invariant 6), one cache miss per
 * entry when an iteration reads them one by one. Asking for the records of
 * a whole bucket at once lets those misses overlap. */
GM_INLINE void prefetch_str_records(const gomap *h, unsigned char *b)
{
	if (h->kind != GOMAP_KEY_STR)
		return;
	for (unsigned i = 0; i < BUCKET_CNT; i++) {
		const void *r = GM_LOAD((void *const *)key_at(b, 8, i));
		if (r != NULL)
			__builtin_prefetch(r);
	}
}

static void iter_start(gomap *h, gomap_iter *it, uint64_t r)
{
	memset(it, 0, sizeof *it);
	if (h == NULL || GM_LOAD(&h->count) == 0)
		return; /* it->h stays NULL: no iterations */
	barray *a = GM_LOAD(&h->buckets);
	if (a == NULL)
		return;
	it->h = h;
	it->buckets = a;
	it->B = a->B;
	it->startBucket = r & (a->nbuckets - 1);
	it->offset = (uint8_t)((r >> a->B) & (BUCKET_CNT - 1));
	it->bucket = it->startBucket;
	it->checkBucket = NO_CHECK;
	it->clears = GM_LOAD(&h->clears);
}

void gomap_iter_init(gomap *m, gomap_iter *it)
{
	if (m != NULL)
		GM_RACE_READ(m); /* Go: racereadpc in mapiterinit */
	iter_start(m, it, gm_fastrand());
	if (it->h == NULL)
		return;
	/* No detector check here; just mark that iterators may exist. Go
	 * does this with an atomic OR, racing with writers' plain stores. */
	uint8_t f = GM_LOAD(&m->flags);
	if ((f & (FLAG_ITERATOR | FLAG_OLD_ITERATOR)) != (FLAG_ITERATOR | FLAG_OLD_ITERATOR))
		__atomic_fetch_or(&m->flags, FLAG_ITERATOR | FLAG_OLD_ITERATOR, __ATOMIC_RELAXED);
}

GM_INLINE bool gm_iter_next(gomap_iter *it, bool check)
{
	gomap *h = it->h;
	if (h == NULL)
		return false;
	if (check) {
		GM_RACE_READ(h); /* Go: racereadpc in mapiternext */
		gm_hook(gm_instr(), GOMAP_EV_ITER_STEP, h, GOMAP_OP_ITER);
		GM_CHECK_NOT_WRITING(h, "concurrent map iteration and map write", GOMAP_OP_ITER);
	}
	const barray *ib = it->buckets;
	uint64_t bucket = it->bucket;
	unsigned char *b = it->bptr;
	unsigned i = it->i;
	uint64_t checkBucket = it->checkBucket;
	/* Every bucket is visited once, old ones at most twice (invariant 3). */
	uint64_t bound = 2 * GM_LOAD(&h->total_buckets) + ib->nbuckets + 8;

	for (;;) {
		if (b == NULL) {
			if (bucket == it->startBucket && it->wrapped) {
				it->key = it->elem = NULL;
				it->h = NULL;
				return false;
			}
			barray *old = GM_LOAD(&h->oldbuckets);
			if (old != NULL && it->B == GM_LOAD(&h->B)) {
				/* The iterator started during this grow: read the
				 * old bucket if it still holds the entries, keeping
				 * only those that belong to `bucket`. */
				unsigned char *ob =
				        bucket_at(old, h->bucketsize, bucket & (old->nbuckets - 1));
				if (!evacuated(ob)) {
					b = ob;
					checkBucket = bucket;
				} else {
					b = bucket_at(ib, h->bucketsize, bucket);
					checkBucket = NO_CHECK;
				}
			} else {
				b = bucket_at(ib, h->bucketsize, bucket);
				checkBucket = NO_CHECK;
			}
			bucket++;
			if (bucket == ib->nbuckets) {
				bucket = 0;
				it->wrapped = true;
			}
			i = 0;
			prefetch_str_records(h, b);
			if (GM_UNLIKELY(++it->steps > bound))
				gm_fatal_damaged(GM_DAMAGE("iteration does not end"), h);
		}
		uint8_t *th = tophash_of(b);
		for (; i < BUCKET_CNT; i++) {
			unsigned offi = (i + it->offset) & (BUCKET_CNT - 1);
			uint8_t top = th[offi];
			if (is_empty(top) || top == EVACUATED_EMPTY)
				continue;
			const void *k = key_at(b, h->keysize, offi);
			const void *e = elem_at(h, b, offi);
			/* Asked only where it matters, as Go does: a key
			 * type's equal runs once per entry at most. */
			bool moved = top == EVACUATED_X || top == EVACUATED_Y;
			bool nan = (checkBucket != NO_CHECK || moved) && key_is_nan(h, k);
			if (checkBucket != NO_CHECK &&
			    !(GM_LOAD(&h->flags) & FLAG_SAME_SIZE_GROW)) {
				/* An old bucket during a doubling holds the
				 * entries of two new buckets; skip the other's.
				 * A NaN key's hash is new every time: it goes
				 * by its tophash's low bit, as evacuate sends
				 * it (Go: mapiternext). */
				if (GM_UNLIKELY(nan)) {
					if (it->B == 0 ||
					    (checkBucket >> (it->B - 1)) != (uint64_t)(top & 1))
						continue;
				} else {
					uint64_t hash = slot_hash(h, k, GM_LOAD(&h->hash0));
					if ((hash & (ib->nbuckets - 1)) != checkBucket)
						continue;
				}
			}
			if (moved && !nan) {
				/* The map grew after the iteration began and this
				 * entry moved: find where it lives now, if it was
				 * not deleted since. A NaN key can be neither
				 * found, updated nor deleted, so the old slot
				 * still holds its entry (Go: mapiternext). */
				if (!gm_lookup_slotkey(h, k, &k, &e))
					continue;
			} else if (moved && GM_LOAD(&h->clears) != it->clears) {
				/* ... unless a clear removed it. mapclear marks
				 * the current and old arrays empty (Go issue
				 * 59411), but an iterator may walk an array that
				 * a finished grow retired, where this moved NaN
				 * entry still shows. The spec says an entry
				 * removed before it is reached is not produced. */
				continue;
			}
			if (h->kind == GOMAP_KEY_STR) {
				const gm_strrec *r =
				        __atomic_load_n((gm_strrec *const *)k, __ATOMIC_ACQUIRE);
				if (r == NULL)
					continue; /* cleared by a racing delete */
				it->strkey.ptr = r->bytes;
				it->strkey.len = r->len;
				k = &it->strkey;
			}
			it->key = k;
			it->elem = e;
			it->bucket = bucket;
			it->bptr = b;
			it->i = (uint8_t)(i + 1);
			it->checkBucket = checkBucket;
			return true;
		}
		b = overflow_of(h, b);
		i = 0;
		if (b != NULL && GM_UNLIKELY(++it->steps > bound))
			gm_fatal_damaged(GM_DAMAGE("iteration does not end"), h);
		if (b != NULL)
			prefetch_str_records(h, b);
	}
}

bool gomap_iter_next(gomap_iter *it)
{
	gomap *h = it->h; /* NULL: no step, so no entry event and no exit */
	bool more = gm_iter_next(it, true);
	if (h != NULL)
		gm_hook(gm_instr(), GOMAP_EV_OP_EXIT, h, GOMAP_OP_ITER);
	return more;
}

/* ------------------------------------------------------------------------ */
/* clone (Go 1.21: maps.Clone, runtime.mapclone)                            */
/* ------------------------------------------------------------------------ */

gomap *gomap_clone(gomap *m)
{
	if (m == NULL)
		return NULL;
	GM_RACE_READ(m);
	/* Go's mapclone2 makes the copy and gives it the source's seed before
	 * it looks at the count or the flag; it then copies buckets as they
	 * are (moveToBmap), or, during a grow, assigns the old buckets' entries
	 * one by one. This copy re-inserts every key, with the same seed. NaN
	 * entries survive as in Go: the iteration returns each one, and an
	 * assign of a key unequal to itself always adds an entry. */
	gomap *c = gomap_make(m->t, GM_LOAD(&m->count));
	c->hash0 = GM_LOAD(&m->hash0);
	if (GM_LOAD(&m->count) == 0)
		return c; /* before the check, like Go */
	gm_hook(gm_instr(), GOMAP_EV_CLONE_ENTRY, m, GOMAP_OP_CLONE);
	GM_CHECK_NOT_WRITING(m, "concurrent map clone and map write", GOMAP_OP_CLONE);
	static const gm_api api = {"gomap_clone", GOMAP_OP_ASSIGN};
	gomap_iter it;
	iter_start(m, &it, 0);
	gm_hooks_off++;
	while (gm_iter_next(&it, false))
		map_assign(c, c->kind, it.key, it.elem, &api, GM_CALLER_PC());
	gm_hooks_off--;
	gm_hook(gm_instr(), GOMAP_EV_OP_EXIT, m, GOMAP_OP_CLONE);
	return c;
}

/* ------------------------------------------------------------------------ */
/* Statistics and the invariant walker                                      */
/* ------------------------------------------------------------------------ */

void gomap_get_stats(gomap *m, gomap_stats *st)
{
	memset(st, 0, sizeof *st);
	if (m == NULL)
		return;
	st->count = m->count;
	st->B = m->B;
	st->noverflow = m->noverflow;
	st->growing = m->oldbuckets != NULL;
	st->same_size_grow = (m->flags & FLAG_SAME_SIZE_GROW) != 0;
	st->nevacuate = m->nevacuate;
	st->hash0 = m->hash0;
	st->arrays_retired = m->arrays_retired;
}

/* Checks one chain: tophash markers in order (4), every live key in the
 * right bucket with the right tophash and found by a lookup (no duplicate),
 * and counts live entries. `evac` says the chain was evacuated. */
static const char *check_chain(gomap *h, barray *a, uint64_t i, bool evac, size_t *live)
{
	bool rest = false;
	uint64_t steps = 0, bound = h->total_buckets + 1;
	uint64_t seed = h->hash0;
	for (unsigned char *b = bucket_at(a, h->bucketsize, i); b != NULL; b = overflow_of(h, b)) {
		if (++steps > bound)
			return "overflow chain loops";
		uint8_t *th = tophash_of(b);
		/* Go: MapTombstoneCheck. The last slot in use before the
		 * emptyRest run is live, never emptyOne: a delete that empties
		 * the end of a chain turns it into emptyRest. */
		if (!evac && !rest) {
			unsigned char *nx = overflow_of(h, b);
			for (unsigned s = 0; s < BUCKET_CNT; s++) {
				bool next_rest =
				        s + 1 < BUCKET_CNT
				                ? th[s + 1] == EMPTY_REST
				                : (nx == NULL || tophash_of(nx)[0] == EMPTY_REST);
				if (th[s] == EMPTY_ONE && next_rest)
					return "emptyOne slot right before emptyRest";
			}
		}
		for (unsigned s = 0; s < BUCKET_CNT; s++) {
			uint8_t top = th[s];
			if (evac) {
				if (top != EVACUATED_X && top != EVACUATED_Y &&
				    top != EVACUATED_EMPTY)
					return "evacuated bucket holds a slot that is not "
					       "evacuated";
				continue;
			}
			if (top > EMPTY_ONE && top < MIN_TOP_HASH)
				return "evacuation marker outside an evacuated bucket";
			if (rest && top != EMPTY_REST)
				return "slot in use after an emptyRest slot";
			if (top == EMPTY_REST) {
				rest = true;
				continue;
			}
			if (top == EMPTY_ONE)
				continue;
			void *k = key_at(b, h->keysize, s);
			if (key_is_nan(h, k)) {
				/* Its hash is new every time: neither the bucket
				 * nor the tophash can be checked, nor can a
				 * lookup find it. */
				(*live)++;
				continue;
			}
			uint64_t hash = slot_hash(h, k, seed);
			if (tophash(hash) != top)
				return "tophash does not match the key's hash";
			if ((hash & (a->nbuckets - 1)) != i)
				return "key is in the wrong bucket";
			const void *fk, *fe;
			if (!gm_lookup_slotkey(h, k, &fk, &fe))
				return "live key not found by lookup";
			if (fk != k)
				return "key stored twice";
			(*live)++;
		}
	}
	return NULL;
}

const char *gomap_check_invariants(gomap *m)
{
	if (m == NULL)
		return NULL;
	if (m->flags & FLAG_HASH_WRITING)
		return "write flag left set";
	barray *a = m->buckets, *old = m->oldbuckets;
	if (a == NULL)
		return m->count == 0 && old == NULL ? NULL : "entries but no bucket array";
	if (a->B != m->B || a->nbuckets != (uint64_t)1 << m->B)
		return "bucket array size does not match B";
	size_t live = 0;
	if (old != NULL) {
		bool same = (m->flags & FLAG_SAME_SIZE_GROW) != 0;
		if (same ? old->nbuckets != a->nbuckets : 2 * old->nbuckets != a->nbuckets)
			return "old and new bucket arrays do not match the kind of grow";
		if (m->nevacuate >= old->nbuckets)
			return "grow finished but oldbuckets kept";
		for (uint64_t i = 0; i < old->nbuckets; i++) {
			bool ev = evacuated(bucket_at(old, m->bucketsize, i));
			if (i < m->nevacuate && !ev)
				return "bucket below nevacuate not evacuated";
			const char *err = check_chain(m, old, i, ev, &live);
			if (err)
				return err;
		}
	} else if (m->flags & FLAG_SAME_SIZE_GROW) {
		return "sameSizeGrow set without a grow";
	}
	for (uint64_t i = 0; i < a->nbuckets; i++) {
		/* While growing, a new bucket is filled only once its old
		 * bucket(s) are evacuated; either way each entry is counted in
		 * exactly one place. */
		const char *err = check_chain(m, a, i, false, &live);
		if (err)
			return err;
	}
	if (live != m->count)
		return "count does not match the live entries";
	return NULL;
}

const char *gomap_generation(void)
{
	return "bucket";
}

/* The bucket map has no tables (see gomap.h). */
size_t gomap_get_tables(gomap *m, gomap_table_info *out, size_t max)
{
	(void)m;
	(void)out;
	(void)max;
	return 0;
}
