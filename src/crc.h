/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crc: CRC-32 (IEEE, as zlib), CRC-32C (Castagnoli) and CRC-64/NVME, the
 * checksums S3 uses (x-amz-checksum-crc32, -crc32c, -crc64nvme) and that
 * the journal uses for its records.  Pure, table-driven (slicing-by-8),
 * incremental: pass 0 to start, the previous value to continue.
 */
#ifndef S3I_CRC_H
#define S3I_CRC_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32_ieee(uint32_t crc, const void *, size_t);
uint32_t crc32c(uint32_t crc, const void *, size_t);
uint64_t crc64_nvme(uint64_t crc, const void *, size_t);

#endif
