/*
 * swiss_export.h -- the Swiss-table map's internals that the ports of Go's
 * internal/runtime/maps tests look at (Go: export_test.go, which exports
 * them to the tests of that package).
 *
 * For tests only, and only in the Swiss build: it reads the private
 * structures of core/swiss_internal.h directly, as Go's export_test.go
 * reads the package's own fields. Nothing here changes a map.
 */
#ifndef GO_SWISS_EXPORT_H
#define GO_SWISS_EXPORT_H

#include "swiss_internal.h"

/* Go: Map.TableCount. Directory entries (not distinct tables); 0 for a
 * small or unallocated map. */
static inline size_t TableCount(gomap *m)
{
	return m->dirPtr == NULL ? 0 : (size_t)m->dirPtr->len;
}

/* Go: Map.GroupCount. Groups of all distinct tables; 1 for a small map
 * with its group, 0 before the first write. */
static inline uint64_t GroupCount(gomap *m)
{
	sw_dir *d = m->dirPtr;
	if (d == NULL)
		return 0;
	if (d->len == 0)
		return 1;
	uint64_t n = 0;
	sw_table *last = NULL;
	for (uint64_t i = 0; i < d->len; i++) {
		if (d->tab[i] == last)
			continue;
		last = d->tab[i];
		n += last->groups->lengthMask + 1;
	}
	return n;
}

/* Go: Map.KeyFromFullGroup. The slot of a full (not deleted) key in a
 * group with no empty slot, or NULL: none, or a small map. */
static inline const void *KeyFromFullGroup(gomap *m)
{
	sw_dir *d = m->dirPtr;
	if (d == NULL || d->len == 0)
		return NULL;
	sw_table *last = NULL;
	for (uint64_t i = 0; i < d->len; i++) {
		if (d->tab[i] == last)
			continue;
		last = d->tab[i];
		for (uint64_t g = 0; g <= last->groups->lengthMask; g++) {
			unsigned char *grp = sw_group(m, last->groups, g);
			if (sw_match_empty(sw_ctrl(grp)) != 0)
				continue;
			for (unsigned j = 0; j < SW_GROUP_SLOTS; j++)
				if (grp[j] != SW_CTRL_DELETED)
					return sw_key(m, grp, j);
		}
	}
	return NULL;
}

/* Go: Map.TableFor. The table `key` belongs to, or NULL for a small map.
 * Generic key types only (the tests' own). */
static inline sw_table *TableFor(gomap *m, const void *key)
{
	sw_dir *d = m->dirPtr;
	if (d == NULL || d->len == 0)
		return NULL;
	return d->tab[sw_dir_index(d, m->t->hash(key, m->seed))];
}

/* Go: table.GrowthLeft, GroupsStart, GroupsLength. */
static inline uint64_t GrowthLeft(const sw_table *t)
{
	return t->growthLeft;
}
static inline const void *GroupsStart(const sw_table *t)
{
	return t->groups->data;
}
static inline uint64_t GroupsLength(const sw_table *t)
{
	return t->groups->lengthMask + 1;
}

/* Go: typ.GroupSize, the bytes of one group of this map's type. */
static inline size_t GroupSize(const gomap *m)
{
	return m->groupsize;
}

/* Tables allocated in the map's life (make, grows, splits): what Go's
 * TestTombstoneGrow counts as allocations, two per table. */
static inline uint64_t TablesAllocated(const gomap *m)
{
	return m->total_tables;
}

#endif /* GO_SWISS_EXPORT_H */
