/*
 * swiss_map.c -- Go 1.26's Swiss-table map (src/internal/runtime/maps),
 * ported to C.
 *
 * Design
 * ------
 * A map starts with nothing allocated. The first write allocates one group
 * of 8 slots (a "small map"), which is searched as a whole: every slot may
 * hold any key. The 9th entry turns it into a table of 16 slots behind a
 * directory of one entry.
 *
 * A table is an open-addressing hash table of groups. A key's hash is split
 * in two: H1 (all but the low 7 bits) chooses where a triangular probe
 * sequence over the groups starts, H2 (the low 7 bits) is stored in the
 * key's control byte. One 8-byte load of a group's control word and a few
 * arithmetic steps (SWAR) find every slot whose byte equals H2, every empty
 * slot, or every full slot. A probe sequence ends at the first group with
 * an empty slot: that is why a delete may only empty a slot whose group has
 * another empty slot, and otherwise leaves a tombstone ("deleted"). An
 * insert reuses the first tombstone on its probe path.
 *
 * A table holds at most 7/8 of its slots (growthLeft counts what is left).
 * When an insert finds growthLeft at 0, it first tries to drop tombstones
 * that no probe sequence needs (pruneTombstones, Go issue 70886: without
 * it, a table with few entries and many tombstones kept growing), then
 * rehashes: a table below 1024 slots is rebuilt at twice the size, all at
 * once (not incrementally, unlike the bucket map); a table of 1024 slots
 * splits in two by the next hash bit. The directory (extendible hashing)
 * maps the top bits of a hash to tables: a split of a table that owns only
 * one directory entry doubles the directory first.
 *
 * Iteration starts at a random slot and a random directory offset. An
 * iterator keeps the table it is walking even when a grow or split
 * replaces it; for each key it then finds in a stale table it looks the
 * key up in the live map, so that it returns the current value and skips
 * deleted keys. A key unequal to itself (NaN) cannot be looked up: it is
 * returned from the old group only if no clear happened since the
 * iteration started (clearSeq).
 *
 * The detector
 * ------------
 * Writes, deletes and clears check `writing` at entry, toggle it with XOR
 * once the key is hashed, and check it again before toggling it back; reads
 * check it once, after the empty-map return; every iteration step and a
 * clone check it at entry. See swiss_internal.h for why the toggle is an
 * XOR with a plain load and store. Go 1.26 adds one more first line: a
 * write into a small map whose group is full although fewer than 8 entries
 * are counted, "small map with no empty slot (concurrent map writes?)".
 *
 * Misuse stays memory-safe: see the invariants at the top of
 * swiss_internal.h. Keys and elems are stored in the slots whatever their
 * size; Go stores those over 128 bytes through a pointer, which changes the
 * slot size but not what the map does (the API copies keys and elems in
 * and out).
 */
#define _GNU_SOURCE
#include "swiss_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The largest allocation a hint may ask for (Go: maxAlloc, 2^48 bytes on
 * 64-bit Linux). */
#define SW_MAX_ALLOC ((uint64_t)1 << 48)

const char *gomap_generation(void)
{
	return "swiss";
}

const gomap_type *gomap_typeof(const gomap *m)
{
	return m ? m->t : NULL;
}

/* Is the key in `slot` unequal to itself (a NaN)? Only a type marked
 * notreflexive can say yes (Go: !typ.Key.Equal(key, key)). */
bool gm_sw_key_is_nan(const gomap *h, const void *slot)
{
	return h->kind == GOMAP_KEY_GENERIC && h->t->notreflexive && !h->t->equal(slot, slot);
}

_Noreturn void gm_sw_no_empty_slot(gomap *h)
{
	gm_fatal_damaged(GM_DAMAGE("table with no empty slot"), h);
}

/* ------------------------------------------------------------------------ */
/* Allocation (invariant 2)                                                 */
/* ------------------------------------------------------------------------ */

/* Go: newGroups. `n` groups, every control byte empty. */
static sw_groups *new_groups(gomap *h, uint64_t n)
{
	sw_groups *gs = gm_xcalloc(sizeof(sw_groups) + n * h->groupsize);
	gs->lengthMask = n - 1;
	for (uint64_t i = 0; i < n; i++)
		memset(gs->data + i * h->groupsize, SW_CTRL_EMPTY, 8);
	__atomic_fetch_add(&h->total_slots, n * SW_GROUP_SLOTS, __ATOMIC_RELAXED);
	gm_register_alloc(h, &gs->link);
	return gs;
}

/* Go: maxGrowthLeft. A table of one group keeps one slot empty; larger
 * ones fill to 7/8. */
static uint16_t max_growth_left(uint16_t capacity)
{
	if (capacity <= SW_GROUP_SLOTS)
		return (uint16_t)(capacity - 1);
	return (uint16_t)(capacity * SW_MAX_AVG_GROUP_LOAD / SW_GROUP_SLOTS);
}

/* Go: newTable. Capacity rounded up to a power of two, at least a group. */
static sw_table *new_table(gomap *h, uint64_t capacity, int64_t index, uint8_t localDepth)
{
	if (capacity < SW_GROUP_SLOTS)
		capacity = SW_GROUP_SLOTS;
	bool overflow;
	uint64_t c = sw_align_up_pow2(capacity, &overflow);
	if (overflow || c > SW_MAX_TABLE_CAPACITY)
		gm_fatal_damaged("initial table capacity too large", h); /* Go: panic */
	sw_table *t = gm_xcalloc(sizeof *t);
	t->groups = new_groups(h, c / SW_GROUP_SLOTS);
	t->groupsMask = (uint8_t)(c / SW_GROUP_SLOTS - 1); /* at most 127 */
	t->capacity = (uint16_t)c;
	t->growthLeft = max_growth_left((uint16_t)c);
	t->index = index;
	t->localDepth = localDepth;
	__atomic_fetch_add(&h->total_tables, 1, __ATOMIC_RELAXED);
	gm_register_alloc(h, &t->link);
	return t;
}

static sw_dir *new_dir(gomap *h, uint64_t len, uint8_t depth)
{
	sw_dir *d = gm_xcalloc(sizeof(sw_dir) + len * sizeof(sw_table *));
	d->len = len;
	d->depth = depth;
	gm_register_alloc(h, &d->link);
	return d;
}

/* ------------------------------------------------------------------------ */
/* make and free                                                            */
/* ------------------------------------------------------------------------ */

static size_t round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* Go: NewMap. A hint of at most 8 allocates nothing; a larger one makes a
 * directory of tables big enough for it at 7/8 load. A hint whose memory
 * would overflow or exceed maxAlloc is ignored, as Go does. */
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
	h->keysize = t->kind == GOMAP_KEY_GENERIC ? t->keysize : 8;
	h->elemsize = t->elemsize;
	/* Both halves of a slot start 8-byte aligned, so a type's own hash
	 * and equal may read its fields in place. */
	h->elemoff = round8(h->keysize);
	h->slotsize = h->elemoff + round8(h->elemsize);
	h->groupsize = 8 + SW_GROUP_SLOTS * h->slotsize;
	/* With key and elem of size 0 every slot sits at the end of its
	 * group, and the core hands out pointers to slots (iterators, hash
	 * and equal calls): a word of padding keeps the last group's slot
	 * pointer inside the groups' memory, as Go's compiler pads such a
	 * group (TestGroupSizeZero). */
	if (h->slotsize == 0)
		h->groupsize += 8;
	h->seed = gm_fastrand();
	if (hint <= SW_GROUP_SLOTS)
		return h;
	uint64_t target = (uint64_t)hint * SW_GROUP_SLOTS / SW_MAX_AVG_GROUP_LOAD;
	if (hint > UINT64_MAX / SW_GROUP_SLOTS)
		return h; /* overflow */
	uint64_t dirSize = (target + SW_MAX_TABLE_CAPACITY - 1) / SW_MAX_TABLE_CAPACITY;
	bool overflow;
	dirSize = sw_align_up_pow2(dirSize, &overflow);
	if (overflow || dirSize > UINT64_MAX / SW_MAX_TABLE_CAPACITY)
		return h; /* overflow */
	/* Go multiplies the number of slots by the group size here, a
	 * generous estimate; the same rule gives the same answers. */
	uint64_t groups = dirSize * SW_MAX_TABLE_CAPACITY;
	if (groups > SW_MAX_ALLOC / h->groupsize)
		return h;
	uint8_t depth = (uint8_t)__builtin_ctzll(dirSize);
	sw_dir *d = new_dir(h, dirSize, depth);
	for (uint64_t i = 0; i < dirSize; i++)
		d->tab[i] = new_table(h, target / dirSize, (int64_t)i, depth);
	h->dirPtr = d;
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
	/* Go: len(m) reads m.used with no check at all. The plain read is
	 * deliberate: racing it with writes is a data race only a race
	 * detector can see, as in Go. */
	return m ? (size_t)m->used : 0;
}

/* ------------------------------------------------------------------------ */
/* Growth (Go: growToSmall, growToTable, rehash, grow, split)               */
/* ------------------------------------------------------------------------ */

void gm_sw_grow_to_small(gomap *h)
{
	sw_dir *d = new_dir(h, 0, 0);
	d->small = new_groups(h, 1);
	__atomic_store_n(&h->dirPtr, d, __ATOMIC_RELEASE);
}

/* Go: uncheckedPutSlot. Moves a key (in its slot form) and elem into a
 * table being built, which holds no equal key and has room. */
static void unchecked_put_slot(gomap *h, sw_table *t, uint64_t hash, const void *k, const void *e)
{
	if (GM_UNLIKELY(t->growthLeft == 0))
		gm_fatal_damaged(GM_DAMAGE("rehash into a full table"), h);
	sw_groups *gs = t->groups;
	sw_probe s = sw_probe_start(hash, gs->lengthMask);
	for (; s.index <= gs->lengthMask; sw_probe_next(&s)) { /* (S3) */
		unsigned char *g = sw_group(h, gs, s.offset);
		sw_bitset m = sw_match_empty_or_deleted(sw_ctrl(g));
		if (m == 0)
			continue;
		unsigned i = sw_first(m);
		/* A string key moves as its record pointer (invariant 6). */
		memcpy(sw_key(h, g, i), k, h->keysize);
		memcpy(sw_elem(h, g, i), e, h->elemsize);
		t->growthLeft--;
		t->used++;
		sw_set_ctrl(g, i, sw_h2(hash));
		return;
	}
	gm_sw_no_empty_slot(h);
}

/* Visits each full slot of a group: f(h, arg, key, elem). */
typedef void (*slot_fn)(gomap *h, void *arg, void *k, void *e);

static void each_full_slot(gomap *h, unsigned char *g, slot_fn f, void *arg)
{
	for (sw_bitset m = sw_match_full(sw_ctrl(g)); m != 0; m = sw_remove_first(m)) {
		unsigned i = sw_first(m);
		f(h, arg, sw_key(h, g, i), sw_elem(h, g, i));
	}
}

static void each_full_slot_of_table(gomap *h, sw_table *t, slot_fn f, void *arg)
{
	sw_groups *gs = GM_LOAD(&t->groups);
	for (uint64_t i = 0; i <= gs->lengthMask; i++)
		each_full_slot(h, sw_group(h, gs, i), f, arg);
}

static void move_to_table(gomap *h, void *arg, void *k, void *e)
{
	sw_table *nt = arg;
	unchecked_put_slot(h, nt, sw_slot_hash(h, h->kind, k, GM_LOAD(&h->seed)), k, e);
}

/* Go: growToTable. The full small group of `small` (the holder the caller
 * saw, not a reload: a racing writer may have published a directory since)
 * becomes a table of 16 slots. */
void gm_sw_grow_to_table(gomap *h, sw_dir *small)
{
	sw_table *t = new_table(h, 2 * SW_GROUP_SLOTS, 0, 0);
	each_full_slot(h, small->small->data, move_to_table, t);
	sw_dir *d = new_dir(h, 1, 0);
	d->tab[0] = t;
	/* The small group is retired, not freed (invariant 2). */
	__atomic_store_n(&h->dirPtr, d, __ATOMIC_RELEASE);
}

/* Go: replaceTable. Points every directory entry the table covers at it
 * (S5), after checking that they lie inside this directory (S1). */
static void replace_table(gomap *h, sw_dir *d, sw_table *nt)
{
	if (GM_UNLIKELY(nt->localDepth > d->depth))
		gm_fatal_damaged(GM_DAMAGE("table deeper than its directory"), h);
	uint64_t entries = (uint64_t)1 << (d->depth - nt->localDepth);
	uint64_t index = (uint64_t)GM_LOAD(&nt->index);
	if (GM_UNLIKELY(index >= d->len || entries > d->len - index))
		gm_fatal_damaged(GM_DAMAGE("table outside its directory"), h);
	for (uint64_t i = 0; i < entries; i++)
		GM_STORE(&d->tab[index + i], nt);
}

/* Go: table.grow. A new table of newCapacity slots takes every entry. */
static void table_grow(gomap *h, sw_table *t, uint16_t newCapacity)
{
	sw_table *nt = new_table(h, newCapacity, GM_LOAD(&t->index), t->localDepth);
	each_full_slot_of_table(h, t, move_to_table, nt);
	replace_table(h, __atomic_load_n(&h->dirPtr, __ATOMIC_ACQUIRE), nt);
	GM_STORE(&t->index, -1);
	__atomic_fetch_add(&h->tables_retired, 1, __ATOMIC_RELAXED);
}

/* Where a split sends each entry: the next hash bit picks the side. */
typedef struct split_dst {
	sw_table *left, *right;
	uint64_t mask;
} split_dst;

static void move_split(gomap *h, void *arg, void *k, void *e)
{
	split_dst *s = arg;
	uint64_t hash = sw_slot_hash(h, h->kind, k, GM_LOAD(&h->seed));
	unchecked_put_slot(h, (hash & s->mask) == 0 ? s->left : s->right, hash, k, e);
}

/* Go: installTableSplit. Doubles the directory first when the old table
 * owned a single entry; the new directory is filled before it is
 * published, so a reader sees either directory whole. */
static void install_table_split(gomap *h, sw_table *old, sw_table *left, sw_table *right)
{
	sw_dir *d = __atomic_load_n(&h->dirPtr, __ATOMIC_ACQUIRE);
	if (old->localDepth == d->depth) {
		if (GM_UNLIKELY(d->depth >= 63))
			gm_fatal_damaged(GM_DAMAGE("directory too deep"), h);
		sw_dir *nd = new_dir(h, d->len * 2, (uint8_t)(d->depth + 1));
		for (uint64_t i = 0; i < d->len; i++) {
			sw_table *t = GM_LOAD(&d->tab[i]);
			nd->tab[2 * i] = t;
			nd->tab[2 * i + 1] = t;
			if (GM_LOAD(&t->index) == (int64_t)i)
				GM_STORE(&t->index, (int64_t)(2 * i));
		}
		__atomic_store_n(&h->dirPtr, nd, __ATOMIC_RELEASE);
		d = nd;
	}
	GM_STORE(&left->index, GM_LOAD(&old->index));
	replace_table(h, d, left);
	uint64_t entries = (uint64_t)1 << (d->depth - left->localDepth);
	GM_STORE(&right->index, left->index + (int64_t)entries);
	replace_table(h, d, right);
}

/* Go: table.split. Two full-size tables, one hash bit deeper. */
static void table_split(gomap *h, sw_table *t)
{
	uint8_t localDepth = (uint8_t)(t->localDepth + 1);
	if (GM_UNLIKELY(localDepth > 63))
		gm_fatal_damaged(GM_DAMAGE("directory too deep"), h);
	split_dst s = {new_table(h, SW_MAX_TABLE_CAPACITY, -1, localDepth),
	               new_table(h, SW_MAX_TABLE_CAPACITY, -1, localDepth),
	               (uint64_t)1 << (64 - localDepth)};
	each_full_slot_of_table(h, t, move_split, &s);
	install_table_split(h, t, s.left, s.right);
	GM_STORE(&t->index, -1);
	__atomic_fetch_add(&h->tables_retired, 1, __ATOMIC_RELAXED);
}

/* Go: rehash. Double up to maxTableCapacity, split beyond. */
void gm_sw_rehash(gomap *h, sw_table *t)
{
	uint32_t newCapacity = 2u * GM_LOAD(&t->capacity);
	if (newCapacity <= SW_MAX_TABLE_CAPACITY)
		table_grow(h, t, (uint16_t)newCapacity);
	else
		table_split(h, t);
}

/* Go: table.tombstones. */
static uint16_t tombstones(const sw_table *t)
{
	return (uint16_t)(max_growth_left(t->capacity) - t->used - t->growthLeft);
}

/* Go: pruneTombstones. Turns tombstones back into empty slots where no
 * probe sequence needs them: a tombstone must stay if some key lives
 * beyond its group on its probe path. Done only when tombstones are 10% of
 * the capacity and at least 10% can go; else the caller grows. */
void gm_sw_prune_tombstones(gomap *h, sw_table *t)
{
	if ((unsigned)tombstones(t) * 10 < t->capacity)
		return;
	sw_groups *gs = t->groups;
	uint64_t ngroups = gs->lengthMask + 1;
	uint32_t needed[(SW_MAX_TABLE_CAPACITY / SW_GROUP_SLOTS + 31) / 32] = {0};
	uint64_t seed = GM_LOAD(&h->seed);
	for (uint64_t i = 0; i < ngroups; i++) {
		unsigned char *g = sw_group(h, gs, i);
		for (sw_bitset m = sw_match_full(sw_ctrl(g)); m != 0; m = sw_remove_first(m)) {
			void *k = sw_key(h, g, sw_first(m));
			if (gm_sw_key_is_nan(h, k))
				continue; /* never looked up: needs no probe path */
			uint64_t hash = sw_slot_hash(h, h->kind, k, seed);
			sw_probe s = sw_probe_start(hash, gs->lengthMask);
			for (; s.offset != i; sw_probe_next(&s)) {
				if (GM_UNLIKELY(s.index > gs->lengthMask))
					gm_sw_no_empty_slot(h); /* (S3) */
				/* Full groups on the way need nothing; one with a
				 * free slot before the key's group holds a
				 * tombstone the key's probe passes. */
				if (sw_match_empty_or_deleted(sw_ctrl(sw_group(h, gs, s.offset))) !=
				    0)
					needed[s.offset / 32] |= 1u << (s.offset % 32);
			}
		}
		if (sw_match_empty(sw_ctrl(g)) != 0)
			needed[i / 32] |= 1u << (i % 32); /* its tombstones end no probe */
	}
	unsigned cnt = 0;
	for (uint64_t i = 0; i < ngroups; i++)
		if (!(needed[i / 32] >> (i % 32) & 1))
			cnt += (unsigned)__builtin_popcountll(
			        sw_match_empty_or_deleted(sw_ctrl(sw_group(h, gs, i))));
	if (cnt * 10 < t->capacity)
		return;
	for (uint64_t i = 0; i < ngroups; i++) {
		if (needed[i / 32] >> (i % 32) & 1)
			continue;
		unsigned char *g = sw_group(h, gs, i);
		for (sw_bitset m = sw_match_empty_or_deleted(sw_ctrl(g)); m != 0;
		     m = sw_remove_first(m)) {
			sw_set_ctrl(g, sw_first(m), SW_CTRL_EMPTY);
			t->growthLeft++;
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Generic entry points                                                     */
/* ------------------------------------------------------------------------ */

void gomap_access1(gomap *m, const void *key, void *elem_out)
{
	const void *e = sw_access(m, m ? m->kind : 0, key);
	if (e != NULL) {
		if (elem_out != NULL)
			sw_elem_copy(m, elem_out, e);
	} else if (m != NULL && m->elemsize != 0) {
		memset(elem_out, 0, m->elemsize);
	}
}

bool gomap_access2(gomap *m, const void *key, void *elem_out)
{
	const void *e = sw_access(m, m ? m->kind : 0, key);
	if (e != NULL) {
		if (elem_out != NULL)
			sw_elem_copy(m, elem_out, e);
		return true;
	}
	if (m != NULL && elem_out != NULL && m->elemsize != 0)
		memset(elem_out, 0, m->elemsize);
	return false;
}

void gomap_assign(gomap *m, const void *key, const void *elem)
{
	static const gm_api api = {"gomap_assign", GOMAP_OP_ASSIGN};
	sw_assign(m, m ? m->kind : 0, key, elem, &api, GM_CALLER_PC());
}

void gomap_delete(gomap *m, const void *key)
{
	static const gm_api api = {"gomap_delete", GOMAP_OP_DELETE};
	sw_delete(m, m ? m->kind : 0, key, &api, GM_CALLER_PC());
}

/* Go: getWithKey for an iterator: the live entry of a key given in its
 * slot form. */
static bool lookup_slotkey(gomap *h, const void *slotkey, const void **k, const void **e)
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
	void *elem = sw_find(h, h->kind, key, &kslot);
	if (elem == NULL)
		return false;
	*k = kslot;
	*e = elem;
	return true;
}

/* ------------------------------------------------------------------------ */
/* clear (Go: Map.Clear, clearSmall, table.Clear)                           */
/* ------------------------------------------------------------------------ */

/* Go: table.Clear. Empties the table in place; it keeps its size. */
static void table_clear(gomap *h, sw_table *t)
{
	uint16_t mgl = max_growth_left(t->capacity);
	if (t->used == 0 && t->growthLeft == mgl)
		return; /* no entries, no tombstones */
	sw_groups *gs = t->groups;
	for (uint64_t i = 0; i <= gs->lengthMask; i++) {
		unsigned char *g = sw_group(h, gs, i);
		memset(g + 8, 0, SW_GROUP_SLOTS * h->slotsize);
		memset(g, SW_CTRL_EMPTY, 8);
	}
	GM_STORE(&t->used, 0);
	GM_STORE(&t->growthLeft, mgl);
}

void gomap_clear(gomap *m)
{
	if (m != NULL)
		GM_RACE_WRITE(m); /* Go: race.WritePC */
	if (m == NULL || (GM_LOAD(&m->used) == 0 && !GM_LOAD(&m->tombstonePossible)))
		return;
	static const gm_api api = {"gomap_clear", GOMAP_OP_CLEAR};
	const unsigned ins = gm_instr();
	gm_hook(ins, GOMAP_EV_WRITE_ENTRY, m, GOMAP_OP_CLEAR);
	SW_CHECK_NOT_WRITING(m, "concurrent map writes", GOMAP_OP_CLEAR);
	SW_TOGGLE_WRITING(ins, m, &api, GM_CALLER_PC());

	sw_dir *d = __atomic_load_n(&m->dirPtr, __ATOMIC_ACQUIRE);
	if (d != NULL && d->len == 0) {
		/* Go: clearSmall. */
		unsigned char *g = d->small->data;
		memset(g + 8, 0, SW_GROUP_SLOTS * m->slotsize);
		memset(g, SW_CTRL_EMPTY, 8);
		GM_STORE(&m->used, 0);
	} else if (d != NULL) {
		sw_table *last = NULL;
		for (uint64_t i = 0; i < d->len; i++) {
			sw_table *t = GM_LOAD(&d->tab[i]);
			if (t == last)
				continue;
			table_clear(m, t);
			last = t;
		}
		GM_STORE(&m->used, 0);
		GM_STORE(&m->tombstonePossible, false);
	}
	GM_STORE(&m->clearSeq, GM_LOAD(&m->clearSeq) + 1);
	GM_STORE(&m->seed, gm_fastrand()); /* Go issue 25237 */
	SW_EXIT_WRITING(ins, m, GOMAP_OP_CLEAR);
	gm_hook(ins, GOMAP_EV_OP_EXIT, m, GOMAP_OP_CLEAR);
}

/* ------------------------------------------------------------------------ */
/* Iteration (Go: Iter.Init, Iter.Next)                                     */
/* ------------------------------------------------------------------------ */

void gomap_iter_init(gomap *m, gomap_iter *it)
{
	memset(it, 0, sizeof *it);
	if (m == NULL)
		return;
	GM_RACE_READ(m); /* Go: race.ReadPC in mapiterinit */
	if (GM_LOAD(&m->used) == 0)
		return; /* it->sw.m stays NULL: no iterations */
	sw_dir *d = __atomic_load_n(&m->dirPtr, __ATOMIC_ACQUIRE);
	if (d == NULL)
		return;
	it->sw.m = m;
	it->sw.entryOffset = gm_fastrand();
	it->sw.dirOffset = gm_fastrand();
	it->sw.globalDepth = d->depth;
	it->sw.clearSeq = GM_LOAD(&m->clearSeq);
	if (d->len == 0) {
		it->sw.dirIdx = -1;
		it->sw.group = d->small->data;
	}
}

/* Hands one entry to the caller; false when a racing delete has just
 * cleared a string key's slot. */
static bool iter_emit(gomap_iter *it, const void *k, const void *e)
{
	gomap *m = it->sw.m;
	if (m->kind == GOMAP_KEY_STR) {
		const gm_strrec *r = __atomic_load_n((gm_strrec *const *)k, __ATOMIC_ACQUIRE);
		if (r == NULL)
			return false;
		it->sw.strkey.ptr = r->bytes;
		it->sw.strkey.len = r->len;
		k = &it->sw.strkey;
	}
	it->key = k;
	it->elem = e;
	return true;
}

/* Go: grownKeyElem. A key found in a stale table (or in the small group
 * of a map that has since become a table): its live entry, the old one for
 * a NaN key if no clear happened, or nothing if it was deleted. Go looks it
 * up with getWithKey, whose read check can fire here too. */
static bool grown_key_elem(gomap_iter *it, const void **k, const void **e)
{
	gomap *m = it->sw.m;
	if (GM_LOAD(&m->used) != 0) {
		SW_CHECK_NOT_WRITING(m, "concurrent map read and map write", GOMAP_OP_ITER);
		if (lookup_slotkey(m, *k, k, e))
			return true;
	}
	return GM_LOAD(&m->clearSeq) == it->sw.clearSeq && gm_sw_key_is_nan(m, *k);
}

static bool iter_end(gomap_iter *it)
{
	it->key = it->elem = NULL;
	it->sw.m = NULL;
	return false;
}

static bool iter_next_small(gomap_iter *it)
{
	gomap *m = it->sw.m;
	unsigned char *g = it->sw.group;
	for (; it->sw.entryIdx < SW_GROUP_SLOTS; it->sw.entryIdx++) {
		unsigned k = (unsigned)((it->sw.entryIdx + it->sw.entryOffset) % SW_GROUP_SLOTS);
		if (g[k] & SW_CTRL_EMPTY)
			continue;
		const void *key = sw_key(m, g, k), *elem = sw_elem(m, g, k);
		sw_dir *d = __atomic_load_n(&m->dirPtr, __ATOMIC_ACQUIRE);
		if (d != NULL && d->len > 0 && !grown_key_elem(it, &key, &elem))
			continue;
		if (!iter_emit(it, key, elem))
			continue;
		it->sw.entryIdx++;
		return true;
	}
	return iter_end(it);
}

/* On entering a group, asks for the records of its string keys at once:
 * iter_emit reads each one's length, and records lie in insertion order,
 * not in the order of the table, so each would otherwise be a cache miss
 * of its own. A slot word a racing writer changes meanwhile only wastes
 * the prefetch, which never faults. */
static void prefetch_records(gomap *m, unsigned char *g)
{
	for (sw_bitset f = sw_match_full(sw_ctrl(g)); f != 0; f = sw_remove_first(f))
		__builtin_prefetch(__atomic_load_n((void *const *)sw_key(m, g, sw_first(f)),
		                                   __ATOMIC_RELAXED));
}

bool gomap_iter_next(gomap_iter *it)
{
	gomap *m = it->sw.m;
	if (m == NULL) {
		it->key = it->elem = NULL;
		return false;
	}
	GM_RACE_READ(m); /* Go: race.ReadPC in mapiternext */
	const unsigned ins = gm_instr();
	gm_hook(ins, GOMAP_EV_ITER_STEP, m, GOMAP_OP_ITER);
	SW_CHECK_NOT_WRITING(m, "concurrent map iteration and map write", GOMAP_OP_ITER);
	bool more;
	if (it->sw.dirIdx < 0) {
		more = iter_next_small(it);
		gm_hook(ins, GOMAP_EV_OP_EXIT, m, GOMAP_OP_ITER);
		return more;
	}
	sw_dir *d = __atomic_load_n(&m->dirPtr, __ATOMIC_ACQUIRE);
	if (GM_UNLIKELY(d->len == 0 || d->depth < it->sw.globalDepth))
		gm_fatal_damaged(GM_DAMAGE("directory shrank during an iteration"), m);
	if (it->sw.globalDepth != d->depth) {
		/* The directory doubled: the same position is further on. */
		unsigned orders = d->depth - it->sw.globalDepth;
		it->sw.dirIdx = (int64_t)((uint64_t)it->sw.dirIdx << orders);
		it->sw.dirOffset <<= orders;
		it->sw.globalDepth = d->depth;
	}
	/* (S3): every step visits a slot or moves to another table. */
	uint64_t bound = 2 * (GM_LOAD(&m->total_slots) + GM_LOAD(&m->total_tables)) + 64;
	for (; (uint64_t)it->sw.dirIdx < d->len;) {
		sw_table *t = it->sw.tab;
		if (t == NULL) {
			uint64_t di = ((uint64_t)it->sw.dirIdx + it->sw.dirOffset) & (d->len - 1);
			t = GM_LOAD(&d->tab[di]);
			int64_t ti = GM_LOAD(&t->index);
			if (ti >= 0 && (uint64_t)ti != di) {
				/* Several entries share this table; start from its
				 * first, so it is walked once. */
				it->sw.dirOffset -= di - (uint64_t)ti;
			}
			it->sw.tab = t;
		}
		sw_groups *gs = GM_LOAD(&t->groups);
		uint64_t entryMask = (gs->lengthMask + 1) * SW_GROUP_SLOTS - 1;
		while (it->sw.entryIdx <= entryMask) {
			if (GM_UNLIKELY(++it->sw.steps > bound))
				gm_fatal_damaged(GM_DAMAGE("iteration does not end"), m);
			uint64_t e = (it->sw.entryIdx + it->sw.entryOffset) & entryMask;
			unsigned slot = (unsigned)(e & (SW_GROUP_SLOTS - 1));
			unsigned char *g = sw_group(m, gs, e / SW_GROUP_SLOTS);
			if (m->kind == GOMAP_KEY_STR && (slot == 0 || it->sw.entryIdx == 0)) {
				/* This group's on entering a table, then always the
				 * next one's, so the misses have a group's steps to
				 * arrive. */
				if (it->sw.entryIdx == 0)
					prefetch_records(m, g);
				prefetch_records(m, sw_group(m, gs, e / SW_GROUP_SLOTS + 1));
			}
			it->sw.entryIdx++;
			if (g[slot] & SW_CTRL_EMPTY)
				continue;
			const void *key = sw_key(m, g, slot), *elem = sw_elem(m, g, slot);
			if (GM_LOAD(&t->index) == -1 && !grown_key_elem(it, &key, &elem))
				continue;
			if (!iter_emit(it, key, elem))
				continue;
			gm_hook(ins, GOMAP_EV_OP_EXIT, m, GOMAP_OP_ITER);
			return true;
		}
		/* Go: nextDirIdx. Skip the other entries of the same table. */
		uint8_t ld = t->localDepth;
		uint64_t entries = ld <= d->depth ? (uint64_t)1 << (d->depth - ld) : 1;
		it->sw.dirIdx += (int64_t)entries;
		it->sw.tab = NULL;
		it->sw.entryIdx = 0;
		if (GM_UNLIKELY(++it->sw.steps > bound))
			gm_fatal_damaged(GM_DAMAGE("iteration does not end"), m);
	}
	more = iter_end(it);
	gm_hook(ins, GOMAP_EV_OP_EXIT, m, GOMAP_OP_ITER);
	return more;
}

/* ------------------------------------------------------------------------ */
/* clone (Go 1.26: maps.Clone -> Map.Clone)                                 */
/* ------------------------------------------------------------------------ */

/* Copies a group; string keys get records of the copy's own (invariant
 * 6), so the copy outlives the source. */
static void clone_group(gomap *c, unsigned char *dst, const unsigned char *src)
{
	memcpy(dst, src, c->groupsize);
	if (c->kind != GOMAP_KEY_STR)
		return;
	for (sw_bitset m = sw_match_full(sw_ctrl(dst)); m != 0; m = sw_remove_first(m)) {
		gm_strrec **slot = sw_key(c, dst, sw_first(m));
		const gm_strrec *r = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
		*slot = r ? gm_str_copy(c, r->bytes, r->len) : NULL;
	}
}

/* Go: table.clone. */
static sw_table *table_clone(gomap *c, sw_table *t)
{
	sw_groups *gs = GM_LOAD(&t->groups);
	sw_table *nt = new_table(c, (gs->lengthMask + 1) * SW_GROUP_SLOTS, GM_LOAD(&t->index),
	                         t->localDepth);
	nt->used = GM_LOAD(&t->used);
	nt->growthLeft = GM_LOAD(&t->growthLeft);
	for (uint64_t i = 0; i <= gs->lengthMask; i++)
		clone_group(c, sw_group(c, nt->groups, i), sw_group(c, gs, i));
	return nt;
}

gomap *gomap_clone(gomap *m)
{
	if (m == NULL)
		return NULL; /* maps.Clone keeps nil */
	GM_RACE_READ(m);
	/* Go 1.26 checks before anything else, even for an empty map. */
	const unsigned ins = gm_instr();
	gm_hook(ins, GOMAP_EV_CLONE_ENTRY, m, GOMAP_OP_CLONE);
	SW_CHECK_NOT_WRITING(m, "concurrent map clone and map write", GOMAP_OP_CLONE);
	/* The copy starts as the source's header, seed and clearSeq
	 * included, with groups and tables of its own. */
	gomap *c = gm_xcalloc(sizeof *c);
	c->t = m->t;
	c->kind = m->kind;
	c->keysize = m->keysize;
	c->elemsize = m->elemsize;
	c->elemoff = m->elemoff;
	c->slotsize = m->slotsize;
	c->groupsize = m->groupsize;
	c->used = GM_LOAD(&m->used);
	c->seed = GM_LOAD(&m->seed);
	c->tombstonePossible = GM_LOAD(&m->tombstonePossible);
	c->clearSeq = GM_LOAD(&m->clearSeq);
	sw_dir *d = __atomic_load_n(&m->dirPtr, __ATOMIC_ACQUIRE);
	if (d != NULL && d->len == 0) {
		sw_dir *nd = new_dir(c, 0, 0);
		nd->small = new_groups(c, 1);
		clone_group(c, nd->small->data, d->small->data);
		c->dirPtr = nd;
	} else if (d != NULL) {
		sw_dir *nd = new_dir(c, d->len, d->depth);
		for (uint64_t i = 0; i < d->len; i++) {
			sw_table *t = GM_LOAD(&d->tab[i]);
			if (i > 0 && t == GM_LOAD(&d->tab[i - 1]))
				nd->tab[i] = nd->tab[i - 1];
			else
				nd->tab[i] = table_clone(c, t);
		}
		c->dirPtr = nd;
	}
	gm_hook(ins, GOMAP_EV_OP_EXIT, m, GOMAP_OP_CLONE);
	return c;
}

/* ------------------------------------------------------------------------ */
/* Statistics and the invariant walker (Go: table_debug.go)                 */
/* ------------------------------------------------------------------------ */

void gomap_get_stats(gomap *m, gomap_stats *st)
{
	memset(st, 0, sizeof *st);
	if (m == NULL)
		return;
	st->count = (size_t)m->used;
	st->hash0 = m->seed;
	st->arrays_retired = (size_t)m->tables_retired;
	sw_dir *d = m->dirPtr;
	st->small = d == NULL || d->len == 0;
	st->allocated = d != NULL;
	if (d == NULL)
		return;
	if (d->len == 0) {
		st->capacity = SW_GROUP_SLOTS;
		return;
	}
	st->dir_len = (size_t)d->len;
	st->global_depth = d->depth;
	sw_table *last = NULL;
	for (uint64_t i = 0; i < d->len; i++) {
		sw_table *t = d->tab[i];
		if (t == last)
			continue;
		last = t;
		st->tables++;
		st->capacity += t->capacity;
		st->tombstones += tombstones(t);
	}
}

size_t gomap_get_tables(gomap *m, gomap_table_info *out, size_t max)
{
	if (m == NULL || m->dirPtr == NULL || m->dirPtr->len == 0)
		return 0;
	sw_dir *d = m->dirPtr;
	sw_table *last = NULL;
	size_t n = 0;
	for (uint64_t i = 0; i < d->len; i++) {
		sw_table *t = d->tab[i];
		if (t == last)
			continue;
		last = t;
		if (n < max)
			out[n] = (gomap_table_info){.capacity = t->capacity,
			                            .used = t->used,
			                            .growth_left = t->growthLeft,
			                            .tombstones = tombstones(t),
			                            .local_depth = t->localDepth,
			                            .index = (size_t)t->index};
		n++;
	}
	return n;
}

/* Go: checkInvariants, for one table: counts against the slots (S4), the
 * probe invariant (S3), its directory entries and every key in the right
 * table (S5), and found where it is. */
static const char *check_table(gomap *m, sw_dir *d, sw_table *t, uint64_t *live, bool *tomb)
{
	sw_groups *gs = t->groups;
	if (t->capacity != (gs->lengthMask + 1) * SW_GROUP_SLOTS ||
	    (t->capacity & (t->capacity - 1)) != 0 || t->capacity > SW_MAX_TABLE_CAPACITY ||
	    t->groupsMask != gs->lengthMask)
		return "table capacity does not match its groups";
	if (t->localDepth > d->depth)
		return "table deeper than the directory";
	uint64_t entries = (uint64_t)1 << (d->depth - t->localDepth);
	if (t->index < 0 || (uint64_t)t->index % entries != 0 ||
	    (uint64_t)t->index + entries > d->len)
		return "table index outside the directory";
	for (uint64_t j = 0; j < entries; j++)
		if (d->tab[t->index + (int64_t)j] != t)
			return "directory entries of a table do not all point at it";
	unsigned used = 0, deleted = 0, empty = 0;
	for (uint64_t gi = 0; gi <= gs->lengthMask; gi++) {
		unsigned char *g = sw_group(m, gs, gi);
		for (unsigned s = 0; s < SW_GROUP_SLOTS; s++) {
			uint8_t c = g[s];
			if (c == SW_CTRL_DELETED) {
				deleted++;
				continue;
			}
			if (c == SW_CTRL_EMPTY) {
				empty++;
				continue;
			}
			if (c & 0x80)
				return "control byte neither empty, deleted nor H2";
			used++;
			void *k = sw_key(m, g, s);
			if (gm_sw_key_is_nan(m, k))
				continue; /* its hash is new every time */
			uint64_t hash = sw_slot_hash(m, m->kind, k, m->seed);
			if (sw_h2(hash) != c)
				return "control byte does not match the key's H2";
			uint64_t di = sw_dir_index(d, hash);
			if (di < (uint64_t)t->index || di >= (uint64_t)t->index + entries)
				return "key in the wrong table";
			const void *fk, *fe;
			if (!lookup_slotkey(m, k, &fk, &fe))
				return "live key not found by lookup";
			if (fk != k)
				return "key stored twice";
		}
	}
	if (used != t->used)
		return "table used does not match its full slots";
	if ((unsigned)max_growth_left(t->capacity) - t->used - deleted != t->growthLeft)
		return "growthLeft does not match capacity, used and tombstones";
	if (empty == 0)
		return "table with no empty slot";
	*live += used;
	*tomb |= deleted != 0;
	return NULL;
}

const char *gomap_check_invariants(gomap *m)
{
	if (m == NULL)
		return NULL;
	if (m->writing != 0)
		return "write flag left set";
	sw_dir *d = m->dirPtr;
	if (d == NULL)
		return m->used == 0 ? NULL : "entries but no group";
	uint64_t live = 0;
	if (d->len == 0) {
		unsigned char *g = d->small->data;
		if (d->small->lengthMask != 0)
			return "small map with more than one group";
		for (unsigned s = 0; s < SW_GROUP_SLOTS; s++) {
			uint8_t c = g[s];
			if (c == SW_CTRL_DELETED)
				return "tombstone in a small map";
			if (c == SW_CTRL_EMPTY)
				continue;
			if (c & 0x80)
				return "control byte neither empty, deleted nor H2";
			live++;
			void *k = sw_key(m, g, s);
			if (gm_sw_key_is_nan(m, k))
				continue;
			if (sw_h2(sw_slot_hash(m, m->kind, k, m->seed)) != c)
				return "control byte does not match the key's H2";
			const void *fk, *fe;
			if (!lookup_slotkey(m, k, &fk, &fe))
				return "live key not found by lookup";
			if (fk != k)
				return "key stored twice";
		}
		return live == m->used ? NULL : "used does not match the live entries";
	}
	if (d->len != (uint64_t)1 << d->depth)
		return "directory length is not 2^globalDepth";
	bool tomb = false;
	sw_table *last = NULL;
	for (uint64_t i = 0; i < d->len; i++) {
		sw_table *t = d->tab[i];
		if (t == NULL)
			return "directory entry without a table";
		if (t == last)
			continue;
		if (t->index != (int64_t)i)
			return "table index is not its first directory entry";
		last = t;
		const char *err = check_table(m, d, t, &live, &tomb);
		if (err)
			return err;
	}
	if (tomb && !m->tombstonePossible)
		return "tombstone left but tombstonePossible clear";
	return live == m->used ? NULL : "used does not match the live entries";
}
