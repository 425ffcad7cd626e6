/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etag_index_evict: the ETag index's eviction policy, least recently
 * learned first, when the index grows past max_bytes.  It decides which
 * entries go; etag_index_store.c removes them.  Called with the index's
 * write lock held (or while it opens).
 *
 * max_bytes (as counted by etag_index_bytes(): what the index allocated,
 * without malloc's overhead): after a put() takes the index past it,
 * entries are dropped oldest learn time first, across buckets (histograms
 * of learn times narrowed down to the second; ties in that second go in
 * table order), and the arena blocks they leave dead are compacted, until
 * the index is under 7/8 of max_bytes.  That costs a few passes over the
 * entries, once per max_bytes / 8 of growth.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "etag_index_store.h"

#define EVICT_BINS	256

/*
 * Drop the least recently learned entries of every bucket until the index
 * is under 7/8 of max_bytes: estimate how many entries that takes from the
 * mean cost of one, find the learn time that many are older than with a
 * histogram narrowed down to one second (at most 5 passes over the
 * entries: times have 40 bits), drop them (ties within that second in
 * table order), then compact the blocks they left dead.  A few rounds, as
 * the estimate is only a mean.
 */
void
etag_index_evict(struct etag_index *ix)
{
	size_t		 target = ix->max_bytes - ix->max_bytes / 8;
	size_t		 total, need, per, cum, hist[EVICT_BINS];
	uint64_t	 a, w, width, t;
	struct bucket	*b;
	uint32_t	 i;
	size_t		 k, cut;
	int		 round;

	for (round = 0; round < 8 && ix->bytes > target; round++) {
		total = 0;
		for (k = 0; k < ix->nbk; k++)
			total += ix->bk[k]->n;
		if (total == 0)
			break;
		per = ix->bytes / total;
		if (per == 0)
			per = 1;
		need = (ix->bytes - target + per - 1) / per;
		if (need > total)
			need = total;
		/* Entries older than a go whole; need more from [a, a+w). */
		a = 0;
		w = (uint64_t)TIME_MAX + 1;
		do {
			width = (w + EVICT_BINS - 1) / EVICT_BINS;
			memset(hist, 0, sizeof(hist));
			for (k = 0; k < ix->nbk; k++) {
				b = ix->bk[k];
				for (i = 0; i < b->n; i++) {
					t = (uint64_t)entry_time(
					    entry_at(b, i));
					if (t >= a && t - a < w)
						hist[(t - a) / width]++;
				}
			}
			for (cut = 0, cum = 0; cut < EVICT_BINS - 1 &&
			    cum + hist[cut] < need; cut++)
				cum += hist[cut];
			need -= cum;
			a += cut * width;
			w = width;
		} while (width > 1);
		for (k = 0; k < ix->nbk; k++) {
			b = ix->bk[k];
			for (i = b->n; i-- > 0;) {
				t = (uint64_t)entry_time(entry_at(b, i));
				if (t > a)
					continue;
				if (t == a) {
					if (need == 0)
						continue;
					need--;
				}
				etag_index_entry_drop(ix, b, i);
				if (i > b->n)
					i = b->n;
			}
			etag_index_compact(ix, b);
		}
	}
}
