/*
 * map_impl.h -- lookup, assign and delete, written once and specialised.
 *
 * Go keeps three copies of these algorithms (map.go, map_fast64.go,
 * map_faststr.go). Here each is one always-inline function that takes the key
 * kind as a compile-time constant: the generic entry points in map.c pass
 * h->kind, the typed entry points in map_fast64.c and map_faststr.c pass a
 * constant, and the compiler drops the other branches, so `gomap_i64_get`
 * makes no indirect call and compares keys with one instruction.
 *
 * A key arrives in its caller's form: `int64_t *` for I64, `gomap_str *` for
 * STR, the raw bytes for GENERIC. In a bucket, I64 keys are stored as is,
 * STR keys as a word holding a string record's address and the key's
 * length (internal.h, invariant 6) and GENERIC keys as their bytes.
 */
#ifndef GOMAP_MAP_IMPL_H
#define GOMAP_MAP_IMPL_H

#include "internal.h"

/* ---- keys, by kind ---- */

GM_INLINE uint64_t key_hash(const gomap *h, int kind, const void *key, uint64_t seed)
{
	return gm_key_hash(h->t, kind, key, seed);
}

/* Does the key in `slot` equal the caller's key? */
GM_INLINE bool key_equal(const gomap *h, int kind, const void *slot, const void *key)
{
	if (kind == GOMAP_KEY_I64)
		return *(const int64_t *)slot == *(const int64_t *)key;
	if (kind == GOMAP_KEY_STR) {
		const gomap_str *s = key;
		uint64_t w = gm_strword_load(slot);
		/* A racing reader may meet a slot a delete has just cleared
		 * (0). The length in the word rules out keys of another length
		 * before the record is read (invariant 6). */
		if (w == 0 ||
		    (w >> GM_STRREC_BITS) != (s->len < GM_STRLEN_CAP ? s->len : GM_STRLEN_CAP))
			return false;
		const gm_strrec *r = gm_strword_rec(w);
		return (s->len < GM_STRLEN_CAP || GM_LOAD(&r->len) == s->len) &&
		       gm_bytes_equal(r->bytes, s->ptr, s->len);
	}
	return h->t->equal(slot, key);
}

/* Bytes per key slot: 8 for the core's own kinds (an int64, or a string's
 * word), known at compile time in the typed entry points. */
GM_INLINE size_t slot_keysize(const gomap *h, int kind)
{
	return kind == GOMAP_KEY_GENERIC ? h->keysize : 8;
}

/* Store the caller's key into an empty slot. */
GM_INLINE void key_store(gomap *h, int kind, void *slot, const void *key)
{
	if (kind == GOMAP_KEY_I64) {
		*(int64_t *)slot = *(const int64_t *)key;
	} else if (kind == GOMAP_KEY_STR) {
		const gomap_str *s = key;
		gm_strrec *r = gm_str_copy(h, s->ptr, s->len);
		/* Publish the record only once its bytes are in place. */
		__atomic_store_n((uint64_t *)slot, gm_strword_make(r, s->len), __ATOMIC_RELEASE);
	} else if (h->keysize != 0) {
		memcpy(slot, key, h->keysize); /* a key of size 0 may be NULL */
	}
}

/* Copies of elems and clears of slots: 8 bytes (the typed maps) is one
 * move, anything else a call to the C library. */
GM_INLINE void elem_copy(const gomap *h, void *dst, const void *src)
{
	if (GM_LIKELY(h->elemsize == 8))
		memcpy(dst, src, 8);
	else if (h->elemsize != 0)
		memcpy(dst, src, h->elemsize); /* an elem of size 0 may be NULL */
}

GM_INLINE void elem_copy_out(const gomap *h, void *out, const void *elem)
{
	if (out != NULL)
		elem_copy(h, out, elem);
}

GM_INLINE void slot_zero(void *p, size_t size)
{
	if (GM_LIKELY(size == 8))
		memset(p, 0, 8);
	else
		memset(p, 0, size);
}

/* Bound for one chain walk (invariant 3). */
GM_INLINE uint64_t chain_bound(const gomap *h)
{
	return GM_LOAD(&h->total_buckets) + 1;
}

/* ---- lookup (Go: mapaccess1, mapaccess2, mapaccess1_fast64, ...) ---- */

/* Finds `key` without any detector check (Go: the body of mapaccess1, and
 * mapaccessK). Returns its elem, or NULL; *kslot gets the key's slot. */
GM_INLINE void *map_find(gomap *h, int kind, const void *key, void **kslot)
{
	uint64_t hash = key_hash(h, kind, key, GM_LOAD(&h->hash0));
	barray *a = GM_LOAD(&h->buckets);
	if (GM_UNLIKELY(a == NULL))
		return NULL; /* only a racing writer can show entries without buckets */
	unsigned char *b = bucket_at(a, h->bucketsize, hash & (a->nbuckets - 1));
	barray *old = GM_LOAD(&h->oldbuckets);
	if (old != NULL) {
		/* Growing: the entry is still in the old bucket unless that was
		 * evacuated already. The old array's own size gives the mask (1). */
		unsigned char *ob = bucket_at(old, h->bucketsize, hash & (old->nbuckets - 1));
		if (!evacuated(ob))
			b = ob;
	}
	uint8_t top = tophash(hash);
	uint64_t steps = 0, bound = chain_bound(h);
	for (; b != NULL; b = overflow_of(h, b)) {
		if (GM_UNLIKELY(++steps > bound))
			gm_fatal_damaged(GM_DAMAGE("overflow chain loops"), h);
		uint8_t *th = tophash_of(b);
		if (kind == GOMAP_KEY_I64) {
			/* Like mapaccess1_fast64: compare the keys first; the key
			 * compare is as cheap as a tophash compare. */
			for (unsigned i = 0; i < BUCKET_CNT; i++) {
				if (*(const int64_t *)key_at(b, 8, i) == *(const int64_t *)key &&
				    !is_empty(th[i])) {
					*kslot = key_at(b, 8, i);
					return elem_at(h, b, i);
				}
			}
			continue;
		}
		for (unsigned i = 0; i < BUCKET_CNT; i++) {
			if (th[i] != top) {
				if (th[i] == EMPTY_REST)
					return NULL;
				continue;
			}
			if (key_equal(h, kind, key_at(b, slot_keysize(h, kind), i), key)) {
				*kslot = key_at(b, slot_keysize(h, kind), i);
				return elem_at(h, b, i);
			}
		}
	}
	return NULL;
}

/* Returns the elem of `key`, or NULL, after the detector's read check. */
GM_INLINE const void *map_access(gomap *h, int kind, const void *key)
{
	if (h != NULL)
		GM_RACE_READ(h); /* Go: racereadpc, before the empty-map return */
	if (h == NULL || GM_LOAD(&h->count) == 0)
		return NULL; /* before the check: a read of an empty map never fires */
	const unsigned ins = gm_instr();
	gm_hook(ins, GOMAP_EV_READ_ENTRY, h, GOMAP_OP_ACCESS);
	GM_CHECK_NOT_WRITING(h, "concurrent map read and map write", GOMAP_OP_ACCESS);
	void *kslot;
	const void *e = map_find(h, kind, key, &kslot);
	gm_hook(ins, GOMAP_EV_OP_EXIT, h, GOMAP_OP_ACCESS);
	return e;
}

/* ---- assign (Go: mapassign, mapassign_fast64, mapassign_faststr) ---- */

GM_INLINE void map_assign(gomap *h, int kind, const void *key, const void *elem, const gm_api *api,
                          uintptr_t pc)
{
	if (GM_UNLIKELY(h == NULL))
		gm_panic_nil_assign();
	GM_RACE_WRITE(h); /* Go: racewritepc */
	const unsigned ins = gm_instr();
	gm_hook(ins, GOMAP_EV_WRITE_ENTRY, h, GOMAP_OP_ASSIGN);
	GM_CHECK_NOT_WRITING(h, "concurrent map writes", GOMAP_OP_ASSIGN);
	uint64_t hash = key_hash(h, kind, key, GM_LOAD(&h->hash0));
	/* Set the flag after hashing, as Go does: a hash function may panic
	 * in Go, and then the map must not be left marked as being written. */
	GM_SET_WRITING(ins, h, api, pc);

	if (GM_UNLIKELY(GM_LOAD(&h->buckets) == NULL))
		gm_first_array(h);
again:;
	barray *a = GM_LOAD(&h->buckets);
	uint64_t bucket = hash & (a->nbuckets - 1);
	if (GM_LOAD(&h->oldbuckets) != NULL) {
		gm_grow_work(h, bucket);
		a = GM_LOAD(&h->buckets);
		bucket = hash & (a->nbuckets - 1);
	}
	unsigned char *b = bucket_at(a, h->bucketsize, bucket);
	uint8_t top = tophash(hash);
	uint8_t *inserti = NULL;
	void *insertk = NULL;
	void *inserte = NULL;
	uint64_t steps = 0, bound = chain_bound(h);
	for (;;) {
		if (GM_UNLIKELY(++steps > bound))
			gm_fatal_damaged(GM_DAMAGE("overflow chain loops"), h);
		uint8_t *th = tophash_of(b);
		for (unsigned i = 0; i < BUCKET_CNT; i++) {
			if (th[i] != top) {
				if (is_empty(th[i]) && inserti == NULL) {
					inserti = &th[i];
					insertk = key_at(b, slot_keysize(h, kind), i);
					inserte = elem_at(h, b, i);
				}
				if (th[i] == EMPTY_REST)
					goto notfound;
				continue;
			}
			if (!key_equal(h, kind, key_at(b, slot_keysize(h, kind), i), key))
				continue;
			/* The key is present: overwrite its elem, and the key
			 * itself when equal keys may differ in their bytes, so
			 * that m[-0.0] = v after m[+0.0] stores -0 (Go:
			 * mapassign, t.needkeyupdate()). */
			if (kind == GOMAP_KEY_GENERIC && h->t->needkeyupdate && h->keysize != 0)
				memcpy(key_at(b, slot_keysize(h, kind), i), key, h->keysize);
			elem_copy(h, elem_at(h, b, i), elem);
			goto done;
		}
		unsigned char *ovf = overflow_of(h, b);
		if (ovf == NULL)
			break;
		b = ovf;
	}
notfound:
	/* A new entry. Start growing if this one would overload the table or
	 * the overflow chains are too long, unless a grow is under way. */
	if (GM_LOAD(&h->oldbuckets) == NULL &&
	    (over_load_factor(GM_LOAD(&h->count) + 1, GM_LOAD(&h->B)) ||
	     too_many_overflow_buckets(GM_LOAD(&h->noverflow), GM_LOAD(&h->B)))) {
		gm_hash_grow(h);
		goto again; /* everything found so far points into the old array */
	}
	if (inserti == NULL) {
		/* Every slot of the chain is taken: link a new overflow bucket. */
		unsigned char *nb = gm_newoverflow(h, b);
		inserti = &tophash_of(nb)[0];
		insertk = key_at(nb, slot_keysize(h, kind), 0);
		inserte = elem_at(h, nb, 0);
	}
	key_store(h, kind, insertk, key);
	elem_copy(h, inserte, elem);
	*inserti = top;
	GM_STORE(&h->count, GM_LOAD(&h->count) + 1);
done:
	GM_CLEAR_WRITING(ins, h, GOMAP_OP_ASSIGN);
	gm_hook(ins, GOMAP_EV_OP_EXIT, h, GOMAP_OP_ASSIGN);
}

/* ---- delete (Go: mapdelete, mapdelete_fast64, mapdelete_faststr) ---- */

GM_INLINE void map_delete(gomap *h, int kind, const void *key, const gm_api *api, uintptr_t pc)
{
	if (h != NULL)
		GM_RACE_WRITE(h); /* Go: racewritepc, before the empty-map return */
	if (h == NULL || GM_LOAD(&h->count) == 0)
		return; /* before the check, like Go */
	const unsigned ins = gm_instr();
	gm_hook(ins, GOMAP_EV_WRITE_ENTRY, h, GOMAP_OP_DELETE);
	GM_CHECK_NOT_WRITING(h, "concurrent map writes", GOMAP_OP_DELETE);
	uint64_t hash = key_hash(h, kind, key, GM_LOAD(&h->hash0));
	GM_SET_WRITING(ins, h, api, pc);

	barray *a = GM_LOAD(&h->buckets);
	if (GM_UNLIKELY(a == NULL))
		gm_fatal_damaged(GM_DAMAGE("entries but no buckets"), h);
	uint64_t bucket = hash & (a->nbuckets - 1);
	if (GM_LOAD(&h->oldbuckets) != NULL) {
		gm_grow_work(h, bucket);
		a = GM_LOAD(&h->buckets);
		bucket = hash & (a->nbuckets - 1);
	}
	unsigned char *borig = bucket_at(a, h->bucketsize, bucket);
	unsigned char *b = borig;
	uint8_t top = tophash(hash);
	uint64_t steps = 0, bound = chain_bound(h);
	for (; b != NULL; b = overflow_of(h, b)) {
		if (GM_UNLIKELY(++steps > bound))
			gm_fatal_damaged(GM_DAMAGE("overflow chain loops"), h);
		uint8_t *th = tophash_of(b);
		for (unsigned i = 0; i < BUCKET_CNT; i++) {
			void *k = key_at(b, slot_keysize(h, kind), i);
			if (kind == GOMAP_KEY_I64) {
				/* Like mapdelete_fast64: the key compare first, as
				 * in map_find; a cleared slot holds key 0, hence
				 * the emptiness test. */
				if (*(const int64_t *)k != *(const int64_t *)key || is_empty(th[i]))
					continue;
			} else {
				if (th[i] != top) {
					if (th[i] == EMPTY_REST)
						goto out;
					continue;
				}
				if (!key_equal(h, kind, k, key))
					continue;
			}
			/* Found: clear the slot. A string record stays allocated
			 * until gomap_free (invariant 2); the slot forgets it. */
			if (kind == GOMAP_KEY_STR)
				__atomic_store_n((uint64_t *)k, 0, __ATOMIC_RELAXED);
			else
				slot_zero(k, slot_keysize(h, kind));
			slot_zero(elem_at(h, b, i), h->elemsize);
			th[i] = EMPTY_ONE;
			/* If the chain now ends in emptyOne slots, turn them into
			 * emptyRest so that lookups stop early (invariant 4). */
			unsigned char *ob = overflow_of(h, b);
			if (i == BUCKET_CNT - 1) {
				if (ob != NULL && tophash_of(ob)[0] != EMPTY_REST)
					goto notlast;
			} else if (th[i + 1] != EMPTY_REST) {
				goto notlast;
			}
			for (;;) {
				tophash_of(b)[i] = EMPTY_REST;
				if (i == 0) {
					if (b == borig)
						break;
					/* Step back to the bucket before b in the chain. */
					unsigned char *c = b;
					uint64_t back = 0;
					for (b = borig; overflow_of(h, b) != c;
					     b = overflow_of(h, b)) {
						if (GM_UNLIKELY(overflow_of(h, b) == NULL ||
						                ++back > bound))
							gm_fatal_damaged(
							        GM_DAMAGE("overflow chain broken"),
							        h);
					}
					i = BUCKET_CNT - 1;
				} else {
					i--;
				}
				if (tophash_of(b)[i] != EMPTY_ONE)
					break;
			}
		notlast:
			GM_STORE(&h->count, GM_LOAD(&h->count) - 1);
			/* Go issue 25237: a new seed once the map is empty, so an
			 * attacker cannot keep colliding keys across refills. */
			if (GM_LOAD(&h->count) == 0)
				GM_STORE(&h->hash0, gm_fastrand());
			goto out;
		}
	}
out:
	GM_CLEAR_WRITING(ins, h, GOMAP_OP_DELETE);
	gm_hook(ins, GOMAP_EV_OP_EXIT, h, GOMAP_OP_DELETE);
}

#endif /* GOMAP_MAP_IMPL_H */
