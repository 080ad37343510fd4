/*
 * test_hash.c -- the seeded hashes (Go: memhash, memhash64).
 *
 * The map relies on three properties: the same bytes and seed always give
 * the same hash wherever the bytes lie in memory; a different seed gives an
 * unrelated hash (so re-seeding scatters the keys anew); and nearby inputs
 * spread over the whole 64 bits, since the low bits pick the bucket and the
 * top byte is the tophash.
 */
#include "test_util.h"

Test(hash, same_input_and_seed_give_the_same_hash)
{
	for (uint64_t k = 0; k < 1000; k++)
		cr_assert(eq(u64, gomap_hash64(k, 42), gomap_hash64(k, 42)));
	const char text[] = "the same bytes";
	cr_assert(eq(u64, gomap_memhash(text, sizeof text - 1, 7),
	             gomap_memhash(text, sizeof text - 1, 7)));
}

Test(hash, memhash_ignores_where_the_bytes_lie)
{
	unsigned char buf[128 + 16];
	for (size_t len = 0; len <= 128; len++) {
		unsigned char ref[128];
		for (size_t i = 0; i < len; i++)
			ref[i] = (unsigned char)(i * 37 + len);
		uint64_t want = gomap_memhash(ref, len, 99);
		for (size_t off = 1; off < 16; off++) {
			memset(buf, 0xee, sizeof buf);
			memcpy(buf + off, ref, len);
			cr_assert(eq(u64, gomap_memhash(buf + off, len, 99), want),
			          "length %zu at offset %zu", len, off);
		}
	}
}

Test(hash, memhash_reads_only_its_length)
{
	/* Bytes past the end must not matter. */
	unsigned char a[64], b[64];
	memset(a, 1, sizeof a);
	memset(b, 2, sizeof b);
	for (size_t len = 0; len < 32; len++) {
		memset(a, 9, len);
		memset(b, 9, len);
		cr_assert(eq(u64, gomap_memhash(a, len, 5), gomap_memhash(b, len, 5)), "length %zu",
		          len);
	}
}

Test(hash, length_is_part_of_the_input)
{
	const char zeros[16] = {0};
	for (size_t len = 0; len < 15; len++)
		cr_assert(gomap_memhash(zeros, len, 3) != gomap_memhash(zeros, len + 1, 3),
		          "lengths %zu and %zu of zero bytes collide", len, len + 1);
}

Test(hash, different_seeds_give_unrelated_hashes)
{
	int same = 0;
	for (uint64_t k = 0; k < 10000; k++)
		same += gomap_hash64(k, 1) == gomap_hash64(k, 2);
	cr_assert(eq(int, same, 0), "%d keys hashed alike under two seeds", same);
	same = 0;
	char buf[16];
	for (int k = 0; k < 10000; k++) {
		size_t n = (size_t)snprintf(buf, sizeof buf, "%d", k);
		same += gomap_memhash(buf, n, 1) == gomap_memhash(buf, n, 2);
	}
	cr_assert(eq(int, same, 0), "%d strings hashed alike under two seeds", same);
}

Test(hash, consecutive_keys_spread_over_buckets_and_tophash)
{
	/* 4096 consecutive keys into 256 buckets by the low byte, and by the
	 * top byte: no bucket may be empty or hold more than 4x the mean. */
	unsigned low[256] = {0}, top[256] = {0};
	for (uint64_t k = 0; k < 4096; k++) {
		uint64_t h = gomap_hash64(k, 0x1234);
		low[h & 0xff]++;
		top[h >> 56]++;
	}
	for (int i = 0; i < 256; i++) {
		cr_assert(low[i] > 0 && low[i] <= 64, "low byte %d holds %u of 4096", i, low[i]);
		cr_assert(top[i] > 0 && top[i] <= 64, "top byte %d holds %u of 4096", i, top[i]);
	}
}
