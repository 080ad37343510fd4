/*
 * maps.c -- concurrency-safe maps built on gomap: the remedies the cases'
 * fixed variants reach for when a single mutex is not the right tool.
 *
 *   hz_shardmap  many writers of different keys: one mutex per shard
 *   hz_syncmap   keys written once, read many times (Go: sync.Map)
 *   hz_cowmap    rare writes, frequent reads or scans: copy on write
 *
 * None of them changes the map core: they only make sure that no gomap is
 * ever written while another thread touches it, which is the whole rule.
 *
 * And one operation on a plain gomap that the core cannot show the
 * schedules by itself: hz_len.
 */
#include <stdlib.h>

#include "internal.h"

/* ------------------------------------------------------------------------ */
/* len(m)                                                                   */
/* ------------------------------------------------------------------------ */

/* The core has no instrumentation point for len (Go's len reads the count
 * without checking the write flag): in forced mode it counts as a manual
 * arrival, in explore mode it gets a pair of scheduling points. */
size_t hz_len(gomap *m)
{
	if (HZ_EXPLORING())
		return hz_x_len_(m);
	hz_force_arrive(m);
	return gomap_len(m);
}

static void grow_ptrs(void ***v, size_t *n, size_t *cap, void *p)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		*v = realloc(*v, *cap * sizeof(**v));
		if (!*v)
			hz_die("out of memory");
	}
	(*v)[(*n)++] = p;
}

/* ------------------------------------------------------------------------ */
/* Sharded-lock map                                                         */
/* ------------------------------------------------------------------------ */

static struct hz_shard *shard_of(hz_shardmap *s, int64_t k)
{
	/* A fixed seed is enough here: the shard only spreads contention. */
	return &s->shard[gomap_hash64((uint64_t)k, 0x5eedULL) % HZ_SHARDS];
}

void hz_shardmap_init(hz_shardmap *s)
{
	for (int i = 0; i < HZ_SHARDS; i++) {
		hz_mutex_init(&s->shard[i].mu);
		s->shard[i].m = gomap_make(&gomap_type_i64_i64, 0);
	}
}

void hz_shardmap_set(hz_shardmap *s, int64_t k, int64_t v)
{
	struct hz_shard *sh = shard_of(s, k);
	hz_mutex_lock(&sh->mu);
	gomap_i64_set(sh->m, k, v);
	hz_mutex_unlock(&sh->mu);
}

bool hz_shardmap_get(hz_shardmap *s, int64_t k, int64_t *v)
{
	struct hz_shard *sh = shard_of(s, k);
	hz_mutex_lock(&sh->mu);
	bool ok = gomap_i64_lookup(sh->m, k, v);
	hz_mutex_unlock(&sh->mu);
	return ok;
}

size_t hz_shardmap_len(hz_shardmap *s)
{
	size_t n = 0;
	for (int i = 0; i < HZ_SHARDS; i++) {
		hz_mutex_lock(&s->shard[i].mu);
		n += gomap_len(s->shard[i].m);
		hz_mutex_unlock(&s->shard[i].mu);
	}
	return n;
}

void hz_shardmap_destroy(hz_shardmap *s)
{
	for (int i = 0; i < HZ_SHARDS; i++) {
		gomap_free(s->shard[i].m);
		hz_mutex_destroy(&s->shard[i].mu);
	}
}

/* ------------------------------------------------------------------------ */
/* Read-mostly map (Go: sync.Map)                                           */
/* ------------------------------------------------------------------------ */

/* Invariants:
 *  (1) a map reachable from `read` is never written again: readers use it
 *      with no lock;
 *  (2) when `amended` is false, `dirty` is NULL and read holds every key;
 *      when true, `dirty` holds every key of read plus the new ones;
 *  (3) both maps map a key to the address of one shared entry, so a store
 *      to an existing key is one atomic store, visible through either. */
struct sm_entry {
	_Atomic(void *) p;
};

struct sm_read {
	gomap *m; /* map[int64]int64: key -> (intptr_t)struct sm_entry * */
	bool amended;
};

struct hz_syncmap {
	_Atomic(struct sm_read *) read;
	hz_mutex mu;   /* guards everything below */
	gomap *dirty;  /* see (2) */
	size_t misses; /* loads that had to take the lock since the last promotion */
	/* Everything ever allocated, freed by destroy (readers may still be
	 * looking at a retired snapshot, so nothing is freed earlier). */
	void **reads, **maps, **entries;
	size_t nreads, capreads, nmaps, capmaps, nentries, capentries;
};

static struct sm_read *sm_new_read(hz_syncmap *s, gomap *m, bool amended)
{
	struct sm_read *r = malloc(sizeof(*r));
	if (!r)
		hz_die("out of memory");
	r->m = m;
	r->amended = amended;
	grow_ptrs(&s->reads, &s->nreads, &s->capreads, r);
	return r;
}

static gomap *sm_new_map(hz_syncmap *s, gomap *m)
{
	grow_ptrs(&s->maps, &s->nmaps, &s->capmaps, m);
	return m;
}

static struct sm_entry *sm_find(gomap *m, int64_t k)
{
	int64_t e;
	if (m && gomap_i64_lookup(m, k, &e))
		return (struct sm_entry *)(intptr_t)e;
	return NULL;
}

hz_syncmap *hz_syncmap_new(void)
{
	hz_syncmap *s = calloc(1, sizeof(*s));
	if (!s)
		hz_die("out of memory");
	hz_mutex_init(&s->mu);
	gomap *m = sm_new_map(s, gomap_make(&gomap_type_i64_i64, 0));
	atomic_store(&s->read, sm_new_read(s, m, false));
	return s;
}

/* Go: sync.Map.missLocked. Enough misses: the dirty map becomes the new
 * read-only snapshot, and is never written again (1). */
static void sm_miss_locked(hz_syncmap *s)
{
	s->misses++;
	if (s->misses < gomap_len(s->dirty))
		return;
	atomic_store(&s->read, sm_new_read(s, s->dirty, false));
	s->dirty = NULL;
	s->misses = 0;
}

void *hz_syncmap_load(hz_syncmap *s, int64_t k)
{
	struct sm_read *r = atomic_load(&s->read);
	struct sm_entry *e = sm_find(r->m, k);
	if (!e && r->amended) {
		hz_mutex_lock(&s->mu);
		r = atomic_load(&s->read);
		e = sm_find(r->m, k);
		if (!e && r->amended) {
			e = sm_find(s->dirty, k);
			sm_miss_locked(s);
		}
		hz_mutex_unlock(&s->mu);
	}
	return e ? atomic_load(&e->p) : NULL;
}

/* With s->mu held: the entry for k, created (with value v) when absent.
 * *created tells which. */
static struct sm_entry *sm_entry_locked(hz_syncmap *s, int64_t k, void *v, bool *created)
{
	struct sm_read *r = atomic_load(&s->read);
	struct sm_entry *e = sm_find(r->m, k);
	if (!e)
		e = sm_find(s->dirty, k);
	*created = !e;
	if (e)
		return e;
	if (!r->amended) {
		/* The first new key since the last promotion: start a dirty map
		 * from the snapshot. Cloning only reads the snapshot (1). */
		s->dirty = sm_new_map(s, gomap_clone(r->m));
		atomic_store(&s->read, sm_new_read(s, r->m, true));
	}
	e = malloc(sizeof(*e));
	if (!e)
		hz_die("out of memory");
	atomic_init(&e->p, v);
	grow_ptrs(&s->entries, &s->nentries, &s->capentries, e);
	gomap_i64_set(s->dirty, k, (int64_t)(intptr_t)e);
	return e;
}

void hz_syncmap_store(hz_syncmap *s, int64_t k, void *v)
{
	struct sm_entry *e = sm_find(atomic_load(&s->read)->m, k);
	if (e) {
		atomic_store(&e->p, v);
		return;
	}
	bool created;
	hz_mutex_lock(&s->mu);
	e = sm_entry_locked(s, k, v, &created);
	if (!created)
		atomic_store(&e->p, v);
	hz_mutex_unlock(&s->mu);
}

void hz_syncmap_destroy(hz_syncmap *s)
{
	for (size_t i = 0; i < s->nmaps; i++)
		gomap_free(s->maps[i]);
	for (size_t i = 0; i < s->nreads; i++)
		free(s->reads[i]);
	for (size_t i = 0; i < s->nentries; i++)
		free(s->entries[i]);
	free(s->maps);
	free(s->reads);
	free(s->entries);
	hz_mutex_destroy(&s->mu);
	free(s);
}

/* ------------------------------------------------------------------------ */
/* Copy-on-write map                                                        */
/* ------------------------------------------------------------------------ */

void hz_cowmap_init(hz_cowmap *c, gomap *initial)
{
	atomic_init(&c->cur, initial ? initial : gomap_make(&gomap_type_i64_i64, 0));
	hz_mutex_init(&c->wmu);
	c->retired = NULL;
	c->nretired = c->capretired = 0;
}

gomap *hz_cowmap_load(hz_cowmap *c)
{
	return atomic_load(&c->cur);
}

void hz_cowmap_update(hz_cowmap *c, void (*fn)(gomap *m, void *arg), void *arg)
{
	hz_mutex_lock(&c->wmu);
	gomap *old = atomic_load(&c->cur);
	/* Cloning reads the published version, which nobody writes. The
	 * clone is private to this thread until the store below. */
	gomap *next = gomap_clone(old);
	fn(next, arg);
	atomic_store(&c->cur, next);
	grow_ptrs(&c->retired, &c->nretired, &c->capretired, old);
	hz_mutex_unlock(&c->wmu);
}

void hz_cowmap_destroy(hz_cowmap *c)
{
	gomap_free(atomic_load(&c->cur));
	for (size_t i = 0; i < c->nretired; i++)
		gomap_free(c->retired[i]);
	free(c->retired);
	hz_mutex_destroy(&c->wmu);
}
