/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_crc: CRC-32, CRC-32C and CRC-64/NVME against the catalogue check
 * values ("123456789"), the values in the S3 "Checking object integrity"
 * guide, and a bit-at-a-time reference on random data; incremental use
 * with random splits and unaligned starts; and a throughput figure for
 * each algorithm, printed as a TAP diagnostic (never asserted).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crc.h"

#define CHECK	"123456789"

/* xorshift64*: a deterministic generator, so a failure reproduces. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static void
fill(unsigned char *p, size_t n, uint64_t *s)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(rnd(s) >> 56);
}

/* Bit-at-a-time references, straight from the definition. */
static uint32_t
ref32(uint32_t poly, uint32_t crc, const unsigned char *p, size_t n)
{
	size_t	 i;
	int	 k;

	crc = ~crc;
	for (i = 0; i < n; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc & 1) ? (crc >> 1) ^ poly : crc >> 1;
	}
	return ~crc;
}

static uint64_t
ref64(uint64_t poly, uint64_t crc, const unsigned char *p, size_t n)
{
	size_t	 i;
	int	 k;

	crc = ~crc;
	for (i = 0; i < n; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc & 1) ? (crc >> 1) ^ poly : crc >> 1;
	}
	return ~crc;
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
test_check_values(void **state)
{
	(void)state;
	assert_int_equal(crc32_ieee(0, CHECK, 9), 0xcbf43926U);
	assert_int_equal(crc32c(0, CHECK, 9), 0xe3069283U);
	assert_true(crc64_nvme(0, CHECK, 9) == 0xae8b14860a799888ULL);
	/* Other well-known values: zlib's crc32("a"), RFC 3720 B.4. */
	assert_int_equal(crc32_ieee(0, "a", 1), 0xe8b7be43U);
	{
		unsigned char	 zeros[32], ones[32];

		memset(zeros, 0, sizeof(zeros));
		memset(ones, 0xff, sizeof(ones));
		assert_int_equal(crc32c(0, zeros, 32), 0x8a9136aaU);
		assert_int_equal(crc32c(0, ones, 32), 0x62a8ab43U);
	}
}

static void
test_empty(void **state)
{
	(void)state;
	assert_int_equal(crc32_ieee(0, NULL, 0), 0);
	assert_int_equal(crc32c(0, NULL, 0), 0);
	assert_true(crc64_nvme(0, NULL, 0) == 0);
	/* An empty piece leaves a running value alone. */
	assert_int_equal(crc32_ieee(0xcbf43926U, "", 0), 0xcbf43926U);
	assert_int_equal(crc32c(0xe3069283U, "", 0), 0xe3069283U);
	assert_true(crc64_nvme(0xae8b14860a799888ULL, "", 0) ==
	    0xae8b14860a799888ULL);
}

/*
 * S3 "Checking object integrity", the x-amz-checksum-* examples: an
 * object of 66560 bytes of 'a' has CRC32 "sK4Y7A==" and CRC32C
 * "sOO8/Q==" (big-endian bytes, base64).
 */
static void
test_s3_doc_values(void **state)
{
	static const unsigned char crc32_doc[4] = { 0xb0, 0xae, 0x18, 0xec };
	static const unsigned char crc32c_doc[4] = { 0xb0, 0xe3, 0xbc, 0xfd };
	unsigned char	*a;
	size_t		 n = 66560;

	(void)state;
	a = malloc(n);
	assert_non_null(a);
	memset(a, 'a', n);
	assert_int_equal(crc32_ieee(0, a, n), be32(crc32_doc));
	assert_int_equal(crc32c(0, a, n), be32(crc32c_doc));
	assert_true(crc64_nvme(0, a, n) ==
	    ref64(0x9a6c9329ac4bc9b5ULL, 0, a, n));
	free(a);
}

static void
test_vs_reference(void **state)
{
	unsigned char	 buf[4096 + 8];
	uint64_t	 s = 0x9e3779b97f4a7c15ULL;
	size_t		 n, off;
	int		 i;

	(void)state;
	for (i = 0; i < 500; i++) {
		n = (size_t)(rnd(&s) % 4096);
		off = (size_t)(rnd(&s) % 8);	/* unaligned starts */
		fill(buf + off, n, &s);
		assert_int_equal(crc32_ieee(0, buf + off, n),
		    ref32(0xedb88320U, 0, buf + off, n));
		assert_int_equal(crc32c(0, buf + off, n),
		    ref32(0x82f63b78U, 0, buf + off, n));
		assert_true(crc64_nvme(0, buf + off, n) ==
		    ref64(0x9a6c9329ac4bc9b5ULL, 0, buf + off, n));
	}
}

static void
test_incremental(void **state)
{
	static const char check[] = CHECK;
	unsigned char	 buf[10000];
	uint64_t	 s = 42;
	uint64_t	 w64, g64;
	uint32_t	 w32, wc, g32, gc;
	size_t		 n, pos, piece;
	int		 i;

	(void)state;
	for (i = 0; i < 300; i++) {
		n = (size_t)(rnd(&s) % sizeof(buf));
		fill(buf, n, &s);
		w32 = crc32_ieee(0, buf, n);
		wc = crc32c(0, buf, n);
		w64 = crc64_nvme(0, buf, n);
		g32 = gc = 0;
		g64 = 0;
		pos = 0;
		while (pos < n) {
			/* Mostly small pieces, sometimes empty or large. */
			piece = (size_t)(rnd(&s) % 4 == 0 ?
			    rnd(&s) % (n - pos + 1) : rnd(&s) % 17);
			if (piece > n - pos)
				piece = n - pos;
			g32 = crc32_ieee(g32, buf + pos, piece);
			gc = crc32c(gc, buf + pos, piece);
			g64 = crc64_nvme(g64, buf + pos, piece);
			pos += piece;
		}
		assert_int_equal(g32, w32);
		assert_int_equal(gc, wc);
		assert_true(g64 == w64);
	}
	/* Byte by byte over the check string. */
	g32 = gc = 0;
	g64 = 0;
	for (i = 0; i < 9; i++) {
		g32 = crc32_ieee(g32, &check[i], 1);
		gc = crc32c(gc, &check[i], 1);
		g64 = crc64_nvme(g64, &check[i], 1);
	}
	assert_int_equal(g32, 0xcbf43926U);
	assert_int_equal(gc, 0xe3069283U);
	assert_true(g64 == 0xae8b14860a799888ULL);
}

static double
now_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_speed(void **state)
{
	const char	*names[3] = { "crc32", "crc32c", "crc64nvme" };
	unsigned char	*buf;
	size_t		 n = 4 << 20;
	uint64_t	 s = 7, acc = 0;
	double		 t0, dt;
	int		 a, rounds, r;

	(void)state;
	buf = malloc(n);
	assert_non_null(buf);
	fill(buf, n, &s);
	for (a = 0; a < 3; a++) {
		rounds = 0;
		t0 = now_s();
		do {
			for (r = 0; r < 4; r++) {
				if (a == 0)
					acc += crc32_ieee(0, buf, n);
				else if (a == 1)
					acc += crc32c(0, buf, n);
				else
					acc += crc64_nvme(0, buf, n);
			}
			rounds += 4;
			dt = now_s() - t0;
		} while (dt < 0.25);
		print_message("# %s: %.0f MB/s (%d x %zu bytes)\n", names[a],
		    (double)rounds * (double)n / dt / 1e6, rounds, n);
	}
	/* Keeps the loops from being optimised away. */
	assert_true(acc != 1);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_values),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_s3_doc_values),
		cmocka_unit_test(test_vs_reference),
		cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_speed),
	};

	return cmocka_run_group_tests_name("crc", tests, NULL, NULL);
}
