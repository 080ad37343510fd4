/*
 * swiss_internal.h -- the Swiss-table map's private structures (Go 1.26,
 * src/internal/runtime/maps): Map, directory, tables and groups.
 *
 * Picture of one map:
 *
 *   gomap (Map)            sw_dir (directory)          sw_table
 *   +-------------+        +--------------------+      +-----------------+
 *   | used, seed  |        | len = 2^depth      |  +-->| used, capacity  |
 *   | dirPtr -----+------->| depth              |  |   | growthLeft      |
 *   | writing     |        | tab[0] ------------+--+   | localDepth      |
 *   | clearSeq    |        | tab[1] ------------+--+   | index           |
 *   +-------------+        | tab[2] ------------+-+    | groups ---------+--> sw_groups
 *                          | tab[3] ------------+-+    +-----------------+
 *                          +--------------------+ +--> another table
 *
 *   sw_groups: | lengthMask | group 0 | group 1 | ... |   (capacity / 8 groups)
 *   group:     | ctrl word: 8 bytes | slot 0 | slot 1 | ... | slot 7 |
 *   slot:      | key | elem |
 *
 * A small map (at most 8 entries) has a directory of length 0 whose `small`
 * member is one group: no table, no probing, never a tombstone.
 *
 * The top `depth` bits of a hash pick a directory entry (extendible
 * hashing); a table whose localDepth is below the directory's depth is
 * shared by 2^(depth - localDepth) neighbouring entries, starting at its
 * `index`. Inside a table, H1 (hash >> 7) picks the first group of a
 * triangular probe sequence and H2 (hash & 0x7f) is the control byte of a
 * full slot. A control byte is 0x80 for an empty slot, 0xFE for a deleted
 * one (a tombstone), 0hhhhhhh (H2) for a full one.
 *
 * Go keeps dirLen, globalDepth and globalShift in the Map header. Here they
 * live in the directory object itself (len, depth), so a racing reader that
 * loads dirPtr always pairs a directory with its own length: an index is
 * never masked with a length another thread has just changed.
 *
 * Invariants (cited by number in swiss_map.c and swiss_impl.h); (2) and (6)
 * are those of internal.h, shared by both generations:
 *  (S1) An sw_groups never changes size and carries its own lengthMask; a
 *       table's `groups` pointer is set once, when the table is made; a
 *       directory never changes length. Every index is masked with the
 *       object's own size, never with a header field.
 *  (2)  Nothing the map allocates is freed before gomap_free: replaced
 *       tables, their groups, old directories and the small group are
 *       retired, not freed, so a racing reader or iterator that still holds
 *       one reads valid memory.
 *  (S3) Every probe sequence visits each group at most once and stops after
 *       lengthMask + 1 groups; a table always keeps an empty slot, so a
 *       sequence that finds none has met a table broken by racing writers
 *       and is reported as such. Every iteration is bounded by the slots and
 *       tables the map ever allocated.
 *  (S4) In a table: used is the number of full slots; growthLeft is
 *       capacity*7/8 (capacity-1 for 8 slots) minus used minus tombstones;
 *       at least one slot is empty. A small group holds no tombstone.
 *  (S5) A table in the directory covers the entries index .. index +
 *       2^(depth - localDepth) - 1, and every key in it hashes there. A
 *       table replaced by a grow or a split has index -1 (stale).
 *  (6)  A string key slot holds one pointer to an immutable record.
 */
#ifndef GOMAP_SWISS_INTERNAL_H
#define GOMAP_SWISS_INTERNAL_H

#include "common.h"

/* Go: abi.MapGroupSlots, ctrlEmpty, ctrlDeleted, maxTableCapacity,
 * maxAvgGroupLoad. */
#define SW_GROUP_SLOTS        8
#define SW_CTRL_EMPTY         0x80
#define SW_CTRL_DELETED       0xFE
#define SW_MAX_TABLE_CAPACITY 1024
#define SW_MAX_AVG_GROUP_LOAD 7

/* An array of groups (Go: groupsReference); (S1). */
typedef struct sw_groups {
	gm_alloc link;
	uint64_t lengthMask; /* number of groups - 1; a power of two minus one */
	_Alignas(16) unsigned char data[];
} sw_groups;

/* One table (Go: table). At most SW_MAX_TABLE_CAPACITY slots. */
typedef struct sw_table {
	gm_alloc link;
	uint16_t used;       /* full slots (S4) */
	uint16_t capacity;   /* slots: (groups->lengthMask + 1) * 8 */
	uint16_t growthLeft; /* inserts into empty slots left before a rehash (S4) */
	uint8_t localDepth;  /* hash bits this table's entries agree on (S5) */
	uint8_t groupsMask;  /* groups->lengthMask, set with groups (S1) */
	int64_t index;       /* first directory entry, or -1 once replaced (S5) */
	sw_groups *groups;   /* set once (S1) */
} sw_table;

/* The directory (Go: Map.dirPtr, dirLen, globalDepth); for a small map the
 * holder of its one group. */
typedef struct sw_dir {
	gm_alloc link;
	uint64_t len;     /* 2^depth entries, or 0 for a small map */
	uint8_t depth;    /* Go: globalDepth */
	sw_groups *small; /* the group of a small map (len == 0) */
	sw_table *tab[];  /* len entries */
} sw_dir;

/* The map header (Go: Map). */
struct gomap {
	gm_maphdr hdr; /* shared with the bucket map: first, see common.h */

	uint64_t used;          /* live entries (len); plain on purpose, see gomap_len */
	uint64_t seed;          /* hash seed, re-drawn when the map empties and at clear */
	sw_dir *dirPtr;         /* NULL until the first write, then small holder or directory */
	uint8_t writing;        /* the write flag, toggled with XOR (see below) */
	bool tombstonePossible; /* a delete may have left a tombstone since the last clear */
	uint64_t clearSeq;      /* clears so far (iterators compare it) */

	const gomap_type *t;
	uint8_t kind;     /* copy of t->kind */
	size_t keysize;   /* bytes of a key in its slot (8 for I64 and STR) */
	size_t elemsize;  /* bytes of an elem */
	size_t elemoff;   /* offset of the elem in a slot */
	size_t slotsize;  /* bytes per slot */
	size_t groupsize; /* 8 + 8 * slotsize; 16 when slots have size 0 */

	uint64_t total_slots;    /* slots ever allocated (S3) */
	uint64_t total_tables;   /* tables ever allocated (S3) */
	uint64_t tables_retired; /* tables replaced by a grow or a split */
};

/* ---- control words (Go: ctrlGroup, bitset; the portable SWAR forms) ---- */

#define SW_LSB 0x0101010101010101ull
#define SW_MSB 0x8080808080808080ull

/* A set of slots: the top bit of byte i stands for slot i. */
typedef uint64_t sw_bitset;

GM_INLINE unsigned sw_first(sw_bitset b)
{
	return (unsigned)__builtin_ctzll(b) >> 3;
}
GM_INLINE sw_bitset sw_remove_first(sw_bitset b)
{
	return b & (b - 1);
}
/* Go: ctrlGroup.matchH2. May report a slot whose byte differs (only next
 * to a true match), so keys are compared after. */
GM_INLINE sw_bitset sw_match_h2(uint64_t ctrl, uint64_t h2)
{
	uint64_t v = ctrl ^ (SW_LSB * h2);
	return ((v - SW_LSB) & ~v) & SW_MSB;
}
/* Go: matchEmpty. Empty is 0x80 and deleted 0xFE: both have the top bit,
 * only deleted has bit 1, which the shift moves onto the top bit. */
GM_INLINE sw_bitset sw_match_empty(uint64_t ctrl)
{
	return (ctrl & ~(ctrl << 6)) & SW_MSB;
}
GM_INLINE sw_bitset sw_match_empty_or_deleted(uint64_t ctrl)
{
	return ctrl & SW_MSB;
}
GM_INLINE sw_bitset sw_match_full(uint64_t ctrl)
{
	return ~ctrl & SW_MSB;
}

/* Go: h1, h2. */
GM_INLINE uint64_t sw_h1(uint64_t hash)
{
	return hash >> 7;
}
GM_INLINE uint8_t sw_h2(uint64_t hash)
{
	return (uint8_t)(hash & 0x7f);
}

/* ---- groups and slots ---- */

GM_INLINE unsigned char *sw_group(const gomap *h, const sw_groups *gs, uint64_t i)
{
	return (unsigned char *)gs->data + (i & gs->lengthMask) * h->groupsize; /* (S1) */
}
/* The same with the groups' lengthMask as their table holds it
 * (sw_table_mask), so a probe reaches a group without first reading the
 * groups' header. */
GM_INLINE unsigned char *sw_group_in(const gomap *h, const sw_groups *gs, uint64_t mask, uint64_t i)
{
	return (unsigned char *)gs->data + (i & mask) * h->groupsize; /* (S1) */
}
/* The lengthMask of a table's groups, from the table itself: Go keeps it
 * beside the data pointer (groupsReference). groupsMask and groups are both
 * set once, when the table is made (S1), so this is always the groups' own
 * size; reading it here saves a dependent load of the groups' header on
 * every probe. */
GM_INLINE uint64_t sw_table_mask(const sw_table *t)
{
	return GM_LOAD(&t->groupsMask);
}
/* The control word is read once per look at a group: racing writers may
 * change bytes of it, a reader works on the copy it loaded. */
GM_INLINE uint64_t sw_ctrl(const unsigned char *g)
{
	return *(const uint64_t *)(const void *)g;
}
GM_INLINE void sw_set_ctrl(unsigned char *g, unsigned i, uint8_t c)
{
	g[i] = c;
}
GM_INLINE void *sw_key(const gomap *h, unsigned char *g, unsigned i)
{
	return g + 8 + (size_t)i * h->slotsize;
}
GM_INLINE void *sw_elem(const gomap *h, unsigned char *g, unsigned i)
{
	return g + 8 + (size_t)i * h->slotsize + h->elemoff;
}

/* Go: alignUpPow2. n rounded up to a power of two (0 stays 0); sets
 * *overflow, and gives 0, when that power does not fit in 64 bits. */
GM_INLINE uint64_t sw_align_up_pow2(uint64_t n, bool *overflow)
{
	*overflow = false;
	if (n <= 1)
		return n;
	unsigned bits = 64 - (unsigned)__builtin_clzll(n - 1); /* Go: sys.Len64(n-1) */
	if (bits == 64) {
		*overflow = true;
		return 0;
	}
	return (uint64_t)1 << bits;
}

/* Go: directoryIndex, with the directory's own depth (S1). */
GM_INLINE uint64_t sw_dir_index(const sw_dir *d, uint64_t hash)
{
	return d->depth == 0 ? 0 : (hash >> (64 - d->depth)) & (d->len - 1);
}

/* Go: probeSeq. Triangular steps visit every group once in lengthMask + 1
 * steps, because the number of groups is a power of two. */
typedef struct sw_probe {
	uint64_t mask;
	uint64_t offset;
	uint64_t index;
} sw_probe;

GM_INLINE sw_probe sw_probe_start(uint64_t hash, uint64_t mask)
{
	return (sw_probe){mask, sw_h1(hash) & mask, 0};
}
GM_INLINE void sw_probe_next(sw_probe *s)
{
	s->index++;
	s->offset = (s->offset + s->index) & s->mask;
}

/* ---- shared internals (swiss_map.c) ---- */

void gm_sw_grow_to_small(gomap *h);
void gm_sw_grow_to_table(gomap *h, sw_dir *small);
void gm_sw_rehash(gomap *h, sw_table *t);
void gm_sw_prune_tombstones(gomap *h, sw_table *t);
_Noreturn void gm_sw_no_empty_slot(gomap *h);
bool gm_sw_key_is_nan(const gomap *h, const void *slot);

/* ---- the detector (Go: the m.writing checks in map.go and runtime*.go) ---- */

/*
 * Why XOR. Go 1.26 toggles `writing` with `m.writing ^= 1` on entry and
 * again on exit, a plain load and store, not an atomic read-modify-write:
 * an atomic would cost every write a locked instruction for a check that is
 * best-effort anyway. Two writers that both passed the entry check toggle
 * it twice, back to 0: the first of them to finish finds it clear at exit
 * and reports "concurrent map writes", and while they cancel out a reader
 * sees 0 and misses them. The core keeps exactly that behaviour.
 */
#if GOMAP_DETECTOR
#define SW_CHECK_NOT_WRITING(h, msg, op)                                                           \
	do {                                                                                       \
		if (GM_UNLIKELY(GM_LOAD(&(h)->writing) != 0))                                      \
			gm_fatal_misuse(msg, h, op);                                               \
	} while (0)
#define SW_TOGGLE_WRITING(ins, h, api, pc)                                                         \
	do {                                                                                       \
		gm_record_writer(h, api, pc);                                                      \
		GM_STORE(&(h)->writing, (uint8_t)(GM_LOAD(&(h)->writing) ^ 1));                    \
		gm_hook(ins, GOMAP_EV_WRITE_SET, h, (api)->op);                                    \
	} while (0)
#define SW_EXIT_WRITING(ins, h, op)                                                                \
	do {                                                                                       \
		gm_hook(ins, GOMAP_EV_WRITE_CLEAR, h, op);                                         \
		uint8_t w_ = GM_LOAD(&(h)->writing);                                               \
		if (GM_UNLIKELY(w_ == 0))                                                          \
			gm_fatal_flag_lost(h, op);                                                 \
		GM_STORE(&(h)->writing, (uint8_t)(w_ ^ 1));                                        \
		gm_hook(ins, GM_EV_CLEARED, h, op);                                                \
	} while (0)
#else
#define SW_CHECK_NOT_WRITING(h, msg, op)   ((void)0)
#define SW_TOGGLE_WRITING(ins, h, api, pc) gm_hook(ins, GOMAP_EV_WRITE_SET, h, (api)->op)
#define SW_EXIT_WRITING(ins, h, op)        gm_hook(ins, GOMAP_EV_WRITE_CLEAR, h, op)
#endif

#endif /* GOMAP_SWISS_INTERNAL_H */
