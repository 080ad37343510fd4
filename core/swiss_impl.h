/*
 * swiss_impl.h -- lookup, assign and delete of the Swiss-table map, written
 * once and specialised per key kind.
 *
 * Go keeps one copy of each algorithm per key shape (runtime.go,
 * runtime_fast64.go, runtime_faststr.go). As in map_impl.h, each is one
 * always-inline function here that takes the key kind as a compile-time
 * constant: swiss_map.c passes h->kind, swiss_fast64.c and swiss_faststr.c
 * pass a constant.
 *
 * A key arrives in its caller's form (`int64_t *`, `gomap_str *`, or the
 * raw bytes) and lives in a slot as an int64, a string-record pointer
 * (invariant 6) or its bytes.
 */
#ifndef GOMAP_SWISS_IMPL_H
#define GOMAP_SWISS_IMPL_H

#include "swiss_internal.h"

/* ---- keys, by kind ---- */

GM_INLINE uint64_t sw_key_hash(const gomap *h, int kind, const void *key, uint64_t seed)
{
	return gm_key_hash(h->t, kind, key, seed);
}

/* The hash of a key in its slot form. */
GM_INLINE uint64_t sw_slot_hash(const gomap *h, int kind, const void *slot, uint64_t seed)
{
	if (kind == GOMAP_KEY_I64)
		return gm_hash64((uint64_t) * (const int64_t *)slot, seed);
	if (kind == GOMAP_KEY_STR) {
		const gm_strrec *r = __atomic_load_n((gm_strrec *const *)slot, __ATOMIC_ACQUIRE);
		if (r == NULL)
			return 0;
		if (GM_LIKELY(r->len - 8 <= 8))
			return gm_memhash_8to16(r->bytes, r->len, seed);
		return gomap_memhash(r->bytes, r->len, seed);
	}
	return h->t->hash(slot, seed);
}

/* Does the key in `slot` equal the caller's key? */
GM_INLINE bool sw_key_equal(const gomap *h, int kind, const void *slot, const void *key)
{
	if (kind == GOMAP_KEY_I64)
		return *(const int64_t *)slot == *(const int64_t *)key;
	if (kind == GOMAP_KEY_STR) {
		const gomap_str *s = key;
		const gm_strrec *r = __atomic_load_n((gm_strrec *const *)slot, __ATOMIC_ACQUIRE);
		/* A racing reader may meet a slot a delete has just cleared. */
		return r != NULL && r->len == s->len && gm_bytes_equal(r->bytes, s->ptr, s->len);
	}
	return h->t->equal(slot, key);
}

/* Stores the caller's key into a free slot. */
GM_INLINE void sw_key_store(gomap *h, int kind, void *slot, const void *key)
{
	if (kind == GOMAP_KEY_I64) {
		*(int64_t *)slot = *(const int64_t *)key;
	} else if (kind == GOMAP_KEY_STR) {
		const gomap_str *s = key;
		gm_strrec *r = gm_str_copy(h, s->ptr, s->len);
		/* Publish the record only once its bytes are in place. */
		__atomic_store_n((gm_strrec **)slot, r, __ATOMIC_RELEASE);
	} else if (h->keysize != 0) {
		memcpy(slot, key, h->keysize); /* a key of size 0 may be NULL */
	}
}

GM_INLINE void sw_elem_copy(const gomap *h, void *dst, const void *src)
{
	if (GM_LIKELY(h->elemsize == 8))
		memcpy(dst, src, 8);
	else if (h->elemsize != 0)
		memcpy(dst, src, h->elemsize); /* an elem of size 0 may be NULL */
}

/* Empties a slot's key and elem (Go: typedmemclr in Delete). A string
 * record stays allocated until gomap_free (invariant 2). */
GM_INLINE void sw_slot_clear(gomap *h, int kind, void *kslot, void *eslot)
{
	if (kind == GOMAP_KEY_STR)
		__atomic_store_n((gm_strrec **)kslot, NULL, __ATOMIC_RELAXED);
	else if (h->keysize != 0)
		memset(kslot, 0, h->keysize);
	if (h->elemsize != 0)
		memset(eslot, 0, h->elemsize);
}

/* ---- lookup (Go: getWithKey, getWithKeySmall, runtime_mapaccess*) ---- */

/* Finds `key` without any detector check. Returns its elem, or NULL; *kslot
 * gets the key's slot. */
GM_INLINE void *sw_find(gomap *h, int kind, const void *key, void **kslot)
{
	sw_dir *d = __atomic_load_n(&h->dirPtr, __ATOMIC_ACQUIRE);
	if (GM_UNLIKELY(d == NULL))
		return NULL; /* only a racing writer can show entries without a group */
	uint64_t hash = sw_key_hash(h, kind, key, GM_LOAD(&h->seed));
	uint64_t h2 = sw_h2(hash);
	if (d->len == 0) {
		/* Go: getWithKeySmall. Every slot of the one group may match. */
		unsigned char *g = d->small->data;
		for (sw_bitset m = sw_match_h2(sw_ctrl(g), h2); m != 0; m = sw_remove_first(m)) {
			unsigned i = sw_first(m);
			if (sw_key_equal(h, kind, sw_key(h, g, i), key)) {
				*kslot = sw_key(h, g, i);
				return sw_elem(h, g, i);
			}
		}
		return NULL;
	}
	sw_table *t = GM_LOAD(&d->tab[sw_dir_index(d, hash)]);
	sw_groups *gs = GM_LOAD(&t->groups);
	uint64_t mask = sw_table_mask(t);
	sw_probe s = sw_probe_start(hash, mask);
	for (; s.index <= mask; sw_probe_next(&s)) { /* (S3) */
		unsigned char *g = sw_group_in(h, gs, mask, s.offset);
		uint64_t ctrl = sw_ctrl(g);
		for (sw_bitset m = sw_match_h2(ctrl, h2); m != 0; m = sw_remove_first(m)) {
			unsigned i = sw_first(m);
			if (sw_key_equal(h, kind, sw_key(h, g, i), key)) {
				*kslot = sw_key(h, g, i);
				return sw_elem(h, g, i);
			}
		}
		if (sw_match_empty(ctrl) != 0)
			return NULL;
	}
	gm_sw_no_empty_slot(h);
}

/* Returns the elem of `key`, or NULL, after the detector's read check. */
GM_INLINE const void *sw_access(gomap *h, int kind, const void *key)
{
	if (h != NULL)
		GM_RACE_READ(h); /* Go: race.ReadPC, before the empty-map return */
	if (h == NULL || GM_LOAD(&h->used) == 0)
		return NULL; /* before the check: a read of an empty map never fires */
	const unsigned ins = gm_instr();
	gm_hook(ins, GOMAP_EV_READ_ENTRY, h, GOMAP_OP_ACCESS);
	SW_CHECK_NOT_WRITING(h, "concurrent map read and map write", GOMAP_OP_ACCESS);
	void *kslot;
	const void *e = sw_find(h, kind, key, &kslot);
	gm_hook(ins, GOMAP_EV_OP_EXIT, h, GOMAP_OP_ACCESS);
	return e;
}

/* ---- assign (Go: PutSlot, putSlotSmall, runtime_mapassign*) ---- */

/* Go: putSlotSmall. The key's slot in the small group, new or found. */
GM_INLINE void *sw_put_slot_small(gomap *h, int kind, sw_dir *d, uint64_t hash, const void *key)
{
	unsigned char *g = d->small->data;
	uint64_t ctrl = sw_ctrl(g);
	for (sw_bitset m = sw_match_h2(ctrl, sw_h2(hash)); m != 0; m = sw_remove_first(m)) {
		unsigned i = sw_first(m);
		void *k = sw_key(h, g, i);
		if (sw_key_equal(h, kind, k, key)) {
			/* Equal keys may differ in their bytes (+0 and -0):
			 * keep the newest (Go: NeedKeyUpdate). */
			if (kind == GOMAP_KEY_GENERIC && h->t->needkeyupdate && h->keysize != 0)
				memcpy(k, key, h->keysize);
			return sw_elem(h, g, i);
		}
	}
	/* A small group never holds a tombstone (S4): with fewer than 8
	 * entries counted, a full group means another writer filled it
	 * meanwhile. Go's own words for it. */
	sw_bitset m = sw_match_empty_or_deleted(sw_ctrl(g));
	if (GM_UNLIKELY(m == 0))
		gm_fatal_damaged(GM_DAMAGE("small map with no empty slot"), h);
	unsigned i = sw_first(m);
	sw_key_store(h, kind, sw_key(h, g, i), key);
	sw_set_ctrl(g, i, sw_h2(hash));
	GM_STORE(&h->used, GM_LOAD(&h->used) + 1);
	return sw_elem(h, g, i);
}

/* Go: table.PutSlot (with the mapassign_fast* order of checks). Returns the
 * key's slot, or NULL after a rehash replaced `t`: the caller then looks the
 * table up again. Go's generic runtime_mapassign does not try
 * pruneTombstones before a rehash, its fast paths do; `prune` says which. */
GM_INLINE void *sw_table_put_slot(gomap *h, int kind, sw_table *t, uint64_t hash, const void *key,
                                  bool prune)
{
	sw_groups *gs = GM_LOAD(&t->groups);
	uint64_t mask = sw_table_mask(t);
	uint64_t h2 = sw_h2(hash);
	unsigned char *del_g = NULL;
	unsigned del_i = 0;
	sw_probe s = sw_probe_start(hash, mask);
	for (; s.index <= mask; sw_probe_next(&s)) { /* (S3) */
		unsigned char *g = sw_group_in(h, gs, mask, s.offset);
		uint64_t ctrl = sw_ctrl(g);
		for (sw_bitset m = sw_match_h2(ctrl, h2); m != 0; m = sw_remove_first(m)) {
			unsigned i = sw_first(m);
			void *k = sw_key(h, g, i);
			if (sw_key_equal(h, kind, k, key)) {
				if (kind == GOMAP_KEY_GENERIC && h->t->needkeyupdate &&
				    h->keysize != 0)
					memcpy(k, key, h->keysize);
				return sw_elem(h, g, i);
			}
		}
		sw_bitset empty = sw_match_empty(ctrl);
		if (empty == 0) {
			/* Remember the first tombstone on the way: the key goes
			 * there if the probe ends without finding it. */
			sw_bitset del = sw_match_empty_or_deleted(ctrl);
			if (del != 0 && del_g == NULL) {
				del_g = g;
				del_i = sw_first(del);
			}
			continue;
		}
		/* An empty slot ends the probe sequence: the key is new. */
		unsigned i = sw_first(empty);
		if (del_g != NULL) {
			g = del_g;
			i = del_i;
			/* A tombstone is reused: growthLeft stays as it is. */
			GM_STORE(&t->growthLeft, (uint16_t)(GM_LOAD(&t->growthLeft) + 1));
		}
		if (prune && GM_LOAD(&t->growthLeft) == 0)
			gm_sw_prune_tombstones(h, t);
		if (GM_LOAD(&t->growthLeft) > 0) {
			sw_key_store(h, kind, sw_key(h, g, i), key);
			sw_set_ctrl(g, i, (uint8_t)h2);
			GM_STORE(&t->growthLeft, (uint16_t)(GM_LOAD(&t->growthLeft) - 1));
			GM_STORE(&t->used, (uint16_t)(GM_LOAD(&t->used) + 1));
			GM_STORE(&h->used, GM_LOAD(&h->used) + 1);
			return sw_elem(h, g, i);
		}
		gm_sw_rehash(h, t);
		return NULL;
	}
	gm_sw_no_empty_slot(h);
}

GM_INLINE void sw_assign(gomap *h, int kind, const void *key, const void *elem, const gm_api *api,
                         uintptr_t pc)
{
	if (GM_UNLIKELY(h == NULL))
		gm_panic_nil_assign();
	GM_RACE_WRITE(h); /* Go: race.WritePC */
	const unsigned ins = gm_instr();
	gm_hook(ins, GOMAP_EV_WRITE_ENTRY, h, GOMAP_OP_ASSIGN);
	SW_CHECK_NOT_WRITING(h, "concurrent map writes", GOMAP_OP_ASSIGN);
	/* Hash before the toggle, as Go does: a hash may panic in Go, and
	 * the map must then not stay marked as being written. */
	uint64_t hash = sw_key_hash(h, kind, key, GM_LOAD(&h->seed));
	SW_TOGGLE_WRITING(ins, h, api, pc);

	void *slot = NULL;
	if (GM_LOAD(&h->dirPtr) == NULL)
		gm_sw_grow_to_small(h);
	sw_dir *d = GM_LOAD(&h->dirPtr);
	if (d->len == 0) {
		if (GM_LOAD(&h->used) < SW_GROUP_SLOTS) {
			slot = sw_put_slot_small(h, kind, d, hash, key);
			goto done;
		}
		gm_sw_grow_to_table(h, d);
	}
	/* Each rehash doubles a table or splits it, deepening the directory
	 * by at most one: far fewer than 128 rounds end any insert, unless
	 * racing writers keep replacing the tables. */
	for (unsigned round = 0; slot == NULL; round++) {
		if (GM_UNLIKELY(round == 128))
			gm_fatal_damaged(GM_DAMAGE("insert does not end"), h);
		d = GM_LOAD(&h->dirPtr);
		if (GM_UNLIKELY(d->len == 0))
			gm_fatal_damaged(GM_DAMAGE("table map turned small"), h);
		sw_table *t = GM_LOAD(&d->tab[sw_dir_index(d, hash)]);
		slot = sw_table_put_slot(h, kind, t, hash, key, kind != GOMAP_KEY_GENERIC);
	}
done:
	sw_elem_copy(h, slot, elem);
	SW_EXIT_WRITING(ins, h, GOMAP_OP_ASSIGN);
	gm_hook(ins, GOMAP_EV_OP_EXIT, h, GOMAP_OP_ASSIGN);
}

/* ---- delete (Go: Delete, deleteSmall, table.Delete) ---- */

/* Go: deleteSmall. A small map's slot just becomes empty. */
GM_INLINE void sw_delete_small(gomap *h, int kind, sw_dir *d, uint64_t hash, const void *key)
{
	unsigned char *g = d->small->data;
	for (sw_bitset m = sw_match_h2(sw_ctrl(g), sw_h2(hash)); m != 0; m = sw_remove_first(m)) {
		unsigned i = sw_first(m);
		if (sw_key_equal(h, kind, sw_key(h, g, i), key)) {
			GM_STORE(&h->used, GM_LOAD(&h->used) - 1);
			sw_slot_clear(h, kind, sw_key(h, g, i), sw_elem(h, g, i));
			sw_set_ctrl(g, i, SW_CTRL_EMPTY);
			return;
		}
	}
}

/* Go: table.Delete. Returns whether it left a tombstone: a slot whose group
 * has no empty slot must stay "deleted", or a probe sequence that passed
 * through the group on its way to a later one would stop here. */
GM_INLINE bool sw_table_delete(gomap *h, int kind, sw_table *t, uint64_t hash, const void *key)
{
	sw_groups *gs = GM_LOAD(&t->groups);
	uint64_t mask = sw_table_mask(t);
	uint64_t h2 = sw_h2(hash);
	sw_probe s = sw_probe_start(hash, mask);
	for (; s.index <= mask; sw_probe_next(&s)) { /* (S3) */
		unsigned char *g = sw_group_in(h, gs, mask, s.offset);
		uint64_t ctrl = sw_ctrl(g);
		for (sw_bitset m = sw_match_h2(ctrl, h2); m != 0; m = sw_remove_first(m)) {
			unsigned i = sw_first(m);
			if (!sw_key_equal(h, kind, sw_key(h, g, i), key))
				continue;
			GM_STORE(&t->used, (uint16_t)(GM_LOAD(&t->used) - 1));
			GM_STORE(&h->used, GM_LOAD(&h->used) - 1);
			sw_slot_clear(h, kind, sw_key(h, g, i), sw_elem(h, g, i));
			if (sw_match_empty(ctrl) != 0) {
				sw_set_ctrl(g, i, SW_CTRL_EMPTY);
				GM_STORE(&t->growthLeft, (uint16_t)(GM_LOAD(&t->growthLeft) + 1));
				return false;
			}
			sw_set_ctrl(g, i, SW_CTRL_DELETED);
			return true;
		}
		if (sw_match_empty(ctrl) != 0)
			return false;
	}
	gm_sw_no_empty_slot(h);
}

GM_INLINE void sw_delete(gomap *h, int kind, const void *key, const gm_api *api, uintptr_t pc)
{
	if (h != NULL)
		GM_RACE_WRITE(h); /* Go: race.WritePC, before the empty-map return */
	if (h == NULL || GM_LOAD(&h->used) == 0)
		return; /* before the check, like Go */
	const unsigned ins = gm_instr();
	gm_hook(ins, GOMAP_EV_WRITE_ENTRY, h, GOMAP_OP_DELETE);
	SW_CHECK_NOT_WRITING(h, "concurrent map writes", GOMAP_OP_DELETE);
	uint64_t hash = sw_key_hash(h, kind, key, GM_LOAD(&h->seed));
	SW_TOGGLE_WRITING(ins, h, api, pc);

	sw_dir *d = __atomic_load_n(&h->dirPtr, __ATOMIC_ACQUIRE);
	if (GM_UNLIKELY(d == NULL))
		gm_fatal_damaged(GM_DAMAGE("entries but no group"), h);
	if (d->len == 0) {
		sw_delete_small(h, kind, d, hash, key);
	} else {
		sw_table *t = GM_LOAD(&d->tab[sw_dir_index(d, hash)]);
		if (sw_table_delete(h, kind, t, hash, key))
			GM_STORE(&h->tombstonePossible, true);
	}
	/* Go issue 25237: a new seed once the map is empty, so colliding keys
	 * cannot be kept across refills. */
	if (GM_LOAD(&h->used) == 0)
		GM_STORE(&h->seed, gm_fastrand());
	SW_EXIT_WRITING(ins, h, GOMAP_OP_DELETE);
	gm_hook(ins, GOMAP_EV_OP_EXIT, h, GOMAP_OP_DELETE);
}

#endif /* GOMAP_SWISS_IMPL_H */
