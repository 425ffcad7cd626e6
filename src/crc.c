/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crc: CRC-32 (IEEE 802.3, as zlib's crc32()), CRC-32C (Castagnoli, as
 * iSCSI and ext4) and CRC-64/NVME, all reflected, with init and xorout all
 * ones; see crc.h.  These are the x-amz-checksum-crc32, -crc32c and
 * -crc64nvme algorithms of the S3 "Checking object integrity" guide, and
 * CRC-32C guards the journal's records.
 *
 * Slicing-by-8 (Kounavis and Berry, "Novel Table Lookup-Based Algorithms
 * for High-Performance CRC Generation", IEEE ToC 2008): eight bytes per
 * step through eight 256-entry tables, table k giving the CRC of one byte
 * followed by k zero bytes.  The tables are computed once, on first use,
 * under pthread_once(); after that the module only reads them.  Input
 * bytes are assembled little-endian by hand (le.h), so the code neither
 * depends on the host's byte order nor reads unaligned words.
 *
 * Not here: hardware CRC instructions (SSE4.2 crc32, PCLMULQDQ folding).
 */
#include "config.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "crc.h"
#include "le.h"

#define POLY_CRC32	0xedb88320U		/* 0x04c11db7 reflected */
#define POLY_CRC32C	0x82f63b78U		/* 0x1edc6f41 reflected */
#define POLY_CRC64NVME	0x9a6c9329ac4bc9b5ULL	/* 0xad93d23594c93659 refl. */

static uint32_t		 tab32[8][256];
static uint32_t		 tab32c[8][256];
static uint64_t		 tab64[8][256];
static pthread_once_t	 tab_once = PTHREAD_ONCE_INIT;

/*
 * Table k gives the CRC of one byte followed by k zero bytes.  A
 * reflected CRC only shifts right and XORs the polynomial in, so with a
 * 32-bit polynomial no bit above 31 is ever set: this one builder serves
 * all three algorithms, and the CRC-32 tables are its values narrowed.
 */
static void
init_tab(uint64_t t[8][256], uint64_t poly)
{
	uint64_t	 c;
	int		 i, k;

	for (i = 0; i < 256; i++) {
		c = (uint64_t)i;
		for (k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
		t[0][i] = c;
	}
	for (k = 1; k < 8; k++)
		for (i = 0; i < 256; i++)
			t[k][i] = (t[k - 1][i] >> 8) ^
			    t[0][t[k - 1][i] & 0xff];
}

/* t32 gets the CRC-32 tables of poly; tab64 serves as the scratch space
 * (init_tables() builds its own tables last). */
static void
init32(uint32_t t32[8][256], uint32_t poly)
{
	int	 i, k;

	init_tab(tab64, poly);
	for (k = 0; k < 8; k++)
		for (i = 0; i < 256; i++)
			t32[k][i] = (uint32_t)tab64[k][i];
}

/* Under tab_once; the 32-bit tables stay half the size, for speed. */
static void
init_tables(void)
{
	init32(tab32, POLY_CRC32);
	init32(tab32c, POLY_CRC32C);
	init_tab(tab64, POLY_CRC64NVME);
}

/* The running value c is the complemented CRC: init and xorout are all
 * ones for the three algorithms, which is what makes "pass 0 to start,
 * the previous result to continue" work. */
static uint32_t
slice32(const uint32_t t[8][256], uint32_t crc, const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	uint32_t		 c = ~crc;

	while (len > 0 && ((uintptr_t)p & 7) != 0) {
		c = t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
		len--;
	}
	while (len >= 8) {
		c ^= le_get32(p);
		c = t[7][c & 0xff] ^ t[6][(c >> 8) & 0xff] ^
		    t[5][(c >> 16) & 0xff] ^ t[4][c >> 24] ^
		    t[3][p[4]] ^ t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
		p += 8;
		len -= 8;
	}
	while (len > 0) {
		c = t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
		len--;
	}
	return ~c;
}

uint32_t
crc32_ieee(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&tab_once, init_tables);
	return slice32(tab32, crc, buf, len);
}

uint32_t
crc32c(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&tab_once, init_tables);
	return slice32(tab32c, crc, buf, len);
}

uint64_t
crc64_nvme(uint64_t crc, const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	uint64_t		 c = ~crc;

	pthread_once(&tab_once, init_tables);
	while (len > 0 && ((uintptr_t)p & 7) != 0) {
		c = tab64[0][(c ^ *p++) & 0xff] ^ (c >> 8);
		len--;
	}
	while (len >= 8) {
		c ^= le_get64(p);
		c = tab64[7][c & 0xff] ^ tab64[6][(c >> 8) & 0xff] ^
		    tab64[5][(c >> 16) & 0xff] ^ tab64[4][(c >> 24) & 0xff] ^
		    tab64[3][(c >> 32) & 0xff] ^ tab64[2][(c >> 40) & 0xff] ^
		    tab64[1][(c >> 48) & 0xff] ^ tab64[0][c >> 56];
		p += 8;
		len -= 8;
	}
	while (len > 0) {
		c = tab64[0][(c ^ *p++) & 0xff] ^ (c >> 8);
		len--;
	}
	return ~c;
}
