/* SPDX-License-Identifier: Apache-2.0 */
/*
 * le: little-endian integers in byte arrays, assembled by hand, so the
 * code that uses them neither depends on the host's byte order nor reads
 * unaligned words (the journal's records, the ETag index file, the CRC
 * loops).  Pure; inline because the CRC loops call them per 8 bytes.
 */
#ifndef S3I_LE_H
#define S3I_LE_H

#include <stdint.h>

static inline uint32_t
le_get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
	    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t
le_get64(const unsigned char *p)
{
	return (uint64_t)le_get32(p) | (uint64_t)le_get32(p + 4) << 32;
}

static inline void
le_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static inline void
le_put64(unsigned char *p, uint64_t v)
{
	le_put32(p, (uint32_t)v);
	le_put32(p + 4, (uint32_t)(v >> 32));
}

#endif
