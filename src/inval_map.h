/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inval_map: from changed S3 keys to the CloudFront paths a distribution
 * must invalidate (DESIGN §5).  Pure: no I/O, no globals.
 *
 * For one key and one distribution: keys outside the distribution's
 * origin path need nothing; otherwise strip the origin path, prefix '/',
 * and percent-encode as CloudFront requires (Developer Guide, "Specifying
 * the objects to invalidate": RFC 1738 unsafe characters and non-ASCII
 * bytes are URL-encoded, nothing else is; a literal '*' is encoded so it is
 * never a wildcard, '?' so it never starts a query).  A key whose last
 * segment is an index document also yields its folder ("a/index.html" ->
 * "/a/index.html" and "/a/"; "index.html" -> "/index.html" and "/").  A
 * path longer than INVAL_PATH_MAX is replaced by the wildcard of its
 * deepest folder whose wildcard fits.
 *
 * The empty key, which S3 never stores, stands for the whole bucket (a
 * website configuration, a policy, DeleteBucket changed: s3_op_table.h):
 * it yields the one wildcard path of everything, whatever the origin path.
 */
#ifndef S3I_INVAL_MAP_H
#define S3I_INVAL_MAP_H

#include <stddef.h>

#include "buf.h"
#include "strvec.h"

#define INVAL_PATH_MAX	4000	/* CloudFront's limit on one path */

/* The key recorded for a change of the whole bucket. */
#define INVAL_WHOLE_BUCKET	""

struct inval_map_cfg {
	const char		*origin_path;	/* "" or "/prefix" */
	const char *const	*index_documents;
	size_t			 n_index_documents;
	int			 index_without_slash; /* also "/a" for a/index */
};

/*
 * Append the paths for key to out.  Returns how many were appended (0 when
 * the key is outside the origin path), or -1 when out of memory.
 * *too_long is set when a path had to be replaced by a wildcard (may be
 * NULL).
 */
int	inval_map_key(const struct inval_map_cfg *, const char *key,
	    struct strvec *out, int *too_long);

/* CloudFront-encode len bytes of a path (keeps '/'). */
int	inval_path_encode(struct buf *, const char *path, size_t len);

#endif
