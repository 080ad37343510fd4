/*
 * hash.c -- the seeded hash functions of the core's own key kinds.
 *
 * The construction is the multiply-and-fold family that Go's runtime uses
 * where it has no AES instructions (memhashFallback, after wyhash): each
 * step multiplies two 64-bit words to 128 bits and xors the halves, which
 * mixes every input bit into every output bit. Every input word is combined
 * with the per-map seed before it is multiplied, so without the seed an
 * attacker cannot choose keys that collide (hash flooding; Go issue 25237 is
 * about keeping that seed fresh). A per-process key drawn at load time is
 * mixed in as well (Go: hashkey), so even a hash with a fixed seed, such as
 * gomap_memhash(p, n, 0), differs from one process to the next.
 */
#define _GNU_SOURCE
#include "common.h"

#include <sys/random.h>

uint64_t gm_hashkey;

/* Go: alginit draws hashkey once per process. seed 0 draws from the kernel;
 * any other seed derives the key (gomap_seed_random). */
void gm_hashkey_init(uint64_t seed)
{
	uint64_t k = 0;
	if (seed != 0)
		k = gm_mix(seed ^ GM_P1, GM_P2);
	else if (getrandom(&k, sizeof k, 0) != sizeof k)
		k = (uint64_t)(uintptr_t)&k ^ GM_P3;
	GM_STORE(&gm_hashkey, k);
}

__attribute__((constructor)) static void hashkey_at_load(void)
{
	gm_hashkey_init(0);
}

static inline uint64_t read8(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static inline uint64_t read4(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* Go: memhash64 (the core inlines gm_hash64 from internal.h). */
uint64_t gomap_hash64(uint64_t key, uint64_t seed)
{
	return gm_hash64(key, seed);
}

/* Go: memhash. Bytes are read in 16-byte steps; the tail and short inputs
 * are read as overlapping words, so no byte-by-byte loop is needed. */
uint64_t gomap_memhash(const void *data, size_t n, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t a, b;
	seed ^= GM_P0 ^ GM_LOAD(&gm_hashkey);
	if (n <= 16) {
		if (n >= 4) {
			size_t mid = (n >> 3) << 2;
			a = (read4(p) << 32) | read4(p + mid);
			b = (read4(p + n - 4) << 32) | read4(p + n - 4 - mid);
		} else if (n > 0) {
			a = ((uint64_t)p[0] << 16) | ((uint64_t)p[n >> 1] << 8) | p[n - 1];
			b = 0;
		} else {
			a = b = 0;
		}
	} else {
		size_t left = n;
		if (left > 48) {
			uint64_t s1 = seed, s2 = seed;
			do {
				seed = gm_mix(read8(p) ^ GM_P1, read8(p + 8) ^ seed);
				s1 = gm_mix(read8(p + 16) ^ GM_P2, read8(p + 24) ^ s1);
				s2 = gm_mix(read8(p + 32) ^ GM_P3, read8(p + 40) ^ s2);
				p += 48;
				left -= 48;
			} while (left > 48);
			seed ^= s1 ^ s2;
		}
		while (left > 16) {
			seed = gm_mix(read8(p) ^ GM_P1, read8(p + 8) ^ seed);
			p += 16;
			left -= 16;
		}
		a = read8(p + left - 16);
		b = read8(p + left - 8);
	}
	return gm_mix(GM_P1 ^ n, gm_mix(a ^ GM_P1, b ^ seed));
}
